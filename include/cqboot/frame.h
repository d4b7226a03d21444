/* cqboot/frame.h — the input layer: a CSV data set read into a frame, and the
 * analysis matrix selected from it (columns, transforms, date range).
 *
 * INPUT FORMAT (cqb_frame_read)
 * - Dialect (cqb_read_opts; docs/input.md): fields are separated by ','
 *   (or ';', tab or '|' when asked), numbers use '.' (or ',' when asked).
 *   A header of one field holding another separator is refused, naming the
 *   option that reads it (`--sep ';'`); a non-numeric cell such as 1,5 is
 *   reported with `(a decimal comma? read the file with --decimal ,)`.
 * - Comma-separated, RFC 4180 quoting: a field may be double-quoted, may then
 *   hold commas, newlines and "" (a literal quote). Spaces before an opening
 *   or after a closing quote are ignored. A UTF-8 BOM at the start is skipped.
 *   Lines end in LF, CRLF or CR. Blank lines, and rows whose fields are all
 *   empty (spreadsheet exports end with such rows), are skipped.
 * - The first row is the header. Its first field names the index column;
 *   the others name the data columns. Empty-named trailing header fields
 *   (a trailing comma) are ignored, together with those fields in the rows.
 *   Header names have surrounding spaces removed. Two columns with the same
 *   non-empty name are an error. A column with an empty name in the middle is
 *   kept but cannot be selected.
 * - Every row has as many fields as the header (rows may leave out the
 *   ignored empty-named trailing fields).
 * - The first column is a date or an index label. Date formats (month and
 *   day may have one digit; years have four): YYYY-MM-DD, YYYY-MM,
 *   YYYY/MM/DD, YYYY/MM, MM/YYYY, YYYYMmm (2020M01), YYYYQq (2020Q1, the
 *   quarter's first month), Mon YYYY (Jan 2020, January 2020, any case),
 *   DD/MM/YYYY and MM/DD/YYYY. When every row holds a valid date of one
 *   format, the frame has a date column (cqb_frame_date_kind !=
 *   CQB_DATE_NONE): dates must then strictly increase down the file. A
 *   column that fits both DD/MM/YYYY and MM/DD/YYYY (no day above 12) is
 *   refused (CQB_EDATA, naming --date-format): the reader never guesses.
 *   cqb_read_opts.date_format forces a format (every row must fit it).
 *   Otherwise the column is an index: its labels are kept as text, the rows
 *   keep file order, and cqb_frame_notes says so.
 * - Cells: surrounding spaces are ignored; empty, NA, NaN, nan and . are
 *   missing; anything else must be a whole number for strtod; a number that
 *   is not finite (Inf, -Inf, 1e999, ...) is "non-finite". Missing, non-
 *   numeric and non-finite cells are recorded, not reported: only the cells
 *   a selection uses are checked (cqb_frame_select).
 * - Read errors (CQB_EDATA, one line, FILE is the path as given):
 *     FILE: cannot open: REASON          FILE: read error: REASON
 *     FILE:1: no header row              FILE:1: header has no data columns
 *     FILE:1: duplicate column name 'X' (cols I and J)
 *     FILE:LINE: expected N fields, found M
 *     FILE:LINE: unterminated quoted field
 *     FILE:LINE: unexpected character 'c' after a closing quote
 *     FILE:LINE: NUL byte in the file (not a text CSV file?)
 *     FILE:LINE: duplicate date 'D' (first at line L)
 *     FILE:LINE: date 'D' is before the previous date 'P' (line L); ...
 *     FILE: no data rows
 *   Column positions "col J" count fields of the file from 1 (the index
 *   column is col 1). LINE is the 1-based line where the row starts.
 *
 * SELECTION (cqb_frame_select)
 * 1. Columns are looked up by exact name, in the order given (the same
 *    column may be selected twice). Unknown name -> CQB_EUSAGE
 *    `FILE: unknown column 'X' (available: a, b, c, ...)`.
 * 2. Each column's transform is computed on the full file series: row r uses
 *    file row r-1 (whatever the range). When any selected column has a
 *    differencing transform (logdiff, diff, pct) the first file row has no
 *    value and is dropped for all columns, so the columns stay aligned.
 * 3. Rows are then restricted to [from, to], inclusive, compared as yyyymmdd
 *    keys; a bound is read in the file's own format first, else in any. A
 *    monthly (quarterly) bound covers the whole month (quarter). A YYYY-MM bound covers the whole month: from=1996-01 starts at
 *    1996-01-01, to=2023-12 ends at 2023-12-31. A monthly (YYYY-MM) file's
 *    rows have day 1. from/to need a date column: otherwise CQB_EUSAGE
 *    `FILE: --from needs a date column (...)`. An unparsable bound, or from
 *    after to, is CQB_EUSAGE.
 * 4. Only the cells used (selected columns, selected rows, and the previous
 *    row of a differencing transform) are checked, CQB_EDATA:
 *      FILE:LINE: missing value in column 'X' (col J)
 *      FILE:LINE: column 'X' (col J): non-numeric value 'abc'
 *      FILE:LINE: column 'X' (col J): non-finite value 'Inf'
 *    (for a previous row: `..., needed by the logdiff at line L` is added)
 *      FILE:LINE: column 'X' (col J): non-positive value V for logdiff
 *      FILE:LINE: column 'X' (col J): zero value, pct at line L divides by it
 *      FILE:LINE: column 'X' (col J): diff gives a non-finite value
 *    Errors are reported for the first offending cell in file order.
 * 5. No rows left -> CQB_EDATA `FILE: no rows between FROM and TO`. A
 *    selected column whose values over the selected rows are all equal ->
 *    CQB_EDATA `FILE: column 'X' is constant over the selected rows`.
 *
 * Every function returns CQB_ENOMEM on allocation failure, leaking nothing.
 */
#ifndef CQBOOT_FRAME_H
#define CQBOOT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/hash.h"
#include "cqboot/transform.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_frame cqb_frame; /* opaque */

/*! What the first column holds. */
typedef enum cqb_date_kind {
    CQB_DATE_NONE = 0, /* an index: labels kept as text, file order */
    CQB_DATE_YM = 1,   /* YYYY-MM (key day = 01) */
    CQB_DATE_YMD = 2,  /* YYYY-MM-DD */
    CQB_DATE_DMY = 3,  /* DD/MM/YYYY */
    CQB_DATE_MDY = 4,  /* MM/DD/YYYY */
    CQB_DATE_Y_M = 5,  /* YYYY/MM (day 01) */
    CQB_DATE_M_Y = 6,  /* MM/YYYY (day 01) */
    CQB_DATE_YMON = 7, /* YYYYMmm, e.g. 2020M01 (day 01) */
    CQB_DATE_YQ = 8,   /* YYYYQq, e.g. 2020Q1 (first month of the quarter, day 01) */
    CQB_DATE_MON_Y = 9, /* Mon YYYY, e.g. Jan 2020 (day 01) */
    CQB_DATE_Y_M_D = 10, /* YYYY/MM/DD */
    CQB_DATE_Y = 11     /* YYYY, a year (month and day 01); detected only when the
                           years strictly increase (else the column is an index) */
} cqb_date_kind;

/*! How to read a CSV file; a zeroed struct (or NULL) is the default. */
typedef struct cqb_read_opts {
    char sep;                  /* ',' (0 = ','), ';', '\t' or '|' */
    char decimal;              /* '.' (0 = '.') or ',' */
    cqb_date_kind date_format; /* CQB_DATE_NONE: detect */
} cqb_read_opts;

/*! State of one cell of a data column. */
typedef enum cqb_cell {
    CQB_CELL_OK = 0,
    CQB_CELL_MISSING = 1,  /* empty, NA, NaN, nan or . */
    CQB_CELL_BAD = 2,      /* text that is not a number */
    CQB_CELL_NONFINITE = 3 /* a number that is not finite (Inf, 1e999) */
} cqb_cell;

/*! cqb_frame_read() : reads the CSV file at path (format above) into *out
 *  (free with cqb_frame_free). On failure *out is NULL and err holds one
 *  line. The file's SHA-256 is computed from the same bytes. */
cqb_status cqb_frame_read(const char *path, cqb_frame **out, cqb_error *err);

/* The default bound of cqb_frame_read: 1 GiB. */
#define CQB_FRAME_MAX_INPUT_DEFAULT ((uint64_t)1 << 30)

/*! cqb_frame_read_limited() : as cqb_frame_read_opts (opts may be NULL),
 *  reading at most max_bytes
 *  (0: CQB_FRAME_MAX_INPUT_DEFAULT) and polling *cancel (may be NULL)
 *  between reads, so an endless input (/dev/zero, a pipe) neither fills the
 *  memory nor ignores an interrupt. path "-" is standard input. Reading stops
 *  at the first chunk holding a NUL byte (the parser rejects the file there).
 *  Beyond the bound: CQB_EDATA `FILE: larger than the input limit of N bytes
 *  (--max-input)`; on cancel: CQB_EUSAGE "interrupted". */
cqb_status cqb_frame_read_limited(const char *path, const struct cqb_read_opts *opts, uint64_t max_bytes,
                                  volatile int *cancel, cqb_frame **out, cqb_error *err);

/*! cqb_frame_read_buffer() : as cqb_frame_read, from n bytes in memory;
 *  name stands for the file in messages and cqb_frame_path. */
cqb_status cqb_frame_read_buffer(const char *name, const char *data, size_t n,
                                 cqb_frame **out, cqb_error *err);

/*! cqb_frame_read_opts(), cqb_frame_read_buffer_opts() : as above, with a
 *  dialect and date format (opts may be NULL). */
cqb_status cqb_frame_read_opts(const char *path, const cqb_read_opts *opts, cqb_frame **out,
                               cqb_error *err);
cqb_status cqb_frame_read_buffer_opts(const char *name, const char *data, size_t n,
                                      const cqb_read_opts *opts, cqb_frame **out, cqb_error *err);

/*! cqb_frame_notes() : what the reader decided that the user should hear
 *  (the first column taken as an index, a header of numbers taken as the
 *  header), one line each, "" if nothing. */
const char *cqb_frame_notes(const cqb_frame *f);

/*! cqb_date_format_name() : "YYYY-MM-DD", ... for a kind ("index" for
 *  CQB_DATE_NONE); cqb_date_format_parse() : the reverse (any case; "auto"
 *  gives CQB_DATE_NONE), CQB_EUSAGE if unknown. */
const char *cqb_date_format_name(cqb_date_kind k);
cqb_status cqb_date_format_parse(const char *s, cqb_date_kind *k);

/*! cqb_parse_date_as() : parses s in format k only. */
cqb_status cqb_parse_date_as(const char *s, cqb_date_kind k, int32_t *key);

/*! cqb_date_period_end() : the last yyyymmdd key (day 31 allowed) of the
 *  month or quarter that key starts, for the monthly and quarterly kinds;
 *  key itself for the daily ones. */
int32_t cqb_date_period_end(int32_t key, cqb_date_kind k);

/*! cqb_frame_free() : frees a frame (NULL is a no-op). */
void cqb_frame_free(cqb_frame *f);

/*! Rows (data rows, header excluded) and data columns (index excluded). */
size_t cqb_frame_rows(const cqb_frame *f);
size_t cqb_frame_cols(const cqb_frame *f);

/*! cqb_frame_col_name() : name of data column j (0-based, j < cols), or NULL
 *  if j is out of range. Data column j is field j + 2 of the file. */
const char *cqb_frame_col_name(const cqb_frame *f, size_t j);

/*! cqb_frame_find_col() : the data column called name, or -1 if none (an
 *  empty name never matches). */
int cqb_frame_find_col(const cqb_frame *f, const char *name);

/*! cqb_frame_path() : the path (or name) the frame was read from. */
const char *cqb_frame_path(const cqb_frame *f);

/*! cqb_frame_index_name() : the header name of the first column (may be ""). */
const char *cqb_frame_index_name(const cqb_frame *f);

/*! cqb_frame_date_kind() : the format of the first column, or CQB_DATE_NONE
 *  when it is an index. */
cqb_date_kind cqb_frame_date_kind(const cqb_frame *f);

/*! cqb_frame_label() : first-column text of row i, as written (without
 *  quotes or surrounding spaces); NULL if i is out of range. */
const char *cqb_frame_label(const cqb_frame *f, size_t i);

/*! cqb_frame_date_key() : yyyymmdd key of row i (0 for an index frame or an
 *  out-of-range i). */
int32_t cqb_frame_date_key(const cqb_frame *f, size_t i);

/*! cqb_frame_line() : the 1-based file line where row i starts (0 if out of
 *  range). */
size_t cqb_frame_line(const cqb_frame *f, size_t i);

/*! cqb_frame_cell() : state of the cell at row i, data column j; when it is
 *  CQB_CELL_OK and v is not NULL, *v is its value. Out of range: MISSING. */
cqb_cell cqb_frame_cell(const cqb_frame *f, size_t i, size_t j, double *v);

/*! cqb_frame_sha256() : SHA-256 of the bytes read, 64 lowercase hex digits. */
const char *cqb_frame_sha256(const cqb_frame *f);

/*! cqb_parse_date() : parses a date in any of the formats into a yyyymmdd
 *  key (day 1 for monthly forms); surrounding spaces are allowed. NN/NN/YYYY
 *  is DD/MM/YYYY when both fit (bounds only; a frame never guesses).
 *  Returns CQB_EUSAGE (leaving *key alone) when s is not a valid date. */
cqb_status cqb_parse_date(const char *s, int32_t *key);

/*! cqb_parse_date_kind() : as cqb_parse_date, also giving the format (kind
 *  may be NULL). */
cqb_status cqb_parse_date_kind(const char *s, int32_t *key, cqb_date_kind *kind);

/*! The analysis matrix: selected columns, transformed, restricted to the
 *  range. Everything is owned by the set (free with cqb_series_set_free). */
typedef struct cqb_series_set {
    size_t T, k;             /* rows, columns */
    double *x;               /* column-major: x[j*T + t] */
    char **names;            /* k column names */
    char **labels;           /* T row labels (first-column text as in the file) */
    const char *first_label; /* = labels[0] (not separately allocated) */
    const char *last_label;  /* = labels[T-1] (not separately allocated) */
    size_t *lines;           /* T source line numbers (1-based) */
    int32_t *keys;           /* T yyyymmdd date keys; NULL for an index frame */
    cqb_date_kind date_kind; /* the frame's date kind */
} cqb_series_set;

typedef struct cqb_select_spec {
    const char *const *cols; /* ncols column names, in order */
    size_t ncols;
    const cqb_transform *tr; /* ncols transforms; NULL = all level */
    const char *from, *to;   /* NULL = open; formats as cqb_parse_date */
} cqb_select_spec;

/*! cqb_frame_select() : builds the analysis matrix (semantics above). On
 *  failure *out is all zero (nothing to free) and err holds one line. */
cqb_status cqb_frame_select(const cqb_frame *f, const cqb_select_spec *s,
                            cqb_series_set *out, cqb_error *err);

/*! cqb_series_set_free() : frees what the set owns and zeroes it (a zeroed
 *  set or NULL is a no-op). */
void cqb_series_set_free(cqb_series_set *s);

#ifdef __cplusplus
}
#endif
#endif
