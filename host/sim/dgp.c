/* dgp.c — data-generating processes and random variates for `cqboot
 * simulate` (cqboot/dgp.h, docs/simulation.md). */
#include "cqboot/dgp.h"

#include <math.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/quantile.h"

#define TWO_PI 6.283185307179586476925286766559
#define LOG_PI 1.1447298858494001741434273513531
#define LN2 0.69314718055994530941723212145818
#define SQRT1_2 0.70710678118654752440084436210485
#define INV_SQRT_2PI 0.39894228040143267793994605993438

void cqb_dgp_default(cqb_dgp *d, cqb_dgp_kind kind)
{
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->phi = 0.3;
    d->omega = 0.05;
    d->garch_alpha = 0.1;
    d->garch_beta = 0.85;
    d->df = 0.0;
    d->burn = 500;
    d->strength = kind == CQB_DGP_TAIL ? 0.5 : 0.0;
    d->tail_lag = 1;
    d->tail_alpha = 0.05;
    d->var_ayy = 0.0;
    d->var_axx = 0.5;
    d->var_ly = 1.0;
    d->var_lx = 1.0;
}

int cqb_dgp_parse(const char *s, cqb_dgp_kind *out)
{
    if (!strcmp(s, "null")) *out = CQB_DGP_NULL;
    else if (!strcmp(s, "tail")) *out = CQB_DGP_TAIL;
    else if (!strcmp(s, "var")) *out = CQB_DGP_VAR;
    else return -1;
    return 0;
}

const char *cqb_dgp_name(cqb_dgp_kind k)
{
    switch (k) {
    case CQB_DGP_NULL: return "null";
    case CQB_DGP_TAIL: return "tail";
    case CQB_DGP_VAR: return "var";
    }
    return "?";
}

static int finite_in(double v, double lo, double hi) { return isfinite(v) && v > lo && v < hi; }

cqb_status cqb_dgp_prepare(const cqb_dgp *d, cqb_dgp_ctx *c, cqb_error *err)
{
    memset(c, 0, sizeof *c);
    if (d->kind != CQB_DGP_NULL && d->kind != CQB_DGP_TAIL && d->kind != CQB_DGP_VAR)
        return cqb_error_set(err, CQB_EUSAGE, "--dgp: unknown process");
    if (!(d->df == 0.0 || (isfinite(d->df) && d->df > 2.0)))
        return cqb_error_set(err, CQB_EUSAGE, "--df: %g is not 0 (Gaussian) or a number above 2", d->df);
    if (d->burn > ((size_t)1 << 30)) return cqb_error_set(err, CQB_EUSAGE, "--burn: %zu is too large", d->burn);
    if (d->kind == CQB_DGP_NULL || d->kind == CQB_DGP_TAIL) {
        if (!finite_in(d->phi, -1.0, 1.0)) return cqb_error_set(err, CQB_EUSAGE, "--phi: %g is not in (-1,1)", d->phi);
        if (!(isfinite(d->omega) && d->omega > 0.0))
            return cqb_error_set(err, CQB_EUSAGE, "--omega: %g is not positive", d->omega);
        if (!(isfinite(d->garch_alpha) && d->garch_alpha >= 0.0))
            return cqb_error_set(err, CQB_EUSAGE, "--garch-alpha: %g is not >= 0", d->garch_alpha);
        if (!(isfinite(d->garch_beta) && d->garch_beta >= 0.0))
            return cqb_error_set(err, CQB_EUSAGE, "--garch-beta: %g is not >= 0", d->garch_beta);
        if (!(d->garch_alpha + d->garch_beta < 1.0))
            return cqb_error_set(err, CQB_EUSAGE,
                                 "--garch-alpha + --garch-beta = %g: must be below 1 (finite variance)",
                                 d->garch_alpha + d->garch_beta);
    }
    if (d->kind == CQB_DGP_TAIL) {
        if (!(d->strength >= 0.0 && d->strength <= 1.0))
            return cqb_error_set(err, CQB_EUSAGE, "--strength: %g is not a probability in [0,1] (--dgp tail)",
                                 d->strength);
        if (d->tail_lag < 1 || d->tail_lag > 65535)
            return cqb_error_set(err, CQB_EUSAGE, "--tail-lag: %zu is not in 1..65535", d->tail_lag);
        if (!(d->tail_alpha > 0.0 && d->tail_alpha <= 0.5))
            return cqb_error_set(err, CQB_EUSAGE, "--tail-alpha: %g is not in (0, 0.5]", d->tail_alpha);
    }
    if (d->kind == CQB_DGP_VAR) {
        if (!finite_in(d->var_ayy, -1.0, 1.0) || !finite_in(d->var_axx, -1.0, 1.0))
            return cqb_error_set(err, CQB_EUSAGE, "--var-a: own-lag coefficients %g, %g must be in (-1,1)",
                                 d->var_ayy, d->var_axx);
        if (!isfinite(d->strength) || fabs(d->strength) > 100.0)
            return cqb_error_set(err, CQB_EUSAGE, "--strength: %g is not a coefficient in [-100,100] (--dgp var)",
                                 d->strength);
        if (!isfinite(d->var_ly) || !isfinite(d->var_lx) || fabs(d->var_ly) > 100.0 || fabs(d->var_lx) > 100.0)
            return cqb_error_set(err, CQB_EUSAGE, "--var-load: loadings %g, %g must be finite (|l| <= 100)",
                                 d->var_ly, d->var_lx);
    }
    c->d = *d;
    if (d->df > 0.0) {
        const double nu = d->df;
        c->t_scale = sqrt(nu / (nu - 2.0));
        c->t_lbeta = lgamma(0.5 * nu) + lgamma(0.5) - lgamma(0.5 * nu + 0.5);
        c->t_ldens = lgamma(0.5 * nu + 0.5) - lgamma(0.5 * nu) - 0.5 * (log(nu) + LOG_PI);
        c->mt_d = 0.5 * nu - 1.0 / 3.0;
        c->mt_c = 1.0 / sqrt(9.0 * c->mt_d);
    }
    c->inject_thr = cqb_bernoulli_threshold(d->kind == CQB_DGP_TAIL ? d->strength : 0.0);
    return CQB_OK;
}

size_t cqb_dgp_work_size(const cqb_dgp_ctx *c, size_t T) { return c->d.burn + 2 * T + 1; }

/* ------------------------------------------------------------ streams -- */

static uint64_t subseq_of(uint64_t rep, uint32_t sid)
{
    return (rep & 0xFFFFFFFFu) | ((uint64_t)cqb_sb_tag(CQB_FAMILY_SIM, sid, 0) << 32);
}

void cqb_stream_init(cqb_stream *s, uint64_t seed, uint64_t rep, uint32_t sid)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->subseq = subseq_of(rep, sid);
    s->block = 0;
    s->pos = 4;
}

uint32_t cqb_stream_u32(cqb_stream *s)
{
    if (s->pos == 4) {
        cqb_philox_block(s->seed, s->subseq, s->block++, s->w);
        s->pos = 0;
    }
    return s->w[s->pos++];
}

double cqb_stream_unif(cqb_stream *s)
{
    /* w + 0.5 needs 33 bits: exact in a double, as is the scaling */
    return ((double)cqb_stream_u32(s) + 0.5) * 0x1p-32;
}

double cqb_stream_normal(cqb_stream *s)
{
    if (s->have_spare) {
        s->have_spare = 0;
        return s->spare;
    }
    double u1 = cqb_stream_unif(s), u2 = cqb_stream_unif(s);
    double r = sqrt(-2.0 * log(u1)), a = TWO_PI * u2;
    s->spare = r * sin(a);
    s->have_spare = 1;
    return r * cos(a);
}

double cqb_stream_innov(cqb_stream *s, const cqb_dgp_ctx *c)
{
    double z = cqb_stream_normal(s);
    if (c->d.df == 0.0) return z;
    /* V = 2 G, G ~ Gamma(df/2, 1) by Marsaglia & Tsang (2000); shape > 1 */
    const double d = c->mt_d, cc = c->mt_c;
    double g;
    for (;;) {
        double n = cqb_stream_normal(s);
        double v = 1.0 + cc * n;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = cqb_stream_unif(s);
        if (log(u) < 0.5 * n * n + d - d * v + d * log(v)) {
            g = d * v;
            break;
        }
    }
    return z * sqrt((c->d.df - 2.0) / (2.0 * g));
}

uint64_t cqb_sim_boot_seed(uint64_t seed, uint64_t rep)
{
    uint32_t w[4];
    cqb_philox_block(seed, subseq_of(rep, CQB_SIM_STREAM_BOOTSEED), 0, w);
    return (uint64_t)w[0] | ((uint64_t)w[1] << 32);
}

/* ------------------------------------------------ innovation quantiles -- */

/* Continued fraction of the regularised incomplete beta (modified Lentz),
 * for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 2000; ++m) {
        const double dm = (double)m, m2 = 2.0 * dm;
        double num = dm * (b - dm) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + dm) * (a + b + dm) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

/* Student-t(nu) lower tail P(T <= t) for t <= 0, and its log. With
 * x = nu/(nu+t^2): P = I_x(nu/2, 1/2) / 2; 1 - x = t^2/(nu+t^2) directly. */
static double t_lower_log(const cqb_dgp_ctx *c, double t)
{
    const double nu = c->d.df, a = 0.5 * nu, b = 0.5;
    const double den = nu + t * t, x = nu / den, x1 = t * t / den;
    if (x < (a + 1.0) / (a + b + 2.0)) {
        double lf = a * log(x) + b * log(x1) - c->t_lbeta;
        return lf + log(beta_cf(a, b, x) / a) - LN2;
    }
    /* I_x(a, b) = 1 - I_{1-x}(b, a) */
    double lf = b * log(x1) + a * log(x) - c->t_lbeta;
    double i1 = exp(lf) * beta_cf(b, a, x1) / b;
    return log1p(-i1) - LN2;
}

/* log F(z) and the log density ratio f(z)/F(z) of the unit-variance
 * innovation, for z <= 0. */
static double innov_logcdf(const cqb_dgp_ctx *c, double z, double *dlog)
{
    if (c->d.df == 0.0) {
        double F = 0.5 * erfc(-z * SQRT1_2);
        double f = exp(-0.5 * z * z) * INV_SQRT_2PI;
        *dlog = f / F;
        return log(F);
    }
    const double s = c->t_scale, t = z * s, nu = c->d.df;
    double lF = t_lower_log(c, t);
    double lf = c->t_ldens - 0.5 * (nu + 1.0) * log1p(t * t / nu) + log(s);
    *dlog = exp(lf - lF);
    return lF;
}

double cqb_innov_cdf(const cqb_dgp_ctx *c, double z)
{
    double dl;
    if (z <= 0.0) return exp(innov_logcdf(c, z, &dl));
    return 1.0 - exp(innov_logcdf(c, -z, &dl));
}

double cqb_innov_quantile(const cqb_dgp_ctx *c, double p)
{
    if (!(p > 0.0 && p < 1.0)) return NAN;
    if (p > 0.5) return -cqb_innov_quantile(c, 1.0 - p);
    if (p == 0.5) return 0.0;
    const double lp = log(p);
    double dl;
    /* bracket [lo, hi] with F(lo) < p <= F(hi) */
    double hi = 0.0, lo = -1.0;
    while (innov_logcdf(c, lo, &dl) >= lp && lo > -1e300) {
        hi = lo;
        lo *= 2.0;
    }
    double x = 0.5 * (lo + hi);
    for (int it = 0; it < 300; ++it) {
        double g = innov_logcdf(c, x, &dl) - lp;
        if (g == 0.0) return x;
        if (g > 0.0) hi = x;
        else lo = x;
        double nx = x - g / dl;
        if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
        if (fabs(nx - x) <= 1e-15 * fabs(x) || hi - lo <= 1e-15 * fabs(lo)) return nx;
        x = nx;
    }
    return x;
}

/* -------------------------------------------------------------- series -- */

/* n values of an AR(1)-GARCH(1,1) from stream sid into out (all of them).
 * With xfull != NULL (tail DGP), the innovation at i is replaced by a
 * lower-tail draw when x_{i-L} <= q and the injection draw fires. */
static void ar_garch(const cqb_dgp_ctx *c, uint64_t seed, uint64_t rep, uint32_t sid, size_t n, double *out,
                     size_t out_from, const double *xfull, double q)
{
    const cqb_dgp *d = &c->d;
    cqb_stream s;
    cqb_stream_init(&s, seed, rep, sid);
    const double ab = d->garch_alpha + d->garch_beta;
    double h = d->omega / (1.0 - ab); /* unconditional variance */
    double e2 = h, v = 0.0;
    const size_t L = d->tail_lag;
    for (size_t i = 0; i < n; ++i) {
        h = d->omega + d->garch_alpha * e2 + d->garch_beta * h;
        double z = cqb_stream_innov(&s, c); /* always drawn: streams stay aligned */
        if (xfull && i >= L && xfull[i - L] <= q) {
            uint32_t w[4];
            cqb_philox_block(seed, subseq_of(rep, CQB_SIM_STREAM_TAIL), i, w);
            if ((uint64_t)w[0] < c->inject_thr) {
                uint64_t w53 = (((uint64_t)w[2] << 32) | w[3]) >> 11;
                double u = ((double)w53 + 0.5) * 0x1p-53;
                z = cqb_innov_quantile(c, d->tail_alpha * u);
            }
        }
        double e = sqrt(h) * z;
        e2 = e * e;
        v = d->phi * v + e;
        if (i >= out_from) out[i - out_from] = v;
    }
}

void cqb_dgp_generate(const cqb_dgp_ctx *c, uint64_t seed, uint64_t rep, size_t T, double *y, double *x,
                      double *work)
{
    const cqb_dgp *d = &c->d;
    const size_t n = d->burn + T;
    if (d->kind == CQB_DGP_VAR) {
        cqb_stream sx, sy, sf;
        cqb_stream_init(&sx, seed, rep, CQB_SIM_STREAM_X);
        cqb_stream_init(&sy, seed, rep, CQB_SIM_STREAM_Y);
        cqb_stream_init(&sf, seed, rep, CQB_SIM_STREAM_FACTOR);
        double yp = 0.0, xp = 0.0;
        for (size_t i = 0; i < n; ++i) {
            double f = cqb_stream_innov(&sf, c);
            double u = cqb_stream_innov(&sy, c);
            double w = cqb_stream_innov(&sx, c);
            double yn = d->var_ayy * yp + d->strength * xp + d->var_ly * f + u;
            double xn = d->var_axx * xp + d->var_lx * f + w;
            yp = yn;
            xp = xn;
            if (i >= d->burn) {
                y[i - d->burn] = yn;
                x[i - d->burn] = xn;
            }
        }
        return;
    }
    double *xfull = work, *scratch = work + n;
    ar_garch(c, seed, rep, CQB_SIM_STREAM_X, n, xfull, 0, NULL, 0.0);
    memcpy(x, xfull + d->burn, T * sizeof *x);
    if (d->kind == CQB_DGP_TAIL && c->inject_thr > 0) {
        double q = cqb_quantile_r7(x, T, d->tail_alpha, scratch);
        ar_garch(c, seed, rep, CQB_SIM_STREAM_Y, n, y, d->burn, xfull, q);
    } else {
        ar_garch(c, seed, rep, CQB_SIM_STREAM_Y, n, y, d->burn, NULL, 0.0);
    }
}
