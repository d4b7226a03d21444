/* cqboot/quantile.h — sample quantiles and hit conventions of the CQ.
 *
 * Three conventions (cross-quantilogram.md §1.3, §1.6):
 *   CQB_Q_R7_LE         R quantilogram (DEFAULT): R type-7 quantile of the full
 *                       column, hit 1[x <= q].
 *   CQB_Q_TYPE1_LT      the paper: R type-1 quantile (rq on a constant) of the
 *                       full column, hit 1[x < q].
 *   CQB_Q_HIGHER_LT_SUB the Python package: numpy 'higher' quantile of the
 *                       lag-aligned subsample, hit 1[x < q].
 * In the bootstrap every convention re-estimates its quantile on each
 * resampled column with the same estimator and inequality.
 */
#ifndef CQBOOT_QUANTILE_H
#define CQBOOT_QUANTILE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_qconv {
    CQB_Q_R7_LE = 0,
    CQB_Q_TYPE1_LT = 1,
    CQB_Q_HIGHER_LT_SUB = 2
} cqb_qconv;

/*! cqb_qconv_parse() : "r7_le", "type1_lt" or "higher_lt_sub"; returns 0 on
 *  success, -1 for an unknown name. */
int cqb_qconv_parse(const char *s, cqb_qconv *out);
/*! cqb_qconv_name() : the option spelling of a convention. */
const char *cqb_qconv_name(cqb_qconv c);
/*! cqb_qconv_strict() : 1 if the hit is 1[x < q], 0 if 1[x <= q]. */
int cqb_qconv_strict(cqb_qconv c);

/*! cqb_r7_index() : R's type-7 position for n values at probability p,
 *  index = 1 + (n-1)*p computed with two IEEE roundings (no FMA; the build
 *  uses -ffp-contract=off). Writes lo = floor(index) (1-based) and
 *  h = index - lo. For n = 101, p = 0.29: lo = 29, h = 0.999999999999996. */
void cqb_r7_index(size_t n, double p, size_t *lo, double *h);

/*! cqb_r7_interp() : R's type-7 value from the order statistics x_lo, x_hi:
 *  x_lo when h == 0 or x_hi == x_lo, else (1-h)*x_lo + h*x_hi (exactly R's
 *  expression). */
double cqb_r7_interp(double x_lo, double x_hi, double h);
/* The same, inline, for the bootstrap kernels' inner loops. The volatile
 * products keep R's two roundings whatever the caller's flags. */
static inline double cqb_r7_interp_inline(double x_lo, double x_hi, double h)
{
    if (h == 0.0 || x_hi == x_lo) return x_lo;
    volatile double a = (1.0 - h) * x_lo;
    volatile double b = h * x_hi;
    return a + b;
}

/*! cqb_order_rank() : for the order-statistic conventions (type 1, higher),
 *  the 1-based rank r such that q = x_(r); 0 for type 7. */
size_t cqb_order_rank(cqb_qconv c, size_t n, double p);

/*! cqb_quantile_sorted() : the convention's quantile of n ascending values. */
double cqb_quantile_sorted(cqb_qconv c, const double *sorted, size_t n, double p);

/*! cqb_quantile_r7() : R quantile(x, p) (type 7) of n unsorted values,
 *  using scratch (n doubles) for a partial sort; NaN when n == 0. */
double cqb_quantile_r7(const double *x, size_t n, double p, double *scratch);

/*! cqb_select_r7_inplace() : R quantile(a, p) (type 7) of n values, reordering
 *  a in place (Floyd-Rivest selection); NaN when n == 0. */
double cqb_select_r7_inplace(double *a, size_t n, double p);

/*! cqb_is_hit() : the convention's hit indicator for value x and quantile q. */
static inline int cqb_is_hit(int strict, double x, double q) { return strict ? x < q : x <= q; }

#ifdef __cplusplus
}
#endif
#endif
