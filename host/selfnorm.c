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
static const size_t SN_TABLE_PATHS = 0, SN_TABLE_STEPS = 0;
static const uint64_t SN_TABLE_SEED = 0;
static const double SN_TABLE[SN_TABLE_NOMEGA][CQB_SN_TABLE_PMAX + 1][CQB_SN_NLEVELS] = {{{0}}};
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
