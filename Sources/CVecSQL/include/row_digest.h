#ifndef TLENS_ROW_DIGEST_H
#define TLENS_ROW_DIGEST_H
#include <sqlite3.h>

/// Registers the aggregate `tlens_row_digest(x, ...)` on `db`: an order-independent 64-bit
/// digest of a set of rows, with which a saved analysis fingerprints the tables it read
/// (docs/queries.md, "Fingerprints"). Defined in row_digest.c.
int tlens_register_row_digest(sqlite3 *db);
#endif
