/*
 * sync: the partner protocol (see sync.h and docs/protocol.md): the state
 * every half shares, refusals, sending, the timer that starts and expires
 * rounds, the status `lernet peers` shows, and rescoping when rights
 * change. The protocol itself is in the other files of node/sync/
 * (sync_impl.h lists them); everything a partner can send is decoded and
 * bounded there before anything else sees it.
 */
#include "sync/sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                               (size_t)(peer + 1) <= s->cap
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
    if (buf && s->io.send_client(s->io.ctx, peer, buf, len) == 0) {
        s->stats.bytes_sent += len;
        s->status[peer].bytes_sent += len;
    }
    free(buf);
}

void send_server(sync_t *s, const session_t *se, const msg_t *m)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    if (buf && s->io.send_server(s->io.ctx, se->rid, se->rid_len, buf, len) == 0) {
        s->stats.bytes_sent += len;
        if (se->peer < s->cap)
            s->status[se->peer].bytes_sent += len;
    }
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

/* ---- status ------------------------------------------------------------ */

/* A partner counts as dialing us while its requests keep coming: within
 * this long of the last one (a few of our rounds, and never under 15 s,
 * since its rounds keep their own interval). */
static int64_t dial_window_ms(const sync_t *s)
{
    int64_t w = 5 * (int64_t)s->cfg->sync_interval_ms;
    return w < 15000 ? 15000 : w;
}

static void status_set(pstat_t *ps, int state, int64_t now_ms)
{
    if (ps->state != state)
        ps->since_ms = now_ms;
    ps->state = state;
    ps->as_of_ms = now_ms;
}

void status_in_sync(sync_t *s, size_t peer, int64_t now_ms)
{
    pstat_t *ps = &s->status[peer];
    status_set(ps, SYNC_IN_SYNC, now_ms);
    ps->lack_known = true;
    ps->we_lack = ps->they_lack = 0;
    ps->last_in_sync_ms = now_ms;
}

void status_apart(sync_t *s, size_t peer, bool known, uint64_t we_lack, uint64_t they_lack,
                  int64_t now_ms)
{
    pstat_t *ps = &s->status[peer];
    status_set(ps, SYNC_APART, now_ms);
    ps->lack_known = known;
    ps->we_lack = known ? we_lack : 0;
    ps->they_lack = known ? they_lack : 0;
}

void status_received(sync_t *s, size_t peer, uint64_t applied)
{
    pstat_t *ps = &s->status[peer];
    ps->events_received += applied;
    ps->we_lack = ps->we_lack > applied ? ps->we_lack - applied : 0;
}

void status_acked(sync_t *s, size_t peer, uint64_t applied)
{
    pstat_t *ps = &s->status[peer];
    ps->they_lack = ps->they_lack > applied ? ps->they_lack - applied : 0;
}

bool pulls_from(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (peer >= s->cfg->n_peers || !s->cfg->peers[peer].endpoint[0])
        return false;
    if (c->connected)
        return true;
    if (!c->down_since_ms) /* first asked since it went down (or since start) */
        c->down_since_ms = now_ms;
    return now_ms - c->down_since_ms < SYNC_DIAL_GRACE_MS;
}

/* ---- timers, rescope ---------------------------------------------------- */

int64_t sync_tick(sync_t *s, int64_t now_ms)
{
    int64_t next = now_ms + s->cfg->sync_interval_ms;
    /* only partners we dial have a client: at a hub, a few of thousands */
    for (size_t k = 0; k < s->n_dialed; k++) {
        size_t p = s->dialed[k];
        client_t *c = &s->clients[p];
        if (!c->connected)
            continue;
        if (c->offer_out && now_ms >= c->offer_deadline_ms) {
            log_warn("partner %s: offered events not acknowledged for %d s; the next round "
                     "offers again what it still lacks",
                     peer_name(s, (int)p), SYNC_REPLY_TIMEOUT_MS / 1000);
            offers_clear(c);
        }
        if (c->offer_out && c->offer_deadline_ms < next)
            next = c->offer_deadline_ms;
        bool waiting = c->state != C_IDLE && c->state != C_DONE;
        if (waiting && now_ms >= c->deadline_ms) {
            log_warn("partner %s: no reply for %d s in state %s, starting over",
                     peer_name(s, (int)p),
                     (c->state == C_HELLO ? SYNC_HELLO_TIMEOUT_MS : SYNC_REPLY_TIMEOUT_MS) / 1000,
                     cstate_names[c->state]);
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

/* A time as {"NAME_ms": t, "NAME_ago_ms": now - t}, both null for never. */
static void set_time(json_t *o, const char *name, int64_t t, int64_t now_ms)
{
    char k[64];
    snprintf(k, sizeof k, "%s_ms", name);
    json_object_set_new(o, k, t ? json_integer(t) : json_null());
    snprintf(k, sizeof k, "%s_ago_ms", name);
    json_object_set_new(o, k, t ? json_integer(now_ms - t) : json_null());
}

static json_t *lack_json(const pstat_t *ps, uint64_t n)
{
    return ps->state != SYNC_UNKNOWN && ps->lack_known ? json_integer((json_int_t)n) : json_null();
}

/* Which side opens the connection: we (we have its endpoint), they (its
 * requests arrive on our ROUTER), or both. A partner with no endpoint
 * that has not dialed yet is still "they": it is the only side that can. */
static const char *dials(const sync_t *s, size_t p, bool they_dial)
{
    bool we = s->cfg->peers[p].endpoint[0] != '\0';
    return we && they_dial ? "both" : we ? "we" : "they";
}

static json_t *peer_json(sync_t *s, size_t p, int64_t now_ms)
{
    const config_peer_t *cp = &s->cfg->peers[p];
    const client_t *c = &s->clients[p];
    const pstat_t *ps = &s->status[p];
    char key[KEYS_PUB_STR_SIZE];
    bool they_dial = ps->last_request_ms && now_ms - ps->last_request_ms <= dial_window_ms(s);
    keys_pub_encode(key, cp->public_key);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:s}", "name",
                          cp->name, "public_key", key, "endpoint", cp->endpoint, "dials",
                          dials(s, p, they_dial), "connected", c->connected || they_dial,
                          "in_sync",
                          ps->state == SYNC_UNKNOWN ? json_null() : json_boolean(ps->state),
                          "we_lack", lack_json(ps, ps->we_lack), "they_lack",
                          lack_json(ps, ps->they_lack), "bytes_sent",
                          (json_int_t)ps->bytes_sent, "bytes_received",
                          (json_int_t)ps->bytes_received, "events_sent",
                          (json_int_t)ps->events_sent, "events_received",
                          (json_int_t)ps->events_received, "round",
                          cp->endpoint[0] ? cstate_names[c->state] : "none");
    if (!o)
        return NULL;
    /* the two connections apart: ours (null: we do not dial it), and its */
    json_object_set_new(o, "our_connection",
                        cp->endpoint[0] ? json_boolean(c->connected) : json_null());
    json_object_set_new(o, "its_connection", json_boolean(they_dial));
    set_time(o, "since", ps->since_ms, now_ms);
    set_time(o, "as_of", ps->as_of_ms, now_ms);
    set_time(o, "last_sync", ps->last_in_sync_ms, now_ms);
    set_time(o, "last_request", ps->last_request_ms, now_ms);
    if (ps->last_error[0])
        json_object_set_new(o, "last_error", json_string(ps->last_error));
    return o;
}

json_t *sync_peers_json(sync_t *s, int64_t now_ms)
{
    json_t *arr = json_array();
    for (size_t p = 0; arr && p < s->cfg->n_peers; p++) {
        json_t *o = peer_json(s, p, now_ms);
        if (o)
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
    for (size_t i = 0; i < s->cfg->n_peers * SYNC_SESSIONS_PER_PEER; i++) {
        session_t *se = s->sessions[i];
        if (se && se->used && !session_scope(s, se)) {
            bar_session(s, se);
            closed++;
        } else if (se && se->used && (!was || rights_of(s, se->peer) != was[se->peer]))
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
    out->events_parsed = out->parse_cpu_ns = out->sigs_verified = 0;
    if (s->pool) {
        vpool_cost(s->pool, &out->events_parsed, &out->parse_cpu_ns);
        out->sigs_verified = vpool_verified(s->pool);
    }
}

void sync_on_applied(sync_t *s, void (*cb)(void *ctx, const event_t *ev, int from_peer),
                     void *ctx)
{
    s->on_applied = cb;
    s->on_applied_ctx = ctx;
}

/* *arr from old to new elements of size bytes, the new ones zeroed. */
static int grow(void *arr, size_t old, size_t new, size_t size)
{
    void **p = arr;
    char *q = realloc(*p, new * size);
    if (!q)
        return -1;
    memset(q + old * size, 0, (new - old) * size);
    *p = q;
    return 0;
}

int sync_reserve(sync_t *s, size_t n_peers)
{
    if (n_peers <= s->cap && s->clients)
        return 0;
    size_t cap = s->cap ? s->cap : 16, was = s->cap;
    while (cap < n_peers)
        cap *= 2;
    /* each table grows on its own; until all did, cap stays (the old room) */
    if (grow(&s->clients, was, cap, sizeof *s->clients) ||
        grow(&s->rights, was, cap, sizeof *s->rights) ||
        grow(&s->status, was, cap, sizeof *s->status) ||
        grow(&s->sessions, was * SYNC_SESSIONS_PER_PEER, cap * SYNC_SESSIONS_PER_PEER,
             sizeof *s->sessions) ||
        grow(&s->rlog, (was + 1) * SYNC_REFUSAL_SLOTS, (cap + 1) * SYNC_REFUSAL_SLOTS,
             sizeof *s->rlog) ||
        xfer_reserve(s, cap))
        return -1;
    for (size_t p = was; p < cap; p++)
        s->status[p].state = SYNC_UNKNOWN;
    s->cap = cap;
    return 0;
}

size_t sync_peer_bytes(void)
{
    return sizeof(client_t) + sizeof(rights_t) + sizeof(pstat_t) +
           SYNC_SESSIONS_PER_PEER * sizeof(session_t *) +
           SYNC_REFUSAL_SLOTS * sizeof(refusal_log_t);
}

size_t sync_session_bytes(void)
{
    return sizeof(session_t);
}

int sync_new(sync_t **out, store_t *st, const config_t *cfg, const sync_io_t *io)
{
    sync_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->st = st;
    s->cfg = cfg;
    s->io = *io;
    s->gen = 1;
    /* the partners with an endpoint: the only ones sync_client_* is told of
     * (members admitted later dial us) */
    s->dialed = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof *s->dialed);
    for (size_t p = 0; s->dialed && p < cfg->n_peers; p++)
        if (cfg->peers[p].endpoint[0])
            s->dialed[s->n_dialed++] = p;
    if (!s->dialed || sync_reserve(s, cfg->n_peers) != 0 || vpool_new(&s->pool, -1) != 0) {
        sync_free(&s);
        return -1;
    }
    if (io->between) /* the verification of a batch is as long a wait as its store */
        vpool_between(s->pool, io->between, io->ctx, SYNC_SLICE_MS);
    for (size_t k = 0; k < s->n_dialed; k++)
        s->clients[s->dialed[k]].listed = true;
    *out = s;
    return 0;
}

void sync_free(sync_t **sp)
{
    if (!sp || !*sp)
        return;
    sync_t *s = *sp;
    for (size_t p = 0; s->clients && p < s->cfg->n_peers && p < s->cap; p++) {
        free(s->clients[p].wants);
        free(s->clients[p].offers);
        items_free(s->clients[p].held, s->clients[p].n_held); /* never stored */
    }
    free(s->clients);
    for (size_t i = 0; s->sessions && i < s->cap * SYNC_SESSIONS_PER_PEER; i++)
        free(s->sessions[i]);
    free(s->sessions);
    free(s->rights);
    free(s->status);
    free(s->rlog);
    vpool_free(&s->pool);
    digest_memos_free(s);
    xfer_free(s);
    free(s->dialed);
    free(s);
    *sp = NULL;
}
