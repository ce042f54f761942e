/* fuzz_wire: every wire message, as a server (any request) and as a client
 * (any reply, in each state a round passes through). One node with a real
 * store and one partner; sends go nowhere. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sync/sync.h"

static int drop_client(void *ctx, size_t peer, const uint8_t *buf, size_t len)
{
    (void)ctx, (void)peer, (void)buf, (void)len;
    return 0;
}

static int drop_server(void *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                       size_t len)
{
    (void)ctx, (void)rid, (void)rid_len, (void)buf, (void)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sync_t *s;
    static store_t *st;
    static config_t cfg;
    static config_peer_t peer;
    if (!s) {
        fuzz_init();
        char why[256];
        if (store_open(&st, fuzz_temp_path("wire.db"), why, sizeof why) != STORE_OK)
            abort();
        snprintf(cfg.name, sizeof cfg.name, "fuzz");
        snprintf(cfg.networks[0], sizeof cfg.networks[0], "nordic-wbl");
        cfg.n_networks = 1;
        cfg.sync_interval_ms = 1000;
        snprintf(peer.name, sizeof peer.name, "partner");
        snprintf(peer.endpoint, sizeof peer.endpoint, "inproc://partner");
        snprintf(peer.networks[0], sizeof peer.networks[0], "nordic-wbl");
        peer.n_networks = 1;
        cfg.peers = &peer;
        cfg.n_peers = 1;
        sync_io_t io = {drop_client, drop_server, NULL, NULL};
        if (sync_new(&s, st, &cfg, &io) != 0)
            abort();
    }
    int64_t now = event_now_ms();
    sync_server_recv(s, 0, (const uint8_t *)"rid", 3, data, size, now);
    /* a fresh round: the client expects a HelloAck, then whatever follows */
    sync_client_connected(s, 0, now);
    sync_client_recv(s, 0, data, size, now);
    sync_client_recv(s, 0, data, size, now);
    sync_client_disconnected(s, 0);
    return 0;
}
