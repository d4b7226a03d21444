/* textbuf.h — a growing, NUL-terminated text buffer: the study report's
 * Markdown and HTML (report.c) and the embed layer's in-memory CSV and
 * captured output (embed.c). An allocation failure sets `bad` and turns
 * later appends into no-ops, so a writer checks once at the end. */
#ifndef CQBOOT_CLI_TEXTBUF_H
#define CQBOOT_CLI_TEXTBUF_H

#include <stddef.h>

typedef struct cli_text {
    char *p;        /* the text (NULL until something is appended); free() it */
    size_t len, cap;
    int bad;        /* an allocation failed */
} cli_text;

/*! cli_text_put() : appends n bytes of s. */
void cli_text_put(cli_text *b, const char *s, size_t n);
/*! cli_text_str() : appends the string s. */
void cli_text_str(cli_text *b, const char *s);
/*! cli_text_printf() : appends printf-formatted text. */
void cli_text_printf(cli_text *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
