/* cqboot/blocklen.h — automatic block length of Politis & White (2004) with
 * the Patton, Politis & White (2009) correction, computed exactly as R's
 * np::b.star with round = FALSE (what R quantilogram's *.opt functions use),
 * and the stationary-bootstrap gamma derived from it.
 * See cross-quantilogram.md §4.6 and §7.
 */
#ifndef CQBOOT_BLOCKLEN_H
#define CQBOOT_BLOCKLEN_H

#include <stddef.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tuning constants of the rule. A field <= 0 means the np default, which
 * depends on the series length n:
 *   c    = qnorm(0.975) = 1.959963984540054  (critical value multiplier)
 *   kn   = max(5, ceil(log10 n))               (run length K_N)
 *   mmax = ceil(sqrt n) + K_N                  (largest lag considered)
 * (B_max = ceil(min(3 sqrt n, n/3)) is not configurable, as in np's
 * defaults.) */
typedef struct cqb_bstar_opts {
    double c;
    int kn;
    int mmax;
} cqb_bstar_opts;

/*! cqb_bstar_opts_default() : sets every field of *o to 0, i.e. "use the np
 *  default"; the actual values are resolved per series in cqb_bstar(). */
void cqb_bstar_opts_default(cqb_bstar_opts *o);

/*! cqb_bstar() : np::b.star (round = FALSE) for one series x[0..n-1].
 *  opts may be NULL (all defaults). Writes the stationary-bootstrap block
 *  length to *b_sb and the circular-block one to *b_cb (either pointer may be
 *  NULL). Both are unrounded, capped at B_max = ceil(min(3 sqrt n, n/3)) and
 *  never floored: they may be below 1 or exactly 0.
 *  Returns (int)CQB_OK, or (int)CQB_EDATA when x contains a non-finite value,
 *  is constant (zero variance), is too short for the lags needed
 *  (n < 3 or m_max >= n; with the defaults this means n < 9), or gives
 *  G_hat = g_hat(0) = 0 (0/0, where R returns NaN); (int)CQB_EUSAGE when x is
 *  NULL; (int)CQB_ENOMEM when scratch memory cannot be allocated. Outputs are
 *  left unchanged on error. */
int cqb_bstar(const double *x, size_t n, const cqb_bstar_opts *opts,
              double *b_sb, double *b_cb);

/*! cqb_gamma_from_bstar() : the stationary-bootstrap parameter gamma from the
 *  k stationary-bootstrap block lengths b_sb[0..k-1] (one per column of the
 *  matrix that will be resampled). With floor1 == 0 this is R quantilogram's
 *  *.opt rule: gamma = mean(1 / b) over the unfloored b, then min(gamma, 1)
 *  (b == 0 gives 1/b = inf, hence gamma = 1). With floor1 != 0 each b is
 *  first replaced by max(b, 1) (a documented deviation from R, recommended
 *  for users: never more than an iid bootstrap per column). Returns gamma in
 *  (0, 1]; returns 1 when k == 0 or b_sb is NULL, and NaN if some b is NaN. */
double cqb_gamma_from_bstar(const double *b_sb, size_t k, int floor1);

#ifdef __cplusplus
}
#endif
#endif
