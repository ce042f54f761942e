/* invite: see invite.h. Every field is checked before anything is kept:
 * what `network join` copies into lernet.ini must be what lernet.ini itself
 * accepts (the same validators), so an invite can never add a section or a
 * line of its own to the joiner's file. */
#include "export/invite.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/why.h"

void invite_free(invite_t *iv)
{
    event_free(&iv->statement);
    for (size_t k = 0; k < iv->n_keys; k++)
        event_free(&iv->keys[k]);
    json_decref(iv->doc);
    memset(iv, 0, sizeof *iv);
}

static int fail(invite_t *iv, char *why, size_t whylen, const char *msg, const char *detail)
{
    invite_free(iv);
    return why_fail(why, whylen, -1, "invite: %s%s%s", msg, detail && *detail ? ": " : "",
                    detail ? detail : "");
}

/* The string field name of obj, or NULL. */
static const char *str_field(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

/* The plain fields (not the signed events), each checked by the rule the
 * config file applies to it; 0, or -1 with the reason naming the field. */
static int check_fields(invite_t *iv, json_t *coords, char *why, size_t whylen)
{
    char reason[256] = "";
    uint8_t key[KEYS_PUBLIC_BYTES];
    if (!event_network_valid(iv->network))
        return fail(iv, why, whylen,
                    "'network' is not a network name (1-64 of a-z 0-9 . _ -, starting with a "
                    "letter or digit)",
                    NULL);
    if (config_check_peer_name(iv->peer_name, reason, sizeof reason) != 0)
        return fail(iv, why, whylen, "'peer.name'", reason);
    if (keys_pub_decode(key, iv->peer_key) != KEYS_OK)
        return fail(iv, why, whylen, "'peer.public_key' is not a lernet public key", NULL);
    if (config_check_endpoint(iv->endpoint, reason, sizeof reason) != 0)
        return fail(iv, why, whylen, "'peer.endpoint'", reason);
    if (!json_is_array(coords) || json_array_size(coords) == 0 ||
        json_array_size(coords) > CONFIG_MAX_COORDINATORS)
        return fail(iv, why, whylen, "'coordinators' is not a list of 1-4 keys", NULL);
    json_t *c;
    size_t i;
    json_array_foreach(coords, i, c) {
        const char *v = json_string_value(c);
        if (!v || keys_pub_decode(iv->coordinators[i], v) != KEYS_OK)
            return fail(iv, why, whylen, "'coordinators' holds something that is not a lernet "
                                         "public key", NULL);
        iv->n_coordinators++;
    }
    return 0;
}

int invite_parse(invite_t *iv, const char *text, const uint8_t self[KEYS_PUBLIC_BYTES],
                 int64_t now_ms, char *why, size_t whylen)
{
    uint8_t *raw = NULL, env[INVITE_MAX_EVENT];
    size_t len = 0, env_len = 0, plen = strlen(INVITE_PREFIX);
    char detail[256] = "";
    json_error_t e;
    memset(iv, 0, sizeof *iv);
    if (strncmp(text, INVITE_PREFIX, plen) != 0 || strlen(text) > INVITE_MAX)
        return fail(iv, why, whylen, "not a lernet invite (" INVITE_PREFIX "...)", NULL);
    if (!(raw = malloc(INVITE_MAX)) ||
        sodium_base642bin(raw, INVITE_MAX - 1, text + plen, strlen(text + plen), NULL, &len,
                          NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(raw);
        return fail(iv, why, whylen, "not a lernet invite (bad base64)", NULL);
    }
    iv->doc = json_loadb((const char *)raw, len, 0, &e);
    free(raw);
    if (!iv->doc)
        return fail(iv, why, whylen, "damaged", e.text);
    json_t *peer = json_object_get(iv->doc, "peer"), *keys = json_object_get(iv->doc, "keys");
    const char *stmt = str_field(iv->doc, "statement");
    static const char *const names[] = {"network", "peer.name", "peer.public_key",
                                        "peer.endpoint", "statement"};
    iv->network = str_field(iv->doc, "network");
    iv->peer_name = str_field(peer, "name");
    iv->peer_key = str_field(peer, "public_key");
    iv->endpoint = str_field(peer, "endpoint");
    const char *vals[] = {iv->network, iv->peer_name, iv->peer_key, iv->endpoint, stmt};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (!vals[k]) {
            snprintf(detail, sizeof detail, "'%s' is missing or not a string", names[k]);
            return fail(iv, why, whylen, detail, NULL);
        }
    if (!json_is_array(keys) || json_array_size(keys) > INVITE_MAX_KEY_EVENTS)
        return fail(iv, why, whylen, "'keys' is not a list of at most 32 key events", NULL);
    if (check_fields(iv, json_object_get(iv->doc, "coordinators"), why, whylen) != 0)
        return -1;
    if (sodium_base642bin(env, sizeof env, stmt, strlen(stmt), NULL, &env_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        event_parse(&iv->statement, env, env_len, now_ms, detail, sizeof detail) != EV_OK)
        return fail(iv, why, whylen, "the statement is not a valid signed event", detail);
    const Lernet__Membership *m = iv->statement->body ? iv->statement->body->membership : NULL;
    if (iv->statement->kind != LERNET__KIND__KIND_MEMBERSHIP || !m ||
        strcmp(iv->statement->network, iv->network) != 0 || m->removed)
        return fail(iv, why, whylen, "the statement is not an admission to the network", NULL);
    if (self && memcmp(m->member.data, self, KEYS_PUBLIC_BYTES) != 0)
        return fail(iv, why, whylen,
                    "it admits another node, not this one (check the key you gave the "
                    "coordinator: `lernet keys show`)",
                    NULL);
    json_t *c;
    size_t i;
    json_array_foreach(keys, i, c) {
        const char *b = json_string_value(c);
        if (!b || sodium_base642bin(env, sizeof env, b, strlen(b), NULL, &env_len, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) != 0 ||
            event_parse(&iv->keys[iv->n_keys], env, env_len, now_ms, detail, sizeof detail) !=
                EV_OK ||
            memcmp(iv->keys[iv->n_keys]->author, iv->statement->author, KEYS_PUBLIC_BYTES) != 0)
            return fail(iv, why, whylen, "a key event is not the coordinator's", detail);
        iv->n_keys++;
    }
    return 0;
}
