/* span.c — rolling, recursive and calendar-year sample windows. */
#include "cqboot/span.h"

#include <stdlib.h>

cqb_status cqb_spans_rows(size_t T, size_t len, size_t step, int recursive, cqb_span **out, size_t *n,
                            cqb_error *err)
{
    *out = NULL;
    *n = 0;
    if (len < 2 || len > T)
        return cqb_error_set(err, CQB_EUSAGE, "--window: %zu rows is not between 2 and the sample's %zu rows", len, T);
    if (step < 1) return cqb_error_set(err, CQB_EUSAGE, "--step: must be at least 1");
    size_t cnt = (T - len) / step + 1;
    cqb_span *w = malloc(cnt * sizeof *w);
    if (!w) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    for (size_t i = 0; i < cnt; ++i) {
        w[i].begin = recursive ? 0 : i * step;
        w[i].end = (recursive ? 0 : i * step) + len + (recursive ? i * step : 0);
    }
    *out = w;
    *n = cnt;
    return CQB_OK;
}

cqb_status cqb_spans_years(const int32_t *keys, size_t T, int years, int step, int recursive, size_t min_rows,
                             cqb_span **out, size_t *n, cqb_error *err)
{
    *out = NULL;
    *n = 0;
    if (years < 1) return cqb_error_set(err, CQB_EUSAGE, "--window-years: must be at least 1");
    if (step < 1) return cqb_error_set(err, CQB_EUSAGE, "--step: must be at least 1");
    if (T == 0) return cqb_error_set(err, CQB_EUSAGE, "no rows");
    int y0 = keys[0] / 10000, y1 = keys[T - 1] / 10000;
    size_t cap = (size_t)((y1 - y0) / step + 1);
    cqb_span *w = malloc(cap * sizeof *w);
    if (!w) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    size_t cnt = 0;
    for (int ys = y0; ys <= y1; ys += step) {
        int from = recursive ? y0 : ys;
        int to = ys + years - 1; /* inclusive */
        if (to > y1) break;
        size_t b = 0, e = 0;
        while (b < T && keys[b] / 10000 < from) ++b;
        e = b;
        while (e < T && keys[e] / 10000 <= to) ++e;
        if (e - b >= min_rows && e - b >= 2) {
            w[cnt].begin = b;
            w[cnt].end = e;
            ++cnt;
        }
    }
    if (cnt == 0) {
        free(w);
        return cqb_error_set(err, CQB_EUSAGE, "--window-years %d: no window of whole years with at least %zu rows",
                             years, min_rows);
    }
    *out = w;
    *n = cnt;
    return CQB_OK;
}
