/*
 * items: the workshops, meetings, experiences, resources and replies
 * derived from the canonical events (the items table), the coordinators'
 * hide statements (hides), and the authors' profiles.
 *
 * Derivation rules (for users in README, summed up in store.h): an update
 * applies only to a workshop, meeting or resource, a cancel only to a
 * workshop or meeting, of the same author in the same network, an update
 * only with the same content type; anything else stays in the log and
 * changes nothing. A hide counts when it is read (emit_item): the latest
 * statement about the item in its network by one who was a coordinator of
 * that managed network when it was made. The later event of the log
 * wins: an update after a cancel reinstates the item unless its status
 * says cancelled.
 *
 * Invariant: the items are a pure function of the canonical rows in rowid
 * order, which is log order within every log; lifecycle_replay relies on
 * it, and store_rebuild derives them again to the same result.
 * items_derive writes only the items, hides and profiles tables, and the
 * search index of the items it creates or updates (search.c; outside a
 * replay, after which search_sync brings the index in step at once).
 */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series.h"
#include "util/log.h"
#include "util/why.h"

/* ---- derivation ----------------------------------------------------- */

typedef struct when {
    int64_t start, end;
    int cancelled;
} when_t;

/* A series (core/series.h) spans from its first occurrence's start to its
 * last one's end, so that queries by time (store_query's starts_after,
 * periods) find it while any occurrence is ahead. */
static int64_t series_end(const Lernet__Workshop *w, const Lernet__Meeting *m, int64_t end)
{
    series_t sr = series_of(w, m);
    series_occ_t *occ;
    size_t n = 0;
    if (!series_repeats(&sr) || !(occ = malloc(SERIES_MAX * sizeof *occ)))
        return end;
    if (series_expand(&sr, occ, SERIES_MAX, &n, NULL, 0) == 0)
        for (size_t i = 0; i < n; i++)
            end = occ[i].end > end ? occ[i].end : end;
    free(occ);
    return end;
}

static when_t content_when(const Lernet__Workshop *w, const Lernet__Meeting *m)
{
    if (w)
        return (when_t){w->start, series_end(w, NULL, w->end),
                        w->status == LERNET__STATUS__STATUS_CANCELLED};
    if (m)
        return (when_t){m->start, series_end(NULL, m, m->end), 0};
    return (when_t){0, 0, 0};
}

static int derive_new(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                      size_t whylen)
{
    const Lernet__Payload *p = ev->body;
    when_t w = {0, 0, 0};
    const uint8_t *about = NULL;
    if (p && p->body_case == LERNET__PAYLOAD__BODY_WORKSHOP)
        w = content_when(p->workshop, NULL);
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_MEETING)
        w = content_when(NULL, p->meeting);
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_EXPERIENCE)
        about = p->experience->about.data;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_REPLY)
        about = p->reply->about.data;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_RESOURCE &&
             p->resource->about.len == EVENT_ID_BYTES)
        about = p->resource->about.data;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_FEEDBACK)
        about = p->feedback->about.data;
    sqlite3_stmt *st = Q(s, Q_ITEM_INS);
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_int(st, 2, ev->kind);
    sqlite3_bind_int64(st, 3, aid);
    sqlite3_bind_int64(st, 4, w.start);
    sqlite3_bind_int64(st, 5, w.end);
    sqlite3_bind_int(st, 6, w.cancelled);
    sqlite3_bind_int64(st, 7, ev->created_ms);
    bind_blob(st, 8, about, EVENT_ID_BYTES);
    int rc = step_done(s, st, why, whylen);
    if (rc == STORE_OK && !s->replaying && sqlite3_changes(s->db) > 0 && s->in_batch)
        search_note(s, rowid); /* indexed at the batch's commit point */
    else if (rc == STORE_OK && !s->replaying && sqlite3_changes(s->db) > 0)
        rc = search_put(s, rowid, rowid, p, why, whylen);
    return rc;
}

/* Whether target is an item an update or cancel may change: one of the
 * same author and network whose kind is allowed. */
static bool target_ok(store_t *s, const uint8_t *target, int64_t aid, const char *network,
                      int want_kind)
{
    sqlite3_stmt *st = Q(s, Q_ITEM_GET);
    bind_blob(st, 1, target, EVENT_ID_BYTES);
    bool ok = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int kind = sqlite3_column_int(st, 0);
        ok = sqlite3_column_int64(st, 1) == aid &&
             strcmp((const char *)sqlite3_column_text(st, 2), network) == 0 &&
             (want_kind ? kind == want_kind
                        : (kind == LERNET__KIND__KIND_WORKSHOP || kind == LERNET__KIND__KIND_MEETING));
    }
    sqlite3_reset(st);
    return ok;
}

static int derive_update(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                         size_t whylen)
{
    const Lernet__Update *u = ev->body->update;
    int is_ws = u->content_case == LERNET__UPDATE__CONTENT_WORKSHOP;
    int is_goal = u->content_case == LERNET__UPDATE__CONTENT_GOAL;
    int is_res = u->content_case == LERNET__UPDATE__CONTENT_RESOURCE || is_goal; /* undated */
    int want = is_ws     ? LERNET__KIND__KIND_WORKSHOP
               : is_goal ? LERNET__KIND__KIND_GOAL
               : is_res  ? LERNET__KIND__KIND_RESOURCE
                         : LERNET__KIND__KIND_MEETING;
    if (!target_ok(s, u->target.data, aid, ev->network, want)) {
        log_debug("update %02x%02x…: target not an own %s in %s; ignored", ev->id[0], ev->id[1],
                  event_kind_name(want), ev->network);
        return STORE_OK;
    }
    when_t w = is_res ? (when_t){0, 0, 0}
                      : content_when(is_ws ? u->workshop : NULL, is_ws ? NULL : u->meeting);
    sqlite3_stmt *st = Q(s, Q_ITEM_UPDATE);
    bind_blob(st, 1, u->target.data, EVENT_ID_BYTES);
    sqlite3_bind_int64(st, 2, rowid);
    sqlite3_bind_int64(st, 3, w.start);
    sqlite3_bind_int64(st, 4, w.end);
    sqlite3_bind_int(st, 5, w.cancelled);
    sqlite3_bind_int64(st, 6, ev->created_ms);
    int rc = step_done(s, st, why, whylen);
    if (rc == STORE_OK && !s->replaying && s->in_batch)
        rc = search_note_target(s, u->target.data, why, whylen);
    else if (rc == STORE_OK && !s->replaying)
        rc = search_put_target(s, u->target.data, rowid, ev->body, why, whylen);
    return rc;
}

static int derive_cancel(store_t *s, const event_t *ev, int64_t aid, char *why, size_t whylen)
{
    const Lernet__Cancel *c = ev->body->cancel;
    if (!target_ok(s, c->target.data, aid, ev->network, 0)) {
        log_debug("cancel %02x%02x…: target not an own workshop or meeting; ignored", ev->id[0],
                  ev->id[1]);
        return STORE_OK;
    }
    if (c->occurrence) { /* one occurrence of a series: the series goes on */
        sqlite3_stmt *st = Q(s, Q_OCC_CANCEL);
        bind_blob(st, 1, c->target.data, EVENT_ID_BYTES);
        sqlite3_bind_int64(st, 2, c->occurrence);
        bind_text(st, 3, c->reason);
        int rc = step_done(s, st, why, whylen);
        if (rc != STORE_OK)
            return rc;
        st = Q(s, Q_OCC_TOUCH); /* a new revision: subscribed calendars update it */
        bind_blob(st, 1, c->target.data, EVENT_ID_BYTES);
        sqlite3_bind_int64(st, 2, ev->created_ms);
        return step_done(s, st, why, whylen);
    }
    sqlite3_stmt *st = Q(s, Q_ITEM_CANCEL);
    bind_blob(st, 1, c->target.data, EVENT_ID_BYTES);
    bind_text(st, 2, c->reason);
    sqlite3_bind_int64(st, 3, ev->created_ms);
    return step_done(s, st, why, whylen);
}

/* Every hide statement is kept by its target; which one counts is decided
 * when the item is read (hide_state). */
static int derive_hide(store_t *s, const event_t *ev, int64_t rowid, char *why, size_t whylen)
{
    const Lernet__Hide *h = ev->body->hide;
    sqlite3_stmt *st = Q(s, Q_HIDE_INS);
    bind_blob(st, 1, h->target.data, EVENT_ID_BYTES);
    sqlite3_bind_int64(st, 2, rowid);
    bind_blob(st, 3, ev->author, KEYS_PUBLIC_BYTES);
    bind_text(st, 4, ev->network);
    sqlite3_bind_int(st, 5, h->unhide ? 1 : 0);
    bind_text(st, 6, h->reason);
    sqlite3_bind_int64(st, 7, ev->created_ms);
    return step_done(s, st, why, whylen);
}

/* The author's profile: the latest by creation time wins, whatever the
 * order in which Profile events are derived. */
static int derive_profile(store_t *s, const event_t *ev, int64_t aid, char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_PROFILE_PUT);
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, ev->body->profile->name);
    bind_text(st, 3, ev->body->profile->country);
    bind_text(st, 4, ev->body->profile->municipality);
    sqlite3_bind_int64(st, 5, ev->created_ms);
    return step_done(s, st, why, whylen);
}

/* What a canonical event at rowid changes in the items and profiles
 * tables, and nothing else. Other kinds change nothing here. */
int items_derive(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                 size_t whylen)
{
    switch (ev->kind) {
    case LERNET__KIND__KIND_PROFILE:
        return ev->body ? derive_profile(s, ev, aid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_WORKSHOP:
    case LERNET__KIND__KIND_MEETING:
    case LERNET__KIND__KIND_EXPERIENCE:
    case LERNET__KIND__KIND_RESOURCE:
    case LERNET__KIND__KIND_REPLY:
    case LERNET__KIND__KIND_GOAL:
    case LERNET__KIND__KIND_QUESTIONNAIRE:
    case LERNET__KIND__KIND_FEEDBACK:
        return derive_new(s, ev, aid, rowid, why, whylen);
    case LERNET__KIND__KIND_HIDE:
        return ev->body ? derive_hide(s, ev, rowid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_UPDATE:
        return ev->body ? derive_update(s, ev, aid, rowid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_CANCEL:
        return ev->body ? derive_cancel(s, ev, aid, why, whylen) : STORE_OK;
    default:
        return STORE_OK;
    }
}

/* The target an update or cancel names, if it is origin's id. */
static bool names(const event_t *ev, const uint8_t id[EVENT_ID_BYTES])
{
    const Lernet__Payload *p = ev->body;
    const ProtobufCBinaryData *t = !p ? NULL
                                   : p->body_case == LERNET__PAYLOAD__BODY_UPDATE ? &p->update->target
                                   : p->body_case == LERNET__PAYLOAD__BODY_CANCEL ? &p->cancel->target
                                                                                  : NULL;
    return t && t->len == EVENT_ID_BYTES && memcmp(t->data, id, EVENT_ID_BYTES) == 0;
}

/* The updates and cancels of origin's log after it (the partial index
 * events_changes holds only those), each derived if it names origin. */
static int rederive_changes(store_t *s, const event_t *o, int64_t aid, uint64_t seq, char *why,
                            size_t whylen)
{
    sqlite3_stmt *st;
    int rc = STORE_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT rowid, header, sig, payload, salt FROM events"
                                  " WHERE author = ?1 AND network = ?2 AND seq > ?3"
                                  " AND fork = " SQL_CANONICAL " AND kind IN (4, 5)"
                                  " AND payload IS NOT NULL ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    _Static_assert(LERNET__KIND__KIND_UPDATE == 4 && LERNET__KIND__KIND_CANCEL == 5,
                   "kind IN (4, 5) spells updates and cancels, as events_changes does");
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, o->network);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    while (rc == STORE_OK && sqlite3_step(st) == SQLITE_ROW) {
        event_t *ev = store_row_event(st, 1);
        if (ev && names(ev, o->id))
            rc = items_derive(s, ev, aid, sqlite3_column_int64(st, 0), why, whylen);
        event_free(&ev);
    }
    sqlite3_finalize(st);
    return rc;
}

int items_rederive(store_t *s, int64_t origin, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int rc = STORE_OK;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM items WHERE origin = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    sqlite3_bind_int64(st, 1, origin);
    rc = step_done(s, st, why, whylen);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db, "SELECT author, seq, header, sig, payload, salt FROM events"
                                  " WHERE rowid = ?1 AND fork = " SQL_CANONICAL,
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    sqlite3_bind_int64(st, 1, origin);
    event_t *ev = sqlite3_step(st) == SQLITE_ROW ? store_row_event(st, 2) : NULL;
    int64_t aid = ev ? sqlite3_column_int64(st, 0) : 0;
    uint64_t seq = ev ? (uint64_t)sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    s->replaying = true; /* the search rows follow once, after (search_item_sync) */
    if (ev)
        rc = items_derive(s, ev, aid, origin, why, whylen);
    if (ev && rc == STORE_OK)
        rc = rederive_changes(s, ev, aid, seq, why, whylen);
    s->replaying = false;
    event_free(&ev);
    return rc;
}

/* ---- reading -------------------------------------------------------- */

/* The kinds without dates (experiences 3, resources 6, replies 7, goals 9,
 * questionnaires 10, feedback 11): never "upcoming", listed after the
 * dated ones by creation time. */
#define UNDATED "(3, 6, 7, 9, 10, 11)"
_Static_assert(LERNET__KIND__KIND_EXPERIENCE == 3 && LERNET__KIND__KIND_RESOURCE == 6 &&
                   LERNET__KIND__KIND_REPLY == 7 && LERNET__KIND__KIND_GOAL == 9 &&
                   LERNET__KIND__KIND_QUESTIONNAIRE == 10 && LERNET__KIND__KIND_FEEDBACK == 11,
               "UNDATED spells the undated kinds");

/* The kinds whose items may list attached files (resources 6, replies 7):
 * spelled in the text (not bound) so that the planner reads them through
 * items_kind_start. */
#define WITH_FILES "(6, 7)"

static const char *items_sql =
    "SELECT o.id, i.kind, a.key, o.network, i.start, i.end_, i.cancelled, i.cancel_reason,"
    " i.revision, o.created_ms, i.updated_ms, i.about, e.payload, a.revoked,"
    " coalesce(m.removed, 0), o.payload IS NULL,"
    " (SELECT x.erased_ms FROM erasures x WHERE x.target = o.id AND x.applied = 1"
    "  ORDER BY x.erased_ms LIMIT 1),"
    " (SELECT x.by FROM erasures x WHERE x.target = o.id AND x.applied = 1"
    "  ORDER BY x.erased_ms LIMIT 1),"
    " (SELECT x.reason FROM erasures x WHERE x.target = o.id AND x.applied = 1"
    "  ORDER BY x.erased_ms LIMIT 1),"
    " i.author"
    " FROM items i JOIN events o ON o.rowid = i.origin JOIN authors a ON a.id = i.author"
    " LEFT JOIN events e ON e.rowid = i.content"
    " LEFT JOIN members m ON m.network = o.network AND m.member = a.key";

/* Whether a coordinator hid the item: the newest statement about it in
 * its network whose signer was a coordinator then decides. The reason is
 * copied into reason (it must outlive the statement's reset). */
static void hide_state(store_t *s, store_item_t *it, char *reason, size_t len)
{
    sqlite3_stmt *st = Q(s, Q_HIDE_OF);
    bind_blob(st, 1, it->id, EVENT_ID_BYTES);
    bind_text(st, 2, it->network);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *by = sqlite3_column_blob(st, 0);
        int64_t when = sqlite3_column_int64(st, 3);
        if (sqlite3_column_bytes(st, 0) != KEYS_PUBLIC_BYTES ||
            !authz_coordinator(s, it->network, by, when))
            continue; /* kept, never counted: its signer moderates nothing here */
        if (!sqlite3_column_int(st, 1)) {
            const unsigned char *r = sqlite3_column_text(st, 2);
            it->hidden = 1;
            memcpy(it->hidden_by, by, KEYS_PUBLIC_BYTES);
            it->hidden_ms = when;
            snprintf(reason, len, "%s", r ? (const char *)r : "");
            it->hide_reason = reason;
        }
        break;
    }
    sqlite3_reset(st);
}

bool items_hidden(store_t *s, const uint8_t id[EVENT_ID_BYTES], const char *network)
{
    char reason[EVENT_MAX_SHORT + 1];
    store_item_t it;
    memset(&it, 0, sizeof it);
    memcpy(it.id, id, EVENT_ID_BYTES);
    it.network = network;
    hide_state(s, &it, reason, sizeof reason);
    return it.hidden;
}

/* Whether an item of a kind with a rule about who may publish it counts:
 * a goal or questionnaire only from a coordinator of its managed network
 * when it was made (anyone's in an open network), feedback only from the
 * organiser of the workshop or meeting it is about (not known here yet:
 * not counted yet). Decided when read, like a hide, so it never depends
 * on the order in which events arrived. */
static int item_authorised(store_t *s, const store_item_t *it, int64_t aid)
{
    if (it->kind == LERNET__KIND__KIND_GOAL || it->kind == LERNET__KIND__KIND_QUESTIONNAIRE)
        return !store_managed(s, it->network) ||
               authz_coordinator(s, it->network, it->author, it->created_ms);
    if (it->kind != LERNET__KIND__KIND_FEEDBACK)
        return 1;
    sqlite3_stmt *st = Q(s, Q_ITEM_GET);
    bind_blob(st, 1, it->about, EVENT_ID_BYTES);
    int ok = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int kind = sqlite3_column_int(st, 0);
        ok = (kind == LERNET__KIND__KIND_WORKSHOP || kind == LERNET__KIND__KIND_MEETING) &&
             sqlite3_column_int64(st, 1) == aid &&
             strcmp((const char *)sqlite3_column_text(st, 2), it->network) == 0;
    }
    sqlite3_reset(st);
    return ok;
}

/* The occurrences of a series cancelled one by one, into occ (room for
 * 200, Q_OCC_OF's limit). */
static size_t occurrence_cancels(store_t *s, const uint8_t *id, int64_t occ[200])
{
    sqlite3_stmt *st = Q(s, Q_OCC_OF);
    size_t n = 0;
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    while (n < 200 && sqlite3_step(st) == SQLITE_ROW)
        occ[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

/* Builds a store_item_t from a row of items_sql and calls cb. */
static int emit_item(store_t *s, sqlite3_stmt *st, store_item_cb cb, void *ctx)
{
    char reason[EVENT_MAX_SHORT + 1];
    store_item_t it;
    memset(&it, 0, sizeof it);
    memcpy(it.id, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
    it.kind = sqlite3_column_int(st, 1);
    memcpy(it.author, sqlite3_column_blob(st, 2), KEYS_PUBLIC_BYTES);
    it.network = (const char *)sqlite3_column_text(st, 3);
    it.start = sqlite3_column_int64(st, 4);
    it.end = sqlite3_column_int64(st, 5);
    it.cancelled = sqlite3_column_int(st, 6);
    it.cancel_reason = (const char *)sqlite3_column_text(st, 7);
    it.revision = (uint32_t)sqlite3_column_int(st, 8);
    it.created_ms = sqlite3_column_int64(st, 9);
    it.updated_ms = sqlite3_column_int64(st, 10);
    if (sqlite3_column_bytes(st, 11) == EVENT_ID_BYTES)
        memcpy(it.about, sqlite3_column_blob(st, 11), EVENT_ID_BYTES);
    it.author_revoked = sqlite3_column_int(st, 13);
    it.author_removed = sqlite3_column_int(st, 14);
    it.erased = sqlite3_column_int(st, 15);
    it.erased_ms = sqlite3_column_int64(st, 16);
    if (sqlite3_column_bytes(st, 17) == KEYS_PUBLIC_BYTES) {
        memcpy(it.erased_by, sqlite3_column_blob(st, 17), KEYS_PUBLIC_BYTES);
        it.erased_by_known = 1;
    }
    it.erase_reason = (const char *)sqlite3_column_text(st, 18);
    Lernet__Payload *p = NULL;
    if (sqlite3_column_type(st, 12) == SQLITE_BLOB)
        p = lernet__payload__unpack(NULL, (size_t)sqlite3_column_bytes(st, 12),
                                    sqlite3_column_blob(st, 12));
    if (p && p->body_case == LERNET__PAYLOAD__BODY_WORKSHOP)
        it.workshop = p->workshop;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_MEETING)
        it.meeting = p->meeting;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_EXPERIENCE)
        it.experience = p->experience;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_RESOURCE)
        it.resource = p->resource;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_REPLY)
        it.reply = p->reply;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_GOAL)
        it.goal = p->goal;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_QUESTIONNAIRE)
        it.questionnaire = p->questionnaire;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_FEEDBACK)
        it.feedback = p->feedback;
    else if (p && p->body_case == LERNET__PAYLOAD__BODY_UPDATE) {
        /* workshop and meeting share a union (a protobuf-c oneof): only the
         * member content_case names may be read */
        if (p->update->content_case == LERNET__UPDATE__CONTENT_WORKSHOP)
            it.workshop = p->update->workshop;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_MEETING)
            it.meeting = p->update->meeting;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_RESOURCE)
            it.resource = p->update->resource;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_GOAL)
            it.goal = p->update->goal;
    }
    it.unauthorised = !item_authorised(s, &it, sqlite3_column_int64(st, 19));
    if (it.kind == LERNET__KIND__KIND_RESOURCE || it.kind == LERNET__KIND__KIND_REPLY)
        hide_state(s, &it, reason, sizeof reason);
    int64_t occ[200];
    if ((it.workshop && (it.workshop->recurrence || it.workshop->n_occurrences)) ||
        (it.meeting && (it.meeting->recurrence || it.meeting->n_occurrences))) {
        it.n_cancelled_occurrences = occurrence_cancels(s, it.id, occ);
        it.cancelled_occurrences = occ;
    }
    int rc = cb(ctx, &it);
    if (p)
        lernet__payload__free_unpacked(p, NULL);
    return rc;
}

int store_items(store_t *s, const store_query_t *q, store_item_cb cb, void *ctx)
{
    char sql[2048];
    sqlite3_stmt *st;
    int stop = 0;
    snprintf(sql, sizeof sql,
             "%s WHERE (?1 = 0 OR i.kind = ?1) AND (?2 = 0 OR (i.kind NOT IN " UNDATED
             " AND i.end_ >= ?2))%s"
             " AND (?3 IS NULL OR o.network = ?3) AND (?4 IS NULL OR i.about = ?4)"
             " ORDER BY i.kind IN " UNDATED ", CASE WHEN i.kind IN " UNDATED
             " THEN o.created_ms ELSE i.start END, o.id LIMIT ?5",
             items_sql, q->with_files ? " AND i.kind IN " WITH_FILES : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    sqlite3_bind_int(st, 1, q->kind);
    sqlite3_bind_int64(st, 2, q->starts_after);
    if (q->network)
        bind_text(st, 3, q->network);
    bind_blob(st, 4, q->about, EVENT_ID_BYTES);
    sqlite3_bind_int64(st, 5, q->limit ? (int64_t)q->limit : -1);
    while (!stop && sqlite3_step(st) == SQLITE_ROW)
        stop = emit_item(s, st, cb, ctx);
    sqlite3_finalize(st);
    return stop;
}

int store_item(store_t *s, const char *id_hex, store_item_cb cb, void *ctx, char *why,
               size_t whylen)
{
    uint8_t id[EVENT_ID_BYTES];
    char sql[1536];
    sqlite3_stmt *st;
    int rc = store_resolve(s, "items", id_hex, id, why, whylen);
    if (rc)
        return rc;
    snprintf(sql, sizeof sql, "%s WHERE o.id = ?1", items_sql);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    rc = STORE_ERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        emit_item(s, st, cb, ctx);
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}
