/* `cqboot run`: study validation, end to end against single commands,
 * byte-identical re-runs, resume after an interrupted run, figures, and the
 * report rendered in headless Chromium. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testdata.h"

#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"

static char g_dir[128];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/cqb_run_XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void teardown(void) { td_remove_tree(g_dir); }

TestSuite(run, .init = setup, .fini = teardown, .timeout = 300);

typedef struct run_t {
    int rc;
    char *err;
} run_t;

/* Runs argv (argv[0] = program) with stdout/stderr to files; waits. */
static run_t run_v(const char *const *argv)
{
    char errp[256];
    snprintf(errp, sizeof errp, "%s/.stderr", g_dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char outp[300];
        snprintf(outp, sizeof outp, "%s/.stdout", g_dir);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run_t r = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), td_slurp(errp)};
    unlink(errp);
    return r;
}

#define RUN(...) run_v((const char *const[]){CQB_CLI, __VA_ARGS__, NULL})

/* A small study over the bundled data: a CQ with controls and grid-wide
 * tests, a rolling CQ and a block length. */
static char *write_study(const char *name, int boot)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s.json", g_dir, name);
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\": \"%s\", \"title\": \"test study\",\n"
             " \"datasets\": {\"m\": {\"file\": \"%s\", \"transforms\": {\"GPRC_CHN\": \"logdiff\", \"IPB52300S\": "
             "\"logdiff\", \"GPR\": \"logdiff\"}, \"from\": \"1996-01\"}},\n"
             " \"defaults\": {\"seed\": 11, \"boot\": %d, \"gamma\": \"auto\"},\n"
             " \"analyses\": [\n"
             "  {\"name\": \"pcq\", \"kind\": \"cq\", \"dataset\": \"m\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\",\n"
             "   \"controls\": [{\"column\": \"GPR\", \"level\": 0.5}], \"alpha\": [0.1, 0.5, 0.9], \"lags\": \"1-3\",\n"
             "   \"gridwide\": true, \"figures\": {\"lags\": [1, 2], \"mark\": \"rw\"}},\n"
             "  {\"name\": \"bl\", \"kind\": \"blocklen\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"], \"lag\": 1},\n"
             "  {\"name\": \"roll\", \"kind\": \"cq\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\", \"alpha\": [0.5],\n"
             "   \"lags\": 1, \"window_years\": 10, \"step\": 5},\n"
             "  {\"name\": \"sim\", \"kind\": \"simulate\", \"T\": 120, \"alpha\": [0.5], \"lags\": \"1\",\n"
             "   \"reps\": 20, \"boot\": 49}\n"
             " ]}\n",
             name, US_CHINA, boot);
    td_write(path, text);
    return path;
}

/* results.json without its "timing" object, printed. */
static char *stable_results(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/results.json", dir);
    char *t = td_slurp(p);
    cr_assert_not_null(t, "%s missing", p);
    cJSON *j = cJSON_Parse(t);
    free(t);
    cr_assert_not_null(j);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "timing");
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

static int count_tmp(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, ".tmp") || strstr(e->d_name, ".run.json")) ++n;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        n += count_tmp(p); /* 0 unless a directory */
    }
    closedir(d);
    return n;
}

/* ---------------------------------------------------------- validation -- */

static void expect_fault(const char *study_text, int rc, const char *needle)
{
    char path[256], out[256];
    snprintf(path, sizeof path, "%s/bad.json", g_dir);
    snprintf(out, sizeof out, "%s/out_bad", g_dir);
    td_write(path, study_text);
    run_t r = RUN("run", path, "--out", out, "--quiet");
    cr_expect_eq(r.rc, rc, "exit %d, want %d: %s", r.rc, rc, r.err);
    cr_expect_not_null(strstr(r.err, needle), "stderr lacks '%s': %s", needle, r.err);
    struct stat sb;
    cr_expect(stat(out, &sb) != 0, "the output directory was created for an invalid study");
    free(r.err);
}

Test(run, schema_faults_name_their_json_path)
{
    char head[512];
    snprintf(head, sizeof head, "{\"name\": \"s\", \"datasets\": {\"m\": {\"file\": \"%s\"}}, ", US_CHINA);
    char t[2048];
#define STUDY(tail) (snprintf(t, sizeof t, "%s%s", head, tail), t)
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\"},"
                       " {\"name\": \"b\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\", \"alpha_y\": [0.1, 1.5]}]}"),
                 2, "analyses[1].alpha_y[1]: must be in (0,1)");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\", "
                       "\"boot\": \"many\"}]}"),
                 2, "analyses[0].boot: must be an integer");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\", "
                       "\"colour\": 1}]}"),
                 2, "analyses[0].colour: unknown key");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"wavelet-magic\", \"y\": \"GPR\"}]}"), 2,
                 "analyses[0].kind: must be one of");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"NOPE\", \"x\": \"IPB52300S\"}]}"), 2,
                 "analyses[0].y: no column 'NOPE'");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"dataset\": \"zz\", \"y\": \"GPR\", "
                       "\"x\": \"IPB52300S\"}]}"),
                 2, "analyses[0].dataset: no dataset 'zz'");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\", "
                       "\"controls\": [{\"column\": \"GPR\", \"level\": 2}]}]}"),
                 2, "analyses[0].controls[0].level: must be in (0,1)");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\"},"
                       " {\"name\": \"a\", \"kind\": \"blocklen\", \"cols\": [\"GPR\"]}]}"),
                 2, "analyses[1].name: duplicates the name of analyses[0]");
    expect_fault(STUDY("\"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPR\", \"x\": \"IPB52300S\", "
                       "\"gamma\": 0}]}"),
                 2, "analyses[0].gamma: must be \"auto\" or a number in (0,1]");
    expect_fault(STUDY("\"analyses\": [], \"colour\": 1}"), 2, "colour: unknown key");
    expect_fault("{\"name\": \"s\",\n \"datasets\": {}\n \"analyses\": []}", 2, "bad.json:3:"); /* invalid JSON: 2, as run --help says */
}

/* ---------------------------------------------------------- end to end -- */

Test(run, study_matches_single_commands_reruns_identically_and_draws)
{
    char *study = write_study("s1", 300);
    char out1[256], out2[256];
    snprintf(out1, sizeof out1, "%s/out1", g_dir);
    snprintf(out2, sizeof out2, "%s/out2", g_dir);
    run_t r = RUN("run", study, "--out", out1, "--quiet");
    cr_assert_eq(r.rc, 0, "run failed: %s", r.err);
    free(r.err);
    r = RUN("run", study, "--out", out2, "--quiet", "--threads", "1");
    cr_assert_eq(r.rc, 0, "run failed: %s", r.err);
    free(r.err);
    /* the same study twice: identical results.json apart from timings (the
     * thread count is an execution detail recorded in options: drop it) */
    char *a = stable_results(out1), *b = stable_results(out2);
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(ja, "analyses"), *bn = cJSON_GetObjectItemCaseSensitive(jb, "analyses");
    cr_assert_eq(cJSON_GetArraySize(an), 4);
    for (int i = 0; i < 4; ++i) {
        const char *rk = i == 3 ? "cells" : "results";
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(an, i), "result");
        const cJSON *rb = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(bn, i), "result");
        char *pa = cJSON_Print(cJSON_GetObjectItemCaseSensitive(ra, rk));
        char *pb = cJSON_Print(cJSON_GetObjectItemCaseSensitive(rb, rk));
        cr_expect_str_eq(pa, pb, "analysis %d differs between runs", i);
        free(pa);
        free(pb);
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    free(a);
    free(b);
    /* byte-identical re-run into the same configuration */
    char out3[256];
    snprintf(out3, sizeof out3, "%s/out3", g_dir);
    r = RUN("run", study, "--out", out3, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    a = stable_results(out1);
    b = stable_results(out3);
    char *p1 = strstr(a, "\"analyses\""), *p3 = strstr(b, "\"analyses\"");
    cr_expect_str_eq(p1, p3, "results.json differs between identical runs");
    free(a);
    free(b);

    /* the single command gives exactly the study's numbers */
    char single[256];
    snprintf(single, sizeof single, "%s/single.json", g_dir);
    r = RUN("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
            "--transform", "IPB52300S=logdiff", "--transform", "GPR=logdiff", "--from", "1996-01", "--seed", "11",
            "--boot", "300", "--gamma", "auto", "--alpha", "0.1,0.5,0.9", "--lags", "1-3", "--control", "GPR:0.5",
            "--gridwide", "--json", single, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    char *st = td_slurp(single), *rs = stable_results(out1);
    cJSON *js = cJSON_Parse(st), *jr = cJSON_Parse(rs);
    const cJSON *r0 = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(jr, "analyses"), 0), "result");
    const char *keys[] = {"results", "qtests", "supq"};
    for (int k = 0; k < 3; ++k) {
        char *x = cJSON_Print(cJSON_GetObjectItemCaseSensitive(js, keys[k]));
        char *y = cJSON_Print(cJSON_GetObjectItemCaseSensitive(r0, keys[k]));
        cr_expect_str_eq(x, y, "%s differ between the study and the single command", keys[k]);
        free(x);
        free(y);
    }
    cJSON_Delete(js);
    cJSON_Delete(jr);
    free(st);
    free(rs);

    /* outputs: CSVs, report, figures (PNG signature, SVG document) */
    const char *files[] = {"pcq.csv", "bl.csv", "roll.csv", "sim.csv", "report.md", "index.html", "pcq_heatmap_lag1.png",
                           "pcq_heatmap_lag1.svg", "pcq_heatmap_lag2.png", "pcq_lags_0.5_0.5.png",
                           "pcq_qtest_0.5_0.5.png", "roll_rolling_0.5_0.5.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; ++i) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", out1, files[i]);
        struct stat sb;
        cr_expect(stat(p, &sb) == 0 && sb.st_size > 0, "%s missing or empty", files[i]);
        if (strstr(files[i], ".png")) {
            char *t = td_slurp(p);
            cr_expect(t && !memcmp(t, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG", files[i]);
            free(t);
        } else if (strstr(files[i], ".svg")) {
            char *t = td_slurp(p);
            cr_expect(t && strstr(t, "<svg") && strstr(t, "</svg>"), "%s is not an SVG document", files[i]);
            free(t);
        }
    }
    char rep[512];
    snprintf(rep, sizeof rep, "%s/report.md", out1);
    char *md = td_slurp(rep);
    cr_expect(md && strstr(md, "![") && strstr(md, "pcq_heatmap_lag1.png"), "report.md embeds no figure");
    free(md);
    cr_expect_eq(count_tmp(out1), 0, "temporary files left in %s", out1);
}

Test(run, resume_after_interrupt_gives_the_same_results)
{
    char *study = write_study("s2", 20000);
    char full[256], part[256];
    snprintf(full, sizeof full, "%s/full", g_dir);
    snprintf(part, sizeof part, "%s/part", g_dir);
    /* interrupt a run once its first analysis is finished */
    char state[512];
    snprintf(state, sizeof state, "%s/.state/pcq.json", part);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char outp[300];
        snprintf(outp, sizeof outp, "%s/.child_output", g_dir);
        int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fo, 2);
        execl(CQB_CLI, CQB_CLI, "run", study, "--out", part, "--quiet", (char *)NULL);
        _exit(127);
    }
    struct stat sb;
    for (int i = 0; i < 6000 && stat(state, &sb) != 0; ++i) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGINT);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(stat(state, &sb) == 0, "the first analysis never finished");
    cr_expect_eq(count_tmp(part), 0, "temporary files left after the interrupt");
    char rj[512];
    snprintf(rj, sizeof rj, "%s/results.json", part);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 130)
        cr_expect(stat(rj, &sb) != 0, "results.json written by an interrupted run");
    run_t r = RUN("run", study, "--out", part, "--quiet", "--resume");
    cr_assert_eq(r.rc, 0, "resume failed: %s", r.err);
    free(r.err);
    r = RUN("run", study, "--out", full, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    char *a = stable_results(part), *b = stable_results(full);
    cr_expect_str_eq(strstr(a, "\"analyses\""), strstr(b, "\"analyses\""), "resumed results differ");
    free(a);
    free(b);
    /* a stale state (changed options) is never reused */
    char *t = td_slurp(study);
    char *p = strstr(t, "\"seed\": 11");
    cr_assert_not_null(p);
    p[9] = '2';
    td_write(study, t);
    free(t);
    r = RUN("run", study, "--out", part, "--resume", "--progress", "plain");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect(strstr(r.err, "pcq (cq): reused") == NULL, "a stale analysis was reused: %s", r.err);
    cr_expect(strstr(r.err, "bl (blocklen): reused") != NULL, "an unchanged analysis was not reused: %s", r.err);
    free(r.err);
}

Test(run, index_html_shows_the_figures_in_chromium)
{
    const char *browsers[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", NULL};
    const char *br = NULL;
    for (int i = 0; browsers[i]; ++i)
        if (access(browsers[i], X_OK) == 0) br = browsers[i];
    if (!br) cr_skip_test("no headless Chromium installed (scripts/test.sh installs Debian's chromium)");
    char *study = write_study("s3", 200);
    char out[256];
    snprintf(out, sizeof out, "%s/out", g_dir);
    run_t r = RUN("run", study, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    /* a copy of the page that records, once loaded, whether every figure
     * decoded with a size (naturalWidth > 0) */
    char idx[512], chk[512];
    snprintf(idx, sizeof idx, "%s/index.html", out);
    snprintf(chk, sizeof chk, "%s/check.html", out);
    char *html = td_slurp(idx);
    char *end = strstr(html, "</body>");
    cr_assert_not_null(end);
    *end = 0;
    FILE *f = fopen(chk, "w");
    fprintf(f, "%s<script>window.addEventListener('load', function () {"
               "var im = document.images, ok = im.length > 0;"
               "for (var i = 0; i < im.length; ++i) ok = ok && im[i].complete && im[i].naturalWidth > 0;"
               "document.body.setAttribute('data-figures', im.length + (ok ? ' loaded' : ' broken'));});"
               "</script></body></html>\n",
            html);
    fclose(f);
    free(html);
    char url[600], dom[600];
    snprintf(url, sizeof url, "file://%s", chk);
    snprintf(dom, sizeof dom, "%s/dom.html", g_dir);
    char domerr[620];
    snprintf(domerr, sizeof domerr, "%s/dom.stderr", g_dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(dom, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(domerr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        execl(br, br, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
              "--virtual-time-budget=5000", "--dump-dom", url, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    char *d = td_slurp(dom);
    cr_assert_not_null(d);
    cr_expect(strstr(d, " loaded\"") != NULL, "Chromium did not show every figure: %.300s",
              strstr(d, "data-figures") ? strstr(d, "data-figures") : "(no data-figures attribute)");
    free(d);
}

static int count_suffix(const char *dir, const char *suffix)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    const size_t ls = strlen(suffix);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > ls && !strcmp(e->d_name + l - ls, suffix)) ++n;
    }
    closedir(d);
    return n;
}

/* --no-figures: the same tables and results, no figure file, no module
 * needed (a module path that does not exist), a report without images. */
Test(run, no_figures_needs_no_module)
{
    char *study = write_study("nf", 99);
    char out1[256], out2[256], out3[256], p[600];
    snprintf(out1, sizeof out1, "%s/nf_with", g_dir);
    snprintf(out2, sizeof out2, "%s/nf_without", g_dir);
    snprintf(out3, sizeof out3, "%s/nf_nomodule", g_dir);
    run_t r = RUN("run", study, "--out", out1, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    cr_assert_eq(setenv("CQB_PLOT_MODULE", "/nonexistent/libcqboot_plot.so", 1), 0);
#ifndef CQB_TEST_FIGURES_LINKED
    r = RUN("run", study, "--out", out3, "--quiet");
    cr_expect_neq(r.rc, 0, "figures were drawn without the module");
    cr_expect_not_null(strstr(r.err, "libcqboot_plot.so"), "%s", r.err);
    free(r.err);
#endif
    r = RUN("run", study, "--out", out2, "--quiet", "--no-figures");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    unsetenv("CQB_PLOT_MODULE");
    cr_assert_gt(count_suffix(out1, ".png"), 0, "the run with figures drew none");
    cr_expect_eq(count_suffix(out2, ".png"), 0, "--no-figures drew PNG files");
    cr_expect_eq(count_suffix(out2, ".svg"), 0, "--no-figures drew SVG files");
    snprintf(p, sizeof p, "%s/index.html", out2);
    char *html = td_slurp(p);
    cr_assert_not_null(html);
    cr_expect_null(strstr(html, "<img"), "the report without figures shows images");
    free(html);
    /* the analyses' results equal the run with figures */
    char *a = stable_results(out1), *b = stable_results(out2);
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(ja, "analyses"), *bn = cJSON_GetObjectItemCaseSensitive(jb, "analyses");
    for (int i = 0; i < cJSON_GetArraySize(an); ++i) {
        char *pa = cJSON_Print(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(an, i), "result"));
        char *pb = cJSON_Print(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(bn, i), "result"));
        cr_expect_str_eq(pa, pb, "analysis %d differs with --no-figures", i);
        free(pa);
        free(pb);
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    free(a);
    free(b);
}

/* A cq analysis over pairs ("series" and "pairs"): its table is `cq
 * --pairs`'s on the same data, and the report shows an adjacency heat map
 * of the significant links per drawn (quantile, lag). */
Test(run, pairs_analysis_draws_link_maps)
{
    char path[256], out[256], one[300], lst[300];
    snprintf(path, sizeof path, "%s/pairs.json", g_dir);
    snprintf(out, sizeof out, "%s/po", g_dir);
    snprintf(one, sizeof one, "%s/one.csv", g_dir);
    snprintf(lst, sizeof lst, "%s/list.csv", g_dir);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"pairs\", \"datasets\": {\"m\": {\"file\": \"%s\", \"transforms\": {\"GPRC_CHN\": \"logdiff\", "
             "\"IPB52300S\": \"logdiff\", \"GPR\": \"logdiff\"}}},\n"
             " \"defaults\": {\"seed\": 5, \"boot\": 200},\n"
             " \"analyses\": [\n"
             "  {\"name\": \"net\", \"kind\": \"cq\", \"series\": [\"GPRC_CHN\", \"IPB52300S\", \"GPR\"], \"pairs\": \"all\",\n"
             "   \"alpha\": [0.1, 0.5], \"lags\": \"1-2\", \"figures\": {\"mark\": \"p\", \"lags\": [1]}},\n"
             "  {\"name\": \"two\", \"kind\": \"cq\", \"series\": [\"GPRC_CHN\", \"IPB52300S\", \"GPR\"],\n"
             "   \"pairs\": [[\"GPR\", \"GPRC_CHN\"], [\"IPB52300S\", \"GPR\"]], \"alpha\": [0.5], \"lags\": 1}]}\n",
             US_CHINA);
    td_write(path, text);
    run_t r = RUN("run", path, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 0, "run failed: %s", r.err);
    free(r.err);
    /* the tables: cq --pairs on the same data and options */
    r = RUN("cq", "--data", US_CHINA, "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff",
            "--transform", "GPR=logdiff", "--series", "GPRC_CHN,IPB52300S,GPR", "--pairs", "all", "--alpha", "0.1,0.5",
            "--lags", "1-2", "--seed", "5", "--boot", "200", "--quiet", "--csv", one);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    r = RUN("cq", "--data", US_CHINA, "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff",
            "--transform", "GPR=logdiff", "--series", "GPRC_CHN,IPB52300S,GPR", "--pairs",
            "[[\"GPR\",\"GPRC_CHN\"],[\"IPB52300S\",\"GPR\"]]", "--alpha", "0.5", "--lags", "1", "--seed", "5", "--boot",
            "200", "--quiet", "--csv", lst);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    free(r.err);
    char p[400];
    snprintf(p, sizeof p, "%s/net.csv", out);
    char *a = td_slurp(p), *b = td_slurp(one);
    cr_assert(a && b);
    cr_expect(strlen(a) > 500 && !strncmp(a, "y,x,alpha_y", 11), "%.80s", a);
    cr_expect_str_eq(a, b, "the study's pair table differs from cq --pairs");
    free(a);
    free(b);
    snprintf(p, sizeof p, "%s/two.csv", out);
    a = td_slurp(p);
    b = td_slurp(lst);
    cr_assert(a && b);
    cr_expect_str_eq(a, b);
    cr_expect_not_null(strstr(a, "\nGPR,GPRC_CHN,0.5,0.5,1,"));
    free(a);
    free(b);
    /* figures: the diagonal quantiles at figures.lags (net), every lag (two) */
    static const char *const figs[] = {"net_links_0.1_0.1_lag1", "net_links_0.5_0.5_lag1", "two_links_0.5_0.5_lag1"};
    snprintf(p, sizeof p, "%s/report.md", out);
    char *md = td_slurp(p);
    cr_assert_not_null(md);
    for (int i = 0; i < 3; ++i) {
        struct stat sb;
        char f[400];
        snprintf(f, sizeof f, "%s/%s.png", out, figs[i]);
        cr_expect(stat(f, &sb) == 0 && sb.st_size > 1000, "%s missing", f);
        snprintf(f, sizeof f, "%s/%s.svg", out, figs[i]);
        cr_expect(stat(f, &sb) == 0 && sb.st_size > 1000, "%s missing", f);
        snprintf(f, sizeof f, "](%s.png)", figs[i]);
        cr_expect_not_null(strstr(md, f), "report.md does not show %s", figs[i]);
    }
    snprintf(p, sizeof p, "%s/net_links_0.5_0.1_lag1.png", out);
    struct stat sb;
    cr_expect_neq(stat(p, &sb), 0, "an off-diagonal quantile cell was drawn");
    cr_expect_not_null(strstr(md, "CQ of 6 directed pairs of 3 series"));
    cr_expect_not_null(strstr(md, "| alpha_y | alpha_x | lag | links | pairs |"));
    free(md);
    /* faults name their JSON path */
    snprintf(text, sizeof text,
             "{\"name\": \"b\", \"datasets\": {\"m\": {\"file\": \"%s\"}}, \"analyses\": [{\"name\": \"n\", \"kind\": "
             "\"cq\", \"series\": [\"GPR\", \"GPRC_CHN\"], \"pairs\": [[\"GPR\", \"EPU_US\"]]}]}",
             US_CHINA);
    expect_fault(text, 2, "analyses[0].pairs: pair [\"GPR\", \"EPU_US\"]: both must be in series");
    snprintf(text, sizeof text,
             "{\"name\": \"b\", \"datasets\": {\"m\": {\"file\": \"%s\"}}, \"analyses\": [{\"name\": \"n\", \"kind\": "
             "\"cq\", \"y\": \"GPR\", \"series\": [\"GPR\", \"GPRC_CHN\"], \"pairs\": \"all\"}]}",
             US_CHINA);
    expect_fault(text, 2, "give series and pairs, or y and x, not both");
    snprintf(text, sizeof text,
             "{\"name\": \"b\", \"datasets\": {\"m\": {\"file\": \"%s\"}}, \"analyses\": [{\"name\": \"n\", \"kind\": "
             "\"cq\", \"series\": [\"GPR\", \"GPRC_CHN\"], \"pairs\": \"some\"}]}",
             US_CHINA);
    expect_fault(text, 2, "analyses[0].pairs: must be \"all\" or");
}
