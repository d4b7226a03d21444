/* mc_pcq.c — Monte Carlo size of the partial CQ's calibrated test (residual
 * rotation, docs/calibrated.md §7) on a common-control DGP (issue #10).
 *
 * z_t = phi_z z_{t-1} + e_t; d_t = 1[z_t <= q_z], q_z the type-7 median of
 * the T retained z (the control hit the PCQ uses); y_t = b d_{t-1} + u_t,
 * x_t = c d_t + w_t, u and w independent AR(1) (coefficient 0.3) with
 * Gaussian innovations. Given d_{t-k} (the control at lag k, level 0.5),
 * y_t and x_{t-k} are independent for every k >= 1: the PCQ's null holds in
 * every cell, while the plain CQ is far from 0 in the median cells.
 *
 * usage: mc_pcq [R] [B] [T] [b] [phi_z]   (defaults 1000 199 336 1.5 0.8)
 * Prints the rejection rates at 5% of p_null (mid-p), p_null_conservative
 * and R's band rule per cell, then their ranges. Replication r uses its own
 * data stream (seed 1, r) and bootstrap seed r + 1; threads do not change
 * any number.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cq_boot.h"
#include "cqboot/philox.h"

static const double LEV[5] = {0.05, 0.1, 0.5, 0.9, 0.95};
static const size_t LAGS[3] = {1, 2, 3};

typedef struct rng {
    uint64_t s, n;
} rng;

static double unif(rng *g)
{
    uint32_t w[4];
    cqb_philox_block(1, g->s, g->n++, w);
    uint64_t v = ((uint64_t)w[0] << 21) ^ w[1];
    return ((double)(v & ((1ULL << 53) - 1)) + 0.5) / 9007199254740992.0;
}

static double gauss(rng *g)
{
    return sqrt(-2.0 * log(unif(g))) * cos(6.283185307179586 * unif(g));
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void gen(uint64_t r, size_t T, double b, double phiz, double *y, double *x, double *z)
{
    if (T < 4 || T > 10000000) return;
    const size_t burn = 200, n = burn + T;
    rng g = {r | ((uint64_t)0x77 << 32), 0};
    double *zz = malloc(n * sizeof *zz), *s = malloc(T * sizeof *s);
    double zs = 0.0, us = 0.0, ws = 0.0;
    for (size_t t = 0; t < n; ++t) zz[t] = zs = phiz * zs + gauss(&g);
    for (size_t t = 0; t < T; ++t) s[t] = zz[burn + t];
    qsort(s, T, sizeof *s, cmpd);
    double h = 0.5 * (double)(T - 1);
    size_t lo = (size_t)h;
    double q = s[lo] + (h - (double)lo) * (s[lo + 1 < T ? lo + 1 : lo] - s[lo]);
    int dprev = 0;
    for (size_t t = 0; t < n; ++t) {
        int d = zz[t] <= q;
        us = 0.3 * us + gauss(&g);
        ws = 0.3 * ws + gauss(&g);
        double yv = b * dprev + us, xv = b * d + ws;
        if (t >= burn) {
            y[t - burn] = yv;
            x[t - burn] = xv;
            z[t - burn] = zz[t];
        }
        dprev = d;
    }
    free(zz);
    free(s);
}

int main(int argc, char **argv)
{
    const int R = argc > 1 ? atoi(argv[1]) : 1000;
    const size_t B = argc > 2 ? (size_t)atol(argv[2]) : 199;
    const size_t T = argc > 3 ? (size_t)atol(argv[3]) : 336;
    const double b = argc > 4 ? atof(argv[4]) : 1.5;
    const double phiz = argc > 5 ? atof(argv[5]) : 0.8;
    enum { NC = 75 };
    long rn[NC] = {0}, rc[NC] = {0}, rb[NC] = {0}, rp[NC] = {0}, rq[15] = {0};
    double rho_sum[NC] = {0};
    int sparse[NC] = {0};
    double t0 = omp_get_wtime();
#pragma omp parallel
    {
        double *y = malloc(3 * T * sizeof *y), *x = y + T, *z = x + T;
        long ln[NC] = {0}, lc[NC] = {0}, lb[NC] = {0}, lp[NC] = {0}, lq[15] = {0};
        double ls[NC] = {0};
#pragma omp for schedule(dynamic, 4)
        for (int r = 0; r < R; ++r) {
            gen((uint64_t)r, T, b, phiz, y, x, z);
            cqb_control ctl = {z, 0.5, -1};
            cqb_cq_spec s;
            memset(&s, 0, sizeof s);
            s.in = (cqb_cq_input){y, x, T, &ctl, 1, CQB_Q_R7_LE};
            s.alpha_y = LEV;
            s.ny = 5;
            s.alpha_x = LEV;
            s.nx = 5;
            s.lags = LAGS;
            s.nlags = 3;
            s.qtests = 1;
            cqb_boot_opts o;
            cqb_boot_opts_default(&o);
            o.B = B;
            o.seed = (uint64_t)r + 1;
            o.null_test = 1;
            o.null_partial = 1;
            cqb_backend be;
            char notice[128];
            cqb_error err;
            cqb_backend_open(CQB_BACKEND_CPU, 1, &be, notice, sizeof notice, &err);
            o.backend = &be;
            cqb_cq_result res;
            if (cqb_cq_boot(&s, &o, &res, &err) != CQB_OK) {
                fprintf(stderr, "rep %d: %s\n", r, err.msg);
                cqb_backend_close(&be);
                continue;
            }
            for (int c = 0; c < NC; ++c) {
                const cqb_cq_cell *cl = &res.cells[c];
                ln[c] += cl->p_null < 0.05 - 1e-12;
                lc[c] += cl->p_null_cons < 0.05 - 1e-12;
                lb[c] += cl->rho_partial < cl->band_lo || cl->rho_partial > cl->band_hi;
                lp[c] += cl->p_value < 0.05 - 1e-12;
                ls[c] += cl->rho;
            }
            for (int i = 0; i < 75 && i < (int)res.nqtests; ++i) lq[i % 3] += res.qtests[i].p_null_lb < 0.05;
            if (r == 0)
                for (int c = 0; c < NC; ++c) sparse[c] = res.cells[c].sparse;
            cqb_cq_result_free(&res);
            cqb_backend_close(&be);
        }
#pragma omp critical
        {
            for (int c = 0; c < NC; ++c) {
                rn[c] += ln[c];
                rc[c] += lc[c];
                rb[c] += lb[c];
                rp[c] += lp[c];
                rho_sum[c] += ls[c];
            }
            for (int i = 0; i < 15; ++i) rq[i] += lq[i];
        }
        free(y);
    }
    printf("mc_pcq: R = %d, B = %zu, T = %zu, b = c = %g, phi_z = %g, control level 0.5 at lag k; %.1f s\n", R, B, T,
           b, phiz, omp_get_wtime() - t0);
    printf("%6s %6s %3s %8s %8s %8s %8s %9s\n", "a_y", "a_x", "lag", "p_null", "cons", "R band", "R pval",
           "mean rho");
    double mn[2] = {1, 1}, mx[2] = {0, 0};
    for (int c = 0; c < NC; ++c) {
        int iy = c / 15, ix = (c / 3) % 5, li = c % 3;
        double rate = (double)rn[c] / R;
        printf("%6g %6g %3zu %8.4f %8.4f %8.4f %8.4f %9.4f%s\n", LEV[iy], LEV[ix], LAGS[li], rate, (double)rc[c] / R,
               (double)rb[c] / R, (double)rp[c] / R, rho_sum[c] / R, sparse[c] ? " s" : "");
        int k = sparse[c];
        if (rate < mn[k]) mn[k] = rate;
        if (rate > mx[k]) mx[k] = rate;
    }
    printf("p_null range: non-sparse cells %.4f-%.4f, sparse cells %.4f-%.4f\n", mn[0], mx[0], mn[1], mx[1]);
    printf("Ljung-Box p_null < 0.05, mean over the 25 cells: p = 1: %.4f, p = 2: %.4f, p = 3: %.4f\n",
           (double)rq[0] / (25.0 * R), (double)rq[1] / (25.0 * R), (double)rq[2] / (25.0 * R));
    return 0;
}
