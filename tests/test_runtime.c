/* test_runtime.c — usable CPUs (affinity, never below 1) and the passive
 * wait policy's re-execution. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/runtime.h"

Test(runtime, usable_cpus_within_online)
{
    int n = cqb_usable_cpus();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cr_assert_geq(n, 1);
    cr_assert_leq(n, online);
}

/* Restricted to one CPU by affinity (as taskset -c 0 would), the process may
 * use one CPU, whatever the machine has. */
Test(runtime, usable_cpus_follows_affinity)
{
    pid_t p = fork();
    cr_assert_neq(p, -1);
    if (p == 0) {
        cpu_set_t one, cur;
        sched_getaffinity(0, sizeof cur, &cur);
        int first = -1;
        for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
            if (CPU_ISSET(c, &cur)) first = c;
        CPU_ZERO(&one);
        CPU_SET(first, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(3);
        _exit(cqb_usable_cpus() == 1 ? 0 : 1);
    }
    int st = 0;
    waitpid(p, &st, 0);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 0, "cqb_usable_cpus() under a one-CPU affinity mask");
}

/* A policy the user chose is kept: nothing is re-executed. */
Test(runtime, passive_wait_respects_user_policy)
{
    setenv("OMP_WAIT_POLICY", "active", 1);
    char *argv[] = {(char *)"x", NULL};
    cr_assert_eq(cqb_passive_wait(argv), 0);
    cr_assert_str_eq(getenv("OMP_WAIT_POLICY"), "active");
}

/* Without a policy, the CLI re-executes itself with OMP_WAIT_POLICY=passive
 * before a bootstrap; the JSON options record the policy it ran with. */
Test(runtime, cli_runs_passive)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u OMP_WAIT_POLICY '%s' cq --data '%s/us_china_monthly.csv' --y GPRC_CHN --x IPB52300S "
             "--transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --alpha 0.5 --lags 1 --boot 50 "
             "--backend cpu --quiet --json - | grep -c '\"wait_policy\":[[:space:]]*\"passive\"'",
             CQB_CLI, CQB_DATA_DIR);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = 0;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    cr_assert_eq(n, 1, "cqboot cq records wait_policy passive in its JSON options");
}
