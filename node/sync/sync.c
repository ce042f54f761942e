/*
 * sync: the partner protocol (see sync.h and docs/protocol.md): the state
 * every half shares, refusals, sending, the timer that starts and expires
 * rounds, the status `lernet peers` shows, and rescoping when rights
 * change. The protocol itself is in the other files of node/sync/
 * (sync_impl.h lists them); everything a partner can send is decoded and
 * bounded there before anything else sees it.
 */
#include "sync/sync.h"

#include <stdlib.h>

#include "util/log.h"
#include "proto/wire.pb-c.h"
#include "sync/sync_impl.h"
#include "sync/vpool.h"

/* ---- refusals --------------------------------------------------------- */

static void count_refusal(sync_t *s, int slot)
{
    s->stats.events_refused += slot != SLOT_HANDSHAKE;
    if (slot > 0 && slot < SYNC_REFUSAL_SLOTS)
        s->refused[slot]++;
}

/* Counts a refused event and logs it, at most SYNC_REFUSAL_LINES a minute
 * per partner and reason (a partner that sends thousands must not fill
 * the log): the rest are summed up in one line when the minute is over. */
void refusal(sync_t *s, int peer, int code, const char *name, const char *why,
             int64_t now_ms)
{
    int slot = (int)err_index(code);
    count_refusal(s, slot);
    refusal_log_t *r = s->rlog && slot > 0 && slot < SYNC_REFUSAL_SLOTS && peer >= -1 &&
                               peer < CONFIG_MAX_PEERS
                           ? &s->rlog[(size_t)(peer + 1) * SYNC_REFUSAL_SLOTS + (size_t)slot]
                           : NULL;
    const char *who = peer >= 0 ? s->cfg->peers[peer].name : "local";
    if (r && now_ms - r->window_ms >= 60000) {
        if (r->suppressed)
            log_warn("refused %u more events from %s in the last minute: %s", r->suppressed,
                     who, name);
        r->window_ms = now_ms;
        r->lines = r->suppressed = 0;
    }
    if (r && r->lines >= SYNC_REFUSAL_LINES) {
        r->suppressed++;
        return;
    }
    if (r)
        r->lines++;
    log_warn("refused event from %s: %s: %s", who, name, why);
}

void sync_note_refused_handshake(sync_t *s)
{
    count_refusal(s, SLOT_HANDSHAKE);
}

json_t *sync_refusals_json(const sync_t *s)
{
    json_t *o = json_object();
    for (int i = 1; i < SYNC_REFUSAL_SLOTS; i++) {
        if (!s->refused[i])
            continue;
        const char *name =
            i == SLOT_HANDSHAKE ? "handshake_not_allowed" : err_name(err_at((size_t)i));
        json_object_set_new(o, name, json_integer((json_int_t)s->refused[i]));
    }
    return o;
}

/* ---- sending -------------------------------------------------------- */

const char *peer_name(const sync_t *s, int peer)
{
    return peer >= 0 ? s->cfg->peers[peer].name : "local";
}

static uint8_t *pack(const msg_t *m, size_t *len)
{
    *len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        lernet__wire__msg__pack(m, buf);
    return buf;
}

void send_client(sync_t *s, size_t peer, const msg_t *m)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    if (buf && s->io.send_client(s->io.ctx, peer, buf, len) == 0)
        s->stats.bytes_sent += len;
    free(buf);
}

void send_server(sync_t *s, const session_t *se, const msg_t *m)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    if (buf && s->io.send_server(s->io.ctx, se->rid, se->rid_len, buf, len) == 0)
        s->stats.bytes_sent += len;
    free(buf);
}

void send_error(sync_t *s, const session_t *se, Lernet__Wire__Error__Code code,
                const char *text)
{
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Error e = LERNET__WIRE__ERROR__INIT;
    e.code = code;
    e.message = (char *)text;
    m.body_case = LERNET__WIRE__MSG__BODY_ERROR;
    m.error = &e;
    send_server(s, se, &m);
}

/* ---- timers, status, rescope ----------------------------------------- */

int64_t sync_tick(sync_t *s, int64_t now_ms)
{
    int64_t next = now_ms + s->cfg->sync_interval_ms;
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        client_t *c = &s->clients[p];
        if (!c->connected)
            continue;
        bool waiting = c->state != C_IDLE && c->state != C_DONE;
        if (waiting && now_ms >= c->deadline_ms) {
            log_warn("partner %s: no reply for %d s in state %s, starting over",
                     peer_name(s, (int)p), SYNC_REPLY_TIMEOUT_MS / 1000, cstate_names[c->state]);
            client_reset(s, c);
            c->next_round_ms = now_ms;
            waiting = false;
        }
        if (!waiting && now_ms >= c->next_round_ms)
            start_round(s, p, now_ms);
        int64_t due = (c->state == C_IDLE || c->state == C_DONE) ? c->next_round_ms
                                                                  : c->deadline_ms;
        if (due < next)
            next = due;
    }
    return next;
}

json_t *sync_peers_json(sync_t *s, int64_t now_ms)
{
    json_t *arr = json_array();
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        const config_peer_t *cp = &s->cfg->peers[p];
        client_t *c = &s->clients[p];
        char key[KEYS_PUB_STR_SIZE];
        keys_pub_encode(key, cp->public_key);
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:I}", "name", cp->name,
                              "public_key", key, "endpoint", cp->endpoint, "connected",
                              c->connected, "state", cstate_names[c->state], "we_lack",
                              (json_int_t)c->we_lack, "they_lack", (json_int_t)c->they_lack,
                              "events_received", (json_int_t)c->applied_total);
        json_object_set_new(o, "last_sync_ms",
                            c->last_sync_ms ? json_integer(c->last_sync_ms) : json_null());
        json_object_set_new(o, "last_sync_ago_ms", c->last_sync_ms
                                                       ? json_integer(now_ms - c->last_sync_ms)
                                                       : json_null());
        if (c->last_error[0])
            json_object_set_new(o, "last_error", json_string(c->last_error));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The partner's rights changed, not to nothing: its session ends so that
 * its client says Hello again. Both sides must digest the same networks,
 * and its client's scope is what this node's HelloAck listed. */
static void rescope_session(sync_t *s, session_t *se)
{
    log_info("partner %s: the networks it may exchange with this node changed; it is asked "
             "to say Hello again", peer_name(s, (int)se->peer));
    send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_SCOPE,
               "the networks you may exchange with this node changed: send Hello again");
    se->used = false;
}

size_t sync_rescope(sync_t *s, int64_t now_ms)
{
    size_t closed = 0;
    uint32_t *was = calloc(s->cfg->n_peers ? s->cfg->n_peers : 1, sizeof *was);
    for (size_t p = 0; was && p < s->cfg->n_peers; p++)
        was[p] = rights_of(s, p);
    s->gen++;
    for (size_t i = 0; i < SYNC_MAX_SESSIONS; i++) {
        session_t *se = &s->sessions[i];
        if (se->used && !session_scope(s, se)) {
            bar_session(s, se);
            closed++;
        } else if (se->used && (!was || rights_of(s, se->peer) != was[se->peer]))
            rescope_session(s, se);
    }
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        client_t *c = &s->clients[p];
        uint32_t now = rights_of(s, p);
        if (c->connected && !now && !c->barred) {
            client_reset(s, c);
            start_round(s, p, now_ms); /* logs it, and holds the rounds */
        } else if (c->connected && c->have_scope && (!was || now != was[p])) {
            /* its Hello asked for what it could exchange then: ask again */
            client_reset(s, c);
            c->next_round_ms = now_ms;
        }
    }
    free(was);
    return closed;
}

bool sync_peer_allowed(sync_t *s, size_t peer)
{
    return peer < s->cfg->n_peers && rights_of(s, peer) != 0;
}

void sync_get_stats(const sync_t *s, sync_stats_t *out)
{
    *out = s->stats;
}

void sync_on_applied(sync_t *s, void (*cb)(void *ctx, const event_t *ev, int from_peer),
                     void *ctx)
{
    s->on_applied = cb;
    s->on_applied_ctx = ctx;
}

int sync_new(sync_t **out, store_t *st, const config_t *cfg, const sync_io_t *io)
{
    sync_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->st = st;
    s->cfg = cfg;
    s->io = *io;
    /* room for partners admitted later (members of managed networks) */
    s->clients = calloc(CONFIG_MAX_PEERS, sizeof *s->clients);
    s->sessions = calloc(SYNC_MAX_SESSIONS, sizeof *s->sessions);
    s->rights = calloc(CONFIG_MAX_PEERS, sizeof *s->rights);
    s->rlog = calloc((size_t)(CONFIG_MAX_PEERS + 1) * SYNC_REFUSAL_SLOTS, sizeof *s->rlog);
    s->gen = 1;
    if (!s->clients || !s->sessions || !s->rights || !s->rlog ||
        vpool_new(&s->pool, -1) != 0) {
        sync_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void sync_free(sync_t **sp)
{
    if (!sp || !*sp)
        return;
    sync_t *s = *sp;
    for (size_t p = 0; s->clients && p < s->cfg->n_peers; p++) {
        free(s->clients[p].wants);
        free(s->clients[p].offers);
        items_free(s->clients[p].held, s->clients[p].n_held); /* never stored */
    }
    free(s->clients);
    free(s->sessions);
    free(s->rights);
    free(s->rlog);
    vpool_free(&s->pool);
    free(s);
    *sp = NULL;
}
