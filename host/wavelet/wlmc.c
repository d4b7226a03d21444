/* wlmc.c — local (time-varying) wavelet multiple correlation: WLMC, WLMCC
 * and WLMR as wavemulcor 3.1.2 computes them, plus the corrected mode
 * (wavelets.md §3, §6.2, §8). Written from the specification; no
 * wavemulcor code. */
#include "cqboot/wlmc.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "wmc_internal.h"

#define ST_MASKED 255 /* corrected mode: valid weight mass below min_mass */

typedef struct local_ctx {
    const cqb_wlevels *in;
    cqb_wmc_opts o;
    cqb_wmc_workspace *w;
    int pw;          /* weight power */
    int gauss;       /* full-support kernel: adaptive reach */
    int fast;        /* uniform running-block fast path at lag 0 */
    int need_e2;     /* accumulate sum_valid v^2 */
    size_t K;        /* half-width for the kernel u (lags, regressions) */
    size_t Kv;       /* half-width for the weights v = u^pw (lag-0 sums) */
    size_t P;        /* d(d+1)/2 */
    double q;        /* qnorm(p) */
} local_ctx;

/* ------------------------------------------------------------------------- */
/* Setup                                                                      */
/* ------------------------------------------------------------------------- */

static cqb_status local_setup(const char *who, const cqb_wlevels *in, const cqb_wmc_opts *opts,
                              cqb_wmc_workspace *ws, local_ctx *c, cqb_wmc_workspace **own,
                              cqb_error *err)
{
    *own = NULL;
    memset(c, 0, sizeof *c);
    cqbw_opts_or_default(opts, &c->o);
    cqb_status st = cqbw_check_common(who, in, &c->o, err);
    if (st != CQB_OK) return st;
    const cqb_wmc_opts *o = &c->o;
    if ((int)o->window < 0 || (int)o->window >= CQB_WINDOW_COUNT)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid window %d", who, (int)o->window);
    if (!isfinite(o->M) || o->M < 1.0 || o->M > (double)in->n)
        return cqb_error_set(err, CQB_EUSAGE,
                             "%s: window size M = %g must satisfy 1 <= M <= n = %zu", who, o->M,
                             in->n);
    if (o->weight_power < 0 || o->weight_power > 2)
        return cqb_error_set(err, CQB_EUSAGE, "%s: weight_power = %d must be 0, 1 or 2", who,
                             o->weight_power);
    if (!(o->min_mass <= 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "%s: min_mass = %g must be <= 1", who,
                             o->min_mass);
    st = cqbw_ws_get(ws, in->n, in->d, &c->w, own, err);
    if (st != CQB_OK) return st;
    st = cqbw_check_levels(who, in, c->w, err);
    if (st != CQB_OK) {
        cqb_wmc_workspace_free(*own);
        *own = NULL;
        return st;
    }
    const size_t n = in->n;
    c->in = in;
    c->pw = o->weight_power ? o->weight_power : (o->mode == CQB_WMC_COMPAT ? 2 : 1);
    c->gauss = o->window == CQB_WINDOW_GAUSSIAN;
    c->fast = o->fast && o->window == CQB_WINDOW_UNIFORM;
    c->need_e2 = o->mode == CQB_WMC_CORRECTED || c->pw == 1;
    c->P = in->d * (in->d + 1) / 2;
    c->q = cqbw_qnorm(o->p);
    if (c->gauss) {
        /* exp(-(z/M)^2)^pw < exp(-39.7) ~ 6e-18 beyond 6.3 M / sqrt(pw) */
        double k = ceil(6.3 * o->M);
        c->K = k >= (double)(n - 1) ? n - 1 : (size_t)k;
        k = ceil(6.3 * o->M / sqrt((double)c->pw));
        c->Kv = k >= (double)(n - 1) ? n - 1 : (size_t)k;
    } else {
        double k = floor(o->M);
        c->K = k >= (double)(n - 1) ? n - 1 : (size_t)k;
        c->Kv = c->K;
    }
    cqb_wmc_workspace *w = c->w;
    double su = 0.0, sv = 0.0;
    for (size_t z = 0; z < n; ++z) {
        double u = cqb_window_kernel(o->window, o->M, (double)z);
        w->u[z] = u;
        w->v[z] = c->pw == 2 ? u * u : u;
        w->uh[z] = c->pw == 2 ? u : sqrt(u);
        w->v2[z] = w->v[z] * w->v[z];
        su += u;
        sv += w->v[z];
        w->ucum[z] = su;
        w->vcum[z] = sv;
    }
    return CQB_OK;
}

/* sum_{t=0}^{n-1} tab(|t - s|) from the cumulative table cum. */
static double all_sum(const double *cum, const double *tab, size_t n, size_t s)
{
    return cum[s] + cum[n - 1 - s] - tab[0];
}

/* ------------------------------------------------------------------------- */
/* Lag 0                                                                      */
/* ------------------------------------------------------------------------- */

/* Direct truncated-window sums of one column for every s:
 *   out[s] = sum_{z=-R}^{R} kern[|z|] p[s+z],  s = 0..n-1,
 * with p zero-padded by R on both sides (p[-R .. n-1+R] readable), summed
 * as kern[0] p[s] + sum_{z=1}^{R} kern[z] (p[s-z] + p[s+z]) in increasing z
 * for every s (a fixed order; the lanes over s vectorise without any
 * reassociation). Zero kernel values beyond a compact support are not
 * reached: R is the support half-width there. */
static void window_conv(const double *restrict p, const double *restrict kern, size_t R,
                        size_t n, double *restrict out)
{
    /* output-stationary: 8 consecutive s accumulate in registers over z */
    enum { B = 8 };
    const double k0 = kern[0];
    size_t s0 = 0;
    for (; s0 + B <= n; s0 += B) {
        double a[B];
        for (int j = 0; j < B; ++j) a[j] = k0 * p[s0 + (size_t)j];
        for (size_t z = 1; z <= R; ++z) {
            const double kz = kern[z];
            const double *lo = (p + s0) - z, *hi = (p + s0) + z;
            for (int j = 0; j < B; ++j) a[j] += kz * (lo[j] + hi[j]);
        }
        for (int j = 0; j < B; ++j) out[s0 + (size_t)j] = a[j];
    }
    for (size_t s = s0; s < n; ++s) {
        const double *ps = p + s;
        double a = k0 * ps[0];
        for (size_t z = 1; z <= R; ++z) a += kern[z] * (ps[-(ptrdiff_t)z] + ps[z]);
        out[s] = a;
    }
}

/* Continues window_conv()'s sums for the times s that are delta[s] > 0 away
 * from the nearest valid row: z = R0+1 .. min(delta[s] + Kv, n-1), in the
 * same increasing order (p is padded far enough). */
static void window_extend(const double *p, const double *kern, size_t R0, const size_t *delta,
                          size_t Kv, size_t n, double *out)
{
    for (size_t s = 0; s < n; ++s) {
        if (delta[s] == 0) continue;
        size_t r = delta[s] + Kv;
        if (r > n - 1) r = n - 1;
        if (r <= R0) continue;
        const double *ps = p + s;
        double a = out[s];
        for (size_t z = R0 + 1; z <= r; ++z) a += kern[z] * (ps[-(ptrdiff_t)z] + ps[z]);
        out[s] = a;
    }
}

/* Lag-0 local multiple correlation of level i for every s: fills ws->phi,
 * ws->dep, ws->st, ws->nsz, ws->asum, ws->mask, ws->reach. */
static void level_lag0(local_ctx *c, int i)
{
    const cqb_wlevels *in = c->in;
    cqb_wmc_workspace *w = c->w;
    const size_t n = in->n, d = in->d, P = c->P, P1 = P + 1;
    const double *base = in->x + (size_t)i * d * n;
    cqbw_level_mask(in, i, w->mask);
    /* window half-width per s (lags use it) and for the level (lag 0) */
    size_t R = c->Kv;
    if (c->gauss) {
        size_t dist = n; /* distance to the nearest complete row, left pass */
        for (size_t s = 0; s < n; ++s) {
            dist = w->mask[s] ? 0 : (dist < n ? dist + 1 : n);
            w->reach[s] = dist;
        }
        dist = n;
        for (size_t s = n; s-- > 0;) {
            dist = w->mask[s] ? 0 : (dist < n ? dist + 1 : n);
            if (dist < w->reach[s]) w->reach[s] = dist;
        }
        size_t maxdist = 0;
        for (size_t s = 0; s < n; ++s)
            if (w->reach[s] > maxdist) maxdist = w->reach[s];
        /* terms beyond the nearest valid row + Kv are below exp(-39.7) of
         * the largest valid weight: radius Kv for every s, extended to
         * delta(s) + Kv where s is delta(s) > 0 away from valid rows; the
         * padding covers the largest radius */
        R = maxdist + c->Kv > n - 1 ? n - 1 : maxdist + c->Kv;
    } else {
        for (size_t s = 0; s < n; ++s) w->reach[s] = c->K;
    }
    /* q-major products (0 where the row is incomplete), zero-padded by R */
    const size_t stride = n + 2 * R;
    for (size_t q = 0; q < P1; ++q) {
        double *pq = w->prod + q * stride;
        memset(pq, 0, R * sizeof *pq);
        memset(pq + R + n, 0, R * sizeof *pq);
    }
    {
        size_t q = 0;
        for (size_t k = 0; k < d; ++k)
            for (size_t l = k; l < d; ++l, ++q) {
                double *pq = w->prod + q * stride + R;
                const double *xk = base + k * n, *xl = base + l * n;
                for (size_t t = 0; t < n; ++t) pq[t] = w->mask[t] ? xk[t] * xl[t] : 0.0;
            }
        double *pm = w->prod + P * stride + R;
        for (size_t t = 0; t < n; ++t) pm[t] = w->mask[t] ? 1.0 : 0.0;
    }
    double *sacc = w->sacc; /* column q at sacc + q*n; column P+1: sum v^2 m */
    if (c->fast) {
        /* uniform window: block prefix and suffix sums over blocks of
         * W = 2K+1 rows; every window is one suffix plus one prefix, so
         * exactly the window's terms are added (no long-range cancellation) */
        const size_t W = 2 * c->K + 1;
        for (size_t q = 0; q < P1; ++q) {
            const double *pq = w->prod + q * stride + R;
            double *pre = w->pre + q * n, *suf = w->suf + q * n, *out = sacc + q * n;
            for (size_t b0 = 0; b0 < n; b0 += W) {
                size_t b1 = b0 + W < n ? b0 + W : n; /* exclusive */
                double acc = 0.0;
                for (size_t t = b0; t < b1; ++t) {
                    acc += pq[t];
                    pre[t] = acc;
                }
                acc = 0.0;
                for (size_t t = b1; t-- > b0;) {
                    acc += pq[t];
                    suf[t] = acc;
                }
            }
            for (size_t s = 0; s < n; ++s) {
                size_t lo = s >= c->K ? s - c->K : 0;
                size_t hi = s + c->K < n ? s + c->K : n - 1;
                size_t a = lo / W, b = hi / W;
                if (a == b)
                    out[s] = (lo == a * W) ? pre[hi] : suf[lo];
                else
                    out[s] = suf[lo] + pre[hi];
            }
        }
        /* v = v^2 = 1 on the support */
        memcpy(sacc + P1 * n, sacc + P * n, n * sizeof *sacc);
    } else {
        const size_t R0 = c->gauss ? (c->Kv < R ? c->Kv : R) : R;
        for (size_t q = 0; q < P1; ++q) {
            if (c->o.cancel && *c->o.cancel) return; /* the caller reports it */
            window_conv(w->prod + q * stride + R, w->v, R0, n, sacc + q * n);
            if (R0 < R) window_extend(w->prod + q * stride + R, w->v, R0, w->reach, c->Kv, n,
                                      sacc + q * n);
        }
        if (c->need_e2) {
            window_conv(w->prod + P * stride + R, w->v2, R0, n, sacc + P1 * n);
            if (R0 < R) window_extend(w->prod + P * stride + R, w->v2, R0, w->reach, c->Kv, n,
                                      sacc + P1 * n);
        }
    }
    if (c->gauss) /* reach[] held delta(s); the lag sums use delta(s) + K */
        for (size_t s = 0; s < n; ++s) {
            size_t r = w->reach[s] + c->K;
            w->reach[s] = r > n - 1 ? n - 1 : r;
        }
    const int corrected = c->o.mode == CQB_WMC_CORRECTED;
    for (size_t s = 0; s < n; ++s) {
        size_t qq = 0;
        for (size_t k = 0; k < d; ++k)
            for (size_t l = k; l < d; ++l, ++qq) {
                double v = sacc[qq * n + s];
                w->S[k * d + l] = v;
                w->S[l * d + k] = v;
            }
        const double vm = sacc[P * n + s]; /* sum_valid v */
        const double e2 = c->need_e2 ? sacc[P1 * n + s] : 0.0; /* sum_valid v^2 */
        double phi;
        int dep;
        int rc = cqbw_mulcor(w->S, d, c->o.ymaxr, &phi, &dep, w->mc_work);
        double au = all_sum(w->ucum, w->u, n, s);
        double nsz;
        if (!corrected) {
            double B = c->pw == 2 ? vm : e2; /* sum_valid u^2 */
            nsz = au * au / B;
        } else {
            double av = all_sum(w->vcum, w->v, n, s);
            nsz = vm * vm / e2;
            if (!(vm >= c->o.min_mass * av) || vm == 0.0) rc = ST_MASKED;
        }
        w->phi[s] = phi;
        w->dep[s] = dep;
        w->st[s] = (unsigned char)rc;
        w->nsz[s] = nsz;
        w->asum[s] = au;
    }
}

/* Writes the lag-0 outputs (val, lo, up, pval, nsize) of time s of the
 * current level to entry e of the output arrays (dep is written by the
 * callers). */
static void write_lag0(const local_ctx *c, size_t s, const cqb_wmc_out *out, size_t e)
{
    const cqb_wmc_workspace *w = c->w;
    double phi = w->phi[s], lo = NAN, up = NAN, pv = NAN;
    if (w->st[s] == CQBW_MC_NAN || w->st[s] == ST_MASKED) {
        phi = NAN;
    } else {
        cqbw_fisher_ci(phi, w->nsz[s], c->q, c->in->d > 2, c->in->d, &lo, &up,
                       out->pval ? &pv : NULL);
    }
    if (out->val) out->val[e] = phi;
    if (out->lo) out->lo[e] = lo;
    if (out->up) out->up[e] = up;
    if (out->pval) out->pval[e] = pv;
    if (out->nsize) out->nsize[e] = w->nsz[s];
}

/* ------------------------------------------------------------------------- */
/* Lagged and regression fits                                                 */
/* ------------------------------------------------------------------------- */

typedef struct fit_out {
    double r2, rss, xq, sign, b0;
    double xss; /* d = 2: the regressor's centred sum of squares (0: constant) */
    double *beta, *cinv, *xbar; /* q each (ws->vec) */
    double sy, nrows;           /* y first moment, row count or weight total */
} fit_out;

/* Complete rows of lag L (y at t + L, X at t) over the whole level. */
static size_t lag_count(const unsigned char *mask, size_t n, long L)
{
    size_t cnt = 0;
    size_t t0 = L < 0 ? (size_t)(-L) : 0;
    size_t t1 = L > 0 ? n - (size_t)L : n;
    for (size_t t = t0; t < t1; ++t) cnt += mask[t] && mask[(size_t)((long)t + L)];
    return cnt;
}

/* Row range for time s and lag L: t with |t-s| <= r or |t+L-s| <= r, and
 * 0 <= t, t+L <= n-1. Returns 0 when empty. */
static int lag_range(size_t n, size_t s, size_t r, long L, size_t *tlo, size_t *thi)
{
    long lo = (long)s - (long)r - (L > 0 ? L : 0);
    long hi = (long)s + (long)r + (L < 0 ? -L : 0);
    long vlo = L < 0 ? -L : 0;
    long vhi = (long)n - 1 - (L > 0 ? L : 0);
    if (lo < vlo) lo = vlo;
    if (hi > vhi) hi = vhi;
    if (lo > hi) return 0;
    *tlo = (size_t)lo;
    *thi = (size_t)hi;
    return 1;
}

/* Neumaier's compensated summation: *s + *c is the running sum. */
static void nsum(double *s, double *c, double x)
{
    double t = *s + x;
    if (fabs(*s) >= fabs(x))
        *c += (*s - t) + x;
    else
        *c += (x - t) + *s;
    *s = t;
}

/* Compat: OLS with intercept of y~[t+L] on X~[t] over all complete rows
 * (nL of them), with y~ = uh(|t+L-s|) y, X~ = uh(|t-s|) x. Moments in
 * u-scale. Returns the cqbw_regress() code (-1: no variation). */
static int fit_compat(const local_ctx *c, int i, size_t s, size_t k, long L, size_t nL,
                      fit_out *f)
{
    const cqb_wlevels *in = c->in;
    const cqb_wmc_workspace *w = c->w;
    const size_t n = in->n, d = in->d, q = d - 1, m = d;
    const double *base = in->x + (size_t)i * d * n;
    const double *y = base + k * n;
    double *sx = f->xbar, *raw = w->vec + 3 * (m + 1), *G = w->G;
    double *cx = w->vec + 7 * (m + 1); /* compensation terms of sx */
    memset(sx, 0, q * sizeof *sx);
    memset(cx, 0, q * sizeof *cx);
    memset(G, 0, m * m * sizeof *G);
    double sy = 0.0, cy = 0.0;
    size_t tlo, thi;
    if (nL == 0) return -1;
    if (lag_range(n, s, w->reach[s], L, &tlo, &thi)) {
        for (size_t t = tlo; t <= thi; ++t) {
            size_t ty = (size_t)((long)t + L);
            if (!w->mask[t] || !w->mask[ty]) continue;
            double a = w->uh[t < s ? s - t : t - s];
            double b = w->uh[ty < s ? s - ty : ty - s];
            if (a == 0.0 && b == 0.0) continue;
            double yv = b * y[ty];
            nsum(&sy, &cy, yv);
            G[q * m + q] += yv * yv;
            size_t ia = 0;
            for (size_t kk = 0; kk < d; ++kk) {
                if (kk == k) continue;
                double xa = a * base[kk * n + t];
                nsum(&sx[ia], &cx[ia], xa);
                G[ia * m + q] += xa * yv;
                size_t ib = 0;
                for (size_t ll = 0; ll <= kk; ++ll) {
                    if (ll == k) continue;
                    G[ia * m + ib] += xa * (a * base[ll * n + t]);
                    ++ib;
                }
                ++ia;
            }
        }
    }
    /* The first moments are sums of terms of both signs with a small total
     * (the intercept is a small difference of means): compensated sums keep
     * it accurate (wavelets.md §3.8 tolerances are relative). */
    sy += cy;
    for (size_t a = 0; a < q; ++a) sx[a] += cx[a];
    double nn = (double)nL;
    cqbw_moments_centre(G, sx, sy, raw, q, nn);
    for (size_t a = 0; a < q; ++a) sx[a] /= nn;
    f->sy = sy;
    f->nrows = nn;
    f->sign = d == 2 ? G[0 * m + q] : 1.0;
    f->xss = d == 2 ? G[0] : 1.0;
    int rc = cqbw_regress(G, raw, sx, q, &f->r2, &f->rss, f->beta, f->cinv,
                          f->beta ? &f->xq : NULL, w->rg_work);
    if (rc < 0 || !f->beta) return rc;
    /* intercept, and the residual sum of squares from the residuals
     * themselves (accurate when R^2 is close to 1): rows outside the window
     * have y~ = X~ = 0 and residual -b0 */
    double b0 = sy / nn;
    for (size_t a = 0; a < q; ++a)
        if (!isnan(f->beta[a])) b0 -= f->beta[a] * sx[a];
    f->b0 = b0;
    double rss = 0.0;
    size_t nacc = 0;
    if (lag_range(n, s, w->reach[s], L, &tlo, &thi)) {
        for (size_t t = tlo; t <= thi; ++t) {
            size_t ty = (size_t)((long)t + L);
            if (!w->mask[t] || !w->mask[ty]) continue;
            double a = w->uh[t < s ? s - t : t - s];
            double b = w->uh[ty < s ? s - ty : ty - s];
            if (a == 0.0 && b == 0.0) continue;
            double r = b * y[ty] - b0;
            size_t ia = 0;
            for (size_t kk = 0; kk < d; ++kk) {
                if (kk == k) continue;
                if (!isnan(f->beta[ia])) r -= f->beta[ia] * (a * base[kk * n + t]);
                ++ia;
            }
            rss += r * r;
            ++nacc;
        }
    }
    f->rss = rss + (double)(nL - nacc) * b0 * b0;
    return rc;
}

/* Corrected C8: weighted least squares with intercept of y[t] on X[t],
 * weights v(|t-s|) over complete rows with |t-s| <= reach. f->nrows = sum v,
 * *e2 = sum v^2. */
static int fit_wls(const local_ctx *c, int i, size_t s, size_t k, fit_out *f, double *e2)
{
    const cqb_wlevels *in = c->in;
    const cqb_wmc_workspace *w = c->w;
    const size_t n = in->n, d = in->d, q = d - 1, m = d;
    const double *base = in->x + (size_t)i * d * n;
    const double *y = base + k * n;
    double *sx = f->xbar, *raw = w->vec + 3 * (m + 1), *G = w->G;
    memset(sx, 0, q * sizeof *sx);
    memset(G, 0, m * m * sizeof *G);
    double sy = 0.0, V = 0.0, V2 = 0.0;
    size_t r = w->reach[s];
    size_t lo = s >= r ? s - r : 0, hi = s + r < n ? s + r : n - 1;
    for (size_t t = lo; t <= hi; ++t) {
        if (!w->mask[t]) continue;
        double v = w->v[t < s ? s - t : t - s];
        if (v == 0.0) continue;
        V += v;
        V2 += v * v;
        double yv = y[t];
        sy += v * yv;
        G[q * m + q] += v * yv * yv;
        size_t ia = 0;
        for (size_t kk = 0; kk < d; ++kk) {
            if (kk == k) continue;
            double xa = base[kk * n + t];
            sx[ia] += v * xa;
            G[ia * m + q] += v * xa * yv;
            size_t ib = 0;
            for (size_t ll = 0; ll <= kk; ++ll) {
                if (ll == k) continue;
                G[ia * m + ib] += v * xa * base[ll * n + t];
                ++ib;
            }
            ++ia;
        }
    }
    *e2 = V2;
    f->nrows = V;
    f->sy = sy;
    if (!(V > 0.0)) return -1;
    for (size_t a = 0; a < q; ++a) {
        raw[a] = G[a * m + a];
        for (size_t b = 0; b <= a; ++b) {
            double cc = G[a * m + b] - sx[a] * sx[b] / V;
            G[a * m + b] = cc;
            G[b * m + a] = cc;
        }
        double cc = G[a * m + q] - sx[a] * sy / V;
        G[a * m + q] = cc;
        G[q * m + a] = cc;
    }
    G[q * m + q] -= sy * sy / V;
    for (size_t a = 0; a < q; ++a) sx[a] /= V;
    f->sign = 1.0;
    int rc = cqbw_regress(G, raw, sx, q, &f->r2, &f->rss, f->beta, f->cinv, &f->xq, w->rg_work);
    if (rc < 0) return rc;
    double b0 = sy / V;
    for (size_t a = 0; a < q; ++a)
        if (!isnan(f->beta[a])) b0 -= f->beta[a] * sx[a];
    f->b0 = b0;
    double rss = 0.0; /* weighted residual sum of squares, from the residuals */
    for (size_t t = lo; t <= hi; ++t) {
        if (!w->mask[t]) continue;
        double v = w->v[t < s ? s - t : t - s];
        if (v == 0.0) continue;
        double res = y[t] - b0;
        size_t ia = 0;
        for (size_t kk = 0; kk < d; ++kk) {
            if (kk == k) continue;
            if (!isnan(f->beta[ia])) res -= f->beta[ia] * base[kk * n + t];
            ++ia;
        }
        rss += v * res * res;
    }
    f->rss = rss;
    return rc;
}

/* Corrected C7: uncentred weighted multiple correlation of (y[t+L], X[t]),
 * y in slot k, rows weighted by v(|t-s|), |t-s| <= reach. Returns phi (NaN
 * by the NaN rule, 1 by the rank rule); *V, *V2 the weight sums. */
static double corr_lag_corrected(const local_ctx *c, int i, size_t s, size_t k, long L,
                                 double *V, double *V2)
{
    const cqb_wlevels *in = c->in;
    const cqb_wmc_workspace *w = c->w;
    const size_t n = in->n, d = in->d;
    const double *base = in->x + (size_t)i * d * n;
    double *S = w->S, *row = w->vec;
    memset(S, 0, d * d * sizeof *S);
    double sv = 0.0, sv2 = 0.0;
    size_t r = w->reach[s];
    long lo = (long)s - (long)r, hi = (long)s + (long)r;
    long vlo = L < 0 ? -L : 0, vhi = (long)n - 1 - (L > 0 ? L : 0);
    if (lo < vlo) lo = vlo;
    if (hi > vhi) hi = vhi;
    for (long tl = lo; tl <= hi; ++tl) {
        size_t t = (size_t)tl, ty = (size_t)(tl + L);
        if (!w->mask[t] || !w->mask[ty]) continue;
        double v = w->v[t < s ? s - t : t - s];
        if (v == 0.0) continue;
        sv += v;
        sv2 += v * v;
        for (size_t kk = 0; kk < d; ++kk) row[kk] = base[kk * n + (kk == k ? ty : t)];
        for (size_t a = 0; a < d; ++a)
            for (size_t b = a; b < d; ++b) S[a * d + b] += v * row[a] * row[b];
    }
    *V = sv;
    *V2 = sv2;
    for (size_t a = 0; a < d; ++a)
        for (size_t b = 0; b < a; ++b) S[a * d + b] = S[b * d + a];
    double phi;
    int dep;
    int rc = cqbw_mulcor(S, d, (int)k + 1, &phi, &dep, w->mc_work);
    return rc == CQBW_MC_NAN ? NAN : phi;
}

/* ------------------------------------------------------------------------- */
/* Public functions                                                           */
/* ------------------------------------------------------------------------- */

cqb_status cqb_wlmc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, cqb_error *err)
{
    local_ctx c;
    cqb_wmc_workspace *own;
    cqb_status st = local_setup("wlmc", in, opts, ws, &c, &own, err);
    if (st != CQB_OK) return st;
    const size_t n = in->n;
    if (out)
        for (int i = 0; i <= in->J; ++i) {
            if (c.o.cancel && *c.o.cancel) {
                cqb_wmc_workspace_free(own);
                return cqb_error_set(err, CQB_EUSAGE, "interrupted");
            }
            level_lag0(&c, i);
            if (c.o.cancel && *c.o.cancel) {
                cqb_wmc_workspace_free(own);
                return cqb_error_set(err, CQB_EUSAGE, "interrupted");
            }
            for (size_t s = 0; s < n; ++s) {
                size_t e = (size_t)i * n + s;
                write_lag0(&c, s, out, e);
                if (out->dep) {
                    unsigned char sc = c.w->st[s];
                    out->dep[e] = (sc == CQBW_MC_OK) ? c.w->dep[s] : 0;
                }
            }
        }
    cqb_wmc_workspace_free(own);
    return CQB_OK;
}

cqb_status cqb_wlmcc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                     const cqb_wmc_out *out, cqb_error *err)
{
    local_ctx c;
    cqb_wmc_workspace *own;
    cqb_status st = local_setup("wlmcc", in, opts, ws, &c, &own, err);
    if (st != CQB_OK) return st;
    const size_t n = in->n, d = in->d;
    const int lm = cqb_wmc_lags(n, &c.o);
    const size_t ncol = 2 * (size_t)lm + 1;
    const int corrected = c.o.mode == CQB_WMC_CORRECTED;
    cqb_wmc_workspace *w = c.w;
    if (out)
        for (int i = 0; i <= in->J; ++i) {
            level_lag0(&c, i);
            if (!corrected)
                for (long L = -lm; L <= lm; ++L)
                    w->lagcnt[L + lm] = lag_count(w->mask, n, L);
            for (size_t s = 0; s < n; ++s) {
                if (c.o.cancel && *c.o.cancel) {
                    cqb_wmc_workspace_free(own);
                    return cqb_error_set(err, CQB_EUSAGE, "interrupted");
                }
                size_t row = (size_t)i * n + s;
                unsigned char sc = w->st[s];
                write_lag0(&c, s, out, row * ncol + (size_t)lm);
                if (out->dep) out->dep[row] = (sc == CQBW_MC_OK) ? w->dep[s] : 0;
                for (long L = -lm; L <= lm; ++L) {
                    if (L == 0) continue;
                    size_t e = row * ncol + (size_t)(L + lm);
                    double phi = NAN, nsz = w->nsz[s], lo = NAN, up = NAN, pv = NAN;
                    if (sc == CQBW_MC_OK) {
                        size_t k = (size_t)w->dep[s] - 1;
                        if (!corrected) {
                            fit_out f;
                            f.beta = NULL;
                            f.cinv = NULL;
                            f.xbar = w->vec;
                            int rc = fit_compat(&c, i, s, k, L, w->lagcnt[L + lm], &f);
                            if (rc >= 0) {
                                phi = sqrt(f.r2 > 0.0 ? f.r2 : 0.0);
                                /* d = 2: signed by the centred correlation, which
                                 * R's cor() leaves NA when the lagged regressor is
                                 * constant over the complete rows (no weight left
                                 * on it near the ends): NA, not 0 */
                                if (d == 2)
                                    phi = !(f.xss > 0.0) ? NAN
                                          : f.sign > 0.0 ? phi
                                          : (f.sign < 0.0 ? -phi : 0.0);
                            }
                        } else {
                            double V, V2;
                            phi = corr_lag_corrected(&c, i, s, k, L, &V, &V2);
                            double av = all_sum(w->vcum, w->v, n, s);
                            nsz = V * V / V2;
                            if (!(V >= c.o.min_mass * av) || V == 0.0) phi = NAN;
                        }
                        if (!isnan(phi))
                            cqbw_fisher_ci(phi, nsz, c.q, d > 2, d, &lo, &up,
                                           out->pval ? &pv : NULL);
                    }
                    if (out->val) out->val[e] = phi;
                    if (out->lo) out->lo[e] = lo;
                    if (out->up) out->up[e] = up;
                    if (out->pval) out->pval[e] = pv;
                    if (out->nsize) out->nsize[e] = nsz;
                }
            }
        }
    cqb_wmc_workspace_free(own);
    return CQB_OK;
}

cqb_status cqb_wlmr(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, const cqb_wreg_out *reg, cqb_error *err)
{
    local_ctx c;
    cqb_wmc_workspace *own;
    cqb_status st = local_setup("wlmr", in, opts, ws, &c, &own, err);
    if (st != CQB_OK) return st;
    const size_t n = in->n, d = in->d;
    const int corrected = c.o.mode == CQB_WMC_CORRECTED;
    cqb_wmc_workspace *w = c.w;
    const size_t m1 = d + 1;
    double *est = w->vec + 4 * m1, *se = w->vec + 5 * m1, *tmp = w->vec + 6 * m1;
    const double qci_compat = cqbw_qt(c.o.p, (double)n - (double)d);
    for (int i = 0; i <= in->J; ++i) {
        level_lag0(&c, i);
        size_t nc = lag_count(w->mask, n, 0);
        for (size_t s = 0; s < n; ++s) {
            size_t row = (size_t)i * n + s;
            unsigned char sc = w->st[s];
            if (out) {
                write_lag0(&c, s, out, row);
                if (out->dep) out->dep[row] = (sc == CQBW_MC_OK) ? w->dep[s] : 0;
            }
            if (!reg) continue;
            if (sc != CQBW_MC_OK) {
                cqbw_reg_row_na(reg, row, d);
                continue;
            }
            size_t k = (size_t)w->dep[s] - 1;
            fit_out f;
            f.xbar = w->vec;
            f.beta = w->vec + m1;
            f.cinv = w->vec + 2 * m1;
            int rc;
            double df, qci, scale = 1.0, b0se_base;
            if (!corrected) {
                rc = fit_compat(&c, i, s, k, 0, nc, &f);
                df = (double)nc - (double)d;
                qci = qci_compat;
                /* R's vectors are (u / sum_t u)^(pw/2) x */
                scale = c.pw == 2 ? w->asum[s] : sqrt(w->asum[s]);
                b0se_base = 1.0 / f.nrows;
            } else {
                double V2;
                rc = fit_wls(&c, i, s, k, &f, &V2);
                double neff = f.nrows * f.nrows / V2;
                df = neff - (double)d;
                qci = cqbw_qt(c.o.p, df);
                b0se_base = 1.0 / f.nrows;
            }
            if (rc < 0 || !(df > 0.0)) {
                cqbw_reg_row_na(reg, row, d);
                continue;
            }
            double s2 = f.rss / df;
            est[0] = f.b0 / scale;
            se[0] = sqrt(s2 * (b0se_base + f.xq)) / scale;
            est[k + 1] = -1.0;
            se[k + 1] = 0.0;
            size_t a = 0;
            for (size_t kk = 0; kk < d; ++kk) {
                if (kk == k) continue;
                est[kk + 1] = f.beta[a];
                se[kk + 1] = sqrt(s2 * f.cinv[a]);
                ++a;
            }
            cqbw_reg_row_write(reg, row, d, k, est, se, df, qci, tmp);
        }
    }
    cqb_wmc_workspace_free(own);
    return CQB_OK;
}
