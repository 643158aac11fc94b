#ifndef TLENS_VEC_SQL_H
#define TLENS_VEC_SQL_H
#include <sqlite3.h>
/// Registers the vector SQL functions (vec_len, vec_get, ..., vec_each) on `db`.
/// Returns SQLITE_OK or the first error code.
int tlens_vec_register(sqlite3 *db);
#endif
