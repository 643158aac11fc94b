#include "scalar_rows.h"
#include <string.h>

// ---------------------------------------------------------------------------------------------
// tlens_scalar_rows: a table-valued function over an in-memory array of scalar rows, so the
// recorder inserts a whole batch with one statement execution:
//     INSERT INTO metrics SELECT run_id, key_id, step, value FROM tlens_scalar_rows(?1, ?2)
// ?1 is the array, bound with sqlite3_bind_pointer(..., "tlens_scalar_rows", NULL); ?2 its length.
// One statement per row spent about half its time opening cursors and starting/halting the VM.
// Modelled on SQLite's ext/misc/carray.c.

typedef struct {
    sqlite3_vtab_cursor base;
    const tlens_scalar_row *rows;
    sqlite3_int64 count;
    sqlite3_int64 index;
} tlens_rows_cursor;

enum { TLENS_ROWS_RUN, TLENS_ROWS_KEY, TLENS_ROWS_STEP, TLENS_ROWS_VALUE, TLENS_ROWS_POINTER, TLENS_ROWS_COUNT };

static int tlens_rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                              sqlite3_vtab **out, char **error) {
    (void)aux; (void)argc; (void)argv; (void)error;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(run_id, key_id, step, value, rows HIDDEN, count HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    sqlite3_vtab *table = (sqlite3_vtab *)sqlite3_malloc(sizeof(sqlite3_vtab));
    if (!table) return SQLITE_NOMEM;
    memset(table, 0, sizeof(*table));
    *out = table;
    // Only usable from top-level SQL, never from triggers or views in a (possibly hostile) schema.
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    return SQLITE_OK;
}

static int tlens_rows_disconnect(sqlite3_vtab *table) { sqlite3_free(table); return SQLITE_OK; }

static int tlens_rows_open(sqlite3_vtab *table, sqlite3_vtab_cursor **out) {
    (void)table;
    tlens_rows_cursor *cursor = (tlens_rows_cursor *)sqlite3_malloc(sizeof(tlens_rows_cursor));
    if (!cursor) return SQLITE_NOMEM;
    memset(cursor, 0, sizeof(*cursor));
    *out = &cursor->base;
    return SQLITE_OK;
}

static int tlens_rows_close(sqlite3_vtab_cursor *cursor) { sqlite3_free(cursor); return SQLITE_OK; }

static int tlens_rows_next(sqlite3_vtab_cursor *base) { ((tlens_rows_cursor *)base)->index++; return SQLITE_OK; }

static int tlens_rows_eof(sqlite3_vtab_cursor *base) {
    tlens_rows_cursor *cursor = (tlens_rows_cursor *)base;
    return cursor->rows == 0 || cursor->index >= cursor->count;
}

static int tlens_rows_column(sqlite3_vtab_cursor *base, sqlite3_context *context, int column) {
    tlens_rows_cursor *cursor = (tlens_rows_cursor *)base;
    const tlens_scalar_row *row = &cursor->rows[cursor->index];
    switch (column) {
    case TLENS_ROWS_RUN: sqlite3_result_int64(context, row->run); break;
    case TLENS_ROWS_KEY: sqlite3_result_int64(context, row->key); break;
    case TLENS_ROWS_STEP: sqlite3_result_int64(context, row->step); break;
    case TLENS_ROWS_VALUE: sqlite3_result_double(context, row->value); break;
    case TLENS_ROWS_COUNT: sqlite3_result_int64(context, cursor->count); break;
    default: sqlite3_result_null(context); break;
    }
    return SQLITE_OK;
}

static int tlens_rows_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid) {
    *rowid = ((tlens_rows_cursor *)base)->index;
    return SQLITE_OK;
}

static int tlens_rows_filter(sqlite3_vtab_cursor *base, int plan, const char *planName, int argc, sqlite3_value **argv) {
    (void)planName;
    tlens_rows_cursor *cursor = (tlens_rows_cursor *)base;
    cursor->rows = 0; cursor->count = 0; cursor->index = 0;
    if (plan == 1 && argc == 2) {
        cursor->rows = (const tlens_scalar_row *)sqlite3_value_pointer(argv[0], "tlens_scalar_rows");
        cursor->count = sqlite3_value_int64(argv[1]);
        if (cursor->count < 0) cursor->count = 0;
    }
    return SQLITE_OK;
}

static int tlens_rows_best_index(sqlite3_vtab *table, sqlite3_index_info *info) {
    (void)table;
    int pointerAt = -1, countAt = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (c->iColumn == TLENS_ROWS_POINTER) pointerAt = i;
        if (c->iColumn == TLENS_ROWS_COUNT) countAt = i;
    }
    if (pointerAt >= 0 && countAt >= 0) {
        info->aConstraintUsage[pointerAt].argvIndex = 1; info->aConstraintUsage[pointerAt].omit = 1;
        info->aConstraintUsage[countAt].argvIndex = 2; info->aConstraintUsage[countAt].omit = 1;
        info->estimatedCost = 1; info->estimatedRows = 100000; info->idxNum = 1;
    } else {
        info->estimatedCost = 1e99; info->estimatedRows = 0; info->idxNum = 0;  // yields no rows
    }
    return SQLITE_OK;
}

static sqlite3_module tlens_scalar_rows_module = {
    0, 0, tlens_rows_connect, tlens_rows_best_index, tlens_rows_disconnect, 0,
    tlens_rows_open, tlens_rows_close, tlens_rows_filter, tlens_rows_next, tlens_rows_eof,
    tlens_rows_column, tlens_rows_rowid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

/// Registers tlens_scalar_rows on `db`.
int tlens_register_scalar_rows(sqlite3 *db) {
    return sqlite3_create_module_v2(db, "tlens_scalar_rows", &tlens_scalar_rows_module, 0, 0);
}

/// Binds the row array `rows` to parameter `index` as a pointer of type "tlens_scalar_rows".
int tlens_bind_scalar_rows(sqlite3_stmt *statement, int index, const void *rows) {
    return sqlite3_bind_pointer(statement, index, (void *)rows, "tlens_scalar_rows", 0);
}

