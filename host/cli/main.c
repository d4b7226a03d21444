/* main.c — the cqboot command line: dispatch to a subcommand. */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/backend.h"
#include "cqboot/runtime.h"
#include "cqboot/version.h"
#include "scale.h"

static const char *const MAIN_HELP =
    "Usage: cqboot COMMAND [OPTION]...\n"
    "High-replication significance tests of dependence between time series:\n"
    "cross-quantilograms with stationary-bootstrap inference.\n"
    "\n"
    "Commands:\n"
    "  cq         cross-quantilogram / partial CQ with bootstrap bands,\n"
    "             p-values and portmanteau (Q) tests\n"
    "  blocklen   Politis-White block lengths (np::b.star) and the implied gamma\n"
    "  sncv       simulated critical values of the self-normalised CQ tests\n"
    "  simulate   Monte Carlo size and power of the CQ bootstrap tests\n"
    "  run        a whole study from a JSON file: results, figures, report\n"
    "  modwt      maximal overlap discrete wavelet transform of a series\n"
    "  wmc        wavelet multiple correlation per level\n"
    "  wmcc       wavelet multiple cross-correlation per level and lag\n"
    "  wlmc       wavelet local multiple correlation per level and time\n"
    "  wlmcc      wavelet local multiple cross-correlation (levels, times, lags)\n"
    "  merge      combine the part files of a sharded run (--shard I/N)\n"
    "\n"
    "Run 'cqboot COMMAND --help' for a command's options.\n"
    "  --help     this help\n"
    "  --version  version and build\n"
    "\n"
    "Options of every command:\n"
    "  --shard I/N --part FILE  (cq, wmc, wmcc, wlmc, wlmcc) compute shard I of N\n"
    "             of the resampling replicates into FILE; 'cqboot merge' combines\n"
    "             the parts; under mpirun the ranks split the work themselves\n"
    "             (docs/scale-out.md)\n"
    "  --max-input SIZE  read at most SIZE bytes of each input (default 1G;\n"
    "             suffixes k, M, G); a larger or endless input is an error\n"
    "\n"
    "Exit status: 0 ok, 1 internal error, 2 usage, 3 data or file, 4 backend\n"
    "unavailable, 5 out of memory or threads, 130 interrupted (SIGINT),\n"
    "143 terminated (SIGTERM). Outputs, inputs and signals: docs/safety.md.\n";

/* Set once main returns: an exit before that comes from a library that gave
 * up (libgomp cannot start its threads: "Thread creation failed"), which is
 * a resource failure, exit 5, not 1. */
static int g_main_returned;
static const char *g_cmd = "";

static void on_exit_check(void)
{
    if (g_main_returned) return;
    fprintf(stderr,
            "cqboot %s: out of resources: could not start the worker threads (lower --threads or --mem-limit, "
            "or allow the process more memory)\n",
            g_cmd);
    fflush(stderr);
    _exit(5);
}

/* Takes the global --max-input SIZE (or --max-input=SIZE) out of argv;
 * returns 0, or 2 after a usage message. */
static int take_global_options(int *argc, char **argv, const char *cmd)
{
    int w = 1;
    for (int r = 1; r < *argc; ++r) {
        if (!strcmp(argv[r], "--")) {
            while (r < *argc) argv[w++] = argv[r++];
            break;
        }
        const char *val = NULL;
        if (!strcmp(argv[r], "--max-input")) {
            if (r + 1 >= *argc) {
                fprintf(stderr, "cqboot %s: option '--max-input' needs a value (see 'cqboot %s --help')\n", cmd, cmd);
                return 2;
            }
            val = argv[++r];
        } else if (!strncmp(argv[r], "--max-input=", 12)) {
            val = argv[r] + 12;
        } else {
            argv[w++] = argv[r];
            continue;
        }
        if (cli_parse_size(val, &cli_max_input)) {
            fprintf(stderr, "cqboot %s: --max-input: '%s' is not a size (e.g. 1G, 200M, 65536) (see 'cqboot %s --help')\n",
                    cmd, val, cmd);
            return 2;
        }
    }
    argv[w] = NULL;
    *argc = w;
    return 0;
}

static int dispatch(int argc, char **argv);
static int run_command(int argc, char **argv);

int main(int argc, char **argv)
{
#ifdef CQB_HAVE_MPI
    /* the MPI module (libcqboot_mpi.so) only when mpirun/srun started us */
    cli_mpi_module_built = 1;
    char why[512];
    if (cli_scale_mpi_load(why, sizeof why) != 0) {
        fprintf(stderr, "cqboot: started by mpirun, but the MPI module %s could not be loaded: %s\n",
                CLI_MPI_MODULE_FILE, why);
        return 4;
    }
#endif
    int rc = dispatch(argc, argv);
    /* an interrupted command that still finished exits as interrupted */
    if (rc == 0 && cli_interrupted) {
        fprintf(stderr, "cqboot %s: interrupted by %s\n", g_cmd, cli_interrupted == SIGTERM ? "SIGTERM" : "SIGINT");
        rc = 128 + cli_interrupted;
    }
    fflush(stdout);
    g_main_returned = 1;
    return rc;
}

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds: fontconfig (under cairo's text) keeps its caches until
 * exit by design; those are not cqboot's leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#endif

/* The value of option `name` ("--boot 0" or "--boot=0"), or NULL. */
static const char *opt_value(int argc, char **argv, const char *name)
{
    size_t l = strlen(name);
    const char *v = NULL;
    for (int i = 2; i < argc; ++i) {
        if (!strcmp(argv[i], "--")) break;
        if (!strncmp(argv[i], name, l)) {
            if (argv[i][l] == '=') v = argv[i] + l + 1;
            else if (argv[i][l] == 0 && i + 1 < argc) v = argv[i + 1];
        }
    }
    return v;
}

/* Whether the command will run parallel work long enough for idle threads'
 * waiting to matter: not for help, one thread, a MODWT, or statistics
 * without resampling (those start in a few milliseconds, and a re-exec
 * would double that). */
static int runs_parallel_work(int argc, char **argv, const char *cmd)
{
    for (int i = 2; i < argc; ++i) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 0;
    }
    const char *t = opt_value(argc, argv, "--threads");
    if (t && !strcmp(t, "1")) return 0;
    if (!strcmp(cmd, "modwt")) return 0;
    const char *b = opt_value(argc, argv, "--boot");
    int noboot = b && strspn(b, "0") == strlen(b) && *b;
    if (!strcmp(cmd, "cq")) return !noboot;
    if (!strcmp(cmd, "wmc") || !strcmp(cmd, "wmcc") || !strcmp(cmd, "wlmc") || !strcmp(cmd, "wlmcc"))
        return b && !noboot; /* no resampling unless --boot B > 0 */
    return strcmp(cmd, "blocklen") != 0;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(MAIN_HELP, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(MAIN_HELP, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("cqboot %s (CUDA backend: %s; MPI: %s)\n", CQB_VERSION, cqb_backend_cuda_built() ? "built" : "not built",
               cli_scale_mpi_built() ? "built" : "not built");
        return 0;
    }
    /* Idle threads sleep rather than spin (cqboot/runtime.h): re-executes
     * once with OMP_WAIT_POLICY=passive unless the user set a policy (with
     * the arguments as given: before the global options are taken out). */
    if (runs_parallel_work(argc, argv, cmd)) cqb_passive_wait(argv);
    /* Threads default to the CPUs this process may use (affinity and cgroup
     * quota), unless the user set OMP_NUM_THREADS. */
    if (!getenv("OMP_NUM_THREADS")) omp_set_num_threads(cqb_usable_cpus());
    g_cmd = cmd;
    int grc = take_global_options(&argc, argv, cmd);
    if (grc) return grc;
    atexit(on_exit_check);
    cli_install_signals();
    cli_json_init();
    /* --shard/--part and MPI ranks (scale.h): around the command */
    int sargc = argc - 1;
    char **sargv = argv + 1;
    int src = cli_scale_take(&sargc, &sargv);
    if (src) return cli_scale_finish(src);
    return cli_scale_finish(run_command(sargc, sargv));
}

static int run_command(int argc, char **argv)
{
    const char *cmd = argv[0]; /* argv: the command and its options */
    if (!strcmp(cmd, "cq")) return cmd_cq(argc, argv);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc, argv);
    if (!strcmp(cmd, "blocklen")) return cmd_blocklen(argc, argv);
    if (!strcmp(cmd, "sncv")) return cmd_sncv(argc, argv);
    if (!strcmp(cmd, "simulate")) return cmd_simulate(argc, argv);
    if (!strcmp(cmd, "run")) return cmd_run(argc, argv);
    if (!strcmp(cmd, "modwt") || !strcmp(cmd, "wmc") || !strcmp(cmd, "wmcc") || !strcmp(cmd, "wlmc") ||
        !strcmp(cmd, "wlmcc"))
        return cmd_wavelet(argc, argv);
    fprintf(stderr, "cqboot: unknown command '%s' (see 'cqboot --help')\n", cmd);
    return 2;
}
