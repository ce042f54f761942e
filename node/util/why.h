/*
 * why: the one-line error detail every module hands back beside its error
 * code. Functions that can fail for a reason a person must read take
 * (char *why, size_t whylen); why may be NULL.
 */
#ifndef LERNET_WHY_H
#define LERNET_WHY_H

#include <stddef.h>

/* Writes the formatted message into why (if any), with any newline turned
 * into a space, and returns code, so that a check reads
 * `return why_fail(why, whylen, ERR_X, "field '%s' ...", f);`. errno is
 * left as it was, for callers that report an I/O error's cause. */
int why_fail(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
