/* cli.h — helpers shared by the cqboot subcommands (private to the CLI). */
#ifndef CQBOOT_CLI_H
#define CQBOOT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cqboot/error.h"
#include "cqboot/frame.h"

#define CLI_MAX_TRANSFORMS 64

extern volatile int cli_interrupted; /* set by SIGINT/SIGTERM */

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
    "                      DD/MM/YYYY or MM/DD/YYYY (docs/input.md)\n"
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

/* Atomic output files: a temporary file in the target's directory, renamed
 * over the target only when everything succeeded. */
typedef struct cli_out {
    char *path;
    char *tmp;
    FILE *f;
} cli_out;
cqb_status cli_out_open(cli_out *o, const char *path, const char *what, cqb_error *err);
/* cli_out_finish flushes, syncs and closes the temporary file (no-op once
 * closed); cli_out_commit finishes it if needed and renames it over the
 * target. Finish every output before committing any, so that a write
 * error leaves no output at all. Both abort the output on failure. */
cqb_status cli_out_finish(cli_out *o, cqb_error *err);
cqb_status cli_out_commit(cli_out *o, cqb_error *err);
void cli_out_abort(cli_out *o); /* removes the temporary file; safe to repeat */
/* Finishes and commits n outputs as one: if any fails, none is left (those
 * already renamed are removed) and all are aborted. */
cqb_status cli_out_commit_all(cli_out *const *o, size_t n, cqb_error *err);

/* Progress on stderr: "auto" (a bar when stderr is a terminal), "plain"
 * (a line every 10%), "none". */
typedef struct cli_progress {
    int mode; /* 0 none, 1 bar, 2 plain */
    const char *label;
    double last_t;
    int last_pct;
} cli_progress;
int cli_progress_mode(const char *s, int *mode);
void cli_progress_init(cli_progress *p, int mode, const char *label);
void cli_progress_cb(double fraction, void *user);
void cli_progress_done(cli_progress *p);

/* JSON number that is null when not finite, written with the shortest text
 * that reads back to the same double (cJSON's own printing may not). */
cJSON *cli_json_num(double v);
cJSON *cli_json_num_array(const double *v, size_t n);
/* Flushes stdout; -1 with err set (CQB_EIO) if anything failed to write. */
int cli_stdout_check(cqb_error *err);
/* CSV/table number formatting with 17 significant digits ("NA" if NaN). */
void cli_fmt_num(char *buf, size_t n, double v);

/* Installs cJSON allocation hooks that stop the program (exit 5, temporary
 * files removed) when cJSON runs out of memory; main() calls it. */
void cli_json_init(void);
/* Registers a temporary file (the pointer is kept, not copied) to remove if
 * the program stops that way; cli_out does it for its temporary files. */
void cli_cleanup_add(const char *path);
void cli_cleanup_remove(const char *path);

double cli_now(void);
void cli_install_signals(void);

#endif
