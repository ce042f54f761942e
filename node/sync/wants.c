/*
 * wants: what a client round asks a partner for. The partner's heads for
 * the differing buckets, against this node's logs, give the ranges it
 * lacks (wants, key logs first) and, for a partner that does not pull from
 * us itself, what to offer it (push.c sends them); after each batch the
 * wants move past what is now stored. Logs
 * a partner serves only refusals or forks for are put aside a while
 * (stuck_add) and asked for by no want until then, so they cannot starve
 * the others.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "sync/sync_impl.h"

/* The log is put aside for this client now. */
static bool is_stuck(const client_t *c, const uint8_t *author, const char *network,
                     int64_t now_ms)
{
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++)
        if (c->stuck[i].until_ms > now_ms && strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0)
            return true;
    return false;
}

/* Puts a log this partner served nothing usable for aside: 60 s, doubling
 * each time it happens again, at most an hour. Returns true if it was new. */
bool stuck_add(sync_t *s, client_t *c, const uint8_t *author, const char *network,
               int64_t now_ms)
{
    size_t slot = 0;
    unsigned strikes = 0;
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++) {
        if (strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0) {
            if (c->stuck[i].until_ms > now_ms)
                return false;
            slot = i, strikes = c->stuck[i].strikes + 1;
            break;
        }
        if (c->stuck[i].until_ms < c->stuck[slot].until_ms)
            slot = i;
    }
    if (strikes > 6)
        strikes = 6;
    memcpy(c->stuck[slot].author, author, KEYS_PUBLIC_BYTES);
    snprintf(c->stuck[slot].network, sizeof c->stuck[slot].network, "%s", network);
    c->stuck[slot].strikes = strikes;
    c->stuck[slot].until_ms = now_ms + (60000LL << strikes);
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, author);
    log_warn("partner %s: its copy of log %s of %s brought only refusals or forks; not asking it "
             "for that log for %lld s, so the other logs go on", peer_name(s, (int)(c - s->clients)),
             network, fpr, (long long)(60LL << strikes));
    return true;
}

/* The order of logs everywhere in the protocol: author bytes, then network
 * (store_feeds sorts so; pages of heads follow it). */
static int log_cmp(const uint8_t *a, const char *a_net, const uint8_t *b, const char *b_net)
{
    int c = memcmp(a, b, KEYS_PUBLIC_BYTES);
    return c ? c : strcmp(a_net, b_net);
}

static int head_cmp(const void *a, const void *b)
{
    const Lernet__Wire__Head *x = *(Lernet__Wire__Head *const *)a;
    const Lernet__Wire__Head *y = *(Lernet__Wire__Head *const *)b;
    return log_cmp(x->author.data, x->network, y->author.data, y->network);
}

/* After the cursor of the page asked for (every log, on the first page). */
static bool past_cursor(const client_t *c, const uint8_t *author, const char *network)
{
    return !c->after.set || log_cmp(author, network, c->after.author, c->after.network) > 0;
}

/* One of our logs falls in the page of (sorted) heads h: after the cursor
 * and, when more pages follow, not after the page's last head. */
static bool in_page(const client_t *c, const Lernet__Wire__Heads *h, const store_feed_t *f)
{
    const Lernet__Wire__Head *last = h->n_heads ? h->heads[h->n_heads - 1] : NULL;
    return past_cursor(c, f->author, f->network) &&
           (!h->more || log_cmp(f->author, f->network, last->author.data, last->network) <= 0);
}

static Lernet__Wire__Head *find_head(Lernet__Wire__Head **sorted, size_t n,
                                     const store_feed_t *f)
{
    Lernet__Wire__Head key = LERNET__WIRE__HEAD__INIT, *kp = &key;
    if (n == 0)
        return NULL;
    key.author.data = (uint8_t *)f->author;
    key.author.len = KEYS_PUBLIC_BYTES;
    key.network = (char *)f->network;
    Lernet__Wire__Head **hit = bsearch(&kp, sorted, n, sizeof *sorted, head_cmp);
    return hit ? *hit : NULL;
}

/* Their heads name only logs in scope, each with a whole key, all after
 * the cursor asked for; a page that says more follow is not empty (so
 * the pages of a round always move on). */
static bool heads_valid(const client_t *c, const Lernet__Wire__Heads *h)
{
    if (h->more && h->n_heads == 0)
        return false;
    for (size_t i = 0; i < h->n_heads; i++) {
        const Lernet__Wire__Head *x = h->heads[i];
        if (x->author.len != KEYS_PUBLIC_BYTES || !scope_has(&c->scope, x->network) ||
            !past_cursor(c, x->author.data, x->network))
            return false;
    }
    return true;
}

static bool bucket_asked(const client_t *c, unsigned b)
{
    return (c->asked[b / 8] >> (b % 8)) & 1;
}

/* Our logs against their (sorted) heads: how many events they lack and,
 * for a partner we push to whose last offers are all sent, the ranges to
 * offer it next. A log of ours in a bucket we asked about and in this
 * page's span that their heads do not list is one they lack entirely. */
static uint64_t what_they_lack(client_t *c, Lernet__Wire__Heads *h, const store_feed_t *ours,
                               size_t n_ours)
{
    uint64_t lack = 0;
    bool offer = c->push_to_them && !c->offer_out && c->offer_next >= c->n_offers;
    if (offer) {
        offers_clear(c);
        c->offers = calloc(n_ours ? n_ours : 1, sizeof *c->offers);
    }
    for (size_t i = 0; i < n_ours; i++) {
        if (!in_page(c, h, &ours[i]))
            continue;
        Lernet__Wire__Head *t = find_head(h->heads, h->n_heads, &ours[i]);
        uint64_t from = 0;
        if (!t && bucket_asked(c, sync_bucket_of(ours[i].author, ours[i].network)))
            from = 1;
        else if (t && ours[i].seq > t->seq)
            from = t->seq + 1;
        if (!from)
            continue;
        lack += ours[i].seq - from + 1;
        if (offer && c->offers) {
            want_t *o = &c->offers[c->n_offers++];
            memcpy(o->author, ours[i].author, KEYS_PUBLIC_BYTES);
            snprintf(o->network, sizeof o->network, "%s", ours[i].network);
            o->from = from;
            o->to = ours[i].seq;
        }
    }
    return lack;
}

/* Their heads against what this node holds: the ranges to ask for (not of
 * logs put aside) and how many events we lack. -1: the store failed. */
static int what_we_lack(sync_t *s, client_t *c, const Lernet__Wire__Heads *h, uint64_t *lack)
{
    c->wants = calloc(h->n_heads ? h->n_heads : 1, sizeof *c->wants);
    c->n_wants = 0;
    *lack = 0;
    for (size_t i = 0; i < h->n_heads && c->wants; i++) {
        const Lernet__Wire__Head *x = h->heads[i];
        uint64_t mine = 0;
        if (store_have(s->st, x->author.data, x->network, &mine) != STORE_OK)
            return -1;
        if (x->seq <= mine)
            continue;
        *lack += x->seq - mine;
        if (is_stuck(c, x->author.data, x->network, event_now_ms()))
            continue;
        want_t *w = &c->wants[c->n_wants++];
        memcpy(w->author, x->author.data, KEYS_PUBLIC_BYTES);
        snprintf(w->network, sizeof w->network, "%s", x->network);
        w->from = mine + 1;
        w->to = x->seq;
    }
    return 0;
}

/* Key logs first, so certificates and revocations are stored before the
 * content they decide on (the server sends ranges in order). Stable. */
static void key_logs_first(want_t *wants, size_t n)
{
    size_t front = 0;
    for (size_t i = 0; i < n; i++)
        if (event_log_reserved(wants[i].network)) {
            want_t w = wants[i];
            memmove(&wants[front + 1], &wants[front], (i - front) * sizeof w);
            wants[front++] = w;
        }
}

/* Their heads for the differing buckets, one page → the ranges we miss,
 * the offers (key logs first, like wants), and how far apart the two nodes
 * are (for `lernet peers`): *we_lack and *they_lack are summed over the
 * pages of a round so far, written only on success. c->after moves to the
 * page's last head when more follow. -1: malformed heads or the store
 * failed. */
int heads_to_wants(sync_t *s, client_t *c, Lernet__Wire__Heads *h, uint64_t *we_lack,
                   uint64_t *they_lack)
{
    store_feed_t *ours;
    size_t n_ours;
    uint64_t theirs, mine;
    if (!heads_valid(c, h))
        return -1;
    if (h->n_heads) /* an empty list has a NULL array: not for qsort */
        qsort(h->heads, h->n_heads, sizeof *h->heads, head_cmp);
    if (scoped_feeds(s, &c->scope, &ours, &n_ours) != 0)
        return -1;
    if (!c->after.set)
        c->page_we_lack = c->page_they_lack = 0;
    theirs = what_they_lack(c, h, ours, n_ours);
    free(ours);
    if (what_we_lack(s, c, h, &mine) != 0)
        return -1;
    key_logs_first(c->wants, c->n_wants);
    key_logs_first(c->offers, c->n_offers); /* stable: a list being sent keeps its order */
    c->page_we_lack += mine;
    c->page_they_lack += theirs;
    c->heads_more = h->more;
    if (h->more) {
        const Lernet__Wire__Head *last = h->heads[h->n_heads - 1];
        c->after.set = true;
        memcpy(c->after.author, last->author.data, KEYS_PUBLIC_BYTES);
        snprintf(c->after.network, sizeof c->after.network, "%s", last->network);
    }
    *we_lack = c->page_we_lack;
    *they_lack = c->page_they_lack;
    return 0;
}

/* Drops the wants of logs put aside (stuck_add). */
void drop_stuck_wants(client_t *c, int64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n_wants; i++)
        if (!is_stuck(c, c->wants[i].author, c->wants[i].network, now_ms))
            c->wants[keep++] = c->wants[i];
    c->n_wants = keep;
}

/* After a batch: move each range past what is now held; drop finished. */
void advance_wants(sync_t *s, client_t *c)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n_wants; i++) {
        uint64_t mine = 0;
        store_have(s->st, c->wants[i].author, c->wants[i].network, &mine);
        if (mine >= c->wants[i].to)
            continue;
        c->wants[i].from = mine + 1;
        c->wants[keep++] = c->wants[i];
    }
    c->n_wants = keep;
}

/* Moves the wants past the next `count` events, assuming the batch holds
 * them in the order the server reads ranges (see serve_want), so the next
 * Want can leave before this batch is verified. A wrong guess costs only a
 * batch of duplicates or held-back events: advance_wants then corrects the
 * wants from what the store really holds. */
void guess_advance(client_t *c, size_t count)
{
    size_t keep = 0, n = c->n_wants < SYNC_MAX_RANGES ? c->n_wants : SYNC_MAX_RANGES;
    for (size_t i = 0; i < c->n_wants; i++) {
        want_t *w = &c->wants[i];
        uint64_t span = w->to - w->from + 1;
        if (i < n && count >= span) {
            count -= (size_t)span;
            continue;
        }
        if (i < n) {
            w->from += count;
            count = 0;
        }
        c->wants[keep++] = *w;
    }
    c->n_wants = keep;
}
