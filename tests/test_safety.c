/* test_safety.c — docs/safety.md: outputs (device nodes made with mknod,
 * FIFOs, symbolic links, standard output, output = input), `cqboot run`'s
 * lock, names and leftovers, bounded inputs (/dev/zero, endless pipes,
 * stdin), SIGINT/SIGTERM per command, and the exit-code table.
 *
 * Everything happens in a mkdtemp folder per test: the CLI's stdin, stdout
 * and stderr are files or pipes there, and nothing outside it is written
 * (the only outside files used are the repository's data, read). */
/* mknod(), makedev() are XSI / glibc */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cqboot/backend.h"
#include "cqboot/output.h"

#include "testdata.h"

#define US_CHINA CQB_DATA_DIR "/us_china_monthly.csv"

/* How soon a command must stop after SIGINT/SIGTERM: 1 s (docs/safety.md);
 * sanitizer builds pay for their exit-time checks on top. */
#if defined(__SANITIZE_ADDRESS__)
#define STOP_WITHIN 4.0
#else
#define STOP_WITHIN 1.0
#endif

static char g_dir[128];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_safety_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
}

/* captured outputs of run_in(), freed at the end of the test */
static void *g_tracked[256];
static int g_ntracked;

static void *track(void *p)
{
    if (g_ntracked < 256) g_tracked[g_ntracked++] = p;
    return p;
}

static void teardown(void)
{
    if (g_dir[0]) td_remove_tree(g_dir);
    for (int i = 0; i < g_ntracked; ++i) free(g_tracked[i]);
    g_ntracked = 0;
}

TestSuite(safety, .init = setup, .fini = teardown, .timeout = 240);

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------- */

static char g_paths[64][512];
static int g_npaths;

/* DIR/name (valid until the end of the test). */
static const char *P(const char *name)
{
    char *p = g_paths[g_npaths++ % 64];
    snprintf(p, 512, "%s/%s", g_dir, name);
    return p;
}

static void copy_file(const char *from, const char *to)
{
    char *t = td_slurp(from);
    cr_assert_not_null(t, "%s", from);
    td_write(to, t);
    free(t);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

typedef struct child {
    pid_t pid;
    char out[512], err[512];
} child;

/* Starts the CLI with argv (argv[0] is the subcommand; NULL-terminated):
 * stdin from in_path (NULL: an empty pipe), stdout and stderr to files of
 * the test folder; rlimit_as > 0 limits the address space. */
static child spawn_v(const char *in_path, long rlimit_as, const char *const *argv)
{
    static int seq;
    child c;
    snprintf(c.out, sizeof c.out, "%s/.stdout.%d", g_dir, seq);
    snprintf(c.err, sizeof c.err, "%s/.stderr.%d", g_dir, seq);
    ++seq;
    const char *args[64];
    int n = 0;
    args[n++] = CQB_CLI;
    for (int i = 0; argv[i]; ++i) args[n++] = argv[i];
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    c.pid = fork();
    cr_assert_neq(c.pid, -1);
    if (c.pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        int fi;
        if (in_path) {
            fi = open(in_path, O_RDONLY);
        } else {
            int pfd[2];
            if (pipe(pfd) != 0) _exit(126);
            close(pfd[1]);
            fi = pfd[0];
        }
        int fo = open(c.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(c.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fi < 0 || fo < 0 || fe < 0) _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        if (rlimit_as > 0) {
            struct rlimit rl = {(rlim_t)rlimit_as, (rlim_t)rlimit_as};
            setrlimit(RLIMIT_AS, &rl);
        }
        execv(CQB_CLI, (char *const *)args);
        _exit(127);
    }
    return c;
}

/* Waits for c; the exit status (128 + signal when killed). */
static int wait_child(const child *c)
{
    int status;
    while (waitpid(c->pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Waits at most secs; -1 when still running (then it is killed). */
static int wait_child_for(const child *c, double secs, double *took)
{
    const double t0 = now_s();
    int status;
    for (;;) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid) {
            if (took) *took = now_s() - t0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (now_s() - t0 > secs) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            if (took) *took = now_s() - t0;
            return -1;
        }
        sleep_s(0.01);
    }
}

typedef struct result {
    int rc;
    char *out, *err; /* freed at the end of the test */
} result;

static result run_in(const char *in_path, const char *const *argv)
{
    child c = spawn_v(in_path, 0, argv);
    result r;
    r.rc = wait_child(&c);
    r.out = track(td_slurp(c.out));
    r.err = track(td_slurp(c.err));
    return r;
}

#define RUN(...) run_in(NULL, (const char *const[]){__VA_ARGS__, NULL})

#define BL_ARGS "blocklen", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S"
#define CQ_ARGS                                                                                                   \
    "cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",          \
        "--transform", "IPB52300S=logdiff", "--alpha", "0.1,0.5", "--lags", "2", "--boot", "50", "--progress", "none"

static int is_kind(const char *path, mode_t kind)
{
    struct stat st;
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static int count_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (cqb_output_is_temp_name(e->d_name)) ++n;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------- */
/* Outputs                                                                    */
/* ------------------------------------------------------------------------- */

/* A private null device (mknod in the test folder, as root): written in
 * place, never replaced by a regular file. */
Test(safety, device_node_output_is_written_not_replaced)
{
    const char *dev = P("null");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0)
        cr_skip_test("mknod needs root (%s)", strerror(errno));
    result r = RUN(BL_ARGS, "--json", dev);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(is_kind(dev, S_IFCHR), "the device node was replaced");
    r = RUN(CQ_ARGS, "--json", dev, "--csv", dev);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(is_kind(dev, S_IFCHR), "the device node was replaced");
    r = RUN("wmc", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S", "--levels", "2", "--csv", dev);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(is_kind(dev, S_IFCHR), "the device node was replaced");
    cr_assert_eq(count_temps(g_dir), 0, "temporary files left next to the device");
}

/* A FIFO: written in place (a reader gets the JSON), stays a FIFO. */
Test(safety, fifo_output_is_written_in_place)
{
    const char *fifo = P("pipe.json"), *got = P("got.json");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t rd = fork();
    cr_assert_neq(rd, -1);
    if (rd == 0) {
        int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[4096];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n) _exit(1);
        _exit(0);
    }
    result r = RUN(BL_ARGS, "--json", fifo);
    int st;
    waitpid(rd, &st, 0);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(is_kind(fifo, S_IFIFO), "the FIFO was replaced");
    char *j = td_slurp(got);
    cr_assert(j && strstr(j, "\"cqboot blocklen\""), "the reader got: %s", j ? j : "(nothing)");
    free(j);
}

/* A UNIX socket: written through a connection, never replaced. */
Test(safety, socket_output_is_written_in_place)
{
    const char *sp = P("sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sp);
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(s, 1), 0);
    child c = spawn_v(NULL, 0, (const char *const[]){BL_ARGS, "--json", sp, NULL});
    int conn = accept(s, NULL, NULL);
    cr_assert(conn >= 0);
    char buf[65536];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(conn, buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)k;
    buf[n] = 0;
    close(conn);
    close(s);
    cr_assert_eq(wait_child(&c), 0);
    cr_assert(is_kind(sp, S_IFSOCK), "the socket was replaced");
    cr_assert(strstr(buf, "\"cqboot blocklen\"") != NULL, "got: %s", buf);
}

/* A symbolic link: its target is written, the link stays a link; a link to
 * a file that does not exist yet creates that file. */
Test(safety, symlink_output_writes_the_target)
{
    const char *target = P("real.json"), *link = P("link.json"), *dang = P("dangling.csv"), *newf = P("new.csv");
    td_write(target, "old\n");
    cr_assert_eq(symlink("real.json", link), 0);
    cr_assert_eq(symlink("new.csv", dang), 0);
    result r = RUN(CQ_ARGS, "--json", link, "--csv", dang);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(is_kind(link, S_IFLNK) && is_kind(dang, S_IFLNK), "a link was replaced");
    char *j = td_slurp(target), *c = td_slurp(newf);
    cr_assert(j && strstr(j, "\"cqboot cq\""), "target: %s", j ? j : "(none)");
    cr_assert(c && strstr(c, "alpha_y"), "new file: %s", c ? c : "(none)");
    free(j);
    free(c);
    cr_assert_eq(count_temps(g_dir), 0);
}

/* "-" and the names of an open descriptor are standard output (here a file
 * of the test folder); such a name is a link that must not be replaced: the
 * data arrive on the process's stdout. The test names the descriptor as
 * /proc/self/fd/1, which the CLI treats as it treats /dev/stdout and
 * /dev/fd/1 (cqb_output_open()), so that a regression could never replace
 * anything under /dev (the tests run as root). */
Test(safety, stdout_outputs)
{
    result r = RUN(BL_ARGS, "--json", "-");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"cqboot blocklen\"") != NULL, "stdout: %s", r.out);
    r = RUN(BL_ARGS, "--json", "/proc/self/fd/1");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\"cqboot blocklen\"") != NULL, "stdout: %s", r.out);
    r = RUN(CQ_ARGS, "--csv", "/proc/self/fd/1");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.out, "alpha_y") != NULL, "stdout: %s", r.out);
}

/* An output that is the same file as the input (by name, through a link,
 * through a hard link) is refused with exit 2 before anything runs; the
 * data are untouched. */
Test(safety, output_equal_to_input_is_refused)
{
    const char *in = P("in.csv"), *sl = P("alias.csv"), *hl = P("hard.csv");
    copy_file(US_CHINA, in);
    cr_assert_eq(symlink(in, sl), 0);
    cr_assert_eq(link(in, hl), 0);
    char *before = td_slurp(in);
    const char *outs[] = {in, sl, hl};
    for (int i = 0; i < 3; ++i) {
        result r = RUN("cq", "--data", in, "--y", "GPRC_CHN", "--x", "IPB52300S", "--boot", "20", "--csv", outs[i]);
        cr_assert_eq(r.rc, 2, "--csv %s: exit %d: %s", outs[i], r.rc, r.err);
        cr_assert(strstr(r.err, "same file") != NULL, "%s", r.err);
        r = RUN("blocklen", "--data", in, "--cols", "GPRC_CHN", "--json", outs[i]);
        cr_assert_eq(r.rc, 2, "blocklen --json %s: exit %d: %s", outs[i], r.rc, r.err);
        r = RUN("wlmc", "--data", in, "--cols", "GPRC_CHN,IPB52300S", "--M", "24", "--levels", "2", "--json",
                outs[i]);
        cr_assert_eq(r.rc, 2, "wlmc --json %s: exit %d: %s", outs[i], r.rc, r.err);
    }
    /* standard input redirected from the output file */
    result r0 = run_in(in, (const char *const[]){"blocklen", "--data", "-", "--cols", "GPRC_CHN", "--json", in, NULL});
    cr_assert_eq(r0.rc, 2, "stdin from the output: exit %d: %s", r0.rc, r0.err);
    char *after = td_slurp(in);
    cr_assert_str_eq(before, after, "the data file changed");
    free(before);
    free(after);
    /* two outputs naming one file */
    result r = RUN(CQ_ARGS, "--json", P("x.out"), "--csv", P("x.out"));
    cr_assert_eq(r.rc, 2, "%s", r.err);
}

/* ------------------------------------------------------------------------- */
/* cqboot run                                                                 */
/* ------------------------------------------------------------------------- */

/* A study with one cq analysis named `an` on the data file `data`, B
 * replicates. */
static const char *study(const char *file, const char *name, const char *data, const char *an, int boot)
{
    const char *path = P(file);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"%s\", \"datasets\": {\"m\": {\"file\": \"%s\", \"transforms\": {\"GPRC_CHN\": \"logdiff\", "
             "\"IPB52300S\": \"logdiff\"}}},\n"
             " \"defaults\": {\"seed\": 5, \"boot\": %d},\n"
             " \"analyses\": [{\"name\": \"%s\", \"kind\": \"cq\", \"dataset\": \"m\", \"y\": \"GPRC_CHN\", \"x\": "
             "\"IPB52300S\", \"alpha\": [0.1, 0.5], \"lags\": \"1-2\"},\n"
             "  {\"name\": \"bl\", \"kind\": \"blocklen\", \"cols\": [\"GPRC_CHN\", \"IPB52300S\"]}]}\n",
             name, data, boot, an);
    td_write(path, text);
    return path;
}

Test(safety, run_lock_contention)
{
    const char *s = study("s.json", "s", US_CHINA, "pcq", 200000), *out = P("out");
    child first = spawn_v(NULL, 0, (const char *const[]){"run", s, "--out", out, "--quiet", NULL});
    /* wait until the first run holds the lock */
    char lock[600];
    snprintf(lock, sizeof lock, "%s/.cqboot.lock", out);
    struct stat st;
    for (int i = 0; i < 1000 && !(stat(lock, &st) == 0 && st.st_size > 0); ++i) sleep_s(0.01);
    sleep_s(0.2);
    result r = RUN("run", s, "--out", out, "--quiet");
    char want[64];
    snprintf(want, sizeof want, "is in use by process %ld", (long)first.pid);
    kill(first.pid, SIGTERM);
    int rc1 = wait_child(&first);
    cr_assert_eq(r.rc, 3, "second run: exit %d: %s", r.rc, r.err);
    cr_assert(strstr(r.err, want) != NULL, "second run: %s (want '%s')", r.err, want);
    cr_assert_eq(rc1, 143, "first run: exit %d", rc1);
    /* once free, the folder can be used again */
    const char *s2 = study("s2.json", "s", US_CHINA, "pcq", 20);
    r = RUN("run", s2, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
}

Test(safety, run_names_are_confined_and_data_protected)
{
    /* the study's name makes the default out/NAME: '..' would escape */
    const char *s = study("dots.json", "..", US_CHINA, "pcq", 20);
    result r = RUN("run", s);
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    /* an analysis named like the data file, --out at the data folder */
    const char *data = P("m.csv");
    copy_file(US_CHINA, data);
    char *before = td_slurp(data);
    s = study("clash.json", "s", "m.csv", "m", 20);
    r = RUN("run", s, "--out", g_dir, "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    cr_assert(strstr(r.err, "same file") != NULL, "%s", r.err);
    char *after = td_slurp(data);
    cr_assert_str_eq(before, after, "the data set was replaced");
    free(before);
    free(after);
    /* a data set named like a figure of the study, in --out */
    const char *o3 = P("o3");
    mkdir(o3, 0755);
    char fig[600];
    snprintf(fig, sizeof fig, "%s/pcq_lags_0.1_0.1.png", o3);
    copy_file(US_CHINA, fig);
    s = study("fig.json", "s", fig, "pcq", 20);
    r = RUN("run", s, "--out", o3, "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
    char *figdata = td_slurp(fig);
    cr_assert(figdata && !strncmp(figdata, "date,", 5), "the data set was replaced by a figure");
    free(figdata);
    /* names with '..' or a leading '.' */
    s = study("bad.json", "s", US_CHINA, "a..b", 20);
    r = RUN("run", s, "--out", P("o2"), "--quiet");
    cr_assert_eq(r.rc, 2, "exit %d: %s", r.rc, r.err);
}

Test(safety, run_removes_leftovers_and_resume_ignores_threads)
{
    const char *s = study("s.json", "s", US_CHINA, "pcq", 50), *out = P("out");
    result r = RUN("run", s, "--out", out, "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    /* what kill -9 leaves: temporaries of outputs and an interim JSON */
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/pcq.csv.tmp.Ab12Cd", out);
    snprintf(b, sizeof b, "%s/.state/pcq.run.json", out);
    snprintf(c, sizeof c, "%s/.pcq_heatmap.png.tmp123.4", out);
    td_write(a, "");
    td_write(b, "");
    td_write(c, "");
    struct stat st0, st1;
    char csv[600];
    snprintf(csv, sizeof csv, "%s/pcq.csv", out);
    cr_assert_eq(stat(csv, &st0), 0);
    r = RUN("run", s, "--out", out, "--resume", "--threads", "1", "--backend", "cpu", "--progress", "plain");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.err, "pcq (cq): reused") != NULL, "--threads/--backend changed: rerun: %s", r.err);
    cr_assert(strstr(r.err, "bl (blocklen): reused") != NULL, "%s", r.err);
    cr_assert_eq(stat(csv, &st1), 0);
    cr_assert_eq(st0.st_ino, st1.st_ino, "pcq.csv was rewritten");
    cr_assert_eq(access(a, F_OK), -1, "leftover %s kept", a);
    cr_assert_eq(access(b, F_OK), -1, "leftover %s kept", b);
    cr_assert_eq(access(c, F_OK), -1, "leftover %s kept", c);
    /* per-analysis and total time */
    cr_assert(strstr(r.err, "done in") != NULL, "%s", r.err);
}

/* ------------------------------------------------------------------------- */
/* Inputs                                                                     */
/* ------------------------------------------------------------------------- */

Test(safety, endless_inputs_are_bounded)
{
    /* /dev/zero: an error within seconds, not a machine out of memory */
    child c = spawn_v(NULL, 0, (const char *const[]){"blocklen", "--data", "/dev/zero", "--cols", "a", NULL});
    double took;
    int rc = wait_child_for(&c, 20.0, &took);
    cr_assert_eq(rc, 3, "--data /dev/zero: exit %d after %.1f s", rc, took);
    /* an endless text pipe on stdin: the --max-input bound */
    const char *fifo = P("endless");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t w = fork();
    if (w == 0) {
        int fd = open(fifo, O_WRONLY);
        const char line[] = "date,a\n1,2\n3,4\n5,6\n7,8\n";
        for (;;)
            if (write(fd, line, sizeof line - 1) < 0) _exit(0);
    }
    c = spawn_v(fifo, 0, (const char *const[]){"blocklen", "--data", "-", "--cols", "a", "--max-input", "1M", NULL});
    rc = wait_child_for(&c, 20.0, &took);
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    char *err = td_slurp(c.err);
    cr_assert_eq(rc, 3, "endless stdin: exit %d: %s", rc, err);
    cr_assert(strstr(err, "--max-input") != NULL, "%s", err);
    free(err);
    /* the same through a named FIFO as --data */
    w = fork();
    if (w == 0) {
        int fd = open(fifo, O_WRONLY);
        const char line[] = "1,2\n";
        for (;;)
            if (write(fd, line, sizeof line - 1) < 0) _exit(0);
    }
    c = spawn_v(NULL, 0, (const char *const[]){"blocklen", "--data", fifo, "--cols", "a", "--max-input=64k", NULL});
    rc = wait_child_for(&c, 20.0, &took);
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    cr_assert_eq(rc, 3, "endless FIFO: exit %d", rc);
    /* a file above the bound; a bad size */
    result r = RUN(BL_ARGS, "--max-input", "1k");
    cr_assert_eq(r.rc, 3, "%s", r.err);
    r = RUN(BL_ARGS, "--max-input", "lots");
    cr_assert_eq(r.rc, 2, "%s", r.err);
}

/* Private zero and full devices (mknod): endless inputs for a command and
 * for a study's data set; a full device as output fails (exit 3) and stays
 * a device. */
Test(safety, private_zero_and_full_devices)
{
    const char *zero = P("zero"), *full = P("full");
    if (mknod(zero, S_IFCHR | 0666, makedev(1, 5)) != 0 || mknod(full, S_IFCHR | 0666, makedev(1, 7)) != 0)
        cr_skip_test("mknod needs root (%s)", strerror(errno));
    const char *const cmds[][8] = {{"cq", "--data", zero, "--y", "a", "--x", "b", NULL},
                                   {"wmc", "--data", full, "--cols", "a,b", NULL},
                                   {"modwt", "--data", zero, "--cols", "a", NULL}};
    for (int i = 0; i < 3; ++i) {
        child c = spawn_v(NULL, 0, cmds[i]);
        double took;
        int rc = wait_child_for(&c, 20.0, &took);
        cr_assert_eq(rc, 3, "%s --data %s: exit %d after %.1f s", cmds[i][0], cmds[i][2], rc, took);
    }
    const char *s = study("dev.json", "s", full, "pcq", 20);
    child c = spawn_v(NULL, 0, (const char *const[]){"run", s, "--out", P("o"), "--quiet", NULL});
    double took;
    int rc = wait_child_for(&c, 20.0, &took);
    cr_assert_eq(rc, 3, "run with a data set %s: exit %d after %.1f s", full, rc, took);
    result r = RUN(BL_ARGS, "--json", full);
    cr_assert_eq(r.rc, 3, "--json to a full device: exit %d: %s", r.rc, r.err);
    cr_assert(is_kind(full, S_IFCHR) && is_kind(zero, S_IFCHR), "a device node was replaced");
}

Test(safety, stdin_and_pipes_within_the_bound)
{
    result r = run_in(US_CHINA, (const char *const[]){"blocklen", "--data", "-", "--cols", "GPRC_CHN", NULL});
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.out, "GPRC_CHN") != NULL, "%s", r.out);
    result f = RUN("blocklen", "--data", US_CHINA, "--cols", "GPRC_CHN");
    cr_assert_eq(f.rc, 0);
    /* the same numbers as from the file (the first line names the input) */
    cr_assert_str_eq(strchr(r.out, '\n'), strchr(f.out, '\n'));
    /* the endless-input reader is interruptible: a FIFO nobody writes */
    const char *fifo = P("silent");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    child c = spawn_v(NULL, 0, (const char *const[]){"blocklen", "--data", fifo, "--cols", "a", NULL});
    sleep_s(0.5);
    kill(c.pid, SIGINT);
    double took;
    int rc = wait_child_for(&c, 5.0, &took);
    cr_assert_eq(rc, 130, "exit %d", rc);
    cr_assert_lt(took, STOP_WITHIN, "stopped after %.2f s", took);
}

/* ------------------------------------------------------------------------- */
/* Signals                                                                    */
/* ------------------------------------------------------------------------- */

/* Starts argv (outputs DIR/sig.json, DIR/sig.csv are in it), waits `after`
 * seconds, sends sig; the command must stop within 1 s with 128 + sig and
 * leave no output and no temporary file. */
static void check_signal(const char *const *argv, int sig, double after)
{
    child c = spawn_v(NULL, 0, argv);
    sleep_s(after);
    int st;
    cr_assert_eq(waitpid(c.pid, &st, WNOHANG), 0, "%s finished before the signal: make it longer", argv[0]);
    kill(c.pid, sig);
    double took;
    int rc = wait_child_for(&c, 10.0, &took);
    char *err = td_slurp(c.err);
    cr_assert_eq(rc, 128 + sig, "%s: exit %d after the signal: %s", argv[0], rc, err);
    cr_assert_lt(took, STOP_WITHIN, "%s: stopped %.2f s after the signal", argv[0], took);
    free(err);
    cr_assert_eq(access(P("sig.json"), F_OK), -1, "%s left sig.json", argv[0]);
    cr_assert_eq(access(P("sig.csv"), F_OK), -1, "%s left sig.csv", argv[0]);
    cr_assert_eq(count_temps(g_dir), 0, "%s left a temporary file", argv[0]);
}

#define SIG_OUT "--json", P("sig.json"), "--csv", P("sig.csv")
#define W_DATA "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S,EPU_US", "--transform", "GPRC_CHN=logdiff", \
               "--transform", "IPB52300S=logdiff", "--levels", "3"

Test(safety, sigint_cq) { check_signal((const char *const[]){CQ_ARGS, "--boot", "2000000", SIG_OUT, NULL}, SIGINT, 1.0); }
Test(safety, sigterm_cq_rolling)
{
    check_signal((const char *const[]){CQ_ARGS, "--boot", "200000", "--window", "120", "--step", "12", SIG_OUT, NULL},
                 SIGTERM, 1.0);
}
Test(safety, sigint_sncv)
{
    check_signal((const char *const[]){"sncv", "--paths", "1000000", "--steps", "100000", SIG_OUT, NULL}, SIGINT, 1.0);
}
Test(safety, sigterm_simulate)
{
    check_signal((const char *const[]){"simulate", "--reps", "1000000", "--boot", "199", SIG_OUT, NULL}, SIGTERM, 1.0);
}
Test(safety, sigint_modwt_reading)
{
    /* modwt is quick once read: interrupt it while it waits for its input */
    const char *fifo = P("in.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    check_signal((const char *const[]){"modwt", "--data", fifo, "--cols", "a", SIG_OUT, NULL}, SIGINT, 0.5);
}
Test(safety, sigint_wmc) { check_signal((const char *const[]){"wmc", W_DATA, "--boot", "5000000", SIG_OUT, NULL}, SIGINT, 1.0); }
Test(safety, sigterm_wmcc)
{
    check_signal((const char *const[]){"wmcc", W_DATA, "--boot", "5000000", SIG_OUT, NULL}, SIGTERM, 1.0);
}
Test(safety, sigint_wlmc)
{
    check_signal((const char *const[]){"wlmc", W_DATA, "--M", "24", "--boot", "5000000", SIG_OUT, NULL}, SIGINT, 1.0);
}
Test(safety, sigint_wlmcc)
{
    check_signal((const char *const[]){"wlmcc", W_DATA, "--M", "24", "--boot", "5000000", SIG_OUT, NULL}, SIGINT,
                 1.0);
}
Test(safety, sigint_wlmc_phase_null)
{
    check_signal((const char *const[]){"wlmc", W_DATA, "--M", "24", "--boot", "5000000", "--null", "phase", SIG_OUT,
                                       NULL},
                 SIGINT, 1.0);
}
/* the local cross statistic itself (no resampling) on a long series */
Test(safety, sigterm_wlmcc_statistic)
{
    const char *big = P("big.csv");
    FILE *f = fopen(big, "w");
    cr_assert_not_null(f);
    fprintf(f, "i,a,b,c\n");
    uint64_t z = 88172645463325252ull;
    for (int t = 0; t < 20000; ++t) {
        double v[3];
        for (int k = 0; k < 3; ++k) {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            v[k] = (double)(z >> 11) / 9007199254740992.0;
        }
        fprintf(f, "%d,%.6f,%.6f,%.6f\n", t, v[0], v[1], v[2]);
    }
    fclose(f);
    check_signal((const char *const[]){"wlmcc", "--data", big, "--cols", "a,b,c", "--M", "48", "--levels", "4", SIG_OUT,
                                       NULL},
                 SIGTERM, 1.0);
}

/* A large regular file: the reader, its hash and the CSV parser poll the
 * interrupt (parsing 1 GiB takes seconds). 120 MB, written here in blocks. */
Test(safety, sigint_cq_parsing_a_large_file)
{
    const char *big = P("big.csv");
    FILE *f = fopen(big, "w");
    cr_assert_not_null(f);
    fputs("date,a,b\n", f);
    char block[1 << 16];
    size_t n = 0;
    for (int i = 0; n + 64 < sizeof block; ++i)
        n += (size_t)snprintf(block + n, sizeof block - n, "%d,%.15f,%.15f\n", i, (i * 0.618034) - (int)(i * 0.618034),
                              (i * 0.414214) - (int)(i * 0.414214));
    for (size_t w = 0; w < (size_t)120 << 20; w += n) cr_assert_eq(fwrite(block, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    check_signal((const char *const[]){"cq", "--data", big, "--y", "a", "--x", "b", "--boot", "0", "--lags", "1",
                                       "--quiet", SIG_OUT, NULL},
                 SIGINT, 0.3);
}
Test(safety, sigint_blocklen_reading)
{
    const char *fifo = P("in.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    check_signal((const char *const[]){"blocklen", "--data", fifo, "--cols", "a", "--json", P("sig.json"), NULL},
                 SIGTERM, 0.5);
}
Test(safety, sigint_run)
{
    const char *s = study("s.json", "s", US_CHINA, "pcq", 2000000);
    check_signal((const char *const[]){"run", s, "--out", P("out"), "--quiet", NULL}, SIGINT, 1.5);
    char res[600];
    snprintf(res, sizeof res, "%s/out/results.json", g_dir);
    cr_assert_eq(access(res, F_OK), -1, "an interrupted run wrote results.json");
    cr_assert_eq(count_temps(P("out")), 0);
}

/* ------------------------------------------------------------------------- */
/* Exit codes (docs/safety.md)                                                */
/* ------------------------------------------------------------------------- */

Test(safety, exit_code_table)
{
    /* 0 ok */
    result r = RUN(BL_ARGS);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    /* 2 usage: unknown option, bad value, invalid study JSON */
    r = RUN("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--frobnicate");
    cr_assert_eq(r.rc, 2, "%s", r.err);
    r = RUN("wmc", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S", "--boot", "x");
    cr_assert_eq(r.rc, 2, "%s", r.err);
    const char *bad = P("bad.json");
    td_write(bad, "{\"name\": \"s\",\n \"analyses\": [}\n");
    r = RUN("run", bad, "--out", P("o"));
    cr_assert_eq(r.rc, 2, "invalid study JSON: %s", r.err);
    /* 3 data or file: a missing input, an unwritable output */
    r = RUN("blocklen", "--data", P("missing.csv"), "--cols", "a");
    cr_assert_eq(r.rc, 3, "%s", r.err);
    r = RUN(BL_ARGS, "--json", P("no/such/dir/x.json"));
    cr_assert_eq(r.rc, 3, "%s", r.err);
    /* 4 backend unavailable (where no CUDA device is usable) */
    if (!cqb_backend_cuda_built()) {
        r = RUN(CQ_ARGS, "--backend", "cuda");
        cr_assert_eq(r.rc, 4, "%s", r.err);
    }
}

/* 5: out of memory, here OpenMP unable to start its threads under a tight
 * address-space limit; the message names --threads/--mem-limit. */
Test(safety, out_of_memory_is_exit_5)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer needs more address space than the limit leaves");
#else
    child c = spawn_v(NULL, 256L << 20, (const char *const[]){CQ_ARGS, "--threads", "256", "--json", "-", NULL});
    int rc = wait_child(&c);
    char *err = td_slurp(c.err);
    if (rc == 0) cr_skip_test("the limit did not bite on this machine");
    cr_assert_eq(rc, 5, "exit %d: %s", rc, err);
    cr_assert(strstr(err, "--threads") != NULL && strstr(err, "--mem-limit") != NULL, "%s", err);
    free(err);
#endif
}

/* ------------------------------------------------------------------------- */
/* Progress and notices                                                       */
/* ------------------------------------------------------------------------- */

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) ++n;
    return n;
}

Test(safety, progress_shows_time_windows_and_resampling)
{
    result r = RUN("cq", "--data", US_CHINA, "--y", "GPRC_CHN", "--x", "IPB52300S", "--transform", "GPRC_CHN=logdiff",
                   "--transform", "IPB52300S=logdiff", "--alpha", "0.5", "--lags", "1", "--boot", "200", "--window",
                   "200", "--step", "60", "--progress", "plain", "--json", P("w.json"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.err, "window 1/3") && strstr(r.err, "window 3/3"), "%s", r.err);
    cr_assert(strstr(r.err, "elapsed") && strstr(r.err, "ETA"), "%s", r.err);
    r = RUN("wlmc", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S", "--M", "24", "--levels", "2", "--boot", "100",
            "--progress", "plain", "--json", P("l.json"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.err, "cqboot wlmc: 100%") != NULL, "%s", r.err);
    r = RUN("wmc", "--data", US_CHINA, "--cols", "GPRC_CHN,IPB52300S", "--levels", "2", "--boot", "100", "--quiet",
            "--json", P("m.json"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_str_eq(r.err, "", "--quiet printed: %s", r.err);
    /* run: per-analysis and total time */
    const char *s = study("s.json", "s", US_CHINA, "pcq", 30);
    r = RUN("run", s, "--out", P("out"), "--progress", "plain");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert(strstr(r.err, "pcq: done in") && strstr(r.err, "run: done in"), "%s", r.err);
}

/* Where CUDA is built but no device is usable, the fallback notice comes once
 * per process (a study with several analyses) and never with run --quiet. */
Test(safety, cuda_fallback_notice_once_and_quiet)
{
    if (!cqb_backend_cuda_built()) cr_skip_test("the CUDA backend is not built: no fallback notice");
    const char *path = P("two.json");
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\": \"s\", \"datasets\": {\"m\": {\"file\": \"%s\"}},\n"
             " \"defaults\": {\"seed\": 5, \"boot\": 20},\n"
             " \"analyses\": [{\"name\": \"a\", \"kind\": \"cq\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\", \"lags\": 1},\n"
             "  {\"name\": \"b\", \"kind\": \"cq\", \"y\": \"IPB52300S\", \"x\": \"GPRC_CHN\", \"lags\": 1}]}\n",
             US_CHINA);
    td_write(path, text);
    result r = RUN("run", path, "--out", P("o1"), "--progress", "none");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    const int n = count_of(r.err, "no usable CUDA device");
    if (n == 0) cr_skip_test("a CUDA device is usable here: nothing falls back");
    cr_assert_eq(n, 1, "the notice came %d times: %s", n, r.err);
    cr_assert_lt(strlen(strstr(r.err, "no usable CUDA device")), 160, "a long notice: %s", r.err);
    r = RUN("run", path, "--out", P("o2"), "--quiet");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_assert_eq(count_of(r.err, "CUDA"), 0, "run --quiet printed: %s", r.err);
}
