/* bench_load.c — W1 on a loaded machine: 1 thread against all usable CPUs,
 * beside competing CPU-bound processes.
 *
 * Shared servers and laptops are where the tool runs. With OpenMP's default
 * (spinning) wait policy, threads that wait at a barrier burn the cores the
 * working threads need; cqboot makes idle threads sleep
 * (cqb_passive_wait(), cqboot/runtime.h). This program measures both: by
 * default it runs as cqboot does (passive); --spin re-executes itself with
 * OMP_WAIT_POLICY=active, OpenMP's spinning, for comparison.
 *
 * Workload: W1's problem (bench_cq: T = 335 monthly, 9 x 9 grid, lags 1-12,
 * bands + Q tests, gamma 0.1), B = 2,000 by default, median of --reps runs
 * per thread count; --competitors N busy-loop child processes (default 4)
 * run throughout and are killed at the end (and with this process).
 * Prints a RESULT line with the two medians and their ratio.
 */
#define _GNU_SOURCE /* prctl */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "cqboot/backend.h"
#include "cqboot/cq_boot.h"
#include "cqboot/frame.h"
#include "cqboot/runtime.h"

#ifndef CQB_SOURCE_DIR
#define CQB_SOURCE_DIR "."
#endif

static const double grid9[9] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

static void usage(FILE *f)
{
    fputs("usage: bench_load [options]\n"
          "  --competitors N  CPU-bound processes running beside the benchmark (default 4)\n"
          "  --boot B         replicates per run (default 2000)\n"
          "  --reps N         timed runs per thread count (default 5); the median is reported\n"
          "  --spin           OpenMP's spinning wait policy instead of cqboot's passive one\n"
          "  --help           this text\n",
          f);
}

static pid_t competitor(void)
{
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
        volatile unsigned long long n = 0;
        for (;;) ++n;
    }
    return p;
}

int main(int argc, char **argv)
{
    int ncomp = 4, reps = 5, spin = 0;
    size_t B = 2000;
    for (int i = 1; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--spin")) {
            spin = 1;
        } else if ((v = bench_opt_value("bench_load", argc, argv, &i, "--competitors"))) {
            ncomp = (int)bench_parse_count("bench_load", "--competitors", v, 0);
        } else if ((v = bench_opt_value("bench_load", argc, argv, &i, "--boot"))) {
            B = (size_t)bench_parse_count("bench_load", "--boot", v, 1);
        } else if ((v = bench_opt_value("bench_load", argc, argv, &i, "--reps"))) {
            reps = (int)bench_parse_count("bench_load", "--reps", v, 1);
        } else {
            fprintf(stderr, "bench_load: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (reps > 99) reps = 99;
    /* The wait policy is read when the OpenMP runtime loads: set it, then
     * re-execute (cqb_passive_wait() does this for the passive policy). */
    if (spin && !getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "active", 1);
        execv("/proc/self/exe", argv);
    }
    if (!spin) cqb_passive_wait(argv);

    cqb_error err;
    cqb_frame *frame = NULL;
    cqb_series_set set;
    const char *path = CQB_SOURCE_DIR "/data/us_china_monthly.csv";
    const char *cols[2] = {"GPRC_CHN", "IPB52300S"};
    cqb_transform tr[2] = {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF};
    cqb_select_spec sel = {cols, 2, tr, "1996-01", "2023-12"};
    if (cqb_frame_read(path, &frame, &err) != CQB_OK || cqb_frame_select(frame, &sel, &set, &err) != CQB_OK) {
        fprintf(stderr, "bench_load: %s\n", err.msg);
        return 1;
    }
    size_t lags[12];
    for (size_t k = 0; k < 12; ++k) lags[k] = k + 1;
    cqb_cq_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.in = (cqb_cq_input){set.x, set.x + set.T, set.T, NULL, 0, CQB_Q_R7_LE};
    spec.alpha_y = grid9;
    spec.ny = 9;
    spec.alpha_x = grid9;
    spec.nx = 9;
    spec.lags = lags;
    spec.nlags = 12;
    spec.qtests = 1;

    const int maxthr = cqb_usable_cpus();
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    printf("bench_load: W1 problem (T = %zu, 9 x 9 grid, lags 1-12, Q tests, gamma 0.1), B = %zu\n", set.T, B);
    printf("  machine   %s, %d usable CPUs; %d competing CPU-bound processes\n", cpu, maxthr, ncomp);
    printf("  waiting   OMP_WAIT_POLICY=%s (%s)\n", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "unset",
           spin ? "OpenMP's spinning, for comparison" : "cqboot's default");
    fflush(stdout);

    pid_t kids[64];
    if (ncomp > 64) ncomp = 64;
    for (int c = 0; c < ncomp; ++c) kids[c] = competitor();
    sleep(1); /* let the competitors take their share */

    int threads[2] = {1, maxthr};
    double med[2] = {0, 0};
    int rc = 0;
    for (int t = 0; t < 2 && !rc; ++t) {
        cqb_backend be;
        char notice[256];
        if (cqb_backend_open(CQB_BACKEND_CPU, threads[t], &be, notice, sizeof notice, &err) != CQB_OK) {
            fprintf(stderr, "bench_load: %s\n", err.msg);
            rc = 1;
            break;
        }
        cqb_boot_opts o;
        cqb_boot_opts_default(&o);
        o.seed = 1;
        o.gamma = 0.1;
        o.backend = &be;
        o.B = B;
        double wall[99];
        for (int r = 0; r < reps; ++r) {
            cqb_cq_result res;
            double t0 = now_s();
            if (cqb_cq_boot(&spec, &o, &res, &err) != CQB_OK) {
                fprintf(stderr, "bench_load: %s\n", err.msg);
                rc = 1;
                break;
            }
            wall[r] = now_s() - t0;
            cqb_cq_result_free(&res);
        }
        cqb_backend_close(&be);
        if (!rc) {
            med[t] = median(wall, reps);
            printf("  threads %d: median %.3f s over %d runs\n", threads[t], med[t], reps);
            fflush(stdout);
        }
    }
    for (int c = 0; c < ncomp; ++c)
        if (kids[c] > 0) kill(kids[c], SIGKILL);
    for (int c = 0; c < ncomp; ++c)
        if (kids[c] > 0) waitpid(kids[c], NULL, 0);
    if (!rc)
        printf("RESULT workload=LOAD B=%zu competitors=%d wait=%s t1_s=%.4f t%d_s=%.4f ratio=%.3f\n", B, ncomp,
               spin ? "active" : "passive", med[0], threads[1], med[1], med[1] / med[0]);
    cqb_series_set_free(&set);
    cqb_frame_free(frame);
    return rc;
}
