/*
 * publish: the one path by which a node adds its own events, used by the
 * CLI (no daemon running) and by the daemon (requests from the control
 * socket). Checks references, takes seq and prev from the log head, signs
 * (keys/), validates and stores, all in one store transaction so that two
 * publishers can never fork the node's own log.
 */
#ifndef LERNET_PUBLISH_H
#define LERNET_PUBLISH_H

#include "util/err.h"

#include "core/event.h"
#include "keys/keys.h"
#include "store/store.h"

/* Error codes: PUBLISH_ERR_* (-600s) of the one namespace in util/err.h. */

/* What a publish refers to, looked up by id or unique hex prefix. */
typedef struct publish_target {
    uint8_t id[EVENT_ID_BYTES];
    int kind; /* item kind: workshop, meeting, experience, resource or reply */
    uint8_t author[KEYS_PUBLIC_BYTES];
    char network[EVENT_MAX_NETWORK + 1];
    int cancelled;
} publish_target_t;
int publish_find(store_t *st, const char *id_hex, publish_target_t *out, char *why,
                 size_t whylen);

/* Who signs a node's events: its certified signing key on behalf of its
 * identity, or (author NULL) the identity key itself. Both borrowed.
 * attachment_max and attachment_quota (bytes; 0: none) are the node's own
 * limits on its files, the ones it applies to its partners' (the [node]
 * settings attachment_max_mib, attachment_quota_mib): a node never signs
 * a file it would itself refuse to fetch. */
typedef struct publish_signer {
    const keys_identity_t *key;
    const uint8_t *author;
    int64_t attachment_max, attachment_quota;
} publish_signer_t;

/* Signs and stores p in network (for update, cancel, erasure, reply and
 * hide, NULL means the target's network, which is the only one allowed; key
 * events go to the reserved log "@keys"). A hide's target must be a reply
 * or resource of a managed network this node coordinates. A goal or
 * questionnaire in a managed network needs this node to coordinate it;
 * feedback is about this node's own workshop or meeting, against a
 * questionnaire of that network it fits (a histogram per question, a count
 * per scale value), and goes to that network. An erasure's targets must be content events held
 * here with their content, all of one network, each this node's own or, as
 * a coordinator of a managed network, a member's; anything else is refused
 * with a one-line reason and nothing is signed. A file listed by p (a
 * resource, an update of one, a reply) above the signer's attachment_max
 * is refused as ATTACH_ERR_TOO_LARGE, and files that take the author's
 * distinct files in the network (its items as they stand, an updated one
 * counted by its new list) above its attachment_quota as ATTACH_ERR_QUOTA;
 * the reason's name begins the line. On success *out (may be NULL)
 * receives the new event, owned by the caller. */
int publish_event(store_t *st, const publish_signer_t *who, const char *network,
                  const Lernet__Payload *p, event_t **out, char *why, size_t whylen);

#endif
