/* cqboot/cqreduce.h — the arithmetic of the bootstrap reduction, shared by the
 * host (host/cq/cq_boot.c, host/boot/qselect.c) and the CUDA device reduction
 * (device/redkern.h, device/backend_cuda.cu), so that both run the same
 * operations in the same order (with -ffp-contract=off / -fmad=false).
 *
 *  - cqb_derive_rep(): how one replicate's plan statistics become the values
 *    whose quantiles and exceedances are needed (a band group: one cell,
 *    d = rho* - rho_hat; a Q group: one cell's 2P cumulative statistics
 *    Q*_BP(p), Q*_LB(p), p = 1..P; the sup group: their max over cells);
 *  - cqb_qsel_range_hd() / cqb_qsel_bin_hd(): the histogram range of a
 *    statistic from the min and max of its first chunk's finite values, and
 *    the bin of a value (0: under, 1..CQB_QSEL_BINS, CQB_QSEL_BINS+1: over).
 */
#ifndef CQBOOT_CQREDUCE_H
#define CQBOOT_CQREDUCE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cqboot/hd.h"
#include "cqboot/qselect.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The values of a plan's replicates: ngroup groups of gsize values each. */
typedef struct cqb_derive {
    int kind;            /* 0: band; 1: Q tests */
    size_t nvar;         /* values per replicate = ngroup * gsize */
    size_t ngroup, gsize;
    const double *ref;   /* band: rho_hat per cell; Q: rho_hat [k-1][cell] */
    size_t P, ncell;     /* Q: lags and cells; group ncell (if any) is the sup group */
    double T;
} cqb_derive;

/* number of doubles in ref */
CQB_HD size_t cqb_derive_nref(const cqb_derive *d) { return d->kind == 0 ? d->ngroup : d->P * d->ncell; }

/* One lag of a Q group: adds the squared deviation e of lag k to the
 * running sums and gives the cumulative statistics Q*_BP, Q*_LB through k.
 * Shared by cqb_derive_rep() and the host's blocked derivation, so that both
 * run the same operations in the same order. */
CQB_HD void cqb_q_step(double e, double T, size_t k, double *sbp, double *slb, double *qb, double *ql)
{
    double e2 = e * e;
    *sbp += e2;
    *slb += e2 / (T - (double)k);
    *qb = T * *sbp;
    *ql = T * (T + 2.0) * *slb;
}

/* Values of group g for one replicate whose statistics are s[0..nstat):
 * value i of the group (variable g * gsize + i) to out[i * stride]. */
CQB_HD void cqb_derive_rep(const cqb_derive *d, size_t g, const double *s, double *out, size_t stride)
{
    if (d->kind == 0) {
        out[0] = s[g] - d->ref[g];
        return;
    }
    const double T = d->T;
    if (g == d->ncell) {
        /* the sup group: max over cells of Q*_BP(p) and Q*_LB(p) */
        for (size_t i = 0; i < 2 * d->P; ++i) out[i * stride] = -INFINITY;
        for (size_t c = 0; c < d->ncell; ++c) {
            double sbp = 0.0, slb = 0.0;
            for (size_t k = 1; k <= d->P; ++k) {
                double e = s[(k - 1) * d->ncell + c] - d->ref[(k - 1) * d->ncell + c];
                double qb, ql;
                cqb_q_step(e, T, k, &sbp, &slb, &qb, &ql);
                double *ob = &out[(k - 1) * stride], *ol = &out[(d->P + k - 1) * stride];
                /* NaN (singular replicate) propagates: the replicate is invalid */
                if (qb > *ob || isnan(qb)) *ob = isnan(*ob) ? *ob : qb;
                if (ql > *ol || isnan(ql)) *ol = isnan(*ol) ? *ol : ql;
            }
        }
        return;
    }
    double sbp = 0.0, slb = 0.0;
    for (size_t k = 1; k <= d->P; ++k) {
        double e = s[(k - 1) * d->ncell + g] - d->ref[(k - 1) * d->ncell + g];
        cqb_q_step(e, T, k, &sbp, &slb, &out[(k - 1) * stride], &out[(d->P + k - 1) * stride]);
    }
}

/* The histogram range from the min and max of the finite values of a
 * statistic's first chunk (mn = +inf, mx = -inf when it had none). */
CQB_HD void cqb_qsel_range_hd(double mn, double mx, double *lo, double *width)
{
    if (!(mn <= mx)) mn = mx = 0.0;
    double span = mx - mn;
    if (!(span > 0.0)) span = fabs(mn) > 1.0 ? fabs(mn) * 1e-3 : 1e-3;
    *lo = mn - 0.5 * span;
    *width = 2.0 * span / CQB_QSEL_BINS;
}

CQB_HD uint32_t cqb_qsel_bin_hd(double lo, double width, double x)
{
    if (x < lo) return 0;
    double f = (x - lo) / width;
    if (!(f < (double)CQB_QSEL_BINS)) return CQB_QSEL_BINS + 1;
    return 1 + (uint32_t)f;
}

#ifdef __cplusplus
}
#endif
#endif
