/*
 * payload_json: the JSON form of event content, both ways. Used for
 * `lernet publish --json FILE`, for CLI flags (which are gathered into the
 * same JSON object first, so flags and files share one validation path),
 * and for every --json output.
 *
 * Workshop:   {"title": {"sv": "...", "en": "..."}, "description": {...},
 *              "start": TIME, "end": TIME, "tz": "Europe/Stockholm",
 *              "place": "...", "online_url": "https://...", "organiser": "...",
 *              "capacity": 30, "themes": ["..."], "roles": ["..."],
 *              "language": "sv", "status": "planned|confirmed|full|cancelled"}
 * Meeting:    {"title": {...}, "start", "end", "tz", "place", "online_url",
 *              "organiser", "agenda": {...}, "minutes": {...}, "themes": [...]}
 * Experience: {"about": "<64-hex event id>", "title": {...}, "text": {...},
 *              "lessons": {...}, "tags": [...],
 *              "participants": {"teachers": 12, "company representatives": 7}}
 * Resource:   {"title": {...}, "summary": {...},
 *              "type": "documentation|literature|recording|method|link",
 *              "themes": [...], "roles": [...], "language": "da", "urls": ["https://..."],
 *              "licence": "CC BY 4.0", "about": "<64-hex event id>" (optional),
 *              "attachments": [FILE...]}
 * Reply:      {"about": "<64-hex event id>", "text": {...}, "attachments": [FILE...]}
 * Goal:       {"title": {...}, "description": {...},
 *              "measure": "participants|organisations|events", "roles": [...] (participants
 *              only), "themes": [...], "target": 180, "from": "2027-01-01", "to": "2028-12-31"}
 * Questionnaire: {"title": {...}, "questions": [{"text": {...}, "min": 1, "max": 5,
 *              "labels": {"1": {"en": "Not at all"}, "5": {...}}}, ...]}
 * Feedback:   {"about": "<64-hex id>" (the workshop or meeting), "questionnaire": "<64-hex id>",
 *              "title": {...} (optional), "respondents": {"teachers": 9, ...},
 *              "results": [[0, 1, 2, 6, 5], ...]} (per question, counts of min..max)
 * FILE:       {"hash": "<64-hex BLAKE2b-256>", "size": BYTES,
 *              "media_type": "application/pdf", "name": "metodbok.pdf"}
 *              (output of `show --json` adds "present"; input ignores it)
 * TIME is ISO 8601: "2026-12-03T09:00:00Z" (UTC), "2026-12-03T09:00+01:00"
 * (offset), or "2026-12-03T09:00" (local time in "tz"); seconds optional
 * (util/time.h: civil_parse reads it, civil_format writes it).
 * Multilingual fields are objects keyed by BCP-47 tag; a plain string is an
 * error naming the field, because every text must say its language.
 * Output also carries "start_local"/"end_local"; on input either of "start"
 * and "start_local" gives the time, and if both are present they must name
 * the same instant. JSON null counts as an absent key.
 *
 * Input is hostile: unknown keys, wrong types, out-of-range numbers and
 * malformed times are errors with a one-line `why` naming the field; after
 * conversion the payload is also run through event_check_payload so that
 * the same rules as for network input apply.
 */
#ifndef LERNET_PAYLOAD_JSON_H
#define LERNET_PAYLOAD_JSON_H

#include "util/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* Error codes: PJ_ERR_* (-700s) of the one namespace in util/err.h. */

/* The content kinds, one row each: the names `lernet publish KIND` and
 * `lernet list` take, what can be done to an item of the kind, and a sample
 * of its JSON. The commands, their help and tests/test_matrix.c (every
 * kind through every operation and reader) all walk this table, so a new
 * kind is a row here and a field table in payload_json.c. */
enum payload_kind_ops {
    PAYLOAD_KIND_UPDATE = 1,   /* `lernet update` replaces its content (an Update carries it) */
    PAYLOAD_KIND_CANCEL = 2,   /* `lernet cancel` applies */
    PAYLOAD_KIND_REPORTED = 4, /* an experience report may be about it */
    PAYLOAD_KIND_ABOUT = 8,    /* it is about another item: "about" names a REPORTED one */
    PAYLOAD_KIND_ANSWERS = 16, /* it answers another item: "about" names any item, a reply
                                * too (a thread); it has no title, its text stands for one */
    PAYLOAD_KIND_RESULTS = 32, /* aggregate results about a REPORTED item ("about") against
                                * a questionnaire ("questionnaire" names one); the item's
                                * "feedback" lists it */
};
typedef struct payload_kind {
    const char *name;   /* "workshop" */
    const char *plural; /* "workshops", which `lernet list` also takes */
    int kind;           /* LERNET__KIND__KIND_* */
    unsigned ops;       /* enum payload_kind_ops */
    /* A complete, realistic content as `lernet publish KIND --json FILE`
     * takes it (an "about" may be an id prefix there); `lernet publish
     * --help` prints it. */
    const char *sample;
} payload_kind_t;
/* The i-th content kind, NULL past the end (static). */
const payload_kind_t *payload_kind_at(size_t i);
/* The row of a kind number, or of a name or plural; NULL when none. */
const payload_kind_t *payload_kind_of(int kind);
const payload_kind_t *payload_kind_named(const char *name);

/* Builds a payload of kind (LERNET__KIND__KIND_WORKSHOP, _MEETING,
 * _EXPERIENCE, _RESOURCE or _REPLY) from obj. *out is owned by the caller:
 * lernet__payload__free_unpacked(*out, NULL). On error returns PJ_ERR_INVALID
 * or an enum event_reason from event_check_payload, with why set. */
int payload_from_json(Lernet__Payload **out, int kind, const json_t *obj, char *why,
                      size_t whylen);

/* Adds one "ROLE=COUNT" (the first len bytes of spec) to counts, the
 * "participants" object of an experience report: the shared parser of the
 * CLI's --participants and the web form's lines. Refused, with why: no
 * '=', an empty or over-long role, a count that is not a whole number in
 * 0..EVENT_MAX_COUNT, a role already given. */
int payload_count_add(json_t *counts, const char *spec, size_t len, char *why, size_t whylen);

/* JSON of content (new reference, caller json_decref's). Times are given as
 * UTC ISO strings in "start"/"end" and also as "start_local"/"end_local"
 * ("2026-12-03T09:00:00+01:00" in the event's own zone). */
json_t *payload_workshop_json(const Lernet__Workshop *w);
json_t *payload_meeting_json(const Lernet__Meeting *m);
json_t *payload_experience_json(const Lernet__Experience *e);
json_t *payload_resource_json(const Lernet__Resource *r);
json_t *payload_reply_json(const Lernet__Reply *r);
json_t *payload_goal_json(const Lernet__Goal *g);
json_t *payload_questionnaire_json(const Lernet__Questionnaire *q);
json_t *payload_feedback_json(const Lernet__Feedback *f);

/* "participants", "organisations", "events" for a Measure (NULL for none),
 * and back (0 for an unknown name). */
const char *payload_measure_name(int m);
int payload_measure_of(const char *name);
/* {"hash", "size", "media_type", "name"} of one attachment (new reference). */
json_t *payload_attachment_json(const Lernet__Attachment *a);
/* A payload updating the item target to content: an Update (wire field
 * content) that takes over content's body, which is left without one (the
 * caller still frees content). Workshops, meetings, resources and goals
 * are the kinds that can be updated. NULL when out of memory; content is
 * then untouched. The one place an update is put together, for the CLI's
 * `lernet update` and the page's correction form. */
Lernet__Payload *payload_update_of(Lernet__Payload *content, const uint8_t target[EVENT_ID_BYTES]);

/* Appends that object for a file to content's "attachments" (made when
 * absent), as `publish --attach` and the page's upload list a file they
 * put in the node home. -1 (content untouched) when name is not UTF-8 or
 * memory ran out. */
int payload_attachment_add(json_t *content, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                           const char *media_type, const char *name);

/* "documentation", "literature", "recording", "method", "link" for a
 * ResourceType (NULL for none), and back (0 for an unknown name). */
const char *payload_resource_type_name(int type);
int payload_resource_type_of(const char *name);

/* Picks the text for a preferred language list ("sv,en"): first exact match,
 * then primary-subtag match, then the first text. NULL if n == 0. */
const char *payload_text_pick(Lernet__Text **texts, size_t n, const char *prefs);

#endif
