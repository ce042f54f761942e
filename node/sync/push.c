/*
 * push: events sent without being asked for. A committed event goes at
 * once to every other connected partner whose scope holds it (sync_push),
 * preceded by its author's key logs when it opens a log there; and a
 * partner that does not dial this node (it admitted us as a member) is
 * offered, a batch per round, what its heads show it lacks (send_offers).
 * Batches are read straight from the stored envelope bytes (batch_row).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync_impl.h"

/* Envelope bytes straight from the stored parts: no parse, no re-encode
 * of the header. */
int batch_row(void *ctx, const store_row_t *r)
{
    batch_t *b = ctx;
    if (b->n >= b->max || b->bytes >= SYNC_BATCH_BYTES) {
        b->full = true;
        return 1;
    }
    uint8_t *buf;
    size_t len;
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
    for (size_t i = 0; i < b->n; i++)
        free(b->envs[i].data);
    free(b->envs);
}

/* Pushes, as one batch at most, what the partner's heads showed it lacks
 * (key logs first, like wants). */
void send_offers(sync_t *s, size_t peer)
{
    client_t *c = &s->clients[peer];
    batch_t b = {calloc(SYNC_BATCH_EVENTS, sizeof(ProtobufCBinaryData)), 0, SYNC_BATCH_EVENTS,
                 0, 0};
    for (int pass = 0; pass < 2 && b.envs; pass++)
        for (size_t i = 0; i < c->n_offers && !b.full; i++)
            if (event_log_reserved(c->offers[i].network) == (pass == 0))
                store_range(s->st, c->offers[i].author, c->offers[i].network, c->offers[i].from,
                            c->offers[i].to, batch_row, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events ev = LERNET__WIRE__EVENTS__INIT;
        ev.n_envelopes = b.n;
        ev.envelopes = b.envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH;
        m.push = &ev;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
    }
    batch_free(&b);
    free(c->offers);
    c->offers = NULL;
    c->n_offers = 0;
}

/* An author's key logs go to a partner only once the author publishes in
 * a network they share (author_in_scope), so with its first event there
 * the partner may lack them: they go first, in one Push, or the event
 * would be refused as signed by a key not (yet) certified. */
static void push_key_logs(sync_t *s, size_t peer, const uint8_t *author)
{
    static const char *logs[] = {EVENT_LOG_KEYS, EVENT_LOG_REVOKED};
    batch_t b = {calloc(SYNC_BATCH_EVENTS, sizeof(ProtobufCBinaryData)), 0, SYNC_BATCH_EVENTS,
                 0, 0};
    for (size_t i = 0; i < 2 && b.envs; i++)
        store_range(s->st, author, logs[i], 1, UINT64_MAX, batch_row, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
        e.n_envelopes = b.n, e.envelopes = b.envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
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
        if (ev->seq == 1 && !event_log_reserved(ev->network))
            push_key_logs(s, p, ev->author);
        send_client(s, p, &m);
        s->stats.events_sent++;
    }
    free(env);
}
