/* xapi: see xapi.h. */
#include "export/xapi.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "util/time.h"

/* A version-4-shaped UUID from BLAKE2b(event id || verb): stable per
 * report and verb. */
static void statement_id(char out[37], const uint8_t id[EVENT_ID_BYTES], const char *verb)
{
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, id, EVENT_ID_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)verb, strlen(verb));
    crypto_generichash_final(&st, h, sizeof h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x40);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    char hex[2 * sizeof h + 1];
    text_hex(hex, h, sizeof h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static json_t *actor(const uint8_t key[KEYS_PUBLIC_BYTES])
{
    char hex[2 * KEYS_PUBLIC_BYTES + 1];
    text_hex(hex, key, KEYS_PUBLIC_BYTES);
    return json_pack("{s:s,s:{s:s,s:s}}", "objectType", "Agent", "account", "homePage",
                     XAPI_HOME, "name", hex);
}

/* A language map of texts ("sv": "...", "en": "..."); "und" when untagged. */
static json_t *lang_map(Lernet__Text **t, size_t n)
{
    json_t *m = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(m, t[i]->lang[0] ? t[i]->lang : "und", json_string(t[i]->text));
    if (n == 0)
        json_object_set_new(m, "und", json_string("(untitled)"));
    return m;
}

static void iso_ms(char out[32], int64_t ms)
{
    civil_strftime(ms / 1000, NULL, "%Y-%m-%dT%H:%M:%S", out, 32);
    size_t n = strlen(out);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

static json_t *event_activity(const store_item_t *it)
{
    char hex[EVENT_ID_HEX_SIZE], iri[96];
    event_id_hex(hex, it->id);
    snprintf(iri, sizeof iri, "urn:lernet:event:%s", hex);
    Lernet__Text **title = it->workshop ? it->workshop->title : it->meeting->title;
    size_t n = it->workshop ? it->workshop->n_title : it->meeting->n_title;
    return json_pack("{s:s,s:s,s:{s:o,s:s}}", "objectType", "Activity", "id", iri, "definition",
                     "name", lang_map(title, n), "type",
                     "http://adlnet.gov/expapi/activities/meeting");
}

static json_t *context(const store_item_t *about)
{
    char net[EVENT_MAX_NETWORK + 32];
    snprintf(net, sizeof net, "urn:lernet:network:%s", about->network);
    return json_pack("{s:{s:[{s:s,s:s}]}}", "contextActivities", "grouping", "objectType",
                     "Activity", "id", net);
}

int xapi_statements(json_t *arr, const store_item_t *report, const store_item_t *about)
{
    const Lernet__Experience *x = report->experience;
    if (!x || !about || (!about->workshop && !about->meeting))
        return 0;
    char id[37], when[32], held[32], hex[EVENT_ID_HEX_SIZE], iri[96];
    int64_t end = about->workshop ? about->workshop->end : about->meeting->end;
    iso_ms(when, report->created_ms);
    iso_ms(held, end * 1000); /* attended: when the activity was over */
    json_t *roles = json_object();
    json_int_t total = 0;
    for (size_t i = 0; i < x->n_participants; i++) {
        json_object_set_new(roles, x->participants[i]->role,
                            json_integer((json_int_t)x->participants[i]->count));
        total += (json_int_t)x->participants[i]->count;
    }
    statement_id(id, report->id, "attended");
    json_t *attended = json_pack(
        "{s:s,s:o,s:{s:s,s:{s:s}},s:o,s:o,s:{s:{s:o,s:I}},s:s,s:s}", "id", id, "actor",
        actor(report->author), "verb", "id", "http://adlnet.gov/expapi/verbs/attended", "display",
        "en-US", "attended", "object", event_activity(about), "context", context(about), "result",
        "extensions", XAPI_EXT "participants-by-role", roles, XAPI_EXT "participants", total,
        "timestamp", held, "version", "1.0.3");
    event_id_hex(hex, report->id);
    snprintf(iri, sizeof iri, "urn:lernet:event:%s", hex);
    statement_id(id, report->id, "shared");
    json_t *ctx = context(about);
    json_object_set_new(json_object_get(ctx, "contextActivities"), "parent",
                        json_pack("[o]", event_activity(about)));
    json_t *shared = json_pack(
        "{s:s,s:o,s:{s:s,s:{s:s}},s:{s:s,s:s,s:{s:o,s:o,s:s}},s:o,s:s,s:s}", "id", id, "actor",
        actor(report->author), "verb", "id", "http://adlnet.gov/expapi/verbs/shared", "display",
        "en-US", "shared", "object", "objectType", "Activity", "id", iri, "definition", "name",
        lang_map(x->title, x->n_title), "description", lang_map(x->text, x->n_text), "type",
        "http://activitystrea.ms/schema/1.0/review", "context", ctx, "timestamp", when, "version",
        "1.0.3");
    if (!attended || !shared) {
        json_decref(attended);
        json_decref(shared);
        return -1;
    }
    json_array_append_new(arr, attended);
    json_array_append_new(arr, shared);
    return 0;
}
