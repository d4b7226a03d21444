/* cqboot/philox.h — Philox4x32-10 counter-based RNG, bit-identical to cuRAND.
 *
 * One header shared by the CPU and the CUDA code (hence static inline and the
 * CQB_HD qualifier): the same (seed, replicate, stream, position) gives the
 * same 32-bit word on every backend, for any thread count or launch shape.
 *
 * Mapping to cuRAND (engine-design.md §2.4): the n-th value that curand()
 * returns after curand_init(seed, subsequence s, offset o) on a
 * curandStatePhilox4_32_10_t is word (m mod 4) of
 *     Philox(counter = (lo32(m/4), hi32(m/4), lo32(s), hi32(s)), key = seed)
 * with m = o + n. cqboot uses s = replicate + 2^32 * tag (see cqb_sb_tag).
 *
 * Draw conversions are integer-only (engine-design.md §3.3): a Bernoulli(p)
 * draw is `word < cqb_bernoulli_threshold(p)`, a uniform index in [0, n) is
 * the high 64 bits of (64-bit word * n). No log/exp/float rounding is on the
 * reproducibility path, so CPU and GPU resamples agree exactly.
 */
#ifndef CQBOOT_PHILOX_H
#define CQBOOT_PHILOX_H

#include <stdint.h>

#include "cqboot/hd.h"

#define CQB_PHILOX_M0 0xD2511F53u
#define CQB_PHILOX_M1 0xCD9E8D57u
#define CQB_PHILOX_W0 0x9E3779B9u
#define CQB_PHILOX_W1 0xBB67AE85u

/*! cqb_philox4x32_10() : the Philox4x32 bijection with 10 rounds. ctr and out
 *  may alias. Round r uses key (k0 + r*W0, k1 + r*W1) mod 2^32. */
CQB_HD void cqb_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
#if defined(__CUDACC__)
#pragma unroll
#elif defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 10
#endif
    for (int r = 0; r < 10; ++r) {
        uint64_t p0 = (uint64_t)CQB_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)CQB_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += CQB_PHILOX_W0;
        k1 += CQB_PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/*! cqb_philox_block() : the four words at draw-block j of subsequence s:
 *  what curand4() returns after curand_init(seed, s, 4*j). */
CQB_HD void cqb_philox_block(uint64_t seed, uint64_t s, uint64_t j, uint32_t out[4])
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)j, (uint32_t)(j >> 32), (uint32_t)s, (uint32_t)(s >> 32)};
    cqb_philox4x32_10(ctr, key, out);
}

/*! cqb_curand_word() : the n-th curand() value after curand_init(seed, s, o)
 *  (n counted from 0). For tests and cross-checks; kernels use blocks. */
CQB_HD uint32_t cqb_curand_word(uint64_t seed, uint64_t s, uint64_t o, uint64_t n)
{
    uint32_t w[4];
    const uint64_t m = o + n;
    cqb_philox_block(seed, s, m >> 2, w);
    return w[m & 3u];
}

/* ---- Stream layout (engine-design.md §3.1) --------------------------------
 * subsequence = replicate + 2^32 * tag, tag = kind | family << 1 | lag << 4 |
 * cell << 20.  kind 0: per-position "new block" flags (word t%4 of block t/4);
 * kind 1: block start positions (words 0,1 of block t as one 64-bit word).
 * Every resample that must be independent of the others has its own
 * (family, lag, cell): defined here once for the CPU and the GPU.          */
enum {
    CQB_FAMILY_BAND = 0,   /* per-lag resample for the null band (crossq.sb) */
    CQB_FAMILY_QTEST = 1,  /* one resample shared by all lags (Qstat.sb)    */
    CQB_FAMILY_WAVELET = 2 /* reserved for the wavelet nulls                 */
};
#define CQB_TAG_MAX_LAG 0xFFFFu  /* 16 bits */
#define CQB_TAG_MAX_CELL 0xFFFu  /* 12 bits; cell 0 = shared by the grid */

CQB_HD uint32_t cqb_sb_tag(uint32_t family, uint32_t lag, uint32_t cell)
{
    return (family << 1) | (lag << 4) | (cell << 20);
}

/*! cqb_bernoulli_threshold() : integer threshold for P(word < thr) = p,
 *  thr = round(p * 2^32) (2^32 for p = 1, so every word passes). */
static inline uint64_t cqb_bernoulli_threshold(double p)
{
    if (!(p > 0.0)) return 0;
    if (p >= 1.0) return (uint64_t)1 << 32;
    double t = p * 4294967296.0 + 0.5;
    return (uint64_t)t;
}

/*! cqb_mulhi_index() : floor(w64 * n / 2^64), a uniform index in [0, n)
 *  with bias at most n / 2^64. */
CQB_HD uint64_t cqb_mulhi_index(uint64_t w64, uint64_t n)
{
#if defined(__CUDA_ARCH__)
    return __umul64hi(w64, n);
#else
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)w64 * n) >> 64);
#endif
}

/* ---- Stationary-bootstrap draws (cross-quantilogram.md §4.1) -------------
 * Position 0 always starts a block; position t >= 1 starts one iff its flag
 * word is below the threshold; a block start is uniform over the N rows;
 * otherwise the row follows the previous one circularly (row N-1 -> row 0).
 * This is R sb.index's process with a counter-based stream.               */

/*! cqb_sb_start_row() : the row where a block starting at position t begins. */
CQB_HD uint64_t cqb_sb_start_row(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t t, uint64_t n)
{
    uint32_t w[4];
    cqb_philox_block(seed, (uint64_t)rep | ((uint64_t)(tag | 1u) << 32), t, w);
    return cqb_mulhi_index((uint64_t)w[0] | ((uint64_t)w[1] << 32), n);
}

#endif
