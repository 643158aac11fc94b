/*
 * tlens vector SQL functions over float32 little-endian BLOBs.
 *
 * A vector is a BLOB of n*4 bytes holding n IEEE-754 float32 values in little-endian
 * order. Blobs are not aligned, so every element is assembled from bytes (vec_load).
 * This one file is compiled twice: into CVecSQL with -DSQLITE_CORE (linked into tlens,
 * registered per connection by tlens_vec_register), and, #included by
 * Sources/TLensVecExtension/extension.c without SQLITE_CORE, into the loadable
 * extension libtlensvec (entry point sqlite3_tlensvec_init).
 *
 * Common rules for every function:
 *   - A NULL argument gives a NULL result (vec_each: zero rows).
 *   - A vector argument must be a BLOB; TEXT/INTEGER/REAL is an error. Its byte length
 *     must be a multiple of 4, otherwise an error. A zero-length BLOB is the empty vector.
 *   - Index/count arguments must be INTEGER (a REAL/TEXT/BLOB there is an error).
 *   - Errors are SQL errors whose message starts with the function name, e.g.
 *     "vec_get: index 12 out of range for vector of length 10".
 *   - Sums accumulate in double; REAL results are doubles. SQLite stores a NaN result
 *     as NULL, so any function whose result would be NaN returns NULL.
 *
 * Scalar functions (all SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS):
 *   vec_len(v)        INTEGER number of elements (bytes / 4); 0 for the empty vector.
 *   vec_get(v, i)     REAL element i, 0-based; error unless 0 <= i < vec_len(v).
 *                     A NaN element reads as NULL.
 *   vec_sum(v)        REAL sum of elements in double; 0.0 for the empty vector.
 *   vec_mean(v)       REAL vec_sum(v) / vec_len(v); NULL for the empty vector.
 *   vec_min(v)        REAL smallest element, NaN elements ignored; NULL if the vector is
 *   vec_max(v)        empty or all NaN. (vec_max likewise, largest element.)
 *   vec_norm(v[, p])  REAL p-norm (sum |x_i|^p)^(1/p); p defaults to 2. p is INTEGER or
 *                     REAL >= 1 (a REAL +Inf is allowed), or the TEXT 'inf' (any case),
 *                     meaning max |x_i|. p < 1, NaN, or other TEXT is an error.
 *                     0.0 for the empty vector; NULL if any element is NaN.
 *                     General p is computed as m * (sum (|x_i|/m)^p)^(1/p), m = max |x_i|,
 *                     so large p does not overflow.
 *   vec_dot(a, b)     REAL sum a_i*b_i in double; error if lengths differ; 0.0 if empty.
 *   vec_dist(a, b)    REAL Euclidean distance sqrt(sum (a_i-b_i)^2) in double; error if
 *                     lengths differ; 0.0 if empty.
 *   vec_mae(a, b)     REAL mean |a_i-b_i| in double; error if lengths differ; NULL if empty.
 *   vec_slice(v, i, n) BLOB of elements i ..< i+n; error unless 0 <= i, 0 <= n and
 *                     i+n <= vec_len(v). n = 0 gives the empty vector (zero-length BLOB).
 *   vec_from_json(t)  BLOB from TEXT holding a JSON array of numbers, e.g. '[1, -2.5e3]'.
 *                     Each number is rounded to the nearest float32 (correctly rounded).
 *                     Also accepts the tokens NaN, Infinity, -Infinity (what vec_to_json
 *                     writes for non-finite values, as Python's json does). Anything else
 *                     - nesting, strings, true/false/null, trailing commas, a number outside
 *                     float32 range, a non-TEXT argument - is an error. '[]' is the empty vector.
 *   vec_to_json(v)    TEXT JSON array, each element in the shortest %.{p}g (p <= 9) that reads
 *                     back to the same float32 (so vec_from_json(vec_to_json(v)) = v bit-exact
 *                     for all non-NaN values, including -0 and subnormals); non-finite values
 *                     as NaN, Infinity, -Infinity. No spaces: '[1,-2.5,0.1]'. '[]' if empty.
 *
 * Table-valued function (eponymous virtual table, innocuous):
 *   vec_each(v)       one row per element: i INTEGER (0-based, also the rowid), value REAL
 *                     (NULL for a NaN element), in order of i. NULL v gives no rows; a
 *                     non-BLOB or bad-length v is an error; vec_each without an argument is
 *                     an error. Usable in joins: SELECT p.id, e.i, e.value FROM points p,
 *                     vec_each(p.vec) e.
 */
#define _GNU_SOURCE 1
#include <sqlite3ext.h>
#ifndef SQLITE_CORE
SQLITE_EXTENSION_INIT1
#endif

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__APPLE__)
#include <xlocale.h>
#endif

#ifndef SQLITE_INNOCUOUS
#define SQLITE_INNOCUOUS 0
#endif
#ifndef SQLITE_DETERMINISTIC
#define SQLITE_DETERMINISTIC 0
#endif

/* ---------------------------------------------------------------- element access */

/* Unaligned little-endian float32 load, independent of host byte order. */
static inline float vec_load(const unsigned char *p, sqlite3_int64 i) {
    const unsigned char *q = p + 4 * i;
    uint32_t u = (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) | ((uint32_t)q[3] << 24);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void vec_store(unsigned char *p, sqlite3_int64 i, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    unsigned char *q = p + 4 * i;
    q[0] = (unsigned char)u;
    q[1] = (unsigned char)(u >> 8);
    q[2] = (unsigned char)(u >> 16);
    q[3] = (unsigned char)(u >> 24);
}

/* ---------------------------------------------------------------- errors and arguments */

static void vec_error(sqlite3_context *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (msg == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_error(ctx, msg, -1);
    sqlite3_free(msg);
}

static const char *vec_type_name(int type) {
    switch (type) {
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "REAL";
    case SQLITE_TEXT: return "TEXT";
    case SQLITE_BLOB: return "BLOB";
    default: return "NULL";
    }
}

typedef struct {
    const unsigned char *bytes; /* NULL when n == 0 */
    sqlite3_int64 n;            /* element count */
} vec_view;

enum { VEC_OK = 0, VEC_NULL = 1, VEC_FAIL = -1 };

/* Why a status rather than a message: the caller has already chosen its result for
 * VEC_NULL/VEC_FAIL (NULL or the error set here), so it only needs to return. */
static int vec_check(const char *fn, int argno, sqlite3_value *value, vec_view *out, char **err) {
    int type = sqlite3_value_type(value);
    if (type == SQLITE_NULL) return VEC_NULL;
    if (type != SQLITE_BLOB) {
        *err = sqlite3_mprintf("%s: argument %d must be a BLOB of float32 values, got %s", fn, argno,
                               vec_type_name(type));
        return VEC_FAIL;
    }
    const unsigned char *bytes = sqlite3_value_blob(value);
    sqlite3_int64 nbytes = sqlite3_value_bytes(value);
    if (nbytes % 4 != 0) {
        *err = sqlite3_mprintf("%s: argument %d has %lld bytes, not a multiple of 4 (float32)", fn, argno,
                               nbytes);
        return VEC_FAIL;
    }
    if (nbytes > 0 && bytes == NULL) {
        *err = NULL; /* out of memory */
        return VEC_FAIL;
    }
    out->bytes = nbytes > 0 ? bytes : NULL;
    out->n = nbytes / 4;
    return VEC_OK;
}

/* Reads a vector argument; on NULL or failure sets the result and returns non-zero. */
static int vec_arg(sqlite3_context *ctx, const char *fn, sqlite3_value **argv, int argno, vec_view *out) {
    char *err = NULL;
    int rc = vec_check(fn, argno, argv[argno - 1], out, &err);
    if (rc == VEC_NULL) {
        sqlite3_result_null(ctx);
    } else if (rc == VEC_FAIL) {
        if (err == NULL) {
            sqlite3_result_error_nomem(ctx);
        } else {
            sqlite3_result_error(ctx, err, -1);
            sqlite3_free(err);
        }
    }
    return rc;
}

/* Reads an INTEGER argument; on NULL or failure sets the result and returns non-zero. */
static int vec_int_arg(sqlite3_context *ctx, const char *fn, sqlite3_value **argv, int argno,
                       const char *what, sqlite3_int64 *out) {
    int type = sqlite3_value_type(argv[argno - 1]);
    if (type == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return VEC_NULL;
    }
    if (type != SQLITE_INTEGER) {
        vec_error(ctx, "%s: %s (argument %d) must be an INTEGER, got %s", fn, what, argno, vec_type_name(type));
        return VEC_FAIL;
    }
    *out = sqlite3_value_int64(argv[argno - 1]);
    return VEC_OK;
}

/* Reads two vector arguments of equal length. */
static int vec_pair(sqlite3_context *ctx, const char *fn, sqlite3_value **argv, vec_view *a, vec_view *b) {
    int rc = vec_arg(ctx, fn, argv, 1, a);
    if (rc != VEC_OK) return rc;
    rc = vec_arg(ctx, fn, argv, 2, b);
    if (rc != VEC_OK) return rc;
    if (a->n != b->n) {
        vec_error(ctx, "%s: length mismatch, %lld vs %lld elements", fn, a->n, b->n);
        return VEC_FAIL;
    }
    return VEC_OK;
}

/* Returns a new vector (takes ownership of buf, allocated with sqlite3_malloc64). */
static void vec_result_blob(sqlite3_context *ctx, unsigned char *buf, sqlite3_int64 n) {
    if (n == 0) {
        sqlite3_free(buf);
        sqlite3_result_zeroblob(ctx, 0);
        return;
    }
    sqlite3_result_blob64(ctx, buf, (sqlite3_uint64)n * 4, sqlite3_free);
}

/* ---------------------------------------------------------------- reductions */

static void vec_len_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    if (vec_arg(ctx, "vec_len", argv, 1, &v) != VEC_OK) return;
    sqlite3_result_int64(ctx, v.n);
}

static void vec_get_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    sqlite3_int64 i;
    if (vec_arg(ctx, "vec_get", argv, 1, &v) != VEC_OK) return;
    if (vec_int_arg(ctx, "vec_get", argv, 2, "index", &i) != VEC_OK) return;
    if (i < 0 || i >= v.n) {
        vec_error(ctx, "vec_get: index %lld out of range for vector of length %lld", i, v.n);
        return;
    }
    sqlite3_result_double(ctx, (double)vec_load(v.bytes, i));
}

static void vec_sum_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    if (vec_arg(ctx, "vec_sum", argv, 1, &v) != VEC_OK) return;
    double s = 0.0;
    for (sqlite3_int64 k = 0; k < v.n; k++) s += (double)vec_load(v.bytes, k);
    sqlite3_result_double(ctx, s);
}

static void vec_mean_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    if (vec_arg(ctx, "vec_mean", argv, 1, &v) != VEC_OK) return;
    if (v.n == 0) {
        sqlite3_result_null(ctx);
        return;
    }
    double s = 0.0;
    for (sqlite3_int64 k = 0; k < v.n; k++) s += (double)vec_load(v.bytes, k);
    sqlite3_result_double(ctx, s / (double)v.n);
}

/* sign = -1 for min, +1 for max; NaN elements are skipped. */
static void vec_extreme(sqlite3_context *ctx, sqlite3_value **argv, const char *fn, int sign) {
    vec_view v;
    if (vec_arg(ctx, fn, argv, 1, &v) != VEC_OK) return;
    int found = 0;
    float best = 0.0f;
    for (sqlite3_int64 k = 0; k < v.n; k++) {
        float x = vec_load(v.bytes, k);
        if (isnan(x)) continue;
        if (!found || (sign < 0 ? x < best : x > best)) {
            best = x;
            found = 1;
        }
    }
    if (found) sqlite3_result_double(ctx, (double)best);
    else sqlite3_result_null(ctx);
}

static void vec_min_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_extreme(ctx, argv, "vec_min", -1);
}

static void vec_max_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_extreme(ctx, argv, "vec_max", +1);
}

/* Parses the p of vec_norm; returns VEC_OK with *p (INFINITY for the max-norm). */
static int vec_norm_p(sqlite3_context *ctx, sqlite3_value *arg, double *p) {
    int type = sqlite3_value_type(arg);
    switch (type) {
    case SQLITE_NULL:
        sqlite3_result_null(ctx);
        return VEC_NULL;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        *p = sqlite3_value_double(arg);
        if (!(*p >= 1.0)) { /* also rejects NaN */
            vec_error(ctx, "vec_norm: p must be >= 1 or 'inf', got %g", *p);
            return VEC_FAIL;
        }
        return VEC_OK;
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_value_text(arg);
        if (t != NULL && sqlite3_stricmp(t, "inf") == 0) {
            *p = INFINITY;
            return VEC_OK;
        }
        vec_error(ctx, "vec_norm: p must be >= 1 or 'inf', got TEXT '%!.40s'", t ? t : "");
        return VEC_FAIL;
    }
    default:
        vec_error(ctx, "vec_norm: p must be >= 1 or 'inf', got %s", vec_type_name(type));
        return VEC_FAIL;
    }
}

static void vec_norm_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    vec_view v;
    double p = 2.0;
    if (vec_arg(ctx, "vec_norm", argv, 1, &v) != VEC_OK) return;
    if (argc > 1 && vec_norm_p(ctx, argv[1], &p) != VEC_OK) return;

    double m = 0.0; /* max |x|; NaN poisons the result (returned as NULL) */
    for (sqlite3_int64 k = 0; k < v.n; k++) {
        double a = fabs((double)vec_load(v.bytes, k));
        if (isnan(a)) {
            sqlite3_result_null(ctx);
            return;
        }
        if (a > m) m = a;
    }
    if (isinf(p) || m == 0.0 || isinf(m)) {
        sqlite3_result_double(ctx, m);
        return;
    }
    double s = 0.0;
    if (p == 1.0) {
        for (sqlite3_int64 k = 0; k < v.n; k++) s += fabs((double)vec_load(v.bytes, k));
        sqlite3_result_double(ctx, s);
    } else if (p == 2.0) {
        /* float32 squares cannot overflow a double, so no scaling is needed here. */
        for (sqlite3_int64 k = 0; k < v.n; k++) {
            double x = (double)vec_load(v.bytes, k);
            s += x * x;
        }
        sqlite3_result_double(ctx, sqrt(s));
    } else {
        for (sqlite3_int64 k = 0; k < v.n; k++) s += pow(fabs((double)vec_load(v.bytes, k)) / m, p);
        sqlite3_result_double(ctx, m * pow(s, 1.0 / p));
    }
}

static void vec_dot_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view a, b;
    if (vec_pair(ctx, "vec_dot", argv, &a, &b) != VEC_OK) return;
    double s = 0.0;
    for (sqlite3_int64 k = 0; k < a.n; k++) s += (double)vec_load(a.bytes, k) * (double)vec_load(b.bytes, k);
    sqlite3_result_double(ctx, s);
}

static void vec_dist_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view a, b;
    if (vec_pair(ctx, "vec_dist", argv, &a, &b) != VEC_OK) return;
    double s = 0.0;
    for (sqlite3_int64 k = 0; k < a.n; k++) {
        double d = (double)vec_load(a.bytes, k) - (double)vec_load(b.bytes, k);
        s += d * d;
    }
    sqlite3_result_double(ctx, sqrt(s));
}

static void vec_mae_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view a, b;
    if (vec_pair(ctx, "vec_mae", argv, &a, &b) != VEC_OK) return;
    if (a.n == 0) {
        sqlite3_result_null(ctx);
        return;
    }
    double s = 0.0;
    for (sqlite3_int64 k = 0; k < a.n; k++) s += fabs((double)vec_load(a.bytes, k) - (double)vec_load(b.bytes, k));
    sqlite3_result_double(ctx, s / (double)a.n);
}

static void vec_slice_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    sqlite3_int64 i, n;
    if (vec_arg(ctx, "vec_slice", argv, 1, &v) != VEC_OK) return;
    if (vec_int_arg(ctx, "vec_slice", argv, 2, "start", &i) != VEC_OK) return;
    if (vec_int_arg(ctx, "vec_slice", argv, 3, "count", &n) != VEC_OK) return;
    /* Written so that no intermediate overflows for any int64 i, n. */
    if (i < 0 || i > v.n || n < 0 || n > v.n - i) {
        vec_error(ctx, "vec_slice: range start %lld count %lld out of range for vector of length %lld", i, n, v.n);
        return;
    }
    if (n == 0) {
        sqlite3_result_zeroblob(ctx, 0);
        return;
    }
    unsigned char *buf = sqlite3_malloc64((sqlite3_uint64)n * 4);
    if (buf == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    memcpy(buf, v.bytes + 4 * i, (size_t)n * 4);
    vec_result_blob(ctx, buf, n);
}

/* ---------------------------------------------------------------- JSON */

/* Number text must not depend on the process locale (a ',' decimal point would break
 * both directions), so conversions run under a private "C" locale. */
static locale_t vec_c_locale;
static pthread_once_t vec_c_locale_once = PTHREAD_ONCE_INIT;
static void vec_c_locale_init(void) { vec_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static locale_t vec_enter_c_locale(void) {
    pthread_once(&vec_c_locale_once, vec_c_locale_init);
    return vec_c_locale ? uselocale(vec_c_locale) : (locale_t)0;
}

static void vec_leave_c_locale(locale_t old) {
    if (old) uselocale(old);
}

static int vec_json_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int vec_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Length of the JSON number (RFC 8259 grammar) starting at s[0], or 0 if there is none. */
static size_t vec_json_number_len(const unsigned char *s, size_t len) {
    size_t k = 0;
    if (k < len && s[k] == '-') k++;
    if (k >= len || !vec_digit(s[k])) return 0;
    if (s[k] == '0') k++;
    else while (k < len && vec_digit(s[k])) k++;
    if (k < len && s[k] == '.') {
        k++;
        if (k >= len || !vec_digit(s[k])) return 0;
        while (k < len && vec_digit(s[k])) k++;
    }
    if (k < len && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        if (k < len && (s[k] == '+' || s[k] == '-')) k++;
        if (k >= len || !vec_digit(s[k])) return 0;
        while (k < len && vec_digit(s[k])) k++;
    }
    return k;
}

static int vec_token(const unsigned char *s, size_t len, const char *tok) {
    size_t n = strlen(tok);
    return len >= n && memcmp(s, tok, n) == 0;
}

static void vec_from_json_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    int type = sqlite3_value_type(argv[0]);
    if (type == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    if (type != SQLITE_TEXT) {
        vec_error(ctx, "vec_from_json: argument must be TEXT holding a JSON array of numbers, got %s",
                  vec_type_name(type));
        return;
    }
    const unsigned char *s = sqlite3_value_text(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    if (s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    /* Every element takes at least one character plus a separator. */
    sqlite3_int64 cap = (sqlite3_int64)(len / 2 + 1);
    unsigned char *buf = sqlite3_malloc64((sqlite3_uint64)cap * 4);
    if (buf == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_int64 n = 0;
    size_t k = 0;
    const char *problem = NULL;
    locale_t old = vec_enter_c_locale();

    while (k < len && vec_json_space(s[k])) k++;
    if (k >= len || s[k] != '[') {
        problem = "expected '['";
        goto fail;
    }
    k++;
    while (k < len && vec_json_space(s[k])) k++;
    if (k < len && s[k] == ']') {
        k++;
    } else {
        for (;;) {
            while (k < len && vec_json_space(s[k])) k++;
            float f;
            size_t tl;
            if (vec_token(s + k, len - k, "NaN")) {
                f = NAN, tl = 3;
            } else if (vec_token(s + k, len - k, "Infinity")) {
                f = INFINITY, tl = 8;
            } else if (vec_token(s + k, len - k, "-Infinity")) {
                f = -INFINITY, tl = 9;
            } else if ((tl = vec_json_number_len(s + k, len - k)) > 0) {
                char *end = NULL;
                errno = 0;
                /* s is NUL-terminated and the token is a valid JSON number, which strtof
                 * reads in full and correctly rounds to float32. */
                f = strtof((const char *)s + k, &end);
                if (end != (const char *)s + k + tl) {
                    problem = "malformed number";
                    goto fail;
                }
                if (isinf(f)) {
                    problem = "number outside float32 range";
                    goto fail;
                }
            } else {
                problem = "expected a number (nested arrays, strings, objects, true/false/null are not allowed)";
                goto fail;
            }
            if (n >= cap) { /* cannot happen given cap, kept as a guard */
                problem = "too many elements";
                goto fail;
            }
            vec_store(buf, n++, f);
            k += tl;
            while (k < len && vec_json_space(s[k])) k++;
            if (k < len && s[k] == ',') {
                k++;
                continue;
            }
            if (k < len && s[k] == ']') {
                k++;
                break;
            }
            problem = "expected ',' or ']'";
            goto fail;
        }
    }
    while (k < len && vec_json_space(s[k])) k++;
    if (k != len) {
        problem = "unexpected text after ']'";
        goto fail;
    }
    vec_leave_c_locale(old);
    vec_result_blob(ctx, buf, n);
    return;

fail:
    vec_leave_c_locale(old);
    sqlite3_free(buf);
    vec_error(ctx, "vec_from_json: %s at offset %lld (element %lld)", problem, (sqlite3_int64)k, n);
}

/* Writes the shortest %.{p}g text that reads back to x; returns its length.
 * %.9g always round-trips a float32, and any normal float32 with a <= 6 digit decimal
 * form prints as that form under %.6g, so p = 6..9 covers the shortest choice; subnormals
 * carry fewer significant bits, so for them p starts at 1. */
static int vec_format_float(char *out, size_t size, float x) {
    if (isnan(x)) return snprintf(out, size, "NaN");
    if (isinf(x)) return snprintf(out, size, x < 0 ? "-Infinity" : "Infinity");
    int len = 0;
    for (int prec = fabsf(x) < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        len = snprintf(out, size, "%.*g", prec, (double)x);
        if (strtof(out, NULL) == x && signbit(strtof(out, NULL)) == signbit(x)) break;
    }
    return len;
}

static void vec_to_json_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    vec_view v;
    if (vec_arg(ctx, "vec_to_json", argv, 1, &v) != VEC_OK) return;
    /* Longest element: "-1.17549435e-38" (15 chars) plus ','. */
    enum { ELEMENT_MAX = 24 };
    sqlite3_uint64 cap = (sqlite3_uint64)v.n * (ELEMENT_MAX + 1) + 3;
    char *out = sqlite3_malloc64(cap);
    if (out == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    locale_t old = vec_enter_c_locale();
    sqlite3_uint64 len = 0;
    out[len++] = '[';
    for (sqlite3_int64 k = 0; k < v.n; k++) {
        if (k > 0) out[len++] = ',';
        char tmp[ELEMENT_MAX + 8];
        int w = vec_format_float(tmp, sizeof tmp, vec_load(v.bytes, k));
        if (w < 0 || w > ELEMENT_MAX) w = 0; /* cannot happen for %.9g of a float */
        memcpy(out + len, tmp, (size_t)w);
        len += (sqlite3_uint64)w;
    }
    out[len++] = ']';
    vec_leave_c_locale(old);
    sqlite3_result_text64(ctx, out, len, sqlite3_free, SQLITE_UTF8);
}

/* ---------------------------------------------------------------- vec_each */

enum { VEC_EACH_I = 0, VEC_EACH_VALUE = 1, VEC_EACH_V = 2 };

typedef struct {
    sqlite3_vtab base;
} vec_each_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    unsigned char *bytes; /* private copy: argv of xFilter does not outlive the call */
    sqlite3_int64 n;
    sqlite3_int64 i;
} vec_each_cursor;

static int vec_each_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                            char **err) {
    (void)aux, (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(i INTEGER, value REAL, v HIDDEN)");
    if (rc != SQLITE_OK) return rc;
    vec_each_vtab *tab = sqlite3_malloc(sizeof *tab);
    if (tab == NULL) return SQLITE_NOMEM;
    memset(tab, 0, sizeof *tab);
#if SQLITE_VERSION_NUMBER >= 3031000
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
#endif
    *out = &tab->base;
    return SQLITE_OK;
}

static int vec_each_disconnect(sqlite3_vtab *tab) {
    sqlite3_free(tab);
    return SQLITE_OK;
}

static int vec_each_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out) {
    (void)tab;
    vec_each_cursor *cur = sqlite3_malloc(sizeof *cur);
    if (cur == NULL) return SQLITE_NOMEM;
    memset(cur, 0, sizeof *cur);
    *out = &cur->base;
    return SQLITE_OK;
}

static int vec_each_close(sqlite3_vtab_cursor *base) {
    vec_each_cursor *cur = (vec_each_cursor *)base;
    sqlite3_free(cur->bytes);
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int vec_each_set_error(sqlite3_vtab_cursor *base, char *msg) {
    sqlite3_vtab *tab = base->pVtab;
    sqlite3_free(tab->zErrMsg);
    tab->zErrMsg = msg;
    return msg ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int vec_each_filter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
                           sqlite3_value **argv) {
    (void)idxStr;
    vec_each_cursor *cur = (vec_each_cursor *)base;
    sqlite3_free(cur->bytes);
    cur->bytes = NULL;
    cur->n = 0;
    cur->i = 0;
    if (idxNum != 1 || argc < 1) {
        return vec_each_set_error(base, sqlite3_mprintf("vec_each: requires a vector argument, e.g. vec_each(v)"));
    }
    vec_view v;
    char *err = NULL;
    int rc = vec_check("vec_each", 1, argv[0], &v, &err);
    if (rc == VEC_NULL) return SQLITE_OK; /* no rows */
    if (rc == VEC_FAIL) return vec_each_set_error(base, err);
    if (v.n > 0) {
        cur->bytes = sqlite3_malloc64((sqlite3_uint64)v.n * 4);
        if (cur->bytes == NULL) return SQLITE_NOMEM;
        memcpy(cur->bytes, v.bytes, (size_t)v.n * 4);
    }
    cur->n = v.n;
    return SQLITE_OK;
}

static int vec_each_next(sqlite3_vtab_cursor *base) {
    ((vec_each_cursor *)base)->i++;
    return SQLITE_OK;
}

static int vec_each_eof(sqlite3_vtab_cursor *base) {
    vec_each_cursor *cur = (vec_each_cursor *)base;
    return cur->i >= cur->n;
}

static int vec_each_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col) {
    vec_each_cursor *cur = (vec_each_cursor *)base;
    switch (col) {
    case VEC_EACH_I:
        sqlite3_result_int64(ctx, cur->i);
        break;
    case VEC_EACH_VALUE:
        sqlite3_result_double(ctx, (double)vec_load(cur->bytes, cur->i));
        break;
    default:
        if (cur->n == 0) sqlite3_result_zeroblob(ctx, 0);
        else sqlite3_result_blob64(ctx, cur->bytes, (sqlite3_uint64)cur->n * 4, SQLITE_TRANSIENT);
        break;
    }
    return SQLITE_OK;
}

static int vec_each_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid) {
    *rowid = ((vec_each_cursor *)base)->i;
    return SQLITE_OK;
}

/* The hidden column v is the function argument: it must come from an equality
 * constraint. If one exists but is not usable yet (a join whose left side is not
 * bound), SQLITE_CONSTRAINT makes the planner pick another loop order. */
static int vec_each_best_index(sqlite3_vtab *tab, sqlite3_index_info *info) {
    (void)tab;
    int usable = -1, unusable = 0;
    for (int k = 0; k < info->nConstraint; k++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[k];
        if (c->iColumn != VEC_EACH_V || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        if (c->usable) {
            usable = k;
            break;
        }
        unusable = 1;
    }
    if (usable >= 0) {
        info->aConstraintUsage[usable].argvIndex = 1;
        info->aConstraintUsage[usable].omit = 1;
        info->idxNum = 1;
        info->estimatedCost = 10.0;
        info->estimatedRows = 100;
        if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == VEC_EACH_I && !info->aOrderBy[0].desc) {
            info->orderByConsumed = 1;
        }
        return SQLITE_OK;
    }
    if (unusable) return SQLITE_CONSTRAINT;
    info->idxNum = 0; /* xFilter reports the missing argument */
    info->estimatedCost = 1e12;
    return SQLITE_OK;
}

static sqlite3_module vec_each_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous-only: usable as vec_each(...) without CREATE VIRTUAL TABLE */
    .xConnect = vec_each_connect,
    .xBestIndex = vec_each_best_index,
    .xDisconnect = vec_each_disconnect,
    .xDestroy = vec_each_disconnect,
    .xOpen = vec_each_open,
    .xClose = vec_each_close,
    .xFilter = vec_each_filter,
    .xNext = vec_each_next,
    .xEof = vec_each_eof,
    .xColumn = vec_each_column,
    .xRowid = vec_each_rowid,
};

/* ---------------------------------------------------------------- registration */

static int vec_register_all(sqlite3 *db) {
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } functions[] = {
        {"vec_len", 1, vec_len_fn},         {"vec_get", 2, vec_get_fn},
        {"vec_sum", 1, vec_sum_fn},         {"vec_mean", 1, vec_mean_fn},
        {"vec_min", 1, vec_min_fn},         {"vec_max", 1, vec_max_fn},
        {"vec_norm", 1, vec_norm_fn},       {"vec_norm", 2, vec_norm_fn},
        {"vec_dot", 2, vec_dot_fn},         {"vec_dist", 2, vec_dist_fn},
        {"vec_mae", 2, vec_mae_fn},         {"vec_slice", 3, vec_slice_fn},
        {"vec_from_json", 1, vec_from_json_fn}, {"vec_to_json", 1, vec_to_json_fn},
    };
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    for (size_t k = 0; k < sizeof functions / sizeof functions[0]; k++) {
        int rc = sqlite3_create_function_v2(db, functions[k].name, functions[k].nargs, flags, NULL, functions[k].fn,
                                            NULL, NULL, NULL);
        if (rc != SQLITE_OK) return rc;
    }
    return sqlite3_create_module_v2(db, "vec_each", &vec_each_module, NULL, NULL);
}

#ifdef SQLITE_CORE
#include "include/vec_sql.h"
int tlens_vec_register(sqlite3 *db) { return vec_register_all(db); }
#endif
