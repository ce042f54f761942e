/*
 * invite: the string `lernet network invite` prints and `network join`
 * reads: INVITE_PREFIX + base64url(JSON) of the network, its coordinators,
 * one node to dial, the signed admission and the coordinator's key log
 * (so the admission can be checked before anything is synced).
 */
#ifndef LERNET_INVITE_H
#define LERNET_INVITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "keys/keys.h"

#define INVITE_PREFIX "lernet-invite-1:"
#define INVITE_MAX 32768
#define INVITE_MAX_EVENT 4096
#define INVITE_MAX_KEY_EVENTS 32

typedef struct invite {
    json_t *doc; /* owns the strings below */
    const char *network, *peer_name, *peer_key, *endpoint;
    uint8_t coordinators[CONFIG_MAX_COORDINATORS][KEYS_PUBLIC_BYTES];
    size_t n_coordinators;
    event_t *statement;
    event_t *keys[INVITE_MAX_KEY_EVENTS];
    size_t n_keys;
} invite_t;

/* Parses and checks text: every field present and well-formed by the rule
 * lernet.ini applies to it (network name, peer name as a [peer "NAME"]
 * name, public keys, endpoint as `endpoint =`), the statement a valid
 * signed admission to the network (of self, unless self is NULL), the key
 * events the statement author's. 0, or -1 with a one-line reason naming
 * the field in why; iv needs invite_free() only on success. */
int invite_parse(invite_t *iv, const char *text, const uint8_t self[KEYS_PUBLIC_BYTES],
                 int64_t now_ms, char *why, size_t whylen);
void invite_free(invite_t *iv);

#endif
