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

double cqb_r7_interp(double x_lo, double x_hi, double h) { return cqb_r7_interp_inline(x_lo, x_hi, h); }

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

/* Floyd-Rivest selection (CACM 18(3), 1975, algorithm SELECT): afterwards
 * a[k] is the k-th smallest of a[l..r], smaller-or-equal elements before it
 * and greater-or-equal after. About n + min(k, n-k) comparisons, against
 * ~3.4 n for a plain quickselect: it dominates the exact bootstrap
 * percentiles at large B. */
static void fr_select(double *a, long l, long r, long k)
{
    while (r > l) {
        if (r - l > 600) {
            double n = (double)(r - l + 1), i = (double)(k - l + 1);
            double z = log(n), s = 0.5 * exp(2.0 * z / 3.0);
            double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i - n / 2.0 < 0 ? -1.0 : 1.0);
            long nl = (long)((double)k - i * s / n + sd), nr = (long)((double)k + (n - i) * s / n + sd);
            fr_select(a, nl > l ? nl : l, nr < r ? nr : r, k);
        }
        double t = a[k], tmp;
        long i = l, j = r;
        tmp = a[l]; a[l] = a[k]; a[k] = tmp;
        if (a[r] > t) { tmp = a[r]; a[r] = a[l]; a[l] = tmp; }
        while (i < j) {
            tmp = a[i]; a[i] = a[j]; a[j] = tmp;
            ++i; --j;
            while (a[i] < t) ++i;
            while (a[j] > t) --j;
        }
        if (a[l] == t) {
            tmp = a[l]; a[l] = a[j]; a[j] = tmp;
        } else {
            ++j;
            tmp = a[j]; a[j] = a[r]; a[r] = tmp;
        }
        if (j <= k) l = j + 1;
        if (k <= j) r = j - 1;
    }
}

double cqb_select_r7_inplace(double *a, size_t n, double p)
{
    if (n == 0) return NAN;
    size_t lo;
    double h;
    cqb_r7_index(n, p, &lo, &h);
    fr_select(a, 0, (long)n - 1, (long)lo - 1);
    double xlo = a[lo - 1], xhi = xlo;
    if (h > 0.0 && lo < n) {
        xhi = a[lo];
        for (size_t i = lo + 1; i < n; ++i)
            if (a[i] < xhi) xhi = a[i];
    }
    return cqb_r7_interp(xlo, xhi, h);
}

double cqb_quantile_r7(const double *x, size_t n, double p, double *scratch)
{
    if (n == 0) return NAN;
    memcpy(scratch, x, n * sizeof *x);
    return cqb_select_r7_inplace(scratch, n, p);
}
