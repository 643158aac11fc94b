#ifndef TLENS_SCALAR_ROWS_H
#define TLENS_SCALAR_ROWS_H
#include <sqlite3.h>
#include <stdint.h>

/// One scalar metric row as the recorder batches it; `tlens_scalar_rows` reads arrays of these.
typedef struct { int64_t run; int64_t key; int64_t step; double value; } tlens_scalar_row;

/// Registers the table-valued function `tlens_scalar_rows(rows, count)` on `db`: the recorder's
/// whole batch in one statement, `INSERT INTO metrics SELECT ... FROM tlens_scalar_rows(?1, ?2)`.
int tlens_register_scalar_rows(sqlite3 *db);

/// Binds the row array `rows` to parameter `index` as a pointer of type "tlens_scalar_rows".
int tlens_bind_scalar_rows(sqlite3_stmt *statement, int index, const void *rows);
#endif
