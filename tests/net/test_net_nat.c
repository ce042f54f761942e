/*
 * test_net_nat: real daemons where only one side can dial, as in the
 * field: a school behind NAT (no listen address) and a regional hub that
 * lists it without an endpoint, or with one it cannot reach. Both ways
 * converge over the school's one connection, what the school published
 * offline included, and an event published while connected is not
 * refused for want of its key log; a laptop that was off while the others
 * published comes back and converges both ways; `lernet peers` (table and
 * JSON), the health page and /metrics at both ends say in sync, nothing
 * lacking, as of a recent exchange. Dialling a
 * partner that cannot be reached, or that refuses the handshake, backs off
 * and is logged once, and once again when it is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "malardalen-skills"
#define HUB "Region Örebro län"
#define SCHOOL "Lärcentrum Östhammar"
#define LAPTOP "Studieförbundet Vuxenskolan Tierp"

/* The nodes of the running test: freed by teardown, whether it passed or
 * failed, so that no daemon outlives it. */
static hnode_t nodes[3];

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++)
        if (nodes[i].home)
            h_node_free(&nodes[i]);
    memset(nodes, 0, sizeof nodes);
    return 0;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n's status of its partner named name (new reference), or NULL. */
static json_t *peer_status(const hnode_t *n, const char *name)
{
    json_t *r = h_control(n, "peers"), *p, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(r, "peers"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            found = json_incref(p);
    json_decref(r);
    return found;
}

typedef struct in_sync_q {
    const hnode_t *n;
    const char *partner;
} in_sync_q_t;

/* n says it is in sync with partner: nothing lacking either way, as of an
 * exchange in the last 5 s. */
static int says_in_sync(void *ctx)
{
    in_sync_q_t *q = ctx;
    json_t *p = peer_status(q->n, q->partner);
    int ok = p && json_is_true(json_object_get(p, "in_sync")) &&
             json_integer_value(json_object_get(p, "we_lack")) == 0 &&
             json_is_integer(json_object_get(p, "we_lack")) &&
             json_integer_value(json_object_get(p, "they_lack")) == 0 &&
             json_is_integer(json_object_get(p, "they_lack")) &&
             json_integer_value(json_object_get(p, "as_of_ago_ms")) < 5000 &&
             json_is_integer(json_object_get(p, "since_ms"));
    json_decref(p);
    return ok;
}

static void assert_says_in_sync(const hnode_t *n, const char *partner, const char *dials)
{
    in_sync_q_t q = {n, partner};
    assert_true(h_wait(says_in_sync, &q, H_DEADLINE_MS));
    json_t *p = peer_status(n, partner);
    assert_string_equal(json_string_value(json_object_get(p, "dials")), dials);
    assert_true(json_is_true(json_object_get(p, "connected")));
    assert_true(json_integer_value(json_object_get(p, "bytes_sent")) > 0);
    assert_true(json_integer_value(json_object_get(p, "bytes_received")) > 0);
    json_decref(p);
}

/* Nothing refused at n, for any reason, since it started. */
static void assert_nothing_refused(const hnode_t *n)
{
    json_t *r = h_control(n, "status");
    assert_non_null(r);
    assert_int_equal(json_object_size(json_object_get(r, "refused")), 0);
    json_decref(r);
    assert_false(h_log_contains(n, "not certified"));
}

/* GET path from the node's web page, as a local visitor: the whole reply
 * (malloc'd, NUL-terminated), or NULL. */
static char *http_get(const hnode_t *n, const char *path)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)n->web_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char req[256];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                        "Connection: close\r\n\r\n", path, n->web_port);
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap);
    if (buf && write(fd, req, (size_t)len) == len)
        for (ssize_t r; got + 1 < cap && (r = read(fd, buf + got, cap - 1 - got)) > 0;)
            got += (size_t)r;
    close(fd);
    if (buf)
        buf[got] = '\0';
    return buf;
}

static void assert_page_has(const hnode_t *n, const char *path, const char *needle)
{
    char *page = http_get(n, path);
    assert_non_null(page);
    if (!strstr(page, needle))
        fail_msg("%s lacks: %s", path, needle);
    free(page);
}

static void publish(const hnode_t *n, const char *title)
{
    assert_int_equal(h_publish_workshop(n, title, NET), 0);
}

/* The school has no listen address; the hub lists it without an endpoint.
 * What both published offline, and later while connected, reaches the
 * other over the school's connection. */
static void test_school_without_listen(void **state)
{
    (void)state;
    hnode_t *H = &nodes[0], *S = &nodes[1], *all[] = {H, S};
    assert_int_equal(h_node_init(H, HUB, "SE", NET), 0);
    assert_int_equal(h_node_init(S, SCHOOL, "SE", NET), 0);
    h_link_dialing(S, H, NET);
    H->web_port = h_free_port();
    assert_int_equal(h_node_write_config(H), 0);
    assert_int_equal(h_node_write_config(S), 0);
    assert_int_equal(h_lernet(H, NULL, "config check"), 0);
    publish(S, "Validering av yrkeskunskaper");
    publish(S, "Arbetsplatslärande i praktiken");
    publish(H, "Regionalt nätverksmöte om kompetensförsörjning");
    assert_int_equal(h_node_start(H), 0);
    assert_int_equal(h_node_start(S), 0);
    assert_true(h_wait_items(all, 2, 3, H_DEADLINE_MS));
    assert_true(h_wait(h_partners_up, H, H_DEADLINE_MS));
    assert_true(h_wait(h_partners_up, S, H_DEADLINE_MS));
    publish(S, "Studiebesök hos Forsmarks kraftgrupp");
    publish(H, "Digital kompetens för handledare");
    assert_true(h_wait_items(all, 2, 5, H_DEADLINE_MS));
    assert_nothing_refused(H);
    assert_nothing_refused(S);
    assert_says_in_sync(S, HUB, "we");
    assert_says_in_sync(H, SCHOOL, "they");
    /* the table says the same, and where the school is: nowhere to dial */
    char *out = NULL;
    assert_int_equal(h_lernet(H, &out, "peers"), 0);
    assert_non_null(strstr(out, "IN SYNC"));
    assert_non_null(strstr(out, "none (it dials this node)"));
    char *row = strstr(out, SCHOOL);
    assert_non_null(row);
    char want[64];
    snprintf(want, sizeof want, "they  yes yes");
    assert_non_null(strstr(row, want));
    free(out);
    json_t *p = peer_status(H, SCHOOL);
    assert_string_equal(json_string_value(json_object_get(p, "endpoint")), "");
    assert_true(json_is_null(json_object_get(p, "our_connection")));
    assert_true(json_integer_value(json_object_get(p, "last_request_ago_ms")) < 5000);
    json_decref(p);
    /* the health page and /metrics say the same */
    assert_page_has(H, "/health", "none: it connects to this node");
    assert_page_has(H, "/health", "<span class=\"ok\">in sync</span>, since");
    assert_page_has(H, "/metrics", "lernet_peer_in_sync{peer=\"" SCHOOL "\"} 1");
    assert_page_has(H, "/metrics",
                    "lernet_peer_info{peer=\"" SCHOOL "\",dials=\"they\",endpoint=\"\"} 1");
    assert_page_has(H, "/metrics",
                    "lernet_peer_lag_events{peer=\"" SCHOOL "\",direction=\"they_lack\"} 0");
    assert_page_has(H, "/metrics",
                    "lernet_peer_bytes_total{peer=\"" SCHOOL "\",direction=\"sent\"}");
    /* the hub checked what the school sent it, and says what that cost */
    json_t *st = h_control(H, "status");
    assert_non_null(st);
    assert_true(json_integer_value(json_object_get(st, "events_parsed")) > 0);
    assert_true(json_integer_value(json_object_get(st, "parse_cpu_us")) > 0);
    json_decref(st);
    assert_page_has(H, "/metrics", "lernet_check_cpu_seconds_total ");
    for (int i = 0; i < 2; i++)
        assert_int_equal(h_lernet(all[i], NULL, "verify"), 0);
}

/* The hub lists the school with an endpoint that leads nowhere (NAT): it
 * still gets what the school published offline, logs the endpoint
 * unreachable once, and keeps its tries few. */
static void test_unreachable_endpoint(void **state)
{
    (void)state;
    hnode_t *H = &nodes[0], *S = &nodes[1], *all[] = {H, S};
    assert_int_equal(h_node_init(H, HUB, "SE", NET), 0);
    assert_int_equal(h_node_init(S, SCHOOL, "SE", NET), 0);
    h_link_dialing(S, H, NET);
    H->peers[0].no_endpoint = 0;
    snprintf(H->peers[0].endpoint, sizeof H->peers[0].endpoint, "tcp://127.0.0.1:%d",
             h_free_port());
    assert_int_equal(h_node_write_config(H), 0);
    assert_int_equal(h_node_write_config(S), 0);
    publish(S, "Validering av yrkeskunskaper");
    publish(S, "Arbetsplatslärande i praktiken");
    assert_int_equal(h_node_start(H), 0);
    long long t0 = mono_ms();
    assert_int_equal(h_node_start(S), 0);
    assert_true(h_wait_items(all, 2, 2, H_DEADLINE_MS));
    assert_nothing_refused(H);
    assert_says_in_sync(H, SCHOOL, "both");
    /* some seconds of trying: one line, and the tries backing off */
    in_sync_q_t q = {S, HUB};
    assert_true(h_wait(says_in_sync, &q, H_DEADLINE_MS));
    while (mono_ms() - t0 < 4000)
        assert_true(h_wait(says_in_sync, &q, 1000));
    assert_int_equal(h_log_count(H, "partner " SCHOOL " unreachable"), 1);
    json_t *p = peer_status(H, SCHOOL);
    long long tries = json_integer_value(json_object_get(p, "failed_tries"));
    long long down_ms = json_integer_value(json_object_get(p, "unreachable_since_ago_ms"));
    fprintf(stderr, "%lld failed tries in %lld ms\n", tries, down_ms);
    assert_true(tries >= 2);
    assert_true(tries <= 8); /* 200-400 ms doubling: 4 s hold at most 5 or so */
    assert_non_null(strstr(json_string_value(json_object_get(p, "last_error")), "cannot connect"));
    json_decref(p);
}

/* A laptop that only dials was off while the hub and a school published;
 * it published offline too. Started again, it converges both ways. */
static void test_laptop_offline_then_back(void **state)
{
    (void)state;
    hnode_t *H = &nodes[0], *S = &nodes[1], *L = &nodes[2];
    hnode_t *all[] = {H, S, L}, *online[] = {H, S};
    assert_int_equal(h_node_init(H, HUB, "SE", NET), 0);
    assert_int_equal(h_node_init(S, SCHOOL, "SE", NET), 0);
    assert_int_equal(h_node_init(L, LAPTOP, "SE", NET), 0);
    h_link_dialing(S, H, NET);
    h_link_dialing(L, H, NET);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_node_write_config(all[i]), 0);
        assert_int_equal(h_node_start(all[i]), 0);
    }
    publish(L, "Cirkelledarutbildning");
    assert_true(h_wait_items(all, 3, 1, H_DEADLINE_MS));
    assert_int_equal(h_node_stop(L), 0);
    publish(H, "Regionalt nätverksmöte om kompetensförsörjning");
    publish(S, "Validering av yrkeskunskaper");
    publish(S, "Arbetsplatslärande i praktiken");
    publish(L, "Svenska för yrkeslivet"); /* offline: no daemon, into its store */
    publish(L, "Digitala verktyg i cirkeln");
    assert_true(h_wait_items(online, 2, 4, H_DEADLINE_MS));
    assert_int_equal(h_count_items(L), 3);
    assert_int_equal(h_node_start(L), 0);
    assert_true(h_wait_items(all, 3, 6, H_DEADLINE_MS));
    assert_nothing_refused(H);
    assert_says_in_sync(L, HUB, "we");
    assert_says_in_sync(H, LAPTOP, "they");
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_lernet(all[i], NULL, "verify"), 0);
}

typedef struct refusals_q {
    const hnode_t *n;
    long long want;
} refusals_q_t;

static long long handshakes_refused(const hnode_t *n)
{
    json_t *r = h_control(n, "status");
    long long v = json_integer_value(
        json_object_get(json_object_get(r, "refused"), "handshake_not_allowed"));
    json_decref(r);
    return v;
}

static int refused_at_least(void *ctx)
{
    refusals_q_t *q = ctx;
    return handshakes_refused(q->n) >= q->want;
}

typedef struct back_q {
    const hnode_t *n;
    const char *needle;
} back_q_t;

static int logged(void *ctx)
{
    back_q_t *q = ctx;
    return h_log_contains(q->n, q->needle);
}

/* A partner that refuses our handshake (it does not list us yet) is tried
 * again ever more slowly, not every few hundred milliseconds, and that is
 * logged once; once it lists us, the partner is reached again, and that is
 * logged once too. */
static void test_refused_handshake_backs_off(void **state)
{
    (void)state;
    hnode_t *A = &nodes[0], *P = &nodes[1];
    assert_int_equal(h_node_init(A, SCHOOL, "SE", NET), 0);
    assert_int_equal(h_node_init(P, HUB, "SE", NET), 0);
    h_link(A, P, NET);
    P->n_peers = 0; /* P does not know A yet */
    assert_int_equal(h_node_write_config(A), 0);
    assert_int_equal(h_node_write_config(P), 0);
    assert_int_equal(h_node_start(P), 0);
    assert_int_equal(h_node_start(A), 0);
    refusals_q_t q = {P, 1};
    assert_true(h_wait(refused_at_least, &q, H_DEADLINE_MS));
    long long t1 = mono_ms();
    q.want = 4;
    assert_true(h_wait(refused_at_least, &q, H_DEADLINE_MS));
    long long spent = mono_ms() - t1;
    fprintf(stderr, "3 more refused handshakes took %lld ms\n", spent);
    /* back-off from 1 s, each delay at least half its step: 0.5 + 1 + 2 */
    assert_true(spent >= 3000);
    assert_int_equal(h_log_count(A, "refused our handshake"), 1);
    /* P learns of A: A gets in at its next try, and says so once */
    assert_int_equal(h_node_stop(P), 0);
    P->n_peers = 1; /* the entry h_link made */
    assert_int_equal(h_node_write_config(P), 0);
    assert_int_equal(h_node_start(P), 0);
    back_q_t b = {A, "partner " HUB " reachable again"};
    assert_true(h_wait(logged, &b, 90000));
    assert_int_equal(h_log_count(A, "reachable again"), 1);
    assert_true(h_wait(h_partners_up, A, H_DEADLINE_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_school_without_listen, teardown),
        cmocka_unit_test_teardown(test_unreachable_endpoint, teardown),
        cmocka_unit_test_teardown(test_laptop_offline_then_back, teardown),
        cmocka_unit_test_teardown(test_refused_handshake_backs_off, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
