/*
 * test_net_star: a regional hub and STAR schools that dial it, every one
 * a real daemon: the schools have no listen address and the hub lists
 * each without an endpoint. Every node published a workshop before its
 * daemon started; then every node converges on every event (each
 * school's reaches the others only through the hub), and the hub says it
 * is in sync with each school. The daemons are kept light (no web page,
 * 1 s rounds, info logs). Under AddressSanitizer every daemon is several
 * times slower and larger, so the star is smaller there.
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_star_converges, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
