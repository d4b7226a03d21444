/* cqboot_r.c — the R package's C layer: R values in, cqb_embed_run, R values out.
 *
 * Everything analytic (options, checks, computation, the JSON and the tidy
 * CSV) is the CLI's, reached through cqb_embed_run (cqboot/embed.h); this file
 * only converts. One exception: the wavemulcor drop-ins get MODWT
 * coefficients, not series, and hand them to the library's statistics as
 * they are (cqb_r_wmc_levels below), so that they see exactly the numbers
 * wavemulcor sees. Numbers cross as text that the CLI printed with round-trip
 * precision and are read back here with strtod (correctly rounded), so an R
 * result is the CLI's to the last bit; R's own number reader is not used
 * because it is not guaranteed to round correctly at 17 digits.
 *
 * Interrupts: the library calls progress from the thread that called
 * cqb_embed_run (checked: other threads are ignored). There, R_CheckUserInterrupt
 * runs inside R_ToplevelExec, which catches the longjmp R would take on
 * Ctrl-C; we then set the cancel flag, the library stops and frees its work
 * and returns 130, and the R code signals the interrupt after everything was
 * freed. An R progress function is called the same way. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <R.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Utils.h>
#include <Rinternals.h>

#include <cjson/cJSON.h>

#include "cqboot/embed.h"
#include "cqboot/version.h"
#include "cqboot/wavelet.h"
#include "cqboot/wlmc.h"
#include "cqboot/wmc.h"

/* ---- JSON text -> R values ------------------------------------------------ */

static SEXP json_to_r(const cJSON *j);

/* An array whose items are all numbers or null becomes a double vector (null:
 * NA), all strings (or null) a character vector, all booleans a logical
 * vector; anything else (objects, nested arrays, mixtures) a list. */
static SEXP json_array_to_r(const cJSON *a) {
    int n = cJSON_GetArraySize(a), nnum = 0, nstr = 0, nbool = 0, nnull = 0;
    for (const cJSON *it = a->child; it; it = it->next) {
        if (cJSON_IsNumber(it)) nnum++;
        else if (cJSON_IsString(it)) nstr++;
        else if (cJSON_IsBool(it)) nbool++;
        else if (cJSON_IsNull(it)) nnull++;
    }
    SEXP out;
    int i = 0;
    if (n > 0 && nnum + nnull == n && nnum > 0) {
        out = PROTECT(allocVector(REALSXP, n));
        for (const cJSON *it = a->child; it; it = it->next, i++) REAL(out)[i] = cJSON_IsNumber(it) ? it->valuedouble : NA_REAL;
    } else if (n > 0 && nstr + nnull == n && nstr > 0) {
        out = PROTECT(allocVector(STRSXP, n));
        for (const cJSON *it = a->child; it; it = it->next, i++)
            SET_STRING_ELT(out, i, cJSON_IsString(it) ? mkCharCE(it->valuestring, CE_UTF8) : NA_STRING);
    } else if (n > 0 && nbool + nnull == n && nbool > 0) {
        out = PROTECT(allocVector(LGLSXP, n));
        for (const cJSON *it = a->child; it; it = it->next, i++)
            LOGICAL(out)[i] = cJSON_IsBool(it) ? cJSON_IsTrue(it) : NA_LOGICAL;
    } else {
        out = PROTECT(allocVector(VECSXP, n));
        for (const cJSON *it = a->child; it; it = it->next, i++) SET_VECTOR_ELT(out, i, json_to_r(it));
    }
    UNPROTECT(1);
    return out;
}

static SEXP json_to_r(const cJSON *j) {
    if (cJSON_IsNumber(j)) return ScalarReal(j->valuedouble);
    if (cJSON_IsString(j)) return ScalarString(mkCharCE(j->valuestring, CE_UTF8));
    if (cJSON_IsBool(j)) return ScalarLogical(cJSON_IsTrue(j));
    if (cJSON_IsNull(j)) return R_NilValue;
    if (cJSON_IsArray(j)) return json_array_to_r(j);
    if (cJSON_IsObject(j)) {
        int n = cJSON_GetArraySize(j), i = 0;
        SEXP out = PROTECT(allocVector(VECSXP, n)), names = PROTECT(allocVector(STRSXP, n));
        for (const cJSON *it = j->child; it; it = it->next, i++) {
            SET_VECTOR_ELT(out, i, json_to_r(it));
            SET_STRING_ELT(names, i, mkCharCE(it->string ? it->string : "", CE_UTF8));
        }
        setAttrib(out, R_NamesSymbol, names);
        UNPROTECT(2);
        return out;
    }
    return R_NilValue;
}

SEXP cqb_r_parse_json(SEXP text);
SEXP cqb_r_parse_json(SEXP text) {
    if (!isString(text) || LENGTH(text) != 1 || STRING_ELT(text, 0) == NA_STRING) error("json: one string expected");
    cJSON *j = cJSON_Parse(CHAR(STRING_ELT(text, 0)));
    if (!j) error("json: not valid JSON");
    /* json_to_r allocates, and an allocation failure longjmps: keep the tree
     * reachable only through this frame for as short as possible. */
    SEXP out = PROTECT(json_to_r(j));
    cJSON_Delete(j);
    UNPROTECT(1);
    return out;
}

/* ---- CSV text -> a named list of columns ---------------------------------- */

/* The CLI's CSV: a header, one row per line, fields separated by commas,
 * double-quoted where they contain a comma or a quote ("" inside). A column is
 * double when every field is a number, "NA" or empty; otherwise character. */
typedef struct field_buf {
    char *s;
    size_t n, cap;
} field_buf;

static int fb_put(field_buf *b, char c) {
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->n++] = c;
    b->s[b->n] = '\0';
    return 0;
}

/* Splits text into fields (malloc'd strings) row by row; *rows, *cols. */
static char **csv_split(const char *t, size_t *nrows, size_t *ncols, int *bad) {
    size_t cap = 256, n = 0, cols = 0, in_row = 0, rows = 0;
    char **f = malloc(cap * sizeof *f);
    field_buf b = {0};
    *bad = 0;
    if (!f) return NULL;
    const char *p = t;
    while (*p) {
        b.n = 0;
        if (fb_put(&b, '\0') < 0) goto oom;
        b.n = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) break;
                if (*p == '"' && p[1] == '"') { if (fb_put(&b, '"') < 0) goto oom; p += 2; continue; }
                if (*p == '"') { p++; break; }
                if (fb_put(&b, *p++) < 0) goto oom;
            }
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            if (fb_put(&b, *p++) < 0) goto oom;
        if (n == cap) {
            char **g = realloc(f, 2 * cap * sizeof *f);
            if (!g) goto oom;
            f = g;
            cap *= 2;
        }
        f[n] = malloc(b.n + 1);
        if (!f[n]) goto oom;
        memcpy(f[n], b.s ? b.s : "", b.n + 1);
        n++;
        in_row++;
        if (*p == ',') { p++; continue; }
        if (*p == '\r') p++;
        if (*p == '\n') p++;
        if (rows == 0) cols = in_row;
        else if (in_row != cols) *bad = 1;
        rows++;
        in_row = 0;
    }
    free(b.s);
    *nrows = rows;
    *ncols = cols;
    return f;
oom:
    for (size_t i = 0; i < n; i++) free(f[i]);
    free(f);
    free(b.s);
    *bad = 2;
    return NULL;
}

static int csv_number(const char *s, double *v) {
    if (!*s || strcmp(s, "NA") == 0) { *v = NA_REAL; return 1; }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end != '\0' || end == s) return 0;
    if (strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0) d = R_NaN;
    *v = d;
    return 1;
}

SEXP cqb_r_parse_csv(SEXP text);
SEXP cqb_r_parse_csv(SEXP text) {
    if (!isString(text) || LENGTH(text) != 1 || STRING_ELT(text, 0) == NA_STRING) error("csv: one string expected");
    size_t rows = 0, cols = 0;
    int bad = 0;
    char **f = csv_split(CHAR(STRING_ELT(text, 0)), &rows, &cols, &bad);
    if (!f) error("csv: out of memory");
    size_t nf = rows * cols, nr = rows ? rows - 1 : 0;
    if (bad) {
        for (size_t i = 0; i < nf; i++) free(f[i]);
        free(f);
        error("csv: rows of different lengths");
    }
    /* Copy everything into R objects first, then free (an R error would leak
     * the fields otherwise): one STRSXP of all fields. */
    SEXP all = PROTECT(allocVector(STRSXP, (R_xlen_t)nf));
    for (size_t i = 0; i < nf; i++) SET_STRING_ELT(all, (R_xlen_t)i, mkCharCE(f[i], CE_UTF8));
    for (size_t i = 0; i < nf; i++) free(f[i]);
    free(f);
    SEXP out = PROTECT(allocVector(VECSXP, (R_xlen_t)cols)), names = PROTECT(allocVector(STRSXP, (R_xlen_t)cols));
    for (size_t c = 0; c < cols; c++) {
        SET_STRING_ELT(names, (R_xlen_t)c, STRING_ELT(all, (R_xlen_t)c));
        int numeric = 1;
        double v;
        for (size_t r = 1; r < rows && numeric; r++) numeric = csv_number(CHAR(STRING_ELT(all, (R_xlen_t)(r * cols + c))), &v);
        SEXP col;
        if (numeric) {
            col = PROTECT(allocVector(REALSXP, (R_xlen_t)nr));
            for (size_t r = 1; r < rows; r++) csv_number(CHAR(STRING_ELT(all, (R_xlen_t)(r * cols + c))), &REAL(col)[r - 1]);
        } else {
            col = PROTECT(allocVector(STRSXP, (R_xlen_t)nr));
            for (size_t r = 1; r < rows; r++) {
                SEXP s = STRING_ELT(all, (R_xlen_t)(r * cols + c));
                SET_STRING_ELT(col, (R_xlen_t)(r - 1), strcmp(CHAR(s), "NA") == 0 ? NA_STRING : s);
            }
        }
        SET_VECTOR_ELT(out, (R_xlen_t)c, col);
        UNPROTECT(1);
    }
    setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(3);
    return out;
}

/* ---- the call ------------------------------------------------------------- */

typedef struct r_call {
    volatile int cancel;
    int interrupted;     /* Ctrl-C seen */
    int progress_failed; /* the R progress function raised an error */
    SEXP progress_fn;    /* an R function(fraction) or R_NilValue */
    pthread_t main_thread;
    double fraction;
} r_call;

static void check_interrupt(void *unused) {
    (void)unused;
    R_CheckUserInterrupt();
}

/* The R side wraps the user's function so that it returns FALSE (after
 * keeping the message) instead of raising an error. */
static void call_progress_fn(void *user) {
    r_call *c = user;
    SEXP call = PROTECT(lang2(c->progress_fn, ScalarReal(c->fraction)));
    SEXP ok = eval(call, R_GlobalEnv);
    if (TYPEOF(ok) == LGLSXP && LENGTH(ok) == 1 && LOGICAL(ok)[0] == FALSE) c->progress_failed = 1;
    UNPROTECT(1);
}

static void progress_cb(double fraction, void *user) {
    r_call *c = user;
    if (!pthread_equal(pthread_self(), c->main_thread)) return; /* R is single-threaded */
    if (c->cancel) return;
    if (!R_ToplevelExec(check_interrupt, NULL)) {
        c->interrupted = 1;
        c->cancel = 1;
        return;
    }
    if (c->progress_fn != R_NilValue) {
        c->fraction = fraction;
        if (!R_ToplevelExec(call_progress_fn, c)) c->interrupted = 1; /* Ctrl-C inside it */
        if (c->progress_failed || c->interrupted) c->cancel = 1;
    }
}

/* data: NULL or list(names = character, cols = list of double vectors of one
 * length, labels = character or NULL). */
SEXP cqb_r_run(SEXP command, SEXP args, SEXP data, SEXP progress);
SEXP cqb_r_run(SEXP command, SEXP args, SEXP data, SEXP progress) {
    if (!isString(command) || LENGTH(command) != 1) error("command: one string expected");
    if (!isString(args)) error("args: a character vector expected");
    int argc = LENGTH(args);
    const char **argv = (const char **)R_alloc((size_t)argc + 1, sizeof *argv);
    for (int i = 0; i < argc; i++) {
        if (STRING_ELT(args, i) == NA_STRING) error("args: NA");
        argv[i] = translateCharUTF8(STRING_ELT(args, i));
    }
    argv[argc] = NULL;

    cqb_embed_frame frame;
    memset(&frame, 0, sizeof frame);
    if (!isNull(data)) {
        SEXP names = VECTOR_ELT(data, 0), cols = VECTOR_ELT(data, 1), labels = VECTOR_ELT(data, 2);
        int ncol = LENGTH(cols);
        if (!isString(names) || LENGTH(names) != ncol || TYPEOF(cols) != VECSXP) error("data: malformed");
        const char **nm = (const char **)R_alloc((size_t)ncol + 1, sizeof *nm);
        const double **cv = (const double **)R_alloc((size_t)ncol + 1, sizeof *cv);
        R_xlen_t nrow = ncol ? XLENGTH(VECTOR_ELT(cols, 0)) : 0;
        for (int j = 0; j < ncol; j++) {
            SEXP col = VECTOR_ELT(cols, j);
            if (TYPEOF(col) != REALSXP || XLENGTH(col) != nrow) error("data: columns must be double vectors of one length");
            nm[j] = translateCharUTF8(STRING_ELT(names, j));
            cv[j] = REAL(col);
        }
        const char **lb = NULL;
        if (!isNull(labels)) {
            if (!isString(labels) || XLENGTH(labels) != nrow) error("data: labels must be one string per row");
            lb = (const char **)R_alloc((size_t)nrow + 1, sizeof *lb);
            for (R_xlen_t i = 0; i < nrow; i++) lb[i] = STRING_ELT(labels, i) == NA_STRING ? "" : translateCharUTF8(STRING_ELT(labels, i));
        }
        frame.nrow = (size_t)nrow;
        frame.ncol = (size_t)ncol;
        frame.names = nm;
        frame.cols = cv;
        frame.labels = lb;
    }

    r_call rc;
    memset(&rc, 0, sizeof rc);
    rc.main_thread = pthread_self();
    rc.progress_fn = isFunction(progress) ? progress : R_NilValue;

    cqb_embed_call call;
    memset(&call, 0, sizeof call);
    call.command = CHAR(STRING_ELT(command, 0));
    call.argc = argc;
    call.argv = argv;
    call.data = isNull(data) ? NULL : &frame;
    call.progress = progress_cb;
    call.user = &rc;
    call.cancel = &rc.cancel;

    cqb_embed_result res;
    memset(&res, 0, sizeof res);
    int status = cqb_embed_run(&call, &res);

    /* Copy out, free the library's result, and only then allocate R objects
     * that could fail: no R error can skip cqb_embed_result_free. */
    char msg[sizeof res.message];
    memcpy(msg, res.message, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    size_t jl = res.json ? strlen(res.json) : 0, cl = res.csv ? strlen(res.csv) : 0;
    char *json = jl ? R_alloc(jl + 1, 1) : NULL, *csv = cl ? R_alloc(cl + 1, 1) : NULL;
    if (json) memcpy(json, res.json, jl + 1);
    if (csv) memcpy(csv, res.csv, cl + 1);
    cqb_embed_result_free(&res);

    SEXP out = PROTECT(allocVector(VECSXP, 6)), nms = PROTECT(allocVector(STRSXP, 6));
    const char *keys[] = {"status", "message", "json", "csv", "interrupted", "progress_failed"};
    for (int i = 0; i < 6; i++) SET_STRING_ELT(nms, i, mkChar(keys[i]));
    SET_VECTOR_ELT(out, 0, ScalarInteger(status));
    SET_VECTOR_ELT(out, 1, mkString(msg));
    SET_VECTOR_ELT(out, 2, json ? ScalarString(mkCharCE(json, CE_UTF8)) : R_NilValue);
    SET_VECTOR_ELT(out, 3, csv ? ScalarString(mkCharCE(csv, CE_UTF8)) : R_NilValue);
    SET_VECTOR_ELT(out, 4, ScalarLogical(rc.interrupted));
    SET_VECTOR_ELT(out, 5, ScalarLogical(rc.progress_failed));
    setAttrib(out, R_NamesSymbol, nms);
    UNPROTECT(2);
    return out;
}

/* The wavelet filters (scaling g, wavelet h) of a named filter, for the
 * inverse MODWT the wavemulcor drop-ins need to recover a series from
 * waveslim's modwt object. */
SEXP cqb_r_filters(SEXP name);
SEXP cqb_r_filters(SEXP name) {
    if (!isString(name) || LENGTH(name) != 1) error("wavelet: one name expected");
    cqb_wavelet wf;
    cqb_error err;
    if (cqb_wavelet_parse(CHAR(STRING_ELT(name, 0)), &wf, &err) != CQB_OK) error("%s", err.msg);
    size_t L = cqb_wavelet_length(wf);
    const double *g = cqb_wavelet_scaling(wf), *h = cqb_wavelet_wavelet(wf);
    SEXP out = PROTECT(allocVector(VECSXP, 2)), nms = PROTECT(allocVector(STRSXP, 2));
    SEXP gs = allocVector(REALSXP, (R_xlen_t)L);
    SET_VECTOR_ELT(out, 0, gs);
    SEXP hs = allocVector(REALSXP, (R_xlen_t)L);
    SET_VECTOR_ELT(out, 1, hs);
    memcpy(REAL(gs), g, L * sizeof *g);
    memcpy(REAL(hs), h, L * sizeof *h);
    SET_STRING_ELT(nms, 0, mkChar("scaling"));
    SET_STRING_ELT(nms, 1, mkChar("wavelet"));
    setAttrib(out, R_NamesSymbol, nms);
    UNPROTECT(2);
    return out;
}

/* wavemulcor's multiple correlations of the coefficients xx: a list of d >= 2
 * lists of J + 1 double vectors (d1..dJ, sJ) of one length n, NA where
 * brick.wall put it. stat: 0 wave.multiple.correlation, 1
 * wave.local.multiple.correlation, 2 wave.multiple.cross.correlation, 3
 * wave.local.multiple.cross.correlation. The local statistics first apply
 * waveslim's phase.shift for the filter `wavelet`, as wavemulcor does; the
 * global ones need no filter. The statistics use the rows where every series
 * is present (wavemulcor's pairwise counts are the same when the series share
 * their NA pattern, as brick-walled MODWTs of one filter and length do).
 * lag_max < 0: R's default. Returns list(val, lo, up, dep, lags): val, lo, up
 * with (J + 1) [x n for local] [x (2 lags + 1) for cross] entries in the
 * library's order (cqboot/wmc.h), dep (J + 1) [x n], 1-based, NA for none. */
SEXP cqb_r_wmc_levels(SEXP xx, SEXP stat, SEXP wavelet, SEXP p, SEXP ymaxr, SEXP nobs, SEXP window, SEXP M,
                      SEXP lag_max);
SEXP cqb_r_wmc_levels(SEXP xx, SEXP stat, SEXP wavelet, SEXP p, SEXP ymaxr, SEXP nobs, SEXP window, SEXP M,
                      SEXP lag_max) {
    if (!isNewList(xx) || LENGTH(xx) < 2) error("xx: a list of at least two MODWT objects expected");
    const size_t d = (size_t)LENGTH(xx);
    const SEXP first = VECTOR_ELT(xx, 0);
    if (!isNewList(first) || LENGTH(first) < 2) error("xx[[1]]: at least one detail level and the smooth expected");
    const int J = LENGTH(first) - 1;
    const size_t n = (size_t)XLENGTH(VECTOR_ELT(first, 0));
    if (n == 0) error("xx[[1]]: empty coefficient vectors");
    const int kind = asInteger(stat);
    if (kind < 0 || kind > 3) error("stat: 0..3 expected");
    const int loc = kind & 1, cross = kind >> 1;
    cqb_error err;
    cqb_wavelet wf = CQB_WAVELET_LA8;
    if (loc) {
        if (!isString(wavelet) || LENGTH(wavelet) != 1) error("xx: the MODWT objects name no wavelet filter");
        if (cqb_wavelet_parse(CHAR(STRING_ELT(wavelet, 0)), &wf, &err) != CQB_OK) error("%s", err.msg);
    }
    /* level-major: x[(i * d + k) * n + t]; one series' J + 1 vectors are
     * gathered in `one` first so that phase.shift sees its own layout */
    double *x = (double *)R_alloc((size_t)(J + 1) * d * n, sizeof *x);
    double *one = (double *)R_alloc((size_t)(J + 1) * n, sizeof *one);
    for (size_t k = 0; k < d; ++k) {
        const SEXP w = VECTOR_ELT(xx, (R_xlen_t)k);
        if (!isNewList(w) || LENGTH(w) != J + 1)
            error("xx[[%zu]]: %d coefficient vectors expected (as xx[[1]])", k + 1, J + 1);
        for (int i = 0; i <= J; ++i) {
            const SEXP v = VECTOR_ELT(w, i);
            if (!isReal(v) || (size_t)XLENGTH(v) != n)
                error("xx[[%zu]][[%d]]: a double vector of length %zu expected (as xx[[1]][[1]])", k + 1, i + 1, n);
            const double *src = REAL(v);
            for (size_t t = 0; t < n; ++t) {
                if (isinf(src[t])) error("xx[[%zu]][[%d]][%zu]: infinite coefficient", k + 1, i + 1, t + 1);
                one[(size_t)i * n + t] = ISNAN(src[t]) ? NAN : src[t];
            }
        }
        if (loc) cqb_modwt_phase_shift(one, n, wf, J);
        for (int i = 0; i <= J; ++i)
            memcpy(x + ((size_t)i * d + k) * n, one + (size_t)i * n, n * sizeof *x);
    }
    cqb_wmc_opts o;
    cqb_wmc_opts_default(&o);
    o.p = asReal(p);
    o.ymaxr = asInteger(ymaxr);
    o.nobs = asReal(nobs);
    if (o.ymaxr == NA_INTEGER || o.ymaxr < 0 || (size_t)o.ymaxr > d) error("ymaxr: an index of xx expected");
    o.lag_max = asInteger(lag_max);
    if (o.lag_max == NA_INTEGER) o.lag_max = -1;
    if (loc) {
        if (!isString(window) || LENGTH(window) != 1) error("wrong window type (window: one name expected)");
        if (cqb_window_parse(CHAR(STRING_ELT(window, 0)), &o.window, &err) != CQB_OK) error("%s", err.msg);
        o.M = asReal(M);
    }
    const cqb_wlevels in = {n, d, J, x};
    const int lm = cross ? cqb_wmc_lags(n, &o) : 0;
    const R_xlen_t md = (R_xlen_t)(J + 1) * (R_xlen_t)(loc ? n : 1), m = md * (2 * lm + 1);
    SEXP out = PROTECT(allocVector(VECSXP, 5)), nms = PROTECT(allocVector(STRSXP, 5));
    for (int e = 0; e < 3; ++e) SET_VECTOR_ELT(out, e, allocVector(REALSXP, m));
    SET_VECTOR_ELT(out, 3, allocVector(INTSXP, md));
    SET_VECTOR_ELT(out, 4, ScalarInteger(lm));
    const cqb_wmc_out res = {REAL(VECTOR_ELT(out, 0)), REAL(VECTOR_ELT(out, 1)), REAL(VECTOR_ELT(out, 2)),
                             INTEGER(VECTOR_ELT(out, 3)), NULL, NULL};
    cqb_status st;
    switch (kind) {
    case 0: st = cqb_wmc(&in, &o, NULL, &res, &err); break;
    case 1: st = cqb_wlmc(&in, &o, NULL, &res, &err); break;
    case 2: st = cqb_wmcc(&in, &o, NULL, &res, &err); break;
    default: st = cqb_wlmcc(&in, &o, NULL, &res, &err); break;
    }
    if (st != CQB_OK) error("%s", err.msg);
    int *dep = INTEGER(VECTOR_ELT(out, 3));
    for (R_xlen_t e = 0; e < md; ++e)
        if (dep[e] == 0) dep[e] = NA_INTEGER;
    for (int c = 0; c < 3; ++c) {
        double *v = REAL(VECTOR_ELT(out, c));
        for (R_xlen_t e = 0; e < m; ++e)
            if (ISNAN(v[e])) v[e] = NA_REAL;
    }
    const char *names[] = {"val", "lo", "up", "dep", "lags"};
    for (int e = 0; e < 5; ++e) SET_STRING_ELT(nms, e, mkChar(names[e]));
    setAttrib(out, R_NamesSymbol, nms);
    UNPROTECT(2);
    return out;
}

SEXP cqb_r_versions(void);
SEXP cqb_r_versions(void) {
    SEXP out = PROTECT(allocVector(STRSXP, 2)), nms = PROTECT(allocVector(STRSXP, 2));
    SET_STRING_ELT(out, 0, mkChar(CQB_VERSION));
    char api[32];
    snprintf(api, sizeof api, "%d", (int)CQB_API_VERSION);
    SET_STRING_ELT(out, 1, mkChar(api));
    SET_STRING_ELT(nms, 0, mkChar("cqboot"));
    SET_STRING_ELT(nms, 1, mkChar("api"));
    setAttrib(out, R_NamesSymbol, nms);
    UNPROTECT(2);
    return out;
}

/* Through void (*)(void), the type GCC lets any function pointer pass as. */
#define CALLDEF(f, n) {#f, (DL_FUNC)(void (*)(void))&f, n}
static const R_CallMethodDef CALLS[] = {
    CALLDEF(cqb_r_run, 4),
    CALLDEF(cqb_r_parse_json, 1),
    CALLDEF(cqb_r_parse_csv, 1),
    CALLDEF(cqb_r_filters, 1),
    CALLDEF(cqb_r_wmc_levels, 9),
    CALLDEF(cqb_r_versions, 0),
    {NULL, NULL, 0}};

void R_init_cqboot(DllInfo *dll);
void R_init_cqboot(DllInfo *dll) {
    R_registerRoutines(dll, NULL, CALLS, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
