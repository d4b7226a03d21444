/* cli.h — helpers shared by the cqboot subcommands (private to the CLI). */
#ifndef CQBOOT_CLI_H
#define CQBOOT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cqboot/error.h"
#include "cqboot/frame.h"
#include "cqboot/output.h"

#define CLI_MAX_TRANSFORMS 64

/* The signal (SIGINT/SIGTERM) that asked to stop, or 0. It is read through
 * a pointer so that an in-process run (embed.c) makes every loop follow the
 * caller's cancel flag instead; the CLI points it at its own flag. */
extern volatile int *cli_cancel;
#define cli_interrupted (*cli_cancel)

/* An in-process run (cqboot/embed.h, embed.c) while one is going on, else
 * NULL. The shared helpers below then read --data from memory, collect the
 * "-" outputs (--json -, --csv -) instead of writing stdout, send progress to
 * the caller, and keep messages and notes off stderr. */
typedef struct cli_embed_state {
    const char *data_name; /* cli_load of this path reads data_csv instead */
    const char *data_csv;
    size_t data_len;
    char *json, *csv;      /* the committed "--json -" and "--csv -" texts */
    const void *out_json, *out_csv; /* the cli_out of each (while open) */
    void (*progress)(double fraction, void *user);
    void *user;
    char message[512];     /* the last failure's one line */
} cli_embed_state;
extern cli_embed_state *cli_embed;

/* Check-only mode: a subcommand parses and checks its arguments and returns
 * without computing or writing anything; its messages (usage errors and
 * cli_fail's) go to cli_check_msg instead of stderr. 1: the options only
 * (no file is read; the option fuzzer). 2: also read the data and check
 * what depends on it (rows for the lags, levels, windows, backend):
 * `cqboot run` validates every analysis this way before the first runs, so
 * the CLI and the study cannot disagree on what is valid. */
extern int cli_check_only;
extern char cli_check_msg[CQB_ERROR_MAX];

/* Set by the parsers below when an allocation failed: the next
 * cli_usage_error says "out of memory" and returns 5 instead. */
extern int cli_nomem;
/* Prints "cqboot CMD: out of memory"; returns 5. */
int cli_oom(const char *cmd);

/* Prints "cqboot CMD: message" on stderr and returns the status's exit code. */
int cli_fail(const char *cmd, const cqb_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The usage error for what getopt_long (optstring ":") returned as c when it
 * is ':' (missing value) or '?' (unknown option); returns 2. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* Number parsing: 0 on success, -1 with *msg set otherwise. */
int cli_parse_double(const char *s, double *out);
int cli_parse_u64(const char *s, uint64_t *out);
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* "0.05,0.1,0.5" -> malloc'd array (sorted ascending, duplicates removed). */
int cli_parse_levels(const char *s, double **out, size_t *n);
/* "12" (1..12), "3-8", or comma lists of those -> malloc'd ascending lags. */
int cli_parse_lags(const char *s, size_t **out, size_t *n);

/* --transform COL=NAME settings; lookup returns LEVEL if none given. */
typedef struct cli_transforms {
    const char *col[CLI_MAX_TRANSFORMS];
    cqb_transform tr[CLI_MAX_TRANSFORMS];
    size_t n;
    cqb_read_opts read; /* --sep, --decimal, --date-format (how cli_load reads FILE) */
} cli_transforms;
int cli_transform_add(cli_transforms *t, const char *arg, const char *cmd);

/* The input-dialect options every command with --data takes (docs/input.md). */
enum { CLI_OPT_SEP = 900, CLI_OPT_DECIMAL, CLI_OPT_DATE_FORMAT };
#define CLI_INPUT_OPTIONS                                                                                    \
    {"sep", required_argument, 0, CLI_OPT_SEP}, {"decimal", required_argument, 0, CLI_OPT_DECIMAL},           \
        {"date-format", required_argument, 0, CLI_OPT_DATE_FORMAT}
#define CLI_INPUT_HELP                                                                                       \
    "  --sep C             field separator: , (default), ';', tab or '|'\n"                                   \
    "  --decimal C         decimal mark: . (default) or ,\n"                                                  \
    "  --date-format F     first-column dates: auto (default), YYYY-MM-DD, YYYY-MM,\n"                        \
    "                      YYYY/MM/DD, YYYY/MM, MM/YYYY, YYYYMmm, YYYYQq, Mon YYYY,\n"                        \
    "                      DD/MM/YYYY, MM/DD/YYYY or YYYY (docs/input.md)\n"
/* Handles CLI_OPT_SEP/DECIMAL/DATE_FORMAT; 0, or a usage error's exit code. */
int cli_input_option(cli_transforms *t, int c, const char *arg, const char *cmd);
/* The same without a message: 0 if arg is valid for option c. */
int cli_input_option_check(cli_transforms *t, int c, const char *arg);
cqb_transform cli_transform_of(const cli_transforms *t, const char *col);

/* Reads FILE and selects columns (with transforms, range). */
typedef struct cli_data {
    cqb_frame *frame;
    cqb_series_set set;
} cli_data;
cqb_status cli_load(const char *path, const char *const *cols, size_t ncols, const cli_transforms *tr,
                    const char *from, const char *to, cli_data *out, cqb_error *err);
void cli_data_free(cli_data *d);
/* The JSON "input" object of a loaded data set. */
cJSON *cli_input_json(const cli_data *d, const char *const *cols, size_t ncols, const cli_transforms *tr);

/* Output files (cqboot/output.h, docs/safety.md): "-" is stdout, a regular
 * file is replaced atomically, a symlink's target likewise, a device, FIFO or
 * socket is written in place; a protected input is never replaced. */
typedef cqb_output cli_out;
cqb_status cli_out_open(cli_out *o, const char *path, const char *what, cqb_error *err);
/* cli_out_finish flushes, syncs and closes the temporary file (no-op once
 * closed); cli_out_commit finishes it if needed and renames it over the
 * target (or writes the collected bytes). Finish every output before
 * committing any, so that a write error leaves no output at all. Both abort
 * the output on failure; nothing is committed once interrupted. */
cqb_status cli_out_finish(cli_out *o, cqb_error *err);
cqb_status cli_out_commit(cli_out *o, cqb_error *err);
void cli_out_abort(cli_out *o); /* removes the temporary file; safe to repeat */
/* Finishes and commits n outputs as one: if any fails, none is left (those
 * already renamed are removed) and all are aborted. */
cqb_status cli_out_commit_all(cli_out *const *o, size_t n, cqb_error *err);

/* Refuses (usage error, exit 2) an output that is the same file as an input
 * (same device and inode, or the same resolved path) or as another output;
 * then registers the inputs so no later output replaces them. NULL entries
 * are skipped; returns 0 or the exit code. */
int cli_check_outputs(const char *cmd, const char *const *in, const char *const *in_opt, size_t nin,
                      const char *const *out, const char *const *out_opt, size_t nout);

/* 1 when an output at path would replace a file (a regular file, or none
 * yet): not "-", a device, a FIFO or a socket, which any number of outputs
 * may share. */
int cli_replaceable(const char *path);

/* Largest input read (--max-input, a global option of every command; bytes). */
extern uint64_t cli_max_input;
#define CLI_MAX_INPUT_DEFAULT ((uint64_t)1 << 30)
/* "1G", "512M", "100k", "12345" -> bytes; -1 if not a size. */
int cli_parse_size(const char *s, uint64_t *out);

/* Progress on stderr: "auto" (a bar when stderr is a terminal), "plain"
 * (a line every 10%), "none". */
typedef struct cli_progress {
    int mode; /* 0 none, 1 bar, 2 plain */
    const char *label;
    double last_t;
    int last_pct;
    double t0;            /* start: elapsed time and ETA */
    size_t part, nparts;  /* parts of the work ("window part+1/nparts"): the
                             callback's fraction is of the current part */
    const char *part_name;
    int width;            /* of the last bar line (to clear it) */
} cli_progress;
int cli_progress_mode(const char *s, int *mode);
void cli_progress_init(cli_progress *p, int mode, const char *label);
void cli_progress_cb(double fraction, void *user);
void cli_progress_done(cli_progress *p);
/* Work in nparts parts named part_name ("window"): progress then shows
 * "window k/N" and the fraction of the whole. */
void cli_progress_parts(cli_progress *p, const char *part_name, size_t nparts);
void cli_progress_part(cli_progress *p, size_t part); /* 0-based */

/* JSON number that is null when not finite, written with the shortest text
 * that reads back to the same double (cJSON's own printing may not). */
cJSON *cli_json_num(double v);
cJSON *cli_json_num_array(const double *v, size_t n);
/* Flushes stdout; -1 with err set (CQB_EIO) if anything failed to write. */
int cli_stdout_check(cqb_error *err);
/* CSV/table number formatting with 17 significant digits ("NA" if NaN). */
void cli_fmt_num(char *buf, size_t n, double v);
/* A p-value for tables: %.4f, "NA", and "<1/(B+1)" (as a number) for 0. */
void cli_fmt_pvalue(char *buf, size_t n, double p, uint64_t B);

/* Reads a whole text file (or "-", stdin) of at most cli_max_input bytes,
 * polling the interrupt; malloc'd and NUL-terminated, its length in *len.
 * NULL with err set (CQB_EDATA cannot open / too large, CQB_ENOMEM,
 * CQB_EUSAGE interrupted). */
char *cli_read_text(const char *path, size_t *len, cqb_error *err);

/* --quiet of `cqboot run`: no notices from the analyses it runs. */
extern int cli_quiet;
/* The backend's notice (a CUDA fallback): printed at most once per process,
 * shortened to its first clause, never when quiet or cli_quiet. */
/* Opens one of cqboot's loadable modules (the figures, MPI) by file name:
 * from $env_var when set, else beside the executable, in ../lib/cqboot or
 * ../lib64/cqboot from it, else through the loader's search path. NULL with
 * the loader's message in reason when it cannot (module.c). */
void *cli_module_open(const char *env_var, const char *file, char *reason, size_t reason_size);
void cli_backend_notice(const char *cmd, const char *notice, int quiet);

/* Installs cJSON allocation hooks that stop the program (exit 5, temporary
 * files removed) when cJSON runs out of memory; main() calls it. */
void cli_json_init(void);
/* Registers a temporary file (the pointer is kept, not copied) to remove if
 * the program stops that way; cli_out does it for its temporary files. */
void cli_cleanup_add(const char *path);
void cli_cleanup_remove(const char *path);
/* Removes every registered temporary file now (async-signal-safe: for a
 * handler that must end the process at once). */
void cli_cleanup_now(void);

double cli_now(void);
void cli_install_signals(void);

#endif
