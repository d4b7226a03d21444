/* cqboot/dgp.h — data-generating processes for Monte Carlo studies of the
 * cross-quantilogram tests (docs/simulation.md), with reproducible Philox
 * streams.
 *
 * DGPs (y = the predicted series, x = the lagged predictor):
 *   null  two independent AR(1)-GARCH(1,1) series with the same parameters:
 *           s2_t = omega + ga e_{t-1}^2 + gb s2_{t-1},  e_t = sqrt(s2_t) z_t,
 *           v_t  = phi v_{t-1} + e_t                      (v = y or x)
 *         z_t iid N(0,1) or Student-t(df) scaled to unit variance.
 *   tail  the null DGP, then lower-tail dependence of y_t on x_{t-L}: when
 *         x_{t-L} <= q_x (q_x = the type-7 sample quantile of the T retained
 *         x values at level tail_alpha, the CQ's own hit), with probability
 *         pi = strength y's innovation z_t is replaced by F^{-1}(tail_alpha u),
 *         u uniform on (0,1), F the innovation CDF: a draw from the lower
 *         tail_alpha tail of the innovation distribution. strength 0 gives
 *         exactly the null DGP's series.
 *   var   a common-factor VAR(1):
 *           y_t = a_yy y_{t-1} + a_yx x_{t-1} + l_y f_t + u_t
 *           x_t =                a_xx x_{t-1} + l_x f_t + w_t
 *         f, u, w iid innovations (as above); a_yx = strength. With a_yx = 0
 *         and a_yy = 0 the pair is contemporaneously dependent (through f)
 *         but y_t is independent of x_{t-k} for every k >= 1 (the null).
 *
 * Streams: the words of stream `sid` of replication r are those of Philox
 * subsequence r + 2^32 * cqb_sb_tag(CQB_FAMILY_SIM, sid, 0) under the key
 * `seed`, read from block 0 on: distinct from every bootstrap stream
 * (families 0-2). Uniforms are (w + 0.5) 2^-32 (one word) or
 * (w53 + 0.5) 2^-53 (two words): exact doubles in (0,1). Normals come in
 * Box-Muller pairs from two uniforms. Series are reproducible from (seed, r)
 * with this code on x86-64 with glibc (log, cos, sin, erfc are not bit-
 * identical across C libraries).
 */
#ifndef CQBOOT_DGP_H
#define CQBOOT_DGP_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Philox family of the simulation streams (the bootstrap uses 0-2). */
#define CQB_FAMILY_SIM 3u

enum {
    CQB_SIM_STREAM_X = 0,       /* x's innovations (var: w) */
    CQB_SIM_STREAM_Y = 1,       /* y's innovations (var: u) */
    CQB_SIM_STREAM_TAIL = 2,    /* tail: block t = injection draw at time t */
    CQB_SIM_STREAM_FACTOR = 3,  /* var: the common factor f */
    CQB_SIM_STREAM_BOOTSEED = 4 /* the bootstrap seed of a replication */
};

typedef enum cqb_dgp_kind { CQB_DGP_NULL = 0, CQB_DGP_TAIL = 1, CQB_DGP_VAR = 2 } cqb_dgp_kind;

typedef struct cqb_dgp {
    cqb_dgp_kind kind;
    double phi;          /* AR(1) coefficient (null, tail), |phi| < 1 */
    double omega;        /* GARCH intercept, > 0 */
    double garch_alpha;  /* ARCH coefficient, >= 0 */
    double garch_beta;   /* GARCH coefficient, >= 0, alpha + beta < 1 */
    double df;           /* innovations: 0 = Gaussian, > 2 = Student-t(df),
                            scaled to unit variance */
    size_t burn;         /* start-up observations discarded */
    double strength;     /* tail: pi in [0,1]; var: a_yx */
    size_t tail_lag;     /* tail: L >= 1 */
    double tail_alpha;   /* tail: tail probability in (0, 0.5] */
    double var_ayy, var_axx; /* var: own-lag coefficients, |a| < 1 */
    double var_ly, var_lx;   /* var: factor loadings */
} cqb_dgp;

/*! cqb_dgp_default() : phi 0.3, omega 0.05, GARCH (0.1, 0.85), Gaussian,
 *  burn-in 500; tail: pi 0.5, L 1, tail_alpha 0.05; var: a_yy 0, a_xx 0.5,
 *  loadings (1, 1), a_yx 0. */
void cqb_dgp_default(cqb_dgp *d, cqb_dgp_kind kind);

/*! cqb_dgp_parse() : "null", "tail" or "var"; 0 on success, -1 else. */
int cqb_dgp_parse(const char *s, cqb_dgp_kind *out);
const char *cqb_dgp_name(cqb_dgp_kind k);

/* Validated parameters and constants derived once (no lgamma in threads). */
typedef struct cqb_dgp_ctx {
    cqb_dgp d;
    double t_scale;     /* sqrt(df / (df - 2)) */
    double t_lbeta;     /* log B(df/2, 1/2) */
    double t_ldens;     /* log of the t density's constant */
    double mt_d, mt_c;  /* Marsaglia-Tsang constants for Gamma(df/2) */
    uint64_t inject_thr;/* Bernoulli threshold of pi */
} cqb_dgp_ctx;

/*! cqb_dgp_prepare() : checks the parameters (CQB_EUSAGE naming the CLI
 *  option at fault) and fills ctx. */
cqb_status cqb_dgp_prepare(const cqb_dgp *d, cqb_dgp_ctx *ctx, cqb_error *err);

/*! cqb_dgp_work_size() : doubles of workspace cqb_dgp_generate needs. */
size_t cqb_dgp_work_size(const cqb_dgp_ctx *c, size_t T);

/*! cqb_dgp_generate() : the T retained observations of replication rep
 *  (< 2^32) into y and x. work: cqb_dgp_work_size() doubles. A pure
 *  function of (parameters, seed, rep, T). */
void cqb_dgp_generate(const cqb_dgp_ctx *c, uint64_t seed, uint64_t rep, size_t T, double *y, double *x,
                      double *work);

/* ---- Random variates from a sequential Philox stream --------------------- */

typedef struct cqb_stream {
    uint64_t seed, subseq, block;
    uint32_t w[4];
    int pos;          /* next word in w; 4 = refill */
    int have_spare;   /* Box-Muller's second normal is pending */
    double spare;
} cqb_stream;

/*! cqb_stream_init() : stream sid of replication rep under key seed. */
void cqb_stream_init(cqb_stream *s, uint64_t seed, uint64_t rep, uint32_t sid);
uint32_t cqb_stream_u32(cqb_stream *s);
/*! cqb_stream_unif() : (w + 0.5) 2^-32, in (0,1). */
double cqb_stream_unif(cqb_stream *s);
/*! cqb_stream_normal() : standard normal (Box-Muller pairs; |z| < 6.8). */
double cqb_stream_normal(cqb_stream *s);
/*! cqb_stream_innov() : a unit-variance innovation: normal, or for df > 2
 *  Z sqrt((df - 2) / V), V ~ chi2(df) = 2 Gamma(df/2) (Marsaglia-Tsang). */
double cqb_stream_innov(cqb_stream *s, const cqb_dgp_ctx *c);

/*! cqb_sim_boot_seed() : the bootstrap seed of replication rep: words 0, 1
 *  of Philox block 0 of stream CQB_SIM_STREAM_BOOTSEED, as lo | hi << 32. */
uint64_t cqb_sim_boot_seed(uint64_t seed, uint64_t rep);

/* ---- Innovation distribution --------------------------------------------- */

/*! cqb_innov_cdf() : the unit-variance innovation's CDF (normal or scaled t). */
double cqb_innov_cdf(const cqb_dgp_ctx *c, double z);
/*! cqb_innov_quantile() : its inverse for p in (0,1) (safeguarded Newton on
 *  log F; relative accuracy ~1e-14). */
double cqb_innov_quantile(const cqb_dgp_ctx *c, double p);

#ifdef __cplusplus
}
#endif
#endif
