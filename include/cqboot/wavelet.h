/* cqboot/wavelet.h — maximal overlap discrete wavelet transform (MODWT)
 * exactly as R waveslim 1.8.4 computes it: filters with waveslim's digits,
 * the pyramid algorithm with circular filtering, the "reflection" boundary
 * (2N coefficients, not trimmed), brick.wall boundary masking and
 * phase.shift time alignment (see ../shared/spec/wavelets.md §1).
 *
 * Conventions
 *   - A transform of J levels returns J+1 vectors of the same length `len`:
 *     d1..dJ (wavelet coefficients W_1..W_J) and sJ (scaling coefficients
 *     V_J), stored level-major: out[i*len + t], i = 0..J-1 for d1..dJ and
 *     i = J for sJ. "Level" numbers in this header are 1-based as in the
 *     literature: level j = 1..J is d_j and level J+1 is the smooth sJ.
 *   - Missing (boundary) coefficients are NaN (R's NA).
 *   - len = n for the periodic boundary and 2n for reflection
 *     (cqb_modwt_length()).
 *   - Everything is FP64, reentrant and thread-safe; nothing prints.
 */
#ifndef CQBOOT_WAVELET_H
#define CQBOOT_WAVELET_H

#include <stddef.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Wavelet filters (waveslim wave.filter() names). */
typedef enum cqb_wavelet {
    CQB_WAVELET_HAAR = 0, /* "haar", L = 2 */
    CQB_WAVELET_D4,       /* "d4",   L = 4  Daubechies extremal phase */
    CQB_WAVELET_D6,       /* "d6",   L = 6 */
    CQB_WAVELET_D8,       /* "d8",   L = 8 */
    CQB_WAVELET_LA8,      /* "la8",  L = 8  least asymmetric (waveslim default) */
    CQB_WAVELET_LA16,     /* "la16", L = 16 */
    CQB_WAVELET_LA20      /* "la20", L = 20 */
} cqb_wavelet;

#define CQB_WAVELET_COUNT 7

/* Boundary rule of the transform. */
typedef enum cqb_boundary {
    CQB_BOUNDARY_PERIODIC = 0,  /* circular filtering of x (len = n) */
    CQB_BOUNDARY_REFLECTION = 1 /* circular filtering of (x, rev(x)) (len = 2n) */
} cqb_boundary;

/*! cqb_wavelet_parse() : maps a waveslim filter name ("haar", "d4", "d6",
 *  "d8", "la8", "la16", "la20"; ASCII case-insensitive, whole name) to *wf.
 *  Returns CQB_OK, or CQB_EUSAGE ("unknown wavelet filter 'x' (expected
 *  ...)") when the name is NULL or unknown; *wf is unchanged on error. */
cqb_status cqb_wavelet_parse(const char *name, cqb_wavelet *wf, cqb_error *err);

/*! cqb_wavelet_name() : the waveslim name of wf ("la8", ...), or "?" when wf
 *  is out of range. */
const char *cqb_wavelet_name(cqb_wavelet wf);

/*! cqb_wavelet_length() : the filter length L (0 when wf is out of range). */
size_t cqb_wavelet_length(cqb_wavelet wf);

/*! cqb_wavelet_scaling() : the L scaling (low-pass) coefficients g_0..g_{L-1}
 *  exactly as waveslim 1.8.4 wave.filter()$lpf holds them (static storage;
 *  NULL when wf is out of range). Sum g = sqrt(2), sum g^2 = 1. */
const double *cqb_wavelet_scaling(cqb_wavelet wf);

/*! cqb_wavelet_wavelet() : the L wavelet (high-pass) coefficients, the
 *  quadrature mirror h_l = (-1)^l g_{L-1-l} (waveslim qmf(), exact negations
 *  of g's values; static storage; NULL when wf is out of range). */
const double *cqb_wavelet_wavelet(cqb_wavelet wf);

/*! cqb_boundary_parse() : "periodic" or "reflection" (case-insensitive) to
 *  *b; CQB_EUSAGE for anything else. */
cqb_status cqb_boundary_parse(const char *name, cqb_boundary *b, cqb_error *err);

/*! cqb_boundary_name() : "periodic" or "reflection" ("?" if out of range). */
const char *cqb_boundary_name(cqb_boundary b);

/*! cqb_modwt_length() : the coefficient-vector length for a series of length
 *  n: n (periodic) or 2n (reflection, as waveslim: not trimmed). */
size_t cqb_modwt_length(size_t n, cqb_boundary b);

/*! cqb_modwt_max_level() : the largest J that cqb_modwt() accepts for a
 *  series of length n: floor(log2(cqb_modwt_length(n, b))) (waveslim's only
 *  check is 2^J <= length); 0 when n == 0. Note that with long filters the
 *  deepest levels may be entirely boundary coefficients (see
 *  cqb_modwt_boundary_count()). */
int cqb_modwt_max_level(size_t n, cqb_boundary b);

/*! cqb_modwt_boundary_count() : waveslim brick.wall(method = "modwt")'s
 *  number of boundary coefficients at level j >= 1 for vectors of length
 *  len: n_j = min((2^j - 1)(L - 1), len). The smooth sJ uses n_J. */
size_t cqb_modwt_boundary_count(cqb_wavelet wf, int j, size_t len);

/*! cqb_modwt_shift() : waveslim phase.shift's left circular shift for level
 *  `level` of a J-level transform, reduced modulo len (len >= 1):
 *    level j = 1..J : nu_j  = rhe(2^(j-1) (c(g) + c(h)) - c(g))
 *    level J+1 (sJ) : nu^V_J = rhe((2^J - 1) c(g))
 *  with c(f) = sum l f_l^2 / sum f_l^2 the centre of energy and rhe()
 *  round-half-to-even (R's round()). nu = 0 (haar, j = 1) means no shift
 *  (waveslim mis-handles it: DEFINED here). Returns 0 for invalid input. */
size_t cqb_modwt_shift(cqb_wavelet wf, int J, int level, size_t len);

/*! cqb_modwt() : the MODWT of x[0..n-1] with J >= 1 levels, waveslim
 *  modwt(x, wf, J, boundary). Writes (J+1)*len doubles to out (layout in the
 *  header comment; len = cqb_modwt_length(n, b)):
 *    W_j[t] = sum_l ht_l V_{j-1}[(t - 2^(j-1) l) mod len],
 *    V_j[t] = sum_l gt_l V_{j-1}[(t - 2^(j-1) l) mod len],
 *  with ht = h / sqrt(2), gt = g / sqrt(2) and V_0 = x (or (x, rev(x)) for
 *  reflection), sums in order l = 0..L-1. Any n is allowed (no dyadic
 *  restriction). `work` is scratch of len doubles, or NULL to allocate it
 *  internally. Returns CQB_OK; CQB_EUSAGE when x or out is NULL, n == 0, wf
 *  or b is out of range, or J < 1 or 2^J > len ("J = .. too large ..");
 *  CQB_EDATA when x holds a non-finite value (NaN would spread through the
 *  circular convolution); CQB_ENOMEM when work is NULL and cannot be
 *  allocated. */
cqb_status cqb_modwt(const double *x, size_t n, cqb_wavelet wf, int J, cqb_boundary b,
                     double *out, double *work, cqb_error *err);

/*! cqb_modwt_brick_wall() : waveslim brick.wall(x, wf) (method "modwt") on
 *  a J-level transform stored as in cqb_modwt() with vectors of length len:
 *  sets d_j[0 .. n_j-1] and sJ[0 .. n_J-1] to NaN in place
 *  (n_j = cqb_modwt_boundary_count(wf, j, len)). */
void cqb_modwt_brick_wall(double *coef, size_t len, cqb_wavelet wf, int J);

/*! cqb_modwt_phase_shift() : waveslim phase.shift(x, wf) in place on a
 *  J-level transform (J+1 vectors of length len): each vector is rotated
 *  left by cqb_modwt_shift(wf, J, level, len), i.e. y[t] = x[(t + nu) mod
 *  len]; NaN (brick-walled) entries move with the data. */
void cqb_modwt_phase_shift(double *coef, size_t len, cqb_wavelet wf, int J);

/*! cqb_modwt_band() : the period band of level `level` (1..J wavelet, J+1
 *  smooth) of a J-level transform in time units of a series sampled every dt:
 *  d_j covers periods (2^j dt, 2^(j+1) dt]; the smooth covers periods above
 *  2^(J+1) dt (*hi = +infinity). Returns CQB_EUSAGE for a level outside
 *  1..J+1, J < 1 or dt <= 0 (outputs unchanged). */
cqb_status cqb_modwt_band(int level, int J, double dt, double *lo, double *hi,
                          cqb_error *err);

/*! cqb_modwt_band_label() : the heat-map row label of wavemulcor: "2-4",
 *  "4-8", ..., "2^J-2^(J+1)" (as numbers times dt, printed with %g) and
 *  "smooth" for level J+1. Writes at most cap bytes (always NUL-terminated
 *  when cap > 0). Returns CQB_EUSAGE for an invalid level, J or dt, or when
 *  the label does not fit. */
cqb_status cqb_modwt_band_label(int level, int J, double dt, char *buf, size_t cap,
                                cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
