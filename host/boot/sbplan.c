/* sbplan.c — building a bootstrap plan and running it on the CPU.
 *
 * Per replicate (engine-design.md §1.3-§1.4): multiplicities from the
 * stationary-bootstrap stream, per-column thresholds by one walk over the
 * pre-sorted order, a level code per resampled row, per-pair code histograms
 * weighted by multiplicity, 2-D prefix sums -> exact integer joint counts,
 * then the shared double epilogue of cq.h. Replicates are independent, so
 * the OpenMP split cannot change any number.
 */
#include "cqboot/sbplan.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/runtime.h"
#include "cqboot/sbresample.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CQB_PLAN_AVX2 1 /* AVX2 paths, chosen at run time */
#endif

#define MAXL CQB_PLAN_MAX_LEVELS

/* ---------------------------------------------------------------- build -- */

typedef struct sort_ctx_item {
    double v;
    uint32_t row;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->row > y->row) - (x->row < y->row);
}

static cqb_status build_col(cqb_plan_col *c, size_t N)
{
    sort_item *it = malloc(N * sizeof *it);
    c->perm = malloc(N * sizeof *c->perm);
    c->rank = malloc(N * sizeof *c->rank);
    c->gfirst = malloc(N * sizeof *c->gfirst);
    c->glast = malloc(N * sizeof *c->glast);
    c->sval = malloc(N * sizeof *c->sval);
    if (!it || !c->perm || !c->rank || !c->gfirst || !c->glast || !c->sval) {
        free(it);
        return CQB_ENOMEM;
    }
    for (size_t i = 0; i < N; ++i) {
        it[i].v = c->v[i];
        it[i].row = (uint32_t)i;
    }
    qsort(it, N, sizeof *it, cmp_item);
    uint32_t first = 0;
    for (size_t i = 0; i < N; ++i) {
        if (i > 0 && it[i].v != it[i - 1].v) first = (uint32_t)i;
        c->perm[i] = it[i].row;
        c->rank[it[i].row] = (uint32_t)i;
        c->sval[i] = it[i].v;
        c->gfirst[i] = first;
    }
    uint32_t last = (uint32_t)N - 1;
    for (size_t i = N; i-- > 0;) {
        if (i + 1 < N && it[i].v != it[i + 1].v) last = (uint32_t)i;
        c->glast[i] = last;
    }
    free(it);
    return CQB_OK;
}

cqb_status cqb_plan_build(cqb_plan *plan, size_t T, const cqb_plan_colspec *cols, int ncol,
                          const cqb_plan_unit *units, int nunit, int ny, int nx, cqb_qconv conv,
                          uint64_t seed, uint32_t tag, double gamma, cqb_error *err)
{
    memset(plan, 0, sizeof *plan);
    size_t r0 = 0;
    for (int c = 0; c < ncol; ++c)
        if (cols[c].shift > r0) r0 = cols[c].shift;
    if (r0 + 2 > T || T - r0 > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "a lag of %zu leaves too few rows (T = %zu)", r0, T);
    plan->N = T - r0;
    plan->seed = seed;
    plan->tag = tag;
    plan->thr = cqb_bernoulli_threshold(gamma);
    plan->conv = conv;
    plan->ncol = ncol;
    plan->nunit = nunit;
    plan->ny = ny;
    plan->nx = nx;
    plan->nstat = (size_t)nunit * (size_t)ny * (size_t)nx;
    plan->col = calloc((size_t)ncol, sizeof *plan->col);
    plan->unit = calloc((size_t)nunit, sizeof *plan->unit);
    plan->pair_index = malloc((size_t)ncol * (size_t)ncol * sizeof(int));
    plan->pair_a = malloc((size_t)ncol * (size_t)ncol * sizeof(int));
    plan->pair_b = malloc((size_t)ncol * (size_t)ncol * sizeof(int));
    if (!plan->col || !plan->unit || !plan->pair_index || !plan->pair_a || !plan->pair_b) goto nomem;
    for (int c = 0; c < ncol; ++c) {
        cqb_plan_col *pc = &plan->col[c];
        if (cols[c].nlev < 1 || cols[c].nlev > MAXL) {
            cqb_plan_free(plan);
            return cqb_error_set(err, CQB_EUSAGE, "between 1 and %d quantile levels per series", MAXL);
        }
        pc->v = cols[c].series + (r0 - cols[c].shift);
        pc->var = cols[c].var;
        pc->shift = cols[c].shift;
        pc->nlev = cols[c].nlev;
        memcpy(pc->lev, cols[c].lev, (size_t)cols[c].nlev * sizeof(double));
        if (build_col(pc, plan->N) != CQB_OK) goto nomem;
        for (int l = 0; l < pc->nlev; ++l) {
            if (conv == CQB_Q_R7_LE) {
                size_t lo;
                cqb_r7_index(plan->N, pc->lev[l], &lo, &pc->lh[l]);
                pc->lrank[l] = (uint32_t)lo;
            } else {
                pc->lrank[l] = (uint32_t)cqb_order_rank(conv, plan->N, pc->lev[l]);
                pc->lh[l] = 0.0;
            }
        }
    }
    for (int i = 0; i < ncol * ncol; ++i) plan->pair_index[i] = -1;
    int np = 0;
    for (int u = 0; u < nunit; ++u) {
        cqb_plan_unit un = units[u];
        un.out = (size_t)u * (size_t)ny * (size_t)nx;
        plan->unit[u] = un;
        int vars[CQB_MAX_VARS];
        int nv = 0;
        vars[nv++] = un.col_y;
        vars[nv++] = un.col_x;
        for (int j = 0; j < un.nz; ++j) vars[nv++] = un.col_z[j];
        for (int i = 0; i < nv; ++i) {
            for (int j = i + 1; j < nv; ++j) {
                int a = vars[i] < vars[j] ? vars[i] : vars[j];
                int b = vars[i] < vars[j] ? vars[j] : vars[i];
                if (a == b || plan->pair_index[a * ncol + b] >= 0) continue;
                plan->pair_index[a * ncol + b] = plan->pair_index[b * ncol + a] = np;
                plan->pair_a[np] = a;
                plan->pair_b[np] = b;
                ++np;
            }
        }
    }
    plan->npair = np;
    return CQB_OK;
nomem:
    cqb_plan_free(plan);
    return cqb_error_set(err, CQB_ENOMEM, "out of memory building the bootstrap plan");
}

void cqb_plan_free(cqb_plan *plan)
{
    if (plan->col) {
        for (int c = 0; c < plan->ncol; ++c) {
            free(plan->col[c].perm);
            free(plan->col[c].rank);
            free(plan->col[c].gfirst);
            free(plan->col[c].glast);
            free(plan->col[c].sval);
        }
    }
    free(plan->col);
    free(plan->unit);
    free(plan->pair_index);
    free(plan->pair_a);
    free(plan->pair_b);
    memset(plan, 0, sizeof *plan);
}

/* ----------------------------------------------------------- resample -- */

void cqb_plan_multiplicity(const cqb_plan *plan, uint32_t rep, uint32_t *c)
{
    uint32_t *scratch = malloc(2 * plan->N * sizeof *scratch);
    if (!scratch) abort(); /* test helper only; the kernels use their workspace */
    cqb_sb_multiplicity(plan->seed, rep, plan->tag, plan->thr, plan->N, c, scratch, scratch + plan->N);
    free(scratch);
}

/* ---------------------------------------------------------- per replicate -- */

typedef struct col_targets {
    /* The 1-based ranks whose first position in sorted order a replicate
     * needs, ascending and distinct (lo of every level; with type 7
     * interpolating, lo + 1 as well), then a sentinel no count reaches. */
    uint32_t rank[2 * MAXL + 1];
    int n;
    uint8_t ilo[MAXL], ihi[MAXL]; /* index into rank[] of lo and lo + 1 per level */
} col_targets;

typedef struct workspace {
    uint32_t *c;      /* N multiplicities */
    uint64_t *nzc;    /* rows with c > 0 (low word) and their multiplicities */
    uint32_t *bpos, *brow; /* block starts: position and row */
    uint32_t *pcum;   /* cumulative multiplicity through each position */
    uint8_t *pc;      /* ncol x (N+1): level code of each sorted position */
    long *tl;         /* ncol: last position that hits at any level (-1: none) */
    int *coded;       /* ncol: 1 = position table full, 2 = rc holds the codes */
    int *uses;        /* ncol: pairs the column is in */
    uint8_t *rc;      /* ncol x N: code of each nz row */
    uint32_t *marg;   /* ncol x MAXL */
    uint32_t *hist;   /* (MAXL+1)^2 */
    uint32_t *joint;  /* npair x MAXL x MAXL */
    col_targets *tg;  /* ncol */
    uint32_t *coarse; /* N / 8 + 1: every eighth cumulative count */
    double *den;      /* ny x nx: the products under the CQ cells' square roots */
    int avx2;         /* the CPU has AVX2 */
    int avx512;       /* and AVX-512 (cqb_simd_level()) */
    int eager_nz;     /* list the drawn rows with the multiplicities */
} workspace;

static void ws_free(workspace *w)
{
    free(w->c); free(w->nzc); free(w->bpos); free(w->brow); free(w->pcum); free(w->pc);
    free(w->tl); free(w->coded); free(w->uses);
    free(w->rc); free(w->marg); free(w->hist); free(w->joint); free(w->tg); free(w->coarse); free(w->den);
}

/* The target ranks of one column (fixed by N and the levels). */
static void col_targets_init(const cqb_plan *p, const cqb_plan_col *col, col_targets *t)
{
    const uint32_t N = (uint32_t)p->N;
    uint32_t want[2 * MAXL];
    int nw = 0;
    for (int l = 0; l < col->nlev; ++l) {
        want[nw++] = col->lrank[l];
        if (p->conv == CQB_Q_R7_LE && col->lh[l] > 0.0 && col->lrank[l] < N) want[nw++] = col->lrank[l] + 1;
    }
    /* insertion sort, then unique (at most 128 small integers, once per
     * workspace) */
    for (int i = 1; i < nw; ++i) {
        uint32_t v = want[i];
        int j = i;
        for (; j > 0 && want[j - 1] > v; --j) want[j] = want[j - 1];
        want[j] = v;
    }
    t->n = 0;
    for (int i = 0; i < nw; ++i)
        if (t->n == 0 || want[i] != t->rank[t->n - 1]) t->rank[t->n++] = want[i];
    t->rank[t->n] = UINT32_MAX;
    for (int l = 0; l < col->nlev; ++l) {
        for (int i = 0; i < t->n; ++i) {
            if (t->rank[i] == col->lrank[l]) t->ilo[l] = (uint8_t)i;
            if (t->rank[i] == col->lrank[l] + 1) t->ihi[l] = (uint8_t)i;
        }
    }
}

static int ws_alloc(workspace *w, const cqb_plan *p)
{
    memset(w, 0, sizeof *w);
    const size_t N = p->N;
    w->c = malloc(N * sizeof *w->c);
    w->nzc = malloc(N * sizeof *w->nzc);
    w->bpos = malloc(N * sizeof *w->bpos);
    w->brow = malloc(N * sizeof *w->brow);
    w->pcum = malloc((N + 8) * sizeof *w->pcum); /* the AVX2 walk pads to a multiple of 8 */
    w->coarse = malloc((N / 8 + 1) * sizeof *w->coarse);
    w->pc = malloc((size_t)p->ncol * (N + 1));
    w->tl = malloc((size_t)(p->ncol > 0 ? p->ncol : 1) * sizeof *w->tl);
    w->coded = malloc((size_t)(p->ncol > 0 ? p->ncol : 1) * sizeof *w->coded);
    w->uses = calloc((size_t)(p->ncol > 0 ? p->ncol : 1), sizeof *w->uses);
    w->rc = malloc((size_t)p->ncol * N);
    w->marg = malloc((size_t)p->ncol * MAXL * sizeof *w->marg);
    w->hist = malloc((MAXL + 1) * (MAXL + 1) * sizeof *w->hist);
    w->joint = malloc(((size_t)p->npair + 1) * MAXL * MAXL * sizeof *w->joint);
    w->tg = malloc((size_t)(p->ncol > 0 ? p->ncol : 1) * sizeof *w->tg);
    w->den = malloc(((size_t)p->ny * (size_t)p->nx + 1) * sizeof *w->den);
#ifdef CQB_PLAN_AVX2
    /* CQB_NO_AVX2 (any value) forces the scalar walk: tests compare both */
    w->avx2 = __builtin_cpu_supports("avx2") != 0 && !getenv("CQB_NO_AVX2");
    w->avx512 = w->avx2 && cqb_simd_level() == 2;
#endif
    if (!w->coarse || !w->c || !w->nzc || !w->bpos || !w->brow || !w->pcum || !w->pc || !w->tl ||
        !w->coded || !w->uses || !w->rc || !w->marg || !w->hist ||
        !w->joint || !w->tg || !w->den) {
        ws_free(w);
        return -1;
    }
    for (int c = 0; c < p->ncol; ++c) col_targets_init(p, &p->col[c], &w->tg[c]);
    /* dense counts expected when some pair's rarer column hits in more than
     * a third of the sample (run_one() decides per replicate) */
    w->eager_nz = 0;
    for (int i = 0; i < p->npair; ++i) {
        w->uses[p->pair_a[i]]++;
        w->uses[p->pair_b[i]]++;
        const cqb_plan_col *ca = &p->col[p->pair_a[i]], *cb = &p->col[p->pair_b[i]];
        const uint32_t ra = ca->lrank[ca->nlev - 1], rb = cb->lrank[cb->nlev - 1];
        if (3 * (size_t)(ra < rb ? ra : rb) > N) w->eager_nz = 1;
    }
    return 0;
}

/* The walk over a column's sorted order: pcum[i] = cumulative multiplicity
 * through position i, and tp[j] = the first position whose count reaches
 * target rank j (the count is monotone, so this is the position a search
 * would find; N - 1 for a rank above N, never for a valid plan). The scalar
 * walk notes targets as it passes them (one mispredicted branch each); the
 * AVX2 walk builds the sums eight positions at a time and then finds every
 * target without a branch: in the array of every eighth sum, then among the
 * eight sums of its block. Both give the same integers. */
static uint32_t col_walk_scalar(const uint32_t *restrict perm, const uint32_t *restrict c, uint32_t N,
                                uint32_t *restrict pcum, const col_targets *tg, uint32_t *restrict tp)
{
    const uint32_t *restrict rk = tg->rank;
    uint32_t cum = 0, next = rk[0], i = 0;
    int k = 0;
    while (i < N && k < tg->n) {
        cum += c[perm[i]];
        pcum[i] = cum;
        while (cum >= next) {
            tp[k++] = i;
            next = rk[k];
        }
        ++i;
    }
    while (k < tg->n) tp[k++] = N - 1;
    return i;
}

/* pcum through position t (the walk may have stopped at `done`). */
static uint32_t col_walk_extend(const uint32_t *restrict perm, const uint32_t *restrict c, uint32_t *restrict pcum,
                                uint32_t done, uint32_t t)
{
    uint32_t cum = done ? pcum[done - 1] : 0;
    for (; done <= t; ++done) {
        cum += c[perm[done]];
        pcum[done] = cum;
    }
    return done;
}

#ifdef CQB_PLAN_AVX2
/* The sums of the AVX2 walk: pcum through the position where the count
 * reaches the top target (padded to a multiple of 8), every eighth sum in
 * coarse (*m of them). pcum needs room for N rounded up to 8; coarse for
 * N / 8 + 1 entries. Returns the positions walked. */
static inline __attribute__((always_inline, target("avx2"))) uint32_t
walk_sums_avx2(const uint32_t *restrict perm, const uint32_t *restrict c, uint32_t N, uint32_t *restrict pcum,
               uint32_t *restrict coarse, uint32_t top, uint32_t *m_out)
{
    __m256i carry = _mm256_setzero_si256();
    const __m256i last = _mm256_set1_epi32(7);
    uint32_t i = 0, m = 0, cum = 0;
    for (; i + 8 <= N && cum < top; i += 8) {
        /* scalar loads (faster than a gather here), then an in-register
         * inclusive prefix sum plus the running total */
        __m256i v = _mm256_setr_epi32((int)c[perm[i]], (int)c[perm[i + 1]], (int)c[perm[i + 2]], (int)c[perm[i + 3]],
                                      (int)c[perm[i + 4]], (int)c[perm[i + 5]], (int)c[perm[i + 6]],
                                      (int)c[perm[i + 7]]);
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
        __m256i lo = _mm256_shuffle_epi32(v, 0xFF);
        lo = _mm256_permute2x128_si256(lo, lo, 0x08);
        v = _mm256_add_epi32(v, _mm256_add_epi32(lo, carry));
        _mm256_storeu_si256((__m256i *)(pcum + i), v);
        carry = _mm256_permutevar8x32_epi32(v, last);
        cum = (uint32_t)_mm256_cvtsi256_si32(carry);
        coarse[m++] = cum;
    }
    if (i < N && cum < top) {
        for (; i < N; ++i) {
            cum += c[perm[i]];
            pcum[i] = cum;
        }
        for (uint32_t j = N; j % 8; ++j) pcum[j] = cum; /* pad the last block */
        coarse[m++] = cum;
    }
    *m_out = m;
    return i < N ? i : N;
}

__attribute__((target("avx2"))) static uint32_t col_walk_avx2(const uint32_t *restrict perm,
                                                              const uint32_t *restrict c, uint32_t N,
                                                              uint32_t *restrict pcum, uint32_t *restrict coarse,
                                                              const col_targets *tg, uint32_t *restrict tp)
{
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    uint32_t m;
    const uint32_t done = walk_sums_avx2(perm, c, N, pcum, coarse, tg->rank[tg->n - 1], &m);
    for (int j = 0; j < tg->n; ++j) {
        /* blocks whose last sum is below the rank (unsigned compare by
         * flipped signs) */
        const __m256i r = _mm256_set1_epi32((int)(tg->rank[j] ^ 0x80000000u));
        __m256i acc = _mm256_setzero_si256();
        uint32_t b = 0, cnt = 0;
        for (; b + 8 <= m; b += 8) {
            const __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(coarse + b)), sign);
            acc = _mm256_sub_epi32(acc, _mm256_cmpgt_epi32(r, x));
        }
        for (; b < m; ++b) cnt += coarse[b] < tg->rank[j];
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
        cnt += (uint32_t)_mm_cvtsi128_si32(h);
        if (cnt >= m) {
            tp[j] = N - 1;
            continue;
        }
        const __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(pcum + 8 * cnt)), sign);
        const uint32_t below = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(r, x)));
        tp[j] = 8 * cnt + (uint32_t)__builtin_popcount(below);
    }
    return done;
}

/* The same sums; each target's block found with AVX-512's unsigned compares
 * into masks, sixteen blocks per compare (the last ones under a mask), and
 * its position among the block's eight sums likewise. */
__attribute__((target("avx512f"))) static uint32_t col_walk_avx512(const uint32_t *restrict perm,
                                                                    const uint32_t *restrict c, uint32_t N,
                                                                    uint32_t *restrict pcum,
                                                                    uint32_t *restrict coarse,
                                                                    const col_targets *tg, uint32_t *restrict tp)
{
    uint32_t m;
    const uint32_t done = walk_sums_avx2(perm, c, N, pcum, coarse, tg->rank[tg->n - 1], &m);
    const __mmask16 tail = (__mmask16)((1u << (m % 16)) - 1u);
    for (int j = 0; j < tg->n; ++j) {
        const __m512i r = _mm512_set1_epi32((int)tg->rank[j]);
        uint32_t b = 0, cnt = 0;
        for (; b + 16 <= m; b += 16) {
            const __m512i x = _mm512_loadu_si512((const void *)(coarse + b));
            cnt += (uint32_t)__builtin_popcount(_mm512_cmplt_epu32_mask(x, r));
        }
        if (b < m)
            cnt += (uint32_t)__builtin_popcount(
                _mm512_mask_cmplt_epu32_mask(tail, _mm512_maskz_loadu_epi32(tail, coarse + b), r));
        if (cnt >= m) {
            tp[j] = N - 1;
            continue;
        }
        const __mmask16 below = _mm512_mask_cmplt_epu32_mask(0xFF, _mm512_maskz_loadu_epi32(0xFF, pcum + 8 * cnt), r);
        tp[j] = 8 * cnt + (uint32_t)__builtin_popcount(below);
    }
    return done;
}
#endif

/* Thresholds of one column on the resample: th[l] is the last sorted
 * position that hits at level l (-1: none), marg[l] the hit count. Exactly
 * the convention's estimator on the resampled column
 * (cross-quantilogram.md §1.3); positions with zero multiplicity never
 * change a count. */
static void column_thresholds(const cqb_plan *p, const cqb_plan_col *col, const col_targets *tg, workspace *w,
                              long *th, uint32_t *marg)
{
    const uint32_t N = (uint32_t)p->N;
    const double *restrict sval = col->sval;
    const uint32_t *pcum = w->pcum; /* not restrict: col_walk_extend() writes it */
    uint32_t tp[2 * MAXL + 1], done;
#ifdef CQB_PLAN_AVX2
    if (w->avx512)
        done = col_walk_avx512(col->perm, w->c, N, w->pcum, w->coarse, tg, tp);
    else if (w->avx2)
        done = col_walk_avx2(col->perm, w->c, N, w->pcum, w->coarse, tg, tp);
    else
#endif
        done = col_walk_scalar(col->perm, w->c, N, w->pcum, tg, tp);
    for (int l = 0; l < col->nlev; ++l) {
        long t;
        const uint32_t plo = tp[tg->ilo[l]];
        if (p->conv == CQB_Q_R7_LE) {
            const double h = col->lh[l];
            /* x_(lo+1) sits at the first position reaching lo + 1 (the
             * same as x_lo's when that position's count covers both) */
            const uint32_t phi = (h > 0.0 && col->lrank[l] < N) ? tp[tg->ihi[l]] : plo;
            const double xlo = sval[plo], xhi = sval[phi];
            const double q = cqb_r7_interp_inline(xlo, xhi, h);
            if (q == xlo) {
                t = (long)col->glast[plo]; /* the last position with value <= x_lo */
            } else if (q > xlo && q < xhi) {
                /* Strictly between two adjacent order statistics of the
                 * resample: the count reached lo at plo and lo + 1 only at
                 * phi, so every position in (plo, phi) has multiplicity 0.
                 * The last position with value <= q lies in [plo, phi), and
                 * any position there gives every drawn row the same code
                 * and the same hit count: take plo, no search. */
                t = (long)plo;
            } else {
                /* R's rounding put q outside [x_lo, x_hi): the last
                 * position with value <= q, wherever it lands */
                t = (long)col->glast[phi];
                while (t >= 0 && sval[t] > q) t = (long)col->gfirst[t] - 1;
                while (t + 1 < (long)N && sval[t + 1] <= q) t = (long)col->glast[t + 1];
            }
        } else {
            t = (long)col->gfirst[plo] - 1; /* strict: x < x_(r) */
        }
        if (l > 0 && t < th[l - 1]) t = th[l - 1]; /* nested hit sets */
        th[l] = t;
    }
    /* the walk stopped at the last target; a tie group may reach past it */
    const long top = th[col->nlev - 1];
    if (top >= (long)done) col_walk_extend(col->perm, w->c, w->pcum, done, (uint32_t)top);
    for (int l = 0; l < col->nlev; ++l) marg[l] = th[l] >= 0 ? pcum[th[l]] : 0;
}

/* A unit's CQ cells from the counts: cqb_cq_from_counts() with the
 * diagonal sums s11 (per y level) and s22 (per x level) hoisted, in two
 * element-wise passes with contiguous operands, so that they run in SIMD
 * lanes, four wide with AVX2: first every cell's numerator (into o) and the
 * product under its square root (into den), row by row; then the quotients
 * over all ny * nx cells at once, so that the square roots and divisions --
 * the costly part -- fill whole vectors (81 cells: 20 vectors and one
 * scalar, against 27 vector and scalar steps row by row). sqrt and division
 * are correctly rounded in every lane: the same bits as scalar code; the
 * file is built with -fno-math-errno so that sqrt needs no errno branch,
 * and contraction is off. */
static inline __attribute__((always_inline)) void cq_cells_body(double *restrict o, double *restrict den, int ny,
                                                                int nx, double Nd, const uint32_t *restrict my,
                                                                const double *restrict ay,
                                                                const double *restrict s11,
                                                                const double *restrict mxd,
                                                                const double *restrict axd,
                                                                const double *restrict s22,
                                                                const uint32_t *restrict J, int yfirst)
{
    for (int iy = 0; iy < ny; ++iy) {
        const double a = ay[iy], ny1 = my[iy], sy = s11[iy];
        double *restrict orow = o + (size_t)iy * (size_t)nx, *restrict drow = den + (size_t)iy * (size_t)nx;
        for (int ix = 0; ix < nx; ++ix) {
            const double n12 = yfirst ? J[iy * MAXL + ix] : J[ix * MAXL + iy];
            orow[ix] = cqb_gram_entry(Nd, ny1, mxd[ix], n12, a, axd[ix]);
            drow[ix] = sy * s22[ix];
        }
    }
    const int n = ny * nx;
    for (int k = 0; k < n; ++k) o[k] = o[k] / sqrt(den[k]);
}

static void cq_cells(double *restrict o, double *restrict den, int ny, int nx, double Nd,
                     const uint32_t *restrict my, const double *restrict ay, const double *restrict s11,
                     const double *restrict mxd, const double *restrict axd, const double *restrict s22,
                     const uint32_t *restrict J, int yfirst)
{
    cq_cells_body(o, den, ny, nx, Nd, my, ay, s11, mxd, axd, s22, J, yfirst);
}

#ifdef CQB_PLAN_AVX2
__attribute__((target("avx2"))) static void cq_cells_avx2(double *restrict o, double *restrict den, int ny, int nx,
                                                          double Nd, const uint32_t *restrict my,
                                                          const double *restrict ay, const double *restrict s11,
                                                          const double *restrict mxd, const double *restrict axd,
                                                          const double *restrict s22, const uint32_t *restrict J,
                                                          int yfirst)
{
    cq_cells_body(o, den, ny, nx, Nd, my, ay, s11, mxd, axd, s22, J, yfirst);
}
#endif

static void run_one(const cqb_plan *p, uint32_t rep, workspace *w, double *out)
{
    const size_t N = p->N;
    /* The drawn rows (nzc) serve the dense joint counts only: list them
     * with the multiplicities when the plan's counts are expected dense,
     * else on first use (nnz estimated as (1 - 1/e) N until then). */
    size_t nnz = cqb_sb_multiplicity_nzc(p->seed, rep, p->tag, p->thr, N, w->c, w->eager_nz ? w->nzc : NULL, w->bpos,
                                         w->brow);
    int listed = w->eager_nz;
    if (!listed) nnz = N - N * 3 / 8;

    for (int ci = 0; ci < p->ncol; ++ci) {
        const cqb_plan_col *col = &p->col[ci];
        long th[MAXL];
        column_thresholds(p, col, &w->tg[ci], w, th, w->marg + (size_t)ci * MAXL);
        /* code of a position = number of levels whose last hit position is
         * before it: fill runs of equal code through the last hit position;
         * the rest (code nlev, no hit) only when a dense count needs it */
        uint8_t *pc = w->pc + (size_t)ci * (N + 1);
        long from = 0;
        for (int l = 0; l < col->nlev; ++l) {
            long to = th[l] + 1;
            if (to > from) memset(pc + from, l, (size_t)(to - from));
            if (to > from) from = to;
        }
        pc[from] = (uint8_t)col->nlev; /* sentinel: positions past the last hit */
        w->tl[ci] = from - 1;
        w->coded[ci] = 0;
    }

    for (int pi = 0; pi < p->npair; ++pi) {
        const int a = p->pair_a[pi], b = p->pair_b[pi];
        const int ma = p->col[a].nlev, mb = p->col[b].nlev;
        const int wdt = mb + 1;
        uint32_t *H = w->hist;
        memset(H, 0, (size_t)(ma + 1) * (size_t)wdt * sizeof *H);
        /* Rows past a column's last hit position add nothing to a joint
         * count. When one column hits rarely (e.g. level 0.05 alone), walk
         * its hit positions in sorted order and look up the other column's
         * code of each row; otherwise histogram the code pairs of the drawn
         * rows. The same integers either way. */
        const int s = w->tl[a] <= w->tl[b] ? a : b, o = s == a ? b : a;
        const size_t nsparse = (size_t)(w->tl[s] + 1);
        if (2 * nsparse < nnz) {
            const uint32_t *restrict perm = p->col[s].perm, *restrict rko = p->col[o].rank, *restrict c = w->c;
            const uint8_t *restrict pcs = w->pc + (size_t)s * (N + 1), *restrict pco = w->pc + (size_t)o * (N + 1);
            const uint32_t tlo = (uint32_t)(w->tl[o] + 1); /* the sentinel's position */
            const int ws = s == a ? wdt : 1, wo = s == a ? 1 : wdt;
            for (size_t i = 0; i < nsparse; ++i) {
                const uint32_t row = perm[i], q = rko[row];
                H[pcs[i] * ws + pco[q < tlo ? q : tlo] * wo] += c[row];
            }
        } else {
            if (!listed) {
                const uint32_t *restrict c = w->c;
                uint64_t *restrict nzc = w->nzc;
                size_t k = 0;
                for (size_t r = 0; r < N; ++r) {
                    nzc[k] = (uint64_t)r | (uint64_t)c[r] << 32;
                    k += c[r] != 0;
                }
                nnz = k;
                listed = 1;
            }
            /* the code of every drawn row, from the full position table:
             * kept in rc when the column serves several pairs (the Q-test
             * plan's y), else looked up inside the histogram loop */
            const int ab[2] = {a, b};
            for (int e = 0; e < 2; ++e) {
                const int ci = ab[e];
                if (w->coded[ci]) continue;
                uint8_t *pc = w->pc + (size_t)ci * (N + 1);
                const size_t tl1 = (size_t)(w->tl[ci] + 1);
                memset(pc + tl1, p->col[ci].nlev, N - tl1);
                w->coded[ci] = 1;
                if (w->uses[ci] < 2) continue;
                uint8_t *restrict rc = w->rc + (size_t)ci * N;
                const uint32_t *restrict rank = p->col[ci].rank;
                const uint64_t *restrict nzc = w->nzc;
                for (size_t i = 0; i < nnz; ++i) rc[i] = pc[rank[(uint32_t)nzc[i]]];
                w->coded[ci] = 2;
            }
            /* a drawn row and its multiplicity from one word */
#define ROW(i) ((uint32_t)nzc[i])
#define CNT(i) ((uint32_t)(nzc[i] >> 32))
            const uint64_t *restrict nzc = w->nzc;
            const uint32_t *restrict rka = p->col[a].rank, *restrict rkb = p->col[b].rank;
            const uint8_t *restrict pca = w->pc + (size_t)a * (N + 1), *restrict pcb = w->pc + (size_t)b * (N + 1);
            const uint8_t *restrict ra = w->rc + (size_t)a * N, *restrict rb = w->rc + (size_t)b * N;
            if (w->coded[a] == 2 && w->coded[b] == 2) {
                for (size_t i = 0; i < nnz; ++i) H[ra[i] * wdt + rb[i]] += CNT(i);
            } else if (w->coded[a] == 2) {
                for (size_t i = 0; i < nnz; ++i) H[ra[i] * wdt + pcb[rkb[ROW(i)]]] += CNT(i);
            } else if (w->coded[b] == 2) {
                for (size_t i = 0; i < nnz; ++i) H[pca[rka[ROW(i)]] * wdt + rb[i]] += CNT(i);
            } else {
                for (size_t i = 0; i < nnz; ++i) H[pca[rka[ROW(i)]] * wdt + pcb[rkb[ROW(i)]]] += CNT(i);
            }
#undef ROW
#undef CNT
        }
        /* joint[la][lb] = sum_{i<=la, j<=lb} H[i][j] */
        uint32_t *J = w->joint + (size_t)pi * MAXL * MAXL;
        for (int la = 0; la < ma; ++la) {
            uint32_t row = 0;
            for (int lb = 0; lb < mb; ++lb) {
                row += H[la * wdt + lb];
                J[la * MAXL + lb] = row + (la > 0 ? J[(la - 1) * MAXL + lb] : 0);
            }
        }
    }

    const double Nd = (double)N;
    for (int u = 0; u < p->nunit; ++u) {
        const cqb_plan_unit *un = &p->unit[u];
        const cqb_plan_col *cy = &p->col[un->col_y], *cx = &p->col[un->col_x];
        const uint32_t *my = w->marg + (size_t)un->col_y * MAXL, *mx = w->marg + (size_t)un->col_x * MAXL;
        const int pyx = p->pair_index[un->col_y * p->ncol + un->col_x];
        const int yfirst = un->col_y < un->col_x;
        const uint32_t *Jyx = w->joint + (size_t)pyx * MAXL * MAXL;
        double *o = out + un->out;
        if (un->nz == 0) {
            /* cqb_cq_from_counts() with the diagonal sums hoisted out of the
             * cell loop: the same operations, so the same bits */
            double s11[MAXL], s22[MAXL], mxd[MAXL], axd[MAXL];
            const int nx = p->nx;
            for (int iy = 0; iy < p->ny; ++iy)
                s11[iy] = cqb_gram_entry(Nd, my[iy], my[iy], my[iy], cy->lev[iy], cy->lev[iy]);
            for (int ix = 0; ix < nx; ++ix) {
                mxd[ix] = mx[ix];
                axd[ix] = cx->lev[ix];
                s22[ix] = cqb_gram_entry(Nd, mxd[ix], mxd[ix], mxd[ix], axd[ix], axd[ix]);
            }
#ifdef CQB_PLAN_AVX2
            if (w->avx2)
                cq_cells_avx2(o, w->den, p->ny, nx, Nd, my, cy->lev, s11, mxd, axd, s22, Jyx, yfirst);
            else
#endif
                cq_cells(o, w->den, p->ny, nx, Nd, my, cy->lev, s11, mxd, axd, s22, Jyx, yfirst);
            continue;
        }
        for (int iy = 0; iy < p->ny; ++iy) {
            for (int ix = 0; ix < p->nx; ++ix) {
                /* Partial CQ: Gram of (y, x, z_1..z_nz), each control at its
                 * single level 0. */
                const int l = 2 + un->nz;
                int cols[CQB_MAX_VARS], lv[CQB_MAX_VARS];
                cols[0] = un->col_y; lv[0] = iy;
                cols[1] = un->col_x; lv[1] = ix;
                for (int j = 0; j < un->nz; ++j) { cols[2 + j] = un->col_z[j]; lv[2 + j] = 0; }
                double Gm[CQB_MAX_VARS * CQB_MAX_VARS];
                for (int s = 0; s < l; ++s) {
                    const double as = p->col[cols[s]].lev[lv[s]];
                    const double ns = w->marg[(size_t)cols[s] * MAXL + lv[s]];
                    for (int t = s; t < l; ++t) {
                        const double at = p->col[cols[t]].lev[lv[t]];
                        const double nt = w->marg[(size_t)cols[t] * MAXL + lv[t]];
                        double nst;
                        if (s == t) {
                            nst = ns;
                        } else if (cols[s] == cols[t]) {
                            nst = lv[s] < lv[t] ? ns : nt; /* nested levels */
                        } else {
                            const int pp = p->pair_index[cols[s] * p->ncol + cols[t]];
                            const uint32_t *J = w->joint + (size_t)pp * MAXL * MAXL;
                            nst = cols[s] < cols[t] ? J[lv[s] * MAXL + lv[t]] : J[lv[t] * MAXL + lv[s]];
                        }
                        Gm[s * l + t] = Gm[t * l + s] = cqb_gram_entry(Nd, ns, nt, nst, as, at);
                    }
                }
                o[iy * p->nx + ix] = cqb_partial_from_gram(Gm, l);
            }
        }
    }
}

cqb_status cqb_plan_counts_cpu(const cqb_plan *plan, uint32_t rep, uint32_t *marg, uint32_t *joint,
                               cqb_error *err)
{
    workspace w;
    if (ws_alloc(&w, plan)) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    double *tmp = malloc((plan->nstat ? plan->nstat : 1) * sizeof *tmp);
    if (!tmp) {
        ws_free(&w);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    run_one(plan, rep, &w, tmp);
    memcpy(marg, w.marg, (size_t)plan->ncol * MAXL * sizeof *marg);
    memcpy(joint, w.joint, (size_t)plan->npair * MAXL * MAXL * sizeof *joint);
    free(tmp);
    ws_free(&w);
    return CQB_OK;
}

struct cqb_plan_worker {
    const cqb_plan *plan;
    workspace w;
};

cqb_plan_worker *cqb_plan_worker_new(const cqb_plan *plan)
{
    cqb_plan_worker *k = malloc(sizeof *k);
    if (!k) return NULL;
    k->plan = plan;
    if (ws_alloc(&k->w, plan)) {
        free(k);
        return NULL;
    }
    return k;
}

void cqb_plan_worker_run(cqb_plan_worker *k, uint32_t rep, double *out) { run_one(k->plan, rep, &k->w, out); }

void cqb_plan_worker_free(cqb_plan_worker *k)
{
    if (!k) return;
    ws_free(&k->w);
    free(k);
}

cqb_status cqb_plan_run_cpu(const cqb_plan *plan, uint32_t rep0, size_t nrep, double *out, int threads,
                            cqb_error *err)
{
    int failed = 0;
    const long n = (long)nrep;
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        /* Every thread must reach the worksharing loop, even one whose
         * workspace allocation failed; it then skips its share. */
        workspace w;
        const int ok = ws_alloc(&w, plan) == 0;
        if (!ok) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (long i = 0; i < n; ++i)
            if (ok) run_one(plan, rep0 + (uint32_t)i, &w, out + (size_t)i * plan->nstat);
        if (ok) ws_free(&w);
    }
    if (failed) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap workspaces");
    return CQB_OK;
}
