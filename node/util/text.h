/*
 * text: the rules for text and hex that cross a trust boundary, each
 * written once, so that every module calls the same bytes valid and shows
 * hostile text the same way.
 *
 *  - UTF-8: one strict decoder (text_utf8_seq): no overlong forms, no
 *    surrogates, nothing above U+10FFFF. Event fields, lernet.ini, the
 *    log's escaping and iCal's line folding all use it.
 *  - Showing untrusted text: text_escape keeps everything and makes it one
 *    printable line (log records, a partner's error message); text_show
 *    quotes a bounded piece of it inside a one-line error message.
 *  - Hex: the one encoder, decoder and reader of id prefixes ("3f2a91c0"
 *    or all 64 digits), lowercase on output, either case on input.
 *
 * Pure functions: no allocation, no global state, safe from any thread.
 * Outputs are written only on success unless a function says otherwise.
 */
#ifndef LERNET_TEXT_H
#define LERNET_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ------------------------------------------------------------ */

/* Length (1-4) of the valid UTF-8 sequence at s, which has n > 0 bytes,
 * or 0 if there is none: no overlong forms, no surrogates, nothing above
 * U+10FFFF. An ASCII byte, control characters included, is a sequence of 1. */
size_t text_utf8_seq(const unsigned char *s, size_t n);

/* 1 if the n bytes at s are all valid UTF-8 (per text_utf8_seq), else 0. */
int text_utf8_valid(const char *s, size_t n);

enum text_flags {
    TEXT_MULTILINE = 1, /* text_plain: tab, newline and carriage return allowed */
};

/* 1 if the n bytes at s hold a control character: a byte below 0x20 or
 * 0x7f, where tab, newline and carriage return do not count with
 * TEXT_MULTILINE. */
int text_has_control(const char *s, size_t n, int flags);

/* 1 if the n bytes at s are valid UTF-8 holding no control character (as
 * text_has_control): the rule for every text field a person reads. */
int text_plain(const char *s, size_t n, int flags);

/* Bytes of the longest start of s that holds at most max_chars characters
 * (a byte that is not valid UTF-8 counts as one); *chars, if not NULL, gets
 * how many it holds. For columns of a terminal table. */
size_t text_utf8_cut(const char *s, size_t max_chars, size_t *chars);

/* ---- showing untrusted text ------------------------------------------- */

/* Copies src into dst (dstlen > 0) as printable UTF-8 on one line:
 * newline, carriage return and tab become \n \r \t, a backslash \\, any
 * other control byte (below 0x20, or 0x7f) and any byte that is not part
 * of valid UTF-8 \xNN. Stops before an escape or character that would not
 * fit whole; always terminates dst. Returns the length written. Nothing is
 * lost but what does not fit, and the result cannot start a line, move a
 * terminal's cursor or pass for a journald "<N>" prefix. */
size_t text_escape(char *dst, size_t dstlen, const char *src);

/* The dst size text_show needs to quote max bytes of the source. */
#define TEXT_SHOW_SIZE(max) ((max) + 4)

/* A quote of untrusted src for a one-line message: at most dstlen - 4
 * bytes of it, cut before a character that would not fit whole and then
 * followed by "..."; each control byte and each byte that is not valid
 * UTF-8 becomes '?'. dst has dstlen >= TEXT_SHOW_SIZE(0) bytes (else it
 * gets "" if it has room for that); always terminated. Returns dst, so
 * that it can be an argument of the message's printf. */
const char *text_show(char *dst, size_t dstlen, const char *src);

/* ---- hex -------------------------------------------------------------- */

/* The fewest hex digits an id prefix may have: fewer would match too many. */
#define TEXT_HEX_PREFIX_MIN 8

/* The value 0-15 of hex digit c (either case), or -1. */
int text_hex_digit(int c);

/* How many hex digits (either case) s starts with. */
size_t text_hex_span(const char *s);

/* The n bytes at bin as 2n lowercase hex digits and a NUL: out has room
 * for 2n + 1 bytes. */
void text_hex(char *out, const uint8_t *bin, size_t n);

/* Exactly 2n hex digits (either case) and nothing after them → n bytes at
 * out. 0, or -1 with out untouched. */
int text_hex_decode(uint8_t *out, size_t n, const char *hex);

enum text_hex_flags {
    TEXT_HEX_LOWER = 1, /* text_hex_prefix: lowercase digits only (a URL path) */
};

/* s as a prefix of an n-byte value, the way ids are given by a person:
 * TEXT_HEX_PREFIX_MIN to 2n hex digits and nothing else. lo and hi (each
 * NULL or n bytes) get the smallest and the largest value that start with
 * it; a full-length s gives lo == hi. 0, or -1 with lo and hi untouched. */
int text_hex_prefix(const char *s, size_t n, int flags, uint8_t *lo, uint8_t *hi);

#endif
