/*
 * html: a growing text buffer for the web page, with escaping. Every
 * string that did not come from this program goes through html_text (or
 * html_attr inside quotes), so event content from the network can never
 * become markup. The buffer is bounded (HTML_MAX); past it, appends are
 * dropped and html_take reports the overflow.
 *
 * Ownership: html_new returns a buffer the caller frees with html_free;
 * html_take hands the text over (caller free()s it) and frees the buffer.
 */
#ifndef LERNET_HTML_H
#define LERNET_HTML_H

#include <stddef.h>

#define HTML_MAX (8 * 1024 * 1024)

typedef struct html html_t;

html_t *html_new(void);
void html_free(html_t **h);
/* Markup or text known to be safe, as is. */
void html_raw(html_t *h, const char *s);
void html_rawf(html_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted text: & < > " ' escaped (fine in element content and in
 * double-quoted attributes). NULL appends nothing. */
void html_text(html_t *h, const char *s);
/* Untrusted text for a URL query value: percent-encoded. */
void html_query(html_t *h, const char *s);
/* Bytes appended so far: lets a page stop adding rows well before HTML_MAX
 * instead of failing whole. */
size_t html_len(const html_t *h);
/* The text (NUL-terminated) and its length; NULL when out of memory or
 * over HTML_MAX (the buffer is freed either way). */
char *html_take(html_t **h, size_t *len);

#endif
