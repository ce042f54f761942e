/* invite: see invite.h. Every field is checked before anything is kept. */
#include "invite.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "why.h"

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

int invite_parse(invite_t *iv, const char *text, const uint8_t self[KEYS_PUBLIC_BYTES],
                 int64_t now_ms, char *why, size_t whylen)
{
    uint8_t *raw = NULL, env[INVITE_MAX_EVENT], key[KEYS_PUBLIC_BYTES];
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
    const char *stmt = NULL;
    json_t *coords = NULL, *keys = NULL;
    if (json_unpack(iv->doc, "{s:s,s:o,s:{s:s,s:s,s:s},s:s,s:o}", "network", &iv->network,
                    "coordinators", &coords, "peer", "name", &iv->peer_name, "public_key",
                    &iv->peer_key, "endpoint", &iv->endpoint, "statement", &stmt, "keys",
                    &keys) != 0 ||
        !json_is_array(coords) || json_array_size(coords) == 0 ||
        json_array_size(coords) > CONFIG_MAX_COORDINATORS || !json_is_array(keys) ||
        json_array_size(keys) > INVITE_MAX_KEY_EVENTS)
        return fail(iv, why, whylen,
                    "a field is missing or wrong (network, coordinators, peer, statement, keys)",
                    NULL);
    if (!event_network_valid(iv->network) || keys_pub_decode(key, iv->peer_key) != KEYS_OK)
        return fail(iv, why, whylen, "'network' or 'peer.public_key' is malformed", NULL);
    json_t *c;
    size_t i;
    json_array_foreach(coords, i, c) {
        const char *v = json_string_value(c);
        if (!v || keys_pub_decode(iv->coordinators[i], v) != KEYS_OK)
            return fail(iv, why, whylen, "a coordinator is not a lernet public key", NULL);
        iv->n_coordinators++;
    }
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
