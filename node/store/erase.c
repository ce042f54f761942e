/*
 * erase: what an Erasure event does to the store (GDPR Art. 17).
 *
 * An erasure names content events (workshops, meetings, experiences,
 * updates, cancels) of its network. It counts for a target when its author
 * is the target's author, or, in a managed network, a coordinator
 * (moderation); control events are never erased. A counting erasure
 * removes the target's payload and salt, wherever the target is held here
 * (on its chain, off it, held back), and keeps the signed header and the
 * signature, so every chain and `lernet verify` stay whole.
 *
 * Erasures are kept in the erasures table from the moment a verified one
 * is stored, whether or not the targets are here yet: once it is on its
 * chain, a target that arrives later, with its payload or without, is
 * stored without it (store_add). One held back ahead of a gap (its place
 * in the chain not proven yet: it may be signed with a key whose
 * revocation cuts it off) only lets header-only copies of its targets
 * fill that gap, and removes nothing until it joins the chain. That is
 * also the one case in which a header-only event is taken at all
 * (chain_add asks erase_covers); every other one stays refused as
 * payload_missing.
 *
 * Nothing of the text may stay on disk: the store runs with
 * secure_delete=ON (freed cells and pages are zeroed), and after a commit
 * that removed a payload the WAL is checkpointed and truncated
 * (erase_checkpoint), which takes the old page images out of the -wal file.
 * The item the erased event counts for (the one it made, or the one an
 * update or cancel names) is marked stale, so it is derived again, alone
 * and without the text, with its search rows, before the commit: an
 * erasure costs what it erased, not the size of the store.
 */
#include "store/store_impl.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/why.h"

/* A target as held here: its kind, author and network. */
typedef struct target {
    int kind;
    uint8_t author[KEYS_PUBLIC_BYTES];
    char network[EVENT_MAX_NETWORK + 1];
} target_t;

/* Looks the id up on a chain or off it, then among the held-back events
 * (whose header is parsed: pending does not keep the kind). */
static bool target_find(store_t *s, const uint8_t *id, target_t *t)
{
    sqlite3_stmt *st = Q(s, Q_TARGET_EVENT);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    bool found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == KEYS_PUBLIC_BYTES;
    if (found) {
        t->kind = sqlite3_column_int(st, 0);
        memcpy(t->author, sqlite3_column_blob(st, 1), KEYS_PUBLIC_BYTES);
        snprintf(t->network, sizeof t->network, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    if (found)
        return true;
    st = Q(s, Q_TARGET_PENDING);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    event_t *ev = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == KEYS_SIG_BYTES)
        event_from_parts(&ev, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                         sqlite3_column_blob(st, 1), NULL, 0, NULL, STORED_NOW, NULL, 0);
    sqlite3_reset(st);
    if (!ev)
        return false;
    t->kind = ev->kind;
    memcpy(t->author, ev->author, KEYS_PUBLIC_BYTES);
    snprintf(t->network, sizeof t->network, "%s", ev->network);
    event_free(&ev);
    return true;
}

/* Whether an erasure by `by` at when_ms may take t's content: its author,
 * or a coordinator of its managed network. */
static bool may_erase(store_t *s, const target_t *t, const uint8_t *by, int64_t when_ms)
{
    return memcmp(by, t->author, KEYS_PUBLIC_BYTES) == 0 ||
           authz_coordinator(s, t->network, by, when_ms);
}

/* The first stored erasure that counts for target id (t as it is held, or
 * arrives); its id in erasure (may be NULL). held_too: also one held back
 * ahead of a gap (enough to take a header-only copy, never to remove). */
static bool covering(store_t *s, const uint8_t *id, const target_t *t,
                     uint8_t erasure[EVENT_ID_BYTES], bool held_too)
{
    if (!event_kind_content(t->kind) || !s->c.erasures)
        return false;
    sqlite3_stmt *st = Q(s, Q_ERASURE_OF);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    bind_text(st, 2, t->network);
    sqlite3_bind_int(st, 3, held_too);
    bool found = false;
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != EVENT_ID_BYTES ||
            sqlite3_column_bytes(st, 1) != KEYS_PUBLIC_BYTES)
            continue;
        found = may_erase(s, t, sqlite3_column_blob(st, 1), sqlite3_column_int64(st, 2));
        if (found && erasure)
            memcpy(erasure, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
    }
    sqlite3_reset(st);
    return found;
}

static target_t target_of(const event_t *ev)
{
    target_t t = {.kind = ev->kind};
    memcpy(t.author, ev->author, KEYS_PUBLIC_BYTES);
    snprintf(t.network, sizeof t.network, "%s", ev->network);
    return t;
}

bool erase_covers(store_t *s, const event_t *ev)
{
    target_t t = target_of(ev);
    return covering(s, ev->id, &t, NULL, true);
}

int erase_incoming(store_t *s, event_t *ev, bool *stripped)
{
    target_t t = target_of(ev);
    uint8_t erasure[EVENT_ID_BYTES];
    *stripped = false;
    if (!covering(s, ev->id, &t, erasure, false))
        return STORE_OK;
    if (ev->has_payload) {
        event_strip(ev);
        *stripped = true;
    }
    /* header-only or stripped here: this erasure is the one readers name */
    sqlite3_stmt *st = Q(s, Q_ERASURE_APPLY);
    bind_blob(st, 1, ev->id, EVENT_ID_BYTES);
    bind_blob(st, 2, erasure, EVENT_ID_BYTES);
    return step_done(s, st, NULL, 0);
}

/* A verified erasure about to be stored: a target held here must be
 * content of the erasure's network that its author may erase. A target not
 * held yet is judged when it arrives (an erasure by someone else then
 * simply does not count). */
int erase_check(store_t *s, const event_t *ev, char *why, size_t whylen)
{
    const Lernet__Erasure *x = ev->body ? ev->body->erasure : NULL;
    char hex[EVENT_ID_HEX_SIZE];
    for (size_t i = 0; x && i < x->n_targets; i++) {
        target_t t;
        if (!target_find(s, x->targets[i].data, &t))
            continue;
        event_id_hex(hex, x->targets[i].data);
        if (!event_kind_content(t.kind))
            return why_fail(why, whylen, STORE_ERR_NOT_ERASABLE,
                            "erasure target %.16s… is a %s event: control events are never "
                            "erased", hex, event_kind_name(t.kind));
        if (strcmp(t.network, ev->network) != 0)
            return why_fail(why, whylen, STORE_ERR_NOT_ERASABLE,
                            "erasure target %.16s… is in network %s, the erasure in %s", hex,
                            t.network, ev->network);
        if (!may_erase(s, &t, ev->author, ev->created_ms))
            return why_fail(why, whylen, STORE_ERR_NOT_ERASABLE,
                            "erasure target %.16s… was published by another node: only its "
                            "author, or a coordinator of a managed network, may erase it", hex);
    }
    return STORE_OK;
}

/* The item whose view the canonical event id's content is part of: the
 * event's own row if it makes an item, the item an update or cancel names
 * (read from the payload, so before it is removed); 0 if none (the event
 * is off the chain, or held back, or names no item held here). */
static int64_t erased_item(store_t *s, const uint8_t *id)
{
    sqlite3_stmt *st, *o;
    int64_t origin = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT rowid, kind, payload FROM events WHERE id = ?1"
                                  " AND fork = " SQL_CANONICAL " AND payload IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_prepare_v2(s->db, "SELECT rowid FROM events WHERE id = ?1"
                                  " AND fork = " SQL_CANONICAL, -1, &o, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int kind = sqlite3_column_int(st, 1);
        Lernet__Payload *p = NULL;
        if (kind != LERNET__KIND__KIND_UPDATE && kind != LERNET__KIND__KIND_CANCEL)
            origin = sqlite3_column_int64(st, 0);
        else
            p = lernet__payload__unpack(NULL, (size_t)sqlite3_column_bytes(st, 2),
                                        sqlite3_column_blob(st, 2));
        const ProtobufCBinaryData *t =
            !p ? NULL
            : p->body_case == LERNET__PAYLOAD__BODY_UPDATE ? &p->update->target
            : p->body_case == LERNET__PAYLOAD__BODY_CANCEL ? &p->cancel->target
                                                           : NULL;
        sqlite3_reset(st);
        if (t && t->len == EVENT_ID_BYTES) {
            bind_blob(o, 1, t->data, EVENT_ID_BYTES);
            if (sqlite3_step(o) == SQLITE_ROW)
                origin = sqlite3_column_int64(o, 0);
        }
        if (p)
            lernet__payload__free_unpacked(p, NULL);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(o);
    return origin;
}

/* Removes target's payload wherever it is held, if an erasure counts for it. */
static int erase_apply(store_t *s, const uint8_t *id, char *why, size_t whylen)
{
    target_t t;
    uint8_t erasure[EVENT_ID_BYTES];
    char hex[EVENT_ID_HEX_SIZE];
    if (!target_find(s, id, &t) || !covering(s, id, &t, erasure, false))
        return STORE_OK;
    int changed = 0, rc = STORE_OK;
    int64_t item = erased_item(s, id);
    static const enum stmt_id strip[] = {Q_STRIP_EVENT, Q_STRIP_PENDING};
    for (size_t i = 0; rc == STORE_OK && i < 2; i++) {
        sqlite3_stmt *st = Q(s, strip[i]);
        bind_blob(st, 1, id, EVENT_ID_BYTES);
        rc = step_done(s, st, why, whylen);
        changed += sqlite3_changes(s->db);
    }
    if (rc != STORE_OK)
        return rc;
    /* a header-only copy taken under this erasure while it was held back
     * had nothing to remove: it is still the erasure readers name */
    sqlite3_stmt *st = Q(s, Q_ERASURE_APPLY);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    bind_blob(st, 2, erasure, EVENT_ID_BYTES);
    if ((rc = step_done(s, st, why, whylen)) || changed == 0)
        return rc;
    event_id_hex(hex, id);
    log_info("erased the content of event %.16s… (its signed header stays)", hex);
    if (item)
        lifecycle_item_stale(s, item);
    s->erase_due = true;
    s->erase_tried_ms = 0; /* checkpoint right after this commit */
    return STORE_OK;
}

int erase_note(store_t *s, const event_t *ev, bool held, char *why, size_t whylen)
{
    const Lernet__Erasure *x = ev->body ? ev->body->erasure : NULL;
    int rc = STORE_OK;
    s->c.erasures = 1;
    for (size_t i = 0; x && rc == STORE_OK && i < x->n_targets; i++) {
        sqlite3_stmt *st = Q(s, Q_ERASURE_INS);
        bind_blob(st, 1, x->targets[i].data, EVENT_ID_BYTES);
        bind_blob(st, 2, ev->id, EVENT_ID_BYTES);
        bind_blob(st, 3, ev->author, KEYS_PUBLIC_BYTES);
        bind_text(st, 4, ev->network);
        sqlite3_bind_int64(st, 5, ev->created_ms);
        bind_text(st, 6, x->reason);
        sqlite3_bind_int(st, 7, held);
        if ((rc = step_done(s, st, why, whylen)) == STORE_OK && !held)
            rc = erase_apply(s, x->targets[i].data, why, whylen);
    }
    return rc;
}

/* Non-blocking: a checkpoint that waits for another process's reader
 * would stall the daemon's loop; one that cannot finish now is tried again
 * later (store_authz_version asks on every loop turn, at most once a
 * second). */
void erase_checkpoint(store_t *s)
{
    int64_t now = event_now_ms();
    if (!s->erase_due || s->in_batch || now - s->erase_tried_ms < 1000)
        return;
    s->erase_tried_ms = now;
    int log_frames = -1, done = -1;
    sqlite3_busy_timeout(s->db, 0);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done);
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    if (rc == SQLITE_OK) {
        s->erase_due = false;
        s->erase_tried_ms = 0;
    } else
        log_debug("checkpoint after an erasure: %s; trying again", sqlite3_errmsg(s->db));
}

/* The target an update or cancel names, from its decoded payload. */
static const ProtobufCBinaryData *change_target(const event_t *ev)
{
    const Lernet__Payload *p = ev->body;
    if (p && p->body_case == LERNET__PAYLOAD__BODY_UPDATE)
        return &p->update->target;
    if (p && p->body_case == LERNET__PAYLOAD__BODY_CANCEL)
        return &p->cancel->target;
    return NULL;
}

int store_erase_dependents(store_t *s, const uint8_t id[EVENT_ID_BYTES],
                           uint8_t (*out)[EVENT_ID_BYTES], size_t max, size_t *n)
{
    sqlite3_stmt *st;
    size_t k = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT c.header, c.sig, c.payload, c.salt FROM events o"
                                  " JOIN events c ON c.author = o.author AND c.network = o.network"
                                  " AND c.seq > o.seq WHERE o.id = ?1 AND c.fork = " SQL_CANONICAL
                                  " AND c.kind IN (?2, ?3) AND c.payload IS NOT NULL"
                                  " ORDER BY c.seq",
                           -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    sqlite3_bind_int(st, 2, LERNET__KIND__KIND_UPDATE);
    sqlite3_bind_int(st, 3, LERNET__KIND__KIND_CANCEL);
    while (k < max && sqlite3_step(st) == SQLITE_ROW) {
        event_t *ev = store_row_event(st, 0);
        const ProtobufCBinaryData *t = ev ? change_target(ev) : NULL;
        if (t && t->len == EVENT_ID_BYTES && memcmp(t->data, id, EVENT_ID_BYTES) == 0)
            memcpy(out[k++], ev->id, EVENT_ID_BYTES);
        event_free(&ev);
    }
    sqlite3_finalize(st);
    *n = k;
    return STORE_OK;
}

int store_erasure_envelope(store_t *s, const uint8_t target[EVENT_ID_BYTES], uint8_t **out,
                           size_t *len)
{
    uint8_t id[EVENT_ID_BYTES];
    char hex[EVENT_ID_HEX_SIZE];
    sqlite3_stmt *st = Q(s, Q_ERASURE_APPLIED);
    bind_blob(st, 1, target, EVENT_ID_BYTES);
    bool found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES;
    if (found)
        memcpy(id, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
    sqlite3_reset(st);
    if (!found)
        return STORE_ERR_NOT_FOUND;
    event_t *ev = NULL;
    event_id_hex(hex, id);
    int rc = store_get_event(s, hex, &ev, NULL, 0);
    if (rc != STORE_OK)
        return rc;
    rc = event_envelope(ev, out, len) == EV_OK ? STORE_OK : STORE_ERR_SQL;
    event_free(&ev);
    return rc;
}
