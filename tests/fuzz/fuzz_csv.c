/* fuzz_csv.c — the CSV reader (cqb_frame_read_buffer_opts) and the
 * selection (cqb_frame_select) on arbitrary bytes.
 * Input: byte 0 picks the dialect and date format, byte 1 the columns,
 * transforms and date range; the rest is the file. */
#include <stdlib.h>
#include <string.h>

#include "cqboot/frame.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const uint8_t o = data[0], s = data[1];
    static const char SEPS[4] = {',', ';', '\t', '|'};
    cqb_read_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.sep = SEPS[o & 3];
    ro.decimal = (o & 4) ? ',' : '.';
    ro.date_format = (cqb_date_kind)((o >> 3) % 11);
    cqb_frame *f = NULL;
    cqb_error err;
    if (cqb_frame_read_buffer_opts("fuzz.csv", (const char *)data + 2, size - 2, &ro, &f, &err) != CQB_OK) return 0;
    (void)cqb_frame_notes(f);
    const size_t rows = cqb_frame_rows(f), ncols = cqb_frame_cols(f);
    for (size_t i = 0; i < rows; ++i) {
        double v;
        (void)cqb_frame_label(f, i);
        (void)cqb_frame_date_key(f, i);
        for (size_t j = 0; j < ncols; ++j) (void)cqb_frame_cell(f, i, j, &v);
    }
    /* up to three columns, with transforms, and a range from the labels */
    const char *cols[3];
    cqb_transform tr[3];
    size_t k = 0;
    for (size_t j = 0; j < ncols && k < 3; ++j) {
        cols[k] = cqb_frame_col_name(f, (j + (s & 3)) % ncols);
        tr[k] = (cqb_transform)((s >> (2 + 2 * k)) & 3);
        k++;
    }
    if (k == 0) {
        cqb_frame_free(f);
        return 0;
    }
    cqb_select_spec sp = {cols, k, tr, NULL, NULL};
    if (s & 0x40 && rows > 1) sp.from = cqb_frame_label(f, 1);
    if (s & 0x80 && rows > 2) sp.to = cqb_frame_label(f, rows - 2);
    cqb_series_set set;
    if (cqb_frame_select(f, &sp, &set, &err) == CQB_OK) cqb_series_set_free(&set);
    cqb_frame_free(f);
    return 0;
}
