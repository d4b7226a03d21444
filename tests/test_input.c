/* test_input.c — issue #11 items 4 and 5 through the command line:
 * - `cqboot run` rejects every invalid combination before the first analysis
 *   runs, naming the JSON path (the subcommands' own checks, run in
 *   check-only mode); threads 0 means all cores everywhere;
 * - CSV dialects (--sep, --decimal) and date forms (--date-format): what is
 *   read, what is refused and how the message names the option. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testdata.h"

#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"

static char g_dir[128];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_input_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void teardown(void) { td_remove_tree(g_dir); }

TestSuite(input, .init = setup, .fini = teardown, .timeout = 300);

static const char *spit(const char *name, const char *text)
{
    static char paths[8][256];
    static int k;
    char *path = paths[k++ % 8];
    snprintf(path, 256, "%s/%s", g_dir, name);
    td_write(path, text);
    return path;
}

typedef struct run_t {
    int rc;
    char *out, *err;
} run_t;

static run_t run_v(const char *const *argv)
{
    char outp[256], errp[256];
    snprintf(outp, sizeof outp, "%s/.stdout", g_dir);
    snprintf(errp, sizeof errp, "%s/.stderr", g_dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run_t r = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), td_slurp(outp), td_slurp(errp)};
    unlink(outp);
    unlink(errp);
    return r;
}

#define RUN(...) run_v((const char *const[]){CQB_CLI, __VA_ARGS__, NULL})

static int exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* A study whose first analysis is valid (a block length) and whose second
 * carries `bad` (JSON members of a cq analysis on the monthly data);
 * defaults adds members to the defaults object. */
static const char *study_with(const char *bad, const char *defaults)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\": \"v\",\n"
             " \"datasets\": {\"m\": {\"file\": \"%s\", \"transforms\": {\"GPRC_CHN\": \"logdiff\", \"IPB52300S\": "
             "\"logdiff\"}, \"from\": \"1996-01\"}},\n"
             " \"defaults\": {\"seed\": 3, \"boot\": 49%s%s},\n"
             " \"analyses\": [\n"
             "  {\"name\": \"bl\", \"kind\": \"blocklen\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"]},\n"
             "  {\"name\": \"c\", \"kind\": \"cq\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\", \"alpha\": [0.5],\n"
             "   \"lags\": \"1-2\"%s%s}\n"
             " ]}\n",
             US_CHINA, defaults ? ", " : "", defaults ? defaults : "", bad ? ", " : "", bad ? bad : "");
    return spit("study.json", text);
}

/* Runs the study expecting exit `code` and a message naming `path`, with
 * nothing run (no output of the valid first analysis). */
static void study_rejected(const char *bad, const char *defaults, int code, const char *path, const char *needle)
{
    const char *study = study_with(bad, defaults);
    char out[256];
    snprintf(out, sizeof out, "%s/out", g_dir);
    run_t r = RUN("run", study, "--out", out, "--quiet");
    cr_assert_eq(r.rc, code, "%s: exit %d, want %d; stderr: %s", bad, r.rc, code, r.err);
    cr_assert_not_null(strstr(r.err, path), "%s: stderr lacks '%s': %s", bad, path, r.err);
    if (needle) cr_assert_not_null(strstr(r.err, needle), "%s: stderr lacks '%s': %s", bad, needle, r.err);
    cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
    cr_assert(!exists(out, "bl.csv"), "%s: the first analysis ran before the fault was found", bad);
    free(r.out);
    free(r.err);
    td_remove_tree(out);
}

Test(input, study_rejects_combinations_before_running)
{
    study_rejected("\"omega\": 0.1", NULL, 2, "study.json: analyses[1].omega: omega needs selfnorm", NULL);
    study_rejected("\"step\": 2", NULL, 2, "analyses[1].step: step and recursive need window or window_years", NULL);
    study_rejected("\"y_regressors\": \"GPR\"", NULL, 2, "analyses[1].y_regressors: y_regressors and x_regressors go together",
                   NULL);
    study_rejected("\"gridwide\": true, \"independent_cells\": true", NULL, 2, "analyses[1].gridwide:",
                   "(no independent_cells)");
    study_rejected("\"level\": 1e-320", NULL, 2, "analyses[1].level: level:", NULL);
    study_rejected("\"alpha\": [1e-320]", NULL, 2, "analyses[1]", "alpha");
    study_rejected("\"window\": 10, \"window_years\": 2", NULL, 2, "analyses[1].window: give window or window_years",
                   NULL);
    study_rejected("\"selfnorm\": true, \"y_regressors\": \"GPR\", \"x_regressors\": \"GPR\"", NULL, 2,
                   "analyses[1].selfnorm:", NULL);
    /* from the defaults: the path says so */
    study_rejected(NULL, "\"level\": 1e-320", 2, "defaults.level (in analyses[1])", NULL);
    /* what depends on the data: rows for the lags, window longer than the data */
    study_rejected("\"lags\": 400", NULL, 3, "analyses[1].lags:", "too few rows");
    study_rejected("\"window\": 100000", NULL, 2, "analyses[1]", NULL);
}

Test(input, study_threads_zero_and_negative_zero_seed_run)
{
    /* the README's own study example sets "threads": 0 */
    const char *study = study_with("\"seed\": -0.0, \"threads\": 0", "\"threads\": 0");
    char out[256];
    snprintf(out, sizeof out, "%s/out", g_dir);
    run_t r = RUN("run", study, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 0, "exit %d: %s", r.rc, r.err);
    cr_assert(exists(out, "c.csv") && exists(out, "bl.csv"));
    free(r.out);
    free(r.err);
    r = RUN("run", study, "--out", out, "--quiet", "--threads", "0", "--resume");
    cr_assert_eq(r.rc, 0, "exit %d: %s", r.rc, r.err);
    free(r.out);
    free(r.err);
    /* and every subcommand takes --threads 0 */
    r = RUN("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--alpha", "0.5", "--lags", "1", "--boot",
            "19", "--threads", "0", "--quiet");
    cr_assert_eq(r.rc, 0, "cq --threads 0: %s", r.err);
    free(r.out);
    free(r.err);
    r = RUN("wmc", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S", "--threads", "0", "--quiet");
    cr_assert_eq(r.rc, 0, "wmc --threads 0: %s", r.err);
    free(r.out);
    free(r.err);
}

Test(input, study_dataset_reading_options)
{
    spit("us.csv", "date;a;b\n01/02/2020;1,5;2\n02/02/2020;2,5;1\n03/02/2020;1,25;3\n04/02/2020;3;2,5\n"
                   "05/02/2020;2;1\n06/02/2020;2,75;4\n07/02/2020;1;2\n08/02/2020;4;1,5\n");
    char text[1024];
    snprintf(text, sizeof text,
             "{\"name\": \"d\", \"datasets\": {\"u\": {\"file\": \"us.csv\"%s}},\n"
             " \"analyses\": [{\"name\": \"w\", \"kind\": \"wmc\", \"cols\": [\"a\", \"b\"], \"levels\": 1}]}\n",
             "");
    const char *study = spit("d.json", text);
    run_t r = RUN("run", study, "--out", g_dir, "--quiet");
    cr_assert_eq(r.rc, 3, "exit %d: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "--sep ';'"), "%s", r.err);
    free(r.out);
    free(r.err);
    snprintf(text, sizeof text,
             "{\"name\": \"d\", \"datasets\": {\"u\": {\"file\": \"us.csv\", \"sep\": \";\", \"decimal\": \",\"}},\n"
             " \"analyses\": [{\"name\": \"w\", \"kind\": \"wmc\", \"cols\": [\"a\", \"b\"], \"levels\": 1}]}\n");
    study = spit("d.json", text);
    r = RUN("run", study, "--out", g_dir, "--quiet");
    cr_assert_eq(r.rc, 3, "exit %d: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "--date-format"), "%s", r.err);
    free(r.out);
    free(r.err);
    snprintf(text, sizeof text,
             "{\"name\": \"d\", \"datasets\": {\"u\": {\"file\": \"us.csv\", \"sep\": \";\", \"decimal\": \",\", "
             "\"date_format\": \"MM/DD/YYYY\", \"from\": \"01/02/2020\"}},\n"
             " \"analyses\": [{\"name\": \"w\", \"kind\": \"wmc\", \"cols\": [\"a\", \"b\"], \"levels\": 1}]}\n");
    study = spit("d.json", text);
    r = RUN("run", study, "--out", g_dir, "--quiet");
    cr_assert_eq(r.rc, 0, "exit %d: %s", r.rc, r.err);
    free(r.out);
    free(r.err);
    snprintf(text, sizeof text,
             "{\"name\": \"d\", \"datasets\": {\"u\": {\"file\": \"us.csv\", \"sep\": \"x\"}},\n"
             " \"analyses\": [{\"name\": \"w\", \"kind\": \"wmc\", \"cols\": [\"a\", \"b\"], \"levels\": 1}]}\n");
    study = spit("d.json", text);
    r = RUN("run", study, "--out", g_dir, "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "datasets.u.sep: must be"), "%s", r.err);
    free(r.out);
    free(r.err);
}

Test(input, cli_dialects_and_dates)
{
    const char *semi = spit("semi.csv", "date;a;b\n2020-01;1,5;2\n2020-02;2,5;1\n2020-03;1,25;3\n2020-04;3;2,5\n"
                                        "2020-05;2;1\n2020-06;2,75;4\n2020-07;1;2\n2020-08;4;1,5\n");
    run_t r = RUN("blocklen", "--data", semi, "--cols", "a,b");
    cr_assert_eq(r.rc, 3);
    cr_assert_not_null(strstr(r.err, "the header has no ',' separator but has semicolons: read the file with --sep ';'"),
                       "%s", r.err);
    free(r.out);
    free(r.err);
    r = RUN("blocklen", "--data", semi, "--cols", "a,b", "--sep", ";");
    cr_assert_eq(r.rc, 3);
    cr_assert_not_null(strstr(r.err, "non-numeric value '1,5' (a decimal comma? read the file with --decimal ,)"), "%s",
                       r.err);
    free(r.out);
    free(r.err);
    r = RUN("wmc", "--data", semi, "--cols", "a,b", "--levels", "1", "--quiet", "--sep", ";", "--decimal", ",");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_str_empty(r.err);
    free(r.out);
    free(r.err);
    r = RUN("blocklen", "--data", semi, "--cols", "a,b", "--sep", "x");
    cr_assert_eq(r.rc, 2);
    cr_assert_not_null(strstr(r.err, "--sep: unknown separator 'x'"), "%s", r.err);
    free(r.out);
    free(r.err);

    /* a monthly US file: refused, not read as January days */
    const char *us = spit("us.csv", "date,a,b\n01/01/2020,1,2\n02/01/2020,2,1\n03/01/2020,1.5,3\n04/01/2020,3,2.5\n"
                                    "05/01/2020,2,1\n06/01/2020,2.5,4\n07/01/2020,1,2\n08/01/2020,4,1.5\n");
    r = RUN("blocklen", "--data", us, "--cols", "a,b");
    cr_assert_eq(r.rc, 3);
    cr_assert_not_null(strstr(r.err, "give --date-format DD/MM/YYYY or --date-format MM/DD/YYYY"), "%s", r.err);
    free(r.out);
    free(r.err);
    r = RUN("wmc", "--data", us, "--cols", "a,b", "--levels", "1", "--wavelet", "haar", "--quiet", "--date-format", "MM/DD/YYYY",
            "--from", "2020-02", "--json", "-");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\"first\":\t\"02/01/2020\""), "%s", r.out);
    free(r.out);
    free(r.err);
    r = RUN("blocklen", "--data", us, "--cols", "a,b", "--date-format", "YYY");
    cr_assert_eq(r.rc, 2);
    cr_assert_not_null(strstr(r.err, "--date-format: unknown format 'YYY'"), "%s", r.err);
    free(r.out);
    free(r.err);
    r = RUN("blocklen", "--data", us, "--cols", "a,b", "--date-format", "YYYY");
    cr_assert_eq(r.rc, 3);
    cr_assert_not_null(strstr(r.err, "'01/01/2020' in the first column is not a YYYY date"), "%s", r.err);
    free(r.out);
    free(r.err);

    /* forms that used to become an index */
    const char *forms[] = {"2020M01", "2020Q1", "01/2020", "Jan 2020", "2020/01", "2020"};
    const char *next[] = {"2020M02", "2020Q2", "02/2020", "Feb 2020", "2020/02", "2021"};
    for (int i = 0; i < 6; ++i) {
        char text[512];
        snprintf(text, sizeof text, "d,a,b\n%s,1,2\n%s,2,1\n", forms[i], next[i]);
        const char *p = spit("f.csv", text);
        r = RUN("blocklen", "--data", p, "--cols", "a,b", "--from", forms[i], "--json", "-");
        /* two rows are too few for a block length, but the range was read as dates */
        cr_assert_null(strstr(r.err, "needs a date column"), "%s: %s", forms[i], r.err);
        cr_assert_null(strstr(r.err, "index"), "%s: %s", forms[i], r.err);
        free(r.out);
        free(r.err);
    }

    /* an index: said once, on success */
    const char *idx = spit("idx.csv", "id,a,b\nx1,1,2\nx2,2,1\nx3,1.5,3\nx4,3,2.5\nx5,2,1\nx6,2.5,4\nx7,1,2\nx8,4,1.5\n");
    r = RUN("wmc", "--data", idx, "--cols", "a,b", "--levels", "1", "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "cqboot: note: "), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "the first column 'id' is taken as an index"), "%s", r.err);
    free(r.out);
    free(r.err);
}

Test(input, study_wavelet_limits_checked_before_running)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"w\", \"datasets\": {\"m\": {\"file\": \"%s\"}},\n"
             " \"analyses\": [{\"name\": \"bl\", \"kind\": \"blocklen\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"]},\n"
             "  {\"name\": \"w\", \"kind\": \"wlmc\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"], \"M\": 100000}]}\n",
             US_CHINA);
    const char *study = spit("w.json", text);
    char out[256];
    snprintf(out, sizeof out, "%s/out", g_dir);
    run_t r = RUN("run", study, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "analyses[1]"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "M = 100000"), "%s", r.err);
    cr_assert(!exists(out, "bl.csv"));
    free(r.out);
    free(r.err);
    snprintf(text, sizeof text,
             "{\"name\": \"w\", \"datasets\": {\"m\": {\"file\": \"%s\"}},\n"
             " \"analyses\": [{\"name\": \"bl\", \"kind\": \"blocklen\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"]},\n"
             "  {\"name\": \"w\", \"kind\": \"wmc\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"], \"levels\": 9}]}\n",
             US_CHINA);
    study = spit("w.json", text);
    r = RUN("run", study, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    cr_assert_not_null(strstr(r.err, "analyses[1].levels: levels 9: too many levels"), "%s", r.err);
    cr_assert(!exists(out, "bl.csv"));
    free(r.out);
    free(r.err);
}
