/*
 * test_net_restart: a partner killed with SIGKILL in the middle of a large
 * catch-up, then restarted, ends with exactly the sender's events: nothing
 * lost, nothing duplicated, every chain intact, and it does not download
 * again what it had already committed. Throughout the catch-up its control
 * socket answers status within STATUS_WAIT_MS, and so does its web page
 * (test_web_mid_catch_up), which holds a posted form back until the store
 * of the batch is over; a flood of pages does not stall the catch-up, and
 * posts dropped, refused or held at SIGTERM leave nothing half
 * (test_web_flood_mid_catch_up). LERNET_TEST_ONLY=NAME runs one test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "harness/harness.h"
#include "keys/keystore.h"
#include "store/store.h"
#include "sync/sync.h"
#include "harness/testutil.h"

#define TOTAL 20000
/* Besides A's TOTAL events, each node's key log holds its signing key's
 * certificate and its profile: B ends with A's and its own. */
#define KEY_EVENTS 4
#define START 1796112000LL
/* How long a status request may wait while a catch-up runs: as long as the
 * harness's own polls wait (h_control). Storing a 4,000-event batch in one
 * go kept the daemon from answering for 3.5-9 s under ASan; the harness's
 * polls gave up, the REP socket kept their requests, and the answers went
 * to those while test_kill_mid_catch_up saw none partway. A loaded machine
 * may stall any process now and then: one poll in STATUS_SLOW_1_IN may
 * wait longer, none longer than the CLI's CONTROL_TIMEOUT_MS. */
#define STATUS_WAIT_MS 2000
#define STATUS_SLOW_1_IN 20

/* Fills A's store directly (the daemon is not running yet): TOTAL events of
 * A's own log, in one transaction. Not linked (no prev_sig), so B verifies
 * every signature: a linked log catches up in about a second, too short to
 * be killed or asked for pages partway with any certainty; these tests are
 * about what happens partway, not about its speed (linked catch-ups:
 * test_vpool, test_net_star, make bench). */
static void fill_store(hnode_t *a)
{
    char path[600], why[256];
    store_t *st;
    keys_identity_t *k;
    snprintf(path, sizeof path, "%s/keys", a->home);
    assert_int_equal(keystore_load(path, NULL, &k, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/store.db", a->home);
    assert_int_equal(store_open(&st, path, why, sizeof why), 0);
    assert_int_equal(store_begin(st), 0);
    event_t *prev = NULL;
    for (int i = 0; i < TOTAL; i++) {
        Lernet__Payload *p = tu_workshop("Arbetsplatsförlagt lärande", "Workplace learning",
                                         START + i * 600);
        event_t *ev = NULL;
        assert_int_equal(event_create(&ev, k, "nordic-wbl", (uint64_t)i + 1, prev ? prev->id : NULL,
                                      event_now_ms(), p, why, sizeof why),
                         0);
        assert_int_equal(store_add(st, ev, NULL, NULL, why, sizeof why), 0);
        event_free(&prev);
        prev = ev;
        tu_payload_free(p);
    }
    event_free(&prev);
    assert_int_equal(store_commit(st), 0);
    store_close(&st);
    keys_free(&k);
}

/* A with TOTAL events of its own, not running: filled once (signing and
 * storing 20,000 events is a large part of this file's time under ASan)
 * and copied for each test by sender_and_partner. */
static hnode_t filled;

static int fill_once(void **state)
{
    (void)state;
    if (h_node_init(&filled, "Region Örebro län", "SE", "nordic-wbl") != 0)
        return -1;
    fill_store(&filled);
    return 0;
}

static int drop_fill(void **state)
{
    (void)state;
    h_node_free(&filled);
    return 0;
}

/* A, a copy of the filled node, running; B its partner, configured and
 * not started (with its web page on when web). */
/* a configured and, unless web (whose test starts it itself), running. */
static void sender_and_partner_web(hnode_t *a, hnode_t *b, int web)
{
    assert_int_equal(h_node_clone(a, &filled), 0);
    assert_int_equal(h_node_init(b, "Køge Handelsskole", "DK", "nordic-wbl"), 0);
    b->web_port = web ? h_free_port() : 0;
    h_link(a, b, "nordic-wbl");
    assert_int_equal(h_node_write_config(a), 0);
    assert_int_equal(h_node_write_config(b), 0);
    if (!web)
        assert_int_equal(h_node_start(a), 0);
}

static void sender_and_partner(hnode_t *a, hnode_t *b)
{
    sender_and_partner_web(a, b, 0);
}

static int partway(void *ctx)
{
    long n = h_count_events(ctx);
    return n > KEY_EVENTS && n < TOTAL;
}

static int complete(void *ctx)
{
    return h_count_events(ctx) == TOTAL + KEY_EVENTS;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls b's status until it holds `want` events, like h_wait(complete) but
 * with each poll allowed to wait as long as the CLI's, to measure the
 * wait: every poll during the catch-up is answered, nearly all within
 * STATUS_WAIT_MS (how many saw it partway is printed: plain, a batch is
 * stored in well under SYNC_SLICE_MS, and few polls fall inside it). */
static void catch_up_answering(const hnode_t *b, long want)
{
    long long end = mono_ms() + 120000, longest = 0;
    long n = -1;
    int partway_seen = 0, unanswered = 0, polls = 0, slow = 0;
    while (n != want && mono_ms() < end) {
        json_t *req = json_pack("{s:s}", "cmd", "status"), *r = NULL;
        long long t = mono_ms();
        control_request(b->home, req, &r, CONTROL_TIMEOUT_MS);
        long long took = mono_ms() - t;
        polls++;
        slow += took >= STATUS_WAIT_MS;
        json_decref(req);
        if (r)
            n = (long)json_integer_value(json_object_get(r, "events"));
        unanswered += r == NULL;
        longest = took > longest ? took : longest;
        partway_seen += r && n > KEY_EVENTS && n < want;
        json_decref(r);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "during the catch-up: %d status polls, %d answers partway, %d unanswered, "
                    "%d waited %d ms or more, longest wait %lld ms\n", polls, partway_seen,
            unanswered, slow, STATUS_WAIT_MS, longest);
    assert_int_equal(n, want);
    assert_int_equal(unanswered, 0);
    assert_true(slow * STATUS_SLOW_1_IN < polls);
}

struct counted {
    const hnode_t *n;
    long want;
};

static int holds_items(void *ctx)
{
    const struct counted *c = ctx;
    return h_count_items(c->n) == c->want;
}

/* A publish sent to b while it stores a long catch-up (the daemon holds a
 * writing command back while it answers reads between the store's slices,
 * then runs it in the loop) is answered within the CLI's wait. */
static void publish_partway(const hnode_t *b)
{
    char *out = NULL;
    assert_int_equal(h_lernet(b, &out, "publish workshop --network nordic-wbl "
                                       "--title 'da:Erfaringsudveksling om praktik' "
                                       "--start 2027-03-01T09:00 --end 2027-03-01T12:00 "
                                       "--place 'Køge Handelsskole'"),
                     0);
    assert_non_null(strstr(out, "published"));
    free(out);
    fprintf(stderr, "B held %ld of %d events after its publish was answered\n",
            h_count_events(b), TOTAL);
}

struct moved {
    hnode_t *n;
    long past; /* events it held when it was last killed */
};

/* It holds more than before, or everything there is. */
static int moved_on(void *ctx)
{
    const struct moved *m = ctx;
    long n = h_count_events(m->n);
    return n > m->past || n == TOTAL + KEY_EVENTS;
}

/* B publishes in the middle of its catch-up and is killed right after the
 * answer: what it committed survives whole (its own workshop with it);
 * restarted, it resumes where it stopped, answers status all the while,
 * and both end with A's events and B's own: B's workshop was pushed on
 * after its commit. One catch-up for the three, to keep the file's time
 * under ASan down. */
static void test_kill_mid_catch_up(void **state)
{
    (void)state;
    hnode_t A, B;
    sender_and_partner(&A, &B);
    assert_int_equal(h_node_start(&B), 0);

    assert_true(h_wait(partway, &B, H_DEADLINE_MS));
    publish_partway(&B);
    h_node_kill(&B);
    /* what B committed before the kill survives whole */
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    long had = h_count_items(&B) - 1; /* A's workshops only */
    fprintf(stderr, "B had %ld of %d events when killed\n", had, TOTAL);
    assert_true(had > 0 && had < TOTAL);
    char *list = NULL;
    assert_int_equal(h_lernet(&B, &list, "list --json"), 0);
    assert_non_null(strstr(list, "Erfaringsudveksling om praktik")); /* its own, committed */
    free(list);

    assert_int_equal(h_node_start(&B), 0);
    catch_up_answering(&B, TOTAL + KEY_EVENTS + 1);
    /* it resumed: what it had committed was not downloaded again */
    json_t *st = h_control(&B, "status");
    long long received = json_integer_value(json_object_get(st, "events_received"));
    json_decref(st);
    fprintf(stderr, "after restart B received %lld events for the %ld it lacked\n", received,
            TOTAL - had);
    assert_true(received >= (long long)(TOTAL - had));
    assert_true(received <= (long long)(TOTAL - had) + 1000); /* at most one batch again */
    struct counted a = {&A, TOTAL + 1};
    assert_true(h_wait(holds_items, &a, H_DEADLINE_MS));
    assert_int_equal(h_node_stop(&B), 0);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    assert_int_equal(h_count_items(&B), TOTAL + 1);
    /* exactly the same events on both: same ids, none twice */
    char *la = NULL, *lb = NULL;
    assert_int_equal(h_lernet(&A, &la, "log | grep -v @keys | cut -c1-64 | sort"), 0);
    assert_int_equal(h_lernet(&B, &lb, "log | grep -v @keys | cut -c1-64 | sort"), 0);
    assert_string_equal(la, lb);
    free(la);
    free(lb);
    h_node_free(&A);
    h_node_free(&B);
}

static int up_and_running(void *ctx)
{
    return h_count_events(ctx) >= 0;
}

/* SIGKILL at random moments of a catch-up, LERNET_KILLS times (default 5;
 * docs/reliability.md gives the 50-kill figures): after every kill the
 * store passes `lernet verify` (SQLite integrity_check, every signature and
 * chain); at the end B holds exactly A's events. */
static void test_many_kills(void **state)
{
    (void)state;
    hnode_t A, B;
    const char *env = getenv("LERNET_KILLS");
    int kills = env ? atoi(env) : 5, done = 0;
    long last = 0;
    sender_and_partner(&A, &B);
    for (int i = 0; i < kills; i++) {
        assert_int_equal(h_node_start(&B), 0);
        /* the kill lands at a random point of the transfer once it is under
         * way again, past i of `kills` equal shares of all but its last
         * batch (a kill after that could find it complete): a fixed
         * delay from start fell before the first batch under ASan, and
         * every kill then hit an idle node; and since a batch is stored in
         * slices (SYNC_SLICE_MS), "moved on" alone came within the first
         * few hundred events every time */
        long share = KEY_EVENTS + (long)i * (TOTAL - 4000) / kills; /* 4000: a batch */
        struct moved mv = {&B, last > share ? last : share};
        assert_true(h_wait(moved_on, &mv, 120000));
        struct timespec ts = {0, (long)randombytes_uniform(30) * 1000000};
        nanosleep(&ts, NULL);
        h_node_kill(&B);
        assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
        store_t *st = NULL;
        char path[600];
        snprintf(path, sizeof path, "%s/store.db", B.home);
        assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
        store_stats_t ss;
        assert_int_equal(store_stats(st, &ss), STORE_OK);
        store_close(&st);
        assert_true((long)ss.events >= last); /* what was committed stays */
        last = (long)ss.events;
        fprintf(stderr, "kill %d: B had %ld events\n", i + 1, last);
        done++;
    }
    assert_int_equal(h_node_start(&B), 0);
    assert_true(h_wait(up_and_running, &B, H_DEADLINE_MS));
    assert_true(h_wait(complete, &B, 120000));
    assert_int_equal(h_node_stop(&B), 0);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    char *la = NULL, *lb = NULL;
    assert_int_equal(h_lernet(&A, &la, "log | grep -v @keys | cut -c1-64 | sort"), 0);
    assert_int_equal(h_lernet(&B, &lb, "log | grep -v @keys | cut -c1-64 | sort"), 0);
    assert_string_equal(la, lb);
    fprintf(stderr, "survived %d kills: every store verified, %ld events at the last kill, "
                    "exactly the sender's %d at the end\n",
            done, last, TOTAL);
    free(la);
    free(lb);
    h_node_free(&A);
    h_node_free(&B);
}

/* ---- the web page during a catch-up ------------------------------------ */

/* One HTTP request on its own connection (Connection: close): sent at
 * sent_ms, its whole reply read once the server closes. */
typedef struct web_ask {
    int fd;
    long long sent_ms, took_ms; /* took_ms: -1 until the reply is in */
    char *text;
    size_t len, cap;
} web_ask_t;

static int web_send(web_ask_t *q, int port, const char *method, const char *path,
                    const char *headers, const char *body)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char *req = NULL;
    int n = body ? asprintf(&req,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                            "Content-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            method, path, port, headers, strlen(body), body)
                 : asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                                  "\r\n",
                            method, path, port);
    *q = (web_ask_t){.fd = socket(AF_INET, SOCK_STREAM, 0), .took_ms = -1};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    q->sent_ms = mono_ms();
    int ok = n > 0 && q->fd >= 0 && connect(q->fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
             send(q->fd, req, (size_t)n, MSG_NOSIGNAL) == n;
    free(req);
    return ok ? 0 : -1;
}

/* Reads what is there; 1 once the reply is whole (the server closed). */
static int web_read(web_ask_t *q)
{
    char *grown = q->len + 4096 > q->cap ? realloc(q->text, q->cap = 2 * q->cap + 8192)
                                         : q->text;
    assert_non_null(grown);
    q->text = grown;
    ssize_t n = recv(q->fd, q->text + q->len, q->cap - q->len - 1, MSG_DONTWAIT);
    if (n > 0) {
        q->len += (size_t)n;
        q->text[q->len] = '\0';
        return 0;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    q->took_ms = mono_ms() - q->sent_ms;
    close(q->fd);
    q->fd = -1;
    return 1;
}

/* Reads whatever of q's reply has come, without waiting. */
static void web_drain(web_ask_t *q)
{
    for (struct pollfd pf = {q->fd, POLLIN, 0};
         q->fd >= 0 && poll(&pf, 1, 0) == 1 && !web_read(q);)
        ;
}

static int web_status(const web_ask_t *q)
{
    int st = -1;
    return q->text && sscanf(q->text, "HTTP/1.%*d %d", &st) == 1 ? st : -1;
}

/* A metric's value in a /metrics reply, or -1. */
static long long metric_of(const web_ask_t *q, const char *name)
{
    char want[80];
    snprintf(want, sizeof want, "\n%s ", name);
    const char *p = q->text ? strstr(q->text, want) : NULL;
    return p ? atoll(p + strlen(want)) : -1;
}

#define WEB_ROUND 10 /* requests sent at once each poll: more than a call answers between */
#define WEB_TITLE "Praktikpladsmesse for erhvervsuddannelser"

/* The fields of B's workshop form, less its CSRF token. */
static const char *const WEB_FIELDS =
    "network=nordic-wbl&lang_1=da&title_1=Praktikpladsmesse+for+erhvervsuddannelser"
    "&lang_2=&title_2=&start=2027-03-08T09%3A00&end=2027-03-08T13%3A00"
    "&tz=Europe%2FCopenhagen&place=K%C3%B8ge+Handelsskole";

/* The CSRF token of B's form at path (per daemon run). */
static char *web_csrf_at(int port, const char *path)
{
    web_ask_t q;
    assert_int_equal(web_send(&q, port, "GET", path, NULL, NULL), 0);
    while (!web_read(&q)) {
        struct pollfd pf = {q.fd, POLLIN, 0};
        poll(&pf, 1, 10000);
    }
    const char *p = q.text ? strstr(q.text, "name=\"csrf\" value=\"") : NULL;
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    char *tok = strndup(p, strcspn(p, "\""));
    free(q.text);
    return tok;
}

/* How many of A's events (its key log's too: they come in A's first
 * batch) b stored before its own one event in nordic-wbl (rowids follow
 * the order of storing). */
static long long a_events_before_own(const hnode_t *b)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM events a WHERE a.author <> w.author "
        "AND a.rowid < w.rowid) FROM events w "
        "WHERE w.network = 'nordic-wbl' AND w.author IN (SELECT author FROM events "
        "WHERE network = 'nordic-wbl' GROUP BY author HAVING count(*) = 1)";
    char path[600];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    snprintf(path, sizeof path, "%s/store.db", b->home);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* What the pages showed during the catch-up. */
typedef struct web_seen {
    int polls, unanswered, slow;
    int mid_store, mid_check; /* answered between two slices of a store, while verifying */
    int mid_now;              /* the last round saw the middle of a batch */
    long long longest, total_ms;
    long long stored; /* B's events, from the last /metrics */
} web_seen_t;

/* WEB_ROUND pages asked at once (/metrics and /health: cheap pages, so
 * that the wait measured is the daemon's, not a page's own cost; the
 * calendar of 20,000 items takes 0.4 s plain), read as they come, and
 * whatever of post's answer comes meanwhile. A /metrics answer whose
 * count of events received is not a whole number of batches was given
 * between two slices of a store: sync counts an event received as it
 * stores it, and A's catch-up comes in batches of exactly
 * SYNC_BATCH_EVENTS (one log, no erasures: nothing extra), so the loop
 * itself only ever sees whole ones. The same for signatures verified
 * (every one is, in this unlinked log): one answered while the loop's
 * thread helped verify a batch. */
static void web_round(int port, web_seen_t *w, web_ask_t *post)
{
    static const char *const paths[WEB_ROUND] = {"/metrics", "/health", "/metrics", "/health",
                                                 "/metrics", "/health", "/metrics", "/health",
                                                 "/metrics", "/health"};
    web_ask_t q[WEB_ROUND];
    int open = 0;
    w->mid_now = 0;
    for (int i = 0; i < WEB_ROUND; i++) {
        if (web_send(&q[i], port, "GET", paths[i], NULL, NULL) == 0)
            open++;
        else
            q[i].took_ms = -2;
    }
    long long end = mono_ms() + CONTROL_TIMEOUT_MS;
    while (open > 0 && mono_ms() < end) {
        struct pollfd pf[WEB_ROUND];
        for (int i = 0; i < WEB_ROUND; i++)
            pf[i] = (struct pollfd){q[i].fd, POLLIN, 0};
        poll(pf, WEB_ROUND, 20);
        for (int i = 0; i < WEB_ROUND; i++)
            if (q[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) && web_read(&q[i]))
                open--;
        web_drain(post);
    }
    for (int i = 0; i < WEB_ROUND; i++) {
        if (q[i].fd >= 0)
            close(q[i].fd);
        int ok = q[i].took_ms >= 0 && web_status(&q[i]) == 200;
        w->polls++;
        w->unanswered += !ok;
        w->slow += ok && q[i].took_ms >= STATUS_WAIT_MS;
        w->longest = ok && q[i].took_ms > w->longest ? q[i].took_ms : w->longest;
        w->total_ms += ok ? q[i].took_ms : 0;
        if (ok && strcmp(paths[i], "/metrics") == 0) {
            long long received = metric_of(&q[i], "lernet_events_received_total");
            /* verifying is the long part of checking (parsing comes first,
             * for the whole batch, and is quick) */
            long long checked = metric_of(&q[i], "lernet_signatures_verified_total");
            int store = received > 0 && received < TOTAL && received % SYNC_BATCH_EVENTS != 0;
            int check = checked > 0 && checked < TOTAL && checked % SYNC_BATCH_EVENTS != 0;
            w->stored = metric_of(&q[i], "lernet_events_stored");
            w->mid_now |= store || check;
            w->mid_store += store;
            w->mid_check += check && !store;
        }
        free(q[i].text);
    }
}

/* B's web page while it stores a 20,000-event catch-up: the pages that
 * only read are answered between the slices of the store (every one,
 * nearly all within STATUS_WAIT_MS, some in the middle of a batch), and a
 * workshop posted from the form partway waits, received whole, until the
 * store of the batch is over: then it is answered, stored, and the
 * catch-up ends whole. Before, the page waited for the whole batch. */
static void test_web_mid_catch_up(void **state)
{
    (void)state;
    hnode_t A, B;
    web_seen_t w = {0};
    web_ask_t post = {.fd = -1, .took_ms = -1};
    long long post_sent_at = -1, post_done_at = -1, end = mono_ms() + 120000;
    char body[1024];
    sender_and_partner_web(&A, &B, 1);
    assert_int_equal(h_node_start(&B), 0);
    char *csrf = web_csrf_at(B.web_port, "/publish/workshop");
    snprintf(body, sizeof body, "csrf=%s&%s", csrf, WEB_FIELDS);
    free(csrf);
    /* the sender only now: the catch-up (about a second plain) begins
     * while the rounds below already run, not while the form was fetched */
    assert_int_equal(h_node_start(&A), 0);
    while (w.stored != TOTAL + KEY_EVENTS + (post_sent_at >= 0) && mono_ms() < end) {
        web_round(B.web_port, &w, &post);
        /* into the middle of a batch (the next comes as soon as this one
         * is stored, so a POST now is very likely to find one under way);
         * partway at least, where no page is answered mid-batch */
        if (post_sent_at < 0 && w.stored < TOTAL &&
            (w.mid_now || (w.stored > KEY_EVENTS && w.stored < TOTAL / 2))) {
            assert_int_equal(web_send(&post, B.web_port, "POST", "/publish/workshop",
                                      "Sec-Fetch-Site: same-origin\r\n", body),
                             0);
            post_sent_at = w.stored;
        }
        web_drain(&post);
        if (post.took_ms >= 0 && post_done_at < 0)
            post_done_at = w.stored;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    for (long long until = mono_ms() + CONTROL_TIMEOUT_MS; /* its answer, once stored */
         post.fd >= 0 && mono_ms() < until;) {
        struct pollfd pf = {post.fd, POLLIN, 0};
        poll(&pf, 1, 100);
        web_drain(&post);
    }
    fprintf(stderr, "during the catch-up: %d page requests (%d at once), %d unanswered, "
                    "answered in the middle of a batch: %d of its store, %d more of its "
                    "check; %d waited %d ms or more, mean wait %lld ms, longest %lld ms\n",
            w.polls, WEB_ROUND, w.unanswered, w.mid_store, w.mid_check, w.slow, STATUS_WAIT_MS,
            w.polls ? w.total_ms / w.polls : 0, w.longest);
    fprintf(stderr, "the form's workshop: posted with %lld of %d events stored, answered "
                    "after %lld ms (%lld stored by the next look)\n",
            post_sent_at, TOTAL, post.took_ms, post_done_at);
    assert_int_equal(w.unanswered, 0);
    assert_true(w.slow * STATUS_SLOW_1_IN < w.polls);
    assert_true(w.mid_store + w.mid_check > 0);
    assert_true(post_sent_at >= 0);
    assert_int_equal(w.stored, TOTAL + KEY_EVENTS + 1);
    assert_true(post.took_ms >= 0);
    assert_int_equal(web_status(&post), 303);
    assert_non_null(strstr(post.text, "Location: /event/"));
    free(post.text);
    assert_int_equal(h_node_stop(&B), 0);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    assert_int_equal(h_count_items(&B), TOTAL + 1);
    char *list = NULL;
    assert_int_equal(h_lernet(&B, &list, "list --json"), 0);
    assert_non_null(strstr(list, WEB_TITLE));
    free(list);
    /* published from the loop, not between two slices of a store */
    long long before = a_events_before_own(&B);
    fprintf(stderr, "the form's workshop was stored after %lld of A's events\n", before);
    assert_int_equal(before % SYNC_BATCH_EVENTS, 0);
    h_node_free(&A);
    h_node_free(&B);
}

/* ---- a flood of pages, posts held and dropped, during a catch-up --------- */

#define FLOOD_CONNS 24 /* keep-alive connections, each with FLOOD_PIPE requests in flight */
#define FLOOD_PIPE 4

/* A child that keeps FLOOD_CONNS connections to port busy with pipelined
 * GET /health until stop_fd's other end closes; then writes how many
 * answers it read to count_fd and exits. */
static void flood(int port, int stop_fd, int count_fd)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct pollfd pf[FLOOD_CONNS + 1];
    int inflight[FLOOD_CONNS] = {0};
    long answers = 0;
    char req[128], buf[16384];
    int rl = snprintf(req, sizeof req, "GET /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < FLOOD_CONNS; i++)
        pf[i] = (struct pollfd){-1, POLLIN, 0};
    pf[FLOOD_CONNS] = (struct pollfd){stop_fd, POLLIN, 0};
    for (;;) {
        for (int i = 0; i < FLOOD_CONNS; i++) {
            if (pf[i].fd < 0) {
                pf[i].fd = socket(AF_INET, SOCK_STREAM, 0);
                inflight[i] = 0;
                if (connect(pf[i].fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
                    close(pf[i].fd);
                    pf[i].fd = -1;
                    continue;
                }
            }
            for (; inflight[i] < FLOOD_PIPE; inflight[i]++)
                if (send(pf[i].fd, req, (size_t)rl, MSG_NOSIGNAL | MSG_DONTWAIT) != rl)
                    break;
        }
        if (poll(pf, FLOOD_CONNS + 1, 100) < 0)
            break;
        if (pf[FLOOD_CONNS].revents)
            break;
        for (int i = 0; i < FLOOD_CONNS; i++) {
            if (pf[i].fd < 0 || !pf[i].revents)
                continue;
            ssize_t n = recv(pf[i].fd, buf, sizeof buf - 1, MSG_DONTWAIT);
            if (n <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                continue;
            }
            buf[n] = '\0';
            for (const char *p = buf; (p = strstr(p, "HTTP/1.1 ")); p++) {
                answers++;
                inflight[i] -= inflight[i] > 0;
            }
        }
    }
    (void)!write(count_fd, &answers, sizeof answers);
    _exit(0);
}

typedef struct flooder {
    pid_t pid;
    int stop_fd, count_fd;
} flooder_t;

static flooder_t flood_start(int port)
{
    int stop[2], count[2];
    /* close-on-exec: the daemons started after must not keep stop open */
    assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
    assert_int_equal(pipe2(count, O_CLOEXEC), 0);
    flooder_t f = {fork(), stop[1], count[0]};
    assert_true(f.pid >= 0);
    if (f.pid == 0) {
        close(stop[1]);
        close(count[0]);
        flood(port, stop[0], count[1]);
    }
    close(stop[0]);
    close(count[1]);
    return f;
}

static long flood_stop(flooder_t *f)
{
    long answers = -1;
    close(f->stop_fd);
    if (read(f->count_fd, &answers, sizeof answers) != (ssize_t)sizeof answers)
        answers = -1;
    close(f->count_fd);
    waitpid(f->pid, NULL, 0);
    return answers;
}

/* A fresh copy of A and a B with its web page (extra: more of B's [node]
 * lines), B started: how long its catch-up takes to the end. */
static long long catch_up_ms(hnode_t *a, hnode_t *b, const char *extra, flooder_t *fl)
{
    assert_int_equal(h_node_clone(a, &filled), 0);
    assert_int_equal(h_node_init(b, "Køge Handelsskole", "DK", "nordic-wbl"), 0);
    b->web_port = h_free_port();
    snprintf(b->node_extra, sizeof b->node_extra, "%s", extra ? extra : "");
    h_link(a, b, "nordic-wbl");
    assert_int_equal(h_node_write_config(a), 0);
    assert_int_equal(h_node_write_config(b), 0);
    assert_int_equal(h_node_start(b), 0);
    if (fl)
        *fl = flood_start(b->web_port);
    long long t0 = mono_ms();
    assert_int_equal(h_node_start(a), 0);
    return t0;
}

/* A multipart POST of the resource form with a file of `size` bytes,
 * sent by curl in the background: its output (HTTP code) read at pclose. */
static FILE *upload_start(const hnode_t *b, const char *csrf, const char *file, long size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "head -c %ld /dev/urandom > '%s'", size, file);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "curl -s -o /dev/null -w '%%{http_code}' --max-time 60 "
             "-H 'Origin: http://127.0.0.1:%d' -F 'csrf=%s' -F network=nordic-wbl "
             "-F lang_1=da -F 'title_1=Optagelse: praktik i detailhandlen' -F type=recording "
             "-F 'attachment=@%s' http://127.0.0.1:%d/publish/resource",
             b->web_port, csrf, file, b->web_port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    return p;
}

static int upload_end(FILE *p)
{
    int code = -1;
    if (fscanf(p, "%d", &code) != 1)
        code = -1;
    pclose(p);
    return code;
}

/* Entries in b's attachments/ other than chunk lists (.leaves). */
static int attachments_held(const hnode_t *b)
{
    char dir[700];
    int n = 0;
    snprintf(dir, sizeof dir, "%s/attachments", b->home);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' && !strstr(e->d_name, ".leaves");
    if (d)
        closedir(d);
    return n;
}

static int past_complete(void *ctx)
{
    return h_count_events(ctx) > TOTAL + KEY_EVENTS;
}

static int partway_a_lot(void *ctx)
{
    long n = h_count_events(ctx);
    return n > TOTAL / 5 && n < TOTAL;
}

/* A client floods B's page with pipelined GETs on FLOOD_CONNS keep-alive
 * connections through the whole catch-up: the catch-up still ends, within
 * twice its time without the flood and 3 s (the page has at most about
 * half of a long store's time, web_run_between). Meanwhile a workshop
 * posted and dropped by its client before it is answered leaves nothing
 * half (stored whole or not at all), a resource form with a 64 KiB file
 * is answered 303 and stored with its file, one with a file above B's
 * attachment_max_mib is refused, its temporary file gone. Then a third B
 * is stopped (SIGTERM) with a workshop posted in the middle of its
 * catch-up, likely held: it exits 0, verifies, and holds that workshop
 * whole or not at all (the loop answers a held post in the turn of the
 * store that held it, before it looks at the signal: so it is answered,
 * and then stored). The flood's /health calls the daemon's status and
 * peers commands between the slices (anytime): sync's state read in the
 * middle of a store. Under ASan: no leak, no error. */
static void test_web_flood_mid_catch_up(void **state)
{
    (void)state;
    hnode_t A, B;
    flooder_t fl;
    char body[1024], file[700];
    /* without a flood */
    long long t0 = catch_up_ms(&A, &B, NULL, NULL);
    assert_true(h_wait(complete, &B, 120000));
    long long base = mono_ms() - t0;
    h_node_free(&A);
    h_node_free(&B);
    /* with one, and the posts */
    t0 = catch_up_ms(&A, &B, "attachment_max_mib = 1\n", &fl);
    char *csrf = web_csrf_at(B.web_port, "/publish/workshop");
    char *rcsrf = web_csrf_at(B.web_port, "/publish/resource");
    assert_true(h_wait(partway_a_lot, &B, 60000));
    web_ask_t dropped;
    snprintf(body, sizeof body, "csrf=%s&%s", csrf, WEB_FIELDS);
    assert_int_equal(web_send(&dropped, B.web_port, "POST", "/publish/workshop",
                              "Sec-Fetch-Site: same-origin\r\n", body),
                     0);
    close(dropped.fd); /* gone before any answer */
    snprintf(file, sizeof file, "%s/small.bin", B.home);
    FILE *ok = upload_start(&B, rcsrf, file, 64 * 1024);
    snprintf(file, sizeof file, "%s/large.bin", B.home);
    FILE *big = upload_start(&B, rcsrf, file, 2 * 1024 * 1024);
    int ok_code = upload_end(ok), big_code = upload_end(big);
    long stored_at_uploads = h_count_events(&B);
    /* A's events and the resource (answered already), the dropped workshop maybe */
    assert_true(h_wait(past_complete, &B, 120000));
    long long flooded = mono_ms() - t0;
    long answers = flood_stop(&fl);
    fprintf(stderr, "catch-up of %d events: %lld ms alone, %lld ms under a flood of %d "
                    "keep-alive connections (%ld pages answered); uploads answered %d and %d "
                    "with %ld events stored\n",
            TOTAL, base, flooded, FLOOD_CONNS, answers, ok_code, big_code, stored_at_uploads);
    assert_true(answers > 0);
    assert_true(flooded <= 2 * base + 3000);
    assert_int_equal(ok_code, 303);
    assert_true(big_code == 413 || big_code == 422);
    assert_int_equal(h_node_stop(&B), 0);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    char *list = NULL;
    assert_int_equal(h_lernet(&B, &list, "list --json"), 0);
    assert_non_null(strstr(list, "Optagelse: praktik i detailhandlen"));
    int workshops = 0;
    for (const char *p = list; (p = strstr(p, WEB_TITLE)); p++)
        workshops++;
    fprintf(stderr, "the dropped post's workshop: stored %d time(s)\n", workshops);
    assert_true(workshops <= 1);
    free(list);
    assert_int_equal(attachments_held(&B), 1); /* the small file; no temporary one */
    free(csrf);
    free(rcsrf);
    h_node_free(&A);
    h_node_free(&B);
    /* SIGTERM with a post (likely) held */
    catch_up_ms(&A, &B, NULL, NULL);
    csrf = web_csrf_at(B.web_port, "/publish/workshop");
    assert_true(h_wait(partway_a_lot, &B, 60000));
    web_ask_t held;
    snprintf(body, sizeof body, "csrf=%s&%s", csrf, WEB_FIELDS);
    assert_int_equal(web_send(&held, B.web_port, "POST", "/publish/workshop",
                              "Sec-Fetch-Site: same-origin\r\n", body),
                     0);
    assert_int_equal(h_node_stop(&B), 0);
    web_drain(&held);
    fprintf(stderr, "the post held at SIGTERM: answered %d\n", web_status(&held));
    if (held.fd >= 0)
        close(held.fd);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    list = NULL;
    assert_int_equal(h_lernet(&B, &list, "list --json"), 0);
    workshops = 0;
    for (const char *p = list; (p = strstr(p, WEB_TITLE)); p++)
        workshops++;
    assert_true(workshops <= 1);
    if (web_status(&held) == 303) /* answered: then stored before the daemon stopped */
        assert_int_equal(workshops, 1);
    free(held.text);
    free(list);
    free(csrf);
    h_node_free(&A);
    h_node_free(&B);
}

int main(void)
{
    keys_init();
    if (getenv("LERNET_TEST_ONLY")) /* one test by name, when a change touches only it */
        cmocka_set_test_filter(getenv("LERNET_TEST_ONLY"));
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_mid_catch_up),
                                       cmocka_unit_test(test_many_kills),
                                       cmocka_unit_test(test_web_mid_catch_up),
                                       cmocka_unit_test(test_web_flood_mid_catch_up)};
    return cmocka_run_group_tests(tests, fill_once, drop_fill);
}
