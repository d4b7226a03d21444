/* cqboot/error.h — status codes and error messages shared by every module.
 *
 * Library functions never print and never exit: they return a cqb_status and,
 * on failure, fill a caller-provided cqb_error with one line of text that
 * names the file, line and column or the option at fault. The CLI maps the
 * status to its documented exit code (cqb_status_exit_code).
 */
#ifndef CQBOOT_ERROR_H
#define CQBOOT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cqb_status {
    CQB_OK = 0,
    CQB_EUSAGE = 1,   /* bad option or argument value (exit 2) */
    CQB_EDATA = 2,    /* unreadable or invalid input data (exit 3) */
    CQB_EBACKEND = 3, /* requested backend unavailable (exit 4) */
    CQB_ENOMEM = 4,   /* out of memory or other resource (exit 5) */
    CQB_EIO = 5,      /* cannot write an output file (exit 3) */
    CQB_EINTERNAL = 6 /* a bug: should never happen (exit 1) */
} cqb_status;

#define CQB_ERROR_MAX 512

typedef struct cqb_error {
    cqb_status status;
    char msg[CQB_ERROR_MAX];
} cqb_error;

/*! cqb_error_set() : formats a one-line message into err (if not NULL) and
 *  returns status, so callers can write `return cqb_error_set(err, ...);`. */
cqb_status cqb_error_set(cqb_error *err, cqb_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*! cqb_status_name() : a short constant name for a status ("data error", ...). */
const char *cqb_status_name(cqb_status status);

/*! cqb_status_exit_code() : the CLI exit code documented in docs/cli.md:
 *  0 ok, 1 internal, 2 usage, 3 data or file, 4 backend, 5 resources. */
int cqb_status_exit_code(cqb_status status);

#ifdef __cplusplus
}
#endif
#endif
