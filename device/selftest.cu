/* device/selftest.cu — the device self-test run by cqb_cuda_open().
 *
 * Checks on the GPU itself what the bootstrap kernel relies on for bit
 * identity with the CPU (engine-design.md §2.4, §3.3, §1.4):
 *   - cuRAND's device API: curand_init(seed, subsequence, offset = 4j) +
 *     curand4() on curandStatePhilox4_32_10_t equals cqb_philox_block(seed,
 *     subsequence, j), and curand() after an unaligned offset equals
 *     cqb_curand_word();
 *   - the device compilation of philox.h (cqb_philox_block, and
 *     cqb_sb_start_row with __umul64hi) equals the host's;
 *   - the device quantile-index copies (quantile_dev.h) equal host/boot/quantile.c;
 *   - the count epilogues of cq.h (cqb_cq_from_counts, cqb_partial_from_gram)
 *     give the host's bits.
 * The expected values are computed on the host by the library itself; the
 * kernel counts mismatches per kind.
 */
#include <cuda_runtime.h>
#include <curand_kernel.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda.h"
#include "cqboot/cq.h"
#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "quantile_dev.h"

#define ST_CASES 1024
#define ST_WORDS 6

enum { ST_CURAND4, ST_CURAND, ST_PHILOX, ST_START, ST_QUANTILE, ST_EPILOGUE, ST_KINDS };
static const char *const st_names[ST_KINDS] = {"curand4", "curand", "philox", "start rows", "quantile index",
                                               "epilogue"};

typedef struct st_in {
    uint64_t seed, sub, blk, off;
    uint32_t rep, tag;
    uint64_t t, n;
    size_t qn;
    double qp, xlo, xhi;
    double cN, cn1, cn2, cn12, ca1, ca2;
    double G[16]; /* 4 x 4 Gram matrix */
} st_in;

typedef struct st_exp {
    uint32_t philox[4];
    uint32_t words[ST_WORDS];
    uint64_t start;
    size_t lo, r1, rh;
    double h, interp, cq, pcq3, pcq4;
} st_exp;

/* the same bits, or both NaN (payloads may differ; NaN means "singular") */
static __host__ __device__ __forceinline__ int same_bits(double a, double b)
{
    long long x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y || (isnan(a) && isnan(b));
}

/* The checks of one case. Compiled for the device; for the host too when
 * CQB_SELFTEST_HOST is defined (with cuRAND's QUALIFIERS made host+device),
 * which is how the case table and these comparisons were checked without a
 * GPU. */
#if defined(__CUDA_ARCH__)
#define ST_BAD(k) atomicAdd(&bad[(k)], 1u)
#else
#define ST_BAD(k) (++bad[(k)])
#endif
#if defined(CQB_SELFTEST_HOST)
#define ST_HD __host__ __device__
#else
#define ST_HD __device__
#endif
static ST_HD void st_check(const st_in &c, const st_exp &e, unsigned int *bad)
{
    /* cuRAND device API against the shared header */
    curandStatePhilox4_32_10_t st;
    curand_init(c.seed, c.sub, 4 * c.blk, &st);
    const uint4 v = curand4(&st);
    uint32_t w[4];
    cqb_philox_block(c.seed, c.sub, c.blk, w);
    if (v.x != w[0] || v.y != w[1] || v.z != w[2] || v.w != w[3]) ST_BAD(ST_CURAND4);
    if (w[0] != e.philox[0] || w[1] != e.philox[1] || w[2] != e.philox[2] || w[3] != e.philox[3]) ST_BAD(ST_PHILOX);
    curand_init(c.seed, c.sub, c.off, &st);
    for (int k = 0; k < ST_WORDS; ++k) {
        const uint32_t r = curand(&st);
        if (r != e.words[k] || r != cqb_curand_word(c.seed, c.sub, c.off, (uint64_t)k)) ST_BAD(ST_CURAND);
    }

    /* block-start rows: 64-bit multiply-high on the device */
    if (cqb_sb_start_row(c.seed, c.rep, c.tag, c.t, c.n) != e.start) ST_BAD(ST_START);

    /* quantile index rules */
    size_t lo;
    double h;
    cqb_dev_r7_index(c.qn, c.qp, &lo, &h);
    int q_ok = lo == e.lo && same_bits(h, e.h);
    q_ok = q_ok && same_bits(cqb_dev_r7_interp(c.xlo, c.xhi, e.h), e.interp);
    q_ok = q_ok && cqb_dev_order_rank((int)CQB_Q_TYPE1_LT, c.qn, c.qp) == e.r1;
    q_ok = q_ok && cqb_dev_order_rank((int)CQB_Q_HIGHER_LT_SUB, c.qn, c.qp) == e.rh;
    if (!q_ok) ST_BAD(ST_QUANTILE);

    /* count epilogues */
    double G3[9];
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) G3[a * 3 + b] = c.G[a * 4 + b];
    int e_ok = same_bits(cqb_cq_from_counts(c.cN, c.cn1, c.cn2, c.cn12, c.ca1, c.ca2), e.cq);
    e_ok = e_ok && same_bits(cqb_partial_from_gram(G3, 3), e.pcq3);
    e_ok = e_ok && same_bits(cqb_partial_from_gram(c.G, 4), e.pcq4);
    if (!e_ok) ST_BAD(ST_EPILOGUE);
}

static __global__ void cqb_selftest_kernel(const st_in *in, const st_exp *ex, int n, unsigned int *bad)
{
    const int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
    if (i < n) st_check(in[i], ex[i], bad);
}

/* Deterministic inputs: from the generator itself, on the host. */
static void st_fill(st_in *in, st_exp *ex, int n)
{
    static const size_t qns[] = {2, 3, 10, 50, 101, 299, 334, 335, 1000, 1001, 5505, 20000, 1u << 20};
    static const uint32_t tags[] = {0u, 1u, 0x12u, 0x30u, 0x12345u, 0xFFFFFFFEu};
    for (int i = 0; i < n; ++i) {
        st_in *c = &in[i];
        st_exp *e = &ex[i];
        memset(c, 0, sizeof *c);
        memset(e, 0, sizeof *e);
        const uint64_t ui = (uint64_t)i;
        c->seed = i == 0 ? 0 : ((uint64_t)cqb_curand_word(7, ui, 0, 0) << 32 | cqb_curand_word(7, ui, 0, 1));
        c->rep = (uint32_t)(i * 7919);
        c->tag = tags[i % 6];
        c->sub = (uint64_t)c->rep | ((uint64_t)c->tag << 32);
        /* block index below 2^62: curand_init's offset is 4 x block, in 64 bits */
        c->blk = ((i % 3 == 0) ? ui : (ui * 0x9E3779B97F4A7C15ull) >> (i % 40)) & ((1ull << 62) - 1);
        c->off = ui * 13 + (ui & 3);
        c->t = ui * 5;
        c->n = qns[i % 13] + (uint64_t)(i / 13);
        c->qn = qns[(i * 7) % 13];
        c->qp = (double)(1 + (i * 37) % 99) / 100.0;
        if (i == 1) { /* R's documented case: lo = 29, h = 0.999999999999996 */
            c->qn = 101;
            c->qp = 0.29;
        }
        c->xlo = -1.0 + (double)cqb_curand_word(11, ui, 0, 0) / 4294967296.0;
        c->xhi = c->xlo + (double)cqb_curand_word(11, ui, 0, 1) / 1073741824.0;
        /* counts of real hit indicators: N rows, 4 variables, hit of
         * variable v in row r iff a generator word is below al[v] 2^32 (so
         * the Gram matrix is a genuine one; singular in a few cases) */
        const uint32_t Nn = 20 + (uint32_t)(i * 7) % 500;
        const double al[4] = {(double)(1 + i % 9) / 10.0, (double)(1 + (i / 9) % 9) / 10.0, 0.5,
                              i % 5 == 0 ? 0.5 : 0.3};
        double cnt[4][4] = {{0.0}};
        for (uint32_t r = 0; r < Nn; ++r) {
            int hit[4];
            for (int v = 0; v < 4; ++v)
                hit[v] = (double)cqb_curand_word(13, ui, 0, (uint64_t)r * 4 + (uint64_t)v) < al[v] * 4294967296.0;
            if (i % 5 == 0) hit[3] = hit[2]; /* a duplicated control: singular */
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) cnt[a][b] += (double)(hit[a] & hit[b]);
        }
        c->cN = Nn;
        c->cn1 = cnt[0][0];
        c->cn2 = cnt[1][1];
        c->cn12 = cnt[0][1];
        c->ca1 = al[0];
        c->ca2 = al[1];
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b)
                c->G[a * 4 + b] = cqb_gram_entry((double)Nn, cnt[a][a], cnt[b][b], cnt[a][b], al[a], al[b]);

        cqb_philox_block(c->seed, c->sub, c->blk, e->philox);
        for (int k = 0; k < ST_WORDS; ++k) e->words[k] = cqb_curand_word(c->seed, c->sub, c->off, (uint64_t)k);
        e->start = cqb_sb_start_row(c->seed, c->rep, c->tag, c->t, c->n);
        cqb_r7_index(c->qn, c->qp, &e->lo, &e->h);
        e->interp = cqb_r7_interp(c->xlo, c->xhi, e->h);
        e->r1 = cqb_order_rank(CQB_Q_TYPE1_LT, c->qn, c->qp);
        e->rh = cqb_order_rank(CQB_Q_HIGHER_LT_SUB, c->qn, c->qp);
        e->cq = cqb_cq_from_counts(c->cN, c->cn1, c->cn2, c->cn12, c->ca1, c->ca2);
        double G3[9];
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) G3[a * 3 + b] = c->G[a * 4 + b];
        e->pcq3 = cqb_partial_from_gram(G3, 3);
        e->pcq4 = cqb_partial_from_gram(c->G, 4);
    }
}

extern "C" int cqb_cuda_selftest(char *msg, size_t msg_size)
{
    const int n = ST_CASES;
    st_in *in = (st_in *)malloc(n * sizeof *in);
    st_exp *ex = (st_exp *)malloc(n * sizeof *ex);
    st_in *d_in = NULL;
    st_exp *d_ex = NULL;
    unsigned int *d_bad = NULL;
    unsigned int bad[ST_KINDS];
    const char *what = "";
    cudaError_t e = cudaSuccess;
    int ret = -1;
    if (!in || !ex) {
        snprintf(msg, msg_size, "out of host memory");
        goto done;
    }
    st_fill(in, ex, n);
#define ST_TRY(call, w)              \
    do {                             \
        if ((e = (call)) != cudaSuccess) { \
            what = (w);              \
            goto cuda_fail;          \
        }                            \
    } while (0)
    ST_TRY(cudaMalloc((void **)&d_in, n * sizeof *d_in), "cudaMalloc");
    ST_TRY(cudaMalloc((void **)&d_ex, n * sizeof *d_ex), "cudaMalloc");
    ST_TRY(cudaMalloc((void **)&d_bad, sizeof bad), "cudaMalloc");
    ST_TRY(cudaMemcpy(d_in, in, n * sizeof *in, cudaMemcpyHostToDevice), "cudaMemcpy");
    ST_TRY(cudaMemcpy(d_ex, ex, n * sizeof *ex, cudaMemcpyHostToDevice), "cudaMemcpy");
    ST_TRY(cudaMemset(d_bad, 0, sizeof bad), "cudaMemset");
    cqb_selftest_kernel<<<(n + 127) / 128, 128>>>(d_in, d_ex, n, d_bad);
    ST_TRY(cudaGetLastError(), "launching the self-test kernel");
    ST_TRY(cudaDeviceSynchronize(), "running the self-test kernel");
    ST_TRY(cudaMemcpy(bad, d_bad, sizeof bad, cudaMemcpyDeviceToHost), "cudaMemcpy");
#undef ST_TRY
    {
        unsigned total = 0;
        size_t used = (size_t)snprintf(msg, msg_size, "%d cases:", n);
        for (int k = 0; k < ST_KINDS; ++k) {
            total += bad[k];
            if (used < msg_size) used += (size_t)snprintf(msg + used, msg_size - used, " %s %u%s", st_names[k], bad[k], k + 1 < ST_KINDS ? "," : "");
        }
        if (used < msg_size) snprintf(msg + used, msg_size - used, " mismatches");
        ret = total > 0x7FFFFFFFu ? 0x7FFFFFFF : (int)total;
    }
    goto done;
cuda_fail:
    (void)cudaGetLastError();
    snprintf(msg, msg_size, "%s: %s", what, cudaGetErrorString(e));
    ret = -1;
done:
    if (d_in) (void)cudaFree(d_in);
    if (d_ex) (void)cudaFree(d_ex);
    if (d_bad) (void)cudaFree(d_bad);
    free(in);
    free(ex);
    return ret;
}
