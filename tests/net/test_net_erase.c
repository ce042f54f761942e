/*
 * test_net_erase: erasure (GDPR Art. 17, issue 17) between real daemons.
 *
 *  - Every replica: a chain A–B–C, D a partner of B that is offline while
 *    A erases its experience report, and E, a new partner of B that starts
 *    only afterwards (it gets the report header-only, covered by the
 *    erasure, later in the same log). Once converged, a unique string of
 *    the report is in no file of any node: store.db, -wal, -shm, the
 *    json/csv/ical exports and a bundle made afterwards (and imported into
 *    a fresh home F). `verify` is clean everywhere, `show --json` says
 *    "erased": true with by whom.
 *  - Moderation: in a managed network the coordinator erases a member's
 *    report; the member's node drops it too and `show` says a coordinator
 *    did it. A member erasing the coordinator's event, a control event,
 *    another node's event in an open network, an unknown id: each a
 *    one-line error, and no event is added.
 *  - A lying partner: a payload stripped without an erasure is still
 *    refused (and the genuine copy taken later), and a forged erasure (by
 *    a partner, of another node's report) is refused and erases nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "harness/harness_liar.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

/* ---- helpers ----------------------------------------------------------- */

/* The id (64 hex) `publish` or `erase` printed as its second word. */
static void printed_id(const char *out, char id[65])
{
    const char *sp = out ? strchr(out, ' ') : NULL;
    assert_non_null(sp);
    memcpy(id, sp + 1, 64);
    id[64] = '\0';
}

static void publish_report(const hnode_t *n, const char *about, const char *text, char id[65])
{
    char *out = NULL;
    assert_int_equal(h_lernet(n, &out,
                              "publish experience --network %s --about %s --title "
                              "'en:Lessons from the pilot' --text 'en:%s'",
                              NET, about, text),
                     0);
    printed_id(out, id);
    free(out);
}

static void workshop_id(const hnode_t *n, char id[65])
{
    char *out = NULL;
    assert_int_equal(h_lernet(n, &out, "publish workshop --network %s --title 'en:Open day' "
                                       "--start 2027-03-01T09:00 --end 2027-03-01T12:00 "
                                       "--place Aula",
                              NET),
                     0);
    printed_id(out, id);
    free(out);
}

typedef struct erased_q {
    const hnode_t *n;
    const char *id;
    const char *as; /* "author" or "coordinator" */
} erased_q_t;

/* `show ID --json` says erased, by whom. */
static int shows_erased(void *ctx)
{
    erased_q_t *q = ctx;
    char *out = NULL;
    int ok = h_lernet(q->n, &out, "show %s --json", q->id) == 0 && out;
    json_t *o = ok ? json_loads(out, 0, NULL) : NULL;
    ok = o && json_is_true(json_object_get(o, "erased")) &&
         json_is_null(json_object_get(o, "content")) &&
         json_object_get(o, "erased_ms") &&
         strcmp(json_string_value(json_object_get(o, "erased_as")) ?: "", q->as) == 0;
    json_decref(o);
    free(out);
    return ok;
}

static int shows_item(void *ctx)
{
    erased_q_t *q = ctx;
    return h_lernet(q->n, NULL, "show %s", q->id) == 0;
}

/* 1 if any regular file under dir holds needle (grep -r, binary files too). */
static int files_hold(const char *dir, const char *needle)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "grep -rqa -- '%s' '%s'", needle, dir);
    return system(cmd) == 0;
}

typedef struct clean_q {
    hnode_t **nodes;
    size_t n;
    const char *needle;
} clean_q_t;

/* No node's files hold the needle (the daemons retry an owed checkpoint
 * once a second, so this is awaited, not checked once). */
static int all_clean(void *ctx)
{
    clean_q_t *q = ctx;
    for (size_t i = 0; i < q->n; i++)
        if (files_hold(q->nodes[i]->home, q->needle))
            return 0;
    return 1;
}

static long events_of(const hnode_t *n)
{
    char *out = NULL;
    long lines = 0;
    if (h_lernet(n, &out, "log --json") == 0 && out)
        for (const char *p = out; *p; p++)
            lines += *p == '\n';
    free(out);
    return lines;
}

/* The exports a data-protection officer would check, into the node's home. */
static void export_all(const hnode_t *n)
{
    assert_int_equal(h_lernet(n, NULL, "export json --out '%s/export.json'", n->home), 0);
    assert_int_equal(h_lernet(n, NULL, "export csv --out '%s/export.csv'", n->home), 0);
    assert_int_equal(h_lernet(n, NULL, "export ical --out '%s/export.ics'", n->home), 0);
    assert_int_equal(h_lernet(n, NULL, "export bundle '%s/after.bundle'", n->home), 0);
}

/* stderr of a failing command is its one line: run it through sh. */
static char *refusal_of(const hnode_t *n, const char *args)
{
    char cmd[1400], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s --home '%s' %s 2>&1; echo \"exit=$?\"", h_bin(), n->home, args);
    assert_int_equal(tu_run(cmd, &out), 0);
    return out;
}

static int logged_bad_sig(void *n)
{
    return h_log_contains(n, "bad_signature");
}

/* ---- every replica ------------------------------------------------------ */

static void test_erasure_reaches_every_replica(void **state)
{
    (void)state;
    hnode_t A, B, C, D, E, F;
    const char *secret = "Kvarnbyskolan-7f3a9c-elev-Nilsson";
    char ws[65], rep[65], *out = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&D, "Turun ammattikorkeakoulu", "FI", NET), 0);
    assert_int_equal(h_node_init(&E, "Region Örebro län", "SE", NET), 0);
    h_link(&A, &B, NET);
    h_link(&B, &C, NET);
    h_link(&B, &D, NET);
    h_link(&B, &E, NET);
    hnode_t *four[] = {&A, &B, &C, &D}, *all[] = {&A, &B, &C, &D, &E};
    for (int i = 0; i < 5; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h_node_start(four[i]), 0);
    workshop_id(&A, ws);
    publish_report(&A, ws, secret, rep);
    assert_true(h_wait_items(four, 4, 2, H_DEADLINE_MS));
    assert_true(files_hold(D.home, secret)); /* the grep below can find it */

    /* D is offline while A erases */
    assert_int_equal(h_node_stop(&D), 0);
    assert_int_equal(h_lernet(&A, &out, "erase %.12s --reason 'written in error'", rep), 0);
    assert_non_null(strstr(out, "erasure "));
    free(out);
    erased_q_t qa = {&A, rep, "author"}, qc = {&C, rep, "author"};
    assert_true(h_wait(shows_erased, &qa, H_DEADLINE_MS));
    assert_true(h_wait(shows_erased, &qc, H_DEADLINE_MS)); /* through the relay B */

    /* D returns and drops it; E, new, gets it header-only */
    assert_int_equal(h_node_start(&D), 0);
    assert_int_equal(h_node_start(&E), 0);
    erased_q_t qd = {&D, rep, "author"}, qe = {&E, rep, "author"};
    assert_true(h_wait(shows_erased, &qd, H_DEADLINE_MS));
    assert_true(h_wait(shows_erased, &qe, H_DEADLINE_MS));
    assert_true(h_wait_items(all, 5, 2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&E, &out, "list"), 0);
    assert_non_null(strstr(out, "erased on "));
    assert_non_null(strstr(out, "by its author: written in error"));
    free(out);

    /* nothing of the text in any file, exports and bundles made after included */
    for (int i = 0; i < 5; i++)
        export_all(all[i]);
    clean_q_t cq = {all, 5, secret};
    assert_true(h_wait(all_clean, &cq, H_DEADLINE_MS));
    for (int i = 0; i < 5; i++)
        assert_int_equal(h_lernet(all[i], NULL, "verify"), 0);

    /* the bundle carries the erasure to a node that only gets files */
    assert_int_equal(h_node_init(&F, "Vejle Erhvervsakademi", "DK", NET), 0);
    assert_int_equal(h_lernet(&F, &out, "import bundle '%s/after.bundle'", B.home), 0);
    free(out);
    erased_q_t qf = {&F, rep, "author"};
    assert_true(shows_erased(&qf));
    assert_false(files_hold(F.home, secret));
    assert_int_equal(h_lernet(&F, NULL, "verify"), 0);

    /* someone else's event in an open network: refused, nothing added */
    long before = events_of(&B);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "erase %s", ws);
    out = refusal_of(&B, cmd);
    assert_non_null(strstr(out, "was published by another node: only its author may erase it "
                                "(in an open network there is no moderator)"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    assert_int_equal(events_of(&B), before);
    for (int i = 0; i < 5; i++)
        h_node_free(all[i]);
    h_node_free(&F);
}

/* ---- moderation and refusals -------------------------------------------- */

static int c_admitted(void *ctx)
{
    return h_log_contains(ctx, "admitted OWL Lernregion");
}

static void test_moderation_and_refusals(void **state)
{
    (void)state;
    hnode_t C, N;
    const char *secret = "Moderation-2b81-personnummer-19700101";
    char ws[65], rep[65], cmd[200], *out = NULL;
    assert_int_equal(h_node_init(&C, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&N, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_write_config(&C), 0);
    assert_int_equal(h_node_write_config(&N), 0);
    assert_int_equal(h_lernet(&C, &out, "network create %s", NET), 0);
    free(out);
    assert_int_equal(h_node_start(&C), 0);
    workshop_id(&C, ws);
    char *inv = h_invite(&C, &N, NET, "OWL Lernregion");
    assert_non_null(inv);
    assert_int_equal(h_lernet(&N, &out, "network join '%s'", inv), 0);
    free(out);
    free(inv);
    assert_int_equal(h_node_start(&N), 0);
    hnode_t *both[] = {&C, &N};
    assert_true(h_wait_items(both, 2, 1, H_DEADLINE_MS));
    assert_true(h_wait(c_admitted, &C, H_DEADLINE_MS));
    publish_report(&N, ws, secret, rep);
    assert_true(h_wait_items(both, 2, 2, H_DEADLINE_MS));

    /* the refusals, each one line, nothing signed */
    long c_before = events_of(&C), n_before = events_of(&N);
    snprintf(cmd, sizeof cmd, "erase %s", ws);
    out = refusal_of(&N, cmd); /* a member erasing the coordinator's event */
    assert_non_null(strstr(out, "published by another node: only its author may erase it, or a "
                                "coordinator of its network"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    out = refusal_of(&N, "erase 0123456789abcdef");
    assert_non_null(strstr(out, "no event with id 0123456789abcdef"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    char *log = NULL, key_cert[65];
    assert_int_equal(h_lernet(&N, &log, "log --json"), 0);
    const char *kc = strstr(log, "\"kind\":\"key_cert\"");
    assert_non_null(kc);
    const char *idp = kc;
    while (idp > log && strncmp(idp, "{\"id\":\"", 7) != 0)
        idp--;
    memcpy(key_cert, idp + 7, 64);
    key_cert[64] = '\0';
    free(log);
    snprintf(cmd, sizeof cmd, "erase %s", key_cert);
    out = refusal_of(&N, cmd);
    assert_non_null(strstr(out, "is a key_cert event: keys, revocations, memberships, profiles "
                                "and erasures can never be erased"));
    assert_ptr_equal(strchr(out, '\n'), strstr(out, "\nexit=1")); /* one line, then the exit */
    free(out);
    assert_int_equal(events_of(&N), n_before);
    assert_int_equal(events_of(&C), c_before);

    /* the coordinator erases the member's report (moderation) */
    assert_int_equal(h_lernet(&C, &out, "erase %s --reason 'off-topic'", rep), 0);
    free(out);
    erased_q_t qc = {&C, rep, "coordinator"}, qn = {&N, rep, "coordinator"};
    assert_true(h_wait(shows_erased, &qc, H_DEADLINE_MS));
    assert_true(h_wait(shows_erased, &qn, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&N, &out, "show %s", rep), 0);
    assert_non_null(strstr(out, "(moderation): off-topic"));
    free(out);
    hnode_t *nodes[] = {&C, &N};
    clean_q_t cq = {nodes, 2, secret};
    assert_true(h_wait(all_clean, &cq, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&C, NULL, "verify"), 0);
    assert_int_equal(h_lernet(&N, NULL, "verify"), 0);
    h_node_free(&N);
    h_node_free(&C);
}

/* A cancel (or an update) erased alone would take its target with its
 * payload: the workshop would read as never cancelled. `lernet erase` of
 * the cancel alone is refused in one line and nothing is signed; erasing
 * the workshop takes its cancel with it, and the item is erased, not
 * un-cancelled. */
static void test_lone_cancel_not_erased(void **state)
{
    (void)state;
    hnode_t A;
    char ws[65], cancel[65], *out = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_write_config(&A), 0);
    workshop_id(&A, ws);
    assert_int_equal(h_lernet(&A, &out, "cancel %s --reason 'the room is taken'", ws), 0);
    printed_id(out, cancel);
    free(out);
    assert_int_equal(h_lernet(&A, &out, "log --json"), 0);
    size_t before = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++)
        before++;
    free(out);
    char log[600], line[1024] = "";
    snprintf(log, sizeof log, "%s/cli.log", A.home);
    FILE *f = fopen(log, "a+");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long at = ftell(f);
    fclose(f);
    assert_int_equal(h_lernet(&A, &out, "erase %s", cancel), 1);
    free(out);
    f = fopen(log, "r");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = '\0';
    assert_non_null(strstr(line, "erase the item itself"));
    assert_int_equal(strchr(line, '\n') - line + 1, (long)got); /* one line */
    assert_int_equal(h_lernet(&A, &out, "log --json"), 0);
    size_t after = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++)
        after++;
    free(out);
    assert_int_equal(after, before); /* nothing signed */
    assert_int_equal(h_lernet(&A, &out, "show %s --json", ws), 0);
    assert_non_null(strstr(out, "\"erased\": false"));
    assert_non_null(strstr(out, "the room is taken"));
    free(out);
    /* the workshop itself: its cancel goes with it */
    assert_int_equal(h_lernet(&A, &out, "erase %s", ws), 0);
    free(out);
    assert_int_equal(h_lernet(&A, &out, "show %s --json", ws), 0);
    assert_non_null(strstr(out, "\"erased\": true"));
    assert_null(strstr(out, "the room is taken"));
    free(out);
    h_node_free(&A);
}

/* ---- a lying partner ------------------------------------------------------ */

static void test_liar_cannot_strip_or_forge(void **state)
{
    (void)state;
    hnode_t O, V, L;
    char ws[65], rep[65], *out = NULL, why[256];
    const char *secret = "Liar-test-9d0e-unique";
    assert_int_equal(h_node_init(&O, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&V, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&L, "Lügen GmbH", "DE", NET), 0);
    h_link(&O, &V, NET);
    h_link(&L, &V, NET);
    assert_int_equal(h_node_write_config(&O), 0);
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_node_write_config(&L), 0);
    /* O publishes with no daemon; V has not seen it */
    workshop_id(&O, ws);
    publish_report(&O, ws, secret, rep);
    assert_int_equal(h_node_start(&V), 0);
    liar_t *liar = NULL;
    assert_int_equal(liar_open(&liar, &L), 0);
    assert_int_equal(liar_dial(liar, &V), 0);

    /* O's logs, its report stripped without any erasure: refused */
    uint8_t o_key[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(o_key, O.pub), KEYS_OK);
    event_t **keys_log = NULL, **net_log = NULL;
    size_t nk = liar_log(&O, o_key, "@keys", &keys_log), nn = liar_log(&O, o_key, NET, &net_log);
    assert_true(nk >= 1);
    assert_int_equal(nn, 2);
    assert_int_equal(liar_push(liar, keys_log, nk, LIAR_AS_IS), 0);
    assert_int_equal(liar_push(liar, net_log, 1, LIAR_AS_IS), 0);
    assert_int_equal(liar_push(liar, &net_log[1], 1, LIAR_STRIP), 0);

    /* a forged erasure: L's own, naming O's workshop, which V holds */
    Lernet__Payload *fp = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])net_log[0]->id, 1, "");
    keys_identity_t *lk = liar_steal_key(&L, 0);
    assert_non_null(lk);
    event_t *forged = NULL;
    assert_int_equal(event_create(&forged, lk, NET, 1, NULL, event_now_ms(), fp, why, sizeof why),
                     EV_OK);
    assert_int_equal(liar_push(liar, &forged, 1, LIAR_AS_IS), 0);
    /* a last push with a broken signature: once logged, V handled all before
     * (an event V does not hold: a copy of one it holds is dropped unread) */
    Lernet__Payload *sp = tu_workshop("Sista kontrollen", "Last check", 1796112000LL);
    event_t *sentinel = NULL;
    assert_int_equal(event_create(&sentinel, lk, NET, 2, forged->id, event_now_ms(), sp, why,
                                  sizeof why), EV_OK);
    tu_payload_free(sp);
    assert_int_equal(liar_push(liar, &sentinel, 1, LIAR_BAD_SIG), 0);
    event_free(&sentinel);
    erased_q_t ow = {&V, ws, "author"};
    assert_true(h_wait(logged_bad_sig, &V, H_DEADLINE_MS));
    assert_true(shows_item(&ow));
    assert_true(h_log_contains(&V, "payload_missing"));
    assert_true(h_log_contains(&V, "only its author, or a coordinator of a managed network, "
                                   "may erase it"));
    assert_int_equal(h_lernet(&V, &out, "show %s --json", ws), 0);
    assert_non_null(strstr(out, "\"erased\": false"));
    assert_non_null(strstr(out, "Open day"));
    free(out);
    erased_q_t vr = {&V, rep, "author"};
    assert_false(shows_item(&vr)); /* the stripped copy was not taken */

    /* the owner comes online: the genuine report is taken, whole */
    assert_int_equal(h_node_start(&O), 0);
    assert_true(h_wait(shows_item, &vr, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&V, &out, "show %s --json", rep), 0);
    assert_non_null(strstr(out, secret));
    assert_non_null(strstr(out, "\"erased\": false"));
    free(out);
    assert_int_equal(h_lernet(&V, NULL, "verify"), 0);

    liar_close(&liar);
    keys_free(&lk);
    event_free(&forged);
    tu_payload_free(fp);
    for (size_t i = 0; i < nk; i++)
        event_free(&keys_log[i]);
    for (size_t i = 0; i < nn; i++)
        event_free(&net_log[i]);
    free(keys_log);
    free(net_log);
    h_node_free(&L);
    h_node_free(&V);
    h_node_free(&O);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erasure_reaches_every_replica),
        cmocka_unit_test(test_moderation_and_refusals),
        cmocka_unit_test(test_lone_cancel_not_erased),
        cmocka_unit_test(test_liar_cannot_strip_or_forge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
