/* Philox4x32-10 known answers (Random123 kat_vectors) and the cuRAND
 * curand_init mapping (engine-design.md §2.3-§2.4). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/sbplan.h"

static void kat(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1, uint32_t o0,
                uint32_t o1, uint32_t o2, uint32_t o3)
{
    const uint32_t ctr[4] = {c0, c1, c2, c3}, key[2] = {k0, k1};
    uint32_t out[4];
    cqb_philox4x32_10(ctr, key, out);
    cr_expect_eq(out[0], o0, "word 0: %08x != %08x", out[0], o0);
    cr_expect_eq(out[1], o1, "word 1: %08x != %08x", out[1], o1);
    cr_expect_eq(out[2], o2, "word 2: %08x != %08x", out[2], o2);
    cr_expect_eq(out[3], o3, "word 3: %08x != %08x", out[3], o3);
}

Test(philox, random123_kat_zero) { kat(0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8); }

Test(philox, random123_kat_ones)
{
    kat(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e,
        0xa20bc7c6, 0x6d5451fd);
}

Test(philox, random123_kat_pi)
{
    kat(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
        0x5001e420, 0x24126ea1);
}

Test(philox, curand_init_42_7_0)
{
    const uint32_t want[4] = {0x67ee6f2c, 0xe55410cc, 0x6c7eca35, 0x557398d3};
    for (int n = 0; n < 4; ++n) cr_expect_eq(cqb_curand_word(42, 7, 0, (uint64_t)n), want[n], "draw %d", n);
    /* curand_uniform = x * 2^-32 + 2^-33 in float */
    float u = (float)cqb_curand_word(42, 7, 0, 0) * 2.3283064365386963e-10f + 1.1641532182693481e-10f;
    cr_expect_float_eq(u, 0.405981958f, 1e-9f);
}

Test(philox, curand_host_api_seed42)
{
    /* Host API order: element i is word i%4 of curand_init(seed, q%65536,
     * 4*(q/65536)) with q = i/4 (engine-design.md §2.2). */
    const uint32_t want[12] = {0x9ceaf053, 0x77f5493b, 0x12bf50ad, 0x5742b3d7, 0x02933769, 0x2051e913,
                               0x3b68b038, 0xb62c409c, 0x65fe70a6, 0x852e5866, 0x6bef1d5a, 0xb11de8b5};
    for (uint64_t i = 0; i < 12; ++i) {
        uint64_t q = i / 4;
        uint32_t w = cqb_curand_word(42, q % 65536, 4 * (q / 65536), i % 4);
        cr_expect_eq(w, want[i], "element %lu: %08x != %08x", (unsigned long)i, w, want[i]);
    }
}

Test(philox, offset_arithmetic_matches_blocks)
{
    /* draw n after offset o equals draw o+n after offset 0, across block
     * boundaries and 2^32 carries of the low counter */
    const uint64_t offs[] = {0, 1, 5, ((uint64_t)1 << 33) + 3};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; ++i)
        for (uint64_t n = 0; n < 9; ++n)
            cr_expect_eq(cqb_curand_word(0x0123456789abcdefULL, ((uint64_t)1 << 32) + 1, offs[i], n),
                         cqb_curand_word(0x0123456789abcdefULL, ((uint64_t)1 << 32) + 1, 0, offs[i] + n));
}

Test(philox, integer_conversions)
{
    cr_expect_eq(cqb_bernoulli_threshold(1.0), (uint64_t)1 << 32);
    cr_expect_eq(cqb_bernoulli_threshold(0.5), (uint64_t)1 << 31);
    cr_expect_eq(cqb_bernoulli_threshold(0.0), 0);
    cr_expect_eq(cqb_mulhi_index(UINT64_MAX, 10), 9);
    cr_expect_eq(cqb_mulhi_index(0, 10), 0);
    cr_expect_eq(cqb_mulhi_index((uint64_t)1 << 63, 10), 5);
}

Test(philox, stationary_bootstrap_block_lengths)
{
    /* Multiplicities sum to N, and the mean block length is 1/gamma: count
     * restarts over many replicates of a plan. */
    static double v[1000];
    for (int i = 0; i < 1000; ++i) v[i] = sin(0.37 * i) + 0.001 * i;
    const double lev = 0.5;
    cqb_plan_colspec col = {v, 0, 0, 1, &lev};
    cqb_plan_colspec cols[2] = {col, col};
    cols[1].var = 1;
    cqb_plan_unit u = {0, 1, 0, {0}, 0};
    cqb_plan plan;
    cqb_error err;
    cr_assert_eq(cqb_plan_build(&plan, 1000, cols, 2, &u, 1, 1, 1, CQB_Q_R7_LE, 7, 0, 0.1, &err), CQB_OK);
    uint32_t c[1000];
    double visits_total = 0.0;
    for (uint32_t rep = 0; rep < 200; ++rep) {
        cqb_plan_multiplicity(&plan, rep, c);
        uint64_t s = 0;
        for (int i = 0; i < 1000; ++i) s += c[i];
        cr_assert_eq(s, 1000);
        for (int i = 0; i < 1000; ++i) visits_total += c[i] > 0;
    }
    /* With mean block 10 the share of rows never drawn is near 1/e for large
     * blocks... rather than a formula, bound it loosely: a stationary
     * bootstrap covers between 50% and 75% of rows on average. */
    double cover = visits_total / (200.0 * 1000.0);
    cr_expect(cover > 0.5 && cover < 0.75, "coverage %f", cover);
    cqb_plan_free(&plan);
}

#include "cqboot/sbresample.h"

/* The dispatched block generator (AVX-512 or AVX2 where available) must
 * return exactly the scalar reference's blocks. */
static void check_blocks(void)
{
    static uint32_t p1[5000], r1[5000], p2[5000], r2[5000];
    const size_t ns[] = {1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 127, 128, 129, 335, 1000, 4999};
    const double gammas[] = {0.01, 0.1, 0.5, 1.0};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; ++a) {
        for (size_t g = 0; g < 4; ++g) {
            uint64_t thr = cqb_bernoulli_threshold(gammas[g]);
            for (uint32_t rep = 0; rep < 20; ++rep) {
                size_t b1 = cqb_sb_blocks_scalar(0xfeedULL + a, rep, 6u << 4, thr, ns[a], p1, r1);
                size_t b2 = cqb_sb_blocks(0xfeedULL + a, rep, 6u << 4, thr, ns[a], p2, r2);
                cr_assert_eq(b1, b2, "n %zu gamma %g rep %u: %zu vs %zu blocks", ns[a], gammas[g], rep, b1, b2);
                for (size_t k = 0; k < b1; ++k) {
                    cr_assert_eq(p1[k], p2[k]);
                    cr_assert_eq(r1[k], r2[k]);
                    cr_assert(r1[k] < ns[a]);
                }
                if (gammas[g] == 1.0) cr_assert_eq(b1, ns[a]); /* iid: every position starts */
            }
        }
    }
}

Test(philox, simd_blocks_equal_scalar) { check_blocks(); }

Test(philox, avx2_blocks_equal_scalar)
{
    /* the AVX2 generator where the CPU has AVX-512 too (the dispatch is
     * read once per process; each test runs in its own) */
    cr_assert_eq(setenv("CQB_NO_AVX512", "1", 1), 0);
    check_blocks();
}

Test(philox, indices_follow_blocks)
{
    static uint32_t idx[300], pos[300], row[300], c[300];
    uint64_t thr = cqb_bernoulli_threshold(0.2);
    cqb_sb_indices(5, 3, 0, thr, 300, idx, pos, row);
    cqb_sb_multiplicity(5, 3, 0, thr, 300, c, pos, row);
    uint32_t cnt[300] = {0};
    for (int t = 0; t < 300; ++t) cnt[idx[t]]++;
    for (int r = 0; r < 300; ++r) cr_assert_eq(cnt[r], c[r]);
    /* within a block, rows advance by one circularly */
    size_t nb = cqb_sb_blocks(5, 3, 0, thr, 300, pos, row);
    size_t b = 0;
    for (uint32_t t = 1; t < 300; ++t) {
        if (b + 1 < nb && pos[b + 1] == t) {
            ++b;
            cr_assert_eq(idx[t], row[b]);
        } else {
            cr_assert_eq(idx[t], (idx[t - 1] + 1) % 300);
        }
    }
}

/* Multiplicities and the list of drawn rows against counting the resample's
 * row indices, over sizes around the SIMD widths and several block lengths
 * (the AVX-512 prefix sum and compaction where the CPU has it). */
static void check_multiplicity_nz(void)
{
    static uint32_t idx[1100], pos[1100], row[1100], c[1100], cnt[1100], c2[1100], nz[1100], cnz[1100];
    static uint64_t nzc[1100];
    const size_t ns[] = {1, 2, 15, 16, 17, 31, 32, 33, 335, 1000, 1099};
    const double ps[] = {0.02, 0.1, 0.5, 1.0};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; ++a) {
        for (size_t b = 0; b < sizeof ps / sizeof ps[0]; ++b) {
            const uint64_t thr = cqb_bernoulli_threshold(ps[b]);
            for (uint32_t rep = 0; rep < 5; ++rep) {
                const size_t n = ns[a];
                cqb_sb_indices(11, rep, 2, thr, n, idx, pos, row);
                memset(cnt, 0, sizeof cnt);
                for (size_t t = 0; t < n; ++t) cnt[idx[t]]++;
                const size_t k = cqb_sb_multiplicity_nzc(11, rep, 2, thr, n, c, nzc, pos, row);
                /* the two-array form lists the same rows and counts */
                const size_t k2 = cqb_sb_multiplicity_nz(11, rep, 2, thr, n, c2, nz, cnz, pos, row);
                cr_assert_eq(k2, k, "n %zu: %zu vs %zu drawn rows", n, k2, k);
                for (size_t i = 0; i < k; ++i) {
                    cr_assert_eq(nz[i], (uint32_t)nzc[i], "n %zu drawn row %zu", n, i);
                    cr_assert_eq(cnz[i], (uint32_t)(nzc[i] >> 32), "n %zu drawn row %zu", n, i);
                }
                size_t want = 0;
                for (size_t r = 0; r < n; ++r) {
                    cr_assert_eq(c[r], cnt[r], "n %zu p %g rep %u row %zu", n, ps[b], rep, r);
                    if (!cnt[r]) continue;
                    const uint64_t word = (uint64_t)r | (uint64_t)cnt[r] << 32;
                    cr_assert(want < k && nzc[want] == word, "n %zu drawn row %zu", n, r);
                    ++want;
                }
                cr_assert_eq(k, want, "n %zu p %g: %zu drawn rows listed, %zu drawn", n, ps[b], k, want);
            }
        }
    }
}

Test(philox, multiplicities_and_drawn_rows) { check_multiplicity_nz(); }

Test(philox, multiplicities_and_drawn_rows_without_avx512)
{
    /* read once per process, and each test runs in its own */
    cr_assert_eq(setenv("CQB_NO_AVX512", "1", 1), 0);
    check_multiplicity_nz();
}
