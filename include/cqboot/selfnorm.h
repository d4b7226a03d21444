/* cqboot/selfnorm.h — self-normalised inference for the cross-quantilogram
 * and the partial CQ (cross-quantilogram.md §4.7; HLOW 2016 §3.1.2, §4).
 *
 * ---- The statistics --------------------------------------------------------
 * Recursive estimates. For a prefix length s, rho_s(k) is exactly what
 * cqb_cq_compute() returns for lag k on the first s observations of every
 * series (T replaced by s): the quantiles are re-estimated on the first s
 * observations with the input's convention (r7_le, type1_lt: the whole
 * prefix; higher_lt_sub: the lag-aligned rows of the prefix), the rows are
 * t = r0+1..s (1-based), and the partial CQ uses the same Gram epilogue.
 * Equal counts give equal bits, so rho_T(k) is bit-identical to the
 * full-sample cqb_cq_compute() value.
 *
 * The range of s. With r0max = cqb_cq_r0(in, kmax) (kmax = p for the
 * omnibus test, = k for the t-test),
 *     s_lo = max(floor(T*omega + 1e-9), r0max + 2),   s = s_lo, ..., T.
 * The spec's sum starts at floor(T omega); the floor at r0max + 2 (at least
 * two rows, cqb_cq_compute's own minimum) only matters for omega = 0 or a
 * tiny T, where the dropped terms carry weight s^2/T^2 < (p+2)^2/T^2. The
 * 1e-9 guards products such as 100*0.07 = 7.000000000000001 against IEEE
 * rounding just below an integer.
 *
 *     V_hat = T^-2 sum_{s=s_lo}^{T} s^2 (rho_s - rho_T)(rho_s - rho_T)'   (p x p)
 *     S_hat = T rho_T' V_hat^{-1} rho_T                  (omnibus, lags 1..p)
 *     t     = sqrt(T) rho_T(k) / sqrt(V_hat)             (one lag, p = 1)
 *
 * The t-statistic uses the partial CQ when the input has controls, else the
 * plain CQ (then t^2 is S_hat of the single lag k). The omnibus S_hat always
 * uses the plain CQ and ignores controls (it is the paper's CQ test).
 * Partial-CQ prefixes whose hit Gram matrix is singular (possible for small
 * s only) are left out of V_hat and counted in n_skipped; a singular
 * full-sample Gram matrix is an error (CQB_EDATA), as in cqb_cq_compute().
 * V_hat is singular when its Cholesky factorisation meets a pivot <= 0 or
 * its reciprocal 1-norm condition number is below DBL_EPSILON (R solve()'s
 * rule, as cqb_partial_from_gram): the statistic is then NaN and the
 * functions return CQB_EDATA with the result otherwise filled.
 *
 * Limits under H0 (B a p-dim standard Brownian motion):
 *     S:   B(1)' V^{-1} B(1),  V = int_omega^1 (B(r) - r B(1))(B(r) - r B(1))' dr
 *     |t|: |B(1)| / (int_omega^1 (B(r) - r B(1))^2 dr)^{1/2}   (= sqrt of S, p = 1)
 * Reject for large S or large |t| (two-sided).
 *
 * Algorithm. Each series is ranked once (O(T log T)); for each lag a sweep
 * over s keeps, per variable, a Fenwick tree over the full-sample ranks of
 * the prefix (order statistics in O(log T)), the hit threshold as a count
 * in the full-sample order, and the joint hit counts of every pair of
 * variables. When s grows by one, a threshold moves past the full-sample
 * values between two adjacent prefix order statistics (about T/s of them
 * for a series in random order); each such flip updates the counts in
 * O(l), l = 2 + controls. Total O(p l (T log T + F)), F the number of flips,
 * typically O(T log(1/omega)) per variable and lag; O(T^2) only in
 * adversarial orders (the naive method is O(p l T^2)). Memory O(l T).
 *
 * ---- The simulated limit distribution ------------------------------------
 * A path is a pmax-dimensional Gaussian random walk W_j, j = 0..n, with
 * independent N(0,1) increments; component d of the first pmax is the same
 * for every pmax, so S for p lags uses the leading p components (one path
 * gives S for every p <= pmax and every omega). With j0 = ceil(n*omega - 1e-9)
 *     Sigma = sum_{j=j0}^{n} (W_j - (j/n) W_n)(W_j - (j/n) W_n)',
 *     S     = n W_n' Sigma^{-1} W_n
 * (the Riemann sum (1/n) sum_j over j >= ceil(n omega) of the spec's V with
 * B(j/n) = W_j / sqrt(n)); leading blocks come from one Cholesky factor.
 * Sigma is summed from j = n downwards in pairs (n, n-1), (n-2, n-3), ...
 * with one expression per element, so a path's S for (p, omega) is
 * bit-identical whatever pmax and the other omegas are. Cost: about 200 us
 * of one core per path for pmax = 10, n = 2000 (normals ~60%).
 *
 * Random numbers: Philox4x32-10 (cqboot/philox.h), counter-based. Path i
 * (< 2^32), component d: subsequence = i + 2^32 * tag(d), with
 * tag(d) = cqb_sb_tag(CQB_SN_FAMILY, d, 0) = 0xE | d << 4 (family 7 of the
 * philox.h layout, reserved here; the bootstrap uses families 0-2). Normal
 * number m (m = 0..n-1, the increment of step m+1) comes from 32-bit word
 * m % 4 of block m / 4 by a 256-layer ziggurat (Marsaglia and Tsang 2000,
 * with Doornik's fix: 8 bits choose the layer, 1 the sign, 23 the abscissa).
 * The ~1.5% of draws that leave the fast path continue with words of block
 * (r << 40) | m, r = 1, 2, ... of the same subsequence, read in order.
 * Every value therefore depends only on (seed, i, d, m): results do not
 * depend on the number of threads or on the schedule. The fast path is
 * integer compares and one IEEE multiply; the slow paths use exp and log,
 * so the bits are reproducible for a given seed on this CPU code path (same
 * build and libm); another libm may change a rare draw in its last bits.
 *
 * ---- The shipped table --------------------------------------------------
 * data/sncv_table.csv (made by `cqboot sncv`, see data/sncv_table.md) holds
 * the type-7 quantiles of S (p = 1..10) and |t| at the levels
 * cqb_sn_table_levels() for omega in {0, 0.03, 0.05, 0.1}; the same numbers
 * are compiled into the library (a test checks they match the file).
 */
#ifndef CQBOOT_SELFNORM_H
#define CQBOOT_SELFNORM_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/cq.h"
#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQB_SN_PMAX 32     /* most lags of the omnibus statistic */
#define CQB_SN_FAMILY 7u   /* Philox tag family of the simulation */
#define CQB_SN_NLEVELS 42  /* quantile levels of the shipped table */
#define CQB_SN_TABLE_PMAX 10

/* ---- Recursive estimates --------------------------------------------- */

/*! cqb_sn_first_s() : s_lo = max(floor(T*omega + 1e-9), cqb_cq_r0(in, kmax) + 2),
 *  the first prefix length of the recursive estimates (see the header). */
size_t cqb_sn_first_s(const cqb_cq_input *in, size_t kmax, double omega);

/*! cqb_sn_paths() : the recursive estimates for s = s_lo..T and the lags
 *  lags[0..nlags-1] (each >= 0, with s_lo >= cqb_cq_r0(in, lag) + 2):
 *  rho[(s - s_lo) * nlags + j] = rho_s(lags[j]) (plain CQ) and, when
 *  rho_partial is not NULL (needs in->nctl > 0), the partial CQ likewise
 *  (NaN where the prefix's Gram matrix is singular). Either output may be
 *  NULL. Returns CQB_EUSAGE for bad arguments (alpha outside (0,1), s_lo
 *  out of range, too many controls), CQB_EDATA for non-finite data. */
cqb_status cqb_sn_paths(const cqb_cq_input *in, double ay, double ax, const size_t *lags, size_t nlags,
                        size_t s_lo, double *rho, double *rho_partial, cqb_error *err);

/*! cqb_sn_vhat() : V_hat (p x p, row-major) from recursive estimates
 *  path[(s - s_lo) * p + j], s = s_lo..T (the last row is rho_T):
 *  T^-2 sum_s s^2 (rho_s - rho_T)(rho_s - rho_T)', leaving out rows with a
 *  NaN (their number is returned in *n_skipped when it is not NULL). */
void cqb_sn_vhat(const double *path, size_t s_lo, size_t T, size_t p, double *V, size_t *n_skipped);

/*! cqb_sn_quadform() : *S = T rho' V^{-1} rho (Cholesky). CQB_EDATA and
 *  *S = NaN when V is singular (a pivot <= 0 or reciprocal 1-norm condition
 *  number below DBL_EPSILON). err may be NULL. */
cqb_status cqb_sn_quadform(const double *rho, const double *V, size_t p, double T, double *S, cqb_error *err);

/* ---- Simulation of the limit ------------------------------------------ */

typedef struct cqb_sn_sim_opts {
    uint64_t seed;   /* default 2016 */
    size_t paths;    /* default 200000; at most 2^32 */
    size_t steps;    /* n, default 2000; at least 2 */
    int threads;     /* OpenMP threads; <= 0: the OpenMP default */
    void (*progress)(double fraction, void *user); /* may be NULL; called
                                                      from the calling thread */
    void *progress_user;
    volatile int *cancel; /* set nonzero to stop; may be NULL */
} cqb_sn_sim_opts;

/*! cqb_sn_sim_opts_default() : seed 2016, 200,000 paths, 2,000 steps,
 *  default threads, no progress, no cancel. */
void cqb_sn_sim_opts_default(cqb_sn_sim_opts *o);

/*! cqb_sn_simulate() : draws of the limit of S for p = 1..pmax lags
 *  (pmax <= CQB_SN_PMAX) and each omega[w] in [0,1):
 *  out[(w * pmax + p - 1) * paths + i] = S of path i (|t| = sqrt of the
 *  p = 1 draw). NaN where Sigma is singular (not seen in practice). The
 *  values depend only on the seed, n and the path index (header comment).
 *  CQB_EUSAGE for bad options and "interrupted" on cancel. */
cqb_status cqb_sn_simulate(size_t pmax, const double *omega, size_t nomega, const cqb_sn_sim_opts *o,
                           double *out, cqb_error *err);

/*! cqb_sn_normal() : normal number m of stream (seed, subsequence): the
 *  ziggurat draw described in the header (exposed for tests). */
double cqb_sn_normal(uint64_t seed, uint64_t subsequence, uint64_t m);

/* ---- Reference distributions (table or simulation) -------------------- */

typedef enum cqb_sn_kind {
    CQB_SN_S = 0,    /* the omnibus S for p lags */
    CQB_SN_ABS_T = 1 /* |t| of the single-lag (partial) CQ test; p = 1 */
} cqb_sn_kind;

typedef enum cqb_sn_source { CQB_SN_TABLE = 0, CQB_SN_SIMULATED = 1 } cqb_sn_source;

typedef struct cqb_sn_dist {
    cqb_sn_kind kind;
    size_t p;
    double omega;
    cqb_sn_source source;
    const double *grid;   /* TABLE: quantiles at cqb_sn_table_levels() */
    double *draws;        /* SIMULATED: the draws, ascending (owned) */
    size_t ndraws;
    uint64_t seed;        /* of the table's or of this simulation */
    size_t paths, steps;
} cqb_sn_dist;

/*! cqb_sn_table_levels() : the CQB_SN_NLEVELS probability levels of the
 *  shipped table (ascending, 0.05 .. 0.9999). */
const double *cqb_sn_table_levels(void);

/*! cqb_sn_table_lookup() : the shipped quantile of kind at (p, omega, level)
 *  when the table has it (omega exactly 0, 0.03, 0.05 or 0.1; p <= 10, p = 1
 *  for |t|; level one of cqb_sn_table_levels()); NaN otherwise. */
double cqb_sn_table_lookup(cqb_sn_kind kind, size_t p, double omega, double level);

/*! cqb_sn_table_info() : paths, steps and seed of the shipped table. */
void cqb_sn_table_info(size_t *paths, size_t *steps, uint64_t *seed);

/*! cqb_sn_dist_init() : the reference distribution of kind for (p, omega):
 *  the shipped table when it has the entry and force_sim is 0, else a
 *  simulation with sim (NULL: defaults) of which only the needed p is kept.
 *  Free with cqb_sn_dist_free(). */
cqb_status cqb_sn_dist_init(cqb_sn_dist *d, cqb_sn_kind kind, size_t p, double omega, const cqb_sn_sim_opts *sim,
                            int force_sim, cqb_error *err);
void cqb_sn_dist_free(cqb_sn_dist *d);

/*! cqb_sn_dist_quantile() : the quantile at level: the R type-7 quantile of
 *  the draws, or from the table the grid value (linear interpolation
 *  between grid levels; NaN outside 0.05..0.9999). */
double cqb_sn_dist_quantile(const cqb_sn_dist *d, double level);

/*! cqb_sn_dist_pvalue() : P(limit >= x). Draws: the fraction of draws >= x
 *  (1/ndraws and *bound = 1 when none is). Table: 1 - F(x) with F linear
 *  between the grid points (and from (0, 0) to the first); beyond the last
 *  level 1 - 0.9999 = 1e-4 with *bound = 1. *bound (may be NULL) is 1 when
 *  the value is only an upper bound, else 0. NaN for NaN x. */
double cqb_sn_dist_pvalue(const cqb_sn_dist *d, double x, int *bound);

/* ---- The tests -------------------------------------------------------- */

typedef struct cqb_sn_opts {
    double omega;            /* trimming in [0,1); default 0.1 (the paper) */
    const cqb_sn_dist *dist; /* reference distribution to use (must match
                                kind, p and omega); NULL: cqb_sn_dist_init
                                with sim and force_sim, freed on return */
    cqb_sn_sim_opts sim;
    int force_sim;           /* ignore the shipped table */
} cqb_sn_opts;

/*! cqb_sn_opts_default() : omega 0.1, no dist, default simulation, table on. */
void cqb_sn_opts_default(cqb_sn_opts *o);

typedef struct cqb_sn_result {
    size_t T, p;          /* sample length; lags (1 for the t-test) */
    size_t lag;           /* t-test: its lag k; omnibus: 0 */
    int partial;          /* 1: partial CQ (t-test with controls) */
    double omega;
    size_t s_lo, n_s;     /* first prefix, number of prefixes T - s_lo + 1 */
    size_t n_skipped;     /* prefixes left out of V_hat (singular partial) */
    double rho[CQB_SN_PMAX];             /* rho_T(1..p), or rho_T(k) */
    double V[CQB_SN_PMAX * CQB_SN_PMAX]; /* V_hat, p x p row-major */
    double stat;          /* S_hat, or the signed t */
    double cv[3];         /* critical values of S or |t| at 90, 95, 99% */
    double pvalue;        /* P(S >= S_hat) or P(|t| >= |t_hat|) */
    int pvalue_bound;     /* 1: pvalue is an upper bound (see dist_pvalue) */
    cqb_sn_source source; /* where cv and pvalue come from */
    size_t ref_paths, ref_steps;
    uint64_t ref_seed;
} cqb_sn_result;

/*! cqb_sn_test() : the self-normalised omnibus test of rho(1..p) = 0 at the
 *  levels (ay, ax): S_hat, V_hat, critical values and p-value. Controls in
 *  `in` are ignored (plain CQ). Errors: CQB_EUSAGE for p outside
 *  1..CQB_SN_PMAX, omega outside [0,1), alpha outside (0,1), a dist that does
 *  not match, or T too small (fewer than p prefixes s < T: T - s_lo < p);
 *  CQB_EDATA for non-finite data or a singular V_hat (result filled, stat
 *  and pvalue NaN); CQB_ENOMEM. */
cqb_status cqb_sn_test(const cqb_cq_input *in, double ay, double ax, size_t p, const cqb_sn_opts *o,
                       cqb_sn_result *out, cqb_error *err);

/*! cqb_sn_ttest() : the self-normalised t-test at one lag k >= 1: partial CQ
 *  with the controls of `in` (HLOW §4), else the plain CQ; two-sided, with
 *  |t| critical values and P(|t| >= |t_hat|). Errors as cqb_sn_test(), plus
 *  CQB_EDATA when the full-sample Gram matrix is singular. */
cqb_status cqb_sn_ttest(const cqb_cq_input *in, double ay, double ax, size_t k, const cqb_sn_opts *o,
                        cqb_sn_result *out, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
