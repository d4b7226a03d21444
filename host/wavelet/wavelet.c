/* wavelet.c — MODWT, brick.wall and phase.shift as waveslim 1.8.4 computes
 * them (wavelets.md §1). Written from the specification; no waveslim code.
 */
#include "cqboot/wavelet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Filters                                                                     */
/* ------------------------------------------------------------------------- */
/* Scaling filters g exactly as waveslim 1.8.4 R/wave.filter.R stores them
 * (wavelets.md §1.1 gives the digits; 17 significant digits reproduce the
 * doubles exactly). Published sources of the coefficients:
 *   haar        Haar (1910); g = (1/sqrt 2, 1/sqrt 2).
 *   d4, d6, d8  Daubechies extremal-phase filters: I. Daubechies (1988),
 *               "Orthonormal bases of compactly supported wavelets", Comm.
 *               Pure Appl. Math. 41:909-996, and Ten Lectures on Wavelets
 *               (1992), ch. 6 (table of extremal-phase coefficients).
 *   la8, la16,  Daubechies least-asymmetric ("symmlet") filters: Ten Lectures
 *   la20        on Wavelets (1992), ch. 6 and §8.1; as tabulated in Percival &
 *               Walden (2000), Wavelet Methods for Time Series Analysis, §4.8.
 * The wavelet filter is the quadrature mirror h_l = (-1)^l g_{L-1-l} (waveslim
 * qmf(), low2high = TRUE), written out below as exact negations of g. */

static const double g_haar[2] = {0.7071067811865475, 0.7071067811865475};

static const double g_d4[4] = {0.4829629131445341, 0.8365163037378077, 0.2241438680420134,
                               -0.1294095225512603};

static const double g_d6[6] = {0.33267055295008269,  0.80689150931109277, 0.45987750211849149,
                               -0.13501102001025461, -0.0854412738820267, 0.035226291885709603};

static const double g_d8[8] = {0.23037781330744311,  0.71484657054840584,  0.63088076793587877,
                               -0.027983769416683402, -0.1870348117179132,  0.0308413818353661,
                               0.0328830116666778,    -0.010597401785002101};

static const double g_la8[8] = {-0.07576571478935668, -0.02963552764596039, 0.49761866763256290,
                                0.80373875180538600,  0.29785779560560505,  -0.09921954357695636,
                                -0.01260396726226383, 0.03222310060407815};

static const double g_la16[16] = {
    -0.0033824159513593998, -0.00054213233163549995, 0.031695087810345197,
    0.0076074873252848004,  -0.1432942383510542,     -0.061273359067908803,
    0.48135965125920122,    0.7771857516997478,      0.3644418948359564,
    -0.051945838107875099,  -0.0272190299168137,     0.049137179673476798,
    0.0038087520140601002,  -0.0149522583367926,     -0.00030292051455159998,
    0.0018899503329006999};

static const double g_la20[20] = {
    0.00077015980910299995, 9.5632670783699997e-05, -0.0086412992759401005,
    -0.0014653825833464999, 0.045927239223764897,   0.0116098939129724,
    -0.1594942788575307,    -0.070880535810861497,  0.47169066684265881,
    0.76951003701433884,    0.38382676122538228,    -0.035536740305468897,
    -0.031990056828163103,  0.049994972079156,      0.0057649120455517998,
    -0.020354939803945999,  -0.000804358934537,     0.0045931735836703003,
    5.7036084338999998e-05, -0.0004593294205481};

/* h_l = (-1)^l g_{L-1-l}: exact sign changes of the values above. */
static const double h_haar[2] = {0.7071067811865475, -0.7071067811865475};

static const double h_d4[4] = {-0.1294095225512603, -0.2241438680420134, 0.8365163037378077,
                               -0.4829629131445341};

static const double h_d6[6] = {0.035226291885709603, 0.0854412738820267,   -0.13501102001025461,
                               -0.45987750211849149, 0.80689150931109277,  -0.33267055295008269};

static const double h_d8[8] = {-0.010597401785002101, -0.0328830116666778, 0.0308413818353661,
                               0.1870348117179132,    -0.027983769416683402, -0.63088076793587877,
                               0.71484657054840584,   -0.23037781330744311};

static const double h_la8[8] = {0.03222310060407815,  0.01260396726226383, -0.09921954357695636,
                                -0.29785779560560505, 0.80373875180538600, -0.49761866763256290,
                                -0.02963552764596039, 0.07576571478935668};

static const double h_la16[16] = {
    0.0018899503329006999, 0.00030292051455159998, -0.0149522583367926,
    -0.0038087520140601002, 0.049137179673476798,  0.0272190299168137,
    -0.051945838107875099,  -0.3644418948359564,    0.7771857516997478,
    -0.48135965125920122,   -0.061273359067908803,  0.1432942383510542,
    0.0076074873252848004,  -0.031695087810345197,  -0.00054213233163549995,
    0.0033824159513593998};

static const double h_la20[20] = {
    -0.0004593294205481,    -5.7036084338999998e-05, 0.0045931735836703003,
    0.000804358934537,      -0.020354939803945999,   -0.0057649120455517998,
    0.049994972079156,      0.031990056828163103,    -0.035536740305468897,
    -0.38382676122538228,   0.76951003701433884,     -0.47169066684265881,
    -0.070880535810861497,  0.1594942788575307,      0.0116098939129724,
    -0.045927239223764897,  -0.0014653825833464999,  0.0086412992759401005,
    9.5632670783699997e-05, -0.00077015980910299995};

typedef struct filter_def {
    const char *name;
    size_t L;
    const double *g;
    const double *h;
} filter_def;

static const filter_def k_filters[CQB_WAVELET_COUNT] = {
    {"haar", 2, g_haar, h_haar}, {"d4", 4, g_d4, h_d4},       {"d6", 6, g_d6, h_d6},
    {"d8", 8, g_d8, h_d8},       {"la8", 8, g_la8, h_la8},    {"la16", 16, g_la16, h_la16},
    {"la20", 20, g_la20, h_la20}};

static const filter_def *filter_of(cqb_wavelet wf)
{
    if ((int)wf < 0 || (int)wf >= CQB_WAVELET_COUNT) return NULL;
    return &k_filters[wf];
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int name_equal(const char *a, const char *b)
{
    for (; *a && *b; ++a, ++b)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b)) return 0;
    return *a == '\0' && *b == '\0';
}

cqb_status cqb_wavelet_parse(const char *name, cqb_wavelet *wf, cqb_error *err)
{
    if (name)
        for (int i = 0; i < CQB_WAVELET_COUNT; ++i)
            if (name_equal(name, k_filters[i].name)) {
                if (wf) *wf = (cqb_wavelet)i;
                return CQB_OK;
            }
    return cqb_error_set(err, CQB_EUSAGE,
                         "unknown wavelet filter '%s' (expected haar, d4, d6, d8, la8, la16 "
                         "or la20)",
                         name ? name : "(null)");
}

const char *cqb_wavelet_name(cqb_wavelet wf)
{
    const filter_def *f = filter_of(wf);
    return f ? f->name : "?";
}

size_t cqb_wavelet_length(cqb_wavelet wf)
{
    const filter_def *f = filter_of(wf);
    return f ? f->L : 0;
}

const double *cqb_wavelet_scaling(cqb_wavelet wf)
{
    const filter_def *f = filter_of(wf);
    return f ? f->g : NULL;
}

const double *cqb_wavelet_wavelet(cqb_wavelet wf)
{
    const filter_def *f = filter_of(wf);
    return f ? f->h : NULL;
}

cqb_status cqb_boundary_parse(const char *name, cqb_boundary *b, cqb_error *err)
{
    if (name && name_equal(name, "periodic")) {
        if (b) *b = CQB_BOUNDARY_PERIODIC;
        return CQB_OK;
    }
    if (name && name_equal(name, "reflection")) {
        if (b) *b = CQB_BOUNDARY_REFLECTION;
        return CQB_OK;
    }
    return cqb_error_set(err, CQB_EUSAGE,
                         "unknown boundary rule '%s' (expected periodic or reflection)",
                         name ? name : "(null)");
}

const char *cqb_boundary_name(cqb_boundary b)
{
    switch (b) {
    case CQB_BOUNDARY_PERIODIC: return "periodic";
    case CQB_BOUNDARY_REFLECTION: return "reflection";
    }
    return "?";
}

/* ------------------------------------------------------------------------- */
/* Sizes, boundary counts, shifts                                             */
/* ------------------------------------------------------------------------- */

size_t cqb_modwt_length(size_t n, cqb_boundary b)
{
    return b == CQB_BOUNDARY_REFLECTION ? 2 * n : n;
}

int cqb_modwt_max_level(size_t n, cqb_boundary b)
{
    size_t len = cqb_modwt_length(n, b);
    int J = 0;
    while (J < 62 && ((size_t)1 << (J + 1)) <= len) ++J;
    return J;
}

size_t cqb_modwt_boundary_count(cqb_wavelet wf, int j, size_t len)
{
    const filter_def *f = filter_of(wf);
    if (!f || j < 1) return 0;
    if (j >= 62) return len;
    /* (2^j - 1)(L - 1), saturating at len */
    size_t a = ((size_t)1 << j) - 1;
    size_t lm1 = f->L - 1;
    if (a > len / lm1) return len;
    size_t nj = a * lm1;
    return nj < len ? nj : len;
}

/* Centre of energy c(f) = sum l f_l^2 / sum f_l^2. */
static double centre_of_energy(const double *f, size_t L)
{
    double num = 0.0, den = 0.0;
    for (size_t l = 0; l < L; ++l) {
        double e = f[l] * f[l];
        num += (double)l * e;
        den += e;
    }
    return num / den;
}

size_t cqb_modwt_shift(cqb_wavelet wf, int J, int level, size_t len)
{
    const filter_def *f = filter_of(wf);
    if (!f || J < 1 || J > 60 || level < 1 || level > J + 1 || len == 0) return 0;
    double cg = centre_of_energy(f->g, f->L);
    double nu;
    if (level <= J) {
        double ch = centre_of_energy(f->h, f->L);
        nu = nearbyint(ldexp(1.0, level - 1) * (cg + ch) - cg);
    } else {
        nu = nearbyint((ldexp(1.0, J) - 1.0) * cg);
    }
    if (!(nu > 0.0)) return 0; /* nu = 0: no shift (DEFINED; waveslim fails) */
    return (size_t)fmod(nu, (double)len);
}

/* ------------------------------------------------------------------------- */
/* Transform                                                                  */
/* ------------------------------------------------------------------------- */

cqb_status cqb_modwt(const double *x, size_t n, cqb_wavelet wf, int J, cqb_boundary b,
                     double *out, double *work, cqb_error *err)
{
    const filter_def *f = filter_of(wf);
    if (!x || !out) return cqb_error_set(err, CQB_EUSAGE, "modwt: NULL series or output");
    if (!f) return cqb_error_set(err, CQB_EUSAGE, "modwt: invalid wavelet filter %d", (int)wf);
    if (b != CQB_BOUNDARY_PERIODIC && b != CQB_BOUNDARY_REFLECTION)
        return cqb_error_set(err, CQB_EUSAGE, "modwt: invalid boundary rule %d", (int)b);
    if (n == 0) return cqb_error_set(err, CQB_EUSAGE, "modwt: empty series");
    size_t len = cqb_modwt_length(n, b);
    int jmax = cqb_modwt_max_level(n, b);
    if (J < 1 || J > jmax)
        return cqb_error_set(err, CQB_EUSAGE,
                             "modwt: J = %d levels invalid for a series of length %zu with "
                             "%s boundary (need 1 <= J <= %d, i.e. 2^J <= %zu)",
                             J, n, cqb_boundary_name(b), jmax, len);
    for (size_t t = 0; t < n; ++t)
        if (!isfinite(x[t]))
            return cqb_error_set(err, CQB_EDATA,
                                 "modwt: non-finite value at position %zu of the series", t + 1);

    double *own = NULL;
    if (!work) {
        own = malloc(len * sizeof *own);
        if (!own) return cqb_error_set(err, CQB_ENOMEM, "modwt: out of memory (%zu doubles)", len);
        work = own;
    }

    const size_t L = f->L;
    double ht[20], gt[20];
    const double r2 = sqrt(2.0);
    for (size_t l = 0; l < L; ++l) {
        ht[l] = f->h[l] / r2;
        gt[l] = f->g[l] / r2;
    }

    const double *prev;
    if (b == CQB_BOUNDARY_REFLECTION) {
        memcpy(work, x, n * sizeof *work);
        for (size_t t = 0; t < n; ++t) work[n + t] = x[n - 1 - t];
        prev = work;
    } else {
        prev = x;
    }
    double *vout = out + (size_t)J * len;
    for (int j = 1; j <= J; ++j) {
        double *wout = out + (size_t)(j - 1) * len;
        size_t step = ((size_t)1 << (j - 1)) % len;
        for (size_t t = 0; t < len; ++t) {
            size_t k = t;
            double w = ht[0] * prev[k];
            double v = gt[0] * prev[k];
            for (size_t l = 1; l < L; ++l) {
                k = (k >= step) ? k - step : k + len - step;
                w += ht[l] * prev[k];
                v += gt[l] * prev[k];
            }
            wout[t] = w;
            vout[t] = v;
        }
        if (j < J) {
            memcpy(work, vout, len * sizeof *work);
            prev = work;
        }
    }
    free(own);
    return CQB_OK;
}

void cqb_modwt_brick_wall(double *coef, size_t len, cqb_wavelet wf, int J)
{
    if (!coef || !filter_of(wf) || J < 1) return;
    for (int j = 1; j <= J + 1; ++j) {
        size_t nj = cqb_modwt_boundary_count(wf, j <= J ? j : J, len);
        double *v = coef + (size_t)(j - 1) * len;
        for (size_t t = 0; t < nj; ++t) v[t] = NAN;
    }
}

static void reverse(double *a, size_t lo, size_t hi) /* [lo, hi) */
{
    while (hi > lo + 1) {
        --hi;
        double tmp = a[lo];
        a[lo] = a[hi];
        a[hi] = tmp;
        ++lo;
    }
}

void cqb_modwt_phase_shift(double *coef, size_t len, cqb_wavelet wf, int J)
{
    if (!coef || !filter_of(wf) || J < 1 || len == 0) return;
    for (int lev = 1; lev <= J + 1; ++lev) {
        size_t nu = cqb_modwt_shift(wf, J, lev, len);
        if (nu == 0) continue;
        double *v = coef + (size_t)(lev - 1) * len;
        /* left rotation by nu: y[t] = x[(t + nu) mod len] */
        reverse(v, 0, nu);
        reverse(v, nu, len);
        reverse(v, 0, len);
    }
}

cqb_status cqb_modwt_band(int level, int J, double dt, double *lo, double *hi, cqb_error *err)
{
    if (J < 1 || J > 60 || level < 1 || level > J + 1 || !(dt > 0.0) || !isfinite(dt))
        return cqb_error_set(err, CQB_EUSAGE,
                             "wavelet band: invalid level %d for J = %d or time step %g", level,
                             J, dt);
    if (level <= J) {
        if (lo) *lo = ldexp(dt, level);
        if (hi) *hi = ldexp(dt, level + 1);
    } else {
        if (lo) *lo = ldexp(dt, J + 1);
        if (hi) *hi = INFINITY;
    }
    return CQB_OK;
}

cqb_status cqb_modwt_band_label(int level, int J, double dt, char *buf, size_t cap,
                                cqb_error *err)
{
    double lo = 0.0, hi = 0.0;
    cqb_status st = cqb_modwt_band(level, J, dt, &lo, &hi, err);
    if (st != CQB_OK) return st;
    if (!buf || cap == 0) return cqb_error_set(err, CQB_EUSAGE, "wavelet band: no buffer");
    int len = level <= J ? snprintf(buf, cap, "%g-%g", lo, hi) : snprintf(buf, cap, "smooth");
    if (len < 0 || (size_t)len >= cap)
        return cqb_error_set(err, CQB_EUSAGE, "wavelet band: label does not fit in %zu bytes",
                             cap);
    return CQB_OK;
}
