/*
 * scope: what a partner may exchange with this node now. Its rights are the
 * networks the config lists for it where, if managed, it is a member, and
 * none once its identity is revoked (rights_of, cached per generation); a
 * client's or session's scope is the networks its Hello/HelloAck named, as
 * far as those rights go, plus the key logs. Rights are checked again on
 * every request and push, not only at Hello.
 */
#include <stdio.h>
#include <string.h>

#include "sync/sync_impl.h"

void scope_add(scope_t *sc, const char *net)
{
    if (sc->n >= CONFIG_MAX_NETWORKS + SCOPE_RESERVED)
        return;
    snprintf(sc->nets[sc->n], sizeof sc->nets[sc->n], "%s", net);
    sc->ptrs[sc->n] = sc->nets[sc->n];
    sc->n++;
}

bool scope_has(const scope_t *sc, const char *net)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->nets[i], net) == 0)
            return true;
    return false;
}

void scope_reserved(scope_t *out)
{
    memset(out, 0, sizeof *out);
    scope_add(out, EVENT_LOG_KEYS);
    scope_add(out, EVENT_LOG_REVOKED);
}

/* Which of this node's networks partner peer may exchange now: the config
 * lists it there and, where the network is managed, it is a current member
 * (a configured partner that shares an open network too gets no managed
 * one it is not a member of); none once its identity is revoked. Cached
 * until sync_rescope moves gen, so that a right lost is lost at once for
 * every session, request and push. */
uint32_t rights_of(sync_t *s, size_t peer)
{
    rights_t *r = &s->rights[peer];
    if (r->gen == s->gen)
        return r->nets;
    const config_peer_t *p = &s->cfg->peers[peer];
    uint32_t nets = 0;
    int64_t now = event_now_ms();
    if (store_author_revoked(s->st, p->public_key) != 1)
        for (size_t i = 0; i < s->cfg->n_networks && i < 32; i++) {
            const char *net = s->cfg->networks[i];
            if (config_peer_has_network(p, net) &&
                (!store_managed(s->st, net) || store_is_member(s->st, net, p->public_key, now)))
                nets |= 1u << i;
        }
    r->gen = s->gen;
    r->nets = nets;
    return nets;
}

/* peer may have net now (a key log: if it may have any network). */
bool net_allowed(sync_t *s, size_t peer, const char *net)
{
    uint32_t nets = rights_of(s, peer);
    if (event_log_reserved(net))
        return nets != 0;
    for (size_t i = 0; i < s->cfg->n_networks && i < 32; i++)
        if (strcmp(s->cfg->networks[i], net) == 0)
            return (nets >> i) & 1;
    return false;
}

/* The key logs of author belong in a scope if the author publishes in one
 * of its networks (this node holds a log of it there). */
bool author_in_scope(sync_t *s, const scope_t *sc, const uint8_t *author)
{
    for (size_t i = 0; i < sc->n; i++) {
        uint64_t seq = 0;
        uint8_t id[EVENT_ID_BYTES];
        if (!event_log_reserved(sc->nets[i]) &&
            store_head(s->st, author, sc->nets[i], &seq, id) == STORE_OK && seq > 0)
            return true;
    }
    return false;
}

/* The scope of a session with peer: the key logs, and those of nets (the
 * networks one side asked for and the other answered) it may have now. */
static void scope_intersect(sync_t *s, scope_t *out, size_t peer, const config_network_t *nets,
                            size_t n)
{
    scope_reserved(out);
    for (size_t i = 0; i < n; i++)
        if (net_allowed(s, peer, nets[i]) && !scope_has(out, nets[i]))
            scope_add(out, nets[i]);
}

/* Keeps the networks of a Hello or HelloAck this node takes part in (the
 * others can never be in scope); bounded. */
size_t keep_networks(const config_t *cfg, config_network_t *out, char **nets, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < CONFIG_MAX_NETWORKS; i++)
        if (config_has_network(cfg, nets[i]))
            snprintf(out[k++], sizeof out[0], "%s", nets[i]);
    return k;
}

/* A session's scope as of now; NULL once its partner may have nothing. */
const scope_t *session_scope(sync_t *s, session_t *se)
{
    if (se->gen != s->gen) {
        scope_intersect(s, &se->scope, se->peer, se->asked, se->n_asked);
        se->gen = s->gen;
    }
    return rights_of(s, se->peer) ? &se->scope : NULL;
}

const scope_t *client_scope(sync_t *s, size_t peer)
{
    client_t *c = &s->clients[peer];
    if (c->gen != s->gen) {
        scope_intersect(s, &c->scope, peer, c->acked, c->n_acked);
        c->gen = s->gen;
    }
    return rights_of(s, peer) ? &c->scope : NULL;
}
