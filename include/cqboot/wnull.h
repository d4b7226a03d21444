/* cqboot/wnull.h — significance of wavelet multiple correlations by
 * resampling (ENGINE ADDITION; wavelets.md §6.4): wavemulcor reports only
 * Fisher-z intervals, which assume i.i.d. normal pairs.
 *
 * Null schemes (each destroys the cross-dependence the statistic measures
 * and keeps what the comment says):
 *   CQB_WNULL_BOOTSTRAP  an independent stationary bootstrap of each raw
 *                        series (Politis-Romano; restart probability gamma,
 *                        automatic as np::b.star averaged over the series);
 *                        keeps short-range dependence; MODWT redone
 *   CQB_WNULL_PHASE      independent phase randomisation of each series
 *                        (FFT, same amplitudes, uniform random phases, the
 *                        mean and, for even n, the Nyquist term kept);
 *                        keeps each spectrum; MODWT redone
 *   CQB_WNULL_ROTATION   independent circular rotation of each series'
 *                        coefficients at each level (Breakspear et al.
 *                        2003), within the level's valid (non-NA) span so
 *                        the NA positions stay fixed; keeps the per-level
 *                        spectrum; no MODWT redo
 *   CQB_WNULL_JOINT      one stationary bootstrap of the rows of all series
 *                        together (keeps the cross-dependence): percentile
 *                        intervals for the GLOBAL statistics (WMC, WMCC) only
 *
 * Outputs per statistic cell (a level, a (level, lag), a (level, time) or a
 * (level, time, lag), in the layout of cqboot/wmc.h):
 *   p     pointwise p-value (1 + #{b : phi_b >= phi}) / (1 + B_valid), with
 *         |phi| for d = 2 (signed correlation: two-sided);
 *   p_fw  family-wise over time (local statistics: per level, or per
 *         (level, lag)) or over lags (WMCC: per level) by the max statistic:
 *         (1 + #{b : max phi_b >= phi}) / (1 + B_valid);
 *   cv_fw the level-quantile (type 7) of the max statistic of its family;
 *   lo/hi joint bootstrap only: type-7 percentile interval of phi_b.
 * Replicate b's draws come from Philox streams keyed by (seed, b, series,
 * scheme) (family CQB_FAMILY_WAVELET of cqboot/philox.h), so results are
 * reproducible and independent of the thread count.
 *
 * Backends. The per-replicate work (resample -> coefficients -> statistic
 * values) runs on the CPU (OpenMP, parallel over replicates) or, when
 * spec.backend has a wavelet_eval entry (the CUDA backend:
 * device/wavelet_kern.h), on that backend in chunks of replicates; the
 * reductions (counts, family-wise maxima, percentiles) are the same host
 * code either way. The CUDA kernels reproduce the CPU's operations in the
 * same order, so their values are the CPU's (bit for bit except the phase
 * scheme, whose random phases use the device's cos/sin: agreement to
 * rounding). Plans the backend does not cover (WMCC, WLMCC, the uniform
 * fast path) run on the CPU, and the result's note says so.
 */
#ifndef CQBOOT_WNULL_H
#define CQBOOT_WNULL_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/wavelet.h"
#include "cqboot/wmc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cqb_backend; /* cqboot/backend.h */
struct cqb_fft;     /* cqboot/fft.h */

/* Philox stream tags of the schemes: cqb_sb_tag(CQB_FAMILY_WAVELET, series,
 * CQB_WTAG_*) (the series in the lag field, the scheme in the cell field);
 * shared by host/wavelet/wnull.c and device/wavelet_kern.h. */
enum { CQB_WTAG_BOOT = 0, CQB_WTAG_JOINT = 1, CQB_WTAG_PHASE = 2, CQB_WTAG_ROTATE = 3 };

typedef enum cqb_wnull {
    CQB_WNULL_BOOTSTRAP = 0,
    CQB_WNULL_PHASE = 1,
    CQB_WNULL_ROTATION = 2,
    CQB_WNULL_JOINT = 3
} cqb_wnull;

typedef enum cqb_wstat {
    CQB_WSTAT_WMC = 0,
    CQB_WSTAT_WMCC = 1,
    CQB_WSTAT_WLMC = 2,
    CQB_WSTAT_WLMCC = 3
} cqb_wstat;

/*! cqb_wnull_parse() : "bootstrap", "phase", "rotation" or "joint"; 0 or -1. */
int cqb_wnull_parse(const char *s, cqb_wnull *out);
const char *cqb_wnull_name(cqb_wnull n);

typedef struct cqb_wtest_spec {
    const double *x;   /* d raw series: series k at x[k * ldx], n values */
    size_t ldx, n, d;
    cqb_wavelet wf;
    int J;
    cqb_boundary boundary;
    cqb_wmc_opts opts; /* mode, p, ymaxr, lag_max, window, M, ... */
    cqb_wstat stat;
    cqb_wnull null;
    size_t B;          /* replicates, >= 1 */
    uint64_t seed;
    double gamma;      /* bootstrap schemes: (0,1], or <= 0 for automatic */
    double level;      /* for cv_fw and the joint intervals, e.g. 0.95 */
    int threads;       /* 0 = OpenMP default */
    const struct cqb_backend *backend; /* where the replicates run: NULL (or a
                          backend without wavelet_eval) = the CPU */
    volatile int *cancel; /* set nonzero to stop (CQB_EUSAGE "interrupted");
                          polled between replicates; may be NULL */
    void (*progress)(double fraction, void *user); /* may be NULL; called
                          from one thread */
    void *progress_user;
} cqb_wtest_spec;

typedef struct cqb_wtest_result {
    size_t ncell;      /* statistic cells, as the statistic's output arrays */
    size_t nfam;       /* families (levels, or levels x lags) */
    double *phi;       /* the observed statistic (ncell) */
    int *dep;          /* its dependent variable, 1-based, 0 = NA (per
                          level, or per (level, time) for local stats) */
    double *p, *p_fw;  /* ncell each (NaN where phi is NaN or not defined) */
    double *cv_fw;     /* nfam */
    double *lo, *hi;   /* joint only (ncell), else NULL */
    size_t *valid;     /* ncell: replicates with a finite phi_b */
    double gamma;      /* restart probability used (bootstrap schemes) */
    size_t len;        /* coefficient length (time points of local stats) */
    int lags;          /* lm of the cross statistics (0 otherwise) */
    char backend[16];  /* where the replicates ran: "cpu" or the backend's name */
    char note[192];    /* why a requested device backend did not run them
                          (empty otherwise) */
} cqb_wtest_result;

/*! cqb_wtest() : the observed statistic and its resampling significance.
 *  Errors: CQB_EUSAGE for invalid options (joint with a local statistic, B
 *  < 1, level outside (0,1)), the statistic's own errors (CQB_EDATA for
 *  data it cannot use), CQB_ENOMEM. */
cqb_status cqb_wtest(const cqb_wtest_spec *s, cqb_wtest_result *r, cqb_error *err);
void cqb_wtest_result_free(cqb_wtest_result *r);

/* ---- Replicate plans (for backends, tests and benchmarks) ---------------
 * What every replicate of a cqb_wtest() needs besides its number: filled by
 * cqb_wplan_init() from a spec (which must outlive the plan). Replicate b's
 * values are ncell doubles in the layout of the statistic's val array
 * (cqboot/wmc.h), all NaN when the statistic rejects the resample (e.g. a
 * constant resampled series). */
typedef struct cqb_wplan {
    const cqb_wtest_spec *spec;
    size_t len;             /* coefficient length */
    size_t ncell, nfam, ndep;
    int lm;                 /* lags of the cross statistics (0 otherwise) */
    int align;              /* phase-aligned coefficients (local statistics) */
    double gamma;           /* restart probability used (bootstrap schemes) */
    uint64_t thr;           /* its Bernoulli threshold (cqb_bernoulli_threshold) */
    double *coef0;          /* observed coefficients, (J+1) x d x len (cqb_wlevels) */
    size_t *span;           /* rotation: valid span [a, e) of each (level, series),
                               2 (J+1) d entries; NULL for the other schemes */
    struct cqb_fft *fft;    /* phase: the FFT plan of length n; else NULL */
} cqb_wplan;

/*! cqb_wplan_init() : the plan of spec s: coefficients of the observed
 *  series, the observed statistic into phi (ncell) and dep (ndep) when not
 *  NULL, the restart probability (automatic when s->gamma <= 0), the spans
 *  and FFT plan of the schemes that need them. The caller validates s as
 *  cqb_wtest() does. Errors: the statistic's, CQB_EDATA (automatic gamma),
 *  CQB_ENOMEM. */
cqb_status cqb_wplan_init(const cqb_wtest_spec *s, cqb_wplan *p, double *phi, int *dep, cqb_error *err);
void cqb_wplan_free(cqb_wplan *p);

/*! cqb_wplan_eval_cpu() : the values of replicates rep0 .. rep0+nrep-1 into
 *  out (nrep x ncell), on the CPU with `threads` OpenMP threads (0 =
 *  default): exactly what cqb_wtest()'s CPU path computes. */
cqb_status cqb_wplan_eval_cpu(const cqb_wplan *p, uint32_t rep0, size_t nrep, double *out, int threads,
                              cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
