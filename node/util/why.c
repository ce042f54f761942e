/*
 * why: one-line error details (see why.h).
 */
#include "util/why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int why_fail(char *why, size_t whylen, int code, const char *fmt, ...)
{
    int saved = errno; /* callers may still report the cause of an I/O error */
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        /* a path or an echoed value may hold a newline; the contract is one line */
        for (char *c = why; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
    }
    errno = saved;
    return code;
}
