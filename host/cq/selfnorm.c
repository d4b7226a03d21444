/* selfnorm.c — self-normalised inference for the CQ and the partial CQ
 * (cross-quantilogram.md §4.7): recursive estimates, V_hat, S_hat and t, the
 * simulated limit distribution and the shipped critical-value table. The
 * definitions, edge cases and the random-number layout are documented in
 * cqboot/selfnorm.h. */
#include "cqboot/selfnorm.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/quantile.h"

/* =========================================================================
 * Recursive estimates
 * ========================================================================= */

/* Full-sample ranking of one column: ties ordered by index, so that every
 * hit set {x <= q} (or {x < q}) is a prefix of the sorted order. */
typedef struct sn_rank {
    double *sorted; /* T values, ascending */
    uint32_t *perm; /* sorted position -> column index */
    uint32_t *pos;  /* column index -> sorted position */
} sn_rank;

typedef struct sn_pair {
    double v;
    uint32_t i;
} sn_pair;

static int cmp_pair(const void *a, const void *b)
{
    const sn_pair *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

static void rank_free(sn_rank *r)
{
    free(r->sorted);
    free(r->perm);
    free(r->pos);
    r->sorted = NULL;
    r->perm = r->pos = NULL;
}

static int rank_init(sn_rank *r, const double *x, size_t T)
{
    sn_pair *tmp = malloc(T * sizeof *tmp);
    r->sorted = malloc(T * sizeof *r->sorted);
    r->perm = malloc(T * sizeof *r->perm);
    r->pos = malloc(T * sizeof *r->pos);
    if (!tmp || !r->sorted || !r->perm || !r->pos) {
        free(tmp);
        rank_free(r);
        return -1;
    }
    for (size_t i = 0; i < T; ++i) {
        tmp[i].v = x[i];
        tmp[i].i = (uint32_t)i;
    }
    qsort(tmp, T, sizeof *tmp, cmp_pair);
    for (size_t q = 0; q < T; ++q) {
        r->sorted[q] = tmp[q].v;
        r->perm[q] = tmp[q].i;
        r->pos[tmp[q].i] = (uint32_t)q;
    }
    free(tmp);
    return 0;
}

/* Fenwick tree t[1..n] of 0/1 marks over sorted positions. */
static void fw_add(uint32_t *t, size_t n, size_t pos0)
{
    for (size_t j = pos0 + 1; j <= n; j += j & (~j + 1)) t[j]++;
}

/* 0-based sorted position of the k-th (1-based) marked element. */
static size_t fw_kth(const uint32_t *t, size_t n, size_t top, size_t k)
{
    size_t p = 0;
    for (size_t b = top; b; b >>= 1) {
        if (p + b <= n && t[p + b] < k) {
            p += b;
            k -= t[p];
        }
    }
    return p;
}

/* One variable of the sweep (y, x or a control) at one lag. */
typedef struct sn_var {
    const sn_rank *rk;
    size_t off;   /* the variable's column index at row t is t - off */
    double alpha;
    uint32_t *fw; /* Fenwick marks of the current quantile window */
    size_t M;     /* hit <=> pos[index] < M */
} sn_var;

/* The number of full-sample values that are hits for the convention's
 * quantile of the current window (nwin values): the order statistics come
 * from the Fenwick tree, the quantile from exactly the arithmetic of
 * cqb_quantile_sorted(), the count from a binary search. */
static size_t var_threshold(const sn_var *v, size_t T, size_t top, size_t nwin, cqb_qconv conv, int strict)
{
    const double *sorted = v->rk->sorted;
    double q;
    if (conv == CQB_Q_R7_LE) {
        size_t lo;
        double h;
        cqb_r7_index(nwin, v->alpha, &lo, &h);
        size_t hi = lo + (h > 0.0 ? 1 : 0);
        if (hi > nwin) hi = nwin;
        double xlo = sorted[fw_kth(v->fw, T, top, lo)];
        double xhi = hi == lo ? xlo : sorted[fw_kth(v->fw, T, top, hi)];
        q = cqb_r7_interp(xlo, xhi, h);
    } else {
        q = sorted[fw_kth(v->fw, T, top, cqb_order_rank(conv, nwin, v->alpha))];
    }
    size_t lo = 0, hi = T;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int below = strict ? sorted[mid] < q : sorted[mid] <= q;
        if (below) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int var_hit(const sn_var *v, size_t t) { return v->rk->pos[t - v->off] < v->M; }

/* The outputs of one prefix from its counts, with cq.c's epilogues. */
static void sweep_emit(const sn_var *var, size_t l, int64_t C[CQB_MAX_VARS][CQB_MAX_VARS], size_t N, double *rho,
                       double *rhop)
{
    const double Nd = (double)N;
    if (rho) *rho = cqb_cq_from_counts(Nd, (double)C[0][0], (double)C[1][1], (double)C[0][1], var[0].alpha, var[1].alpha);
    if (rhop) {
        double G[CQB_MAX_VARS * CQB_MAX_VARS];
        for (size_t u = 0; u < l; ++u)
            for (size_t w = u; w < l; ++w)
                G[u * l + w] = G[w * l + u] = cqb_gram_entry(Nd, (double)C[u][u], (double)C[w][w], (double)C[u][w],
                                                             var[u].alpha, var[w].alpha);
        *rhop = cqb_partial_from_gram(G, (int)l);
    }
}

/* The sweep over s = s_lo..T for lag k: out[(s - s_lo) * stride]. l = 2
 * (plain CQ only) or 2 + nctl. fwbuf: l * (T + 1) words. */
static void sweep_lag(const cqb_cq_input *in, const sn_rank *ranks, const double *alpha, size_t l, size_t k,
                      size_t s_lo, size_t stride, double *rho, double *rhop, uint32_t *fwbuf)
{
    const size_t T = in->T, r0 = cqb_cq_r0(in, k);
    const int sub = in->conv == CQB_Q_HIGHER_LT_SUB, strict = cqb_qconv_strict(in->conv);
    size_t top = 1;
    while (top * 2 <= T) top *= 2;
    sn_var var[CQB_MAX_VARS];
    memset(fwbuf, 0, l * (T + 1) * sizeof *fwbuf);
    for (size_t v = 0; v < l; ++v) {
        var[v].rk = &ranks[v];
        var[v].alpha = alpha[v];
        var[v].off = v == 0 ? 0 : v == 1 ? k : in->ctl[v - 2].lag < 0 ? k : (size_t)in->ctl[v - 2].lag;
        var[v].fw = fwbuf + v * (T + 1);
        /* the quantile window at prefix s: column indices [0, s) for the
         * whole-prefix conventions, [r0 - off, s - off) for the lag-aligned one */
        size_t a = sub ? r0 - var[v].off : 0, b = sub ? s_lo - var[v].off : s_lo;
        for (size_t i = a; i < b; ++i) fw_add(var[v].fw, T, ranks[v].pos[i]);
        var[v].M = var_threshold(&var[v], T, top, b - a, in->conv, strict);
    }
    int64_t C[CQB_MAX_VARS][CQB_MAX_VARS];
    memset(C, 0, sizeof C);
    for (size_t t = r0; t < s_lo; ++t) {
        int h[CQB_MAX_VARS];
        for (size_t v = 0; v < l; ++v) h[v] = var_hit(&var[v], t);
        for (size_t u = 0; u < l; ++u)
            for (size_t w = u; w < l; ++w) C[u][w] += h[u] & h[w];
    }
    for (size_t u = 0; u < l; ++u)
        for (size_t w = 0; w < u; ++w) C[u][w] = C[w][u];
    sweep_emit(var, l, C, s_lo - r0, rho, rhop);

    for (size_t s = s_lo; s < T; ++s) { /* prefix s -> s + 1: adds row t = s */
        for (size_t v = 0; v < l; ++v) {
            sn_var *V = &var[v];
            fw_add(V->fw, T, ranks[v].pos[sub ? s - V->off : s]);
            size_t Mn = var_threshold(V, T, top, sub ? s + 1 - r0 : s + 1, in->conv, strict);
            if (Mn != V->M) {
                /* values between the old and the new threshold flip; only
                 * those on rows r0..s-1 are counted (sequential updates of a
                 * bilinear sum: the other variables keep their current state) */
                const int64_t d = Mn > V->M ? 1 : -1;
                const size_t a = Mn > V->M ? V->M : Mn, b = Mn > V->M ? Mn : V->M;
                const uint32_t *perm = ranks[v].perm;
                for (size_t q = a; q < b; ++q) {
                    size_t t = perm[q] + V->off;
                    if (t < r0 || t >= s) continue;
                    C[v][v] += d;
                    for (size_t w = 0; w < l; ++w) {
                        if (w == v || !var_hit(&var[w], t)) continue;
                        C[v][w] += d;
                        C[w][v] += d;
                    }
                }
                V->M = Mn;
            }
        }
        int h[CQB_MAX_VARS];
        for (size_t v = 0; v < l; ++v) h[v] = var_hit(&var[v], s);
        for (size_t u = 0; u < l; ++u) {
            C[u][u] += h[u];
            for (size_t w = u + 1; w < l; ++w) {
                C[u][w] += h[u] & h[w];
                C[w][u] = C[u][w];
            }
        }
        const size_t row = (s + 1 - s_lo) * stride;
        sweep_emit(var, l, C, s + 1 - r0, rho ? rho + row : NULL, rhop ? rhop + row : NULL);
    }
}

size_t cqb_sn_first_s(const cqb_cq_input *in, size_t kmax, double omega)
{
    double f = floor((double)in->T * omega + 1e-9);
    size_t s = f > 0.0 ? (size_t)f : 0;
    size_t smin = cqb_cq_r0(in, kmax) + 2;
    return s > smin ? s : smin;
}

static int bad_alpha(double a) { return !(a > 0.0 && a < 1.0); }

/* Argument checks shared by the public entry points. */
static cqb_status check_input(const cqb_cq_input *in, double ay, double ax, cqb_error *err)
{
    if (!in || !in->y || !in->x) return cqb_error_set(err, CQB_EUSAGE, "self-normalised CQ: no data");
    if (in->nctl > CQB_MAX_VARS - 2)
        return cqb_error_set(err, CQB_EUSAGE, "at most %d controls are supported", CQB_MAX_VARS - 2);
    if (in->T > UINT32_MAX) return cqb_error_set(err, CQB_EUSAGE, "self-normalised CQ: T = %zu is too large", in->T);
    if (bad_alpha(ay) || bad_alpha(ax))
        return cqb_error_set(err, CQB_EUSAGE, "quantile levels must lie in (0,1) (got %g, %g)", ay, ax);
    for (size_t j = 0; j < in->nctl; ++j) {
        if (!in->ctl[j].z) return cqb_error_set(err, CQB_EUSAGE, "control %zu has no data", j + 1);
        if (bad_alpha(in->ctl[j].alpha))
            return cqb_error_set(err, CQB_EUSAGE, "control %zu: level %g is not in (0,1)", j + 1, in->ctl[j].alpha);
    }
    for (size_t t = 0; t < in->T; ++t) {
        int ok = isfinite(in->y[t]) && isfinite(in->x[t]);
        for (size_t j = 0; j < in->nctl && ok; ++j) ok = isfinite(in->ctl[j].z[t]);
        if (!ok) return cqb_error_set(err, CQB_EDATA, "non-finite value at row %zu", t + 1);
    }
    return CQB_OK;
}

cqb_status cqb_sn_paths(const cqb_cq_input *in, double ay, double ax, const size_t *lags, size_t nlags, size_t s_lo,
                        double *rho, double *rho_partial, cqb_error *err)
{
    cqb_status st = check_input(in, ay, ax, err);
    if (st != CQB_OK) return st;
    if (rho_partial && in->nctl == 0)
        return cqb_error_set(err, CQB_EUSAGE, "the partial CQ needs at least one control");
    if (nlags == 0 || (!rho && !rho_partial)) return CQB_OK;
    if (s_lo > in->T) return cqb_error_set(err, CQB_EUSAGE, "first prefix %zu exceeds T = %zu", s_lo, in->T);
    for (size_t j = 0; j < nlags; ++j) {
        size_t r0 = lags[j] < in->T ? cqb_cq_r0(in, lags[j]) : in->T;
        if (r0 + 2 > s_lo)
            return cqb_error_set(err, CQB_EUSAGE, "lag %zu needs prefixes of at least %zu rows (first prefix %zu, T = %zu)",
                                 lags[j], r0 + 2, s_lo, in->T);
    }
    const size_t T = in->T, l = rho_partial ? 2 + in->nctl : 2;
    sn_rank ranks[CQB_MAX_VARS];
    memset(ranks, 0, sizeof ranks);
    double alpha[CQB_MAX_VARS];
    uint32_t *fwbuf = malloc(l * (T + 1) * sizeof *fwbuf);
    int bad = !fwbuf;
    for (size_t v = 0; v < l && !bad; ++v) {
        alpha[v] = v == 0 ? ay : v == 1 ? ax : in->ctl[v - 2].alpha;
        bad = rank_init(&ranks[v], v == 0 ? in->y : v == 1 ? in->x : in->ctl[v - 2].z, T) != 0;
    }
    if (!bad) {
        for (size_t j = 0; j < nlags; ++j)
            sweep_lag(in, ranks, alpha, l, lags[j], s_lo, nlags, rho ? rho + j : NULL,
                      rho_partial ? rho_partial + j : NULL, fwbuf);
    }
    for (size_t v = 0; v < l; ++v) rank_free(&ranks[v]);
    free(fwbuf);
    return bad ? cqb_error_set(err, CQB_ENOMEM, "out of memory") : CQB_OK;
}

void cqb_sn_vhat(const double *path, size_t s_lo, size_t T, size_t p, double *V, size_t *n_skipped)
{
    const double *rT = path + (T - s_lo) * p;
    size_t skipped = 0;
    double e[CQB_SN_PMAX];
    for (size_t i = 0; i < p * p; ++i) V[i] = 0.0;
    for (size_t s = s_lo; s <= T; ++s) {
        const double *r = path + (s - s_lo) * p;
        int nan = 0;
        for (size_t a = 0; a < p; ++a) {
            e[a] = (double)s * (r[a] - rT[a]);
            nan |= isnan(e[a]);
        }
        if (nan) {
            ++skipped;
            continue;
        }
        for (size_t a = 0; a < p; ++a)
            for (size_t b = a; b < p; ++b) V[a * p + b] += e[a] * e[b];
    }
    const double T2 = (double)T * (double)T;
    for (size_t a = 0; a < p; ++a)
        for (size_t b = a; b < p; ++b) V[a * p + b] = V[b * p + a] = V[a * p + b] / T2;
    if (n_skipped) *n_skipped = skipped;
}

/* Cholesky V = L L' (lower, in L); -1 at a pivot <= 0 (or NaN). */
static int cholesky(const double *V, size_t p, double *L)
{
    for (size_t i = 0; i < p; ++i) {
        for (size_t j = 0; j <= i; ++j) {
            double s = V[i * p + j];
            for (size_t q = 0; q < j; ++q) s -= L[i * p + q] * L[j * p + q];
            if (i == j) {
                if (!(s > 0.0)) return -1;
                L[i * p + i] = sqrt(s);
            } else {
                L[i * p + j] = s / L[j * p + j];
            }
        }
        for (size_t j = i + 1; j < p; ++j) L[i * p + j] = 0.0;
    }
    return 0;
}

/* Solves L z = b (forward substitution). */
static void forward(const double *L, size_t p, const double *b, double *z)
{
    for (size_t i = 0; i < p; ++i) {
        double s = b[i];
        for (size_t q = 0; q < i; ++q) s -= L[i * p + q] * z[q];
        z[i] = s / L[i * p + i];
    }
}

cqb_status cqb_sn_quadform(const double *rho, const double *V, size_t p, double T, double *S, cqb_error *err)
{
    *S = NAN;
    if (p == 0 || p > CQB_SN_PMAX) return cqb_error_set(err, CQB_EUSAGE, "p = %zu is not in 1..%d", p, CQB_SN_PMAX);
    double L[CQB_SN_PMAX * CQB_SN_PMAX], z[CQB_SN_PMAX], e[CQB_SN_PMAX], inv[CQB_SN_PMAX];
    int singular = cholesky(V, p, L) != 0;
    if (!singular) {
        /* reciprocal 1-norm condition number: ||V||_1 ||V^-1||_1 eps < 1 */
        double vn = 0.0, in = 0.0;
        for (size_t j = 0; j < p; ++j) {
            double cs = 0.0;
            for (size_t i = 0; i < p; ++i) cs += fabs(V[i * p + j]);
            if (cs > vn) vn = cs;
            /* column j of V^-1: L L' c = e_j */
            for (size_t i = 0; i < p; ++i) e[i] = i == j ? 1.0 : 0.0;
            forward(L, p, e, z);
            for (size_t i = p; i-- > 0;) {
                double s = z[i];
                for (size_t q = i + 1; q < p; ++q) s -= L[q * p + i] * inv[q];
                inv[i] = s / L[i * p + i];
            }
            cs = 0.0;
            for (size_t i = 0; i < p; ++i) cs += fabs(inv[i]);
            if (cs > in) in = cs;
        }
        singular = !(vn * in * DBL_EPSILON < 1.0);
    }
    if (singular) return cqb_error_set(err, CQB_EDATA, "V_hat is singular (p = %zu): the statistic is undefined", p);
    forward(L, p, rho, z);
    double s = 0.0;
    for (size_t i = 0; i < p; ++i) s += z[i] * z[i];
    *S = T * s;
    return CQB_OK;
}

/* =========================================================================
 * Simulation of the limit
 * ========================================================================= */

/* Ziggurat abscissae x_0 > x_1 = r > ... > x_256 = 0 for 256 layers of area
 * v = 0.00492867323399 with r = 3.6541528853610088 (Marsaglia and Tsang
 * 2000): x_0 = v / f(r), x_{i+1} = f^{-1}(f(x_i) + v / x_i), f(x) =
 * exp(-x^2/2). Frozen as hexadecimal literals so that the fast path does not
 * depend on the libm that computed them. */
static const double ZIG_X[257] = {
    0x1.f493b78164498p+1, 0x1.d3bb48209ad33p+1, 0x1.b981f3878f995p+1,
    0x1.a8fdc7894718cp+1, 0x1.9cbee014050dfp+1, 0x1.92ee0946f3d1ap+1,
    0x1.8ab0fbfaa7412p+1, 0x1.839030529e9c6p+1, 0x1.7d42df4d6c5c3p+1,
    0x1.779955608fd5bp+1, 0x1.72728f05f70d7p+1, 0x1.6db6b8d09d896p+1,
    0x1.69540be9fdbedp+1, 0x1.653ce7b0060dfp+1, 0x1.61669cf86140fp+1,
    0x1.5dc8a243ac693p+1, 0x1.5a5c08b718342p+1, 0x1.571b1a94ad95ap+1,
    0x1.54011523a7359p+1, 0x1.5109f53e9a131p+1, 0x1.4e3250dcd7dccp+1,
    0x1.4b7739d6b4eccp+1, 0x1.48d62759c383dp+1, 0x1.464ce44a72e74p+1,
    0x1.43d98155452d1p+1, 0x1.417a49cb9d9f6p+1, 0x1.3f2dbaa60e871p+1,
    0x1.3cf27b316f883p+1, 0x1.3ac7570ae7cb8p+1, 0x1.38ab3925634a9p+1,
    0x1.369d27a339bc1p+1, 0x1.349c405ae0606p+1, 0x1.32a7b5e6897e9p+1,
    0x1.30becd256a217p+1, 0x1.2ee0db1a96c02p+1, 0x1.2d0d43196ce88p+1,
    0x1.2b4375329fd27p+1, 0x1.2982ecd770131p+1, 0x1.27cb2faa84bcbp+1,
    0x1.261bcc7764b62p+1, 0x1.24745a4ac8e8bp+1, 0x1.22d477a6fc63bp+1,
    0x1.213bc9d04beb3p+1, 0x1.1fa9fc2e2cb18p+1, 0x1.1e1ebfbe4a036p+1,
    0x1.1c99ca9719877p+1, 0x1.1b1ad777f2157p+1, 0x1.19a1a564edd5ap+1,
    0x1.182df74d203f5p+1, 0x1.16bf93b9de06ep+1, 0x1.1556448601f9dp+1,
    0x1.13f1d69c3fab5p+1, 0x1.129219bbb4e64p+1, 0x1.1136e04206156p+1,
    0x1.0fdffefa690b2p+1, 0x1.0e8d4cf115675p+1, 0x1.0d3ea34aa2df9p+1,
    0x1.0bf3dd1eec4f7p+1, 0x1.0aacd7571b15ap+1, 0x1.0969708e892dp+1,
    0x1.082988f631e79p+1, 0x1.06ed023a716bp+1, 0x1.05b3bf6ada3acp+1,
    0x1.047da4e3ee5dbp+1, 0x1.034a983a8f2a6p+1, 0x1.021a8028fb929p+1,
    0x1.00ed447d3903dp+1, 0x1.ff859c118d567p+0, 0x1.fd360d22fc6aep+0,
    0x1.faebb187101b4p+0, 0x1.f8a6604897644p+0, 0x1.f665f20c8dff6p+0,
    0x1.f42a40fb72bc7p+0, 0x1.f1f328ac23146p+0, 0x1.efc086101ca9bp+0,
    0x1.ed923761084f7p+0, 0x1.eb681c0f74c9p+0, 0x1.e94214b2a9c5cp+0,
    0x1.e72002f97db41p+0, 0x1.e501c99c1ae6fp+0, 0x1.e2e74c4ea23a7p+0,
    0x1.e0d06fb49ae98p+0, 0x1.debd195520a7ep+0, 0x1.dcad2f8fc252p+0,
    0x1.daa0999204a4dp+0, 0x1.d8973f4d7d74dp+0, 0x1.d691096e7cc94p+0,
    0x1.d48de1533a181p+0, 0x1.d28db1037ca23p+0, 0x1.d0906328b6a39p+0,
    0x1.ce95e3068bacap+0, 0x1.cc9e1c73bb0eap+0, 0x1.caa8fbd367ccdp+0,
    0x1.c8b66e0eb8p+0, 0x1.c6c6608ec60b5p+0, 0x1.c4d8c136de693p+0,
    0x1.c2ed7e5f05369p+0, 0x1.c10486cebefa2p+0, 0x1.bf1dc9b81874ap+0,
    0x1.bd3936b2e992ep+0, 0x1.bb56bdb84fdbep+0, 0x1.b9764f1e5cf51p+0,
    0x1.b797db93f6101p+0, 0x1.b5bb541ce14a1p+0, 0x1.b3e0aa0dfe361p+0,
    0x1.b207cf09a6f7ep+0, 0x1.b030b4fc378p+0, 0x1.ae5b4e18b89dep+0,
    0x1.ac878cd5acc36p+0, 0x1.aab563e9fc731p+0, 0x1.a8e4c64a00726p+0,
    0x1.a715a724a7f4dp+0, 0x1.a547f9e0b90efp+0, 0x1.a37bb21a29d81p+0,
    0x1.a1b0c39f90b75p+0, 0x1.9fe7226faa6eap+0, 0x1.9e1ec2b6f486dp+0,
    0x1.9c5798cd5ad43p+0, 0x1.9a919933f6d92p+0, 0x1.98ccb892dfdbfp+0,
    0x1.9708ebb70a936p+0, 0x1.954627903758cp+0, 0x1.9384612eeddb8p+0,
    0x1.91c38dc2855bcp+0, 0x1.9003a297387bcp+0, 0x1.8e44951443c0ap+0,
    0x1.8c865aba0de35p+0, 0x1.8ac8e92059192p+0, 0x1.890c35f47c831p+0,
    0x1.875036f7a4f7ep+0, 0x1.8594e1fd1c628p+0, 0x1.83da2ce896f32p+0,
    0x1.82200dac85645p+0, 0x1.80667a486b99ep+0, 0x1.7ead68c73ae15p+0,
    0x1.7cf4cf3daf1d9p+0, 0x1.7b3ca3c8ae294p+0, 0x1.7984dc8ba8bcbp+0,
    0x1.77cd6faefc22dp+0, 0x1.7616535e540adp+0, 0x1.745f7dc70bc13p+0,
    0x1.72a8e5168e1a6p+0, 0x1.70f27f78b3573p+0, 0x1.6f3c43161c483p+0,
    0x1.6d86261289f28p+0, 0x1.6bd01e8b30f36p+0, 0x1.6a1a229507dcfp+0,
    0x1.6864283b0fbf7p+0, 0x1.66ae257c960d3p+0, 0x1.64f8104b6f00cp+0,
    0x1.6341de8a27a41p+0, 0x1.618b860a2e8ffp+0, 0x1.5fd4fc89f270fp+0,
    0x1.5e1e37b2f5545p+0, 0x1.5c672d17d3b48p+0, 0x1.5aafd2323e2fbp+0,
    0x1.58f81c60e4c4cp+0, 0x1.574000e552644p+0, 0x1.558774e1b7925p+0,
    0x1.53ce6d56a2c3dp+0, 0x1.5214df20a50d8p+0, 0x1.505abef5e1a6dp+0,
    0x1.4ea0016386a9cp+0, 0x1.4ce49acb2d5fdp+0, 0x1.4b287f6020506p+0,
    0x1.496ba3248525ep+0, 0x1.47adf9e6685eap+0, 0x1.45ef773ca8993p+0,
    0x1.44300e83bf25ap+0, 0x1.426fb2da63591p+0, 0x1.40ae571e05f24p+0,
    0x1.3eebede721aacp+0, 0x1.3d2869855dd8p+0, 0x1.3b63bbfb7fc17p+0,
    0x1.399dd6fb270e9p+0, 0x1.37d6abe05165dp+0, 0x1.360e2baca1034p+0,
    0x1.3444470261b6ap+0, 0x1.3278ee1f4755fp+0, 0x1.30ac10d6e0469p+0,
    0x1.2edd9e8cb647fp+0, 0x1.2d0d862e172a1p+0, 0x1.2b3bb62b7e88p+0,
    0x1.29681c7199017p+0, 0x1.2792a661d8bcdp+0, 0x1.25bb40ca92399p+0,
    0x1.23e1d7de97a07p+0, 0x1.2206572c47d17p+0, 0x1.2028a9940561p+0,
    0x1.1e48b93e088dcp+0, 0x1.1c666f8f7deb3p+0, 0x1.1a81b51ee20a3p+0,
    0x1.189a71a788c7ep+0, 0x1.16b08bfc3d191p+0, 0x1.14c3e9f8e41d8p+0,
    0x1.12d470730bf74p+0, 0x1.10e203294c4bdp+0, 0x1.0eec84b15b64dp+0,
    0x1.0cf3d664b796dp+0, 0x1.0af7d84bc0d06p+0, 0x1.08f8690719efdp+0,
    0x1.06f565b7249f9p+0, 0x1.04eea9e164ed4p+0, 0x1.02e40f5393759p+0,
    0x1.00d56e041db89p+0, 0x1.fd8537df97991p-1, 0x1.f956d9e87202bp-1,
    0x1.f51f654d83c88p-1, 0x1.f0de784efa595p-1, 0x1.ec93abdf8c395p-1,
    0x1.e83e93379ad08p-1, 0x1.e3debb5d2292dp-1, 0x1.df73aa9f0ae8dp-1,
    0x1.dafce0022edeep-1, 0x1.d679d29e3510dp-1, 0x1.d1e9f0e7fe5f7p-1,
    0x1.cd4c9fe7151cap-1, 0x1.c8a13a531630bp-1, 0x1.c3e70f95872ep-1,
    0x1.bf1d62abea23bp-1, 0x1.ba4368e51bb3p-1, 0x1.b5584874191dap-1,
    0x1.b05b16d127fd5p-1, 0x1.ab4ad6e0f24bap-1, 0x1.a62676d76d6f5p-1,
    0x1.a0eccdca3ab98p-1, 0x1.9b9c98e37c43bp-1, 0x1.96347822b1818p-1,
    0x1.90b2ea94dc2a8p-1, 0x1.8b1649e7a632cp-1, 0x1.855cc5341f023p-1,
    0x1.7f845ad45d397p-1, 0x1.798ad10b200fp-1, 0x1.736dad345c6b6p-1,
    0x1.6d2a291feca73p-1, 0x1.66bd261a2377ep-1, 0x1.60231cfd82f9bp-1,
    0x1.59580a70673c9p-1, 0x1.5257562196c1cp-1, 0x1.4b1bb363c898dp-1,
    0x1.439ef8dfe170ap-1, 0x1.3bd9ec1a11c06p-1, 0x1.33c3fc055e9edp-1,
    0x1.2b52e38621b3p-1, 0x1.227a28f78456ap-1, 0x1.192a6973f450ap-1,
    0x1.0f5053b004b4ep-1, 0x1.04d32278c832ep-1, 0x1.f32482d4807a6p-2,
    0x1.dac2f5a6f312p-2, 0x1.c004d2f328d93p-2, 0x1.a230c2e46389ep-2,
    0x1.801fce827fac5p-2, 0x1.57cb9383ae55p-2, 0x1.250af3c200a69p-2,
    0x1.b8d0be3d69918p-3, 0x0p+0
};

typedef struct sn_zig {
    double wn[512];   /* [i | sign << 8] = +-x_i 2^-23 (the sign branch-free) */
    uint32_t kn[256]; /* floor(2^23 x_{i+1} / x_i) */
    double fx[257];   /* f(x_i) */
} sn_zig;

static void zig_init(sn_zig *z)
{
    for (int i = 0; i < 256; ++i) {
        z->wn[i] = ZIG_X[i] * 0x1p-23;
        z->wn[i + 256] = -z->wn[i];
        z->kn[i] = (uint32_t)floor(ZIG_X[i + 1] / ZIG_X[i] * 8388608.0);
    }
    for (int i = 0; i < 257; ++i) z->fx[i] = exp(-0.5 * ZIG_X[i] * ZIG_X[i]);
}

/* The words a draw reads after its first: block (r << 40) | m, r = 1, 2, ... */
typedef struct sn_aux {
    uint64_t seed, sub, m, r;
    int pos;
    uint32_t w[4];
} sn_aux;

static uint32_t aux_next(sn_aux *a)
{
    if (a->pos == 4) {
        a->r++;
        cqb_philox_block(a->seed, a->sub, (a->r << 40) | a->m, a->w);
        a->pos = 0;
    }
    return a->w[a->pos++];
}

static double u01(uint32_t w) { return ((double)w + 0.5) * 0x1p-32; }

/* The ziggurat from word w on: the low 8 bits choose the layer, bit 8 the
 * sign, the high 23 bits the abscissa (Doornik's separation of layer and
 * value). */
static double zig_slow(const sn_zig *z, uint32_t w, uint64_t seed, uint64_t sub, uint64_t m)
{
    sn_aux a = {seed, sub, m, 0, 4, {0, 0, 0, 0}};
    for (;;) {
        const uint32_t i = w & 255u, u = w >> 9;
        const double X = (double)u * z->wn[i];
        const int neg = (w >> 8) & 1u;
        if (u < z->kn[i]) return neg ? -X : X;
        if (i == 0) {
            if (X < ZIG_X[1]) return neg ? -X : X;
            /* the tail beyond r (Marsaglia 1964) */
            double xt, yt;
            do {
                xt = -log(u01(aux_next(&a))) / ZIG_X[1];
                yt = -log(u01(aux_next(&a)));
            } while (yt + yt < xt * xt);
            return neg ? -(ZIG_X[1] + xt) : ZIG_X[1] + xt;
        }
        /* the wedge of layer i between x_{i+1} and x_i */
        double y = z->fx[i] + u01(aux_next(&a)) * (z->fx[i + 1] - z->fx[i]);
        if (y < exp(-0.5 * X * X)) return neg ? -X : X;
        w = aux_next(&a);
    }
}

static inline double zig_draw(const sn_zig *z, uint32_t w, uint64_t seed, uint64_t sub, uint64_t m)
{
    const uint32_t u = w >> 9;
    if (u < z->kn[w & 255u]) return (double)u * z->wn[w & 511u];
    return zig_slow(z, w, seed, sub, m);
}

double cqb_sn_normal(uint64_t seed, uint64_t subsequence, uint64_t m)
{
    sn_zig z;
    zig_init(&z);
    uint32_t w[4];
    cqb_philox_block(seed, subsequence, m >> 2, w);
    return zig_draw(&z, w[m & 3u], seed, subsequence, m);
}

static uint64_t sim_subsequence(uint64_t path, size_t d)
{
    return path | ((uint64_t)cqb_sb_tag(CQB_SN_FAMILY, (uint32_t)d, 0) << 32);
}

/* A (upper triangle of P x P) += e e' + f f', with one expression per
 * element for every P (so a path's S for p lags is bit-identical whatever
 * pmax is); constant-size copies let the compiler unroll and vectorise. */
#define SN_DEF_PAIR(PP)                                                                                  \
    static inline void pair_add_##PP(double *A, const double *e, const double *f)                       \
    {                                                                                                    \
        for (int a = 0; a < PP; ++a) {                                                                   \
            const double ea = e[a], fa = f[a];                                                           \
            double *Aa = A + a * PP;                                                                     \
            for (int c = a; c < PP; ++c) Aa[c] += ea * e[c] + fa * f[c];                                 \
        }                                                                                                \
    }
SN_DEF_PAIR(1)
SN_DEF_PAIR(2)
SN_DEF_PAIR(3)
SN_DEF_PAIR(4)
SN_DEF_PAIR(5)
SN_DEF_PAIR(6)
SN_DEF_PAIR(7)
SN_DEF_PAIR(8)
SN_DEF_PAIR(9)
SN_DEF_PAIR(10)
SN_DEF_PAIR(11)
SN_DEF_PAIR(12)

static void pair_add(double *A, const double *e, const double *f, size_t P)
{
    switch (P) {
    case 1: pair_add_1(A, e, f); return;
    case 2: pair_add_2(A, e, f); return;
    case 3: pair_add_3(A, e, f); return;
    case 4: pair_add_4(A, e, f); return;
    case 5: pair_add_5(A, e, f); return;
    case 6: pair_add_6(A, e, f); return;
    case 7: pair_add_7(A, e, f); return;
    case 8: pair_add_8(A, e, f); return;
    case 9: pair_add_9(A, e, f); return;
    case 10: pair_add_10(A, e, f); return;
    case 11: pair_add_11(A, e, f); return;
    case 12: pair_add_12(A, e, f); return;
    default: break;
    }
    for (size_t a = 0; a < P; ++a) {
        const double ea = e[a], fa = f[a];
        double *Aa = A + a * P;
        for (size_t c = a; c < P; ++c) Aa[c] += ea * e[c] + fa * f[c];
    }
}

/* S for p = pfrom..P from Sigma (lower triangle filled in V): nested
 * Cholesky, the leading p x p block of L factors the leading block of V and
 * the first p entries of z = L^{-1} b solve it. o[(p - pfrom) * paths]. */
static void sim_emit(const double *V, const double *b, size_t P, size_t pfrom, double nd, double *L, double *o,
                     size_t paths)
{
    size_t good = 0;
    if (cholesky(V, P, L) == 0) good = P;
    else {
        /* cholesky() stops at the first pivot <= 0: the rows above it hold */
        while (good < P) {
            double s = V[good * P + good];
            for (size_t q = 0; q < good; ++q) s -= L[good * P + q] * L[good * P + q];
            if (!(s > 0.0)) break;
            ++good;
        }
    }
    double s2 = 0.0, zz[CQB_SN_PMAX];
    for (size_t a = 0; a < P; ++a) {
        if (a < good) {
            double s = b[a];
            for (size_t q = 0; q < a; ++q) s -= L[a * P + q] * zz[q];
            zz[a] = s / L[a * P + a];
            s2 += zz[a] * zz[a];
        }
        if (a + 1 >= pfrom) o[(a + 1 - pfrom) * paths] = a < good ? nd * s2 : NAN;
    }
}

/* One path i. Work space: W (n+1) x P step-major, then A, V, L (P x P
 * each). The draws for p = pfrom..P and omega[w] go to
 * out[(w * np + p - pfrom) * paths + i]; rj[j] = j / n. */
static void sim_path(const sn_zig *z, uint64_t seed, uint64_t i, size_t P, size_t pfrom, size_t n, const double *rj,
                     const size_t *j0, size_t nomega, size_t jmin, double *W, double *out, size_t paths)
{
    const size_t np = P - pfrom + 1;
    double *A = W + (n + 1) * P, *V = A + P * P, *L = V + P * P;
    uint64_t sub[CQB_SN_PMAX];
    double acc[CQB_SN_PMAX];
    for (size_t d = 0; d < P; ++d) {
        sub[d] = sim_subsequence(i, d);
        acc[d] = 0.0;
        W[d] = 0.0;
    }
    /* the walk, step-major: block g of every component fills rows 4g+1..4g+4 */
    for (size_t g = 0; 4 * g < n; ++g) {
        const size_t m0 = 4 * g, nq = n - m0 < 4 ? n - m0 : 4;
        double *Wr = W + (m0 + 1) * P;
        for (size_t d = 0; d < P; ++d) {
            uint32_t w[4];
            cqb_philox_block(seed, sub[d], g, w);
            double a = acc[d];
            for (size_t q = 0; q < nq; ++q) {
                a += zig_draw(z, w[q], seed, sub[d], m0 + q);
                Wr[q * P + d] = a;
            }
            acc[d] = a;
        }
    }
    /* Sigma_w = sum_{j >= j0[w]} d_j d_j', d_j = W_j - (j/n) W_n, summed
     * downwards from j = n in pairs (n, n-1), (n-2, n-3), ... whatever the
     * omegas are; a first step j0 inside a pair gets a copy plus d_j0 d_j0'. */
    const double *b = W + n * P;
    const double nd = (double)n;
    double e[CQB_SN_PMAX], f[CQB_SN_PMAX];
    for (size_t q = 0; q < P * P; ++q) A[q] = 0.0;
    for (size_t j1 = n;; j1 -= 2) {
        const double *W1 = W + j1 * P;
        for (size_t a = 0; a < P; ++a) e[a] = W1[a] - rj[j1] * b[a];
        for (size_t w = 0; w < nomega; ++w) {
            if (j0[w] != j1) continue;
            for (size_t a = 0; a < P; ++a)
                for (size_t c = a; c < P; ++c) V[c * P + a] = A[a * P + c] + e[a] * e[c];
            sim_emit(V, b, P, pfrom, nd, L, out + w * np * paths + i, paths);
        }
        if (j1 == 0 || j1 - 1 < jmin) break;
        const double *W2 = W1 - P;
        for (size_t a = 0; a < P; ++a) f[a] = W2[a] - rj[j1 - 1] * b[a];
        pair_add(A, e, f, P);
        for (size_t w = 0; w < nomega; ++w) {
            if (j0[w] != j1 - 1) continue;
            for (size_t a = 0; a < P; ++a)
                for (size_t c = a; c < P; ++c) V[c * P + a] = A[a * P + c];
            sim_emit(V, b, P, pfrom, nd, L, out + w * np * paths + i, paths);
        }
        if (j1 < 2 || j1 - 2 < jmin) break;
    }
}

void cqb_sn_sim_opts_default(cqb_sn_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 2016;
    o->paths = 200000;
    o->steps = 2000;
}

/* ceil(n omega - 1e-9): the first step of the Riemann sum. */
static size_t first_step(size_t n, double omega)
{
    double c = ceil((double)n * omega - 1e-9);
    return c > 0.0 ? (size_t)c : 0;
}

static cqb_status sim_core(size_t P, size_t pfrom, const double *omega, size_t nomega, const cqb_sn_sim_opts *o,
                           double *out, cqb_error *err)
{
    if (P == 0 || P > CQB_SN_PMAX || pfrom == 0 || pfrom > P)
        return cqb_error_set(err, CQB_EUSAGE, "the number of lags must be in 1..%d", CQB_SN_PMAX);
    if (nomega == 0) return cqb_error_set(err, CQB_EUSAGE, "no omega given");
    for (size_t w = 0; w < nomega; ++w)
        if (!(omega[w] >= 0.0 && omega[w] < 1.0))
            return cqb_error_set(err, CQB_EUSAGE, "omega = %g is not in [0,1)", omega[w]);
    if (o->paths == 0 || o->paths > ((uint64_t)1 << 32))
        return cqb_error_set(err, CQB_EUSAGE, "the number of paths must be in 1..2^32");
    if (o->steps < 2 || o->steps > ((uint64_t)1 << 36))
        return cqb_error_set(err, CQB_EUSAGE, "the number of steps must be in 2..2^36");
    const size_t n = o->steps, paths = o->paths;
    size_t j0[64], jmin = n;
    if (nomega > 64) return cqb_error_set(err, CQB_EUSAGE, "at most 64 values of omega");
    for (size_t w = 0; w < nomega; ++w) {
        j0[w] = first_step(n, omega[w]);
        if (j0[w] >= n) return cqb_error_set(err, CQB_EUSAGE, "omega = %g leaves no steps with n = %zu", omega[w], n);
        if (j0[w] < jmin) jmin = j0[w];
    }
    const int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
    const size_t per = (n + 1) * P + 3 * P * P;
    double *work = malloc((size_t)nt * per * sizeof *work);
    double *rj = malloc((n + 1) * sizeof *rj);
    if (!work || !rj) {
        free(work);
        free(rj);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory (simulation work space)");
    }
    for (size_t j = 0; j <= n; ++j) rj[j] = (double)j / (double)n;
    sn_zig z;
    zig_init(&z);
    const size_t chunk = 4096;
    for (size_t c0 = 0; c0 < paths; c0 += chunk) {
        const size_t c1 = paths - c0 > chunk ? c0 + chunk : paths;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16)
        for (size_t i = c0; i < c1; ++i) {
            if (o->cancel && *o->cancel) continue; /* long paths: stop within the chunk */
            double *W = work + (size_t)omp_get_thread_num() * per;
            sim_path(&z, o->seed, i, P, pfrom, n, rj, j0, nomega, jmin, W, out, paths);
        }
        if (o->progress) o->progress((double)c1 / (double)paths, o->progress_user);
        if (o->cancel && *o->cancel) {
            free(work);
            free(rj);
            return cqb_error_set(err, CQB_EUSAGE, "interrupted");
        }
    }
    free(work);
    free(rj);
    return CQB_OK;
}

cqb_status cqb_sn_simulate(size_t pmax, const double *omega, size_t nomega, const cqb_sn_sim_opts *o, double *out,
                           cqb_error *err)
{
    cqb_sn_sim_opts def;
    if (!o) {
        cqb_sn_sim_opts_default(&def);
        o = &def;
    }
    return sim_core(pmax, 1, omega, nomega, o, out, err);
}

/* =========================================================================
 * The shipped table (data/sncv_table.csv; generated by `cqboot sncv`)
 * ========================================================================= */

static const double SN_LEVELS[CQB_SN_NLEVELS] = {
    0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70,
    0.75, 0.80, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96,
    0.97, 0.98, 0.99, 0.991, 0.992, 0.993, 0.994, 0.995, 0.996, 0.997, 0.998, 0.999, 0.9995, 0.9999};

#define SN_TABLE_NOMEGA 4
static const double SN_TABLE_OMEGA[SN_TABLE_NOMEGA] = {0.0, 0.03, 0.05, 0.1};

/* SN_TABLE[w][r][level]: r = p - 1 for S (p = 1..10), r = 10 for |t|. */
/* BEGIN SNCV TABLE */
/* generated by: cqboot sncv --paths 3000000 --steps 2000 --seed 2016 --omega 0,0.03,0.05,0.1 --pmax 10
 * (values as in data/sncv_table.csv, %.10g) */
static const size_t SN_TABLE_PATHS = 3000000, SN_TABLE_STEPS = 2000;
static const uint64_t SN_TABLE_SEED = 2016u;
static const double SN_TABLE[SN_TABLE_NOMEGA][CQB_SN_TABLE_PMAX + 1][CQB_SN_NLEVELS] = {
    {/* omega = 0 */
        {/* S, p = 1 */
         0.02787898552, 0.1111674714, 0.251841241, 0.4537944338, 0.7221355827, 1.065232563,
         1.492996278, 2.020822252, 2.66601646, 3.454259509, 4.423094774, 5.618118969,
         7.121361894, 9.038783006, 11.57022512, 15.0387661, 20.07667557, 21.38968282,
         22.85205969, 24.48026675, 26.29904137, 28.3597328, 30.72804999, 33.46388592,
         36.71853888, 40.66928794, 45.61827133, 51.88506115, 60.68512673, 74.20964358,
         100.3480832, 104.843197, 109.696706, 115.3867356, 122.1229458, 130.402564,
         140.9575451, 155.260263, 176.3690583, 217.2003064, 259.8365606, 377.2470998,
        },
        {/* S, p = 2 */
         0.9039721494, 1.893387392, 2.984386321, 4.188084698, 5.528384334, 7.014002662,
         8.676507073, 10.55227438, 12.67759043, 15.11174263, 17.93298164, 21.21164976,
         25.11696911, 29.90843018, 35.90244729, 43.72643768, 54.53737312, 57.24272485,
         60.21810723, 63.49524117, 67.13927604, 71.21279228, 75.82935596, 81.08909631,
         87.22062642, 94.53967482, 103.5625716, 114.8634581, 130.1993897, 153.0538504,
         195.5584653, 202.5182555, 210.4880318, 219.7499727, 230.3975877, 243.0076734,
         259.1260362, 281.0526572, 312.7615344, 370.9116071, 433.1033588, 598.2509609,
        },
        {/* S, p = 3 */
         3.86292375, 6.688160057, 9.468066591, 12.33016314, 15.34209026, 18.54711045,
         21.9872337, 25.75398965, 29.89086022, 34.52491312, 39.77343671, 45.76511174,
         52.69964368, 60.9708057, 70.99751627, 83.84600243, 101.2283504, 105.5517775,
         110.2133507, 115.3099058, 120.9706312, 127.1860954, 134.1920146, 142.2123795,
         151.4312611, 162.2685315, 175.4751568, 191.9865261, 214.1848916, 246.7083873,
         306.5515918, 316.0774589, 326.8903055, 339.2365766, 353.6183315, 371.1159545,
         392.3765345, 420.1633731, 462.5163464, 537.6706713, 617.8651729, 813.8001448,
        },
        {/* S, p = 4 */
         9.626611099, 15.21131838, 20.383952, 25.49049577, 30.70754119, 36.13738833,
         41.88700312, 48.01859316, 54.68379028, 61.95752058, 70.03619332, 79.09156101,
         89.5508198, 101.8042616, 116.5484844, 134.8997763, 159.3669119, 165.4133582,
         171.7905489, 178.7753795, 186.5205964, 195.0737766, 204.7042241, 215.6169744,
         227.9926233, 242.6204838, 260.1734472, 282.3018085, 311.6655982, 354.4661178,
         430.8991843, 443.1079847, 456.475793, 472.1183149, 490.3200638, 512.1167488,
         539.1390489, 574.5746155, 629.0179108, 720.9375417, 819.3994288, 1064.722412,
        },
        {/* S, p = 5 */
         18.77250983, 27.97009386, 36.19658493, 44.10020661, 52.00700174, 60.1207444,
         68.58271165, 77.46762591, 86.98855158, 97.35236733, 108.6717041, 121.2777516,
         135.5952595, 152.1947097, 172.0131907, 196.390316, 228.6608525, 236.4476103,
         244.9133659, 254.0779009, 264.122819, 275.2117601, 287.6640911, 301.5868189,
         317.6328168, 336.1976015, 358.4457512, 386.1008122, 422.6654765, 475.5885166,
         569.4057388, 584.4820433, 600.7452535, 619.9454092, 642.4052246, 668.3048027,
         700.9727397, 744.7326783, 805.7667419, 917.2125489, 1030.432215, 1304.20974,
        },
        {/* S, p = 6 */
         31.66971944, 45.36517771, 57.22983638, 68.44334662, 79.50065165, 90.63529856,
         102.1997654, 114.2289887, 126.950632, 140.6582835, 155.5935407, 172.1030476,
         190.6505542, 212.0270422, 237.2889495, 268.2941838, 308.7255615, 318.6416255,
         329.1934846, 340.4692588, 352.938886, 366.4587078, 381.7534962, 398.6586084,
         418.0674917, 440.967723, 468.3187393, 502.1759788, 546.1930723, 609.1407322,
         719.6586465, 737.0773728, 756.3652368, 778.2443912, 804.1092454, 835.0119101,
         873.583173, 924.5071511, 997.6696298, 1124.285797, 1251.917983, 1561.914135,
        },
        {/* S, p = 7 */
         48.75029289, 67.69912766, 83.81693516, 98.70108905, 113.3809257, 127.9435157,
         142.8380458, 158.3353563, 174.6155042, 192.0786126, 210.8745604, 231.4916931,
         254.7726461, 281.3270977, 312.4042865, 350.4969501, 399.244398, 411.0498107,
         423.739745, 437.3861145, 452.3831608, 468.5900131, 486.6457448, 507.1938183,
         530.6688075, 557.379561, 589.5218811, 629.0140333, 681.0336964, 755.1273323,
         885.9507229, 906.5416948, 928.5753179, 954.6653726, 984.7372745, 1020.583567,
         1065.842068, 1123.576899, 1204.232678, 1346.286555, 1495.151608, 1854.546426,
        },
        {/* S, p = 8 */
         70.23179258, 95.14324538, 115.9893845, 135.12376, 153.6424572, 172.0532093,
         190.7178521, 209.9105599, 230.0599144, 251.4760578, 274.5059252, 299.7206292,
         327.8154171, 359.624125, 396.7040618, 441.9881126, 499.9773206, 513.8963726,
         528.8651612, 545.0162231, 562.3477716, 581.6055872, 602.8492944, 626.6460317,
         653.6731217, 684.9731858, 722.4222457, 768.3458209, 828.3168127, 913.8741035,
         1062.99074, 1086.699617, 1112.533679, 1142.08142, 1176.433482, 1217.152604,
         1266.611775, 1331.299256, 1425.721219, 1585.337361, 1751.008799, 2134.558614,
        },
        {/* S, p = 9 */
         96.31539382, 127.9835384, 153.9422438, 177.7079833, 200.4676955, 222.9824359,
         245.6157432, 268.9274254, 293.195341, 318.8676632, 346.3999602, 376.2926107,
         409.2752602, 446.8823891, 490.52839, 543.5308631, 610.891043, 627.0333645,
         644.4792693, 663.2016565, 683.4433343, 705.3958437, 729.9122585, 757.3361485,
         788.4180789, 824.6898852, 867.5355213, 920.3247288, 988.6007777, 1086.23277,
         1254.989182, 1281.167714, 1310.186131, 1343.555168, 1382.266764, 1427.560766,
         1483.777529, 1556.612484, 1663.11806, 1840.397054, 2027.362877, 2471.858823,
        },
        {/* S, p = 10 */
         127.2884889, 166.3869088, 197.9646914, 226.6051015, 254.0350178, 280.929469,
         307.9122043, 335.5894281, 364.116722, 394.1746657, 426.3250081, 461.4853606,
         499.8855676, 543.5576949, 593.9268961, 654.6343148, 731.7175735, 750.0837585,
         769.9284903, 791.1468469, 814.1627815, 839.3782257, 867.3746381, 898.4634496,
         934.0144632, 974.7013764, 1023.261646, 1082.401723, 1159.537634, 1268.951389,
         1456.552864, 1486.034249, 1518.98909, 1555.768897, 1598.588891, 1649.515086,
         1713.717711, 1795.512359, 1913.330642, 2110.33729, 2312.402454, 2793.867337,
        },
        {/* |t| */
         0.1669700138, 0.3334178631, 0.5018378632, 0.6736426603, 0.8497856098, 1.032101043,
         1.221882269, 1.421556278, 1.632794065, 1.85856383, 2.103115492, 2.370257152,
         2.668587996, 3.006456886, 3.401503361, 3.877984799, 4.480700344, 4.624898141,
         4.780382798, 4.947753707, 5.128259097, 5.325385695, 5.543288735, 5.784797829,
         6.059582401, 6.377247677, 6.754129946, 7.203128567, 7.7900659, 8.614501935,
         10.01738904, 10.2392967, 10.47361953, 10.7418218, 11.05092511, 11.41939421,
         11.87255428, 12.46034763, 13.28040128, 14.73771714, 16.11944666, 19.42284994,
        },
    },
    {/* omega = 0.03 */
        {/* S, p = 1 */
         0.02797064383, 0.1115564315, 0.2526671654, 0.4553679973, 0.7248931835, 1.068991453,
         1.498446002, 2.028260817, 2.675844183, 3.467868012, 4.441083128, 5.641561941,
         7.152405629, 9.07958192, 11.62623194, 15.11489607, 20.18900262, 21.50998707,
         22.97788747, 24.62119267, 26.45332459, 28.53267277, 30.92369617, 33.67209757,
         36.95859975, 40.93357907, 45.9283588, 52.26475669, 61.16564395, 74.80277549,
         101.2649285, 105.7752115, 110.6921631, 116.496221, 123.439839, 131.6805457,
         142.3345095, 156.7173897, 178.2803939, 219.5502864, 263.2006969, 382.3686712,
        },
        {/* S, p = 2 */
         0.908698145, 1.903485339, 2.999872306, 4.211754823, 5.559084722, 7.054931835,
         8.729323251, 10.61757629, 12.75813145, 15.21277972, 18.05627916, 21.36098429,
         25.30489012, 30.13342116, 36.19362647, 44.09347717, 55.01680349, 57.75007601,
         60.76053603, 64.07329648, 67.76829954, 71.89578085, 76.55829566, 81.87564585,
         88.09631894, 95.5216007, 104.6614197, 116.121398, 131.6684106, 154.8729778,
         197.9482356, 205.0727098, 213.0770387, 222.5632472, 233.3867429, 246.2564617,
         262.6798611, 284.7861115, 317.3438873, 377.072761, 439.3067296, 607.3598818,
        },
        {/* S, p = 3 */
         3.890204223, 6.736166998, 9.541339283, 12.42665371, 15.4640336, 18.69810491,
         22.17162738, 25.9805897, 30.16275301, 34.84520546, 40.15704059, 46.21053975,
         53.2345907, 61.59477362, 71.77574863, 84.77953737, 102.4231015, 106.7981935,
         111.5463035, 116.7264523, 122.430547, 128.7588902, 135.8684338, 143.9968933,
         153.4139102, 164.3764108, 177.8028475, 194.5909099, 217.0880429, 250.4091258,
         311.3857021, 320.9707935, 331.9718733, 344.6551672, 359.3394876, 376.9946472,
         399.0046765, 427.3218759, 470.6754284, 547.7514575, 630.2891141, 828.7777723,
        },
        {/* S, p = 4 */
         9.711474644, 15.35592265, 20.58470014, 25.74948817, 31.03113047, 36.52374248,
         42.33752536, 48.5595521, 55.31149595, 62.68601325, 70.88791306, 80.06380262,
         90.67781869, 103.108828, 118.1056502, 136.7524177, 161.6459634, 167.8039788,
         174.2818569, 181.3738355, 189.2756411, 197.994935, 207.7750598, 218.905697,
         231.4848968, 246.3987774, 264.312163, 286.8800268, 316.8891492, 360.4313981,
         438.7715985, 450.9388737, 464.7064186, 480.8266627, 499.4378153, 521.8055722,
         549.7109339, 585.6385343, 640.5729607, 736.7816116, 834.9233767, 1085.401204,
        },
        {/* S, p = 5 */
         18.973939, 28.28873214, 36.62056789, 44.64068278, 52.66463932, 60.89719496,
         69.47684981, 78.51091538, 88.16949336, 98.70154187, 110.2225985, 123.0220285,
         137.6332328, 154.5034385, 174.6763817, 199.516027, 232.4053581, 240.4303214,
         248.9664506, 258.3439931, 268.6222627, 279.9546488, 292.7070431, 306.8478573,
         323.3003797, 342.1574906, 365.0128254, 393.2528521, 430.7208388, 484.8455656,
         581.2007729, 595.9966177, 612.7350089, 632.4992222, 655.3750993, 682.1664652,
         715.2916058, 759.6201373, 823.2411381, 937.3114931, 1054.815121, 1333.119938,
        },
        {/* S, p = 6 */
         32.07317663, 45.96849221, 58.02178427, 69.40337198, 80.65194177, 91.98714934,
         103.7409716, 115.9884984, 128.9490478, 142.9142716, 158.1297834, 174.9288371,
         193.8603357, 215.6699708, 241.4681929, 273.1230513, 314.532088, 324.6336439,
         335.370411, 346.9524247, 359.6469069, 373.6314724, 389.1377485, 406.5782797,
         426.5202152, 449.7252751, 477.7113885, 512.4742678, 557.5869374, 621.92412,
         735.0401798, 752.7743825, 772.7785383, 795.0581036, 822.8092991, 853.3293116,
         893.6342893, 947.1933906, 1021.156478, 1151.806064, 1282.188443, 1597.792031,
        },
        {/* S, p = 7 */
         49.47455731, 68.73461119, 85.12590874, 100.3056835, 115.2325124, 130.101427,
         145.2921743, 161.1004925, 177.6807691, 195.4822837, 214.6924589, 235.7544672,
         259.5560562, 286.7239217, 318.5759329, 357.4038616, 407.3959611, 419.3685469,
         432.4124729, 446.415301, 461.779039, 478.4583567, 497.0267892, 518.0466705,
         542.0657551, 569.5589406, 602.3498898, 643.2097088, 696.3134395, 772.2587087,
         906.8613492, 928.4156838, 951.2929605, 977.5353929, 1008.801891, 1046.12272,
         1091.966778, 1151.850885, 1233.846233, 1381.788697, 1532.498151, 1905.615801,
        },
        {/* S, p = 8 */
         71.36558884, 96.76148114, 118.0140687, 137.5318997, 156.4355994, 175.2273901,
         194.3185369, 213.9076328, 234.508511, 256.416095, 279.9950735, 305.7855417,
         334.5356106, 367.0662727, 405.162027, 451.4231648, 510.9636374, 525.3078085,
         540.7841862, 557.2334354, 575.1066025, 594.8429555, 616.7649134, 641.2249852,
         668.9610987, 700.9721299, 739.525794, 786.6008498, 848.0179108, 936.6732108,
         1090.526993, 1114.506952, 1140.913524, 1171.63711, 1206.942968, 1249.315601,
         1300.991476, 1366.191863, 1462.593118, 1627.193431, 1798.379391, 2207.532852,
        },
        {/* S, p = 9 */
         98.03090924, 130.3443707, 156.8620245, 181.1472255, 204.463099, 227.476754,
         250.6379335, 274.4911157, 299.3211745, 325.5872294, 353.8587713, 384.5189089,
         418.2790406, 456.8668916, 501.7034168, 556.1847984, 625.4358158, 642.0050452,
         659.7745216, 679.0948497, 699.8320664, 722.5241286, 747.9301046, 775.950092,
         807.9985322, 845.0718992, 889.2310447, 943.6639302, 1014.304596, 1114.541539,
         1289.199938, 1316.470564, 1346.557418, 1380.386281, 1419.719309, 1465.854943,
         1524.144372, 1599.850328, 1708.416424, 1894.816976, 2084.173676, 2547.419408,
        },
        {/* S, p = 10 */
         129.7914483, 169.7567934, 202.0541203, 231.382155, 259.4819467, 287.0035643,
         314.694704, 343.0184429, 372.2704078, 403.1650639, 436.1648011, 472.2293427,
         511.7078977, 556.487062, 608.4052857, 670.7769568, 750.0413491, 768.9409,
         789.3716711, 811.2285954, 835.0528476, 860.9418188, 889.7427536, 921.7566611,
         958.4940887, 1000.387077, 1050.508783, 1111.460652, 1191.054389, 1303.599126,
         1497.831308, 1528.445114, 1562.682681, 1600.451301, 1644.147207, 1696.337846,
         1761.845617, 1846.855656, 1968.133215, 2172.709201, 2384.338662, 2876.785962,
        },
        {/* |t| */
         0.167244264, 0.3340006459, 0.5026600894, 0.6748096008, 0.8514065912, 1.033920429,
         1.22411029, 1.424170221, 1.635800777, 1.862221257, 2.10738775, 2.375197242,
         2.674398181, 3.013234461, 3.40972608, 3.88778807, 4.493217401, 4.637886056,
         4.793525579, 4.961974674, 5.143279555, 5.341598335, 5.560907854, 5.802766372,
         6.079358498, 6.397935532, 6.777046466, 7.229436817, 7.820846754, 8.64885978,
         10.06304767, 10.28470765, 10.52103432, 10.79334151, 11.11034828, 11.47521441,
         11.93040274, 12.51868163, 13.35216814, 14.81722938, 16.22346131, 19.55424944,
        },
    },
    {/* omega = 0.05 */
        {/* S, p = 1 */
         0.0281295217, 0.1121860457, 0.2541757678, 0.4581642142, 0.7292410994, 1.075546131,
         1.50752865, 2.041016218, 2.692615624, 3.490822819, 4.472017063, 5.681422121,
         7.204222514, 9.148195146, 11.71887667, 15.24184969, 20.3711037, 21.70341804,
         23.1933284, 24.84471125, 26.70678779, 28.81422401, 31.22898802, 34.01709461,
         37.3384593, 41.37700848, 46.43018802, 52.85413715, 61.87612751, 75.73164999,
         102.756325, 107.2007047, 112.2617979, 118.1910424, 125.3244999, 133.6583549,
         144.5055234, 158.9369031, 181.3096426, 223.1347026, 267.7789444, 387.2532654,
        },
        {/* S, p = 2 */
         0.9164051068, 1.91995747, 3.026338461, 4.249529359, 5.610803537, 7.123352832,
         8.816261638, 10.72465075, 12.89176156, 15.37613288, 18.25160551, 21.60530415,
         25.60168112, 30.49476779, 36.6492598, 44.67080822, 55.77303317, 58.54856468,
         61.61224864, 64.99177896, 68.75176866, 72.92785763, 77.68266042, 83.10384592,
         89.45418213, 96.99753772, 106.2761858, 118.0562065, 133.8845481, 157.560183,
         201.5794007, 208.9564747, 216.9964634, 226.5927778, 237.7887164, 250.9200947,
         267.7716973, 290.6832146, 323.8864458, 384.8455284, 448.8220934, 624.1047083,
        },
        {/* S, p = 3 */
         3.930764551, 6.815514533, 9.65504657, 12.58156529, 15.66395382, 18.94214639,
         22.47331703, 26.33255315, 30.59056668, 35.35230995, 40.75188902, 46.90182126,
         54.0590392, 62.5796483, 72.94851117, 86.19417256, 104.2309811, 108.6689975,
         113.5085784, 118.8214732, 124.6265209, 131.0702597, 138.3603188, 146.6733755,
         156.2764526, 167.5834751, 181.2525443, 198.5175693, 221.4802614, 255.5560899,
         318.1622814, 327.862193, 338.9958122, 352.0515422, 367.3236595, 385.232175,
         407.8700859, 437.5973415, 480.9980631, 560.436024, 645.0552583, 849.7011623,
        },
        {/* S, p = 4 */
         9.84906452, 15.58140443, 20.90138129, 26.14425716, 31.51265477, 37.12484858,
         43.03891064, 49.38267604, 56.26673727, 63.77779968, 72.14452101, 81.50641734,
         92.35556385, 105.0752863, 120.3771771, 139.4563644, 164.9721709, 171.2152499,
         177.8797749, 185.1480807, 193.2374584, 202.2193995, 212.1741734, 223.61329,
         236.5100209, 251.8345502, 270.1323162, 293.3858808, 323.9661056, 368.7733141,
         449.2549306, 461.8925988, 476.1631076, 492.7781225, 511.5961985, 534.5635574,
         564.0732248, 600.5978825, 656.6744195, 756.1131487, 854.6545703, 1112.02862,
        },
        {/* S, p = 5 */
         19.29542169, 28.76954438, 37.27635144, 45.46129345, 53.64262139, 62.05056049,
         70.80691546, 80.05146508, 89.92787879, 100.70124, 112.4750304, 125.5992174,
         140.5488936, 157.8653697, 178.4969515, 203.9780579, 237.7199411, 245.9547998,
         254.7888055, 264.3628501, 274.9293178, 286.6125611, 299.6383028, 314.1353583,
         331.0559514, 350.4446231, 373.7949053, 402.9768323, 441.5611616, 497.2917778,
         596.3918057, 611.6514137, 629.5242385, 649.6336404, 672.6821172, 699.921478,
         734.5413822, 779.9669845, 846.7246426, 963.2070146, 1087.052036, 1378.83836,
        },
        {/* S, p = 6 */
         32.65967557, 46.86606809, 59.18146429, 70.83703159, 82.33592979, 93.93364323,
         105.9930498, 118.5062423, 131.8056834, 146.1290645, 161.7508947, 178.9598107,
         198.3930515, 220.8062272, 247.2966476, 279.8005761, 322.4241767, 332.7921235,
         343.8520675, 355.7901552, 368.7170526, 383.1868978, 399.0722902, 417.0505478,
         437.6840684, 461.5370003, 490.2424984, 526.0917752, 572.6560335, 639.1487058,
         755.5160999, 774.1650679, 794.2747361, 818.0099114, 845.8455702, 877.8402915,
         918.6697459, 973.5002736, 1050.415652, 1186.802752, 1318.430774, 1644.964082,
        },
        {/* S, p = 7 */
         50.4955586, 70.19564486, 87.00837975, 102.5675635, 117.8797392, 133.1431032,
         148.6964164, 164.9163436, 181.981848, 200.2570547, 220.0102899, 241.712205,
         266.1037953, 294.0435188, 326.8659152, 366.893876, 418.2769418, 430.6942535,
         443.942173, 458.4597072, 474.2473692, 491.4478131, 510.6841135, 532.3941095,
         557.0658158, 585.382756, 619.6721866, 661.7256201, 716.1377613, 794.6560989,
         933.7522011, 955.095319, 979.4843962, 1007.14138, 1039.347193, 1077.760397,
         1124.123217, 1186.707877, 1271.563247, 1422.358958, 1579.949947, 1969.997739,
        },
        {/* S, p = 8 */
         72.9919941, 99.03657546, 120.7988797, 140.8713852, 160.2998789, 179.6595053,
         199.1915299, 219.3687274, 240.5824899, 263.1163621, 287.3827873, 313.9158802,
         343.4692533, 377.0541136, 416.3136559, 464.1357277, 525.4217805, 540.2047859,
         556.1245651, 573.1128187, 591.5248795, 611.9781182, 634.5858509, 659.7284325,
         688.4356465, 721.8541225, 761.2068088, 809.736485, 873.4048064, 964.6774727,
         1123.899123, 1148.624141, 1176.098457, 1207.499067, 1245.358239, 1288.160843,
         1342.204631, 1410.467932, 1509.785764, 1679.082347, 1854.350625, 2289.698094,
        },
        {/* S, p = 9 */
         100.4461162, 133.6451225, 160.8965868, 185.8418109, 209.8010666, 233.519072,
         257.3816125, 281.899126, 307.4809049, 334.5664918, 363.6640155, 395.2229558,
         430.1212678, 469.9285402, 516.157318, 572.2972884, 643.9105559, 661.0219493,
         679.4911861, 699.2619133, 720.7767703, 744.3032153, 770.2837079, 799.3307909,
         832.3836268, 871.0259432, 916.6089919, 972.4142632, 1045.514868, 1149.417454,
         1329.855045, 1358.254175, 1389.70948, 1424.653755, 1465.414234, 1514.532777,
         1574.012529, 1652.32973, 1761.989473, 1956.986314, 2157.879053, 2637.450317,
        },
        {/* S, p = 10 */
         133.1439322, 174.2911859, 207.5259767, 237.745789, 266.6111626, 294.9529601,
         323.5450516, 352.7432879, 382.9722313, 414.7549173, 448.8105619, 486.0038842,
         526.7755609, 573.0658104, 626.6837124, 691.1757995, 772.9661862, 792.5699544,
         813.5264262, 836.1651334, 860.8970636, 887.6806769, 917.262229, 950.7008554,
         988.5640818, 1031.972588, 1083.472993, 1146.975671, 1229.277511, 1345.525007,
         1547.779781, 1578.050926, 1612.592938, 1652.604905, 1697.781468, 1753.401384,
         1820.19439, 1907.292357, 2033.195863, 2248.359092, 2464.164891, 2978.931751,
        },
        {/* |t| */
         0.1677185789, 0.3349418542, 0.5041584749, 0.6768782861, 0.8539561461, 1.037085402,
         1.227814583, 1.428641389, 1.64091914, 1.868374379, 2.114714416, 2.383573393,
         2.684068277, 3.024598345, 3.423284486, 3.904081158, 4.513435909, 4.658692739,
         4.815945224, 4.984446936, 5.167861046, 5.367888227, 5.588290259, 5.832417561,
         6.110520379, 6.432496287, 6.813970063, 7.270085085, 7.86613803, 8.702393348,
         10.13687945, 10.35377731, 10.59536681, 10.87157037, 11.19484256, 11.56107067,
         12.02104502, 12.60701801, 13.46512691, 14.93769402, 16.36395259, 19.67875162,
        },
    },
    {/* omega = 0.1 */
        {/* S, p = 1 */
         0.02885646109, 0.1150441624, 0.2607560186, 0.4701544177, 0.7486963152, 1.104654963,
         1.548813528, 2.097490702, 2.76897991, 3.591143736, 4.603570239, 5.853994985,
         7.429613463, 9.446112301, 12.11331947, 15.78788538, 21.13754113, 22.53012126,
         24.08154356, 25.80791374, 27.75683421, 29.97496026, 32.52211236, 35.43355117,
         38.92841055, 43.1845555, 48.48432058, 55.29729325, 64.76860756, 79.45981306,
         108.2092967, 112.8867603, 118.4573882, 124.7150236, 132.2669016, 141.2289044,
         152.8045051, 168.4688484, 191.9429496, 237.7441125, 285.4292286, 413.1234391,
        },
        {/* S, p = 2 */
         0.9495108499, 1.989849923, 3.140362141, 4.410837464, 5.829060802, 7.409890413,
         9.179814305, 11.17237509, 13.4461893, 16.05904132, 19.07938842, 22.6060481,
         26.83201671, 32.00074583, 38.4696299, 47.00508287, 58.78317098, 61.76843577,
         65.03502832, 68.64488466, 72.61754591, 77.05982592, 82.10203016, 87.89385438,
         94.65208341, 102.7462387, 112.606992, 125.2610502, 142.3398332, 167.5238353,
         215.3181422, 223.0419682, 231.7536848, 242.217974, 254.0143366, 268.224036,
         286.6033524, 311.2295616, 348.0063496, 412.5178925, 484.3679667, 673.3466931,
        },
        {/* S, p = 3 */
         4.108029961, 7.13843323, 10.12464259, 13.2123344, 16.45980583, 19.93475975,
         23.67598414, 27.77398357, 32.30249181, 37.3635772, 43.10277221, 49.67213937,
         57.30444409, 66.42306424, 77.50483137, 91.72231045, 111.0979504, 115.8566477,
         121.0347335, 126.7266011, 133.0075697, 139.9471743, 147.8423945, 156.780562,
         167.0639073, 179.3972408, 194.1190382, 212.827371, 237.8491663, 274.3719872,
         342.5204623, 353.1790569, 365.3102366, 379.064105, 395.2804411, 415.3038379,
         439.5491215, 472.6540267, 519.0031394, 605.2529312, 697.8812128, 926.0365554,
        },
        {/* S, p = 4 */
         10.38763786, 16.46183603, 22.12188403, 27.70349993, 33.46551297, 39.43887203,
         45.77207493, 52.56856877, 59.92924167, 68.00450695, 76.99354027, 87.09303088,
         98.74703673, 112.4882721, 128.9660493, 149.632943, 177.1589896, 183.9072879,
         191.2436477, 199.2133616, 207.9449043, 217.6035367, 228.5236807, 240.7513077,
         254.8963349, 271.4477974, 291.4655052, 316.5130362, 349.9077938, 398.9581008,
         486.3342283, 500.300445, 515.7217588, 533.603866, 554.5474795, 580.0633116,
         611.1710278, 651.5023454, 713.3865858, 820.1086401, 929.8429584, 1215.183928,
        },
        {/* S, p = 5 */
         20.48752168, 30.6541484, 39.76063801, 48.54724454, 57.34424521, 66.38899506,
         75.83638215, 85.81187832, 96.51923717, 108.1089576, 120.8397742, 135.1280793,
         151.2837754, 170.1265055, 192.462531, 220.2497989, 256.9064423, 265.8852337,
         275.462678, 285.9600414, 297.4549858, 310.2067555, 324.3398083, 340.2727152,
         358.4783799, 379.8943553, 405.5900416, 437.3274667, 479.0926826, 540.0326339,
         648.5599786, 665.3448238, 685.0536653, 707.0289849, 732.7162232, 763.9392349,
         801.7535844, 850.9682977, 924.218453, 1053.162995, 1187.903487, 1507.453604,
        },
        {/* S, p = 6 */
         34.97531946, 50.24840025, 63.51318591, 76.11307037, 88.56975711, 101.1857411,
         114.1891095, 127.7805753, 142.2265865, 157.7776761, 174.7190079, 193.4481068,
         214.7112038, 239.1091618, 267.9642453, 303.463379, 350.0920372, 361.2480641,
         373.2948075, 386.3679259, 400.6870721, 416.3347648, 433.9402227, 453.5538144,
         475.9752828, 502.3000773, 533.9660625, 572.9380337, 623.9959838, 697.0741862,
         825.4565349, 845.792892, 868.464641, 893.9566764, 924.0803075, 960.3836808,
         1006.919407, 1067.479505, 1148.15358, 1296.400904, 1441.103888, 1813.169989,
        },
        {/* S, p = 7 */
         54.31454154, 75.63673175, 93.80404926, 110.7662342, 127.43171, 143.9751375,
         161.0135083, 178.6552789, 197.2091402, 217.1833072, 238.7353957, 262.4744064,
         289.1253053, 319.6379906, 355.5554555, 399.3449744, 455.8722087, 469.3187893,
         483.8861952, 499.6812382, 516.9666918, 536.1112996, 557.2856989, 581.0611391,
         607.9008876, 639.3137631, 676.7931515, 722.8890988, 782.7534433, 869.4810285,
         1022.659871, 1046.769766, 1074.161046, 1104.833031, 1139.933703, 1179.527549,
         1233.016689, 1298.711111, 1393.839908, 1563.26074, 1735.511191, 2176.188903,
        },
        {/* S, p = 8 */
         78.83709367, 107.1493386, 130.8444271, 152.6925635, 173.9380925, 194.9837127,
         216.3863486, 238.5046599, 261.7240229, 286.4282269, 313.0266228, 341.9631006,
         374.3339176, 411.1997373, 454.2601852, 506.7750661, 574.2696296, 590.2612089,
         607.6063587, 626.2524182, 646.8635953, 669.2626031, 694.0424222, 721.8227136,
         753.4330264, 790.092215, 833.6448379, 886.9508565, 956.8831763, 1057.508161,
         1234.089012, 1261.463847, 1291.646239, 1325.460438, 1365.859069, 1413.967935,
         1473.211453, 1550.134528, 1657.645512, 1844.26267, 2041.208443, 2539.192374,
        },
        {/* S, p = 9 */
         108.9072199, 145.0325367, 174.9188197, 202.2328533, 228.3612423, 254.3912137,
         280.5260272, 307.4042921, 335.421357, 365.2356234, 397.0115371, 431.6501673,
         470.05826, 513.7843728, 564.7073734, 626.5131034, 705.1502281, 723.9764872,
         744.0508613, 766.0405542, 789.7494615, 815.6312409, 844.3949843, 876.323641,
         912.9839422, 955.0312176, 1005.535415, 1067.682352, 1149.009935, 1262.859611,
         1462.526645, 1493.788524, 1527.984844, 1565.784282, 1611.082235, 1664.589738,
         1730.648678, 1816.226756, 1935.215586, 2157.33562, 2371.643102, 2923.690396,
        },
        {/* S, p = 10 */
         144.7257853, 189.7469389, 226.1964476, 259.3109387, 291.0586636, 322.1344679,
         353.4424874, 385.5006525, 418.6715417, 453.6985726, 491.2633842, 531.9715095,
         577.0051405, 627.8190605, 687.0166515, 757.8839421, 848.1283551, 869.809418,
         892.8999424, 917.925458, 944.8992266, 974.3026935, 1007.257985, 1044.125263,
         1085.837596, 1134.237043, 1191.494203, 1261.755255, 1351.494431, 1480.306592,
         1704.110039, 1737.13585, 1775.322849, 1817.968855, 1868.849337, 1929.811912,
         2004.038807, 2099.746492, 2238.783291, 2477.13817, 2721.10895, 3322.563693,
        },
        {/* |t| */
         0.1698718961, 0.3391816068, 0.5106427505, 0.6856780715, 0.8652723936, 1.051025672,
         1.24451337, 1.448271626, 1.664025213, 1.895031329, 2.145593214, 2.419503045,
         2.72573173, 3.07345283, 3.480419439, 3.973397209, 4.59755817, 4.746590488,
         4.907294933, 5.080148988, 5.268475511, 5.474939293, 5.702816178, 5.95260877,
         6.239263623, 6.571495682, 6.963068331, 7.436214981, 8.047894604, 8.914023393,
         10.40236976, 10.62481813, 10.88381313, 11.16758808, 11.50073483, 11.88397679,
         12.36141194, 12.97955502, 13.85434768, 15.41895303, 16.89465089, 20.32543823,
        },
    },
};
/* END SNCV TABLE */

const double *cqb_sn_table_levels(void) { return SN_LEVELS; }

void cqb_sn_table_info(size_t *paths, size_t *steps, uint64_t *seed)
{
    if (paths) *paths = SN_TABLE_PATHS;
    if (steps) *steps = SN_TABLE_STEPS;
    if (seed) *seed = SN_TABLE_SEED;
}

/* The table row for (kind, p, omega), or NULL. */
static const double *table_row(cqb_sn_kind kind, size_t p, double omega)
{
    if (SN_TABLE_PATHS == 0) return NULL;
    if (kind == CQB_SN_S ? (p < 1 || p > CQB_SN_TABLE_PMAX) : p != 1) return NULL;
    for (size_t w = 0; w < SN_TABLE_NOMEGA; ++w)
        if (omega == SN_TABLE_OMEGA[w]) return SN_TABLE[w][kind == CQB_SN_S ? p - 1 : CQB_SN_TABLE_PMAX];
    return NULL;
}

double cqb_sn_table_lookup(cqb_sn_kind kind, size_t p, double omega, double level)
{
    const double *row = table_row(kind, p, omega);
    if (!row) return NAN;
    for (size_t i = 0; i < CQB_SN_NLEVELS; ++i)
        if (level == SN_LEVELS[i]) return row[i];
    return NAN;
}

/* =========================================================================
 * Reference distributions
 * ========================================================================= */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

cqb_status cqb_sn_dist_init(cqb_sn_dist *d, cqb_sn_kind kind, size_t p, double omega, const cqb_sn_sim_opts *sim,
                            int force_sim, cqb_error *err)
{
    memset(d, 0, sizeof *d);
    if (kind != CQB_SN_S && kind != CQB_SN_ABS_T) return cqb_error_set(err, CQB_EUSAGE, "unknown statistic kind");
    if (kind == CQB_SN_ABS_T && p != 1) return cqb_error_set(err, CQB_EUSAGE, "the |t| distribution has p = 1");
    if (p < 1 || p > CQB_SN_PMAX) return cqb_error_set(err, CQB_EUSAGE, "p = %zu is not in 1..%d", p, CQB_SN_PMAX);
    if (!(omega >= 0.0 && omega < 1.0)) return cqb_error_set(err, CQB_EUSAGE, "omega = %g is not in [0,1)", omega);
    d->kind = kind;
    d->p = p;
    d->omega = omega;
    const double *row = force_sim ? NULL : table_row(kind, p, omega);
    if (row) {
        d->source = CQB_SN_TABLE;
        d->grid = row;
        cqb_sn_table_info(&d->paths, &d->steps, &d->seed);
        return CQB_OK;
    }
    cqb_sn_sim_opts def;
    if (!sim) {
        cqb_sn_sim_opts_default(&def);
        sim = &def;
    }
    double *x = malloc((sim->paths ? sim->paths : 1) * sizeof *x);
    if (!x) return cqb_error_set(err, CQB_ENOMEM, "out of memory (%zu simulated paths)", sim->paths);
    cqb_status st = sim_core(p, p, &omega, 1, sim, x, err);
    if (st != CQB_OK) {
        free(x);
        return st;
    }
    size_t m = 0;
    for (size_t i = 0; i < sim->paths; ++i)
        if (!isnan(x[i])) x[m++] = kind == CQB_SN_ABS_T ? sqrt(x[i]) : x[i];
    if (m == 0) {
        free(x);
        return cqb_error_set(err, CQB_EINTERNAL, "no finite simulated draw");
    }
    qsort(x, m, sizeof *x, cmp_double);
    d->source = CQB_SN_SIMULATED;
    d->draws = x;
    d->ndraws = m;
    d->seed = sim->seed;
    d->paths = sim->paths;
    d->steps = sim->steps;
    return CQB_OK;
}

void cqb_sn_dist_free(cqb_sn_dist *d)
{
    if (!d) return;
    free(d->draws);
    d->draws = NULL;
    d->ndraws = 0;
}

double cqb_sn_dist_quantile(const cqb_sn_dist *d, double level)
{
    if (!(level >= 0.0 && level <= 1.0)) return NAN;
    if (d->source == CQB_SN_SIMULATED) return cqb_quantile_sorted(CQB_Q_R7_LE, d->draws, d->ndraws, level);
    if (level < SN_LEVELS[0] || level > SN_LEVELS[CQB_SN_NLEVELS - 1]) return NAN;
    for (size_t i = 0; i < CQB_SN_NLEVELS; ++i) {
        if (level == SN_LEVELS[i]) return d->grid[i];
        if (level < SN_LEVELS[i]) {
            double f = (level - SN_LEVELS[i - 1]) / (SN_LEVELS[i] - SN_LEVELS[i - 1]);
            return d->grid[i - 1] + f * (d->grid[i] - d->grid[i - 1]);
        }
    }
    return NAN;
}

double cqb_sn_dist_pvalue(const cqb_sn_dist *d, double x, int *bound)
{
    if (bound) *bound = 0;
    if (isnan(x)) return NAN;
    if (d->source == CQB_SN_SIMULATED) {
        size_t lo = 0, hi = d->ndraws; /* first draw >= x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (d->draws[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        size_t c = d->ndraws - lo;
        if (c == 0) {
            if (bound) *bound = 1;
            return 1.0 / (double)d->ndraws;
        }
        return (double)c / (double)d->ndraws;
    }
    const double *g = d->grid;
    const size_t last = CQB_SN_NLEVELS - 1;
    if (x <= 0.0) return 1.0;
    if (x >= g[last]) {
        if (bound) *bound = 1;
        return 1.0 - SN_LEVELS[last];
    }
    if (x < g[0]) return 1.0 - SN_LEVELS[0] * x / g[0];
    size_t i = 0;
    while (i + 1 < last && g[i + 1] <= x) ++i;
    double F = SN_LEVELS[i];
    if (g[i + 1] > g[i]) F += (SN_LEVELS[i + 1] - SN_LEVELS[i]) * (x - g[i]) / (g[i + 1] - g[i]);
    return 1.0 - F;
}

/* =========================================================================
 * The tests
 * ========================================================================= */

void cqb_sn_opts_default(cqb_sn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->omega = 0.1;
    cqb_sn_sim_opts_default(&o->sim);
}

/* Fills the reference part of out from o->dist or a new distribution. */
static cqb_status finish_ref(const cqb_sn_opts *o, cqb_sn_kind kind, size_t p, double stat, cqb_sn_result *out,
                             cqb_error *err)
{
    cqb_sn_dist own;
    const cqb_sn_dist *d = o->dist;
    if (d) {
        if (d->kind != kind || d->p != p || d->omega != o->omega)
            return cqb_error_set(err, CQB_EUSAGE,
                                 "the reference distribution is for %s, p = %zu, omega = %g; the test needs %s, p = %zu, "
                                 "omega = %g",
                                 d->kind == CQB_SN_S ? "S" : "|t|", d->p, d->omega, kind == CQB_SN_S ? "S" : "|t|", p,
                                 o->omega);
    } else {
        cqb_status st = cqb_sn_dist_init(&own, kind, p, o->omega, &o->sim, o->force_sim, err);
        if (st != CQB_OK) return st;
        d = &own;
    }
    static const double lv[3] = {0.90, 0.95, 0.99};
    for (int i = 0; i < 3; ++i) out->cv[i] = cqb_sn_dist_quantile(d, lv[i]);
    out->pvalue = cqb_sn_dist_pvalue(d, kind == CQB_SN_S ? stat : fabs(stat), &out->pvalue_bound);
    out->source = d->source;
    out->ref_paths = d->paths;
    out->ref_steps = d->steps;
    out->ref_seed = d->seed;
    if (!o->dist) cqb_sn_dist_free(&own);
    return CQB_OK;
}

static cqb_status check_common(const cqb_sn_opts *o, cqb_error *err)
{
    if (!o) return cqb_error_set(err, CQB_EUSAGE, "self-normalised test: no options");
    if (!(o->omega >= 0.0 && o->omega < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "omega = %g is not in [0,1)", o->omega);
    return CQB_OK;
}

cqb_status cqb_sn_test(const cqb_cq_input *in, double ay, double ax, size_t p, const cqb_sn_opts *o,
                       cqb_sn_result *out, cqb_error *err)
{
    memset(out, 0, sizeof *out);
    cqb_status st = check_common(o, err);
    if (st != CQB_OK) return st;
    if (p < 1 || p > CQB_SN_PMAX) return cqb_error_set(err, CQB_EUSAGE, "p = %zu is not in 1..%d", p, CQB_SN_PMAX);
    if ((st = check_input(in, ay, ax, err)) != CQB_OK) return st;
    cqb_cq_input plain = *in;
    plain.ctl = NULL;
    plain.nctl = 0;
    const size_t T = in->T, s_lo = cqb_sn_first_s(&plain, p, o->omega);
    if (s_lo > T || T - s_lo < p)
        return cqb_error_set(err, CQB_EUSAGE,
                             "T = %zu is too small for %zu lags with omega = %g (the prefixes s = %zu..T must give at "
                             "least p = %zu terms with s < T)",
                             T, p, o->omega, s_lo, p);
    const size_t n_s = T - s_lo + 1;
    double *path = malloc(n_s * p * sizeof *path);
    size_t lags[CQB_SN_PMAX];
    if (!path) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    for (size_t k = 0; k < p; ++k) lags[k] = k + 1;
    st = cqb_sn_paths(&plain, ay, ax, lags, p, s_lo, path, NULL, err);
    if (st != CQB_OK) {
        free(path);
        return st;
    }
    out->T = T;
    out->p = p;
    out->omega = o->omega;
    out->s_lo = s_lo;
    out->n_s = n_s;
    memcpy(out->rho, path + (n_s - 1) * p, p * sizeof *path);
    cqb_sn_vhat(path, s_lo, T, p, out->V, &out->n_skipped);
    free(path);
    cqb_error qerr;
    cqb_status qst = cqb_sn_quadform(out->rho, out->V, p, (double)T, &out->stat, &qerr);
    if ((st = finish_ref(o, CQB_SN_S, p, out->stat, out, err)) != CQB_OK) return st;
    if (qst != CQB_OK) {
        if (err) *err = qerr;
        return qst;
    }
    return CQB_OK;
}

cqb_status cqb_sn_ttest(const cqb_cq_input *in, double ay, double ax, size_t k, const cqb_sn_opts *o,
                        cqb_sn_result *out, cqb_error *err)
{
    memset(out, 0, sizeof *out);
    cqb_status st = check_common(o, err);
    if (st != CQB_OK) return st;
    if ((st = check_input(in, ay, ax, err)) != CQB_OK) return st;
    const size_t T = in->T;
    if (k >= T) return cqb_error_set(err, CQB_EUSAGE, "lag %zu is not below T = %zu", k, T);
    const size_t s_lo = cqb_sn_first_s(in, k, o->omega);
    if (s_lo > T || T - s_lo < 1)
        return cqb_error_set(err, CQB_EUSAGE,
                             "T = %zu is too small for lag %zu with omega = %g (the prefixes s = %zu..T must include one "
                             "with s < T)",
                             T, k, o->omega, s_lo);
    const size_t n_s = T - s_lo + 1;
    const int partial = in->nctl > 0;
    double *path = malloc(n_s * sizeof *path);
    if (!path) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    st = cqb_sn_paths(in, ay, ax, &k, 1, s_lo, partial ? NULL : path, partial ? path : NULL, err);
    if (st != CQB_OK) {
        free(path);
        return st;
    }
    out->T = T;
    out->p = 1;
    out->lag = k;
    out->partial = partial;
    out->omega = o->omega;
    out->s_lo = s_lo;
    out->n_s = n_s;
    out->rho[0] = path[n_s - 1];
    if (isnan(out->rho[0])) {
        free(path);
        out->stat = out->pvalue = NAN;
        return cqb_error_set(err, CQB_EDATA,
                             "the hit Gram matrix of y, x and the controls is singular at lag %zu (alpha_y %g, alpha_x "
                             "%g): a control duplicates another variable's hits",
                             k, ay, ax);
    }
    cqb_sn_vhat(path, s_lo, T, 1, out->V, &out->n_skipped);
    free(path);
    const int singular = !(out->V[0] > 0.0);
    out->stat = singular ? NAN : sqrt((double)T) * out->rho[0] / sqrt(out->V[0]);
    if ((st = finish_ref(o, CQB_SN_ABS_T, 1, out->stat, out, err)) != CQB_OK) return st;
    if (singular)
        return cqb_error_set(err, CQB_EDATA, "V_hat is zero at lag %zu: the t-statistic is undefined", k);
    return CQB_OK;
}
