#include <sqlite3.h>
// Swift cannot import SQLITE_TRANSIENT (a cast of -1 to a function pointer), so name it here.
static inline void (*tlens_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic, which Swift cannot call; these fix the argument shapes we use.
static inline int tlens_db_config_flag(sqlite3 *db, int op, int on) {
    return sqlite3_db_config(db, op, on, (int *)0);
}
