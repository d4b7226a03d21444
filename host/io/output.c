/* output.c — safe output files (cqboot/output.h): atomic replacement of
 * regular files, direct writes to devices, FIFOs and sockets, standard
 * output, and the registry of inputs that no output may replace. */
/* realpath() is XSI */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "cqboot/output.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ------------------------------------------------------------------------- */
/* Paths                                                                      */
/* ------------------------------------------------------------------------- */

/* The path of the file a symbolic link chain ends at, whether or not that
 * file exists (malloc'd), or NULL (out of memory, a loop). */
static char *follow_links(const char *path)
{
    char *cur = strdup(path);
    for (int hop = 0; cur && hop < 40; ++hop) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) return cur;
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) return cur;
        link[n] = 0;
        char *next;
        if (link[0] == '/') {
            next = strdup(link);
        } else {
            const char *slash = strrchr(cur, '/');
            size_t dl = slash ? (size_t)(slash - cur) + 1 : 0;
            next = malloc(dl + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, dl);
                memcpy(next + dl, link, (size_t)n + 1);
            }
        }
        free(cur);
        cur = next;
    }
    free(cur);
    return NULL;
}

/* The absolute path of `path` with its directory resolved (the file itself
 * need not exist); malloc'd, or NULL. */
static char *resolve(const char *path)
{
    char *r = realpath(path, NULL);
    if (r) return r;
    char *f = follow_links(path);
    if (!f) return NULL;
    const char *slash = strrchr(f, '/');
    const char *base = slash ? slash + 1 : f;
    char *dir = slash ? strndup(f, (size_t)(slash - f) + (slash == f)) : strdup(".");
    char *rd = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    char *out = NULL;
    if (rd) {
        size_t n = strlen(rd) + strlen(base) + 2;
        out = malloc(n);
        if (out) snprintf(out, n, "%s%s%s", rd, strcmp(rd, "/") ? "/" : "", base);
        free(rd);
    } else {
        out = strdup(f);
    }
    free(f);
    return out;
}

int cqb_same_file(const char *a, const char *b)
{
    if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-")) return 0;
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb) return 0;
    char *ra = resolve(a), *rb = resolve(b);
    int same = ra && rb && !strcmp(ra, rb);
    free(ra);
    free(rb);
    return same;
}

/* ------------------------------------------------------------------------- */
/* Protected inputs                                                           */
/* ------------------------------------------------------------------------- */

static char **g_prot;
static size_t g_nprot, g_capprot;

int cqb_output_protect(const char *path)
{
    if (!path || !*path || !strcmp(path, "-")) return 0;
    /* only files can be destroyed by an output: a device or a pipe read as
     * input (/dev/stdin) may well be written too */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) return 0;
    for (size_t i = 0; i < g_nprot; ++i)
        if (!strcmp(g_prot[i], path)) return 0;
    if (g_nprot == g_capprot) {
        size_t cap = g_capprot ? 2 * g_capprot : 8;
        char **p = realloc(g_prot, cap * sizeof *p);
        if (!p) return -1;
        g_prot = p;
        g_capprot = cap;
    }
    char *dup = strdup(path);
    if (!dup) return -1;
    g_prot[g_nprot++] = dup;
    return 0;
}

const char *cqb_output_protected(const char *path)
{
    for (size_t i = 0; i < g_nprot; ++i)
        if (cqb_same_file(path, g_prot[i])) return g_prot[i];
    return NULL;
}

void cqb_output_unprotect_all(void)
{
    for (size_t i = 0; i < g_nprot; ++i) free(g_prot[i]);
    free(g_prot);
    g_prot = NULL;
    g_nprot = g_capprot = 0;
}

int cqb_output_is_temp_name(const char *name)
{
    if (!name) return 0;
    size_t n = strlen(name);
    /* NAME.tmp.XXXXXX (mkstemp) */
    if (n > 11 && !memcmp(name + n - 11, ".tmp.", 5)) {
        int ok = 1;
        for (size_t i = n - 6; i < n; ++i) ok &= isalnum((unsigned char)name[i]) != 0;
        if (ok) return 1;
    }
    /* .NAME.tmpPID.N (figures of earlier versions) */
    if (name[0] == '.') {
        const char *t = strstr(name, ".tmp");
        while (t) {
            const char *p = t + 4;
            if (isdigit((unsigned char)*p)) {
                while (isdigit((unsigned char)*p)) ++p;
                if (*p == '.' && isdigit((unsigned char)p[1])) {
                    ++p;
                    while (isdigit((unsigned char)*p)) ++p;
                    if (!*p) return 1;
                }
            }
            t = strstr(t + 1, ".tmp");
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Outputs                                                                    */
/* ------------------------------------------------------------------------- */

/* The process's own descriptor that path names (/dev/stdout, /dev/fd/3,
 * /proc/self/fd/3), or -1. */
static int own_fd(const char *path)
{
    if (!strcmp(path, "/dev/stdout")) return 1;
    if (!strcmp(path, "/dev/stderr")) return 2;
    const char *num = NULL;
    if (!strncmp(path, "/dev/fd/", 8)) num = path + 8;
    else if (!strncmp(path, "/proc/self/fd/", 14)) num = path + 14;
    if (!num || !isdigit((unsigned char)*num)) return -1;
    char *end;
    long v = strtol(num, &end, 10);
    if (*end || v < 0 || v > INT_MAX) return -1;
    return (int)v;
}

static cqb_status open_memory(cqb_output *o, const char *what, cqb_error *err)
{
    o->f = open_memstream(&o->buf, &o->len);
    if (!o->f) return cqb_error_set(err, CQB_ENOMEM, "%s %s: out of memory", what, o->path);
    return CQB_OK;
}

cqb_status cqb_output_open(cqb_output *o, const char *path, const char *what, cqb_error *err)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (!what) what = "output";
    if (!path || !*path) return cqb_error_set(err, CQB_EUSAGE, "%s: empty file name", what);
    o->path = strdup(path);
    if (!o->path) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    cqb_status st;
    if (!strcmp(path, "-")) {
        o->kind = CQB_OUTPUT_STDOUT;
        if ((st = open_memory(o, what, err)) != CQB_OK) cqb_output_abort(o);
        return st;
    }
    int fd = own_fd(path);
    if (fd >= 0) {
        if (fcntl(fd, F_GETFD) == -1) {
            cqb_output_abort(o);
            return cqb_error_set(err, CQB_EIO, "%s %s: not an open descriptor", what, path);
        }
        o->kind = CQB_OUTPUT_DIRECT;
        o->fd = fd;
        if ((st = open_memory(o, what, err)) != CQB_OK) cqb_output_abort(o);
        return st;
    }
    const char *in = cqb_output_protected(path);
    if (in) {
        st = cqb_error_set(err, CQB_EUSAGE, "%s %s is the same file as the input %s (refusing to replace it)",
                           what, path, in);
        cqb_output_abort(o);
        return st;
    }
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_EIO, "%s %s: is a directory", what, path);
    }
    if (exists && S_ISBLK(sb.st_mode)) {
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_EUSAGE, "%s %s: is a block device (refusing to write to it)", what, path);
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        /* character device, FIFO, socket: written in place, never replaced */
        o->kind = CQB_OUTPUT_DIRECT;
        o->sock = S_ISSOCK(sb.st_mode);
        o->target = strdup(path);
        if (!o->target) {
            cqb_output_abort(o);
            return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        }
        if (!o->sock && access(path, W_OK) != 0) {
            int e = errno;
            cqb_output_abort(o);
            return cqb_error_set(err, CQB_EIO, "%s %s: cannot write: %s", what, path, strerror(e));
        }
        if ((st = open_memory(o, what, err)) != CQB_OK) cqb_output_abort(o);
        return st;
    }
    /* a regular file or a new one: the final target of any link chain */
    o->kind = CQB_OUTPUT_ATOMIC;
    o->target = exists ? realpath(path, NULL) : follow_links(path);
    if (!o->target) o->target = strdup(path);
    size_t n = o->target ? strlen(o->target) + 16 : 0;
    o->tmp = o->target ? malloc(n) : NULL;
    if (!o->tmp) {
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    snprintf(o->tmp, n, "%s.tmp.XXXXXX", o->target);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_EIO, "%s %s: cannot create: %s", what, path, strerror(e));
    }
    /* mkstemp creates mode 0600: keep the mode of the file replaced, or give
     * a new one the mode fopen(path, "w") would (0666 less the umask) */
    mode_t mode;
    if (exists) {
        mode = sb.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0) {
        int e = errno;
        close(fd);
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_EIO, "%s %s: cannot set the file mode: %s", what, path, strerror(e));
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        cqb_output_abort(o);
        return cqb_error_set(err, CQB_EIO, "%s %s: cannot open", what, path);
    }
    return CQB_OK;
}

cqb_status cqb_output_finish(cqb_output *o, cqb_error *err)
{
    if (o->kind == CQB_OUTPUT_NONE || o->finished) return CQB_OK;
    o->finished = 1;
    if (!o->f) return CQB_OK;
    errno = 0;
    int bad = ferror(o->f);
    bad |= fflush(o->f) != 0;
    if (o->kind == CQB_OUTPUT_ATOMIC && fsync(fileno(o->f)) != 0 && errno != EINVAL && errno != EROFS) bad = 1;
    int e = errno;
    bad |= fclose(o->f) != 0;
    if (!e) e = errno;
    o->f = NULL;
    if (bad) {
        if (o->kind != CQB_OUTPUT_ATOMIC)
            cqb_error_set(err, CQB_ENOMEM, "%s: out of memory collecting the output", o->path);
        else
            cqb_error_set(err, CQB_EIO, "%s: write failed: %s", o->path, e ? strerror(e) : "I/O error");
        cqb_status st = err ? err->status : CQB_EIO;
        cqb_output_abort(o);
        return st;
    }
    return CQB_OK;
}

/* Writes all of buf to fd; 0 or an errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) return errno ? errno : EIO;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Opens the direct target for writing; a descriptor or -1 with errno. */
static int open_direct(const cqb_output *o)
{
    if (!o->sock) return open(o->target, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(o->target) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, o->target);
    int types[2] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; ++i) {
        int s = socket(AF_UNIX, types[i], 0);
        if (s < 0) return -1;
        if (connect(s, (const struct sockaddr *)&sa, sizeof sa) == 0) return s;
        int e = errno;
        close(s);
        errno = e;
        if (e != EPROTOTYPE) return -1;
    }
    return -1;
}

cqb_status cqb_output_commit(cqb_output *o, cqb_error *err)
{
    if (o->kind == CQB_OUTPUT_NONE) return CQB_OK; /* never opened, or already committed */
    cqb_status st = cqb_output_finish(o, err);
    if (st != CQB_OK) return st;
    int e = 0;
    switch (o->kind) {
    case CQB_OUTPUT_ATOMIC:
        if (rename(o->tmp, o->target) != 0) e = errno;
        break;
    case CQB_OUTPUT_STDOUT:
        errno = 0;
        if ((o->len && fwrite(o->buf, 1, o->len, stdout) != o->len) || fflush(stdout) != 0) e = errno ? errno : EIO;
        break;
    case CQB_OUTPUT_DIRECT:
        if (o->fd >= 0) {
            fflush(o->fd == 1 ? stdout : o->fd == 2 ? stderr : NULL);
            e = write_all(o->fd, o->buf, o->len);
        } else {
            int fd = open_direct(o);
            if (fd < 0) {
                e = errno ? errno : EIO;
            } else {
                e = write_all(fd, o->buf, o->len);
                if (close(fd) != 0 && !e && errno != EINTR) e = errno;
            }
        }
        break;
    default: break;
    }
    if (e) {
        cqb_error_set(err, CQB_EIO, "%s: write failed: %s", o->kind == CQB_OUTPUT_STDOUT ? "standard output" : o->path,
                      strerror(e));
        cqb_output_abort(o);
        return CQB_EIO;
    }
    if (o->kind == CQB_OUTPUT_ATOMIC) {
        free(o->tmp);
        o->tmp = NULL; /* renamed: nothing to remove */
    }
    cqb_output_abort(o);
    return CQB_OK;
}

void cqb_output_abort(cqb_output *o)
{
    if (o->f) fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    free(o->target);
    free(o->buf);
    memset(o, 0, sizeof *o);
    o->fd = -1;
}
