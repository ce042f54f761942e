/*
 * event: turns bytes into a checked event, or into a named refusal; and
 * builds and signs new events. This is the one place where untrusted event
 * bytes are parsed (local input and network input alike).
 *
 * Invariants:
 *  - An event_t always holds the header bytes exactly as they were signed;
 *    nothing is ever re-encoded to verify. id = BLAKE2b-256(header bytes).
 *  - event_parse() checks everything an event can prove about itself:
 *    sizes, structure, signature, payload hash and size, field rules per
 *    kind, creation time not too far in the future. What needs other events
 *    (the chain, forks, references) is the store's job.
 *  - Input from outside (event_parse: partners, bundles, invites) must carry
 *    its payload, whatever the kind: a relay that strips payload and salt
 *    could otherwise hide a revocation, a cancel or a removal behind a copy
 *    that verifies by its header alone (and, once stored, blocks the real
 *    one as a duplicate). The one exception is a content event covered by
 *    a verified erasure (an Erasure event by its author, or by a
 *    coordinator of its managed network): only the store can tell, so the
 *    paths that hand events to store_add (sync, bundles) parse with
 *    event_parse_erasable, and store_add refuses a header-only event no
 *    erasure covers with EV_PAYLOAD_MISSING. Every other reader keeps
 *    event_parse, which refuses them all.
 */
#ifndef LERNET_EVENT_H
#define LERNET_EVENT_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.pb-c.h"
#include "keys/keys.h"

#define EVENT_VERSION 1
#define EVENT_ID_BYTES 32
#define EVENT_HASH_BYTES 32
#define EVENT_SALT_BYTES 32
#define EVENT_ID_HEX_SIZE 65

/* Bounds: every size a peer can make us hold. */
#define EVENT_MAX_ENVELOPE (64 * 1024)
#define EVENT_MAX_HEADER 512
#define EVENT_MAX_PAYLOAD (48 * 1024)
#define EVENT_MAX_NETWORK 64      /* network name: [a-z0-9][a-z0-9._-]{0,63} */
#define EVENT_MAX_TITLE 300       /* bytes per title text */
#define EVENT_MAX_LONGTEXT 16384  /* description, agenda, minutes, report text */
#define EVENT_MAX_SHORT 300       /* place, organiser, url, tz, tag, role, reason */
#define EVENT_MAX_LANGS 8         /* translations per text field */
#define EVENT_MAX_TAGS 32         /* themes, roles, tags, role counts */
#define EVENT_MAX_FUTURE_MS (10 * 60 * 1000) /* creation time tolerance */
#define EVENT_MAX_COUNT 1000000   /* a participant count above this is an error */
#define EVENT_MAX_CUTS 256        /* log cuts in one key revocation */
#define EVENT_MAX_ERASE_TARGETS 64 /* event ids one erasure names */
#define EVENT_MAX_ERASE_REASON 200 /* bytes of an erasure's reason */
#define EVENT_MAX_ATTACHMENTS 16  /* files one resource or reply lists */
#define EVENT_MAX_ATTACHMENT_SIZE (25 * 1024 * 1024) /* bytes of one attached file */
#define EVENT_MAX_FILE_NAME 255   /* bytes of an attachment's name */
#define EVENT_MAX_MEDIA_TYPE 127  /* bytes of an attachment's media type */
#define EVENT_MAX_URLS 16         /* URLs of one resource */
#define EVENT_MAX_URL 2000        /* bytes of one resource URL */
#define EVENT_MAX_GOAL_DAYS 3660  /* a goal's period: at most ten years */
#define EVENT_MAX_QUESTIONS 32    /* questions of one questionnaire */
#define EVENT_MAX_SCALE 11        /* values of one question's scale (0..10 at most) */
/* Feedback of fewer respondents is refused, on publishing and on receipt:
 * a histogram of 1-4 answers can show what one person answered. */
#define EVENT_MIN_RESPONDENTS 5

/* Why an event is refused: EV_* codes (-100s) of the one namespace in
 * util/err.h; err_name() gives the stable name ("bad_signature") that logs,
 * CLI output, metrics and tests show. */

/* How an event's signature is known to be its signer's. An event from
 * event_parse, event_create or event_from_parts is EVENT_SIG_VERIFIED;
 * one from event_parse_unverified starts EVENT_SIG_UNCHECKED and becomes
 * one of the others through event_verify or event_vouch. store_add
 * refuses an unchecked one. */
enum event_sig {
    EVENT_SIG_UNCHECKED = 0,
    EVENT_SIG_VERIFIED, /* its own signature verifies under its signer key */
    EVENT_SIG_VOUCHED,  /* the next event of its log, verified or vouched and
                           signed by the same key, covers its header bytes
                           (prev) and its signature bytes (prev_sig) */
};

/* A checked event. Owned by whoever got it from event_parse/event_create;
 * release with event_free. */
typedef struct event {
    uint8_t id[EVENT_ID_BYTES];
    /* header fields, decoded from the signed bytes */
    uint32_t version;
    uint8_t author[KEYS_PUBLIC_BYTES];
    uint8_t signer[KEYS_PUBLIC_BYTES];
    uint64_t seq;
    uint8_t prev[EVENT_ID_BYTES]; /* all zero when seq == 1 */
    uint8_t prev_sig[EVENT_HASH_BYTES]; /* hash of seq-1's signature ... */
    int has_prev_sig;                   /* ... if the header links it */
    enum event_sig sig_state;
    int64_t created_ms;
    char network[EVENT_MAX_NETWORK + 1];
    int kind; /* Lernet__Kind */
    uint8_t payload_hash[EVENT_HASH_BYTES];
    uint64_t payload_size;
    /* exact bytes */
    uint8_t *header;
    size_t header_len;
    uint8_t sig[KEYS_SIG_BYTES];
    uint8_t *payload; /* NULL when erased */
    size_t payload_len;
    uint8_t salt[EVENT_SALT_BYTES];
    int has_payload;
    /* decoded payload (NULL when erased); owned by the event, its memory
     * in body_arena (event.c) */
    Lernet__Payload *body;
    struct arena *body_arena;
} event_t;

/* Parses and checks one encoded Envelope from outside. now_ms is the local
 * clock (for the future-time rule). An envelope without payload is refused
 * (EV_PAYLOAD_MISSING). On success *out is a new event the caller owns. On
 * failure returns an enum event_reason and writes a one-line message naming
 * the field into why (may be NULL). */
int event_parse(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms, char *why,
                size_t whylen);

/* The same, except that an envelope without payload and salt is parsed
 * header-only (has_payload 0, body NULL): for callers that hand the event
 * to store_add, which takes it only where a verified erasure covers it.
 * Ownership and failure as event_parse. */
int event_parse_erasable(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms,
                         char *why, size_t whylen);

/* The same checks as event_parse_erasable except the signature: the event
 * comes back EVENT_SIG_UNCHECKED, for a caller that checks a whole batch
 * (vpool) and can skip the verifications other events vouch for. It must
 * settle each with event_vouch or event_verify before store_add. */
int event_parse_unverified(event_t **out, const uint8_t *envelope, size_t len, int64_t now_ms,
                           char *why, size_t whylen);
/* Verifies ev's own signature: EV_OK and EVENT_SIG_VERIFIED, or
 * EV_BAD_SIGNATURE with the reason in why (ev unchanged). */
int event_verify(event_t *ev, char *why, size_t whylen);
/* Whether next, whose signature is settled (verified or vouched), vouches
 * for ev: same author, network and signer key, next.seq == ev.seq + 1,
 * next.prev == ev.id and next.prev_sig == BLAKE2b-256(ev.sig). If so ev
 * becomes EVENT_SIG_VOUCHED and true is returned; else nothing changes.
 * Sound because next's signer signed those hashes: it can only vouch for
 * the exact header and signature bytes it linked. */
bool event_vouch(event_t *ev, const event_t *next);

/* Drops ev's payload, salt and decoded body (the memory zeroed), leaving the
 * signed header and signature: what an erasure leaves of an event. */
void event_strip(event_t *ev);

/* 1 for the content kinds (workshop, meeting, experience, update, cancel,
 * resource, reply, goal, questionnaire, feedback): the only kinds an
 * erasure may name. A hide is a
 * coordinator's statement, not content: lifted by an unhide, never erased. */
int event_kind_content(int kind);

/* Same checks from the separately stored parts (header, signature, payload
 * and salt; payload/salt NULL when erased), as the store keeps them. */
int event_from_parts(event_t **out, const uint8_t *header, size_t header_len,
                     const uint8_t sig[KEYS_SIG_BYTES], const uint8_t *payload,
                     size_t payload_len, const uint8_t *salt, int64_t now_ms, char *why,
                     size_t whylen);

/* Builds, signs and checks a new event of the identity's own log.
 * prev is NULL for seq 1. The payload is validated with the same rules as
 * remote input before anything is signed. *out is owned by the caller. */
int event_create(event_t **out, const keys_identity_t *k, const char *network, uint64_t seq,
                 const uint8_t *prev, int64_t created_ms, const Lernet__Payload *payload,
                 char *why, size_t whylen);
/* The same, signed by k on behalf of author (a certified signing key);
 * author NULL means k is the author. */
int event_create_as(event_t **out, const uint8_t *author, const keys_identity_t *k,
                    const char *network, uint64_t seq, const uint8_t *prev, int64_t created_ms,
                    const Lernet__Payload *payload, char *why, size_t whylen);
/* The same with prev_sig, BLAKE2b-256 of event seq-1's signature (NULL: the
 * header carries none): how a node publishes, so that a partner catching
 * up can take most of a log on the strength of its later signatures
 * (event_vouch). event_sig_hash gives it from seq-1's signature. */
int event_create_linked(event_t **out, const uint8_t *author, const keys_identity_t *k,
                        const char *network, uint64_t seq, const uint8_t *prev,
                        const uint8_t *prev_sig, int64_t created_ms,
                        const Lernet__Payload *payload, char *why, size_t whylen);
void event_sig_hash(uint8_t out[EVENT_HASH_BYTES], const uint8_t sig[KEYS_SIG_BYTES]);

/* The id an envelope's header would have (BLAKE2b-256 of its header
 * bytes), without checking anything else: only for asking whether the
 * event is stored already. 0, or -1 when no header can be read. */
int event_envelope_id(const uint8_t *envelope, size_t len, uint8_t id[EVENT_ID_BYTES]);

/* Encodes the envelope for the wire or a bundle. *out is malloc'd, caller
 * frees. */
int event_envelope(const event_t *ev, uint8_t **out, size_t *len);

/* Checks a decoded payload against the rules for a header kind. Used by
 * event_parse and by publishers before signing. */
int event_check_payload(int kind, const Lernet__Payload *p, char *why, size_t whylen);

/* Network names: 1-64 of [a-z0-9._-], starting with a letter or digit. */
int event_network_valid(const char *name);
/* The two reserved logs every author has besides its networks: key
 * certificates and revocations ("@keys") and the identity revocation
 * ("@revoked"). '@' cannot start a network name, so they never clash. */
#define EVENT_LOG_KEYS "@keys"
#define EVENT_LOG_REVOKED "@revoked"
/* 1 for a network name or one of the reserved log names. */
int event_log_valid(const char *name);
/* 1 for the reserved log names. */
int event_log_reserved(const char *name);
/* Kind names: "workshop", "meeting", "experience", "update", "cancel",
 * "resource", "reply", "hide", "goal", "questionnaire", "feedback", ...;
 * NULL for unknown. */
const char *event_kind_name(int kind);

void event_id_hex(char out[EVENT_ID_HEX_SIZE], const uint8_t id[EVENT_ID_BYTES]);
void event_free(event_t **ev);

/* Current time in Unix milliseconds. */
int64_t event_now_ms(void);

#endif
