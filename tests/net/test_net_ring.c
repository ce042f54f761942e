/*
 * test_net_ring: ten daemons in a ring (each partner of its two
 * neighbours), one event published at each: every node converges on all
 * ten, though most pairs are several hops apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "harness/harness.h"

#define RING 10

static const char *orgs[RING][2] = {
    {"Lärcentrum Östhammar", "SE"}, {"Lärcentrum Tierp", "SE"},
    {"Roskilde Handelsskole", "DK"}, {"Køge Handelsskole", "DK"},
    {"Lolland Falster Erhvervsskole", "DK"}, {"OWL Lernregion", "DE"},
    {"Lernwerkstatt Bielefeld", "DE"}, {"Jatkuvan oppimisen palvelu", "FI"},
    {"Lärcentrum Sala", "SE"}, {"Region Örebro län", "SE"}};

static void test_ring_converges(void **state)
{
    (void)state;
    hnode_t nodes[RING], *all[RING];
    for (int i = 0; i < RING; i++) {
        assert_int_equal(h_node_init(&nodes[i], orgs[i][0], orgs[i][1], "baltic-skills"), 0);
        all[i] = &nodes[i];
    }
    for (int i = 0; i < RING; i++)
        h_link(&nodes[i], &nodes[(i + 1) % RING], "baltic-skills");
    for (int i = 0; i < RING; i++) {
        assert_int_equal(h_node_write_config(&nodes[i]), 0);
        assert_int_equal(h_node_start(&nodes[i]), 0);
    }
    for (int i = 0; i < RING; i++) {
        char title[96];
        snprintf(title, sizeof title, "Workshop hos %s", orgs[i][0]);
        assert_int_equal(h_publish_workshop(&nodes[i], title, "baltic-skills"), 0);
    }
    assert_true(h_wait_items(all, RING, RING, 60000));
    for (int i = 0; i < RING; i++)
        assert_int_equal(h_lernet(&nodes[i], NULL, "verify"), 0);
    for (int i = 0; i < RING; i++)
        h_node_free(&nodes[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ring_converges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
