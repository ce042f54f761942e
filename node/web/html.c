/*
 * html: see html.h. Failure is sticky: once an append fails (memory, or
 * the bound), the buffer stays failed and html_take returns NULL, so
 * callers need not check every append.
 */
#include "web/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct html {
    char *buf;
    size_t len, cap;
    int failed;
};

html_t *html_new(void)
{
    return calloc(1, sizeof(html_t));
}

void html_free(html_t **h)
{
    if (!h || !*h)
        return;
    free((*h)->buf);
    free(*h);
    *h = NULL;
}

static int grow(html_t *h, size_t more)
{
    if (h->failed)
        return -1;
    if (more > HTML_MAX || h->len + more + 1 > HTML_MAX) {
        h->failed = 1;
        return -1;
    }
    if (h->len + more + 1 <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->len + more + 1)
        cap *= 2;
    char *b = realloc(h->buf, cap);
    if (!b) {
        h->failed = 1;
        return -1;
    }
    h->buf = b;
    h->cap = cap;
    return 0;
}

static void append(html_t *h, const char *s, size_t n)
{
    if (grow(h, n) != 0)
        return;
    memcpy(h->buf + h->len, s, n);
    h->len += n;
    h->buf[h->len] = '\0';
}

void html_raw(html_t *h, const char *s)
{
    if (s)
        append(h, s, strlen(s));
}

void html_rawf(html_t *h, const char *fmt, ...)
{
    char small[512], *big = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        append(h, small, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    n = vasprintf(&big, fmt, ap);
    va_end(ap);
    if (n >= 0)
        append(h, big, (size_t)n);
    else
        h->failed = 1;
    free(big);
}

void html_text(html_t *h, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p;) {
        size_t run = strcspn(p, "&<>\"'");
        append(h, p, run);
        p += run;
        if (!*p)
            break;
        switch (*p++) {
        case '&': html_raw(h, "&amp;"); break;
        case '<': html_raw(h, "&lt;"); break;
        case '>': html_raw(h, "&gt;"); break;
        case '"': html_raw(h, "&quot;"); break;
        default: html_raw(h, "&#39;"); break;
        }
    }
}

void html_query(html_t *h, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            append(h, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            append(h, e, 3);
        }
    }
}

size_t html_len(const html_t *h)
{
    return h ? h->len : 0;
}

char *html_take(html_t **h, size_t *len)
{
    char *out = NULL;
    if (h && *h && !(*h)->failed) {
        out = (*h)->buf ? (*h)->buf : strdup("");
        if (len)
            *len = out ? (*h)->len : 0;
        (*h)->buf = NULL;
    }
    html_free(h);
    return out;
}
