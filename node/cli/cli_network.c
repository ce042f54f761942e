/*
 * cli_network: `lernet network create|invite|join|members|remove` (the table
 * network_subs).
 *
 * A managed network is one whose coordinators a node trusts (lernet.ini:
 * [network "NAME"] coordinators = ...). Coordinators publish Membership
 * events in the network; the store then accepts the network's events only
 * from current members (store_trust). An invite carries what a new node
 * needs to join in one step: the network, its coordinators, the signed
 * statement that admits it, and one member to dial.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/payload_json.h"
#include "util/time.h"
#include "daemon/control.h"
#include "export/invite.h"
#include "keys/keystore.h"
#include "store/publish.h"

static int own_identity(cli_ctx_t *ctx, uint8_t id[KEYS_PUBLIC_BYTES])
{
    char why[512] = "";
    if (keystore_load_public(cli_home_path(ctx, "keys"), id, why, sizeof why) != KEYSTORE_OK)
        return cli_error(CLI_NOHOME, "%s", why);
    return CLI_OK;
}

static const config_netdef_t *netdef(const config_t *cfg, const char *net)
{
    for (size_t i = 0; i < cfg->n_netdefs; i++)
        if (strcmp(cfg->netdefs[i].name, net) == 0)
            return &cfg->netdefs[i];
    return NULL;
}

typedef struct coord_q {
    const uint8_t *key;
    int coordinator;
} coord_q_t;

static int note_coord(void *ctx, const store_member_t *m)
{
    coord_q_t *q = ctx;
    if (memcmp(m->key, q->key, KEYS_PUBLIC_BYTES) == 0)
        q->coordinator = m->coordinator && !m->removed;
    return 0;
}

static int is_coordinator(store_t *st, const char *net, const uint8_t *key)
{
    coord_q_t q = {key, 0};
    store_members(st, net, note_coord, &q);
    return q.coordinator;
}

/* Publishes through the running daemon (which pushes at once), else
 * directly; *id_hex gets the event id. */
static int publish(cli_ctx_t *ctx, store_t *st, const char *net, const Lernet__Payload *p,
                   char id_hex[EVENT_ID_HEX_SIZE])
{
    size_t len = lernet__payload__get_packed_size(p);
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t *buf = malloc(len ? len : 1);
    char *b64 = malloc(b64len), why[512] = "";
    json_t *reply = NULL;
    lernet__payload__pack(p, buf);
    sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
    free(buf);
    json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "publish", "network", net, "payload", b64);
    free(b64);
    int rc = control_request(ctx->home, req, &reply, CONTROL_TIMEOUT_MS);
    json_decref(req);
    if (rc == CONTROL_OK) {
        const char *id = json_string_value(json_object_get(reply, "id"));
        rc = id ? CLI_OK
                : cli_error(CLI_FAIL, "refused: %s",
                            json_string_value(json_object_get(reply, "error")));
        if (id)
            snprintf(id_hex, EVENT_ID_HEX_SIZE, "%s", id);
        json_decref(reply);
        return rc;
    }
    keys_identity_t *k = NULL;
    uint8_t author[KEYS_PUBLIC_BYTES];
    event_t *ev = NULL;
    if ((rc = cli_load_signer(ctx, &k, author)))
        return rc;
    publish_signer_t who = {.key = k, .author = author}; /* membership statements: no files */
    rc = publish_event(st, &who, net, p, &ev, why, sizeof why) == PUBLISH_OK
             ? CLI_OK
             : cli_error(CLI_FAIL, "refused: %s", why);
    if (ev)
        event_id_hex(id_hex, ev->id);
    event_free(&ev);
    keys_free(&k);
    return rc;
}

/* ---- create ----------------------------------------------------------- */

static int create(cli_ctx_t *ctx, const char *net)
{
    config_t *cfg = NULL;
    uint8_t id[KEYS_PUBLIC_BYTES];
    char pub[KEYS_PUB_STR_SIZE], section[256], why[512] = "";
    int rc = own_identity(ctx, id);
    if (rc || (rc = cli_load_config(ctx, &cfg)))
        return rc;
    if (!event_network_valid(net))
        rc = cli_error(CLI_USAGE, "'%s' is not a network name", net);
    else if (netdef(cfg, net))
        rc = cli_error(CLI_FAIL, "%s already has coordinators in lernet.ini", net);
    config_free(&cfg);
    if (rc)
        return rc;
    keys_pub_encode(pub, id);
    snprintf(section, sizeof section, "\n[network \"%s\"]\ncoordinators = %s\n", net, pub);
    if (config_edit(cli_home_path(ctx, "lernet.ini"), net, section, why, sizeof why) !=
        CONFIG_OK)
        return cli_error(CLI_FAIL, "%s", why);
    printf("this node coordinates %s: admit members with `lernet network invite %s --key KEY "
           "--name ORG`\n(restart a running daemon to apply)\n",
           net, net);
    return CLI_OK;
}

/* ---- invite ----------------------------------------------------------- */

typedef struct invite_opts {
    const char *net, *key, *name, *until, *endpoint;
    int coordinator;
} invite_opts_t;

static json_t *b64_json(const uint8_t *buf, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *t = malloc(n);
    sodium_bin2base64(t, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(t);
    free(t);
    return j;
}

/* The coordinator's key log, so the new node can check the statement's
 * signing key before it has synced anything. */
static int add_key_event(void *ctx, const store_row_t *r)
{
    json_t *arr = ctx;
    uint8_t *buf;
    size_t len;
    if (store_row_envelope(r, &buf, &len) != 0)
        return 1;
    json_array_append_new(arr, b64_json(buf, len));
    free(buf);
    return json_array_size(arr) >= INVITE_MAX_KEY_EVENTS;
}

static char *invite_text(const config_t *cfg, const invite_opts_t *o, const config_netdef_t *d,
                         const uint8_t *self, const uint8_t *env, size_t env_len, json_t *keys)
{
    char pub[KEYS_PUB_STR_SIZE];
    json_t *coords = json_array();
    for (size_t i = 0; i < d->n_coordinators; i++) {
        keys_pub_encode(pub, d->coordinators[i]);
        json_array_append_new(coords, json_string(pub));
    }
    keys_pub_encode(pub, self);
    json_t *doc = json_pack("{s:s,s:o,s:{s:s,s:s,s:s},s:o,s:o}", "network", o->net,
                            "coordinators", coords, "peer", "name", cfg->name, "public_key", pub,
                            "endpoint", o->endpoint ? o->endpoint : cfg->listen, "statement",
                            b64_json(env, env_len), "keys", keys);
    char *json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    size_t jl = strlen(json), outlen = strlen(INVITE_PREFIX) +
                                      sodium_base64_ENCODED_LEN(jl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = malloc(outlen);
    strcpy(out, INVITE_PREFIX);
    sodium_bin2base64(out + strlen(INVITE_PREFIX), outlen - strlen(INVITE_PREFIX),
                      (const uint8_t *)json, jl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(json);
    return out;
}

static int invite(cli_ctx_t *ctx, const invite_opts_t *o)
{
    config_t *cfg = NULL;
    store_t *st = NULL;
    uint8_t self[KEYS_PUBLIC_BYTES], member[KEYS_PUBLIC_BYTES];
    char id_hex[EVENT_ID_HEX_SIZE], why[256] = "";
    int64_t until = 0;
    event_t *ev = NULL;
    if (keys_pub_decode(member, o->key) != KEYS_OK)
        return cli_error(CLI_USAGE, "--key: not a lernet public key (44 base64 characters)");
    if (o->until && civil_day_parse(o->until, &until, 1) != 0)
        return cli_error(CLI_USAGE, "--until: '%s' is not YYYY-MM-DD", o->until);
    until = until ? until * 1000 - 1 : 0; /* through that day, UTC, in ms */
    int rc = own_identity(ctx, self);
    if (rc || (rc = cli_load_config(ctx, &cfg)) || (rc = cli_open_store(ctx, &st)))
        goto done;
    const config_netdef_t *d = netdef(cfg, o->net);
    if (!d) {
        rc = cli_error(CLI_FAIL, "%s is not a managed network here (no [network] section; "
                                 "see `lernet network create`)", o->net);
        goto done;
    }
    if (!is_coordinator(st, o->net, self)) {
        rc = cli_error(CLI_FAIL, "this node is not a coordinator of %s", o->net);
        goto done;
    }
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    m.member.data = member;
    m.member.len = KEYS_PUBLIC_BYTES;
    m.name = (char *)o->name;
    m.until_ms = until;
    m.coordinator = o->coordinator;
    m.endpoint = "";
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    p.membership = &m;
    if ((rc = publish(ctx, st, o->net, &p, id_hex)))
        goto done;
    uint8_t *env = NULL;
    size_t env_len = 0;
    if (store_get_event(st, id_hex, &ev, why, sizeof why) != STORE_OK ||
        event_envelope(ev, &env, &env_len) != EV_OK) {
        rc = cli_error(CLI_FAIL, "the statement was published but cannot be read back: %s", why);
        goto done;
    }
    json_t *keys = json_array();
    uint64_t kseq = 0;
    uint8_t khead[EVENT_ID_BYTES];
    store_head(st, ev->author, EVENT_LOG_KEYS, &kseq, khead);
    if (kseq > INVITE_MAX_KEY_EVENTS) {
        json_decref(keys);
        free(env);
        rc = cli_error(CLI_FAIL, "more than %d key events: an invite cannot carry them",
                       INVITE_MAX_KEY_EVENTS);
        goto done;
    }
    store_range(st, ev->author, EVENT_LOG_KEYS, 1, kseq, add_key_event, keys);
    char *text = invite_text(cfg, o, d, self, env, env_len, keys);
    free(env);
    printf("admitted %s to %s (statement %.16s)\ngive the new node this invite:\n\n%s\n", o->name,
           o->net, id_hex, text);
    free(text);
done:
    event_free(&ev);
    store_close(&st);
    config_free(&cfg);
    return rc;
}

/* ---- join ------------------------------------------------------------- */

/* What lernet.ini must say once the invite is in it. */
typedef struct join_expect {
    const invite_t *iv;
    const config_t *before;
    uint8_t peer_key[KEYS_PUBLIC_BYTES];
} join_expect_t;

/* The edited lernet.ini, exactly as it will load, holds what the invite
 * said and nothing more: one new peer with the invite's name, key,
 * endpoint and network, one new [network] section with its coordinators,
 * the network among the node's. Anything else means a field of the invite
 * said more than it seemed to: refused, nothing written. */
static int join_check(void *ctx, const config_t *c, char *why, size_t whylen)
{
    const join_expect_t *x = ctx;
    const invite_t *iv = x->iv;
    const config_peer_t *p = config_peer_by_key(c, x->peer_key);
    const config_netdef_t *d = netdef(c, iv->network);
    size_t nets = x->before->n_networks + !config_has_network(x->before, iv->network);
    int ok = c->n_peers == x->before->n_peers + 1 && c->n_netdefs == x->before->n_netdefs + 1 &&
             c->n_networks == nets && config_has_network(c, iv->network) && p &&
             strcmp(p->name, iv->peer_name) == 0 && strcmp(p->endpoint, iv->endpoint) == 0 &&
             p->n_networks == 1 && strcmp(p->networks[0], iv->network) == 0 && d &&
             d->n_coordinators == iv->n_coordinators;
    for (size_t i = 0; ok && i < iv->n_coordinators; i++)
        ok = memcmp(d->coordinators[i], iv->coordinators[i], KEYS_PUBLIC_BYTES) == 0;
    if (ok)
        return 0;
    snprintf(why, whylen, "lernet.ini would not hold exactly the invite's peer and network; "
                          "nothing was changed");
    return -1;
}

/* How this node already takes part in net (into buf), or NULL if it does
 * not: net has coordinators in lernet.ini, a partner shares it, or the
 * store holds logs of it. Joining such a network by invite would make the
 * invite's issuer its coordinator, and every partner the issuer did not
 * admit would then be refused there. A network only named in [node]
 * networks (as `init --network` leaves it) is shared with no one yet. */
static const char *takes_part(const config_t *cfg, store_t *st, const char *net, char *buf,
                              size_t len)
{
    const char *nets[] = {net};
    store_feed_t *feeds = NULL;
    size_t n = 0;
    if (netdef(cfg, net)) {
        snprintf(buf, len, "lernet.ini names its coordinators");
        return buf;
    }
    for (size_t i = 0; i < cfg->n_peers; i++)
        if (config_peer_has_network(&cfg->peers[i], net)) {
            snprintf(buf, len, "shared with partner '%s'", cfg->peers[i].name);
            return buf;
        }
    if (store_feeds(st, nets, 1, &feeds, &n) == STORE_OK && n > 0) {
        free(feeds);
        snprintf(buf, len, "the store holds %zu log%s of it", n, n == 1 ? "" : "s");
        return buf;
    }
    free(feeds);
    return NULL;
}

/* The [network] and [peer] sections the invite adds, keys re-encoded in
 * their one printable form; -1 if they do not fit. */
static int join_sections(char *out, size_t len, const invite_t *iv, const uint8_t *peer_key)
{
    char pub[KEYS_PUB_STR_SIZE];
    size_t off = (size_t)snprintf(out, len, "\n[network \"%s\"]\ncoordinators = ", iv->network);
    for (size_t i = 0; i < iv->n_coordinators && off < len; i++) {
        keys_pub_encode(pub, iv->coordinators[i]);
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "", pub);
    }
    keys_pub_encode(pub, peer_key);
    if (off < len)
        off += (size_t)snprintf(out + off, len - off,
                                "\n\n[peer \"%s\"]\npublic_key = %s\nendpoint = %s\nnetworks = %s\n",
                                iv->peer_name, pub, iv->endpoint, iv->network);
    return off < len ? 0 : -1;
}

static int join(cli_ctx_t *ctx, const char *text)
{
    uint8_t self[KEYS_PUBLIC_BYTES];
    invite_t iv;
    config_t *cfg = NULL;
    store_t *st = NULL;
    join_expect_t x;
    char sections[2048], why[512] = "", how[192];
    int rc = own_identity(ctx, self);
    if (rc)
        return rc;
    if (invite_parse(&iv, text, self, event_now_ms(), why, sizeof why) != 0)
        return cli_error(CLI_FAIL, "%s", why);
    if ((rc = cli_load_config(ctx, &cfg)) || (rc = cli_open_store(ctx, &st)))
        goto done;
    x = (join_expect_t){.iv = &iv, .before = cfg};
    keys_pub_decode(x.peer_key, iv.peer_key);
    if (takes_part(cfg, st, iv.network, how, sizeof how)) {
        rc = cli_error(CLI_FAIL, "invite: this node already takes part in %s (%s): joining "
                                 "would make the invite's issuer its coordinator and refuse "
                                 "the partners it did not admit; to manage an existing "
                                 "network, agree on its coordinators and set [network \"%s\"] "
                                 "in lernet.ini by hand",
                       iv.network, how, iv.network);
        goto done;
    }
    if (config_peer_by_key(cfg, x.peer_key)) {
        rc = cli_error(CLI_FAIL, "invite: the inviting node is already a partner in lernet.ini; "
                                 "edit it by hand to add %s",
                       iv.network);
        goto done;
    }
    if (join_sections(sections, sizeof sections, &iv, x.peer_key) != 0) {
        rc = cli_error(CLI_FAIL, "invite: its sections do not fit in %zu bytes", sizeof sections);
        goto done;
    }
    /* Everything or nothing: the admission is stored (trusting the invite's
     * coordinators) in a transaction that commits only once the config is
     * written too, and the config only if it then says what the invite
     * said (join_check). */
    for (size_t i = 0; i < iv.n_coordinators; i++)
        store_trust(st, iv.network, iv.coordinators[i]);
    if (store_begin(st) != STORE_OK) {
        rc = cli_error(CLI_FAIL, "store is busy");
        goto done;
    }
    int outcome = -1;
    for (size_t k = 0; k < iv.n_keys && rc == CLI_OK; k++) /* the certificate first */
        if (store_add(st, iv.keys[k], NULL, NULL, why, sizeof why) != STORE_OK)
            rc = cli_error(CLI_FAIL, "invite: a key event was refused: %s", why);
    if (rc == CLI_OK && store_add(st, iv.statement, &outcome, NULL, why, sizeof why) != STORE_OK)
        rc = cli_error(CLI_FAIL, "invite: the admission was refused: %s", why);
    if (rc == CLI_OK &&
        config_edit_checked(cli_home_path(ctx, "lernet.ini"), iv.network, sections, join_check,
                            &x, why, sizeof why) != CONFIG_OK)
        rc = cli_error(CLI_FAIL, "invite: %s", why);
    if (rc != CLI_OK) {
        store_rollback(st);
        goto done;
    }
    if (store_commit(st) != STORE_OK) {
        rc = cli_error(CLI_FAIL, "store: commit failed (lernet.ini was already changed)");
        goto done;
    }
    printf("joined %s: partner %s added, admission stored\n(re)start `lernet run` to sync\n",
           iv.network, iv.peer_name);
done:
    invite_free(&iv);
    store_close(&st);
    config_free(&cfg);
    return rc;
}

/* ---- members, remove --------------------------------------------------- */

static int print_member(void *ctx, const store_member_t *m)
{
    json_t *arr = ctx;
    char pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    const char *status = m->removed ? "removed" : m->anchor ? "coordinator (trusted here)"
                         : m->coordinator                  ? "coordinator"
                                                           : "member";
    keys_pub_encode(pub, m->key);
    keys_fingerprint(fpr, m->key);
    if (arr) {
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:I}", "public_key", pub,
                                             "fingerprint", fpr, "name", m->name, "status",
                                             status, "until_ms", (json_int_t)m->until_ms));
        return 0;
    }
    char until[32] = "";
    if (m->until_ms) {
        civil_strftime(m->until_ms / 1000, NULL, " until %Y-%m-%d", until, sizeof until);
    }
    printf("%s  %-27s %s%s\n", fpr, status, m->name[0] ? m->name : "-", until);
    return 0;
}

static int members(cli_ctx_t *ctx, const char *net, int json)
{
    store_t *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    if (!store_managed(st, net)) {
        store_close(&st);
        return cli_error(CLI_FAIL, "%s is not a managed network here (open to configured "
                                   "partners)", net);
    }
    json_t *arr = json ? json_array() : NULL;
    store_members(st, net, print_member, arr);
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    }
    store_close(&st);
    return CLI_OK;
}

static int remove_member(cli_ctx_t *ctx, const char *net, const char *key)
{
    store_t *st = NULL;
    uint8_t self[KEYS_PUBLIC_BYTES], member[KEYS_PUBLIC_BYTES], head[EVENT_ID_BYTES];
    char id_hex[EVENT_ID_HEX_SIZE];
    uint64_t seq = 0;
    if (keys_pub_decode(member, key) != KEYS_OK)
        return cli_error(CLI_USAGE, "KEY: not a lernet public key (44 base64 characters)");
    int rc = own_identity(ctx, self);
    if (rc || (rc = cli_open_store(ctx, &st)))
        return rc;
    if (!is_coordinator(st, net, self)) {
        store_close(&st);
        return cli_error(CLI_FAIL, "this node is not a coordinator of %s", net);
    }
    store_head(st, member, net, &seq, head);
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    m.member.data = member;
    m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "";
    m.endpoint = "";
    m.removed = 1;
    m.last_good_seq = seq; /* its history up to here is pinned by the head's id */
    if (seq) {
        m.last_good_id.data = head;
        m.last_good_id.len = EVENT_ID_BYTES;
    }
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    p.membership = &m;
    if ((rc = publish(ctx, st, net, &p, id_hex)) == CLI_OK)
        printf("removed from %s: its events after seq %llu, and its connections, are refused\n",
               net, (unsigned long long)seq);
    store_close(&st);
    return rc;
}

static int parse_invite_opts(int argc, char **argv, invite_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->net = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--coordinator") == 0)
            o->coordinator = 1;
        else if (v && strcmp(a, "--key") == 0)
            o->key = argv[++i];
        else if (v && strcmp(a, "--name") == 0)
            o->name = argv[++i];
        else if (v && strcmp(a, "--until") == 0)
            o->until = argv[++i];
        else if (v && strcmp(a, "--endpoint") == 0)
            o->endpoint = argv[++i];
        else
            return cli_error(CLI_ARGS, "network invite: unexpected '%s'", a);
    }
    if (!o->key || !o->name)
        return cli_error(CLI_USAGE, "network invite: --key and --name are required");
    return CLI_OK;
}

static int run_create(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? create(ctx, argv[2]) : CLI_ARGS;
}

static int run_invite(cli_ctx_t *ctx, int argc, char **argv)
{
    invite_opts_t o;
    if (argc < 3)
        return CLI_ARGS;
    int rc = parse_invite_opts(argc, argv, &o);
    return rc ? rc : invite(ctx, &o);
}

static int run_join(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? join(ctx, argv[2]) : CLI_ARGS;
}

static int run_members(cli_ctx_t *ctx, int argc, char **argv)
{
    int json = argc >= 3 ? cli_json_flag(argc, argv, 3) : -1;
    return json < 0 ? CLI_ARGS : members(ctx, argv[2], json);
}

static int run_remove(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 4 ? remove_member(ctx, argv[2], argv[3]) : CLI_ARGS;
}

static const cli_sub_t network_subs[] = {
    {"create", "NETWORK", run_create,
     "make this node the coordinator of NETWORK (a managed network)"},
    {"invite", "NETWORK --key KEY --name ORG [--until YYYY-MM-DD] [--coordinator] "
               "[--endpoint ENDPOINT]",
     run_invite,
     "admit the node with identity KEY (its `lernet keys show`) and print an invite for it; "
     "--coordinator lets it admit others too"},
    {"join", "INVITE", run_join,
     "on the new node: trust the network's coordinators, take the admission, add the inviting "
     "node as partner; then (re)start `lernet run`"},
    {"members", "NETWORK [--json]", run_members,
     "the coordinators and members this node knows of"},
    {"remove", "NETWORK KEY", run_remove,
     "end KEY's membership: its later events and connections are refused"},
};

int cli_network(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "network", network_subs,
                        sizeof network_subs / sizeof network_subs[0], argc, argv);
}
