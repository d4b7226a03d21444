/* fuzz_options.c — the option parsers and checks of every subcommand, in
 * check-only mode (cli_check_only = 1: nothing is read, run or written).
 * Input: byte 0 picks the subcommand; the rest, split at newlines, is its
 * arguments (at most 64). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const CMDS[] = {"cq", "blocklen", "sncv", "simulate", "run", "modwt", "wmc", "wmcc", "wlmc", "wlmcc"};
    if (size < 1 || size > 4096) return 0;
    const char *cmd = CMDS[data[0] % 10];
    char *buf = malloc(size);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = 0;
    char *argv[66];
    int argc = 0;
    argv[argc++] = (char *)cmd;
    char *p = buf;
    while (argc < 65 && p < buf + size - 1) {
        argv[argc++] = p;
        char *nl = memchr(p, '\n', (size_t)(buf + size - 1 - p));
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    argv[argc] = NULL;
    cli_check_only = 1;
    if (!strcmp(cmd, "cq")) cmd_cq(argc, argv);
    else if (!strcmp(cmd, "blocklen")) cmd_blocklen(argc, argv);
    else if (!strcmp(cmd, "sncv")) cmd_sncv(argc, argv);
    else if (!strcmp(cmd, "simulate")) cmd_simulate(argc, argv);
    else if (!strcmp(cmd, "run")) cmd_run(argc, argv);
    else cmd_wavelet(argc, argv);
    cli_check_only = 0;
    free(buf);
    return 0;
}
