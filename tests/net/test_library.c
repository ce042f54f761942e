/*
 * test_library: the library and the discussions (issue 18) across three
 * real daemons in a line, A – B – C, in a managed network that A
 * coordinates (B and C are members; C hears A only through B).
 *
 *  - A resource published on A with an attached file reaches C: C (which
 *    keeps no file unasked, attachments_keep = none) lists the file with
 *    present=false, A with present=true, and A's
 *    `attachment get` and its web page's download give the same bytes.
 *  - search on C finds A's resource by a part of a word (CLI and page), and
 *    not a reply a coordinator hid.
 *  - A reply written on C, and B's reply to it, appear in A's thread,
 *    nested by what they answer.
 *  - The coordinator's hide hides C's reply at every member (shown as
 *    hidden, by A); B, not a coordinator, is refused with a one-line reason
 *    and signs nothing; the coordinator's unhide shows it again everywhere.
 *  - The Atom feed of A's node (CLI and /feed.atom) parses with a real
 *    feed parser (python3-feedparser) as Atom 1.0 and holds the resource.
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
#include "harness/testutil.h"

#define NET "wbl-library"
#define FEEDPARSER "/usr/bin/python3"

static void printed_id(const char *out, char id[65])
{
    const char *p = out ? strstr(out, "published ") : NULL;
    if (!p || sscanf(p, "published %64[0-9a-f]", id) != 1)
        fail_msg("no id in: %s", out ? out : "(nothing)");
}

/* `show ID --json` on n (new reference), or NULL when n does not hold it. */
static json_t *show(const hnode_t *n, const char *id)
{
    char *out = NULL;
    json_t *j = NULL;
    if (h_lernet(n, &out, "show %s --json", id) == 0 && out)
        j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

static json_t *find(const json_t *arr, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *v = json_string_value(json_object_get(o, "id"));
        if (v && strcmp(v, id) == 0)
            return o;
    }
    return NULL;
}

typedef struct q {
    const hnode_t *n;
    const char *id, *reply, *nested, *by;
    int hidden;
} q_t;

static int holds(void *ctx)
{
    q_t *q = ctx;
    json_t *j = show(q->n, q->id);
    json_decref(j);
    return j != NULL;
}

/* q->id's thread holds q->reply (and, under it, q->nested). */
static int threads(void *ctx)
{
    q_t *q = ctx;
    json_t *j = show(q->n, q->id);
    json_t *r = find(json_object_get(j, "replies"), q->reply);
    int ok = r && (!q->nested || find(json_object_get(r, "replies"), q->nested));
    json_decref(j);
    return ok;
}

/* q->reply in q->id's thread is hidden by q->by (or, hidden 0, not hidden). */
static int hidden_as(void *ctx)
{
    q_t *q = ctx;
    json_t *j = show(q->n, q->id);
    json_t *r = find(json_object_get(j, "replies"), q->reply);
    const json_t *h = json_object_get(r, "hidden");
    const char *by = json_string_value(json_object_get(h, "by"));
    int ok = r && (q->hidden ? by && strcmp(by, q->by) == 0 : h == NULL);
    json_decref(j);
    return ok;
}

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
    char cmd[2048], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    tu_run(cmd, &out);
    return out;
}

/* `lernet ARGS` on n with stderr and the exit code in the output. */
static char *both_of(const hnode_t *n, const char *args)
{
    return run("%s --home '%s' %s 2>&1; echo \"exit=$?\"", h_bin(), n->home, args);
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

/* A member's node trusts A as the network's coordinator. */
static void trust(const hnode_t *n, const hnode_t *coord)
{
    char path[600];
    snprintf(path, sizeof path, "%s/lernet.ini", n->home);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "\n[network \"%s\"]\ncoordinators = %s\n", NET, coord->pub);
    fclose(f);
}

/* The feed parses as Atom 1.0 with a real parser and lists title. */
static void check_feed(const char *path, const char *title, const char *id)
{
    char *out = run(FEEDPARSER " -c 'import feedparser, sys\n"
                    "d = feedparser.parse(sys.argv[1])\n"
                    "assert not d.bozo, d.bozo_exception\n"
                    "assert d.version == \"atom10\", d.version\n"
                    "assert d.feed.id and d.feed.title and d.feed.updated\n"
                    "for e in d.entries:\n"
                    "    assert e.id and e.title and e.updated and e.author and e.link, e\n"
                    "print(\"ok\", len(d.entries))\n"
                    "for e in d.entries: print(e.id, e.title)' '%s' 2>&1",
                    path);
    if (!out || strncmp(out, "ok ", 3) != 0)
        fail_msg("feedparser: %s", out ? out : "(nothing)");
    char urn[100];
    snprintf(urn, sizeof urn, "urn:lernet:event:%s %s", id, title);
    if (!strstr(out, urn))
        fail_msg("the feed lacks the resource %s: %s", urn, out);
    free(out);
}

static void test_library_across_three_daemons(void **state)
{
    (void)state;
    hnode_t A, B, C;
    char res[65], rc_id[65], rb_id[65], *out = NULL, path[700];
    assert_int_equal(h_node_init(&A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    h_link(&A, &B, NET);
    h_link(&B, &C, NET);
    A.web_port = h_free_port();
    C.web_port = h_free_port();
    /* C fetches no file unasked: it shows one that is not here (the
     * transfer itself is test_net_attach's) */
    snprintf(C.node_extra, sizeof C.node_extra, "attachments_keep = none\n");
    hnode_t *all[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    assert_int_equal(h_lernet(&A, &out, "network create %s", NET), 0);
    free(out);
    trust(&B, &A);
    trust(&C, &A);
    free(h_invite(&A, &B, NET, "Roskilde Handelsskole"));
    free(h_invite(&A, &C, NET, "OWL Lernregion"));
    /* the members learn who is a member (A's signed statements) before they
     * meet, as an invite would carry them: C hears A only through B */
    snprintf(path, sizeof path, "%s/members.bundle", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export bundle '%s'", path), 0);
    assert_int_equal(h_lernet(&B, NULL, "import bundle '%s'", path), 0);
    assert_int_equal(h_lernet(&C, NULL, "import bundle '%s'", path), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_start(all[i]), 0);
    assert_true(h_wait(h_partners_up, &B, H_DEADLINE_MS));

    /* a method catalogue with its PDF, on A */
    snprintf(path, sizeof path, "%s/Metodekatalog för lärcentra.pdf", A.home);
    free(run("head -c 300000 /dev/urandom > '%s'", path));
    assert_int_equal(h_lernet(&A, &out,
                              "publish resource --title 'da:Metodekatalog' --title "
                              "'en:Method catalogue' --type method --licence 'CC BY 4.0' "
                              "--theme 'workplace learning' --language da "
                              "--url https://example.org/metodekatalog --attach '%s'",
                              path),
                     0);
    printed_id(out, res);
    free(out);
    q_t qc = {&C, res, NULL, NULL, NULL, 0};
    assert_true(h_wait(holds, &qc, H_DEADLINE_MS));
    json_t *a = show(&A, res), *c = show(&C, res);
    json_t *fa = json_array_get(json_object_get(a, "attachments"), 0);
    json_t *fc = json_array_get(json_object_get(c, "attachments"), 0);
    assert_non_null(fa);
    assert_non_null(fc);
    assert_true(json_is_true(json_object_get(fa, "present")));
    assert_true(json_is_false(json_object_get(fc, "present")));
    assert_string_equal(json_string_value(json_object_get(fc, "name")),
                        "Metodekatalog för lärcentra.pdf");
    assert_string_equal(json_string_value(json_object_get(fc, "media_type")), "application/pdf");
    assert_int_equal(json_integer_value(json_object_get(fc, "size")), 300000);
    char hash[65];
    snprintf(hash, sizeof hash, "%s", json_string_value(json_object_get(fa, "hash")));
    assert_string_equal(json_string_value(json_object_get(fc, "hash")), hash);
    json_decref(a);
    json_decref(c);

    /* the bytes: from A's home (CLI and web), not yet at C (asked for
     * there, C's daemon fetches it: its page is looked at first) */
    out = run("curl -s -o /dev/null -w '%%{http_code}' http://127.0.0.1:%d/event/%s/file/0",
              C.web_port, res);
    assert_string_equal(out, "404");
    free(out);
    char args[900];
    snprintf(args, sizeof args, "attachment get %.16s --out '%s/got.pdf'", hash, C.home);
    out = both_of(&C, args);
    assert_non_null(strstr(out, "not yet here"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    snprintf(args, sizeof args, "attachment get %s --out '%s/got.pdf'", hash, A.home);
    assert_int_equal(h_lernet(&A, NULL, "%s", args), 0);
    out = run("cmp '%s' '%s/got.pdf' && echo same", path, A.home);
    assert_non_null(strstr(out, "same"));
    free(out);
    out = run("curl -s -o '%s/web.pdf' -w '%%{http_code}' http://127.0.0.1:%d/event/%s/file/0 && "
              "cmp '%s' '%s/web.pdf' && echo same",
              A.home, A.web_port, res, path, A.home);
    assert_non_null(strstr(out, "200"));
    assert_non_null(strstr(out, "same"));
    free(out);
    out = run("curl -s 'http://127.0.0.1:%d/library?type=method&lang=en'", C.web_port);
    assert_non_null(strstr(out, "Method catalogue"));
    char row[100];
    snprintf(row, sizeof row, "data-id=\"%s\"", res);
    assert_non_null(strstr(out, row));
    free(out);
    out = run("curl -s 'http://127.0.0.1:%d/library?type=literature'", C.web_port);
    assert_null(strstr(out, row)); /* the filter by type leaves it out */
    free(out);

    /* search on C finds what A published: a part of the Danish title, the
     * snippet in Danish, on the CLI and the page */
    assert_int_equal(h_lernet(&C, &out, "search katalog --json"), 0);
    assert_non_null(strstr(out, res));
    assert_non_null(strstr(out, "\"lang\": \"da\""));
    assert_non_null(strstr(out, "\"snippet\": \"Metode[katalog]\""));
    free(out);
    out = run("curl -s 'http://127.0.0.1:%d/search?q=katalog'", C.web_port);
    assert_non_null(strstr(out, res));
    assert_non_null(strstr(out, "Metode<mark>katalog</mark>"));
    free(out);

    /* C replies, B answers C's reply: A's thread holds both, nested */
    assert_int_equal(h_lernet(&C, &out, "publish reply --about %.12s --text "
                                        "'de:Wir haben die Innovationscamps ausprobiert.'",
                              res),
                     0);
    printed_id(out, rc_id);
    free(out);
    q_t qb = {&B, rc_id, NULL, NULL, NULL, 0};
    assert_true(h_wait(holds, &qb, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&B, &out, "publish reply --about %s --text 'da:Tak, godt at "
                                        "høre.'",
                              rc_id),
                     0);
    printed_id(out, rb_id);
    free(out);
    q_t qa = {&A, res, rc_id, rb_id, NULL, 0};
    assert_true(h_wait(threads, &qa, H_DEADLINE_MS));
    out = NULL;
    assert_int_equal(h_lernet(&A, &out, "show %s", res), 0);
    assert_non_null(strstr(out, "OWL Lernregion"));
    assert_non_null(strstr(out, "Wir haben die Innovationscamps ausprobiert."));
    free(out);

    assert_int_equal(h_lernet(&C, &out, "search innovationscamps"), 0);
    assert_non_null(strstr(out, "[Innovationscamps]"));
    free(out);

    /* B is no coordinator: refused, in one line, nothing signed */
    long b_events = events_of(&B);
    snprintf(args, sizeof args, "hide %s --reason 'off topic'", rc_id);
    out = both_of(&B, args);
    assert_non_null(strstr(out, "only a coordinator of '" NET "' may hide"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    assert_int_equal(events_of(&B), b_events);

    /* A hides C's reply: every member sees it hidden, by A */
    assert_int_equal(h_lernet(&A, NULL, "hide %s --reason 'off topic'", rc_id), 0);
    q_t qh[3] = {{&A, res, rc_id, NULL, A.pub, 1}, {&B, res, rc_id, NULL, A.pub, 1},
                 {&C, res, rc_id, NULL, A.pub, 1}};
    for (int i = 0; i < 3; i++)
        assert_true(h_wait(hidden_as, &qh[i], H_DEADLINE_MS));
    assert_int_equal(h_lernet(&C, &out, "show %s", res), 0);
    assert_non_null(strstr(out, "HIDDEN        by Region Örebro län (coordinator)"));
    assert_non_null(strstr(out, "off topic"));
    assert_null(strstr(out, "Innovationscamps")); /* its text is not shown */
    free(out);
    out = run("curl -s http://127.0.0.1:%d/event/%s", C.web_port, res);
    assert_non_null(strstr(out, "class=\"reply hidden\""));
    free(out);
    /* nor does a search show its text */
    assert_int_equal(h_lernet(&C, &out, "search innovationscamps"), 0);
    assert_non_null(strstr(out, "(nothing found)"));
    free(out);

    /* and the unhide shows it again everywhere */
    assert_int_equal(h_lernet(&A, NULL, "hide %s --undo", rc_id), 0);
    for (int i = 0; i < 3; i++) {
        qh[i].hidden = 0;
        assert_true(h_wait(hidden_as, &qh[i], H_DEADLINE_MS));
    }

    /* the feed, by a real parser: the CLI's and the page's */
    snprintf(path, sizeof path, "%s/feed.atom", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export atom --network %s --lang en --out '%s'", NET,
                              path),
                     0);
    check_feed(path, "Method catalogue", res);
    free(run("curl -s -H 'Accept-Language: en' -o '%s/web.atom' "
             "'http://127.0.0.1:%d/feed.atom?network=%s'",
             A.home, A.web_port, NET));
    snprintf(path, sizeof path, "%s/web.atom", A.home);
    check_feed(path, "Method catalogue", res);

    for (int i = 0; i < 3; i++)
        h_node_free(all[i]);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_across_three_daemons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
