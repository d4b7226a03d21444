/* test_embed.c — the subcommands in-process (cqboot/embed.h): every command
 * run through cqb_embed_run on an in-memory data set gives the same JSON
 * (all but "input" and "timing", byte for byte) and the same CSV text as
 * the CLI program on the CSV file with the same seed; a cancel flag stops a
 * run with 130 and no output; bad options give the CLI's message and exit
 * code; nothing is written on stdout or stderr.
 *
 * The CLI is CQB_CLI, run with fork/execv; its outputs go to a mkdtemp
 * directory per test. */
#include <criterion/criterion.h>

#include "testdata.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/embed.h"
#include "cqboot/frame.h"

#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"

static char g_dir[128];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_embed_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp failed: %s", strerror(errno));
}

static void teardown(void) { td_remove_tree(g_dir); }

TestSuite(embed, .init = setup, .fini = teardown);

/* Runs the CLI: cqboot CMD ARGS... (NULL-terminated); stderr to DIR/err. */
static int run_cli(const char *cmd, const char *const *args)
{
    const char *av[64];
    int n = 0;
    av[n++] = CQB_CLI;
    av[n++] = cmd;
    for (int i = 0; args[i]; ++i) av[n++] = args[i];
    av[n] = NULL;
    char errp[256];
    snprintf(errp, sizeof errp, "%s/err", g_dir);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 2);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) dup2(nul, 1);
        setenv("OMP_NUM_THREADS", "2", 1);
        execv(CQB_CLI, (char *const *)av);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The CSV file as an in-memory frame, as a binding builds it: every column,
 * missing cells NaN, the first column's text as labels. */
typedef struct mem_frame {
    cqb_embed_frame f;
    char **names;
    double **cols;
    char **labels;
} mem_frame;

static void mem_frame_load(mem_frame *m, const char *path)
{
    cqb_frame *fr;
    cqb_error err;
    cr_assert_eq(cqb_frame_read(path, &fr, &err), CQB_OK, "%s", err.msg);
    size_t nr = cqb_frame_rows(fr), nc = cqb_frame_cols(fr);
    m->names = calloc(nc, sizeof *m->names);
    m->cols = calloc(nc, sizeof *m->cols);
    m->labels = calloc(nr, sizeof *m->labels);
    for (size_t j = 0; j < nc; ++j) {
        m->names[j] = strdup(cqb_frame_col_name(fr, j));
        m->cols[j] = malloc(nr * sizeof(double));
        for (size_t i = 0; i < nr; ++i) {
            double v;
            m->cols[j][i] = cqb_frame_cell(fr, i, j, &v) == CQB_CELL_OK ? v : NAN;
        }
    }
    for (size_t i = 0; i < nr; ++i) m->labels[i] = strdup(cqb_frame_label(fr, i));
    m->f.nrow = nr;
    m->f.ncol = nc;
    m->f.names = (const char *const *)m->names;
    m->f.cols = (const double *const *)m->cols;
    m->f.labels = (const char *const *)m->labels;
    m->f.name = NULL;
    cqb_frame_free(fr);
}

static void mem_frame_free(mem_frame *m)
{
    for (size_t j = 0; j < m->f.ncol; ++j) {
        free(m->names[j]);
        free(m->cols[j]);
    }
    for (size_t i = 0; i < m->f.nrow; ++i) free(m->labels[i]);
    free(m->names);
    free(m->cols);
    free(m->labels);
}

/* The JSON text without the members that name the input or time the run,
 * ("seconds" in sncv), and options.wait_policy: the CLI re-executes itself with passive OpenMP
 * waiting, which a host process (Python, R) has already fixed. */
static char *json_core(const char *txt)
{
    cJSON *r = cJSON_Parse(txt);
    cr_assert_not_null(r, "not JSON: %.200s", txt);
    cJSON_DeleteItemFromObjectCaseSensitive(r, "input");
    cJSON_DeleteItemFromObjectCaseSensitive(r, "timing");
    cJSON_DeleteItemFromObjectCaseSensitive(r, "seconds"); /* sncv's timing */
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "options"), "wait_policy");
    char *s = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return s;
}

/* Asserts equal texts, showing where they part. */
static void same_json(const char *cmd, const char *got, const char *want)
{
    size_t k = 0;
    while (got[k] && got[k] == want[k]) ++k;
    cr_assert_str_eq(got, want, "embed %s: JSON differs from the CLI's at %zu: embed '%.80s', CLI '%.80s'", cmd, k,
                     got + (k > 20 ? k - 20 : 0), want + (k > 20 ? k - 20 : 0));
}

static int count_args(const char *const *a)
{
    int n = 0;
    while (a[n]) ++n;
    return n;
}

/* Runs CMD ARGS through the CLI on US_CHINA and through embed on the same
 * data in memory; the JSON (less input/timing) and the CSV must be equal. */
static void same_as_cli(const char *cmd, const char *const *args, int has_csv)
{
    char json[256], csv[256];
    snprintf(json, sizeof json, "%s/out.json", g_dir);
    snprintf(csv, sizeof csv, "%s/out.csv", g_dir);
    const char *cli_args[64];
    int n = 0;
    cli_args[n++] = "--data";
    cli_args[n++] = US_CHINA;
    for (int i = 0; args[i]; ++i) cli_args[n++] = args[i];
    cli_args[n++] = "--json";
    cli_args[n++] = json;
    if (has_csv) {
        cli_args[n++] = "--csv";
        cli_args[n++] = csv;
    }
    cli_args[n] = NULL;
    int rc = run_cli(cmd, cli_args);
    char errp[300];
    snprintf(errp, sizeof errp, "%s/err", g_dir);
    char *cerr = td_slurp(errp);
    cr_assert_eq(rc, 0, "cqboot %s: exit %d: %s", cmd, rc, cerr ? cerr : "");
    free(cerr);

    mem_frame m;
    mem_frame_load(&m, US_CHINA);
    cqb_embed_call call = {cmd, count_args(args), args, &m.f, NULL, NULL, NULL};
    cqb_embed_result res;
    setenv("OMP_NUM_THREADS", "2", 1);
    cr_assert_eq(cqb_embed_run(&call, &res), 0, "embed %s: %d %s", cmd, res.status, res.message);
    cr_assert_not_null(res.json);
    char *want = td_slurp(json), *wc = json_core(want), *gc = json_core(res.json);
    cr_assert(strlen(gc) > 50);
    same_json(cmd, gc, wc);
    /* the input names the in-memory data set */
    cJSON *r = cJSON_Parse(res.json);
    cJSON *in = cJSON_GetObjectItemCaseSensitive(r, "input");
    if (in) cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(in, "file")->valuestring, "<data>");
    cJSON_Delete(r);
    if (has_csv) {
        char *wcsv = td_slurp(csv);
        cr_assert_not_null(res.csv);
        cr_assert(strlen(wcsv) > 20);
        cr_assert_str_eq(res.csv, wcsv, "embed %s: CSV differs from the CLI's", cmd);
        free(wcsv);
    } else {
        cr_assert_null(res.csv);
    }
    free(want);
    free(wc);
    free(gc);
    cqb_embed_result_free(&res);
    mem_frame_free(&m);
}

Test(embed, cq_partial_with_q_tests_and_gridwide)
{
    const char *a[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "IPB52300S=logdiff", "--transform", "GPR=logdiff", "--from", "1996-01", "--to", "2023-12",
                       "--control", "WGI_CHN_GE:0.5", "--control", "GPR:0.5", "--alpha", "0.1,0.5,0.9", "--lags", "1-3",
                       "--boot", "199", "--seed", "2025", "--gridwide", NULL};
    same_as_cli("cq", a, 1);
}

Test(embed, cq_windows)
{
    const char *a[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "IPB52300S=logdiff", "--alpha", "0.1,0.5", "--lags", "1", "--boot", "99", "--seed", "7",
                       "--window-years", "10", "--step", "5", NULL};
    same_as_cli("cq", a, 1);
}

Test(embed, blocklen)
{
    const char *a[] = {"--cols", "GPRC_CHN,IPB52300S", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "IPB52300S=logdiff", NULL};
    same_as_cli("blocklen", a, 0);
}

Test(embed, wavelets)
{
    const char *t[] = {"--transform", "IPB52300S=logdiff", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "GPR=logdiff"};
    const char *modwt[] = {"--cols", "IPB52300S", t[0], t[1], "--wavelet", "la8", "--levels", "4", NULL};
    same_as_cli("modwt", modwt, 1);
    const char *wmc[] = {"--cols", "IPB52300S,GPRC_CHN,GPR", t[0], t[1], t[2], t[3], t[4], t[5], "--wavelet", "la8",
                         "--levels", "4", "--boot", "99", "--seed", "3", NULL};
    same_as_cli("wmc", wmc, 1);
    const char *wmcc[] = {"--cols", "IPB52300S,GPRC_CHN,GPR", t[0], t[1], t[2], t[3], t[4], t[5], "--levels", "3",
                          "--lag-max", "3", NULL};
    same_as_cli("wmcc", wmcc, 1);
    const char *wlmc[] = {"--cols", "IPB52300S,GPRC_CHN,GPR", t[0], t[1], t[2], t[3], t[4], t[5], "--levels", "3",
                          "--M", "24", NULL};
    same_as_cli("wlmc", wlmc, 1);
    const char *wlmcc[] = {"--cols", "IPB52300S,GPRC_CHN,GPR", t[0], t[1], t[2], t[3], t[4], t[5], "--levels", "3",
                           "--M", "24", "--lag-max", "2", NULL};
    same_as_cli("wlmcc", wlmcc, 1);
}

Test(embed, simulate_without_data)
{
    char json[256], csv[256];
    snprintf(json, sizeof json, "%s/sim.json", g_dir);
    snprintf(csv, sizeof csv, "%s/sim.csv", g_dir);
    const char *a[] = {"--reps", "20", "--boot", "49", "--T", "120", "--alpha", "0.1,0.5", "--lags", "2", "--seed", "11",
                       NULL};
    const char *c[] = {"--reps", "20", "--boot", "49", "--T", "120", "--alpha", "0.1,0.5", "--lags", "2", "--seed", "11",
                       "--json", json, "--csv", csv, NULL};
    cr_assert_eq(run_cli("simulate", c), 0);
    cqb_embed_call call = {"simulate", count_args(a), a, NULL, NULL, NULL, NULL};
    cqb_embed_result res;
    cr_assert_eq(cqb_embed_run(&call, &res), 0, "%s", res.message);
    char *w = td_slurp(json), *wc = json_core(w), *gc = json_core(res.json), *wcsv = td_slurp(csv);
    same_json("simulate", gc, wc);
    cr_assert_str_eq(res.csv, wcsv);
    free(w);
    free(wc);
    free(gc);
    free(wcsv);
    cqb_embed_result_free(&res);
}

Test(embed, sncv_without_data)
{
    char json[256], csv[256];
    snprintf(json, sizeof json, "%s/sncv.json", g_dir);
    snprintf(csv, sizeof csv, "%s/sncv.csv", g_dir);
    const char *a[] = {"--paths", "500", "--steps", "200", "--pmax", "2", "--seed", "3", NULL};
    const char *c[] = {"--paths", "500", "--steps", "200", "--pmax", "2", "--seed", "3", "--json", json, "--csv",
                       csv, NULL};
    cr_assert_eq(run_cli("sncv", c), 0);
    cqb_embed_call call = {"sncv", count_args(a), a, NULL, NULL, NULL, NULL};
    cqb_embed_result res;
    cr_assert_eq(cqb_embed_run(&call, &res), 0, "%s", res.message);
    char *w = td_slurp(json), *wc = json_core(w), *gc = json_core(res.json), *wcsv = td_slurp(csv);
    same_json("sncv", gc, wc);
    cr_assert(strlen(wcsv) > 20);
    cr_assert_null(res.csv); /* sncv: the JSON only (it holds every level) */
    free(w);
    free(wc);
    free(gc);
    free(wcsv);
    cqb_embed_result_free(&res);
}

Test(embed, run_study_writes_the_cli_outputs)
{
    /* a two-analysis study on the bundled data; the per-analysis CSVs of
     * the embedded run equal the CLI's */
    char study[256], out1[256], out2[256];
    snprintf(study, sizeof study, "%s/study.json", g_dir);
    snprintf(out1, sizeof out1, "%s/cli", g_dir);
    snprintf(out2, sizeof out2, "%s/embed", g_dir);
    FILE *f = fopen(study, "w");
    fprintf(f,
            "{\"name\": \"t\", \"datasets\": {\"m\": {\"file\": \"%s\", \"transforms\": "
            "{\"IPB52300S\": \"logdiff\", \"GPRC_CHN\": \"logdiff\"}}},\n"
            "\"defaults\": {\"seed\": 5, \"boot\": 49},\n"
            "\"analyses\": [{\"name\": \"b\", \"kind\": \"blocklen\", \"dataset\": \"m\", \"cols\": [\"GPRC_CHN\", "
            "\"IPB52300S\"]},\n"
            " {\"name\": \"c\", \"kind\": \"cq\", \"dataset\": \"m\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\", "
            "\"alpha\": [0.1, 0.5], \"lags\": \"1-2\"}]}\n",
            US_CHINA);
    fclose(f);
    const char *c[] = {study, "--out", out1, NULL};
    int rc = run_cli("run", c);
    char errp[300];
    snprintf(errp, sizeof errp, "%s/err", g_dir);
    char *e = td_slurp(errp);
    cr_assert_eq(rc, 0, "%s", e);
    free(e);
    const char *a[] = {study, "--out", out2, NULL};
    cqb_embed_call call = {"run", 3, a, NULL, NULL, NULL, NULL};
    cqb_embed_result res;
    cr_assert_eq(cqb_embed_run(&call, &res), 0, "%s", res.message);
    cr_assert_not_null(res.json);
    cr_assert_not_null(strstr(res.json, "\"analyses\""), "%.300s", res.json);
    const char *names[] = {"b.csv", "c.csv"};
    for (int i = 0; i < 2; ++i) {
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "%s/%s", out1, names[i]);
        snprintf(p2, sizeof p2, "%s/%s", out2, names[i]);
        char *x = td_slurp(p1), *y = td_slurp(p2);
        cr_assert_not_null(x, "%s", p1);
        cr_assert_not_null(y, "%s", p2);
        cr_assert_str_eq(y, x, "%s", names[i]);
        free(x);
        free(y);
    }
    cqb_embed_result_free(&res);
}

Test(embed, bad_options_give_the_cli_message_and_code)
{
    const char *a[] = {"--y", "GPRC_CHN", "--x", "NOPE", "--boot", "0", NULL};
    const char *c[] = {"--data", US_CHINA, "--y", "GPRC_CHN", "--x", "NOPE", "--boot", "0", NULL};
    int rc = run_cli("cq", c);
    char errp[300];
    snprintf(errp, sizeof errp, "%s/err", g_dir);
    char *cerr = td_slurp(errp);
    mem_frame m;
    mem_frame_load(&m, US_CHINA);
    cqb_embed_call call = {"cq", count_args(a), a, &m.f, NULL, NULL, NULL};
    cqb_embed_result res;
    int erc = cqb_embed_run(&call, &res);
    cr_assert_eq(rc, 2);
    cr_assert_eq(erc, rc);
    /* the CLI names the file, embed the in-memory data set; the rest of the
     * line is the same */
    const char *tail = strstr(cerr, ": unknown column");
    cr_assert_not_null(tail, "%s", cerr);
    char want[600];
    snprintf(want, sizeof want, "<data>%.*s", (int)(strcspn(tail, "\n")), tail);
    cr_assert_str_eq(res.message, want);
    cr_assert_null(res.json);
    cqb_embed_result_free(&res);

    /* an option error is the CLI's line without the prefix and help hint */
    const char *b[] = {"--y", "GPRC_CHN", "--x", "GPR", "--boot", "many", NULL};
    const char *cb[] = {"--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPR", "--boot", "many", NULL};
    rc = run_cli("cq", cb);
    free(cerr);
    cerr = td_slurp(errp);
    call.argc = count_args(b);
    call.argv = b;
    erc = cqb_embed_run(&call, &res);
    cr_assert_eq(rc, 2);
    cr_assert_eq(erc, 2);
    char line[700];
    snprintf(line, sizeof line, "cqboot cq: %s (see 'cqboot cq --help')\n", res.message);
    cr_assert_str_eq(cerr, line);
    cqb_embed_result_free(&res);

    /* a data error (exit 3): a missing value in a used column */
    m.cols[0][5] = NAN;
    const char *d[] = {"--y", m.names[0], "--x", "GPR", "--boot", "0", NULL};
    call.argc = count_args(d);
    call.argv = d;
    erc = cqb_embed_run(&call, &res);
    cr_assert_eq(erc, 3, "%d %s", erc, res.message);
    cr_assert_not_null(strstr(res.message, "<data>:7: missing value in column"), "%s", res.message);
    cqb_embed_result_free(&res);

    /* --data with a frame, and an unknown command */
    const char *e[] = {"--data", US_CHINA, "--y", "GPRC_CHN", "--x", "GPR", NULL};
    call.argc = count_args(e);
    call.argv = e;
    cr_assert_eq(cqb_embed_run(&call, &res), 2);
    call.command = "nope";
    cr_assert_eq(cqb_embed_run(&call, &res), 2);
    cr_assert_str_eq(res.message, "unknown command 'nope'");
    free(cerr);
    mem_frame_free(&m);
}

/* Progress callback: records the fractions and cancels past 20%. */
typedef struct prog_rec {
    volatile int cancel;
    int calls;
    double last;
} prog_rec;

static void on_progress(double fr, void *user)
{
    prog_rec *p = user;
    __atomic_add_fetch(&p->calls, 1, __ATOMIC_RELAXED);
    p->last = fr;
    if (fr > 0.2) p->cancel = 1;
}

Test(embed, progress_and_cancel)
{
    mem_frame m;
    mem_frame_load(&m, US_CHINA);
    const char *a[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "IPB52300S=logdiff", "--boot", "20000", "--seed", "1", "--lags", "1-12", NULL};
    prog_rec pr = {0, 0, 0.0};
    cqb_embed_call call = {"cq", count_args(a), a, &m.f, on_progress, &pr, &pr.cancel};
    cqb_embed_result res;
    int rc = cqb_embed_run(&call, &res);
    cr_assert_eq(rc, 130, "%d %s", rc, res.message);
    cr_assert_str_eq(res.message, "interrupted");
    cr_assert_null(res.json);
    cr_assert_null(res.csv);
    cr_assert(pr.calls > 0);
    cr_assert(pr.last < 1.0);
    cqb_embed_result_free(&res);

    /* a finished run reports progress up to 1 */
    const char *b[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff", "--transform",
                       "IPB52300S=logdiff", "--boot", "99", "--seed", "1", "--lags", "1-2", NULL};
    prog_rec pb = {0, 0, 0.0};
    call.argc = count_args(b);
    call.argv = b;
    call.user = &pb;
    call.cancel = NULL;
    call.progress = on_progress;
    /* (on_progress sets pb.cancel, which is not the call's flag here) */
    cr_assert_eq(cqb_embed_run(&call, &res), 0, "%s", res.message);
    cr_assert(pb.calls > 0);
    cr_assert_float_eq(pb.last, 1.0, 1e-12);
    cqb_embed_result_free(&res);
    mem_frame_free(&m);
}

Test(embed, nothing_on_stdout_or_stderr)
{
    /* stdout and stderr of this process go to files during a call that
     * would print notices, notes and a progress bar in the CLI */
    char o[256], e[256];
    snprintf(o, sizeof o, "%s/stdout", g_dir);
    snprintf(e, sizeof e, "%s/stderr", g_dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    mem_frame m;
    mem_frame_load(&m, US_CHINA);
    m.f.labels = NULL; /* an index: the CLI would print a note */
    const char *a[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--boot", "99", "--progress", "plain",
                       "--control", "GPR:0.5", NULL};
    cqb_embed_call call = {"cq", count_args(a), a, &m.f, NULL, NULL, NULL};
    cqb_embed_result res;
    int rc = cqb_embed_run(&call, &res);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(fo);
    close(fe);
    cr_assert_eq(rc, 0, "%s", res.message);
    struct stat st;
    cr_assert_eq(stat(o, &st), 0);
    cr_assert_eq(st.st_size, 0);
    cr_assert_eq(stat(e, &st), 0);
    cr_assert_eq(st.st_size, 0, "stderr: %s", td_slurp(e));
    cqb_embed_result_free(&res);
    mem_frame_free(&m);
}

/* Two threads calling at once: serialized, both right. */
typedef struct th_arg {
    const cqb_embed_frame *f;
    char *json;
} th_arg;

static void *th_run(void *p)
{
    th_arg *t = p;
    const char *a[] = {"--y", "GPRC_CHN", "--x", "IPB52300S", "--boot", "99", "--seed", "4", "--lags", "1-2", NULL};
    cqb_embed_call call = {"cq", 10, a, t->f, NULL, NULL, NULL};
    cqb_embed_result res;
    if (cqb_embed_run(&call, &res) == 0) {
        t->json = json_core(res.json);
        cqb_embed_result_free(&res);
    }
    return NULL;
}

Test(embed, concurrent_calls_are_serialized)
{
    mem_frame m;
    mem_frame_load(&m, US_CHINA);
    th_arg x = {&m.f, NULL}, y = {&m.f, NULL};
    pthread_t tx, ty;
    pthread_create(&tx, NULL, th_run, &x);
    pthread_create(&ty, NULL, th_run, &y);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    cr_assert_not_null(x.json);
    cr_assert_not_null(y.json);
    cr_assert_str_eq(x.json, y.json);
    free(x.json);
    free(y.json);
    mem_frame_free(&m);
}
