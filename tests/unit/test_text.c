/*
 * test_text: the one UTF-8 rule, the two ways of showing untrusted text
 * and the hex helpers (node/util/text). Event fields, lernet.ini, the log
 * and iCal all rely on these, so each rule is pinned here directly: the
 * edge cases of UTF-8 (overlong forms, surrogates, above U+10FFFF, cut
 * sequences), escapes that keep a record on one line, quotes that are cut
 * between characters, hex that round-trips and id prefixes that cover
 * exactly the ids they name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/text.h"

#define U(s) ((const unsigned char *)(s))

/* ---- UTF-8 ------------------------------------------------------------ */

static void test_utf8_seq(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_seq(U("a"), 1), 1);
    assert_int_equal(text_utf8_seq(U("\x1b"), 1), 1);             /* controls are ASCII */
    assert_int_equal(text_utf8_seq(U("ö"), 2), 2);                /* U+00F6 */
    assert_int_equal(text_utf8_seq(U("€"), 3), 3);                /* U+20AC */
    assert_int_equal(text_utf8_seq(U("\xf0\x9f\x8e\x93"), 4), 4); /* U+1F393 */
    assert_int_equal(text_utf8_seq(U("\xf4\x8f\xbf\xbf"), 4), 4); /* U+10FFFF, the last */
    assert_int_equal(text_utf8_seq(U("\xef\xbf\xbf"), 3), 3);     /* U+FFFF is a character */
    /* overlong forms of '/' and NUL, and of U+07FF and U+FFFF */
    assert_int_equal(text_utf8_seq(U("\xc0\xaf"), 2), 0);
    assert_int_equal(text_utf8_seq(U("\xc0\x80"), 2), 0);
    assert_int_equal(text_utf8_seq(U("\xe0\x9f\xbf"), 3), 0);
    assert_int_equal(text_utf8_seq(U("\xf0\x8f\xbf\xbf"), 4), 0);
    assert_int_equal(text_utf8_seq(U("\xed\xa0\x80"), 3), 0);         /* U+D800, a surrogate */
    assert_int_equal(text_utf8_seq(U("\xed\xbf\xbf"), 3), 0);         /* U+DFFF */
    assert_int_equal(text_utf8_seq(U("\xf4\x90\x80\x80"), 4), 0);     /* U+110000 */
    assert_int_equal(text_utf8_seq(U("\xf8\x88\x80\x80\x80"), 5), 0); /* 5-byte form */
    assert_int_equal(text_utf8_seq(U("\x80"), 1), 0);                 /* a stray continuation */
    assert_int_equal(text_utf8_seq(U("\xff"), 1), 0);
    assert_int_equal(text_utf8_seq(U("\xe2\x82"), 2), 0);     /* cut short */
    assert_int_equal(text_utf8_seq(U("\xe2\x82\xac"), 2), 0); /* n ends inside it */
    assert_int_equal(text_utf8_seq(U("\xe2\x41\xac"), 3), 0); /* not a continuation */
}

static void test_utf8_valid_and_plain(void **state)
{
    (void)state;
    const char *nordic = "Lärcentrum Östhammar, Roskilde Handelsskole (Bøgevej), Jyväskylä 🎓";
    assert_true(text_utf8_valid(nordic, strlen(nordic)));
    assert_true(text_plain(nordic, strlen(nordic), 0));
    assert_true(text_utf8_valid("", 0));
    assert_true(text_plain("", 0, 0));
    assert_false(text_utf8_valid("ok \xc3", 4)); /* ends inside a character */
    assert_true(text_utf8_valid("ok \xc3", 3));  /* n is what counts */
    assert_false(text_utf8_valid("a\xed\xa0\x80", 4));
    /* controls: none in a line; tab, newline and CR in a long text only */
    assert_true(text_utf8_valid("a\nb", 3));
    assert_false(text_plain("a\nb", 3, 0));
    assert_true(text_plain("a\nb\tc\r\n", 7, TEXT_MULTILINE));
    assert_false(text_plain("a\x1b[31m", 6, TEXT_MULTILINE)); /* an escape sequence */
    assert_false(text_plain("a\x7f", 2, TEXT_MULTILINE));
    assert_false(text_plain("a\0b", 3, TEXT_MULTILINE)); /* NUL is a control too */
    assert_false(text_plain("\xff", 1, TEXT_MULTILINE)); /* and invalid UTF-8 is never plain */
    /* the control rule alone, for checks that name the two faults apart */
    assert_true(text_has_control("a\tb", 3, 0));
    assert_false(text_has_control("a\tb", 3, TEXT_MULTILINE));
    assert_true(text_has_control("a\x1b", 2, TEXT_MULTILINE));
    assert_false(text_has_control("\xff\xc3", 2, 0)); /* not UTF-8, but no control */
    assert_false(text_has_control("a\x01", 1, 0));     /* only n bytes are read */
}

static void test_utf8_cut(void **state)
{
    (void)state;
    size_t chars = 99;
    assert_int_equal(text_utf8_cut("Köge", 2, &chars), 3); /* "Kö" */
    assert_int_equal(chars, 2);
    assert_int_equal(text_utf8_cut("Köge", 10, &chars), 5);
    assert_int_equal(chars, 4);
    assert_int_equal(text_utf8_cut("🎓x", 1, &chars), 4);
    assert_int_equal(chars, 1);
    assert_int_equal(text_utf8_cut("abc", 0, &chars), 0);
    assert_int_equal(chars, 0);
    assert_int_equal(text_utf8_cut("\xff\xfe"
                                   "a",
                                   2, NULL),
                     2); /* a bad byte is one */
}

/* ---- text_escape ------------------------------------------------------ */

static void escapes(const char *in, const char *want)
{
    char out[256];
    size_t n = text_escape(out, sizeof out, in);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_escape(void **state)
{
    (void)state;
    escapes("partner Köge Handelsskole: ok", "partner Köge Handelsskole: ok");
    escapes("bad\n<0>evil", "bad\\n<0>evil");
    escapes("a\r\nb\tc", "a\\r\\nb\\tc");
    escapes("C:\\temp", "C:\\\\temp");
    escapes("\x1b[31mred\x7f\x01", "\\x1b[31mred\\x7f\\x01");
    escapes("\xff\xfe", "\\xff\\xfe");
    escapes("\xc0\x80", "\\xc0\\x80");          /* overlong NUL */
    escapes("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
    escapes("cut \xe2\x82", "cut \\xe2\\x82");  /* a sequence cut short */
    escapes("\xf0\x9d\x84\x9e \xe2\x82\xac", "\xf0\x9d\x84\x9e \xe2\x82\xac");
    escapes("", "");
}

/* A full buffer ends before an escape or a character that does not fit. */
static void test_escape_bounds(void **state)
{
    (void)state;
    char out[6];
    assert_int_equal(text_escape(out, sizeof out, "abcd\n"), 4);
    assert_string_equal(out, "abcd");
    assert_int_equal(text_escape(out, sizeof out, "ab\x01"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(text_escape(out, sizeof out, "abcö"), 5);
    assert_string_equal(out, "abcö");
    assert_int_equal(text_escape(out, sizeof out, "abcdö"), 4);
    assert_string_equal(out, "abcd");
    assert_int_equal(text_escape(out, 1, "abc"), 0);
    assert_string_equal(out, "");
}

/* ---- text_show -------------------------------------------------------- */

static void test_show(void **state)
{
    (void)state;
    char s[TEXT_SHOW_SIZE(8)];
    assert_string_equal(text_show(s, sizeof s, "Östhamm"), "Östhamm");      /* 8 bytes: fits */
    assert_string_equal(text_show(s, sizeof s, "Östhammar"), "Östhamm..."); /* 10: cut */
    assert_string_equal(text_show(s, sizeof s, "1234567ö"), "1234567...");  /* not half an ö */
    assert_string_equal(text_show(s, sizeof s, "a\nb\x1b[2J"), "a?b?[2J");
    assert_string_equal(text_show(s, sizeof s, "\xff\xc3x("), "??x("); /* not UTF-8: a ? each */
    assert_string_equal(text_show(s, sizeof s, ""), "");
    char big[TEXT_SHOW_SIZE(48)];
    const char *long_tz = "Europe/Stockholm/Europe/Stockholm/Europe/Stockholm/Europe";
    text_show(big, sizeof big, long_tz);
    assert_int_equal(strlen(big), 48 + 3);
    assert_memory_equal(big, long_tz, 48);
    char tiny[3] = "xy";
    assert_string_equal(text_show(tiny, sizeof tiny, "abc"), ""); /* too small: empty */
}

/* ---- hex -------------------------------------------------------------- */

static void test_hex_round_trip(void **state)
{
    (void)state;
    uint8_t bin[32], back[32];
    char hex[65];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 37 + 11);
    text_hex(hex, bin, sizeof bin);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 64); /* lowercase out */
    assert_int_equal(text_hex_decode(back, sizeof back, hex), 0);
    assert_memory_equal(back, bin, sizeof bin);
    uint8_t two[2] = {0, 0};
    assert_int_equal(text_hex_decode(two, 2, "aBcD"), 0); /* either case in */
    assert_int_equal(two[0], 0xab);
    assert_int_equal(two[1], 0xcd);
    text_hex(hex, bin, 0);
    assert_string_equal(hex, "");
}

static void test_hex_decode_refusals(void **state)
{
    (void)state;
    uint8_t out[2] = {0x55, 0x55};
    assert_int_equal(text_hex_decode(out, 2, "abc"), -1);   /* too short */
    assert_int_equal(text_hex_decode(out, 2, "abcde"), -1); /* too long */
    assert_int_equal(text_hex_decode(out, 2, "abcg"), -1);  /* not hex */
    assert_int_equal(text_hex_decode(out, 2, "ab c"), -1);
    assert_int_equal(text_hex_decode(out, 2, "+abc"), -1);
    assert_int_equal(out[0], 0x55); /* untouched */
    assert_int_equal(out[1], 0x55);
    assert_int_equal(text_hex_digit('0'), 0);
    assert_int_equal(text_hex_digit('f'), 15);
    assert_int_equal(text_hex_digit('F'), 15);
    assert_int_equal(text_hex_digit('g'), -1);
    assert_int_equal(text_hex_digit('/'), -1);
    assert_int_equal(text_hex_digit(0xe4), -1);
    assert_int_equal(text_hex_span("3f2A9z1"), 5);
    assert_int_equal(text_hex_span(""), 0);
}

static void test_hex_prefix(void **state)
{
    (void)state;
    uint8_t lo[32], hi[32], id[32];
    const char *full = "3f2a91c0"
                       "00112233445566778899aabbccddeeff"
                       "0123456789abcdef0123";
    assert_int_equal(strlen(full), 60);
    /* 8 digits: every id that starts with 3f 2a 91 c0 */
    assert_int_equal(text_hex_prefix("3f2a91c0", 32, 0, lo, hi), 0);
    assert_int_equal(lo[0], 0x3f);
    assert_int_equal(lo[3], 0xc0);
    assert_int_equal(lo[4], 0x00);
    assert_int_equal(lo[31], 0x00);
    assert_int_equal(hi[3], 0xc0);
    assert_int_equal(hi[4], 0xff);
    assert_int_equal(hi[31], 0xff);
    /* an odd count covers a half byte */
    assert_int_equal(text_hex_prefix("3F2A91C0a", 32, 0, lo, hi), 0);
    assert_int_equal(lo[4], 0xa0);
    assert_int_equal(hi[4], 0xaf);
    /* all 64 digits: one id */
    char all[65];
    for (size_t i = 0; i < 32; i++)
        id[i] = (uint8_t)(255 - i);
    text_hex(all, id, 32);
    assert_int_equal(text_hex_prefix(all, 32, 0, lo, hi), 0);
    assert_memory_equal(lo, id, 32);
    assert_memory_equal(hi, id, 32);
    assert_int_equal(text_hex_prefix(full, 32, 0, NULL, NULL), 0);
    /* refused, and lo/hi left as they were */
    memset(lo, 0x55, sizeof lo);
    assert_int_equal(text_hex_prefix("3f2a91c", 32, 0, lo, hi), -1); /* 7: too few */
    char longer[66];
    memcpy(longer, all, 64);
    memcpy(longer + 64, "0", 2);
    assert_int_equal(text_hex_prefix(longer, 32, 0, lo, hi), -1); /* 65: longer than an id */
    assert_int_equal(text_hex_prefix("3f2a91cx", 32, 0, lo, hi), -1);
    assert_int_equal(text_hex_prefix("3f2a91c0 ", 32, 0, lo, hi), -1);
    assert_int_equal(text_hex_prefix("../3f2a91c0", 32, 0, lo, hi), -1);
    assert_int_equal(text_hex_prefix("3F2A91C0", 32, TEXT_HEX_LOWER, lo, hi), -1);
    assert_int_equal(lo[0], 0x55);
    assert_int_equal(text_hex_prefix("3f2a91c0", 32, TEXT_HEX_LOWER, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_seq),
        cmocka_unit_test(test_utf8_valid_and_plain),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_bounds),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_decode_refusals),
        cmocka_unit_test(test_hex_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
