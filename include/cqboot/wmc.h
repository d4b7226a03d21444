/* cqboot/wmc.h — wavelet multiple correlation of Fernández-Macho as R
 * wavemulcor 3.1.2 computes it (on waveslim 1.8.4 MODWTs): the global
 * statistics WMC (wave.multiple.correlation), WMCC
 * (wave.multiple.cross.correlation) and WMR (wave.multiple.regression), the
 * shared types, options, workspace and the coefficient preparation. The
 * local (time-varying) versions WLMC, WLMCC and WLMR are in cqboot/wlmc.h.
 * Specification: ../shared/spec/wavelets.md §2-§3, §8.
 *
 * Input. Statistics take a cqb_wlevels: d >= 2 series, J wavelet levels and
 * the smooth, every coefficient vector of length n, laid out level-major as
 * x[((size_t)i * d + k) * n + t] (level i = 0..J-1 for d1..dJ, i = J for sJ;
 * series k = 0..d-1; time t). NaN marks a missing (brick-walled) value. A
 * time t counts for a level only when all d series are finite there
 * ("complete row"); wavemulcor's pairwise NA counts cancel because every
 * series of a brick-walled MODWT has the same NA pattern, so this equals R
 * for every input R accepts. cqb_wlevels_prepare() builds the input from
 * raw series: brick.wall(modwt(x, wf, J, boundary), wf) per series, plus
 * waveslim phase.shift for the local statistics (wave.local.* apply it
 * internally in R; here it is a preparation step, `align`).
 *
 * Indices. The dependent variable (R's YmaxR) is 1-based, 0 meaning NA;
 * opts.ymaxr is 1-based too (0 = choose by argmax, R's ymaxr = NULL).
 *
 * MODES (cqb_wmc_mode). COMPAT is the default and reproduces waveslim 1.8.4
 * + wavemulcor 3.1.2 exactly, quirks included. CORRECTED changes:
 *   global (WMC, WMCC, WMR)
 *   C1  CI sample size: n_i = floor(M_i / 2^i) with M_i the number of
 *       complete rows of level i and 2^J (not 2^(J+1)) for the smooth; for
 *       WMCC lags M_i is the number of complete rows of that lag.
 *       (compat: n_i = trunc(N / 2^i), N = vector length or opts.nobs, and
 *       2^(J+1) for the smooth row.)
 *   C2  WMCC lags != 0 use the same uncentred, no-intercept multiple
 *       correlation as lag 0, over the complete rows of (y shifted, X), with
 *       the dependent variable fixed by lag 0 (compat: centred OLS with
 *       intercept at lags != 0, uncentred at lag 0).
 *   C3  WMR coefficient CIs use qt(p, n_c - d), the residual degrees of
 *       freedom (compat: qt(p, N - d)).
 *   local (WLMC, WLMCC, WLMR; cqboot/wlmc.h)
 *   C4  window weights enter with power opts.weight_power, default 1: the
 *       local moments are sum u(|t-s|) x_k x_l (compat: u^2, because R
 *       multiplies each series by the weights before forming products).
 *   C5  effective sample size: Kish n_eff = (sum_valid v)^2 / sum_valid v^2
 *       of the weights v = u^weight_power actually used, over valid rows
 *       only (compat: Nhat = 1 / sum_valid w^2 with w = u / sum_all u
 *       normalised over ALL times, valid or not, which inflates Nhat near
 *       the boundary blocks: 4.2e6 instead of ~12 in the spec's example).
 *   C6  masking: val, lo, up, pval, dep (and every lag and regression
 *       statistic) are NA where the valid weight mass sum_valid v /
 *       sum_all v is below opts.min_mass (default 0.5) (compat: no mask;
 *       Gaussian values near the edges extrapolate from data >= 2M away).
 *   C7  WLMCC lags: uncentred weighted multiple correlation of (y shifted,
 *       X) over complete rows, row t weighted by v(|t-s|), with its own
 *       n_eff and mass (compat: OLS with intercept on the full-length
 *       weighted vectors over all complete rows of the whole series).
 *   C8  WLMR: weighted least squares of y on (1, X) with weights v over the
 *       valid rows; Cov(beta) = RSS_w / (n_eff - d) (A'VA)^-1 and t tests and
 *       CIs with n_eff - d degrees of freedom (compat: lm on the weighted
 *       full-length vectors over all complete rows, df n_c - d, CIs with
 *       qt(p, N - d)).
 *   preparation
 *   C9  reflection boundary: coefficients trimmed to the first n after the
 *       transform (after the phase shift when aligning) (compat: 2n, not
 *       trimmed, as waveslim).
 *   Unchanged in both modes: the lower CI bound truncated at 0 for d > 2,
 *   the sign for d = 2, the NaN and rank rules, the choice of the dependent
 *   variable.
 *
 * DEFINED where R crashes or is ill-defined (both modes):
 *   - singular global correlation matrix (R: solve() error): val = 1,
 *     dep = NA (the local rank rule, applied to the global matrix);
 *   - d = 2: the dependent variable is 1 unless Pi_2 > Pi_1 (1 + 1e-12)
 *     (both equal 1/(1-r^2); R picks by LAPACK rounding);
 *   - 1 - 1/Pi rounding below 0: val = 0 (R: NaN);
 *   - WLMCC lags and WLMR regressions where lag 0 is NA or rank deficient
 *     (R crashes): NA; aliased regressors in a lag or regression fit are
 *     dropped as lm does, their coefficients NA;
 *   - haar phase shift nu = 0: no shift (waveslim builds an N+1 vector);
 *   - a level without any complete row, or a series without energy at a
 *     level (a constant series), is a CQB_EDATA error (R: NaN then a
 *     solve() error);
 *   - correlations are formed as S_kl / (sqrt(S_kk) sqrt(S_ll)), so local
 *     moments of ~1e-300 (compat Gaussian far inside a boundary block) still
 *     give a value where R's intermediate products may underflow; a window
 *     whose weights on valid rows all underflow to 0 is NA (NaN rule), as
 *     in R.
 *
 * ENGINE ADDITIONS: out.pval, the F test of H0: multiple correlation = 0,
 * F = (phi^2/(d-1)) / ((1-phi^2)/(n-d)) ~ F(d-1, n-d) with n the CI sample
 * size (n_i, Nhat or n_eff) — a heuristic, as the CI is (wavelets.md §2.3);
 * out.nsize, that sample size.
 *
 * Thread safety: no global state; a workspace must not be shared by
 * concurrent calls. Nothing prints.
 */
#ifndef CQBOOT_WMC_H
#define CQBOOT_WMC_H

#include <stddef.h>

#include "cqboot/error.h"
#include "cqboot/wavelet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_wmc_mode {
    CQB_WMC_COMPAT = 0,   /* waveslim 1.8.4 + wavemulcor 3.1.2, quirks included */
    CQB_WMC_CORRECTED = 1 /* the corrections C1-C9 listed above */
} cqb_wmc_mode;

/* Local window (wavemulcor's `window`). */
typedef enum cqb_window {
    CQB_WINDOW_UNIFORM = 0,   /* 1{z <= M} */
    CQB_WINDOW_CLEVELAND,     /* tricube 1{z <= M} (1 - (z/M)^3)^3 */
    CQB_WINDOW_EPANECHNIKOV,  /* 1{z <= M} (1 - (z/M)^2) */
    CQB_WINDOW_BARTLETT,      /* 1{z <= M} (1 - z/M) */
    CQB_WINDOW_WENDLAND,      /* 1{z <= M} (1 - z/M)^4 (1 + 4 z/M) */
    CQB_WINDOW_GAUSSIAN       /* exp(-(z/M)^2), full support (the default) */
} cqb_window;

#define CQB_WINDOW_COUNT 6

typedef struct cqb_wmc_opts {
    cqb_wmc_mode mode;  /* CQB_WMC_COMPAT */
    double p;           /* CDF value of the two-sided CI, 0.975 (0 < p < 1) */
    int ymaxr;          /* 0: dependent variable by argmax; 1..d: fixed (R's ymaxr) */
    double nobs;        /* global CI/df: R's N when > 0; 0 = the vector length n */
    int lag_max;        /* cross statistics: < 0 = R's default trunc(sqrt(n)/2);
                           the lags used are min(n - 1, lag_max) */
    cqb_window window;  /* local: CQB_WINDOW_GAUSSIAN */
    double M;           /* local: window size, 1 <= M <= n (no default, as R) */
    int weight_power;   /* local: 0 = mode default (compat 2, corrected 1), or 1, 2 */
    double min_mass;    /* corrected local: mask threshold; < 0 = default 0.5 */
    int fast;           /* local, uniform window, lag 0: allow the running-sum
                           fast path (validated against the direct sums) */
    volatile int *cancel; /* local statistics: set nonzero to stop (CQB_EUSAGE
                           "interrupted"), polled per level and time; may be
                           NULL */
} cqb_wmc_opts;

/* Input coefficients (layout in the header comment). */
typedef struct cqb_wlevels {
    size_t n;         /* coefficient-vector length (>= 1) */
    size_t d;         /* number of series (>= 2) */
    int J;            /* wavelet levels (>= 1); J + 1 vectors per series */
    const double *x;  /* (J+1) * d * n values */
} cqb_wlevels;

/* Correlation outputs. Every pointer may be NULL (not computed). Sizes:
 *   WMC, WMR    : J+1 entries (i)
 *   WMCC        : (J+1) * (2lm+1), entry i*(2lm+1) + lm + tau; dep: J+1
 *   WLMC, WLMR  : (J+1) * n, entry i*n + s
 *   WLMCC       : (J+1) * n * (2lm+1), entry (i*n + s)*(2lm+1) + lm + tau;
 *                 dep: (J+1) * n
 * with lm the number of lags (cqb_wmc_lags()) and tau = -lm..lm. */
typedef struct cqb_wmc_out {
    double *val;   /* multiple correlation phi (R's wavemulcor / val) */
    double *lo;    /* lower CI bound */
    double *up;    /* upper CI bound */
    int *dep;      /* dependent variable, 1-based (R's YmaxR), 0 = NA */
    double *pval;  /* ENGINE ADDITION: F-test p-value of H0: rho = 0 */
    double *nsize; /* the CI sample size (n_i, Nhat or n_eff) */
} cqb_wmc_out;

/* Regression outputs (R's xy.mulreg: rval, rstd, rlow, rupp, rtst, rpva,
 * rord), d+1 columns per row in the order [b0, var1 .. vard]; rows as
 * WMC (J+1) or WLMC ((J+1) * n): entry row*(d+1) + c. The dependent
 * variable's column holds est -1, se 0, t +Inf, p 0, lower = upper = -1,
 * rank 1. Every pointer may be NULL. */
typedef struct cqb_wreg_out {
    double *est;
    double *se;
    double *lower;
    double *upper;
    double *tstat;
    double *pval;
    int *rank;     /* rank of |t| in decreasing order (ties: first match), 0 = NA */
} cqb_wreg_out;

typedef struct cqb_wmc_workspace cqb_wmc_workspace;

/*! cqb_wmc_opts_default() : compat mode, p = 0.975, ymaxr = 0 (argmax),
 *  nobs = 0, lag_max = -1 (R default), Gaussian window, M = 0 (must be set
 *  for local statistics), weight_power = 0, min_mass = 0.5, fast = 0. */
void cqb_wmc_opts_default(cqb_wmc_opts *o);

/*! cqb_window_parse() : wavemulcor's window names, matched on the first
 *  four lower-cased characters: "unif", "clev" or "tric", "epan" or "para",
 *  "bart" or "tria", "wend", "gaus". CQB_EUSAGE ("wrong window type ...")
 *  otherwise (also for names shorter than four characters). */
cqb_status cqb_window_parse(const char *name, cqb_window *w, cqb_error *err);

/*! cqb_window_name() : "uniform", "cleveland", "epanechnikov", "bartlett",
 *  "wendland", "gaussian" ("?" when out of range). */
const char *cqb_window_name(cqb_window w);

/*! cqb_window_kernel() : the unnormalised kernel u(z) of window w at lag
 *  z >= 0 for window size M > 0 (table in the cqb_window enum); NaN for an
 *  invalid window. */
double cqb_window_kernel(cqb_window w, double M, double z);

/*! cqb_wmc_lags() : the number of lags lm = min(n - 1, lag_max) with
 *  lag_max < 0 replaced by trunc(sqrt(n) / 2) (opts may be NULL). */
int cqb_wmc_lags(size_t n, const cqb_wmc_opts *o);

/*! cqb_wlevels_length() : the coefficient-vector length cqb_wlevels_prepare()
 *  produces for series of length n: n, or 2n for the reflection boundary in
 *  compat mode (corrected mode trims to n, C9). */
size_t cqb_wlevels_length(size_t n, cqb_boundary b, cqb_wmc_mode mode);

/*! cqb_wlevels_prepare_work() : the scratch size (doubles) of
 *  cqb_wlevels_prepare(): (J + 2) * 2n for reflection, (J + 2) * n else. */
size_t cqb_wlevels_prepare_work(size_t n, cqb_boundary b, int J);

/*! cqb_wlevels_prepare() : coefficients of d series for the statistics:
 *  series k is x[k*ldx .. k*ldx + n-1]; for each, modwt(x, wf, J, boundary),
 *  brick.wall, then (align != 0) phase.shift, and in corrected mode with
 *  reflection the first n samples are kept (after the shift). Writes
 *  (J+1) * d * len doubles to coef (len = cqb_wlevels_length(n, b, mode))
 *  and fills *in (in->x = coef) when in is not NULL. Use align = 0 for
 *  WMC/WMCC/WMR and align = 1 for WLMC/WLMCC/WLMR (as wavemulcor does).
 *  work: cqb_wlevels_prepare_work() doubles, or NULL to allocate.
 *  Errors: CQB_EUSAGE for NULL pointers, d < 2, ldx < n, an invalid
 *  wf/boundary/mode, J < 1 or 2^J > transform length; CQB_EDATA for a
 *  non-finite value ("series k, position t"), a constant series, or a
 *  series too short for the filter and J (a level with boundary
 *  coefficients only: n_J = (2^J - 1)(L - 1) >= len); CQB_ENOMEM. */
cqb_status cqb_wlevels_prepare(const double *x, size_t ldx, size_t n, size_t d,
                               cqb_wavelet wf, int J, cqb_boundary b, cqb_wmc_mode mode,
                               int align, double *coef, cqb_wlevels *in, double *work,
                               cqb_error *err);

/*! cqb_wmc_workspace_alloc() : scratch for any statistic on inputs with
 *  coefficient length <= n and <= d series; reusable across calls (e.g.
 *  resamples) without reallocation. Returns NULL (with CQB_ENOMEM or
 *  CQB_EUSAGE for n == 0 or d < 2 in err) on failure. */
cqb_wmc_workspace *cqb_wmc_workspace_alloc(size_t n, size_t d, cqb_error *err);

/*! cqb_wmc_workspace_free() : frees ws (NULL is a no-op). */
void cqb_wmc_workspace_free(cqb_wmc_workspace *ws);

/*! cqb_wmc() : wave.multiple.correlation (WMC, wavelets.md §2). Per level:
 *  R = uncentred correlation matrix over complete rows; k* = argmax
 *  diag(R^-1) or opts.ymaxr; phi = sqrt(1 - 1/Pi_k*) (signed for d = 2);
 *  Fisher-z CI with n_i (compat: trunc(N/2^i), N = opts.nobs or n, 2^(J+1)
 *  for the smooth; corrected: C1, opts.nobs unused), lower bound truncated
 *  at 0 for d > 2. ws may be NULL
 *  (allocated internally). Errors: CQB_EUSAGE for invalid input or options
 *  (d < 2, J < 1, n == 0, p outside (0,1), ymaxr > d, nobs < 0); CQB_EDATA
 *  for a level without complete rows or a series without energy at a
 *  level; CQB_ENOMEM. */
cqb_status cqb_wmc(const cqb_wlevels *in, const cqb_wmc_opts *o, cqb_wmc_workspace *ws,
                   const cqb_wmc_out *out, cqb_error *err);

/*! cqb_wmcc() : wave.multiple.cross.correlation (WMCC, §3.7), lags
 *  -lm..lm (cqb_wmc_lags()). Lag 0 is WMC and fixes k*; at lag +tau the
 *  response is y[t + tau] (Y lags), at -tau y[t - tau] (Y leads), regressed
 *  on the other d-1 coefficient vectors at t over complete rows: compat =
 *  centred OLS with intercept, phi = sqrt(R^2), signed for d = 2 by the
 *  centred correlation; corrected = C2. CIs as WMC with the same n_i for
 *  every lag (corrected: per-lag counts, C1). Errors as cqb_wmc(). */
cqb_status cqb_wmcc(const cqb_wlevels *in, const cqb_wmc_opts *o, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, cqb_error *err);

/*! cqb_wmr() : wave.multiple.regression (WMR, §3.8): the WMC outputs plus
 *  lm(x_k* ~ 1 + others) on the raw coefficients of each level over
 *  complete rows: estimates, SE = sqrt(RSS/(n_c - d) diag((A'A)^-1)), t,
 *  two-sided t p-values with n_c - d df, CIs est -/+ qt(p, N - d) SE
 *  (compat; corrected: C3) and the rank order of |t|. Levels where WMC is
 *  rank deficient (dep NA) get NA regression rows. Errors as cqb_wmc(). */
cqb_status cqb_wmr(const cqb_wlevels *in, const cqb_wmc_opts *o, cqb_wmc_workspace *ws,
                   const cqb_wmc_out *out, const cqb_wreg_out *reg, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
