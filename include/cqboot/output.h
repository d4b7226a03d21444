/* cqboot/output.h — safe output files, shared by the command line and the
 * figures (docs/safety.md).
 *
 * What an output path names decides how it is written:
 *   "-"                    standard output;
 *   a regular file, or a   a temporary file TARGET.tmp.XXXXXX in the same
 *   path that does not     directory, renamed over the target only when
 *   exist yet              everything was written (atomic: readers see the
 *                          old file or the whole new one, never a part);
 *   a symbolic link        the link is resolved and its final target is
 *                          written as above (the link stays a link);
 *   a character device,    written directly, never replaced (/dev/null
 *   a FIFO or a socket     stays /dev/null); /dev/stdout, /dev/stderr,
 *                          /dev/fd/N and /proc/self/fd/N are the process's
 *                          own descriptors;
 *   a directory or a       refused (CQB_EIO / CQB_EUSAGE).
 *   block device
 * Direct and standard-output outputs are collected in memory and written
 * when committed, so a failed or interrupted run writes nothing anywhere.
 *
 * Inputs are protected: cqb_output_protect() registers a file the process
 * reads, and any later cqb_output_open() of the same file (same device and
 * inode, or the same resolved path) is refused with CQB_EUSAGE, so results
 * never replace data. The registry is process-wide and not thread-safe:
 * register inputs before the work starts.
 */
#ifndef CQBOOT_OUTPUT_H
#define CQBOOT_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_output_kind {
    CQB_OUTPUT_NONE = 0,   /* not open */
    CQB_OUTPUT_ATOMIC = 1, /* temporary file renamed over the target */
    CQB_OUTPUT_DIRECT = 2, /* device, FIFO, socket or an inherited descriptor */
    CQB_OUTPUT_STDOUT = 3  /* "-" */
} cqb_output_kind;

typedef struct cqb_output {
    cqb_output_kind kind;
    FILE *f;        /* write here (between open and finish) */
    char *path;     /* as given */
    char *target;   /* atomic: the file renamed over; direct: the path opened */
    char *tmp;      /* atomic: the temporary file */
    char *buf;      /* direct/stdout: the collected bytes */
    size_t len;
    int fd;         /* direct: a descriptor of the process to write (or -1) */
    int sock;       /* direct: the target is a socket */
    int finished;
} cqb_output;

/*! cqb_output_open() : prepares the output `path` (see above); what names it
 *  in messages ("--json", "figure"). Errors: CQB_EUSAGE (the path is a
 *  protected input, a block device), CQB_EIO (directory, cannot create),
 *  CQB_ENOMEM. */
cqb_status cqb_output_open(cqb_output *o, const char *path, const char *what, cqb_error *err);

/*! cqb_output_finish() : flushes, syncs and closes the temporary file (atomic)
 *  or checks the collected bytes (direct/stdout); no-op once finished. */
cqb_status cqb_output_finish(cqb_output *o, cqb_error *err);

/*! cqb_output_commit() : finishes if needed, then renames the temporary file
 *  over the target (atomic) or writes the collected bytes (direct/stdout).
 *  Finish every output before committing any. Aborts the output on failure. */
cqb_status cqb_output_commit(cqb_output *o, cqb_error *err);

/*! cqb_output_abort() : discards the output (removes the temporary file);
 *  safe to repeat and on a zeroed struct. */
void cqb_output_abort(cqb_output *o);

/*! cqb_output_protect() : registers an input file: outputs may not replace
 *  it. "-" and NULL are ignored. Returns 0, or -1 when out of memory. */
int cqb_output_protect(const char *path);

/*! cqb_output_protected() : the registered input that path would replace,
 *  or NULL. */
const char *cqb_output_protected(const char *path);

/*! cqb_output_unprotect_all() : empties the registry. */
void cqb_output_unprotect_all(void);

/*! cqb_same_file() : 1 when a and b name the same existing file (same device
 *  and inode) or resolve to the same path (a file that does not exist yet),
 *  else 0. "-" is never the same as anything. */
int cqb_same_file(const char *a, const char *b);

/*! cqb_output_is_temp_name() : 1 when a directory entry's name is a
 *  temporary file of cqb_output_open ("NAME.tmp.XXXXXX") or of an earlier
 *  version's figures (".NAME.tmpPID.N"): a leftover of a killed process. */
int cqb_output_is_temp_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
