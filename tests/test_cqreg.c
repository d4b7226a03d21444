/* Quantile regression (qreg.h) and the conditional-quantile CQ with its
 * bootstrap (cqreg.h): hand-checked fits, brute-force vertex enumeration,
 * the R oracles O5 (cross-quantilogram.md §6.2), reproducibility, thread
 * invariance and bad inputs. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cq.h"
#include "cqboot/cqreg.h"
#include "cqboot/philox.h"
#include "cqboot/qreg.h"
#include "cqboot/sbresample.h"
#include "testdata.h"

#define TOL 1e-12

/* ------------------------------------------------------------ helpers -- */

/* Deterministic uniform in [0,1) from Philox (no libc RNG state). */
static double urand(uint64_t key, uint64_t i)
{
    uint32_t w[4];
    cqb_philox_block(key, 12345, i, w);
    return (double)(((uint64_t)w[0] << 21) ^ ((uint64_t)w[1] >> 11)) / 9007199254740992.0;
}

static double fit_simple(const double *y, const double *const *x, size_t m, size_t n, double tau, double *beta,
                         double *u, cqb_qreg_info *info)
{
    cqb_qreg_workspace *w;
    cqb_error err;
    cr_assert_eq(cqb_qreg_workspace_alloc(n, m, &w, &err), CQB_OK, "%s", err.msg);
    cqb_status st = cqb_qreg_fit(w, y, x, m, NULL, n, tau, beta, u, info, &err);
    cr_assert_eq(st, CQB_OK, "%s", err.msg);
    cqb_qreg_workspace_free(w);
    return info->objective;
}

/* Solves the p x p system M b = r (Gaussian elimination, partial pivoting);
 * returns 0 if singular. */
static int solve_small(double *M, double *r, int p)
{
    for (int c = 0; c < p; ++c) {
        int piv = c;
        for (int i = c + 1; i < p; ++i)
            if (fabs(M[i * p + c]) > fabs(M[piv * p + c])) piv = i;
        if (fabs(M[piv * p + c]) < 1e-12) return 0;
        for (int k = 0; k < p; ++k) {
            double t = M[c * p + k]; M[c * p + k] = M[piv * p + k]; M[piv * p + k] = t;
        }
        double t = r[c]; r[c] = r[piv]; r[piv] = t;
        for (int i = c + 1; i < p; ++i) {
            double f = M[i * p + c] / M[c * p + c];
            for (int k = c; k < p; ++k) M[i * p + k] -= f * M[c * p + k];
            r[i] -= f * r[c];
        }
    }
    for (int c = p - 1; c >= 0; --c) {
        double s = r[c];
        for (int k = c + 1; k < p; ++k) s -= M[c * p + k] * r[k];
        r[c] = s / M[c * p + c];
    }
    return 1;
}

/* Minimum objective over all vertices (p-subsets of rows): the LP optimum. */
static double brute_force_min(const double *y, const double *const *x, size_t m, size_t n, double tau)
{
    const int p = (int)m + 1;
    int idx[5];
    double best = INFINITY;
    for (int i = 0; i < p; ++i) idx[i] = i;
    for (;;) {
        double M[25], r[5];
        for (int a = 0; a < p; ++a) {
            M[a * p] = 1.0;
            for (size_t c = 0; c < m; ++c) M[a * p + (int)c + 1] = x[c][idx[a]];
            r[a] = y[idx[a]];
        }
        if (solve_small(M, r, p)) {
            double o = cqb_qreg_objective(y, x, m, NULL, n, tau, r);
            if (o < best) best = o;
        }
        int a = p - 1;
        while (a >= 0 && idx[a] == (int)n - p + a) --a;
        if (a < 0) break;
        ++idx[a];
        for (int b = a + 1; b < p; ++b) idx[b] = idx[b - 1] + 1;
    }
    return best;
}

/* ------------------------------------------------------------ qreg ----- */

Test(qreg, dummy_regressor_median)
{
    /* Intercept + a 0/1 dummy: the fit is the two group medians,
     * 3 (of 1, 5, 3) and 7 (of 10, 2, 7): b = (3, 4); objective 6. */
    const double y[6] = {1, 5, 3, 10, 2, 7}, x[6] = {0, 0, 0, 1, 1, 1};
    const double *xc[1] = {x};
    double b[2], u[6];
    cqb_qreg_info info;
    fit_simple(y, xc, 1, 6, 0.5, b, u, &info);
    cr_expect_eq(b[0], 3.0, "b0 = %.17g", b[0]);
    cr_expect_eq(b[1], 4.0, "b1 = %.17g", b[1]);
    cr_expect_eq(info.objective, 6.0);
    cr_expect_eq(info.basis[0], 2);
    cr_expect_eq(info.basis[1], 5);
    cr_expect_eq(info.nonunique, 0);
    cr_expect_eq(u[2], 0.0);
    cr_expect_eq(u[5], 0.0);
}

Test(qreg, dummy_regressor_lower_quartile)
{
    /* tau = 0.25, groups of 5: the 2nd order statistic of each group,
     * 3 (of 4 1 9 3 7) and 11 (of 12 10 15 11 20): b = (3, 8), objective 8.5. */
    const double y[10] = {4, 1, 9, 3, 7, 12, 10, 15, 11, 20}, x[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    const double *xc[1] = {x};
    double b[2], u[10];
    cqb_qreg_info info;
    fit_simple(y, xc, 1, 10, 0.25, b, u, &info);
    cr_expect_eq(b[0], 3.0);
    cr_expect_eq(b[1], 8.0);
    cr_expect_float_eq(info.objective, 8.5, 1e-14);
    cr_expect_eq(info.basis[0], 3);
    cr_expect_eq(info.basis[1], 8);
}

Test(qreg, nonunique_is_flagged)
{
    /* Even groups at tau = 0.5: any value between the two middle order
     * statistics of each group is optimal (objective (4 - 1 + 3 - 2) / 2 = 2
     * per group). The flag is raised; the returned vertex is one of the
     * optimal ones. */
    const double y[8] = {1, 4, 2, 3, 11, 14, 12, 13}, x[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    const double *xc[1] = {x};
    double b[2], u[8];
    cqb_qreg_info info;
    fit_simple(y, xc, 1, 8, 0.5, b, u, &info);
    cr_expect_eq(info.nonunique, 1);
    cr_expect_float_eq(info.objective, 4.0, 1e-14);
    cr_expect(b[0] >= 2 && b[0] <= 3, "b0 = %g", b[0]);
    cr_expect(b[0] + b[1] >= 12 && b[0] + b[1] <= 13, "b0 + b1 = %g", b[0] + b[1]);
    /* the same groups at tau = 0.4 (n tau = 1.6 per group): unique */
    fit_simple(y, xc, 1, 8, 0.4, b, u, &info);
    cr_expect_eq(info.nonunique, 0);
    cr_expect_eq(b[0], 2.0);
    cr_expect_eq(b[1], 10.0);
}

Test(qreg, exact_line_with_outliers)
{
    /* Five of seven points on y = 1 + 2x (a degenerate vertex: more than p
     * zero residuals); the median fit is that line. */
    const double x[7] = {0, 1, 2, 3, 4, 5, 6}, y[7] = {1, 3, 100, 7, 9, -40, 13};
    const double *xc[1] = {x};
    double b[2], u[7];
    cqb_qreg_info info;
    fit_simple(y, xc, 1, 7, 0.5, b, u, &info);
    cr_expect_float_eq(b[0], 1.0, 1e-13);
    cr_expect_float_eq(b[1], 2.0, 1e-13);
    cr_expect_float_eq(info.objective, 0.5 * (95.0 + 51.0), 1e-12);
    cr_expect_eq(info.ndegen, 3);
}

Test(qreg, matches_vertex_enumeration)
{
    /* Random small problems, continuous and heavily tied (small integer)
     * data, p = 2..4, several tau: the objective equals the best vertex, and
     * a rank-deficient report happens exactly when no p rows are independent. */
    const double taus[5] = {0.1, 0.25, 0.5, 0.8, 0.95};
    size_t fits = 0, deficient = 0;
    for (int rep = 0; rep < 600; ++rep) {
        const size_t n = 5 + (size_t)(rep % 13), m = 1 + (size_t)(rep % 3);
        const int ties = (rep / 3) % 2;
        double y[18], x1[18], x2[18], x3[18], b[4], u[18];
        for (size_t i = 0; i < n; ++i) {
            x1[i] = ties ? floor(5 * urand(rep, 4 * i)) : 10 * urand(rep, 4 * i);
            x2[i] = ties ? floor(4 * urand(rep, 4 * i + 1)) : urand(rep, 4 * i + 1) - 0.5;
            x3[i] = ties ? floor(3 * urand(rep, 4 * i + 3)) : 2 * urand(rep, 4 * i + 3);
            y[i] = ties ? floor(1 + x1[i] + 3 * urand(rep, 4 * i + 2)) : x1[i] + 5 * urand(rep, 4 * i + 2);
        }
        const double *xc[3] = {x1, x2, x3};
        for (int t = 0; t < 5; ++t) {
            cqb_qreg_workspace *w;
            cqb_error err;
            cr_assert_eq(cqb_qreg_workspace_alloc(n, m, &w, &err), CQB_OK);
            cqb_qreg_info info;
            cqb_status st = cqb_qreg_fit(w, y, xc, m, NULL, n, taus[t], b, u, &info, &err);
            cqb_qreg_workspace_free(w);
            double best = brute_force_min(y, xc, m, n, taus[t]);
            if (st == CQB_EDATA) {
                cr_expect(isinf(best), "rep %d tau %g: full rank but %s", rep, taus[t], err.msg);
                ++deficient;
                continue;
            }
            cr_assert_eq(st, CQB_OK, "rep %d tau %g: %s", rep, taus[t], err.msg);
            ++fits;
            cr_expect(fabs(info.objective - best) <= 1e-10 * (1 + best),
                      "rep %d tau %g: objective %.17g, best vertex %.17g", rep, taus[t], info.objective, best);
            double direct = cqb_qreg_objective(y, xc, m, NULL, n, taus[t], b);
            cr_expect(fabs(info.objective - direct) <= 1e-10 * (1 + best));
            /* the p basis rows are on the fitted hyperplane */
            for (size_t j = 0; j < info.p; ++j) cr_expect(fabs(u[info.basis[j]]) <= 1e-12 * info.scale);
        }
    }
    cr_expect(fits > 2500 && deficient < 200, "%zu fits, %zu rank-deficient", fits, deficient);
}

Test(qreg, heavily_degenerate_design)
{
    /* Five regressors with 4 levels each and integer responses: a third of
     * the rows lie on the fitted hyperplane, so most simplex steps have
     * length zero (this case once made two partial sums of the line search
     * disagree by rounding at an exact tie and reported a spurious
     * unbounded edge). The fit must succeed and be optimal. */
    const size_t n = 10000, m = 5;
    double *y = malloc(n * sizeof *y), *x[5];
    for (size_t c = 0; c < m; ++c) x[c] = malloc(n * sizeof *x[c]);
    for (size_t i = 0; i < n; ++i) {
        double s = 0;
        for (size_t c = 0; c < m; ++c) {
            uint32_t wd[4];
            cqb_philox_block(2, 777, 10 * i + c, wd);
            x[c][i] = floor(4 * ((double)(((uint64_t)wd[0] << 21) ^ ((uint64_t)wd[1] >> 11)) / 9007199254740992.0));
            s += x[c][i];
        }
        uint32_t wd[4];
        cqb_philox_block(2, 777, 10 * i + 9, wd);
        y[i] = s + floor(3 * ((double)(((uint64_t)wd[0] << 21) ^ ((uint64_t)wd[1] >> 11)) / 9007199254740992.0));
    }
    const double *xc[5] = {x[0], x[1], x[2], x[3], x[4]};
    double b[6];
    cqb_qreg_info info;
    double obj = fit_simple(y, xc, m, n, 0.5, b, NULL, &info);
    cr_expect(info.ndegen > 1000, "%zu degenerate rows", info.ndegen);
    for (int r = 0; r < 60; ++r) {
        double bb[6], sc = pow(10.0, -6.0 + 5.0 * urand(55, 7 * (uint64_t)r));
        for (int c = 0; c < 6; ++c) bb[c] = b[c] + sc * (urand(55, 7 * (uint64_t)r + 1 + c) - 0.5);
        cr_expect(cqb_qreg_objective(y, xc, m, NULL, n, 0.5, bb) >= obj - 1e-9, "perturbation %d", r);
    }
    for (size_t c = 0; c < m; ++c) free(x[c]);
    free(y);
}

Test(qreg, optimal_against_perturbations)
{
    const size_t n = 500, m = 2;
    double *y = malloc(n * sizeof *y), *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2),
           *u = malloc(n * sizeof *u);
    for (size_t i = 0; i < n; ++i) {
        x1[i] = 3 * urand(7, 3 * i);
        x2[i] = urand(7, 3 * i + 1) * urand(7, 3 * i + 1);
        /* heteroscedastic, skewed noise */
        y[i] = 1 + 0.5 * x1[i] - 2 * x2[i] - (1 + x1[i]) * log(urand(7, 3 * i + 2) + 1e-300);
    }
    const double *xc[2] = {x1, x2};
    const double taus[3] = {0.05, 0.5, 0.9};
    for (int t = 0; t < 3; ++t) {
        double b[3];
        cqb_qreg_info info;
        double obj = fit_simple(y, xc, m, n, taus[t], b, u, &info);
        cr_expect_eq(info.p, 3);
        cr_expect_eq(info.nonunique, 0);
        /* p = 3 zero residuals exactly at the vertex rows, none elsewhere */
        size_t nz = 0;
        for (size_t i = 0; i < n; ++i) nz += fabs(u[i]) <= 1e-12 * info.scale;
        cr_expect_eq(nz, 3);
        for (size_t j = 0; j < 3; ++j) cr_expect(fabs(u[info.basis[j]]) <= 1e-12 * info.scale);
        /* the count of negative residuals satisfies n_neg <= tau n <= n_neg + p */
        cr_expect(info.nneg <= taus[t] * n && taus[t] * n <= info.nneg + 3);
        for (int r = 0; r < 300; ++r) {
            double bb[3], sc = pow(10.0, -6.0 + 6.0 * urand(99 + t, 4 * (uint64_t)r));
            for (int c = 0; c < 3; ++c) bb[c] = b[c] + sc * (urand(99 + t, 4 * (uint64_t)r + 1 + c) - 0.5);
            double o = cqb_qreg_objective(y, xc, m, NULL, n, taus[t], bb);
            cr_expect(o >= obj - 1e-12 * obj, "perturbation %d: %.17g < %.17g", r, o, obj);
        }
    }
    free(y);
    free(x1);
    free(x2);
    free(u);
}

Test(qreg, warm_start_reaches_the_same_vertex)
{
    /* Continuous data (unique solutions): starting from a nearby or a poor
     * guess gives the cold-start vertex. */
    const size_t n = 400;
    double *y = malloc(n * sizeof *y), *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2);
    for (size_t i = 0; i < n; ++i) {
        x1[i] = urand(21, 3 * i) - 0.5;
        x2[i] = 10 * urand(21, 3 * i + 1);
        y[i] = 2 + x1[i] + 0.1 * x2[i] + tan(3.1 * (urand(21, 3 * i + 2) - 0.5));
    }
    const double *xc[2] = {x1, x2};
    cqb_qreg_workspace *w;
    cqb_error err;
    cr_assert_eq(cqb_qreg_workspace_alloc(n, 2, &w, &err), CQB_OK);
    const double taus[4] = {0.02, 0.3, 0.5, 0.97};
    for (int t = 0; t < 4; ++t) {
        double b[3], bw[3];
        cqb_qreg_info ic, iw;
        cr_assert_eq(cqb_qreg_fit(w, y, xc, 2, NULL, n, taus[t], b, NULL, &ic, &err), CQB_OK);
        const double starts[3][3] = {{b[0] + 0.01, b[1] - 0.02, b[2]}, {0, 0, 0}, {-50, 7, 3}};
        for (int s0 = 0; s0 < 3; ++s0) {
            cr_assert_eq(cqb_qreg_fit_start(w, y, xc, 2, NULL, n, taus[t], starts[s0], bw, NULL, &iw, &err), CQB_OK,
                         "%s", err.msg);
            cr_expect_eq(memcmp(ic.basis, iw.basis, 3 * sizeof ic.basis[0]), 0, "tau %g start %d: other vertex", taus[t],
                         s0);
            for (int c = 0; c < 3; ++c) cr_expect(fabs(b[c] - bw[c]) <= 1e-12 * (1 + fabs(b[c])));
        }
    }
    double bad[3] = {NAN, 0, 0}, bw[3];
    cr_expect_eq(cqb_qreg_fit_start(w, y, xc, 2, NULL, n, 0.5, bad, bw, NULL, NULL, &err), CQB_EUSAGE);
    cqb_qreg_workspace_free(w);
    free(y);
    free(x1);
    free(x2);
}

Test(qreg, dual_certificate)
{
    /* Optimality from the LP dual: at a non-degenerate vertex h the weights
     * v_h solving X_h' v_h = -sum_{i not in h} psi(u_i) x_i must lie in
     * [tau - 1, tau]. Checked on the two O5-like designs of random data. */
    const size_t n = 1000;
    double *y = malloc(n * sizeof *y), *x1 = malloc(n * sizeof *x1), *x2 = malloc(n * sizeof *x2),
           *u = malloc(n * sizeof *u);
    for (size_t i = 0; i < n; ++i) {
        x1[i] = 50 + 10 * urand(31, 3 * i);
        x2[i] = urand(31, 3 * i + 1) - 0.5;
        y[i] = x1[i] + 3 * x2[i] + (urand(31, 3 * i + 2) - 0.3);
    }
    const double *xc[2] = {x1, x2};
    const double taus[5] = {0.05, 0.1, 0.2, 0.5, 0.9};
    for (int t = 0; t < 5; ++t) {
        const double tau = taus[t];
        double b[3];
        cqb_qreg_info info;
        fit_simple(y, xc, 2, n, tau, b, u, &info);
        cr_assert_eq(info.ndegen, 0);
        double rhs[3] = {0, 0, 0}, M[9];
        for (size_t i = 0; i < n; ++i) {
            int basic = 0;
            for (int j = 0; j < 3; ++j) basic |= info.basis[j] == i;
            if (basic) continue;
            const double ps = u[i] < 0 ? tau - 1 : tau, xi[3] = {1, x1[i], x2[i]};
            for (int c = 0; c < 3; ++c) rhs[c] -= ps * xi[c];
        }
        for (int j = 0; j < 3; ++j) {
            const size_t i = info.basis[j];
            M[0 * 3 + j] = 1;
            M[1 * 3 + j] = x1[i];
            M[2 * 3 + j] = x2[i];
        }
        cr_assert(solve_small(M, rhs, 3));
        for (int j = 0; j < 3; ++j)
            cr_expect(rhs[j] >= tau - 1 - 1e-9 && rhs[j] <= tau + 1e-9, "tau %g: v[%d] = %.17g", tau, j, rhs[j]);
    }
    free(y);
    free(x1);
    free(x2);
    free(u);
}

Test(qreg, rows_select_a_resample)
{
    /* Fitting on rows[] equals fitting on the gathered copy. */
    const size_t n = 50;
    double y[50], x[50], yg[60], xg[60], b1[2], b2[2], u1[60], u2[60];
    uint32_t rows[60];
    for (size_t i = 0; i < n; ++i) {
        x[i] = urand(3, 2 * i);
        y[i] = x[i] + urand(3, 2 * i + 1);
    }
    for (size_t i = 0; i < 60; ++i) {
        rows[i] = (uint32_t)((i * 7) % n);
        yg[i] = y[rows[i]];
        xg[i] = x[rows[i]];
    }
    const double *xc[1] = {x}, *xgc[1] = {xg};
    cqb_qreg_workspace *w;
    cqb_error err;
    cqb_qreg_info i1, i2;
    cr_assert_eq(cqb_qreg_workspace_alloc(60, 1, &w, &err), CQB_OK);
    cr_assert_eq(cqb_qreg_fit(w, y, xc, 1, rows, 60, 0.3, b1, u1, &i1, &err), CQB_OK);
    cr_assert_eq(cqb_qreg_fit(w, yg, xgc, 1, NULL, 60, 0.3, b2, u2, &i2, &err), CQB_OK);
    cqb_qreg_workspace_free(w);
    cr_expect_eq(memcmp(b1, b2, sizeof b1), 0);
    cr_expect_eq(memcmp(u1, u2, sizeof u1), 0);
}

Test(qreg, bad_inputs)
{
    double y[6] = {1, 2, 3, 4, 5, 6}, x[6] = {1, 1, 1, 1, 1, 1}, z[6] = {1, 2, 3, 4, 5, 7};
    double z2[6], b[3], u[6];
    for (int i = 0; i < 6; ++i) z2[i] = 2 * z[i] - 1;
    cqb_qreg_workspace *w = NULL;
    cqb_error err;
    cr_expect_eq(cqb_qreg_workspace_alloc(6, 0, &w, &err), CQB_EUSAGE);
    cr_expect_null(w);
    cr_expect_eq(cqb_qreg_workspace_alloc(6, CQB_QREG_MAX_P, &w, &err), CQB_EUSAGE);
    cr_assert_eq(cqb_qreg_workspace_alloc(6, 2, &w, &err), CQB_OK);
    const double *cx[1] = {x}, *cz[1] = {z}, *czz[2] = {z, z2};
    /* no regressor */
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 0, NULL, 6, 0.5, b, u, NULL, &err), CQB_EUSAGE);
    /* constant regressor: collinear with the intercept */
    cr_expect_eq(cqb_qreg_fit(w, y, cx, 1, NULL, 6, 0.5, b, u, NULL, &err), CQB_EDATA);
    cr_expect(strstr(err.msg, "rank-deficient") != NULL, "%s", err.msg);
    /* two proportional-plus-constant columns */
    cr_expect_eq(cqb_qreg_fit(w, y, czz, 2, NULL, 6, 0.5, b, u, NULL, &err), CQB_EDATA);
    /* tau outside (0,1) */
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, 0.0, b, u, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, 1.0, b, u, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, -0.2, b, u, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, NAN, b, u, NULL, &err), CQB_EUSAGE);
    /* too few rows, more rows than the workspace */
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 1, 0.5, b, u, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 7, 0.5, b, u, NULL, &err), CQB_EUSAGE);
    /* n == p interpolates */
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 2, 0.5, b, u, NULL, &err), CQB_OK);
    cr_expect_float_eq(b[1], 1.0, 1e-15);
    /* non-finite data */
    y[3] = NAN;
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, 0.5, b, u, NULL, &err), CQB_EDATA);
    y[3] = 4;
    z[2] = INFINITY;
    cr_expect_eq(cqb_qreg_fit(w, y, cz, 1, NULL, 6, 0.5, b, u, NULL, &err), CQB_EDATA);
    cqb_qreg_workspace_free(w);
    cqb_qreg_workspace_free(NULL);
}

/* ------------------------------------------------------- O5 oracles ---- */

/* D1 = (Market_t, Market_{t-1}), D2 = (JPM_t, JPM_{t-1}) from the raw
 * sys.risk rows 2..T (JPM price levels, Market a return): T = 5505. */
static double *mk, *jp;
static size_t NR;

static void load_raw(void)
{
    size_t n2;
    mk = td_load_column("quantilogram_sys_risk.csv", "Market", &NR);
    jp = td_load_column("quantilogram_sys_risk.csv", "JPM", &n2);
    cr_assert_eq(NR, n2);
}

static void free_raw(void)
{
    free(mk);
    free(jp);
}

static const double *o5_x1[1], *o5_x2[1];

static cqb_cqreg_input o5_input(cqb_cqreg_tie tie)
{
    o5_x1[0] = mk;
    o5_x2[0] = jp;
    cqb_cqreg_input in = {{mk + 1, o5_x1, 1}, {jp + 1, o5_x2, 1}, NR - 1, tie, 0.0};
    return in;
}

Test(cqreg, o5_crossqreg_oracles, .init = load_raw, .fini = free_raw)
{
    cr_assert_eq(NR, 5506);
    cqb_cqreg_input in = o5_input(CQB_CQREG_TIE_EPS);
    /* crossqreg.max(D1, D2, c(.1,.2), 3): lags 1..4 (R's B3), and
     * crossqreg(D1, D2, c(0.1,0.2), 5) */
    const size_t lags[5] = {1, 2, 3, 4, 5};
    const double want[5] = {0.0539731043642291, 0.11748006369031, 0.0977872808894475, 0.0841445985401507,
                            0.0856299963940098};
    cqb_cqreg_cell c[5];
    cqb_cqreg_fit f1, f2;
    cqb_error err;
    cr_assert_eq(cqb_cqreg_compute(&in, 0.1, 0.2, lags, 5, c, &f1, &f2, &err), CQB_OK, "%s", err.msg);
    cr_expect_eq(f1.nhit, 551);
    cr_expect_eq(f2.nhit, 1102);
    cr_expect_eq(f1.nzero, 2);
    cr_expect_eq(f2.nzero, 2);
    cr_expect_eq(f1.nonunique, 0);
    cr_expect_eq(f2.nonunique, 0);
    for (int i = 0; i < 5; ++i) {
        cr_expect(fabs(c[i].rho - want[i]) <= TOL, "lag %zu: %.17g vs %.17g", lags[i], c[i].rho, want[i]);
        cr_expect_eq(c[i].n, 5505 - lags[i]);
        cr_expect(isnan(c[i].band_lo));
    }
    /* the hit vectors agree with the summaries */
    unsigned char *h1 = malloc(in.T), *h2 = malloc(in.T);
    cr_assert_eq(cqb_cqreg_hits(&in, 0.1, 0.2, h1, h2, NULL, NULL, &err), CQB_OK);
    size_t s1 = 0, s2 = 0;
    for (size_t t = 0; t < in.T; ++t) {
        s1 += h1[t];
        s2 += h2[t];
    }
    cr_expect_eq(s1, 551);
    cr_expect_eq(s2, 1102);
    free(h1);
    free(h2);
}

Test(cqreg, o5_exact_tie_rule_is_fragile, .init = load_raw, .fini = free_raw)
{
    /* R's literal u <= 0: the tau = 0.2 vertex residuals are 0 and a few
     * 1e-15 of either sign depending on the last bits of beta, so the hit
     * count is 1101 or 1102 (R happened to get 1102). Equation 1 is not
     * affected here. */
    cqb_cqreg_input in = o5_input(CQB_CQREG_TIE_EXACT);
    const size_t lag = 5;
    cqb_cqreg_cell c;
    cqb_cqreg_fit f1, f2;
    cqb_error err;
    cr_assert_eq(cqb_cqreg_compute(&in, 0.1, 0.2, &lag, 1, &c, &f1, &f2, &err), CQB_OK, "%s", err.msg);
    cr_expect_eq(f1.nhit, 551);
    cr_expect(f2.nhit == 1101 || f2.nhit == 1102, "%zu", f2.nhit);
    if (f2.nhit == 1102) cr_expect(fabs(c.rho - 0.0856299963940098) <= TOL);
}

/* ----------------------------------------------------------- bootstrap -- */

/* A short sample (T = 336) of D1/D2 returns-style data: y1 = JPM log return,
 * x1 = its lag; y2 = Market, x2 = its lag. */
static double *by1, *bx1, *by2, *bx2;
static size_t BT;

static void load_boot(void)
{
    load_raw();
    BT = 336;
    by1 = malloc((BT + 1) * sizeof *by1);
    by2 = malloc((BT + 1) * sizeof *by2);
    double *r = malloc((BT + 2) * sizeof *r);
    td_logdiff(jp + 3000, BT + 2, r);
    for (size_t t = 0; t <= BT; ++t) {
        by1[t] = r[t];
        by2[t] = mk[3001 + t];
    }
    free(r);
    bx1 = by1;
    bx2 = by2;
}

static void free_boot(void)
{
    free(by1);
    free(by2);
    free_raw();
}

static const double *bxc1[1], *bxc2[1];

static cqb_cqreg_input boot_input(void)
{
    bxc1[0] = bx1;
    bxc2[0] = bx2;
    cqb_cqreg_input in = {{by1 + 1, bxc1, 1}, {by2 + 1, bxc2, 1}, BT, CQB_CQREG_TIE_EPS, 0.0};
    return in;
}

static int cells_identical(const cqb_cqreg_cell *a, const cqb_cqreg_cell *b, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        const cqb_cqreg_cell *x = &a[i], *y = &b[i];
        if (x->lag != y->lag || x->n != y->n || x->n1 != y->n1 || x->n2 != y->n2 || x->n12 != y->n12 ||
            x->boot_valid != y->boot_valid || x->boot_nonunique != y->boot_nonunique)
            return 0;
        const double u[8] = {x->rho, x->band_lo, x->band_hi, x->ci_lo, x->ci_hi, x->p_value, x->p_value_et, x->gamma};
        const double v[8] = {y->rho, y->band_lo, y->band_hi, y->ci_lo, y->ci_hi, y->p_value, y->p_value_et, y->gamma};
        if (memcmp(u, v, sizeof u) != 0) return 0;
    }
    return 1;
}

Test(cqreg_boot, reproducible_and_thread_invariant, .init = load_boot, .fini = free_boot)
{
    cqb_cqreg_input in = boot_input();
    const size_t lags[3] = {1, 2, 5};
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.B = 300;
    o.gamma = 0.1;
    o.seed = 42;
    cqb_cqreg_cell c1[3], c2[3], c3[3], c4[3];
    cqb_error err;
    o.threads = 1;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.1, 0.1, lags, 3, &o, c1, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    o.threads = 3;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.1, 0.1, lags, 3, &o, c2, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    o.threads = 2;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.1, 0.1, lags, 3, &o, c3, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cr_expect(cells_identical(c1, c2, 3), "1 vs 3 threads");
    cr_expect(cells_identical(c1, c3, 3), "1 vs 2 threads (rerun)");
    o.seed = 43;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.1, 0.1, lags, 3, &o, c4, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cr_expect(!cells_identical(c1, c4, 3), "another seed, other replicates");
    for (int i = 0; i < 3; ++i) {
        const cqb_cqreg_cell *c = &c1[i];
        cr_expect_eq(c->boot_valid, 300);
        cr_expect(c->band_lo < 0 && c->band_hi > 0, "lag %zu band [%g, %g]", c->lag, c->band_lo, c->band_hi);
        cr_expect(c->p_value >= 0 && c->p_value <= 1);
        cr_expect(c->p_value_et >= 0 && c->p_value_et <= 1);
        cr_expect_eq(c->ci_lo, c->rho + c->band_lo);
        cr_expect_eq(c->ci_hi, c->rho + c->band_hi);
        cr_expect_eq(c->gamma, 0.1);
        /* point statistic as cqb_cqreg_compute */
        cqb_cqreg_cell pc;
        cr_assert_eq(cqb_cqreg_compute(&in, 0.1, 0.1, &lags[i], 1, &pc, NULL, NULL, &err), CQB_OK);
        cr_expect_eq(pc.rho, c->rho);
    }
}

Test(cqreg_boot, replicate_semantics, .init = load_boot, .fini = free_boot)
{
    /* With B = 1 the band is the single d_0 = rho*_0 - rho_hat: rebuild
     * replicate 0 by hand (joint resample of the lag-aligned rows, both
     * regressions re-fitted, hits over all N rows). */
    cqb_cqreg_input in = boot_input();
    const size_t k = 2, N = BT - k;
    const double a1 = 0.2, a2 = 0.3;
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.B = 1;
    o.gamma = 0.15;
    o.seed = 7;
    o.cell = 5;
    cqb_cqreg_cell c;
    cqb_error err;
    cr_assert_eq(cqb_cqreg_boot(&in, a1, a2, &k, 1, &o, &c, NULL, NULL, &err), CQB_OK, "%s", err.msg);

    uint32_t *idx = malloc(N * sizeof *idx), *pos = malloc(N * sizeof *pos), *row = malloc(N * sizeof *row),
             *rows1 = malloc(N * sizeof *rows1);
    double *u1 = malloc(N * sizeof *u1), *u2 = malloc(N * sizeof *u2), b[2];
    cqb_sb_indices(7, 0, cqb_sb_tag(CQB_CQREG_FAMILY, (uint32_t)k, 5), cqb_bernoulli_threshold(0.15), N, idx, pos,
                   row);
    for (size_t t = 0; t < N; ++t) rows1[t] = idx[t] + (uint32_t)k;
    cqb_qreg_workspace *w;
    cqb_qreg_info i1, i2;
    cr_assert_eq(cqb_qreg_workspace_alloc(N, 1, &w, &err), CQB_OK);
    cr_assert_eq(cqb_qreg_fit(w, in.eq1.y, in.eq1.x, 1, rows1, N, a1, b, u1, &i1, &err), CQB_OK);
    cr_assert_eq(cqb_qreg_fit(w, in.eq2.y, in.eq2.x, 1, idx, N, a2, b, u2, &i2, &err), CQB_OK);
    cqb_qreg_workspace_free(w);
    size_t n1 = 0, n2 = 0, n12 = 0;
    for (size_t t = 0; t < N; ++t) {
        int h1 = u1[t] <= 1e-10 * i1.scale, h2 = u2[t] <= 1e-10 * i2.scale;
        n1 += (size_t)h1;
        n2 += (size_t)h2;
        n12 += (size_t)(h1 & h2);
    }
    double d0 = cqb_cq_from_counts((double)N, (double)n1, (double)n2, (double)n12, a1, a2) - c.rho;
    cr_expect_eq(c.band_lo, d0, "%.17g vs %.17g", c.band_lo, d0);
    cr_expect_eq(c.band_hi, d0);
    cr_expect_eq(c.boot_valid, 1);
    cr_expect_eq(c.p_value, fabs(d0) >= fabs(c.rho) ? 1.0 : 0.0);
    free(idx);
    free(pos);
    free(row);
    free(rows1);
    free(u1);
    free(u2);
}

Test(cqreg_boot, automatic_gamma, .init = load_boot, .fini = free_boot)
{
    cqb_cqreg_input in = boot_input();
    const size_t k = 1;
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.B = 50;
    cqb_cqreg_cell c;
    cqb_error err;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &k, 1, &o, &c, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cr_expect(c.gamma > 0 && c.gamma <= 1, "gamma %g", c.gamma);
    cr_expect_eq(c.boot_valid, 50);
}

Test(cqreg_boot, singular_resamples_are_counted)
{
    /* A regressor with two values, one of them rare: resamples that miss it
     * make the design rank-deficient, those replicates are NaN and counted. */
    const size_t T = 40;
    double y1[40], x1[40], y2[40], x2[40];
    for (size_t t = 0; t < T; ++t) {
        y1[t] = urand(11, 4 * t);
        x1[t] = t == 20 ? 1.0 : 0.0;
        y2[t] = urand(11, 4 * t + 2);
        x2[t] = urand(11, 4 * t + 3);
    }
    const double *c1[1] = {x1}, *c2[1] = {x2};
    cqb_cqreg_input in = {{y1, c1, 1}, {y2, c2, 1}, T, CQB_CQREG_TIE_EPS, 0.0};
    const size_t k = 1;
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.B = 200;
    o.gamma = 0.5;
    cqb_cqreg_cell c;
    cqb_error err;
    cr_assert_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &k, 1, &o, &c, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cr_expect(c.boot_valid > 0 && c.boot_valid < 200, "valid %zu", c.boot_valid);
    cr_expect(isfinite(c.band_lo) && isfinite(c.band_hi));
}

Test(cqreg, bad_inputs)
{
    double y[10], x[10];
    for (int i = 0; i < 10; ++i) {
        y[i] = urand(5, (uint64_t)i);
        x[i] = urand(6, (uint64_t)i);
    }
    const double *cx[1] = {x};
    cqb_cqreg_input in = {{y, cx, 1}, {y, cx, 1}, 10, CQB_CQREG_TIE_EPS, 0.0};
    const size_t lag1 = 1, lag9 = 9, lag8 = 8;
    cqb_cqreg_cell c;
    cqb_error err;
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag1, 1, &c, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cr_expect_eq(cqb_cqreg_compute(&in, 0.0, 0.5, &lag1, 1, &c, NULL, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 1.0, &lag1, 1, &c, NULL, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag9, 1, &c, NULL, NULL, &err), CQB_EUSAGE);
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag8, 1, &c, NULL, NULL, &err), CQB_OK);
    in.eq1.m = 0;
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag1, 1, &c, NULL, NULL, &err), CQB_EUSAGE);
    cr_expect(strstr(err.msg, "regressor") != NULL, "%s", err.msg);
    in.eq1.m = 1;
    in.T = 1;
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag1, 1, &c, NULL, NULL, &err), CQB_EUSAGE);
    in.T = 10;
    double xc[10];
    for (int i = 0; i < 10; ++i) xc[i] = 3.0;
    const double *cc[1] = {xc};
    in.eq2.x = cc;
    cr_expect_eq(cqb_cqreg_compute(&in, 0.5, 0.5, &lag1, 1, &c, NULL, NULL, &err), CQB_EDATA);
    cr_expect(strstr(err.msg, "equation 2") != NULL, "%s", err.msg);
    in.eq2.x = cx;
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.B = 0;
    cr_expect_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &lag1, 1, &o, &c, NULL, NULL, &err), CQB_EUSAGE);
    o.B = 10;
    o.gamma = 1.5;
    cr_expect_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &lag1, 1, &o, &c, NULL, NULL, &err), CQB_EUSAGE);
    o.gamma = 0.5;
    o.level = 1.0;
    cr_expect_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &lag1, 1, &o, &c, NULL, NULL, &err), CQB_EUSAGE);
    o.level = 0.9;
    cr_expect_eq(cqb_cqreg_boot(&in, 0.5, 0.5, &lag1, 1, &o, &c, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    cqb_cqreg_tie t;
    cr_expect_eq(cqb_cqreg_tie_parse("exact", &t), 0);
    cr_expect_eq(t, CQB_CQREG_TIE_EXACT);
    cr_expect_eq(cqb_cqreg_tie_parse("foo", &t), -1);
    cr_expect_str_eq(cqb_cqreg_tie_name(CQB_CQREG_TIE_EPS), "eps");
}
