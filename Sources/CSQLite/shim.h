#include <sqlite3.h>
#include <stddef.h>
#include <string.h>
// Swift cannot import SQLITE_TRANSIENT (a cast of -1 to a function pointer), so name it here.
static inline void (*tlens_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic, which Swift cannot call; these fix the argument shapes we use.
static inline int tlens_db_config_flag(sqlite3 *db, int op, int on) {
    return sqlite3_db_config(db, op, on, (int *)0);
}

/// Reads the first `count` bytes of the main database file and its size through the connection's
/// own file handle. Opening and closing a second descriptor on the file would drop every POSIX
/// lock this process holds on it (https://sqlite.org/howtocorrupt.html#_posix_advisory_locks_canceled_by_a_separate_thread_doing_close_),
/// letting another process delete a WAL that is still in use.
static inline int tlens_read_main_file(sqlite3 *db, unsigned char *out, int count, sqlite3_int64 *size) {
    sqlite3_file *file = 0;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file);
    if (rc != SQLITE_OK || file == 0 || file->pMethods == 0) return rc == SQLITE_OK ? SQLITE_CANTOPEN : rc;
    rc = file->pMethods->xFileSize(file, size);
    if (rc != SQLITE_OK) return rc;
    memset(out, 0, (size_t)count);
    if (*size == 0) return SQLITE_OK;
    rc = file->pMethods->xRead(file, out, *size < count ? (int)*size : count, 0);
    return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_OK : rc;
}

/// Turns off SQLite's process-wide memory statistics (a global mutex on every malloc and free,
/// ~5% of the recorder's insert time). Only possible before SQLite initializes; later calls
/// return SQLITE_MISUSE and change nothing.
static inline int tlens_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
