/*
 * event: the validation layer for signed events (see event.h).
 *
 * Order of checks in event_from_parts matters: sizes first (cheap, bound
 * what we decode), then header structure, then the signature over the exact
 * header bytes (so nothing unauthenticated is interpreted further), then the
 * payload against the signed hash, then the payload's fields.
 */
#include "core/event.h"
#include "core/series.h"
#include "core/arena.h"
#include "util/country.h"
#include "util/text.h"
#include "util/time.h"
#include "util/why.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DURATION_S (366LL * 24 * 3600) /* an event longer than a year is a typo */
#define MAX_CAPACITY 100000
#define MIN_TIME_S 946684800LL   /* 2000-01-01: earlier start times are typos */
#define MAX_TIME_S 4102444800LL  /* 2100-01-01 */

/* Records the reason and a one-line message; returns the reason so that
 * checks can be written as `return why_fail(...)`. */
int64_t event_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void event_id_hex(char out[EVENT_ID_HEX_SIZE], const uint8_t id[EVENT_ID_BYTES])
{
    text_hex(out, id, EVENT_ID_BYTES);
}

const char *event_kind_name(int kind)
{
    switch (kind) {
    case LERNET__KIND__KIND_WORKSHOP: return "workshop";
    case LERNET__KIND__KIND_MEETING: return "meeting";
    case LERNET__KIND__KIND_EXPERIENCE: return "experience";
    case LERNET__KIND__KIND_UPDATE: return "update";
    case LERNET__KIND__KIND_CANCEL: return "cancel";
    case LERNET__KIND__KIND_RESOURCE: return "resource";
    case LERNET__KIND__KIND_REPLY: return "reply";
    case LERNET__KIND__KIND_HIDE: return "hide";
    case LERNET__KIND__KIND_GOAL: return "goal";
    case LERNET__KIND__KIND_QUESTIONNAIRE: return "questionnaire";
    case LERNET__KIND__KIND_FEEDBACK: return "feedback";
    case LERNET__KIND__KIND_KEY_CERT: return "key_cert";
    case LERNET__KIND__KIND_KEY_REVOKE: return "key_revoke";
    case LERNET__KIND__KIND_IDENTITY_REVOKE: return "identity_revoke";
    case LERNET__KIND__KIND_MEMBERSHIP: return "membership";
    case LERNET__KIND__KIND_PROFILE: return "profile";
    case LERNET__KIND__KIND_ERASURE: return "erasure";
    default: return NULL;
    }
}

/* Kinds this version accepts: every kind of the format. */
static int kind_supported(int kind)
{
    return (kind >= LERNET__KIND__KIND_WORKSHOP && kind <= LERNET__KIND__KIND_FEEDBACK) ||
           (kind >= LERNET__KIND__KIND_KEY_CERT && kind <= LERNET__KIND__KIND_PROFILE);
}

int event_kind_content(int kind)
{
    return (kind >= LERNET__KIND__KIND_WORKSHOP && kind <= LERNET__KIND__KIND_REPLY) ||
           (kind >= LERNET__KIND__KIND_GOAL && kind <= LERNET__KIND__KIND_FEEDBACK);
}

/* Key events: in the author's key logs, signed by the identity itself.
 * (Membership is a control kind too, but lives in a network's log and may be
 * signed by a certified signing key, like content.) */
static int is_control(int kind)
{
    return (kind >= LERNET__KIND__KIND_KEY_CERT && kind <= LERNET__KIND__KIND_IDENTITY_REVOKE) ||
           kind == LERNET__KIND__KIND_PROFILE;
}

int event_log_reserved(const char *name)
{
    return name && (strcmp(name, EVENT_LOG_KEYS) == 0 || strcmp(name, EVENT_LOG_REVOKED) == 0);
}

int event_log_valid(const char *name)
{
    return event_network_valid(name) || event_log_reserved(name);
}

/* The log a kind belongs in: content in networks, key events in "@keys",
 * the identity revocation alone at seq 1 of "@revoked"; control events are
 * signed by the identity itself. */
static int log_fits(int kind, const char *network, uint64_t seq, int self_signed, char *why,
                    size_t whylen)
{
    const char *want = kind == LERNET__KIND__KIND_IDENTITY_REVOKE ? EVENT_LOG_REVOKED
                       : is_control(kind)                         ? EVENT_LOG_KEYS
                                                                  : NULL;
    if (want ? strcmp(network, want) != 0 : event_log_reserved(network))
        return why_fail(why, whylen, EV_WRONG_LOG, "a %s event cannot be in log '%s'",
                        event_kind_name(kind), network);
    if (kind == LERNET__KIND__KIND_IDENTITY_REVOKE && seq != 1)
        return why_fail(why, whylen, EV_WRONG_LOG, "an identity revocation is seq 1 of %s",
                        EVENT_LOG_REVOKED);
    if (is_control(kind) && !self_signed)
        return why_fail(why, whylen, EV_WRONG_LOG,
                        "a %s event must be signed by the identity key, not a signing key",
                        event_kind_name(kind));
    return EV_OK;
}

int event_network_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > EVENT_MAX_NETWORK || !(islower((unsigned char)name[0]) ||
                                             isdigit((unsigned char)name[0])))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '.' && c != '_' &&
            c != '-')
            return 0;
    }
    return 1;
}

/* ---- field rules ---------------------------------------------------- */

/* BCP-47 syntax, the subset real tags use: a 2-3 letter language, then
 * subtags of 1-8 alphanumerics separated by '-'. */
static int lang_valid(const char *s)
{
    size_t n = strlen(s), i = 0;
    if (n < 2 || n > 35)
        return 0;
    while (i < n && isalpha((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3)
        return 0;
    while (i < n) {
        if (s[i] != '-')
            return 0;
        size_t start = ++i;
        while (i < n && isalnum((unsigned char)s[i]))
            i++;
        if (i - start < 1 || i - start > 8)
            return 0;
    }
    return 1;
}

static int url_valid(const char *s)
{
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return 0;
    const char *host = strstr(s, "://") + 3;
    if (*host == '\0' || *host == '/')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>')
            return 0;
    return 1;
}

typedef struct check {
    char *why;
    size_t whylen;
} check_t;

/* What is wrong with a string field, without naming it (EV_OK: nothing). */
static int string_fault(const char *s, size_t max, int required, int long_text, size_t *len)
{
    size_t n = strlen(s);
    *len = n;
    if (required && n == 0)
        return EV_MISSING_FIELD;
    if (n > max)
        return EV_FIELD_TOO_LONG;
    if (!text_plain(s, n, long_text ? TEXT_MULTILINE : 0))
        return EV_BAD_UTF8;
    return EV_OK;
}

static int string_fail(check_t *c, const char *field, int rc, size_t n, size_t max)
{
    if (rc == EV_MISSING_FIELD)
        return why_fail(c->why, c->whylen, rc, "field '%s' is required", field);
    if (rc == EV_FIELD_TOO_LONG)
        return why_fail(c->why, c->whylen, rc, "field '%s' is %zu bytes, at most %zu", field, n,
                        max);
    return why_fail(c->why, c->whylen, rc,
                    "field '%s' is not valid UTF-8 text (or holds control characters)", field);
}

static int check_string(check_t *c, const char *field, const char *s, size_t max, int required,
                        int long_text)
{
    size_t n;
    int rc = string_fault(s, max, required, long_text, &n);
    return rc ? string_fail(c, field, rc, n, max) : EV_OK;
}

/* check_string of field[i] (then sub, e.g. ".role"): the name is written
 * only for a refusal (formatting it for every string of every event was
 * 2 % of a catch-up receiver's CPU). */
static int check_string_at(check_t *c, const char *field, size_t i, const char *sub,
                           const char *s, size_t max, int required, int long_text)
{
    size_t n;
    int rc = string_fault(s, max, required, long_text, &n);
    if (!rc)
        return EV_OK;
    char name[96];
    snprintf(name, sizeof name, "%s[%zu]%s", field, i, sub);
    return string_fail(c, name, rc, n, max);
}

static int check_texts(check_t *c, const char *field, Lernet__Text **t, size_t n, size_t max,
                       int required, int long_text)
{
    char name[96];
    if (required && n == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                    "field '%s' is required in at least one language", field);
    if (n > EVENT_MAX_LANGS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field '%s' has %zu languages, at most %d",
                    field, n, EVENT_MAX_LANGS);
    for (size_t i = 0; i < n; i++) {
        if (!lang_valid(t[i]->lang)) {
            snprintf(name, sizeof name, "%s[%zu].lang", field, i);
            return why_fail(c->why, c->whylen, EV_BAD_LANG,
                        "field '%s': '%.40s' is not a BCP-47 language tag", name, t[i]->lang);
        }
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(t[j]->lang, t[i]->lang) == 0) {
                snprintf(name, sizeof name, "%s[%zu].lang", field, i);
                return why_fail(c->why, c->whylen, EV_BAD_LANG,
                            "field '%s': language '%s' given twice", name, t[i]->lang);
            }
        int rc = check_string_at(c, field, i, "", t[i]->text, max, 1, long_text);
        if (rc)
            return rc;
    }
    return EV_OK;
}

static int check_tags(check_t *c, const char *field, char **v, size_t n)
{
    if (n > EVENT_MAX_TAGS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field '%s' has %zu entries, at most %d",
                    field, n, EVENT_MAX_TAGS);
    for (size_t i = 0; i < n; i++) {
        int rc = check_string_at(c, field, i, "", v[i], EVENT_MAX_SHORT, 1, 0);
        if (rc)
            return rc;
    }
    return EV_OK;
}

static int check_when(check_t *c, int64_t start, int64_t end, const char *tz)
{
    if (start < MIN_TIME_S || start > MAX_TIME_S)
        return why_fail(c->why, c->whylen, EV_BAD_TIME,
                    "field 'start': %lld is not a time between 2000 and 2100", (long long)start);
    if (end <= start)
        return why_fail(c->why, c->whylen, EV_BAD_TIME, "field 'end' must be after 'start'");
    if (end - start > MAX_DURATION_S)
        return why_fail(c->why, c->whylen, EV_BAD_TIME, "field 'end' is more than a year after 'start'");
    if (!civil_zone_name_valid(tz))
        return why_fail(c->why, c->whylen, EV_BAD_TZ,
                    "field 'tz': '%.64s' is not an IANA time-zone name", tz);
    return EV_OK;
}

static int check_where(check_t *c, const char *place, const char *url)
{
    int rc = check_string(c, "place", place, EVENT_MAX_SHORT, 0, 0);
    if (rc)
        return rc;
    if ((rc = check_string(c, "online_url", url, EVENT_MAX_SHORT, 0, 0)))
        return rc;
    if (!*place && !*url)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                    "field 'place' or 'online_url' is required");
    if (*url && !url_valid(url))
        return why_fail(c->why, c->whylen, EV_BAD_URL,
                    "field 'online_url': not an http(s) address without spaces");
    return EV_OK;
}

/* A series' rule or dates (core/series.h), and each date's place. */
static int check_series(check_t *c, const series_t *s)
{
    char name[48];
    for (size_t i = 0; i < s->n_dates; i++) {
        snprintf(name, sizeof name, "occurrences[%zu].place", i);
        int rc = check_string(c, name, s->dates[i]->place, EVENT_MAX_SHORT, 0, 0);
        if (rc)
            return rc;
    }
    for (size_t i = 0; s->rule && i < s->rule->n_byday; i++) {
        snprintf(name, sizeof name, "recurrence.byday[%zu]", i);
        int rc = check_string(c, name, s->rule->byday[i], 8, 1, 0);
        if (rc)
            return rc;
    }
    return series_check(s, c->why, c->whylen);
}

static int check_workshop(check_t *c, const Lernet__Workshop *w)
{
    int rc;
    if ((rc = check_texts(c, "title", w->title, w->n_title, EVENT_MAX_TITLE, 1, 0)) ||
        (rc = check_texts(c, "description", w->description, w->n_description,
                          EVENT_MAX_LONGTEXT, 0, 1)) ||
        (rc = check_when(c, w->start, w->end, w->tz)) ||
        (rc = check_where(c, w->place, w->online_url)) ||
        (rc = check_string(c, "organiser", w->organiser, EVENT_MAX_SHORT, 1, 0)) ||
        (rc = check_tags(c, "themes", w->themes, w->n_themes)) ||
        (rc = check_tags(c, "roles", w->roles, w->n_roles)))
        return rc;
    series_t sr = series_of(w, NULL);
    if ((rc = check_series(c, &sr)))
        return rc;
    if (w->capacity > MAX_CAPACITY)
        return why_fail(c->why, c->whylen, EV_FIELD_TOO_LONG, "field 'capacity': %u is above %d",
                    w->capacity, MAX_CAPACITY);
    if (*w->language && !lang_valid(w->language))
        return why_fail(c->why, c->whylen, EV_BAD_LANG,
                    "field 'language': '%.40s' is not a BCP-47 language tag", w->language);
    if (w->status < 0 || w->status > LERNET__STATUS__STATUS_CANCELLED)
        return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED, "field 'status': unknown value %d",
                    (int)w->status);
    return EV_OK;
}

static int check_meeting(check_t *c, const Lernet__Meeting *m)
{
    int rc;
    if ((rc = check_texts(c, "title", m->title, m->n_title, EVENT_MAX_TITLE, 1, 0)) ||
        (rc = check_when(c, m->start, m->end, m->tz)) ||
        (rc = check_where(c, m->place, m->online_url)) ||
        (rc = check_string(c, "organiser", m->organiser, EVENT_MAX_SHORT, 0, 0)) ||
        (rc = check_texts(c, "agenda", m->agenda, m->n_agenda, EVENT_MAX_LONGTEXT, 0, 1)) ||
        (rc = check_texts(c, "minutes", m->minutes, m->n_minutes, EVENT_MAX_LONGTEXT, 0, 1)) ||
        (rc = check_tags(c, "themes", m->themes, m->n_themes)))
        return rc;
    series_t sr = series_of(NULL, m);
    if ((rc = check_series(c, &sr)))
        return rc;
    return EV_OK;
}

static int check_ref(check_t *c, const char *field, ProtobufCBinaryData ref)
{
    if (ref.len == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD, "field '%s' is required", field);
    if (ref.len != EVENT_ID_BYTES)
        return why_fail(c->why, c->whylen, EV_BAD_REFERENCE,
                    "field '%s' is %zu bytes, an event id is %d", field, ref.len, EVENT_ID_BYTES);
    return EV_OK;
}

static int check_experience(check_t *c, const Lernet__Experience *e)
{
    int rc;
    if ((rc = check_ref(c, "about", e->about)) ||
        (rc = check_texts(c, "title", e->title, e->n_title, EVENT_MAX_TITLE, 1, 0)) ||
        (rc = check_texts(c, "text", e->text, e->n_text, EVENT_MAX_LONGTEXT, 1, 1)) ||
        (rc = check_texts(c, "lessons", e->lessons, e->n_lessons, EVENT_MAX_LONGTEXT, 0, 1)) ||
        (rc = check_tags(c, "tags", e->tags, e->n_tags)))
        return rc;
    if (e->n_participants > EVENT_MAX_TAGS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field 'participants' has %zu roles, at most %d",
                    e->n_participants, EVENT_MAX_TAGS);
    for (size_t i = 0; i < e->n_participants; i++) {
        if ((rc = check_string_at(c, "participants", i, ".role", e->participants[i]->role,
                                  EVENT_MAX_SHORT, 1, 0)))
            return rc;
        if (e->participants[i]->count > EVENT_MAX_COUNT)
            return why_fail(c->why, c->whylen, EV_FIELD_TOO_LONG,
                        "field 'participants[%zu].count': %u is above %d", i,
                        e->participants[i]->count, EVENT_MAX_COUNT);
    }
    return EV_OK;
}

/* RFC 6838 restricted-name: type/subtype, each 1..63 of [A-Za-z0-9!#$&^_.+-]
 * starting with a letter or digit; no parameters. */
static int media_type_valid(const char *s)
{
    static const char extra[] = "!#$&^_.+-";
    const char *slash = strchr(s, '/');
    if (!slash || strchr(slash + 1, '/'))
        return 0;
    for (int part = 0; part < 2; part++) {
        const char *p = part ? slash + 1 : s, *end = part ? s + strlen(s) : slash;
        if (end - p < 1 || end - p > 63 || !isalnum((unsigned char)*p))
            return 0;
        for (; p < end; p++)
            if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
                return 0;
    }
    return 1;
}

/* A file name to save as, never a path: no '/', '\\' or control characters,
 * not "." or "..". */
static int check_file_name(check_t *c, const char *field, const char *s)
{
    int rc = check_string(c, field, s, EVENT_MAX_FILE_NAME, 1, 0);
    if (rc)
        return rc;
    if (strchr(s, '/') || strchr(s, '\\') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return why_fail(c->why, c->whylen, EV_BAD_FILE_NAME,
                        "field '%s': a file name without any path ('/', '\\', '..')", field);
    return EV_OK;
}

static int check_attachments(check_t *c, Lernet__Attachment **a, size_t n)
{
    char name[48];
    if (n > EVENT_MAX_ATTACHMENTS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field 'attachments' has %zu files, "
                        "at most %d", n, EVENT_MAX_ATTACHMENTS);
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (a[i]->hash.len != EVENT_HASH_BYTES)
            return why_fail(c->why, c->whylen, EV_BAD_ATTACHMENT,
                            "field 'attachments[%zu].hash' is %zu bytes, a BLAKE2b-256 hash "
                            "is %d", i, a[i]->hash.len, EVENT_HASH_BYTES);
        for (size_t j = 0; j < i; j++)
            if (memcmp(a[j]->hash.data, a[i]->hash.data, EVENT_HASH_BYTES) == 0)
                return why_fail(c->why, c->whylen, EV_BAD_ATTACHMENT,
                                "field 'attachments[%zu].hash': the same file is attached "
                                "twice", i);
        if (a[i]->size == 0 || a[i]->size > EVENT_MAX_ATTACHMENT_SIZE)
            return why_fail(c->why, c->whylen, EV_BAD_ATTACHMENT,
                            "field 'attachments[%zu].size': %llu, must be 1..%d bytes (25 MiB)",
                            i, (unsigned long long)a[i]->size, EVENT_MAX_ATTACHMENT_SIZE);
        snprintf(name, sizeof name, "attachments[%zu].media_type", i);
        if ((rc = check_string(c, name, a[i]->media_type, EVENT_MAX_MEDIA_TYPE, 1, 0)))
            return rc;
        if (!media_type_valid(a[i]->media_type))
            return why_fail(c->why, c->whylen, EV_BAD_ATTACHMENT,
                            "field '%s': '%.40s' is not a media type like application/pdf",
                            name, a[i]->media_type);
        snprintf(name, sizeof name, "attachments[%zu].name", i);
        if ((rc = check_file_name(c, name, a[i]->name)))
            return rc;
    }
    return EV_OK;
}

static int check_urls(check_t *c, char **v, size_t n)
{
    char name[32];
    if (n > EVENT_MAX_URLS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field 'urls' has %zu entries, at most %d",
                        n, EVENT_MAX_URLS);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "urls[%zu]", i);
        int rc = check_string(c, name, v[i], EVENT_MAX_URL, 1, 0);
        if (rc)
            return rc;
        if (!url_valid(v[i]))
            return why_fail(c->why, c->whylen, EV_BAD_URL,
                            "field '%s': not an http(s) address without spaces", name);
    }
    return EV_OK;
}

/* An optional reference: empty, or an event id. */
static int check_opt_ref(check_t *c, const char *field, ProtobufCBinaryData ref)
{
    return ref.len ? check_ref(c, field, ref) : EV_OK;
}

static int check_resource(check_t *c, const Lernet__Resource *r)
{
    int rc;
    if ((rc = check_texts(c, "title", r->title, r->n_title, EVENT_MAX_TITLE, 1, 0)) ||
        (rc = check_texts(c, "summary", r->summary, r->n_summary, EVENT_MAX_LONGTEXT, 0, 1)))
        return rc;
    if (r->type <= LERNET__RESOURCE_TYPE__RESOURCE_TYPE_UNSPECIFIED ||
        r->type > LERNET__RESOURCE_TYPE__RESOURCE_TYPE_LINK)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'type': %d; must be documentation, literature, recording, "
                        "method or link", (int)r->type);
    if ((rc = check_tags(c, "themes", r->themes, r->n_themes)) ||
        (rc = check_tags(c, "roles", r->roles, r->n_roles)) ||
        (rc = check_urls(c, r->urls, r->n_urls)) ||
        (rc = check_string(c, "licence", r->licence, EVENT_MAX_SHORT, 0, 0)) ||
        (rc = check_opt_ref(c, "about", r->about)) ||
        (rc = check_attachments(c, r->attachments, r->n_attachments)))
        return rc;
    if (*r->language && !lang_valid(r->language))
        return why_fail(c->why, c->whylen, EV_BAD_LANG,
                        "field 'language': '%.40s' is not a BCP-47 language tag", r->language);
    if (r->type == LERNET__RESOURCE_TYPE__RESOURCE_TYPE_LINK && r->n_urls == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'urls': a resource of type link needs at least one URL");
    return EV_OK;
}

static int check_reply(check_t *c, const Lernet__Reply *r)
{
    int rc;
    if ((rc = check_ref(c, "about", r->about)) ||
        (rc = check_texts(c, "text", r->text, r->n_text, EVENT_MAX_LONGTEXT, 1, 1)))
        return rc;
    return check_attachments(c, r->attachments, r->n_attachments);
}

static int check_hide(check_t *c, const Lernet__Hide *h)
{
    int rc = check_ref(c, "target", h->target);
    return rc ? rc : check_string(c, "reason", h->reason, EVENT_MAX_SHORT, 0, 0);
}

/* ---- goals, questionnaires, feedback ------------------------------------ */

/* "YYYY-MM-DD", a day of the calendar between 2000 and 2100; its number
 * (days since 1970-01-01) into *day. */
static int day_valid(const char *s, long *day)
{
    int y, m, d, n = -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 2000 || y >= 2100 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return 0;
    /* days from civil (H. Hinnant's algorithm) */
    int yy = y - (m <= 2);
    long era = yy / 400, yoe = yy - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    *day = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return 1;
}

static int check_period(check_t *c, const char *from, const char *to)
{
    long f, t;
    if (!*from || !*to)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD, "field '%s' is required",
                        *from ? "to" : "from");
    if (!day_valid(from, &f))
        return why_fail(c->why, c->whylen, EV_BAD_TIME,
                        "field 'from': '%.16s' is not a day YYYY-MM-DD between 2000 and 2100",
                        from);
    if (!day_valid(to, &t))
        return why_fail(c->why, c->whylen, EV_BAD_TIME,
                        "field 'to': '%.16s' is not a day YYYY-MM-DD between 2000 and 2100", to);
    if (t < f)
        return why_fail(c->why, c->whylen, EV_BAD_TIME, "field 'to' is before 'from'");
    if (t - f > EVENT_MAX_GOAL_DAYS)
        return why_fail(c->why, c->whylen, EV_BAD_TIME,
                        "field 'to': a goal's period is at most 10 years");
    return EV_OK;
}

static int check_goal(check_t *c, const Lernet__Goal *g)
{
    int rc;
    if ((rc = check_texts(c, "title", g->title, g->n_title, EVENT_MAX_TITLE, 1, 0)) ||
        (rc = check_texts(c, "description", g->description, g->n_description,
                          EVENT_MAX_LONGTEXT, 0, 1)))
        return rc;
    if (g->measure <= LERNET__MEASURE__MEASURE_UNSPECIFIED ||
        g->measure > LERNET__MEASURE__MEASURE_EVENTS)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'measure': %d; must be participants, organisations or events",
                        (int)g->measure);
    if ((rc = check_tags(c, "roles", g->roles, g->n_roles)) ||
        (rc = check_tags(c, "themes", g->themes, g->n_themes)))
        return rc;
    if (g->n_roles && g->measure != LERNET__MEASURE__MEASURE_PARTICIPANTS)
        return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                        "field 'roles': only a goal of participants counts by role");
    if (g->target == 0 || g->target > EVENT_MAX_COUNT)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'target': %u, must be 1..%d", g->target, EVENT_MAX_COUNT);
    return check_period(c, g->from, g->to);
}

static int check_question(check_t *c, size_t i, const Lernet__Question *q)
{
    char name[80];
    snprintf(name, sizeof name, "questions[%zu].text", i);
    int rc = check_texts(c, name, q->text, q->n_text, EVENT_MAX_TITLE, 1, 0);
    if (rc)
        return rc;
    if (q->max <= q->min || q->max - q->min + 1 > EVENT_MAX_SCALE || q->max > 100)
        return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                        "field 'questions[%zu]': scale %u..%u; a scale has 2..%d values "
                        "within 0..100", i, q->min, q->max, EVENT_MAX_SCALE);
    if (q->n_labels > EVENT_MAX_SCALE)
        return why_fail(c->why, c->whylen, EV_TOO_MANY,
                        "field 'questions[%zu].labels' has %zu entries, at most %d", i,
                        q->n_labels, EVENT_MAX_SCALE);
    for (size_t j = 0; j < q->n_labels; j++) {
        const Lernet__ScaleLabel *l = q->labels[j];
        if (l->value < q->min || l->value > q->max)
            return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                            "field 'questions[%zu].labels[%zu]': value %u is not on the "
                            "scale %u..%u", i, j, l->value, q->min, q->max);
        for (size_t k = 0; k < j; k++)
            if (q->labels[k]->value == l->value)
                return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                                "field 'questions[%zu].labels[%zu]': value %u labelled twice",
                                i, j, l->value);
        snprintf(name, sizeof name, "questions[%zu].labels[%zu].text", i, j);
        if ((rc = check_texts(c, name, l->text, l->n_text, EVENT_MAX_SHORT, 1, 0)))
            return rc;
    }
    return EV_OK;
}

static int check_questionnaire(check_t *c, const Lernet__Questionnaire *q)
{
    int rc = check_texts(c, "title", q->title, q->n_title, EVENT_MAX_TITLE, 1, 0);
    if (rc)
        return rc;
    if (q->n_questions == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'questions': a questionnaire asks at least one question");
    if (q->n_questions > EVENT_MAX_QUESTIONS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY,
                        "field 'questions' has %zu entries, at most %d", q->n_questions,
                        EVENT_MAX_QUESTIONS);
    for (size_t i = 0; i < q->n_questions; i++)
        if ((rc = check_question(c, i, q->questions[i])))
            return rc;
    return EV_OK;
}

/* Aggregates only: at least EVENT_MIN_RESPONDENTS, and every histogram
 * sums to the respondents (what fits the questionnaire's scales needs the
 * questionnaire: publish checks it, readers show only what fits). */
static int check_feedback(check_t *c, const Lernet__Feedback *f)
{
    int rc;
    uint64_t total = 0;
    if ((rc = check_ref(c, "about", f->about)) ||
        (rc = check_ref(c, "questionnaire", f->questionnaire)) ||
        (rc = check_texts(c, "title", f->title, f->n_title, EVENT_MAX_TITLE, 0, 0)))
        return rc;
    if (f->n_respondents == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'respondents': respondents per role are required");
    if (f->n_respondents > EVENT_MAX_TAGS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY,
                        "field 'respondents' has %zu roles, at most %d", f->n_respondents,
                        EVENT_MAX_TAGS);
    for (size_t i = 0; i < f->n_respondents; i++) {
        char name[48];
        snprintf(name, sizeof name, "respondents[%zu].role", i);
        if ((rc = check_string(c, name, f->respondents[i]->role, EVENT_MAX_SHORT, 1, 0)))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->respondents[j]->role, f->respondents[i]->role) == 0)
                return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                                "field '%s': role '%.40s' given twice", name,
                                f->respondents[i]->role);
        if (f->respondents[i]->count > EVENT_MAX_COUNT)
            return why_fail(c->why, c->whylen, EV_FIELD_TOO_LONG,
                            "field 'respondents[%zu].count': %u is above %d", i,
                            f->respondents[i]->count, EVENT_MAX_COUNT);
        total += f->respondents[i]->count;
    }
    if (total < EVENT_MIN_RESPONDENTS)
        return why_fail(c->why, c->whylen, EV_TOO_FEW_RESPONDENTS,
                        "field 'respondents': %llu in all; results of fewer than %d "
                        "respondents are never shared", (unsigned long long)total,
                        EVENT_MIN_RESPONDENTS);
    if (total > EVENT_MAX_COUNT)
        return why_fail(c->why, c->whylen, EV_FIELD_TOO_LONG,
                        "field 'respondents': %llu in all, above %d", (unsigned long long)total,
                        EVENT_MAX_COUNT);
    if (f->n_results == 0 || f->n_results > EVENT_MAX_QUESTIONS)
        return why_fail(c->why, c->whylen, f->n_results ? EV_TOO_MANY : EV_MISSING_FIELD,
                        "field 'results' has %zu histograms, must be 1..%d", f->n_results,
                        EVENT_MAX_QUESTIONS);
    for (size_t i = 0; i < f->n_results; i++) {
        const Lernet__Histogram *h = f->results[i];
        uint64_t sum = 0;
        if (h->n_counts < 2 || h->n_counts > EVENT_MAX_SCALE)
            return why_fail(c->why, c->whylen, EV_PAYLOAD_MALFORMED,
                            "field 'results[%zu]' has %zu counts; a scale has 2..%d values", i,
                            h->n_counts, EVENT_MAX_SCALE);
        for (size_t j = 0; j < h->n_counts; j++)
            sum += h->counts[j];
        if (sum != total)
            return why_fail(c->why, c->whylen, EV_HISTOGRAM_MISMATCH,
                            "field 'results[%zu]': its counts sum to %llu, the respondents "
                            "to %llu", i, (unsigned long long)sum, (unsigned long long)total);
    }
    return EV_OK;
}

static int check_update(check_t *c, const Lernet__Update *u)
{
    int rc = check_ref(c, "target", u->target);
    if (rc)
        return rc;
    if (u->content_case == LERNET__UPDATE__CONTENT_WORKSHOP)
        return check_workshop(c, u->workshop);
    if (u->content_case == LERNET__UPDATE__CONTENT_MEETING)
        return check_meeting(c, u->meeting);
    if (u->content_case == LERNET__UPDATE__CONTENT_RESOURCE)
        return check_resource(c, u->resource);
    if (u->content_case == LERNET__UPDATE__CONTENT_GOAL)
        return check_goal(c, u->goal);
    return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                "field 'content': an update carries a workshop, a meeting, a resource or a "
                "goal");
}

static int check_cancel(check_t *c, const Lernet__Cancel *x)
{
    int rc = check_ref(c, "target", x->target);
    if (!rc && x->occurrence && (x->occurrence < MIN_TIME_S || x->occurrence > MAX_TIME_S))
        return why_fail(c->why, c->whylen, EV_BAD_TIME,
                        "field 'occurrence': %lld is not a time between 2000 and 2100",
                        (long long)x->occurrence);
    return rc ? rc : check_string(c, "reason", x->reason, EVENT_MAX_SHORT, 0, 0);
}

/* An erasure names 1..EVENT_MAX_ERASE_TARGETS distinct ids; its reason is
 * one short line (it is shown everywhere the erased item was). */
static int check_erasure(check_t *c, const Lernet__Erasure *x)
{
    char name[32];
    if (x->n_targets == 0)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD,
                        "field 'targets': an erasure names at least one event");
    if (x->n_targets > EVENT_MAX_ERASE_TARGETS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field 'targets' has %zu ids, at most %d",
                        x->n_targets, EVENT_MAX_ERASE_TARGETS);
    for (size_t i = 0; i < x->n_targets; i++) {
        snprintf(name, sizeof name, "targets[%zu]", i);
        int rc = check_ref(c, name, x->targets[i]);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (memcmp(x->targets[j].data, x->targets[i].data, EVENT_ID_BYTES) == 0)
                return why_fail(c->why, c->whylen, EV_BAD_REFERENCE,
                                "field '%s': the same id is named twice", name);
    }
    return check_string(c, "reason", x->reason, EVENT_MAX_ERASE_REASON, 0, 0);
}

static int check_key(check_t *c, const char *field, ProtobufCBinaryData key)
{
    if (key.len != KEYS_PUBLIC_BYTES)
        return why_fail(c->why, c->whylen, EV_MISSING_FIELD, "field '%s' is %zu bytes, a key is %d",
                        field, key.len, KEYS_PUBLIC_BYTES);
    char printable[KEYS_PUB_STR_SIZE];
    uint8_t back[KEYS_PUBLIC_BYTES];
    keys_pub_encode(printable, key.data);
    if (keys_pub_decode(back, printable) != KEYS_OK) /* also checks it is a curve point */
        return why_fail(c->why, c->whylen, EV_BAD_SIGNER, "field '%s' is not an Ed25519 key",
                        field);
    return EV_OK;
}

/* A cut names its last good event by seq and id: the id is required for
 * seq > 0 (it pins the history) and must be absent for seq 0. */
static int check_cut_id(check_t *c, const char *field, uint64_t seq, ProtobufCBinaryData id)
{
    if (seq > 0 && id.len != EVENT_ID_BYTES)
        return why_fail(c->why, c->whylen, EV_BAD_REFERENCE,
                        "field '%s' is %zu bytes; a cut after seq %llu names that event's "
                        "%d-byte id", field, id.len, (unsigned long long)seq, EVENT_ID_BYTES);
    if (seq == 0 && id.len != 0)
        return why_fail(c->why, c->whylen, EV_BAD_REFERENCE,
                        "field '%s' must be empty when nothing stays valid (seq 0)", field);
    return EV_OK;
}

static int check_key_revoke(check_t *c, const Lernet__KeyRevoke *r)
{
    char field[48];
    int rc = check_key(c, "signing_key", r->signing_key);
    if (rc == EV_OK && r->n_cuts > EVENT_MAX_CUTS)
        return why_fail(c->why, c->whylen, EV_TOO_MANY, "field 'cuts': %zu, at most %d",
                        r->n_cuts, EVENT_MAX_CUTS);
    for (size_t i = 0; rc == EV_OK && i < r->n_cuts; i++) {
        if (!event_network_valid(r->cuts[i]->network))
            rc = why_fail(c->why, c->whylen, EV_BAD_NETWORK,
                          "field 'cuts': '%.64s' is not a network name", r->cuts[i]->network);
        snprintf(field, sizeof field, "cuts[%zu].last_good_id", i);
        if (rc == EV_OK)
            rc = check_cut_id(c, field, r->cuts[i]->last_good_seq, r->cuts[i]->last_good_id);
        for (size_t j = 0; rc == EV_OK && j < i; j++)
            if (strcmp(r->cuts[j]->network, r->cuts[i]->network) == 0)
                rc = why_fail(c->why, c->whylen, EV_BAD_NETWORK,
                              "field 'cuts': network '%s' is cut twice", r->cuts[i]->network);
    }
    return rc ? rc : check_string(c, "reason", r->reason, EVENT_MAX_SHORT, 0, 0);
}

int event_check_payload(int kind, const Lernet__Payload *p, char *why, size_t whylen)
{
    check_t c = {why, whylen};
    static const int body_for_kind[] = {
        [LERNET__KIND__KIND_WORKSHOP] = LERNET__PAYLOAD__BODY_WORKSHOP,
        [LERNET__KIND__KIND_MEETING] = LERNET__PAYLOAD__BODY_MEETING,
        [LERNET__KIND__KIND_EXPERIENCE] = LERNET__PAYLOAD__BODY_EXPERIENCE,
        [LERNET__KIND__KIND_UPDATE] = LERNET__PAYLOAD__BODY_UPDATE,
        [LERNET__KIND__KIND_CANCEL] = LERNET__PAYLOAD__BODY_CANCEL,
        [LERNET__KIND__KIND_RESOURCE] = LERNET__PAYLOAD__BODY_RESOURCE,
        [LERNET__KIND__KIND_REPLY] = LERNET__PAYLOAD__BODY_REPLY,
        [LERNET__KIND__KIND_HIDE] = LERNET__PAYLOAD__BODY_HIDE,
        [LERNET__KIND__KIND_GOAL] = LERNET__PAYLOAD__BODY_GOAL,
        [LERNET__KIND__KIND_QUESTIONNAIRE] = LERNET__PAYLOAD__BODY_QUESTIONNAIRE,
        [LERNET__KIND__KIND_FEEDBACK] = LERNET__PAYLOAD__BODY_FEEDBACK,
        [LERNET__KIND__KIND_KEY_CERT] = LERNET__PAYLOAD__BODY_KEY_CERT,
        [LERNET__KIND__KIND_KEY_REVOKE] = LERNET__PAYLOAD__BODY_KEY_REVOKE,
        [LERNET__KIND__KIND_IDENTITY_REVOKE] = LERNET__PAYLOAD__BODY_IDENTITY_REVOKE,
        [LERNET__KIND__KIND_MEMBERSHIP] = LERNET__PAYLOAD__BODY_MEMBERSHIP,
        [LERNET__KIND__KIND_PROFILE] = LERNET__PAYLOAD__BODY_PROFILE,
        [LERNET__KIND__KIND_ERASURE] = LERNET__PAYLOAD__BODY_ERASURE,
    };
    if (!kind_supported(kind))
        return why_fail(why, whylen, EV_UNKNOWN_KIND, "kind %d is not supported", kind);
    if ((int)p->body_case != body_for_kind[kind])
        return why_fail(why, whylen, EV_KIND_MISMATCH, "payload is not a %s",
                    event_kind_name(kind));
    switch (p->body_case) {
    case LERNET__PAYLOAD__BODY_WORKSHOP: return check_workshop(&c, p->workshop);
    case LERNET__PAYLOAD__BODY_MEETING: return check_meeting(&c, p->meeting);
    case LERNET__PAYLOAD__BODY_EXPERIENCE: return check_experience(&c, p->experience);
    case LERNET__PAYLOAD__BODY_UPDATE: return check_update(&c, p->update);
    case LERNET__PAYLOAD__BODY_CANCEL: return check_cancel(&c, p->cancel);
    case LERNET__PAYLOAD__BODY_RESOURCE: return check_resource(&c, p->resource);
    case LERNET__PAYLOAD__BODY_REPLY: return check_reply(&c, p->reply);
    case LERNET__PAYLOAD__BODY_HIDE: return check_hide(&c, p->hide);
    case LERNET__PAYLOAD__BODY_GOAL: return check_goal(&c, p->goal);
    case LERNET__PAYLOAD__BODY_QUESTIONNAIRE: return check_questionnaire(&c, p->questionnaire);
    case LERNET__PAYLOAD__BODY_FEEDBACK: return check_feedback(&c, p->feedback);
    case LERNET__PAYLOAD__BODY_ERASURE: return check_erasure(&c, p->erasure);
    case LERNET__PAYLOAD__BODY_KEY_CERT: {
        int rc = check_key(&c, "signing_key", p->key_cert->signing_key);
        return rc ? rc : check_string(&c, "note", p->key_cert->note, EVENT_MAX_SHORT, 0, 0);
    }
    case LERNET__PAYLOAD__BODY_KEY_REVOKE: return check_key_revoke(&c, p->key_revoke);
    case LERNET__PAYLOAD__BODY_IDENTITY_REVOKE:
        return check_string(&c, "reason", p->identity_revoke->reason, EVENT_MAX_SHORT, 0, 0);
    case LERNET__PAYLOAD__BODY_PROFILE: {
        const Lernet__Profile *pr = p->profile;
        int rc = check_string(&c, "name", pr->name, EVENT_MAX_TITLE, 1, 0);
        if (rc == EV_OK && !country_code_valid(pr->country))
            rc = why_fail(why, whylen, EV_MISSING_FIELD,
                          "field 'country': '%.8s' is not an ISO 3166-1 alpha-2 code", pr->country);
        return rc ? rc : check_string(&c, "municipality", pr->municipality, EVENT_MAX_SHORT, 0, 0);
    }
    case LERNET__PAYLOAD__BODY_MEMBERSHIP: {
        const Lernet__Membership *m = p->membership;
        int rc = check_key(&c, "member", m->member);
        if (rc == EV_OK)
            rc = check_string(&c, "name", m->name, EVENT_MAX_TITLE, 0, 0);
        if (rc == EV_OK)
            rc = check_string(&c, "endpoint", m->endpoint, EVENT_MAX_SHORT, 0, 0);
        if (rc == EV_OK && m->until_ms < 0)
            rc = why_fail(why, whylen, EV_BAD_TIME, "field 'until_ms': negative");
        if (rc == EV_OK && !m->removed && (m->last_good_seq || m->last_good_id.len))
            rc = why_fail(why, whylen, EV_BAD_REFERENCE,
                          "field 'last_good_seq': only a removal has a cut");
        if (rc == EV_OK)
            rc = check_cut_id(&c, "last_good_id", m->last_good_seq, m->last_good_id);
        return rc;
    }
    default: return why_fail(why, whylen, EV_PAYLOAD_MALFORMED, "payload has no body");
    }
}

/* ---- parsing -------------------------------------------------------- */

void event_free(event_t **evp)
{
    if (!evp || !*evp)
        return;
    event_t *ev = *evp;
    free(ev->header);
    free(ev->payload);
    if (ev->body_arena) { /* the body's memory, all at once */
        arena_free(ev->body_arena);
        free(ev->body_arena);
    }
    free(ev);
    *evp = NULL;
}

/* Decodes the header bytes into ev's fields and checks their shape. */
static int header_fields(event_t *ev, int64_t now_ms, char *why, size_t whylen)
{
    arena_t ar; /* the decoded header is only read here */
    arena_init(&ar, 2 * EVENT_MAX_HEADER);
    Lernet__Header *h = lernet__header__unpack(&ar.pc, ev->header_len, ev->header);
    int rc = EV_OK;
    if (!h) {
        arena_free(&ar);
        return why_fail(why, whylen, EV_HEADER_MALFORMED, "header: not a valid protobuf Header");
    }
    if (h->version != EVENT_VERSION)
        rc = why_fail(why, whylen, EV_BAD_VERSION, "header 'version': %u, this node speaks %d",
                  h->version, EVENT_VERSION);
    else if (h->author.len != KEYS_PUBLIC_BYTES)
        rc = why_fail(why, whylen, EV_BAD_AUTHOR, "header 'author': %zu bytes, a key is %d",
                  h->author.len, KEYS_PUBLIC_BYTES);
    else if (h->signer.len != KEYS_PUBLIC_BYTES)
        rc = why_fail(why, whylen, EV_BAD_SIGNER, "header 'signer': %zu bytes, a key is %d",
                  h->signer.len, KEYS_PUBLIC_BYTES);
    else if (h->seq == 0)
        rc = why_fail(why, whylen, EV_BAD_SEQ, "header 'seq': logs start at 1");
    else if ((h->seq == 1 && h->prev.len != 0) ||
             (h->seq > 1 && h->prev.len != EVENT_ID_BYTES))
        rc = why_fail(why, whylen, EV_BAD_PREV, "header 'prev': %zu bytes for seq %llu",
                  h->prev.len, (unsigned long long)h->seq);
    else if (h->prev_sig.len != 0 && (h->seq == 1 || h->prev_sig.len != EVENT_HASH_BYTES))
        rc = why_fail(why, whylen, EV_BAD_PREV, "header 'prev_sig': %zu bytes for seq %llu",
                  h->prev_sig.len, (unsigned long long)h->seq);
    else if (!event_log_valid(h->network))
        rc = why_fail(why, whylen, EV_BAD_NETWORK, "header 'network': '%.64s' is not a network name",
                  h->network);
    else if (!kind_supported((int)h->kind))
        rc = why_fail(why, whylen, EV_UNKNOWN_KIND, "header 'kind': %d is not supported",
                  (int)h->kind);
    else if ((rc = log_fits((int)h->kind, h->network, h->seq,
                            memcmp(h->signer.data, h->author.data, KEYS_PUBLIC_BYTES) == 0, why,
                            whylen)) != EV_OK)
        ;
    else if (h->created_ms <= 0 || h->created_ms > now_ms + EVENT_MAX_FUTURE_MS)
        rc = why_fail(why, whylen, EV_FUTURE_TIME,
                  "header 'created_ms': %lld is more than 10 minutes ahead of this node's clock",
                  (long long)h->created_ms);
    else if (h->payload_hash.len != EVENT_HASH_BYTES)
        rc = why_fail(why, whylen, EV_HEADER_MALFORMED, "header 'payload_hash': %zu bytes, not %d",
                  h->payload_hash.len, EVENT_HASH_BYTES);
    else if (h->payload_size == 0 || h->payload_size > EVENT_MAX_PAYLOAD)
        rc = why_fail(why, whylen, EV_PAYLOAD_TOO_LARGE,
                  "header 'payload_size': %llu, must be 1..%d", (unsigned long long)h->payload_size,
                  EVENT_MAX_PAYLOAD);
    if (rc == EV_OK) {
        ev->version = h->version;
        memcpy(ev->author, h->author.data, KEYS_PUBLIC_BYTES);
        memcpy(ev->signer, h->signer.data, KEYS_PUBLIC_BYTES);
        ev->seq = h->seq;
        if (h->prev.len)
            memcpy(ev->prev, h->prev.data, EVENT_ID_BYTES);
        if ((ev->has_prev_sig = h->prev_sig.len != 0))
            memcpy(ev->prev_sig, h->prev_sig.data, EVENT_HASH_BYTES);
        ev->created_ms = h->created_ms;
        snprintf(ev->network, sizeof ev->network, "%s", h->network);
        ev->kind = (int)h->kind;
        memcpy(ev->payload_hash, h->payload_hash.data, EVENT_HASH_BYTES);
        ev->payload_size = h->payload_size;
    }
    arena_free(&ar);
    return rc;
}

static int payload_fields(event_t *ev, const uint8_t *payload, size_t len, const uint8_t *salt,
                          char *why, size_t whylen)
{
    uint8_t h[EVENT_HASH_BYTES];
    if (len != ev->payload_size)
        return why_fail(why, whylen, EV_PAYLOAD_SIZE_MISMATCH,
                    "payload is %zu bytes, the signed header says %llu", len,
                    (unsigned long long)ev->payload_size);
    crypto_generichash(h, sizeof h, payload, len, salt, EVENT_SALT_BYTES);
    if (sodium_memcmp(h, ev->payload_hash, sizeof h) != 0)
        return why_fail(why, whylen, EV_PAYLOAD_HASH_MISMATCH,
                    "payload does not match the signed payload_hash");
    ev->payload = malloc(len);
    if (!ev->payload)
        return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
    memcpy(ev->payload, payload, len);
    ev->payload_len = len;
    memcpy(ev->salt, salt, EVENT_SALT_BYTES);
    ev->has_payload = 1;
    /* one arena per body: unpacking field by field with malloc cost more
     * than the rest of the payload's checks */
    if (!(ev->body_arena = malloc(sizeof *ev->body_arena)))
        return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
    arena_init(ev->body_arena, 2 * len + 512);
    ev->body = lernet__payload__unpack(&ev->body_arena->pc, len, payload);
    if (!ev->body)
        return why_fail(why, whylen, EV_PAYLOAD_MALFORMED, "payload: not a valid protobuf Payload");
    return event_check_payload(ev->kind, ev->body, why, whylen);
}

/* event_from_parts, and event_parse_unverified's path when verify is
 * false (the event is then EVENT_SIG_UNCHECKED). */
static int from_parts(event_t **out, const uint8_t *header, size_t header_len,
                      const uint8_t sig[KEYS_SIG_BYTES], const uint8_t *payload,
                      size_t payload_len, const uint8_t *salt, int64_t now_ms, bool verify,
                      char *why, size_t whylen)
{
    int rc;
    if (header_len == 0 || header_len > EVENT_MAX_HEADER)
        return why_fail(why, whylen, EV_HEADER_TOO_LARGE, "header is %zu bytes, must be 1..%d",
                    header_len, EVENT_MAX_HEADER);
    if (payload && payload_len > EVENT_MAX_PAYLOAD)
        return why_fail(why, whylen, EV_PAYLOAD_TOO_LARGE, "payload is %zu bytes, at most %d",
                    payload_len, EVENT_MAX_PAYLOAD);
    if ((payload == NULL) != (salt == NULL))
        return why_fail(why, whylen, EV_BAD_SALT, "payload and salt must be present or erased together");
    event_t *ev = calloc(1, sizeof *ev);
    if (!ev || !(ev->header = malloc(header_len))) {
        free(ev);
        return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
    }
    memcpy(ev->header, header, header_len);
    ev->header_len = header_len;
    memcpy(ev->sig, sig, KEYS_SIG_BYTES);
    if ((rc = header_fields(ev, now_ms, why, whylen)))
        goto fail;
    if (verify && (rc = event_verify(ev, why, whylen)) != EV_OK)
        goto fail;
    crypto_generichash(ev->id, EVENT_ID_BYTES, header, header_len, NULL, 0);
    if (payload && (rc = payload_fields(ev, payload, payload_len, salt, why, whylen)))
        goto fail;
    *out = ev;
    return EV_OK;
fail:
    event_free(&ev);
    return rc;
}

int event_from_parts(event_t **out, const uint8_t *header, size_t header_len,
                     const uint8_t sig[KEYS_SIG_BYTES], const uint8_t *payload,
                     size_t payload_len, const uint8_t *salt, int64_t now_ms, char *why,
                     size_t whylen)
{
    return from_parts(out, header, header_len, sig, payload, payload_len, salt, now_ms, true, why,
                      whylen);
}

int event_verify(event_t *ev, char *why, size_t whylen)
{
    if (keys_verify(ev->signer, ev->sig, ev->header, ev->header_len) != KEYS_OK)
        return why_fail(why, whylen, EV_BAD_SIGNATURE,
                        "signature does not verify for the signer key");
    ev->sig_state = EVENT_SIG_VERIFIED;
    return EV_OK;
}

void event_sig_hash(uint8_t out[EVENT_HASH_BYTES], const uint8_t sig[KEYS_SIG_BYTES])
{
    crypto_generichash(out, EVENT_HASH_BYTES, sig, KEYS_SIG_BYTES, NULL, 0);
}

bool event_vouch(event_t *ev, const event_t *next)
{
    uint8_t h[EVENT_HASH_BYTES];
    if (next->sig_state == EVENT_SIG_UNCHECKED || !next->has_prev_sig ||
        next->seq != ev->seq + 1 || strcmp(next->network, ev->network) != 0 ||
        memcmp(next->author, ev->author, KEYS_PUBLIC_BYTES) != 0 ||
        memcmp(next->signer, ev->signer, KEYS_PUBLIC_BYTES) != 0 ||
        memcmp(next->prev, ev->id, EVENT_ID_BYTES) != 0)
        return false;
    event_sig_hash(h, ev->sig);
    if (sodium_memcmp(h, next->prev_sig, sizeof h) != 0)
        return false;
    ev->sig_state = EVENT_SIG_VOUCHED;
    return true;
}

/* event_parse, event_parse_erasable and event_parse_unverified: bare says
 * whether an envelope without payload and salt is parsed header-only
 * (has_payload 0) or refused; verify whether the signature is checked. */
static int parse_envelope(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms,
                          int bare, bool verify, char *why, size_t whylen)
{
    if (len > EVENT_MAX_ENVELOPE)
        return why_fail(why, whylen, EV_ENVELOPE_TOO_LARGE, "envelope is %zu bytes, at most %d", len,
                    EVENT_MAX_ENVELOPE);
    arena_t ar; /* the envelope's fields are copied out by event_from_parts */
    arena_init(&ar, len + 512);
    Lernet__Envelope *e = lernet__envelope__unpack(&ar.pc, len, envelope);
    if (!e) {
        arena_free(&ar);
        return why_fail(why, whylen, EV_ENVELOPE_MALFORMED, "envelope: not a valid protobuf Envelope");
    }
    int rc;
    if (e->signature.len != KEYS_SIG_BYTES)
        rc = why_fail(why, whylen, EV_BAD_SIGNATURE, "envelope 'signature': %zu bytes, not %d",
                  e->signature.len, KEYS_SIG_BYTES);
    else if (e->payload.len && e->salt.len != EVENT_SALT_BYTES)
        rc = why_fail(why, whylen, EV_BAD_SALT, "envelope 'salt': %zu bytes, not %d", e->salt.len,
                  EVENT_SALT_BYTES);
    else if (!e->payload.len && e->salt.len)
        rc = why_fail(why, whylen, EV_BAD_SALT, "envelope 'salt' present without a payload");
    else if (!e->payload.len && !bare)
        rc = why_fail(why, whylen, EV_PAYLOAD_MISSING,
                      "envelope has no payload: a copy stripped of its content is not the "
                      "event (only an erasure may remove one)");
    else
        rc = from_parts(out, e->header.data, e->header.len, e->signature.data,
                        e->payload.len ? e->payload.data : NULL, e->payload.len,
                        e->payload.len ? e->salt.data : NULL, now_ms, verify, why, whylen);
    arena_free(&ar);
    return rc;
}

int event_envelope_id(const uint8_t *envelope, size_t len, uint8_t id[EVENT_ID_BYTES])
{
    if (len > EVENT_MAX_ENVELOPE)
        return -1;
    arena_t ar;
    arena_init(&ar, len + 512);
    Lernet__Envelope *e = lernet__envelope__unpack(&ar.pc, len, envelope);
    int rc = -1;
    if (e && e->header.len > 0 && e->header.len <= EVENT_MAX_HEADER) {
        crypto_generichash(id, EVENT_ID_BYTES, e->header.data, e->header.len, NULL, 0);
        rc = 0;
    }
    arena_free(&ar);
    return rc;
}

int event_parse(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms, char *why,
                size_t whylen)
{
    return parse_envelope(out, envelope, len, now_ms, 0, true, why, whylen);
}

int event_parse_erasable(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms,
                         char *why, size_t whylen)
{
    return parse_envelope(out, envelope, len, now_ms, 1, true, why, whylen);
}

int event_parse_unverified(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms,
                           char *why, size_t whylen)
{
    return parse_envelope(out, envelope, len, now_ms, 1, false, why, whylen);
}

void event_strip(event_t *ev)
{
    if (ev->payload)
        sodium_memzero(ev->payload, ev->payload_len);
    free(ev->payload);
    ev->payload = NULL;
    ev->payload_len = 0;
    sodium_memzero(ev->salt, sizeof ev->salt);
    ev->has_payload = 0;
    if (ev->body_arena) { /* the body lives in its arena (see event_free) */
        arena_free(ev->body_arena);
        free(ev->body_arena);
        ev->body_arena = NULL;
    } else if (ev->body)
        lernet__payload__free_unpacked(ev->body, NULL);
    ev->body = NULL;
}

/* ---- building ------------------------------------------------------- */

int event_create(event_t **out, const keys_identity_t *k, const char *network, uint64_t seq,
                 const uint8_t *prev, int64_t created_ms, const Lernet__Payload *payload,
                 char *why, size_t whylen)
{
    return event_create_as(out, NULL, k, network, seq, prev, created_ms, payload, why, whylen);
}

int event_create_as(event_t **out, const uint8_t *author, const keys_identity_t *k,
                    const char *network, uint64_t seq, const uint8_t *prev, int64_t created_ms,
                    const Lernet__Payload *payload, char *why, size_t whylen)
{
    return event_create_linked(out, author, k, network, seq, prev, NULL, created_ms, payload, why,
                               whylen);
}

int event_create_linked(event_t **out, const uint8_t *author, const keys_identity_t *k,
                        const char *network, uint64_t seq, const uint8_t *prev,
                        const uint8_t *prev_sig, int64_t created_ms,
                        const Lernet__Payload *payload, char *why, size_t whylen)
{
    static const int kind_for_body[] = {
        [LERNET__PAYLOAD__BODY_WORKSHOP] = LERNET__KIND__KIND_WORKSHOP,
        [LERNET__PAYLOAD__BODY_MEETING] = LERNET__KIND__KIND_MEETING,
        [LERNET__PAYLOAD__BODY_EXPERIENCE] = LERNET__KIND__KIND_EXPERIENCE,
        [LERNET__PAYLOAD__BODY_UPDATE] = LERNET__KIND__KIND_UPDATE,
        [LERNET__PAYLOAD__BODY_CANCEL] = LERNET__KIND__KIND_CANCEL,
        [LERNET__PAYLOAD__BODY_RESOURCE] = LERNET__KIND__KIND_RESOURCE,
        [LERNET__PAYLOAD__BODY_REPLY] = LERNET__KIND__KIND_REPLY,
        [LERNET__PAYLOAD__BODY_HIDE] = LERNET__KIND__KIND_HIDE,
        [LERNET__PAYLOAD__BODY_GOAL] = LERNET__KIND__KIND_GOAL,
        [LERNET__PAYLOAD__BODY_QUESTIONNAIRE] = LERNET__KIND__KIND_QUESTIONNAIRE,
        [LERNET__PAYLOAD__BODY_FEEDBACK] = LERNET__KIND__KIND_FEEDBACK,
        [LERNET__PAYLOAD__BODY_KEY_CERT] = LERNET__KIND__KIND_KEY_CERT,
        [LERNET__PAYLOAD__BODY_KEY_REVOKE] = LERNET__KIND__KIND_KEY_REVOKE,
        [LERNET__PAYLOAD__BODY_IDENTITY_REVOKE] = LERNET__KIND__KIND_IDENTITY_REVOKE,
        [LERNET__PAYLOAD__BODY_MEMBERSHIP] = LERNET__KIND__KIND_MEMBERSHIP,
        [LERNET__PAYLOAD__BODY_PROFILE] = LERNET__KIND__KIND_PROFILE,
        [LERNET__PAYLOAD__BODY_ERASURE] = LERNET__KIND__KIND_ERASURE,
    };
    if (payload->body_case <= LERNET__PAYLOAD__BODY__NOT_SET ||
        payload->body_case >= (int)(sizeof kind_for_body / sizeof kind_for_body[0]) ||
        kind_for_body[payload->body_case] == 0)
        return why_fail(why, whylen, EV_PAYLOAD_MALFORMED, "payload has no body");
    int kind = kind_for_body[payload->body_case];
    int rc = event_check_payload(kind, payload, why, whylen);
    if (rc)
        return rc;
    if (!event_log_valid(network))
        return why_fail(why, whylen, EV_BAD_NETWORK, "network '%.64s' is not a network name",
                    network);
    if (!author)
        author = keys_public(k);
    int self = memcmp(author, keys_public(k), KEYS_PUBLIC_BYTES) == 0;
    if ((rc = log_fits(kind, network, seq, self, why, whylen)) != EV_OK)
        return rc;
    if (seq == 0 || (seq > 1) != (prev != NULL) || (prev_sig && !prev))
        return seq > 1 ? why_fail(why, whylen, EV_BAD_PREV, "seq %llu needs a previous event id",
                                  (unsigned long long)seq)
                       : why_fail(why, whylen, EV_BAD_PREV, "seq %llu needs no previous event id",
                                  (unsigned long long)seq);
    size_t plen = lernet__payload__get_packed_size(payload);
    if (plen == 0 || plen > EVENT_MAX_PAYLOAD)
        return why_fail(why, whylen, EV_PAYLOAD_TOO_LARGE, "payload is %zu bytes, at most %d", plen,
                    EVENT_MAX_PAYLOAD);
    uint8_t *pbuf = malloc(plen), salt[EVENT_SALT_BYTES], phash[EVENT_HASH_BYTES];
    uint8_t hbuf[EVENT_MAX_HEADER], sig[KEYS_SIG_BYTES];
    if (!pbuf)
        return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
    lernet__payload__pack(payload, pbuf);
    randombytes_buf(salt, sizeof salt);
    crypto_generichash(phash, sizeof phash, pbuf, plen, salt, sizeof salt);

    Lernet__Header h = LERNET__HEADER__INIT;
    h.version = EVENT_VERSION;
    h.author.data = (uint8_t *)author;
    h.author.len = KEYS_PUBLIC_BYTES;
    h.signer.data = (uint8_t *)keys_public(k);
    h.signer.len = KEYS_PUBLIC_BYTES;
    h.seq = seq;
    h.prev.data = (uint8_t *)prev;
    h.prev.len = prev ? EVENT_ID_BYTES : 0;
    h.prev_sig.data = (uint8_t *)prev_sig;
    h.prev_sig.len = prev_sig ? EVENT_HASH_BYTES : 0;
    h.created_ms = created_ms;
    h.network = (char *)network;
    h.kind = (Lernet__Kind)kind;
    h.payload_hash.data = phash;
    h.payload_hash.len = sizeof phash;
    h.payload_size = plen;
    size_t hlen = lernet__header__get_packed_size(&h);
    if (hlen > sizeof hbuf) {
        free(pbuf);
        return why_fail(why, whylen, EV_HEADER_TOO_LARGE, "header is %zu bytes, at most %d", hlen,
                    EVENT_MAX_HEADER);
    }
    lernet__header__pack(&h, hbuf);
    if (keys_sign(k, sig, hbuf, hlen) != KEYS_OK) {
        free(pbuf);
        return why_fail(why, whylen, EV_SIGN_FAILED, "signing failed (the signing key is unusable)");
    }
    /* Re-check the result through the same path remote input takes. */
    rc = event_from_parts(out, hbuf, hlen, sig, pbuf, plen, salt, created_ms, why, whylen);
    free(pbuf);
    return rc;
}

int event_envelope(const event_t *ev, uint8_t **out, size_t *len)
{
    Lernet__Envelope e = LERNET__ENVELOPE__INIT;
    e.header.data = ev->header;
    e.header.len = ev->header_len;
    e.signature.data = (uint8_t *)ev->sig;
    e.signature.len = KEYS_SIG_BYTES;
    if (ev->has_payload) {
        e.payload.data = ev->payload;
        e.payload.len = ev->payload_len;
        e.salt.data = (uint8_t *)ev->salt;
        e.salt.len = EVENT_SALT_BYTES;
    }
    *len = lernet__envelope__get_packed_size(&e);
    *out = malloc(*len ? *len : 1);
    if (!*out)
        return EV_NO_MEMORY;
    lernet__envelope__pack(&e, *out);
    return EV_OK;
}
