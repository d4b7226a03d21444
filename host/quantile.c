/* quantile.c — R-exact sample quantiles (cross-quantilogram.md §1.3). */
#include "cqboot/quantile.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cqb_qconv_parse(const char *s, cqb_qconv *out)
{
    if (!strcmp(s, "r7_le")) *out = CQB_Q_R7_LE;
    else if (!strcmp(s, "type1_lt")) *out = CQB_Q_TYPE1_LT;
    else if (!strcmp(s, "higher_lt_sub")) *out = CQB_Q_HIGHER_LT_SUB;
    else return -1;
    return 0;
}

const char *cqb_qconv_name(cqb_qconv c)
{
    switch (c) {
    case CQB_Q_R7_LE: return "r7_le";
    case CQB_Q_TYPE1_LT: return "type1_lt";
    case CQB_Q_HIGHER_LT_SUB: return "higher_lt_sub";
    }
    return "?";
}

int cqb_qconv_strict(cqb_qconv c) { return c != CQB_Q_R7_LE; }

void cqb_r7_index(size_t n, double p, size_t *lo, double *h)
{
    /* Two separate roundings, as R: the multiply, then the add. volatile
     * keeps any compiler from fusing them whatever the flags. */
    volatile double prod = (double)(n > 0 ? n - 1 : 0) * p;
    double index = 1.0 + prod;
    double fl = floor(index);
    *lo = (size_t)fl;
    *h = index - fl;
}

double cqb_r7_interp(double x_lo, double x_hi, double h)
{
    if (h == 0.0 || x_hi == x_lo) return x_lo;
    volatile double a = (1.0 - h) * x_lo;
    volatile double b = h * x_hi;
    return a + b;
}

size_t cqb_order_rank(cqb_qconv c, size_t n, double p)
{
    switch (c) {
    case CQB_Q_TYPE1_LT: {
        /* R type 1: j = floor(n*p + fuzz), q = x_j if n*p <= j else x_{j+1},
         * with x_0 = x_1 (R pads the sorted vector at both ends). */
        const double fuzz = 4.0 * DBL_EPSILON;
        double nppm = (double)n * p;
        double j = floor(nppm + fuzz);
        size_t r = (size_t)j + (nppm > j ? 1 : 0);
        if (r < 1) r = 1;
        if (r > n) r = n;
        return r;
    }
    case CQB_Q_HIGHER_LT_SUB: {
        /* numpy 'higher': 0-based ceil((n-1)*p). */
        double v = ceil((double)(n - 1) * p);
        size_t r = (size_t)v + 1;
        if (r > n) r = n;
        return r;
    }
    case CQB_Q_R7_LE: break;
    }
    return 0;
}

double cqb_quantile_sorted(cqb_qconv c, const double *sorted, size_t n, double p)
{
    if (n == 0) return NAN;
    if (c == CQB_Q_R7_LE) {
        size_t lo;
        double h;
        cqb_r7_index(n, p, &lo, &h);
        size_t hi = lo + (h > 0.0 ? 1 : 0);
        if (hi > n) hi = n;
        return cqb_r7_interp(sorted[lo - 1], sorted[hi - 1], h);
    }
    return sorted[cqb_order_rank(c, n, p) - 1];
}

/* Wirth's selection: afterwards a[k] is the k-th smallest (0-based), every
 * element before it is <= a[k] and every element after it is >= a[k]. */
static void select_kth(double *a, size_t n, size_t k)
{
    long l = 0, r = (long)n - 1, kk = (long)k;
    while (l < r) {
        double x = a[kk];
        long i = l, j = r;
        do {
            while (a[i] < x) ++i;
            while (x < a[j]) --j;
            if (i <= j) {
                double t = a[i]; a[i] = a[j]; a[j] = t;
                ++i; --j;
            }
        } while (i <= j);
        if (j < kk) l = i;
        if (kk < i) r = j;
    }
}

double cqb_quantile_r7(const double *x, size_t n, double p, double *scratch)
{
    if (n == 0) return NAN;
    memcpy(scratch, x, n * sizeof *x);
    size_t lo;
    double h;
    cqb_r7_index(n, p, &lo, &h);
    select_kth(scratch, n, lo - 1);
    double xlo = scratch[lo - 1], xhi = xlo;
    if (h > 0.0 && lo < n) {
        xhi = scratch[lo];
        for (size_t i = lo + 1; i < n; ++i)
            if (scratch[i] < xhi) xhi = scratch[i];
    }
    return cqb_r7_interp(xlo, xhi, h);
}
