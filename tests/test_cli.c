/* test_cli.c — the cqboot command line (`cqboot cq`, `cqboot blocklen`) run
 * as a program: exit statuses, one-line error messages, atomic outputs,
 * thread-count invariance, JSON/CSV contents and the np::b.star oracle.
 *
 * The binary is CQB_CLI, run with fork/execv (no shell); its stdout and
 * stderr go to files in a mkdtemp directory made per test, which also holds
 * the fixture CSVs and the --json/--csv targets. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/error.h"
#include "cqboot/hash.h"
#include "cqboot/version.h"

#include "testdata.h"

#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"
#define SYS_RISK CQB_TEST_DATA "/quantilogram_sys_risk.csv"

/* ------------------------------------------------------------------------- */
/* Per-test directory                                                         */
/* ------------------------------------------------------------------------- */

static char g_dir[128];
static char g_json[256]; /* DIR/out.json */
static char g_csv[256];  /* DIR/out.csv */

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_cli_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp failed: %s", strerror(errno));
    snprintf(g_json, sizeof g_json, "%s/out.json", g_dir);
    snprintf(g_csv, sizeof g_csv, "%s/out.csv", g_dir);
}

/* Memory that lives until the end of the test (paths, captured output). */
#define MAX_TRACKED 512
static void *g_tracked[MAX_TRACKED];
static int g_ntracked;

static void *track(void *p)
{
    cr_assert_not_null(p, "out of memory");
    cr_assert_lt(g_ntracked, MAX_TRACKED);
    g_tracked[g_ntracked++] = p;
    return p;
}

static void teardown(void)
{
    if (g_dir[0]) td_remove_tree(g_dir);
    for (int i = 0; i < g_ntracked; ++i) free(g_tracked[i]);
    g_ntracked = 0;
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

static char *in_dir(const char *name)
{
    size_t n = strlen(g_dir) + strlen(name) + 2;
    char *p = track(malloc(n));
    snprintf(p, n, "%s/%s", g_dir, name);
    return p; /* freed by teardown */
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Number of entries of dir whose name contains ".tmp." (atomic-output temps). */
static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.")) ++n;
    closedir(d);
    return n;
}

/* A file the test expects to exist, NUL-terminated, and its length. */
static char *read_file(const char *path, size_t *len)
{
    char *buf = td_read(path, len);
    cr_assert_not_null(buf, "cannot open %s: %s", path, strerror(errno));
    return buf;
}

/* ------------------------------------------------------------------------- */
/* Running the CLI                                                            */
/* ------------------------------------------------------------------------- */

typedef struct run_t {
    int rc;     /* exit status, or 128 + signal */
    char *out;  /* captured stdout (NUL-terminated; freed by teardown) */
    char *err;  /* captured stderr (freed by teardown) */
} run_t;

#define MAX_ARGS 80

static int g_child_umask = -1; /* >= 0: umask set in the child before exec */

/* Runs CQB_CLI with the NULL-terminated args (argv[1..]). */
static run_t run_args(const char *const *args)
{
    const char *argv[MAX_ARGS + 2];
    size_t k = 0;
    argv[k++] = CQB_CLI;
    for (size_t i = 0; args[i]; ++i) {
        cr_assert_lt(k, (size_t)MAX_ARGS, "too many arguments");
        argv[k++] = args[i];
    }
    argv[k] = NULL;
    static int seq = 0;
    char outp[256], errp[256];
    snprintf(outp, sizeof outp, "%s/.stdout.%d", g_dir, seq);
    snprintf(errp, sizeof errp, "%s/.stderr.%d", g_dir, seq);
    ++seq;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork failed");
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        /* stdin: an empty pipe (no file outside the test's folder) */
        int pfd[2];
        if (pipe(pfd) != 0) _exit(126);
        close(pfd[1]);
        int fi = pfd[0];
        if (fo < 0 || fe < 0) _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        close(fi);
        close(fo);
        close(fe);
        if (g_child_umask >= 0) umask((mode_t)g_child_umask);
        execv(CQB_CLI, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) cr_assert_eq(errno, EINTR, "waitpid failed");
    run_t r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    r.out = track(read_file(outp, NULL));
    r.err = track(read_file(errp, NULL));
    /* A CUDA build on a machine without a usable GPU prints the documented
     * one-line fallback notice for --backend auto; it is not an error. */
    /* the notice is "cqboot CMD: no usable CUDA device ..." (an error for
     * --backend cuda reads "cqboot CMD: --backend cuda: no usable ...") */
    const char *nl0 = strchr(r.err, '\n'), *sep = strstr(r.err, ": ");
    if (!strncmp(r.err, "cqboot ", 7) && sep && nl0 && sep < nl0 &&
        !strncmp(sep + 2, "no usable CUDA device", 21)) {
        char *nl = strchr(r.err, '\n');
        if (nl) r.err = nl + 1;
    }
    unlink(outp);
    unlink(errp);
    cr_assert_neq(r.rc, 127, "could not exec %s", CQB_CLI);
    return r;
}

#define CLI(...) run_args((const char *const[]){__VA_ARGS__, NULL})

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; ++s) n += *s == c;
    return n;
}

/* An error run: exit status want_rc; stderr exactly one line starting with
 * "cqboot"; it contains every needle; nothing on stdout; neither DIR/out.json
 * nor DIR/out.csv exists and DIR holds no *.tmp.* file. */
static void expect_fail_v(int want_rc, const char *const *needles, const char *const *args)
{
    cr_assert(!exists(g_json) && !exists(g_csv), "test setup: remove the output targets first");
    run_t r = run_args(args);
    cr_assert_eq(r.rc, want_rc, "exit status %d, expected %d; stderr: %s", r.rc, want_rc, r.err);
    size_t len = strlen(r.err);
    cr_assert(len > 0 && r.err[len - 1] == '\n' && count_char(r.err, '\n') == 1,
              "stderr is not exactly one line: [%s]", r.err);
    cr_assert(!strncmp(r.err, "cqboot", 6), "stderr does not start with 'cqboot': %s", r.err);
    for (size_t i = 0; needles[i]; ++i)
        cr_assert_not_null(strstr(r.err, needles[i]), "stderr lacks '%s': %s", needles[i], r.err);
    cr_assert_str_empty(r.out, "stdout not empty on failure: %s", r.out);
    cr_assert(!exists(g_json), "%s exists after a failed run", g_json);
    cr_assert(!exists(g_csv), "%s exists after a failed run", g_csv);
    cr_assert_eq(count_tmp_files(g_dir), 0, "temporary output files left in %s", g_dir);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})
/* EXPECT_FAIL_CQ(rc, NEEDLES("a", "b"), "--data", ...): runs cq and adds
 * --json DIR/out.json --csv DIR/out.csv (EXPECT_FAIL_BL: blocklen, --json only). */
#define EXPECT_FAIL_CQ(rc, needles, ...) \
    expect_fail_v(rc, needles, (const char *const[]){"cq", __VA_ARGS__, "--json", g_json, "--csv", g_csv, NULL})
#define EXPECT_FAIL_BL(rc, needles, ...) \
    expect_fail_v(rc, needles, (const char *const[]){"blocklen", __VA_ARGS__, "--json", g_json, NULL})

/* A successful run: exit 0 and nothing on stderr. */
static void expect_ok(const run_t *r)
{
    cr_assert_eq(r->rc, 0, "exit status %d; stderr: %s", r->rc, r->err);
    cr_assert_str_empty(r->err, "unexpected stderr: %s", r->err);
}

/* ------------------------------------------------------------------------- */
/* Fixtures: date,A,B,C monthly from 2000-01; row i is on line i + 2          */
/* ------------------------------------------------------------------------- */

typedef struct cell_ov {
    int row, col; /* col 0 = date, 1..3 = A..C */
    const char *text;
} cell_ov;

static uint64_t xs_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Writes DIR/name with n rows; ov (count nov) replaces cells' text; returns the path. */
static char *fixture(const char *name, int n, const cell_ov *ov, size_t nov)
{
    char *path = in_dir(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("date,A,B,C\n", f);
    uint64_t s[3] = {0x9E3779B97F4A7C15ull, 0xD1B54A32D192ED03ull, 0x2545F4914F6CDD1Dull};
    for (int i = 0; i < n; ++i) {
        char cell[4][64];
        snprintf(cell[0], 64, "%04d-%02d", 2000 + i / 12, i % 12 + 1);
        for (int c = 1; c <= 3; ++c)
            snprintf(cell[c], 64, "%.4f", 50.0 + (double)(xs_next(&s[c - 1]) % 100000) / 1000.0);
        for (size_t k = 0; k < nov; ++k)
            if (ov[k].row == i) snprintf(cell[ov[k].col], 64, "%s", ov[k].text);
        fprintf(f, "%s,%s,%s,%s\n", cell[0], cell[1], cell[2], cell[3]);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

#define FIX_ROWS 120
#define SMALL "--alpha", "0.5", "--lags", "1-2", "--boot", "20", "--quiet"

/* ------------------------------------------------------------------------- */
/* JSON helpers                                                               */
/* ------------------------------------------------------------------------- */

static cJSON *parse_json_text(const char *text, const char *what)
{
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s is not valid JSON", what);
    return j;
}

static cJSON *load_json(const char *path)
{
    char *t = read_file(path, NULL);
    cJSON *j = parse_json_text(t, path);
    free(t);
    return j;
}

static const cJSON *jget(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert_not_null(v, "JSON lacks key '%s'", key);
    return v;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    cr_assert(cJSON_IsNumber(v), "'%s' is not a number", key);
    return v->valuedouble;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = jget(o, key);
    cr_assert(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

/* cJSON_Print of o[key] (malloc'd). */
static char *jprint(const cJSON *o, const char *key)
{
    char *s = cJSON_Print(jget(o, key));
    cr_assert_not_null(s);
    return s;
}

/* ========================================================================= */
/* Errors: data                                                               */
/* ========================================================================= */

Test(cli, missing_file)
{
    char *nofile = in_dir("no-such-file.csv");
    EXPECT_FAIL_CQ(3, NEEDLES(nofile, "cannot open"), "--data", nofile, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(nofile, "cannot open"), "--data", nofile, "--cols", "A,B");
}

Test(cli, empty_file_has_no_header)
{
    char *p = in_dir("empty.csv");
    td_write(p, "");
    char needle[300];
    snprintf(needle, sizeof needle, "%s:1: no header row", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(needle), "--data", p, "--cols", "A,B");
}

Test(cli, header_only_file_has_no_rows)
{
    char *p = in_dir("header.csv");
    td_write(p, "date,A,B\n");
    EXPECT_FAIL_CQ(3, NEEDLES(p, "no data rows"), "--data", p, "--y", "A", "--x", "B", SMALL);
}

Test(cli, unknown_columns)
{
    char *p = fixture("f.csv", FIX_ROWS, NULL, 0);
    EXPECT_FAIL_CQ(2, NEEDLES(p, "unknown column 'NOPE'"), "--data", p, "--y", "NOPE", "--x", "B", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES(p, "unknown column 'NOPE'"), "--data", p, "--y", "A", "--x", "NOPE", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES(p, "unknown column 'NOPE'"), "--data", p, "--y", "A", "--x", "B", "--control",
                   "NOPE:0.5", SMALL);
    EXPECT_FAIL_BL(2, NEEDLES(p, "unknown column 'NOPE'"), "--data", p, "--cols", "A,NOPE");
    /* a transform for a column the file does not have */
    EXPECT_FAIL_CQ(2, NEEDLES("--transform", "NOPE"), "--data", p, "--y", "A", "--x", "B", "--transform",
                   "NOPE=logdiff", SMALL);
}

Test(cli, non_numeric_cell_names_file_and_line)
{
    cell_ov ov[] = {{10, 2, "abc"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 1);
    char needle[300];
    snprintf(needle, sizeof needle, "%s:12: column 'B' (col 3): non-numeric value 'abc'", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "B", "--x", "A", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(needle), "--data", p, "--cols", "A,B");
    /* the same cell in an unused column is no error */
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "C", SMALL, "--json", g_json);
    expect_ok(&r);
    cr_assert(exists(g_json));
}

Test(cli, non_finite_cells)
{
    cell_ov ov[] = {{40, 2, "Inf"}, {50, 1, "-inf"}, {60, 3, "1e999"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 3);
    char n1[300], n2[300], n3[300];
    snprintf(n1, sizeof n1, "%s:42: column 'B' (col 3): non-finite value 'Inf'", p);
    snprintf(n2, sizeof n2, "%s:52: column 'A' (col 2): non-finite value '-inf'", p);
    snprintf(n3, sizeof n3, "%s:62: column 'C' (col 4): non-finite value '1e999'", p);
    EXPECT_FAIL_CQ(3, NEEDLES(n1), "--data", p, "--y", "C", "--x", "B", SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(n2), "--data", p, "--y", "A", "--x", "C", SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(n3), "--data", p, "--y", "C", "--x", "C", SMALL, "--to", "2099-12");
    /* the first offending cell in file order */
    EXPECT_FAIL_CQ(3, NEEDLES(n1), "--data", p, "--y", "A", "--x", "B", SMALL);
}

Test(cli, nan_cell_is_missing)
{
    cell_ov ov[] = {{33, 1, "NaN"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 1);
    char needle[300];
    snprintf(needle, sizeof needle, "%s:35: missing value in column 'A' (col 2)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "B", "--x", "A", SMALL);
}

Test(cli, empty_column)
{
    cell_ov ov[FIX_ROWS];
    for (int i = 0; i < FIX_ROWS; ++i) ov[i] = (cell_ov){i, 2, i % 2 ? "NA" : ""};
    char *p = fixture("f.csv", FIX_ROWS, ov, FIX_ROWS);
    char needle[300];
    snprintf(needle, sizeof needle, "%s:2: missing value in column 'B' (col 3)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(needle), "--data", p, "--cols", "B,A");
    /* the real data: EPU_CHINA is all NA in 1996 */
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA ":2: missing value in column 'EPU_CHINA' (col 11)"), "--data", US_CHINA,
                   "--y", "EPU_CHINA", "--x", "GPR", "--to", "1996-12", SMALL);
}

Test(cli, constant_series)
{
    cell_ov ov[FIX_ROWS];
    for (int i = 0; i < FIX_ROWS; ++i) ov[i] = (cell_ov){i, 3, "5"};
    char *p = fixture("f.csv", FIX_ROWS, ov, FIX_ROWS);
    EXPECT_FAIL_CQ(3, NEEDLES(p, "column 'C' is constant"), "--data", p, "--y", "A", "--x", "C", SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(p, "column 'C' is constant"), "--data", p, "--y", "C", "--x", "A", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(p, "column 'C' is constant"), "--data", p, "--cols", "A,C");
    /* constant only inside the range (WGI after the last anchor, 2022-08..) */
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA, "column 'WGI_CHN_GE' is constant"), "--data", US_CHINA, "--y",
                   "WGI_CHN_GE", "--x", "EPU_US", "--from", "2022-09", SMALL);
}

Test(cli, too_few_rows_for_the_lags)
{
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA, "--lags", "400"), "--data", US_CHINA, "--y", "GPR", "--x", "EPU_US",
                   "--lags", "400", "--alpha", "0.5", "--boot", "20");
    /* 120 rows, lag 119: one row left after lagging */
    char *p = fixture("f.csv", FIX_ROWS, NULL, 0);
    EXPECT_FAIL_CQ(3, NEEDLES(p, "--lags 119", "at least 2 rows"), "--data", p, "--y", "A", "--x", "B", "--lags",
                   "119", "--alpha", "0.5", "--boot", "20");
    /* lag 110 leaves 10 rows, where 0.05 expects half an exceedance: computed
     * as R computes it, with a note, and the cell flagged sparse (--no-null:
     * the rotation test needs more than twice its margin) */
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--lags", "110-110", "--alpha", "0.05", "--boot",
                  "20", "--no-null", "--json", g_json);
    cr_assert_eq(r.rc, 0, "exit status %d; stderr: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "10 rows after lag 110"), "no note: %s", r.err);
    cr_assert_not_null(strstr(r.err, "fewer than one exceedance"), "no note: %s", r.err);
    cJSON *j = load_json(g_json);
    const cJSON *c = cJSON_GetArrayItem(jget(j, "results"), 0);
    cr_assert_eq(jnum(c, "n"), 10);
    cr_assert_eq(jnum(c, "sparse"), 1);
    const double rho = jnum(c, "rho");
    cr_assert(rho >= -1.0 && rho <= 1.0, "rho = %g", rho);
    cJSON_Delete(j);
    unlink(g_json);
    EXPECT_FAIL_BL(3, NEEDLES(p, "--lag 400"), "--data", p, "--cols", "A,B", "--lag", "400");
}

/* The calibrated test runs by default; where the sample is too short for
 * its rotations it is left out with a note (the marks fall back to R's
 * band), unless it was asked for, when the run fails as before. */
Test(cli, calibrated_test_left_out_where_the_sample_is_too_short)
{
    char *p = fixture("f.csv", FIX_ROWS, NULL, 0);
    /* lag 100 leaves N = 20 rows: no shift m..N-m with m = 10 */
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--lags", "100-100", "--alpha", "0.5", "--boot", "50",
                  "--json", g_json);
    cr_assert_eq(r.rc, 0, "exit status %d; stderr: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "note: the calibrated test is left out: --rotation-margin 10 leaves no shift"),
                       "%s", r.err);
    cJSON *j = load_json(g_json);
    const cJSON *o = jget(j, "options");
    cr_assert(cJSON_IsFalse(jget(o, "null_test")));
    cr_assert_not_null(strstr(jstr(o, "null_test_left_out"), "lag 100 (N = 20 rows)"));
    cr_assert_str_eq(jstr(o, "mark_applied"), "band");
    const cJSON *c = cJSON_GetArrayItem(jget(j, "results"), 0);
    cr_assert(cJSON_IsNull(jget(c, "p_null")));
    cr_assert_eq(jnum(c, "boot_valid"), 50);
    cJSON_Delete(j);
    unlink(g_json);
    /* asked for: the error stands */
    EXPECT_FAIL_CQ(2, NEEDLES("--rotation-margin 10 leaves no shift at lag 100"), "--data", p, "--y", "A", "--x",
                   "B", "--lags", "100-100", "--alpha", "0.5", "--boot", "50", "--rotation-margin", "10");
    EXPECT_FAIL_CQ(2, NEEDLES("leaves no shift"), "--data", p, "--y", "A", "--x", "B", "--lags", "100-100",
                   "--alpha", "0.5", "--boot", "50", "--mark", "null");
    /* a margin that fits runs it */
    r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--lags", "100-100", "--alpha", "0.5", "--boot", "50",
            "--rotation-margin", "5", "--json", g_json);
    expect_ok(&r);
    j = load_json(g_json);
    cr_assert(cJSON_IsTrue(jget(jget(j, "options"), "null_test")));
    cr_assert_eq(jnum(cJSON_GetArrayItem(jget(j, "results"), 0), "null_valid"), 11); /* shifts 5..15 */
    cJSON_Delete(j);
    unlink(g_json);
    /* a control in the tails: its stratum (about 12 of 119 rows) is too
     * small for m = 10, the partial CQ's test is left out */
    r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--control", "C:0.1", "--lags", "1", "--alpha", "0.5",
            "--boot", "50", "--json", g_json);
    cr_assert_eq(r.rc, 0, "exit status %d; stderr: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "left out: the partial CQ's null: a control stratum"), "%s", r.err);
    cJSON_Delete(load_json(g_json));
    unlink(g_json);
    /* windows: the sample has it, the 30-row windows at lag 12 (N = 18) not */
    r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--lags", "12", "--alpha", "0.5", "--boot", "50", "--window",
            "30", "--step", "45", "--json", g_json);
    cr_assert_eq(r.rc, 0, "exit status %d; stderr: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "left out in 3 of 3 windows"), "%s", r.err);
    j = load_json(g_json);
    cr_assert(cJSON_IsTrue(jget(jget(j, "options"), "null_test")));
    cr_assert_null(cJSON_GetObjectItem(jget(j, "options"), "null_test_left_out"));
    cr_assert_eq(jnum(jget(jget(j, "options"), "windows"), "null_test_left_out"), 3);
    cr_assert(!cJSON_IsNull(jget(cJSON_GetArrayItem(jget(j, "results"), 0), "p_null")));
    const cJSON *w0 = cJSON_GetArrayItem(jget(j, "rolling"), 0);
    cr_assert(cJSON_IsNull(jget(cJSON_GetArrayItem(jget(w0, "results"), 0), "p_null")));
    cJSON_Delete(j);
}

Test(cli, duplicated_dates)
{
    cell_ov ov[] = {{5, 0, "2000-05"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 1);
    char needle[300];
    snprintf(needle, sizeof needle, "%s:7: duplicate date '2000-05' (first at line 6)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_BL(3, NEEDLES(needle), "--data", p, "--cols", "A,B");
}

Test(cli, dates_out_of_order)
{
    cell_ov ov[] = {{8, 0, "1999-01"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 1);
    char needle[300];
    snprintf(needle, sizeof needle, "%s:10: date '1999-01' is before the previous date", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
}

Test(cli, missing_value_in_used_column_in_range)
{
    cell_ov ov[] = {{50, 1, "NA"}, {60, 2, ""}, {70, 3, "."}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 3);
    char n1[300], n2[300], n3[300];
    snprintf(n1, sizeof n1, "%s:52: missing value in column 'A' (col 2)", p);
    snprintf(n2, sizeof n2, "%s:62: missing value in column 'B' (col 3)", p);
    snprintf(n3, sizeof n3, "%s:72: missing value in column 'C' (col 4)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(n1), "--data", p, "--y", "A", "--x", "B", SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(n2), "--data", p, "--y", "C", "--x", "B", SMALL);
    /* a control is a used column */
    EXPECT_FAIL_CQ(3, NEEDLES(n3), "--data", p, "--y", "A", "--x", "B", "--control", "C", "--from", "2005-02",
                   SMALL);
    /* inside a --from/--to range */
    EXPECT_FAIL_CQ(3, NEEDLES(n2), "--data", p, "--y", "C", "--x", "B", "--from", "2004-06", "--to", "2005-06",
                   SMALL);
    /* the real data: EPU_CHINA is NA in 1996; the message says where it starts */
    EXPECT_FAIL_CQ(3,
                   NEEDLES(US_CHINA ":2: missing value in column 'EPU_CHINA' (col 11); 'EPU_CHINA' has values from "
                                    "1997-01 (--from 1997-01)"),
                   "--data", US_CHINA, "--y", "GPR", "--x", "EPU_CHINA", SMALL);
    /* diff at 1997-01 reads 1996-12 (line 13): the diff's range starts a month later */
    EXPECT_FAIL_CQ(3,
                   NEEDLES(US_CHINA ":13: missing value in column 'EPU_CHINA' (col 11), needed by the diff at line 14; "
                                    "'EPU_CHINA' has values from 1997-02 (--from 1997-02)"),
                   "--data", US_CHINA, "--y", "GPR", "--x", "EPU_CHINA", "--transform", "EPU_CHINA=diff", "--from",
                   "1997-01", SMALL);
    /* inside a column's span: no range to suggest */
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "B", SMALL);
    cr_assert_eq(r.rc, 3);
    cr_assert_not_null(strstr(r.err, n1), "%s", r.err);
    cr_assert_null(strstr(r.err, "has values"), "%s", r.err);
}

Test(cli, missing_value_in_unused_column_is_not_an_error)
{
    cell_ov ov[] = {{30, 3, "NA"}, {31, 3, ""}, {32, 3, "abc"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 3);
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "B", SMALL, "--json", g_json);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    const cJSON *in = jget(j, "input");
    cr_assert_eq(jnum(in, "rows"), FIX_ROWS);
    cr_assert_eq(cJSON_GetArraySize(jget(j, "results")), 2);
    cJSON_Delete(j);
    /* the real data without EPU_CHINA runs from 1996-01 */
    r = CLI("cq", "--data", US_CHINA, "--y", "GPR", "--x", "EPU_US", SMALL, "--json", g_json);
    expect_ok(&r);
    j = load_json(g_json);
    cr_assert_str_eq(jstr(jget(j, "input"), "first"), "1996-01");
    cr_assert_eq(jnum(jget(j, "input"), "rows"), 336);
    cJSON_Delete(j);
    /* blocklen likewise */
    r = CLI("blocklen", "--data", p, "--cols", "A,B", "--json", "-");
    expect_ok(&r);
    j = parse_json_text(r.out, "blocklen stdout");
    cr_assert_eq(cJSON_GetArraySize(jget(j, "results")), 2);
    cJSON_Delete(j);
}

Test(cli, missing_value_outside_range_is_not_an_error)
{
    cell_ov ov[] = {{0, 1, ""}, {119, 1, "NA"}, {119, 2, "x"}};
    char *p = fixture("f.csv", FIX_ROWS, ov, 3);
    /* without a range the first missing cell is reported, with the range
     * that avoids the column's missing ends */
    char needle[300];
    snprintf(needle, sizeof needle,
             "%s:2: missing value in column 'A' (col 2); 'A' has values from 2000-02 (--from 2000-02)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", SMALL);
    snprintf(needle, sizeof needle,
             "%s:121: missing value in column 'A' (col 2); 'A' has values up to 2009-11 (--to 2009-11)", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", "--from", "2000-02", SMALL);
    run_t r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--from", "2000-02", "--to", "2009-11", SMALL,
                  "--json", g_json);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    const cJSON *in = jget(j, "input");
    cr_assert_eq(jnum(in, "rows"), FIX_ROWS - 2);
    cr_assert_str_eq(jstr(in, "first"), "2000-02");
    cr_assert_str_eq(jstr(in, "last"), "2009-11");
    const cJSON *res = jget(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 2);
    cr_assert_eq(jnum(cJSON_GetArrayItem(res, 0), "n"), FIX_ROWS - 3); /* lag 1 */
    cJSON_Delete(j);
    /* diff from 2000-02 needs 2000-01 (line 2) ... */
    unlink(g_json);
    snprintf(needle, sizeof needle, "%s:2: missing value in column 'A' (col 2), needed by the diff at line 3", p);
    EXPECT_FAIL_CQ(3, NEEDLES(needle), "--data", p, "--y", "A", "--x", "B", "--transform", "A=diff", "--from",
                   "2000-02", "--to", "2009-11", SMALL);
    /* ... from 2000-03 it does not */
    r = CLI("cq", "--data", p, "--y", "A", "--x", "B", "--transform", "A=diff", "--from", "2000-03", "--to",
            "2009-11", SMALL, "--json", g_json);
    expect_ok(&r);
    /* the real data: EPU_CHINA from 1997-01 */
    r = CLI("cq", "--data", US_CHINA, "--y", "GPR", "--x", "EPU_CHINA", "--from", "1997-01", SMALL, "--json",
            g_json);
    expect_ok(&r);
    j = load_json(g_json);
    cr_assert_str_eq(jstr(jget(j, "input"), "first"), "1997-01");
    cr_assert_eq(jnum(jget(j, "input"), "rows"), 336 - 12);
    cJSON_Delete(j);
}

/* ========================================================================= */
/* Errors: options                                                            */
/* ========================================================================= */

#define RUN_US "--data", US_CHINA, "--y", "GPR", "--x", "EPU_US"

Test(cli, alpha_outside_unit_interval)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--alpha", "1.2"), RUN_US, "--alpha", "1.2", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--alpha", "0"), RUN_US, "--alpha", "0", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--alpha", "1"), RUN_US, "--alpha", "0.5,1", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--alpha-y"), RUN_US, "--alpha-y", "-0.1", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--alpha-x"), RUN_US, "--alpha-x", "0.5,abc", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--control", "level"), RUN_US, "--control", "GPRT:1.5", "--boot", "20");
}

Test(cli, boot_below_one)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--boot", "'-5'"), RUN_US, "--boot", "-5");
    EXPECT_FAIL_CQ(2, NEEDLES("--boot", "'ten'"), RUN_US, "--boot", "ten");
}

Test(cli, gamma_outside_range)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--gamma", "'0'"), RUN_US, "--gamma", "0", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--gamma", "'1.5'"), RUN_US, "--gamma", "1.5", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--gamma", "'-0.1'"), RUN_US, "--gamma", "-0.1", "--boot", "20");
    /* gamma = 1 is allowed */
    run_t r = CLI("cq", RUN_US, "--gamma", "1", SMALL, "--json", g_json);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    cr_assert_eq(jnum(jget(j, "options"), "gamma"), 1.0);
    cr_assert_eq(jnum(cJSON_GetArrayItem(jget(j, "results"), 0), "gamma"), 1.0);
    cJSON_Delete(j);
}

Test(cli, singular_control)
{
    /* the control is x itself, at x's level and (by default) x's lag */
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA, "singular", "control"), RUN_US, "--control", "EPU_US:0.5", "--alpha",
                   "0.5", "--lags", "1-2", "--boot", "20");
    /* y itself at lag 0 and y's level: also singular */
    EXPECT_FAIL_CQ(3, NEEDLES("singular"), RUN_US, "--control", "GPR:0.5:0", "--alpha", "0.5", "--lags", "1-2",
                   "--boot", "20");
}

Test(cli, unknown_option_and_arguments)
{
    EXPECT_FAIL_CQ(2, NEEDLES("unknown option", "--bogus"), RUN_US, "--bogus", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("unknown option", "-z"), RUN_US, "-z", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("unexpected argument", "stray"), RUN_US, "stray", "--boot", "20");
    EXPECT_FAIL_BL(2, NEEDLES("unknown option", "--bogus"), "--data", US_CHINA, "--cols", "GPR", "--bogus");
    /* an option without its value is named as such */
    expect_fail_v(2, NEEDLES("--boot", "needs a value"), (const char *const[]){"cq", RUN_US, "--boot", NULL});
    expect_fail_v(2, NEEDLES("--lag", "needs a value"),
                  (const char *const[]){"blocklen", "--data", US_CHINA, "--cols", "GPR", "--lag", NULL});
    /* an unknown command */
    expect_fail_v(2, NEEDLES("unknown command", "frobnicate"), (const char *const[]){"frobnicate", NULL});
}

Test(cli, missing_required_options)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--data"), "--y", "GPR", "--x", "EPU_US", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--y"), "--data", US_CHINA, "--x", "EPU_US", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--x"), "--data", US_CHINA, "--y", "GPR", "--boot", "20");
    EXPECT_FAIL_BL(2, NEEDLES("--data"), "--cols", "GPR");
    EXPECT_FAIL_BL(2, NEEDLES("--cols"), "--data", US_CHINA);
}

Test(cli, backend_cuda_unavailable)
{
#ifndef CQB_HAVE_CUDA
    EXPECT_FAIL_CQ(4, NEEDLES("--backend cuda", "CUDA"), RUN_US, "--backend", "cuda", SMALL);
#else
    /* a CUDA build: either a device is there (exit 0) or exit 4 naming CUDA */
    run_t r = CLI("cq", RUN_US, "--backend", "cuda", SMALL, "--json", g_json);
    if (r.rc == 0) {
        cJSON *j = load_json(g_json);
        cr_assert_str_eq(jstr(jget(j, "options"), "backend"), "cuda");
        cJSON_Delete(j);
        unlink(g_json);
    } else {
        cr_assert_eq(r.rc, 4, "stderr: %s", r.err);
        cr_assert_not_null(strstr(r.err, "cuda"));
        cr_assert(!exists(g_json));
    }
#endif
    EXPECT_FAIL_CQ(2, NEEDLES("--backend", "opencl"), RUN_US, "--backend", "opencl", SMALL);
}

Test(cli, unwritable_outputs)
{
    /* --json in a missing directory: exit 3 before any work, no files */
    expect_fail_v(3, NEEDLES("--json", "/nonexistent-dir/x.json"),
                  (const char *const[]){"cq", RUN_US, SMALL, "--json", "/nonexistent-dir/x.json", "--csv", g_csv,
                                        NULL});
    /* --csv unwritable after --json was opened: the JSON temp is removed */
    expect_fail_v(3, NEEDLES("--csv", "/nonexistent-dir/x.csv"),
                  (const char *const[]){"cq", RUN_US, SMALL, "--json", g_json, "--csv", "/nonexistent-dir/x.csv",
                                        NULL});
    expect_fail_v(3, NEEDLES("--json", "/nonexistent-dir/x.json"),
                  (const char *const[]){"blocklen", "--data", US_CHINA, "--cols", "GPR", "--json",
                                        "/nonexistent-dir/x.json", NULL});
    cr_assert(!exists("/nonexistent-dir"));
    /* --json naming a directory */
    char *sub = in_dir("subdir");
    cr_assert_eq(mkdir(sub, 0755), 0);
    expect_fail_v(3, NEEDLES("--json", sub),
                  (const char *const[]){"cq", RUN_US, SMALL, "--json", sub, "--csv", g_csv, NULL});
    struct stat st;
    cr_assert_eq(stat(sub, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    /* the same file for both */
    expect_fail_v(2, NEEDLES("--json", "--csv"),
                  (const char *const[]){"cq", RUN_US, SMALL, "--json", g_csv, "--csv", g_csv, NULL});
}

Test(cli, bad_transform)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--transform", "'foo'"), RUN_US, "--transform", "GPR=foo", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--transform", "'GPR'"), RUN_US, "--transform", "GPR", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--transform"), RUN_US, "--transform", "=logdiff", SMALL);
    EXPECT_FAIL_BL(2, NEEDLES("--transform", "'sqrt'"), "--data", US_CHINA, "--cols", "GPR", "--transform",
                   "GPR=sqrt");
    /* logdiff of a non-positive value: the data line is named */
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA ":25: column 'EPU_CHINA' (col 11): non-positive value", "logdiff"), "--data", US_CHINA, "--y", "GPR", "--x",
                   "EPU_CHINA", "--transform", "EPU_CHINA=logdiff", "--from", "1997-02", SMALL);
}

Test(cli, bad_quantile)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--quantile", "'r8'"), RUN_US, "--quantile", "r8", SMALL);
    run_t r = CLI("cq", RUN_US, "--quantile", "type1_lt", SMALL, "--json", g_json);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    cr_assert_str_eq(jstr(jget(j, "options"), "quantile"), "type1_lt");
    cJSON_Delete(j);
}

Test(cli, bad_lags)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--lags", "'abc'"), RUN_US, "--lags", "abc", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--lags", "'5-2'"), RUN_US, "--lags", "5-2", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--lags", "'-1'"), RUN_US, "--lags", "-1", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--lags", "''"), RUN_US, "--lags", "", "--boot", "20");
    EXPECT_FAIL_CQ(2, NEEDLES("--lags", "'1.5'"), RUN_US, "--lags", "1.5", "--boot", "20");
    EXPECT_FAIL_BL(2, NEEDLES("--lag", "'x'"), "--data", US_CHINA, "--cols", "GPR", "--lag", "x");
}

Test(cli, bad_dates)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--from", "'2020-13'"), RUN_US, "--from", "2020-13", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--from", "'garbage'"), RUN_US, "--from", "garbage", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--to", "'2021-02-30'"), RUN_US, "--to", "2021-02-30", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--from 2010-01", "--to 2005-01"), RUN_US, "--from", "2010-01", "--to", "2005-01",
                   SMALL);
    EXPECT_FAIL_CQ(3, NEEDLES(US_CHINA, "no rows"), RUN_US, "--from", "2030-01", SMALL);
    EXPECT_FAIL_BL(2, NEEDLES("--from", "'1996-00'"), "--data", US_CHINA, "--cols", "GPR", "--from", "1996-00");
}

Test(cli, bad_numbers)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--threads", "'-1'"), RUN_US, "--threads", "-1", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--level", "'1'"), RUN_US, "--level", "1", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--seed", "'-1'"), RUN_US, "--seed", "-1", SMALL);
    /* strtoull would wrap " -1" to 2^64-1 */
    EXPECT_FAIL_CQ(2, NEEDLES("--seed", "' -1'"), RUN_US, "--seed", " -1", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--progress", "'loud'"), RUN_US, "--progress", "loud", SMALL);
}

/* ========================================================================= */
/* Help, version, usage                                                       */
/* ========================================================================= */

Test(cli, help_version_and_no_args)
{
    run_t r = CLI("cq", "--help");
    expect_ok(&r);
    cr_assert(!strncmp(r.out, "Usage:", 6), "cq --help: %s", r.out);
    cr_assert_not_null(strstr(r.out, "--boot"));
    r = CLI("blocklen", "--help");
    expect_ok(&r);
    cr_assert(!strncmp(r.out, "Usage:", 6), "blocklen --help: %s", r.out);
    cr_assert_not_null(strstr(r.out, "--cols"));
    r = CLI("--help");
    expect_ok(&r);
    cr_assert(!strncmp(r.out, "Usage:", 6));
    r = CLI("--version");
    expect_ok(&r);
    cr_assert(!strncmp(r.out, "cqboot " CQB_VERSION, strlen("cqboot " CQB_VERSION)), "--version: %s", r.out);
    cr_assert_eq(count_char(r.out, '\n'), 1);
    r = run_args((const char *const[]){NULL});
    cr_assert_eq(r.rc, 2);
    cr_assert_str_empty(r.out);
    cr_assert_not_null(strstr(r.err, "Usage:"));
}

/* ========================================================================= */
/* Thread-count invariance                                                    */
/* ========================================================================= */

static void check_thread_invariance(const char *control)
{
    char *res[3] = {0}, *qt[3] = {0};
    const char *threads[3] = {"1", "2", "8"};
    for (int i = 0; i < 3; ++i) {
        char *out = in_dir(i == 0 ? "t1.json" : i == 1 ? "t2.json" : "t8.json");
        run_t r = control ? CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300",
                                "--backend", "cpu", "--threads", threads[i], "--control", control, "--quiet",
                                "--json", out)
                          : CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300",
                                "--backend", "cpu", "--threads", threads[i], "--quiet", "--json", out);
        expect_ok(&r);
        cJSON *j = load_json(out);
        cr_assert_eq(jnum(jget(j, "options"), "threads"), atof(threads[i]));
        cr_assert_eq(cJSON_GetArraySize(jget(j, "results")), 3 * 3 * 4);
        cr_assert_eq(cJSON_GetArraySize(jget(j, "qtests")), 3 * 3 * 4);
        const cJSON *c0 = cJSON_GetArrayItem(jget(j, "results"), 0);
        cr_assert_eq(jnum(c0, "boot_valid"), 300);
        cr_assert_eq(cJSON_HasObjectItem(c0, "rho_partial"), control != NULL);
        res[i] = jprint(j, "results");
        qt[i] = jprint(j, "qtests");
        cJSON_Delete(j);
    }
    for (int i = 1; i < 3; ++i) {
        cr_assert_str_eq(res[i], res[0], "results differ between --threads 1 and --threads %s", threads[i]);
        cr_assert_str_eq(qt[i], qt[0], "qtests differ between --threads 1 and --threads %s", threads[i]);
    }
    for (int i = 0; i < 3; ++i) {
        free(res[i]);
        free(qt[i]);
    }
}

Test(cli, thread_count_invariance)
{
    check_thread_invariance(NULL);
}

Test(cli, thread_count_invariance_with_control)
{
    check_thread_invariance("GPRT:0.5");
}

/* ========================================================================= */
/* End to end                                                                 */
/* ========================================================================= */

static const char *const RESULT_KEYS[] = {"alpha_y", "alpha_x", "lag",   "n",       "rho",        "band_lo",
                                          "band_hi", "ci_lo",   "ci_hi", "p_value", "boot_valid", NULL};
static const char *const QTEST_KEYS[] = {"alpha_y", "alpha_x", "p",     "q_bp",  "q_lb",
                                         "cv_bp",   "cv_lb",   "p_bp",  "p_lb",  NULL};

/* Splits a CSV line (no quoting in cqboot's output) in place. */
static size_t split_csv(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        cr_assert_lt(n, max);
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

/* The CSV's rows match the JSON results: same count, same doubles. */
static void check_csv_matches_json(const char *csv_path, const cJSON *results, int partial)
{
    char *text = read_file(csv_path, NULL);
    const char *want_start = partial ? "alpha_y,alpha_x,lag,n,rho,rho_partial," : "alpha_y,alpha_x,lag,n,rho,";
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    cr_assert_not_null(line, "empty CSV");
    cr_assert(!strncmp(line, want_start, strlen(want_start)), "CSV header: %s", line);
    char hdr[512];
    snprintf(hdr, sizeof hdr, "%s", line);
    char *names[32];
    size_t nf = split_csv(hdr, names, 32);
    /* every result key is a column (the CSV may carry more, each of which
     * must also be in the JSON: checked row by row below) */
    for (size_t k = 0; RESULT_KEYS[k]; ++k) {
        size_t m = 0;
        while (m < nf && strcmp(names[m], RESULT_KEYS[k])) ++m;
        cr_assert_lt(m, nf, "CSV header lacks '%s': %s", RESULT_KEYS[k], line);
    }
    int row = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        const cJSON *o = cJSON_GetArrayItem(results, row);
        cr_assert_not_null(o, "CSV has more rows than the JSON results");
        char *f[32];
        size_t n = split_csv(line, f, 32);
        cr_assert_eq(n, nf, "CSV row %d has %zu fields, header %zu", row + 1, n, nf);
        for (size_t k = 0; k < nf; ++k) {
            const cJSON *v = jget(o, names[k]);
            if (!strcmp(f[k], "NA")) {
                cr_assert(cJSON_IsNull(v), "row %d %s: NA in CSV, not null in JSON", row + 1, names[k]);
                continue;
            }
            char *end;
            double d = strtod(f[k], &end);
            cr_assert(*end == 0 && end != f[k], "row %d %s: '%s' is not a number", row + 1, names[k], f[k]);
            cr_assert(cJSON_IsNumber(v), "row %d %s: not a number in JSON", row + 1, names[k]);
            cr_assert(d == v->valuedouble, "row %d %s: CSV %s != JSON %.17g", row + 1, names[k], f[k],
                      v->valuedouble);
        }
        ++row;
    }
    cr_assert_eq(row, cJSON_GetArraySize(results), "CSV rows %d, JSON results %d", row,
                 cJSON_GetArraySize(results));
    free(text);
}

Test(cli, end_to_end_json_and_csv)
{
    run_t r = CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300", "--seed", "7",
                  "--backend", "cpu", "--threads", "2", "--quiet", "--json", g_json, "--csv", g_csv);
    expect_ok(&r);
    cr_assert_str_empty(r.out, "stdout with --json/--csv: %s", r.out);
    cr_assert_eq(count_tmp_files(g_dir), 0);
    cJSON *j = load_json(g_json);
    cr_assert_str_eq(jstr(j, "tool"), "cqboot cq");
    cr_assert_str_eq(jstr(j, "version"), CQB_VERSION);

    const cJSON *in = jget(j, "input");
    cr_assert_str_eq(jstr(in, "file"), US_CHINA);
    cr_assert_eq(jnum(in, "rows"), 336);
    cr_assert_str_eq(jstr(in, "first"), "1996-01");
    cr_assert_str_eq(jstr(in, "last"), "2023-12");
    const cJSON *cols = jget(in, "columns");
    cr_assert_eq(cJSON_GetArraySize(cols), 2);
    cr_assert_str_eq(cJSON_GetArrayItem(cols, 0)->valuestring, "GPR");
    cr_assert_str_eq(cJSON_GetArrayItem(cols, 1)->valuestring, "EPU_US");
    char hex[CQB_SHA256_HEX_SIZE];
    cqb_error err;
    cr_assert_eq(cqb_sha256_file(US_CHINA, hex, &err), CQB_OK);
    cr_assert_str_eq(jstr(in, "sha256"), hex);

    const cJSON *op = jget(j, "options");
    cr_assert_eq(jnum(op, "seed"), 7);
    cr_assert_str_eq(jstr(op, "gamma"), "auto");
    cr_assert_eq(jnum(op, "boot"), 300);
    cr_assert_str_eq(jstr(op, "backend"), "cpu");
    cr_assert_eq(jnum(op, "threads"), 2);
    cr_assert_str_eq(jstr(op, "quantile"), "r7_le");

    const cJSON *t = jget(j, "timing");
    cr_assert(cJSON_IsObject(t));
    cr_assert_geq(jnum(t, "total_s"), 0.0);

    const cJSON *res = jget(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 3 * 3 * 4);
    const double lv[3] = {0.1, 0.5, 0.9};
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, res)
    {
        for (size_t k = 0; RESULT_KEYS[k]; ++k) jget(o, RESULT_KEYS[k]);
        cr_assert(!cJSON_HasObjectItem(o, "rho_partial"), "rho_partial without controls");
        /* alpha_y outer, alpha_x, lag inner */
        cr_assert_eq(jnum(o, "alpha_y"), lv[i / 12]);
        cr_assert_eq(jnum(o, "alpha_x"), lv[(i / 4) % 3]);
        double lag = jnum(o, "lag");
        cr_assert_eq(lag, i % 4 + 1);
        cr_assert_eq(jnum(o, "n"), 336 - lag);
        double rho = jnum(o, "rho"), lo = jnum(o, "band_lo"), hi = jnum(o, "band_hi");
        cr_assert(rho >= -1 && rho <= 1);
        cr_assert(lo < hi, "band [%g, %g]", lo, hi);
        cr_assert(jnum(o, "ci_lo") == rho + lo, "cell %d: ci_lo %.17g != rho + band_lo %.17g", i,
                  jnum(o, "ci_lo"), rho + lo);
        cr_assert(jnum(o, "ci_hi") == rho + hi, "cell %d: ci_hi %.17g != rho + band_hi %.17g", i,
                  jnum(o, "ci_hi"), rho + hi);
        double p = jnum(o, "p_value");
        cr_assert(p >= 0 && p <= 1);
        cr_assert_eq(jnum(o, "boot_valid"), 300);
        ++i;
    }
    const cJSON *qt = jget(j, "qtests");
    cr_assert_eq(cJSON_GetArraySize(qt), 3 * 3 * 4);
    i = 0;
    cJSON_ArrayForEach(o, qt)
    {
        for (size_t k = 0; QTEST_KEYS[k]; ++k) jget(o, QTEST_KEYS[k]);
        cr_assert_eq(jnum(o, "p"), i % 4 + 1);
        cr_assert(jnum(o, "q_lb") >= jnum(o, "q_bp"), "Ljung-Box weights are >= 1");
        cr_assert(jnum(o, "cv_bp") > 0 && jnum(o, "cv_lb") > 0);
        cr_assert(jnum(o, "p_bp") >= 0 && jnum(o, "p_bp") <= 1);
        ++i;
    }
    check_csv_matches_json(g_csv, res, 0);

    /* the same seed again: identical results; another seed: other bands */
    char *res1 = jprint(j, "results");
    char *j2 = in_dir("seed7.json"), *j3 = in_dir("seed8.json");
    r = CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300", "--seed", "7", "--backend",
            "cpu", "--threads", "1", "--quiet", "--json", j2);
    expect_ok(&r);
    r = CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300", "--seed", "8", "--backend",
            "cpu", "--threads", "2", "--quiet", "--json", j3);
    expect_ok(&r);
    cJSON *k2 = load_json(j2), *k3 = load_json(j3);
    char *res2 = jprint(k2, "results");
    cr_assert_str_eq(res2, res1, "same seed, different results");
    int band_diff = 0;
    for (int c = 0; c < 36; ++c) {
        const cJSON *a = cJSON_GetArrayItem(res, c), *b = cJSON_GetArrayItem(jget(k3, "results"), c);
        cr_assert_eq(jnum(a, "rho"), jnum(b, "rho"), "rho depends on the seed");
        band_diff += jnum(a, "band_lo") != jnum(b, "band_lo") || jnum(a, "band_hi") != jnum(b, "band_hi");
    }
    cr_assert_gt(band_diff, 18, "only %d of 36 bands changed with the seed", band_diff);
    cr_assert_eq(jnum(jget(k3, "options"), "seed"), 8);
    free(res1);
    free(res2);
    cJSON_Delete(k2);
    cJSON_Delete(k3);
    cJSON_Delete(j);
}

Test(cli, end_to_end_with_control)
{
    run_t r = CLI("cq", RUN_US, "--alpha", "0.1,0.5,0.9", "--lags", "1-4", "--boot", "300", "--control",
                  "GPRT:0.5", "--gamma", "0.1", "--quiet", "--json", g_json, "--csv", g_csv);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    cr_assert_eq(jnum(jget(j, "options"), "gamma"), 0.1);
    const cJSON *cols = jget(jget(j, "input"), "columns");
    cr_assert_eq(cJSON_GetArraySize(cols), 3);
    cr_assert_str_eq(cJSON_GetArrayItem(cols, 2)->valuestring, "GPRT");
    const cJSON *res = jget(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 36);
    const cJSON *o;
    int differs = 0;
    cJSON_ArrayForEach(o, res)
    {
        for (size_t k = 0; RESULT_KEYS[k]; ++k) jget(o, RESULT_KEYS[k]);
        double pr = jnum(o, "rho_partial"), rho = jnum(o, "rho");
        cr_assert(pr >= -1 && pr <= 1);
        differs += pr != rho;
        cr_assert(jnum(o, "ci_lo") == pr + jnum(o, "band_lo"), "ci_lo %.17g != rho_partial + band_lo %.17g",
                  jnum(o, "ci_lo"), pr + jnum(o, "band_lo"));
        cr_assert(jnum(o, "ci_hi") == pr + jnum(o, "band_hi"));
        cr_assert_eq(jnum(o, "gamma"), 0.1);
        cr_assert_leq(jnum(o, "boot_valid"), 300);
        cr_assert_gt(jnum(o, "boot_valid"), 250);
    }
    cr_assert_gt(differs, 30, "the partial CQ equals the CQ in %d cells", 36 - differs);
    cr_assert_eq(cJSON_GetArraySize(jget(j, "qtests")), 36);
    check_csv_matches_json(g_csv, res, 1);
    cJSON_Delete(j);
}

Test(cli, outputs_to_stdout_and_table)
{
    /* --json - */
    run_t r = CLI("cq", RUN_US, "--alpha", "0.5,0.9", "--lags", "1-3", "--boot", "50", "--quiet", "--json", "-");
    expect_ok(&r);
    cJSON *j = parse_json_text(r.out, "cq --json - stdout");
    cr_assert_eq(cJSON_GetArraySize(jget(j, "results")), 2 * 2 * 3);
    cJSON_Delete(j);
    /* --csv - */
    r = CLI("cq", RUN_US, "--alpha", "0.5,0.9", "--lags", "1-3", "--boot", "50", "--quiet", "--csv", "-");
    expect_ok(&r);
    cr_assert(!strncmp(r.out, "alpha_y,alpha_x,lag,", 20));
    cr_assert_eq(count_char(r.out, '\n'), 1 + 12);
    /* the readable table */
    r = CLI("cq", RUN_US, "--alpha", "0.5,0.9", "--lags", "1-3", "--boot", "50", "--progress", "none");
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "GPR on lagged EPU_US"), "table: %s", r.out);
    cr_assert_not_null(strstr(r.out, "1996-01 .. 2023-12"));
    char *p = strstr(r.out, "alpha_y alpha_x");
    cr_assert_not_null(p, "no table header: %s", r.out);
    p = strchr(p, '\n') + 1;
    int rows = 0;
    while (*p && *p != '\n') {
        double ay, ax;
        unsigned lag, n;
        cr_assert_eq(sscanf(p, "%lf %lf %u %u", &ay, &ax, &lag, &n), 4, "table row: %.80s", p);
        cr_assert_eq(n, 336 - lag);
        ++rows;
        p = strchr(p, '\n');
        cr_assert_not_null(p);
        ++p;
    }
    cr_assert_eq(rows, 12);
    cr_assert_not_null(strstr(r.out, "Portmanteau"));
    cr_assert_eq(count_tmp_files(g_dir), 0);
}

Test(cli, outputs_replace_atomically_and_follow_umask)
{
    td_write(g_json, "old contents\n");
    g_child_umask = 022;
    run_t r = CLI("cq", RUN_US, SMALL, "--json", g_json, "--csv", g_csv);
    expect_ok(&r);
    cJSON *j = load_json(g_json); /* replaced */
    cJSON_Delete(j);
    struct stat st;
    cr_assert_eq(stat(g_json, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "--json file mode %o, want 644 under umask 022", st.st_mode & 0777);
    cr_assert_eq(stat(g_csv, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "--csv file mode %o", st.st_mode & 0777);
    /* a failing run leaves an existing target alone */
    r = CLI("cq", RUN_US, SMALL, "--lags", "400", "--json", g_json);
    cr_assert_eq(r.rc, 3);
    j = load_json(g_json);
    cr_assert_eq(cJSON_GetArraySize(jget(j, "results")), 2);
    cJSON_Delete(j);
    cr_assert_eq(count_tmp_files(g_dir), 0);
    g_child_umask = 077;
    char *bl = in_dir("bl.json");
    r = CLI("blocklen", "--data", US_CHINA, "--cols", "GPR,EPU_US", "--json", bl);
    expect_ok(&r);
    cr_assert_eq(stat(bl, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "blocklen --json mode %o under umask 077", st.st_mode & 0777);
}

/* ========================================================================= */
/* blocklen                                                                   */
/* ========================================================================= */

Test(cli, blocklen_reproduces_np_bstar)
{
    /* np::b.star(cbind(JPM_logret[-1], Market[-1][-N]))-style lag-1 matrix:
     * logdiff on JPM drops the first row of every column, so Market is
     * Market[-1]; --lag 1 pairs JPM_t with Market_{t-1}. */
    run_t r = CLI("blocklen", "--data", SYS_RISK, "--cols", "JPM,Market", "--transform", "JPM=logdiff", "--lag",
                  "1", "--json", "-");
    expect_ok(&r);
    cJSON *j = parse_json_text(r.out, "blocklen stdout");
    cr_assert_str_eq(jstr(j, "tool"), "cqboot blocklen");
    const cJSON *in = jget(j, "input");
    cr_assert_eq(jnum(in, "rows"), 5505);
    cr_assert_str_eq(jstr(in, "first"), "1993-02-24");
    cr_assert_str_eq(jstr(in, "last"), "2014-12-31");
    const cJSON *res = jget(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 2);
    const cJSON *a = cJSON_GetArrayItem(res, 0), *b = cJSON_GetArrayItem(res, 1);
    cr_assert_str_eq(jstr(a, "column"), "JPM");
    cr_assert_str_eq(jstr(b, "column"), "Market");
    cr_assert_eq(jnum(a, "n"), 5504);
    cr_assert_float_eq(jnum(a, "b_sb"), 8.691954498867, 1e-9, "JPM b_sb %.15g", jnum(a, "b_sb"));
    cr_assert_float_eq(jnum(b, "b_sb"), 21.138684882183, 1e-9, "Market b_sb %.15g", jnum(b, "b_sb"));
    cr_assert_float_eq(jnum(j, "gamma"), 0.081177777593, 1e-9, "gamma %.15g", jnum(j, "gamma"));
    /* gamma = min(1, mean(1/b)) exactly as printed */
    double g = 0.5 * (1.0 / jnum(a, "b_sb") + 1.0 / jnum(b, "b_sb"));
    cr_assert_float_eq(jnum(j, "gamma"), g, 1e-15);
    cJSON_Delete(j);

    /* the table form prints the same b values */
    r = CLI("blocklen", "--data", SYS_RISK, "--cols", "JPM,Market", "--transform", "JPM=logdiff", "--lag", "1");
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "8.691954"), "table: %s", r.out);
    cr_assert_not_null(strstr(r.out, "21.138685"), "table: %s", r.out);
    cr_assert_not_null(strstr(r.out, "0.08117777759"), "table: %s", r.out);

    /* without --lag the oracle values differ (the pairing matters) */
    r = CLI("blocklen", "--data", SYS_RISK, "--cols", "JPM,Market", "--transform", "JPM=logdiff", "--json", "-");
    expect_ok(&r);
    j = parse_json_text(r.out, "blocklen stdout");
    cr_assert_eq(jnum(cJSON_GetArrayItem(jget(j, "results"), 0), "n"), 5505);
    cr_assert(fabs(jnum(cJSON_GetArrayItem(jget(j, "results"), 1), "b_sb") - 21.138684882183) > 1e-9);
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------- */
/* Rolling windows and grid-wide tests from the CLI                           */
/* ------------------------------------------------------------------------- */

Test(cli, rolling_windows_equal_single_runs)
{
    /* each window's results are those of a --from/--to run on its rows */
    char *wj = in_dir("roll.json"), *sj = in_dir("single.json");
    run_t r = CLI("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
                  "--transform", "IPB52300S=logdiff", "--control", "GPR:0.5", "--alpha", "0.1,0.5", "--lags", "1-2",
                  "--boot", "300", "--seed", "9", "--window-years", "10", "--step", "5", "--json", wj, "--quiet");
    expect_ok(&r);
    cJSON *w = load_json(wj);
    const cJSON *roll = jget(w, "rolling");
    cr_assert(cJSON_IsArray(roll) && cJSON_GetArraySize(roll) == 4, "4 windows of 10 years every 5 from 1996");
    const cJSON *w1 = cJSON_GetArrayItem(roll, 1);
    cr_assert_str_eq(jstr(w1, "first"), "2001-01");
    cr_assert_str_eq(jstr(w1, "last"), "2010-12");
    r = CLI("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
            "--transform", "IPB52300S=logdiff", "--control", "GPR:0.5", "--alpha", "0.1,0.5", "--lags", "1-2",
            "--boot", "300", "--seed", "9", "--from", "2001-01", "--to", "2010-12", "--json", sj, "--quiet");
    expect_ok(&r);
    cJSON *s1 = load_json(sj);
    char *a = jprint(w1, "results"), *b = jprint(s1, "results");
    cr_expect_str_eq(a, b);
    char *qa = jprint(w1, "qtests"), *qb = jprint(s1, "qtests");
    cr_expect_str_eq(qa, qb);
    cr_expect_eq(jnum(w1, "rows"), 120);
    free(a);
    free(b);
    free(qa);
    free(qb);
    cJSON_Delete(w);
    cJSON_Delete(s1);
    /* rows windows: 60-month rolling windows every 60 months */
    r = CLI("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.5", "--lags", "1",
            "--boot", "100", "--window", "60", "--step", "60", "--csv", "-", "--quiet");
    expect_ok(&r);
    cr_expect_eq(count_char(r.out, '\n'), 1 + 1 + 5, "header, the full sample and 5 windows: %s", r.out);
    cr_expect(!strncmp(r.out, "window_first,window_last,alpha_y", 32), "%s", r.out);
    EXPECT_FAIL_CQ(2, NEEDLES("--step"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--step", "2");
    EXPECT_FAIL_CQ(2, NEEDLES("--window"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--window", "1");
    EXPECT_FAIL_CQ(2, NEEDLES("--window"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--window",
                   "400");
}

Test(cli, gridwide_outputs)
{
    char *j = in_dir("gw.json");
    run_t r = CLI("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
                  "--transform", "IPB52300S=logdiff", "--alpha", "0.1,0.5,0.9", "--lags", "1-3", "--boot", "400",
                  "--gridwide", "--json", j, "--quiet");
    expect_ok(&r);
    cJSON *root = load_json(j);
    const cJSON *res = jget(root, "results"), *sq = jget(root, "supq");
    cr_assert_eq(cJSON_GetArraySize(sq), 3);
    const cJSON *c;
    cJSON_ArrayForEach(c, res)
    {
        double p = jnum(c, "p_value"), rw = jnum(c, "p_rw"), holm = jnum(c, "p_holm"), bh = jnum(c, "p_bh");
        cr_expect(rw >= 0 && rw <= 1 && holm >= p && bh >= p && holm <= 1 && bh <= holm + 1e-15,
                  "p %g rw %g holm %g bh %g", p, rw, holm, bh);
    }
    cJSON_Delete(root);
    EXPECT_FAIL_CQ(2, NEEDLES("--gridwide"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--gridwide",
                   "--independent-cells");
}

Test(cli, conditional_quantile_cq_reproduces_r_crossqreg)
{
    /* R crossqreg.max(D1, D2, c(.1,.2), 3) with D1 = (Market_t, Market_{t-1}),
     * D2 = (JPM_t, JPM_{t-1}) from raw sys.risk (cross-quantilogram.md O5);
     * lags 1..4 because of R's off-by-one (B3) */
    run_t r = CLI("cq", "--data", CQB_TEST_DATA "/quantilogram_sys_risk.csv", "--y", "Market", "--x", "JPM",
                  "--y-regressors", "Market:1", "--x-regressors", "JPM:1", "--alpha-y", "0.1", "--alpha-x", "0.2",
                  "--lags", "1-4", "--boot", "50", "--csv", "-", "--quiet", "--backend", "cpu");
    expect_ok(&r);
    const double want[4] = {0.0539731043642291, 0.11748006369031, 0.0977872808894475, 0.0841445985401507};
    const char *line = strchr(r.out, '\n');
    for (int k = 0; k < 4; ++k) {
        cr_assert_not_null(line);
        double ay, ax, rho;
        int lag, n;
        cr_assert_eq(sscanf(line + 1, "%lf,%lf,%d,%d,%lf", &ay, &ax, &lag, &n, &rho), 5);
        cr_expect_eq(lag, k + 1);
        cr_expect(fabs(rho - want[k]) <= 1e-12, "lag %d: %.17g vs %.17g", k + 1, rho, want[k]);
        line = strchr(line + 1, '\n');
    }
    EXPECT_FAIL_CQ(2, NEEDLES("--x-regressors"), "--data", US_CHINA, "--y", "GPR", "--x", "IPB52300S",
                   "--y-regressors", "GPR:1");
    EXPECT_FAIL_CQ(2, NEEDLES("--control"), "--data", US_CHINA, "--y", "GPR", "--x", "IPB52300S", "--y-regressors",
                   "GPR:1", "--x-regressors", "IPB52300S:1", "--control", "GPRT");
}

Test(cli, conditional_quantile_cq_with_boot_0)
{
    /* --boot 0 gives the point statistics of the bootstrap run above, bit
     * for bit, and no bootstrap fields */
    const double want[4] = {0.0539731043642291, 0.11748006369031, 0.0977872808894475, 0.0841445985401507};
    run_t r = CLI("cq", "--data", CQB_TEST_DATA "/quantilogram_sys_risk.csv", "--y", "Market", "--x", "JPM",
                  "--y-regressors", "Market:1", "--x-regressors", "JPM:1", "--alpha-y", "0.1", "--alpha-x", "0.2",
                  "--lags", "1-4", "--boot", "0", "--json", g_json);
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    const cJSON *res = jget(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 4);
    for (int k = 0; k < 4; ++k) {
        const cJSON *c = cJSON_GetArrayItem(res, k);
        cr_expect(fabs(jnum(c, "rho") - want[k]) <= 1e-12, "lag %d: %.17g", k + 1, jnum(c, "rho"));
        cr_expect(cJSON_IsNull(jget(c, "band_lo")) && cJSON_IsNull(jget(c, "p_value")), "lag %d has bands", k + 1);
        cr_expect_eq(jnum(c, "boot_valid"), 0);
    }
    cJSON_Delete(j);
}

/* ------------------------------------------------------------------------- */
/* Wavelet commands                                                           */
/* ------------------------------------------------------------------------- */

#define EXPECT_FAIL_W(rc, needles, cmd, ...) \
    expect_fail_v(rc, needles, (const char *const[]){cmd, __VA_ARGS__, "--json", g_json, "--csv", g_csv, NULL})

Test(cli, wavelet_bad_inputs)
{
    char *f = fixture("w.csv", 40, NULL, 0);
    /* too many levels for 40 rows; J where the filter leaves only boundary
     * coefficients; M out of range; unknown names; one series; a constant */
    EXPECT_FAIL_W(2, NEEDLES("--levels"), "wmc", "--data", f, "--cols", "A,B", "--levels", "7");
    EXPECT_FAIL_W(3, NEEDLES("w.csv"), "wmc", "--data", f, "--cols", "A,B", "--wavelet", "la20", "--levels", "5");
    EXPECT_FAIL_W(2, NEEDLES("--M"), "wlmc", "--data", f, "--cols", "A,B", "--levels", "2", "--M", "0.5");
    EXPECT_FAIL_W(2, NEEDLES("M"), "wlmc", "--data", f, "--cols", "A,B", "--levels", "2", "--M", "100");
    EXPECT_FAIL_W(2, NEEDLES("--M"), "wlmc", "--data", f, "--cols", "A,B", "--levels", "2");
    EXPECT_FAIL_W(2, NEEDLES("--wavelet", "db99"), "wmc", "--data", f, "--cols", "A,B", "--wavelet", "db99");
    EXPECT_FAIL_W(2, NEEDLES("--window", "hann"), "wlmc", "--data", f, "--cols", "A,B", "--M", "5", "--window", "hann");
    EXPECT_FAIL_W(2, NEEDLES("--cols"), "wmc", "--data", f, "--cols", "A");
    EXPECT_FAIL_W(2, NEEDLES("--cols"), "modwt", "--data", f, "--cols", "A,B");
    EXPECT_FAIL_W(2, NEEDLES("--null", "joint"), "wlmc", "--data", f, "--cols", "A,B", "--M", "5", "--boot", "10",
                  "--null", "joint");
    /* a constant column (index file: no dates needed) */
    char path[256];
    snprintf(path, sizeof path, "%s/const.csv", g_dir);
    FILE *q = fopen(path, "w");
    cr_assert_not_null(q);
    fprintf(q, "i,A,B\n");
    for (int i = 0; i < 40; ++i) fprintf(q, "%d,%d,1.5\n", i, i * 7 % 11);
    fclose(q);
    EXPECT_FAIL_W(3, NEEDLES("constant"), "wmc", "--data", path, "--cols", "A,B", "--levels", "2");
}

Test(cli, wavelet_outputs)
{
    char *j = in_dir("wl.json");
    run_t r = CLI("wlmc", "--data", US_CHINA, "--cols", "IPB52300S,GPRC_CHN,GPR", "--transform", "IPB52300S=logdiff",
                  "--transform", "GPRC_CHN=logdiff", "--transform", "GPR=logdiff", "--levels", "3", "--M", "12",
                  "--boot", "50", "--json", j, "--quiet");
    expect_ok(&r);
    cJSON *root = load_json(j);
    const cJSON *lv = jget(root, "levels");
    cr_assert_eq(cJSON_GetArraySize(lv), 4);
    const cJSON *d1 = cJSON_GetArrayItem(lv, 0), *s3 = cJSON_GetArrayItem(lv, 3);
    cr_expect_str_eq(jstr(d1, "level"), "d1");
    cr_expect_str_eq(jstr(d1, "band"), "2-4");
    cr_expect_str_eq(jstr(s3, "level"), "s3");
    const char *keys[] = {"date", "value", "lo", "up", "ymaxr", "p_boot", "p_fw"};
    for (int k = 0; k < 7; ++k)
        cr_expect_eq(cJSON_GetArraySize(jget(d1, keys[k])), 335, "%s has %d entries", keys[k],
                     cJSON_GetArraySize(jget(d1, keys[k])));
    cr_expect_str_eq(cJSON_GetArrayItem(jget(d1, "date"), 0)->valuestring, "1996-02");
    cJSON_Delete(root);
    r = CLI("wmc", "--data", US_CHINA, "--cols", "IPB52300S,GPRC_CHN", "--transform", "IPB52300S=logdiff",
            "--transform", "GPRC_CHN=logdiff", "--levels", "3", "--csv", "-");
    expect_ok(&r);
    cr_expect(!strncmp(r.out, "level,band,value,lo,up,ymaxr\nd1,2-4,", 36), "%s", r.out);
    cr_expect_eq(count_char(r.out, '\n'), 5);
}

Test(cli, selfnorm_outputs)
{
    char *j = in_dir("sn.json");
    run_t r = CLI("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
                  "--transform", "IPB52300S=logdiff", "--alpha", "0.1,0.5", "--lags", "1-3", "--boot", "50",
                  "--selfnorm", "--json", j, "--quiet", "--backend", "cpu");
    expect_ok(&r);
    cJSON *root = load_json(j);
    const cJSON *sn = jget(root, "selfnorm");
    /* per (alpha_y, alpha_x): 3 omnibus tests (p = 1..3) and 3 t-tests */
    cr_assert_eq(cJSON_GetArraySize(sn), 4 * 6);
    const cJSON *e;
    cJSON_ArrayForEach(e, sn)
    {
        double p = jnum(e, "p_value"), st = jnum(e, "stat");
        cr_expect(p >= 0 && p <= 1, "p-value %g", p);
        cr_expect(jnum(e, "cv90") < jnum(e, "cv95") && jnum(e, "cv95") < jnum(e, "cv99"));
        if (!strcmp(jstr(e, "test"), "omnibus")) cr_expect(st >= 0);
    }
    /* the p = 1 omnibus statistic equals the squared lag-1 t statistic */
    const cJSON *o1 = cJSON_GetArrayItem(sn, 0), *t1 = cJSON_GetArrayItem(sn, 3);
    cr_expect_str_eq(jstr(o1, "test"), "omnibus");
    cr_expect_str_eq(jstr(t1, "test"), "t");
    cr_expect(fabs(jnum(o1, "stat") - jnum(t1, "stat") * jnum(t1, "stat")) <= 1e-9 * (1 + jnum(o1, "stat")),
              "S %g vs t^2 %g", jnum(o1, "stat"), jnum(t1, "stat") * jnum(t1, "stat"));
    cJSON_Delete(root);
    EXPECT_FAIL_CQ(2, NEEDLES("--omega"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--omega", "0.2");
    EXPECT_FAIL_CQ(2, NEEDLES("--omega"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--selfnorm",
                   "--omega", "1");
}

/* -------------------------------------------------------------------------- */
/* Calibrated test options (issue #10)                                        */
/* -------------------------------------------------------------------------- */

Test(cli, calibrated_bad_values_exit_2_with_one_line)
{
    EXPECT_FAIL_CQ(2, NEEDLES("--null-scheme", "foo"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPRC_USA",
                   "--null-scheme", "foo", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--mark", "'x'"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPRC_USA", "--mark",
                   "x", SMALL);
    EXPECT_FAIL_CQ(2, NEEDLES("--rotation-margin"), "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPRC_USA",
                   "--rotation-margin", "0", SMALL);
}

Test(cli, calibrated_keys_and_marks)
{
    /* p_null, p_null_conservative, sparse per cell; '*' (JSON 'marked')
     * follows --mark; qtests[].p_null; the R band is the same with any rule */
    double band[3][16];
    const char *marks[3] = {"null", "band", "p"};
    for (int m = 0; m < 3; ++m) {
        unlink(g_json);
        run_t r = run_args((const char *const[]){"cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPRC_USA",
                                                 "--alpha", "0.05,0.5", "--lags", "1-4", "--boot", "199", "--quiet",
                                                 "--mark", marks[m], "--json", g_json, NULL});
        expect_ok(&r);
        cJSON *j = load_json(g_json);
        const cJSON *o;
        int i = 0;
        cJSON_ArrayForEach(o, jget(j, "results"))
        {
            double p = jnum(o, "p_null"), pc = jnum(o, "p_null_conservative"), n = jnum(o, "n");
            double ay = jnum(o, "alpha_y"), ax = jnum(o, "alpha_x");
            cr_assert(p > 0 && p <= 1 && pc >= p && pc <= 1, "p_null %g, conservative %g", p, pc);
            cr_assert_eq(jnum(o, "null_valid"), n - 2 * 10 + 1, "rotation: shifts 10..N-10");
            int sparse = n * fmin(ay, 1 - ay) * fmin(ax, 1 - ax) < 5;
            cr_assert_eq(jnum(o, "sparse"), sparse);
            double rho = jnum(o, "rho"), lo = jnum(o, "band_lo"), hi = jnum(o, "band_hi");
            int want = m == 0 ? p < 0.05 : m == 1 ? (rho < lo || rho > hi) : jnum(o, "p_value") < 0.05;
            cr_assert_eq(jnum(o, "marked"), want, "rule %s cell %d", marks[m], i);
            band[m][i] = lo;
            ++i;
        }
        cJSON_ArrayForEach(o, jget(j, "qtests"))
        {
            double p = jnum(o, "p_null");
            cr_assert(p > 0 && p <= 1);
            cr_assert(jnum(o, "cv_null_lb") > 0);
        }
        cr_assert_str_eq(jget(jget(j, "options"), "mark")->valuestring, marks[m]);
        cJSON_Delete(j);
    }
    for (int i = 0; i < 16; ++i) cr_assert(band[0][i] == band[1][i] && band[1][i] == band[2][i]);
}

Test(cli, calibrated_with_controls)
{
    /* the partial CQ's calibrated test: rotation within the control strata */
    run_t r = run_args((const char *const[]){"cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPRC_USA",
                                             "--control", "GPR", "--alpha", "0.1,0.5", "--lags", "1-2", "--boot", "50",
                                             "--json", g_json, "--quiet", NULL});
    expect_ok(&r);
    cJSON *j = load_json(g_json);
    cr_assert_str_eq(jget(jget(j, "options"), "mark_applied")->valuestring, "null");
    cr_assert_str_eq(jget(jget(j, "options"), "null_scheme")->valuestring, "stratified_rotation");
    const cJSON *o;
    cJSON_ArrayForEach(o, jget(j, "results"))
    {
        double p = jnum(o, "p_null");
        cr_assert(p > 0 && p <= 1 && jnum(o, "null_valid") > 100);
        cr_assert_eq(jnum(o, "marked"), p < 0.05);
    }
    cJSON_ArrayForEach(o, jget(j, "qtests")) cr_assert(jnum(o, "p_null") > 0);
    cJSON_Delete(j);
}

Test(cli, calibrated_table_marks_and_zero_p_values)
{
    /* the table: p_null column, '*' by the calibrated rule, sparse cells
     * flagged 's', and a zero bootstrap p-value printed as < 1/(B+1) */
    run_t r = run_args((const char *const[]){"cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S",
                                             "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff",
                                             "--alpha", "0.05,0.5", "--lags", "1-2", "--boot", "99", "--quiet",
                                             NULL});
    expect_ok(&r);
    cr_assert_not_null(strstr(r.out, "p_null"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "calibrated test"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "<0.01"), "a zero p_value shows as <1/(B+1): %s", r.out);
    cr_assert_not_null(strstr(r.out, " s\n"), "sparse flag: %s", r.out);
}

Test(cli, calibrated_options_in_help)
{
    run_t r = run_args((const char *const[]){"cq", "--help", NULL});
    cr_assert_eq(r.rc, 0);
    const char *opts[] = {"--null-scheme", "--rotation-margin", "--mark", "--no-null", NULL};
    for (int i = 0; opts[i]; ++i) cr_assert_not_null(strstr(r.out, opts[i]), "cq --help lacks %s", opts[i]);
    r = run_args((const char *const[]){"simulate", "--help", NULL});
    cr_assert_eq(r.rc, 0);
    cr_assert_not_null(strstr(r.out, "--null-scheme"));
    cr_assert_not_null(strstr(r.out, "--rotation-margin"));
}
