/*
 * store: the node's SQLite replica (WAL). The only module that speaks SQL.
 *
 * What it keeps:
 *  - events: every accepted signed event, byte-exact (header, signature,
 *    payload, salt). A log is (author, network); canonical events of a log
 *    have seq 1..head with no gaps, each prev = id of seq-1. Events taken
 *    off the chain (signed with a revoked key after its cut, by a removed
 *    member after its removal, or unproven below a cut) stay, withdrawn
 *    (STORE_ROW_WITHDRAWN); those withdrawn as unproven rejoin it when the
 *    pins prove them.
 *  - fork evidence: a second, different event signed by the same author for
 *    a seq already taken (or whose prev disagrees with our chain) is kept
 *    too (STORE_ROW_EVIDENCE), never applied nor forwarded; the author is
 *    marked forked. Bounded per author (STORE_MAX_FORKS).
 *  - pending: events that arrived ahead of a gap, or below a cut before
 *    they can be shown to be on the history it pins, held back (not
 *    applied) until they can; bounded per log and in total.
 *  - pins: per log, the ids its history must have above the head, learned
 *    top-down from a cut's last good id (see chain.c "pinned history").
 *  - feeds: per-log heads (the version vector sync announces).
 *  - items: the current workshops, meetings, experiences, resources and
 *    replies (with the coordinators' hide statements about them) derived from the
 *    log by applying updates and cancels in log order; store_rebuild()
 *    derives them again from the events alone, to the same result. When a
 *    write takes events off the chain, the items are derived again before
 *    it commits (for a batch: once, in store_commit).
 *  - who may sign and publish: certified and revoked signing keys with
 *    their cuts, revoked identities, and the members of managed networks.
 *  - erasures: every verified Erasure's targets (erase.c); a target held
 *    or received later keeps only its signed header and signature.
 *
 * Every write is one transaction (or joins the caller's store_begin() batch);
 * every statement is prepared once and reused; schema changes are
 * migrations keyed on PRAGMA user_version. synchronous=FULL: a commit that
 * returned is on disk, so the caller may acknowledge or forward the event.
 *
 * Derivation rules (documented for users in README):
 *  - an update applies only to a workshop, meeting, resource or goal, a cancel only
 *    to a workshop or meeting, of the same author in
 *    the same network (hence an earlier event of the same log); the content
 *    type of an update must match. Anything else stays in the log (it is a
 *    validly signed event and the chain must not break) but changes nothing.
 *  - the later event of the log wins: an update after a cancel reinstates
 *    the item unless its status says cancelled.
 */
#ifndef LERNET_STORE_H
#define LERNET_STORE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define STORE_SCHEMA_VERSION 13
#define STORE_MAX_PENDING_PER_LOG 1024
/* Erasures held back beyond STORE_MAX_PENDING_PER_LOG in one log (chain.c
 * hold): a node lacking both an event and its author's erasure of it is
 * served the target header-only first and may take it only under the
 * erasure, which may lie more than STORE_MAX_PENDING_PER_LOG events on. */
#define STORE_MAX_PENDING_ERASURES_PER_LOG 64
#define STORE_MAX_PENDING 65536
#define STORE_MAX_FORKS 64 /* fork evidence rows kept per author */

/* Error codes: STORE_ERR_* (-200s) of the one namespace in util/err.h
 * (err_name: "not_a_member", for metrics; err_text: "not a member"). */

/* What store_add did with an event. */
enum store_outcome {
    STORE_APPLIED = 0,   /* appended to its log (and derived views updated) */
    STORE_DUPLICATE = 1, /* already held, nothing changed */
    STORE_HELD = 2,      /* ahead of a gap: kept in pending, not applied */
    STORE_FORK = 3,      /* conflicting event: kept as evidence, author marked */
};
const char *store_outcome_name(int outcome);

typedef struct store store_t;

/* Out-parameters throughout: written only when the call returns STORE_OK
 * (or, for store_profile, true); after a failure they hold what the caller
 * put there. A why buffer, where there is one, receives a one-line reason
 * on failure. */

/* Opens (creating and migrating if needed) the database at path.
 * *out is owned by the caller: store_close() it. A store is used by one
 * thread at a time (its caches are unlocked; SQLite is set to
 * multi-thread mode, without a mutex per call, accordingly). */
int store_open(store_t **out, const char *path, char *why, size_t whylen);
/* Closes and sets *s to NULL. Safe on NULL. */
void store_close(store_t **s);

/* Batching: store_add calls between begin and commit share one transaction
 * (BEGIN IMMEDIATE, so a batch never fails half way on a lock upgrade).
 * Nested begin is an error. rollback discards the whole batch. Items a
 * batch's events made stale are derived again in store_commit; read from
 * inside the batch they may still show what it withdrew. When
 * store_commit fails the batch is still open: store_rollback it. */
int store_begin(store_t *s);
int store_commit(store_t *s);
int store_rollback(store_t *s);

/* Adds one checked event (from event_parse/event_parse_erasable/
 * event_create). Checks the chain against the log's head; appends, or holds
 * back, or keeps as fork evidence, or recognises a duplicate; updates
 * derived items; then applies any held-back events that now follow. On
 * success *outcome (may be NULL) receives enum store_outcome and *applied
 * (may be NULL) how many events were appended, counting drained pending
 * ones. On error neither is written and nothing of this call is kept.
 *
 * Erasure: an event a verified erasure covers is stored without its
 * payload, and ev itself is stripped (event_strip), so what the caller
 * hands on is what was stored; even when the call fails. A header-only ev
 * is taken only when an erasure covers it: otherwise EV_PAYLOAD_MISSING. An
 * Erasure event that names an event held here which its author may not
 * erase is refused (STORE_ERR_NOT_ERASABLE). */
int store_add(store_t *s, event_t *ev, int *outcome, size_t *applied, char *why,
              size_t whylen);

/* Head of a log: *seq = 0 (and id zeroed) when the log is empty.
 * STORE_ERR_CORRUPT if the stored head is damaged. */
int store_head(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t *seq, uint8_t id[EVENT_ID_BYTES]);
/* The same, and the hash of the head's signature (event_sig_hash) for the
 * next event's prev_sig: *linked is false (and the hash zero) when the log
 * is empty or its head is not held here as an event. */
int store_head_linked(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                      uint64_t *seq, uint8_t id[EVENT_ID_BYTES],
                      uint8_t sig_hash[EVENT_HASH_BYTES], bool *linked);

/* The id of the event at seq on the chain of (author, network):
 * STORE_ERR_NOT_FOUND when this node holds none there. id is written only
 * on success. A cut names its last good event with it. */
int store_id_at(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                uint64_t seq, uint8_t id[EVENT_ID_BYTES]);

/* 1 when id is stored here as a chain event with its payload: another copy
 * can add nothing (store_add would call it a duplicate, whatever else the
 * copy holds), so it need not even be verified. 0 otherwise (also for
 * fork evidence, withdrawn or stripped rows, held-back events, errors). */
int store_known(store_t *s, const uint8_t id[EVENT_ID_BYTES]);

/* How far a log reaches here: its head, or beyond it where the events
 * that follow are held back already (waiting for proof that they are on
 * the history a cut pinned, see chain.c "pinned history"), so a puller
 * asks for what comes next rather than for those again. */
int store_have(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t *seq);

/* One log's head, as sync announces it. */
typedef struct store_feed {
    uint8_t author[KEYS_PUBLIC_BYTES];
    char network[EVENT_MAX_NETWORK + 1];
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    int forked; /* author has fork evidence */
} store_feed_t;
/* All logs of the given networks (networks NULL: all), sorted by author
 * then network. *out is malloc'd (caller frees), *count its length.
 * Damaged rows are left out (store_verify reports them). */
int store_feeds(store_t *s, const char *const *networks, size_t n_networks,
                store_feed_t **out, size_t *count);

/* What a stored event row is (store_row_t.fork). */
enum store_row_state {
    STORE_ROW_CANONICAL = 0, /* on its log's chain: served, derived */
    STORE_ROW_EVIDENCE = 1,  /* fork evidence: conflicts with the chain; kept, never served */
    STORE_ROW_WITHDRAWN = 2, /* taken off the chain (revoked key, removed member, or unproven
                              * below a cut); kept, never served, may rejoin when proven */
};

/* A stored event row; pointers valid only during the callback. */
typedef struct store_row {
    int64_t rowid;
    const uint8_t *id;
    const uint8_t *author;
    const char *network;
    uint64_t seq;
    int kind;
    int64_t created_ms;
    int64_t received_ms;
    int fork; /* enum store_row_state */
    const uint8_t *header;
    size_t header_len;
    const uint8_t *sig; /* KEYS_SIG_BYTES */
    const uint8_t *payload; /* NULL when erased */
    size_t payload_len;
    const uint8_t *salt;    /* NULL when erased */
} store_row_t;
/* Return non-zero from the callback to stop early (that value is returned). */
typedef int (*store_row_cb)(void *ctx, const store_row_t *row);

/* A row as the signed envelope the wire and invites carry, straight from
 * the stored parts (no parse, no re-encode of the header). *out is
 * malloc'd; 0 on success, -1 out of memory. */
int store_row_envelope(const store_row_t *r, uint8_t **out, size_t *len);

/* The erasure that took target's payload here, as the signed envelope
 * (*out malloc'd; written only on success): a partner served the target
 * header-only needs it first, or it must refuse the target
 * (payload_missing) and, when the erasure lies beyond what it asks for
 * next, could never move past it. STORE_ERR_NOT_FOUND if none did. */
int store_erasure_envelope(store_t *s, const uint8_t target[EVENT_ID_BYTES], uint8_t **out,
                           size_t *len);

/* Canonical events of one log with from <= seq <= to, in seq order. */
int store_range(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                uint64_t from, uint64_t to, store_row_cb cb, void *ctx);
/* Every stored event (canonical and fork evidence) in the order received. */
int store_foreach_event(store_t *s, store_row_cb cb, void *ctx);
/* One event by id, or by a unique hex prefix of at least 8 characters.
 * *out is a freshly parsed event the caller owns. STORE_ERR_NOT_FOUND,
 * STORE_ERR_AMBIGUOUS or STORE_ERR_CORRUPT (its bytes no longer parse),
 * with the reason in why. */
int store_get_event(store_t *s, const char *id_hex, event_t **out, char *why, size_t whylen);

/* Derived items. At most one content pointer is set, the one of kind; all
 * are NULL when the payload was erased. Valid only during the callback. */
typedef struct store_item {
    uint8_t id[EVENT_ID_BYTES]; /* id of the original event */
    int kind;                   /* LERNET__KIND__WORKSHOP / MEETING / EXPERIENCE /
                                 * RESOURCE / REPLY / GOAL / QUESTIONNAIRE / FEEDBACK */
    uint8_t author[KEYS_PUBLIC_BYTES];
    const char *network;
    int64_t start, end; /* Unix seconds; 0 for experiences */
    int cancelled;
    const char *cancel_reason; /* NULL unless cancelled by a cancel event */
    /* A series' occurrences its author cancelled one by one (a Cancel with
     * occurrence), by start, ascending; at most 200. The series goes on. */
    const int64_t *cancelled_occurrences;
    size_t n_cancelled_occurrences;
    uint32_t revision;         /* 0 for the original, +1 per update or cancel */
    int64_t created_ms;        /* of the original event */
    int64_t updated_ms;        /* of the latest event that changed it */
    uint8_t about[EVENT_ID_BYTES]; /* experience: the event reported on; reply: what it
                                    * answers; resource: what it documents (or zero) */
    const Lernet__Workshop *workshop;
    const Lernet__Meeting *meeting;
    const Lernet__Experience *experience;
    const Lernet__Resource *resource;
    const Lernet__Reply *reply;
    const Lernet__Goal *goal;                   /* about: zero */
    const Lernet__Questionnaire *questionnaire; /* about: zero */
    const Lernet__Feedback *feedback;           /* about: the workshop or meeting */
    /* Published by one who may not: a goal or questionnaire not by a
     * coordinator of its managed network when it was made, feedback not by
     * the organiser of the workshop or meeting it is about (or that item
     * is not here). Kept (the chain must not break), shown as such, never
     * counted. Decided when read, so it never depends on arrival order. */
    int unauthorised;
    /* Hidden by a coordinator of the item's managed network (resources and
     * replies only): the latest Hide statement about it by one who was a
     * coordinator when it was made, and not lifted by an unhide. The
     * content stays (it is not erased); views show it as hidden, by whom. */
    int hidden;
    uint8_t hidden_by[KEYS_PUBLIC_BYTES];
    int64_t hidden_ms;
    const char *hide_reason; /* "" when none was given */
    /* The author's standing now: its items stay, marked, when it left. */
    int author_removed;  /* no longer a member of the item's (managed) network */
    int author_revoked;  /* its identity was revoked */
    /* Erased (GDPR Art. 17): the original's content is gone (the content
     * pointers are NULL, start and end 0); the erasure that took it, by
     * the author or a coordinator, when (its creation time) and why. */
    int erased;
    int64_t erased_ms;                    /* 0 if unknown */
    uint8_t erased_by[KEYS_PUBLIC_BYTES]; /* valid when erased_by_known */
    int erased_by_known;
    const char *erase_reason;             /* NULL or "" when none was given */
} store_item_t;
typedef int (*store_item_cb)(void *ctx, const store_item_t *item);

typedef struct store_query {
    int kind;            /* 0: all kinds */
    int64_t starts_after; /* only items whose end >= this (Unix s); 0: no limit */
    const char *network; /* NULL: all */
    const uint8_t *about; /* items about this event id (reports, replies, resources); NULL: any */
    size_t limit;        /* 0: no limit */
    bool with_files;     /* only the kinds that may list attached files (resources,
                          * replies), in the order the full list has them; read
                          * through the kind index, not a scan of every item */
} store_query_t;
/* Items ordered by start; the undated ones (experiences, resources,
 * replies) after them, by creation time. */
int store_items(store_t *s, const store_query_t *q, store_item_cb cb, void *ctx);
/* One item by the id (or unique hex prefix) of its original event. */
int store_item(store_t *s, const char *id_hex, store_item_cb cb, void *ctx, char *why,
               size_t whylen);

/* Full-text search over every language's texts of the items (search.c):
 * titles, descriptions, agendas, minutes, experience texts and lessons,
 * resources' titles and summaries, replies' texts, goals' titles and
 * descriptions, questionnaires' titles and questions. Diacritic-insensitive
 * ("larare" finds "lärare", "Kobenhavn" "København", "Strasse" "Straße"),
 * a word matches as part of a longer one ("platz" finds
 * "Arbeitsplatzlernen"), every word of the query must match (in one
 * language of the item), ranked by bm25 with titles weighing more, among
 * the newest 500 matches of a query that matches more.
 * Cancelled items are found (hit.cancelled says so); hidden replies and
 * resources are not. Erased text is not in the index. */
#define STORE_SEARCH_MAX_QUERY 256 /* bytes of a query */
#define STORE_SEARCH_MAX_TERMS 16  /* words of a query */
#define STORE_SEARCH_DEFAULT_LIMIT 20
#define STORE_SEARCH_MAX_LIMIT 200
/* The snippet marks the matching text between these two bytes (control
 * characters, which no event text holds): a view escapes the snippet and
 * shows them as it likes. */
#define STORE_SEARCH_MARK_OPEN '\x02'
#define STORE_SEARCH_MARK_CLOSE '\x03'

typedef struct store_search {
    const char *text;    /* what the user typed: words; quotes and operators are text */
    int kind;            /* 0: every kind */
    const char *network; /* NULL: every network */
    size_t limit;        /* 0: STORE_SEARCH_DEFAULT_LIMIT; at most STORE_SEARCH_MAX_LIMIT */
} store_search_t;

/* One result; pointers valid only during the callback. */
typedef struct store_hit {
    uint8_t id[EVENT_ID_BYTES]; /* the item (its original event) */
    int kind;
    const char *network;
    const char *lang;    /* the language whose text matched best */
    const char *title;   /* in lang, else the item's first title; "" for a reply */
    const char *snippet; /* of lang's text, the matches between the marks */
    double rank;         /* bm25: lower is better; results come best first */
    int cancelled;
    int64_t start;       /* Unix s; 0 for the undated kinds */
    int64_t created_ms;
} store_hit_t;
typedef int (*store_hit_cb)(void *ctx, const store_hit_t *hit);

/* Calls cb for each result, best first, at most limit. A query that is
 * empty, too long, not UTF-8, holds control characters or no word is
 * refused (STORE_ERR_INVALID, the reason in why); nothing a user types is
 * taken as FTS5 syntax. A non-zero return of cb stops and is returned. */
int store_search(store_t *s, const store_search_t *q, store_hit_cb cb, void *ctx, char *why,
                 size_t whylen);
/* The FTS5 expression store_search makes of text (for tests and the
 * fuzzer): each word a quoted string. STORE_OK or STORE_ERR_INVALID. */
int store_search_expr(const char *text, char *out, size_t outlen, char *why, size_t whylen);

/* Re-derives items from the events alone (drop and replay in log order). */
int store_rebuild(store_t *s, char *why, size_t whylen);

/* Re-checks the whole store: PRAGMA integrity_check; every event re-parsed
 * from its stored bytes (signature, id, payload hash, fields); every log's
 * chain continuous and matching its head; derived items equal to a fresh
 * rebuild; forked authors reported. report is called once per problem
 * with a one-line message. *problems counts them. */
typedef void (*store_report_cb)(void *ctx, const char *line);
int store_verify(store_t *s, store_report_cb report, void *ctx, size_t *checked,
                 size_t *problems);

typedef struct store_stats {
    uint64_t events, forks, pending, authors, logs, items, bytes;
} store_stats_t;
/* Counts (events: canonical rows; forks: fork evidence). STORE_ERR_SQL if
 * one could not be read; *out is then untouched. */
int store_stats(store_t *s, store_stats_t *out);

/* Network membership. A network with trusted coordinators (from the node's
 * config: [network "NAME"] coordinators = ...) is managed: its events are
 * accepted only from coordinators and from members a coordinator admitted
 * in a Membership event, within their term and before any removal. A
 * network without is open to whatever configured partners send.
 * STORE_ERR_INVALID if network is not a network name, STORE_ERR_LIMIT past
 * STORE_MAX_ANCHORS (256) coordinators in all. */
int store_trust(store_t *s, const char *network, const uint8_t coordinator[KEYS_PUBLIC_BYTES]);
/* A number that changes whenever who may publish or connect may have
 * changed: a membership statement, a key or identity revocation, new
 * anchors (through this handle), or any commit by another connection (another
 * process; PRAGMA data_version). Constant time: cheap enough to ask at every
 * handshake and loop turn. The daemon re-checks its partners' rights and
 * rebuilds its key index when it moves. It also retries, at most once a
 * second and without waiting, the WAL checkpoint an erasure still owes
 * (another process was reading when it was first tried). */
uint64_t store_authz_version(store_t *s);
/* A number that moves whenever what store_feeds returns may have changed:
 * any row written by this handle (even one later undone: an undo moves it
 * again), or any commit by another connection. Never the same number for
 * two different contents, so a caller may keep what it derived from the
 * feeds (sync's digests) until the number moves. Constant time. */
uint64_t store_feeds_version(store_t *s);
/* A number that moves with every commit by another connection to the
 * store (another process): PRAGMA data_version. */
uint64_t store_foreign_version(store_t *s);
/* Whether network has trusted coordinators. */
bool store_managed(store_t *s, const char *network);
typedef struct store_member {
    uint8_t key[KEYS_PUBLIC_BYTES];
    const char *name, *endpoint;
    int coordinator, removed, anchor; /* anchor: trusted from config */
    int64_t until_ms;                 /* 0: no end */
    uint64_t last_good_seq;           /* if removed */
} store_member_t;
typedef int (*store_member_cb)(void *ctx, const store_member_t *m);
/* The coordinators and members of network known here. */
int store_members(store_t *s, const char *network, store_member_cb cb, void *ctx);
/* Whether key may connect and publish in network now (coordinator, or member
 * not removed whose term has not ended at now_ms). */
bool store_is_member(store_t *s, const char *network, const uint8_t key[KEYS_PUBLIC_BYTES],
                     int64_t now_ms);

/* Whether key is a coordinator of the managed network now (trusted from
 * config, or made one by a coordinator's statement): it may moderate,
 * that is erase members' content. false for an open network. */
bool store_is_coordinator(store_t *s, const char *network, const uint8_t key[KEYS_PUBLIC_BYTES],
                          int64_t now_ms);

/* What erasing event id takes with it: the ids of the canonical updates
 * and cancels of the same author and network that target it and still
 * hold their content, at most max, in out[0..*n). STORE_OK or STORE_ERR_SQL. */
int store_erase_dependents(store_t *s, const uint8_t id[EVENT_ID_BYTES],
                           uint8_t (*out)[EVENT_ID_BYTES], size_t max, size_t *n);

/* An author's latest profile (organisation, country, municipality), from
 * its key log. true if known (strings copied into *out), false if not (or
 * on a database error; *out is then untouched). */
typedef struct store_profile {
    char name[301], country[3], municipality[301];
} store_profile_t;
bool store_profile(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], store_profile_t *out);

/* 1 if the author's identity was revoked, 0 if not (or unknown), < 0 on
 * error. */
int store_author_revoked(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES]);

/* The signing keys an author certified or revoked, oldest first. */
typedef struct store_signing_key {
    uint8_t key[KEYS_PUBLIC_BYTES];
    int certified, revoked;
    int64_t certified_ms; /* creation time of the certificate, 0 if none */
} store_signing_key_t;
typedef int (*store_signing_key_cb)(void *ctx, const store_signing_key_t *k);
int store_signing_keys(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES],
                       store_signing_key_cb cb, void *ctx);

/* Authors with fork evidence: *out a malloc'd array of *count keys
 * (caller frees; not NULL on success, even when *count is 0). */
int store_forked_authors(store_t *s, uint8_t (**out)[KEYS_PUBLIC_BYTES], size_t *count);

#endif
