/* cli.c — option parsing, data loading, atomic outputs and progress for the
 * cqboot subcommands. */
#include "cli.h"

#include <getopt.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile int g_signal_flag = 0;
volatile int *cli_cancel = &g_signal_flag;
cli_embed_state *cli_embed = NULL;
int cli_check_only = 0;
int cli_nomem = 0;
char cli_check_msg[CQB_ERROR_MAX];

static void on_signal(int sig)
{
    /* the first signal asks every loop to stop (they poll cli_interrupted
     * and the process exits 128 + sig with no output); a second one ends
     * the process at once */
    if (cli_interrupted) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        raise(sig);
        return;
    }
    cli_interrupted = sig;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

char *cli_read_text(const char *path, size_t *len, cqb_error *err)
{
    const int is_stdin = !strcmp(path, "-");
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cqb_error_set(err, CQB_EDATA, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cli_interrupted) {
            cqb_error_set(err, CQB_EUSAGE, "interrupted");
            break;
        }
        if ((uint64_t)n > cli_max_input) {
            cqb_error_set(err, CQB_EDATA, "%s: larger than the input limit of %llu bytes (--max-input)", path,
                          (unsigned long long)cli_max_input);
            break;
        }
        if (cap - n < 65536 + 1) {
            size_t nc = cap ? 2 * cap : 65536 * 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                cqb_error_set(err, CQB_ENOMEM, "%s: out of memory while reading", path);
                break;
            }
            buf = nb;
            cap = nc;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0) {
            if (errno == EINTR) continue;
            cqb_error_set(err, CQB_EDATA, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (got == 0) {
            if (!is_stdin) close(fd);
            buf[n] = 0;
            *len = n;
            return buf;
        }
        /* no text file holds a NUL byte: stop there (an endless /dev/zero) */
        const int nul = memchr(buf + n, 0, (size_t)got) != NULL;
        n += (size_t)got;
        if (nul) {
            if (!is_stdin) close(fd);
            buf[n] = 0;
            *len = n;
            return buf;
        }
    }
    if (!is_stdin) close(fd);
    free(buf);
    return NULL;
}

int cli_quiet = 0;

void cli_backend_notice(const char *cmd, const char *notice, int quiet)
{
    static int shown;
    if (!notice || !notice[0] || quiet || cli_quiet || shown) return;
    shown = 1;
    /* "no usable CUDA device (long reason); using the CPU" -> the clauses
     * without the reason */
    const char *paren = strstr(notice, " (");
    const char *semi = strrchr(notice, ';');
    if (paren && semi && semi > paren)
        fprintf(stderr, "cqboot %s: %.*s%s\n", cmd, (int)(paren - notice), notice, semi);
    else
        fprintf(stderr, "cqboot %s: %s\n", cmd, notice);
}

/* Temporary files to remove if the program must stop at once. */
#define CLI_MAX_CLEANUP 64
static const char *g_cleanup[CLI_MAX_CLEANUP];

void cli_cleanup_add(const char *path)
{
    for (int i = 0; i < CLI_MAX_CLEANUP; ++i)
        if (!g_cleanup[i]) {
            g_cleanup[i] = path;
            return;
        }
}

void cli_cleanup_now(void)
{
    for (int i = 0; i < CLI_MAX_CLEANUP; ++i)
        if (g_cleanup[i]) unlink(g_cleanup[i]);
}

void cli_cleanup_remove(const char *path)
{
    for (int i = 0; i < CLI_MAX_CLEANUP; ++i)
        if (g_cleanup[i] == path) g_cleanup[i] = NULL;
}

/* cJSON drops (and leaks) an item it cannot attach when an allocation
 * fails, so a tree built after a failure silently lacks members: running
 * out of memory inside cJSON stops the program (exit 5), after removing the
 * temporary output files. */
static void *json_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        for (int i = 0; i < CLI_MAX_CLEANUP; ++i)
            if (g_cleanup[i]) unlink(g_cleanup[i]);
        static const char msg[] = "cqboot: out of memory\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(5);
    }
    return p;
}

void cli_json_init(void)
{
    cJSON_Hooks h = {json_malloc, free};
    cJSON_InitHooks(&h);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_fail(const char *cmd, const cqb_error *err)
{
    if (cli_embed && !cli_check_only) {
        /* in-process: the caller gets the line, nothing goes to stderr */
        if (cli_interrupted) {
            snprintf(cli_embed->message, sizeof cli_embed->message, "interrupted");
            return 130;
        }
        snprintf(cli_embed->message, sizeof cli_embed->message, "%.400s%s", err->msg,
                 err->status == CQB_ENOMEM ? " (lower --mem-limit or --threads, or allow the process more memory)" : "");
        return cqb_status_exit_code(err->status);
    }
    if (cli_check_only) {
        snprintf(cli_check_msg, sizeof cli_check_msg, "%s", err->msg);
        return cqb_status_exit_code(err->status);
    }
    if (cli_interrupted) {
        fprintf(stderr, "cqboot %s: interrupted by %s; nothing written\n", cmd,
                cli_interrupted == SIGTERM ? "SIGTERM" : "SIGINT");
        return 128 + cli_interrupted;
    }
    if (err->status == CQB_ENOMEM) {
        fprintf(stderr, "cqboot %s: %s (lower --mem-limit or --threads, or allow the process more memory)\n", cmd,
                err->msg);
        return cqb_status_exit_code(err->status);
    }
    fprintf(stderr, "cqboot %s: %s\n", cmd, err->msg);
    return cqb_status_exit_code(err->status);
}

int cli_oom(const char *cmd)
{
    cli_nomem = 0;
    if (cli_check_only) {
        snprintf(cli_check_msg, sizeof cli_check_msg, "out of memory");
        return 5;
    }
    if (cli_embed) {
        snprintf(cli_embed->message, sizeof cli_embed->message, "out of memory");
        return 5;
    }
    fprintf(stderr, "cqboot %s: out of memory\n", cmd);
    return 5;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    /* a parser that ran out of memory reports a bad value: say what it was */
    if (cli_nomem) return cli_oom(cmd);
    if (cli_check_only) {
        va_start(ap, fmt);
        vsnprintf(cli_check_msg, sizeof cli_check_msg, fmt, ap);
        va_end(ap);
        return 2;
    }
    if (cli_embed) {
        va_start(ap, fmt);
        vsnprintf(cli_embed->message, sizeof cli_embed->message, fmt, ap);
        va_end(ap);
        return 2;
    }
    fprintf(stderr, "cqboot %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'cqboot %s --help')\n", cmd);
    return 2;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    /* getopt_long with optstring ":" returns ':' for a missing value and '?'
     * for an unknown option; optopt is the short option letter, or 0 for a
     * long option (argv[optind - 1] is then the whole argument) */
    if (c == ':') {
        if (optopt > 0 && optopt < 256) return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
        return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    }
    if (optopt > 0 && optopt < 256) return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != 0 || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    /* digits first: strtoull would accept " -1" (leading space, then a
     * sign) and wrap it to 2^64 - 1 */
    if (!isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != 0) {
        /* accept 1e5-style integers for replicate counts */
        double d;
        if (cli_parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d)) return -1;
        *out = (uint64_t)d;
        return 0;
    }
    if (errno == ERANGE) return -1;
    *out = v;
    return 0;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != 0 || errno == ERANGE || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_z(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int cli_parse_levels(const char *s, double **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; ++p) cap += *p == ',';
    double *v = malloc(cap * sizeof *v);
    char *dup = strdup(s);
    if (!v || !dup) {
        free(v);
        free(dup);
        cli_nomem = 1;
        return -1;
    }
    size_t k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cli_parse_double(tok, &v[k])) {
            free(v);
            free(dup);
            return -1;
        }
        ++k;
    }
    free(dup);
    if (k == 0) {
        free(v);
        return -1;
    }
    qsort(v, k, sizeof *v, cmp_d);
    size_t m = 1;
    for (size_t i = 1; i < k; ++i)
        if (v[i] != v[m - 1]) v[m++] = v[i];
    *out = v;
    *n = m;
    return 0;
}

int cli_parse_lags(const char *s, size_t **out, size_t *n)
{
    char *dup = strdup(s);
    size_t cap = 0, k = 0;
    size_t *v = NULL;
    if (!dup) {
        cli_nomem = 1;
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long a, b;
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = 0;
            if (cli_parse_int(tok, 0, 65535, &a) || cli_parse_int(dash + 1, 0, 65535, &b) || b < a) goto bad;
        } else {
            if (cli_parse_int(tok, 0, 65535, &b)) goto bad;
            /* a single K in a list of one means 1..K (R's Kmax); inside a
             * comma list it is that lag alone */
            a = (strchr(s, ',') == NULL) ? 1 : b;
            if (strchr(s, ',') == NULL && b == 0) a = 0;
        }
        for (long l = a; l <= b; ++l) {
            if (k == cap) {
                cap = cap ? 2 * cap : 16;
                size_t *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    cli_nomem = 1;
                    goto bad;
                }
                v = nv;
            }
            v[k++] = (size_t)l;
        }
    }
    free(dup);
    if (k == 0) {
        free(v);
        return -1;
    }
    qsort(v, k, sizeof *v, cmp_z);
    size_t m = 1;
    for (size_t i = 1; i < k; ++i)
        if (v[i] != v[m - 1]) v[m++] = v[i];
    *out = v;
    *n = m;
    return 0;
bad:
    free(dup);
    free(v);
    return -1;
}

int cli_transform_add(cli_transforms *t, const char *arg, const char *cmd)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error(cmd, "--transform: expected COL=logdiff|diff|pct|level, got '%s'", arg);
    if (t->n == CLI_MAX_TRANSFORMS) return cli_usage_error(cmd, "--transform: too many transforms");
    cqb_transform tr;
    if (cqb_transform_parse(eq + 1, &tr) != CQB_OK)
        return cli_usage_error(cmd, "--transform: unknown transform '%s' (logdiff, diff, pct or level)", eq + 1);
    size_t len = (size_t)(eq - arg);
    char *col = malloc(len + 1);
    if (!col) return cli_oom(cmd);
    memcpy(col, arg, len);
    col[len] = 0;
    /* a later setting for the same column wins */
    for (size_t i = 0; i < t->n; ++i) {
        if (!strcmp(t->col[i], col)) {
            free(col);
            t->tr[i] = tr;
            return 0;
        }
    }
    t->col[t->n] = col;
    t->tr[t->n] = tr;
    t->n++;
    return 0;
}

int cli_input_option(cli_transforms *t, int c, const char *arg, const char *cmd)
{
    if (cli_input_option_check(t, c, arg) == 0) return 0;
    if (c == CLI_OPT_SEP) return cli_usage_error(cmd, "--sep: unknown separator '%s' (',', ';', tab or '|')", arg);
    if (c == CLI_OPT_DECIMAL) return cli_usage_error(cmd, "--decimal: unknown decimal mark '%s' ('.' or ',')", arg);
    return cli_usage_error(cmd,
                           "--date-format: unknown format '%s' (auto, YYYY-MM-DD, YYYY-MM, YYYY/MM/DD, "
                           "YYYY/MM, MM/YYYY, YYYYMmm, YYYYQq, Mon YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY)",
                           arg);
}

int cli_input_option_check(cli_transforms *t, int c, const char *arg)
{
    if (c == CLI_OPT_SEP) {
        if (!strcmp(arg, ",") || !strcmp(arg, "comma")) t->read.sep = ',';
        else if (!strcmp(arg, ";") || !strcmp(arg, "semicolon")) t->read.sep = ';';
        else if (!strcmp(arg, "tab") || !strcmp(arg, "\t") || !strcmp(arg, "\\t")) t->read.sep = '\t';
        else if (!strcmp(arg, "|") || !strcmp(arg, "pipe")) t->read.sep = '|';
        else return -1;
    } else if (c == CLI_OPT_DECIMAL) {
        if (!strcmp(arg, ".") || !strcmp(arg, "point")) t->read.decimal = '.';
        else if (!strcmp(arg, ",") || !strcmp(arg, "comma")) t->read.decimal = ',';
        else return -1;
    } else if (c == CLI_OPT_DATE_FORMAT) {
        if (cqb_date_format_parse(arg, &t->read.date_format) != CQB_OK) return -1;
    }
    return 0;
}

cqb_transform cli_transform_of(const cli_transforms *t, const char *col)
{
    for (size_t i = 0; i < t->n; ++i)
        if (!strcmp(t->col[i], col)) return t->tr[i];
    return CQB_TR_LEVEL;
}

cqb_status cli_load(const char *path, const char *const *cols, size_t ncols, const cli_transforms *tr,
                    const char *from, const char *to, cli_data *out, cqb_error *err)
{
    memset(out, 0, sizeof *out);
    cqb_status st;
    if (cli_embed && cli_embed->data_csv && path && !strcmp(path, cli_embed->data_name))
        st = cqb_frame_read_buffer_opts(path, cli_embed->data_csv, cli_embed->data_len, &tr->read, &out->frame, err);
    else
        st = cqb_frame_read_limited(path, &tr->read, cli_max_input, &cli_interrupted, &out->frame, err);
    if (st != CQB_OK) return st;
    for (size_t i = 0; i < tr->n; ++i) {
        if (cqb_frame_find_col(out->frame, tr->col[i]) < 0) {
            cqb_frame_free(out->frame);
            out->frame = NULL;
            return cqb_error_set(err, CQB_EUSAGE, "--transform: %s has no column '%s'", path, tr->col[i]);
        }
    }
    cqb_transform *trs = malloc((ncols ? ncols : 1) * sizeof *trs);
    if (!trs) {
        cqb_frame_free(out->frame);
        out->frame = NULL;
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < ncols; ++j) trs[j] = cli_transform_of(tr, cols[j]);
    cqb_select_spec sp = {cols, ncols, trs, from, to};
    st = cqb_frame_select(out->frame, &sp, &out->set, err);
    free(trs);
    if (st != CQB_OK) {
        cqb_frame_free(out->frame);
        out->frame = NULL;
        return st;
    }
    /* what the reader decided (an index column, a header of numbers); on
     * success only, so that an error stays one line */
    for (const char *n = cli_check_only || cli_embed ? "" : cqb_frame_notes(out->frame); *n;) {
        const char *e = strchr(n, '\n');
        int len = e ? (int)(e - n) : (int)strlen(n);
        fprintf(stderr, "cqboot: note: %.*s\n", len, n);
        n += len + (e ? 1 : 0);
    }
    return st;
}

void cli_data_free(cli_data *d)
{
    cqb_series_set_free(&d->set);
    cqb_frame_free(d->frame);
    memset(d, 0, sizeof *d);
}

cJSON *cli_input_json(const cli_data *d, const char *const *cols, size_t ncols, const cli_transforms *tr)
{
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "file", cqb_frame_path(d->frame));
    cJSON_AddStringToObject(in, "sha256", cqb_frame_sha256(d->frame));
    cJSON_AddNumberToObject(in, "file_rows", (double)cqb_frame_rows(d->frame));
    cJSON_AddNumberToObject(in, "rows", (double)d->set.T);
    cJSON *c = cJSON_AddArrayToObject(in, "columns");
    cJSON *t = cJSON_AddObjectToObject(in, "transforms");
    for (size_t j = 0; j < ncols; ++j) {
        cJSON_AddItemToArray(c, cJSON_CreateString(cols[j]));
        if (!cJSON_GetObjectItemCaseSensitive(t, cols[j]))
            cJSON_AddStringToObject(t, cols[j], cqb_transform_name(cli_transform_of(tr, cols[j])));
    }
    cJSON_AddStringToObject(in, "first", d->set.first_label);
    cJSON_AddStringToObject(in, "last", d->set.last_label);
    return in;
}

cqb_status cli_out_open(cli_out *o, const char *path, const char *what, cqb_error *err)
{
    cqb_status st = cqb_output_open(o, path, what, err);
    if (st == CQB_OK && o->tmp) cli_cleanup_add(o->tmp); /* removed if the process must stop at once */
    if (st == CQB_OK && cli_embed && o->kind == CQB_OUTPUT_STDOUT && what) {
        if (!strcmp(what, "--json")) cli_embed->out_json = o;
        else if (!strcmp(what, "--csv")) cli_embed->out_csv = o;
    }
    return st;
}

/* (the cleanup registry holds o->tmp itself: it is dropped from it before
 * anything may free it) */
cqb_status cli_out_finish(cli_out *o, cqb_error *err)
{
    if (cli_interrupted && o->kind != CQB_OUTPUT_NONE) {
        cli_out_abort(o);
        return cqb_error_set(err, CQB_EUSAGE, "interrupted");
    }
    const char *tmp = o->tmp;
    cqb_status st = cqb_output_finish(o, err);
    if (st != CQB_OK) cli_cleanup_remove(tmp); /* aborted: the file is gone */
    return st;
}

cqb_status cli_out_commit(cli_out *o, cqb_error *err)
{
    if (cli_interrupted && o->kind != CQB_OUTPUT_NONE) {
        cli_out_abort(o);
        return cqb_error_set(err, CQB_EUSAGE, "interrupted");
    }
    cli_cleanup_remove(o->tmp);
    if (cli_embed && o->kind == CQB_OUTPUT_STDOUT && (o == cli_embed->out_json || o == cli_embed->out_csv)) {
        /* in-process: the collected text goes to the caller, not stdout */
        cqb_status st = cqb_output_finish(o, err);
        if (st != CQB_OK) return st;
        char **dst = o == cli_embed->out_json ? &cli_embed->json : &cli_embed->csv;
        free(*dst);
        *dst = o->buf ? o->buf : strdup("");
        o->buf = NULL;
        cqb_output_abort(o);
        if (!*dst) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        return CQB_OK;
    }
    return cqb_output_commit(o, err);
}

cqb_status cli_out_commit_all(cli_out *const *o, size_t n, cqb_error *err)
{
    /* every output finished (written and synced) before any is committed, so
     * a failure while writing leaves none of them */
    cqb_status st = CQB_OK;
    for (size_t i = 0; i < n && st == CQB_OK; ++i) st = cli_out_finish(o[i], err);
    /* all or nothing: when a rename fails, the files renamed before it go
     * too (their targets are remembered before the commit frees them) */
    char *done[8] = {0};
    size_t ndone = 0;
    for (size_t i = 0; i < n && st == CQB_OK; ++i) {
        char *target = o[i]->kind == CQB_OUTPUT_ATOMIC && o[i]->target ? strdup(o[i]->target) : NULL;
        st = cli_out_commit(o[i], err);
        if (st == CQB_OK && target && ndone < sizeof done / sizeof done[0]) done[ndone++] = target;
        else free(target);
    }
    if (st != CQB_OK) {
        for (size_t i = 0; i < n; ++i) cli_out_abort(o[i]);
        for (size_t j = 0; j < ndone; ++j) unlink(done[j]);
    }
    for (size_t j = 0; j < ndone; ++j) free(done[j]);
    return st;
}

void cli_out_abort(cli_out *o)
{
    if (cli_embed && o == cli_embed->out_json) cli_embed->out_json = NULL;
    if (cli_embed && o == cli_embed->out_csv) cli_embed->out_csv = NULL;
    cli_cleanup_remove(o->tmp);
    cqb_output_abort(o);
}

/* 1 when path is a regular file, or names nothing yet (an output that will
 * be created): the kinds of file an output can destroy. */
int cli_replaceable(const char *path)
{
    struct stat st;
    if (!path || !strcmp(path, "-")) return 0;
    if (stat(path, &st) != 0) return errno == ENOENT;
    return S_ISREG(st.st_mode);
}

int cli_check_outputs(const char *cmd, const char *const *in, const char *const *in_opt, size_t nin,
                      const char *const *out, const char *const *out_opt, size_t nout)
{
    for (size_t i = 0; i < nout; ++i) {
        if (!out[i] || !cli_replaceable(out[i])) continue;
        for (size_t j = 0; j < nin; ++j) {
            struct stat st;
            /* "-": standard input, which may be redirected from the output */
            const char *ip = in[j] && !strcmp(in[j], "-") ? "/dev/stdin" : in[j];
            if (!ip || stat(ip, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            if (cqb_same_file(out[i], ip))
                return cli_usage_error(cmd, "%s %s is the same file as the input %s %s (refusing to replace it)",
                                       out_opt[i], out[i], in_opt[j], in[j]);
        }
        for (size_t j = 0; j < i; ++j) {
            if (out[j] && cli_replaceable(out[j]) && cqb_same_file(out[i], out[j]))
                return cli_usage_error(cmd, "%s and %s name the same file '%s'", out_opt[j], out_opt[i], out[i]);
        }
    }
    for (size_t j = 0; j < nin; ++j)
        if (in[j] && cqb_output_protect(strcmp(in[j], "-") ? in[j] : "/dev/stdin") != 0) {
            fprintf(stderr, "cqboot %s: out of memory\n", cmd);
            return 5;
        }
    return 0;
}

uint64_t cli_max_input = CLI_MAX_INPUT_DEFAULT;

int cli_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v) || v < 0) return -1;
    double mul = 1;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': mul = 1024.0; ++end; break;
    case 'm': case 'M': mul = 1024.0 * 1024.0; ++end; break;
    case 'g': case 'G': mul = 1024.0 * 1024.0 * 1024.0; ++end; break;
    case 't': case 'T': mul = 1024.0 * 1024.0 * 1024.0 * 1024.0; ++end; break;
    default: return -1;
    }
    if (*end == 'i' && mul > 1) ++end;
    if (*end == 'B' || *end == 'b') ++end;
    if (*end) return -1;
    v *= mul;
    if (v < 1 || v > 9.0e18) return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_progress_mode(const char *s, int *mode)
{
    if (!strcmp(s, "auto")) *mode = isatty(STDERR_FILENO) ? 1 : 0;
    else if (!strcmp(s, "bar")) *mode = 1;
    else if (!strcmp(s, "plain")) *mode = 2;
    else if (!strcmp(s, "none")) *mode = 0;
    else return -1;
    return 0;
}

void cli_progress_init(cli_progress *p, int mode, const char *label)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->label = label;
    p->t0 = p->last_t = cli_now();
    p->last_pct = -1;
}

void cli_progress_parts(cli_progress *p, const char *part_name, size_t nparts)
{
    p->part_name = part_name;
    p->nparts = nparts;
    p->part = 0;
}

void cli_progress_part(cli_progress *p, size_t part) { p->part = part; }

/* "12 s", "3:07", "1:02:03" */
static void fmt_dur(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(buf, n, "%ld s", t);
    else if (t < 3600) snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

void cli_progress_cb(double fraction, void *user)
{
    cli_progress *p = user;
    if (!p || (p->mode == 0 && !cli_embed)) return;
    if (fraction > 1.0) fraction = 1.0;
    if (!(fraction >= 0.0)) fraction = 0.0;
    const double part_f = fraction;
    if (p->nparts) fraction = ((double)p->part + fraction) / (double)p->nparts;
    if (cli_embed) { /* in-process: the caller's callback, never stderr */
        if (cli_embed->progress) cli_embed->progress(fraction, cli_embed->user);
        return;
    }
    int pct = (int)floor(100.0 * fraction);
    double t = cli_now(), el = t - p->t0;
    char els[32], eta[32], part[64] = "";
    fmt_dur(els, sizeof els, el);
    if (fraction > 0.005 && fraction < 1.0) fmt_dur(eta, sizeof eta, el * (1.0 - fraction) / fraction);
    else snprintf(eta, sizeof eta, fraction >= 1.0 ? "0 s" : "?");
    if (p->nparts) snprintf(part, sizeof part, " %s %zu/%zu", p->part_name, p->part + 1, p->nparts);
    if (p->mode == 1) {
        /* redraw at most 10 times a second (and on every new window) */
        if (t - p->last_t < 0.1 && pct < 100 && !(p->nparts && part_f == 0.0)) return;
        int w = 30, fill = pct * w / 100;
        char bar[64];
        for (int i = 0; i < w; ++i) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        int n = fprintf(stderr, "\r%s%s [%s] %3d%%  %s elapsed, ETA %s ", p->label, part, bar, pct, els, eta);
        if (n > 0 && n - 1 < p->width) fprintf(stderr, "%*s", p->width - (n - 1), "");
        if (n > 0 && n - 1 > p->width) p->width = n - 1;
        fflush(stderr);
    } else {
        if (pct / 10 == p->last_pct / 10 && p->last_pct >= 0) return;
        fprintf(stderr, "%s:%s %d%% (%s elapsed, ETA %s)\n", p->label, part, pct / 10 * 10, els, eta);
    }
    p->last_pct = pct;
    p->last_t = t;
}

void cli_progress_done(cli_progress *p)
{
    if (p->mode == 1 && !cli_embed && p->last_pct >= 0) fprintf(stderr, "\r%*s\r", p->width + 1, "");
    p->last_pct = -1;
    p->width = 0;
}

cJSON *cli_json_num(double v)
{
    if (!isfinite(v)) return cJSON_CreateNull();
    /* cJSON prints "%1.15g" whenever that reads back within an epsilon of v,
     * which loses the last bits (ci_lo != rho + band_lo after a round trip).
     * Write the shortest text that reads back exactly instead. */
    char buf[40];
    cli_fmt_num(buf, sizeof buf, v);
    return cJSON_CreateRaw(buf);
}

cJSON *cli_json_num_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; ++i) cJSON_AddItemToArray(a, cli_json_num(v[i]));
    return a;
}

int cli_stdout_check(cqb_error *err)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        cqb_error_set(err, CQB_EIO, "standard output: write failed: %s", e ? strerror(e) : "I/O error");
        return -1;
    }
    return 0;
}

void cli_fmt_num(char *buf, size_t n, double v)
{
    if (!buf || n == 0) return; /* (also spares GCC's sanitizer builds a false format warning) */
    if (isnan(v)) {
        snprintf(buf, n, "NA");
        return;
    }
    /* shortest of 15, 16, 17 significant digits that reads back exactly */
    for (int prec = 15; prec <= 17; ++prec) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void cli_fmt_pvalue(char *buf, size_t n, double p, uint64_t B)
{
    if (isnan(p)) snprintf(buf, n, "NA");
    else if (p == 0.0) snprintf(buf, n, "<%.2g", 1.0 / ((double)B + 1.0));
    else snprintf(buf, n, "%.4f", p);
}
