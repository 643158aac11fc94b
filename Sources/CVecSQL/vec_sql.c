#include "vec_sql.h"
int tlens_vec_register(sqlite3 *db) { (void)db; return SQLITE_OK; }
