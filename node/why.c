/*
 * why: one-line error details (see why.h).
 */
#include "why.h"

#include <stdarg.h>
#include <stdio.h>

int why_fail(char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return code;
}
