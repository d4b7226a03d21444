/* The stored (one-pass) selection of cqboot/qselect.h against the reference
 * it replaced: cqb_select_r7_inplace() (Floyd-Rivest) applied to each
 * probability in turn. Results must be the same bits, including the sign of
 * a selected zero, over sizes on both sides of the histogram path's cut-off,
 * heavy ties, signed zeros, extreme ranges, constant values and NaNs. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/qselect.h"
#include "cqboot/quantile.h"

static double unif(uint64_t seed, uint64_t i) { return (double)cqb_curand_word(seed, 5, 0, i) / 4294967296.0; }

/* The results of selector q for its statistic 0 (n values x) against the
 * reference on a copy (finite values only, in the same order): the same
 * bits, the same count of valid values. */
static void expect_reference(const cqb_qsel *q, const double *x, size_t n, const double *probs, int nprob,
                             const char *what)
{
    double *ref = malloc((n ? n : 1) * sizeof *ref);
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(x[i])) ref[m++] = x[i];
    cr_assert_eq(cqb_qsel_valid(q, 0), m, "%s: valid", what);
    for (int i = 0; i < nprob; ++i) {
        double want = cqb_select_r7_inplace(ref, m, probs[i]), got = cqb_qsel_result(q, 0, i);
        cr_assert(memcmp(&want, &got, sizeof want) == 0 || (isnan(want) && isnan(got)),
                  "%s: n %zu p %g: %.17g vs reference %.17g", what, n, probs[i], got, want);
    }
    free(ref);
}

/* Selector results for one statistic of n values vs the reference. */
static void check(const double *x, size_t n, const double *probs, int nprob, const char *what)
{
    cqb_qsel *q;
    cqb_error err;
    cr_assert_eq(cqb_qsel_create(1, n, probs, nprob, 0, &q, &err), CQB_OK);
    cr_assert_eq(cqb_qsel_npass(q), 1);
    cr_assert_eq(cqb_qsel_add(q, 1, x, n, 1, &err), CQB_OK);
    cr_assert_eq(cqb_qsel_end_pass(q, 1, 1, &err), CQB_OK);
    expect_reference(q, x, n, probs, nprob, what);
    cqb_qsel_free(q);
}

static const double band[2] = {0.025, 0.975}, q95[1] = {0.95}, ends[4] = {0.0, 1e-9, 0.5, 1.0};

Test(qselect, continuous_values_all_sizes)
{
    static double x[20011];
    const size_t ns[] = {1, 2, 7, 255, 256, 257, 1000, 4096, 10007, 20011};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; ++a) {
        for (size_t i = 0; i < ns[a]; ++i) x[i] = unif(a, i) - 0.3 + 0.01 * unif(a + 100, i);
        check(x, ns[a], band, 2, "continuous");
        check(x, ns[a], q95, 1, "continuous");
        check(x, ns[a], ends, 4, "continuous");
    }
}

Test(qselect, heavy_ties_and_skew)
{
    static double x[10000];
    for (size_t i = 0; i < 10000; ++i) x[i] = round(8.0 * unif(1, i)) / 8.0; /* 9 distinct values */
    check(x, 10000, band, 2, "ties");
    check(x, 10000, ends, 4, "ties");
    /* a Q statistic's shape: most mass near 0, a long right tail, and one
     * huge outlier that squeezes everything into the first bins */
    for (size_t i = 0; i < 10000; ++i) x[i] = pow(unif(2, i), 6.0) * 50.0;
    x[17] = 1e12;
    check(x, 10000, q95, 1, "skewed");
    check(x, 10000, band, 2, "skewed");
}

Test(qselect, signed_zeros_keep_the_reference_sign)
{
    static double x[5000];
    /* zeros of both signs around the selected ranks: the sign the reference
     * leaves there depends on its partitioning, which must be reproduced */
    for (int pat = 0; pat < 6; ++pat) {
        for (size_t i = 0; i < 5000; ++i) {
            double u = unif(10 + (uint64_t)pat, i);
            x[i] = u < 0.3 ? -0.0 : u < 0.6 ? 0.0 : u - 0.8;
        }
        check(x, 5000, band, 2, "zeros");
        check(x, 5000, ends, 4, "zeros");
        check(x, 5000, q95, 1, "zeros");
    }
    for (size_t i = 0; i < 5000; ++i) x[i] = (i % 3) ? 0.0 : -0.0; /* all zeros */
    check(x, 5000, band, 2, "all zeros");
    for (size_t i = 0; i < 5000; ++i) x[i] = -0.0;
    check(x, 5000, band, 2, "negative zeros");
}

Test(qselect, extreme_ranges_constants_and_nans)
{
    static double x[3000];
    for (size_t i = 0; i < 3000; ++i) x[i] = (unif(3, i) - 0.5) * 1.75e308 * 2.0; /* max - min overflows */
    check(x, 3000, band, 2, "overflowing range");
    for (size_t i = 0; i < 3000; ++i) x[i] = 1e-300 * unif(4, i); /* subnormal spacing */
    check(x, 3000, band, 2, "tiny range");
    for (size_t i = 0; i < 3000; ++i) x[i] = 0.125;
    check(x, 3000, band, 2, "constant");
    for (size_t i = 0; i < 3000; ++i) x[i] = (i % 7 == 0) ? NAN : (i % 11 == 0) ? INFINITY : unif(5, i);
    check(x, 3000, band, 2, "with NaN and inf");
    for (size_t i = 0; i < 3000; ++i) x[i] = NAN;
    check(x, 3000, band, 2, "all NaN");
}

/* ------------------------------------------------ windowed selection -- */

/* The windowed selector (cqb_qsel_create_windowed()) fed like the CPU
 * reduction feeds it: the pilot through slots, then pushes of uneven sizes
 * from two thread indices. Returns 1 when it reported failure (the caller
 * then runs the stored mode); otherwise its results must be the
 * reference's bits. */
static int check_windowed(const double *x, size_t n, const double *probs, int nprob, const char *what)
{
    cqb_qsel *q;
    cqb_error err;
    cr_assert_eq(cqb_qsel_create_windowed(1, n, probs, nprob, 0, &q, &err), CQB_OK);
    const size_t P = cqb_qsel_pilot(q);
    cr_assert(P > 0 && P < n, "%s: not windowed (pilot %zu)", what, P);
    memcpy(cqb_qsel_slot(q, 0), x, P * sizeof *x);
    cr_assert_eq(cqb_qsel_advance(q, P, &err), CQB_OK);
    cr_assert_eq(cqb_qsel_window_begin(q, 2, &err), CQB_OK);
    int failed = cqb_qsel_window_failed(q);
    if (!failed && cqb_qsel_slot(q, 0) != NULL) {
        /* windows would not pay: stored from here on */
        memcpy(cqb_qsel_slot(q, 0), x + P, (n - P) * sizeof *x);
        cr_assert_eq(cqb_qsel_advance(q, n - P, &err), CQB_OK);
    } else if (!failed) {
        const size_t step[5] = {1, 37, 256, 300, 4};
        for (size_t i = P, k = 0; i < n; ++k) {
            const size_t m = n - i < step[k % 5] ? n - i : step[k % 5];
            cqb_qsel_window_push(q, (int)(k % 2), 0, x + i, m);
            cr_assert_eq(cqb_qsel_advance(q, m, &err), CQB_OK);
            i += m;
        }
    }
    if (!failed) {
        cr_assert_eq(cqb_qsel_end_pass(q, 1, 2, &err), CQB_OK);
        failed = cqb_qsel_window_failed(q);
    }
    if (!failed) expect_reference(q, x, n, probs, nprob, what);
    cqb_qsel_free(q);
    return failed;
}

Test(qselect, windowed_selection_is_the_stored_selection)
{
    static double x[30011];
    const size_t ns[] = {8192, 10000, 30011};
    for (size_t a = 0; a < 3; ++a) {
        for (size_t i = 0; i < ns[a]; ++i) x[i] = unif(20 + a, i) - 0.3 + 0.01 * unif(30 + a, i);
        cr_expect_eq(check_windowed(x, ns[a], band, 2, "continuous"), 0);
        cr_expect_eq(check_windowed(x, ns[a], q95, 1, "continuous"), 0);
    }
    /* atoms of a discrete bootstrap distribution, NaN and infinities (not
     * values), a long right tail with an outlier */
    for (size_t i = 0; i < 10000; ++i) x[i] = round(40.0 * unif(40, i)) / 40.0;
    cr_expect_eq(check_windowed(x, 10000, band, 2, "atoms"), 0);
    for (size_t i = 0; i < 10000; ++i) x[i] = (i % 7 == 0) ? NAN : (i % 11 == 0) ? -INFINITY : unif(41, i);
    x[5000] = INFINITY;
    cr_expect_eq(check_windowed(x, 10000, band, 2, "NaN and inf"), 0);
    for (size_t i = 0; i < 10000; ++i) x[i] = pow(unif(42, i), 6.0) * 50.0;
    x[9999] = 1e12;
    cr_expect_eq(check_windowed(x, 10000, q95, 1, "skewed"), 0);
    /* overlapping windows merge: close probabilities */
    const double close[2] = {0.95, 0.975};
    for (size_t i = 0; i < 10000; ++i) x[i] = unif(43, i);
    cr_expect_eq(check_windowed(x, 10000, close, 2, "merged windows"), 0);
    /* nine values only: the windows would hold most of them, so the
     * selector stores every value from the pilot on */
    for (size_t i = 0; i < 10000; ++i) x[i] = round(8.0 * unif(44, i));
    cr_expect_eq(check_windowed(x, 10000, band, 2, "few values"), 0);
    for (size_t i = 0; i < 10000; ++i) x[i] = 0.125;
    cr_expect_eq(check_windowed(x, 10000, band, 2, "constant"), 0);
}

Test(qselect, windowed_selection_takes_more_values_than_the_pilot_promised)
{
    /* After a uniform pilot, half the values sit on the 2.5 % and 97.5 %
     * points: both windows get far more values than their room (about
     * eight times), while the wanted ranks stay inside them. The values past
     * the room go to overflow arrays; the answer is still the reference's. */
    static double x[30000];
    for (size_t i = 0; i < 30000; ++i) {
        const double u = unif(56, i);
        x[i] = i < 1024 || u < 0.5 ? unif(57, i) : u < 0.75 ? 0.025 : 0.975;
    }
    cr_expect_eq(check_windowed(x, 30000, band, 2, "overflowing windows"), 0);
    cr_expect_eq(check_windowed(x, 30000, q95, 1, "overflowing window"), 0);
}

Test(qselect, windowed_selection_says_when_it_cannot_answer)
{
    static double x[10000];
    /* the pilot is not like the rest: the order statistics fall outside
     * the windows */
    for (size_t i = 0; i < 10000; ++i) x[i] = i < 1024 ? unif(50, i) : 10.0 + unif(51, i);
    cr_expect_eq(check_windowed(x, 10000, band, 2, "shifted after the pilot"), 1);
    /* the rest piles up at one value outside the lower window: the 2.5 %
     * rank moves out of it */
    for (size_t i = 0; i < 10000; ++i) x[i] = i < 1024 ? unif(52, i) : 0.975;
    cr_expect_eq(check_windowed(x, 10000, band, 2, "lower rank moved"), 1);
    /* zeros of both signs at a selected rank (2.5 %): the reference's sign
     * depends on its partitioning, so only the stored mode can give it */
    for (size_t i = 0; i < 10000; ++i) {
        const double u = unif(54, i);
        x[i] = u < 0.02 ? 0.0 : u < 0.04 ? -0.0 : u < 0.045 ? -1.0 - u : 1.0 + u;
    }
    cr_expect_eq(check_windowed(x, 10000, band, 2, "signed zeros at a rank"), 1);
}

/* One, two and three windows, NaN among the values, and a pilot unlike the
 * rest, on whichever window loop the process dispatches to. */
static void window_loop_cases(const char *what)
{
    static double x[10000];
    const double three[3] = {0.005, 0.9, 0.995}; /* three disjoint windows */
    for (size_t i = 0; i < 10000; ++i) x[i] = (i % 13 == 0) ? NAN : round(400.0 * unif(60, i)) / 400.0;
    cr_expect_eq(check_windowed(x, 10000, band, 2, what), 0);
    cr_expect_eq(check_windowed(x, 10000, q95, 1, what), 0);
    cr_expect_eq(check_windowed(x, 10000, three, 3, what), 0);
    for (size_t i = 0; i < 9999; ++i) x[i] = unif(63, i) - 0.5; /* n not a multiple of 4 or 8 */
    cr_expect_eq(check_windowed(x, 9999, three, 3, what), 0);
    for (size_t i = 0; i < 10000; ++i) x[i] = i < 1024 ? unif(61, i) : 10.0 + unif(62, i);
    cr_expect_eq(check_windowed(x, 10000, band, 2, what), 1);
}

/* CQB_NO_AVX2 and CQB_NO_AVX512 are read on first use, and each test runs
 * in a process of its own. */
Test(qselect, windowed_selection_dispatched) { window_loop_cases("dispatched"); }

Test(qselect, windowed_selection_without_avx512)
{
    cr_assert_eq(setenv("CQB_NO_AVX512", "1", 1), 0);
    window_loop_cases("AVX2");
}

Test(qselect, windowed_selection_without_avx2)
{
    cr_assert_eq(setenv("CQB_NO_AVX2", "1", 1), 0);
    window_loop_cases("portable");
}

Test(qselect, windowed_selection_on_random_shapes)
{
    /* 60 random mixtures (a continuous part, atoms, signed zeros, NaN and
     * infinities, a heavy tail) and probability sets: the windows either
     * give the reference's bits or say they cannot; for these shapes they
     * nearly always can */
    static double x[12000];
    const double sets[4][2] = {{0.025, 0.975}, {0.95, 0.95}, {0.01, 0.99}, {0.9, 0.95}};
    int failures = 0;
    for (uint64_t s = 0; s < 60; ++s) {
        const size_t n = 8192 + (size_t)(unif(700 + s, 0) * 3800.0);
        const double atom = unif(700 + s, 1) * 0.3, zeros = unif(700 + s, 2) * 0.02;
        const double bad = unif(700 + s, 3) * 0.05, tail = unif(700 + s, 4);
        for (size_t i = 0; i < n; ++i) {
            const double u = unif(800 + s, i), v = unif(900 + s, i);
            if (u < bad) x[i] = v < 0.5 ? NAN : (v < 0.75 ? INFINITY : -INFINITY);
            else if (u < bad + zeros) x[i] = v < 0.5 ? 0.0 : -0.0;
            else if (u < bad + zeros + atom) x[i] = round(v * 5.0) / 5.0 - 0.5;
            else x[i] = (v - 0.5) * (1.0 + tail * 20.0 * pow(unif(1000 + s, i), 8.0));
        }
        const int k = (int)(s % 4), np = sets[k][0] == sets[k][1] ? 1 : 2;
        failures += check_windowed(x, n, sets[k], np, "random shape");
    }
    cr_expect(failures <= 3, "%d of 60 random shapes needed the stored mode", failures);
}
