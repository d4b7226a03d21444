/* testdata.h — test-only loaders for the oracle CSV files in tests/data
 * (cross-quantilogram.md §6.1). Linked into every test executable.
 *
 * The files are plain CSV with a header row; header fields and the first
 * (date) column may be double-quoted ("date","Market",...). Numbers are
 * parsed with strtod, which rounds correctly, so values round-trip exactly.
 * On any failure (missing file, unknown column, unparsable or non-finite
 * value, out of memory) the helpers abort the current Criterion test with a
 * message naming the file, line and column.
 */
#ifndef CQB_TESTS_TESTDATA_H
#define CQB_TESTS_TESTDATA_H

#include <stddef.h>

/*! td_data_path() : writes CQB_TEST_DATA "/" file_name into buf (size cap)
 *  and returns buf; aborts the test if it does not fit. */
char *td_data_path(const char *file_name, char *buf, size_t cap);

/*! td_load_column() : reads the column named `column` (matched after
 *  removing surrounding double quotes from the header field) of the CSV
 *  file CQB_TEST_DATA/file_name, one value per data row in file order.
 *  Returns a malloc'd array (free() it) and stores the row count in *n. */
double *td_load_column(const char *file_name, const char *column, size_t *n);

/*! td_logdiff() : log returns of a price series p[0..n-1]:
 *  out[i] = log(p[i+1]) - log(p[i]) for i = 0..n-2 (n-1 values; nothing is
 *  written when n < 2). out must not alias p. */
void td_logdiff(const double *p, size_t n, double *out);

/*! td_sysrisk() : the derived series of cross-quantilogram.md §6.1 from
 *  quantilogram_sys_risk.csv: JPM log return, Market[-1] and dVIX, each of
 *  *T = 5505 values (malloc'd; free() them; any pointer may be NULL). */
void td_sysrisk(double **jpm, double **mkt, double **dvix, size_t *T);

/*! td_slurp() : the whole file at path, NUL-terminated (malloc'd; free()
 *  it), or NULL when it cannot be opened; aborts the test when it cannot be
 *  read completely. Reads to the end (pipes and special files too). */
char *td_slurp(const char *path);
/*! td_read() : td_slurp(), and the number of bytes in *len (the file may
 *  hold NUL bytes); len may be NULL. */
char *td_read(const char *path, size_t *len);
/*! td_write() : writes text to path (created or truncated); aborts the test
 *  when it cannot. */
void td_write(const char *path, const char *text);

/*! td_remove_tree() : removes path, and everything under it when it is a
 *  directory (symbolic links are removed, not followed). For the tests'
 *  own temporary folders only. */
void td_remove_tree(const char *path);

#endif
