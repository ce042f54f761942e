/*
 * payload_json: JSON <-> payload for workshops, meetings and experience
 * reports (see payload_json.h for the shapes).
 *
 * Each kind is described by one table of fields (JSON name, type, offset in
 * the protobuf-c struct). Input and output both walk the same table, so the
 * output of a payload is always valid input and gives the same payload back.
 *
 * Input rules beyond the header:
 *  - JSON null counts as an absent key (so `{"place": null}` in an update
 *    overlay clears the place).
 *  - "start_local"/"end_local" (written by the output functions) are known
 *    keys: either of "start"/"start_local" gives the time; when both are
 *    present they must name the same instant, so an edit of only one of
 *    them is never silently lost.
 *  - Absent strings keep protobuf-c's default empty string, exactly as after
 *    lernet__payload__unpack; everything else is plain malloc, so
 *    lernet__payload__free_unpacked frees a payload built here.
 *
 * Times are read and written by util/time (civil_parse, civil_format),
 * which sets TZ for a moment: not for use from several threads at once.
 */
#include "core/payload_json.h"
#include "util/text.h"
#include "util/time.h"
#include "util/why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CAPACITY 100000 /* the same bound event_check_payload applies */
#define SHOW_MAX 48         /* bytes of user input echoed in a message */

/* ---- language choice ------------------------------------------------ */

/* Length of the primary subtag ("sv" of "sv-FI"). */
static size_t primary_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '-')
        i++;
    return i;
}

/* Text whose lang equals pref[0..n), or (primary) shares its primary
 * subtag; -1 if none. */
static long find_lang(Lernet__Text **texts, size_t count, const char *pref, size_t n,
                      int primary)
{
    size_t pn = primary_len(pref, n);
    for (size_t i = 0; i < count; i++) {
        const char *l = texts[i]->lang;
        size_t ln = strlen(l);
        if (!primary && ln == n && strncasecmp(l, pref, n) == 0)
            return (long)i;
        if (primary && pn && primary_len(l, ln) == pn && strncasecmp(l, pref, pn) == 0)
            return (long)i;
    }
    return -1;
}

/* Each preference in turn, exact tag before primary subtag, so that "sv-FI,en"
 * gives Swedish before English. */
int payload_count_add(json_t *counts, const char *spec, size_t len, char *why, size_t whylen)
{
    char role[EVENT_MAX_SHORT + 1], num[16], *end = NULL;
    for (; len && (*spec == ' ' || *spec == '\t'); spec++, len--)
        ;
    while (len && (spec[len - 1] == ' ' || spec[len - 1] == '\t'))
        len--;
    const char *eq = memchr(spec, '=', len);
    size_t rlen = eq ? (size_t)(eq - spec) : 0, nlen = eq ? len - rlen - 1 : 0;
    while (rlen && (spec[rlen - 1] == ' ' || spec[rlen - 1] == '\t')) /* "teachers = 12" */
        rlen--;
    if (!eq || rlen == 0 || nlen == 0)
        return why_fail(why, whylen, PJ_ERR_INVALID, "'%.*s': write ROLE=COUNT, e.g. teachers=12",
                        (int)(len < 80 ? len : 80), spec);
    if (rlen > EVENT_MAX_SHORT)
        return why_fail(why, whylen, PJ_ERR_INVALID, "role '%.40s...' is longer than %d bytes",
                        spec, EVENT_MAX_SHORT);
    memcpy(role, spec, rlen);
    role[rlen] = '\0';
    errno = 0;
    long long n = -1;
    if (nlen < sizeof num) {
        memcpy(num, eq + 1, nlen);
        num[nlen] = '\0';
        n = strtoll(num, &end, 10);
    }
    if (n < 0 || !end || *end || errno || n > EVENT_MAX_COUNT)
        return why_fail(why, whylen, PJ_ERR_INVALID,
                        "'%s': the count must be a whole number from 0 to %d", role,
                        EVENT_MAX_COUNT);
    if (json_object_get(counts, role))
        return why_fail(why, whylen, PJ_ERR_INVALID, "role '%s' is given twice", role);
    return json_object_set_new(counts, role, json_integer(n)) ? PJ_ERR_NOMEM : PJ_OK;
}

const char *payload_text_pick(Lernet__Text **texts, size_t n, const char *prefs)
{
    if (!texts || n == 0)
        return NULL;
    for (const char *p = prefs ? prefs : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        long i = len ? find_lang(texts, n, p, len, 0) : -1;
        if (i < 0 && len)
            i = find_lang(texts, n, p, len, 1);
        if (i >= 0)
            return texts[i]->text;
        p += len;
    }
    return texts[0]->text;
}

/* ---- field tables --------------------------------------------------- */

enum field_type {
    F_TEXTS,   /* repeated Text: {"sv": "...", "en": "..."} */
    F_STRING,  /* string */
    F_TZ,      /* string naming a zone this system knows; before the
                * times, so that a bad zone is reported as 'tz' */
    F_TIME,    /* int64 Unix seconds: "start"/"end" */
    F_LOCAL,   /* "start_local"/"end_local": the same int64, in the event's zone */
    F_UINT,    /* uint32 0..MAX_CAPACITY (only capacity so far) */
    F_STRINGS, /* repeated string */
    F_STATUS,  /* Status enum as a word */
    F_ID,      /* bytes: 64 hex digits */
    F_COUNTS,  /* repeated RoleCount: {"teachers": 12} */
    F_RTYPE,   /* ResourceType as a word; absent: documentation */
    F_FILES,   /* repeated Attachment: [{"hash", "size", "media_type", "name"}] */
    F_MEASURE, /* Measure as a word */
    F_COUNT,   /* uint32 1..EVENT_MAX_COUNT (a goal's target) */
    F_QUESTIONS, /* repeated Question: [{"text", "min", "max", "labels": {"1": {...}}}] */
    F_HISTS,   /* repeated Histogram: [[0, 2, 5, 4, 1], ...] */
    F_RULE,    /* Recurrence: {"freq": "weekly", "interval", "count" | "until", "byday"} */
    F_DATES,   /* repeated Occurrence: [{"start", "end", "place"}], times as "start" */
};

typedef struct field {
    const char *name;
    enum field_type type;
    size_t off;   /* the value, or the array of a repeated field */
    size_t n_off; /* the count of a repeated field */
} field_t;

#define FLD(T, name, type, member) {name, type, offsetof(T, member), 0}
#define REP(T, name, type, member) {name, type, offsetof(T, member), offsetof(T, n_##member)}

static const field_t workshop_fields[] = {
    REP(Lernet__Workshop, "title", F_TEXTS, title),
    REP(Lernet__Workshop, "description", F_TEXTS, description),
    FLD(Lernet__Workshop, "tz", F_TZ, tz),
    FLD(Lernet__Workshop, "start", F_TIME, start),
    FLD(Lernet__Workshop, "start_local", F_LOCAL, start),
    FLD(Lernet__Workshop, "end", F_TIME, end),
    FLD(Lernet__Workshop, "end_local", F_LOCAL, end),
    FLD(Lernet__Workshop, "place", F_STRING, place),
    FLD(Lernet__Workshop, "online_url", F_STRING, online_url),
    FLD(Lernet__Workshop, "organiser", F_STRING, organiser),
    FLD(Lernet__Workshop, "capacity", F_UINT, capacity),
    REP(Lernet__Workshop, "themes", F_STRINGS, themes),
    REP(Lernet__Workshop, "roles", F_STRINGS, roles),
    FLD(Lernet__Workshop, "language", F_STRING, language),
    FLD(Lernet__Workshop, "status", F_STATUS, status),
    FLD(Lernet__Workshop, "recurrence", F_RULE, recurrence),
    REP(Lernet__Workshop, "occurrences", F_DATES, occurrences),
};

static const field_t meeting_fields[] = {
    REP(Lernet__Meeting, "title", F_TEXTS, title),
    FLD(Lernet__Meeting, "tz", F_TZ, tz),
    FLD(Lernet__Meeting, "start", F_TIME, start),
    FLD(Lernet__Meeting, "start_local", F_LOCAL, start),
    FLD(Lernet__Meeting, "end", F_TIME, end),
    FLD(Lernet__Meeting, "end_local", F_LOCAL, end),
    FLD(Lernet__Meeting, "place", F_STRING, place),
    FLD(Lernet__Meeting, "online_url", F_STRING, online_url),
    FLD(Lernet__Meeting, "organiser", F_STRING, organiser),
    REP(Lernet__Meeting, "agenda", F_TEXTS, agenda),
    REP(Lernet__Meeting, "minutes", F_TEXTS, minutes),
    REP(Lernet__Meeting, "themes", F_STRINGS, themes),
    FLD(Lernet__Meeting, "recurrence", F_RULE, recurrence),
    REP(Lernet__Meeting, "occurrences", F_DATES, occurrences),
};

static const field_t experience_fields[] = {
    FLD(Lernet__Experience, "about", F_ID, about),
    REP(Lernet__Experience, "title", F_TEXTS, title),
    REP(Lernet__Experience, "text", F_TEXTS, text),
    REP(Lernet__Experience, "lessons", F_TEXTS, lessons),
    REP(Lernet__Experience, "tags", F_STRINGS, tags),
    REP(Lernet__Experience, "participants", F_COUNTS, participants),
};

static const field_t resource_fields[] = {
    REP(Lernet__Resource, "title", F_TEXTS, title),
    REP(Lernet__Resource, "summary", F_TEXTS, summary),
    FLD(Lernet__Resource, "type", F_RTYPE, type),
    REP(Lernet__Resource, "themes", F_STRINGS, themes),
    REP(Lernet__Resource, "roles", F_STRINGS, roles),
    FLD(Lernet__Resource, "language", F_STRING, language),
    REP(Lernet__Resource, "urls", F_STRINGS, urls),
    FLD(Lernet__Resource, "licence", F_STRING, licence),
    FLD(Lernet__Resource, "about", F_ID, about),
    REP(Lernet__Resource, "attachments", F_FILES, attachments),
};

static const field_t reply_fields[] = {
    FLD(Lernet__Reply, "about", F_ID, about),
    REP(Lernet__Reply, "text", F_TEXTS, text),
    REP(Lernet__Reply, "attachments", F_FILES, attachments),
};

static const field_t goal_fields[] = {
    REP(Lernet__Goal, "title", F_TEXTS, title),
    REP(Lernet__Goal, "description", F_TEXTS, description),
    FLD(Lernet__Goal, "measure", F_MEASURE, measure),
    REP(Lernet__Goal, "roles", F_STRINGS, roles),
    REP(Lernet__Goal, "themes", F_STRINGS, themes),
    FLD(Lernet__Goal, "target", F_COUNT, target),
    FLD(Lernet__Goal, "from", F_STRING, from),
    FLD(Lernet__Goal, "to", F_STRING, to),
};

static const field_t questionnaire_fields[] = {
    REP(Lernet__Questionnaire, "title", F_TEXTS, title),
    REP(Lernet__Questionnaire, "questions", F_QUESTIONS, questions),
};

static const field_t feedback_fields[] = {
    FLD(Lernet__Feedback, "about", F_ID, about),
    FLD(Lernet__Feedback, "questionnaire", F_ID, questionnaire),
    REP(Lernet__Feedback, "title", F_TEXTS, title),
    REP(Lernet__Feedback, "respondents", F_COUNTS, respondents),
    REP(Lernet__Feedback, "results", F_HISTS, results),
};

typedef struct kind_spec {
    payload_kind_t pub; /* what the commands, their help and the tests see */
    const char *what;   /* "a workshop", for messages */
    const field_t *fields;
    size_t nfields;
} kind_spec_t;

#define SPEC(name, plural, k, ops, sample, what, f)                                              \
    {{name, plural, k, ops, sample}, what, f, sizeof f / sizeof f[0]}

/* The samples are what `lernet publish --help` prints: realistic, and
 * each one published as it stands by tests/test_matrix.c. */
static const char workshop_sample[] =
    "{\"title\": {\"sv\": \"Arbetsplatslärande i praktiken\",\n"
    "           \"en\": \"Workplace learning in practice\"},\n"
    " \"description\": {\"en\": \"How learning centres and companies plan learning at "
    "work.\"},\n"
    " \"start\": \"2027-02-09T09:00\", \"end\": \"2027-02-09T15:00\", "
    "\"tz\": \"Europe/Stockholm\",\n"
    " \"place\": \"Storgatan 1, Östhammar\", \"organiser\": \"Lärcentrum Östhammar\",\n"
    " \"capacity\": 30, \"language\": \"sv\", \"status\": \"confirmed\",\n"
    " \"themes\": [\"workplace learning\"], \"roles\": [\"teachers\", \"competence brokers\"]}";
static const char meeting_sample[] =
    "{\"title\": {\"da\": \"Netværksmøde: læringscentre som mæglere\",\n"
    "           \"en\": \"Network meeting: learning centres as brokers\"},\n"
    " \"start\": \"2027-02-16T13:00\", \"end\": \"2027-02-16T15:00\", "
    "\"tz\": \"Europe/Copenhagen\",\n"
    " \"place\": \"Roskilde Handelsskole\", \"organiser\": \"Roskilde Handelsskole\",\n"
    " \"online_url\": \"https://meet.example.org/net\",\n"
    " \"agenda\": {\"da\": \"1. Velkomst\\n2. Erfaringer fra innovationscamp\"},\n"
    " \"themes\": [\"learning centre as broker\"]}";
static const char experience_sample[] =
    "{\"about\": \"3f2a91c0\",\n"
    " \"title\": {\"en\": \"What we learned at the innovation camp\"},\n"
    " \"text\": {\"en\": \"Coaching at the workplace worked better than the classroom.\"},\n"
    " \"lessons\": {\"en\": \"Book the companies' rooms early.\"},\n"
    " \"tags\": [\"workplace learning\"],\n"
    " \"participants\": {\"teachers\": 12, \"company representatives\": 7}}";

static const char resource_sample[] =
    "{\"title\": {\"da\": \"Metodekatalog: partnerskaber mellem skole og virksomhed\",\n"
    "           \"en\": \"Method catalogue: school-company partnerships\"},\n"
    " \"summary\": {\"en\": \"Innovation camps, experience groups and internship "
    "cooperation, as the business colleges' networks ran them.\"},\n"
    " \"type\": \"method\", \"language\": \"da\", \"licence\": \"CC BY 4.0\",\n"
    " \"themes\": [\"workplace learning\"], \"roles\": [\"teachers\", "
    "\"company representatives\"],\n"
    " \"urls\": [\"https://example.org/metodekatalog\"]}";
static const char reply_sample[] =
    "{\"about\": \"3f2a91c0\",\n"
    " \"text\": {\"sv\": \"Vi provade innovationscampen i Östhammar: boka företagen tidigt.\",\n"
    "          \"en\": \"We tried the innovation camp in Östhammar: book the companies "
    "early.\"}}";

/* The project's goals (DOMAIN.md): 180 persons in competence activities
 * towards working life, 11 organisations improving their relations with
 * companies. */
static const char goal_sample[] =
    "{\"title\": {\"sv\": \"180 personer i kompetensinsatser mot arbetslivet\",\n"
    "           \"en\": \"180 persons in competence activities towards working life\"},\n"
    " \"measure\": \"participants\", \"themes\": [\"workplace learning\"],\n"
    " \"target\": 180, \"from\": \"2027-01-01\", \"to\": \"2028-12-31\"}";
static const char questionnaire_sample[] =
    "{\"title\": {\"sv\": \"Deltagarnas utvärdering\", \"en\": \"Participants' evaluation\"},\n"
    " \"questions\": [\n"
    "  {\"text\": {\"sv\": \"Hur nöjd är du med aktiviteten?\",\n"
    "            \"en\": \"How satisfied are you with the activity?\"},\n"
    "   \"min\": 1, \"max\": 5,\n"
    "   \"labels\": {\"1\": {\"sv\": \"Inte alls\", \"en\": \"Not at all\"},\n"
    "              \"5\": {\"sv\": \"Mycket\", \"en\": \"Very\"}}},\n"
    "  {\"text\": {\"sv\": \"Kan du använda det i ditt arbete?\",\n"
    "            \"en\": \"Can you use it in your work?\"},\n"
    "   \"min\": 1, \"max\": 5}]}";
static const char feedback_sample[] =
    "{\"about\": \"3f2a91c0\", \"questionnaire\": \"8d41c7e2\",\n"
    " \"title\": {\"en\": \"Participants' feedback, Östhammar\"},\n"
    " \"respondents\": {\"teachers\": 9, \"company representatives\": 5},\n"
    " \"results\": [[0, 1, 2, 6, 5], [1, 0, 3, 7, 3]]}";

static const kind_spec_t specs[] = {
    SPEC("workshop", "workshops", LERNET__KIND__KIND_WORKSHOP,
         PAYLOAD_KIND_UPDATE | PAYLOAD_KIND_CANCEL | PAYLOAD_KIND_REPORTED, workshop_sample,
         "a workshop", workshop_fields),
    SPEC("meeting", "meetings", LERNET__KIND__KIND_MEETING,
         PAYLOAD_KIND_UPDATE | PAYLOAD_KIND_CANCEL | PAYLOAD_KIND_REPORTED, meeting_sample,
         "a meeting", meeting_fields),
    SPEC("experience", "experiences", LERNET__KIND__KIND_EXPERIENCE, PAYLOAD_KIND_ABOUT,
         experience_sample, "an experience report", experience_fields),
    SPEC("resource", "resources", LERNET__KIND__KIND_RESOURCE, PAYLOAD_KIND_UPDATE,
         resource_sample, "a resource", resource_fields),
    SPEC("reply", "replies", LERNET__KIND__KIND_REPLY, PAYLOAD_KIND_ANSWERS, reply_sample,
         "a reply", reply_fields),
    SPEC("goal", "goals", LERNET__KIND__KIND_GOAL, PAYLOAD_KIND_UPDATE, goal_sample, "a goal",
         goal_fields),
    SPEC("questionnaire", "questionnaires", LERNET__KIND__KIND_QUESTIONNAIRE, 0,
         questionnaire_sample, "a questionnaire", questionnaire_fields),
    SPEC("feedback", "feedback", LERNET__KIND__KIND_FEEDBACK, PAYLOAD_KIND_RESULTS,
         feedback_sample, "feedback", feedback_fields),
};
#define N_SPECS (sizeof specs / sizeof specs[0])

static const kind_spec_t *spec_of(int kind)
{
    for (size_t i = 0; i < N_SPECS; i++)
        if (specs[i].pub.kind == kind)
            return &specs[i];
    return NULL;
}

const payload_kind_t *payload_kind_at(size_t i)
{
    return i < N_SPECS ? &specs[i].pub : NULL;
}

const payload_kind_t *payload_kind_of(int kind)
{
    const kind_spec_t *k = spec_of(kind);
    return k ? &k->pub : NULL;
}

const payload_kind_t *payload_kind_named(const char *name)
{
    for (size_t i = 0; name && i < N_SPECS; i++)
        if (strcmp(name, specs[i].pub.name) == 0 || strcmp(name, specs[i].pub.plural) == 0)
            return &specs[i].pub;
    return NULL;
}

static const field_t *field_of(const kind_spec_t *k, const char *name)
{
    for (size_t i = 0; i < k->nfields; i++)
        if (strcmp(k->fields[i].name, name) == 0)
            return &k->fields[i];
    return NULL;
}

#define MEMBER(msg, f, T) ((T *)((char *)(msg) + (f)->off))
#define COUNT(msg, f) ((size_t *)((char *)(msg) + (f)->n_off))

static const char *status_names[] = {
    [LERNET__STATUS__STATUS_PLANNED] = "planned",
    [LERNET__STATUS__STATUS_CONFIRMED] = "confirmed",
    [LERNET__STATUS__STATUS_FULL] = "full",
    [LERNET__STATUS__STATUS_CANCELLED] = "cancelled",
};
#define N_STATUS (sizeof status_names / sizeof status_names[0])

static const char *rtype_names[] = {
    [LERNET__RESOURCE_TYPE__RESOURCE_TYPE_DOCUMENTATION] = "documentation",
    [LERNET__RESOURCE_TYPE__RESOURCE_TYPE_LITERATURE] = "literature",
    [LERNET__RESOURCE_TYPE__RESOURCE_TYPE_RECORDING] = "recording",
    [LERNET__RESOURCE_TYPE__RESOURCE_TYPE_METHOD] = "method",
    [LERNET__RESOURCE_TYPE__RESOURCE_TYPE_LINK] = "link",
};
#define N_RTYPE (sizeof rtype_names / sizeof rtype_names[0])

static const char *measure_names[] = {
    [LERNET__MEASURE__MEASURE_PARTICIPANTS] = "participants",
    [LERNET__MEASURE__MEASURE_ORGANISATIONS] = "organisations",
    [LERNET__MEASURE__MEASURE_EVENTS] = "events",
};
#define N_MEASURE (sizeof measure_names / sizeof measure_names[0])

const char *payload_measure_name(int m)
{
    return m > 0 && (size_t)m < N_MEASURE ? measure_names[m] : NULL;
}

int payload_measure_of(const char *name)
{
    for (size_t i = 1; name && i < N_MEASURE; i++)
        if (strcmp(name, measure_names[i]) == 0)
            return (int)i;
    return 0;
}

const char *payload_resource_type_name(int type)
{
    return type > 0 && (size_t)type < N_RTYPE ? rtype_names[type] : NULL;
}

int payload_resource_type_of(const char *name)
{
    for (size_t i = 1; name && i < N_RTYPE; i++)
        if (strcmp(name, rtype_names[i]) == 0)
            return (int)i;
    return 0;
}

/* ---- input: one function per field type ----------------------------- */

/* State of one conversion: the object, where errors go. */
typedef struct in {
    const json_t *obj;
    char *why;
    size_t whylen;
} in_t;

/* JSON text without NUL bytes: C strings must mean what the JSON said. */
static const char *plain_string(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static int string_error(in_t *in, const char *field, const json_t *v)
{
    if (json_is_string(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': must not contain a NUL character", field);
    return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s': must be a string", field);
}

static int nomem(in_t *in)
{
    return why_fail(in->why, in->whylen, PJ_ERR_NOMEM, "out of memory");
}

/* Object keys can hold "\u0000" since jansson 2.14; such a key would be
 * cut short as a C string. */
static int key_ok(const char *key, size_t key_len)
{
    return strlen(key) == key_len;
}

#if JANSSON_VERSION_HEX >= 0x020e00
#define KEY_LEN(key) json_object_iter_key_len(json_object_key_to_iter(key))
#else
#define KEY_LEN(key) strlen(key)
#endif

static int key_error(in_t *in, const char *field)
{
    return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                "field '%s': a key contains a NUL character", field);
}

static Lernet__Text *new_text(const char *lang, const char *s)
{
    Lernet__Text *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    lernet__text__init(t);
    t->lang = strdup(lang);
    t->text = strdup(s);
    if (!t->lang || !t->text) {
        lernet__text__free_unpacked(t, NULL);
        return NULL;
    }
    return t;
}

/* Array of n pointers for a repeated field; its count grows as entries are
 * added, so free_unpacked is right after any failure. */
static int alloc_array(in_t *in, void *msg, const field_t *f, size_t n, size_t size)
{
    void *arr = calloc(n ? n : 1, size);
    if (!arr)
        return nomem(in);
    *MEMBER(msg, f, void *) = arr;
    *COUNT(msg, f) = 0;
    return PJ_OK;
}

static int text_entry(in_t *in, const field_t *f, const char *lang, const json_t *val,
                      Lernet__Text ***arr, size_t *count)
{
    char name[96], a[TEXT_SHOW_SIZE(SHOW_MAX)];
    const char *s = plain_string(val);
    if (!s) {
        snprintf(name, sizeof name, "%s.%s", f->name, text_show(a, sizeof a, lang));
        return string_error(in, name, val);
    }
    Lernet__Text *t = new_text(lang, s);
    if (!t)
        return nomem(in);
    (*arr)[(*count)++] = t;
    return PJ_OK;
}

static int in_texts(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': must be an object of language tag to text, e.g. "
                    "{\"sv\": \"...\", \"en\": \"...\"}", f->name);
    size_t n = json_object_size(v);
    if (n > EVENT_MAX_LANGS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s' has %zu languages, at most %d", f->name, n, EVENT_MAX_LANGS);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__Text *));
    /* jansson takes no const objects; iterating does not change v */
    json_object_foreach ((json_t *)v, key, val) {
        if (rc)
            break;
        if (!key_ok(key, KEY_LEN(key)))
            return key_error(in, f->name);
        rc = text_entry(in, f, key, val, MEMBER(msg, f, Lernet__Text **), COUNT(msg, f));
    }
    return rc;
}

static int in_string(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    const char *s = plain_string(v);
    if (!s)
        return string_error(in, f->name, v);
    char *copy = strdup(s);
    if (!copy)
        return nomem(in);
    *MEMBER(msg, f, char *) = copy;
    return PJ_OK;
}

static int in_tz(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    char a[TEXT_SHOW_SIZE(SHOW_MAX)];
    const char *s = plain_string(v);
    if (s && *s && !civil_zone_known(s))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': '%s' is not a time zone known to this system", f->name,
                        text_show(a, sizeof a, s));
    return in_string(in, msg, f, v);
}

/* One time value; local times are read in the object's "tz". */
static int time_value(in_t *in, const char *name, const json_t *v, int64_t *out)
{
    char msg[256];
    const char *s = plain_string(v);
    if (!s)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': must be a time string like 2026-12-03T09:00:00Z", name);
    const char *tz = plain_string(json_object_get(in->obj, "tz"));
    int rc = civil_parse(s, tz, out, msg, sizeof msg);
    if (rc)
        return why_fail(in->why, in->whylen, rc == CIVIL_ERR_NOMEM ? PJ_ERR_NOMEM : PJ_ERR_INVALID,
                        "field '%s': %s", name, msg);
    return PJ_OK;
}

/* "start" or "start_local" gives the time; both must agree. */
static int in_time(in_t *in, void *msg, const field_t *f)
{
    char local_name[32];
    int64_t t, t_local;
    snprintf(local_name, sizeof local_name, "%s_local", f->name);
    const json_t *v = json_object_get(in->obj, f->name);
    const json_t *lv = json_object_get(in->obj, local_name);
    v = json_is_null(v) ? NULL : v;
    lv = json_is_null(lv) ? NULL : lv;
    if (!v && !lv)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s' is required", f->name);
    int rc = v ? time_value(in, f->name, v, &t) : PJ_OK;
    if (!rc && lv)
        rc = time_value(in, local_name, lv, &t_local);
    if (rc)
        return rc;
    if (v && lv && t != t_local)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': not the same time as '%s'; remove one of them", local_name,
                    f->name);
    *MEMBER(msg, f, int64_t) = v ? t : t_local;
    return PJ_OK;
}

static int in_uint(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < 0 || i > MAX_CAPACITY)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s': must be an integer 0..%d",
                    f->name, MAX_CAPACITY);
    *MEMBER(msg, f, uint32_t) = (uint32_t)i;
    return PJ_OK;
}

static int in_strings(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    char name[64];
    if (!json_is_array(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s': must be an array of strings",
                    f->name);
    size_t n = json_array_size(v);
    if (n > EVENT_MAX_TAGS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s' has %zu entries, at most %d",
                    f->name, n, EVENT_MAX_TAGS);
    int rc = alloc_array(in, msg, f, n, sizeof(char *));
    for (size_t i = 0; !rc && i < n; i++) {
        const json_t *e = json_array_get(v, i);
        const char *s = plain_string(e);
        snprintf(name, sizeof name, "%s[%zu]", f->name, i);
        if (!s)
            return string_error(in, name, e);
        char *copy = strdup(s);
        if (!copy)
            return nomem(in);
        (*MEMBER(msg, f, char **))[(*COUNT(msg, f))++] = copy;
    }
    return rc;
}

/* Absent: planned, the natural state of a newly announced workshop. */
static int in_status(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    const char *s = plain_string(v);
    Lernet__Status *st = MEMBER(msg, f, Lernet__Status);
    if (!v) {
        *st = LERNET__STATUS__STATUS_PLANNED;
        return PJ_OK;
    }
    for (size_t i = 1; s && i < N_STATUS; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *st = (Lernet__Status)i;
            return PJ_OK;
        }
    }
    return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                "field '%s': must be one of planned, confirmed, full, cancelled", f->name);
}

static int in_id(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    const char *s = plain_string(v);
    uint8_t id[EVENT_ID_BYTES];
    if (!s || strlen(s) != 2 * EVENT_ID_BYTES)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': must be an event id of %d hex digits", f->name,
                    2 * EVENT_ID_BYTES);
    if (text_hex_decode(id, EVENT_ID_BYTES, s) != 0)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': character %zu is not a hex digit", f->name,
                        text_hex_span(s) + 1);
    ProtobufCBinaryData *b = MEMBER(msg, f, ProtobufCBinaryData);
    if (!(b->data = malloc(EVENT_ID_BYTES)))
        return nomem(in);
    memcpy(b->data, id, EVENT_ID_BYTES);
    b->len = EVENT_ID_BYTES;
    return PJ_OK;
}

static int count_entry(in_t *in, const field_t *f, const char *role, const json_t *val,
                       Lernet__RoleCount ***arr, size_t *count)
{
    char a[TEXT_SHOW_SIZE(SHOW_MAX)];
    json_int_t i = json_integer_value(val);
    if (!json_is_integer(val) || i < 0 || i > EVENT_MAX_COUNT)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s.%s': must be an integer 0..%d", f->name,
                        text_show(a, sizeof a, role), EVENT_MAX_COUNT);
    Lernet__RoleCount *rc = malloc(sizeof *rc);
    if (!rc)
        return nomem(in);
    lernet__role_count__init(rc);
    if (!(rc->role = strdup(role))) {
        free(rc);
        return nomem(in);
    }
    rc->count = (uint32_t)i;
    (*arr)[(*count)++] = rc;
    return PJ_OK;
}

static int in_counts(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                    "field '%s': must be an object of role to count, e.g. {\"teachers\": 12}",
                    f->name);
    size_t n = json_object_size(v);
    if (n > EVENT_MAX_TAGS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s' has %zu roles, at most %d",
                    f->name, n, EVENT_MAX_TAGS);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__RoleCount *));
    json_object_foreach ((json_t *)v, key, val) {
        if (rc)
            break;
        if (!key_ok(key, KEY_LEN(key)))
            return key_error(in, f->name);
        rc = count_entry(in, f, key, val, MEMBER(msg, f, Lernet__RoleCount **), COUNT(msg, f));
    }
    return rc;
}

/* Absent: documentation, what most of a project's library is. */
static int in_rtype(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    Lernet__ResourceType *t = MEMBER(msg, f, Lernet__ResourceType);
    int i = v ? payload_resource_type_of(plain_string(v)) : 1;
    if (!i)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be one of documentation, literature, recording, "
                        "method, link", f->name);
    *t = (Lernet__ResourceType)i;
    return PJ_OK;
}

/* One {"hash", "size", "media_type", "name"} of "attachments". */
static int file_entry(in_t *in, const json_t *v, size_t i, Lernet__Attachment **out)
{
    char name[48];
    const char *key;
    json_t *val;
    if (!json_is_object(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'attachments[%zu]': must be an object with hash, size, "
                        "media_type and name", i);
    json_object_foreach ((json_t *)v, key, val)
        if (strcmp(key, "hash") && strcmp(key, "size") && strcmp(key, "media_type") &&
            strcmp(key, "name") && strcmp(key, "present"))
            return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                            "field 'attachments[%zu]': unknown key (known: hash, size, "
                            "media_type, name)", i);
    const char *hash = plain_string(json_object_get(v, "hash"));
    const char *mt = plain_string(json_object_get(v, "media_type"));
    const char *fn = plain_string(json_object_get(v, "name"));
    const json_t *size = json_object_get(v, "size");
    uint8_t h[EVENT_HASH_BYTES];
    if (!hash || strlen(hash) != 2 * EVENT_HASH_BYTES || text_hex_decode(h, sizeof h, hash))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'attachments[%zu].hash': must be %d hex digits (BLAKE2b-256)", i,
                        2 * EVENT_HASH_BYTES);
    if (!json_is_integer(size) || json_integer_value(size) <= 0)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'attachments[%zu].size': must be a whole number of bytes above 0",
                        i);
    snprintf(name, sizeof name, "attachments[%zu].%s", i, !mt ? "media_type" : "name");
    if (!mt || !fn)
        return string_error(in, name, json_object_get(v, !mt ? "media_type" : "name"));
    Lernet__Attachment *a = malloc(sizeof *a);
    if (!a)
        return nomem(in);
    lernet__attachment__init(a);
    a->hash.data = malloc(EVENT_HASH_BYTES);
    a->media_type = strdup(mt);
    a->name = strdup(fn);
    *out = a; /* freed with the payload, whole or not */
    if (!a->hash.data || !a->media_type || !a->name)
        return nomem(in);
    memcpy(a->hash.data, h, EVENT_HASH_BYTES);
    a->hash.len = EVENT_HASH_BYTES;
    a->size = (uint64_t)json_integer_value(size);
    return PJ_OK;
}

static int in_files(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    if (!json_is_array(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be an array of files", f->name);
    size_t n = json_array_size(v);
    if (n > EVENT_MAX_ATTACHMENTS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s' has %zu files, at most %d", f->name, n, EVENT_MAX_ATTACHMENTS);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__Attachment *));
    Lernet__Attachment **arr = *MEMBER(msg, f, Lernet__Attachment **);
    for (size_t i = 0; !rc && i < n; i++) {
        arr[i] = NULL;
        rc = file_entry(in, json_array_get(v, i), i, &arr[i]);
        if (arr[i])
            (*COUNT(msg, f))++;
    }
    return rc;
}

static int in_measure(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    int i = payload_measure_of(plain_string(v));
    if (!i)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be one of participants, organisations, events",
                        f->name);
    *MEMBER(msg, f, Lernet__Measure) = (Lernet__Measure)i;
    return PJ_OK;
}

static int in_count(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < 1 || i > EVENT_MAX_COUNT)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be a whole number 1..%d", f->name, EVENT_MAX_COUNT);
    *MEMBER(msg, f, uint32_t) = (uint32_t)i;
    return PJ_OK;
}

/* A small whole number 0..100 of a question's object (a scale end). */
static int small_uint(in_t *in, const json_t *o, const char *key, size_t i, uint32_t *out)
{
    const json_t *v = json_object_get(o, key);
    json_int_t n = json_integer_value(v);
    if (!json_is_integer(v) || n < 0 || n > 100)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'questions[%zu].%s': must be a whole number 0..100", i, key);
    *out = (uint32_t)n;
    return PJ_OK;
}

typedef struct texts_box {
    Lernet__Text **t;
    size_t n;
} texts_box_t;

/* Texts of a nested object through the F_TEXTS reader, named name; absent
 * (NULL) leaves none, for event_check_payload to name. */
static int nested_texts(in_t *in, const char *name, const json_t *v, Lernet__Text ***arr,
                        size_t *n)
{
    texts_box_t box = {NULL, 0};
    field_t f = {name, F_TEXTS, offsetof(texts_box_t, t), offsetof(texts_box_t, n)};
    int rc = v && !json_is_null(v) ? in_texts(in, &box, &f, v) : PJ_OK;
    *arr = box.t; /* freed with the payload, whole or not */
    *n = box.n;
    return rc;
}

static int label_entry(in_t *in, size_t i, const char *key, const json_t *val,
                       Lernet__ScaleLabel **out)
{
    char name[64], *end = NULL;
    long n = strtol(key, &end, 10);
    if (!*key || *end || n < 0 || n > 100)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'questions[%zu].labels': key '%.8s' is not a scale value 0..100",
                        i, key);
    Lernet__ScaleLabel *l = malloc(sizeof *l);
    if (!l)
        return nomem(in);
    lernet__scale_label__init(l);
    l->value = (uint32_t)n;
    *out = l;
    snprintf(name, sizeof name, "questions[%zu].labels.%ld", i, n);
    return nested_texts(in, name, val, &l->text, &l->n_text);
}

static int question_entry(in_t *in, const json_t *o, size_t i, Lernet__Question **out)
{
    char name[48];
    const char *key;
    json_t *val;
    if (!json_is_object(o))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'questions[%zu]': must be an object with text, min, max and "
                        "labels", i);
    json_object_foreach ((json_t *)o, key, val)
        if (strcmp(key, "text") && strcmp(key, "min") && strcmp(key, "max") &&
            strcmp(key, "labels"))
            return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                            "field 'questions[%zu]': unknown key (known: text, min, max, "
                            "labels)", i);
    Lernet__Question *q = malloc(sizeof *q);
    if (!q)
        return nomem(in);
    lernet__question__init(q);
    *out = q; /* freed with the payload, whole or not */
    snprintf(name, sizeof name, "questions[%zu].text", i);
    int rc = nested_texts(in, name, json_object_get(o, "text"), &q->text, &q->n_text);
    if (rc || (rc = small_uint(in, o, "min", i, &q->min)) ||
        (rc = small_uint(in, o, "max", i, &q->max)))
        return rc;
    const json_t *labels = json_object_get(o, "labels");
    if (!labels || json_is_null(labels))
        return PJ_OK;
    if (!json_is_object(labels) || json_object_size(labels) > EVENT_MAX_SCALE)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'questions[%zu].labels': must be an object of at most %d scale "
                        "values to texts, e.g. {\"1\": {\"en\": \"Not at all\"}}", i,
                        EVENT_MAX_SCALE);
    if (!(q->labels = calloc(json_object_size(labels) + 1, sizeof *q->labels)))
        return nomem(in);
    json_object_foreach ((json_t *)labels, key, val) {
        if (!key_ok(key, KEY_LEN(key)))
            return key_error(in, "labels");
        rc = label_entry(in, i, key, val, &q->labels[q->n_labels]);
        if (q->labels[q->n_labels])
            q->n_labels++;
        if (rc)
            return rc;
    }
    return PJ_OK;
}

static int in_questions(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    if (!json_is_array(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be an array of questions", f->name);
    size_t n = json_array_size(v);
    if (n > EVENT_MAX_QUESTIONS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s' has %zu questions, at most %d", f->name, n,
                        EVENT_MAX_QUESTIONS);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__Question *));
    Lernet__Question **arr = rc ? NULL : *MEMBER(msg, f, Lernet__Question **);
    for (size_t i = 0; !rc && i < n; i++) {
        arr[i] = NULL;
        rc = question_entry(in, json_array_get(v, i), i, &arr[i]);
        if (arr[i])
            (*COUNT(msg, f))++;
    }
    return rc;
}

static int hist_entry(in_t *in, const json_t *v, size_t i, Lernet__Histogram **out)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n > EVENT_MAX_SCALE)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field 'results[%zu]': must be an array of at most %d counts, one per "
                        "scale value", i, EVENT_MAX_SCALE);
    Lernet__Histogram *h = malloc(sizeof *h);
    if (!h)
        return nomem(in);
    lernet__histogram__init(h);
    *out = h; /* freed with the payload, whole or not */
    if (!(h->counts = calloc(n ? n : 1, sizeof *h->counts)))
        return nomem(in);
    for (size_t j = 0; j < n; j++) {
        const json_t *c = json_array_get(v, j);
        json_int_t x = json_integer_value(c);
        if (!json_is_integer(c) || x < 0 || x > EVENT_MAX_COUNT)
            return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                            "field 'results[%zu][%zu]': must be a whole number 0..%d", i, j,
                            EVENT_MAX_COUNT);
        h->counts[h->n_counts++] = (uint32_t)x;
    }
    return PJ_OK;
}

/* A series' rule (core/series.h checks its bounds at validation). */
static int in_rule(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    static const char *const freqs[] = {NULL, "weekly", "monthly"};
    const char *freq = plain_string(json_object_get(v, "freq"));
    const json_t *iv = json_object_get(v, "interval"), *cv = json_object_get(v, "count");
    const json_t *uv = json_object_get(v, "until"), *bv = json_object_get(v, "byday");
    if (!json_is_object(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s': must be an object",
                        f->name);
    Lernet__Recurrence *r = malloc(sizeof *r);
    if (!r)
        return nomem(in);
    lernet__recurrence__init(r);
    *MEMBER(msg, f, Lernet__Recurrence *) = r; /* freed with the payload, whole or not */
    for (int i = 1; freq && i < 3; i++)
        if (strcmp(freq, freqs[i]) == 0)
            r->freq = (Lernet__Freq)i;
    if (!r->freq)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s.freq': weekly or monthly", f->name);
    if ((iv && (!json_is_integer(iv) || json_integer_value(iv) < 1 || json_integer_value(iv) > 52)) ||
        (cv && (!json_is_integer(cv) || json_integer_value(cv) < 1 || json_integer_value(cv) > 200)))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': interval is 1..52, count 1..200", f->name);
    r->interval = iv ? (uint32_t)json_integer_value(iv) : 0;
    r->count = cv ? (uint32_t)json_integer_value(cv) : 0;
    if (uv) {
        char name[64];
        snprintf(name, sizeof name, "%s.until", f->name);
        int rc = time_value(in, name, uv, &r->until);
        if (rc)
            return rc;
    }
    if (bv) {
        field_t bf = {"recurrence.byday", F_STRINGS, offsetof(Lernet__Recurrence, byday),
                      offsetof(Lernet__Recurrence, n_byday)};
        return in_strings(in, r, &bf, bv);
    }
    return PJ_OK;
}

static int in_hists(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    if (!json_is_array(v))
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be an array of histograms, e.g. [[0, 1, 4, 6, 3]]",
                        f->name);
    size_t n = json_array_size(v);
    if (n > EVENT_MAX_QUESTIONS)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s' has %zu histograms, at most %d", f->name, n,
                        EVENT_MAX_QUESTIONS);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__Histogram *));
    Lernet__Histogram **arr = rc ? NULL : *MEMBER(msg, f, Lernet__Histogram **);
    for (size_t i = 0; !rc && i < n; i++) {
        arr[i] = NULL;
        rc = hist_entry(in, json_array_get(v, i), i, &arr[i]);
        if (arr[i])
            (*COUNT(msg, f))++;
    }
    return rc;
}

/* A series' further dates: start and end as "start" and "end" are read
 * (local times in the object's tz), place optional. */
static int in_dates(in_t *in, void *msg, const field_t *f, const json_t *v)
{
    char name[64];
    if (!json_is_array(v) || json_array_size(v) > 199)
        return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                        "field '%s': must be an array of at most 199 dates", f->name);
    size_t n = json_array_size(v);
    int rc = alloc_array(in, msg, f, n, sizeof(Lernet__Occurrence *));
    Lernet__Occurrence **arr = *MEMBER(msg, f, Lernet__Occurrence **);
    for (size_t i = 0; !rc && i < n; i++) {
        const json_t *e = json_array_get(v, i);
        const char *place = plain_string(json_object_get(e, "place"));
        Lernet__Occurrence *o = malloc(sizeof *o);
        if (!o)
            return nomem(in);
        lernet__occurrence__init(o);
        arr[(*COUNT(msg, f))++] = o;
        if (!(o->place = strdup(place ? place : "")))
            return nomem(in);
        snprintf(name, sizeof name, "%s[%zu].start", f->name, i);
        if ((rc = time_value(in, name, json_object_get(e, "start"), &o->start)))
            return rc;
        snprintf(name, sizeof name, "%s[%zu].end", f->name, i);
        rc = time_value(in, name, json_object_get(e, "end"), &o->end);
    }
    return rc;
}

static int in_field(in_t *in, void *msg, const field_t *f)
{
    const json_t *v = json_object_get(in->obj, f->name);
    if (json_is_null(v))
        v = NULL;
    switch (f->type) {
    case F_TIME: return in_time(in, msg, f);
    case F_LOCAL: return PJ_OK; /* read together with its F_TIME */
    case F_STATUS: return in_status(in, msg, f, v);
    case F_RTYPE: return in_rtype(in, msg, f, v);
    default: break;
    }
    if (!v)
        return PJ_OK;
    switch (f->type) {
    case F_TEXTS: return in_texts(in, msg, f, v);
    case F_STRING: return in_string(in, msg, f, v);
    case F_TZ: return in_tz(in, msg, f, v);
    case F_UINT: return in_uint(in, msg, f, v);
    case F_STRINGS: return in_strings(in, msg, f, v);
    case F_ID: return in_id(in, msg, f, v);
    case F_COUNTS: return in_counts(in, msg, f, v);
    case F_FILES: return in_files(in, msg, f, v);
    case F_MEASURE: return in_measure(in, msg, f, v);
    case F_COUNT: return in_count(in, msg, f, v);
    case F_QUESTIONS: return in_questions(in, msg, f, v);
    case F_HISTS: return in_hists(in, msg, f, v);
    case F_RULE: return in_rule(in, msg, f, v);
    case F_DATES: return in_dates(in, msg, f, v);
    default: return PJ_OK;
    }
}

/* Every key must be one the kind knows: a typo ("organizer") must not
 * vanish silently. */
static int check_keys(in_t *in, const kind_spec_t *k)
{
    char a[TEXT_SHOW_SIZE(SHOW_MAX)];
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *)in->obj, key, val) {
        if (!key_ok(key, KEY_LEN(key)))
            return why_fail(in->why, in->whylen, PJ_ERR_INVALID,
                            "field '%s': a key contains a NUL character",
                            text_show(a, sizeof a, key));
        if (!field_of(k, key))
            return why_fail(in->why, in->whylen, PJ_ERR_INVALID, "field '%s': unknown for %s",
                            text_show(a, sizeof a, key), k->what);
    }
    return PJ_OK;
}

/* Empty payload with the body of the kind; NULL when out of memory. */
static Lernet__Payload *new_payload(int kind, void **body)
{
    Lernet__Payload *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    lernet__payload__init(p);
    if (kind == LERNET__KIND__KIND_WORKSHOP && (p->workshop = malloc(sizeof *p->workshop))) {
        lernet__workshop__init(p->workshop);
        p->body_case = LERNET__PAYLOAD__BODY_WORKSHOP;
        *body = p->workshop;
    } else if (kind == LERNET__KIND__KIND_MEETING && (p->meeting = malloc(sizeof *p->meeting))) {
        lernet__meeting__init(p->meeting);
        p->body_case = LERNET__PAYLOAD__BODY_MEETING;
        *body = p->meeting;
    } else if (kind == LERNET__KIND__KIND_EXPERIENCE &&
               (p->experience = malloc(sizeof *p->experience))) {
        lernet__experience__init(p->experience);
        p->body_case = LERNET__PAYLOAD__BODY_EXPERIENCE;
        *body = p->experience;
    } else if (kind == LERNET__KIND__KIND_RESOURCE &&
               (p->resource = malloc(sizeof *p->resource))) {
        lernet__resource__init(p->resource);
        p->body_case = LERNET__PAYLOAD__BODY_RESOURCE;
        *body = p->resource;
    } else if (kind == LERNET__KIND__KIND_REPLY && (p->reply = malloc(sizeof *p->reply))) {
        lernet__reply__init(p->reply);
        p->body_case = LERNET__PAYLOAD__BODY_REPLY;
        *body = p->reply;
    } else if (kind == LERNET__KIND__KIND_GOAL && (p->goal = malloc(sizeof *p->goal))) {
        lernet__goal__init(p->goal);
        p->body_case = LERNET__PAYLOAD__BODY_GOAL;
        *body = p->goal;
    } else if (kind == LERNET__KIND__KIND_QUESTIONNAIRE &&
               (p->questionnaire = malloc(sizeof *p->questionnaire))) {
        lernet__questionnaire__init(p->questionnaire);
        p->body_case = LERNET__PAYLOAD__BODY_QUESTIONNAIRE;
        *body = p->questionnaire;
    } else if (kind == LERNET__KIND__KIND_FEEDBACK &&
               (p->feedback = malloc(sizeof *p->feedback))) {
        lernet__feedback__init(p->feedback);
        p->body_case = LERNET__PAYLOAD__BODY_FEEDBACK;
        *body = p->feedback;
    } else {
        free(p);
        return NULL;
    }
    return p;
}

int payload_from_json(Lernet__Payload **out, int kind, const json_t *obj, char *why,
                      size_t whylen)
{
    in_t in = {obj, why, whylen};
    const kind_spec_t *k = spec_of(kind);
    void *body = NULL;
    int rc;
    if (!k)
        return why_fail(why, whylen, PJ_ERR_INVALID, "kind %d has no JSON form", kind);
    if (!json_is_object(obj))
        return why_fail(why, whylen, PJ_ERR_INVALID, "content of %s must be a JSON object",
                    k->what);
    if ((rc = check_keys(&in, k)))
        return rc;
    Lernet__Payload *p = new_payload(kind, &body);
    if (!p)
        return nomem(&in);
    for (size_t i = 0; i < k->nfields; i++)
        if ((rc = in_field(&in, body, &k->fields[i])))
            break;
    if (!rc)
        rc = event_check_payload(kind, p, why, whylen);
    if (rc) {
        lernet__payload__free_unpacked(p, NULL);
        return rc;
    }
    *out = p;
    return PJ_OK;
}

/* ---- output --------------------------------------------------------- */

static json_t *out_texts(Lernet__Text **t, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, t[i]->lang, json_string(t[i]->text));
    return o;
}

static json_t *out_strings(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *out_counts(Lernet__RoleCount **v, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, v[i]->role, json_integer((json_int_t)v[i]->count));
    return o;
}

json_t *payload_attachment_json(const Lernet__Attachment *a)
{
    char hash[2 * EVENT_HASH_BYTES + 1] = "";
    if (a->hash.len == EVENT_HASH_BYTES)
        text_hex(hash, a->hash.data, EVENT_HASH_BYTES);
    return json_pack("{s:s,s:I,s:s,s:s}", "hash", hash, "size", (json_int_t)a->size,
                     "media_type", a->media_type, "name", a->name);
}

int payload_attachment_add(json_t *content, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                           const char *media_type, const char *name)
{
    char hex[2 * EVENT_HASH_BYTES + 1];
    text_hex(hex, hash, EVENT_HASH_BYTES);
    json_t *arr = json_object_get(content, "attachments");
    json_t *one = json_pack("{s:s,s:I,s:s,s:s}", "hash", hex, "size", (json_int_t)size,
                            "media_type", media_type, "name", name);
    if (!one)
        return -1;
    if (!json_is_array(arr)) {
        if (!(arr = json_array()) || json_object_set_new(content, "attachments", arr) != 0) {
            json_decref(one);
            return -1;
        }
    }
    return json_array_append_new(arr, one) == 0 ? 0 : -1;
}

static json_t *out_files(Lernet__Attachment **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, payload_attachment_json(v[i]));
    return a;
}

static json_t *out_questions(Lernet__Question **v, size_t n)
{
    json_t *a = json_array();
    char key[16];
    for (size_t i = 0; a && i < n; i++) {
        json_t *labels = v[i]->n_labels ? json_object() : NULL;
        for (size_t j = 0; labels && j < v[i]->n_labels; j++) {
            snprintf(key, sizeof key, "%u", v[i]->labels[j]->value);
            json_object_set_new(labels, key,
                                out_texts(v[i]->labels[j]->text, v[i]->labels[j]->n_text));
        }
        json_t *q = json_pack("{s:o,s:I,s:I}", "text", out_texts(v[i]->text, v[i]->n_text),
                              "min", (json_int_t)v[i]->min, "max", (json_int_t)v[i]->max);
        if (q && labels)
            json_object_set_new(q, "labels", labels);
        else
            json_decref(labels);
        json_array_append_new(a, q);
    }
    return a;
}

static json_t *out_hists(Lernet__Histogram **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *h = json_array();
        for (size_t j = 0; h && j < v[i]->n_counts; j++)
            json_array_append_new(h, json_integer((json_int_t)v[i]->counts[j]));
        json_array_append_new(a, h);
    }
    return a;
}

static json_t *out_id(const ProtobufCBinaryData *b)
{
    char s[EVENT_ID_HEX_SIZE];
    if (b->len != EVENT_ID_BYTES)
        return NULL; /* event_check_payload allows no other length */
    event_id_hex(s, b->data);
    return json_string(s);
}

static json_t *out_time(int64_t t, const char *tz)
{
    char s[64];
    civil_format(t, tz, s, sizeof s);
    return json_string(s);
}

static json_t *out_rule(const Lernet__Recurrence *r, const char *tz)
{
    if (!r)
        return NULL;
    json_t *o = json_pack("{s:s}", "freq", r->freq == LERNET__FREQ__FREQ_MONTHLY ? "monthly" : "weekly");
    if (o && r->interval)
        json_object_set_new(o, "interval", json_integer(r->interval));
    if (o && r->count)
        json_object_set_new(o, "count", json_integer(r->count));
    if (o && r->until)
        json_object_set_new(o, "until", out_time(r->until, tz));
    if (o && r->n_byday)
        json_object_set_new(o, "byday", out_strings(r->byday, r->n_byday));
    return o;
}

static json_t *out_dates(Lernet__Occurrence **v, size_t n, const char *tz)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:o,s:o}", "start", out_time(v[i]->start, tz), "end",
                              out_time(v[i]->end, tz));
        if (o && *v[i]->place)
            json_object_set_new(o, "place", json_string(v[i]->place));
        json_array_append_new(a, o);
    }
    return a;
}

/* Value of one field, or NULL to leave it out (empty, default). */
static json_t *out_field(const void *msg, const field_t *f, const char *tz)
{
    void *m = (void *)msg; /* MEMBER casts; nothing is written */
    size_t n = f->n_off ? *COUNT(m, f) : 0;
    switch (f->type) {
    case F_TEXTS: return n ? out_texts(*MEMBER(m, f, Lernet__Text **), n) : NULL;
    case F_STRING:
    case F_TZ: {
        const char *s = *MEMBER(m, f, char *);
        return s && *s ? json_string(s) : NULL;
    }
    case F_TIME: return out_time(*MEMBER(m, f, int64_t), NULL);
    case F_LOCAL: return out_time(*MEMBER(m, f, int64_t), tz);
    case F_UINT: return *MEMBER(m, f, uint32_t) ? json_integer(*MEMBER(m, f, uint32_t)) : NULL;
    case F_STRINGS: return n ? out_strings(*MEMBER(m, f, char **), n) : NULL;
    case F_ID: return MEMBER(m, f, ProtobufCBinaryData)->len
                          ? out_id(MEMBER(m, f, ProtobufCBinaryData))
                          : NULL; /* an optional reference, not given */
    case F_COUNTS: return n ? out_counts(*MEMBER(m, f, Lernet__RoleCount **), n) : NULL;
    case F_STATUS: {
        unsigned s = (unsigned)*MEMBER(m, f, Lernet__Status);
        return s > 0 && s < N_STATUS ? json_string(status_names[s]) : NULL;
    }
    case F_RTYPE: {
        const char *t = payload_resource_type_name((int)*MEMBER(m, f, Lernet__ResourceType));
        return t ? json_string(t) : NULL;
    }
    case F_FILES: return n ? out_files(*MEMBER(m, f, Lernet__Attachment **), n) : NULL;
    case F_MEASURE: {
        const char *t = payload_measure_name((int)*MEMBER(m, f, Lernet__Measure));
        return t ? json_string(t) : NULL;
    }
    case F_COUNT: return json_integer(*MEMBER(m, f, uint32_t));
    case F_QUESTIONS: return n ? out_questions(*MEMBER(m, f, Lernet__Question **), n) : NULL;
    case F_HISTS: return n ? out_hists(*MEMBER(m, f, Lernet__Histogram **), n) : NULL;
    case F_RULE: return out_rule(*MEMBER(m, f, Lernet__Recurrence *), tz);
    case F_DATES: return n ? out_dates(*MEMBER(m, f, Lernet__Occurrence **), n, tz) : NULL;
    }
    return NULL;
}

static json_t *to_json(int kind, const void *msg, const char *tz)
{
    const kind_spec_t *k = spec_of(kind);
    json_t *o = msg ? json_object() : NULL;
    for (size_t i = 0; o && i < k->nfields; i++) {
        json_t *v = out_field(msg, &k->fields[i], tz);
        if (v)
            json_object_set_new(o, k->fields[i].name, v);
    }
    return o;
}

json_t *payload_workshop_json(const Lernet__Workshop *w)
{
    return to_json(LERNET__KIND__KIND_WORKSHOP, w, w ? w->tz : NULL);
}

json_t *payload_meeting_json(const Lernet__Meeting *m)
{
    return to_json(LERNET__KIND__KIND_MEETING, m, m ? m->tz : NULL);
}

json_t *payload_experience_json(const Lernet__Experience *e)
{
    return to_json(LERNET__KIND__KIND_EXPERIENCE, e, NULL);
}

json_t *payload_resource_json(const Lernet__Resource *r)
{
    return to_json(LERNET__KIND__KIND_RESOURCE, r, NULL);
}

json_t *payload_reply_json(const Lernet__Reply *r)
{
    return to_json(LERNET__KIND__KIND_REPLY, r, NULL);
}

json_t *payload_goal_json(const Lernet__Goal *g)
{
    return to_json(LERNET__KIND__KIND_GOAL, g, NULL);
}

json_t *payload_questionnaire_json(const Lernet__Questionnaire *q)
{
    return to_json(LERNET__KIND__KIND_QUESTIONNAIRE, q, NULL);
}

json_t *payload_feedback_json(const Lernet__Feedback *f)
{
    return to_json(LERNET__KIND__KIND_FEEDBACK, f, NULL);
}

Lernet__Payload *payload_update_of(Lernet__Payload *content, const uint8_t target[EVENT_ID_BYTES])
{
    Lernet__Payload *p = malloc(sizeof *p);
    Lernet__Update *u = malloc(sizeof *u);
    uint8_t *t = malloc(EVENT_ID_BYTES);
    if (!p || !u || !t) {
        free(p);
        free(u);
        free(t);
        return NULL;
    }
    lernet__payload__init(p);
    lernet__update__init(u);
    memcpy(t, target, EVENT_ID_BYTES);
    u->target.data = t;
    u->target.len = EVENT_ID_BYTES;
    if (content->body_case == LERNET__PAYLOAD__BODY_WORKSHOP) {
        u->content_case = LERNET__UPDATE__CONTENT_WORKSHOP;
        u->workshop = content->workshop;
    } else if (content->body_case == LERNET__PAYLOAD__BODY_RESOURCE) {
        u->content_case = LERNET__UPDATE__CONTENT_RESOURCE;
        u->resource = content->resource;
    } else if (content->body_case == LERNET__PAYLOAD__BODY_GOAL) {
        u->content_case = LERNET__UPDATE__CONTENT_GOAL;
        u->goal = content->goal;
    } else {
        u->content_case = LERNET__UPDATE__CONTENT_MEETING;
        u->meeting = content->meeting;
    }
    content->body_case = LERNET__PAYLOAD__BODY__NOT_SET; /* ownership moved into u */
    p->body_case = LERNET__PAYLOAD__BODY_UPDATE;
    p->update = u;
    return p;
}
