/*
 * i18n: the web page's languages. The page is written in English (the
 * msgids); po/ holds a GNU gettext catalogue per other language (sv, da,
 * de, fi), compiled by msgfmt at build into LOCALE_DIR/LANG/LC_MESSAGES/
 * lernet.mo (build/locale/ in the build tree, share/locale/ installed).
 *
 * Why not gettext() itself: it looks a message up in the language of the
 * process locale (LC_MESSAGES, or LANGUAGE, which glibc ignores in the C
 * locale), so a page per visitor would need either a lock around
 * setlocale/setenv (setenv is not thread-safe at all), or uselocale() with
 * a newlocale() of sv_SE.UTF-8, de_DE.UTF-8, ...: those exist only where
 * an administrator generated them, which a fresh Debian machine has not
 * (`locale -a` there: C, C.utf8, POSIX), so the page would silently stay
 * English. Instead this file reads the same .mo files msgfmt writes (the
 * format is GNU gettext's, documented and stable) into memory at start,
 * and a lookup is a pure function of (language, msgid): no locale, no
 * environment, no lock, safe from any thread, the same on every machine.
 * Dates and numbers are written from tables here for the same reason
 * (strftime's names follow the process locale too).
 *
 * Plural forms: all five languages have nplurals=2; plural=(n != 1); a
 * catalogue that says otherwise is refused when loaded.
 *
 * Ownership: i18n_open returns a set the caller frees with i18n_close;
 * every string returned by a lookup is borrowed from it (or is the msgid)
 * and lives as long as the set.
 */
#ifndef LERNET_I18N_H
#define LERNET_I18N_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define I18N_MAX_MO (4 * 1024 * 1024) /* bytes of one catalogue */
#define I18N_MAX_MSGS 20000           /* messages in one catalogue */

typedef struct i18n i18n_t;

/* The page's languages, in menu order: code and name in itself. i-th, or
 * NULL past the end. "en" is first and needs no catalogue. */
typedef struct i18n_lang {
    const char *code, *name;
} i18n_lang_t;
const i18n_lang_t *i18n_lang_at(size_t i);
/* The page language a tag ("de-AT", "sv") stands for: its code (static),
 * or NULL when the page has no such language. */
const char *i18n_lang_of(const char *tag, size_t len);

/* Loads DIR/LANG/LC_MESSAGES/lernet.mo for every language but en. A
 * missing file leaves that language English (reported in *missing, may be
 * NULL, as "sv,da"); a malformed one fails the whole open with why. */
int i18n_open(i18n_t **out, const char *dir, char *missing, size_t mlen, char *why,
              size_t whylen);
void i18n_close(i18n_t **t);
/* Checks one catalogue's bytes (the fuzzable part of i18n_open). 0 or -1
 * with why; n_msgs (may be NULL) gets the number of messages. */
int i18n_check_mo(const uint8_t *buf, size_t len, size_t *n_msgs, char *why, size_t whylen);

/* msgid in lang (a code from i18n_lang_of), msgid itself when there is no
 * translation or its translation has other printf conversions than msgid
 * (util/why.h why_same_conversions: the callers format it). t may be NULL
 * (English). i18n_nget checks each form against one or many alike. */
const char *i18n_get(const i18n_t *t, const char *lang, const char *msgid)
    __attribute__((format_arg(3)));
const char *i18n_nget(const i18n_t *t, const char *lang, const char *one, const char *many,
                      unsigned long n) __attribute__((format_arg(3), format_arg(4)));

/* A day as people write it in lang: "Thu 10 Dec 2026", "tors 10 dec. 2026",
 * "tors. 10. dec. 2026", "Do., 10. Dez. 2026", "to 10.12.2026". */
void i18n_date(const char *lang, const struct tm *tm, char *out, size_t n);
/* A time of day: "09:00", "09.00" (da), "9.00" (fi). */
void i18n_clock(const char *lang, const struct tm *tm, char *out, size_t n);
/* A whole number with the thousands grouped ("12,345", "12 345" with a
 * no-break space, "12.345"), and a decimal ("1.5", "1,5"). */
void i18n_int(const char *lang, long long v, char *out, size_t n);
void i18n_decimal(const char *lang, double v, int digits, char *out, size_t n);

#endif
