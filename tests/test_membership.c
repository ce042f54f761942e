/*
 * test_membership: what the store accepts in a managed network. Only the
 * trusted coordinators and the members they admitted publish; an admission
 * by anyone else is refused; a coordinator can make another coordinator;
 * expiry refuses events created after the term; removal refuses later
 * events, withdraws what raced it and keeps what came before; an open
 * network (no trusted coordinators) is unaffected. Publishing as a
 * non-member reports the store's reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "publish.h"
#include "store.h"
#include "testutil.h"

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

/* Publishing where this node is not (yet) a member: the person is told
 * why, in the store's words, not that the event "was duplicate"; and a
 * refused store_add leaves its out-parameters as they were. */
static void test_publish_keeps_the_reason(void **state)
{
    fx_t *f = *state;
    char why[512] = "";
    event_t *ev = (event_t *)&why; /* must become NULL, not stay garbage */
    publish_signer_t who = {f->a, NULL};
    Lernet__Payload *p = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    assert_int_equal(publish_event(f->st, &who, NET, p, &ev, why, sizeof why), PUBLISH_ERR_STORE);
    assert_null(ev);
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

int main(void)
{
    keys_init();
    log_init(LOG_LVL_ERROR, "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_only_members_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator_can_make_coordinators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_keeps_the_reason, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
