/* runtime.c — usable CPUs and passive waiting (see cqboot/runtime.h). */
/* sched_getaffinity and CPU_COUNT are GNU: _GNU_SOURCE comes from the build
 * (CMakeLists.txt), since a header may be included before this line (the
 * fault-injection build force-includes one). */
#include "cqboot/runtime.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* CPUs allowed by a cgroup quota, or 0 when there is none (or it cannot be
 * read): v2 "max 100000" / "200000 100000", v1 quota -1 or quota/period. */
static int cgroup_cpus(void)
{
    long long quota = -1, period = 0;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char q[32];
        if (fscanf(f, "%31s %lld", q, &period) == 2 && q[0] != 'm') quota = atoll(q);
        fclose(f);
    } else if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"))) {
        if (fscanf(f, "%lld", &quota) != 1) quota = -1;
        fclose(f);
        if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r"))) {
            if (fscanf(f, "%lld", &period) != 1) period = 0;
            fclose(f);
        }
    }
    if (quota <= 0 || period <= 0) return 0;
    long long n = (quota + period - 1) / period;
    return n > 0 && n < 1 << 20 ? (int)n : 0;
}

int cqb_usable_cpus(void)
{
    int n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 && c < 1 << 20 ? (int)c : 1;
    }
    int q = cgroup_cpus();
    if (q > 0 && q < n) n = q;
    return n > 0 ? n : 1;
}

int cqb_passive_wait(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return 0;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return -1;
    fflush(NULL);
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): go on with the runtime's default policy, and
     * leave the variable set so that a child process does not try again */
    return -1;
}

int cqb_simd_level(void)
{
    static atomic_int level = -1; /* -1: not read yet; any thread may read it */
    int v = atomic_load_explicit(&level, memory_order_relaxed);
    if (v >= 0) return v;
    v = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2") && !getenv("CQB_NO_AVX2"))
        v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("bmi2") && !getenv("CQB_NO_AVX512") ? 2 : 1;
#endif
    atomic_store_explicit(&level, v, memory_order_relaxed);
    return v;
}
