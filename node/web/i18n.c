/*
 * i18n: see i18n.h. A catalogue is the .mo file msgfmt wrote, read whole
 * and checked once (every offset inside the file, every string ended by
 * its NUL, the msgids sorted as msgfmt sorts them), so a lookup is a
 * binary search that can trust what it reads.
 */
#include "web/i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/why.h"

#define MO_MAGIC 0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u

static const i18n_lang_t langs[] = {
    {"en", "English"}, {"sv", "svenska"}, {"da", "dansk"}, {"de", "Deutsch"}, {"fi", "suomi"},
};
#define N_LANGS (sizeof langs / sizeof langs[0])

typedef struct catalogue {
    uint8_t *buf; /* the whole file; NULL: not loaded (English) */
    size_t len;
    uint32_t n, orig, trans; /* messages, offsets of the two tables */
    int swapped;
    uint8_t *fits; /* per message: FITS_ONE, FITS_MANY (see fit_formats) */
} catalogue_t;

/* Which forms of a message's translation may stand for its English. */
enum { FITS_ONE = 1, FITS_MANY = 2 };

struct i18n {
    catalogue_t cat[N_LANGS];
};

const i18n_lang_t *i18n_lang_at(size_t i)
{
    return i < N_LANGS ? &langs[i] : NULL;
}

const char *i18n_lang_of(const char *tag, size_t len)
{
    /* the primary subtag: "de-AT" is German, "sv_FI" Swedish */
    size_t p = 0;
    while (p < len && tag[p] != '-' && tag[p] != '_')
        p++;
    for (size_t i = 0; i < N_LANGS; i++)
        if (p == 2 && (tag[0] | 0x20) == langs[i].code[0] && (tag[1] | 0x20) == langs[i].code[1])
            return langs[i].code;
    return NULL;
}

static uint32_t u32(const uint8_t *b, size_t off, int swapped)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* The i-th string of the table at off: its start, and its length. */
static const char *entry(const uint8_t *b, uint32_t table, uint32_t i, int swapped, uint32_t *len)
{
    *len = u32(b, (size_t)table + 8 * (size_t)i, swapped);
    return (const char *)b + u32(b, (size_t)table + 8 * (size_t)i + 4, swapped);
}

static int check_table(const uint8_t *b, size_t len, uint32_t table, uint32_t n, int swapped,
                       const char *what, char *why, size_t whylen)
{
    if ((size_t)table + 8 * (size_t)n > len || table % 4)
        return why_fail(why, whylen, -1, "the %s table lies outside the file", what);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = u32(b, (size_t)table + 8 * (size_t)i, swapped);
        uint32_t o = u32(b, (size_t)table + 8 * (size_t)i + 4, swapped);
        if ((size_t)o + l >= len || b[(size_t)o + l] != '\0')
            return why_fail(why, whylen, -1, "%s string %u lies outside the file or has no end",
                            what, i);
    }
    return 0;
}

int i18n_check_mo(const uint8_t *b, size_t len, size_t *n_msgs, char *why, size_t whylen)
{
    if (len < 28)
        return why_fail(why, whylen, -1, "too short for a .mo file (%zu bytes)", len);
    if (len > I18N_MAX_MO)
        return why_fail(why, whylen, -1, "larger than %d bytes", I18N_MAX_MO);
    uint32_t magic;
    memcpy(&magic, b, 4);
    if (magic != MO_MAGIC && magic != MO_MAGIC_SWAPPED)
        return why_fail(why, whylen, -1, "not a GNU .mo file (magic %08x)", magic);
    int sw = magic == MO_MAGIC_SWAPPED;
    uint32_t rev = u32(b, 4, sw), n = u32(b, 8, sw), orig = u32(b, 12, sw), trans = u32(b, 16, sw);
    if (rev >> 16 != 0)
        return why_fail(why, whylen, -1, "unknown .mo revision %u", rev);
    if (n > I18N_MAX_MSGS)
        return why_fail(why, whylen, -1, "more than %d messages", I18N_MAX_MSGS);
    if (check_table(b, len, orig, n, sw, "msgid", why, whylen) ||
        check_table(b, len, trans, n, sw, "translation", why, whylen))
        return -1;
    for (uint32_t i = 1; i < n; i++) { /* sorted, or the binary search misses */
        uint32_t l;
        if (strcmp(entry(b, orig, i - 1, sw, &l), entry(b, orig, i, sw, &l)) >= 0)
            return why_fail(why, whylen, -1, "msgids not sorted at %u", i);
    }
    /* the header (msgid "") names the plural rule the lookups assume */
    uint32_t hl;
    const char *head = n ? entry(b, orig, 0, sw, &hl) : NULL;
    const char *hv = head && !*head ? entry(b, trans, 0, sw, &hl) : NULL;
    const char *pf = hv ? strstr(hv, "Plural-Forms:") : NULL;
    if (pf && !strstr(pf, "nplurals=2; plural=(n != 1);"))
        return why_fail(why, whylen, -1, "Plural-Forms is not nplurals=2; plural=(n != 1);");
    if (n_msgs)
        *n_msgs = n;
    return 0;
}

/* The second of a plural entry's NUL-separated forms (the first if it has
 * one only). */
static const char *second(const char *s, uint32_t len)
{
    size_t first = strlen(s);
    return first < len ? s + first + 1 : s;
}

/* Marks, once at load, which translations may stand for their English:
 * the page formats many of them (html_rawf(h, T(r, "%s items ..."), ...),
 * snprintf, why_fail), and a catalogue is data read at start. One whose
 * translation has other conversions than its msgid (a %s for a %d, a %n,
 * an extra %s, a "%1$s") costs that sentence its translation, never
 * memory safety; msgfmt --check refuses such a catalogue, but nothing
 * makes the one loaded pass it. A plural entry's forms are checked each
 * against its own English form. */
static void fit_formats(catalogue_t *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t il, tl;
        const char *id = entry(c->buf, c->orig, i, c->swapped, &il);
        const char *tr = entry(c->buf, c->trans, i, c->swapped, &tl);
        c->fits[i] = (why_same_conversions(id, tr) ? FITS_ONE : 0) |
                     (why_same_conversions(second(id, il), second(tr, tl)) ? FITS_MANY : 0);
    }
}

static int load(catalogue_t *c, const char *path, char *why, size_t whylen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : why_fail(why, whylen, -1, "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t got = 0;
    int rc = fstat(fd, &sb) != 0 ? why_fail(why, whylen, -1, "%s: %s", path, strerror(errno))
             : sb.st_size < 0 || sb.st_size > I18N_MAX_MO
                 ? why_fail(why, whylen, -1, "%s: larger than %d bytes", path, I18N_MAX_MO)
                 : 0;
    if (rc == 0 && !(buf = malloc((size_t)sb.st_size + 1)))
        rc = why_fail(why, whylen, -1, "out of memory");
    while (rc == 0 && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r <= 0) {
            rc = why_fail(why, whylen, -1, "%s: %s", path, r ? strerror(errno) : "cut short");
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    char inner[200];
    if (rc == 0 && i18n_check_mo(buf, got, NULL, inner, sizeof inner) != 0)
        rc = why_fail(why, whylen, -1, "%s: %s", path, inner);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    uint32_t magic;
    memcpy(&magic, buf, 4);
    c->swapped = magic == MO_MAGIC_SWAPPED;
    c->buf = buf;
    c->len = got;
    c->n = u32(buf, 8, c->swapped);
    c->orig = u32(buf, 12, c->swapped);
    c->trans = u32(buf, 16, c->swapped);
    if (!(c->fits = malloc(c->n ? c->n : 1))) {
        free(buf);
        c->buf = NULL;
        return why_fail(why, whylen, -1, "out of memory");
    }
    fit_formats(c);
    return 0;
}

int i18n_open(i18n_t **out, const char *dir, char *missing, size_t mlen, char *why,
              size_t whylen)
{
    i18n_t *t = calloc(1, sizeof *t);
    char path[1200];
    if (!t)
        return why_fail(why, whylen, -1, "out of memory");
    if (missing && mlen)
        missing[0] = '\0';
    for (size_t i = 1; i < N_LANGS; i++) {
        snprintf(path, sizeof path, "%s/%s/LC_MESSAGES/lernet.mo", dir, langs[i].code);
        int rc = load(&t->cat[i], path, why, whylen);
        if (rc < 0) {
            i18n_close(&t);
            return -1;
        }
        if (rc > 0 && missing) {
            size_t l = strlen(missing);
            snprintf(missing + l, mlen - l, "%s%s", l ? "," : "", langs[i].code);
        }
    }
    *out = t;
    return 0;
}

void i18n_close(i18n_t **t)
{
    if (!t || !*t)
        return;
    for (size_t i = 0; i < N_LANGS; i++) {
        free((*t)->cat[i].buf);
        free((*t)->cat[i].fits);
    }
    free(*t);
    *t = NULL;
}

static const catalogue_t *cat_of(const i18n_t *t, const char *lang)
{
    for (size_t i = 1; t && lang && i < N_LANGS; i++)
        if (strcmp(lang, langs[i].code) == 0)
            return t->cat[i].buf ? &t->cat[i] : NULL;
    return NULL;
}

/* The translation of msgid (all its plural forms, NUL-separated), its
 * length and which of its forms fit (fit_formats), or NULL. */
static const char *find(const catalogue_t *c, const char *msgid, uint32_t *len, int *fits)
{
    uint32_t lo = 0, hi = c->n, l;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        /* strcmp stops at the NUL after a plural entry's singular */
        int cmp = strcmp(msgid, entry(c->buf, c->orig, mid, c->swapped, &l));
        if (cmp == 0) {
            const char *s = entry(c->buf, c->trans, mid, c->swapped, len);
            *fits = c->fits[mid];
            return *s ? s : NULL;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *i18n_get(const i18n_t *t, const char *lang, const char *msgid)
{
    const catalogue_t *c = cat_of(t, lang);
    uint32_t len;
    int fits = 0;
    const char *s = c && *msgid ? find(c, msgid, &len, &fits) : NULL;
    return s && (fits & FITS_ONE) ? s : msgid;
}

const char *i18n_nget(const i18n_t *t, const char *lang, const char *one, const char *many,
                      unsigned long n)
{
    const catalogue_t *c = cat_of(t, lang);
    uint32_t len;
    int fits = 0;
    const char *s = c ? find(c, one, &len, &fits) : NULL;
    if (n == 1)
        return s && (fits & FITS_ONE) ? s : one;
    return s && (fits & FITS_MANY) ? second(s, len) : many;
}

/* ---- dates and numbers ------------------------------------------------ */

typedef struct names {
    const char *code;
    const char *day[7], *month[12];
} names_t;

static const names_t date_names[] = {
    {"en",
     {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
     {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}},
    {"sv",
     {"sön", "mån", "tis", "ons", "tors", "fre", "lör"},
     {"jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.",
      "dec."}},
    {"da",
     {"søn.", "man.", "tirs.", "ons.", "tors.", "fre.", "lør."},
     {"jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
      "dec."}},
    {"de",
     {"So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."},
     {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
      "Dez."}},
};

static const names_t *names_of(const char *lang)
{
    for (size_t i = 0; i < sizeof date_names / sizeof date_names[0]; i++)
        if (lang && strcmp(lang, date_names[i].code) == 0)
            return &date_names[i];
    return NULL;
}

void i18n_date(const char *lang, const struct tm *tm, char *out, size_t n)
{
    int wd = tm->tm_wday >= 0 && tm->tm_wday < 7 ? tm->tm_wday : 0;
    int mo = tm->tm_mon >= 0 && tm->tm_mon < 12 ? tm->tm_mon : 0;
    int y = tm->tm_year + 1900, d = tm->tm_mday;
    const names_t *nm = names_of(lang);
    if (lang && strcmp(lang, "fi") == 0) {
        static const char *const fi_day[7] = {"su", "ma", "ti", "ke", "to", "pe", "la"};
        snprintf(out, n, "%s %d.%d.%d", fi_day[wd], d, mo + 1, y);
    } else if (nm && strcmp(nm->code, "de") == 0) {
        snprintf(out, n, "%s, %d. %s %d", nm->day[wd], d, nm->month[mo], y);
    } else if (nm && strcmp(nm->code, "da") == 0) {
        snprintf(out, n, "%s %d. %s %d", nm->day[wd], d, nm->month[mo], y);
    } else {
        nm = nm ? nm : &date_names[0];
        snprintf(out, n, nm == &date_names[0] ? "%s %02d %s %d" : "%s %d %s %d", nm->day[wd], d,
                 nm->month[mo], y);
    }
}

void i18n_clock(const char *lang, const struct tm *tm, char *out, size_t n)
{
    if (lang && strcmp(lang, "fi") == 0)
        snprintf(out, n, "%d.%02d", tm->tm_hour, tm->tm_min);
    else if (lang && strcmp(lang, "da") == 0)
        snprintf(out, n, "%02d.%02d", tm->tm_hour, tm->tm_min);
    else
        snprintf(out, n, "%02d:%02d", tm->tm_hour, tm->tm_min);
}

/* The thousands separator and decimal mark of lang. */
static void marks(const char *lang, const char **group, const char **dec)
{
    *group = ",", *dec = ".";
    if (!lang || strcmp(lang, "en") == 0)
        return;
    *dec = ",";
    /* sv and fi group with a space (no-break, so a number never wraps) */
    *group = strcmp(lang, "de") == 0 || strcmp(lang, "da") == 0 ? "." : "\u00a0";
}

void i18n_int(const char *lang, long long v, char *out, size_t n)
{
    char digits[32];
    const char *group, *dec;
    marks(lang, &group, &dec);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    int len = snprintf(digits, sizeof digits, "%llu", u);
    size_t o = 0;
    if (n == 0)
        return;
    if (v < 0 && o + 1 < n)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            for (const char *g = group; *g && o + 1 < n; g++)
                out[o++] = *g;
        if (o + 1 < n)
            out[o++] = digits[i];
    }
    out[o] = '\0';
}

void i18n_decimal(const char *lang, double v, int digits, char *out, size_t n)
{
    const char *group, *dec;
    marks(lang, &group, &dec);
    snprintf(out, n, "%.*f", digits < 0 ? 0 : digits > 6 ? 6 : digits, v);
    char *dot = strchr(out, '.');
    if (dot)
        *dot = *dec; /* ',' or '.': one byte either way */
}
