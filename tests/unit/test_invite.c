/*
 * test_invite: what `lernet network join` takes from an invite. Every field
 * is checked by the rule lernet.ini applies to it, so a crafted invite
 * (a newline in the endpoint or the peer name, a quote that ends the
 * section header early) is refused with a line naming the field, and the
 * joiner's lernet.ini and store stay exactly as they were; an invite for a
 * network the node already takes part in (shared with a partner, managed,
 * or with events stored) is refused too; an honest invite writes exactly
 * its peer and network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "export/invite.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

typedef struct home {
    char *dir, home[600], err[640], pub[KEYS_PUB_STR_SIZE];
} home_t;

static int L(const home_t *h, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int L(const home_t *h, char **out, const char *fmt, ...)
{
    char args[8192], cmd[10000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' %s 2>'%s'", LERNET_BIN, h->home, args, h->err);
    return tu_run(cmd, out);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 18);
    size_t n = fread(buf, 1, (1 << 18) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_error_has(const home_t *h, const char *needle)
{
    char *e = slurp(h->err);
    if (!strstr(e, needle))
        fprintf(stderr, "stderr was: %s\n", e);
    assert_non_null(strstr(e, needle));
    const char *nl = strchr(e, '\n');
    assert_true(!nl || nl[1] == '\0'); /* one line */
    free(e);
}

static void home_new(home_t *h, const char *name, const char *network)
{
    char *out = NULL;
    memset(h, 0, sizeof *h);
    h->dir = tu_tempdir();
    snprintf(h->home, sizeof h->home, "%s/node", h->dir);
    snprintf(h->err, sizeof h->err, "%s/err.txt", h->dir);
    assert_int_equal(L(h, NULL, "init --no-passphrase --name '%s' --country SE --network %s "
                                "--listen tcp://127.0.0.1:1 --web off",
                       name, network),
                     0);
    assert_int_equal(L(h, &out, "keys show"), 0);
    assert_int_equal(sscanf(out, "public_key %44s", h->pub), 1);
    free(out);
}

static void home_free(home_t *h)
{
    tu_rmtree(&h->dir);
}

static char *ini_of(const home_t *h)
{
    char path[700];
    snprintf(path, sizeof path, "%s/lernet.ini", h->home);
    return slurp(path);
}

static void append_ini(const home_t *h, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/lernet.ini", h->home);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static uint64_t events_of(const home_t *h)
{
    char path[700];
    store_t *st = NULL;
    store_stats_t s = {0};
    snprintf(path, sizeof path, "%s/store.db", h->home);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    assert_int_equal(store_stats(st, &s), STORE_OK);
    store_close(&st);
    return s.events;
}

/* The invite coordinator c prints for node n. */
static char *invite_for(const home_t *c, const home_t *n)
{
    char *out = NULL;
    assert_int_equal(L(c, &out, "network invite %s --key '%s' --name 'OWL Lernregion' "
                                "--endpoint tcp://agency.example.org:7400",
                       NET, n->pub),
                     0);
    char *line = strstr(out, INVITE_PREFIX);
    assert_non_null(line);
    line[strcspn(line, "\n")] = '\0';
    char *inv = strdup(line);
    free(out);
    return inv;
}

static json_t *decode(const char *inv)
{
    size_t plen = strlen(INVITE_PREFIX), len = 0;
    uint8_t *raw = malloc(INVITE_MAX);
    assert_int_equal(sodium_base642bin(raw, INVITE_MAX, inv + plen, strlen(inv + plen), NULL,
                                       &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    json_t *doc = json_loadb((const char *)raw, len, 0, NULL);
    free(raw);
    assert_non_null(doc);
    return doc;
}

/* doc as an invite (takes doc). */
static char *encode(json_t *doc)
{
    char *json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    size_t jl = strlen(json), plen = strlen(INVITE_PREFIX),
           n = plen + sodium_base64_ENCODED_LEN(jl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(n);
    strcpy(out, INVITE_PREFIX);
    sodium_bin2base64(out + plen, n - plen, (const uint8_t *)json, jl,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(json);
    return out;
}

/* inv with one field of "peer" (or the top level, peer_field NULL) set. */
static char *with(const char *inv, const char *peer_field, const char *top_field, json_t *v)
{
    json_t *doc = decode(inv);
    if (peer_field)
        json_object_set_new(json_object_get(doc, "peer"), peer_field, v);
    else
        json_object_set_new(doc, top_field, v);
    return encode(doc);
}

typedef struct fx {
    home_t c, n, x; /* coordinator, the node it admits, an attacker */
    char *inv;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    home_new(&f->c, "Region Örebro län", NET);
    home_new(&f->n, "OWL Lernregion", NET);
    home_new(&f->x, "Unbekannte GmbH", NET);
    assert_int_equal(L(&f->c, NULL, "network create %s", NET), 0);
    f->inv = invite_for(&f->c, &f->n);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    home_free(&f->c);
    home_free(&f->n);
    home_free(&f->x);
    free(f->inv);
    free(f);
    return 0;
}

/* join refuses inv naming needle, and leaves lernet.ini and the store as
 * they were. */
static void assert_join_refused(const home_t *n, const char *inv, const char *needle)
{
    char *before = ini_of(n);
    uint64_t events = events_of(n);
    assert_int_equal(L(n, NULL, "network join '%s'", inv), 1);
    assert_error_has(n, needle);
    char *after = ini_of(n);
    assert_string_equal(before, after);
    assert_int_equal(events_of(n), events);
    free(before);
    free(after);
}

/* A newline in the endpoint or the name would write the attacker's own
 * [peer] section (its key, its endpoint) into the joiner's lernet.ini. */
static void test_crafted_fields_refused(void **state)
{
    fx_t *f = *state;
    char evil[1024];
    /* join appends "networks = ..." after the endpoint: that completes it */
    snprintf(evil, sizeof evil,
             "tcp://agency.example.org:7400\nnetworks = " NET "\n\n[peer \"Zweiter Partner\"]\n"
             "public_key = %s\nendpoint = tcp://evil.example:7400",
             f->x.pub);
    char *inv = with(f->inv, "endpoint", NULL, json_string(evil));
    assert_join_refused(&f->n, inv, "'peer.endpoint'");
    assert_error_has(&f->n, "control character");
    free(inv);

    /* the name closes its own header and opens the attacker's section */
    snprintf(evil, sizeof evil,
             "OWL\"]\npublic_key = %s\nendpoint = tcp://evil.example:7400\nnetworks = " NET
             "\n\n[peer \"Region",
             f->x.pub);
    inv = with(f->inv, "name", NULL, json_string(evil));
    assert_join_refused(&f->n, inv, "'peer.name'");
    free(inv);
    /* a quote with no newline: [peer "a"] ;"] loads as "a" */
    inv = with(f->inv, "name", NULL, json_string("Region\"] ;"));
    assert_join_refused(&f->n, inv, "'peer.name': contains a double quote");
    free(inv);
    inv = with(f->inv, "endpoint", NULL, json_string("tcp://a.example:1 ; comment"));
    assert_join_refused(&f->n, inv, "'peer.endpoint'");
    free(inv);
    inv = with(f->inv, NULL, "network", json_string("nordic-wbl\n[node]"));
    assert_join_refused(&f->n, inv, "'network'");
    free(inv);

    /* the honest invite still goes through, and writes exactly its fields */
    assert_int_equal(L(&f->n, NULL, "network join '%s'", f->inv), 0);
    char path[700], why[512];
    config_t *cfg = NULL;
    uint8_t ck[KEYS_PUBLIC_BYTES];
    snprintf(path, sizeof path, "%s/lernet.ini", f->n.home);
    assert_int_equal(config_load(&cfg, path, why, sizeof why), CONFIG_OK);
    assert_int_equal(cfg->n_peers, 1);
    assert_string_equal(cfg->peers[0].name, "Region Örebro län");
    assert_string_equal(cfg->peers[0].endpoint, "tcp://agency.example.org:7400");
    assert_int_equal(cfg->n_netdefs, 1);
    assert_int_equal(keys_pub_decode(ck, f->c.pub), KEYS_OK);
    assert_memory_equal(cfg->netdefs[0].coordinators[0], ck, KEYS_PUBLIC_BYTES);
    config_free(&cfg);
}

/* invite_parse names the field that is wrong, in one line. */
static void test_parse_names_field(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *peer_field, *top_field, *value, *needle;
    } cases[] = {
        {"name", NULL, "", "'peer.name': must not be empty"},
        {"name", NULL, "OWL\tLernregion", "'peer.name': contains a control character"},
        {"name", NULL, "OWL \x7f", "'peer.name': contains a control character"},
        {"name", NULL, "OWL \"Lernregion\"", "'peer.name': contains a double quote"},
        {"endpoint", NULL, "tcp://a.example:1\r", "'peer.endpoint'"},
        {"endpoint", NULL, "http://a.example:1", "must start with tcp://"},
        {"endpoint", NULL, "tcp://", "no address"},
        {"endpoint", NULL, "tcp://a b", "must not contain spaces"},
        {"public_key", NULL, "31L0tLV6rf4B9AaCLI5knukrBfH5jqLqwbCgAvfdW1w=\n", "'peer.public_key'"},
        {NULL, "network", "Nordic WBL", "'network' is not a network name"},
        {NULL, "network", "", "'network' is not a network name"},
    };
    char why[512];
    invite_t iv;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *inv = with(f->inv, cases[i].peer_field, cases[i].top_field,
                         json_string_nocheck(cases[i].value));
        assert_int_equal(invite_parse(&iv, inv, NULL, event_now_ms(), why, sizeof why), -1);
        if (!strstr(why, cases[i].needle))
            fprintf(stderr, "case %zu: %s\n", i, why);
        assert_non_null(strstr(why, cases[i].needle));
        assert_null(strpbrk(why, "\r\n"));
        free(inv);
    }
    /* a long name: as long as lernet.ini allows, and one byte more */
    char name[CONFIG_MAX_NAME + 1];
    memset(name, 'a', sizeof name);
    name[CONFIG_MAX_NAME - 1] = '\0';
    char *inv = with(f->inv, "name", NULL, json_string(name));
    assert_int_equal(invite_parse(&iv, inv, NULL, event_now_ms(), why, sizeof why), 0);
    invite_free(&iv);
    free(inv);
    name[CONFIG_MAX_NAME - 1] = 'a';
    name[CONFIG_MAX_NAME] = '\0';
    inv = with(f->inv, "name", NULL, json_string(name));
    assert_int_equal(invite_parse(&iv, inv, NULL, event_now_ms(), why, sizeof why), -1);
    assert_non_null(strstr(why, "'peer.name': too long"));
    free(inv);
    /* coordinators: a list of 1-4 lernet keys */
    json_t *five = json_array();
    for (int i = 0; i < 5; i++)
        json_array_append_new(five, json_string(f->c.pub));
    static const char *const bad_lists[] = {"[]", "[\"x\"]", "\"one\"", NULL};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = bad_lists[i] ? json_loads(bad_lists[i], JSON_DECODE_ANY, NULL) : five;
        inv = with(f->inv, NULL, "coordinators", v);
        assert_int_equal(invite_parse(&iv, inv, NULL, event_now_ms(), why, sizeof why), -1);
        assert_non_null(strstr(why, "'coordinators'"));
        free(inv);
    }
    inv = with(f->inv, NULL, "statement", json_integer(1));
    assert_int_equal(invite_parse(&iv, inv, NULL, event_now_ms(), why, sizeof why), -1);
    assert_non_null(strstr(why, "'statement' is missing"));
    free(inv);
}

/* A network this node already shares with a partner (open): the invite's
 * issuer would become its coordinator, and the partner's events refused. */
static void test_same_network_refused(void **state)
{
    fx_t *f = *state;
    char section[512];
    snprintf(section, sizeof section,
             "\n[peer \"Roskilde Handelsskole\"]\npublic_key = %s\n"
             "endpoint = tcp://127.0.0.1:2\nnetworks = " NET "\n",
             f->x.pub);
    append_ini(&f->n, section);
    assert_join_refused(&f->n, f->inv, "already takes part in " NET
                                       " (shared with partner 'Roskilde Handelsskole')");
}

/* Managed already (its own coordinators in lernet.ini), or events of it in
 * the store: refused the same way. */
static void test_managed_or_stored_network_refused(void **state)
{
    fx_t *f = *state;
    assert_int_equal(L(&f->n, NULL, "network create %s", NET), 0);
    assert_join_refused(&f->n, f->inv, "already takes part in " NET
                                       " (lernet.ini names its coordinators)");

    home_t m;
    home_new(&m, "Køge Handelsskole", NET);
    char *inv = invite_for(&f->c, &m);
    assert_int_equal(L(&m, NULL, "publish workshop --title 'da:Praktik' --start "
                                 "2027-02-09T09:00 --end 2027-02-09T15:00 --place 'Køge' --network " NET),
                     0);
    assert_join_refused(&m, inv, "already takes part in " NET " (the store holds 1 log of it)");
    free(inv);
    home_free(&m);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crafted_fields_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_names_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_network_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_managed_or_stored_network_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
