/*
 * test_attack_relay: what a relay that lies can and cannot do to a node
 * (issue 14, items 2 and 3), with real daemons and the liar harness.
 *
 * V (the victim) is a partner of L (the liar: a relay V trusts) and of the
 * owners O1 and O2, which are offline while L talks to V. L passes O1's
 * events on with the payload of the control events stripped (a rotation's
 * KeyCert, a KeyRevoke, a Cancel), and an event signed with O1's stolen
 * key; and O2's history with seq 2 and 3 forged by a thief with O2's
 * stolen key, below the cut of O2's revocation. Then the owners come
 * online. Before the fix V kept the header-only copies (the genuine ones
 * were then dropped as duplicates): O1's new events were refused even
 * from O1, the revocation and the cancel never took effect, and the forged
 * seqs 2 and 3 stayed, with `verify` clean. Now: stripped envelopes are
 * refused with their reason, the forged seqs are held or refused, and
 * once the owners are met V holds exactly their genuine history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "harness/harness_liar.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

typedef struct world {
    hnode_t V, L, O1, O2;
    liar_t *liar;
} world_t;

static char *id_of(const char *out)
{
    static char id[EVENT_ID_HEX_SIZE];
    assert_non_null(out);
    assert_int_equal(sscanf(out, "%*s %64s", id), 1);
    return id;
}

static void publish(hnode_t *n, const char *title, char id[EVENT_ID_HEX_SIZE])
{
    char *out = NULL;
    assert_int_equal(h_lernet(n, &out,
                              "publish workshop --network %s --title 'sv:%s' --start "
                              "2027-03-02T09:00 --end 2027-03-02T12:00 --place 'Storgatan 1'",
                              NET, title),
                     0);
    if (id)
        snprintf(id, EVENT_ID_HEX_SIZE, "%s", id_of(out));
    free(out);
}

static void pub_of(const keys_identity_t *k, char out[KEYS_PUB_STR_SIZE])
{
    keys_pub_encode(out, keys_public(k));
}

/* What V's list --json says, as one string, for substring checks. */
static char *list_of(const hnode_t *n)
{
    char *out = NULL;
    assert_int_equal(h_lernet(n, &out, "list --json"), 0);
    return out;
}

typedef struct has_q {
    const hnode_t *n;
    const char *a, *b; /* all must appear */
    const char *not;   /* must not */
} has_q_t;

static int list_has(void *ctx)
{
    has_q_t *q = ctx;
    char *l = list_of(q->n);
    int ok = strstr(l, q->a) && (!q->b || strstr(l, q->b)) && (!q->not || !strstr(l, q->not));
    free(l);
    return ok;
}

static int logged(void *ctx)
{
    has_q_t *q = ctx;
    return h_log_contains(q->n, q->a);
}

static void await_log(const hnode_t *n, const char *needle)
{
    has_q_t q = {n, needle, NULL, NULL};
    if (!h_wait(logged, &q, H_DEADLINE_MS))
        fail_msg("%s's log lacks: %s", n->name, needle);
}

static void push_log(world_t *w, const hnode_t *owner, const char *log, const int *strip,
                     size_t n_strip)
{
    event_t **evs;
    size_t n = liar_log(owner, NULL, log, &evs);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        int s = 0;
        for (size_t j = 0; j < n_strip; j++)
            s |= strip[j] == (int)evs[i]->seq;
        assert_int_equal(liar_push(w->liar, &evs[i], 1, s ? LIAR_STRIP : LIAR_AS_IS), 0);
        event_free(&evs[i]);
    }
    free(evs);
}

/* O1: w1, a workshop X and its cancel, signed with K1; the thief copies
 * K1; O1 rotates to K2, publishes w4 and revokes K1 (cut at w4); the
 * thief signs seq 5. */
static void owner1(world_t *w, char x_id[EVENT_ID_HEX_SIZE], event_t **forged)
{
    char k1[KEYS_PUB_STR_SIZE], *out = NULL;
    publish(&w->O1, "Äkta ett", NULL);
    publish(&w->O1, "Inställd workshop", x_id);
    assert_int_equal(h_lernet(&w->O1, NULL, "cancel %s --reason 'Snöstorm'", x_id), 0);
    keys_identity_t *stolen = liar_steal_key(&w->O1, 1);
    assert_non_null(stolen);
    pub_of(stolen, k1);
    assert_int_equal(h_lernet(&w->O1, NULL, "keys rotate"), 0);
    publish(&w->O1, "Efter rotationen", NULL);
    assert_int_equal(h_lernet(&w->O1, &out, "keys revoke %s --reason 'laptop stulen'", k1), 0);
    free(out);
    event_t *w4 = liar_event_at(&w->O1, NULL, NET, 4);
    assert_non_null(w4);
    *forged = liar_forge(stolen, w4->author, NET, 5, w4->id, "Tjuvens workshop");
    assert_non_null(*forged);
    event_free(&w4);
    keys_free(&stolen);
}

/* O2: a1, a2, a3 with K1; the thief copies K1; O2 rotates and revokes K1
 * with the cut at a3; the thief signs another seq 2 and 3. */
static void owner2(world_t *w, event_t **g2, event_t **g3)
{
    char k1[KEYS_PUB_STR_SIZE];
    publish(&w->O2, "Kedja ett", NULL);
    publish(&w->O2, "Kedja två", NULL);
    publish(&w->O2, "Kedja tre", NULL);
    keys_identity_t *stolen = liar_steal_key(&w->O2, 1);
    assert_non_null(stolen);
    pub_of(stolen, k1);
    assert_int_equal(h_lernet(&w->O2, NULL, "keys rotate"), 0);
    assert_int_equal(h_lernet(&w->O2, NULL, "keys revoke %s --cut %s:3", k1, NET), 0);
    event_t *a1 = liar_event_at(&w->O2, NULL, NET, 1);
    assert_non_null(a1);
    *g2 = liar_forge(stolen, a1->author, NET, 2, a1->id, "Förfalskad två");
    *g3 = liar_forge(stolen, a1->author, NET, 3, (*g2)->id, "Förfalskad tre");
    event_free(&a1);
    keys_free(&stolen);
}

static void test_lying_relay(void **state)
{
    (void)state;
    world_t w = {0};
    char x_id[EVENT_ID_HEX_SIZE], *out = NULL;
    event_t *f5 = NULL, *g2 = NULL, *g3 = NULL;
    assert_int_equal(h_node_init(&w.V, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&w.L, "Mallory Relä AB", "SE", NET), 0);
    assert_int_equal(h_node_init(&w.O1, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&w.O2, "Bildungswerk Bielefeld", "DE", NET), 0);
    h_link(&w.V, &w.L, NET);
    h_link(&w.V, &w.O1, NET);
    h_link(&w.V, &w.O2, NET);
    hnode_t *all[] = {&w.V, &w.L, &w.O1, &w.O2};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    owner1(&w, x_id, &f5);
    owner2(&w, &g2, &g3);
    assert_int_equal(h_node_start(&w.V), 0);
    assert_int_equal(liar_open(&w.liar, &w.L), 0);
    assert_int_equal(liar_dial(w.liar, &w.V), 0);

    /* O1's key log: init's certificate and profile as they are, then the
     * rotation's certificate (3) and the revocation (4) stripped; its
     * network log with the cancel (3) stripped; the stolen key's seq 5. */
    static const int keys_strip[] = {3, 4}, net_strip[] = {3};
    push_log(&w, &w.O1, "@keys", keys_strip, 2);
    push_log(&w, &w.O1, NET, net_strip, 1);
    assert_int_equal(liar_push(w.liar, &f5, 1, LIAR_AS_IS), 0);
    /* O2's key log whole (it pins seq 1..3), seq 1, and the forged 2 and 3 */
    push_log(&w, &w.O2, "@keys", NULL, 0);
    event_t *a1 = liar_event_at(&w.O2, NULL, NET, 1);
    event_t *forged[] = {a1, g2, g3};
    assert_int_equal(liar_push(w.liar, forged, 3, LIAR_AS_IS), 0);
    /* a last push with a broken signature: once V has logged it, it has
     * handled everything before it (any version of lernet says this) */
    assert_int_equal(liar_push(w.liar, &a1, 1, LIAR_BAD_SIG), 0);
    await_log(&w.V, "bad_signature");
    char *l = list_of(&w.V);
    assert_null(strstr(l, "Förfalskad")); /* neither forged seq was taken */
    free(l);

    /* the owners come online: V ends with exactly their genuine history */
    assert_int_equal(h_node_start(&w.O1), 0);
    assert_int_equal(h_node_start(&w.O2), 0);
    has_q_t o1 = {&w.V, "Efter rotationen", "Äkta ett", "Tjuvens workshop"};
    assert_true(h_wait(list_has, &o1, H_DEADLINE_MS));
    has_q_t o2 = {&w.V, "Kedja tre", "Kedja två", "Förfalskad"};
    assert_true(h_wait(list_has, &o2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&w.V, &out, "show %s --json", x_id), 0);
    json_t *x = json_loads(out, 0, NULL);
    assert_true(json_is_true(json_object_get(x, "cancelled"))); /* the cancel took effect */
    json_decref(x);
    free(out);
    out = NULL;
    l = list_of(&w.V);
    assert_null(strstr(l, "Tjuvens workshop"));
    assert_null(strstr(l, "Förfalskad"));
    free(l);
    liar_close(&w.liar);
    for (size_t i = 0; i < 4; i++)
        h_node_stop(all[i]);
    /* and verify agrees: nothing forged, no header-only copy, no fork */
    assert_int_equal(h_lernet(&w.V, &out, "verify"), 0);
    free(out);
    /* each refusal was logged with its reason */
    await_log(&w.V, "payload_missing");
    await_log(&w.V, "not on the history its cut pins");
    event_free(&a1);
    event_free(&f5);
    event_free(&g2);
    event_free(&g3);
    for (size_t i = 0; i < 4; i++)
        h_node_free(all[i]);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lying_relay)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
