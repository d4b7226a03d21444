/* test_readme.c — every example of README.md is run (issue #11, item 4).
 *
 * The README is read at test time, so a new or edited example is tested
 * without touching this file:
 * - a fenced block whose (backslash-joined) lines start with `cqboot` or
 *   `./build/cqboot` and take `--data` or `--dgp` is a command: it runs in a
 *   temporary directory where `data/` is the repository's data folder and
 *   `my_monthly.csv` is us_china_monthly.csv with a made-up REE_EXP_CHN
 *   column (the README's "add your own series" example); it must exit 0.
 *   Synopses (`FILE`, `COL`, `[...]`, `...`) are not examples.
 * - a fenced block holding a JSON object with "analyses" is a study: it is
 *   written beside a link to us_china_monthly.csv and run with `cqboot run`;
 *   it must exit 0.
 * - `scripts/quickstart.sh` runs the seed study data/study-ree.json: it is
 *   run here as `cqboot run data/study-ree.json` (skipped in sanitizer
 *   builds, where it takes too long; the Release pass runs it).
 *   `scripts/test.sh` is the test suite itself and is not run from it.
 * At least one command and one study must be found. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define README CQB_DATA_DIR "/../README.md"
#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char g_dir[128];

static void rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char p[1024];
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                rm_rf(p);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_readme_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void teardown(void) { rm_rf(g_dir); }

TestSuite(readme, .init = setup, .fini = teardown, .timeout = 1200);

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t got = fread(t, 1, (size_t)(n > 0 ? n : 0), f);
    t[got] = 0;
    fclose(f);
    return t;
}

/* Runs argv in dir; returns the exit status, *err = stderr (malloc'd). */
static int run_in(const char *dir, char *const *argv, char **err)
{
    char errp[256];
    snprintf(errp, sizeof errp, "%s/.stderr", g_dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fo = open("/dev/null", O_WRONLY);
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        if (chdir(dir) != 0) _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *err = slurp(errp);
    unlink(errp);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The working directory of the examples. */
static void make_workdir(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/data", g_dir);
    cr_assert_eq(symlink(CQB_DATA_DIR, p), 0, "symlink: %s", strerror(errno));
    snprintf(p, sizeof p, "%s/us_china_monthly.csv", g_dir);
    cr_assert_eq(symlink(US_CHINA, p), 0);
    /* my_monthly.csv: the bundled file plus a positive REE_EXP_CHN column */
    char *t = slurp(US_CHINA);
    cr_assert_not_null(t);
    snprintf(p, sizeof p, "%s/my_monthly.csv", g_dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    int row = 0;
    for (char *line = t; *line;) {
        char *e = strchr(line, '\n');
        size_t n = e ? (size_t)(e - line) : strlen(line);
        if (n && line[n - 1] == '\r') --n;
        if (n == 0) break;
        fwrite(line, 1, n, f);
        if (row == 0) fputs(",REE_EXP_CHN\n", f);
        else fprintf(f, ",%.6f\n", 100.0 + 20.0 * sin(0.37 * row) + (double)((row * 7919) % 13));
        row++;
        line = e ? e + 1 : line + n;
    }
    fclose(f);
    free(t);
}

typedef struct counts {
    int commands, studies;
} counts;

static int is_synopsis(const char *cmd)
{
    return strstr(cmd, "FILE") || strstr(cmd, "COL") || strchr(cmd, '[') || strstr(cmd, "...") ||
           strstr(cmd, "\xe2\x80\xa6");
}

static void run_command(const char *cmd, counts *c)
{
    const char *s = cmd;
    if (!strncmp(s, "./build/cqboot ", 15)) s += 15;
    else if (!strncmp(s, "cqboot ", 7)) s += 7;
    else return;
    if (!strstr(s, "--data ") && !strstr(s, "--dgp ")) return;
    if (is_synopsis(s)) return;
    char *dup = strdup(s);
    char *argv[128];
    int argc = 0;
    argv[argc++] = (char *)CQB_CLI;
    char *save = NULL;
    for (char *tok = strtok_r(dup, " \t", &save); tok && argc < 126; tok = strtok_r(NULL, " \t", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    char *err = NULL;
    int rc = run_in(g_dir, argv, &err);
    cr_expect_eq(rc, 0, "README example failed (exit %d):\n  %s\n%s", rc, cmd, err ? err : "");
    free(err);
    free(dup);
    c->commands++;
}

static void run_study(const char *json, counts *c)
{
    char path[512], out[512];
    snprintf(path, sizeof path, "%s/study%d.json", g_dir, c->studies);
    snprintf(out, sizeof out, "%s/out%d", g_dir, c->studies);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    char *argv[] = {(char *)CQB_CLI, "run", path, "--out", out, "--quiet", NULL};
    char *err = NULL;
    int rc = run_in(g_dir, argv, &err);
    cr_expect_eq(rc, 0, "README study example failed (exit %d):\n%s\n%s", rc, json, err ? err : "");
    free(err);
    c->studies++;
}

/* Walks the fenced blocks of the README. */
static counts run_examples(void)
{
    char *t = slurp(README);
    cr_assert_not_null(t, "cannot read %s", README);
    counts c = {0, 0};
    char *p = t;
    while ((p = strstr(p, "```"))) {
        char *body = strchr(p, '\n');
        if (!body) break;
        body++;
        char *end = strstr(body, "\n```");
        if (!end) break;
        *end = 0;
        if (strstr(body, "\"analyses\"") && body[strspn(body, " \n")] == '{') {
            run_study(body, &c);
        } else {
            /* join backslash continuations, then take each line */
            char *joined = malloc(strlen(body) + 1);
            size_t m = 0;
            for (char *q = body; *q; ++q) {
                if (q[0] == '\\' && q[1] == '\n') {
                    q++;
                    continue;
                }
                joined[m++] = *q;
            }
            joined[m] = 0;
            char *save = NULL;
            for (char *line = strtok_r(joined, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                while (*line == ' ') ++line;
                char *hash = strstr(line, "  #"); /* a trailing comment */
                if (hash) *hash = 0;
                run_command(line, &c);
            }
            free(joined);
        }
        p = end + 4;
    }
    free(t);
    return c;
}

Test(readme, every_example_runs)
{
    make_workdir();
    counts c = run_examples();
    cr_log_info("README.md: %d command examples and %d study examples ran", c.commands, c.studies);
    cr_assert_geq(c.commands, 1, "no command example found in README.md");
    cr_assert_geq(c.studies, 1, "no study example found in README.md");
}

Test(readme, quickstart_seed_study)
{
    if (SANITIZED) cr_skip_test("the seed study takes too long under the sanitizers (run by the Release pass)");
    make_workdir();
    char out[512];
    snprintf(out, sizeof out, "%s/seed", g_dir);
    char *argv[] = {(char *)CQB_CLI, "run", "data/study-ree.json", "--out", out, "--quiet", NULL};
    char *err = NULL;
    int rc = run_in(g_dir, argv, &err);
    cr_expect_eq(rc, 0, "the seed study failed (exit %d): %s", rc, err ? err : "");
    free(err);
}
