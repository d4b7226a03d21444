/* frame.c — CSV reader (RFC 4180 quoting, BOM, CRLF) into a frame, and the
 * selection of an analysis matrix from it. Semantics: cqboot/frame.h. */
#include "cqboot/frame.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest cell text kept for "non-numeric value '...'" messages. */
#define BAD_TEXT_MAX 60
/* Longest list of names in an "unknown column" message. */
#define AVAILABLE_MAX 280

typedef struct bad_cell {
    size_t row, col; /* data row, data column */
    size_t off;      /* text in the pool */
} bad_cell;

struct cqb_frame {
    char *path;
    char *pool; /* every string, NUL-terminated, referenced by offset */
    size_t pool_len, pool_cap;
    size_t index_name_off;
    size_t ncols;     /* data columns (index column excluded) */
    size_t *name_off; /* ncols */
    size_t nrows, rows_cap;
    size_t *label_off; /* rows_cap */
    size_t *lines;     /* rows_cap */
    int32_t *keys;     /* nrows, date frames only */
    double *val;       /* row-major: val[i*ncols + j] */
    unsigned char *st; /* cqb_cell, same layout */
    bad_cell *bad;     /* in (row, col) order */
    size_t nbad, bad_cap;
    cqb_date_kind date_kind;
    char sep, decimal;  /* the dialect read */
    char notes[512];    /* what the reader decided for the user ("" if nothing) */
    size_t nondate_row; /* index frames: the row that is not a date (like row 0) */
    char sha[CQB_SHA256_HEX_SIZE];
};

/* ------------------------------------------------------------------------- */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------- */

/* Returns p grown to hold need elements (updating *cap), p itself when it is
 * big enough, or NULL (p untouched) when memory runs out. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap && p) return p;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return NULL;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem) return NULL;
    void *q = realloc(p, nc * elem);
    if (!q) return NULL;
    *cap = nc;
    return q;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Trims spaces and tabs in place; returns the new start. */
static char *trim(char *s)
{
    while (is_blank(*s)) ++s;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1])) s[--n] = '\0';
    return s;
}

/* Appends s (at most max bytes, cut on a UTF-8 boundary, "..." added when cut)
 * to the pool; *off receives its offset. Returns 0, or -1 out of memory. */
static int pool_add(cqb_frame *f, const char *s, size_t max, size_t *off)
{
    size_t n = strlen(s);
    int cut = 0;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0u) == 0x80u) --n;
        cut = 1;
    }
    size_t need = f->pool_len + n + (cut ? 3 : 0) + 1;
    char *p = grow(f->pool, &f->pool_cap, need, 1);
    if (!p) return -1;
    f->pool = p;
    *off = f->pool_len;
    memcpy(p + f->pool_len, s, n);
    if (cut) memcpy(p + f->pool_len + n, "...", 3);
    p[need - 1] = '\0';
    f->pool_len = need;
    return 0;
}

static const char *pool_str(const cqb_frame *f, size_t off) { return f->pool + off; }

static const char *col_name(const cqb_frame *f, size_t j) { return pool_str(f, f->name_off[j]); }

static const char *row_label(const cqb_frame *f, size_t i) { return pool_str(f, f->label_off[i]); }

/* ------------------------------------------------------------------------- */
/* Dates                                                                      */
/* ------------------------------------------------------------------------- */

/* Reads a run of 1..maxd digits; returns the count (0 if none or too many). */
static int digit_run(const char **ps, int maxd, int *v)
{
    const char *s = *ps;
    int n = 0, x = 0;
    while (*s >= '0' && *s <= '9') {
        if (n == maxd) return 0;
        x = x * 10 + (*s - '0');
        ++s;
        ++n;
    }
    *ps = s;
    *v = x;
    return n;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dim[m - 1];
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* Reads a month name (Jan or January, any case); 0 if none. */
static int month_name(const char **ps, int *m)
{
    static const char *const NAMES[12] = {"january", "february", "march",     "april",   "may",      "june",
                                          "july",    "august",   "september", "october", "november", "december"};
    const char *s = *ps;
    size_t n = 0;
    while (lower((unsigned char)s[n]) >= 'a' && lower((unsigned char)s[n]) <= 'z') ++n;
    if (n < 3) return 0;
    for (int i = 0; i < 12; ++i) {
        size_t len = strlen(NAMES[i]);
        if (n != 3 && n != len) continue;
        size_t j = 0;
        while (j < n && lower((unsigned char)s[j]) == NAMES[i][j]) ++j;
        if (j == n) {
            *m = i + 1;
            *ps = s + n;
            return 1;
        }
    }
    return 0;
}

static const struct {
    cqb_date_kind kind;
    const char *name;
} FORMATS[] = {{CQB_DATE_YMD, "YYYY-MM-DD"}, {CQB_DATE_YM, "YYYY-MM"},    {CQB_DATE_Y_M_D, "YYYY/MM/DD"},
               {CQB_DATE_Y_M, "YYYY/MM"},    {CQB_DATE_M_Y, "MM/YYYY"},   {CQB_DATE_YMON, "YYYYMmm"},
               {CQB_DATE_YQ, "YYYYQq"},      {CQB_DATE_MON_Y, "Mon YYYY"}, {CQB_DATE_DMY, "DD/MM/YYYY"},
               {CQB_DATE_MDY, "MM/DD/YYYY"}, {CQB_DATE_Y, "YYYY"}};
#define NFORMATS (sizeof FORMATS / sizeof FORMATS[0])

const char *cqb_date_format_name(cqb_date_kind k)
{
    for (size_t i = 0; i < NFORMATS; ++i)
        if (FORMATS[i].kind == k) return FORMATS[i].name;
    return "index";
}

cqb_status cqb_date_format_parse(const char *s, cqb_date_kind *k)
{
    if (!s || !k) return CQB_EUSAGE;
    if (!strcmp(s, "auto")) {
        *k = CQB_DATE_NONE;
        return CQB_OK;
    }
    for (size_t i = 0; i < NFORMATS; ++i) {
        const char *a = s, *b = FORMATS[i].name;
        while (*a && *b && lower((unsigned char)*a) == lower((unsigned char)*b)) ++a, ++b;
        if (!*a && !*b) {
            *k = FORMATS[i].kind;
            return CQB_OK;
        }
    }
    return CQB_EUSAGE;
}

/* Reads exactly 4 digits (a year). */
static int year4(const char **ps, int *y) { return digit_run(ps, 4, y) == 4; }

/* Reads 1 or 2 digits. */
static int num12(const char **ps, int *v) { return digit_run(ps, 2, v) >= 1; }

static int expect(const char **ps, char c)
{
    if (**ps != c) return 0;
    ++*ps;
    return 1;
}

cqb_status cqb_parse_date_as(const char *s, cqb_date_kind k, int32_t *key)
{
    if (!s || !key) return CQB_EUSAGE;
    while (is_blank(*s)) ++s;
    int y = 0, m = 0, d = 1, q = 0, ok = 0;
    switch (k) {
    case CQB_DATE_YMD: ok = year4(&s, &y) && expect(&s, '-') && num12(&s, &m) && expect(&s, '-') && num12(&s, &d); break;
    case CQB_DATE_YM: ok = year4(&s, &y) && expect(&s, '-') && num12(&s, &m); break;
    case CQB_DATE_Y_M_D: ok = year4(&s, &y) && expect(&s, '/') && num12(&s, &m) && expect(&s, '/') && num12(&s, &d); break;
    case CQB_DATE_Y_M: ok = year4(&s, &y) && expect(&s, '/') && num12(&s, &m); break;
    case CQB_DATE_M_Y: ok = num12(&s, &m) && expect(&s, '/') && year4(&s, &y); break;
    case CQB_DATE_DMY: ok = num12(&s, &d) && expect(&s, '/') && num12(&s, &m) && expect(&s, '/') && year4(&s, &y); break;
    case CQB_DATE_MDY: ok = num12(&s, &m) && expect(&s, '/') && num12(&s, &d) && expect(&s, '/') && year4(&s, &y); break;
    case CQB_DATE_YMON: ok = year4(&s, &y) && (expect(&s, 'M') || expect(&s, 'm')) && num12(&s, &m); break;
    case CQB_DATE_YQ:
        ok = year4(&s, &y) && (expect(&s, 'Q') || expect(&s, 'q')) && digit_run(&s, 1, &q) == 1 && q >= 1 && q <= 4;
        m = 3 * q - 2;
        break;
    case CQB_DATE_MON_Y:
        ok = month_name(&s, &m) && (is_blank(*s) || *s == '-');
        while (ok && (is_blank(*s) || *s == '-')) ++s;
        ok = ok && year4(&s, &y);
        break;
    case CQB_DATE_Y:
        ok = year4(&s, &y);
        m = 1;
        break;
    case CQB_DATE_NONE: break;
    }
    if (!ok) return CQB_EUSAGE;
    while (is_blank(*s)) ++s;
    if (*s != '\0') return CQB_EUSAGE;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return CQB_EUSAGE;
    *key = (int32_t)y * 10000 + (int32_t)m * 100 + (int32_t)d;
    return CQB_OK;
}

cqb_status cqb_parse_date_kind(const char *s, int32_t *key, cqb_date_kind *kind)
{
    if (!s || !key) return CQB_EUSAGE;
    /* DD/MM/YYYY before MM/DD/YYYY: a bound such as 01/03/1996 is read as
     * before; a frame never guesses (see detect_dates) */
    for (size_t i = 0; i < NFORMATS; ++i) {
        if (cqb_parse_date_as(s, FORMATS[i].kind, key) == CQB_OK) {
            if (kind) *kind = FORMATS[i].kind;
            return CQB_OK;
        }
    }
    return CQB_EUSAGE;
}

int32_t cqb_date_period_end(int32_t key, cqb_date_kind k)
{
    int32_t y = key / 10000, m = key / 100 % 100;
    switch (k) {
    case CQB_DATE_YM:
    case CQB_DATE_Y_M:
    case CQB_DATE_M_Y:
    case CQB_DATE_YMON:
    case CQB_DATE_MON_Y: return y * 10000 + m * 100 + 31;
    case CQB_DATE_YQ: return y * 10000 + (m + 2) * 100 + 31;
    case CQB_DATE_Y: return y * 10000 + 1231;
    default: return key;
    }
}

cqb_status cqb_parse_date(const char *s, int32_t *key)
{
    return cqb_parse_date_kind(s, key, NULL);
}

/* ------------------------------------------------------------------------- */
/* CSV records                                                                */
/* ------------------------------------------------------------------------- */

typedef struct parser {
    const char *path;
    char sep;
    const char *p, *end;
    size_t line; /* line of *p, 1-based */
    char *buf;   /* unescaped fields, each NUL-terminated */
    size_t len, cap;
    size_t *off; /* field offsets into buf */
    size_t nf, fcap;
} parser;

static int buf_put(parser *ps, char c)
{
    if (ps->len == ps->cap) {
        char *q = grow(ps->buf, &ps->cap, ps->len + 1, 1);
        if (!q) return -1;
        ps->buf = q;
    }
    ps->buf[ps->len++] = c;
    return 0;
}

static int field_begin(parser *ps)
{
    size_t *q = grow(ps->off, &ps->fcap, ps->nf + 1, sizeof *ps->off);
    if (!q) return -1;
    ps->off = q;
    ps->off[ps->nf++] = ps->len;
    return 0;
}

static char *field(parser *ps, size_t i) { return ps->buf + ps->off[i]; }

/* Parses the next record. *got = 0 at the end of the input; *line = the line
 * where the record starts. */
static cqb_status next_record(parser *ps, int *got, size_t *line, cqb_error *err)
{
    ps->len = 0;
    ps->nf = 0;
    *got = 0;
    *line = ps->line;
    if (ps->p == ps->end) return CQB_OK;
    *got = 1;
    for (;;) {
        if (field_begin(ps)) goto nomem;
        const char *q = ps->p;
        while (q < ps->end && is_blank(*q) && *q != ps->sep) ++q;
        if (q < ps->end && *q == '"') {
            size_t open_line = ps->line;
            ps->p = q + 1;
            for (;;) {
                if (ps->p == ps->end)
                    return cqb_error_set(err, CQB_EDATA, "%s:%zu: unterminated quoted field",
                                         ps->path, open_line);
                char c = *ps->p;
                if (c == '"') {
                    if (ps->p + 1 < ps->end && ps->p[1] == '"') {
                        if (buf_put(ps, '"')) goto nomem;
                        ps->p += 2;
                        continue;
                    }
                    ps->p++;
                    break;
                }
                if (c == '\0')
                    return cqb_error_set(err, CQB_EDATA,
                                         "%s:%zu: NUL byte in the file (not a text CSV file?)",
                                         ps->path, ps->line);
                if (c == '\n' || (c == '\r' && !(ps->p + 1 < ps->end && ps->p[1] == '\n')))
                    ps->line++;
                if (buf_put(ps, c)) goto nomem;
                ps->p++;
            }
            while (ps->p < ps->end && is_blank(*ps->p) && *ps->p != ps->sep) ps->p++;
            if (ps->p < ps->end && *ps->p != ps->sep && *ps->p != '\n' && *ps->p != '\r') {
                char c = *ps->p;
                if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                    return cqb_error_set(err, CQB_EDATA,
                                         "%s:%zu: unexpected character '%c' after a closing quote",
                                         ps->path, ps->line, c);
                return cqb_error_set(err, CQB_EDATA,
                                     "%s:%zu: unexpected byte 0x%02x after a closing quote",
                                     ps->path, ps->line, (unsigned)(unsigned char)c);
            }
        } else {
            while (ps->p < ps->end && *ps->p != ps->sep && *ps->p != '\n' && *ps->p != '\r') {
                if (*ps->p == '\0')
                    return cqb_error_set(err, CQB_EDATA,
                                         "%s:%zu: NUL byte in the file (not a text CSV file?)",
                                         ps->path, ps->line);
                if (buf_put(ps, *ps->p)) goto nomem;
                ps->p++;
            }
        }
        if (buf_put(ps, '\0')) goto nomem;
        if (ps->p == ps->end) return CQB_OK;
        if (*ps->p == ps->sep) {
            ps->p++;
            continue;
        }
        /* end of line: \n, \r\n or \r */
        if (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n') ps->p++;
        ps->p++;
        ps->line++;
        return CQB_OK;
    }
nomem:
    return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", ps->path);
}

/* ------------------------------------------------------------------------- */
/* Frame building                                                             */
/* ------------------------------------------------------------------------- */

static cqb_cell parse_cell(char *s, char decimal, double *v)
{
    s = trim(s);
    if (decimal == ',') {
        /* 1,5 -> 1.5 in place; a '.' as well (thousands?) is not a number */
        char *c = strchr(s, ',');
        if (c) {
            if (strchr(s, '.') || strchr(c + 1, ',')) return CQB_CELL_BAD;
            *c = '.';
        } else if (strchr(s, '.')) {
            return CQB_CELL_BAD;
        }
    }
    if (*s == '\0' || strcmp(s, "NA") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0 ||
        strcmp(s, ".") == 0)
        return CQB_CELL_MISSING;
    char *e;
    double d = strtod(s, &e);
    if (e == s || *e != '\0') return CQB_CELL_BAD;
    if (!isfinite(d)) return CQB_CELL_NONFINITE;
    *v = d;
    return CQB_CELL_OK;
}

/* Makes room for one more row. Returns 0 or -1 (out of memory). */
static int reserve_row(cqb_frame *f)
{
    size_t need = f->nrows + 1;
    if (need <= f->rows_cap) return 0;
    size_t nc = f->rows_cap ? f->rows_cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return -1;
        nc *= 2;
    }
    if (f->ncols > 0 && nc > SIZE_MAX / sizeof(double) / f->ncols) return -1;
    size_t *lo = realloc(f->label_off, nc * sizeof *lo);
    if (!lo) return -1;
    f->label_off = lo;
    size_t *li = realloc(f->lines, nc * sizeof *li);
    if (!li) return -1;
    f->lines = li;
    double *v = realloc(f->val, nc * f->ncols * sizeof *v);
    if (!v) return -1;
    f->val = v;
    unsigned char *st = realloc(f->st, nc * f->ncols);
    if (!st) return -1;
    f->st = st;
    f->rows_cap = nc;
    return 0;
}

static void add_note(cqb_frame *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void add_note(cqb_frame *f, const char *fmt, ...)
{
    size_t n = strlen(f->notes);
    if (n + 2 >= sizeof f->notes) return;
    if (n) f->notes[n++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->notes + n, sizeof f->notes - n, fmt, ap);
    va_end(ap);
}

#define DATE_FORMS "YYYY-MM-DD, YYYY-MM, YYYY/MM/DD, YYYY/MM, MM/YYYY, YYYYMmm, YYYYQq, Mon YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY"

/* Decides whether the first column holds dates, and checks their order.
 * forced: the --date-format (CQB_DATE_NONE: detect). Never guesses between
 * DD/MM/YYYY and MM/DD/YYYY: a column that fits both is refused. */
static cqb_status detect_dates(cqb_frame *f, cqb_date_kind forced, cqb_error *err)
{
    int32_t key;
    f->date_kind = CQB_DATE_NONE;
    f->nondate_row = 0;
    cqb_date_kind k0 = CQB_DATE_NONE;
    if (forced != CQB_DATE_NONE) {
        for (size_t i = 0; i < f->nrows; ++i)
            if (cqb_parse_date_as(row_label(f, i), forced, &key) != CQB_OK)
                return cqb_error_set(err, CQB_EDATA,
                                     "%s:%zu: '%s' in the first column is not a %s date (--date-format)",
                                     f->path, f->lines[i], row_label(f, i), cqb_date_format_name(forced));
        k0 = forced;
    } else {
        /* the formats every row fits */
        size_t nfit = 0, first_fail = 0;
        for (size_t j = 0; j < NFORMATS; ++j) {
            size_t i = 0;
            /* a column of four-digit numbers is a column of years only when
             * they strictly increase: four-digit identifiers in another
             * order stay an index, as before years were read */
            int32_t prev = INT32_MIN;
            while (i < f->nrows && cqb_parse_date_as(row_label(f, i), FORMATS[j].kind, &key) == CQB_OK &&
                   (FORMATS[j].kind != CQB_DATE_Y || key > prev)) {
                prev = key;
                ++i;
            }
            if (i == f->nrows) {
                nfit++;
                k0 = FORMATS[j].kind;
            } else if (i > 0 && first_fail == 0) {
                first_fail = i; /* the first row that is not a date of row 0's format */
            }
        }
        if (nfit > 1)
            return cqb_error_set(err, CQB_EDATA,
                                 "%s: the dates of the first column '%s' fit both DD/MM/YYYY and MM/DD/YYYY "
                                 "(line %zu '%s' to line %zu '%s'); cqboot does not guess: give --date-format "
                                 "DD/MM/YYYY or --date-format MM/DD/YYYY",
                                 f->path, pool_str(f, f->index_name_off), f->lines[0], row_label(f, 0),
                                 f->lines[f->nrows - 1], row_label(f, f->nrows - 1));
        if (nfit == 0) {
            f->nondate_row = first_fail;
            add_note(f,
                     "%s: the first column '%s' is taken as an index, not dates (line %zu holds '%.40s'); rows "
                     "keep file order (--date-format reads dates)",
                     f->path, pool_str(f, f->index_name_off), f->lines[first_fail], row_label(f, first_fail));
            return CQB_OK;
        }
    }
    f->keys = malloc(f->nrows * sizeof *f->keys);
    if (!f->keys) return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", f->path);
    for (size_t i = 0; i < f->nrows; ++i) {
        cqb_parse_date_as(row_label(f, i), k0, &f->keys[i]);
        if (i == 0) continue;
        if (f->keys[i] == f->keys[i - 1])
            return cqb_error_set(err, CQB_EDATA, "%s:%zu: duplicate date '%s' (first at line %zu)",
                                 f->path, f->lines[i], row_label(f, i), f->lines[i - 1]);
        if (f->keys[i] < f->keys[i - 1])
            return cqb_error_set(err, CQB_EDATA,
                                 "%s:%zu: date '%s' is before the previous date '%s' (line %zu); "
                                 "rows must be in increasing date order",
                                 f->path, f->lines[i], row_label(f, i), row_label(f, i - 1),
                                 f->lines[i - 1]);
    }
    f->date_kind = k0;
    return CQB_OK;
}

/* A header of one field that holds another separator: name the dialect. */
static cqb_status other_separator(cqb_frame *f, parser *ps, size_t line, cqb_error *err)
{
    static const struct {
        char c;
        const char *what, *opt;
    } SEPS[] = {{';', "semicolons", "--sep ';'"}, {'\t', "tabs", "--sep tab"}, {'|', "'|' characters", "--sep '|'"},
                {',', "commas", "--sep ,"}};
    const char *h = field(ps, 0);
    for (size_t i = 0; i < sizeof SEPS / sizeof SEPS[0]; ++i) {
        if (SEPS[i].c == ps->sep || !strchr(h, SEPS[i].c)) continue;
        return cqb_error_set(err, CQB_EDATA,
                             "%s:%zu: the header has no '%s' separator but has %s: read the file with %s%s",
                             f->path, line, ps->sep == '\t' ? "tab" : ps->sep == ';' ? ";" : ps->sep == '|' ? "|" : ",",
                             SEPS[i].what,
                             SEPS[i].opt,
                             SEPS[i].c == ';' ? " (and --decimal , if its numbers have decimal commas)" : "");
    }
    return CQB_OK;
}

static cqb_status read_header(cqb_frame *f, parser *ps, size_t line, size_t *nnamed,
                              cqb_error *err)
{
    size_t named = 0;
    if (ps->nf == 1) {
        cqb_status st = other_separator(f, ps, line, err);
        if (st != CQB_OK) return st;
    }
    for (size_t i = 0; i < ps->nf; ++i) {
        char *s = trim(field(ps, i));
        if (*s) named = i + 1;
    }
    if (named < 2)
        return cqb_error_set(err, CQB_EDATA, "%s:%zu: header has no data columns", f->path, line);
    f->ncols = named - 1;
    f->name_off = malloc(f->ncols * sizeof *f->name_off);
    if (!f->name_off) goto nomem;
    if (pool_add(f, trim(field(ps, 0)), SIZE_MAX, &f->index_name_off)) goto nomem;
    for (size_t j = 0; j < f->ncols; ++j)
        if (pool_add(f, trim(field(ps, j + 1)), SIZE_MAX, &f->name_off[j])) goto nomem;
    /* duplicate names, the index column's included */
    for (size_t a = 0; a < named; ++a) {
        const char *na = a == 0 ? pool_str(f, f->index_name_off) : col_name(f, a - 1);
        if (!*na) continue;
        for (size_t b = a + 1; b < named; ++b) {
            if (strcmp(na, col_name(f, b - 1)) == 0)
                return cqb_error_set(err, CQB_EDATA,
                                     "%s:%zu: duplicate column name '%s' (cols %zu and %zu)",
                                     f->path, line, na, a + 1, b + 1);
        }
    }
    /* a header of numbers: the file may have none */
    size_t numeric = 0;
    for (size_t j = 0; j < f->ncols; ++j) {
        char tmp[64];
        double v;
        snprintf(tmp, sizeof tmp, "%s", col_name(f, j));
        if (parse_cell(tmp, f->decimal, &v) == CQB_CELL_OK) numeric++;
    }
    if (numeric == f->ncols)
        add_note(f, "%s:%zu: the first line is taken as the header, though its names look like numbers "
                    "(a file without a header? add one)",
                 f->path, line);
    *nnamed = named;
    return CQB_OK;
nomem:
    return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", f->path);
}

static cqb_status read_row(cqb_frame *f, parser *ps, size_t line, size_t named, size_t ntot,
                           cqb_error *err)
{
    if (ps->nf < named || ps->nf > ntot) {
        if (named == ntot)
            return cqb_error_set(err, CQB_EDATA, "%s:%zu: expected %zu fields, found %zu",
                                 f->path, line, ntot, ps->nf);
        return cqb_error_set(err, CQB_EDATA, "%s:%zu: expected %zu to %zu fields, found %zu",
                             f->path, line, named, ntot, ps->nf);
    }
    if (reserve_row(f)) goto nomem;
    size_t i = f->nrows;
    if (pool_add(f, trim(field(ps, 0)), SIZE_MAX, &f->label_off[i])) goto nomem;
    f->lines[i] = line;
    for (size_t j = 0; j < f->ncols; ++j) {
        double v = 0.0;
        char *s = trim(field(ps, j + 1));
        char raw[BAD_TEXT_MAX + 1];
        if (f->decimal == ',') snprintf(raw, sizeof raw, "%s", s); /* parse_cell edits s */
        cqb_cell c = parse_cell(s, f->decimal, &v);
        f->val[i * f->ncols + j] = c == CQB_CELL_OK ? v : NAN;
        f->st[i * f->ncols + j] = (unsigned char)c;
        if (c == CQB_CELL_BAD || c == CQB_CELL_NONFINITE) {
            bad_cell *b = grow(f->bad, &f->bad_cap, f->nbad + 1, sizeof *f->bad);
            if (!b) goto nomem;
            f->bad = b;
            b[f->nbad].row = i;
            b[f->nbad].col = j;
            if (pool_add(f, f->decimal == ',' ? raw : s, BAD_TEXT_MAX, &b[f->nbad].off)) goto nomem;
            f->nbad++;
        }
    }
    f->nrows++;
    return CQB_OK;
nomem:
    return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", f->path);
}

static int all_fields_empty(parser *ps)
{
    for (size_t i = 0; i < ps->nf; ++i) {
        const char *s = field(ps, i);
        while (is_blank(*s)) ++s;
        if (*s) return 0;
    }
    return 1;
}

/* cancel (may be NULL) is polled every 4096 records: parsing a 1 GiB input
 * takes seconds, and an interrupt must stop it within a second. */
static cqb_status parse_buffer(const char *name, const char *data, size_t n, const char *sha,
                               const cqb_read_opts *opts, volatile int *cancel, cqb_frame **out, cqb_error *err)
{
    const char sep = opts && opts->sep ? opts->sep : ',';
    const char decimal = opts && opts->decimal ? opts->decimal : '.';
    const cqb_date_kind forced = opts ? opts->date_format : CQB_DATE_NONE;
    if ((sep != ',' && sep != ';' && sep != '\t' && sep != '|') || (decimal != '.' && decimal != ',') ||
        (unsigned)forced > (unsigned)CQB_DATE_Y)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid reading options (separator, decimal mark or date format)",
                             name);
    cqb_status st = CQB_OK;
    parser ps;
    memset(&ps, 0, sizeof ps);
    cqb_frame *f = calloc(1, sizeof *f);
    if (!f) return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", name);
    f->path = dup_str(name);
    if (!f->path) {
        free(f);
        return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", name);
    }
    memcpy(f->sha, sha, CQB_SHA256_HEX_SIZE);
    f->sep = sep;
    f->decimal = decimal;

    ps.path = f->path;
    ps.sep = sep;
    ps.p = data;
    ps.end = data + n;
    ps.line = 1;
    if (n >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        ps.p += 3;

    int have_header = 0;
    size_t named = 0, ntot = 0;
    for (size_t rec = 0;; ++rec) {
        int got;
        size_t line;
        if (cancel && (rec & 4095) == 0 && *cancel) {
            st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
            goto fail;
        }
        st = next_record(&ps, &got, &line, err);
        if (st != CQB_OK) goto fail;
        if (!got) break;
        if (all_fields_empty(&ps)) continue;
        if (!have_header) {
            st = read_header(f, &ps, line, &named, err);
            if (st != CQB_OK) goto fail;
            ntot = ps.nf;
            have_header = 1;
        } else {
            st = read_row(f, &ps, line, named, ntot, err);
            if (st != CQB_OK) goto fail;
        }
    }
    if (!have_header) {
        st = cqb_error_set(err, CQB_EDATA, "%s:1: no header row", f->path);
        goto fail;
    }
    if (f->nrows == 0) {
        st = cqb_error_set(err, CQB_EDATA, "%s: no data rows", f->path);
        goto fail;
    }
    st = detect_dates(f, forced, err);
    if (st != CQB_OK) goto fail;
    free(ps.buf);
    free(ps.off);
    *out = f;
    return CQB_OK;
fail:
    free(ps.buf);
    free(ps.off);
    cqb_frame_free(f);
    return st;
}

cqb_status cqb_frame_read_buffer(const char *name, const char *data, size_t n, cqb_frame **out,
                                 cqb_error *err)
{
    return cqb_frame_read_buffer_opts(name, data, n, NULL, out, err);
}

cqb_status cqb_frame_read(const char *path, cqb_frame **out, cqb_error *err)
{
    return cqb_frame_read_opts(path, NULL, out, err);
}

cqb_status cqb_frame_read_buffer_opts(const char *name, const char *data, size_t n, const cqb_read_opts *opts,
                                      cqb_frame **out, cqb_error *err)
{
    if (out) *out = NULL;
    if (!name || !out || (!data && n > 0))
        return cqb_error_set(err, CQB_EUSAGE, "cqb_frame_read_buffer: invalid arguments");
    char sha[CQB_SHA256_HEX_SIZE];
    cqb_sha256_string(data, n, sha);
    return parse_buffer(name, data ? data : "", n, sha, opts, NULL, out, err);
}

cqb_status cqb_frame_read_opts(const char *path, const cqb_read_opts *opts, cqb_frame **out, cqb_error *err)
{
    return cqb_frame_read_limited(path, opts, 0, NULL, out, err);
}

cqb_status cqb_frame_read_limited(const char *path, const cqb_read_opts *opts, uint64_t max_bytes,
                                  volatile int *cancel, cqb_frame **out, cqb_error *err)
{
    if (out) *out = NULL;
    if (!path || !*path || !out)
        return cqb_error_set(err, CQB_EUSAGE, "no input file given");
    if (max_bytes == 0) max_bytes = CQB_FRAME_MAX_INPUT_DEFAULT;
    const int is_stdin = !strcmp(path, "-");
    const char *name = is_stdin ? "standard input" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cqb_error_set(err, CQB_EDATA, "%s: cannot open: %s", path, strerror(errno));
    char *data = NULL;
    size_t len = 0, cap = 0;
    cqb_status st = CQB_OK;
    /* hashed as it is read, between cancel polls, so that a large input
     * costs no separate pass that an interrupt would have to wait for */
    cqb_sha256_ctx hc;
    cqb_sha256_init(&hc);
    for (;;) {
        if (cancel && *cancel) {
            st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
            break;
        }
        if (len > max_bytes) {
            st = cqb_error_set(err, CQB_EDATA, "%s: larger than the input limit of %llu bytes (--max-input)", name,
                               (unsigned long long)max_bytes);
            break;
        }
        char *q = grow(data, &cap, len + 65536, 1);
        if (!q) {
            st = cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", name);
            break;
        }
        data = q;
        size_t want = cap - len;
        if (want > ((size_t)1 << 24)) want = (size_t)1 << 24; /* poll cancel at least every 16 MiB */
        if ((uint64_t)want > max_bytes + 1 - len) want = (size_t)(max_bytes + 1 - len); /* one byte past is enough */
        ssize_t got = read(fd, data + len, want);
        if (got < 0) {
            if (errno == EINTR) continue; /* a signal: cancel is checked above */
            st = cqb_error_set(err, CQB_EDATA, "%s: read error: %s", name, strerror(errno));
            break;
        }
        if (got == 0) break;
        const int nul = memchr(data + len, 0, (size_t)got) != NULL;
        cqb_sha256_update(&hc, data + len, (size_t)got);
        len += (size_t)got;
        if (nul) break; /* not a text file: the parser says where */
    }
    if (!is_stdin) close(fd);
    if (st != CQB_OK) {
        free(data);
        return st;
    }
    unsigned char digest[CQB_SHA256_DIGEST_LEN];
    char sha[CQB_SHA256_HEX_SIZE];
    cqb_sha256_final(&hc, digest);
    cqb_sha256_hex(digest, sha);
    st = parse_buffer(path, data ? data : "", len, sha, opts, cancel, out, err);
    free(data);
    return st;
}

void cqb_frame_free(cqb_frame *f)
{
    if (!f) return;
    free(f->path);
    free(f->pool);
    free(f->name_off);
    free(f->label_off);
    free(f->lines);
    free(f->keys);
    free(f->val);
    free(f->st);
    free(f->bad);
    free(f);
}

/* ------------------------------------------------------------------------- */
/* Accessors                                                                  */
/* ------------------------------------------------------------------------- */

size_t cqb_frame_rows(const cqb_frame *f) { return f ? f->nrows : 0; }

size_t cqb_frame_cols(const cqb_frame *f) { return f ? f->ncols : 0; }

const char *cqb_frame_col_name(const cqb_frame *f, size_t j)
{
    return f && j < f->ncols ? col_name(f, j) : NULL;
}

int cqb_frame_find_col(const cqb_frame *f, const char *name)
{
    if (!f || !name || !*name) return -1;
    for (size_t j = 0; j < f->ncols && j < (size_t)INT_MAX; ++j)
        if (strcmp(col_name(f, j), name) == 0) return (int)j;
    return -1;
}

const char *cqb_frame_path(const cqb_frame *f) { return f ? f->path : NULL; }

const char *cqb_frame_index_name(const cqb_frame *f)
{
    return f ? pool_str(f, f->index_name_off) : NULL;
}

cqb_date_kind cqb_frame_date_kind(const cqb_frame *f) { return f ? f->date_kind : CQB_DATE_NONE; }

const char *cqb_frame_label(const cqb_frame *f, size_t i)
{
    return f && i < f->nrows ? row_label(f, i) : NULL;
}

int32_t cqb_frame_date_key(const cqb_frame *f, size_t i)
{
    return f && f->keys && i < f->nrows ? f->keys[i] : 0;
}

size_t cqb_frame_line(const cqb_frame *f, size_t i) { return f && i < f->nrows ? f->lines[i] : 0; }

cqb_cell cqb_frame_cell(const cqb_frame *f, size_t i, size_t j, double *v)
{
    if (!f || i >= f->nrows || j >= f->ncols) return CQB_CELL_MISSING;
    cqb_cell c = (cqb_cell)f->st[i * f->ncols + j];
    if (c == CQB_CELL_OK && v) *v = f->val[i * f->ncols + j];
    return c;
}

const char *cqb_frame_sha256(const cqb_frame *f) { return f ? f->sha : NULL; }

const char *cqb_frame_notes(const cqb_frame *f) { return f ? f->notes : ""; }

/* ------------------------------------------------------------------------- */
/* Selection                                                                  */
/* ------------------------------------------------------------------------- */

/* "-1,5", "12,25": a number written with a decimal comma. */
static int decimal_comma_like(const char *s)
{
    if (*s == '-' || *s == '+') ++s;
    size_t a = 0, b = 0;
    while (s[a] >= '0' && s[a] <= '9') ++a;
    if (a == 0 || s[a] != ',') return 0;
    s += a + 1;
    while (s[b] >= '0' && s[b] <= '9') ++b;
    return b > 0 && s[b] == '\0';
}

static const char *bad_text(const cqb_frame *f, size_t row, size_t col)
{
    size_t lo = 0, hi = f->nbad;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const bad_cell *b = &f->bad[mid];
        if (b->row < row || (b->row == row && b->col < col))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->nbad && f->bad[lo].row == row && f->bad[lo].col == col)
        return pool_str(f, f->bad[lo].off);
    return "?";
}

/* Where a missing cell at row r lies before the first or after the last value
 * of column c (a series that starts later or ends earlier than the file, as
 * most files of several series have), the range that avoids it: "; 'X' has
 * values from 1992-02 (--from 1992-02)". prev: a transform needs the row
 * before, so the range starts one row later. Empty otherwise. */
static void range_hint(const cqb_frame *f, size_t r, size_t c, int prev, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t first = 0, last = f->nrows;
    while (first < f->nrows && f->st[first * f->ncols + c] != CQB_CELL_OK) ++first;
    if (first == f->nrows) return; /* no value at all: nothing to suggest */
    while (last > 0 && f->st[(last - 1) * f->ncols + c] != CQB_CELL_OK) --last;
    const int lead = r < first;
    if (!lead && r < last) return; /* inside the column's span */
    size_t at = lead ? first + (size_t)(prev != 0) : last - 1;
    if (at >= f->nrows) return;
    const char *lab = row_label(f, at);
    if (f->date_kind != CQB_DATE_NONE)
        snprintf(buf, cap, "; '%s' has values %s %s (%s %s)", col_name(f, c), lead ? "from" : "up to", lab,
                 lead ? "--from" : "--to", lab);
    else
        snprintf(buf, cap, "; '%s' has values %s line %zu", col_name(f, c), lead ? "from" : "up to", f->lines[at]);
}

/* The error for an unusable cell (row r, data column c). When tr is not NULL
 * the cell is the previous row needed by transform tr at line for_line. */
static cqb_status cell_error(const cqb_frame *f, size_t r, size_t c, const char *tr,
                             size_t for_line, cqb_error *err)
{
    char extra[64] = "", range[160];
    if (tr) snprintf(extra, sizeof extra, ", needed by the %s at line %zu", tr, for_line);
    const char *name = col_name(f, c);
    size_t line = f->lines[r], col = c + 2;
    switch ((cqb_cell)f->st[r * f->ncols + c]) {
    case CQB_CELL_MISSING:
        range_hint(f, r, c, tr != NULL, range, sizeof range);
        return cqb_error_set(err, CQB_EDATA, "%s:%zu: missing value in column '%s' (col %zu)%s%s",
                             f->path, line, name, col, extra, range);
    case CQB_CELL_BAD: {
        const char *bt = bad_text(f, r, c);
        const char *hint = "";
        if (f->decimal == '.' && decimal_comma_like(bt)) hint = " (a decimal comma? read the file with --decimal ,)";
        return cqb_error_set(err, CQB_EDATA,
                             "%s:%zu: column '%s' (col %zu): non-numeric value '%s'%s%s", f->path,
                             line, name, col, bt, extra, hint);
    }
    case CQB_CELL_NONFINITE:
        return cqb_error_set(err, CQB_EDATA,
                             "%s:%zu: column '%s' (col %zu): non-finite value '%s'%s", f->path,
                             line, name, col, bad_text(f, r, c), extra);
    case CQB_CELL_OK:
        break;
    }
    return cqb_error_set(err, CQB_EINTERNAL, "%s:%zu: cell_error on a valid cell", f->path, line);
}

static cqb_status unknown_column(const cqb_frame *f, const char *name, cqb_error *err)
{
    char list[AVAILABLE_MAX + 40];
    size_t len = 0, shown = 0, total = 0;
    list[0] = '\0';
    for (size_t j = 0; j < f->ncols; ++j)
        if (*col_name(f, j)) total++;
    for (size_t j = 0; j < f->ncols; ++j) {
        const char *s = col_name(f, j);
        if (!*s) continue;
        size_t n = strlen(s);
        if (len + n + 2 > AVAILABLE_MAX) break;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", shown ? ", " : "", s);
        shown++;
    }
    if (shown < total)
        snprintf(list + len, sizeof list - len, "%s... (%zu more)", shown ? ", " : "",
                 total - shown);
    return cqb_error_set(err, CQB_EUSAGE, "%s: unknown column '%s' (available: %s)", f->path, name,
                         list);
}

static cqb_status no_date_column(const cqb_frame *f, const char *opt, cqb_error *err)
{
    size_t r = f->nondate_row;
    if (r == 0)
        return cqb_error_set(err, CQB_EUSAGE,
                             "%s: %s needs a date column (the first column '%s' is an index: "
                             "line %zu holds '%s', not a date: " DATE_FORMS ", or give --date-format)",
                             f->path, opt, cqb_frame_index_name(f), f->lines[0],
                             row_label(f, 0));
    return cqb_error_set(err, CQB_EUSAGE,
                         "%s: %s needs a date column (the first column '%s' is an index: line "
                         "%zu holds '%s', not a date in the format of line %zu '%s')",
                         f->path, opt, cqb_frame_index_name(f), f->lines[r], row_label(f, r),
                         f->lines[0], row_label(f, 0));
}

/* A --from/--to bound: in the file's own format first (so 01/03/1996 is 3
 * January in an MM/DD/YYYY file), else in any format. */
static cqb_status parse_bound(const cqb_frame *f, const char *s, int32_t *key, cqb_date_kind *kind)
{
    if (cqb_parse_date_as(s, f->date_kind, key) == CQB_OK) {
        *kind = f->date_kind;
        return CQB_OK;
    }
    return cqb_parse_date_kind(s, key, kind);
}

void cqb_series_set_free(cqb_series_set *s)
{
    if (!s) return;
    if (s->names)
        for (size_t j = 0; j < s->k; ++j) free(s->names[j]);
    if (s->labels)
        for (size_t t = 0; t < s->T; ++t) free(s->labels[t]);
    free(s->names);
    free(s->labels);
    free(s->x);
    free(s->lines);
    free(s->keys);
    memset(s, 0, sizeof *s);
}

cqb_status cqb_frame_select(const cqb_frame *f, const cqb_select_spec *s, cqb_series_set *out,
                            cqb_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!f || !s || !out || (s->ncols > 0 && !s->cols))
        return cqb_error_set(err, CQB_EUSAGE, "cqb_frame_select: invalid arguments");
    const size_t k = s->ncols;
    if (k == 0) return cqb_error_set(err, CQB_EUSAGE, "%s: no columns selected", f->path);

    /* 1. columns and transforms */
    size_t *idx = malloc(k * sizeof *idx);
    if (!idx) return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory", f->path);
    cqb_status st = CQB_OK;
    int any_prev = 0;
    for (size_t jj = 0; jj < k; ++jj) {
        const char *name = s->cols[jj] ? s->cols[jj] : "";
        int c = cqb_frame_find_col(f, name);
        if (c < 0) {
            st = unknown_column(f, name, err);
            goto done;
        }
        idx[jj] = (size_t)c;
        cqb_transform t = s->tr ? s->tr[jj] : CQB_TR_LEVEL;
        if ((unsigned)t > (unsigned)CQB_TR_PCT) {
            st = cqb_error_set(err, CQB_EUSAGE, "%s: invalid transform for column '%s'", f->path,
                               name);
            goto done;
        }
        if (cqb_transform_needs_prev(t)) any_prev = 1;
    }

    /* 2. date range -> file rows [begin, end) */
    size_t begin = 0, end = f->nrows;
    if (s->from || s->to) {
        if (f->date_kind == CQB_DATE_NONE) {
            st = no_date_column(f, s->from ? "--from" : "--to", err);
            goto done;
        }
        int32_t lo = INT32_MIN, hi = INT32_MAX;
        cqb_date_kind kind;
        if (s->from && parse_bound(f, s->from, &lo, &kind) != CQB_OK) {
            st = cqb_error_set(err, CQB_EUSAGE, "--from: invalid date '%s' (expected " DATE_FORMS ")",
                               s->from);
            goto done;
        }
        if (s->to) {
            if (parse_bound(f, s->to, &hi, &kind) != CQB_OK) {
                st = cqb_error_set(err, CQB_EUSAGE, "--to: invalid date '%s' (expected " DATE_FORMS ")",
                                   s->to);
                goto done;
            }
            hi = cqb_date_period_end(hi, kind); /* a month or quarter: the whole of it */
        }
        if (lo > hi) {
            st = cqb_error_set(err, CQB_EUSAGE, "--from %s is after --to %s", s->from, s->to);
            goto done;
        }
        while (begin < f->nrows && f->keys[begin] < lo) ++begin;
        end = begin;
        while (end < f->nrows && f->keys[end] <= hi) ++end;
    }
    if (any_prev && begin == 0) begin = 1;
    if (end <= begin) {
        if (s->from || s->to)
            st = cqb_error_set(err, CQB_EDATA, "%s: no rows between %s and %s", f->path,
                               s->from ? s->from : row_label(f, 0),
                               s->to ? s->to : row_label(f, f->nrows - 1));
        else
            st = cqb_error_set(err, CQB_EDATA,
                               "%s: no rows left: the file has one row, and a differencing "
                               "transform needs a previous one",
                               f->path);
        goto done;
    }
    const size_t T = end - begin;

    /* 3. values */
    if (T > SIZE_MAX / sizeof(double) / k) {
        st = cqb_error_set(err, CQB_ENOMEM, "%s: selection too large", f->path);
        goto done;
    }
    out->x = malloc(T * k * sizeof *out->x);
    if (!out->x) goto nomem;
    for (size_t r = begin; r < end; ++r) {
        const size_t t = r - begin;
        for (size_t jj = 0; jj < k; ++jj) {
            const size_t c = idx[jj];
            const cqb_transform tr = s->tr ? s->tr[jj] : CQB_TR_LEVEL;
            const char *trn = cqb_transform_name(tr);
            const int prev = cqb_transform_needs_prev(tr);
            if (prev && f->st[(r - 1) * f->ncols + c] != CQB_CELL_OK) {
                st = cell_error(f, r - 1, c, trn, f->lines[r], err);
                goto done;
            }
            if (f->st[r * f->ncols + c] != CQB_CELL_OK) {
                st = cell_error(f, r, c, NULL, 0, err);
                goto done;
            }
            double cur = f->val[r * f->ncols + c];
            double pv = prev ? f->val[(r - 1) * f->ncols + c] : 0.0;
            double v = cur;
            const char *name = col_name(f, c);
            switch (cqb_transform_step(tr, pv, cur, &v)) {
            case CQB_TRS_OK:
                break;
            case CQB_TRS_NONPOS_PREV:
                st = cqb_error_set(err, CQB_EDATA,
                                   "%s:%zu: column '%s' (col %zu): non-positive value %.15g for "
                                   "logdiff (at line %zu)",
                                   f->path, f->lines[r - 1], name, c + 2, pv, f->lines[r]);
                goto done;
            case CQB_TRS_NONPOS_CUR:
                st = cqb_error_set(err, CQB_EDATA,
                                   "%s:%zu: column '%s' (col %zu): non-positive value %.15g for "
                                   "logdiff",
                                   f->path, f->lines[r], name, c + 2, cur);
                goto done;
            case CQB_TRS_ZERO_PREV:
                st = cqb_error_set(err, CQB_EDATA,
                                   "%s:%zu: column '%s' (col %zu): zero value, pct at line %zu "
                                   "divides by it",
                                   f->path, f->lines[r - 1], name, c + 2, f->lines[r]);
                goto done;
            case CQB_TRS_NONFINITE:
                st = cqb_error_set(err, CQB_EDATA,
                                   "%s:%zu: column '%s' (col %zu): %s gives a non-finite value",
                                   f->path, f->lines[r], name, c + 2, trn);
                goto done;
            }
            out->x[jj * T + t] = v;
        }
    }

    /* 4. constant columns */
    for (size_t jj = 0; jj < k; ++jj) {
        const double *col = out->x + jj * T;
        size_t t = 1;
        while (t < T && col[t] == col[0]) ++t;
        if (t == T) {
            st = cqb_error_set(err, CQB_EDATA, "%s: column '%s' is constant over the selected rows",
                               f->path, col_name(f, idx[jj]));
            goto done;
        }
    }

    /* 5. names, labels, lines */
    out->names = calloc(k, sizeof *out->names);
    out->labels = calloc(T, sizeof *out->labels);
    out->lines = malloc(T * sizeof *out->lines);
    out->k = k;
    out->T = T;
    if (!out->names || !out->labels || !out->lines) goto nomem;
    if (f->keys) {
        if (!(out->keys = malloc(T * sizeof *out->keys))) goto nomem;
        memcpy(out->keys, f->keys + begin, T * sizeof *out->keys);
    }
    for (size_t jj = 0; jj < k; ++jj)
        if (!(out->names[jj] = dup_str(col_name(f, idx[jj])))) goto nomem;
    for (size_t t = 0; t < T; ++t) {
        if (!(out->labels[t] = dup_str(row_label(f, begin + t)))) goto nomem;
        out->lines[t] = f->lines[begin + t];
    }
    out->first_label = out->labels[0];
    out->last_label = out->labels[T - 1];
    out->date_kind = f->date_kind;
    free(idx);
    return CQB_OK;

nomem:
    st = cqb_error_set(err, CQB_ENOMEM, "%s: out of memory", f->path);
done:
    free(idx);
    cqb_series_set_free(out);
    return st;
}
