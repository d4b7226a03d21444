/* qselect.c — exact bootstrap quantiles in bounded memory (see qselect.h). */
#include "cqboot/qselect.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cqreduce.h"
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
};

static cqb_status create(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit, int force2,
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
    if (!force2 && (nvar == 0 || B <= mem_limit / sizeof(double) / nvar)) {
        q->npass = 1;
        /* Rows start on cache lines: threads that fill adjacent replicates
         * of a row (multiples of 8) then never share a line. */
        q->stride = (B + 7) / 8 * 8;
        q->store_mem = malloc((q->stride ? q->stride : 8) * (nvar ? nvar : 1) * sizeof(double) + 64);
        if (!q->store_mem) goto nomem;
        q->store = (double *)((char *)q->store_mem + (64 - (uintptr_t)q->store_mem % 64) % 64);
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

double *cqb_qsel_slot(cqb_qsel *q, size_t var) { return q->npass == 1 ? q->store + var * q->stride + q->seen : NULL; }

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

typedef struct fs_scratch {
    uint32_t hist[FS_BINS];
    uint8_t flag[FS_BINS];
    uint16_t *bin;  /* bin of every value */
    double *buf;    /* values of the target bins */
    size_t cap;
} fs_scratch;

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

/* probs' type-7 quantiles of the n finite values a[] into res; a is not
 * modified. Returns -1 when the caller must use cqb_select_r7_inplace(). */
static int select_fast(const double *restrict a, size_t n, const double *probs, int nprob, double *res,
                       fs_scratch *s)
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
    /* four independent chains (a floating-point min is not reassociated
     * for us); which zero a chain keeps does not matter: x - mn bins the
     * same, and a selected zero is checked below */
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
    /* 1-based ranks wanted: lo and, when type 7 interpolates, lo + 1 */
    size_t rk[2 * CQB_QSEL_MAX_PROBS];
    double hh[CQB_QSEL_MAX_PROBS];
    for (int i = 0; i < nprob; ++i) {
        size_t lo;
        cqb_r7_index(n, probs[i], &lo, &hh[i]);
        rk[2 * i] = lo;
        rk[2 * i + 1] = (hh[i] > 0.0 && lo < n) ? lo + 1 : lo;
    }
    if (!(mx > mn)) { /* one value */
        if (mn == 0.0 && zeros_both(a, n)) return -1;
        for (int i = 0; i < nprob; ++i) res[i] = cqb_r7_interp(mn, mn, hh[i]);
        return 0;
    }
    const double scale = (double)FS_BINS / (mx - mn);
    if (!(scale > 0.0) || !isfinite(scale)) return -1;
    uint32_t *restrict hist = s->hist;
    uint16_t *restrict bin = s->bin;
    memset(hist, 0, sizeof s->hist);
    for (size_t i = 0; i < n; ++i) {
        /* x >= mn, so the product is in [0, FS_BINS (1 + eps)]; each
         * operation is monotone. A loop of its own, so it runs in SIMD
         * lanes; the histogram is counted apart. */
        int32_t b = (int32_t)((a[i] - mn) * scale);
        b = b < FS_BINS ? b : FS_BINS - 1;
        bin[i] = (uint16_t)b;
    }
    for (size_t i = 0; i < n; ++i) hist[bin[i]]++;
    /* the bin of every wanted rank and the count below it */
    uint32_t rbin[2 * CQB_QSEL_MAX_PROBS];
    size_t rbelow[2 * CQB_QSEL_MAX_PROBS];
    const int nr = 2 * nprob;
    memset(s->flag, 0, sizeof s->flag);
    /* ranks in ascending order (pairs lo, lo+1 per probability; probs are
     * in any order), found in one cumulative scan over the bins */
    int ord[2 * CQB_QSEL_MAX_PROBS];
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
    for (size_t i = 0; i < n; ++i) {
        buf[m] = a[i];
        m += flag[bin[i]];
    }
    if (m > 1) qsort(buf, m, sizeof *buf, cmp_double);
    /* sorted by value = grouped by bin in bin order */
    double v[2 * CQB_QSEL_MAX_PROBS];
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
    for (int i = 0; i < nprob; ++i) res[i] = cqb_r7_interp(v[2 * i], v[2 * i + 1], hh[i]);
    return 0;
}

/* 1-based ranks of the order statistics that type 7 needs at probability p. */
static void r7_ranks(size_t n, double p, size_t *r1, size_t *r2, double *h)
{
    cqb_r7_index(n, p, r1, h);
    *r2 = (*h > 0.0 && *r1 < n) ? *r1 + 1 : *r1;
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
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
        {
            fs_scratch *fs = calloc(1, sizeof *fs); /* NULL: every statistic takes the fallback */
#pragma omp for schedule(dynamic, 4)
            for (long v = 0; v < nvar; ++v) {
                double *col = q->store + (size_t)v * q->stride;
                size_t n = 0;
                for (size_t r = 0; r < q->B; ++r) {
                    col[n] = col[r];
                    n += isfinite(col[r]) != 0;
                }
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
    if (q->vs) {
        for (size_t v = 0; v < q->nvar; ++v) b += (NB + 2) * sizeof(uint32_t) + q->vs[v].cap * sizeof(run);
    }
    return b;
}
