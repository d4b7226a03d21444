/* device/quantile_dev.h — device copies of the quantile index rules of
 * host/boot/quantile.c (cqb_r7_index, cqb_r7_interp, cqb_order_rank).
 *
 * The bootstrap kernel evaluates cqb_dev_r7_interp() per replicate, level and
 * column; the index rules depend only on N and the level, so the plan carries
 * them precomputed by the host (cqb_plan_col.lrank, .lh) and the kernel reads
 * those. All three must give the same bits on the device as on the host
 * (the self-test checks them there): the same IEEE operations in the
 * same order, each rounded separately (R's 1 + (n-1)*p rounds twice). On the
 * device every multiply and add is an explicit round-to-nearest intrinsic
 * (__dmul_rn, __dadd_rn, __dsub_rn), which nvcc never contracts into an FMA,
 * whatever -fmad says. On the host (the host pass of nvcc, and the C kernel
 * emulator of tests/test_cuda.c) the code is that of host/boot/quantile.c, with
 * volatile stores that keep any compiler from fusing.
 *
 * C11 and CUDA C++ compatible; tests/test_cuda.c checks the host path against
 * host/boot/quantile.c and the device self-test (device/selftest.cu) checks the
 * device path against it on the GPU.
 */
#ifndef CQBOOT_DEVICE_QUANTILE_DEV_H
#define CQBOOT_DEVICE_QUANTILE_DEV_H

#include <math.h>
#include <stddef.h>

#include "cqboot/hd.h"
#include "cqboot/quantile.h"

/* 4 * DBL_EPSILON = 2^-50, R's fuzz in type 1 (spelled out: no float.h on the
 * device side). */
#define CQB_DEV_FUZZ4 (4.0 / 4503599627370496.0)

#if defined(__CUDA_ARCH__)
#define CQB_DMUL(a, b) __dmul_rn((a), (b))
#define CQB_DADD(a, b) __dadd_rn((a), (b))
#define CQB_DSUB(a, b) __dsub_rn((a), (b))
#endif

/*! cqb_dev_r7_index() : cqb_r7_index(): lo = floor(1 + (n-1)*p), h = index - lo. */
CQB_HD void cqb_dev_r7_index(size_t n, double p, size_t *lo, double *h)
{
#if defined(__CUDA_ARCH__)
    double prod = CQB_DMUL((double)(n > 0 ? n - 1 : 0), p);
    double index = CQB_DADD(1.0, prod);
    double fl = floor(index);
    *lo = (size_t)fl;
    *h = CQB_DSUB(index, fl);
#else
    volatile double prod = (double)(n > 0 ? n - 1 : 0) * p;
    double index = 1.0 + prod;
    double fl = floor(index);
    *lo = (size_t)fl;
    *h = index - fl;
#endif
}

/*! cqb_dev_r7_interp() : cqb_r7_interp(): x_lo when h == 0 or x_hi == x_lo,
 *  else (1-h)*x_lo + h*x_hi. */
CQB_HD double cqb_dev_r7_interp(double x_lo, double x_hi, double h)
{
    if (h == 0.0 || x_hi == x_lo) return x_lo;
#if defined(__CUDA_ARCH__)
    double a = CQB_DMUL(CQB_DSUB(1.0, h), x_lo);
    double b = CQB_DMUL(h, x_hi);
    return CQB_DADD(a, b);
#else
    volatile double a = (1.0 - h) * x_lo;
    volatile double b = h * x_hi;
    return a + b;
#endif
}

/*! cqb_dev_order_rank() : cqb_order_rank(): the 1-based rank r with q = x_(r)
 *  for type 1 and numpy 'higher'; 0 for type 7. */
CQB_HD size_t cqb_dev_order_rank(int conv, size_t n, double p)
{
    if (conv == (int)CQB_Q_TYPE1_LT) {
#if defined(__CUDA_ARCH__)
        double nppm = CQB_DMUL((double)n, p);
        double j = floor(CQB_DADD(nppm, CQB_DEV_FUZZ4));
#else
        volatile double nppm = (double)n * p;
        double j = floor(nppm + CQB_DEV_FUZZ4);
#endif
        size_t r = (size_t)j + (nppm > j ? 1 : 0);
        if (r < 1) r = 1;
        if (r > n) r = n;
        return r;
    }
    if (conv == (int)CQB_Q_HIGHER_LT_SUB) {
#if defined(__CUDA_ARCH__)
        double v = ceil(CQB_DMUL((double)(n - 1), p));
#else
        volatile double prod = (double)(n - 1) * p;
        double v = ceil(prod);
#endif
        size_t r = (size_t)v + 1;
        if (r > n) r = n;
        return r;
    }
    return 0;
}

#endif
