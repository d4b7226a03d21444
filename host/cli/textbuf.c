/* textbuf.c — a growing, NUL-terminated text buffer (see textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for `more` bytes and the NUL: doubling, so appends cost O(1)
 * amortized. Returns 0, or -1 (and sets bad) when out of memory. */
static int reserve(cli_text *b, size_t more)
{
    if (b->bad) return -1;
    if (b->len + more + 1 <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + more + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
        b->bad = 1;
        return -1;
    }
    b->p = np;
    b->cap = nc;
    return 0;
}

void cli_text_put(cli_text *b, const char *s, size_t n)
{
    if (reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cli_text_str(cli_text *b, const char *s) { cli_text_put(b, s, strlen(s)); }

void cli_text_printf(cli_text *b, const char *fmt, ...)
{
    if (b->bad) return;
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->bad = 1;
        return;
    }
    if (reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
