/*
 * utf8: the strict UTF-8 decoder that lernet.ini checks and the log's
 * escaping share, so that both call the same bytes valid.
 */
#ifndef LERNET_TEXT_H
#define LERNET_TEXT_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s, which has n > 0 bytes,
 * or 0 if there is none: no overlong forms, no surrogates, nothing above
 * U+10FFFF. An ASCII byte, control characters included, is a sequence of 1. */
size_t utf8_seq(const unsigned char *s, size_t n);

#endif
