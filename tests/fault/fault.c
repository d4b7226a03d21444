/* fault.c — the counting wrappers of fault.h (test build only). */
#include "fault.h"
/* the wrappers call the real functions (fault.h is also forced in with
 * -include, so its macros are defined here) */
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef fopen
#undef mkstemp
#undef fflush
#undef fsync
#undef fclose
#undef rename
#undef mkdir

#include <errno.h>

static long g_alloc_k = -1, g_io_k = -1; /* the call to fail (1-based); -1: none */
static long g_alloc_n, g_io_n;           /* calls so far */
static int g_report;

static long env_k(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return -1;
    char *e;
    long k = strtol(s, &e, 10);
    return *e || k < 1 ? -1 : k;
}

static void report(void)
{
    if (g_report) fprintf(stderr, "cqb_fault: allocations %ld, output steps %ld\n", g_alloc_n, g_io_n);
}

__attribute__((constructor)) static void fault_init(void)
{
    g_alloc_k = env_k("CQB_FAULT_ALLOC");
    g_io_k = env_k("CQB_FAULT_IO");
    g_report = getenv("CQB_FAULT_REPORT") != NULL;
    if (g_report) atexit(report);
}

/* 1 when this allocation is the one to fail. */
static int alloc_fails(void)
{
    long n = __atomic_add_fetch(&g_alloc_n, 1, __ATOMIC_RELAXED);
    return n == g_alloc_k;
}

static int io_fails(int err)
{
    long n = __atomic_add_fetch(&g_io_n, 1, __ATOMIC_RELAXED);
    if (n != g_io_k) return 0;
    errno = err;
    return 1;
}

void *cqb_fault_malloc(size_t n) { return alloc_fails() ? NULL : malloc(n); }

void *cqb_fault_calloc(size_t a, size_t b) { return alloc_fails() ? NULL : calloc(a, b); }

void *cqb_fault_realloc(void *p, size_t n) { return alloc_fails() ? NULL : realloc(p, n); }

char *cqb_fault_strdup(const char *s) { return alloc_fails() ? NULL : strdup(s); }

FILE *cqb_fault_fopen(const char *path, const char *mode)
{
    if (strpbrk(mode, "wa+") && io_fails(ENOSPC)) return NULL;
    return fopen(path, mode);
}

int cqb_fault_mkstemp(char *tmpl) { return io_fails(ENOSPC) ? -1 : mkstemp(tmpl); }

int cqb_fault_fflush(FILE *f) { return io_fails(ENOSPC) ? EOF : fflush(f); }

int cqb_fault_fsync(int fd) { return io_fails(EIO) ? -1 : fsync(fd); }

int cqb_fault_fclose(FILE *f)
{
    int rc = fclose(f); /* closed either way, as a failing fclose does */
    if (io_fails(EIO)) return EOF;
    return rc;
}

int cqb_fault_rename(const char *from, const char *to) { return io_fails(EIO) ? -1 : rename(from, to); }

int cqb_fault_mkdir(const char *path, mode_t mode) { return io_fails(ENOSPC) ? -1 : mkdir(path, mode); }
