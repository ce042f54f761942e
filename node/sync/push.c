/*
 * push: events sent without being asked for. A committed event goes at
 * once to every other connected partner whose scope holds it (sync_push),
 * preceded by its author's key logs when the partner may lack them; and a
 * partner that does not pull from this node itself (it has no connection
 * of its own to us: we have no listen address, or it cannot reach it) is
 * offered over our connection what its heads show it lacks (send_offers):
 * the whole of it, a batch at a time, the next only once the partner
 * acknowledged the one before as stored (OfferAck). Batches are read
 * straight from the stored envelope bytes (batch_row).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "sync/sync_impl.h"

/* Envelope bytes straight from the stored parts: no parse, no re-encode
 * of the header. */
/* Beside an erased row: the erasure that took its payload, as an extra
 * (a partner lacking both could take neither: the erasure may lie far
 * ahead in its author's log, past what the partner asks for while it is
 * stuck on the header-only event). Each erasure once per batch. */
static void erasure_beside(batch_t *b, const store_row_t *r)
{
    uint8_t *buf, id[EVENT_ID_BYTES];
    size_t len;
    if (!b->st || r->payload || b->n_extra >= SYNC_BATCH_EXTRA ||
        store_erasure_envelope(b->st, r->id, &buf, &len) != STORE_OK)
        return;
    bool again = event_envelope_id(buf, len, id) != EV_OK;
    for (size_t i = 0; !again && i < b->n_extra; i++)
        again = memcmp(b->extra_id[i], id, sizeof id) == 0;
    if (again) {
        free(buf);
        return;
    }
    memcpy(b->extra_id[b->n_extra], id, sizeof id);
    b->extra[b->n_extra].data = buf;
    b->extra[b->n_extra].len = len;
    b->n_extra++;
}

uint32_t batch_seal(batch_t *b)
{
    size_t k = b->n_extra;
    if (b->envs)
        memcpy(&b->envs[b->n], b->extra, k * sizeof *b->extra);
    else
        for (size_t i = 0; i < k; i++)
            free(b->extra[i].data);
    b->n += b->envs ? k : 0;
    b->n_extra = 0;
    return b->envs ? (uint32_t)k : 0;
}

bool extras_first(Lernet__Wire__Events *e)
{
    size_t n = e->n_envelopes, k = e->extra;
    if (k > SYNC_BATCH_EXTRA || k > n || n - k > SYNC_BATCH_EVENTS)
        return false;
    ProtobufCBinaryData tmp[SYNC_BATCH_EXTRA];
    if (k && k < n) {
        memcpy(tmp, &e->envelopes[n - k], k * sizeof *tmp);
        memmove(&e->envelopes[k], e->envelopes, (n - k) * sizeof *tmp);
        memcpy(e->envelopes, tmp, k * sizeof *tmp);
    }
    return true;
}

int batch_row(void *ctx, const store_row_t *r)
{
    batch_t *b = ctx;
    if (b->n >= b->max || b->bytes >= SYNC_BATCH_BYTES) {
        b->full = true;
        return 1;
    }
    uint8_t *buf;
    size_t len;
    erasure_beside(b, r);
    if (store_row_envelope(r, &buf, &len) != 0)
        return 1;
    b->envs[b->n].data = buf;
    b->envs[b->n].len = len;
    b->n++;
    b->bytes += len;
    return 0;
}

void batch_free(batch_t *b)
{
    for (size_t i = 0; i < b->n_extra; i++)
        free(b->extra[i].data);
    for (size_t i = 0; i < b->n; i++)
        free(b->envs[i].data);
    free(b->envs);
}

void offers_clear(client_t *c)
{
    free(c->offers);
    c->offers = NULL;
    c->n_offers = c->offer_next = 0;
    c->offer_out = false;
    c->offer_applied = 0;
}

/* The next batch of c's offers, in list order (key logs first), moving
 * the list past what it takes. */
static void next_offer_batch(sync_t *s, client_t *c, batch_t *b)
{
    while (c->offer_next < c->n_offers && !b->full) {
        want_t *o = &c->offers[c->offer_next];
        size_t before = b->n;
        store_range(s->st, o->author, o->network, o->from, o->to, batch_row, b);
        uint64_t got = b->n - before;
        if (b->full && o->from + got <= o->to) {
            o->from += got; /* the rest of this range goes in the next batch */
            break;
        }
        c->offer_next++;
    }
}

void send_offers(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (c->offer_out || c->offer_next >= c->n_offers || !c->connected || !c->have_scope)
        return;
    batch_t b = {calloc(SYNC_BATCH_EVENTS + SYNC_BATCH_EXTRA, sizeof(ProtobufCBinaryData)), 0,
                 SYNC_BATCH_EVENTS, 0, 0, .st = s->st};
    if (b.envs)
        next_offer_batch(s, c, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events ev = LERNET__WIRE__EVENTS__INIT;
        ev.extra = batch_seal(&b);
        ev.n_envelopes = b.n;
        ev.envelopes = b.envs;
        ev.more = c->offer_next < c->n_offers;
        /* a server without offer acks takes them as a push, a batch a round */
        if (c->offer_acks)
            m.body_case = LERNET__WIRE__MSG__BODY_OFFER, m.offer = &ev;
        else
            m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &ev;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
        s->status[peer].events_sent += b.n;
        c->offer_out = c->offer_acks;
        c->offer_deadline_ms = now_ms + SYNC_REPLY_TIMEOUT_MS;
        log_debug("partner %s: offered %zu event%s%s", peer_name(s, (int)peer), b.n,
                  b.n == 1 ? "" : "s", ev.more ? ", more to follow" : "");
    }
    batch_free(&b);
    if (c->offer_next >= c->n_offers && !c->offer_out)
        offers_clear(c);
}

void on_offer_ack(sync_t *s, size_t peer, const Lernet__Wire__OfferAck *a, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (!c->offer_out)
        return; /* none in flight: late, or not ours to count */
    c->offer_out = false;
    c->offer_applied += a->applied;
    status_acked(s, peer, a->applied);
    if (c->offer_next < c->n_offers) {
        send_offers(s, peer, now_ms);
        return;
    }
    /* All sent and stored there: a round now confirms it (in sync), unless
     * nothing was new to it (then the next round is soon enough). */
    if (c->offer_applied && (c->state == C_IDLE || c->state == C_DONE))
        c->next_round_ms = now_ms;
    offers_clear(c);
}

/* An author's key logs go to a partner only once the author publishes in
 * a network they share (author_in_scope), so with its first event there
 * the partner may lack them: they go first, in one Push, or the event
 * would be refused as signed by a key not (yet) certified. The same while
 * the partner is not known to be in sync with us: it may lack the whole
 * log (published while we were apart), key logs included, and the event
 * is then held back there until the rounds or offers bring the rest,
 * rather than refused. */
static void push_key_logs(sync_t *s, size_t peer, const uint8_t *author)
{
    static const char *logs[] = {EVENT_LOG_KEYS, EVENT_LOG_REVOKED};
    batch_t b = {calloc(SYNC_BATCH_EVENTS, sizeof(ProtobufCBinaryData)), 0, SYNC_BATCH_EVENTS,
                 0, 0, .st = NULL};
    for (size_t i = 0; i < 2 && b.envs; i++)
        store_range(s->st, author, logs[i], 1, UINT64_MAX, batch_row, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
        e.n_envelopes = b.n, e.envelopes = b.envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
        s->status[peer].events_sent += b.n;
    }
    batch_free(&b);
}

/* A statement about partner p itself that takes its rights away: its own
 * identity revocation, or its removal from a network. It goes to p even
 * though p may have nothing else now: its honest owner must learn it (a
 * thief learns nothing it did not know). */
static bool tells_why(sync_t *s, size_t p, const event_t *ev)
{
    const uint8_t *key = s->cfg->peers[p].public_key;
    if (ev->kind == LERNET__KIND__KIND_IDENTITY_REVOKE)
        return memcmp(ev->author, key, KEYS_PUBLIC_BYTES) == 0;
    return ev->kind == LERNET__KIND__KIND_MEMBERSHIP && ev->body &&
           ev->body->membership->removed &&
           memcmp(ev->body->membership->member.data, key, KEYS_PUBLIC_BYTES) == 0;
}

void sync_push(sync_t *s, const event_t *ev, int from_peer)
{
    uint8_t *env;
    size_t len;
    /* every event stored here comes this way, ours (the daemon's publish)
     * and partners' (apply.c pushes each one it applied) */
    xfer_note(s, ev->kind);
    if (event_envelope(ev, &env, &len) != EV_OK)
        return;
    ProtobufCBinaryData one = {len, env};
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
    e.n_envelopes = 1;
    e.envelopes = &one;
    m.body_case = LERNET__WIRE__MSG__BODY_PUSH;
    m.push = &e;
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        if ((int)p == from_peer || !s->clients[p].connected)
            continue;
        if (!tells_why(s, p, ev) &&
            (!net_allowed(s, p, ev->network) || !client_scope(s, p) ||
             (event_log_reserved(ev->network) &&
              !author_in_scope(s, &s->clients[p].scope, ev->author))))
            continue;
        if (!event_log_reserved(ev->network) &&
            (ev->seq == 1 || s->status[p].state != SYNC_IN_SYNC))
            push_key_logs(s, p, ev->author);
        send_client(s, p, &m);
        s->stats.events_sent++;
        s->status[p].events_sent++;
    }
    free(env);
}
