/* main.c — the cqboot command line: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/backend.h"
#include "cqboot/version.h"

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
    "\n"
    "Run 'cqboot COMMAND --help' for a command's options.\n"
    "  --help     this help\n"
    "  --version  version and build\n"
    "\n"
    "Exit status: 0 ok, 1 internal error, 2 usage, 3 data or file, 4 backend\n"
    "unavailable, 5 out of memory, 130 interrupted.\n";

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds: fontconfig (under cairo's text) keeps its caches until
 * exit by design; those are not cqboot's leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#endif

int main(int argc, char **argv)
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
        printf("cqboot %s (CUDA backend: %s)\n", CQB_VERSION, cqb_backend_cuda_built() ? "built" : "not built");
        return 0;
    }
    cli_install_signals();
    cli_json_init();
    if (!strcmp(cmd, "cq")) return cmd_cq(argc - 1, argv + 1);
    if (!strcmp(cmd, "blocklen")) return cmd_blocklen(argc - 1, argv + 1);
    if (!strcmp(cmd, "sncv")) return cmd_sncv(argc - 1, argv + 1);
    if (!strcmp(cmd, "simulate")) return cmd_simulate(argc - 1, argv + 1);
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "modwt") || !strcmp(cmd, "wmc") || !strcmp(cmd, "wmcc") || !strcmp(cmd, "wlmc") ||
        !strcmp(cmd, "wlmcc"))
        return cmd_wavelet(argc - 1, argv + 1);
    fprintf(stderr, "cqboot: unknown command '%s' (see 'cqboot --help')\n", cmd);
    return 2;
}
