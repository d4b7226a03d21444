/* cqboot/wlmc.h — wavelet LOCAL multiple correlation of Fernández-Macho as
 * R wavemulcor 3.1.2 computes it: WLMC (wave.local.multiple.correlation),
 * WLMCC (wave.local.multiple.cross.correlation) and WLMR
 * (wave.local.multiple.regression). Types, options, modes (compat /
 * corrected, C4-C9) and DEFINED behaviours are documented in cqboot/wmc.h;
 * specification ../shared/spec/wavelets.md §3, §6.2.
 *
 * Input: phase-aligned coefficients (cqb_wlevels_prepare(..., align = 1,
 * ...), i.e. brick.wall then phase.shift per series, as wavemulcor's local
 * functions do internally). Outputs are indexed by the aligned time
 * s = 0..n-1 (R's 1..N).
 *
 * Local moments at time s, level i (compat):
 *   S_kl(s) = sum_{t complete} u(|t-s|)^2 x_k[t] x_l[t]   (weights squared)
 *   Nhat(s) = (sum_{all t} u(|t-s|))^2 / sum_{t complete} u(|t-s|)^2
 * then the NaN rule (a window without complete rows: val, lo, up, dep NA),
 * the rank rule (R's qr() rank < d: val = lo = up = 1, dep NA) and
 * otherwise phi and k* as in the global case, with the Fisher-z CI on Nhat
 * (NaN when Nhat < 3), lower bound truncated at 0 for d > 2.
 *
 * Windows and sums. u(z) is cqb_window_kernel() over the integer lags z; M
 * may be non-integer, 1 <= M <= n, and is the same for every level. The
 * compact windows are summed exactly over z <= M. The Gaussian (full
 * support in R) is truncated where the weight falls below exp(-39.7) ~ 6e-18
 * of the largest weight on a valid row: the lag-0 sums (weights
 * v = u^weight_power) run over |t - s| <= D + ceil(6.3 M / sqrt(weight_power))
 * with D the largest distance from any time of the level to its nearest
 * complete row, the lag and regression sums over |t - s| <= delta(s) +
 * ceil(6.3 M) with delta(s) the distance from s itself; the Nhat normaliser
 * sum_all u comes from a cumulative table of the full kernel. So the result
 * equals R's full-length sums to rounding even where the window holds no
 * valid data nearby (wavelets.md §6.2). The reference path is these direct
 * truncated-window sums; opts.fast enables, for the uniform window and
 * lag 0 only, block prefix/suffix sums (van Herk / Gil-Werman) that add
 * exactly the same window terms in a different order (O(n P) per level,
 * independent of M; no long-range cancellation).
 *
 * Cost (direct path): (J+1) n (2K+1) d(d+1)/2 multiply-adds for lag 0;
 * WLMCC and WLMR add O(n (2K + lm) d^2) per lag and level. No allocation
 * when a workspace is given; thread-safe with one workspace per thread.
 */
#ifndef CQBOOT_WLMC_H
#define CQBOOT_WLMC_H

#include <stddef.h>

#include "cqboot/error.h"
#include "cqboot/wmc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! cqb_wlmc() : wave.local.multiple.correlation (WLMC). Needs opts.M
 *  (1 <= M <= n) and opts.window; out arrays of (J+1) * n entries
 *  (i*n + s), dep likewise. compat reproduces R exactly (u^2 weights, Nhat
 *  quirk); corrected applies C4-C6 of cqboot/wmc.h (weights u^weight_power,
 *  Kish n_eff over valid rows, NA where the valid weight mass <
 *  opts.min_mass). ws may be NULL (allocated internally). Errors:
 *  CQB_EUSAGE for invalid input or options (also M < 1, M > n or not
 *  finite, an invalid window, weight_power not in {0, 1, 2}, min_mass > 1);
 *  CQB_EDATA for a level without complete rows or a series without energy
 *  at a level; CQB_ENOMEM. */
cqb_status cqb_wlmc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, cqb_error *err);

/*! cqb_wlmcc() : wave.local.multiple.cross.correlation (WLMCC), lags
 *  -lm..lm (cqb_wmc_lags()); out arrays of (J+1) * n * (2lm+1) entries
 *  ((i*n + s)*(2lm+1) + lm + tau), dep (J+1) * n. Lag 0 is WLMC and fixes
 *  k*(s). compat: at lag +tau the response is y~[t + tau], at -tau
 *  y~[t - tau], with y~ = w_s * x_k* and X~ = w_s * (other series) the
 *  full-length weighted vectors (w_s = u(|t-s|) / sum_t u(|t-s|)); OLS with
 *  intercept over all complete rows of the whole series; phi = sqrt(R^2),
 *  signed for d = 2 by the centred correlation; CI on Nhat(s) for every
 *  lag. corrected: C7. Lags are NA where lag 0 is NA or rank deficient
 *  (DEFINED; R crashes). Errors as cqb_wlmc(). */
cqb_status cqb_wlmcc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                     const cqb_wmc_out *out, cqb_error *err);

/*! cqb_wlmr() : wave.local.multiple.regression (WLMR): the WLMC outputs
 *  (R's cor: val, lo, up and YmaxR) plus, per level and time s, the
 *  regression of x_k*(s) on the other series (cqb_wreg_out, rows i*n + s,
 *  d+1 columns [b0, var1..vard]). compat: lm(y~ ~ 1 + X~) on the weighted
 *  full-length vectors over all complete rows n_c (estimates in R's units:
 *  b0 and its SE refer to the normalised weighted vectors), t tests with
 *  n_c - d df, CIs with qt(p, n - d); corrected: C8. Rows are NA where lag
 *  0 is NA, masked or rank deficient. Errors as cqb_wlmc(). */
cqb_status cqb_wlmr(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, const cqb_wreg_out *reg, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
