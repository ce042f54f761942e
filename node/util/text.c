/*
 * text: see text.h. Everything here is built on text_utf8_seq, so that
 * "valid", "plain", escaped and shown text follow one definition of UTF-8.
 */
#include "util/text.h"

#include <sodium.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------ */

size_t text_utf8_seq(const unsigned char *s, size_t n)
{
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len <= 1 || len > n)
        return len > n ? 0 : len;
    unsigned cp = c & (0x7fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int text_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, len; i < n; i += len)
        if (!(len = text_utf8_seq(u + i, n - i)))
            return 0;
    return 1;
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

int text_has_control(const char *s, size_t n, int flags)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int line = c == '\n' || c == '\t' || c == '\r';
        if (is_control(c) && !(line && (flags & TEXT_MULTILINE)))
            return 1;
    }
    return 0;
}

int text_plain(const char *s, size_t n, int flags)
{
    return text_utf8_valid(s, n) && !text_has_control(s, n, flags);
}

size_t text_utf8_cut(const char *s, size_t max_chars, size_t *chars)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, count = 0;
    while (i < n && count < max_chars) {
        size_t len = text_utf8_seq(u + i, n - i);
        i += len ? len : 1;
        count++;
    }
    if (chars)
        *chars = count;
    return i;
}

/* ---- showing untrusted text ------------------------------------------- */

size_t text_escape(char *dst, size_t dstlen, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)src;
    size_t n = strlen(src), o = 0;
    for (size_t i = 0; i < n;) {
        char esc[5];
        const char *out = esc;
        size_t len = text_utf8_seq(u + i, n - i), used = len ? len : 1;
        unsigned char c = u[i];
        if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
            len = 2;
        } else if (!len || is_control(c)) {
            esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
            len = 4;
        } else {
            out = src + i;
        }
        if (o + len >= dstlen)
            break;
        memcpy(dst + o, out, len);
        o += len;
        i += used;
    }
    dst[o] = '\0';
    return o;
}

const char *text_show(char *dst, size_t dstlen, const char *src)
{
    const unsigned char *u = (const unsigned char *)src;
    size_t n = strlen(src), i = 0, o = 0;
    if (dstlen < TEXT_SHOW_SIZE(0)) {
        if (dstlen)
            dst[0] = '\0';
        return dst;
    }
    size_t room = dstlen - TEXT_SHOW_SIZE(0);
    while (i < n) {
        size_t len = text_utf8_seq(u + i, n - i);
        int bad = len == 0 || (len == 1 && is_control(u[i]));
        size_t put = bad ? 1 : len;
        if (o + put > room)
            break;
        if (bad)
            dst[o] = '?';
        else
            memcpy(dst + o, src + i, len);
        o += put;
        i += bad ? 1 : len;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

/* ---- hex -------------------------------------------------------------- */

int text_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t text_hex_span(const char *s)
{
    size_t i = 0;
    while (text_hex_digit((unsigned char)s[i]) >= 0)
        i++;
    return i;
}

void text_hex(char *out, const uint8_t *bin, size_t n)
{
    sodium_bin2hex(out, 2 * n + 1, bin, n);
}

int text_hex_decode(uint8_t *out, size_t n, const char *hex)
{
    size_t len = strlen(hex);
    if (len != 2 * n || text_hex_span(hex) != len)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(text_hex_digit(hex[2 * i]) << 4 | text_hex_digit(hex[2 * i + 1]));
    return 0;
}

/* Byte i of the value that has the k digits of s and then pad (0 or 15)
 * in every other nibble. */
static uint8_t prefix_byte(const char *s, size_t k, size_t i, int pad)
{
    int hi = 2 * i < k ? text_hex_digit(s[2 * i]) : pad;
    int lo = 2 * i + 1 < k ? text_hex_digit(s[2 * i + 1]) : pad;
    return (uint8_t)(hi << 4 | lo);
}

int text_hex_prefix(const char *s, size_t n, int flags, uint8_t *lo, uint8_t *hi)
{
    size_t k = strlen(s);
    if (k < TEXT_HEX_PREFIX_MIN || k > 2 * n || text_hex_span(s) != k)
        return -1;
    if ((flags & TEXT_HEX_LOWER) && strspn(s, "0123456789abcdef") != k)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (lo)
            lo[i] = prefix_byte(s, k, i, 0);
        if (hi)
            hi[i] = prefix_byte(s, k, i, 15);
    }
    return 0;
}
