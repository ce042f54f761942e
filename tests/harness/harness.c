/*
 * harness: process management for integration tests (see harness.h).
 */
#include "harness/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "harness/testutil.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ports are taken below the kernel's ephemeral range (32768+), where the
 * daemons' own outgoing connections would otherwise grab a port picked for
 * a node that has not started yet; and never handed out twice per process
 * (this table is the harness's only state, and only tests use it). */
#define H_PORT_LO 20000
#define H_PORT_HI 32000
static int handed_out[H_PORT_HI - H_PORT_LO];

static int port_bindable(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int h_free_port(void)
{
    for (int tries = 0; tries < 2000; tries++) {
        int port = H_PORT_LO + (int)(randombytes_uniform(H_PORT_HI - H_PORT_LO));
        if (!handed_out[port - H_PORT_LO] && port_bindable(port)) {
            handed_out[port - H_PORT_LO] = 1;
            return port;
        }
    }
    return -1;
}

const char *h_bin(void)
{
    const char *b = getenv("LERNET_TEST_BIN");
    return b && *b ? b : LERNET_BIN;
}

int h_lernet(const hnode_t *n, char **out, const char *fmt, ...)
{
    char args[8192], cmd[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' %s 2>>'%s/cli.log'", h_bin(), n->home, args,
             n->home);
    return tu_run(cmd, out);
}

int h_node_init(hnode_t *n, const char *name, const char *country, const char *networks)
{
    char first[128], *out = NULL;
    memset(n, 0, sizeof *n);
    n->home = tu_tempdir();
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->country, sizeof n->country, "%s", country);
    snprintf(n->networks, sizeof n->networks, "%s", networks);
    n->port = h_free_port();
    n->sync_interval_ms = 300;
    snprintf(n->log_level, sizeof n->log_level, "debug");
    snprintf(first, sizeof first, "%.*s", (int)strcspn(networks, ","), networks);
    /* init refuses an existing home directory's config, not the directory */
    int rc = h_lernet(n, NULL, "init --no-passphrase --name '%s' --country %s --network %s", name,
                      country, first);
    if (rc != 0 || h_lernet(n, &out, "keys show") != 0) {
        free(out);
        return -1;
    }
    sscanf(out, "public_key %44s", n->pub);
    free(out);
    return h_node_write_config(n);
}

int h_node_clone(hnode_t *dst, const hnode_t *src)
{
    char cmd[2200];
    if (src->pid > 0)
        return -1; /* a running daemon's store may be mid-write */
    *dst = *src;
    dst->n_peers = 0;
    dst->pid = 0;
    dst->port = h_free_port();
    dst->web_port = src->web_port ? h_free_port() : 0;
    if (!(dst->home = tu_tempdir()))
        return -1;
    snprintf(cmd, sizeof cmd, "cp -a '%s/.' '%s/'", src->home, dst->home);
    if (tu_run(cmd, NULL) != 0)
        return -1;
    return h_node_write_config(dst);
}

void h_link(hnode_t *a, hnode_t *b, const char *networks)
{
    hnode_t *pair[2][2] = {{a, b}, {b, a}};
    for (int i = 0; i < 2; i++) {
        hnode_t *x = pair[i][0];
        if (x->n_peers >= H_MAX_PEERS)
            continue;
        x->peers[x->n_peers].node = pair[i][1];
        snprintf(x->peers[x->n_peers].networks, sizeof x->peers[0].networks, "%s", networks);
        x->n_peers++;
    }
}

void h_link_dialing(hnode_t *school, hnode_t *hub, const char *networks)
{
    h_link(school, hub, networks);
    school->no_listen = 1;
    if (hub->n_peers && hub->peers[hub->n_peers - 1].node == school)
        hub->peers[hub->n_peers - 1].no_endpoint = 1;
}

static int write_token(const hnode_t *n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/web.token", n->home);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) != 0) { /* a test may have loosened it */
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    fprintf(f, "%s\n", n->web_token);
    return fclose(f) == 0 ? 0 : -1;
}

int h_node_write_config(hnode_t *n)
{
    char path[600], first[128];
    snprintf(path, sizeof path, "%s/lernet.ini", n->home);
    snprintf(first, sizeof first, "%.*s", (int)strcspn(n->networks, ","), n->networks);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "[node]\nname = %s\ncountry = %s\n", n->name, n->country);
    if (n->no_listen)
        fprintf(f, "listen =\n");
    else
        fprintf(f, "listen = tcp://127.0.0.1:%d\n", n->port);
    fprintf(f, "networks = %s\ndefault_network = %s\nlog_level = %s\nsync_interval_ms = %d\n",
            n->networks, first, n->log_level, n->sync_interval_ms);
    if (n->web_port)
        fprintf(f, "web = 127.0.0.1:%d\n", n->web_port);
    else
        fprintf(f, "web = off\n");
    if (n->web_behind_proxy)
        fprintf(f, "web_behind_proxy = yes\n");
    if (n->node_extra[0]) /* more [node] lines, as given */
        fprintf(f, "%s", n->node_extra);
    if (n->web_token[0]) {
        fprintf(f, "web_token_file = web.token\n");
        if (write_token(n) != 0) {
            fclose(f);
            return -1;
        }
    }
    for (size_t i = 0; i < n->n_peers; i++) {
        fprintf(f, "\n[peer \"%s\"]\npublic_key = %s\nnetworks = %s\n", n->peers[i].node->name,
                n->peers[i].node->pub, n->peers[i].networks);
        if (n->peers[i].endpoint[0])
            fprintf(f, "endpoint = %s\n", n->peers[i].endpoint);
        else if (!n->peers[i].no_endpoint)
            fprintf(f, "endpoint = tcp://127.0.0.1:%d\n", n->peers[i].node->port);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int h_node_up(void *ctx)
{
    json_t *r = h_control(ctx, "status");
    int ok = r && json_is_true(json_object_get(r, "ok"));
    json_decref(r);
    return ok;
}

int h_partners_up(void *ctx)
{
    const hnode_t *n = ctx;
    json_t *peers = h_control(n, "peers"), *p;
    size_t up = 0, i;
    /* our own connection to those we dial; the others' requests coming */
    json_array_foreach(json_object_get(peers, "peers"), i, p) {
        json_t *ours = json_object_get(p, "our_connection");
        up += json_is_true(json_is_boolean(ours) ? ours : json_object_get(p, "its_connection"));
    }
    json_decref(peers);
    return up == n->n_peers;
}

int h_node_spawn(hnode_t *n)
{
    char logpath[600];
    snprintf(logpath, sizeof logpath, "%s/daemon.log", n->home);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* A test killed by ctest's timeout or a crash must not leave its
         * daemons running: they loaded CI machines until its runs went past
         * the time limit (66 found at once). The daemon dies with the thread
         * that forked it, which is the test's main thread; the getppid check
         * covers a parent that died before prctl. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execl(h_bin(), "lernet", "--home", n->home, "run", (char *)NULL);
        _exit(127);
    }
    n->pid = pid;
    return 0;
}

int h_node_start(hnode_t *n)
{
    if (h_node_spawn(n) != 0)
        return -1;
    if (!h_wait(h_node_up, n, H_DEADLINE_MS)) {
        fprintf(stderr, "harness: %s did not start; see %s/daemon.log\n", n->name, n->home);
        return -1;
    }
    return 0;
}

int h_node_stop(hnode_t *n)
{
    int status = -1;
    if (n->pid <= 0)
        return -1;
    kill(n->pid, SIGTERM);
    long long end = now_ms() + H_DEADLINE_MS;
    while (now_ms() < end) {
        pid_t r = waitpid(n->pid, &status, WNOHANG);
        if (r == n->pid) {
            n->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    h_node_kill(n);
    return -1;
}

void h_node_kill(hnode_t *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGKILL);
    waitpid(n->pid, NULL, 0);
    n->pid = 0;
}

void h_node_free(hnode_t *n)
{
    if (n->pid > 0)
        h_node_stop(n);
    if (getenv("LERNET_KEEP_TEST_HOMES")) {
        fprintf(stderr, "harness: kept %s\n", n->home);
        free(n->home);
        n->home = NULL;
    } else
        tu_rmtree(&n->home);
}

json_t *h_control(const hnode_t *n, const char *cmd)
{
    json_t *req = json_pack("{s:s}", "cmd", cmd), *reply = NULL;
    control_request(n->home, req, &reply, 2000);
    json_decref(req);
    return reply;
}

long h_count_items(const hnode_t *n)
{
    char *out = NULL;
    json_error_t e;
    long count = -1;
    if (h_lernet(n, &out, "list --json") == 0) {
        json_t *arr = json_loads(out, 0, &e);
        if (json_is_array(arr))
            count = (long)json_array_size(arr);
        json_decref(arr);
    }
    free(out);
    return count;
}

long h_count_events(const hnode_t *n)
{
    json_t *r = h_control(n, "status");
    long v = r ? (long)json_integer_value(json_object_get(r, "events")) : -1;
    json_decref(r);
    return v;
}

int h_wait(int (*cond)(void *ctx), void *ctx, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    for (;;) {
        if (cond(ctx))
            return 1;
        if (now_ms() >= end)
            return 0;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

typedef struct items_ctx {
    hnode_t **nodes;
    size_t n;
    long want;
} items_ctx_t;

static int all_have(void *vctx)
{
    items_ctx_t *c = vctx;
    for (size_t i = 0; i < c->n; i++)
        if (h_count_items(c->nodes[i]) != c->want)
            return 0;
    return 1;
}

int h_wait_items(hnode_t **nodes, size_t n, long want, int timeout_ms)
{
    items_ctx_t c = {nodes, n, want};
    int ok = h_wait(all_have, &c, timeout_ms);
    if (!ok)
        for (size_t i = 0; i < n; i++) {
            /* a daemon that died explains a stall better than a count */
            int status;
            if (nodes[i]->pid > 0 && waitpid(nodes[i]->pid, &status, WNOHANG) == nodes[i]->pid) {
                fprintf(stderr, "harness: %s's daemon exited (status %d); see %s/daemon.log\n",
                        nodes[i]->name, status, nodes[i]->home);
                nodes[i]->pid = 0;
            }
            fprintf(stderr, "harness: %s has %ld items, want %ld\n", nodes[i]->name,
                    h_count_items(nodes[i]), want);
        }
    return ok;
}

int h_log_contains(const hnode_t *n, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' '%s/daemon.log'", needle, n->home);
    return tu_run(cmd, NULL) == 0;
}

int h_log_count(const hnode_t *n, const char *needle)
{
    char cmd[1200], *out = NULL;
    snprintf(cmd, sizeof cmd, "grep -cF -- '%s' '%s/daemon.log'", needle, n->home);
    int rc = tu_run(cmd, &out), count = out && (rc == 0 || rc == 1) ? atoi(out) : -1;
    free(out);
    return count;
}

int h_publish_workshop(const hnode_t *n, const char *title, const char *network)
{
    return h_lernet(n, NULL,
                    "publish workshop --network %s --title 'sv:%s' --title 'en:%s (en)' "
                    "--start 2027-03-02T09:00 --end 2027-03-02T12:00 --place 'Storgatan 1' "
                    "--theme 'workplace learning' --role teachers --capacity 25",
                    network, title, title);
}

char *h_invite(const hnode_t *c, const hnode_t *n, const char *network, const char *name)
{
    char *out = NULL, *inv = NULL;
    if (h_lernet(c, &out, "network invite %s --key '%s' --name '%s'", network, n->pub, name) ==
            0 &&
        out) {
        char *line = strstr(out, "lernet-invite-1:");
        if (line) {
            line[strcspn(line, "\n")] = '\0';
            inv = strdup(line);
        }
    }
    free(out);
    return inv;
}
