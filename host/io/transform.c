/* transform.c — level / logdiff / diff / pct transforms of a series. */
#include "cqboot/transform.h"

#include <math.h>
#include <string.h>

static const char *const TR_NAMES[] = {"level", "logdiff", "diff", "pct"};

cqb_status cqb_transform_parse(const char *s, cqb_transform *t)
{
    if (!s || !t) return CQB_EUSAGE;
    for (unsigned i = 0; i < sizeof TR_NAMES / sizeof TR_NAMES[0]; ++i) {
        if (strcmp(s, TR_NAMES[i]) == 0) {
            *t = (cqb_transform)i;
            return CQB_OK;
        }
    }
    return CQB_EUSAGE;
}

const char *cqb_transform_name(cqb_transform t)
{
    unsigned i = (unsigned)t;
    return i < sizeof TR_NAMES / sizeof TR_NAMES[0] ? TR_NAMES[i] : "?";
}

int cqb_transform_needs_prev(cqb_transform t)
{
    return t == CQB_TR_LOGDIFF || t == CQB_TR_DIFF || t == CQB_TR_PCT;
}

cqb_transform_result cqb_transform_step(cqb_transform t, double prev, double cur, double *out)
{
    double v;
    switch (t) {
    case CQB_TR_LOGDIFF:
        if (prev <= 0.0) return CQB_TRS_NONPOS_PREV;
        if (cur <= 0.0) return CQB_TRS_NONPOS_CUR;
        v = log(cur) - log(prev);
        break;
    case CQB_TR_DIFF:
        v = cur - prev;
        break;
    case CQB_TR_PCT:
        if (prev == 0.0) return CQB_TRS_ZERO_PREV;
        v = 100.0 * (cur / prev - 1.0);
        break;
    case CQB_TR_LEVEL:
    default:
        v = cur;
        break;
    }
    if (!isfinite(v)) return CQB_TRS_NONFINITE;
    *out = v;
    return CQB_TRS_OK;
}
