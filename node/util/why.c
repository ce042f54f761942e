/*
 * why: one-line error details (see why.h).
 */
#include "util/why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The calling thread's translator (why.h says why it is per thread). */
static _Thread_local why_translator_t tr_fn;
static _Thread_local void *tr_ctx;

void why_translate_set(why_translator_t tr, void *ctx)
{
    tr_fn = tr;
    tr_ctx = tr ? ctx : NULL;
}

/* The next conversion of a printf format from *p on: its spec (from '%' to
 * the conversion letter) in *spec, *len; false at the end. "%%" is text. */
static bool next_conversion(const char **p, const char **spec, size_t *len)
{
    const char *s = *p;
    while ((s = strchr(s, '%'))) {
        if (s[1] == '%') {
            s += 2;
            continue;
        }
        size_t n = 1 + strcspn(s + 1, "diouxXeEfFgGaAcspnm");
        if (!s[n]) /* no conversion letter: the rest is one odd spec */
            n--;
        *spec = s;
        *len = n + 1;
        *p = s + *len;
        return true;
    }
    return false;
}

bool why_same_conversions(const char *a, const char *b)
{
    const char *sa, *sb;
    size_t la, lb;
    for (;;) {
        bool ha = next_conversion(&a, &sa, &la), hb = next_conversion(&b, &sb, &lb);
        if (ha != hb)
            return false;
        if (!ha)
            return true;
        if (la != lb || memcmp(sa, sb, la) != 0 || memchr(sa, '$', la))
            return false;
    }
}

int why_fail(char *why, size_t whylen, int code, const char *fmt, ...)
{
    int saved = errno; /* callers may still report the cause of an I/O error */
    if (why && whylen) {
        const char *use = fmt;
        if (tr_fn) {
            const char *t = tr_fn(tr_ctx, fmt);
            use = t && why_same_conversions(fmt, t) ? t : fmt;
        }
        va_list ap;
        va_start(ap, fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* checked: same conversions as fmt */
        vsnprintf(why, whylen, use, ap);
#pragma GCC diagnostic pop
        va_end(ap);
        /* a path or an echoed value may hold a newline; the contract is one line */
        for (char *c = why; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
    }
    errno = saved;
    return code;
}
