/* nullboot.c — null-imposing resampling of the CQ: the exact-count
 * stationary bootstrap and circular rotation (cqboot/nullboot.h,
 * docs/calibrated.md).
 *
 * Per replicate and lag: a level code per aligned row of y and of x, a
 * (ny+1) x (nx+1) histogram of code pairs, 2-D prefix sums -> the joint hit
 * counts of every cell, then cqb_cq_from_counts() with the sample's n1, n2
 * (which the exact-count rule keeps). Integer work only until the epilogue,
 * replicates independent: the OpenMP split cannot change a number.
 */
#include "cqboot/nullboot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/blocklen.h"
#include "cqboot/philox.h"
#include "cqboot/sbresample.h"

#define MAXL 64

int cqb_null_scheme_parse(const char *s, cqb_null_scheme *out)
{
    if (!strcmp(s, "sb")) *out = CQB_NULL_SB;
    else if (!strcmp(s, "rotation")) *out = CQB_NULL_ROTATION;
    else return -1;
    return 0;
}

const char *cqb_null_scheme_name(cqb_null_scheme s)
{
    return s == CQB_NULL_ROTATION ? "rotation" : s == CQB_NULL_STRAT_ROTATION ? "stratified_rotation" : "sb";
}

typedef struct vitem {
    double v;
    uint32_t row;
} vitem;

static int cmp_vitem(const void *a, const void *b)
{
    const vitem *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rank[i] = position of row i in ascending (value, row) order. */
static int make_rank(const double *v, size_t T, uint32_t *rank)
{
    vitem *it = malloc(T * sizeof *it);
    if (!it) return -1;
    for (size_t i = 0; i < T; ++i) {
        it[i].v = v[i];
        it[i].row = (uint32_t)i;
    }
    qsort(it, T, sizeof *it, cmp_vitem);
    for (size_t i = 0; i < T; ++i) rank[it[i].row] = (uint32_t)i;
    free(it);
    return 0;
}

void cqb_null_plan_free(cqb_null_plan *p)
{
    free(p->lag); free(p->r0); free(p->N); free(p->n1); free(p->n2); free(p->rank_y); free(p->rank_x);
    free(p->pcode_y); free(p->pcode_x); free(p->code_y); free(p->code_x); free(p->off);
    free(p->M); free(p->goff); free(p->grow); free(p->cz);
    memset(p, 0, sizeof *p);
}

size_t cqb_null_rotations(const cqb_null_plan *p, size_t li)
{
    if (p->scheme == CQB_NULL_STRAT_ROTATION) return p->M[li];
    const size_t N = p->N[li], m = p->margin;
    return N >= 2 * m + 1 ? N - 2 * m + 1 : 0;
}

/* Sample level codes of one series over the window w[0..N) (the full column
 * for the full-sample conventions): code = smallest level with a hit. */
static int sample_codes(const double *full, size_t T, const double *w, size_t N, const double *lev, int nl,
                        cqb_qconv conv, uint8_t *code, uint32_t *n)
{
    const int strict = cqb_qconv_strict(conv);
    const int sub = conv == CQB_Q_HIGHER_LT_SUB;
    const size_t ns = sub ? N : T;
    double *s = malloc(ns * sizeof *s);
    if (!s) return -1;
    memcpy(s, sub ? w : full, ns * sizeof *s);
    qsort(s, ns, sizeof *s, cmp_double);
    double q[MAXL];
    for (int l = 0; l < nl; ++l) q[l] = cqb_quantile_sorted(conv, s, ns, lev[l]);
    free(s);
    for (int l = 0; l < nl; ++l) n[l] = 0;
    for (size_t t = 0; t < N; ++t) {
        int c = nl;
        for (int l = 0; l < nl; ++l)
            if (cqb_is_hit(strict, w[t], q[l])) {
                c = l;
                break;
            }
        code[t] = (uint8_t)c;
        for (int l = c; l < nl; ++l) ++n[l];
    }
    return 0;
}

/* The rows of each lag (lag li uses rows r0[li]..T-1, N[li] of them) and
 * their offsets in the concatenated per-lag arrays; *tot: all rows. p->lag,
 * r0, N and off (nlag + 1) are allocated. CQB_EUSAGE when a lag leaves fewer
 * than two rows. */
static cqb_status lay_out_lags(cqb_null_plan *p, const cqb_cq_input *in, const size_t *lags, size_t *tot,
                               cqb_error *err)
{
    size_t acc = 0;
    for (size_t li = 0; li < p->nlag; ++li) {
        p->lag[li] = lags[li];
        p->r0[li] = cqb_cq_r0(in, lags[li]);
        if (p->r0[li] + 2 > p->T)
            return cqb_error_set(err, CQB_EUSAGE, "null plan: lag %zu leaves too few rows", lags[li]);
        p->N[li] = p->T - p->r0[li];
        p->off[li] = acc;
        acc += p->N[li];
    }
    p->off[p->nlag] = acc;
    *tot = acc;
    return CQB_OK;
}

cqb_status cqb_null_plan_build(cqb_null_plan *p, const cqb_cq_input *in, const double *ay, int ny,
                               const double *ax, int nx, const size_t *lags, size_t nlag,
                               cqb_null_scheme scheme, uint64_t seed, size_t B, double gamma, int floor1,
                               size_t margin, cqb_error *err)
{
    memset(p, 0, sizeof *p);
    if (in->nctl) return cqb_error_set(err, CQB_EUSAGE, "the null-imposing test is for the plain CQ (no controls)");
    if (ny < 1 || nx < 1 || ny > MAXL || nx > MAXL || nlag < 1)
        return cqb_error_set(err, CQB_EUSAGE, "null plan: between 1 and %d levels per series and a lag", MAXL);
    const size_t T = in->T;
    if (T > UINT32_MAX) return cqb_error_set(err, CQB_EUSAGE, "null plan: series too long");
    p->scheme = scheme;
    p->T = T;
    p->seed = seed;
    p->margin = margin;
    p->ny = ny;
    p->nx = nx;
    memcpy(p->ay, ay, (size_t)ny * sizeof *ay);
    memcpy(p->ax, ax, (size_t)nx * sizeof *ax);
    p->nlag = nlag;
    p->nstat = nlag * (size_t)ny * (size_t)nx;
    p->lag = malloc(nlag * sizeof *p->lag);
    p->r0 = malloc(nlag * sizeof *p->r0);
    p->N = malloc(nlag * sizeof *p->N);
    p->off = malloc((nlag + 1) * sizeof *p->off);
    p->n1 = malloc(nlag * (size_t)ny * sizeof *p->n1);
    p->n2 = malloc(nlag * (size_t)nx * sizeof *p->n2);
    p->rank_y = malloc(T * sizeof *p->rank_y);
    p->rank_x = malloc(T * sizeof *p->rank_x);
    if (!p->lag || !p->r0 || !p->N || !p->off || !p->n1 || !p->n2 || !p->rank_y || !p->rank_x) goto nomem;
    size_t tot = 0;
    if (lay_out_lags(p, in, lags, &tot, err) != CQB_OK) {
        cqb_null_plan_free(p);
        return CQB_EUSAGE;
    }
    p->pcode_y = malloc(tot);
    p->pcode_x = malloc(tot);
    p->code_y = malloc(tot);
    p->code_x = malloc(tot);
    if (!p->pcode_y || !p->pcode_x || !p->code_y || !p->code_x) goto nomem;
    if (make_rank(in->y, T, p->rank_y) || make_rank(in->x, T, p->rank_x)) goto nomem;
    for (size_t li = 0; li < nlag; ++li) {
        const size_t N = p->N[li], r0 = p->r0[li], k = p->lag[li];
        uint32_t *n1 = p->n1 + li * (size_t)ny, *n2 = p->n2 + li * (size_t)nx;
        if (sample_codes(in->y, T, in->y + r0, N, ay, ny, in->conv, p->code_y + p->off[li], n1) ||
            sample_codes(in->x, T, in->x + r0 - k, N, ax, nx, in->conv, p->code_x + p->off[li], n2))
            goto nomem;
        /* the code of the p-th smallest aligned value: smallest level whose
         * count exceeds p */
        uint8_t *py = p->pcode_y + p->off[li], *px = p->pcode_x + p->off[li];
        for (size_t q = 0; q < N; ++q) {
            int c = ny;
            for (int l = 0; l < ny; ++l)
                if (q < n1[l]) { c = l; break; }
            py[q] = (uint8_t)c;
            c = nx;
            for (int l = 0; l < nx; ++l)
                if (q < n2[l]) { c = l; break; }
            px[q] = (uint8_t)c;
        }
    }
    if (scheme == CQB_NULL_ROTATION) {
        p->nrep = 0;
        for (size_t li = 0; li < nlag; ++li) {
            size_t M = cqb_null_rotations(p, li);
            if (M == 0) {
                cqb_null_plan_free(p);
                return cqb_error_set(err, CQB_EUSAGE,
                                     "--rotation-margin %zu leaves no shift at lag %zu (N = %zu rows)", margin,
                                     lags[li], T - cqb_cq_r0(in, lags[li]));
            }
            if (M > p->nrep) p->nrep = M;
        }
    } else {
        p->nrep = B;
        if (gamma > 0.0) {
            p->gamma_y = p->gamma_x = gamma;
        } else {
            cqb_bstar_opts o;
            cqb_bstar_opts_default(&o);
            double by, bx, bc;
            if (cqb_bstar(in->y, T, &o, &by, &bc) != CQB_OK || cqb_bstar(in->x, T, &o, &bx, &bc) != CQB_OK) {
                cqb_null_plan_free(p);
                return cqb_error_set(err, CQB_EDATA,
                                     "null-imposing bootstrap: the Politis-White block length is undefined for "
                                     "y or x (too short or constant); give --gamma");
            }
            p->gamma_y = cqb_gamma_from_bstar(&by, 1, floor1);
            p->gamma_x = cqb_gamma_from_bstar(&bx, 1, floor1);
        }
        p->thr_y = cqb_bernoulli_threshold(p->gamma_y);
        p->thr_x = cqb_bernoulli_threshold(p->gamma_x);
    }
    return CQB_OK;
nomem:
    cqb_null_plan_free(p);
    return cqb_error_set(err, CQB_ENOMEM, "out of memory building the null-imposing plan");
}


/* ------------------------------------------------------- partial CQ -- */

cqb_status cqb_null_plan_build_partial(cqb_null_plan *p, const cqb_cq_input *in, const double *ay, int ny,
                                       const double *ax, int nx, const size_t *lags, size_t nlag, size_t margin,
                                       cqb_error *err)
{
    memset(p, 0, sizeof *p);
    if (in->nctl < 1 || in->nctl > 8)
        return cqb_error_set(err, CQB_EUSAGE, "null plan: the partial CQ's null needs 1 to 8 controls");
    if (ny < 1 || nx < 1 || ny > MAXL || nx > MAXL || nlag < 1)
        return cqb_error_set(err, CQB_EUSAGE, "null plan: between 1 and %d levels per series and a lag", MAXL);
    const size_t T = in->T;
    const int nz = (int)in->nctl, ng = 1 << nz;
    p->scheme = CQB_NULL_STRAT_ROTATION;
    p->T = T;
    p->margin = margin;
    p->ny = ny;
    p->nx = nx;
    p->nz = nz;
    memcpy(p->ay, ay, (size_t)ny * sizeof *ay);
    memcpy(p->ax, ax, (size_t)nx * sizeof *ax);
    for (int j = 0; j < nz; ++j) p->az[j] = in->ctl[j].alpha;
    p->nlag = nlag;
    p->nstat = nlag * (size_t)ny * (size_t)nx;
    p->lag = malloc(nlag * sizeof *p->lag);
    p->r0 = malloc(nlag * sizeof *p->r0);
    p->N = malloc(nlag * sizeof *p->N);
    p->off = malloc((nlag + 1) * sizeof *p->off);
    p->M = malloc(nlag * sizeof *p->M);
    p->goff = malloc(nlag * (size_t)(ng + 1) * sizeof *p->goff);
    p->n1 = malloc(nlag * (size_t)ny * sizeof *p->n1);
    p->n2 = malloc(nlag * (size_t)nx * sizeof *p->n2);
    p->cz = malloc(nlag * (size_t)(ny + nx + nz) * (size_t)nz * sizeof *p->cz);
    if (!p->lag || !p->r0 || !p->N || !p->off || !p->M || !p->goff || !p->n1 || !p->n2 || !p->cz) goto nomem;
    size_t tot = 0;
    if (lay_out_lags(p, in, lags, &tot, err) != CQB_OK) {
        cqb_null_plan_free(p);
        return CQB_EUSAGE;
    }
    p->code_y = malloc(tot);
    p->code_x = malloc(tot);
    p->grow = malloc(tot * sizeof *p->grow);
    uint8_t *zc = malloc(T), *gid = malloc(T);
    if (!p->code_y || !p->code_x || !p->grow || !zc || !gid) {
        free(zc);
        free(gid);
        goto nomem;
    }
    for (size_t li = 0; li < nlag; ++li) {
        const size_t N = p->N[li], r0 = p->r0[li], k = p->lag[li], o = p->off[li];
        uint8_t *cy = p->code_y + o, *cx = p->code_x + o;
        uint32_t cnt[MAXL];
        if (sample_codes(in->y, T, in->y + r0, N, ay, ny, in->conv, cy, p->n1 + li * (size_t)ny) ||
            sample_codes(in->x, T, in->x + r0 - k, N, ax, nx, in->conv, cx, p->n2 + li * (size_t)nx)) {
            free(zc);
            free(gid);
            goto nomem;
        }
        memset(gid, 0, N);
        /* counts of the controls: [y level | x level | control] x control */
        double *cz = p->cz + li * (size_t)(ny + nx + nz) * (size_t)nz;
        memset(cz, 0, (size_t)(ny + nx + nz) * (size_t)nz * sizeof *cz);
        for (int j = 0; j < nz; ++j) {
            const size_t lj = in->ctl[j].lag < 0 ? k : (size_t)in->ctl[j].lag;
            const double a = in->ctl[j].alpha;
            if (sample_codes(in->ctl[j].z, T, in->ctl[j].z + r0 - lj, N, &a, 1, in->conv, zc, cnt)) {
                free(zc);
                free(gid);
                goto nomem;
            }
            for (size_t t = 0; t < N; ++t) gid[t] |= (uint8_t)((zc[t] == 0) << j);
        }
        for (size_t t = 0; t < N; ++t) {
            for (int j = 0; j < nz; ++j) {
                if (!((gid[t] >> j) & 1)) continue;
                for (int l = cy[t]; l < ny; ++l) cz[(size_t)l * (size_t)nz + (size_t)j] += 1.0;
                for (int l = cx[t]; l < nx; ++l) cz[(size_t)(ny + l) * (size_t)nz + (size_t)j] += 1.0;
                for (int i = 0; i < nz; ++i)
                    if ((gid[t] >> i) & 1) cz[(size_t)(ny + nx + i) * (size_t)nz + (size_t)j] += 1.0;
            }
        }
        /* strata: the rows of each control-hit pattern, in time order */
        size_t *go = p->goff + li * (size_t)(ng + 1);
        for (int g = 0; g <= ng; ++g) go[g] = 0;
        for (size_t t = 0; t < N; ++t) ++go[gid[t] + 1];
        for (int g = 0; g < ng; ++g) go[g + 1] += go[g];
        size_t fill[256];
        for (int g = 0; g < ng; ++g) fill[g] = go[g];
        for (size_t t = 0; t < N; ++t) p->grow[o + fill[gid[t]]++] = (uint32_t)t;
        /* shifts m + r, r < M, valid in every non-empty stratum */
        size_t M = (size_t)-1;
        for (int g = 0; g < ng; ++g) {
            size_t n = go[g + 1] - go[g];
            if (n == 0) continue;
            size_t mg = n >= 2 * margin + 1 ? n - 2 * margin + 1 : 0;
            if (mg < M) M = mg;
        }
        if (M == 0 || M == (size_t)-1) {
            free(zc);
            free(gid);
            cqb_null_plan_free(p);
            return cqb_error_set(err, CQB_EUSAGE,
                                 "the partial CQ's null: a control stratum at lag %zu has fewer than 2m + 1 = %zu rows "
                                 "(lower --rotation-margin)",
                                 k, 2 * margin + 1);
        }
        p->M[li] = M;
        if (M > p->nrep) p->nrep = M;
    }
    free(zc);
    free(gid);
    return CQB_OK;
nomem:
    cqb_null_plan_free(p);
    return cqb_error_set(err, CQB_ENOMEM, "out of memory building the null-imposing plan");
}

/* rho* of replicate rep at lag li for every cell (stratified rotation): x's
 * codes rotated by m + rep within each control stratum; the Gram of the
 * cell with the new joint count n12*, the epilogue of rho_partial. */
static void partial_rep(const cqb_null_plan *p, uint32_t rep, size_t li, uint8_t *cx, uint32_t *h, double *out)
{
    const int ny = p->ny, nx = p->nx, nz = p->nz, ng = 1 << nz, W = nx + 1, l = 2 + nz;
    const size_t N = p->N[li], o = p->off[li];
    const size_t *go = p->goff + li * (size_t)(ng + 1);
    const uint8_t *sx = p->code_x + o, *cy = p->code_y + o;
    const uint32_t *gr = p->grow + o;
    for (int g = 0; g < ng; ++g) {
        const size_t n = go[g + 1] - go[g];
        if (!n) continue;
        const uint32_t *L = gr + go[g];
        for (size_t i = 0, u = (p->margin + rep) % n; i < n; ++i) {
            cx[L[i]] = sx[L[u]];
            if (++u == n) u = 0;
        }
    }
    memset(h, 0, (size_t)(ny + 1) * (size_t)W * sizeof *h);
    for (size_t t = 0; t < N; ++t) ++h[cy[t] * W + cx[t]];
    for (int a = 0; a <= ny; ++a)
        for (int b = 1; b <= nx; ++b) h[a * W + b] += h[a * W + b - 1];
    for (int a = 1; a <= ny; ++a)
        for (int b = 0; b <= nx; ++b) h[a * W + b] += h[(a - 1) * W + b];
    const uint32_t *n1 = p->n1 + li * (size_t)ny, *n2 = p->n2 + li * (size_t)nx;
    const double *cz = p->cz + li * (size_t)(ny + nx + nz) * (size_t)nz;
    const double Nd = (double)N;
    for (int a = 0; a < ny; ++a)
        for (int b = 0; b < nx; ++b) {
            /* counts and levels of (y, x, z_1..z_nz), as cqb_cq_compute_prep */
            double cnt[CQB_MAX_VARS][CQB_MAX_VARS], al[CQB_MAX_VARS];
            al[0] = p->ay[a];
            al[1] = p->ax[b];
            cnt[0][0] = (double)n1[a];
            cnt[1][1] = (double)n2[b];
            cnt[0][1] = cnt[1][0] = (double)h[a * W + b];
            for (int j = 0; j < nz; ++j) {
                al[2 + j] = p->az[j];
                cnt[0][2 + j] = cnt[2 + j][0] = cz[(size_t)a * (size_t)nz + (size_t)j];
                cnt[1][2 + j] = cnt[2 + j][1] = cz[(size_t)(ny + b) * (size_t)nz + (size_t)j];
                for (int i = 0; i < nz; ++i) cnt[2 + i][2 + j] = cz[(size_t)(ny + nx + i) * (size_t)nz + (size_t)j];
            }
            double G[CQB_MAX_VARS * CQB_MAX_VARS];
            for (int u = 0; u < l; ++u)
                for (int v = u; v < l; ++v)
                    G[u * l + v] = G[v * l + u] = cqb_gram_entry(Nd, cnt[u][u], cnt[v][v], cnt[u][v], al[u], al[v]);
            out[a * nx + b] = cqb_partial_from_gram(G, l);
        }
}

/* ------------------------------------------------------- per replicate -- */

typedef struct nws {
    uint32_t *iy, *ix;   /* T resampled rows of y and x */
    uint32_t *pos, *row; /* T scratch of the SB draws */
    uint32_t *cnt;       /* T counters per rank */
    uint8_t *cy, *cx;    /* N codes */
    uint32_t *hist;      /* (MAXL+1)^2 */
} nws;

static void nws_free(nws *w)
{
    free(w->iy); free(w->ix); free(w->pos); free(w->row); free(w->cnt); free(w->cy); free(w->cx); free(w->hist);
}

static int nws_alloc(nws *w, size_t T)
{
    memset(w, 0, sizeof *w);
    w->iy = malloc(T * sizeof *w->iy);
    w->ix = malloc(T * sizeof *w->ix);
    w->pos = malloc(T * sizeof *w->pos);
    w->row = malloc(T * sizeof *w->row);
    w->cnt = malloc((T + 1) * sizeof *w->cnt);
    w->cy = malloc(T);
    w->cx = malloc(T);
    w->hist = malloc((size_t)(MAXL + 1) * (MAXL + 1) * sizeof *w->hist);
    if (!w->iy || !w->ix || !w->pos || !w->row || !w->cnt || !w->cy || !w->cx || !w->hist) {
        nws_free(w);
        return -1;
    }
    return 0;
}

/* Exact-count codes of the resampled values rank[idx[t]], t = 0..N-1: the
 * q-th smallest key (rank, t) gets pcode[q]. Counting sort over the T ranks. */
static void exact_codes(const uint32_t *rank, const uint32_t *idx, size_t N, size_t T, const uint8_t *pcode,
                        uint32_t *cnt, uint8_t *code)
{
    memset(cnt, 0, T * sizeof *cnt);
    for (size_t t = 0; t < N; ++t) ++cnt[rank[idx[t]]];
    uint32_t run = 0;
    for (size_t r = 0; r < T; ++r) {
        uint32_t c = cnt[r];
        cnt[r] = run; /* first position of rank r */
        run += c;
    }
    for (size_t t = 0; t < N; ++t) code[t] = pcode[cnt[rank[idx[t]]]++];
}

static void codes_of(const cqb_null_plan *p, uint32_t rep, size_t li, nws *w, int drawn, uint8_t *cy, uint8_t *cx)
{
    const size_t N = p->N[li], r0 = p->r0[li], k = p->lag[li], T = p->T;
    if (p->scheme == CQB_NULL_ROTATION) {
        const uint8_t *sy = p->code_y + p->off[li], *sx = p->code_x + p->off[li];
        const size_t s = p->margin + rep;
        memcpy(cy, sy, N);
        for (size_t t = 0, u = s % N; t < N; ++t) {
            cx[t] = sx[u];
            if (++u == N) u = 0;
        }
        return;
    }
    if (!drawn) {
        cqb_sb_indices(p->seed, rep, cqb_sb_tag(CQB_FAMILY_NULL_Y, 0, 0), p->thr_y, T, w->iy, w->pos, w->row);
        cqb_sb_indices(p->seed, rep, cqb_sb_tag(CQB_FAMILY_NULL_X, 0, 0), p->thr_x, T, w->ix, w->pos, w->row);
    }
    exact_codes(p->rank_y, w->iy + r0, N, T, p->pcode_y + p->off[li], w->cnt, cy);
    exact_codes(p->rank_x, w->ix + r0 - k, N, T, p->pcode_x + p->off[li], w->cnt, cx);
}

cqb_status cqb_null_codes(const cqb_null_plan *p, uint32_t rep, size_t li, uint8_t *cy, uint8_t *cx,
                          cqb_error *err)
{
    if (p->scheme == CQB_NULL_STRAT_ROTATION)
        return cqb_error_set(err, CQB_EUSAGE, "null plan: no joint codes in the stratified rotation");
    nws w;
    if (nws_alloc(&w, p->T)) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    codes_of(p, rep, li, &w, 0, cy, cx);
    nws_free(&w);
    return CQB_OK;
}

static void one_rep(const cqb_null_plan *p, uint32_t rep, nws *w, double *out)
{
    const int ny = p->ny, nx = p->nx, W = nx + 1;
    for (size_t li = 0; li < p->nlag; ++li) {
        double *o = out + li * (size_t)ny * (size_t)nx;
        if (p->scheme != CQB_NULL_SB && rep >= cqb_null_rotations(p, li)) {
            for (int c = 0; c < ny * nx; ++c) o[c] = NAN;
            continue;
        }
        if (p->scheme == CQB_NULL_STRAT_ROTATION) {
            partial_rep(p, rep, li, w->cx, w->hist, o);
            continue;
        }
        const size_t N = p->N[li];
        codes_of(p, rep, li, w, li > 0, w->cy, w->cx);
        uint32_t *h = w->hist;
        memset(h, 0, (size_t)(ny + 1) * (size_t)W * sizeof *h);
        for (size_t t = 0; t < N; ++t) ++h[w->cy[t] * W + w->cx[t]];
        /* 2-D prefix sums: h[a][b] = #{cy <= a, cx <= b} */
        for (int a = 0; a <= ny; ++a)
            for (int b = 1; b <= nx; ++b) h[a * W + b] += h[a * W + b - 1];
        for (int a = 1; a <= ny; ++a)
            for (int b = 0; b <= nx; ++b) h[a * W + b] += h[(a - 1) * W + b];
        const uint32_t *n1 = p->n1 + li * (size_t)ny, *n2 = p->n2 + li * (size_t)nx;
        for (int a = 0; a < ny; ++a)
            for (int b = 0; b < nx; ++b)
                o[a * nx + b] = cqb_cq_from_counts((double)N, (double)n1[a], (double)n2[b], (double)h[a * W + b],
                                                   p->ay[a], p->ax[b]);
    }
}

cqb_status cqb_null_run_cpu(const cqb_null_plan *p, uint32_t rep0, size_t nrep, double *out, int threads,
                            cqb_error *err)
{
    int failed = 0;
    if (threads <= 0) threads = omp_get_max_threads();
    const long n = (long)nrep;
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        nws w;
        int ok = nws_alloc(&w, p->T) == 0;
        if (!ok) failed = 1;
#pragma omp for schedule(dynamic, 8)
        for (long r = 0; r < n; ++r) {
            if (!ok) continue;
            one_rep(p, rep0 + (uint32_t)r, &w, out + (size_t)r * p->nstat);
        }
        if (ok) nws_free(&w);
    }
    if (failed) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the null-imposing resample");
    return CQB_OK;
}
