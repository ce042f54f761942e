/*
 * publish: local event creation (see publish.h). The reference rules here
 * are stricter than the store's derivation rules on purpose: remote events
 * that break them are kept (the author's chain must not break) but change
 * nothing, while a local user gets an error before anything is signed.
 */
#include "store/publish.h"

#include "core/series.h"
#include "util/why.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int take_item(void *ctx, const store_item_t *it)
{
    publish_target_t *t = ctx;
    memcpy(t->id, it->id, EVENT_ID_BYTES);
    t->kind = it->kind;
    memcpy(t->author, it->author, KEYS_PUBLIC_BYTES);
    snprintf(t->network, sizeof t->network, "%s", it->network);
    t->cancelled = it->cancelled;
    return 0;
}

int publish_find(store_t *st, const char *id_hex, publish_target_t *out, char *why,
                 size_t whylen)
{
    memset(out, 0, sizeof *out);
    int rc = store_item(st, id_hex, take_item, out, why, whylen);
    if (rc != STORE_OK)
        return PUBLISH_ERR_TARGET;
    return PUBLISH_OK;
}

static int find_ref(store_t *st, ProtobufCBinaryData ref, publish_target_t *t, char *why,
                    size_t whylen)
{
    char hex[EVENT_ID_HEX_SIZE];
    if (ref.len != EVENT_ID_BYTES)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "target: not an event id");
    event_id_hex(hex, ref.data);
    if (publish_find(st, hex, t, NULL, 0) != PUBLISH_OK)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "target %.16s…: no such workshop, "
                        "meeting, experience report, resource or reply in this store", hex);
    return PUBLISH_OK;
}

/* Update and cancel: the target must be our own workshop or meeting (or,
 * for an update, resource), and the event goes to the target's network. */
static int check_own_target(store_t *st, const uint8_t *author, ProtobufCBinaryData ref,
                            int want_kind, publish_target_t *tp, const char **network,
                            char *why, size_t whylen)
{
    publish_target_t t;
    int rc = find_ref(st, ref, &t, why, whylen);
    if (rc)
        return rc;
    if (memcmp(t.author, author, KEYS_PUBLIC_BYTES) != 0)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                    "target: published by another node; only its author may change it");
    if ((t.kind == LERNET__KIND__KIND_RESOURCE || t.kind == LERNET__KIND__KIND_GOAL) &&
        want_kind == t.kind)
        ; /* a resource or goal is updated, never cancelled (erase it, or update it) */
    else if (t.kind != LERNET__KIND__KIND_WORKSHOP && t.kind != LERNET__KIND__KIND_MEETING)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        want_kind ? "target: only workshops, meetings, resources and goals can "
                                    "be updated"
                                  : "target: only workshops and meetings can be cancelled");
    if (want_kind && t.kind != want_kind)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "target: is a %s, the update carries a %s",
                    event_kind_name(t.kind), event_kind_name(want_kind));
    if (*network && strcmp(*network, t.network) != 0)
        return why_fail(why, whylen, PUBLISH_ERR_NETWORK,
                    "network: the target is in '%s', an update must go to the same network",
                    t.network);
    *tp = t;
    *network = tp->network; /* tp belongs to publish_event, so this outlives us */
    return PUBLISH_OK;
}

/* One target of an erasure: a content event held here with its content,
 * of the network the erasure goes to (the first target's), that this node
 * may erase: its own, or, as a coordinator of a managed network, a
 * member's (moderation). */
static int check_erase_target(store_t *st, const uint8_t *author, ProtobufCBinaryData ref,
                              publish_target_t *t, const char **network, char *why,
                              size_t whylen)
{
    char hex[EVENT_ID_HEX_SIZE], detail[256];
    event_t *ev = NULL;
    if (ref.len != EVENT_ID_BYTES)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "target: not an event id");
    event_id_hex(hex, ref.data);
    if (store_get_event(st, hex, &ev, detail, sizeof detail) != STORE_OK)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "%.16s…: no such event in this store",
                        hex);
    int rc = PUBLISH_OK;
    if (!event_kind_content(ev->kind))
        rc = why_fail(why, whylen, PUBLISH_ERR_TARGET,
                      "%.16s… is a %s event: keys, revocations, memberships, profiles and "
                      "erasures can never be erased", hex, event_kind_name(ev->kind));
    else if (!ev->has_payload)
        rc = why_fail(why, whylen, PUBLISH_ERR_TARGET, "%.16s… is erased already", hex);
    else if (*network && strcmp(*network, ev->network) != 0)
        rc = why_fail(why, whylen, PUBLISH_ERR_NETWORK,
                      "%.16s… is in network '%s', the erasure goes to '%s': erase each "
                      "network's events separately", hex, ev->network, *network);
    else if (memcmp(ev->author, author, KEYS_PUBLIC_BYTES) != 0 &&
             !store_is_coordinator(st, ev->network, author, event_now_ms()))
        /* whole sentences, each translated as one (util/why.h) */
        rc = store_managed(st, ev->network)
                 ? why_fail(why, whylen, PUBLISH_ERR_TARGET,
                            "%.16s… was published by another node: only its author may "
                            "erase it, or a coordinator of its network", hex)
                 : why_fail(why, whylen, PUBLISH_ERR_TARGET,
                            "%.16s… was published by another node: only its author may "
                            "erase it (in an open network there is no moderator)", hex);
    if (rc == PUBLISH_OK) {
        snprintf(t->network, sizeof t->network, "%s", ev->network);
        *network = t->network; /* t belongs to publish_event, so this outlives us */
    }
    event_free(&ev);
    return rc;
}

/* A reply or hide goes to the network of what it is about: only there do
 * its readers hold that. A network given that differs is refused. */
static int same_network(const publish_target_t *t, const char **network, const char *what,
                        char *why, size_t whylen)
{
    if (*network && strcmp(*network, t->network) != 0)
        return why_fail(why, whylen, PUBLISH_ERR_NETWORK,
                        "network: what it is about is in '%s'; a %s goes to the same network",
                        t->network, what);
    *network = t->network; /* t belongs to publish_event, so this outlives us */
    return PUBLISH_OK;
}

/* A hide: a resource or reply held here, in a managed network this node
 * coordinates. */
static int check_hide_target(store_t *st, const uint8_t *author, const Lernet__Hide *h,
                             publish_target_t *t, const char **network, char *why,
                             size_t whylen)
{
    int rc = find_ref(st, h->target, t, why, whylen);
    if (rc)
        return rc;
    if (t->kind != LERNET__KIND__KIND_RESOURCE && t->kind != LERNET__KIND__KIND_REPLY)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "target: a %s; only replies and resources can be hidden (a "
                        "workshop's author cancels it)", event_kind_name(t->kind));
    if (!store_managed(st, t->network))
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "target: network '%s' is open: it has no coordinators, so nobody "
                        "may hide", t->network);
    if (!store_is_coordinator(st, t->network, author, event_now_ms()))
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "only a coordinator of '%s' may hide what its members wrote; this "
                        "node is not one", t->network);
    return same_network(t, network, "hide", why, whylen);
}

/* A goal or questionnaire: in a managed network only a coordinator
 * publishes one; in an open network any member. */
static int check_programme(store_t *st, const uint8_t *author, int kind, const char *network,
                           char *why, size_t whylen)
{
    if (network && store_managed(st, network) &&
        !store_is_coordinator(st, network, author, event_now_ms()))
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "only a coordinator of '%s' may publish a %s; this node is not one",
                        network, event_kind_name(kind));
    return PUBLISH_OK;
}

typedef struct fit {
    const Lernet__Feedback *f;
    char *why;
    size_t whylen;
    int rc;
} fit_t;

/* Feedback against its questionnaire: one histogram per question, each
 * of one count per value of the question's scale. */
static int check_fit(void *ctx, const store_item_t *it)
{
    fit_t *x = ctx;
    const Lernet__Questionnaire *q = it->questionnaire;
    if (!q)
        return x->rc = why_fail(x->why, x->whylen, PUBLISH_ERR_TARGET,
                                "questionnaire: its content was erased");
    if (x->f->n_results != q->n_questions)
        return x->rc = why_fail(x->why, x->whylen, PUBLISH_ERR_INVALID,
                                "results: %zu histograms; the questionnaire has %zu questions",
                                x->f->n_results, q->n_questions);
    for (size_t i = 0; i < q->n_questions; i++) {
        size_t want = q->questions[i]->max - q->questions[i]->min + 1;
        if (x->f->results[i]->n_counts != want)
            return x->rc = why_fail(x->why, x->whylen, PUBLISH_ERR_INVALID,
                                    "results[%zu]: %zu counts; question %zu has a scale of "
                                    "%zu values (%u..%u)", i, x->f->results[i]->n_counts,
                                    i + 1, want, q->questions[i]->min, q->questions[i]->max);
    }
    return 0;
}

/* Feedback: about a workshop or meeting of this node (its organiser
 * publishes the results), against a questionnaire of the same network it
 * fits; it goes to that network. */
static int check_feedback_refs(store_t *st, const uint8_t *author, const Lernet__Feedback *f,
                               publish_target_t *t, const char **network, char *why,
                               size_t whylen)
{
    publish_target_t q;
    char hex[EVENT_ID_HEX_SIZE];
    int rc = find_ref(st, f->about, t, why, whylen);
    if (rc)
        return rc;
    if (t->kind != LERNET__KIND__KIND_WORKSHOP && t->kind != LERNET__KIND__KIND_MEETING)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "about: feedback is about a workshop or meeting, not a %s",
                        event_kind_name(t->kind));
    if (memcmp(t->author, author, KEYS_PUBLIC_BYTES) != 0)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "about: organised by another node; only the organiser publishes its "
                        "feedback");
    if ((rc = find_ref(st, f->questionnaire, &q, why, whylen)))
        return rc;
    if (q.kind != LERNET__KIND__KIND_QUESTIONNAIRE)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "questionnaire: names a %s, not a questionnaire", event_kind_name(q.kind));
    if (strcmp(q.network, t->network) != 0)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "questionnaire: it is in '%s', the activity in '%s'", q.network,
                        t->network);
    fit_t x = {f, why, whylen, PUBLISH_OK};
    event_id_hex(hex, q.id);
    if (store_item(st, hex, check_fit, &x, NULL, 0) != STORE_OK)
        return why_fail(why, whylen, PUBLISH_ERR_TARGET, "questionnaire: cannot be read");
    return x.rc ? x.rc : same_network(t, network, "feedback", why, whylen);
}

/* A cancel or an update is erased only with the item it changes (or
 * after it): erased alone, its target would go with its payload, and the
 * item would read as never cancelled, or as before the update. */
static int check_erase_whole(store_t *st, const Lernet__Erasure *x, ProtobufCBinaryData ref,
                             char *why, size_t whylen)
{
    char hex[EVENT_ID_HEX_SIZE], item[EVENT_ID_HEX_SIZE];
    event_t *ev = NULL, *of = NULL;
    event_id_hex(hex, ref.data);
    if (store_get_event(st, hex, &ev, NULL, 0) != STORE_OK)
        return PUBLISH_OK; /* check_erase_target said why */
    const ProtobufCBinaryData *target =
        !ev->body ? NULL
        : ev->kind == LERNET__KIND__KIND_CANCEL ? &ev->body->cancel->target
        : ev->kind == LERNET__KIND__KIND_UPDATE ? &ev->body->update->target
                                                : NULL;
    int rc = PUBLISH_OK;
    if (target && target->len == EVENT_ID_BYTES) {
        bool with = false;
        for (size_t i = 0; i < x->n_targets && !with; i++)
            with = x->targets[i].len == EVENT_ID_BYTES &&
                   memcmp(x->targets[i].data, target->data, EVENT_ID_BYTES) == 0;
        event_id_hex(item, target->data);
        if (!with && store_get_event(st, item, &of, NULL, 0) == STORE_OK && of->has_payload)
            rc = why_fail(why, whylen, PUBLISH_ERR_TARGET,
                          "%.16s… is a %s of %.16s…: erase the item itself (its updates and "
                          "cancels go with it); alone, the item would read as if it had "
                          "never been %s", hex, event_kind_name(ev->kind), item,
                          ev->kind == LERNET__KIND__KIND_CANCEL ? "cancelled" : "updated");
        event_free(&of);
    }
    event_free(&ev);
    return rc;
}

static int check_refs(store_t *st, const uint8_t *k, const Lernet__Payload *p,
                      publish_target_t *t, const char **network, char *why, size_t whylen)
{
    switch (p->body_case) {
    case LERNET__PAYLOAD__BODY_ERASURE: {
        int rc = PUBLISH_OK;
        for (size_t i = 0; rc == PUBLISH_OK && i < p->erasure->n_targets; i++)
            rc = check_erase_target(st, k, p->erasure->targets[i], t, network, why, whylen);
        for (size_t i = 0; rc == PUBLISH_OK && i < p->erasure->n_targets; i++)
            rc = check_erase_whole(st, p->erasure, p->erasure->targets[i], why, whylen);
        return rc;
    }
    case LERNET__PAYLOAD__BODY_UPDATE:
        return check_own_target(st, k, p->update->target,
                                p->update->content_case == LERNET__UPDATE__CONTENT_WORKSHOP
                                    ? LERNET__KIND__KIND_WORKSHOP
                                : p->update->content_case == LERNET__UPDATE__CONTENT_RESOURCE
                                    ? LERNET__KIND__KIND_RESOURCE
                                : p->update->content_case == LERNET__UPDATE__CONTENT_GOAL
                                    ? LERNET__KIND__KIND_GOAL
                                    : LERNET__KIND__KIND_MEETING,
                                t, network, why, whylen);
    case LERNET__PAYLOAD__BODY_RESOURCE: {
        if (!p->resource->about.len)
            return PUBLISH_OK;
        int rc = find_ref(st, p->resource->about, t, why, whylen);
        if (rc == PUBLISH_OK && t->kind != LERNET__KIND__KIND_WORKSHOP &&
            t->kind != LERNET__KIND__KIND_MEETING)
            rc = why_fail(why, whylen, PUBLISH_ERR_TARGET,
                          "about: a resource documents a workshop or meeting, not a %s",
                          event_kind_name(t->kind));
        return rc;
    }
    case LERNET__PAYLOAD__BODY_REPLY: {
        int rc = find_ref(st, p->reply->about, t, why, whylen);
        return rc ? rc : same_network(t, network, "reply", why, whylen);
    }
    case LERNET__PAYLOAD__BODY_HIDE:
        return check_hide_target(st, k, p->hide, t, network, why, whylen);
    case LERNET__PAYLOAD__BODY_GOAL:
        return check_programme(st, k, LERNET__KIND__KIND_GOAL, *network, why, whylen);
    case LERNET__PAYLOAD__BODY_QUESTIONNAIRE:
        return check_programme(st, k, LERNET__KIND__KIND_QUESTIONNAIRE, *network, why, whylen);
    case LERNET__PAYLOAD__BODY_FEEDBACK:
        return check_feedback_refs(st, k, p->feedback, t, network, why, whylen);
    case LERNET__PAYLOAD__BODY_CANCEL:
        return check_own_target(st, k, p->cancel->target, 0, t, network, why, whylen);
    case LERNET__PAYLOAD__BODY_EXPERIENCE: {
        int rc = find_ref(st, p->experience->about, t, why, whylen);
        if (rc)
            return rc;
        if (t->kind == LERNET__KIND__KIND_EXPERIENCE)
            return why_fail(why, whylen, PUBLISH_ERR_TARGET,
                        "about: reports are about a workshop or meeting, not another report");
        return PUBLISH_OK;
    }
    default:
        return PUBLISH_OK;
    }
}

/* A series this node publishes is expanded on its zone's wall clock first
 * (core/series.h): what the zone-free validation cannot see is refused
 * here, before anything is signed. */
static int check_series_here(const Lernet__Payload *p, char *why, size_t whylen)
{
    const Lernet__Workshop *w = NULL;
    const Lernet__Meeting *m = NULL;
    if (p->body_case == LERNET__PAYLOAD__BODY_WORKSHOP)
        w = p->workshop;
    else if (p->body_case == LERNET__PAYLOAD__BODY_MEETING)
        m = p->meeting;
    else if (p->body_case == LERNET__PAYLOAD__BODY_UPDATE &&
             p->update->content_case == LERNET__UPDATE__CONTENT_WORKSHOP)
        w = p->update->workshop;
    else if (p->body_case == LERNET__PAYLOAD__BODY_UPDATE &&
             p->update->content_case == LERNET__UPDATE__CONTENT_MEETING)
        m = p->update->meeting;
    series_t sr = series_of(w, m);
    if ((!w && !m) || !series_repeats(&sr))
        return 0;
    return series_check_local(&sr, why, whylen);
}

/* ---- the node's own limits on its files ------------------------------ */

static void files_of(const Lernet__Payload *p, Lernet__Attachment ***a, size_t *n,
                     const uint8_t **replaces)
{
    const Lernet__Resource *r = p->body_case == LERNET__PAYLOAD__BODY_RESOURCE ? p->resource
                                : p->body_case == LERNET__PAYLOAD__BODY_UPDATE &&
                                          p->update->content_case ==
                                              LERNET__UPDATE__CONTENT_RESOURCE
                                    ? p->update->resource
                                    : NULL;
    *replaces = r && p->body_case == LERNET__PAYLOAD__BODY_UPDATE &&
                        p->update->target.len == EVENT_ID_BYTES
                    ? p->update->target.data
                    : NULL;
    *a = r ? r->attachments
         : p->body_case == LERNET__PAYLOAD__BODY_REPLY ? p->reply->attachments : NULL;
    *n = r ? r->n_attachments
         : p->body_case == LERNET__PAYLOAD__BODY_REPLY ? p->reply->n_attachments : 0;
}

/* The author's distinct files in one network, by hash. */
typedef struct usage {
    const uint8_t *author, *skip;
    uint8_t (*seen)[EVENT_HASH_BYTES];
    size_t n, cap;
    int64_t bytes;
    bool oom;
} usage_t;

static void usage_add(usage_t *u, const Lernet__Attachment *a)
{
    if (a->hash.len != EVENT_HASH_BYTES)
        return;
    for (size_t i = 0; i < u->n; i++)
        if (!memcmp(u->seen[i], a->hash.data, EVENT_HASH_BYTES))
            return; /* a file listed twice is held once */
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 32;
        uint8_t(*s)[EVENT_HASH_BYTES] = realloc(u->seen, cap * sizeof *s);
        if (!s) {
            u->oom = true;
            return;
        }
        u->seen = s;
        u->cap = cap;
    }
    memcpy(u->seen[u->n++], a->hash.data, EVENT_HASH_BYTES);
    u->bytes += (int64_t)a->size;
}

static int usage_item(void *ctx, const store_item_t *it)
{
    usage_t *u = ctx;
    Lernet__Attachment **a = it->resource ? it->resource->attachments
                             : it->reply  ? it->reply->attachments : NULL;
    size_t n = it->resource ? it->resource->n_attachments
               : it->reply  ? it->reply->n_attachments : 0;
    if (memcmp(it->author, u->author, KEYS_PUBLIC_BYTES) != 0 ||
        (u->skip && !memcmp(it->id, u->skip, EVENT_ID_BYTES)))
        return 0;
    for (size_t i = 0; i < n && !u->oom; i++)
        usage_add(u, a[i]);
    return u->oom;
}

static int check_own_files(store_t *st, const publish_signer_t *who, const uint8_t *author,
                           const char *network, const Lernet__Payload *p, char *why,
                           size_t whylen)
{
    Lernet__Attachment **a;
    size_t n;
    const uint8_t *replaces;
    files_of(p, &a, &n, &replaces);
    for (size_t i = 0; who->attachment_max > 0 && i < n; i++)
        if ((int64_t)a[i]->size > who->attachment_max)
            return why_fail(why, whylen, ATTACH_ERR_TOO_LARGE,
                            "%s: %s is %llu bytes, larger than this node's attachment_max_mib "
                            "(%lld MiB)",
                            err_name(ATTACH_ERR_TOO_LARGE), a[i]->name,
                            (unsigned long long)a[i]->size,
                            (long long)(who->attachment_max >> 20));
    if (!n || who->attachment_quota <= 0)
        return PUBLISH_OK;
    usage_t u = {.author = author, .skip = replaces};
    store_query_t q = {.network = network};
    if (store_items(st, &q, usage_item, &u) != STORE_OK || u.oom) {
        free(u.seen);
        return why_fail(why, whylen, PUBLISH_ERR_STORE,
                        "store: cannot count this node's files in '%s'", network);
    }
    int64_t before = u.bytes;
    for (size_t i = 0; i < n && !u.oom; i++)
        usage_add(&u, a[i]);
    free(u.seen);
    if (u.oom)
        return why_fail(why, whylen, PUBLISH_ERR_STORE, "out of memory");
    if (u.bytes > before && u.bytes > who->attachment_quota)
        return why_fail(why, whylen, ATTACH_ERR_QUOTA,
                        "%s: this node's files in '%s' would come to %.1f MiB, past its "
                        "attachment_quota_mib (%lld MiB)",
                        err_name(ATTACH_ERR_QUOTA), network, (double)u.bytes / (1 << 20),
                        (long long)(who->attachment_quota >> 20));
    return PUBLISH_OK;
}

int publish_event(store_t *st, const publish_signer_t *who, const char *network,
                  const Lernet__Payload *p, event_t **out, char *why, size_t whylen)
{
    const uint8_t *author = who->author ? who->author : keys_public(who->key);
    event_t *ev = NULL;
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES], head_sig[EVENT_HASH_BYTES];
    bool linked;
    int outcome = -1, rc;
    publish_target_t target;
    if (store_begin(st) != STORE_OK)
        return why_fail(why, whylen, PUBLISH_ERR_STORE, "store is busy or unwritable");
    if ((rc = check_refs(st, author, p, &target, &network, why, whylen)))
        goto abort;
    rc = PUBLISH_ERR_NETWORK;
    if (!network || !event_log_valid(network)) {
        why_fail(why, whylen, rc, "network: '%s' is not a network name", network ? network : "");
        goto abort;
    }
    if ((rc = check_own_files(st, who, author, network, p, why, whylen)))
        goto abort;
    rc = PUBLISH_ERR_STORE;
    if (store_head_linked(st, author, network, &seq, head, head_sig, &linked) != STORE_OK) {
        why_fail(why, whylen, rc, "store: cannot read the log head");
        goto abort;
    }
    rc = PUBLISH_ERR_INVALID;
    if (check_series_here(p, why, whylen) != 0)
        goto abort;
    /* linked (prev_sig): a partner catching up takes most of the log on
     * the strength of its later signatures */
    rc = event_create_linked(&ev, author, who->key, network, seq + 1, seq ? head : NULL,
                             seq && linked ? head_sig : NULL, event_now_ms(), p, why, whylen);
    if (rc != EV_OK) {
        rc = PUBLISH_ERR_INVALID;
        goto abort;
    }
    /* The store's refusal (not a member, revoked key, ...) is the reason the
     * person must read: it is passed on whole. Only an event the store took
     * without applying gets a reason of ours. */
    rc = PUBLISH_ERR_STORE;
    int src = store_add(st, ev, &outcome, NULL, why, whylen);
    if (src != STORE_OK) {
        if (why && whylen && !why[0])
            why_fail(why, whylen, rc, "store: %s", err_text(src));
        goto abort;
    }
    if (outcome != STORE_APPLIED) {
        why_fail(why, whylen, rc, "store: event was %s, not applied",
                 store_outcome_name(outcome));
        goto abort;
    }
    if (store_commit(st) != STORE_OK) {
        why_fail(why, whylen, rc, "store: commit failed");
        event_free(&ev);
        return rc;
    }
    if (out)
        *out = ev;
    else
        event_free(&ev);
    return PUBLISH_OK;
abort:
    store_rollback(st);
    event_free(&ev);
    return rc;
}
