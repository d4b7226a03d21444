/* sbresample.c — stationary-bootstrap blocks from Philox streams, scalar,
 * AVX2 and AVX-512 (see sbresample.h). */
#include "cqboot/sbresample.h"

#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/runtime.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CQB_HAVE_AVX2_PATH 1
#endif

size_t cqb_sb_blocks_scalar(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *pos,
                            uint32_t *row)
{
    const uint64_t sflag = (uint64_t)rep | ((uint64_t)tag << 32);
    size_t nb = 0;
    uint32_t w[4];
    for (size_t j = 0; 4 * j < n; ++j) {
        cqb_philox_block(seed, sflag, j, w);
        for (size_t k = 0; k < 4 && 4 * j + k < n; ++k) {
            size_t t = 4 * j + k;
            if (t == 0 || (uint64_t)w[k] < thr) pos[nb++] = (uint32_t)t;
        }
    }
    for (size_t b = 0; b < nb; ++b) row[b] = (uint32_t)cqb_sb_start_row(seed, rep, tag, pos[b], n);
    return nb;
}

#ifdef CQB_HAVE_AVX2_PATH
/* Sixteen Philox4x32-10 evaluations at once, as two independent sets of
 * eight lanes (x[0..3] and x[4..7], counters in, outputs out) whose rounds
 * interleave, so one set's multiply latency hides behind the other's work.
 * The key is shared. Products of 32-bit lanes by a constant come from
 * _mm256_mul_epu32 on the even and (shifted) odd lanes. */
__attribute__((target("avx2"))) static inline void philox16(__m256i *x, uint32_t k0, uint32_t k1)
{
    const __m256i m0 = _mm256_set1_epi64x(CQB_PHILOX_M0), m1 = _mm256_set1_epi64x(CQB_PHILOX_M1);
    for (int r = 0; r < 10; ++r) {
        const __m256i kv0 = _mm256_set1_epi32((int)k0), kv1 = _mm256_set1_epi32((int)k1);
        for (int s = 0; s < 8; s += 4) {
            __m256i x0 = x[s], x1 = x[s + 1], x2 = x[s + 2], x3 = x[s + 3];
            __m256i pe0 = _mm256_mul_epu32(x0, m0), po0 = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
            __m256i pe1 = _mm256_mul_epu32(x2, m1), po1 = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
            __m256i lo0 = _mm256_blend_epi32(pe0, _mm256_slli_epi64(po0, 32), 0xAA);
            __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(pe0, 32), po0, 0xAA);
            __m256i lo1 = _mm256_blend_epi32(pe1, _mm256_slli_epi64(po1, 32), 0xAA);
            __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(pe1, 32), po1, 0xAA);
            x[s] = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), kv0);
            x[s + 1] = lo1;
            x[s + 2] = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), kv1);
            x[s + 3] = lo0;
        }
        k0 += CQB_PHILOX_W0;
        k1 += CQB_PHILOX_W1;
    }
}

/* Bits 0..7 of m moved to bits 0, 4, 8, ..., 28. */
static inline uint32_t spread8(uint32_t m)
{
    m = (m | (m << 12)) & 0x000F000Fu;
    m = (m | (m << 6)) & 0x03030303u;
    return (m | (m << 3)) & 0x11111111u;
}

/* One bit per position, in position order, for the 32 positions of eight
 * Philox blocks (lanes) whose four words x[0..3] decide them: word k of lane
 * l decides position 4 l + k. Compare all words at once (word < thr as a
 * signed compare of sign-flipped words: AVX2 has no unsigned compare), then
 * spread each word's 8 lane bits to stride 4 and merge. */
__attribute__((target("avx2"))) static inline uint32_t start_bits(const __m256i *x, __m256i tx)
{
    const __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    uint32_t m = 0;
    for (int k = 0; k < 4; ++k) {
        const __m256i below = _mm256_cmpgt_epi32(tx, _mm256_xor_si256(x[k], sign));
        m |= spread8((uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(below))) << k;
    }
    return m;
}

__attribute__((target("avx2"))) static size_t blocks_avx2(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr,
                                                          size_t n, uint32_t *pos, uint32_t *row)
{
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const size_t nblk = (n + 3) / 4;
    size_t nb = 0;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int all = thr > UINT32_MAX; /* thr = 2^32 passes every word */
    const __m256i tx = _mm256_set1_epi32((int)((uint32_t)(all ? 0 : thr) ^ 0x80000000u));
    for (size_t j0 = 0; j0 < nblk; j0 += 16) {
        /* counters (j, 0, rep, tag); j < 2^32 because n < 2^32 */
        __m256i x[8];
        for (int s = 0; s < 2; ++s) {
            x[4 * s] = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)(j0 + 8 * (size_t)s)), lane);
            x[4 * s + 1] = _mm256_setzero_si256();
            x[4 * s + 2] = _mm256_set1_epi32((int)rep);
            x[4 * s + 3] = _mm256_set1_epi32((int)tag);
        }
        philox16(x, k0, k1);
        /* 64 positions, one bit each; emit the set bits (no branch per
         * position) */
        uint64_t m = all ? ~(uint64_t)0 : (uint64_t)start_bits(x, tx) | (uint64_t)start_bits(x + 4, tx) << 32;
        const size_t base = 4 * j0;
        if (base == 0) m |= 1u; /* position 0 always starts a block */
        if (n - base < 64) m &= ((uint64_t)1 << (n - base)) - 1u;
        while (m) {
            pos[nb++] = (uint32_t)(base + (size_t)__builtin_ctzll(m));
            m &= m - 1u;
        }
    }
    /* start rows, sixteen at a time: counters (t, 0, rep, tag | 1) */
    uint32_t out[2][16];
    for (size_t b0 = 0; b0 < nb; b0 += 16) {
        uint32_t t16[16];
        size_t m = nb - b0 < 16 ? nb - b0 : 16;
        for (size_t l = 0; l < 16; ++l) t16[l] = pos[b0 + (l < m ? l : 0)];
        __m256i x[8];
        for (int s = 0; s < 2; ++s) {
            x[4 * s] = _mm256_loadu_si256((const __m256i *)(t16 + 8 * s));
            x[4 * s + 1] = _mm256_setzero_si256();
            x[4 * s + 2] = _mm256_set1_epi32((int)rep);
            x[4 * s + 3] = _mm256_set1_epi32((int)(tag | 1u));
        }
        philox16(x, k0, k1);
        for (int s = 0; s < 2; ++s) {
            _mm256_storeu_si256((__m256i *)(out[0] + 8 * s), x[4 * s]);
            _mm256_storeu_si256((__m256i *)(out[1] + 8 * s), x[4 * s + 1]);
        }
        for (size_t l = 0; l < m; ++l)
            row[b0 + l] = (uint32_t)cqb_mulhi_index((uint64_t)out[0][l] | ((uint64_t)out[1][l] << 32), n);
    }
    return nb;
}

/* The same blocks with AVX-512 (Zen 4, Ice Lake and later): sixteen lanes
 * per register and two interleaved sets of registers, so 32 Philox
 * evaluations per call. A 32 x 32 -> 64-bit product gives the even lanes'
 * products (and, on the shifted word, the odd lanes'); one vpshufd with a
 * lane mask then assembles the low and the high halves (AVX2 needs two
 * shifts and two blends), and one vpternlogd does the three-way xor. The
 * same integers as philox16() and the scalar reference. */
__attribute__((target("avx512f"))) static inline void philox512(__m512i *x, int nset, uint32_t k0, uint32_t k1)
{
    const __m512i m0 = _mm512_set1_epi64(CQB_PHILOX_M0), m1 = _mm512_set1_epi64(CQB_PHILOX_M1);
    for (int r = 0; r < 10; ++r) {
        const __m512i kv0 = _mm512_set1_epi32((int)k0), kv1 = _mm512_set1_epi32((int)k1);
        for (int s = 0; s < 4 * nset; s += 4) {
            const __m512i x0 = x[s], x1 = x[s + 1], x2 = x[s + 2], x3 = x[s + 3];
            const __m512i pe0 = _mm512_mul_epu32(x0, m0), po0 = _mm512_mul_epu32(_mm512_srli_epi64(x0, 32), m0);
            const __m512i pe1 = _mm512_mul_epu32(x2, m1), po1 = _mm512_mul_epu32(_mm512_srli_epi64(x2, 32), m1);
            /* lo: even lanes from pe's low words, odd lanes from po's low
             * words moved up; hi: odd lanes from po's high words, even
             * lanes from pe's high words moved down */
            const __m512i lo0 = _mm512_mask_shuffle_epi32(pe0, 0xAAAA, po0, _MM_PERM_CDAB);
            const __m512i hi0 = _mm512_mask_shuffle_epi32(po0, 0x5555, pe0, _MM_PERM_CDAB);
            const __m512i lo1 = _mm512_mask_shuffle_epi32(pe1, 0xAAAA, po1, _MM_PERM_CDAB);
            const __m512i hi1 = _mm512_mask_shuffle_epi32(po1, 0x5555, pe1, _MM_PERM_CDAB);
            x[s] = _mm512_ternarylogic_epi32(hi1, x1, kv0, 0x96);
            x[s + 1] = lo1;
            x[s + 2] = _mm512_ternarylogic_epi32(hi0, x3, kv1, 0x96);
            x[s + 3] = lo0;
        }
        k0 += CQB_PHILOX_W0;
        k1 += CQB_PHILOX_W1;
    }
}

__attribute__((target("avx512f,bmi2"))) static size_t blocks_avx512(uint64_t seed, uint32_t rep, uint32_t tag,
                                                                   uint64_t thr, size_t n, uint32_t *pos,
                                                                   uint32_t *row)
{
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const size_t nblk = (n + 3) / 4;
    size_t nb = 0;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int all = thr > UINT32_MAX; /* thr = 2^32 passes every word */
    const __m512i tx = _mm512_set1_epi32((int)(uint32_t)(all ? 0 : thr));
    for (size_t j0 = 0; j0 < nblk; j0 += 32) {
        /* counters (j, 0, rep, tag), one set per 16 blocks; a second set
         * only when blocks remain for it */
        const int nset = nblk - j0 > 16 ? 2 : 1;
        __m512i x[8];
        for (int s = 0; s < nset; ++s) {
            x[4 * s] = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)(j0 + 16 * (size_t)s)), lane);
            x[4 * s + 1] = _mm512_setzero_si512();
            x[4 * s + 2] = _mm512_set1_epi32((int)rep);
            x[4 * s + 3] = _mm512_set1_epi32((int)tag);
        }
        if (nset == 2) philox512(x, 2, k0, k1);
        else philox512(x, 1, k0, k1);
        for (int s = 0; s < nset; ++s) {
            /* 64 positions, one bit each: word k of lane l decides
             * position 4 l + k */
            uint64_t m = ~(uint64_t)0;
            if (!all) {
                m = 0;
                for (int k = 0; k < 4; ++k)
                    m |= _pdep_u64((uint64_t)_mm512_cmplt_epu32_mask(x[4 * s + k], tx),
                                   (uint64_t)0x1111111111111111u << k);
            }
            const size_t base = 4 * (j0 + 16 * (size_t)s);
            if (base >= n) break;
            if (base == 0) m |= 1u; /* position 0 always starts a block */
            if (n - base < 64) m &= ((uint64_t)1 << (n - base)) - 1u;
            /* the set bits' positions, sixteen at a time, by a compress in
             * registers and a masked store of the packed words (no loop
             * per block start, so no mispredicted exit; a compress straight
             * to memory is slow on Zen 4) */
            __m512i p16 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)base), lane);
            for (int c = 0; c < 4; ++c) {
                const __mmask16 mc = (__mmask16)(m >> (16 * c));
                const int k = __builtin_popcount((unsigned)mc);
                _mm512_mask_storeu_epi32(pos + nb, (__mmask16)((1u << k) - 1u), _mm512_maskz_compress_epi32(mc, p16));
                nb += (size_t)k;
                p16 = _mm512_add_epi32(p16, _mm512_set1_epi32(16));
            }
        }
    }
    /* start rows: counters (t, 0, rep, tag | 1), 32 (or 16) at a time; the
     * index floor(w n / 2^64) of the 64-bit word w = hi 2^32 + lo is
     * (hi n + floor(lo n / 2^32)) / 2^32 rounded down, exactly (no sum
     * overflows 64 bits for n < 2^32), in the lanes: 32 x 32 -> 64-bit
     * products of the even lanes and of the shifted odd ones */
    const __m512i nv = _mm512_set1_epi64((long long)n);
    for (size_t b0 = 0; b0 < nb; b0 += 32) {
        const size_t m = nb - b0 < 32 ? nb - b0 : 32;
        const int nset = m > 16 ? 2 : 1;
        __m512i x[8];
        for (int s = 0; s < nset; ++s) {
            const size_t o = b0 + 16 * (size_t)s, k = m - 16 * (size_t)s < 16 ? m - 16 * (size_t)s : 16;
            x[4 * s] = _mm512_maskz_loadu_epi32((__mmask16)((1u << k) - 1u), pos + o);
            x[4 * s + 1] = _mm512_setzero_si512();
            x[4 * s + 2] = _mm512_set1_epi32((int)rep);
            x[4 * s + 3] = _mm512_set1_epi32((int)(tag | 1u));
        }
        if (nset == 2) philox512(x, 2, k0, k1);
        else philox512(x, 1, k0, k1);
        for (int s = 0; s < nset; ++s) {
            const __m512i lo = x[4 * s], hi = x[4 * s + 1];
            const __m512i ple = _mm512_mul_epu32(lo, nv), phe = _mm512_mul_epu32(hi, nv);
            const __m512i plo = _mm512_mul_epu32(_mm512_srli_epi64(lo, 32), nv);
            const __m512i pho = _mm512_mul_epu32(_mm512_srli_epi64(hi, 32), nv);
            /* even lanes: the index in the low half of each 64-bit sum
             * shifted down; odd lanes: in the high half of the sum */
            const __m512i re = _mm512_srli_epi64(_mm512_add_epi64(phe, _mm512_srli_epi64(ple, 32)), 32);
            const __m512i ro = _mm512_add_epi64(pho, _mm512_srli_epi64(plo, 32));
            const size_t k = m - 16 * (size_t)s < 16 ? m - 16 * (size_t)s : 16;
            _mm512_mask_storeu_epi32(row + b0 + 16 * (size_t)s, (__mmask16)((1u << k) - 1u),
                                     _mm512_mask_blend_epi32(0xAAAA, re, ro));
        }
    }
    return nb;
}
#endif

size_t cqb_sb_blocks(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *pos,
                     uint32_t *row)
{
#ifdef CQB_HAVE_AVX2_PATH
    const int have = cqb_simd_level();
    if (have == 2) return blocks_avx512(seed, rep, tag, thr, n, pos, row);
    if (have == 1) return blocks_avx2(seed, rep, tag, thr, n, pos, row);
#endif
    return cqb_sb_blocks_scalar(seed, rep, tag, thr, n, pos, row);
}

/* c[r] = c[0] + ... + c[r] (modulo 2^32) and, when nzc is not NULL, the rows
 * with c[r] != 0 and their counts listed in nzc (row in the low word);
 * returns their number (0 without nzc). */
static size_t prefix_nz_scalar(uint32_t *c, size_t n, size_t r, uint32_t cum, uint64_t *nzc, size_t k)
{
    if (!nzc) {
        for (; r < n; ++r) {
            cum += c[r];
            c[r] = cum;
        }
        return 0;
    }
    for (; r < n; ++r) {
        cum += c[r];
        c[r] = cum;
        /* branch-free compaction: write always, advance when drawn */
        nzc[k] = (uint64_t)r | (uint64_t)cum << 32;
        k += cum != 0;
    }
    return k;
}

#ifdef CQB_HAVE_AVX2_PATH
/* Sixteen rows at a time with AVX-512: a 16-lane prefix sum by shifted
 * adds, the drawn rows and their counts packed by compresses in registers
 * (a compress straight to memory is slow on Zen 4), interleaved into
 * (row, count) words by two permutes and stored whole; the stores at
 * nzc + k stay inside nzc because k <= r and r + 16 <= n. */
__attribute__((target("avx512f"))) static size_t prefix_nz_avx512(uint32_t *c, size_t n, uint64_t *nzc)
{
    const __m512i zero = _mm512_setzero_si512(), last = _mm512_set1_epi32(15), step = _mm512_set1_epi32(16);
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    __m512i carry = zero, rows = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t r = 0, k = 0;
    for (; r + 16 <= n; r += 16) {
        __m512i v = _mm512_loadu_si512((const void *)(c + r));
        v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 15));
        v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 14));
        v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 12));
        v = _mm512_add_epi32(v, _mm512_alignr_epi32(v, zero, 8));
        v = _mm512_add_epi32(v, carry);
        _mm512_storeu_si512((void *)(c + r), v);
        carry = _mm512_permutexvar_epi32(last, v);
        if (nzc) {
            const __mmask16 drawn = _mm512_test_epi32_mask(v, v);
            const __m512i pr = _mm512_maskz_compress_epi32(drawn, rows), pc = _mm512_maskz_compress_epi32(drawn, v);
            _mm512_storeu_si512((void *)(nzc + k), _mm512_permutex2var_epi32(pr, ilo, pc));
            _mm512_storeu_si512((void *)(nzc + k + 8), _mm512_permutex2var_epi32(pr, ihi, pc));
            k += (size_t)__builtin_popcount((unsigned)drawn);
            rows = _mm512_add_epi32(rows, step);
        }
    }
    return prefix_nz_scalar(c, n, r, r ? c[r - 1] : 0, nzc, k);
}
#endif

static size_t prefix_nz(uint32_t *c, size_t n, uint64_t *nzc)
{
#ifdef CQB_HAVE_AVX2_PATH
    if (cqb_simd_level() == 2) return prefix_nz_avx512(c, n, nzc);
#endif
    return prefix_nz_scalar(c, n, 0, 0, nzc, 0);
}

size_t cqb_sb_multiplicity_nzc(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                               uint64_t *nzc, uint32_t *pos, uint32_t *row)
{
    size_t nb = cqb_sb_blocks(seed, rep, tag, thr, n, pos, row);
    /* Difference array: +1 where a run of rows starts, -1 after it ends
     * (modulo 2^32; the running sum is exact), then one prefix sum. No loop
     * per block, so no mispredicted loop exits. */
    memset(c, 0, n * sizeof *c);
    for (size_t b = 0; b < nb; ++b) {
        size_t len = (b + 1 < nb ? pos[b + 1] : n) - pos[b];
        size_t r = row[b];
        /* a block of len <= n rows wraps circularly when len > n - r; split
         * into runs */
        while (len) {
            size_t run = n - r < len ? n - r : len;
            c[r] += 1u;
            if (r + run < n) c[r + run] -= 1u;
            len -= run;
            r = 0;
        }
    }
    return prefix_nz(c, n, nzc);
}

size_t cqb_sb_multiplicity_nz(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                              uint32_t *nz, uint32_t *cnz, uint32_t *pos, uint32_t *row)
{
    cqb_sb_multiplicity_nzc(seed, rep, tag, thr, n, c, NULL, pos, row);
    if (!nz) return 0;
    size_t k = 0;
    for (size_t r = 0; r < n; ++r) {
        nz[k] = (uint32_t)r;
        cnz[k] = c[r];
        k += c[r] != 0;
    }
    return k;
}

void cqb_sb_multiplicity(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                         uint32_t *pos, uint32_t *row)
{
    cqb_sb_multiplicity_nzc(seed, rep, tag, thr, n, c, NULL, pos, row);
}

void cqb_sb_indices(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *idx,
                    uint32_t *pos, uint32_t *row)
{
    size_t nb = cqb_sb_blocks(seed, rep, tag, thr, n, pos, row);
    for (size_t b = 0; b < nb; ++b) {
        size_t end = b + 1 < nb ? pos[b + 1] : n;
        size_t r = row[b];
        for (size_t t = pos[b]; t < end; ++t) {
            idx[t] = (uint32_t)r;
            if (++r == n) r = 0;
        }
    }
}
