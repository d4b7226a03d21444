/* error.c — one place where errors are formatted (one breakpoint, as GSL's
 * design note advises). */
#include "cqboot/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cqb_status cqb_error_set(cqb_error *err, cqb_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* Keep messages on one line whatever the caller passed in. */
        for (char *p = err->msg; *p; ++p)
            if (*p == '\n' || *p == '\r') *p = ' ';
        err->status = status;
    }
    return status;
}

const char *cqb_status_name(cqb_status status)
{
    switch (status) {
    case CQB_OK: return "ok";
    case CQB_EUSAGE: return "usage error";
    case CQB_EDATA: return "data error";
    case CQB_EBACKEND: return "backend unavailable";
    case CQB_ENOMEM: return "out of resources";
    case CQB_EIO: return "output error";
    case CQB_EINTERNAL: return "internal error";
    }
    return "unknown error";
}

int cqb_status_exit_code(cqb_status status)
{
    switch (status) {
    case CQB_OK: return 0;
    case CQB_EUSAGE: return 2;
    case CQB_EDATA: return 3;
    case CQB_EIO: return 3;
    case CQB_EBACKEND: return 4;
    case CQB_ENOMEM: return 5;
    case CQB_EINTERNAL: return 1;
    }
    return 1;
}
