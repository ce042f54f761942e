/*
 * control: local control socket, both ends (see control.h).
 */
#include "daemon/control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static void endpoint(char *out, size_t n, const char *home)
{
    snprintf(out, n, "ipc://%s/%s", home, CONTROL_SOCKET);
}

void *control_open(void *zctx, const char *home, char *why, size_t whylen)
{
    char ep[PATH_MAX + 16], path[PATH_MAX];
    int linger = 0;
    int64_t max = CONTROL_MAX_MSG;
    snprintf(path, sizeof path, "%s/%s", home, CONTROL_SOCKET);
    if (strlen(path) >= 100) { /* sun_path limit for ipc:// */
        snprintf(why, whylen, "control socket path %s is too long for a Unix socket", path);
        return NULL;
    }
    endpoint(ep, sizeof ep, home);
    unlink(path); /* a stale socket from a crashed daemon */
    void *s = zmq_socket(zctx, ZMQ_REP);
    if (!s) {
        snprintf(why, whylen, "control socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    /* The socket file is created by bind: make it 0600 from the start. */
    mode_t old = umask(077);
    int rc = zmq_bind(s, ep);
    umask(old);
    if (rc != 0 || chmod(path, 0600) != 0) {
        snprintf(why, whylen, "control socket %s: %s", path, zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

json_t *control_recv(void *sock, char *err, size_t errlen)
{
    zmq_msg_t m;
    json_error_t je;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        snprintf(err, errlen, "receive failed");
        return NULL;
    }
    json_t *j = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), JSON_REJECT_DUPLICATES, &je);
    zmq_msg_close(&m);
    if (!j || !json_is_object(j)) {
        snprintf(err, errlen, "request is not a JSON object");
        json_decref(j);
        return NULL;
    }
    return j;
}

void control_reply(void *sock, json_t *reply)
{
    char *s = json_dumps(reply, JSON_COMPACT);
    if (s)
        zmq_send(sock, s, strlen(s), 0);
    else
        zmq_send(sock, "{\"ok\":false,\"error\":\"out of memory\"}", 36, 0);
    free(s);
    json_decref(reply);
}

int control_request(const char *home, json_t *req, json_t **reply, int timeout_ms)
{
    char ep[PATH_MAX + 16], path[PATH_MAX];
    struct stat st;
    int rc = CONTROL_ERR_NO_DAEMON, linger = 0;
    *reply = NULL;
    snprintf(path, sizeof path, "%s/%s", home, CONTROL_SOCKET);
    if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return CONTROL_ERR_NO_DAEMON;
    endpoint(ep, sizeof ep, home);
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    if (!s || !body) {
        rc = CONTROL_ERR_SOCKET;
        goto done;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    if (zmq_connect(s, ep) != 0 || zmq_send(s, body, strlen(body), 0) < 0)
        goto done;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) >= 0) {
        json_error_t je;
        *reply = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, &je);
        rc = *reply && json_is_object(*reply) ? CONTROL_OK : CONTROL_ERR_REPLY;
    }
    zmq_msg_close(&m);
done:
    free(body);
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
    return rc;
}
