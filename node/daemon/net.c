/*
 * net: CURVE sockets, the ZAP allow-list handler and connection monitors
 * (see net.h for the rules this file keeps).
 */
#include "daemon/net.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "daemon/dial.h"
#include "util/log.h"
#include "sync/sync.h"

/* In libzmq 4.3 this option sits in the draft section of zmq.h, but the
 * library implements it; net_server_open reads it back to be sure. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

static void *fail_sock(void *sock, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void *fail_sock(void *sock, char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < whylen)
            snprintf(why + n, whylen - (size_t)n, ": %s", zmq_strerror(zmq_errno()));
    }
    if (sock)
        zmq_close(sock);
    return NULL;
}

int net_check_version(char *why, size_t whylen)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 40303) {
        snprintf(why, whylen, "libzmq %d.%d.%d is older than 4.3.3 (known CVEs); refusing to run",
                 major, minor, patch);
        return NET_ERR_VERSION;
    }
    if (!zmq_has("curve")) {
        snprintf(why, whylen, "libzmq was built without CURVE; refusing to run unencrypted");
        return NET_ERR_VERSION;
    }
    return NET_OK;
}

static int set_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

/* The bounds every partner socket gets; heartbeats by role (net.h). */
static int common_opts(void *s, int as_server)
{
    int64_t maxmsg = SYNC_MAX_MSG;
    int ivl = as_server ? NET_SERVER_HEARTBEAT_MS : NET_HEARTBEAT_MS,
        timeout = as_server ? NET_SERVER_HEARTBEAT_TIMEOUT_MS : NET_HEARTBEAT_TIMEOUT_MS;
    return zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) | set_int(s, ZMQ_SNDHWM, NET_HWM) |
           set_int(s, ZMQ_RCVHWM, NET_HWM) | set_int(s, ZMQ_HANDSHAKE_IVL, NET_HANDSHAKE_MS) |
           set_int(s, ZMQ_HEARTBEAT_IVL, ivl) | set_int(s, ZMQ_HEARTBEAT_TIMEOUT, timeout) |
           set_int(s, ZMQ_HEARTBEAT_TTL, 0) | set_int(s, ZMQ_LINGER, 0);
}

typedef struct curve_opts {
    void *sock;
    int as_server;
} curve_opts_t;

/* Given the transport key pair by keys_transport_lend for this call only:
 * libzmq copies what it needs. */
static int set_curve(void *ctx, const uint8_t pub[KEYS_X25519_BYTES],
                     const uint8_t secret[KEYS_X25519_BYTES])
{
    curve_opts_t *o = ctx;
    int server = o->as_server;
    return zmq_setsockopt(o->sock, ZMQ_CURVE_PUBLICKEY, pub, KEYS_X25519_BYTES) == 0 &&
                   zmq_setsockopt(o->sock, ZMQ_CURVE_SECRETKEY, secret, KEYS_X25519_BYTES) == 0 &&
                   (!server || zmq_setsockopt(o->sock, ZMQ_CURVE_SERVER, &server, sizeof server) == 0)
               ? KEYS_OK
               : KEYS_ERR_CRYPTO;
}

static int curve_setup(const keys_transport_t *k, void *sock, int as_server)
{
    curve_opts_t o = {sock, as_server};
    return keys_transport_lend(k, set_curve, &o);
}

void *net_zap_open(void *zctx, char *why, size_t whylen)
{
    void *zap = zmq_socket(zctx, ZMQ_REP);
    if (!zap)
        return fail_sock(NULL, why, whylen, "zap socket");
    set_int(zap, ZMQ_LINGER, 0);
    if (zmq_bind(zap, NET_ZAP_ENDPOINT) != 0)
        return fail_sock(zap, why, whylen, "zap bind");
    return zap;
}

/* Receives one multipart message, keeping its first n frames in frames
 * (the rest are drained); returns how many were kept, or -1 if nothing was
 * received (none waiting, with ZMQ_DONTWAIT in first_flags). *total (may
 * be NULL) gets the message's frame count. */
static int recv_frames(void *s, zmq_msg_t *frames, int n, int first_flags, int *total)
{
    int count = 0, more = 1;
    while (more) {
        zmq_msg_t tmp, *m = count < n ? &frames[count] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s, count ? 0 : first_flags) < 0) {
            zmq_msg_close(m);
            break; /* a message is delivered whole: only the first frame can fail */
        }
        more = zmq_msg_more(m);
        if (m == &tmp)
            zmq_msg_close(m);
        count++;
    }
    if (total)
        *total = count;
    return count == 0 ? -1 : count < n ? count : n;
}

static void zap_reply(void *zap, zmq_msg_t *reqid, const char *code, const char *text,
                      const char *user)
{
    zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(zap, zmq_msg_data(reqid), zmq_msg_size(reqid), ZMQ_SNDMORE);
    zmq_send(zap, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

/* Answers one request; 0, or -1 when none was waiting. */
static int zap_one(void *zap, net_allow_fn allow, void *allow_ctx)
{
    /* version, request id, domain, address, identity, mechanism, key */
    zmq_msg_t f[7];
    char user[NET_USER_ID_SIZE] = "", addr[64] = "";
    int total = 0, n = recv_frames(zap, f, 7, ZMQ_DONTWAIT, &total);
    if (n < 0)
        return -1;
    if (n < 6) { /* malformed, from libzmq itself: still answered, or REP stays stuck */
        zap_reply(zap, n >= 2 ? &f[1] : &f[0], "500", "malformed ZAP request", "");
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        return 0;
    }
    snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]), (char *)zmq_msg_data(&f[3]));
    int curve = zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0;
    if (!curve || total != 7 || zmq_msg_size(&f[6]) != 32) {
        log_warn("refused connection from %s: not a CURVE handshake", addr);
        zap_reply(zap, &f[1], "400", "CURVE required", "");
    } else if (!allow(allow_ctx, zmq_msg_data(&f[6]), addr, user)) {
        zap_reply(zap, &f[1], "400", "key not allowed", "");
    } else {
        zap_reply(zap, &f[1], "200", "OK", user);
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
    return 0;
}

int net_zap_handle(void *zap, net_allow_fn allow, void *allow_ctx)
{
    int answered = 0;
    while (answered < NET_ZAP_TURN_MAX && zap_one(zap, allow, allow_ctx) == 0)
        answered++;
    return answered;
}

void *net_server_open(void *zctx, const keys_transport_t *k, const char *endpoint, char *why,
                      size_t whylen)
{
    void *s = zmq_socket(zctx, ZMQ_ROUTER);
    if (!s)
        return fail_sock(NULL, why, whylen, "router socket");
    if (curve_setup(k, s, 1) != KEYS_OK || common_opts(s, 1) != 0 ||
        set_int(s, ZMQ_SNDHWM, NET_ROUTER_SNDHWM) != 0 ||
        set_int(s, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, NET_ZAP_DOMAIN, strlen(NET_ZAP_DOMAIN)) != 0 ||
        set_int(s, ZMQ_ZAP_ENFORCE_DOMAIN, 1) != 0)
        return fail_sock(s, why, whylen, "router options");
    int enforced = 0;
    size_t elen = sizeof enforced;
    if (zmq_getsockopt(s, ZMQ_ZAP_ENFORCE_DOMAIN, &enforced, &elen) != 0 || enforced != 1)
        return fail_sock(s, why, whylen, "libzmq cannot enforce the ZAP domain");
    if (zmq_bind(s, endpoint) != 0)
        return fail_sock(s, why, whylen, "listen %s", endpoint);
    return s;
}

void *net_client_open(void *zctx, const keys_transport_t *k, const uint8_t partner[32],
                      const char *endpoint, const char *monitor_ep, char *why, size_t whylen)
{
    uint8_t server[32];
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    if (!s)
        return fail_sock(NULL, why, whylen, "dealer socket");
    if (keys_curve_public(server, partner) != KEYS_OK)
        return fail_sock(s, why, whylen, "partner key cannot be converted to X25519");
    /* IMMEDIATE: queue only to completed connections, so nothing piles up
     * for a partner that is down; sync repairs what was not sent. A partner
     * that cannot be reached is retried by libzmq, the interval doubling
     * from the base (drawn per socket, so partners drift apart) up to the
     * max, plus libzmq's own jitter (see dial.h). */
    int ivl = DIAL_ZMQ_IVL_MS + (int)randombytes_uniform(DIAL_ZMQ_IVL_MS);
    if (curve_setup(k, s, 0) != KEYS_OK || common_opts(s, 0) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) != 0 ||
        set_int(s, ZMQ_IMMEDIATE, 1) != 0 || set_int(s, ZMQ_RECONNECT_IVL, ivl) != 0 ||
        set_int(s, ZMQ_RECONNECT_IVL_MAX, DIAL_ZMQ_IVL_MAX_MS) != 0)
        return fail_sock(s, why, whylen, "dealer options");
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                 ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (zmq_socket_monitor(s, monitor_ep, events) != 0)
        return fail_sock(s, why, whylen, "monitor");
    if (zmq_connect(s, endpoint) != 0)
        return fail_sock(s, why, whylen, "connect %s", endpoint);
    return s;
}

void *net_monitor_open(void *zctx, const char *monitor_ep)
{
    void *m = zmq_socket(zctx, ZMQ_PAIR);
    if (!m)
        return NULL;
    set_int(m, ZMQ_LINGER, 0);
    if (zmq_connect(m, monitor_ep) != 0) {
        zmq_close(m);
        return NULL;
    }
    return m;
}

int net_monitor_read(void *mon)
{
    zmq_msg_t f[2];
    int n = recv_frames(mon, f, 2, 0, NULL), ev = 0;
    if (n >= 1 && zmq_msg_size(&f[0]) >= 2) {
        uint16_t id;
        memcpy(&id, zmq_msg_data(&f[0]), 2);
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            ev = NET_UP;
        else if (id == ZMQ_EVENT_DISCONNECTED)
            ev = NET_DOWN;
        else if (id == ZMQ_EVENT_CONNECT_RETRIED)
            ev = NET_RETRY;
        else if (id & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
            ev = NET_REFUSED;
    }
    for (int i = 0; i < n && i < 2; i++)
        zmq_msg_close(&f[i]);
    return ev;
}

/* Sends one message without blocking. A queue may look full only because
 * libzmq has not yet processed the reader's note that it drained it (it
 * processes such commands at most once a millisecond in send and recv,
 * while a request answered at once comes sooner): asking for ZMQ_EVENTS
 * processes them, and the send is tried once more before it counts as
 * dropped. (A ROUTER with a queue of 4 dropped the fifth quick reply on a
 * connection, and the client waited 15 s.) */
static int send_frame(void *sock, const void *buf, size_t len, int flags)
{
    if (zmq_send(sock, buf, len, flags | ZMQ_DONTWAIT) >= 0)
        return 0;
    if (zmq_errno() != EAGAIN)
        return -1;
    int events;
    size_t elen = sizeof events;
    zmq_getsockopt(sock, ZMQ_EVENTS, &events, &elen);
    return zmq_send(sock, buf, len, flags | ZMQ_DONTWAIT) >= 0 ? 0 : -1;
}

int net_send(void *sock, const uint8_t *rid, size_t rid_len, const uint8_t *buf, size_t len)
{
    if (rid && send_frame(sock, rid, rid_len, ZMQ_SNDMORE) != 0)
        return NET_ERR_AGAIN;
    if (send_frame(sock, buf, len, 0) != 0)
        return NET_ERR_AGAIN;
    return NET_OK;
}
