/*
 * Loadable SQLite extension libtlensvec: the vector functions of
 * Sources/CVecSQL/vec_sql.c (documented there), compiled here without SQLITE_CORE so
 * every sqlite3_* call goes through the host's sqlite3_api table. Including the .c file
 * keeps one copy of each function for both the linked-in and the loadable build.
 *
 *   sqlite3> .load .build/release/libtlensvec
 *   python>  con.enable_load_extension(True); con.load_extension(".build/release/libtlensvec.so")
 */
#include "../CVecSQL/vec_sql.c"

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_tlensvec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
    SQLITE_EXTENSION_INIT2(pApi);
    int rc = vec_register_all(db);
    if (rc != SQLITE_OK && pzErrMsg != NULL) {
        *pzErrMsg = sqlite3_mprintf("tlensvec: registering vector functions failed: %s", sqlite3_errmsg(db));
    }
    return rc;
}
