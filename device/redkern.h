/* device/redkern.h — the device-side reduction of bootstrap replicates,
 * written once for the CUDA device and for the host emulator of
 * tests/test_cuda.c (as sbkern.h: C11 and CUDA C++).
 *
 * Per chunk of nb replicates whose statistics (nb x nstat) are in device
 * memory (cqb_k_replicate()), the reduction of backend.h's cqb_reduce_io:
 *   derive   one work item per (group, replicate): cqb_derive_rep() of
 *            cqboot/cqreduce.h, the function host/cq/cq_boot.c runs, into
 *            vals[j * nb + r] (statistic-major, as the host's buffer);
 *   range    (first chunk of pass 1) per statistic, per-thread min/max of
 *            the finite values, combined by one thread (min and max are
 *            exact in any order), then cqb_qsel_range_hd() as qselect.c;
 *   count    (pass 1) per statistic, each thread counts its values' p-value
 *            exceedances, finite values and histogram bins
 *            (cqb_qsel_bin_hd()), added atomically: integers, so the order
 *            cannot change them;
 *   collect  (pass 2) per statistic, each finite value in a target bin to
 *            dst[atomic fill++]: the set is exact, its order is not (the host
 *            sorts it, host/boot/qselect.c compress()).
 * A "thread" here is (tid, nthr) over one statistic's nb values: on the
 * device, a 2-D grid's x-threads; in the emulator, a loop.
 */
#ifndef CQBOOT_DEVICE_REDKERN_H
#define CQBOOT_DEVICE_REDKERN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cqboot/cqreduce.h"

#if defined(__CUDACC__)
#define CQB_RFN static __device__ __forceinline__
#define CQB_RATOMIC_ADD(p, v) ((void)atomicAdd((p), (v)))
#define CQB_RATOMIC_FETCH_ADD(p, v) atomicAdd((p), (v))
#else
#define CQB_RFN static inline
#define CQB_RATOMIC_ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
#define CQB_RATOMIC_FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#endif

/* slots of the per-statistic pass-1 counters */
#define CQB_RK_PV 0
#define CQB_RK_ETLO 1
#define CQB_RK_ETHI 2
#define CQB_RK_VALID 3
#define CQB_RK_NACC 4

/* derive: work item idx in [0, ngroup * nb) */
CQB_RFN void cqb_rk_derive(const cqb_derive *d, const double *st, size_t nstat, size_t nb, double *vals, size_t idx)
{
    const size_t g = idx / nb, r = idx % nb;
    cqb_derive_rep(d, g, st + r * nstat, vals + g * d->gsize * nb + r, nb);
}

/* range: thread tid's min and max of the finite values v[0..nb) */
CQB_RFN void cqb_rk_minmax(const double *v, size_t nb, size_t tid, size_t nthr, double *mn, double *mx)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t r = tid; r < nb; r += nthr) {
        const double x = v[r];
        if (isfinite(x)) {
            if (x < a) a = x;
            if (x > b) b = x;
        }
    }
    *mn = a;
    *mx = b;
}

/* range: combines nthr partial min/max and sets the histogram range */
CQB_RFN void cqb_rk_range(const double *mns, const double *mxs, size_t nthr, double *lo, double *width)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t t = 0; t < nthr; ++t) {
        if (mns[t] < a) a = mns[t];
        if (mxs[t] > b) b = mxs[t];
    }
    cqb_qsel_range_hd(a, b, lo, width);
}

/* count: thread tid's share of statistic j's values v[0..nb); acc has
 * CQB_RK_NACC counters, hist CQB_QSEL_BINS + 2 bins */
CQB_RFN void cqb_rk_count(const double *v, size_t nb, size_t tid, size_t nthr, double pv_ref, int pv_abs, int has_et,
                          double et_ref, double lo, double width, uint32_t *hist, unsigned long long *acc)
{
    unsigned long long c = 0, elo = 0, ehi = 0, nv = 0;
    for (size_t r = tid; r < nb; r += nthr) {
        const double x = v[r];
        c += (pv_abs ? fabs(x) : x) >= pv_ref;
        if (has_et) {
            elo += x <= et_ref;
            ehi += x >= et_ref;
        }
        if (!isfinite(x)) continue;
        ++nv;
        CQB_RATOMIC_ADD(&hist[cqb_qsel_bin_hd(lo, width, x)], (uint32_t)1);
    }
    if (c) CQB_RATOMIC_ADD(&acc[CQB_RK_PV], c);
    if (elo) CQB_RATOMIC_ADD(&acc[CQB_RK_ETLO], elo);
    if (ehi) CQB_RATOMIC_ADD(&acc[CQB_RK_ETHI], ehi);
    if (nv) CQB_RATOMIC_ADD(&acc[CQB_RK_VALID], nv);
}

/* collect: thread tid's finite values of statistic j in one of its nt
 * target bins to dst[*fill++] (positions >= cap are counted, not written) */
CQB_RFN void cqb_rk_collect(const double *v, size_t nb, size_t tid, size_t nthr, double lo, double width,
                            const uint32_t *tbin, int nt, uint32_t *fill, uint32_t cap, double *dst)
{
    for (size_t r = tid; r < nb; r += nthr) {
        const double x = v[r];
        if (!isfinite(x)) continue;
        const uint32_t b = cqb_qsel_bin_hd(lo, width, x);
        int hit = 0;
        for (int t = 0; t < nt; ++t) hit |= tbin[t] == b;
        if (!hit) continue;
        const uint32_t pos = CQB_RATOMIC_FETCH_ADD(fill, (uint32_t)1);
        if (pos < cap) dst[pos] = x;
    }
}

#endif
