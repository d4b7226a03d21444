/* report.h — figures, report.md and index.html of a study (private to the
 * CLI). */
#ifndef CQBOOT_REPORT_H
#define CQBOOT_REPORT_H

#include <cjson/cJSON.h>

#include "cqboot/error.h"

/*! report_write() : draws every analysis's figures (PNG and SVG) into
 *  outdir when figures is nonzero, and writes outdir/report.md and
 *  outdir/index.html from the study's results object (as results.json holds
 *  it, without timings). Adds to each analysis entry a "figures" array of the
 *  figure base names (empty without figures). */
cqb_status report_write(const char *outdir, cJSON *results, int figures, cqb_error *err);

#endif
