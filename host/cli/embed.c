/* embed.c — the subcommands in-process for the Python and R packages
 * (cqboot/embed.h). The subcommands run unchanged; the hooks of cli.c (set
 * through cli_embed) read the data set from memory, collect the "-" outputs,
 * forward progress and keep stdout/stderr silent. */
#include "cqboot/embed.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "textbuf.h"
#include "cqboot/output.h"
#include "cqboot/runtime.h"

/* The subcommands keep state in globals (getopt, the interrupt pointer, the
 * input registry of cqboot/output.h): one call at a time. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;


/* A CSV field: quoted (RFC 4180, as cqb_frame_read reads it) when it holds
 * a separator, a quote or a line break. */
static void sb_field(cli_text *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        cli_text_str(b, s);
        return;
    }
    cli_text_put(b, "\"", 1);
    for (const char *q = s; *q; ++q) {
        if (*q == '"') cli_text_put(b, "\"", 1);
        cli_text_put(b, q, 1);
    }
    cli_text_put(b, "\"", 1);
}

/* The frame as the CSV text the CLI would read (17 significant digits read
 * back to the same doubles: the numbers are the caller's, bit for bit). */
static int frame_csv(const cqb_embed_frame *f, cli_text *b, char *msg, size_t msgsz)
{
    if (f->ncol == 0 || !f->names || !f->cols) {
        snprintf(msg, msgsz, "the data set has no columns");
        return 2;
    }
    for (size_t j = 0; j < f->ncol; ++j)
        if (!f->names[j] || !f->cols[j]) {
            snprintf(msg, msgsz, "the data set's column %zu has no name or no values", j + 1);
            return 2;
        }
    cli_text_str(b, f->labels ? "date" : "row");
    for (size_t j = 0; j < f->ncol; ++j) {
        cli_text_put(b, ",", 1);
        sb_field(b, f->names[j]);
    }
    cli_text_put(b, "\n", 1);
    char num[40];
    for (size_t i = 0; i < f->nrow && !b->bad; ++i) {
        if (f->labels) {
            sb_field(b, f->labels[i] ? f->labels[i] : "");
        } else {
            snprintf(num, sizeof num, "%zu", i + 1);
            cli_text_str(b, num);
        }
        for (size_t j = 0; j < f->ncol; ++j) {
            double v = f->cols[j][i];
            if (isnan(v)) snprintf(num, sizeof num, "NA");
            else if (isinf(v)) snprintf(num, sizeof num, v > 0 ? "Inf" : "-Inf");
            else snprintf(num, sizeof num, "%.17g", v);
            cli_text_put(b, ",", 1);
            cli_text_str(b, num);
        }
        cli_text_put(b, "\n", 1);
    }
    if (b->bad) {
        snprintf(msg, msgsz, "out of memory");
        return 5;
    }
    return 0;
}

typedef int (*cmd_fn)(int, char **);

/* The subcommands, and the outputs each writes in memory. */
static const struct {
    const char *name;
    cmd_fn fn;
    int csv, quiet; /* takes --csv; takes --quiet (no notices) */
} COMMANDS[] = {
    /* (sncv refuses --json - with --csv -: its JSON holds every level) */
    {"cq", cmd_cq, 1, 1},          {"blocklen", cmd_blocklen, 0, 0}, {"sncv", cmd_sncv, 0, 0},
    {"simulate", cmd_simulate, 1, 1}, {"run", cmd_run, 0, 1},      {"modwt", cmd_wavelet, 1, 1},
    {"wmc", cmd_wavelet, 1, 1},    {"wmcc", cmd_wavelet, 1, 1},      {"wlmc", cmd_wavelet, 1, 1},
    {"wlmcc", cmd_wavelet, 1, 1},
};

/* The value of --NAME in argv ("--out X" or "--out=X"), the last one wins. */
static const char *opt_value(int argc, const char *const *argv, const char *name)
{
    size_t l = strlen(name);
    const char *v = NULL;
    for (int i = 0; i < argc; ++i) {
        if (!argv[i] || !strcmp(argv[i], "--")) break;
        if (strncmp(argv[i], name, l)) continue;
        if (argv[i][l] == '=') v = argv[i] + l + 1;
        else if (argv[i][l] == 0 && i + 1 < argc) v = argv[++i];
    }
    return v;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    cli_text b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) cli_text_put(&b, chunk, got);
    fclose(f);
    if (b.bad) {
        free(b.p);
        return NULL;
    }
    return b.p ? b.p : strdup("");
}

static void set_msg(cqb_embed_result *res, int status, const char *fmt, const char *arg)
{
    res->status = status;
    snprintf(res->message, sizeof res->message, fmt, arg);
}

static int run_locked(const cqb_embed_call *call, cqb_embed_result *res)
{
    size_t ci = 0, nc = sizeof COMMANDS / sizeof COMMANDS[0];
    while (ci < nc && strcmp(COMMANDS[ci].name, call->command)) ++ci;
    if (ci == nc) {
        set_msg(res, 2, "unknown command '%s'", call->command);
        return 2;
    }
    if (call->argc < 0 || (call->argc > 0 && !call->argv)) {
        set_msg(res, 2, "%s: bad argument vector", call->command);
        return 2;
    }
    for (int i = 0; i < call->argc; ++i)
        if (!call->argv[i]) {
            set_msg(res, 2, "%s: a NULL argument", call->command);
            return 2;
        }
    cli_embed_state st;
    memset(&st, 0, sizeof st);
    cli_text csv = {0};
    if (call->data) {
        if (opt_value(call->argc, call->argv, "--data")) {
            set_msg(res, 2, "--data names a file, but a data set was given in memory%s", "");
            return 2;
        }
        res->status = frame_csv(call->data, &csv, res->message, sizeof res->message);
        if (res->status) {
            free(csv.p);
            return res->status;
        }
        st.data_name = call->data->name && call->data->name[0] ? call->data->name : "<data>";
        st.data_csv = csv.p;
        st.data_len = csv.len;
    }
    st.progress = call->progress;
    st.user = call->user;

    /* argv: the command, the caller's options, then ours (later options
     * win: the outputs always go to memory) */
    char **av = calloc((size_t)call->argc + 12, sizeof *av);
    if (!av) {
        free(csv.p);
        set_msg(res, 5, "out of memory%s", "");
        return 5;
    }
    int ac = 0;
    av[ac++] = (char *)call->command;
    for (int i = 0; i < call->argc; ++i) av[ac++] = (char *)call->argv[i];
    int is_run = !strcmp(call->command, "run");
    if (!is_run) {
        av[ac++] = "--json";
        av[ac++] = "-";
        if (COMMANDS[ci].csv) {
            av[ac++] = "--csv";
            av[ac++] = "-";
        }
    }
    if (COMMANDS[ci].quiet) av[ac++] = "--quiet";
    if (call->data) {
        av[ac++] = "--data";
        av[ac++] = (char *)st.data_name;
    }
    av[ac] = NULL;

    static volatile int no_cancel;
    volatile int *saved_cancel = cli_cancel;
    const int saved_quiet = cli_quiet;
    no_cancel = 0;
    cli_cancel = call->cancel ? call->cancel : &no_cancel;
    cli_quiet = 1;
    cli_check_only = 0;
    cli_nomem = 0;
    cli_embed = &st;
    int rc = COMMANDS[ci].fn(ac, av);
    const int cancelled = *cli_cancel != 0;
    cli_embed = NULL;
    cli_cancel = saved_cancel;
    cli_quiet = saved_quiet;
    cqb_output_unprotect_all(); /* the next call may write where this one read */
    free(av);
    free(csv.p);

    if (cancelled) { /* as the CLI: an interrupted run has no results */
        rc = 130;
        snprintf(st.message, sizeof st.message, "interrupted");
    }
    res->status = rc;
    snprintf(res->message, sizeof res->message, "%s", rc ? st.message : "");
    if (rc == 0) {
        res->json = st.json;
        res->csv = st.csv;
        st.json = st.csv = NULL;
        const char *out = is_run ? opt_value(call->argc, call->argv, "--out") : NULL;
        if (out) {
            char path[4096];
            snprintf(path, sizeof path, "%s/results.json", out);
            res->json = read_file(path);
        }
    }
    free(st.json);
    free(st.csv);
    return rc;
}

int cqb_embed_run(const cqb_embed_call *call, cqb_embed_result *res)
{
    memset(res, 0, sizeof *res);
    if (!call || !call->command) {
        res->status = 2;
        snprintf(res->message, sizeof res->message, "no command");
        return 2;
    }
    pthread_mutex_lock(&g_lock);
    /* threads: as the CLI, the CPUs this process may use unless
     * OMP_NUM_THREADS says otherwise (a setting of the calling thread) */
    if (!getenv("OMP_NUM_THREADS")) omp_set_num_threads(cqb_usable_cpus());
    int rc = run_locked(call, res);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

void cqb_embed_result_free(cqb_embed_result *res)
{
    if (!res) return;
    free(res->json);
    free(res->csv);
    res->json = res->csv = NULL;
}
