/*
 * test_membership: what the store accepts in a managed network. Only the
 * trusted coordinators and the members they admitted publish; an admission
 * by anyone else is refused; a coordinator can make another coordinator;
 * expiry refuses events created after the term; removal refuses later
 * events, withdraws what raced it and keeps what came before; an open
 * network (no trusted coordinators) is unaffected. Publishing as a
 * non-member reports the store's reason. Re-deriving the items (rebuild,
 * verify) changes no chain: a member removed and admitted again keeps what
 * it published after its return; a removal that arrives after a later
 * admission cuts nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "store/publish.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define START 1796112000LL

typedef struct fx {
    char *dir;
    store_t *st;
    keys_identity_t *coord, *a, *b;
    event_t *last[3]; /* each author's NET head, for chaining */
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char path[600];
    f->dir = tu_tempdir();
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    assert_int_equal(store_open(&f->st, path, NULL, 0), STORE_OK);
    assert_int_equal(keys_generate(&f->coord), 0);
    assert_int_equal(keys_generate(&f->a), 0);
    assert_int_equal(keys_generate(&f->b), 0);
    assert_int_equal(store_trust(f->st, NET, keys_public(f->coord)), STORE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < 3; i++)
        event_free(&f->last[i]);
    store_close(&f->st);
    keys_free(&f->coord);
    keys_free(&f->a);
    keys_free(&f->b);
    tu_rmtree(&f->dir);
    free(f);
    return 0;
}

static int slot(fx_t *f, const keys_identity_t *k)
{
    return k == f->coord ? 0 : k == f->a ? 1 : 2;
}

/* k's next NET event with payload p, created at created_ms (0: now). */
static event_t *next(fx_t *f, const keys_identity_t *k, const Lernet__Payload *p,
                     int64_t created_ms)
{
    event_t **last = &f->last[slot(f, k)], *ev = NULL;
    assert_int_equal(event_create(&ev, k, NET, *last ? (*last)->seq + 1 : 1,
                                  *last ? (*last)->id : NULL,
                                  created_ms ? created_ms : event_now_ms(), p, NULL, 0),
                     EV_OK);
    return ev;
}

/* Adds ev; on success it becomes its author's head. */
static int add(fx_t *f, const keys_identity_t *k, event_t *ev, char *why)
{
    int outcome = -1;
    int rc = store_add(f->st, ev, &outcome, NULL, why, why ? 256 : 0);
    if (rc == STORE_OK && outcome == STORE_APPLIED) {
        event_free(&f->last[slot(f, k)]);
        f->last[slot(f, k)] = ev;
        return STORE_OK;
    }
    event_free(&ev);
    return rc != STORE_OK ? rc : -100 - outcome;
}

static int admit(fx_t *f, const keys_identity_t *by, const keys_identity_t *who,
                 int64_t until_ms, int coordinator, int removed, uint64_t cut, char *why)
{
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    m.member.data = (uint8_t *)keys_public(who);
    m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "Køge Handelsskole";
    m.endpoint = "";
    m.until_ms = until_ms;
    m.coordinator = coordinator;
    m.removed = removed;
    m.last_good_seq = cut;
    uint8_t last_good[EVENT_ID_BYTES];
    if (cut) { /* a removal pins the history up to the cut by its id */
        assert_int_equal(store_id_at(f->st, keys_public(who), NET, cut, last_good), STORE_OK);
        m.last_good_id.data = last_good;
        m.last_good_id.len = EVENT_ID_BYTES;
    }
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    p.membership = &m;
    return add(f, by, next(f, by, &p, 0), why);
}

static int workshop(fx_t *f, const keys_identity_t *k, int64_t created_ms, char *why)
{
    Lernet__Payload *p = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    int rc = add(f, k, next(f, k, p, created_ms), why);
    tu_payload_free(p);
    return rc;
}

static size_t items(fx_t *f)
{
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), STORE_OK);
    return (size_t)s.items;
}

static void test_only_members_publish(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    assert_true(store_managed(f->st, NET));
    assert_false(store_managed(f->st, "open-network"));
    assert_int_equal(workshop(f, f->coord, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, 0, why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "is not a member of " NET));
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK);
    assert_true(store_is_member(f->st, NET, keys_public(f->a), event_now_ms()));
    assert_false(store_is_member(f->st, NET, keys_public(f->b), event_now_ms()));
    /* a member that is no coordinator cannot admit: forged */
    assert_int_equal(admit(f, f->a, f->b, 0, 0, 0, 0, why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "not its coordinator"));
    assert_int_equal(workshop(f, f->b, 0, NULL), STORE_ERR_NOT_MEMBER);
    assert_int_equal(items(f), 2);
}

static void test_coordinator_can_make_coordinators(void **state)
{
    fx_t *f = *state;
    assert_int_equal(admit(f, f->coord, f->a, 0, 1, 0, 0, NULL), STORE_OK);
    assert_int_equal(admit(f, f->a, f->b, 0, 0, 0, 0, NULL), STORE_OK); /* a admits b */
    assert_int_equal(workshop(f, f->b, 0, NULL), STORE_OK);
}

static void test_expiry(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    int64_t now = event_now_ms(), until = now - 60000; /* ended a minute ago */
    assert_int_equal(admit(f, f->coord, f->a, until, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, until - 1000, NULL), STORE_OK); /* within the term */
    assert_int_equal(workshop(f, f->a, now, why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "ended"));
    assert_false(store_is_member(f->st, NET, keys_public(f->a), now));
}

static int removed_marked(void *ctx, const store_item_t *it)
{
    (void)ctx;
    assert_true(it->author_removed);
    assert_false(it->author_revoked);
    return 0;
}

static void test_removal(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK); /* seq 1: stays */
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK); /* seq 2: raced the removal */
    assert_int_equal(items(f), 2);
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 1, 1, NULL), STORE_OK);
    assert_int_equal(items(f), 1); /* seq 2 withdrawn, seq 1 kept, marked */
    store_query_t q = {0};
    assert_int_equal(store_items(f->st, &q, removed_marked, NULL), 0);
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(f->st, keys_public(f->a), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 1);
    event_free(&f->last[1]); /* a's view of its own log no longer counts */
    Lernet__Payload *p = tu_workshop("Efter", "After", START);
    event_t *late = NULL;
    assert_int_equal(event_create(&late, f->a, NET, 2, head, event_now_ms(), p, NULL, 0), EV_OK);
    assert_int_equal(store_add(f->st, late, NULL, NULL, why, sizeof why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "removed from " NET " after seq 1"));
    assert_false(store_is_member(f->st, NET, keys_public(f->a), event_now_ms()));
    event_free(&late);
    tu_payload_free(p);
    size_t checked, problems;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);
}


/* a's NET event at seq after prev, not stored: a removed member's
 * back-dated history, or its genuine one that has not reached us yet. */
static event_t *a_at(fx_t *f, uint64_t seq, const event_t *prev, const char *title)
{
    event_t *ev = NULL;
    Lernet__Payload *p = tu_workshop(title, "Workplace learning", START + (int64_t)seq * 60);
    assert_int_equal(event_create(&ev, f->a, NET, seq, prev ? prev->id : NULL, event_now_ms(), p,
                                  NULL, 0),
                     EV_OK);
    tu_payload_free(p);
    return ev;
}

static int put(fx_t *f, event_t *ev, char *why)
{
    int outcome = -1;
    int rc = store_add(f->st, ev, &outcome, NULL, why, why ? 256 : 0);
    return rc != STORE_OK ? rc : -100 - outcome;
}
#define PUT_APPLIED (-100 - STORE_APPLIED)
#define PUT_HELD (-100 - STORE_HELD)

/* Issue 14 item 3, for a removal: the coordinator removes a with its cut
 * at seq 3 (named by id); a, removed, signs another seq 2 and 3; a node
 * that holds only seq 1 must not take them, and takes the genuine ones. */
static void test_removal_pins_history(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    event_t *a1 = a_at(f, 1, NULL, "Ett"), *a2 = a_at(f, 2, a1, "Två"), *a3 = a_at(f, 3, a2, "Tre");
    event_t *b2 = a_at(f, 2, a1, "Efterhand två"), *b3 = a_at(f, 3, b2, "Efterhand tre");
    event_t *a4 = a_at(f, 4, a3, "Efter");
    assert_int_equal(put(f, a1, NULL), PUT_APPLIED);
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    m.member.data = (uint8_t *)keys_public(f->a), m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "", m.endpoint = "", m.removed = 1, m.last_good_seq = 3;
    m.last_good_id.data = a3->id, m.last_good_id.len = EVENT_ID_BYTES;
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP, p.membership = &m;
    assert_int_equal(add(f, f->coord, next(f, f->coord, &p, 0), NULL), STORE_OK);
    assert_int_equal(items(f), 0); /* seq 1 is unproven until the pins reach it */
    assert_int_equal(put(f, b2, NULL), PUT_HELD);
    assert_int_equal(put(f, b3, why), STORE_ERR_REVOKED);
    assert_non_null(strstr(why, "not on the history its cut pins"));
    assert_int_equal(put(f, a2, NULL), PUT_HELD);
    assert_int_equal(put(f, a3, NULL), PUT_HELD); /* proves 2 and 1: all three join */
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(f->st, keys_public(f->a), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 3);
    assert_memory_equal(head, a3->id, EVENT_ID_BYTES);
    assert_int_equal(items(f), 3);
    assert_int_equal(put(f, a4, why), STORE_ERR_NOT_MEMBER);
    assert_int_equal(put(f, b2, why), STORE_ERR_REVOKED); /* no fork evidence against a */
    size_t checked, problems;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);
    event_t *v[] = {a1, a2, a3, b2, b3, a4};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

/* Issue 14 item 5: statements stored while a network was open count once
 * it is managed only if their author may make them then. Before: b, a
 * partner in the open network, pre-seeded itself as coordinator and a as
 * member; when this node later trusted coord for it, both were honoured. */
static void test_open_statements_judged_when_managed(void **state)
{
    fx_t *f = *state;
    const char *net2 = "open-then-managed";
    event_t *prev = NULL;
    const keys_identity_t *who[] = {f->b, f->a};
    int coordinator[] = {1, 0};
    for (int i = 0; i < 2; i++) {
        Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
        Lernet__Payload p = LERNET__PAYLOAD__INIT;
        m.member.data = (uint8_t *)keys_public(who[i]), m.member.len = KEYS_PUBLIC_BYTES;
        m.name = "Mallory", m.endpoint = "", m.coordinator = coordinator[i];
        p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP, p.membership = &m;
        event_t *ev = NULL;
        assert_int_equal(event_create(&ev, f->b, net2, (uint64_t)i + 1, prev ? prev->id : NULL,
                                      event_now_ms(), &p, NULL, 0),
                         EV_OK);
        assert_int_equal(store_add(f->st, ev, NULL, NULL, NULL, 0), STORE_OK); /* open: kept */
        event_free(&prev);
        prev = ev;
    }
    event_free(&prev);
    assert_int_equal(store_trust(f->st, net2, keys_public(f->coord)), STORE_OK);
    assert_false(store_is_member(f->st, net2, keys_public(f->b), event_now_ms()));
    assert_false(store_is_member(f->st, net2, keys_public(f->a), event_now_ms()));
    /* and a's events there are refused as from a non-member */
    char why[256] = "";
    Lernet__Payload *w = tu_workshop("Inte medlem", "Not a member", START);
    event_t *ev = NULL;
    assert_int_equal(event_create(&ev, f->a, net2, 1, NULL, event_now_ms(), w, NULL, 0), EV_OK);
    assert_int_equal(store_add(f->st, ev, NULL, NULL, why, sizeof why), STORE_ERR_NOT_MEMBER);
    event_free(&ev);
    tu_payload_free(w);
    /* the store reopened under the same anchors judges the same */
    char path[600];
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    store_close(&f->st);
    assert_int_equal(store_open(&f->st, path, NULL, 0), STORE_OK);
    assert_int_equal(store_trust(f->st, net2, keys_public(f->coord)), STORE_OK);
    assert_false(store_is_member(f->st, net2, keys_public(f->a), event_now_ms()));
}

/* Re-deriving the items replays no membership statement: a member removed
 * and then admitted again keeps what it published after its return. Before,
 * the replay (store_rebuild, and the one store_verify runs to compare)
 * applied the old removal again and withdrew those events. */
static void test_rederive_keeps_a_readmitted_member(void **state)
{
    fx_t *f = *state;
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    size_t checked, problems = 99;
    char why[256] = "";
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK);               /* seq 1 */
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 1, 1, NULL), STORE_OK); /* removed after 1 */
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK); /* admitted again */
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK);               /* seq 2 */
    assert_int_equal(items(f), 2);
    assert_int_equal(store_verify(f->st, NULL, NULL, &checked, &problems), STORE_OK);
    assert_int_equal(problems, 0);
    assert_int_equal(store_rebuild(f->st, why, sizeof why), STORE_OK);
    assert_int_equal(store_head(f->st, keys_public(f->a), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(items(f), 2);
}

/* A removal that an admission made later already superseded (it arrived
 * after it, but is older) does not cut the member's log: the latest
 * statement says member, so what it published stays. Before, the cut was
 * applied although members kept the later admission. */
static void test_superseded_removal_does_not_cut(void **state)
{
    fx_t *f = *state;
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES], one[EVENT_ID_BYTES];
    size_t checked, problems = 99;
    int64_t then = event_now_ms() - 60000;
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK); /* seq 1 */
    assert_int_equal(workshop(f, f->a, 0, NULL), STORE_OK); /* seq 2 */
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK); /* now */
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    assert_int_equal(store_id_at(f->st, keys_public(f->a), NET, 1, one), STORE_OK);
    m.member.data = (uint8_t *)keys_public(f->a), m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "", m.endpoint = "", m.removed = 1, m.last_good_seq = 1;
    m.last_good_id.data = one, m.last_good_id.len = EVENT_ID_BYTES;
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP, p.membership = &m;
    assert_int_equal(add(f, f->coord, next(f, f->coord, &p, then), NULL), STORE_OK);
    assert_true(store_is_member(f->st, NET, keys_public(f->a), event_now_ms()));
    assert_int_equal(store_head(f->st, keys_public(f->a), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(items(f), 2);
    assert_int_equal(store_verify(f->st, NULL, NULL, &checked, &problems), STORE_OK);
    assert_int_equal(problems, 0);
}

/* Publishing where this node is not (yet) a member: the person is told
 * why, in the store's words, not that the event "was duplicate"; and a
 * refused store_add leaves its out-parameters as they were. */
static void test_publish_keeps_the_reason(void **state)
{
    fx_t *f = *state;
    char why[512] = "";
    event_t *ev = (event_t *)&why; /* out-parameters only on success: it stays as it was */
    publish_signer_t who = {.key = f->a, .author = NULL};
    Lernet__Payload *p = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    assert_int_equal(publish_event(f->st, &who, NET, p, &ev, why, sizeof why), PUBLISH_ERR_STORE);
    assert_ptr_equal(ev, (event_t *)&why);
    assert_non_null(strstr(why, "is not a member of " NET));
    assert_null(strstr(why, "duplicate"));
    event_t *raw = next(f, f->a, p, 0);
    int outcome = -7;
    size_t applied = 77;
    assert_int_equal(store_add(f->st, raw, &outcome, &applied, why, sizeof why),
                     STORE_ERR_NOT_MEMBER);
    assert_int_equal(outcome, -7);
    assert_int_equal(applied, 77);
    event_free(&raw);
    tu_payload_free(p);
    assert_int_equal(items(f), 0);
}

typedef struct hid {
    int found, hidden;
    uint8_t by[KEYS_PUBLIC_BYTES];
    char reason[64];
} hid_t;

static int take_hidden(void *ctx, const store_item_t *it)
{
    hid_t *h = ctx;
    h->found = 1;
    h->hidden = it->hidden;
    if (it->hidden) {
        memcpy(h->by, it->hidden_by, KEYS_PUBLIC_BYTES);
        snprintf(h->reason, sizeof h->reason, "%s", it->hide_reason);
    }
    return 0;
}

static hid_t hidden_of(fx_t *f, const uint8_t id[EVENT_ID_BYTES])
{
    char hex[EVENT_ID_HEX_SIZE];
    hid_t h = {0};
    event_id_hex(hex, id);
    assert_int_equal(store_item(f->st, hex, take_hidden, &h, NULL, 0), STORE_OK);
    assert_true(h.found);
    return h;
}

static void hide(fx_t *f, const keys_identity_t *k, const uint8_t *target, const char *reason,
                 int unhide)
{
    Lernet__Payload *p = tu_hide(target, reason, unhide);
    assert_int_equal(add(f, k, next(f, k, p, 0), NULL), STORE_OK);
    tu_payload_free(p);
}

/* Issue 18: a hide counts only when its signer was a coordinator of the
 * managed network: a member's own Hide event is stored (it is a validly
 * signed event of a member) and hides nothing; the coordinator's hides the
 * reply, an unhide shows it again, and a rebuild reads the same. */
static void test_hide_counts_only_from_coordinators(void **state)
{
    fx_t *f = *state;
    uint8_t res[EVENT_ID_BYTES], rep[EVENT_ID_BYTES];
    assert_int_equal(admit(f, f->coord, f->a, 0, 0, 0, 0, NULL), STORE_OK);
    assert_int_equal(admit(f, f->coord, f->b, 0, 0, 0, 0, NULL), STORE_OK);
    Lernet__Payload *p = tu_resource("Metodekatalog", 1);
    assert_int_equal(add(f, f->a, next(f, f->a, p, 0), NULL), STORE_OK);
    tu_payload_free(p);
    memcpy(res, f->last[1]->id, EVENT_ID_BYTES);
    p = tu_reply(res, "Köp våra kurser! (reklam)");
    assert_int_equal(add(f, f->b, next(f, f->b, p, 0), NULL), STORE_OK);
    tu_payload_free(p);
    memcpy(rep, f->last[2]->id, EVENT_ID_BYTES);
    assert_false(hidden_of(f, rep).hidden);

    hide(f, f->a, rep, "I do not like it", 0); /* a member: kept, counts nowhere */
    assert_false(hidden_of(f, rep).hidden);
    hide(f, f->b, res, "", 0);
    assert_false(hidden_of(f, res).hidden);

    hide(f, f->coord, rep, "advertising", 0);
    hid_t h = hidden_of(f, rep);
    assert_true(h.hidden);
    assert_memory_equal(h.by, keys_public(f->coord), KEYS_PUBLIC_BYTES);
    assert_string_equal(h.reason, "advertising");
    assert_false(hidden_of(f, res).hidden);
    hide(f, f->a, rep, "", 1); /* nor can a member lift it */
    assert_true(hidden_of(f, rep).hidden);

    char why[256] = "";
    assert_int_equal(store_rebuild(f->st, why, sizeof why), STORE_OK);
    assert_true(hidden_of(f, rep).hidden);
    size_t checked = 0, problems = 0;
    assert_int_equal(store_verify(f->st, NULL, NULL, &checked, &problems), STORE_OK);
    assert_int_equal(problems, 0);

    hide(f, f->coord, rep, "", 1);
    assert_false(hidden_of(f, rep).hidden);
}

int main(void)
{
    keys_init();
    log_init(LOG_LVL_ERROR, "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_only_members_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator_can_make_coordinators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_pins_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_statements_judged_when_managed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_publish_keeps_the_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rederive_keeps_a_readmitted_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_superseded_removal_does_not_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hide_counts_only_from_coordinators, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
