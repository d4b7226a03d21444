/* cqboot/span.h — rolling and recursive sample windows (spans of rows).
 *
 * A window is a range of rows [begin, end) of the analysed sample. Rolling
 * windows have a fixed length and move by a step; recursive (expanding)
 * windows all start at row 0 and grow by the step from the first length.
 * Calendar-year windows use the rows' dates: a window covers whole calendar
 * years Y .. Y+years-1 and moves by step years (the first and last years may
 * be partial in the data; a window with fewer rows than min_rows is
 * dropped).
 */
#ifndef CQBOOT_SPAN_H
#define CQBOOT_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_span {
    size_t begin, end; /* rows [begin, end) */
} cqb_span;

/*! cqb_spans_rows() : windows of len rows every step rows over T rows
 *  (recursive: [0, len), [0, len+step), ...); the last window ends at or
 *  before T. Returns CQB_EUSAGE when len < 2, len > T or step < 1. The
 *  array is malloc'd (free it). */
cqb_status cqb_spans_rows(size_t T, size_t len, size_t step, int recursive, cqb_span **out, size_t *n,
                            cqb_error *err);

/*! cqb_spans_years() : windows of `years` calendar years every `step`
 *  years, from the rows' yyyymmdd keys (ascending); windows with fewer than
 *  min_rows rows are dropped. */
cqb_status cqb_spans_years(const int32_t *keys, size_t T, int years, int step, int recursive, size_t min_rows,
                             cqb_span **out, size_t *n, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
