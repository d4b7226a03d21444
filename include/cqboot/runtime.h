/* cqboot/runtime.h — how the process uses the machine: the number of CPUs it
 * may use, passive waiting of idle OpenMP threads, and the SIMD level the
 * kernels dispatch to.
 *
 * Shared servers and laptops are where this tool runs: a thread that spins
 * while it waits steals the core a working thread needs (on a 2-core machine
 * with four CPU-bound competitors, spinning made 2 threads 3x slower than 1).
 */
#ifndef CQBOOT_RUNTIME_H
#define CQBOOT_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/*! cqb_usable_cpus() : the CPUs this process may use: the CPUs of its
 *  affinity mask, capped by a cgroup CPU quota (cgroup v2 cpu.max, or v1
 *  cpu.cfs_quota_us / cpu.cfs_period_us) rounded up; at least 1. */
int cqb_usable_cpus(void);

/*! cqb_passive_wait() : makes idle OpenMP threads sleep instead of spin.
 *  OpenMP runtimes read OMP_WAIT_POLICY once, when they are loaded (before
 *  main), so when the variable is unset this sets it to "passive" and
 *  re-executes the program (/proc/self/exe) with the same arguments; call it
 *  before any parallel region and before reading standard input. Returns 0
 *  when the policy is already set (by the user or by an earlier call), -1
 *  when re-executing failed (the program then goes on with the runtime's
 *  default). Does not return when it re-executes. */
int cqb_passive_wait(char **argv);

/*! cqb_simd_level() : the widest SIMD the CPU kernels may use: 2 for
 *  AVX-512 (F and BMI2 present), 1 for AVX2, 0 for the portable loops.
 *  CQB_NO_AVX512 (any value) caps it at 1, CQB_NO_AVX2 at 0, so that tests
 *  compare every path on one machine. Read once per process (the first
 *  call); every path gives the same bits. */
int cqb_simd_level(void);

#ifdef __cplusplus
}
#endif
#endif
