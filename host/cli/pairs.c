/* pairs.c — `cqboot cq --series A,B,... --pairs all|FILE`: the CQ of every
 * directed pair of series (or of the pairs listed in FILE), as one long
 * table with `y` and `x` columns (docs/cli.md, docs/scale-out.md).
 *
 * Each pair is exactly the analysis `cqboot cq --y Y --x X` with the other
 * options given (same seed, so each pair's numbers equal its own run): the
 * pair runs in-process through cmd_cq into a private temporary folder, and
 * its results and Q tests become rows of the long table. Shards and MPI
 * ranks split the pairs (pair p goes to share p mod N); the part files hold
 * the pairs' results and merge assembles them in pair order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/version.h"
#include "scale.h"

typedef struct pairlist {
    char **y, **x;
    size_t n, cap;
} pairlist;

static int pl_add(pairlist *pl, const char *y, const char *x)
{
    if (pl->n == pl->cap) {
        size_t nc = pl->cap ? 2 * pl->cap : 64;
        char **ny = realloc(pl->y, nc * sizeof *ny);
        if (!ny) return -1;
        pl->y = ny;
        char **nx = realloc(pl->x, nc * sizeof *nx);
        if (!nx) return -1;
        pl->x = nx;
        pl->cap = nc;
    }
    pl->y[pl->n] = strdup(y);
    pl->x[pl->n] = strdup(x);
    if (!pl->y[pl->n] || !pl->x[pl->n]) return -1;
    ++pl->n;
    return 0;
}

static void pl_free(pairlist *pl)
{
    for (size_t i = 0; i < pl->n; ++i) {
        free(pl->y[i]);
        free(pl->x[i]);
    }
    free(pl->y);
    free(pl->x);
    memset(pl, 0, sizeof *pl);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') ++s;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n')) s[--l] = 0;
    return s;
}

/* A listed pair: both names in --series, and different. */
static int add_listed(pairlist *pl, char **series, size_t ns, const char *y, const char *x, const char *where)
{
    int fy = 0, fx = 0;
    for (size_t i = 0; i < ns; ++i) {
        fy |= !strcmp(series[i], y);
        fx |= !strcmp(series[i], x);
    }
    if (!fy || !fx || !strcmp(y, x)) {
        cqb_error err = {CQB_OK, ""};
        cqb_error_set(&err, CQB_EDATA, "%s: pair %s,%s: %s", where, y, x,
                      !strcmp(y, x) ? "y and x are the same series" : "not two columns of --series");
        return cli_fail("cq", &err);
    }
    return pl_add(pl, y, x) ? cli_oom("cq") : 0;
}

/* --pairs '[["Y","X"], ...]': the pairs inline, as JSON (what a study's
 * "pairs" list becomes, docs/studies.md). */
static int parse_pairs_json(const char *text, char **series, size_t ns, pairlist *pl)
{
    cJSON *a = cJSON_Parse(text);
    int rc = 0, k = 0;
    const cJSON *e;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1) rc = cli_usage_error("cq", "--pairs: '%s' is not a JSON list of [\"Y\", \"X\"] pairs", text);
    cJSON_ArrayForEach(e, a)
    {
        if (rc) break;
        const char *y = cJSON_GetStringValue(cJSON_GetArrayItem(e, 0)), *x = cJSON_GetStringValue(cJSON_GetArrayItem(e, 1));
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !y || !x) {
            rc = cli_usage_error("cq", "--pairs: item %d is not a pair [\"Y\", \"X\"]", k);
            break;
        }
        char where[48];
        snprintf(where, sizeof where, "--pairs item %d", k++);
        rc = add_listed(pl, series, ns, y, x, where);
    }
    cJSON_Delete(a);
    return rc;
}

/* --pairs FILE: one "Y,X" per line; blank lines, '#' comments and a "y,x"
 * header are skipped; both names must be in --series. */
static int read_pairs(const char *path, char **series, size_t ns, pairlist *pl)
{
    size_t len;
    cqb_error err = {CQB_OK, ""};
    char *txt = cli_read_text(path, &len, &err);
    if (!txt) return cli_fail("cq", &err);
    int rc = 0;
    size_t lineno = 0;
    for (char *line = txt, *next; line && *line && !rc; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        ++lineno;
        char *l = trim(line);
        if (!*l || *l == '#') continue;
        char *comma = strchr(l, ',');
        if (!comma) {
            cqb_error_set(&err, CQB_EDATA, "%s:%zu: expected Y,X", path, lineno);
            rc = cli_fail("cq", &err);
            break;
        }
        *comma = 0;
        char *y = trim(l), *x = trim(comma + 1);
        if (!strcmp(y, "y") && !strcmp(x, "x")) continue;
        char where[1100];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        rc = add_listed(pl, series, ns, y, x, where);
    }
    free(txt);
    if (!rc && pl->n == 0) {
        cqb_error_set(&err, CQB_EDATA, "%s: no pairs", path);
        rc = cli_fail("cq", &err);
    }
    return rc;
}

/* Every number item as the shortest text that reads back exactly (what
 * cmd_cq wrote), so that reassembled results keep their bytes. */
static void exact_numbers(cJSON *it)
{
    for (cJSON *c = it ? it->child : NULL; c; c = c->next) {
        if (cJSON_IsNumber(c)) {
            char buf[40];
            cli_fmt_num(buf, sizeof buf, c->valuedouble);
            cJSON *r = cJSON_CreateRaw(buf);
            /* ReplaceItemViaPointer keeps no key: an object member's name moves over */
            if (r && c->string && !(c->type & cJSON_StringIsConst)) {
                r->string = c->string;
                c->string = NULL;
            }
            cJSON_ReplaceItemViaPointer(it, c, r);
            c = r;
        } else {
            exact_numbers(c);
        }
    }
}

/* Quote a CSV field when it needs it. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *const LONG_KEYS[] = {"results", "qtests", "supq", "selfnorm"};
#define NLONG (sizeof LONG_KEYS / sizeof LONG_KEYS[0])

/* The outputs of all pairs: json[p] and csv[p] are pair p's texts (csv may
 * be NULL when no --csv); JSON gets the long arrays with "y" and "x" first
 * in every row, CSV a "y,x," prefix. Without --json/--csv the CSV goes to
 * stdout. */
static int cli_pairs_emit(const pairlist *pl, char **json, char **csv, const char *json_out, const char *csv_out,
                   char **series, size_t ns, double seconds)
{
    cqb_error err = {CQB_OK, ""};
    cli_out oj, oc;
    memset(&oj, 0, sizeof oj);
    memset(&oc, 0, sizeof oc);
    cJSON *root = NULL;
    int rc = 0;
    if (json_out && cli_out_open(&oj, json_out, "--json", &err) != CQB_OK) goto fail;
    if (csv_out && cli_out_open(&oc, csv_out, "--csv", &err) != CQB_OK) goto fail;
    if (json_out) {
        cJSON *lng[NLONG] = {0};
        for (size_t p = 0; p < pl->n; ++p) {
            cJSON *one = cJSON_Parse(json[p]);
            if (!one) {
                cqb_error_set(&err, CQB_EDATA, "pair %s,%s: unreadable results", pl->y[p], pl->x[p]);
                goto fail;
            }
            if (!root) {
                root = cJSON_CreateObject();
                cJSON_AddStringToObject(root, "tool", "cqboot cq");
                cJSON_AddStringToObject(root, "version", CQB_VERSION);
                cJSON *in = cJSON_DetachItemFromObjectCaseSensitive(one, "input");
                if (in) {
                    cJSON_DeleteItemFromObjectCaseSensitive(in, "columns");
                    cJSON_DeleteItemFromObjectCaseSensitive(in, "transforms");
                    exact_numbers(in);
                    cJSON_AddItemToObject(root, "input", in);
                }
                cJSON *op = cJSON_DetachItemFromObjectCaseSensitive(one, "options");
                if (op) {
                    cJSON_DeleteItemFromObjectCaseSensitive(op, "y");
                    cJSON_DeleteItemFromObjectCaseSensitive(op, "x");
                    exact_numbers(op);
                    cJSON_AddItemToObject(root, "options", op);
                    cJSON *s = cJSON_CreateArray();
                    for (size_t i = 0; i < ns; ++i) cJSON_AddItemToArray(s, cJSON_CreateString(series[i]));
                    cJSON_AddItemToObject(op, "series", s);
                    cJSON_AddNumberToObject(op, "pairs", (double)pl->n);
                }
            }
            for (size_t k = 0; k < NLONG; ++k) {
                cJSON *arr = cJSON_GetObjectItemCaseSensitive(one, LONG_KEYS[k]);
                if (!cJSON_IsArray(arr)) continue;
                if (!lng[k]) lng[k] = cJSON_CreateArray();
                for (cJSON *row = arr->child; row; row = row->next) {
                    cJSON *nr = cJSON_CreateObject();
                    cJSON_AddStringToObject(nr, "y", pl->y[p]);
                    cJSON_AddStringToObject(nr, "x", pl->x[p]);
                    cJSON *c;
                    while ((c = row->child) != NULL) {
                        cJSON_DetachItemViaPointer(row, c);
                        const char *name = c->string;
                        c->string = NULL;
                        exact_numbers(c);
                        if (cJSON_IsNumber(c)) {
                            char buf[40];
                            cli_fmt_num(buf, sizeof buf, c->valuedouble);
                            cJSON_AddRawToObject(nr, name, buf);
                            cJSON_Delete(c);
                        } else {
                            cJSON_AddItemToObject(nr, name, c);
                        }
                        cJSON_free((void *)name);
                    }
                    cJSON_AddItemToArray(lng[k], nr);
                }
            }
            cJSON_Delete(one);
        }
        if (!root) root = cJSON_CreateObject();
        for (size_t k = 0; k < NLONG; ++k)
            if (lng[k]) cJSON_AddItemToObject(root, LONG_KEYS[k], lng[k]);
        cJSON *tm = cJSON_AddObjectToObject(root, "timing");
        cJSON_AddItemToObject(tm, "total_s", cli_json_num(seconds));
        char *txt = cJSON_Print(root);
        if (!txt) {
            cqb_error_set(&err, CQB_ENOMEM, "out of memory writing JSON");
            goto fail;
        }
        fputs(txt, oj.f);
        fputc('\n', oj.f);
        free(txt);
    }
    if (csv_out || !json_out) {
        FILE *f = csv_out ? oc.f : stdout;
        for (size_t p = 0; p < pl->n; ++p) {
            const char *t = csv ? csv[p] : NULL;
            if (!t) continue;
            const char *nl = strchr(t, '\n');
            if (!nl) continue;
            if (p == 0) {
                fputs("y,x,", f);
                fwrite(t, 1, (size_t)(nl - t) + 1, f);
            }
            for (const char *line = nl + 1; *line;) {
                const char *e = strchr(line, '\n');
                size_t l = e ? (size_t)(e - line) : strlen(line);
                if (l) {
                    csv_field(f, pl->y[p]);
                    fputc(',', f);
                    csv_field(f, pl->x[p]);
                    fputc(',', f);
                    fwrite(line, 1, l, f);
                    fputc('\n', f);
                }
                line += l + (e ? 1 : 0);
            }
        }
    }
    if (cli_stdout_check(&err)) goto fail;
    if (cli_out_commit_all((cli_out *const[]){&oj, &oc}, 2, &err) != CQB_OK) goto fail;
    cJSON_Delete(root);
    return 0;
fail:
    rc = cli_fail("cq", &err);
    cli_out_abort(&oj);
    cli_out_abort(&oc);
    cJSON_Delete(root);
    return rc;
}

static char *read_file_all(const char *path)
{
    size_t len;
    cqb_error err = {CQB_OK, ""};
    return cli_read_text(path, &len, &err);
}

static void rm_dir(const char *dir, size_t n)
{
    char p[4200];
    for (size_t i = 0; i < n; ++i) {
        snprintf(p, sizeof p, "%s/%zu.json", dir, i);
        unlink(p);
        snprintf(p, sizeof p, "%s/%zu.csv", dir, i);
        unlink(p);
    }
    rmdir(dir);
}

int cli_pairs_run(int argc, char **argv)
{
    const double t0 = cli_now();
    const char *series_arg = NULL, *pairs_arg = NULL, *json = NULL, *csv = NULL;
    char **base = calloc((size_t)argc + 16, sizeof *base);
    if (!base) return cli_oom("cq");
    int nb = 0, rc = 0;
    for (int i = 0; i < argc; ++i) {
        const char **slot = NULL;
        static const char *const names[] = {"--series", "--pairs", "--json", "--csv"};
        const char **slots[] = {&series_arg, &pairs_arg, &json, &csv};
        for (int k = 0; k < 4 && i > 0; ++k) {
            size_t l = strlen(names[k]);
            if (!strncmp(argv[i], names[k], l) && (argv[i][l] == 0 || argv[i][l] == '=')) {
                slot = slots[k];
                if (argv[i][l] == '=') *slot = argv[i] + l + 1;
                else if (i + 1 < argc) *slot = argv[++i];
                else {
                    free(base);
                    return cli_usage_error("cq", "option '%s' needs a value", names[k]);
                }
                break;
            }
        }
        if (slot) continue;
        if (i > 0 && (!strcmp(argv[i], "--y") || !strcmp(argv[i], "--x") || !strncmp(argv[i], "--y=", 4) ||
                      !strncmp(argv[i], "--x=", 4))) {
            free(base);
            return cli_usage_error("cq", "--pairs: give the series with --series, not --y/--x");
        }
        if (i > 0 && (!strncmp(argv[i], "--window", 8) || !strcmp(argv[i], "--selfnorm") ||
                      !strncmp(argv[i], "--y-regressors", 14) || !strncmp(argv[i], "--x-regressors", 14))) {
            free(base);
            return cli_usage_error("cq", "--pairs: not with %s", argv[i]);
        }
        base[nb++] = argv[i];
    }
    if (!series_arg || !pairs_arg) {
        free(base);
        return cli_usage_error("cq", "--pairs all|FILE and --series A,B,... go together");
    }
    /* the series */
    char *sbuf = strdup(series_arg);
    char **series = calloc(strlen(series_arg) + 1, sizeof *series);
    size_t ns = 0;
    pairlist pl = {0};
    if (!sbuf || !series) {
        rc = cli_oom("cq");
        goto out;
    }
    for (char *tok = strtok(sbuf, ","); tok; tok = strtok(NULL, ",")) {
        char *t = trim(tok);
        for (size_t i = 0; i < ns; ++i)
            if (!strcmp(series[i], t)) {
                rc = cli_usage_error("cq", "--series: '%s' given twice", t);
                goto out;
            }
        if (*t) series[ns++] = t;
    }
    if (ns < 2) {
        rc = cli_usage_error("cq", "--series: at least two columns");
        goto out;
    }
    if (cli_check_only == 1) goto out; /* options only: no file is read */
    if (pairs_arg[0] == '[') {
        rc = parse_pairs_json(pairs_arg, series, ns, &pl);
    } else if (!strcmp(pairs_arg, "all")) {
        for (size_t i = 0; i < ns && !rc; ++i)
            for (size_t j = 0; j < ns && !rc; ++j)
                if (i != j && pl_add(&pl, series[i], series[j])) rc = cli_oom("cq");
    } else {
        rc = read_pairs(pairs_arg, series, ns, &pl);
    }
    if (rc) goto out;
    {
        const char *in[] = {NULL}, *in_opt[] = {"--data"}, *outp[] = {json, csv}, *out_opt[] = {"--json", "--csv"};
        for (int i = 1; i + 1 < nb; ++i)
            if (!strcmp(base[i], "--data")) in[0] = base[i + 1];
        if ((rc = cli_check_outputs("cq", in, in_opt, 1, outp, out_opt, 2)) != 0) goto out;
    }
    if (cli_check_only) goto out;
    /* this process's share of the pairs */
    uint32_t share = 0, nshare = 1;
    const int mode = cli_scale_pairs_share(&share, &nshare);
    char dir[] = "/tmp/cqboot-pairs-XXXXXX";
    const char *tmpdir = getenv("TMPDIR");
    char dirbuf[4096];
    if (tmpdir && *tmpdir && strlen(tmpdir) < 4000) snprintf(dirbuf, sizeof dirbuf, "%s/cqboot-pairs-XXXXXX", tmpdir);
    else snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    if (!mkdtemp(dirbuf)) {
        cqb_error e = {CQB_OK, ""};
        cqb_error_set(&e, CQB_EIO, "cannot create a temporary folder (%s): %s", dirbuf, strerror(errno));
        rc = cli_fail("cq", &e);
        goto out;
    }
    char **jt = calloc(pl.n, sizeof *jt), **ct = calloc(pl.n, sizeof *ct);
    if (!jt || !ct) {
        free(jt);
        free(ct);
        rmdir(dirbuf);
        rc = cli_oom("cq");
        goto out;
    }
    const int want_csv = csv != NULL || json == NULL;
    for (size_t p = 0; p < pl.n && !rc; ++p) {
        if (p % nshare != share) continue;
        if (cli_interrupted) {
            rc = 128 + cli_interrupted;
            break;
        }
        char jp[4200], cp[4200];
        snprintf(jp, sizeof jp, "%s/%zu.json", dirbuf, p);
        snprintf(cp, sizeof cp, "%s/%zu.csv", dirbuf, p);
        int k = nb;
        base[k++] = (char *)"--y";
        base[k++] = pl.y[p];
        base[k++] = (char *)"--x";
        base[k++] = pl.x[p];
        base[k++] = (char *)"--progress";
        base[k++] = (char *)"none";
        base[k++] = (char *)"--json";
        base[k++] = jp;
        if (want_csv) {
            base[k++] = (char *)"--csv";
            base[k++] = cp;
        }
        base[k] = NULL;
        rc = cmd_cq(k, base);
        if (rc) {
            fprintf(stderr, "cqboot cq: pair %zu (y %s, x %s) failed\n", p + 1, pl.y[p], pl.x[p]);
            break;
        }
        jt[p] = read_file_all(jp);
        ct[p] = want_csv ? read_file_all(cp) : NULL;
        if (!jt[p] || (want_csv && !ct[p])) rc = cli_oom("cq");
    }
    rm_dir(dirbuf, pl.n);
    if (!rc) {
        /* shards keep their pairs for merge; ranks exchange theirs (rank 0 writes) */
        if (mode == CLI_SCALE_SHARD) {
            rc = cli_scale_pairs_keep(pl.n, pl.y, pl.x, jt, ct, series, ns, json != NULL, want_csv);
        } else {
            rc = cli_scale_pairs_collect(pl.n, jt, ct);
            /* a rank > 0 has --json only inside cqboot run (its private folder) */
            if (!rc && (!cli_scale_silent() || json))
                rc = cli_pairs_emit(&pl, jt, ct, json, csv, series, ns, cli_now() - t0);
        }
    }
    for (size_t p = 0; p < pl.n; ++p) {
        free(jt[p]);
        free(ct[p]);
    }
    free(jt);
    free(ct);
out:
    cli_scale_pairs_end();
    pl_free(&pl);
    free(series);
    free(sbuf);
    free(base);
    return rc;
}

/* merge: the pairs of every part, in pair order */
int cli_pairs_merge(cJSON *const *hd, size_t np, const char *json_out, const char *csv_out)
{
    const double t0 = cli_now();
    const cJSON *h0 = cJSON_GetObjectItemCaseSensitive(hd[0], "pairs");
    const cJSON *py = cJSON_GetObjectItemCaseSensitive(h0, "y"), *px = cJSON_GetObjectItemCaseSensitive(h0, "x");
    const cJSON *ser = cJSON_GetObjectItemCaseSensitive(h0, "series");
    const int n = cJSON_GetArraySize(py), nser = cJSON_GetArraySize(ser);
    const int has_csv = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h0, "csv"));
    pairlist pl = {0};
    char **jt = calloc((size_t)n + 1, sizeof *jt), **ct = calloc((size_t)n + 1, sizeof *ct);
    char **series = calloc((size_t)nser + 1, sizeof *series);
    int rc = 0;
    cqb_error err = {CQB_OK, ""};
    if (!jt || !ct || !series) {
        rc = cli_oom("merge");
        goto out;
    }
    for (int i = 0; i < nser; ++i) series[i] = cJSON_GetStringValue(cJSON_GetArrayItem(ser, i));
    for (int i = 0; i < n && !rc; ++i) {
        const char *y = cJSON_GetStringValue(cJSON_GetArrayItem(py, i)), *x = cJSON_GetStringValue(cJSON_GetArrayItem(px, i));
        if (!y || !x) {
            cqb_error_set(&err, CQB_EDATA, "corrupt part header (pairs)");
            rc = cli_fail("merge", &err);
        } else if (pl_add(&pl, y, x)) {
            rc = cli_oom("merge");
        }
    }
    if (csv_out && !has_csv) {
        cqb_error_set(&err, CQB_EUSAGE, "--csv: the shards kept only JSON results (run them without --json to keep CSV)");
        rc = cli_fail("merge", &err);
    }
    for (size_t k = 0; k < np && !rc; ++k) {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(hd[k], "pairs"), "results");
        for (const cJSON *r = res ? res->child : NULL; r; r = r->next) {
            const cJSON *ix = cJSON_GetObjectItemCaseSensitive(r, "index");
            int p = cJSON_IsNumber(ix) ? (int)ix->valuedouble : -1;
            if (p < 0 || p >= n || jt[p]) {
                cqb_error_set(&err, CQB_EDATA, "corrupt part header (pair %d)", p);
                rc = cli_fail("merge", &err);
                break;
            }
            jt[p] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "json"));
            ct[p] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "csv"));
        }
    }
    for (int p = 0; p < n && !rc; ++p)
        if (!jt[p]) {
            cqb_error_set(&err, CQB_EDATA, "the parts lack pair %d (%s, %s)", p + 1, pl.y[p], pl.x[p]);
            rc = cli_fail("merge", &err);
        }
    if (!rc) rc = cli_pairs_emit(&pl, jt, ct, json_out, csv_out, series, (size_t)nser, cli_now() - t0);
out:
    pl_free(&pl);
    free(jt);
    free(ct);
    free(series);
    return rc;
}
