/* cqboot/embed.h — the command line in-process, for the Python and R
 * packages: one entry point that runs a CLI subcommand on an in-memory data
 * set and returns its --json and --csv texts in memory.
 *
 * Why the CLI and not the library: the bindings must give the CLI's numbers
 * for every analysis and every option (controls, Q tests, windows, the
 * calibrated test, wavelets, simulate, run). Running the subcommands
 * themselves keeps one copy of the option handling, defaults and checks;
 * a binding only turns keyword arguments into the CLI's options.
 *
 * What a call does:
 * - command is a subcommand ("cq", "blocklen", "modwt", "wmc", "wmcc",
 *   "wlmc", "wlmcc", "simulate", "sncv", "run"); argv its options as the CLI
 *   takes them, without the program and command names ({"--y", "A", "--x",
 *   "B", "--boot", "1000"}).
 * - data (or NULL): an in-memory data set. The subcommand reads it as if it
 *   were the CSV file --data names: the frame is written as CSV text in
 *   memory (numbers with 17 significant digits, which read back to the same
 *   doubles; NaN as NA) and parsed by the CLI's own reader, so dates,
 *   transforms, --from/--to and every data check behave as for a file.
 *   Messages name the data set frame.name (default "<data>"). --data must
 *   not be given with a frame.
 * - res->json is the text `--json` would write; res->csv that of `--csv`
 *   (NULL for blocklen, which has no --csv, and sncv). Numbers in both are
 *   written with the shortest text that reads back to the same double.
 *   "run" writes its output directory (--out, as the CLI); res->json is then
 *   OUT/results.json when --out was given.
 * - Nothing is written on stdout or stderr: no progress bar, no notices; a
 *   failure's one-line message (as the CLI prints it, without the
 *   "cqboot CMD: " prefix) is in res->message and res->status is the CLI's
 *   exit code (2 usage, 3 data, 4 backend, 5 memory, 130 interrupted).
 * - progress(fraction, user) is called with the fraction of the whole run
 *   done (0..1), mostly from the calling thread (the engine reports from
 *   its thread 0), but a worker thread may call it; it may set *cancel.
 *   "run" reports each analysis of the study from 0 to 1 in turn.
 * - *cancel (may be NULL) nonzero stops the run at the next check: the call
 *   returns 130 with message "interrupted" and no output.
 * - The global option --max-input is not taken (there is no file to bound,
 *   but for "run": it reads its data sets with the default limit).
 *
 * Thread safety: the subcommands keep state in globals (getopt, the
 * interrupt flag, the output registry), so calls are serialized with a
 * process-wide mutex: a second thread's call waits for the first. A call
 * from inside the progress callback deadlocks: do not.
 */
#ifndef CQBOOT_EMBED_H
#define CQBOOT_EMBED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! An in-memory data set: ncol columns of nrow doubles (NaN = missing). */
typedef struct cqb_embed_frame {
    size_t nrow, ncol;
    const char *const *names;  /* ncol column names */
    const double *const *cols; /* ncol arrays of nrow doubles */
    const char *const *labels; /* nrow row labels (dates such as 2020-01-31 or 2020-01), or NULL: 1..nrow */
    const char *name;          /* names the data set in messages and the JSON "input"; NULL: "<data>" */
} cqb_embed_frame;

typedef struct cqb_embed_call {
    const char *command;
    int argc;
    const char *const *argv;
    const cqb_embed_frame *data; /* or NULL: the options name a --data file */
    void (*progress)(double fraction, void *user);
    void *user;
    volatile int *cancel;
} cqb_embed_call;

#define CQB_EMBED_MESSAGE_MAX 512

typedef struct cqb_embed_result {
    int status;   /* the CLI's exit code: 0 ok */
    char *json;   /* malloc'd, or NULL */
    char *csv;    /* malloc'd, or NULL */
    char message[CQB_EMBED_MESSAGE_MAX];
} cqb_embed_result;

/*! cqb_embed_run() : runs call->command as described above; returns
 *  res->status. res is always set (free it with cqb_embed_result_free). */
int cqb_embed_run(const cqb_embed_call *call, cqb_embed_result *res);

/*! cqb_embed_result_free() : frees json and csv; safe to repeat. */
void cqb_embed_result_free(cqb_embed_result *res);

#ifdef __cplusplus
}
#endif
#endif
