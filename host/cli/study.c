/* study.c — parsing, validating and translating a study file (study.h). */
#include "study.h"

#include "cli.h"

#include <libgen.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/frame.h"
#include "cqboot/hash.h"
#include "cqboot/quantile.h"
#include "cqboot/transform.h"
#include "cqboot/version.h"

/* ------------------------------------------------------------- schema -- */

typedef enum ktype {
    K_STR,       /* any string */
    K_NAME,      /* a column name (checked against the dataset) */
    K_NAMES,     /* array of column names */
    K_ENUM,      /* one of enums */
    K_NUM,       /* number in (lo, hi) / [lo, hi] */
    K_NUMS,      /* non-empty array of such numbers */
    K_INT,       /* integer in [lo, hi] */
    K_BOOL,
    K_LAGS,      /* "A-B", "1,3,5-7", or an integer K, or an array of integers */
    K_GAMMA,     /* "auto" or a number in (0,1] */
    K_DATE,      /* YYYY-MM, YYYY-MM-DD or DD/MM/YYYY */
    K_CONTROLS,  /* [{column, level?, lag?}] */
    K_PAIRS,     /* "all" or [["Y", "X"], ...] (names checked against "series") */
    K_FIGURES    /* {"lags": [..], "mark": "null"|"band"|"p"|"rw"|"holm"|"bh"|"null_rw"|"null_holm"|"null_bh"} */
} ktype;

typedef struct keydef {
    const char *key;
    ktype type;
    double lo, hi;
    int open; /* bounds exclusive */
    const char *const *enums;
    const char *flag; /* the subcommand option; NULL: not passed */
} keydef;

static const char *const KINDS[] = {"cq", "blocklen", "modwt", "wmc", "wmcc", "wlmc", "wlmcc", "simulate", NULL};
static const char *const DGPS[] = {"null", "tail", "var", NULL};
static const char *const WAVELETS[] = {"haar", "d4", "d6", "d8", "la8", "la16", "la20", NULL};
static const char *const BOUNDARIES[] = {"periodic", "reflection", NULL};
static const char *const WMODES[] = {"compat", "corrected", NULL};
static const char *const WINDOWS[] = {"uniform", "cleveland", "epanechnikov", "bartlett", "wendland", "gaussian", NULL};
static const char *const NULLS[] = {"bootstrap", "phase", "rotation", "joint", NULL};
static const char *const QUANTILES[] = {"r7_le", "type1_lt", "higher_lt_sub", NULL};
static const char *const BACKENDS[] = {"auto", "cpu", "cuda", NULL};
static const char *const QTIES[] = {"eps", "exact", NULL};
static const char *const NULL_SCHEMES[] = {"rotation", "sb", NULL};
static const char *const MARKS[] = {"null", "band", "p", NULL};

/* Keys an analysis of each kind may have, with the defaults-object keys
 * that apply to it (seed, boot, ...). */
static const keydef CQ_KEYS[] = {
    {"y", K_NAME, 0, 0, 0, NULL, "--y"},
    {"x", K_NAME, 0, 0, 0, NULL, "--x"},
    {"series", K_NAMES, 0, 0, 0, NULL, "--series"},
    {"pairs", K_PAIRS, 0, 0, 0, NULL, "--pairs"},
    {"controls", K_CONTROLS, 0, 0, 0, NULL, NULL},
    {"alpha", K_NUMS, 0, 1, 1, NULL, "--alpha"},
    {"alpha_y", K_NUMS, 0, 1, 1, NULL, "--alpha-y"},
    {"alpha_x", K_NUMS, 0, 1, 1, NULL, "--alpha-x"},
    {"lags", K_LAGS, 0, 65535, 0, NULL, "--lags"},
    {"quantile", K_ENUM, 0, 0, 0, QUANTILES, "--quantile"},
    {"boot", K_INT, 1, 4294967295.0, 0, NULL, "--boot"},
    {"gamma", K_GAMMA, 0, 1, 0, NULL, "--gamma"},
    {"level", K_NUM, 0, 1, 1, NULL, "--level"},
    {"seed", K_INT, 0, 9007199254740991.0, 0, NULL, "--seed"},
    {"backend", K_ENUM, 0, 0, 0, BACKENDS, "--backend"},
    {"threads", K_INT, 0, 4096, 0, NULL, "--threads"},
    {"qtests", K_BOOL, 0, 0, 0, NULL, NULL},
    {"gridwide", K_BOOL, 0, 0, 0, NULL, "--gridwide"},
    {"null_scheme", K_ENUM, 0, 0, 0, NULL_SCHEMES, "--null-scheme"},
    {"rotation_margin", K_INT, 1, 1e8, 0, NULL, "--rotation-margin"},
    {"mark", K_ENUM, 0, 0, 0, MARKS, "--mark"},
    {"independent_cells", K_BOOL, 0, 0, 0, NULL, "--independent-cells"},
    {"window", K_INT, 2, 1e8, 0, NULL, "--window"},
    {"window_years", K_INT, 1, 10000, 0, NULL, "--window-years"},
    {"step", K_INT, 1, 1e8, 0, NULL, "--step"},
    {"recursive", K_BOOL, 0, 0, 0, NULL, "--recursive"},
    {"figures", K_FIGURES, 0, 0, 0, NULL, NULL},
    {"y_regressors", K_STR, 0, 0, 0, NULL, "--y-regressors"},
    {"x_regressors", K_STR, 0, 0, 0, NULL, "--x-regressors"},
    {"qreg_tie", K_ENUM, 0, 0, 0, QTIES, "--qreg-tie"},
    {"selfnorm", K_BOOL, 0, 0, 0, NULL, "--selfnorm"},
    {"omega", K_NUM, 0, 1, 0, NULL, "--omega"},
    {NULL, K_STR, 0, 0, 0, NULL, NULL}};

static const keydef BL_KEYS[] = {
    {"cols", K_NAMES, 0, 0, 0, NULL, "--cols"},
    {"lag", K_INT, 0, 65535, 0, NULL, "--lag"},
    {"floor1", K_BOOL, 0, 0, 0, NULL, "--floor1"},
    {NULL, K_STR, 0, 0, 0, NULL, NULL}};

/* wavelet kinds (modwt takes only the transform keys) */
static const keydef W_KEYS[] = {
    {"cols", K_NAMES, 0, 0, 0, NULL, "--cols"},
    {"wavelet", K_ENUM, 0, 0, 0, WAVELETS, "--wavelet"},
    {"levels", K_INT, 1, 30, 0, NULL, "--levels"},
    {"boundary", K_ENUM, 0, 0, 0, BOUNDARIES, "--boundary"},
    {"dt", K_NUM, 0, 1e300, 1, NULL, "--dt"},
    {"align", K_BOOL, 0, 0, 0, NULL, "--align"},
    {"mode", K_ENUM, 0, 0, 0, WMODES, "--mode"},
    {"level", K_NUM, 0, 1, 1, NULL, "--level"},
    {"ymaxr", K_STR, 0, 0, 0, NULL, "--ymaxr"},
    {"lag_max", K_INT, 0, 100000, 0, NULL, "--lag-max"},
    {"window", K_ENUM, 0, 0, 0, WINDOWS, "--window"},
    {"M", K_NUM, 1, 1e9, 0, NULL, "--M"},
    {"boot", K_INT, 0, 4294967295.0, 0, NULL, "--boot"},
    {"null", K_ENUM, 0, 0, 0, NULLS, "--null"},
    {"gamma", K_GAMMA, 0, 1, 0, NULL, "--gamma"},
    {"seed", K_INT, 0, 9007199254740991.0, 0, NULL, "--seed"},
    {"threads", K_INT, 0, 4096, 0, NULL, "--threads"},
    {"figures", K_FIGURES, 0, 0, 0, NULL, NULL},
    {"backend", K_ENUM, 0, 0, 0, BACKENDS, "--backend"},
    {NULL, K_STR, 0, 0, 0, NULL, NULL}};

/* simulate: a Monte Carlo study of the tests (no data set) */
static const keydef SIM_KEYS[] = {
    {"dgp", K_ENUM, 0, 0, 0, DGPS, "--dgp"},
    {"T", K_INT, 8, 1e8, 0, NULL, "--T"},
    {"alpha", K_NUMS, 0, 1, 1, NULL, "--alpha"},
    {"alpha_y", K_NUMS, 0, 1, 1, NULL, "--alpha-y"},
    {"alpha_x", K_NUMS, 0, 1, 1, NULL, "--alpha-x"},
    {"lags", K_LAGS, 0, 65535, 0, NULL, "--lags"},
    {"reps", K_INT, 1, 4294967295.0, 0, NULL, "--reps"},
    {"boot", K_INT, 1, 4294967295.0, 0, NULL, "--boot"},
    {"gamma", K_GAMMA, 0, 1, 0, NULL, "--gamma"},
    {"level", K_NUM, 0, 1, 1, NULL, "--level"},
    {"seed", K_INT, 0, 9007199254740991.0, 0, NULL, "--seed"},
    {"threads", K_INT, 0, 4096, 0, NULL, "--threads"},
    {"strength", K_NUM, -1e9, 1e9, 0, NULL, "--strength"},
    {"tail_lag", K_INT, 1, 65535, 0, NULL, "--tail-lag"},
    {"tail_alpha", K_NUM, 0, 0.5, 0, NULL, "--tail-alpha"},
    {"qtests", K_BOOL, 0, 0, 0, NULL, NULL},
    {NULL, K_STR, 0, 0, 0, NULL, NULL}};

static const keydef DEFAULT_KEYS[] = {
    {"seed", K_INT, 0, 9007199254740991.0, 0, NULL, "--seed"},
    {"boot", K_INT, 1, 4294967295.0, 0, NULL, "--boot"},
    {"gamma", K_GAMMA, 0, 1, 0, NULL, "--gamma"},
    {"backend", K_ENUM, 0, 0, 0, BACKENDS, "--backend"},
    {"threads", K_INT, 0, 4096, 0, NULL, "--threads"},
    {"quantile", K_ENUM, 0, 0, 0, QUANTILES, "--quantile"},
    {"level", K_NUM, 0, 1, 1, NULL, "--level"},
    {NULL, K_STR, 0, 0, 0, NULL, NULL}};

/* ------------------------------------------------------------ helpers -- */

static cqb_status fault(cqb_error *err, const char *file, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static cqb_status fault(cqb_error *err, const char *file, const char *path, const char *fmt, ...)
{
    char msg[CQB_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cqb_error_set(err, CQB_EUSAGE, "%s: %s: %s", file, path, msg);
}

static const keydef *find_key(const keydef *tab, const char *k)
{
    for (; tab->key; ++tab)
        if (!strcmp(tab->key, k)) return tab;
    return NULL;
}

static int in_enum(const char *const *e, const char *s)
{
    for (; *e; ++e)
        if (!strcmp(*e, s)) return 1;
    return 0;
}

static int num_ok(const keydef *k, double v)
{
    if (!isfinite(v)) return 0;
    return k->open ? (v > k->lo && v < k->hi) : (v >= k->lo && v <= k->hi);
}

static const char *range_text(const keydef *k, char *buf, size_t n)
{
    if (k->open) snprintf(buf, n, "in (%g,%g)", k->lo, k->hi);
    else snprintf(buf, n, "in [%.15g, %.15g]", k->lo, k->hi);
    return buf;
}

static const char *KIND_NAMES_TEXT = "cq, blocklen, modwt, wmc, wmcc, wlmc, wlmcc, simulate";

/* Validates one value against its key definition (columns are checked
 * later against the dataset). */
static cqb_status check_value(const char *file, const char *path, const keydef *k, const cJSON *v, cqb_error *err)
{
    char rb[64], p2[512];
    switch (k->type) {
    case K_STR:
    case K_NAME:
        if (!cJSON_IsString(v) || !*v->valuestring) return fault(err, file, path, "must be a non-empty string");
        return CQB_OK;
    case K_NAMES: {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1)
            return fault(err, file, path, "must be a non-empty array of column names");
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(p2, sizeof p2, "%s[%d]", path, i++);
            if (!cJSON_IsString(e) || !*e->valuestring) return fault(err, file, p2, "must be a column name");
        }
        return CQB_OK;
    }
    case K_ENUM:
        if (!cJSON_IsString(v) || !in_enum(k->enums, v->valuestring)) {
            char list[256] = "";
            for (const char *const *e = k->enums; *e; ++e) {
                strncat(list, *e, sizeof list - strlen(list) - 1);
                if (e[1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fault(err, file, path, "must be one of %s", list);
        }
        return CQB_OK;
    case K_NUM:
        if (!cJSON_IsNumber(v)) return fault(err, file, path, "must be a number");
        if (!num_ok(k, v->valuedouble)) return fault(err, file, path, "must be %s", range_text(k, rb, sizeof rb));
        return CQB_OK;
    case K_NUMS: {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1) return fault(err, file, path, "must be a non-empty array of numbers");
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(p2, sizeof p2, "%s[%d]", path, i++);
            if (!cJSON_IsNumber(e)) return fault(err, file, p2, "must be a number");
            if (!num_ok(k, e->valuedouble)) return fault(err, file, p2, "must be %s", range_text(k, rb, sizeof rb));
        }
        return CQB_OK;
    }
    case K_INT:
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
            return fault(err, file, path, "must be an integer");
        if (!num_ok(k, v->valuedouble)) return fault(err, file, path, "must be %s", range_text(k, rb, sizeof rb));
        return CQB_OK;
    case K_BOOL:
        if (!cJSON_IsBool(v)) return fault(err, file, path, "must be true or false");
        return CQB_OK;
    case K_LAGS:
        if (cJSON_IsNumber(v)) {
            if (v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 65535)
                return fault(err, file, path, "must be a lag count K (lags 1..K) in 0..65535");
            return CQB_OK;
        }
        if (cJSON_IsArray(v)) {
            int i = 0;
            const cJSON *e;
            if (cJSON_GetArraySize(v) < 1) return fault(err, file, path, "must not be empty");
            cJSON_ArrayForEach(e, v)
            {
                snprintf(p2, sizeof p2, "%s[%d]", path, i++);
                if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
                    e->valuedouble > 65535)
                    return fault(err, file, p2, "must be a lag in 0..65535");
            }
            return CQB_OK;
        }
        if (cJSON_IsString(v)) {
            regex_t re;
            regcomp(&re, "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$", REG_EXTENDED | REG_NOSUB);
            int bad = regexec(&re, v->valuestring, 0, NULL, 0) != 0;
            regfree(&re);
            if (bad) return fault(err, file, path, "must be K, \"A-B\" or a list such as \"1,3,6-12\"");
            return CQB_OK;
        }
        return fault(err, file, path, "must be an integer K, a string \"A-B\" or an array of lags");
    case K_GAMMA:
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "auto")) return CQB_OK;
        if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 1) return CQB_OK;
        return fault(err, file, path, "must be \"auto\" or a number in (0,1]");
    case K_DATE: {
        int32_t key;
        if (!cJSON_IsString(v) || cqb_parse_date(v->valuestring, &key) != CQB_OK)
            return fault(err, file, path, "must be a date YYYY-MM, YYYY-MM-DD or DD/MM/YYYY");
        return CQB_OK;
    }
    case K_PAIRS: {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "all")) return CQB_OK;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1)
            return fault(err, file, path, "must be \"all\" or a non-empty array of [\"Y\", \"X\"] pairs");
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(p2, sizeof p2, "%s[%d]", path, i++);
            const cJSON *y = cJSON_GetArrayItem(e, 0), *x = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(y) || !cJSON_IsString(x) ||
                !*y->valuestring || !*x->valuestring)
                return fault(err, file, p2, "must be a pair [\"Y\", \"X\"] of column names");
            if (!strcmp(y->valuestring, x->valuestring)) return fault(err, file, p2, "y and x are the same series");
        }
        return CQB_OK;
    }
    case K_CONTROLS: {
        if (!cJSON_IsArray(v)) return fault(err, file, path, "must be an array of {\"column\", \"level\", \"lag\"}");
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(p2, sizeof p2, "%s[%d]", path, i++);
            if (!cJSON_IsObject(e)) return fault(err, file, p2, "must be an object {\"column\", \"level\", \"lag\"}");
            const cJSON *f;
            cJSON_ArrayForEach(f, e)
            {
                char p3[600];
                snprintf(p3, sizeof p3, "%s.%s", p2, f->string);
                if (!strcmp(f->string, "column")) {
                    if (!cJSON_IsString(f) || !*f->valuestring) return fault(err, file, p3, "must be a column name");
                } else if (!strcmp(f->string, "level")) {
                    if (!cJSON_IsNumber(f) || !(f->valuedouble > 0 && f->valuedouble < 1))
                        return fault(err, file, p3, "must be in (0,1)");
                } else if (!strcmp(f->string, "lag")) {
                    if (!cJSON_IsNumber(f) || f->valuedouble != floor(f->valuedouble) || f->valuedouble < 0 ||
                        f->valuedouble > 65535)
                        return fault(err, file, p3, "must be an integer lag in 0..65535");
                } else {
                    return fault(err, file, p3, "unknown key (column, level, lag)");
                }
            }
            if (!cJSON_GetObjectItemCaseSensitive(e, "column")) return fault(err, file, p2, "needs \"column\"");
        }
        return CQB_OK;
    }
    case K_FIGURES: {
        if (!cJSON_IsObject(v)) return fault(err, file, path, "must be an object {\"lags\", \"mark\"}");
        const cJSON *f;
        cJSON_ArrayForEach(f, v)
        {
            char p3[600];
            snprintf(p3, sizeof p3, "%s.%s", path, f->string);
            if (!strcmp(f->string, "lags")) {
                static const keydef lk = {"lags", K_LAGS, 0, 65535, 0, NULL, NULL};
                if (!cJSON_IsArray(f)) return fault(err, file, p3, "must be an array of lags");
                cqb_status st = check_value(file, p3, &lk, f, err);
                if (st != CQB_OK) return st;
            } else if (!strcmp(f->string, "mark")) {
                static const char *const marks[] = {"null", "band", "p", "rw", "holm", "bh", "null_rw", "null_holm",
                                                    "null_bh", NULL};
                if (!cJSON_IsString(f) || !in_enum(marks, f->valuestring))
                    return fault(err, file, p3,
                                 "must be one of null, band, p, rw, holm, bh, null_rw, null_holm, null_bh");
            } else {
                return fault(err, file, p3, "unknown key (lags, mark)");
            }
        }
        return CQB_OK;
    }
    }
    return CQB_OK;
}

static cqb_status check_object(const char *file, const char *path, const cJSON *o, const keydef *tab,
                               const char *const *extra, cqb_error *err)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, o)
    {
        char p2[512];
        snprintf(p2, sizeof p2, "%s%s%s", path, *path ? "." : "", v->string);
        if (extra && in_enum(extra, v->string)) continue;
        const keydef *k = find_key(tab, v->string);
        if (!k) return fault(err, file, p2, "unknown key");
        cqb_status st = check_value(file, p2, k, v, err);
        if (st != CQB_OK) return st;
    }
    return CQB_OK;
}

/* ---------------------------------------------------------- arguments -- */

static int push(study_analysis *a, const char *s)
{
    if (a->argc >= STUDY_MAX_ARGS - 1) return -1;
    a->argv[a->argc] = strdup(s);
    if (!a->argv[a->argc]) return -1;
    a->argc++;
    a->argv[a->argc] = NULL;
    return 0;
}

/* The text of a JSON value as a command-line argument. */
static void value_text(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, n, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v) && v->valuedouble == 0.0) {
        snprintf(buf, n, "0"); /* -0.0 too: a seed of -0 is 0 */
    } else if (cJSON_IsNumber(v)) {
        /* shortest round-trip text, so the subcommand reads the same double */
        for (int prec = 15; prec <= 17; ++prec) {
            snprintf(buf, n, "%.*g", prec, v->valuedouble);
            if (strtod(buf, NULL) == v->valuedouble) break;
        }
    } else if (cJSON_IsArray(v)) {
        buf[0] = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            char one[64];
            value_text(e, one, sizeof one);
            if (buf[0]) strncat(buf, ",", n - strlen(buf) - 1);
            strncat(buf, one, n - strlen(buf) - 1);
        }
    } else {
        buf[0] = 0;
    }
}

static int push_opt(study_analysis *a, const keydef *k, const cJSON *v)
{
    if (!k->flag) return 0;
    if (k->type == K_BOOL) return cJSON_IsTrue(v) ? push(a, k->flag) : 0;
    if (k->type == K_PAIRS && cJSON_IsArray(v)) {
        /* the list inline, as cq --pairs takes it */
        char *t = cJSON_PrintUnformatted(v);
        int r = !t || push(a, k->flag) || push(a, t);
        free(t);
        return r;
    }
    char buf[4096];
    value_text(v, buf, sizeof buf);
    return push(a, k->flag) || push(a, buf);
}

/* ---------------------------------------------- the subcommand's checks -- */

/* Options that come from the data set, and their study keys. */
static const struct {
    const char *flag, *key;
} DS_FLAGS[] = {{"--data", "file"},
                {"--transform", "transforms"},
                {"--from", "from"},
                {"--to", "to"},
                {"--sep", "sep"},
                {"--decimal", "decimal"},
                {"--date-format", "date_format"}};

/* The study key of a subcommand option ("--alpha-y" -> "alpha_y"), or NULL. */
static const char *key_of_flag(const keydef *tab, const char *flag, size_t n, int *from_ds)
{
    *from_ds = 0;
    for (const keydef *k = tab; k->key; ++k)
        if (k->flag && strlen(k->flag) == n && !strncmp(k->flag, flag, n)) return k->key;
    for (size_t i = 0; i < sizeof DS_FLAGS / sizeof DS_FLAGS[0]; ++i)
        if (strlen(DS_FLAGS[i].flag) == n && !strncmp(DS_FLAGS[i].flag, flag, n)) {
            *from_ds = 1;
            return DS_FLAGS[i].key;
        }
    if (n == 9 && !strncmp(flag, "--control", 9)) return "controls";
    if (n == 11 && !strncmp(flag, "--no-qtests", 11)) return "qtests";
    return NULL;
}

/* Runs analysis i's subcommand in check-only mode; a fault is reported at
 * the JSON path of the first option its message names, with the options
 * written as study keys. */
static cqb_status check_by_subcommand(study *s, size_t i, const cJSON *defaults, const char *file, cqb_error *err)
{
    study_analysis *a = &s->an[i];
    const int is_cq = !strcmp(a->kind, "cq"), is_bl = !strcmp(a->kind, "blocklen"), is_sim = !strcmp(a->kind, "simulate");
    const keydef *tab = is_cq ? CQ_KEYS : is_bl ? BL_KEYS : is_sim ? SIM_KEYS : W_KEYS;
    char *av[STUDY_MAX_ARGS + 1];
    for (int j = 0; j <= a->argc; ++j) av[j] = a->argv[j]; /* getopt may permute */
    int saved = cli_check_only;
    cli_check_only = 2;
    cli_check_msg[0] = 0;
    int rc = is_cq ? cmd_cq(a->argc, av) : is_bl ? cmd_blocklen(a->argc, av) : is_sim ? cmd_simulate(a->argc, av)
                                                                                  : cmd_wavelet(a->argc, av);
    cli_check_only = saved;
    if (rc == 0) return CQB_OK;
    /* the message, with --flags written as keys; the path of the first */
    char msg[CQB_ERROR_MAX], jpath[600];
    size_t m = 0;
    snprintf(jpath, sizeof jpath, "analyses[%zu]", i);
    int have_path = 0;
    const char *p = cli_check_msg;
    while (*p && m + 1 < sizeof msg) {
        if (p[0] == '-' && p[1] == '-' && ((p[2] >= 'a' && p[2] <= 'z') || (p[2] >= 'A' && p[2] <= 'Z')) &&
            (p == cli_check_msg || p[-1] == ' ' || p[-1] == '(' || p[-1] == '/' || p[-1] == '\'')) {
            size_t n = 2;
            while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') ||
                   p[n] == '-')
                ++n;
            int from_ds = 0;
            const char *key = key_of_flag(tab, p, n, &from_ds);
            if (key) {
                if (!have_path) {
                    have_path = 1;
                    if (from_ds) {
                        snprintf(jpath, sizeof jpath, "datasets.%s.%s", s->ds[a->dataset].id, key);
                    } else if (cJSON_GetObjectItemCaseSensitive(a->spec, key) || !defaults ||
                               !cJSON_GetObjectItemCaseSensitive(defaults, key)) {
                        snprintf(jpath, sizeof jpath, "analyses[%zu].%s", i, key);
                    } else {
                        snprintf(jpath, sizeof jpath, "defaults.%s (in analyses[%zu])", key, i);
                    }
                }
                const char *text = n == 11 && !strncmp(p, "--no-qtests", 11) ? "qtests: false" : key;
                size_t kl = strlen(text);
                if (m + kl + 1 >= sizeof msg) break;
                memcpy(msg + m, text, kl);
                m += kl;
                p += n;
                continue;
            }
        }
        msg[m++] = *p++;
    }
    msg[m] = 0;
    cqb_status st = rc == 2 ? CQB_EUSAGE : rc == 3 ? CQB_EDATA : rc == 4 ? CQB_EBACKEND : rc == 5 ? CQB_ENOMEM
                                                                                    : CQB_EINTERNAL;
    cqb_error_set(err, st, "%s: %s: %s", file, jpath, msg);
    return err->status;
}

/* ------------------------------------------------------------- loading -- */

static cqb_status check_columns(const char *file, const char *path, const cJSON *v, const cqb_frame *f,
                                const char *dsfile, cqb_error *err)
{
    if (cJSON_IsString(v)) {
        if (cqb_frame_find_col(f, v->valuestring) < 0)
            return fault(err, file, path, "no column '%s' in %s", v->valuestring, dsfile);
        return CQB_OK;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        char p2[512];
        snprintf(p2, sizeof p2, "%s[%d]", path, i++);
        cqb_status st = check_columns(file, p2, e, f, dsfile, err);
        if (st != CQB_OK) return st;
    }
    return CQB_OK;
}

cqb_status study_load(const char *path, const char *threads, const char *backend, study *s, cqb_error *err)
{
    memset(s, 0, sizeof *s);
    cqb_status st = CQB_OK;
    /* bounded (--max-input) and interruptible: a pipe or a device works */
    size_t got = 0;
    char *text = cli_read_text(path, &got, err);
    if (!text) return err ? err->status : CQB_EDATA;
    s->root = cJSON_ParseWithLength(text, got);
    if (!s->root) {
        const char *at = cJSON_GetErrorPtr();
        int line = 1, col = 1;
        for (const char *p = text; at && p < at && *p; ++p) {
            if (*p == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        free(text);
        /* an invalid study is a usage error (exit 2), as `run --help` says */
        return cqb_error_set(err, CQB_EUSAGE, "%s:%d:%d: not valid JSON", path, line, col);
    }
    free(text);
    s->path = strdup(path);
    char *dup = strdup(path);
    s->dir = dup ? strdup(dirname(dup)) : NULL;
    free(dup);
    if (!s->path || !s->dir) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    const cJSON *root = s->root;
    if (!cJSON_IsObject(root)) return fault(err, path, "(top level)", "must be an object");

    /* top level */
    static const char *const TOP[] = {"name", "title", "description", "datasets", "defaults", "analyses", NULL};
    const cJSON *v;
    cJSON_ArrayForEach(v, root)
    {
        if (!in_enum(TOP, v->string)) return fault(err, path, v->string, "unknown key (name, title, description, datasets, defaults, analyses)");
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (!cJSON_IsString(name) || !*name->valuestring) return fault(err, path, "name", "must be a non-empty string");
    s->name = name->valuestring;
    const char *tkeys[] = {"title", "description"};
    for (int i = 0; i < 2; ++i) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, tkeys[i]);
        if (t && !cJSON_IsString(t)) return fault(err, path, tkeys[i], "must be a string");
    }
    const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (defaults) {
        if (!cJSON_IsObject(defaults)) return fault(err, path, "defaults", "must be an object");
        if ((st = check_object(path, "defaults", defaults, DEFAULT_KEYS, NULL, err)) != CQB_OK) return st;
    }

    /* datasets */
    const cJSON *dss = cJSON_GetObjectItemCaseSensitive(root, "datasets");
    if (!cJSON_IsObject(dss) || cJSON_GetArraySize(dss) < 1)
        return fault(err, path, "datasets", "must be an object with at least one data set");
    s->nds = (size_t)cJSON_GetArraySize(dss);
    s->ds = calloc(s->nds, sizeof *s->ds);
    if (!s->ds) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    cqb_frame **frames = calloc(s->nds, sizeof *frames);
    if (!frames) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    size_t di = 0;
    cJSON_ArrayForEach(v, dss)
    {
        char p[512];
        snprintf(p, sizeof p, "datasets.%s", v->string);
        study_dataset *d = &s->ds[di];
        d->id = v->string;
        d->spec = v;
        if (!cJSON_IsObject(v)) {
            st = fault(err, path, p, "must be an object {\"file\", \"transforms\", \"from\", \"to\"}");
            goto out;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, v)
        {
            char p2[600];
            snprintf(p2, sizeof p2, "%s.%s", p, f->string);
            if (!strcmp(f->string, "file")) {
                if (!cJSON_IsString(f) || !*f->valuestring) {
                    st = fault(err, path, p2, "must be a file name");
                    goto out;
                }
            } else if (!strcmp(f->string, "sep") || !strcmp(f->string, "decimal") ||
                       !strcmp(f->string, "date_format")) {
                /* the reading options, checked by the CLI's own parser */
                cli_transforms rt;
                memset(&rt, 0, sizeof rt);
                int code = !strcmp(f->string, "sep") ? CLI_OPT_SEP
                           : !strcmp(f->string, "decimal") ? CLI_OPT_DECIMAL : CLI_OPT_DATE_FORMAT;
                if (!cJSON_IsString(f) || cli_input_option_check(&rt, code, f->valuestring) != 0) {
                    st = fault(err, path, p2, "%s",
                               code == CLI_OPT_SEP       ? "must be \",\", \";\", \"tab\" or \"|\""
                               : code == CLI_OPT_DECIMAL ? "must be \".\" or \",\""
                                                         : "must be auto or a date format such as \"MM/DD/YYYY\" "
                                                           "(docs/input.md)");
                    goto out;
                }
            } else if (!strcmp(f->string, "from") || !strcmp(f->string, "to")) {
                static const keydef dk = {"date", K_DATE, 0, 0, 0, NULL, NULL};
                if ((st = check_value(path, p2, &dk, f, err)) != CQB_OK) goto out;
            } else if (!strcmp(f->string, "transforms")) {
                if (!cJSON_IsObject(f)) {
                    st = fault(err, path, p2, "must be an object {\"COLUMN\": \"logdiff\", ...}");
                    goto out;
                }
                const cJSON *t;
                cJSON_ArrayForEach(t, f)
                {
                    char p3[700];
                    cqb_transform tr;
                    snprintf(p3, sizeof p3, "%s.%s", p2, t->string);
                    if (!cJSON_IsString(t) || cqb_transform_parse(t->valuestring, &tr) != CQB_OK) {
                        st = fault(err, path, p3, "must be logdiff, diff, pct or level");
                        goto out;
                    }
                }
            } else {
                st = fault(err, path, p2, "unknown key (file, transforms, from, to, sep, decimal, date_format)");
                goto out;
            }
        }
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(v, "file");
        if (!file) {
            st = fault(err, path, p, "needs \"file\"");
            goto out;
        }
        size_t n = strlen(s->dir) + strlen(file->valuestring) + 2;
        d->path = malloc(n);
        if (!d->path) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        if (file->valuestring[0] == '/') snprintf(d->path, n, "%s", file->valuestring);
        else snprintf(d->path, n, "%s/%s", s->dir, file->valuestring);
        cli_transforms ro;
        memset(&ro, 0, sizeof ro);
        for (int i = 0; i < 3; ++i) {
            static const char *const RK[] = {"sep", "decimal", "date_format"};
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(v, RK[i]);
            if (o) cli_input_option_check(&ro, CLI_OPT_SEP + i, o->valuestring);
        }
        if ((st = cqb_frame_read_limited(d->path, &ro.read, cli_max_input, &cli_interrupted, &frames[di], err)) !=
            CQB_OK)
            goto out;
        snprintf(d->sha256, sizeof d->sha256, "%s", cqb_frame_sha256(frames[di]));
        const cJSON *trs = cJSON_GetObjectItemCaseSensitive(v, "transforms");
        const cJSON *t;
        cJSON_ArrayForEach(t, trs)
        {
            if (cqb_frame_find_col(frames[di], t->string) < 0) {
                char p3[700];
                snprintf(p3, sizeof p3, "%s.transforms.%s", p, t->string);
                st = fault(err, path, p3, "no column '%s' in %s", t->string, d->path);
                goto out;
            }
        }
        ++di;
    }

    /* analyses */
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(root, "analyses");
    if (!cJSON_IsArray(ans) || cJSON_GetArraySize(ans) < 1) {
        st = fault(err, path, "analyses", "must be a non-empty array");
        goto out;
    }
    s->nan = (size_t)cJSON_GetArraySize(ans);
    s->an = calloc(s->nan, sizeof *s->an);
    if (!s->an) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
        goto out;
    }
    regex_t namere;
    regcomp(&namere, "^[A-Za-z0-9][A-Za-z0-9_.-]*$", REG_EXTENDED | REG_NOSUB);
    size_t ai = 0;
    cJSON_ArrayForEach(v, ans)
    {
        char p[64];
        snprintf(p, sizeof p, "analyses[%zu]", ai);
        study_analysis *a = &s->an[ai];
        a->spec = v;
        if (!cJSON_IsObject(v)) {
            st = fault(err, path, p, "must be an object");
            break;
        }
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
        const cJSON *dsn = cJSON_GetObjectItemCaseSensitive(v, "dataset");
        char p2[128];
        snprintf(p2, sizeof p2, "%s.name", p);
        if (!cJSON_IsString(nm) || regexec(&namere, nm->valuestring, 0, NULL, 0)) {
            st = fault(err, path, p2, "must be a name of letters, digits, '_', '.', '-' (it names the output files)");
            break;
        }
        for (size_t j = 0; j < ai; ++j) {
            if (!strcmp(s->an[j].name, nm->valuestring)) {
                st = fault(err, path, p2, "duplicates the name of analyses[%zu]", j);
                break;
            }
        }
        if (st != CQB_OK) break;
        a->name = nm->valuestring;
        snprintf(p2, sizeof p2, "%s.kind", p);
        if (!cJSON_IsString(kind) || !in_enum(KINDS, kind->valuestring)) {
            st = fault(err, path, p2, "must be one of %s", KIND_NAMES_TEXT);
            break;
        }
        a->kind = kind->valuestring;
        snprintf(p2, sizeof p2, "%s.dataset", p);
        a->dataset = -1;
        const int is_sim = !strcmp(a->kind, "simulate");
        if (is_sim && dsn) {
            st = fault(err, path, p2, "a simulate analysis uses no data set");
            break;
        }
        if (is_sim) a->dataset = 0; /* only for the bookkeeping below; no data are read */
        else if (!cJSON_IsString(dsn)) {
            if (!dsn && s->nds == 1) a->dataset = 0;
            else {
                st = fault(err, path, p2, "must name one of the datasets");
                break;
            }
        } else {
            for (size_t j = 0; j < s->nds; ++j)
                if (!strcmp(s->ds[j].id, dsn->valuestring)) a->dataset = (int)j;
            if (a->dataset < 0) {
                st = fault(err, path, p2, "no dataset '%s'", dsn->valuestring);
                break;
            }
        }
        const int is_cq = !strcmp(a->kind, "cq"), is_bl = !strcmp(a->kind, "blocklen");
        const int is_wav = !is_cq && !is_bl && !is_sim, is_local = !strcmp(a->kind, "wlmc") || !strcmp(a->kind, "wlmcc");
        const keydef *tab = is_cq ? CQ_KEYS : is_bl ? BL_KEYS : is_sim ? SIM_KEYS : W_KEYS;
        static const char *const COMMON[] = {"name", "kind", "dataset", NULL};
        if ((st = check_object(path, p, v, tab, COMMON, err)) != CQB_OK) break;
        const cqb_frame *fr = frames[a->dataset];
        const char *dsfile = s->ds[a->dataset].path;
        /* required keys and column names */
        /* a cq analysis names y and x, or series and pairs (cq --pairs) */
        const int has_series = cJSON_GetObjectItemCaseSensitive(v, "series") != NULL;
        if (is_cq && (has_series || cJSON_GetObjectItemCaseSensitive(v, "pairs"))) {
            const char *both = cJSON_GetObjectItemCaseSensitive(v, "y") ? "y" : cJSON_GetObjectItemCaseSensitive(v, "x") ? "x" : NULL;
            snprintf(p2, sizeof p2, "%s.%s", p, both ? both : has_series ? "pairs" : "series");
            if (both) {
                st = fault(err, path, p2, "give series and pairs, or y and x, not both");
                break;
            }
        }
        const char *const need_cq[] = {"y", "x", NULL}, *const need_pairs[] = {"series", "pairs", NULL};
        const char *const need_bl[] = {"cols", NULL};
        const char *const need_loc[] = {"cols", "M", NULL}, *const need_none[] = {NULL};
        const int want_pairs = is_cq && (has_series || cJSON_GetObjectItemCaseSensitive(v, "pairs"));
        for (const char *const *k = want_pairs ? need_pairs : is_cq ? need_cq : is_local ? need_loc : is_sim ? need_none : need_bl; *k; ++k) {
            snprintf(p2, sizeof p2, "%s.%s", p, *k);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, *k);
            if (!c) {
                st = fault(err, path, p2, "is required");
                break;
            }
            if (cJSON_IsNumber(c)) continue; /* M */
            if (!strcmp(*k, "pairs")) { /* names: against "series" (cq --pairs checks them) */
                const cJSON *pe;
                cJSON_ArrayForEach(pe, c)
                {
                    int found[2] = {0, 0};
                    const cJSON *sn;
                    cJSON_ArrayForEach(sn, cJSON_GetObjectItemCaseSensitive(v, "series"))
                        for (int q = 0; q < 2; ++q)
                            found[q] |= cJSON_IsString(sn) && !strcmp(sn->valuestring, cJSON_GetArrayItem(pe, q)->valuestring);
                    if (!found[0] || !found[1]) {
                        st = fault(err, path, p2, "pair [\"%s\", \"%s\"]: both must be in series",
                                   cJSON_GetArrayItem(pe, 0)->valuestring, cJSON_GetArrayItem(pe, 1)->valuestring);
                        break;
                    }
                }
                if (st != CQB_OK) break;
                continue;
            }
            if ((st = check_columns(path, p2, c, fr, dsfile, err)) != CQB_OK) break;
        }
        if (st != CQB_OK) break;
        if (is_wav) {
            const cJSON *cl = cJSON_GetObjectItemCaseSensitive(v, "cols");
            int nc = cJSON_GetArraySize(cl);
            snprintf(p2, sizeof p2, "%s.cols", p);
            if (!strcmp(a->kind, "modwt") && nc != 1) {
                st = fault(err, path, p2, "modwt takes one series");
                break;
            }
            if (strcmp(a->kind, "modwt") && nc < 2) {
                st = fault(err, path, p2, "needs at least 2 series");
                break;
            }
            const cJSON *nl = cJSON_GetObjectItemCaseSensitive(v, "null");
            snprintf(p2, sizeof p2, "%s.null", p);
            if (is_local && cJSON_IsString(nl) && !strcmp(nl->valuestring, "joint")) {
                st = fault(err, path, p2, "joint-bootstrap intervals are for wmc and wmcc only");
                break;
            }
        }
        const cJSON *ctl = cJSON_GetObjectItemCaseSensitive(v, "controls");
        int ci = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, ctl)
        {
            char p3[160];
            snprintf(p3, sizeof p3, "%s.controls[%d].column", p, ci++);
            if ((st = check_columns(path, p3, cJSON_GetObjectItemCaseSensitive(c, "column"), fr, dsfile, err)) != CQB_OK)
                break;
        }
        if (st != CQB_OK) break;
        if (is_cq && cJSON_GetObjectItemCaseSensitive(v, "alpha") &&
            (cJSON_GetObjectItemCaseSensitive(v, "alpha_y") || cJSON_GetObjectItemCaseSensitive(v, "alpha_x"))) {
            st = fault(err, path, p, "give alpha or alpha_y/alpha_x, not both");
            break;
        }

        /* argv: subcommand, data and dataset settings, defaults, then the
         * analysis's own keys (which override the defaults) */
        int bad = push(a, a->kind);
        if (!is_sim) bad |= push(a, "--data") || push(a, dsfile);
        const cJSON *dspec = is_sim ? NULL : s->ds[a->dataset].spec;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(dspec, "transforms"))
        {
            char buf[512];
            snprintf(buf, sizeof buf, "%s=%s", t->string, t->valuestring);
            bad |= push(a, "--transform") || push(a, buf);
        }
        const char *rk[] = {"from", "to", "sep", "decimal", "date_format"};
        const char *rf[] = {"--from", "--to", "--sep", "--decimal", "--date-format"};
        for (int i = 0; i < 5; ++i) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(dspec, rk[i]);
            if (d) bad |= push(a, rf[i]) || push(a, d->valuestring);
        }
        if (!is_bl) {
            for (const keydef *k = DEFAULT_KEYS; k->key; ++k) {
                if (cJSON_GetObjectItemCaseSensitive(v, k->key)) continue;
                /* the wavelet commands take seed, boot, gamma, threads, level */
                if (is_wav && (!find_key(W_KEYS, k->key) || !strcmp(a->kind, "modwt"))) continue;
                if (is_sim && !find_key(SIM_KEYS, k->key)) continue;
                if (!strcmp(k->key, "threads") && threads) continue;
                if (!strcmp(k->key, "backend") && backend) continue;
                const cJSON *dv = defaults ? cJSON_GetObjectItemCaseSensitive(defaults, k->key) : NULL;
                if (dv) bad |= push_opt(a, k, dv);
            }
            if (threads && !cJSON_GetObjectItemCaseSensitive(v, "threads") && strcmp(a->kind, "modwt"))
                bad |= push(a, "--threads") || push(a, threads);
            if (backend && (is_cq || (is_wav && strcmp(a->kind, "modwt"))) && !cJSON_GetObjectItemCaseSensitive(v, "backend"))
                bad |= push(a, "--backend") || push(a, backend);
            if (is_sim) {
                const cJSON *q = cJSON_GetObjectItemCaseSensitive(v, "qtests");
                if (q && cJSON_IsFalse(q)) bad |= push(a, "--no-qtests");
            }
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, v)
        {
            const keydef *k = find_key(tab, f->string);
            if (k) bad |= push_opt(a, k, f);
        }
        cJSON_ArrayForEach(c, ctl)
        {
            char buf[512], lv[64] = "0.5", lg[32] = "";
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "level");
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(c, "lag");
            if (l) value_text(l, lv, sizeof lv);
            if (g) snprintf(lg, sizeof lg, ":%d", (int)g->valuedouble);
            snprintf(buf, sizeof buf, "%s:%s%s", cJSON_GetObjectItemCaseSensitive(c, "column")->valuestring, lv, lg);
            bad |= push(a, "--control") || push(a, buf);
        }
        if (is_cq) {
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(v, "qtests");
            if (q && cJSON_IsFalse(q)) bad |= push(a, "--no-qtests");
        }
        if (bad) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            break;
        }
        /* the hash of everything that determines the result */
        cqb_sha256_ctx hc;
        cqb_sha256_init(&hc);
        cqb_sha256_update(&hc, CQB_VERSION, strlen(CQB_VERSION));
        cqb_sha256_update(&hc, s->ds[a->dataset].sha256, 64);
        for (int i = 0; i < a->argc; ++i) {
            /* where and how fast it runs does not change the result: the
             * thread count, the backend and progress are left out, so that
             * --resume reuses an analysis rerun with other --threads */
            if (i >= 3 && (!strcmp(a->argv[i], "--threads") || !strcmp(a->argv[i], "--backend") ||
                           !strcmp(a->argv[i], "--progress"))) {
                ++i;
                continue;
            }
            if (i >= 3 && !strcmp(a->argv[i], "--quiet")) continue;
            if (i >= 3 || i == 0) cqb_sha256_update(&hc, a->argv[i], strlen(a->argv[i]) + 1);
        }
        unsigned char dg[32];
        cqb_sha256_final(&hc, dg);
        cqb_sha256_hex(dg, a->hash);
        ++ai;
    }
    regfree(&namere);
    /* Every analysis through its subcommand's own checks (options, then the
     * data: rows for the lags, levels, windows, backend), before any runs:
     * the one definition of what is valid (cli_check_only). */
    for (size_t i = 0; st == CQB_OK && i < ai; ++i) st = check_by_subcommand(s, i, defaults, path, err);
out:
    for (size_t i = 0; i < s->nds; ++i) cqb_frame_free(frames[i]);
    free(frames);
    return st;
}

void study_free(study *s)
{
    for (size_t i = 0; s->ds && i < s->nds; ++i) free(s->ds[i].path);
    for (size_t i = 0; s->an && i < s->nan; ++i)
        for (int j = 0; j < s->an[i].argc; ++j) free(s->an[i].argv[j]);
    free(s->ds);
    free(s->an);
    free(s->path);
    free(s->dir);
    cJSON_Delete(s->root);
    memset(s, 0, sizeof *s);
}
