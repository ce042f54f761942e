/*
 * test_net_partition: six daemons in a ring split into two halves by
 * stopping the two nodes that join them (SIGSTOP), each half publishes,
 * then the ring heals (SIGCONT) and every node converges to the union.
 * Prints the time to convergence after the heal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define N 6

static const char *names[N][2] = {
    {"Lärcentrum Östhammar", "SE"}, {"Lärcentrum Tierp", "SE"}, {"Roskilde Handelsskole", "DK"},
    {"OWL Lernregion", "DE"},       {"Turku AMK", "FI"},        {"Køge Handelsskole", "DK"}};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_split_publish_heal(void **state)
{
    (void)state;
    hnode_t nodes[N], *all[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(h_node_init(&nodes[i], names[i][0], names[i][1], NET), 0);
        all[i] = &nodes[i];
    }
    for (int i = 0; i < N; i++)
        h_link(&nodes[i], &nodes[(i + 1) % N], NET);
    for (int i = 0; i < N; i++) {
        assert_int_equal(h_node_write_config(&nodes[i]), 0);
        assert_int_equal(h_node_start(&nodes[i]), 0);
    }
    assert_int_equal(h_publish_workshop(&nodes[0], "Före delningen", NET), 0);
    assert_true(h_wait_items(all, N, 1, H_DEADLINE_MS));

    /* nodes 2 and 5 join the halves {0,1} and {3,4}: stopping them splits the ring */
    assert_int_equal(kill(nodes[2].pid, SIGSTOP), 0);
    assert_int_equal(kill(nodes[5].pid, SIGSTOP), 0);
    assert_int_equal(h_publish_workshop(&nodes[0], "Västra halvan", NET), 0);
    assert_int_equal(h_publish_workshop(&nodes[1], "Västra halvan igen", NET), 0);
    assert_int_equal(h_publish_workshop(&nodes[3], "Östliche Hälfte", NET), 0);
    assert_int_equal(h_publish_workshop(&nodes[4], "Itäinen puolisko", NET), 0);
    hnode_t *west[] = {&nodes[0], &nodes[1]}, *east[] = {&nodes[3], &nodes[4]};
    assert_true(h_wait_items(west, 2, 3, H_DEADLINE_MS)); /* each half converges alone */
    assert_true(h_wait_items(east, 2, 3, H_DEADLINE_MS));
    assert_int_equal(h_count_items(&nodes[0]), 3); /* and nothing crossed */
    assert_int_equal(h_count_items(&nodes[3]), 3);

    double t0 = now_s();
    assert_int_equal(kill(nodes[2].pid, SIGCONT), 0);
    assert_int_equal(kill(nodes[5].pid, SIGCONT), 0);
    assert_true(h_wait_items(all, N, 5, 60000)); /* the union, everywhere */
    fprintf(stderr, "healed: all %d nodes hold the union (5 items) %.2f s after the heal\n", N,
            now_s() - t0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(h_node_stop(&nodes[i]), 0);
        assert_int_equal(h_lernet(&nodes[i], NULL, "verify"), 0);
        h_node_free(&nodes[i]);
    }
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_split_publish_heal)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
