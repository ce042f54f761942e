/*
 * test_net_refuse: who gets in. A CURVE server whose ZAP handler is missing
 * refuses everyone (ZMQ_ZAP_ENFORCE_DOMAIN); a daemon refuses a key it does
 * not know at the handshake and logs it; a partner speaking another protocol
 * version gets a clear error, and the daemon logs it too; a partner's error
 * text with newlines is logged escaped on one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness/harness.h"
#include "keys/keystore.h"
#include "daemon/net.h"
#include "sync/sync.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"

/* Waits for a monitor event of the given kind; 1 if it came in time. */
static int wait_monitor(void *mon, int want, int timeout_ms)
{
    zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (zmq_poll(&it, 1, 50) > 0 && net_monitor_read(mon) == want)
            return 1;
    }
    return 0;
}

static int allow_all(void *ctx, const uint8_t x[32], const char *addr,
                     char user[NET_USER_ID_SIZE])
{
    (void)ctx;
    (void)x;
    (void)addr;
    snprintf(user, NET_USER_ID_SIZE, "test");
    return 1;
}

static void test_no_zap_handler_means_refused(void **state)
{
    (void)state;
    char why[256], ep[64], mon_ep[64];
    keys_identity_t *server_key, *client_key;
    assert_int_equal(keys_generate(&server_key), 0);
    assert_int_equal(keys_generate(&client_key), 0);
    void *ctx = zmq_ctx_new();
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", h_free_port());

    /* no ZAP handler bound at all */
    keys_transport_t *server_t = NULL, *client_t = NULL;
    assert_int_equal(keys_transport_from_identity(&server_t, server_key), KEYS_OK);
    assert_int_equal(keys_transport_from_identity(&client_t, client_key), KEYS_OK);
    void *server = net_server_open(ctx, server_t, ep, why, sizeof why);
    assert_non_null(server);
    snprintf(mon_ep, sizeof mon_ep, "inproc://m1");
    void *client = net_client_open(ctx, client_t, keys_public(server_key), ep, mon_ep, why,
                                   sizeof why);
    assert_non_null(client);
    void *mon = net_monitor_open(ctx, mon_ep);
    assert_true(wait_monitor(mon, NET_REFUSED, 10000));
    zmq_socket_monitor(client, NULL, 0);
    zmq_close(mon);
    zmq_close(client);

    /* with a handler that admits the key, the same client gets through */
    void *zap = net_zap_open(ctx, why, sizeof why);
    assert_non_null(zap);
    snprintf(mon_ep, sizeof mon_ep, "inproc://m2");
    client = net_client_open(ctx, client_t, keys_public(server_key), ep, mon_ep, why,
                             sizeof why);
    mon = net_monitor_open(ctx, mon_ep);
    zmq_pollitem_t items[2] = {{zap, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
    int up = 0;
    for (int i = 0; i < 200 && !up; i++) {
        zmq_poll(items, 2, 50);
        if (items[0].revents & ZMQ_POLLIN)
            net_zap_handle(zap, allow_all, NULL);
        if (items[1].revents & ZMQ_POLLIN)
            up = net_monitor_read(mon) == NET_UP;
    }
    assert_true(up);
    assert_int_equal(zmq_send(client, "hej", 3, 0), 3);
    char buf[16];
    zmq_pollitem_t sitem = {server, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&sitem, 1, 5000), 1);
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    assert_true(zmq_msg_recv(&rid, server, 0) > 0);
    assert_int_equal(zmq_msg_recv(&body, server, 0), 3);
    memcpy(buf, zmq_msg_data(&body), 3);
    assert_memory_equal(buf, "hej", 3);
    assert_string_equal(zmq_msg_gets(&body, "User-Id"), "test");
    zmq_msg_close(&rid);
    zmq_msg_close(&body);

    zmq_socket_monitor(client, NULL, 0);
    zmq_close(mon);
    zmq_close(client);
    zmq_close(zap);
    zmq_close(server);
    zmq_ctx_term(ctx);
    keys_free(&server_key);
    keys_free(&client_key);
    keys_transport_free(&server_t);
    keys_transport_free(&client_t);
}

static int refusal_logged(void *ctx)
{
    hnode_t **pair = ctx;
    return h_log_contains(pair[0], "refused a connection from 127.0.0.1") &&
           h_log_contains(pair[0], "unknown transport key (X25519)") &&
           h_log_contains(pair[1], "refused our handshake");
}

static void test_unknown_key_refused(void **state)
{
    (void)state;
    hnode_t B, X;
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", "nordic-wbl"), 0);
    assert_int_equal(h_node_init(&X, "Unknown Org", "SE", "nordic-wbl"), 0);
    /* X lists B as a partner, but B has never heard of X */
    X.peers[0].node = &B;
    snprintf(X.peers[0].networks, sizeof X.peers[0].networks, "nordic-wbl");
    X.n_peers = 1;
    assert_int_equal(h_node_write_config(&X), 0);
    assert_int_equal(h_node_start(&B), 0);
    assert_int_equal(h_node_start(&X), 0);
    assert_int_equal(h_publish_workshop(&X, "Ska inte komma fram", "nordic-wbl"), 0);
    /* B logs the refusal with the key X presented, X that it was refused */
    hnode_t *pair[2] = {&B, &X};
    assert_true(h_wait(refusal_logged, pair, H_DEADLINE_MS));
    /* …and stores nothing of X's */
    assert_int_equal(h_count_items(&B), 0);
    json_t *peers = h_control(&X, "peers");
    json_t *p0 = json_array_get(json_object_get(peers, "peers"), 0);
    assert_false(json_is_true(json_object_get(p0, "connected")));
    json_decref(peers);
    h_node_free(&X);
    h_node_free(&B);
}

/* A client with an allowed key that speaks protocol version 2. */
static void test_protocol_version_mismatch(void **state)
{
    (void)state;
    hnode_t B, X;
    char why[512], mon_ep[] = "inproc://mv", keydir[600];
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", "nordic-wbl"), 0);
    assert_int_equal(h_node_init(&X, "Future Org", "FI", "nordic-wbl"), 0);
    h_link(&B, &X, "nordic-wbl");
    assert_int_equal(h_node_write_config(&B), 0);
    assert_int_equal(h_node_start(&B), 0);

    keys_identity_t *xk = NULL;
    snprintf(keydir, sizeof keydir, "%s/keys", X.home);
    assert_int_equal(keystore_load(keydir, NULL, &xk, why, sizeof why), 0);
    uint8_t bkey[32];
    assert_int_equal(keys_pub_decode(bkey, B.pub), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", B.port);
    void *ctx = zmq_ctx_new();
    keys_transport_t *xt = NULL;
    assert_int_equal(keys_transport_from_identity(&xt, xk), KEYS_OK);
    void *dealer = net_client_open(ctx, xt, bkey, ep, mon_ep, why, sizeof why);
    void *mon = net_monitor_open(ctx, mon_ep);
    assert_non_null(dealer);
    assert_true(wait_monitor(mon, NET_UP, 10000));

    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    h.protocol = 2;
    h.node_name = "Future Org";
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO;
    m.hello = &h;
    uint8_t buf[256];
    size_t len = lernet__wire__msg__pack(&m, buf);
    assert_int_equal(zmq_send(dealer, buf, len, 0), (int)len);

    zmq_pollitem_t it = {dealer, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 10000), 1);
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    assert_true(zmq_msg_recv(&reply, dealer, 0) > 0);
    Lernet__Wire__Msg *r = lernet__wire__msg__unpack(NULL, zmq_msg_size(&reply),
                                                     zmq_msg_data(&reply));
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_ERROR);
    assert_int_equal(r->error->code, LERNET__WIRE__ERROR__CODE__CODE_VERSION);
    assert_non_null(strstr(r->error->message, "protocol version 2 is not supported"));
    assert_non_null(strstr(r->error->message, "speaks 1"));
    lernet__wire__msg__free_unpacked(r, NULL);
    zmq_msg_close(&reply);
    assert_true(h_log_contains(&B, "protocol version 2 is not supported"));

    zmq_socket_monitor(dealer, NULL, 0);
    zmq_close(mon);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    keys_free(&xk);
    keys_transport_free(&xt);
    h_node_free(&B);
    h_node_free(&X);
}

static int log_has_escaped_error(void *ctx)
{
    return h_log_contains(ctx, "nicht erlaubt\\n<0>evil line\\r\\x1b[31m");
}

/* A partner whose server answers B's Hello with an Error whose text holds
 * newlines, a journald priority and an escape sequence: B logs it escaped,
 * on its own line, and no line of B's log starts with the text's "<0>". */
static void test_partner_error_escaped(void **state)
{
    (void)state;
    hnode_t B, X;
    char why[512], keydir[600], ep[64];
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", "nordic-wbl"), 0);
    assert_int_equal(h_node_init(&X, "Feindliche GmbH", "DE", "nordic-wbl"), 0);
    h_link(&B, &X, "nordic-wbl");
    assert_int_equal(h_node_write_config(&B), 0);

    /* X is a bare CURVE server under X's key that admits anyone */
    keys_identity_t *xk = NULL;
    keys_transport_t *xt = NULL;
    snprintf(keydir, sizeof keydir, "%s/keys", X.home);
    assert_int_equal(keystore_load(keydir, NULL, &xk, why, sizeof why), 0);
    assert_int_equal(keys_transport_from_identity(&xt, xk), KEYS_OK);
    void *ctx = zmq_ctx_new();
    void *zap = net_zap_open(ctx, why, sizeof why);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", X.port);
    void *server = net_server_open(ctx, xt, ep, why, sizeof why);
    assert_non_null(zap);
    assert_non_null(server);

    setenv("LERNET_LOG_PREFIX", "journal", 1); /* B's lines start with <N> */
    assert_int_equal(h_node_start(&B), 0);
    unsetenv("LERNET_LOG_PREFIX");
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Error er = LERNET__WIRE__ERROR__INIT;
    er.code = LERNET__WIRE__ERROR__CODE__CODE_MALFORMED;
    er.message = "nicht erlaubt\n<0>evil line\r\x1b[31m";
    m.body_case = LERNET__WIRE__MSG__BODY_ERROR;
    m.error = &er;
    uint8_t buf[256];
    size_t len = lernet__wire__msg__pack(&m, buf);
    int logged = 0;
    for (int waited = 0; waited < H_DEADLINE_MS && !logged; waited += 50) {
        zmq_pollitem_t items[2] = {{zap, 0, ZMQ_POLLIN, 0}, {server, 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, 50);
        if (items[0].revents & ZMQ_POLLIN)
            net_zap_handle(zap, allow_all, NULL);
        if (items[1].revents & ZMQ_POLLIN) { /* whatever B asks: the hostile error */
            zmq_msg_t rid, body;
            zmq_msg_init(&rid);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&rid, server, 0) > 0 && zmq_msg_recv(&body, server, 0) >= 0)
                net_send(server, zmq_msg_data(&rid), zmq_msg_size(&rid), buf, len);
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
        }
        logged = log_has_escaped_error(&B);
    }
    assert_true(logged);
    /* what `lernet peers` prints is the escaped text too */
    json_t *peers = h_control(&B, "peers");
    json_t *p0 = json_array_get(json_object_get(peers, "peers"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "last_error")),
                        "nicht erlaubt\\n<0>evil line\\r\\x1b[31m");
    json_decref(peers);
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof cmd, "grep -c '^<0>\\|^evil\\|\x1b' '%s/daemon.log'", B.home);
    tu_run(cmd, &out);
    assert_string_equal(out, "0\n");
    free(out);
    zmq_close(server);
    zmq_close(zap);
    zmq_ctx_term(ctx);
    keys_free(&xk);
    keys_transport_free(&xt);
    h_node_free(&B);
    h_node_free(&X);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_zap_handler_means_refused),
        cmocka_unit_test(test_unknown_key_refused),
        cmocka_unit_test(test_protocol_version_mismatch),
        cmocka_unit_test(test_partner_error_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
