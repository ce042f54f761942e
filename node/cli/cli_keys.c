/*
 * cli_keys: `lernet keys` (the subcommands are the table keys_subs: show,
 * list, rotate, profile, revoke, revoke-identity, export, import), and the
 * signing key and revocation statement `lernet init` creates.
 *
 * Key events (certificates, revocations) are signed by the identity key,
 * which only the CLI holds (after the passphrase): the CLI stores them in
 * the node's "@keys" log itself and asks a running daemon to push them.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/control.h"
#include "util/fileio.h"
#include "keys/keystore.h"
#include "store/publish.h"

#define STATEMENT_FILE "identity-revocation.txt"

/* Asks a running daemon to push an event this process stored. */
static void announce(cli_ctx_t *ctx, const event_t *ev)
{
    char hex[EVENT_ID_HEX_SIZE];
    json_t *reply = NULL;
    event_id_hex(hex, ev->id);
    json_t *req = json_pack("{s:s,s:s}", "cmd", "announce", "id", hex);
    if (control_request(ctx->home, req, &reply, CONTROL_TIMEOUT_MS) == CONTROL_OK)
        printf("pushed to partners by the running daemon\n");
    else
        printf("no daemon running: partners get it at the next sync\n");
    json_decref(req);
    json_decref(reply);
}

/* Signs p with the identity key into a reserved log and stores it. */
static int issue(store_t *st, const keys_identity_t *id, const char *log,
                 const Lernet__Payload *p, event_t **out)
{
    char why[512] = "";
    publish_signer_t who = {.key = id, .author = NULL}; /* key events list no files */
    if (publish_event(st, &who, log, p, out, why, sizeof why) != PUBLISH_OK)
        return cli_error(CLI_FAIL, "%s event refused: %s", log, why);
    return CLI_OK;
}

/* keys/<from>.{key,pub} -> keys/<to>.{key,pub} */
static int rename_pair(cli_ctx_t *ctx, const char *from, const char *to)
{
    static const char *ext[] = {"pub", "key"};
    for (int i = 0; i < 2; i++) {
        char a[PATH_MAX + 80], b[PATH_MAX + 80];
        snprintf(a, sizeof a, "%.*s/%s.%s", PATH_MAX, cli_home_path(ctx, "keys"), from, ext[i]);
        snprintf(b, sizeof b, "%.*s/%s.%s", PATH_MAX, cli_home_path(ctx, "keys"), to, ext[i]);
        if (rename(a, b) != 0)
            return cli_error(CLI_FAIL, "cannot rename %s: %s", a, strerror(errno));
    }
    return CLI_OK;
}

/* A new signing key, certified in the store before it may sign anything,
 * then put in place as keys/signing.key (unencrypted: the daemon signs
 * unattended; the identity key is what stays protected). */
static int new_signing_key(cli_ctx_t *ctx, store_t *st, const keys_identity_t *id,
                           const char *note, char fpr[KEYS_FPR_STR_SIZE], event_t **cert)
{
    keys_identity_t *k = NULL;
    char why[512] = "";
    const char *keydir = cli_home_path(ctx, "keys");
    if (keys_generate(&k) != KEYS_OK)
        return cli_error(CLI_FAIL, "key generation failed");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "signing-new-%d", (int)getpid());
    int rc = keystore_save_as(keydir, tmp, k, NULL, why, sizeof why);
    if (rc != KEYSTORE_OK) {
        keys_free(&k);
        return cli_error(CLI_KEYS, "%s", why);
    }
    Lernet__KeyCert c = LERNET__KEY_CERT__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    c.signing_key.data = (uint8_t *)keys_public(k);
    c.signing_key.len = KEYS_PUBLIC_BYTES;
    c.note = (char *)note;
    p.body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
    p.key_cert = &c;
    keys_fingerprint(fpr, keys_public(k));
    rc = issue(st, id, EVENT_LOG_KEYS, &p, cert);
    keys_free(&k);
    if (rc == CLI_OK)
        rc = rename_pair(ctx, tmp, KEYSTORE_SIGNING);
    return rc;
}

/* Written at init, kept offline: the identity's revocation, signed while
 * the key is at hand, for the day it is lost or stolen. */
static int write_statement(cli_ctx_t *ctx, const keys_identity_t *id)
{
    Lernet__IdentityRevoke r = LERNET__IDENTITY_REVOKE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    event_t *ev = NULL;
    uint8_t *env = NULL;
    size_t len = 0;
    char why[256] = "", fpr[KEYS_FPR_STR_SIZE];
    r.reason = "identity key lost or stolen";
    p.body_case = LERNET__PAYLOAD__BODY_IDENTITY_REVOKE;
    p.identity_revoke = &r;
    if (event_create(&ev, id, EVENT_LOG_REVOKED, 1, NULL, event_now_ms(), &p, why, sizeof why) ||
        event_envelope(ev, &env, &len)) {
        event_free(&ev);
        return cli_error(CLI_FAIL, "revocation statement: %s", why);
    }
    event_free(&ev);
    size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    sodium_bin2base64(b64, b64len, env, len, sodium_base64_VARIANT_ORIGINAL);
    free(env);
    keys_fingerprint(fpr, keys_public(id));
    const char *path = cli_home_path(ctx, "keys/" STATEMENT_FILE);
    char *text = NULL, fwhy[512] = "";
    int n = b64 ? asprintf(&text,
                           "# lernet identity revocation statement for %s\n"
                           "# Whoever holds this file can revoke that identity for good: keep it\n"
                           "# offline and apart from the identity key. If the key is lost or "
                           "stolen:\n#   lernet keys revoke-identity %s\n%s\n",
                           fpr, STATEMENT_FILE, b64)
                : -1;
    free(b64);
    if (n < 0)
        return cli_error(CLI_FAIL, "cannot write %s: out of memory", path);
    int rc = fileio_write_atomic(path, text, (size_t)n, 0600, FILEIO_NOREPLACE, fwhy,
                                 sizeof fwhy);
    free(text);
    if (rc != FILEIO_OK)
        return cli_error(CLI_FAIL, "revocation statement: %s", fwhy);
    return CLI_OK;
}

/* The identity's profile from lernet.ini, in its key log. */
static int publish_profile(store_t *st, const keys_identity_t *id, const config_t *cfg,
                           event_t **out)
{
    Lernet__Profile pr = LERNET__PROFILE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    pr.name = (char *)cfg->name;
    pr.country = (char *)cfg->country;
    pr.municipality = (char *)cfg->municipality;
    p.body_case = LERNET__PAYLOAD__BODY_PROFILE;
    p.profile = &pr;
    return issue(st, id, EVENT_LOG_KEYS, &p, out);
}

int cli_keys_init(cli_ctx_t *ctx, store_t *st, const keys_identity_t *id)
{
    char fpr[KEYS_FPR_STR_SIZE], why[512] = "";
    event_t *cert = NULL;
    keys_transport_t *t = NULL;
    if (keys_transport_from_identity(&t, id) != KEYS_OK ||
        keystore_save_transport(cli_home_path(ctx, "keys"), t, why, sizeof why) != KEYSTORE_OK) {
        keys_transport_free(&t);
        return cli_error(CLI_KEYS, "transport key: %s", why[0] ? why : "cannot derive it");
    }
    keys_transport_free(&t);
    int rc = new_signing_key(ctx, st, id, "created by lernet init", fpr, &cert);
    event_free(&cert);
    config_t *cfg = NULL;
    if (rc == CLI_OK && (rc = cli_load_config(ctx, &cfg)) == CLI_OK) {
        rc = publish_profile(st, id, cfg, &cert);
        event_free(&cert);
        config_free(&cfg);
    }
    if (rc == CLI_OK)
        rc = write_statement(ctx, id);
    if (rc == CLI_OK)
        printf("signing key %s (certified; signs this node's events)\n"
               "revocation statement keys/%s: keep it offline\n"
               "keys/identity.key is needed only to rotate or revoke keys: it can be kept "
               "offline\n",
               fpr, STATEMENT_FILE);
    return rc;
}

/* ---- show, list ------------------------------------------------------ */

static int show(cli_ctx_t *ctx, int json)
{
    uint8_t pk[KEYS_PUBLIC_BYTES];
    char why[512] = "", pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    if (keystore_load_public(cli_home_path(ctx, "keys"), pk, why, sizeof why) != KEYSTORE_OK)
        return cli_error(CLI_NOHOME, "%s", why);
    keys_pub_encode(pub, pk);
    keys_fingerprint(fpr, pk);
    if (json) {
        json_t *o = json_pack("{s:s,s:s}", "public_key", pub, "fingerprint", fpr);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else {
        printf("public_key  %s\nfingerprint %s\n", pub, fpr);
    }
    return CLI_OK;
}

typedef struct list_ctx {
    uint8_t active[KEYS_PUBLIC_BYTES];
    int has_active;
    json_t *arr;
} list_ctx_t;

static int list_one(void *vctx, const store_signing_key_t *k)
{
    list_ctx_t *l = vctx;
    char pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    const char *status = k->revoked ? "revoked"
                         : l->has_active && memcmp(k->key, l->active, KEYS_PUBLIC_BYTES) == 0
                             ? "active"
                         : k->certified ? "certified"
                                        : "unknown";
    keys_pub_encode(pub, k->key);
    keys_fingerprint(fpr, k->key);
    if (l->arr)
        json_array_append_new(l->arr, json_pack("{s:s,s:s,s:s,s:I}", "public_key", pub,
                                                "fingerprint", fpr, "status", status,
                                                "certified_ms", (json_int_t)k->certified_ms));
    else
        printf("signing   %s  %-9s %s\n", fpr, status, pub);
    return 0;
}

static int list(cli_ctx_t *ctx, int json)
{
    uint8_t id[KEYS_PUBLIC_BYTES];
    char why[512] = "", fpr[KEYS_FPR_STR_SIZE], pub[KEYS_PUB_STR_SIZE];
    store_t *st = NULL;
    list_ctx_t l = {0};
    const char *keydir = cli_home_path(ctx, "keys");
    if (keystore_load_public(keydir, id, why, sizeof why) != KEYSTORE_OK)
        return cli_error(CLI_NOHOME, "%s", why);
    l.has_active = cli_has_signing_key(ctx) &&
                   keystore_load_public_as(keydir, KEYSTORE_SIGNING, l.active, why, sizeof why) ==
                       KEYSTORE_OK;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    int revoked = store_author_revoked(st, id) == 1;
    keys_pub_encode(pub, id);
    keys_fingerprint(fpr, id);
    if (json)
        l.arr = json_array();
    else
        printf("identity  %s  %-9s %s\n", fpr, revoked ? "revoked" : "ok", pub);
    store_signing_keys(st, id, list_one, &l);
    if (json) {
        json_t *o = json_pack("{s:s,s:s,s:b,s:o}", "public_key", pub, "fingerprint", fpr,
                              "revoked", revoked, "signing_keys", l.arr);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    }
    store_close(&st);
    return CLI_OK;
}

/* ---- rotate, revoke --------------------------------------------------- */

static void reload_daemon(cli_ctx_t *ctx)
{
    json_t *req = json_pack("{s:s}", "cmd", "reload-signer"), *reply = NULL;
    if (control_request(ctx->home, req, &reply, CONTROL_TIMEOUT_MS) == CONTROL_OK &&
        json_is_true(json_object_get(reply, "ok")))
        printf("the running daemon signs with it from now on\n");
    json_decref(req);
    json_decref(reply);
}

static int rotate(cli_ctx_t *ctx, store_t *st, const keys_identity_t *id, const char *note)
{
    char fpr[KEYS_FPR_STR_SIZE];
    event_t *cert = NULL;
    int rc = new_signing_key(ctx, st, id, note, fpr, &cert);
    if (rc)
        return rc;
    printf("new signing key %s, certified at seq %llu of %s\n", fpr,
           (unsigned long long)cert->seq, EVENT_LOG_KEYS);
    reload_daemon(ctx);
    announce(ctx, cert);
    event_free(&cert);
    return CLI_OK;
}

typedef struct find_ctx {
    const char *arg;
    uint8_t key[KEYS_PUBLIC_BYTES];
    int found;
} find_ctx_t;

static int find_one(void *vctx, const store_signing_key_t *k)
{
    find_ctx_t *f = vctx;
    char pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    keys_pub_encode(pub, k->key);
    keys_fingerprint(fpr, k->key);
    if (strcmp(f->arg, pub) == 0 || strncmp(f->arg, fpr, strlen(f->arg)) == 0) {
        memcpy(f->key, k->key, KEYS_PUBLIC_BYTES);
        f->found++;
    }
    return 0;
}

/* NETWORK:SEQ */
static int parse_cut(const char *s, Lernet__LogCut *c, char *net, size_t netlen)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon || (size_t)(colon - s) >= netlen)
        return -1;
    snprintf(net, netlen, "%.*s", (int)(colon - s), s);
    errno = 0;
    unsigned long long seq = strtoull(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || !event_network_valid(net))
        return -1;
    c->network = net;
    c->last_good_seq = seq;
    return 0;
}

typedef struct revoke_opts {
    const char *key, *reason;
    Lernet__LogCut cuts[CONFIG_MAX_NETWORKS];
    Lernet__LogCut *ptrs[CONFIG_MAX_NETWORKS];
    char nets[CONFIG_MAX_NETWORKS][EVENT_MAX_NETWORK + 1];
    uint8_t ids[CONFIG_MAX_NETWORKS][EVENT_ID_BYTES]; /* the last good event of each cut */
    size_t n_cuts;
} revoke_opts_t;

static int parse_revoke(int argc, char **argv, revoke_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->reason = "";
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            o->reason = argv[++i];
        else if (strcmp(argv[i], "--cut") == 0 && i + 1 < argc) {
            if (o->n_cuts >= CONFIG_MAX_NETWORKS)
                return cli_error(CLI_USAGE, "--cut: at most %d", CONFIG_MAX_NETWORKS);
            lernet__log_cut__init(&o->cuts[o->n_cuts]);
            if (parse_cut(argv[++i], &o->cuts[o->n_cuts], o->nets[o->n_cuts],
                          sizeof o->nets[0]) != 0)
                return cli_error(CLI_USAGE, "--cut: '%s' is not NETWORK:SEQ", argv[i]);
            o->ptrs[o->n_cuts] = &o->cuts[o->n_cuts];
            o->n_cuts++;
        } else if (argv[i][0] != '-' && !o->key)
            o->key = argv[i];
        else
            return cli_error(CLI_ARGS, "keys revoke: unexpected '%s'", argv[i]);
    }
    if (!o->key)
        return cli_error(CLI_USAGE, "keys revoke: which key? (see lernet keys list)");
    return CLI_OK;
}

/* Default cuts: the current end of each of this node's logs, here. */
static void default_cuts(store_t *st, const config_t *cfg, const uint8_t *id, revoke_opts_t *o)
{
    for (size_t n = 0; n < cfg->n_networks && o->n_cuts < CONFIG_MAX_NETWORKS; n++) {
        int given = 0;
        for (size_t i = 0; i < o->n_cuts; i++)
            given |= strcmp(o->cuts[i].network, cfg->networks[n]) == 0;
        uint64_t seq = 0;
        uint8_t head[EVENT_ID_BYTES];
        if (given || store_head(st, id, cfg->networks[n], &seq, head) != STORE_OK)
            continue;
        lernet__log_cut__init(&o->cuts[o->n_cuts]);
        snprintf(o->nets[o->n_cuts], sizeof o->nets[0], "%s", cfg->networks[n]);
        o->cuts[o->n_cuts].network = o->nets[o->n_cuts];
        o->cuts[o->n_cuts].last_good_seq = seq;
        o->ptrs[o->n_cuts] = &o->cuts[o->n_cuts];
        o->n_cuts++;
    }
}

/* A cut pins the history up to it: each names its last good event by id,
 * which must be on this node's own chain. */
static int name_cuts(store_t *st, const uint8_t *self, revoke_opts_t *o)
{
    for (size_t i = 0; i < o->n_cuts; i++) {
        Lernet__LogCut *c = &o->cuts[i];
        if (c->last_good_seq == 0)
            continue;
        if (store_id_at(st, self, c->network, c->last_good_seq, o->ids[i]) != STORE_OK) {
            uint64_t head = 0;
            uint8_t hid[EVENT_ID_BYTES];
            store_head(st, self, c->network, &head, hid);
            return cli_error(CLI_FAIL, "--cut %s:%llu: this node's own log of %s ends at seq %llu",
                             c->network, (unsigned long long)c->last_good_seq, c->network,
                             (unsigned long long)head);
        }
        c->last_good_id.data = o->ids[i];
        c->last_good_id.len = EVENT_ID_BYTES;
    }
    return CLI_OK;
}

static int revoke_key(cli_ctx_t *ctx, store_t *st, const config_t *cfg,
                      const keys_identity_t *id, revoke_opts_t *o)
{
    find_ctx_t f = {.arg = o->key};
    uint8_t active[KEYS_PUBLIC_BYTES];
    char why[256], fpr[KEYS_FPR_STR_SIZE];
    store_signing_keys(st, keys_public(id), find_one, &f);
    if (f.found != 1)
        return cli_error(CLI_FAIL, "keys revoke: '%s' %s", o->key,
                         f.found ? "matches several keys; give more of it"
                                 : "is not a signing key this identity certified");
    int rc;
    if (cli_has_signing_key(ctx) &&
        keystore_load_public_as(cli_home_path(ctx, "keys"), KEYSTORE_SIGNING, active, why,
                                sizeof why) == KEYSTORE_OK &&
        memcmp(active, f.key, KEYS_PUBLIC_BYTES) == 0) {
        printf("that key is in use: rotating first\n");
        if ((rc = rotate(ctx, st, id, "rotation before a revocation")))
            return rc;
    }
    default_cuts(st, cfg, keys_public(id), o);
    if ((rc = name_cuts(st, keys_public(id), o)))
        return rc;
    Lernet__KeyRevoke r = LERNET__KEY_REVOKE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    r.signing_key.data = f.key;
    r.signing_key.len = KEYS_PUBLIC_BYTES;
    r.n_cuts = o->n_cuts;
    r.cuts = o->ptrs;
    r.reason = (char *)o->reason;
    p.body_case = LERNET__PAYLOAD__BODY_KEY_REVOKE;
    p.key_revoke = &r;
    event_t *ev = NULL;
    if ((rc = issue(st, id, EVENT_LOG_KEYS, &p, &ev)))
        return rc;
    keys_fingerprint(fpr, f.key);
    printf("revoked signing key %s\n", fpr);
    for (size_t i = 0; i < o->n_cuts; i++)
        printf("  %s: events after seq %llu signed with it are refused\n", o->cuts[i].network,
               (unsigned long long)o->cuts[i].last_good_seq);
    announce(ctx, ev);
    event_free(&ev);
    return CLI_OK;
}

/* ---- identity revocation ---------------------------------------------- */

static int read_statement(const char *path, event_t **out)
{
    char line[4096], why[256] = "";
    uint8_t env[2048];
    size_t len = 0;
    int found = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error(CLI_FAIL, "%s: %s", path, strerror(errno));
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        found = sodium_base642bin(env, sizeof env, line, strlen(line), NULL, &len, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) == 0
                    ? 1
                    : -1;
    }
    fclose(f);
    if (found != 1)
        return cli_error(CLI_FAIL, "%s: no base64 statement line found", path);
    int rc = event_parse(out, env, len, event_now_ms(), why, sizeof why);
    if (rc != EV_OK)
        return cli_error(CLI_FAIL, "%s: not a valid signed event: %s", path, why);
    if ((*out)->kind != LERNET__KIND__KIND_IDENTITY_REVOKE) {
        event_free(out);
        return cli_error(CLI_FAIL, "%s: a signed %s, not an identity revocation", path,
                         event_kind_name((*out)->kind));
    }
    return CLI_OK;
}

static int revoke_identity(cli_ctx_t *ctx, const char *path)
{
    event_t *ev = NULL;
    store_t *st = NULL;
    char why[256] = "", fpr[KEYS_FPR_STR_SIZE];
    int outcome = -1, rc = read_statement(path, &ev);
    if (rc || (rc = cli_open_store(ctx, &st))) {
        event_free(&ev);
        return rc;
    }
    keys_fingerprint(fpr, ev->author);
    if (store_add(st, ev, &outcome, NULL, why, sizeof why) != STORE_OK)
        rc = cli_error(CLI_FAIL, "store: %s", why);
    else {
        printf("identity %s revoked%s: no node accepts anything from it any more\n", fpr,
               outcome == STORE_DUPLICATE ? " (already known here)" : "");
        announce(ctx, ev);
    }
    event_free(&ev);
    store_close(&st);
    return rc;
}

static int make_keys_dir(cli_ctx_t *ctx)
{
    if (mkdir(ctx->home, 0700) != 0 && errno != EEXIST)
        return -1;
    return mkdir(cli_home_path(ctx, "keys"), 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- backup ----------------------------------------------------------- *
 * A text file, 0600: "lernet-backup 1", "identity <key>", then sections
 * "begin NAME" ... "end NAME" holding identity.key and signing.key (key
 * files encrypted with the backup passphrase) and the revocation statement.
 */
#define BACKUP_MAX (64 * 1024)

static int put_section(FILE *f, const char *name, const char *text, size_t len)
{
    return fprintf(f, "begin %s\n%.*s%send %s\n", name, (int)len, text,
                   len && text[len - 1] == '\n' ? "" : "\n", name) > 0
               ? 0
               : -1;
}

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = f ? sodium_malloc(max + 1) : NULL;
    *len = buf ? fread(buf, 1, max + 1, f) : 0;
    if (f)
        fclose(f);
    if (buf && *len > max) {
        sodium_free(buf);
        return NULL;
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

static int export_keys(cli_ctx_t *ctx, const char *path)
{
    keys_identity_t *id = NULL, *sk = NULL;
    char why[512] = "", *pass = NULL, *idtext = NULL, *sktext = NULL, *stmt = NULL;
    char pub[KEYS_PUB_STR_SIZE];
    size_t idlen = 0, sklen = 0, stlen = 0;
    int code = CLI_OK, rc = cli_load_keys(ctx, &id);
    if (rc)
        return rc;
    const char *keydir = cli_home_path(ctx, "keys");
    if (cli_has_signing_key(ctx) &&
        keystore_load_as(keydir, KEYSTORE_SIGNING, NULL, &sk, why, sizeof why) != KEYSTORE_OK) {
        keys_free(&id);
        return cli_error(CLI_KEYS, "%s", why);
    }
    printf("backup passphrase (keep it apart from the backup)\n");
    fflush(stdout);
    if (!(pass = cli_passphrase(NULL, 1, &code))) {
        rc = code;
        goto done;
    }
    rc = CLI_FAIL;
    if (keystore_seal(id, pass, &idtext, &idlen, why, sizeof why) != KEYSTORE_OK ||
        (sk && keystore_seal(sk, pass, &sktext, &sklen, why, sizeof why) != KEYSTORE_OK)) {
        cli_error(CLI_KEYS, "%s", why);
        goto done;
    }
    stmt = slurp(cli_home_path(ctx, "keys/" STATEMENT_FILE), 8192, &stlen);
    /* never over an existing file, nothing at path until the whole backup is */
    fileio_t *fio = NULL;
    if (fileio_open(&fio, path, 0600, FILEIO_NOREPLACE, why, sizeof why) != FILEIO_OK) {
        cli_error(CLI_FAIL, "backup: %s", why);
        goto done;
    }
    FILE *f = fileio_stream(fio);
    keys_pub_encode(pub, keys_public(id));
    int bad = fprintf(f, "lernet-backup 1\nidentity %s\n", pub) < 0 ||
              put_section(f, "identity.key", idtext, idlen) ||
              (sktext && put_section(f, "signing.key", sktext, sklen)) ||
              (stmt && put_section(f, STATEMENT_FILE, stmt, stlen));
    if (bad) {
        fileio_abort(&fio);
        cli_error(CLI_FAIL, "backup: %s: cannot write", path);
        goto done;
    }
    if (fileio_commit(&fio, why, sizeof why) != FILEIO_OK) {
        cli_error(CLI_FAIL, "backup: %s", why);
        goto done;
    }
    printf("backup written to %s (identity%s%s, encrypted)\n", path, sktext ? ", signing key" : "",
           stmt ? ", revocation statement" : "");
    rc = CLI_OK;
done:
    cli_passphrase_free(pass);
    sodium_free(idtext);
    sodium_free(sktext);
    sodium_free(stmt);
    keys_free(&id);
    keys_free(&sk);
    return rc;
}

/* The text between "begin name" and "end name", or NULL. */
static const char *section(const char *buf, const char *name, size_t *len)
{
    char open_tag[80], close_tag[80];
    snprintf(open_tag, sizeof open_tag, "\nbegin %s\n", name);
    snprintf(close_tag, sizeof close_tag, "\nend %s\n", name);
    const char *a = strstr(buf, open_tag), *b;
    if (!a)
        return NULL;
    a += strlen(open_tag);
    if (!(b = strstr(a - 1, close_tag)))
        return NULL;
    *len = (size_t)(b + 1 - a);
    return a;
}

static int import_keys(cli_ctx_t *ctx, const char *path)
{
    keys_identity_t *id = NULL, *sk = NULL;
    keys_transport_t *t = NULL;
    char why[512] = "", *pass = NULL, fpr[KEYS_FPR_STR_SIZE], label[600];
    size_t len = 0, n = 0;
    int code = CLI_OK, rc = CLI_FAIL;
    const char *keydir = cli_home_path(ctx, "keys");
    struct stat sb;
    if (stat(cli_home_path(ctx, "keys/identity.key"), &sb) == 0)
        return cli_error(CLI_FAIL, "%s already has keys; import into a home without them",
                         ctx->home);
    char *buf = slurp(path, BACKUP_MAX, &len);
    const char *text;
    if (!buf || strncmp(buf, "lernet-backup 1\n", 16) != 0) {
        sodium_free(buf);
        return cli_error(CLI_FAIL, "%s: not a lernet backup (or larger than %d bytes)", path,
                         BACKUP_MAX);
    }
    if (!(text = section(buf, "identity.key", &n))) {
        cli_error(CLI_FAIL, "%s: no identity.key section", path);
        goto done;
    }
    if (!(pass = cli_passphrase(NULL, 0, &code))) {
        rc = code;
        goto done;
    }
    snprintf(label, sizeof label, "%s (identity.key)", path);
    if (keystore_unseal(text, n, label, pass, &id, why, sizeof why) != KEYSTORE_OK ||
        ((text = section(buf, "signing.key", &n)) &&
         keystore_unseal(text, n, label, pass, &sk, why, sizeof why) != KEYSTORE_OK)) {
        rc = cli_error(CLI_KEYS, "%s", why);
        goto done;
    }
    if (make_keys_dir(ctx) != 0 ||
        keystore_save_as(keydir, KEYSTORE_IDENTITY, id, pass, why, sizeof why) != KEYSTORE_OK ||
        (sk && keystore_save_as(keydir, KEYSTORE_SIGNING, sk, NULL, why, sizeof why) !=
                   KEYSTORE_OK) ||
        keys_transport_from_identity(&t, id) != KEYS_OK ||
        keystore_save_transport(keydir, t, why, sizeof why) != KEYSTORE_OK) {
        rc = cli_error(CLI_KEYS, "%s", why[0] ? why : "cannot write the keys");
        goto done;
    }
    if ((text = section(buf, STATEMENT_FILE, &n)) &&
        fileio_write_atomic(cli_home_path(ctx, "keys/" STATEMENT_FILE), text, n, 0600,
                            FILEIO_NOREPLACE, NULL, 0) != FILEIO_OK)
        fprintf(stderr, "lernet: could not restore the revocation statement\n");
    keys_fingerprint(fpr, keys_public(id));
    printf("restored identity %s%s (identity.key encrypted with the backup passphrase)\n"
           "start the node and let it sync: wait until `lernet log` shows this node's earlier\n"
           "events before publishing, so its logs continue where they were\n",
           fpr, sk ? " and its signing key" : "");
    rc = CLI_OK;
done:
    cli_passphrase_free(pass);
    sodium_free(buf);
    keys_free(&id);
    keys_free(&sk);
    keys_transport_free(&t);
    return rc;
}

/* ---- dispatch --------------------------------------------------------- */

static int with_identity(cli_ctx_t *ctx, int (*fn)(cli_ctx_t *, store_t *, const config_t *,
                                                   const keys_identity_t *, void *),
                         void *arg)
{
    config_t *cfg = NULL;
    store_t *st = NULL;
    keys_identity_t *id = NULL;
    int rc = cli_load_config(ctx, &cfg);
    if (!rc && !(rc = cli_open_store(ctx, &st)) && !(rc = cli_load_keys(ctx, &id)))
        rc = fn(ctx, st, cfg, id, arg);
    keys_free(&id);
    store_close(&st);
    config_free(&cfg);
    return rc;
}

static int do_rotate(cli_ctx_t *ctx, store_t *st, const config_t *cfg,
                     const keys_identity_t *id, void *arg)
{
    (void)cfg;
    return rotate(ctx, st, id, arg);
}

static int do_profile(cli_ctx_t *ctx, store_t *st, const config_t *cfg,
                      const keys_identity_t *id, void *arg)
{
    event_t *ev = NULL;
    (void)arg;
    int rc = publish_profile(st, id, cfg, &ev);
    if (rc == CLI_OK) {
        printf("profile: %s, %s%s%s\n", cfg->name, cfg->country, cfg->municipality[0] ? ", " : "",
               cfg->municipality);
        announce(ctx, ev);
    }
    event_free(&ev);
    return rc;
}

static int do_revoke(cli_ctx_t *ctx, store_t *st, const config_t *cfg,
                     const keys_identity_t *id, void *arg)
{
    return revoke_key(ctx, st, cfg, id, arg);
}

static int run_show(cli_ctx_t *ctx, int argc, char **argv)
{
    int json = cli_json_flag(argc, argv, 2);
    return json < 0 ? CLI_ARGS : show(ctx, json);
}

static int run_list(cli_ctx_t *ctx, int argc, char **argv)
{
    int json = cli_json_flag(argc, argv, 2);
    return json < 0 ? CLI_ARGS : list(ctx, json);
}

static int run_rotate(cli_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 2)
        return with_identity(ctx, do_rotate, "rotation");
    if (argc == 4 && strcmp(argv[2], "--note") == 0)
        return with_identity(ctx, do_rotate, argv[3]);
    return CLI_ARGS;
}

static int run_profile(cli_ctx_t *ctx, int argc, char **argv)
{
    (void)argv;
    return argc == 2 ? with_identity(ctx, do_profile, NULL) : CLI_ARGS;
}

static int run_revoke(cli_ctx_t *ctx, int argc, char **argv)
{
    revoke_opts_t o;
    int rc = parse_revoke(argc, argv, &o);
    return rc ? rc : with_identity(ctx, do_revoke, &o);
}

static int run_revoke_identity(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? revoke_identity(ctx, argv[2]) : CLI_ARGS;
}

static int run_export(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? export_keys(ctx, argv[2]) : CLI_ARGS;
}

static int run_import(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? import_keys(ctx, argv[2]) : CLI_ARGS;
}

static const cli_sub_t keys_subs[] = {
    {"show", "[--json]", run_show,
     "the node's identity key (what partners configure) and fingerprint"},
    {"list", "[--json]", run_list,
     "the identity and every signing key it certified, with status"},
    {"rotate", "[--note TEXT]", run_rotate,
     "make a new signing key, certify it with the identity key, use it"},
    {"profile", "", run_profile,
     "publish name, country and municipality from lernet.ini (init does it once; after a "
     "change, run it again): reports count border crossings"},
    {"revoke", "KEY [--cut NETWORK:SEQ]... [--reason TEXT]", run_revoke,
     "withdraw a signing key (printable key or fingerprint): in every log, events it signed "
     "after the cut (default: the log's current end here) are refused by every node; revoking "
     "the key in use rotates first"},
    {"revoke-identity", "FILE", run_revoke_identity,
     "publish an identity revocation statement (the file `init` wrote to keys/" STATEMENT_FILE
     "): every node stops accepting it"},
    {"export", "FILE", run_export,
     "write an encrypted backup of the identity and signing keys (and the revocation "
     "statement); the backup passphrase is asked for"},
    {"import", "FILE", run_import, "restore such a backup into a home without keys"},
};

int cli_keys(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "keys", keys_subs, sizeof keys_subs / sizeof keys_subs[0], argc,
                        argv);
}
