/*
 * test_net_star: a regional hub and STAR schools that dial it, every one
 * a real daemon: the schools have no listen address and the hub lists
 * each without an endpoint. Every node published a workshop before its
 * daemon started; then every node converges on every event (each
 * school's reaches the others only through the hub), and the hub says it
 * is in sync with each school. The daemons are kept light (no web page,
 * 1 s rounds, info logs). Under AddressSanitizer every daemon is several
 * times slower and larger, so the star is smaller there.
 *
 * Also: a coordinator admits more members than its partner tables first
 * hold (they grow; members are not limited by lernet.ini), each dialling
 * it as a lying partner would, and every one is served, the first as well
 * as the last.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/harness.h"
#include "harness/harness_liar.h"

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define STAR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang */
#define STAR_ASAN 1
#endif
#endif
#ifdef STAR_ASAN
#define STAR 30
#else
#define STAR 100
#endif
#define NET "malardalen-skills"

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *towns[] = {"Östhammar", "Tierp", "Sala", "Enköping", "Heby", "Knivsta",
                              "Älvkarleby", "Håbo", "Norberg", "Fagersta", "Arboga", "Köping"};

typedef struct star {
    hnode_t *hub, *schools; /* schools[STAR] */
    long total;             /* events every node must end with */
} star_t;

typedef struct up_q {
    hnode_t *nodes;
    size_t n;
} up_q_t;

static int all_up(void *ctx)
{
    up_q_t *q = ctx;
    for (size_t i = 0; i < q->n; i++)
        if (!h_node_up(&q->nodes[i]))
            return 0;
    return 1;
}

/* Every node holds every event. */
static int converged(void *ctx)
{
    star_t *w = ctx;
    if (h_count_events(w->hub) != w->total)
        return 0;
    for (size_t i = 0; i < STAR; i++)
        if (h_count_events(&w->schools[i]) != w->total)
            return 0;
    return 1;
}

/* The hub says it is in sync with every school, nothing lacking. */
static int hub_in_sync(void *ctx)
{
    star_t *w = ctx;
    json_t *r = h_control(w->hub, "peers"), *p;
    size_t i, ok = 0;
    json_array_foreach(json_object_get(r, "peers"), i, p)
        ok += json_is_true(json_object_get(p, "in_sync")) &&
              json_is_integer(json_object_get(p, "they_lack")) &&
              json_integer_value(json_object_get(p, "they_lack")) == 0 &&
              json_integer_value(json_object_get(p, "we_lack")) == 0 &&
              strcmp(json_string_value(json_object_get(p, "dials")), "they") == 0;
    json_decref(r);
    return ok == STAR;
}

/* Events in a node's store, read while no daemon runs (lernet log --json:
 * one JSON object a line). */
static long stored_events(const hnode_t *n)
{
    char *out = NULL;
    long count = -1;
    if (h_lernet(n, &out, "log --json") == 0 && out) {
        count = 0;
        for (const char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
            count += *l == '{';
    }
    free(out);
    return count;
}

/* The star of the running test: teardown stops and frees it, whether the
 * test passed or failed, so that no daemon outlives it. */
static star_t star;

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; star.schools && i < STAR; i++) /* all at once: each stops in its own time */
        if (star.schools[i].pid > 0)
            kill(star.schools[i].pid, SIGTERM);
    if (star.hub && star.hub->home)
        h_node_free(star.hub);
    for (size_t i = 0; star.schools && i < STAR; i++)
        if (star.schools[i].home)
            h_node_free(&star.schools[i]);
    free(star.hub);
    free(star.schools);
    memset(&star, 0, sizeof star);
    return 0;
}

static void test_star_converges(void **state)
{
    (void)state;
    star.hub = calloc(1, sizeof(hnode_t));
    star.schools = calloc(STAR, sizeof(hnode_t));
    assert_non_null(star.hub);
    assert_non_null(star.schools);
    assert_int_equal(h_node_init(star.hub, "Region Uppsala", "SE", NET), 0);
    for (size_t i = 0; i < STAR; i++) {
        char name[96];
        snprintf(name, sizeof name, "Lärcentrum %s %zu", towns[i % 12], i / 12 + 1);
        assert_int_equal(h_node_init(&star.schools[i], name, "SE", NET), 0);
        h_link_dialing(&star.schools[i], star.hub, NET);
    }
    hnode_t *all[STAR + 1];
    all[0] = star.hub;
    for (size_t i = 0; i < STAR; i++)
        all[i + 1] = &star.schools[i];
    for (size_t i = 0; i <= STAR; i++) {
        all[i]->sync_interval_ms = 1000;
        snprintf(all[i]->log_level, sizeof all[i]->log_level, "info");
        assert_int_equal(h_node_write_config(all[i]), 0);
    }
    long long t0 = mono_ms();
    /* every node publishes before its daemon runs (the hub's events, and
     * so its key logs, are in the network too) */
    assert_int_equal(h_publish_workshop(star.hub, "Regionalt nätverksmöte", NET), 0);
    star.total += stored_events(star.hub);
    for (size_t i = 0; i < STAR; i++) {
        char title[128];
        snprintf(title, sizeof title, "Validering på arbetsplatsen, omgång %zu", i + 1);
        assert_int_equal(h_publish_workshop(&star.schools[i], title, NET), 0);
        star.total += stored_events(&star.schools[i]);
    }
    /* the hub, then the schools dialling it as they come up */
    assert_int_equal(h_node_start(star.hub), 0);
    long long t1 = mono_ms();
    for (size_t i = 0; i < STAR; i++)
        assert_int_equal(h_node_spawn(&star.schools[i]), 0);
    up_q_t q = {star.schools, STAR};
    assert_true(h_wait(all_up, &q, 60000));
    if (!h_wait(converged, &star, 120000)) {
        for (size_t i = 0; i <= STAR; i++)
            fprintf(stderr, "%s (%s): %ld of %ld events\n", all[i]->name, all[i]->home,
                    h_count_events(all[i]), star.total);
        fail();
    }
    long long t2 = mono_ms();
    assert_true(h_wait(hub_in_sync, &star, 60000));
    fprintf(stderr,
            "star of %d schools: set up in %lld ms, converged on %ld events %lld ms after the "
            "daemons began to start, the hub in sync with all after %lld ms more\n",
            STAR, t1 - t0, star.total, t2 - t1, mono_ms() - t2);
    /* nothing was refused on the way */
    json_t *st = h_control(star.hub, "status");
    assert_int_equal(json_object_size(json_object_get(st, "refused")), 0);
    json_decref(st);
}

/* Issue 16 item 2: a coordinator's members need no [peer] section and
 * are not limited by the file: each is admitted when it dials, and the
 * tables grow (from 16) while earlier members stay connected and served.
 * Before, the 257th partner in all was refused ("this node has 256
 * partners already"). */
#define MEMBERS 40
static void test_members_beyond_tables(void **state)
{
    (void)state;
    hnode_t *hub = calloc(1, sizeof *hub), *m = calloc(MEMBERS, sizeof *m);
    liar_t *l[MEMBERS] = {0};
    char *out = NULL;
    assert_non_null(hub);
    assert_non_null(m);
    assert_int_equal(h_node_init(hub, "Region Uppsala", "SE", NET), 0);
    hub->sync_interval_ms = 1000;
    snprintf(hub->log_level, sizeof hub->log_level, "info");
    assert_int_equal(h_node_write_config(hub), 0);
    assert_int_equal(h_lernet(hub, &out, "network create %s", NET), 0);
    free(out);
    for (size_t i = 0; i < MEMBERS; i++) {
        char name[96];
        snprintf(name, sizeof name, "Lärcentrum %s %zu", towns[i % 12], i / 12 + 1);
        assert_int_equal(h_node_init(&m[i], name, "SE", NET), 0);
        char *inv = h_invite(hub, &m[i], NET, name);
        assert_non_null(inv);
        free(inv);
    }
    assert_int_equal(h_publish_workshop(hub, "Regionalt nätverksmöte", NET), 0);
    event_t *first = liar_event_at(hub, NULL, NET, 1);
    assert_non_null(first);
    uint8_t author[KEYS_PUBLIC_BYTES];
    memcpy(author, first->author, sizeof author);
    event_free(&first);
    assert_int_equal(h_node_start(hub), 0);
    for (size_t i = 0; i < MEMBERS; i++) {
        assert_int_equal(liar_open(&l[i], &m[i]), 0);
        if (liar_dial(l[i], hub) != 0)
            fail_msg("member %zu of %d was not admitted", i + 1, MEMBERS);
    }
    /* the first admitted and the last are both served the whole log */
    long got0 = liar_want(l[0], author, NET, 1, 1000);
    long got1 = liar_want(l[MEMBERS - 1], author, NET, 1, 1000);
    json_t *st = h_control(hub, "status");
    fprintf(stderr, "%d members admitted by dialling: %lld partners, %lld bytes each, %lld a "
                    "session; the coordinator's log served whole to the first (%ld events) "
                    "and the last (%ld)\n", MEMBERS,
            (long long)json_integer_value(json_object_get(st, "partners")),
            (long long)json_integer_value(json_object_get(st, "bytes_per_partner")),
            (long long)json_integer_value(json_object_get(st, "bytes_per_session")),
            got0, got1);
    assert_int_equal(json_integer_value(json_object_get(st, "partners")), MEMBERS);
    assert_true(json_integer_value(json_object_get(st, "bytes_per_partner")) > 0);
    assert_true(json_integer_value(json_object_get(st, "bytes_per_partner")) < 64 * 1024);
    json_decref(st);
    assert_true(got0 >= MEMBERS + 1); /* the membership statements and the workshop */
    assert_int_equal(got1, got0);
    for (size_t i = 0; i < MEMBERS; i++)
        liar_close(&l[i]);
    for (size_t i = 0; i < MEMBERS; i++)
        h_node_free(&m[i]);
    h_node_free(hub);
    free(m);
    free(hub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_star_converges, teardown),
                                       cmocka_unit_test(test_members_beyond_tables)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
