/* cqboot/transform.h — per-column transforms applied to a data series before
 * analysis (cqb_frame_select in frame.h applies them).
 *
 *   level    x_t                               (no previous value needed)
 *   logdiff  log(x_t) - log(x_{t-1})           (both must be > 0)
 *   diff     x_t - x_{t-1}
 *   pct      100 * (x_t / x_{t-1} - 1)         (x_{t-1} must be != 0)
 *
 * The formulas are evaluated exactly as written (no log1p, no fused
 * multiply-add), so a caller can reproduce a value bit for bit.
 */
#ifndef CQBOOT_TRANSFORM_H
#define CQBOOT_TRANSFORM_H

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_transform {
    CQB_TR_LEVEL = 0,
    CQB_TR_LOGDIFF = 1,
    CQB_TR_DIFF = 2,
    CQB_TR_PCT = 3
} cqb_transform;

/*! Outcome of one transform step (cqb_transform_step). */
typedef enum cqb_transform_result {
    CQB_TRS_OK = 0,
    CQB_TRS_NONPOS_CUR,  /* logdiff: x_t <= 0 */
    CQB_TRS_NONPOS_PREV, /* logdiff: x_{t-1} <= 0 */
    CQB_TRS_ZERO_PREV,   /* pct: x_{t-1} == 0 */
    CQB_TRS_NONFINITE    /* the result is not finite (overflow) */
} cqb_transform_result;

/*! cqb_transform_parse() : "level", "logdiff", "diff" or "pct" (exact,
 *  lowercase) into *t. Returns CQB_EUSAGE, leaving *t alone, for anything
 *  else (including NULL). */
cqb_status cqb_transform_parse(const char *s, cqb_transform *t);

/*! cqb_transform_name() : the name cqb_transform_parse accepts ("?" if t is
 *  out of range). */
const char *cqb_transform_name(cqb_transform t);

/*! cqb_transform_needs_prev() : 1 for logdiff, diff and pct (they use the
 *  previous row), 0 for level. */
int cqb_transform_needs_prev(cqb_transform t);

/*! cqb_transform_step() : *out = the transform of cur given the previous
 *  value prev (ignored for level). Inputs must be finite. *out is written
 *  only when the result is CQB_TRS_OK. */
cqb_transform_result cqb_transform_step(cqb_transform t, double prev, double cur, double *out);

#ifdef __cplusplus
}
#endif
#endif
