/* cqboot/nullboot.h — null-imposing resampling for the calibrated test of no
 * directional predictability (issue #10, docs/calibrated.md).
 *
 * Under H0 (y independent of x) the CQ rho*(k) of a pair built from
 * independently resampled y and x has the null law of rho_hat(k); p-values
 * come from rho* itself (not centred at rho_hat). Schemes:
 *
 *  - CQB_NULL_SB (exact-count stationary bootstrap): per replicate b, two
 *    independent stationary-bootstrap index sequences over the full series
 *    (length T), one for y (stream tag CQB_FAMILY_NULL_Y) and one for x
 *    (CQB_FAMILY_NULL_X), shared by every lag and the whole quantile grid.
 *    For lag k the aligned rows pair y*_t with x*_{t-k} (t = r0..T-1) and
 *    the hits at each level are exactly the n1(k) (resp. n2(k)) smallest
 *    resampled values, the sample's own hit counts at that lag: ties of
 *    value are ordered by original position, then by resample position.
 *    So n1* = n1, n2* = n2 and rho* lies on the sample's lattice.
 *  - CQB_NULL_ROTATION: per lag k, x's sample hit codes over the N_k aligned
 *    rows rotated circularly against y's by s = m .. N_k - m (replicate r is
 *    shift m + r); no random numbers. Replicates beyond a lag's last shift
 *    are NaN for that lag (so the Q tests use the common shifts m..N_P - m).
 *  - CQB_NULL_STRAT_ROTATION (partial CQ, cqb_null_plan_build_partial()):
 *    the rotation of x's hit codes within the strata of the control hits.
 *
 * Replicate b is a pure function of (seed, b): results do not depend on
 * threads or chunking. Per replicate the statistics are rho*[lag][iy][ix]
 * over the plan's lags (nstat = nlag * ny * nx), computed from integer counts
 * with cqb_cq_from_counts(), the arithmetic of rho_hat.
 */
#ifndef CQBOOT_NULLBOOT_H
#define CQBOOT_NULLBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/cq.h"
#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_null_scheme {
    CQB_NULL_SB = 0,
    CQB_NULL_ROTATION = 1,
    CQB_NULL_STRAT_ROTATION = 2 /* partial CQ: rotation within control strata (set by the builder) */
} cqb_null_scheme;

/* Stream families of the null-imposing resample (philox.h tag layout:
 * family in bits 1..3; 0-2 are the band, Q-test and wavelet families). */
#define CQB_FAMILY_NULL_Y 5u
#define CQB_FAMILY_NULL_X 6u

/* Absolute tolerance of |rho*| = |rho_hat| in the p-value counts. */
#define CQB_NULL_TIE_TOL 1e-12

/*! cqb_null_scheme_parse() : "sb" or "rotation"; 0 on success, -1 otherwise. */
int cqb_null_scheme_parse(const char *s, cqb_null_scheme *out);
const char *cqb_null_scheme_name(cqb_null_scheme s);

typedef struct cqb_null_plan {
    cqb_null_scheme scheme;
    size_t T;
    uint64_t seed;
    uint64_t thr_y, thr_x;   /* Bernoulli thresholds of the block restarts */
    double gamma_y, gamma_x; /* restart probabilities used (SB) */
    size_t margin;           /* rotation margin m */
    int ny, nx;
    double ay[64], ax[64];
    size_t nlag;
    size_t *lag;             /* nlag lags, ascending */
    size_t *r0, *N;          /* per lag: first aligned row, rows */
    uint32_t *n1, *n2;       /* per lag: sample hits per level [li * ny + iy] */
    uint32_t *rank_y, *rank_x; /* T: position of each row in (value, row) order */
    uint8_t *pcode_y, *pcode_x; /* per lag, per sorted position p < N: the level
                                   code of the p-th smallest aligned value
                                   (offset off[li]) */
    uint8_t *code_y, *code_x;   /* per lag, per aligned row: the sample code */
    size_t *off;             /* offsets of lag li in the per-lag arrays */
    size_t nrep;             /* SB: B; rotation: the most shifts of any lag */
    size_t nstat;            /* nlag * ny * nx */
    /* partial CQ (CQB_NULL_STRAT_ROTATION): per lag li, the rows grouped by
     * their pattern of control hits (stratum g = bit j set when control j
     * hits): grow[off[li] + goff[li * (2^nz + 1) + g] ...] in time order; M[li]
     * shifts; cz = the sample's counts with the controls, per lag
     * (ny + nx + nz) x nz: y level l with control j at [l * nz + j], x level
     * l at [(ny + l) * nz + j], control i with j at [(ny + nx + i) * nz + j] */
    int nz;
    double az[8];
    size_t *M, *goff;
    uint32_t *grow;
    double *cz;
} cqb_null_plan;

/*! cqb_null_plan_build() : the plan for the plain CQ of in (no controls) at
 *  the given levels and lags. gamma > 0: the restart probability of both
 *  series; <= 0: per-series Politis-White (np::b.star) on each full series.
 *  B: replicates of the SB scheme (ignored by rotation). */
cqb_status cqb_null_plan_build(cqb_null_plan *p, const cqb_cq_input *in, const double *ay, int ny,
                               const double *ax, int nx, const size_t *lags, size_t nlag,
                               cqb_null_scheme scheme, uint64_t seed, size_t B, double gamma, int floor1,
                               size_t margin, cqb_error *err);
void cqb_null_plan_free(cqb_null_plan *p);

/*! cqb_null_plan_build_partial() : the null of the partial CQ of in (1 to
 *  8 controls): y independent of x given the controls' hits. The rows of a
 *  lag are grouped by their pattern of control hits; x's hit codes are
 *  rotated circularly by s = m + r within every stratum (r < M, the shifts
 *  valid in the smallest non-empty stratum), which keeps n1, n2 and every
 *  count with the controls; rho* = the partial CQ of the Gram matrix with
 *  the new joint count, by cqb_partial_from_gram() as rho_partial. */
cqb_status cqb_null_plan_build_partial(cqb_null_plan *p, const cqb_cq_input *in, const double *ay, int ny,
                                       const double *ax, int nx, const size_t *lags, size_t nlag, size_t margin,
                                       cqb_error *err);

/*! cqb_null_rotations() : number of shifts of lag index li (rotation). */
size_t cqb_null_rotations(const cqb_null_plan *p, size_t li);

/*! cqb_null_codes() : the level codes of replicate rep at lag index li:
 *  cy[t], cx[t] for the N aligned rows (code = smallest level index at which
 *  the row is a hit, ny (nx) if none). For tests and the brute force. */
cqb_status cqb_null_codes(const cqb_null_plan *p, uint32_t rep, size_t li, uint8_t *cy, uint8_t *cx,
                          cqb_error *err);

/*! cqb_null_run_cpu() : rho* of replicates rep0 .. rep0+nrep-1 into out
 *  (nrep x nstat, row-major; stat li * ny * nx + iy * nx + ix), on threads
 *  OpenMP threads (0 = default). */
cqb_status cqb_null_run_cpu(const cqb_null_plan *p, uint32_t rep0, size_t nrep, double *out, int threads,
                            cqb_error *err);

/*! cqb_midp() : the two-sided mid-p value (gt + (1 + eq) / 2) / (valid + 1). */
static inline double cqb_midp(size_t gt, size_t eq, size_t valid)
{
    return ((double)gt + 0.5 * (1.0 + (double)eq)) / ((double)valid + 1.0);
}
/*! cqb_conservative_p() : (1 + gt + eq) / (valid + 1). */
static inline double cqb_conservative_p(size_t gt, size_t eq, size_t valid)
{
    return (1.0 + (double)gt + (double)eq) / ((double)valid + 1.0);
}

#ifdef __cplusplus
}
#endif
#endif
