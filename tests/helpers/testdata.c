/* testdata.c — see testdata.h. No main() and no Test() here: this file is
 * linked into every test executable. */
#include "testdata.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CQB_TEST_DATA
#error "CQB_TEST_DATA must be defined by the build (absolute path of tests/data)"
#endif

char *td_data_path(const char *file_name, char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "%s/%s", CQB_TEST_DATA, file_name);
    if (len < 0 || (size_t)len >= cap)
        cr_assert_fail("td_data_path: path too long for %s", file_name);
    return buf;
}

/* Splits the next field off *cursor (a NUL-terminated line without its end
 * of line), removing surrounding double quotes and un-doubling "" inside
 * quotes, in place. Returns the field, or NULL when the line is exhausted. */
static char *next_field(char **cursor, int *done)
{
    if (*done)
        return NULL;
    char *p = *cursor;
    char *field = p;
    if (*p == '"') {
        char *w = p;
        p++;
        for (;;) {
            if (*p == '\0')
                break; /* unterminated quote: take what there is */
            if (*p == '"') {
                if (p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            *w++ = *p++;
        }
        /* skip anything between the closing quote and the separator */
        while (*p != '\0' && *p != ',')
            p++;
        *w = '\0';
    } else {
        while (*p != '\0' && *p != ',')
            p++;
    }
    if (*p == ',') {
        *p = '\0';
        *cursor = p + 1;
    } else {
        *p = '\0';
        *cursor = p;
        *done = 1;
    }
    return field;
}

static void chomp(char *line)
{
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
}

double *td_load_column(const char *file_name, const char *column, size_t *n)
{
    char path[4096];
    td_data_path(file_name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        cr_assert_fail("td_load_column: cannot open %s: %s", path, strerror(errno));

    char *line = NULL;
    size_t line_cap = 0;
    if (getline(&line, &line_cap, f) < 0)
        cr_assert_fail("td_load_column: %s: empty file (no header)", path);
    chomp(line);

    /* locate the column */
    long col = -1;
    {
        char *cur = line;
        int done = 0;
        long idx = 0;
        for (char *fld; (fld = next_field(&cur, &done)) != NULL; idx++) {
            if (strcmp(fld, column) == 0) {
                col = idx;
                break;
            }
        }
    }
    if (col < 0)
        cr_assert_fail("td_load_column: %s: no column named \"%s\" in the header", path, column);

    size_t count = 0, cap = 1024;
    double *v = malloc(cap * sizeof *v);
    if (v == NULL)
        cr_assert_fail("td_load_column: out of memory");

    size_t lineno = 1;
    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        chomp(line);
        if (line[0] == '\0')
            continue; /* tolerate blank lines (e.g. at the end) */
        char *cur = line;
        int done = 0;
        char *fld = NULL;
        for (long idx = 0; idx <= col; idx++) {
            fld = next_field(&cur, &done);
            if (fld == NULL)
                break;
        }
        if (fld == NULL)
            cr_assert_fail("td_load_column: %s:%zu: row has no column %ld (\"%s\")", path,
                           lineno, col + 1, column);
        char *end = NULL;
        errno = 0;
        double d = strtod(fld, &end);
        if (end == fld || *end != '\0' || !isfinite(d))
            cr_assert_fail("td_load_column: %s:%zu: column \"%s\": cannot parse \"%s\" as a "
                           "finite number", path, lineno, column, fld);
        if (count == cap) {
            cap *= 2;
            double *nv = realloc(v, cap * sizeof *nv);
            if (nv == NULL)
                cr_assert_fail("td_load_column: out of memory");
            v = nv;
        }
        v[count++] = d;
    }
    free(line);
    fclose(f);
    if (count == 0)
        cr_assert_fail("td_load_column: %s: no data rows", path);
    *n = count;
    return v;
}

void td_logdiff(const double *p, size_t n, double *out)
{
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = log(p[i + 1]) - log(p[i]);
}

void td_sysrisk(double **jpm, double **mkt, double **dvix, size_t *T)
{
    size_t n;
    double *p = td_load_column("quantilogram_sys_risk.csv", "JPM", &n);
    double *m = td_load_column("quantilogram_sys_risk.csv", "Market", &n);
    double *v = td_load_column("quantilogram_sys_risk.csv", "VIX", &n);
    const size_t t = n - 1;
    double *r = malloc(t * sizeof *r), *mk = malloc(t * sizeof *mk), *dv = malloc(t * sizeof *dv);
    if (!r || !mk || !dv) cr_assert_fail("out of memory");
    td_logdiff(p, n, r);
    for (size_t i = 0; i < t; ++i) {
        mk[i] = m[i + 1];
        dv[i] = v[i + 1] - v[i];
    }
    free(p);
    free(m);
    free(v);
    if (jpm) *jpm = r; else free(r);
    if (mkt) *mkt = mk; else free(mk);
    if (dvix) *dvix = dv; else free(dv);
    *T = t;
}

char *td_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            s = realloc(s, cap *= 2);
            cr_assert_not_null(s);
        }
    }
    cr_assert(!ferror(f), "%s: read error", path);
    fclose(f);
    s[n] = 0;
    if (len) *len = n;
    return s;
}

char *td_slurp(const char *path) { return td_read(path, NULL); }

void td_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    const size_t n = strlen(text);
    cr_assert_eq(fwrite(text, 1, n, f), n, "%s: short write", path);
    cr_assert_eq(fclose(f), 0, "%s: cannot close", path);
}

void td_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                td_remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}
