/*
 * why: the one-line error detail every module hands back beside its error
 * code. Functions that can fail for a reason a person must read take
 * (char *why, size_t whylen); why may be NULL.
 *
 * The language of a reason: English, unless the calling thread has set a
 * translator (why_translate_set). The web page sets one for each request,
 * in its visitor's language, so a refusal made deep in a lower layer (a
 * publish refused by the store, a search query refused by the index) reads
 * in that language on the page, without every function between taking a
 * language; the CLI and the daemon's logs set none and stay English. It is
 * per thread, like uselocale(): no other thread's messages change.
 */
#ifndef LERNET_WHY_H
#define LERNET_WHY_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the formatted message into why (if any), with any newline turned
 * into a space, and returns code, so that a check reads
 * `return why_fail(why, whylen, ERR_X, "field '%s' ...", f);`. With a
 * translator set, fmt's translation is formatted instead when it has the
 * same conversions as fmt (see why_same_conversions), else fmt itself.
 * errno is left as it was, for callers that report an I/O error's cause. */
int why_fail(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Returns msgid's translation, or msgid itself; the string must outlive
 * the why_fail call that asked for it. */
typedef const char *(*why_translator_t)(void *ctx, const char *msgid);
/* Sets (or with NULL clears) the calling thread's translator. ctx is
 * borrowed until it is cleared. */
void why_translate_set(why_translator_t tr, void *ctx);

/* a and b are printf formats with the same conversions, spelled alike, in
 * the same order ("%.16s" and "%.16s", "%zu" and "%zu"; "%%" is text) and
 * no positional one ("%1$s"): b may then be formatted with a's arguments. A catalogue
 * is data read at start; one that swapped a %s for a %d must cost a
 * sentence its translation, never memory safety. */
bool why_same_conversions(const char *a, const char *b);

#endif
