/* qselect.c — exact bootstrap quantiles in bounded memory (see qselect.h). */
#define _DEFAULT_SOURCE 1 /* madvise(MADV_HUGEPAGE) on Linux; see store_alloc() */
#include "cqboot/qselect.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "cqboot/cqreduce.h"
#include "cqboot/runtime.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QSEL_AVX2 1 /* chosen at run time */
#endif
#include "cqboot/quantile.h"

#define NB CQB_QSEL_BINS

typedef struct run {
    double v;
    uint64_t n;
} run;

typedef struct var_state {
    double lo, width;        /* histogram range */
    int ranged;              /* range fixed by the first chunk */
    uint32_t *hist;          /* NB + 2 bins: under, NB, over */
    size_t valid;
    int ntarget;             /* distinct target bins */
    uint32_t tbin[2 * CQB_QSEL_MAX_PROBS];
    run *buf;                /* collected values of the target bins */
    size_t len, cap;
    double result[CQB_QSEL_MAX_PROBS];
} var_state;

/* Windowed mode (cqb_qsel_create_windowed()): the value intervals of one
 * statistic that hold its wanted order statistics, found from a pilot, and
 * the values that fell inside them. */
#define QW_PILOT 1024        /* replicates in the pilot */
#define QW_MIN_B (8 * QW_PILOT)
#define QW_SIGMA 6.0         /* window half-width in pilot standard errors of a rank */
#define QW_NCNT (1 + 2 * CQB_QSEL_MAX_PROBS) /* counters: finite, then below and above each window */
/* A thread's record per statistic: the counters, then the part of the
 * window's buffer it has reserved and not filled yet ([pos, end)). */
#define QW_POS QW_NCNT
#define QW_END (QW_NCNT + 1)
#define QW_REC (QW_NCNT + 2)
typedef struct win_state {
    int nwin;                            /* disjoint windows, ascending */
    double lo[CQB_QSEL_MAX_PROBS], hi[CQB_QSEL_MAX_PROBS]; /* inclusive bounds */
    double *buf;                         /* the values inside the windows, any order */
    size_t cap;
    size_t chunk;                        /* slots a thread reserves at once (0: one reservation per append) */
    atomic_size_t len;                   /* slots reserved */
    atomic_int over;                     /* out of memory for the values */
    /* values past cap (rare: the pilot's share of in-window values fell
     * well below the rest's), appended under ovlock */
    atomic_int ovlock;
    double *ovf;
    size_t novf, capovf;
} win_state;

struct cqb_qsel {
    size_t nvar, B, seen;
    int nprob;
    double probs[CQB_QSEL_MAX_PROBS];
    int npass;
    double *store; /* one-pass mode: nvar rows of B values, `stride` apart */
    void *store_mem; /* the allocation store points into */
    size_t stride;   /* B rounded up to a cache line of doubles */
    double *result;
    size_t *nvalid;
    var_state *vs; /* two-pass mode */
    /* windowed one-pass mode: the store holds the pilot's values (stride
     * = pilot), then the windows take over */
    size_t mem_limit; /* bytes for stored values */
    size_t pilot;     /* 0: not windowed */
    int windows_on;   /* cqb_qsel_window_begin() has set the windows */
    int win_failed;   /* an order statistic fell outside its windows */
    int nthr;         /* counter sets */
    win_state *win;
    size_t *wcnt;     /* nthr x nvar x QW_REC: counters and reserved slots */
    size_t wbytes;    /* the windows' buffers */
};

/* The one-pass store: B values of every statistic, written once each.
 * Large stores (W1's Q test: 155 MB) are asked for transparent huge pages
 * where the kernel gives them only on request: with 4 KiB pages, faulting
 * the store in cost ~40,000 page faults per run, a tenth of W1's CPU time.
 * Rows start on cache lines either way. */
#define STORE_HUGE ((size_t)2 << 20)
static void *store_alloc(size_t bytes)
{
    void *m = NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= 2 * STORE_HUGE) {
        bytes = (bytes + STORE_HUGE - 1) / STORE_HUGE * STORE_HUGE;
        if (posix_memalign(&m, STORE_HUGE, bytes) != 0) return NULL;
        (void)madvise(m, bytes, MADV_HUGEPAGE); /* advice only: 4 KiB pages if refused */
        return m;
    }
#endif
    if (posix_memalign(&m, 64, bytes ? bytes : 64) != 0) return NULL;
    return m;
}

/* mode: 0 = one pass when the values fit mem_limit, else two; 1 = two
 * passes; 2 = as 0, but windowed when one pass runs and windows pay. */
static int window_pays(size_t B, const double *probs, int nprob);
static double window_bytes(size_t nvar, size_t B, const double *probs, int nprob);
static void window_free(cqb_qsel *q);
static cqb_status create(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit, int mode,
                         cqb_qsel **out, cqb_error *err)
{
    *out = NULL;
    if (nprob < 1 || nprob > CQB_QSEL_MAX_PROBS || B > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "internal: bad quantile selector request");
    if (mem_limit == 0) mem_limit = (size_t)256 << 20;
    cqb_qsel *q = calloc(1, sizeof *q);
    if (!q) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    q->nvar = nvar;
    q->B = B;
    q->nprob = nprob;
    memcpy(q->probs, probs, (size_t)nprob * sizeof *probs);
    q->mem_limit = mem_limit;
    const int fits = nvar == 0 || B <= mem_limit / sizeof(double) / nvar;
    const int win = mode == 2 && nvar > 0 && window_pays(B, probs, nprob) &&
                    window_bytes(nvar, B, probs, nprob) <= (double)mem_limit;
    if (mode != 1 && (fits || win)) {
        q->npass = 1;
        if (win) q->pilot = QW_PILOT;
        /* Rows start on cache lines: threads that fill adjacent replicates
         * of a row (multiples of 8) then never share a line. */
        q->stride = q->pilot ? q->pilot : (B + 7) / 8 * 8;
        q->store_mem = store_alloc((q->stride ? q->stride : 8) * (nvar ? nvar : 1) * sizeof(double));
        if (!q->store_mem) goto nomem;
        q->store = q->store_mem;
    } else {
        q->npass = 2;
        q->vs = calloc(nvar, sizeof *q->vs);
        if (!q->vs) goto nomem;
        for (size_t v = 0; v < nvar; ++v) {
            q->vs[v].hist = calloc(NB + 2, sizeof(uint32_t));
            if (!q->vs[v].hist) goto nomem;
        }
    }
    *out = q;
    return CQB_OK;
nomem:
    cqb_qsel_free(q);
    return cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap quantiles (%zu statistics)", nvar);
}

cqb_status cqb_qsel_create(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit,
                           cqb_qsel **out, cqb_error *err)
{
    return create(nvar, B, probs, nprob, mem_limit, 0, out, err);
}

cqb_status cqb_qsel_create_two_pass(size_t nvar, size_t B, const double *probs, int nprob, cqb_qsel **out,
                                    cqb_error *err)
{
    return create(nvar, B, probs, nprob, 0, 1, out, err);
}

cqb_status cqb_qsel_create_windowed(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit,
                                    cqb_qsel **out, cqb_error *err)
{
    return create(nvar, B, probs, nprob, mem_limit, getenv("CQB_QSEL_STORE") ? 0 : 2, out, err);
}

void cqb_qsel_import_pass1(cqb_qsel *q, size_t var, double lo, double width, const uint32_t *hist, size_t valid)
{
    var_state *s = &q->vs[var];
    s->lo = lo;
    s->width = width;
    s->ranged = 1;
    memcpy(s->hist, hist, (NB + 2) * sizeof *hist);
    s->valid = valid;
}

int cqb_qsel_targets(const cqb_qsel *q, size_t var, uint32_t *tbin)
{
    const var_state *s = &q->vs[var];
    for (int t = 0; t < s->ntarget; ++t) tbin[t] = s->tbin[t];
    return s->ntarget;
}

void cqb_qsel_free(cqb_qsel *q)
{
    if (!q) return;
    if (q->vs) {
        for (size_t v = 0; v < q->nvar; ++v) {
            free(q->vs[v].hist);
            free(q->vs[v].buf);
        }
    }
    free(q->vs);
    window_free(q);
    free(q->store_mem);
    free(q->result);
    free(q->nvalid);
    free(q);
}

int cqb_qsel_npass(const cqb_qsel *q) { return q->npass; }

static uint32_t bin_of(const var_state *s, double x) { return cqb_qsel_bin_hd(s->lo, s->width, x); }

static int cmp_run(const void *a, const void *b)
{
    double x = ((const run *)a)->v, y = ((const run *)b)->v;
    return (x > y) - (x < y);
}

/* Sort the buffer and merge equal values into runs. */
static void compress(var_state *s)
{
    if (s->len < 2) return;
    qsort(s->buf, s->len, sizeof *s->buf, cmp_run);
    size_t k = 0;
    for (size_t i = 1; i < s->len; ++i) {
        if (s->buf[i].v == s->buf[k].v) s->buf[k].n += s->buf[i].n;
        else s->buf[++k] = s->buf[i];
    }
    s->len = k + 1;
}

static int push(var_state *s, double x)
{
    if (s->len == s->cap) {
        compress(s);
        if (s->cap == 0 || s->len * 2 > s->cap) {
            size_t nc = s->cap ? 2 * s->cap : 256;
            run *nb = realloc(s->buf, nc * sizeof *nb);
            if (!nb) return -1;
            s->buf = nb;
            s->cap = nc;
        }
    }
    s->buf[s->len].v = x;
    s->buf[s->len].n = 1;
    s->len++;
    return 0;
}

/* The histogram range of one statistic from its first chunk of values. */
static void set_range(var_state *s, const double *x, size_t n)
{
    double mn = INFINITY, mx = -INFINITY;
    for (size_t r = 0; r < n; ++r) {
        if (isfinite(x[r])) {
            if (x[r] < mn) mn = x[r];
            if (x[r] > mx) mx = x[r];
        }
    }
    cqb_qsel_range_hd(mn, mx, &s->lo, &s->width);
    s->ranged = 1;
}

int cqb_qsel_push(cqb_qsel *q, int pass, size_t var, const double *x, size_t n)
{
    if (q->windows_on) { /* distinct statistics never share counters */
        cqb_qsel_window_push(q, 0, var, x, n);
        return 0;
    }
    if (q->npass == 1) {
        memcpy(q->store + var * q->stride + q->seen, x, n * sizeof *x);
        return 0;
    }
    var_state *s = &q->vs[var];
    if (pass == 1 && !s->ranged) set_range(s, x, n);
    for (size_t r = 0; r < n; ++r) {
        if (!isfinite(x[r])) continue;
        uint32_t b = bin_of(s, x[r]);
        if (pass == 1) {
            s->hist[b]++;
            s->valid++;
            continue;
        }
        for (int t = 0; t < s->ntarget; ++t) {
            if (s->tbin[t] == b) {
                if (push(s, x[r])) return -1;
                break;
            }
        }
    }
    return 0;
}

cqb_status cqb_qsel_advance(cqb_qsel *q, size_t n, cqb_error *err)
{
    if (q->seen + n > q->B) return cqb_error_set(err, CQB_EINTERNAL, "internal: too many replicates");
    q->seen += n;
    return CQB_OK;
}

void cqb_qsel_rewind(cqb_qsel *q) { q->seen = 0; }

double *cqb_qsel_slot(cqb_qsel *q, size_t var)
{
    if (q->npass != 1 || q->windows_on) return NULL;
    return q->store + var * q->stride + q->seen;
}

cqb_status cqb_qsel_add(cqb_qsel *q, int pass, const double *vals, size_t nrep, int threads,
                        cqb_error *err)
{
    int failed = 0;
    const long nvar = (long)q->nvar;
#pragma omp parallel num_threads(threads > 0 ? threads : 1) reduction(| : failed)
    {
        double *col = malloc((nrep ? nrep : 1) * sizeof *col);
        if (!col) failed = 1;
#pragma omp for schedule(static)
        for (long v = 0; v < nvar; ++v) {
            if (!col) continue;
            for (size_t r = 0; r < nrep; ++r) col[r] = vals[r * q->nvar + (size_t)v];
            if (cqb_qsel_push(q, pass, (size_t)v, col, nrep)) failed = 1;
        }
        free(col);
    }
    if (failed) return cqb_error_set(err, CQB_ENOMEM, "out of memory collecting bootstrap quantiles");
    return cqb_qsel_advance(q, nrep, err);
}

/* ---------------------------------------------------- stored selection -- */

/* The stored values of one statistic are selected by a histogram over their
 * range instead of partitioning them: a monotone bin of every value (x < y
 * gives bin(x) <= bin(y), whatever the rounding), the bins that hold the
 * wanted ranks, and a sort of only the values in those bins. Order
 * statistics are values, so this gives what cqb_select_r7_inplace() gives,
 * bit for bit -- except the sign of a zero when the values hold both +0 and
 * -0 and a zero is selected (which zero Floyd-Rivest leaves at the rank
 * depends on its partitioning); that case, and degenerate ranges, go to
 * cqb_select_r7_inplace() itself. Each value costs a few branch-free
 * operations instead of the mispredicted branches of a partition. */
#define FS_BINS 2048
#define FS_MIN_N 256 /* below this, partitioning is cheap enough */
#define FS_MAX_RANKS (2 * CQB_QSEL_MAX_PROBS)

typedef struct fs_scratch {
    uint32_t hist[FS_BINS];
    uint8_t flag[FS_BINS];
    uint16_t *bin;  /* bin of every value */
    double *buf;    /* values of the target bins */
    size_t cap;
} fs_scratch;

/* The smallest and largest of n >= 1 values (no NaN). Which zero comes out
 * when both signs are present does not matter: x - mn bins the same, and a
 * selected zero is checked by the caller. */
static inline __attribute__((always_inline)) void range(const double *restrict a, size_t n, double *mn_out,
                                                         double *mx_out)
{
    /* four independent chains (a floating-point min is not reassociated
     * for us) */
    double mn4[4] = {a[0], a[0], a[0], a[0]}, mx4[4] = {a[0], a[0], a[0], a[0]};
    size_t i4 = 0;
    for (; i4 + 4 <= n; i4 += 4) {
        for (int k = 0; k < 4; ++k) {
            const double x = a[i4 + (size_t)k];
            mn4[k] = x < mn4[k] ? x : mn4[k];
            mx4[k] = x > mx4[k] ? x : mx4[k];
        }
    }
    for (; i4 < n; ++i4) {
        mn4[0] = a[i4] < mn4[0] ? a[i4] : mn4[0];
        mx4[0] = a[i4] > mx4[0] ? a[i4] : mx4[0];
    }
    double mn = mn4[0], mx = mx4[0];
    for (int k = 1; k < 4; ++k) {
        mn = mn4[k] < mn ? mn4[k] : mn;
        mx = mx4[k] > mx ? mx4[k] : mx;
    }
    *mn_out = mn;
    *mx_out = mx;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether a[] holds zeros of both signs. */
static int zeros_both(const double *a, size_t n)
{
    int neg = 0, pos = 0;
    for (size_t i = 0; i < n; ++i) {
        if (a[i] == 0.0) {
            if (signbit(a[i])) neg = 1;
            else pos = 1;
        }
    }
    return neg && pos;
}

#ifdef QSEL_AVX2
/* The values of a[0..n) whose bins are among the ntb target bins tb[],
 * appended to buf in order; sixteen at a time with AVX-512: bins widened to
 * 32 bits and compared into a mask (most blocks of sixteen hold none), the
 * values packed by compresses in registers. Returns how many. */
__attribute__((target("avx512f"))) static size_t
collect_avx512(const double *restrict a, const uint16_t *restrict bin, size_t n, const uint32_t *tb, int ntb,
               const uint8_t *restrict flag, double *restrict buf)
{
    __m512i t[FS_MAX_RANKS];
    for (int j = 0; j < ntb; ++j) t[j] = _mm512_set1_epi32((int)tb[j]);
    size_t m = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i b = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(bin + i)));
        __mmask16 k = 0;
        for (int j = 0; j < ntb; ++j) k |= _mm512_cmpeq_epi32_mask(b, t[j]);
        if (!k) continue;
        /* m <= i, so the whole stores stay inside buf (n values) */
        const __mmask8 k0 = (__mmask8)k, k1 = (__mmask8)(k >> 8);
        _mm512_storeu_pd(buf + m, _mm512_maskz_compress_pd(k0, _mm512_loadu_pd(a + i)));
        m += (size_t)__builtin_popcount((unsigned)k0);
        _mm512_storeu_pd(buf + m, _mm512_maskz_compress_pd(k1, _mm512_loadu_pd(a + i + 8)));
        m += (size_t)__builtin_popcount((unsigned)k1);
    }
    for (; i < n; ++i)
        if (flag[bin[i]]) buf[m++] = a[i];
    return m;
}
#endif

/* The values of the 1-based ranks rk[0..nr) (any order, repeats allowed) of
 * the n finite values a[] into v; a is not modified. Returns -1 when the
 * caller must select otherwise (few values, a degenerate range, or a
 * selected zero among zeros of both signs). SIMD is 2 in the AVX-512 build
 * of the body (a constant there). */
static inline __attribute__((always_inline)) int select_ranks_body(const double *restrict a, size_t n,
                                                                   const size_t *rk, int nr, double *v,
                                                                   fs_scratch *s, int SIMD)
{
    if (n < FS_MIN_N || n > UINT32_MAX) return -1;
    if (s->cap < n) {
        uint16_t *nb = realloc(s->bin, n * sizeof *nb);
        if (nb) s->bin = nb;
        double *nbuf = nb ? realloc(s->buf, n * sizeof *nbuf) : NULL;
        if (!nbuf) return -1;
        s->buf = nbuf;
        s->cap = n;
    }
    double mn, mx;
    range(a, n, &mn, &mx);
    if (!(mx > mn)) { /* one value */
        if (mn == 0.0 && zeros_both(a, n)) return -1;
        for (int j = 0; j < nr; ++j) v[j] = mn;
        return 0;
    }
    /* about four values per bin, at least 64 bins and at most FS_BINS:
     * clearing and scanning the histogram costs per bin, sorting the target
     * bins' values per value */
    int32_t nbin = 64;
    while (nbin < FS_BINS && (size_t)nbin * 4 < n) nbin *= 2;
    const double scale = (double)nbin / (mx - mn);
    if (!(scale > 0.0) || !isfinite(scale)) return -1;
    uint32_t *restrict hist = s->hist;
    uint16_t *restrict bin = s->bin;
    memset(hist, 0, (size_t)nbin * sizeof *hist);
    for (size_t i = 0; i < n; ++i) {
        /* x >= mn, so the product is in [0, nbin (1 + eps)]; each
         * operation is monotone. A loop of its own, so it runs in SIMD
         * lanes; the histogram is counted apart. */
        int32_t b = (int32_t)((a[i] - mn) * scale);
        b = b < nbin ? b : nbin - 1;
        bin[i] = (uint16_t)b;
    }
    for (size_t i = 0; i < n; ++i) hist[bin[i]]++;
    /* the bin of every wanted rank and the count below it */
    uint32_t rbin[FS_MAX_RANKS];
    size_t rbelow[FS_MAX_RANKS];
    memset(s->flag, 0, (size_t)nbin);
    /* ranks in ascending order, found in one cumulative scan over the bins */
    int ord[FS_MAX_RANKS];
    for (int j = 0; j < nr; ++j) {
        int q = j;
        for (; q > 0 && rk[ord[q - 1]] > rk[j]; --q) ord[q] = ord[q - 1];
        ord[q] = j;
    }
    {
        size_t cum = 0;
        uint32_t b = 0;
        for (int q = 0; q < nr; ++q) {
            const int j = ord[q];
            while (cum + hist[b] < rk[j]) cum += hist[b++];
            rbin[j] = b;
            rbelow[j] = cum;
            s->flag[b] = 1;
        }
    }
    const uint8_t *restrict flag = s->flag;
    double *restrict buf = s->buf;
    size_t m = 0;
    /* A branch, not a branch-free append: the target bins hold a few values
     * in a thousand, so it is predicted right almost always, while the
     * append's store address would wait on every previous flag. */
#ifdef QSEL_AVX2
    if (SIMD == 2) {
        uint32_t tb[FS_MAX_RANKS];
        int ntb = 0;
        for (int q = 0; q < nr; ++q)
            if (ntb == 0 || rbin[ord[q]] != tb[ntb - 1]) tb[ntb++] = rbin[ord[q]];
        m = collect_avx512(a, bin, n, tb, ntb, flag, buf);
    } else
#endif
    {
        for (size_t i = 0; i < n; ++i)
            if (flag[bin[i]]) buf[m++] = a[i];
    }
    if (m > 32) {
        qsort(buf, m, sizeof *buf, cmp_double);
    } else {
        /* a few values (the usual case: about four per bin): insertion
         * sort, no call per comparison. Equal values (+0 and -0 among them)
         * may come out in another order than qsort's: a selected zero with
         * both signs present is refused below either way. */
        for (size_t i = 1; i < m; ++i) {
            const double x = buf[i];
            size_t j = i;
            for (; j > 0 && buf[j - 1] > x; --j) buf[j] = buf[j - 1];
            buf[j] = x;
        }
    }
    /* sorted by value = grouped by bin in bin order */
    for (int j = 0; j < nr; ++j) {
        /* collected values of the target bins below rbin[j] */
        size_t off = 0;
        for (int q = 0; q < nr; ++q) {
            const uint32_t b = rbin[ord[q]];
            if (b >= rbin[j]) break;
            if (q == 0 || b != rbin[ord[q - 1]]) off += hist[b];
        }
        v[j] = buf[off + (rk[j] - rbelow[j]) - 1];
        if (v[j] == 0.0 && zeros_both(a, n)) return -1;
    }
    return 0;
}

/* The range and bin loops run in SIMD lanes: compiled for AVX-512 and AVX2
 * too (min, max, a subtraction, a product and a conversion per value: the
 * same bits in every lane width). */
#ifdef QSEL_AVX2
__attribute__((target("avx512f"))) static int select_ranks_avx512(const double *restrict a, size_t n,
                                                                   const size_t *rk, int nr, double *v,
                                                                   fs_scratch *s)
{
    return select_ranks_body(a, n, rk, nr, v, s, 2);
}
__attribute__((target("avx2"))) static int select_ranks_avx2(const double *restrict a, size_t n, const size_t *rk,
                                                             int nr, double *v, fs_scratch *s)
{
    return select_ranks_body(a, n, rk, nr, v, s, 1);
}
#endif

static int select_ranks(const double *restrict a, size_t n, const size_t *rk, int nr, double *v, fs_scratch *s)
{
#ifdef QSEL_AVX2
    const int simd = cqb_simd_level();
    if (simd == 2) return select_ranks_avx512(a, n, rk, nr, v, s);
    if (simd == 1) return select_ranks_avx2(a, n, rk, nr, v, s);
#endif
    return select_ranks_body(a, n, rk, nr, v, s, 0);
}

/* 1-based ranks of the order statistics that type 7 needs at probability p. */
static void r7_ranks(size_t n, double p, size_t *r1, size_t *r2, double *h)
{
    cqb_r7_index(n, p, r1, h);
    *r2 = (*h > 0.0 && *r1 < n) ? *r1 + 1 : *r1;
}

/* probs' type-7 quantiles of the n finite values a[] into res; a is not
 * modified. Returns -1 when the caller must use cqb_select_r7_inplace(). */
static int select_fast(const double *restrict a, size_t n, const double *probs, int nprob, double *res,
                       fs_scratch *s)
{
    size_t rk[2 * CQB_QSEL_MAX_PROBS];
    double hh[CQB_QSEL_MAX_PROBS], v[2 * CQB_QSEL_MAX_PROBS];
    for (int i = 0; i < nprob; ++i) r7_ranks(n, probs[i], &rk[2 * i], &rk[2 * i + 1], &hh[i]);
    if (select_ranks(a, n, rk, 2 * nprob, v, s)) return -1;
    for (int i = 0; i < nprob; ++i) res[i] = cqb_r7_interp(v[2 * i], v[2 * i + 1], hh[i]);
    return 0;
}

/* ------------------------------------------------------ windowed store -- */

/* The windowed one-pass mode stores the pilot's values (the first
 * QW_PILOT replicates) and then, per statistic, only the values inside
 * windows around its wanted order statistics. A window's bounds are pilot
 * order statistics QW_SIGMA standard errors of a rank below and above the
 * wanted rank, so the final ranks almost surely fall inside. Every value is
 * still counted (finite, below and above each window), so the rank of each
 * window's first value is known exactly: the selected order statistics are
 * the stored selection's, bit for bit, or the selector says it failed (an
 * order statistic outside the windows, a selected zero among zeros of both
 * signs, or no memory for a window's overflow) and the caller runs the
 * stored mode. More values inside a window than its room (set from the
 * pilot's share) go to an overflow array: the pilot's share of a window is
 * a count of about 90 values for W1, so at B = 1e5, across W1's 2,916
 * statistics, one whose share fell 30 % short of the rest's was seen. For
 * W1 the windows keep about a tenth of the values: the store's memory
 * traffic, not its arithmetic, was the cost of the reduction. */

/* Half-width, in ranks, of the window around probability p for n values. */
static size_t window_halfwidth(size_t n, double p)
{
    return (size_t)ceil(QW_SIGMA * sqrt((double)n * p * (1.0 - p))) + 2;
}

/* Share of the values that windows are expected to keep. */
static double window_share(const double *probs, int nprob)
{
    size_t keep = 0;
    for (int i = 0; i < nprob; ++i) keep += 2 * window_halfwidth(QW_PILOT, probs[i]) + 2;
    return (double)keep / QW_PILOT;
}

/* Whether windows would keep under a quarter of the values. */
static int window_pays(size_t B, const double *probs, int nprob)
{
    return B >= QW_MIN_B && window_share(probs, nprob) < 0.25;
}

/* The room a window buffer gets for an expected e values: a margin for
 * the sampling error of the pilot's share (values past it go to the
 * window's overflow array). */
static double window_room(double e) { return 1.25 * e + 8.0 * sqrt(e) + 64.0; }

/* Expected bytes of a windowed selector: the pilot, then the windows. */
static double window_bytes(size_t nvar, size_t B, const double *probs, int nprob)
{
    return (double)nvar * ((double)QW_PILOT + window_room(window_share(probs, nprob) * (double)B)) * sizeof(double);
}

/* The values of ranks rk[0..nr) of a[0..n) (n >= 1) by sorting a copy in
 * tmp, for when select_ranks() declines. Returns -1 when a selected zero
 * sits among zeros of both signs (v is filled all the same). */
static int select_ranks_sorted(const double *a, size_t n, const size_t *rk, int nr, double *v, double *tmp)
{
    memcpy(tmp, a, n * sizeof *a);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    int zero = 0;
    for (int j = 0; j < nr; ++j) {
        v[j] = tmp[rk[j] - 1];
        zero |= v[j] == 0.0;
    }
    return zero && zeros_both(a, n) ? -1 : 0;
}

/* The finite values of x[0..n) (NaN and infinities are not values), in
 * order: x itself when all are (the usual case, found by a count without a
 * dependence between values), else copied into dst, which may be x (the
 * copy only moves values down). *nfin gets their number. */
static const double *finite_values(const double *x, size_t n, double *dst, size_t *nfin)
{
    size_t k = 0;
    for (size_t r = 0; r < n; ++r) k += x[r] - x[r] == 0.0;
    *nfin = k;
    if (k == n) return x;
    k = 0;
    for (size_t r = 0; r < n; ++r) {
        dst[k] = x[r];
        k += x[r] - x[r] == 0.0;
    }
    return dst;
}

size_t cqb_qsel_pilot(const cqb_qsel *q) { return q->windows_on ? 0 : q->pilot; }

int cqb_qsel_window_failed(const cqb_qsel *q) { return q->win_failed; }

/* Appends t values past the window buffer's room to its overflow array
 * (under a spin lock: this is rare); says so in w->over when out of
 * memory. */
static void window_overflow(win_state *w, const double *x, size_t t)
{
    int expect = 0;
    while (!atomic_compare_exchange_weak_explicit(&w->ovlock, &expect, 1, memory_order_acquire,
                                                  memory_order_relaxed))
        expect = 0;
    if (w->novf + t > w->capovf) {
        size_t cap = w->capovf ? 2 * w->capovf : 256;
        while (cap < w->novf + t) cap *= 2;
        double *o = realloc(w->ovf, cap * sizeof *o);
        if (!o) {
            atomic_store_explicit(&w->over, 1, memory_order_relaxed);
            atomic_store_explicit(&w->ovlock, 0, memory_order_release);
            return;
        }
        w->ovf = o;
        w->capovf = cap;
    }
    memcpy(w->ovf + w->novf, x, t * sizeof *x);
    w->novf += t;
    atomic_store_explicit(&w->ovlock, 0, memory_order_release);
}

/* Appends the t in-window values of tmp to the window's buffer: into the
 * slots the thread has reserved (rec[QW_POS..QW_END)), reserving w->chunk
 * more at a time. One atomic add per chunk instead of per append: the
 * buffer's length is shared by every thread, and its cache line moving
 * between cores on each append cost a third of the window loop. The slots
 * a thread reserved and did not fill are closed up by window_compact()
 * before the selection. With w->chunk == 0 (filling from the pilot, one
 * thread) each append reserves exactly its values. Values past the room go
 * to the overflow array: more values inside the windows than the pilot
 * promised cost memory, never the result. */
static void window_append(win_state *w, size_t *rec, const double *tmp, size_t t)
{
    if (!t) return;
    if (!w->chunk) {
        const size_t at = atomic_fetch_add_explicit(&w->len, t, memory_order_relaxed);
        if (at + t > w->cap) {
            atomic_store_explicit(&w->over, 1, memory_order_relaxed);
            return;
        }
        memcpy(w->buf + at, tmp, t * sizeof *tmp);
        return;
    }
    while (t) {
        if (rec[QW_POS] == rec[QW_END]) {
            const size_t at = atomic_fetch_add_explicit(&w->len, w->chunk, memory_order_relaxed);
            if (at >= w->cap) {
                window_overflow(w, tmp, t);
                return;
            }
            rec[QW_POS] = at;
            rec[QW_END] = at + w->chunk < w->cap ? at + w->chunk : w->cap;
        }
        const size_t room = rec[QW_END] - rec[QW_POS], k = t < room ? t : room;
        memcpy(w->buf + rec[QW_POS], tmp, k * sizeof *tmp);
        rec[QW_POS] += k;
        tmp += k;
        t -= k;
    }
}

/* The SIMD window loops keep the thread's reserved slots [pos, end) in
 * registers; values packed into tmp (no room left there) are appended
 * through window_append(), which may reserve more. */
static inline void window_flush(win_state *w, size_t *cnt, size_t *pos, size_t *end, const double *tmp, size_t t)
{
    if (!t) return;
    cnt[QW_POS] = *pos;
    window_append(w, cnt, tmp, t);
    *pos = cnt[QW_POS];
    *end = cnt[QW_END];
}

/* x[0..n) against one statistic's windows: counts added to cnt (finite,
 * then below and above each window), the values inside appended to the
 * window's buffer. Any number of threads at once, each with its own cnt.
 * y - y == 0 is "finite": NaN and infinities are not values. */
static void window_take_scalar(win_state *w, size_t *cnt, const double *x, size_t n)
{
    double tmp[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = n - i0 < 256 ? n - i0 : 256;
        const double *restrict y = x + i0;
        size_t t = 0;
        for (size_t i = 0; i < m; ++i) {
            const int f = y[i] - y[i] == 0.0;
            int inside = 0;
            cnt[0] += (size_t)f;
            for (int k = 0; k < w->nwin; ++k) {
                const int b = f & (y[i] < w->lo[k]), a = f & (y[i] > w->hi[k]);
                cnt[1 + 2 * k] += (size_t)b;
                cnt[2 + 2 * k] += (size_t)a;
                inside |= f & !b & !a;
            }
            tmp[t] = y[i]; /* write always, advance when inside */
            t += (size_t)inside;
        }
        window_append(w, cnt, tmp, t);
    }
}

#ifdef QSEL_AVX2
/* The same four values at a time: masks from packed compares, counts in
 * 64-bit lanes, and the inside values packed by a permutation from a table
 * of the 16 masks (no branch per value). NW is 1 or 2 windows (the usual
 * cases, unrolled), or 0 for w->nwin. */
static inline __attribute__((always_inline, target("avx2"))) void window_take_avx2_body(win_state *w, size_t *cnt,
                                                                                      const double *x, size_t n,
                                                                                      int NW)
{
    static const int32_t perm[16][8] = {
        {0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}, {2, 3, 0, 1, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7},
        {4, 5, 0, 1, 2, 3, 6, 7}, {0, 1, 4, 5, 2, 3, 6, 7}, {2, 3, 4, 5, 0, 1, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7},
        {6, 7, 0, 1, 2, 3, 4, 5}, {0, 1, 6, 7, 2, 3, 4, 5}, {2, 3, 6, 7, 0, 1, 4, 5}, {0, 1, 2, 3, 6, 7, 4, 5},
        {4, 5, 6, 7, 0, 1, 2, 3}, {0, 1, 4, 5, 6, 7, 2, 3}, {2, 3, 4, 5, 6, 7, 0, 1}, {0, 1, 2, 3, 4, 5, 6, 7}};
    const int nw = NW ? NW : w->nwin;
    __m256d lo[CQB_QSEL_MAX_PROBS], hi[CQB_QSEL_MAX_PROBS];
    __m256i below[CQB_QSEL_MAX_PROBS], above[CQB_QSEL_MAX_PROBS], fin = _mm256_setzero_si256();
    for (int k = 0; k < nw; ++k) {
        lo[k] = _mm256_set1_pd(w->lo[k]);
        hi[k] = _mm256_set1_pd(w->hi[k]);
        below[k] = above[k] = _mm256_setzero_si256();
    }
    const __m256d zero = _mm256_setzero_pd();
    double tmp[256 + 4];
    /* straight into the thread's reserved slots while four remain, as in
     * window_take_avx512_body() */
    size_t pos = cnt[QW_POS], end = cnt[QW_END];
    size_t i = 0;
    while (i + 4 <= n) {
        size_t t = 0;
        const size_t stop = i + 256 <= n ? i + 256 : n - (n - i) % 4;
        for (; i < stop; i += 4) {
            const __m256d y = _mm256_loadu_pd(x + i);
            const __m256d f = _mm256_cmp_pd(_mm256_sub_pd(y, y), zero, _CMP_EQ_OQ);
            __m256d in = _mm256_setzero_pd();
            fin = _mm256_sub_epi64(fin, _mm256_castpd_si256(f));
            for (int k = 0; k < nw; ++k) {
                const __m256d b = _mm256_and_pd(f, _mm256_cmp_pd(y, lo[k], _CMP_LT_OQ));
                const __m256d a = _mm256_and_pd(f, _mm256_cmp_pd(y, hi[k], _CMP_GT_OQ));
                below[k] = _mm256_sub_epi64(below[k], _mm256_castpd_si256(b));
                above[k] = _mm256_sub_epi64(above[k], _mm256_castpd_si256(a));
                in = _mm256_or_pd(in, _mm256_andnot_pd(_mm256_or_pd(a, b), f));
            }
            const int mk = _mm256_movemask_pd(in);
            const __m256i p = _mm256_loadu_si256((const __m256i *)perm[mk]);
            const __m256d packed = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(y), p));
            const size_t k = (size_t)__builtin_popcount((unsigned)mk);
            if (w->chunk && end - pos >= 4) {
                _mm256_storeu_pd(w->buf + pos, packed);
                pos += k;
            } else {
                _mm256_storeu_pd(tmp + t, packed);
                t += k;
            }
        }
        window_flush(w, cnt, &pos, &end, tmp, t);
    }
    cnt[QW_POS] = pos;
    uint64_t l[4];
    _mm256_storeu_si256((__m256i *)l, fin);
    cnt[0] += l[0] + l[1] + l[2] + l[3];
    for (int k = 0; k < nw; ++k) {
        _mm256_storeu_si256((__m256i *)l, below[k]);
        cnt[1 + 2 * k] += l[0] + l[1] + l[2] + l[3];
        _mm256_storeu_si256((__m256i *)l, above[k]);
        cnt[2 + 2 * k] += l[0] + l[1] + l[2] + l[3];
    }
    if (i < n) window_take_scalar(w, cnt, x + i, n - i);
}

__attribute__((target("avx2"))) static void window_take_avx2_1(win_state *w, size_t *cnt, const double *x, size_t n)
{
    window_take_avx2_body(w, cnt, x, n, 1);
}
__attribute__((target("avx2"))) static void window_take_avx2_2(win_state *w, size_t *cnt, const double *x, size_t n)
{
    window_take_avx2_body(w, cnt, x, n, 2);
}
__attribute__((target("avx2"))) static void window_take_avx2_n(win_state *w, size_t *cnt, const double *x, size_t n)
{
    window_take_avx2_body(w, cnt, x, n, 0);
}

/* The same eight values at a time with AVX-512: compare masks, counts by
 * masked adds in 64-bit lanes, the inside values packed by a compress in
 * registers (a compress straight to memory is slow on Zen 4). */
static inline __attribute__((always_inline, target("avx512f"))) void window_take_avx512_body(win_state *w,
                                                                                           size_t *cnt,
                                                                                           const double *x,
                                                                                           size_t n, int NW)
{
    const int nw = NW ? NW : w->nwin;
    __m512d lo[CQB_QSEL_MAX_PROBS], hi[CQB_QSEL_MAX_PROBS];
    const __m512i one = _mm512_set1_epi64(1);
    __m512i below[CQB_QSEL_MAX_PROBS], above[CQB_QSEL_MAX_PROBS], fin = _mm512_setzero_si512();
    for (int k = 0; k < nw; ++k) {
        lo[k] = _mm512_set1_pd(w->lo[k]);
        hi[k] = _mm512_set1_pd(w->hi[k]);
        below[k] = above[k] = _mm512_setzero_si512();
    }
    const __m512d zero = _mm512_setzero_pd();
    /* With reserved slots (w->chunk), each packed vector is stored whole
     * straight into the thread's slots while eight remain (the next store
     * overwrites the unused lanes); else, and while filling from the pilot,
     * through tmp and window_append(). Packing into tmp and copying it out
     * stalled on every load (a load across several recent stores cannot be
     * forwarded from them). */
    double tmp[256 + 8];
    size_t pos = cnt[QW_POS], end = cnt[QW_END];
    size_t i = 0;
    while (i + 8 <= n) {
        size_t t = 0;
        const size_t stop = i + 256 <= n ? i + 256 : n - (n - i) % 8;
        for (; i < stop; i += 8) {
            const __m512d y = _mm512_loadu_pd(x + i);
            const __mmask8 f = _mm512_cmp_pd_mask(_mm512_sub_pd(y, y), zero, _CMP_EQ_OQ);
            __mmask8 in = 0;
            fin = _mm512_mask_add_epi64(fin, f, fin, one);
            for (int k = 0; k < nw; ++k) {
                const __mmask8 b = _mm512_mask_cmp_pd_mask(f, y, lo[k], _CMP_LT_OQ);
                const __mmask8 a = _mm512_mask_cmp_pd_mask(f, y, hi[k], _CMP_GT_OQ);
                below[k] = _mm512_mask_add_epi64(below[k], b, below[k], one);
                above[k] = _mm512_mask_add_epi64(above[k], a, above[k], one);
                in |= (__mmask8)(f & ~(a | b));
            }
            const size_t k = (size_t)__builtin_popcount((unsigned)in);
            if (w->chunk && end - pos >= 8) {
                _mm512_storeu_pd(w->buf + pos, _mm512_maskz_compress_pd(in, y));
                pos += k;
            } else {
                _mm512_storeu_pd(tmp + t, _mm512_maskz_compress_pd(in, y));
                t += k;
            }
        }
        window_flush(w, cnt, &pos, &end, tmp, t);
    }
    cnt[QW_POS] = pos;
    cnt[0] += (size_t)_mm512_reduce_add_epi64(fin);
    for (int k = 0; k < nw; ++k) {
        cnt[1 + 2 * k] += (size_t)_mm512_reduce_add_epi64(below[k]);
        cnt[2 + 2 * k] += (size_t)_mm512_reduce_add_epi64(above[k]);
    }
    if (i < n) window_take_scalar(w, cnt, x + i, n - i);
}

__attribute__((target("avx512f"))) static void window_take_avx512_1(win_state *w, size_t *cnt, const double *x,
                                                                     size_t n)
{
    window_take_avx512_body(w, cnt, x, n, 1);
}
__attribute__((target("avx512f"))) static void window_take_avx512_2(win_state *w, size_t *cnt, const double *x,
                                                                     size_t n)
{
    window_take_avx512_body(w, cnt, x, n, 2);
}
__attribute__((target("avx512f"))) static void window_take_avx512_n(win_state *w, size_t *cnt, const double *x,
                                                                     size_t n)
{
    window_take_avx512_body(w, cnt, x, n, 0);
}
#endif

static void window_take(win_state *w, size_t *cnt, const double *x, size_t n)
{
#ifdef QSEL_AVX2
    const int have = cqb_simd_level();
    if (have == 2) {
        if (w->nwin == 1) window_take_avx512_1(w, cnt, x, n);
        else if (w->nwin == 2) window_take_avx512_2(w, cnt, x, n);
        else window_take_avx512_n(w, cnt, x, n);
        return;
    }
    if (have) {
        if (w->nwin == 1) window_take_avx2_1(w, cnt, x, n);
        else if (w->nwin == 2) window_take_avx2_2(w, cnt, x, n);
        else window_take_avx2_n(w, cnt, x, n);
        return;
    }
#endif
    window_take_scalar(w, cnt, x, n);
}

void cqb_qsel_window_push(cqb_qsel *q, int thread, size_t var, const double *x, size_t n)
{
    window_take(&q->win[var], q->wcnt + ((size_t)thread * q->nvar + var) * QW_REC, x, n);
}

/* Statistic v's windows from its pilot values col[0..P): per probability,
 * the pilot order statistics window_halfwidth() ranks beyond the two that
 * type 7 reads (unbounded past the ends), overlapping windows merged. The
 * finite values (finite_values(): col itself, or copied into a) and their
 * number go to *fin and *nfin. */
static void window_plan(cqb_qsel *q, size_t v, const double *col, fs_scratch *fs, double *a, double *tmp,
                        const double **fin, size_t *nfin)
{
    const size_t P = q->pilot;
    win_state *w = &q->win[v];
    atomic_init(&w->len, 0);
    atomic_init(&w->over, 0);
    atomic_init(&w->ovlock, 0);
    size_t n;
    col = finite_values(col, P, a, &n);
    *fin = col;
    *nfin = n;
    w->nwin = 1;
    w->lo[0] = -INFINITY;
    w->hi[0] = INFINITY;
    if (n == 0) return;
    size_t rk[FS_MAX_RANKS];
    int nr = 0, lor[CQB_QSEL_MAX_PROBS], hir[CQB_QSEL_MAX_PROBS];
    for (int i = 0; i < q->nprob; ++i) {
        const double p = q->probs[i];
        const size_t r0 = (size_t)floor(1.0 + (double)(n - 1) * p), hw = window_halfwidth(n, p);
        lor[i] = hir[i] = -1;
        if (r0 > hw) {
            lor[i] = nr;
            rk[nr++] = r0 - hw;
        }
        if (r0 + 1 + hw <= n) {
            hir[i] = nr;
            rk[nr++] = r0 + 1 + hw;
        }
    }
    double val[FS_MAX_RANKS];
    /* a bound's zero sign does not matter: comparisons treat both alike */
    if (nr > 0 && select_ranks(col, n, rk, nr, val, fs)) (void)select_ranks_sorted(col, n, rk, nr, val, tmp);
    double lo[CQB_QSEL_MAX_PROBS], hi[CQB_QSEL_MAX_PROBS];
    for (int i = 0; i < q->nprob; ++i) {
        lo[i] = lor[i] < 0 ? -INFINITY : val[lor[i]];
        hi[i] = hir[i] < 0 ? INFINITY : val[hir[i]];
    }
    /* sort by lower bound (at most CQB_QSEL_MAX_PROBS), then merge */
    for (int i = 1; i < q->nprob; ++i) {
        const double l = lo[i], h = hi[i];
        int j = i;
        for (; j > 0 && lo[j - 1] > l; --j) {
            lo[j] = lo[j - 1];
            hi[j] = hi[j - 1];
        }
        lo[j] = l;
        hi[j] = h;
    }
    w->nwin = 0;
    for (int i = 0; i < q->nprob; ++i) {
        if (w->nwin > 0 && lo[i] <= w->hi[w->nwin - 1]) {
            if (hi[i] > w->hi[w->nwin - 1]) w->hi[w->nwin - 1] = hi[i];
            continue;
        }
        w->lo[w->nwin] = lo[i];
        w->hi[w->nwin] = hi[i];
        w->nwin++;
    }
}

/* Statistic v's window buffer, holding its pilot's values inside the
 * windows (the finite ones, a[0..n)), counted into cnt: taken into tmp (room
 * for the pilot) first, so that their number sizes the buffer for B
 * replicates. Returns the buffer's capacity, or 0 when out of memory. */
static size_t window_fill(const cqb_qsel *q, win_state *w, const double *a, size_t n, size_t *cnt, double *tmp)
{
    w->buf = tmp;
    w->cap = q->pilot;
    window_take(w, cnt, a, n);
    const size_t in = atomic_load_explicit(&w->len, memory_order_relaxed);
    const double r = window_room((double)in * (double)q->B / (double)q->pilot);
    const size_t room = n == 0 || r >= (double)q->B ? q->B : (size_t)r;
    /* The pushes reserve slots a chunk at a time, and each thread may hold
     * one chunk it has not filled: the buffer gets room for the values plus
     * those slots, so that the windows fail exactly when more values than
     * room fall inside them, as without chunks. */
    const size_t ch = room / (16 * (size_t)q->nthr) > 8 ? room / (16 * (size_t)q->nthr) : 8;
    const size_t cap = room + (size_t)q->nthr * ch;
    w->buf = malloc(cap * sizeof *w->buf);
    if (!w->buf) return 0;
    w->cap = cap;
    w->chunk = ch;
    memcpy(w->buf, tmp, in * sizeof *tmp);
    return cap;
}

/* Closes up the slots that threads reserved in statistic v's window buffer
 * and did not fill (at most one run per thread), the highest run first, so
 * that its values are buf[0..len). */
static void window_compact(cqb_qsel *q, size_t v)
{
    win_state *w = &q->win[v];
    size_t len = atomic_load_explicit(&w->len, memory_order_relaxed);
    if (len > w->cap) len = w->cap;
    for (;;) {
        size_t *hole = NULL;
        for (int t = 0; t < q->nthr; ++t) {
            size_t *rec = q->wcnt + ((size_t)t * q->nvar + v) * QW_REC;
            if (rec[QW_POS] < rec[QW_END] && (!hole || rec[QW_POS] > hole[QW_POS])) hole = rec;
        }
        if (!hole) break;
        memmove(w->buf + hole[QW_POS], w->buf + hole[QW_END], (len - hole[QW_END]) * sizeof *w->buf);
        len -= hole[QW_END] - hole[QW_POS];
        hole[QW_POS] = hole[QW_END] = 0;
    }
    if (w->novf) {
        double *b = realloc(w->buf, (len + w->novf) * sizeof *b);
        if (!b) {
            atomic_store_explicit(&w->over, 1, memory_order_relaxed);
        } else {
            memcpy(b + len, w->ovf, w->novf * sizeof *b);
            w->buf = b;
            w->cap = len + w->novf;
            len += w->novf;
        }
        free(w->ovf);
        w->ovf = NULL;
        w->novf = w->capovf = 0;
    }
    atomic_store_explicit(&w->len, len, memory_order_relaxed);
}

/* The windows' buffers (each statistic's own allocation: the buffers are
 * filled while the windows are set, from the pilot's values at hand). */
static void window_free(cqb_qsel *q)
{
    if (q->win) {
        for (size_t v = 0; v < q->nvar; ++v) {
            free(q->win[v].buf);
            free(q->win[v].ovf);
        }
    }
    free(q->win);
    free(q->wcnt);
    q->win = NULL;
    q->wcnt = NULL;
    q->wbytes = 0;
}

cqb_status cqb_qsel_window_begin(cqb_qsel *q, int threads, cqb_error *err)
{
    if (!q->pilot || q->windows_on) return CQB_OK;
    if (q->seen != q->pilot) return cqb_error_set(err, CQB_EINTERNAL, "internal: pilot replicate count mismatch");
    const size_t P = q->pilot, nvar = q->nvar;
    const long nv = (long)nvar;
    if (threads < 1) threads = 1;
    q->win = calloc(nvar, sizeof *q->win);
    q->wcnt = calloc((size_t)threads * nvar * QW_REC, sizeof *q->wcnt);
    q->nthr = threads;
    if (!q->win || !q->wcnt) {
        window_free(q);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap quantiles (%zu statistics)", nvar);
    }
    int failed = 0;
    size_t total = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed) reduction(+ : total)
    {
        fs_scratch *fs = calloc(1, sizeof *fs);
        double *a = malloc(P * sizeof *a), *tmp = malloc(P * sizeof *tmp);
        if (!fs || !a || !tmp) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (long v = 0; v < nv; ++v) {
            if (!fs || !a || !tmp) continue;
            size_t n = 0;
            const double *fin = NULL;
            window_plan(q, (size_t)v, q->store + (size_t)v * q->stride, fs, a, tmp, &fin, &n);
            /* counted as thread 0's: one thread per statistic here */
            const size_t room = window_fill(q, &q->win[v], fin, n, q->wcnt + (size_t)v * QW_REC, tmp);
            if (!room) failed = 1;
            total += room;
        }
        if (fs) {
            free(fs->bin);
            free(fs->buf);
        }
        free(fs);
        free(a);
        free(tmp);
    }
    if (failed) {
        window_free(q);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap quantiles (%zu statistics)", nvar);
    }
    q->wbytes = total * sizeof(double);
    const size_t full = (q->B + 7) / 8 * 8;
    if ((double)total * sizeof(double) > (double)q->mem_limit || 2 * total >= full * nvar) {
        /* windows would not pay or not fit (wide or atom-heavy
         * distributions): the stored mode from here on, the pilot's values
         * moved into it, when every value fits; else the caller runs
         * without windows (cqb_qsel_window_failed()) */
        window_free(q);
        if (q->B > q->mem_limit / sizeof(double) / nvar) {
            q->win_failed = 1;
            return CQB_OK;
        }
        double *st = store_alloc(full * nvar * sizeof *st);
        if (!st) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap quantiles");
        for (size_t v = 0; v < nvar; ++v) memcpy(st + v * full, q->store + v * q->stride, P * sizeof *st);
        free(q->store_mem);
        q->store_mem = q->store = st;
        q->stride = full;
        q->pilot = 0;
        return CQB_OK;
    }
    q->windows_on = 1;
    free(q->store_mem);
    q->store_mem = NULL;
    q->store = NULL;
    return CQB_OK;
}

/* Statistic v's quantiles from its windows into res, and its count of
 * finite values. Returns -1 when the windows cannot give the stored
 * selection's answer. */
static int window_result(const cqb_qsel *q, size_t v, fs_scratch *fs, double **tmp, size_t *tcap, double *res,
                         size_t *nvalid)
{
    const win_state *w = &q->win[v];
    size_t c[QW_NCNT] = {0};
    for (int t = 0; t < q->nthr; ++t) {
        const size_t *ct = q->wcnt + ((size_t)t * q->nvar + v) * QW_REC;
        for (int k = 0; k < QW_NCNT; ++k) c[k] += ct[k];
    }
    const size_t n = c[0], len = atomic_load_explicit(&w->len, memory_order_relaxed);
    *nvalid = n;
    if (atomic_load_explicit(&w->over, memory_order_relaxed)) return -1;
    if (n == 0) {
        for (int i = 0; i < q->nprob; ++i) res[i] = NAN;
        return 0;
    }
    size_t size[CQB_QSEL_MAX_PROBS], inside = 0;
    for (int k = 0; k < w->nwin; ++k) {
        size[k] = n - c[1 + 2 * k] - c[2 + 2 * k];
        inside += size[k];
    }
    if (inside != len) return -1; /* cannot happen: every value was counted */
    size_t rk[FS_MAX_RANKS];
    double hh[CQB_QSEL_MAX_PROBS], val[FS_MAX_RANKS];
    for (int i = 0; i < q->nprob; ++i) {
        size_t r[2];
        r7_ranks(n, q->probs[i], &r[0], &r[1], &hh[i]);
        for (int e = 0; e < 2; ++e) {
            /* window k holds ranks below_k + 1 .. below_k + size_k; in the
             * buffer, sorted, its values follow the lower windows' */
            size_t before = 0;
            int k = 0;
            for (; k < w->nwin; ++k) {
                const size_t below = c[1 + 2 * k];
                if (r[e] > below && r[e] <= below + size[k]) break;
                before += size[k];
            }
            if (k == w->nwin) return -1;
            rk[2 * i + e] = r[e] - c[1 + 2 * k] + before;
        }
    }
    const int nr = 2 * q->nprob;
    if (*tcap < 2 * len) {
        double *t = realloc(*tmp, 2 * len * sizeof *t);
        if (!t) return -1;
        *tmp = t;
        *tcap = 2 * len;
    }
    if (w->nwin == 1) {
        if (select_ranks(w->buf, len, rk, nr, val, fs) && select_ranks_sorted(w->buf, len, rk, nr, val, *tmp))
            return -1;
    } else {
        /* Several windows (far apart: the bands' 2.5 % and 97.5 %): the
         * values grouped by window into tmp, in window order (each window's
         * size is known), and each window's ranks selected among its own
         * values, whose range the selection's bins then cover instead of
         * the gap between the windows. */
        double *seg = *tmp, *scratch = *tmp + len;
        size_t off[CQB_QSEL_MAX_PROBS + 1], at[CQB_QSEL_MAX_PROBS];
        off[0] = 0;
        for (int k = 0; k < w->nwin; ++k) off[k + 1] = off[k] + size[k];
        for (int k = 0; k < w->nwin; ++k) at[k] = off[k];
        for (size_t i = 0; i < len; ++i) {
            const double x = w->buf[i];
            int k = 0;
            for (int j = 0; j + 1 < w->nwin; ++j) k += x > w->hi[j];
            seg[at[k]++] = x;
        }
        for (int k = 0; k < w->nwin; ++k) {
            size_t lrk[FS_MAX_RANKS];
            int idx[FS_MAX_RANKS], m = 0;
            for (int j = 0; j < nr; ++j) {
                if (rk[j] > off[k] && rk[j] <= off[k + 1]) {
                    idx[m] = j;
                    lrk[m++] = rk[j] - off[k];
                }
            }
            if (m == 0) continue;
            double lv[FS_MAX_RANKS];
            if (select_ranks(seg + off[k], size[k], lrk, m, lv, fs) &&
                select_ranks_sorted(seg + off[k], size[k], lrk, m, lv, scratch))
                return -1;
            for (int j = 0; j < m; ++j) val[idx[j]] = lv[j];
        }
    }
    for (int i = 0; i < q->nprob; ++i) res[i] = cqb_r7_interp(val[2 * i], val[2 * i + 1], hh[i]);
    return 0;
}

static cqb_status window_end(cqb_qsel *q, int threads, cqb_error *err)
{
    const long nv = (long)q->nvar;
    int failed = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : 1) reduction(| : failed)
    {
        fs_scratch *fs = calloc(1, sizeof *fs);
        double *tmp = NULL;
        size_t tcap = 0;
        if (!fs) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (long v = 0; v < nv; ++v) {
            if (!fs || failed) continue;
            window_compact(q, (size_t)v);
            if (window_result(q, (size_t)v, fs, &tmp, &tcap, q->result + (size_t)v * (size_t)q->nprob,
                              &q->nvalid[v]))
                failed = 1;
        }
        if (fs) {
            free(fs->bin);
            free(fs->buf);
        }
        free(fs);
        free(tmp);
    }
    q->win_failed = failed;
    (void)err;
    return CQB_OK;
}

/* The bin holding the r-th smallest value and how many values lie below it. */
static uint32_t bin_of_rank(const var_state *s, size_t r, size_t *below)
{
    size_t cum = 0;
    for (uint32_t b = 0; b < NB + 2; ++b) {
        if (cum + s->hist[b] >= r) {
            *below = cum;
            return b;
        }
        cum += s->hist[b];
    }
    *below = cum;
    return NB + 1;
}

/* The value of rank r (1-based, counted over all values) given the target
 * bin's collected runs; runs of other target bins are skipped by value. */
static double value_of_rank(const var_state *s, size_t r)
{
    size_t below;
    uint32_t b = bin_of_rank(s, r, &below);
    size_t want = r - below, cum = 0;
    for (size_t i = 0; i < s->len; ++i) {
        if (bin_of(s, s->buf[i].v) != b) continue;
        cum += s->buf[i].n;
        if (cum >= want) return s->buf[i].v;
    }
    return NAN; /* unreachable when passes saw the same replicates */
}

cqb_status cqb_qsel_end_pass(cqb_qsel *q, int pass, int threads, cqb_error *err)
{
    const long nvar = (long)q->nvar;
    if (q->npass == 1) {
        if (q->seen != q->B) return cqb_error_set(err, CQB_EINTERNAL, "internal: replicate count mismatch");
        q->result = malloc(q->nvar * (size_t)q->nprob * sizeof *q->result);
        q->nvalid = malloc(q->nvar * sizeof *q->nvalid);
        if (!q->result || !q->nvalid) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        if (q->windows_on) return window_end(q, threads, err);
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
        {
            fs_scratch *fs = calloc(1, sizeof *fs); /* NULL: every statistic takes the fallback */
#pragma omp for schedule(dynamic, 4)
            for (long v = 0; v < nvar; ++v) {
                double *col = q->store + (size_t)v * q->stride;
                /* drop NaN (and infinite) values, in place */
                size_t n;
                (void)finite_values(col, q->B, col, &n);
                q->nvalid[v] = n;
                double *res = q->result + (size_t)v * (size_t)q->nprob;
                if (fs && select_fast(col, n, q->probs, q->nprob, res, fs) == 0) continue;
                for (int i = 0; i < q->nprob; ++i) res[i] = cqb_select_r7_inplace(col, n, q->probs[i]);
            }
            if (fs) {
                free(fs->bin);
                free(fs->buf);
            }
            free(fs);
        }
        return CQB_OK;
    }
    if (pass == 1) {
        q->seen = 0; /* pass 2 sees the same replicates again */
        for (long v = 0; v < nvar; ++v) {
            var_state *s = &q->vs[v];
            s->ntarget = 0;
            for (int i = 0; i < q->nprob && s->valid > 0; ++i) {
                size_t r1, r2, below;
                double h;
                r7_ranks(s->valid, q->probs[i], &r1, &r2, &h);
                size_t rr[2] = {r1, r2};
                for (int k = 0; k < 2; ++k) {
                    uint32_t b = bin_of_rank(s, rr[k], &below);
                    int dup = 0;
                    for (int t = 0; t < s->ntarget; ++t) dup |= s->tbin[t] == b;
                    if (!dup) s->tbin[s->ntarget++] = b;
                }
            }
        }
        return CQB_OK;
    }
    for (long v = 0; v < nvar; ++v) {
        var_state *s = &q->vs[v];
        compress(s);
        for (int i = 0; i < q->nprob; ++i) {
            if (s->valid == 0) {
                s->result[i] = NAN;
                continue;
            }
            size_t r1, r2;
            double h;
            r7_ranks(s->valid, q->probs[i], &r1, &r2, &h);
            s->result[i] = cqb_r7_interp(value_of_rank(s, r1), value_of_rank(s, r2), h);
        }
    }
    return CQB_OK;
}

double cqb_qsel_result(const cqb_qsel *q, size_t var, int i)
{
    if (q->npass == 1) return q->result[var * (size_t)q->nprob + (size_t)i];
    return q->vs[var].result[i];
}

size_t cqb_qsel_valid(const cqb_qsel *q, size_t var)
{
    if (q->npass == 1) return q->nvalid[var];
    return q->vs[var].valid;
}

size_t cqb_qsel_bytes(const cqb_qsel *q)
{
    size_t b = sizeof *q;
    if (q->store) b += q->stride * q->nvar * sizeof(double);
    b += q->wbytes + (q->wcnt ? (size_t)q->nthr * q->nvar * QW_REC * sizeof(size_t) : 0);
    if (q->vs) {
        for (size_t v = 0; v < q->nvar; ++v) b += (NB + 2) * sizeof(uint32_t) + q->vs[v].cap * sizeof(run);
    }
    return b;
}
