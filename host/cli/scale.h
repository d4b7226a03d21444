/* scale.h — one analysis split across processes (docs/scale-out.md): shards
 * (--shard I/N --part FILE, combined by `cqboot merge`) and MPI ranks
 * (mpirun -n N cqboot ...). Private to the CLI.
 *
 * Both work below the analysis, at the backend (cqboot/backend.h): every
 * resampling replicate is a pure function of (plan, replicate id), so a
 * process that computes only some replicates of every plan and gets the
 * others from its peers (MPI) or from part files (merge) feeds the single
 * process's own reductions with the very same values, in the same order:
 * counts, exact type-7 percentiles and every derived number come out
 * byte-identical, without a second implementation of any reduction.
 *
 *   shard   computes replicates [B(I-1)/N, BI/N) of every plan (the last
 *           shard also every replicate >= B of a plan with more, such as the
 *           rotation null's shifts), zeros elsewhere, and writes them to the
 *           part file; its own results are discarded (nothing on stdout);
 *   replay  (cqboot merge) serves each plan's replicates from the parts;
 *   mpi     each backend call's replicate range is split over the ranks and
 *           the values are all-gathered; rank 0 writes the outputs.
 */
#ifndef CQBOOT_SCALE_H
#define CQBOOT_SCALE_H

#include <stdint.h>

#include "cqboot/backend.h"

typedef enum cli_scale_mode {
    CLI_SCALE_NONE = 0,
    CLI_SCALE_SHARD,
    CLI_SCALE_REPLAY,
    CLI_SCALE_MPI
} cli_scale_mode;

/*! cli_scale_take() : main(), before the subcommand: takes --shard I/N and
 *  --part FILE out of argv (argv[0] is the command), checks them, opens the
 *  part's temporary file, and joins MPI when the program was started by
 *  mpirun/srun in an MPI build (non-root ranks lose --json/--csv and print
 *  nothing). Returns 0 or an exit code after a one-line message. */
int cli_scale_take(int *argc, char ***argv);

/*! cli_scale_finish() : main(), after the subcommand returned rc: a shard
 *  writes its part file (only when rc is 0); an MPI rank that failed aborts
 *  the job. Returns the exit code. */
int cli_scale_finish(int rc);

/*! cli_scale_wrap() : a subcommand, right after opening its backend for an
 *  analysis of B replicates: routes the backend's replicate computations
 *  through the current mode (no-op without one, and in check-only mode). */
void cli_scale_wrap(cqb_backend *be, uint64_t B);

/*! cli_scale_mpi_built() : 1 if this cqboot was built with its MPI module (CQB_MPI). */
int cli_scale_mpi_built(void);

/*! cli_scale_silent() : 1 when this process must not print results (a shard,
 *  a non-root MPI rank). */
int cli_scale_silent(void);

/*! cli_scale_simulate() : cmd_simulate's cqb_simulate() under the current
 *  mode. Replications, not bootstrap replicates, are split: a shard runs its
 *  range of them and writes each one's record (cqboot/simulate.h) to its
 *  part; merge replays the parts' records in replication order; MPI ranks
 *  run their ranges, all-gather the records and every rank replays them.
 *  The folding is the single process's, so results are identical. */
#include "cqboot/simulate.h"
cqb_status cli_scale_simulate(const cqb_sim_spec *spec, const cqb_sim_opts *opts, cqb_sim_result *res,
                              cqb_error *err);

/* --- internal to host/cli/scale*.c and cmd_merge.c ----------------------- */

/* Replicate range of shard I of N (1-based) over a replicate space of B: the
 * last shard also owns everything >= B (hi = UINT64_MAX). */
void cli_shard_range(uint64_t B, uint32_t I, uint32_t N, uint64_t *lo, uint64_t *hi);

/* The replay source of cqboot merge: installed before the analysis reruns;
 * serve() copies rows rep0 .. rep0+nrep-1 of the plan with signature sig
 * (nstat values each) into out. */
typedef struct cli_replay {
    int (*serve)(void *ctx, const unsigned char sig[32], uint32_t kind, uint64_t nstat, uint64_t rep0, uint64_t nrep,
                 double *out, char *msg, size_t msgsz);
    void *ctx;
} cli_replay;
void cli_scale_set_replay(const cli_replay *r);
/* The data hash (as in part files) of a command's argv (argv[0] = command). */
int cli_scale_data_hash(int argc, char **argv, char out[65]);

/* --- pairs (pairs.c): cqboot cq --series A,B,... --pairs all|FILE --------- */
#include <cjson/cJSON.h>
int cli_pairs_run(int argc, char **argv);
/* merge of pair parts: hd[k] is part k's header (its "pairs" member) */
int cli_pairs_merge(cJSON *const *hd, size_t np, const char *json_out, const char *csv_out);
/* This process's share of the pairs (pair p is ours when p % n == k); turns
 * the replicate split off for the pairs' own analyses. Returns the mode. */
int cli_scale_pairs_share(uint32_t *k, uint32_t *n);
/* after the pairs: later analyses (cqboot run) are split again */
void cli_scale_pairs_end(void);
/* a shard keeps its pairs' result texts for its part file */
int cli_scale_pairs_keep(size_t n, char **y, char **x, char **json, char **csv, char **series, size_t ns, int has_json,
                         int has_csv);
/* MPI: every rank's pair texts to every rank (json[p], csv[p] filled) */
int cli_scale_pairs_collect(size_t n, char **json, char **csv);

/* --- run (cmd_run.c): cqboot run STUDY --shard I/N --part FILE ----------- */
/* Shards split a study's analyses, not their replicates: analysis i is
 * shard (i mod N)'s. Returns 1 for a shard (k = I-1, n = N; its analyses
 * then run whole, in a private output folder), else 0. */
int cli_scale_run_share(uint32_t *k, uint32_t *n);
/* a shard keeps its analyses' records for its part file: an array of
 * {"index", "name", "hash", "state" (text of .state/NAME.json), "csv"} that
 * the part owns from here on */
void cli_scale_run_keep(cJSON *analyses);
/* cqboot merge of run parts: hd[k] is part k's header (its "run" member);
 * cmd_run then takes every analysis from cli_scale_run_part() */
void cli_scale_set_run_parts(cJSON *const *hd, size_t np);
/* merge: the parts' record of analysis i (NULL outside a merge; a merge
 * whose parts lack it gets NULL too, and *merging is 1) */
const cJSON *cli_scale_run_part(size_t i, int *merging);

/* --- MPI (scale_mpi.c) ------------------------------------------------- */
/* The MPI layer is a loadable module, libcqboot_mpi.so (scale_mpi.c linked
 * with the MPI library), that main() loads only when the program was started
 * by mpirun/srun (cli_scale_mpi_load): linking MPI into the executable would
 * cost every command about a millisecond of start-up for the loading of
 * libmpi and its libraries, and what embeds the subcommands (the Python and
 * R packages, the fuzz harnesses) never depends on MPI. The module reaches
 * the program's own state through cli_mpi_host. */
#include "cqboot/cqreduce.h"
typedef struct cli_mpi_ops {
    /* joins MPI when started by mpirun/srun: 0 (rank, size and local rank
     * set; with several ranks the GPU is chosen and SIGTERM handled), 1 not
     * started by MPI, -1 MPI_Init failed */
    int (*init)(int *rank, int *size, int *local);
    /* MPI_Abort(rc) when abort, else MPI_Finalize */
    void (*finish)(int rc, int abort);
    /* a backend call split over the ranks, the values all-gathered */
    cqb_status (*call)(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t nstat, uint32_t rep0,
                       size_t nrep, double *out, cqb_error *err);
    /* the distributed two-pass selection (cqb_backend.reduce) */
    cqb_status (*reduce)(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err);
    /* pairs: every rank's texts (mine, a JSON array it frees) to every rank */
    int (*collect)(char *mine, size_t n, char **json, char **csv);
} cli_mpi_ops;
/* what the module calls in the program */
typedef struct cli_mpi_host {
    int (*launched)(void); /* cli_scale_launched_by_mpi */
    void (*cleanup_now)(void);
    int (*fail)(const char *cmd, const cqb_error *err);
    cqb_status (*inner_eval)(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t rep0, size_t n,
                             double *out, cqb_error *err);
} cli_mpi_host;
#define CLI_MPI_MODULE_FILE "libcqboot_mpi.so"
#define CLI_MPI_MODULE_SYMBOL "cli_mpi_module"
#define CLI_MPI_MODULE_ABI 1u
/* the module's one exported function: its operations, given the host's */
typedef const cli_mpi_ops *(*cli_mpi_module_fn)(unsigned abi, const cli_mpi_host *host);
extern const cli_mpi_ops *cli_mpi;
/*! cli_scale_mpi_load() : when the program was started by mpirun/srun,
 *  loads the MPI module and sets cli_mpi. 0: not started by MPI, or loaded;
 *  -1: started by MPI with a module that cannot be loaded (the reason is in
 *  why). main() calls it only in builds that made the module. */
int cli_scale_mpi_load(char *why, size_t why_size);
/*! cli_scale_launched_by_mpi() : 1 when mpirun/srun started this process. */
int cli_scale_launched_by_mpi(void);
extern int cli_mpi_module_built; /* main() sets it in builds with the module */
/* replicates rep0 .. rep0+n-1 of a plan on the backend as opened */
cqb_status cli_scale_inner_eval(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t rep0, size_t n,
                                double *out, cqb_error *err);

#define CLI_PART_MAGIC "CQBPART\n"
#define CLI_PART_VERSION 1u
/* plan kinds in part files */
enum { CLI_PLAN_SB = 1, CLI_PLAN_NULL = 2, CLI_PLAN_WAVELET = 3, CLI_PLAN_SIM = 4 };
/* a CLI_PLAN_SIM "plan": replication records i0 .. i0+n-1 into out */
typedef struct cli_sim_job {
    cqb_status (*eval)(const struct cli_sim_job *job, uint64_t i0, size_t n, double *out, cqb_error *err);
    const cqb_sim_spec *spec;
    const cqb_sim_opts *opts;
} cli_sim_job;

#endif
