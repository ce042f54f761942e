/*
 * test_vectors: the test vectors of docs/test-vectors.md, checked against
 * the code. The values are read from the JSON blocks of that file, so the
 * document and the code cannot drift apart: a change to the digest, the
 * bucket hash, the header encoding, the signing prefix or the id fails
 * here, and so does a wrong byte in the document.
 *
 * `test_vectors --print` writes the blocks from the fixed inputs below
 * (seeds, salts, payloads, logs); paste them into the document when the
 * format changes on purpose (it is then a new protocol or event version).
 *
 * The events are built here by hand, field by field as event_create_linked
 * does but with a given salt (the product draws it at random and offers no
 * way to choose it); test_create_is_this_construction proves the two
 * constructions give the same bytes.
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

#include "core/event.h"
#include "harness/testutil.h"
#include "keys/keys.h"
#include "store/store.h"
#include "sync/sync.h"

#define DOC LERNET_SOURCE_DIR "/docs/test-vectors.md"
#define CREATED0 1764547200000LL /* 2025-12-01T00:00:00Z */
#define NEVENTS 4

/* ---- fixed inputs ------------------------------------------------------ */

/* Key i: the Ed25519 key pair libsodium's crypto_sign_seed_keypair makes
 * from 32 bytes of value seed. */
static void seed_of(uint8_t out[32], uint8_t v)
{
    memset(out, v, 32);
}

static keys_identity_t *seeded(uint8_t v, uint8_t pk[KEYS_PUBLIC_BYTES])
{
    uint8_t seed[32], sk[KEYS_SECRET_BYTES];
    keys_identity_t *k = NULL;
    seed_of(seed, v);
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_int_equal(keys_from_secret(&k, sk), KEYS_OK);
    sodium_memzero(sk, sizeof sk);
    return k;
}

#define IDENTITY_SEED 0x01
#define SIGNING_SEED 0x11

/* The logs of the digest vector: (seed of the author's key, log, seq). */
static const struct vlog {
    uint8_t author_seed;
    const char *network;
    uint64_t seq;
} vlogs[] = {
    {0x01, "@keys", 2},
    {0x01, "nordic-wbl", 1},
    {0x01, "nordic-wbl.x", 7},
    {0x02, "2030-pilot", 2},
    {0x02, "@keys", 1},
    {0x02, "@revoked", 1},
    {0x02, "nordic-wbl", 256},
    {0x03, "sweden-local", 4294967297ULL},
};
#define NVLOGS (sizeof vlogs / sizeof vlogs[0])

/* One event of the signed-event vector, with everything it is made of. */
typedef struct vevent {
    const char *name, *log;
    uint64_t seq;
    int prev;   /* index of the previous event of its log, -1 for seq 1 */
    int signer; /* 0: the identity, 1: the signing key */
    int kind;
    int64_t created_ms;
    uint8_t salt[EVENT_SALT_BYTES];
    /* results */
    uint8_t *payload, *header, *envelope;
    size_t payload_len, header_len, envelope_len;
    uint8_t payload_hash[EVENT_HASH_BYTES], sig[KEYS_SIG_BYTES], id[EVENT_ID_BYTES];
    uint8_t prev_sig[EVENT_HASH_BYTES]; /* BLAKE2b-256 of prev's signature, if prev */
} vevent_t;

typedef struct vset {
    keys_identity_t *identity, *signing;
    uint8_t identity_pk[32], signing_pk[32];
    vevent_t ev[NEVENTS];
} vset_t;

/* The payload of event i (ids of earlier events are in set). Everything
 * points into static storage or set; nothing to free. */
static void payload_of(const vset_t *set, int i, Lernet__Payload *p)
{
    static Lernet__Text t_sv = {PROTOBUF_C_MESSAGE_INIT(&lernet__text__descriptor), "sv",
                                "Handledarutbildning för arbetsplatsförlagt lärande"};
    static Lernet__Text t_en = {PROTOBUF_C_MESSAGE_INIT(&lernet__text__descriptor), "en",
                                "Supervisor training for workplace learning"};
    static Lernet__Text *titles[] = {&t_sv, &t_en};
    static char *themes[] = {"workplace learning"};
    static Lernet__KeyCert cert = LERNET__KEY_CERT__INIT;
    static Lernet__Workshop w = LERNET__WORKSHOP__INIT;
    static Lernet__Cancel cancel = LERNET__CANCEL__INIT;
    static Lernet__KeyRevoke revoke = LERNET__KEY_REVOKE__INIT;
    static Lernet__LogCut cut = LERNET__LOG_CUT__INIT, *cuts[] = {&cut};
    lernet__payload__init(p);
    switch (i) {
    case 0:
        cert.signing_key = (ProtobufCBinaryData){32, (uint8_t *)set->signing_pk};
        cert.note = "rotation 2025-12";
        p->body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
        p->key_cert = &cert;
        break;
    case 1:
        w.n_title = 2;
        w.title = titles;
        w.start = 1770372000; /* 2026-02-06T10:00:00Z */
        w.end = 1770372000 + 3 * 3600;
        w.tz = "Europe/Stockholm";
        w.place = "Lärcentrum Östhammar, Storgatan 1";
        w.organiser = "Lärcentrum Östhammar";
        w.capacity = 24;
        w.n_themes = 1;
        w.themes = themes;
        w.language = "sv";
        w.status = LERNET__STATUS__STATUS_PLANNED;
        p->body_case = LERNET__PAYLOAD__BODY_WORKSHOP;
        p->workshop = &w;
        break;
    case 2:
        cancel.target = (ProtobufCBinaryData){EVENT_ID_BYTES, (uint8_t *)set->ev[1].id};
        cancel.reason = "Too few registrations; moved to the spring";
        p->body_case = LERNET__PAYLOAD__BODY_CANCEL;
        p->cancel = &cancel;
        break;
    default:
        cut.network = "nordic-wbl";
        cut.last_good_seq = 1;
        cut.last_good_id = (ProtobufCBinaryData){EVENT_ID_BYTES, (uint8_t *)set->ev[1].id};
        revoke.signing_key = (ProtobufCBinaryData){32, (uint8_t *)set->signing_pk};
        revoke.n_cuts = 1;
        revoke.cuts = cuts;
        revoke.reason = "laptop stolen";
        p->body_case = LERNET__PAYLOAD__BODY_KEY_REVOKE;
        p->key_revoke = &revoke;
        break;
    }
}

/* The header of an event, encoded as event_create_linked encodes it
 * (prev_sig NULL: none). */
static uint8_t *header_bytes(const uint8_t *author, const uint8_t *signer, uint64_t seq,
                             const uint8_t *prev, const uint8_t *prev_sig, int64_t created_ms,
                             const char *network, int kind, const uint8_t hash[EVENT_HASH_BYTES],
                             uint64_t size, size_t *len)
{
    Lernet__Header h = LERNET__HEADER__INIT;
    h.version = EVENT_VERSION;
    h.author = (ProtobufCBinaryData){KEYS_PUBLIC_BYTES, (uint8_t *)author};
    h.signer = (ProtobufCBinaryData){KEYS_PUBLIC_BYTES, (uint8_t *)signer};
    h.seq = seq;
    h.prev = (ProtobufCBinaryData){prev ? EVENT_ID_BYTES : 0, (uint8_t *)prev};
    h.created_ms = created_ms;
    h.network = (char *)network;
    h.kind = (Lernet__Kind)kind;
    h.payload_hash = (ProtobufCBinaryData){EVENT_HASH_BYTES, (uint8_t *)hash};
    h.payload_size = size;
    h.prev_sig = (ProtobufCBinaryData){prev_sig ? EVENT_HASH_BYTES : 0, (uint8_t *)prev_sig};
    *len = lernet__header__get_packed_size(&h);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    lernet__header__pack(&h, buf);
    return buf;
}

/* Builds event i of the set: payload, keyed hash, header, signature, id,
 * envelope. */
static void build_event(vset_t *set, int i)
{
    static const struct {
        const char *name, *log;
        uint64_t seq;
        int prev, signer, kind;
    } spec[NEVENTS] = {
        {"key_cert", "@keys", 1, -1, 0, LERNET__KIND__KIND_KEY_CERT},
        {"workshop", "nordic-wbl", 1, -1, 1, LERNET__KIND__KIND_WORKSHOP},
        {"cancel", "nordic-wbl", 2, 1, 1, LERNET__KIND__KIND_CANCEL},
        {"key_revoke", "@keys", 2, 0, 0, LERNET__KIND__KIND_KEY_REVOKE},
    };
    vevent_t *e = &set->ev[i];
    Lernet__Payload p;
    e->name = spec[i].name;
    e->log = spec[i].log;
    e->seq = spec[i].seq;
    e->prev = spec[i].prev;
    e->signer = spec[i].signer;
    e->kind = spec[i].kind;
    e->created_ms = CREATED0 + i * 60000;
    for (int j = 0; j < EVENT_SALT_BYTES; j++)
        e->salt[j] = (uint8_t)(0x40 * (i + 1) + j);
    payload_of(set, i, &p);
    e->payload_len = lernet__payload__get_packed_size(&p);
    e->payload = malloc(e->payload_len);
    assert_non_null(e->payload);
    lernet__payload__pack(&p, e->payload);
    crypto_generichash(e->payload_hash, EVENT_HASH_BYTES, e->payload, e->payload_len, e->salt,
                       EVENT_SALT_BYTES);
    const keys_identity_t *k = e->signer ? set->signing : set->identity;
    if (e->prev >= 0) /* linked, as a node publishes: docs/protocol.md, Vouching */
        crypto_generichash(e->prev_sig, EVENT_HASH_BYTES, set->ev[e->prev].sig, KEYS_SIG_BYTES,
                           NULL, 0);
    e->header = header_bytes(set->identity_pk, keys_public(k), e->seq,
                             e->prev >= 0 ? set->ev[e->prev].id : NULL,
                             e->prev >= 0 ? e->prev_sig : NULL, e->created_ms, e->log, e->kind,
                             e->payload_hash, e->payload_len, &e->header_len);
    assert_int_equal(keys_sign(k, e->sig, e->header, e->header_len), KEYS_OK);
    crypto_generichash(e->id, EVENT_ID_BYTES, e->header, e->header_len, NULL, 0);
    Lernet__Envelope env = LERNET__ENVELOPE__INIT;
    env.header = (ProtobufCBinaryData){e->header_len, e->header};
    env.signature = (ProtobufCBinaryData){KEYS_SIG_BYTES, e->sig};
    env.payload = (ProtobufCBinaryData){e->payload_len, e->payload};
    env.salt = (ProtobufCBinaryData){EVENT_SALT_BYTES, e->salt};
    e->envelope_len = lernet__envelope__get_packed_size(&env);
    e->envelope = malloc(e->envelope_len);
    assert_non_null(e->envelope);
    lernet__envelope__pack(&env, e->envelope);
}

static vset_t *vset_new(void)
{
    vset_t *set = calloc(1, sizeof *set);
    assert_non_null(set);
    set->identity = seeded(IDENTITY_SEED, set->identity_pk);
    set->signing = seeded(SIGNING_SEED, set->signing_pk);
    for (int i = 0; i < NEVENTS; i++)
        build_event(set, i);
    return set;
}

static void vset_free(vset_t *set)
{
    for (int i = 0; i < NEVENTS; i++) {
        free(set->ev[i].payload);
        free(set->ev[i].header);
        free(set->ev[i].envelope);
    }
    keys_free(&set->identity);
    keys_free(&set->signing);
    free(set);
}

/* ---- the digest, computed from the documented formula alone ----------- */

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* author || network || 0x00 || seq (8 bytes, big-endian); returns its length */
static size_t digest_input(uint8_t *out, const uint8_t *author, const char *network,
                           uint64_t seq)
{
    size_t n = strlen(network) + 1;
    memcpy(out, author, 32);
    memcpy(out + 32, network, n);
    be64(out + 32 + n, seq);
    return 32 + n + 8;
}

static void bucket_hash(uint8_t out[16], const uint8_t *author, const char *network)
{
    uint8_t in[32 + EVENT_MAX_NETWORK + 1];
    size_t n = strlen(network) + 1;
    memcpy(in, author, 32);
    memcpy(in + 32, network, n);
    crypto_generichash(out, 16, in, 32 + n, NULL, 0);
}

static int feed_cmp(const void *a, const void *b)
{
    const store_feed_t *x = a, *y = b;
    int c = memcmp(x->author, y->author, KEYS_PUBLIC_BYTES);
    return c ? c : strcmp(x->network, y->network);
}

/* The vector's logs as feeds, in the documented order. */
static store_feed_t *vector_feeds(void)
{
    store_feed_t *f = calloc(NVLOGS, sizeof *f);
    assert_non_null(f);
    for (size_t i = 0; i < NVLOGS; i++) {
        uint8_t seed[32], sk[64];
        seed_of(seed, vlogs[i].author_seed);
        crypto_sign_seed_keypair(f[i].author, sk, seed);
        snprintf(f[i].network, sizeof f[i].network, "%s", vlogs[i].network);
        f[i].seq = vlogs[i].seq;
    }
    qsort(f, NVLOGS, sizeof *f, feed_cmp);
    return f;
}

/* ---- hex and JSON -------------------------------------------------------- */

static json_t *hexj(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    sodium_bin2hex(s, 2 * n + 1, p, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* The field of o is the hex of p[0..n). */
static void assert_hex(const json_t *o, const char *field, const uint8_t *p, size_t n)
{
    const char *want = json_string_value(json_object_get(o, field));
    if (!want)
        fail_msg("test-vectors.md: no field '%s'", field);
    json_t *got = hexj(p, n);
    if (strcmp(json_string_value(got), want) != 0)
        fail_msg("test-vectors.md: '%s' is\n  %s\nthe code makes\n  %s", field, want,
                 json_string_value(got));
    json_decref(got);
}

static json_t *digest_json(void)
{
    store_feed_t *f = vector_feeds();
    uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES], empty[8];
    sync_digest(f, NVLOGS, root, buckets);
    json_t *o = json_object(), *logs = json_array(), *bs = json_array();
    json_object_set_new(o, "vector", json_string("digest"));
    for (size_t i = 0; i < NVLOGS; i++) {
        uint8_t in[128], h[16];
        size_t n = digest_input(in, f[i].author, f[i].network, f[i].seq);
        bucket_hash(h, f[i].author, f[i].network);
        json_t *l = json_object();
        json_object_set_new(l, "author", hexj(f[i].author, 32));
        json_object_set_new(l, "network", json_string(f[i].network));
        json_object_set_new(l, "seq", json_integer((json_int_t)f[i].seq));
        json_object_set_new(l, "bucket_hash", hexj(h, 16));
        json_object_set_new(l, "bucket", json_integer(sync_bucket_of(f[i].author, f[i].network)));
        json_object_set_new(l, "digest_input", hexj(in, n));
        json_array_append_new(logs, l);
    }
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        json_array_append_new(bs, hexj(buckets + b * 8, 8));
    json_object_set_new(o, "logs", logs);
    json_object_set_new(o, "buckets", bs);
    json_object_set_new(o, "root", hexj(root, sizeof root));
    crypto_generichash(empty, sizeof empty, NULL, 0, NULL, 0);
    json_object_set_new(o, "empty_bucket", hexj(empty, sizeof empty));
    sync_digest(NULL, 0, root, buckets);
    json_object_set_new(o, "empty_root", hexj(root, sizeof root));
    free(f);
    return o;
}

static json_t *event_json(const vset_t *set)
{
    uint8_t seed[32];
    json_t *o = json_object(), *evs = json_array();
    json_object_set_new(o, "vector", json_string("event"));
    json_object_set_new(o, "signing_prefix",
                        hexj((const uint8_t *)KEYS_SIGN_DOMAIN, sizeof KEYS_SIGN_DOMAIN));
    seed_of(seed, IDENTITY_SEED);
    json_object_set_new(o, "identity_seed", hexj(seed, 32));
    json_object_set_new(o, "identity_public", hexj(set->identity_pk, 32));
    seed_of(seed, SIGNING_SEED);
    json_object_set_new(o, "signing_seed", hexj(seed, 32));
    json_object_set_new(o, "signing_public", hexj(set->signing_pk, 32));
    for (int i = 0; i < NEVENTS; i++) {
        const vevent_t *e = &set->ev[i];
        uint8_t msg[16 + EVENT_MAX_HEADER];
        memcpy(msg, KEYS_SIGN_DOMAIN, 16);
        memcpy(msg + 16, e->header, e->header_len);
        json_t *j = json_object();
        json_object_set_new(j, "name", json_string(e->name));
        json_object_set_new(j, "log", json_string(e->log));
        json_object_set_new(j, "seq", json_integer((json_int_t)e->seq));
        json_object_set_new(j, "kind", json_integer(e->kind));
        json_object_set_new(j, "signer", json_string(e->signer ? "signing" : "identity"));
        json_object_set_new(j, "created_ms", json_integer(e->created_ms));
        json_object_set_new(j, "salt", hexj(e->salt, EVENT_SALT_BYTES));
        json_object_set_new(j, "payload", hexj(e->payload, e->payload_len));
        json_object_set_new(j, "payload_hash", hexj(e->payload_hash, EVENT_HASH_BYTES));
        if (e->prev >= 0)
            json_object_set_new(j, "prev_sig", hexj(e->prev_sig, EVENT_HASH_BYTES));
        json_object_set_new(j, "header", hexj(e->header, e->header_len));
        json_object_set_new(j, "signed_message", hexj(msg, 16 + e->header_len));
        json_object_set_new(j, "signature", hexj(e->sig, KEYS_SIG_BYTES));
        json_object_set_new(j, "id", hexj(e->id, EVENT_ID_BYTES));
        json_object_set_new(j, "envelope", hexj(e->envelope, e->envelope_len));
        json_array_append_new(evs, j);
    }
    json_object_set_new(o, "events", evs);
    return o;
}

/* The JSON block of docs/test-vectors.md whose "vector" is name (new
 * reference). */
static json_t *doc_block(const char *name)
{
    FILE *f = fopen(DOC, "rb");
    if (!f)
        fail_msg("cannot read %s", DOC);
    static char text[256 * 1024];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    if (n == sizeof text - 1)
        fail_msg("%s is larger than this test reads (%zu bytes)", DOC, sizeof text - 1);
    text[n] = '\0';
    for (char *p = text; (p = strstr(p, "```json\n")) != NULL;) {
        p += 8;
        char *end = strstr(p, "\n```");
        if (!end)
            break;
        json_error_t err;
        json_t *o = json_loadb(p, (size_t)(end - p), 0, &err);
        if (!o)
            fail_msg("%s: a json block does not parse: %s (line %d)", DOC, err.text, err.line);
        const char *v = json_string_value(json_object_get(o, "vector"));
        if (v && strcmp(v, name) == 0)
            return o;
        json_decref(o);
        p = end;
    }
    fail_msg("%s: no json block with \"vector\": \"%s\"", DOC, name);
    return NULL;
}

/* ---- the tests ------------------------------------------------------------ */

/* The digest vector against sync_digest and sync_bucket_of, and against
 * the formula of docs/protocol.md computed here with libsodium alone. */
static void test_digest_vector(void **state)
{
    (void)state;
    json_t *doc = doc_block("digest"), *logs = json_object_get(doc, "logs");
    store_feed_t *f = vector_feeds();
    uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    uint8_t mine[SYNC_NBUCKETS * SYNC_BUCKET_BYTES], my_root[SYNC_ROOT_BYTES];
    crypto_generichash_state st[SYNC_NBUCKETS];
    unsigned count[SYNC_NBUCKETS] = {0};
    assert_int_equal(json_array_size(logs), NVLOGS);
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        crypto_generichash_init(&st[b], NULL, 0, 8);
    for (size_t i = 0; i < NVLOGS; i++) {
        json_t *l = json_array_get(logs, i);
        uint8_t h[16], in[128];
        size_t n = digest_input(in, f[i].author, f[i].network, f[i].seq);
        bucket_hash(h, f[i].author, f[i].network);
        assert_hex(l, "author", f[i].author, 32); /* the documented order */
        assert_string_equal(json_string_value(json_object_get(l, "network")), f[i].network);
        assert_int_equal(json_integer_value(json_object_get(l, "seq")), f[i].seq);
        assert_hex(l, "bucket_hash", h, 16);
        assert_hex(l, "digest_input", in, n);
        unsigned b = sync_bucket_of(f[i].author, f[i].network);
        assert_int_equal(b, h[0] % 32);
        assert_int_equal(json_integer_value(json_object_get(l, "bucket")), b);
        crypto_generichash_update(&st[b], in, n);
        count[b]++;
    }
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        crypto_generichash_final(&st[b], mine + b * 8, 8);
    crypto_generichash(my_root, sizeof my_root, mine, sizeof mine, NULL, 0);
    sync_digest(f, NVLOGS, root, buckets);
    assert_memory_equal(buckets, mine, sizeof mine);
    assert_memory_equal(root, my_root, sizeof root);
    assert_hex(doc, "root", root, sizeof root);
    json_t *bs = json_object_get(doc, "buckets");
    assert_int_equal(json_array_size(bs), SYNC_NBUCKETS);
    bool empty_seen = false, shared_seen = false;
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++) {
        json_t *one = json_object();
        json_object_set(one, "b", json_array_get(bs, b));
        assert_hex(one, "b", buckets + b * 8, 8);
        json_decref(one);
        empty_seen |= count[b] == 0;
        shared_seen |= count[b] >= 2;
    }
    /* the vector shows an empty bucket and the order inside a bucket */
    assert_true(empty_seen);
    assert_true(shared_seen);
    uint8_t empty[8];
    crypto_generichash(empty, sizeof empty, NULL, 0, NULL, 0);
    assert_hex(doc, "empty_bucket", empty, sizeof empty);
    sync_digest(NULL, 0, root, buckets);
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        assert_memory_equal(buckets + b * 8, empty, 8);
    assert_hex(doc, "empty_root", root, sizeof root);
    free(f);
    json_decref(doc);
}

/* An event of author k at the head of (k, log), stored. */
static void store_next(store_t *st, const keys_identity_t *k, const char *log,
                       const Lernet__Payload *p)
{
    uint64_t seq = 0;
    uint8_t head[EVENT_ID_BYTES];
    event_t *ev = NULL;
    int outcome;
    char why[256];
    assert_int_equal(store_head(st, keys_public(k), log, &seq, head), STORE_OK);
    assert_int_equal(event_create(&ev, k, log, seq + 1, seq ? head : NULL, CREATED0, p, why,
                                  sizeof why),
                     EV_OK);
    assert_int_equal(store_add(st, ev, &outcome, NULL, why, sizeof why), STORE_OK);
    assert_int_equal(outcome, STORE_APPLIED);
    event_free(&ev);
}

/* The order the digest takes logs in is the order the store lists them in
 * (store_feeds, what sync digests): author bytes, then the log name's
 * bytes, a reserved log no different from a network. */
static void test_store_order(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[600];
    store_t *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    keys_identity_t *k[4] = {NULL};
    uint8_t pk[32];
    for (uint8_t s = 1; s <= 3; s++)
        k[s] = seeded(s, pk);
    Lernet__Payload *w = tu_workshop("Studiebesök", NULL, 1770372000);
    Lernet__KeyCert cert = LERNET__KEY_CERT__INIT;
    Lernet__IdentityRevoke gone = LERNET__IDENTITY_REVOKE__INIT;
    Lernet__Payload pc = LERNET__PAYLOAD__INIT, pr = LERNET__PAYLOAD__INIT;
    uint8_t other[32];
    keys_identity_t *sk = seeded(SIGNING_SEED, other);
    keys_free(&sk);
    cert.signing_key = (ProtobufCBinaryData){32, other};
    cert.note = "";
    gone.reason = "";
    pc.body_case = LERNET__PAYLOAD__BODY_KEY_CERT, pc.key_cert = &cert;
    pr.body_case = LERNET__PAYLOAD__BODY_IDENTITY_REVOKE, pr.identity_revoke = &gone;
    /* one event per log (the identity revocation last: nothing follows it) */
    for (size_t i = 0; i < NVLOGS; i++) {
        const struct vlog *l = &vlogs[NVLOGS - 1 - i];
        if (strcmp(l->network, "@revoked") != 0)
            store_next(st, k[l->author_seed], l->network,
                       strcmp(l->network, "@keys") == 0 ? &pc : w);
    }
    for (size_t i = 0; i < NVLOGS; i++)
        if (strcmp(vlogs[i].network, "@revoked") == 0)
            store_next(st, k[vlogs[i].author_seed], "@revoked", &pr);
    store_feed_t *got, *want = vector_feeds();
    size_t n;
    assert_int_equal(store_feeds(st, NULL, 0, &got, &n), STORE_OK);
    assert_int_equal(n, NVLOGS);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(got[i].author, want[i].author, 32);
        assert_string_equal(got[i].network, want[i].network);
    }
    free(got);
    free(want);
    tu_payload_free(w);
    for (int s = 1; s <= 3; s++)
        keys_free(&k[s]);
    store_close(&st);
    tu_rmtree(&dir);
}

/* The signed-event vector: the bytes, the prefix, the id and the
 * signature, as the code verifies them and as libsodium alone does. */
static void test_event_vector(void **state)
{
    (void)state;
    vset_t *set = vset_new();
    json_t *doc = doc_block("event"), *evs = json_object_get(doc, "events");
    uint8_t seed[32], pk[32], sk[64];
    assert_hex(doc, "signing_prefix", (const uint8_t *)"lernet/event/v1\0", 16);
    seed_of(seed, IDENTITY_SEED);
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_hex(doc, "identity_seed", seed, 32);
    assert_hex(doc, "identity_public", pk, 32);
    seed_of(seed, SIGNING_SEED);
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_hex(doc, "signing_seed", seed, 32);
    assert_hex(doc, "signing_public", pk, 32);
    assert_int_equal(json_array_size(evs), NEVENTS);
    for (int i = 0; i < NEVENTS; i++) {
        const vevent_t *e = &set->ev[i];
        json_t *j = json_array_get(evs, i);
        uint8_t msg[16 + EVENT_MAX_HEADER], h[32];
        char why[256];
        assert_string_equal(json_string_value(json_object_get(j, "log")), e->log);
        assert_int_equal(json_integer_value(json_object_get(j, "seq")), e->seq);
        assert_int_equal(json_integer_value(json_object_get(j, "kind")), e->kind);
        assert_int_equal(json_integer_value(json_object_get(j, "created_ms")), e->created_ms);
        assert_hex(j, "salt", e->salt, EVENT_SALT_BYTES);
        assert_hex(j, "payload", e->payload, e->payload_len);
        assert_hex(j, "payload_hash", e->payload_hash, EVENT_HASH_BYTES);
        if (e->prev >= 0) { /* libsodium alone: the hash of the signature before */
            crypto_generichash(h, 32, set->ev[e->prev].sig, 64, NULL, 0);
            assert_memory_equal(h, e->prev_sig, 32);
            assert_hex(j, "prev_sig", e->prev_sig, EVENT_HASH_BYTES);
        } else
            assert_null(json_object_get(j, "prev_sig"));
        assert_hex(j, "header", e->header, e->header_len);
        assert_hex(j, "signature", e->sig, KEYS_SIG_BYTES);
        assert_hex(j, "id", e->id, EVENT_ID_BYTES);
        assert_hex(j, "envelope", e->envelope, e->envelope_len);
        /* libsodium alone: the signed message, the signature, the id, the hash */
        memcpy(msg, "lernet/event/v1", 16); /* with its NUL */
        memcpy(msg + 16, e->header, e->header_len);
        assert_hex(j, "signed_message", msg, 16 + e->header_len);
        assert_int_equal(crypto_sign_verify_detached(e->sig, msg, 16 + e->header_len,
                                                     e->signer ? set->signing_pk
                                                               : set->identity_pk),
                         0);
        crypto_generichash(h, 32, e->header, e->header_len, NULL, 0);
        assert_memory_equal(h, e->id, 32);
        crypto_generichash(h, 32, e->payload, e->payload_len, e->salt, 32);
        assert_memory_equal(h, e->payload_hash, 32);
        /* the code: the envelope verifies, with the fields of the vector */
        event_t *ev = NULL;
        assert_int_equal(event_parse(&ev, e->envelope, e->envelope_len, event_now_ms(), why,
                                     sizeof why),
                         EV_OK);
        assert_memory_equal(ev->id, e->id, EVENT_ID_BYTES);
        assert_memory_equal(ev->author, set->identity_pk, 32);
        assert_memory_equal(ev->signer, e->signer ? set->signing_pk : set->identity_pk, 32);
        assert_string_equal(ev->network, e->log);
        assert_int_equal(ev->seq, e->seq);
        assert_int_equal(ev->kind, e->kind);
        if (e->prev >= 0) {
            assert_memory_equal(ev->prev, set->ev[e->prev].id, EVENT_ID_BYTES);
            assert_true(ev->has_prev_sig);
            assert_memory_equal(ev->prev_sig, e->prev_sig, EVENT_HASH_BYTES);
            /* and it vouches for the event before it, unverified */
            const vevent_t *b = &set->ev[e->prev];
            event_t *before = NULL;
            assert_int_equal(event_parse_unverified(&before, b->envelope, b->envelope_len,
                                                    event_now_ms(), why, sizeof why),
                             EV_OK);
            assert_int_equal(before->sig_state, EVENT_SIG_UNCHECKED);
            assert_true(event_vouch(before, ev));
            assert_int_equal(before->sig_state, EVENT_SIG_VOUCHED);
            event_free(&before);
        } else
            assert_false(ev->has_prev_sig);
        event_free(&ev);
        /* one bit of the prefix's NUL is part of what is signed */
        msg[15] = 1;
        assert_int_not_equal(crypto_sign_verify_detached(e->sig, msg, 16 + e->header_len,
                                                         e->signer ? set->signing_pk
                                                                   : set->identity_pk),
                             0);
    }
    json_decref(doc);
    vset_free(set);
}

/* event_create_linked builds exactly what build_event builds: for its own
 * (random) salt, the header made here from its fields is its header, byte
 * for byte, and its payload hash is the salted hash of the payload. */
static void test_create_is_this_construction(void **state)
{
    (void)state;
    vset_t *set = vset_new();
    for (int i = 0; i < NEVENTS; i++) {
        const vevent_t *e = &set->ev[i];
        Lernet__Payload p;
        event_t *ev = NULL;
        char why[256];
        payload_of(set, i, &p);
        const uint8_t *prev = e->prev >= 0 ? set->ev[e->prev].id : NULL;
        assert_int_equal(event_create_linked(&ev, set->identity_pk,
                                             e->signer ? set->signing : set->identity, e->log,
                                             e->seq, prev, prev ? e->prev_sig : NULL,
                                             e->created_ms, &p, why, sizeof why),
                         EV_OK);
        assert_int_equal(ev->payload_len, e->payload_len);
        assert_memory_equal(ev->payload, e->payload, e->payload_len);
        uint8_t h[32];
        crypto_generichash(h, 32, ev->payload, ev->payload_len, ev->salt, 32);
        assert_memory_equal(h, ev->payload_hash, 32);
        size_t len;
        uint8_t *hdr = header_bytes(set->identity_pk, ev->signer, e->seq, prev,
                                    prev ? e->prev_sig : NULL, e->created_ms, e->log, e->kind,
                                    ev->payload_hash, ev->payload_len, &len);
        assert_int_equal(len, ev->header_len);
        assert_memory_equal(hdr, ev->header, len);
        free(hdr);
        event_free(&ev);
    }
    vset_free(set);
}

/* The key rule of docs/protocol.md, on the vector's events: the signing
 * key's workshop is refused before its certificate is stored and taken
 * after it; the revocation's cut (seq 1 of nordic-wbl, pinned by the
 * workshop's id) keeps the workshop and withdraws the cancel after it. */
static void test_key_rule(void **state)
{
    (void)state;
    vset_t *set = vset_new();
    char *dir = tu_tempdir(), path[600], why[256];
    store_t *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    event_t *ev[NEVENTS];
    for (int i = 0; i < NEVENTS; i++)
        assert_int_equal(event_parse(&ev[i], set->ev[i].envelope, set->ev[i].envelope_len,
                                     event_now_ms(), why, sizeof why),
                         EV_OK);
    int outcome;
    assert_int_equal(store_add(st, ev[1], &outcome, NULL, why, sizeof why),
                     STORE_ERR_UNCERTIFIED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_add(st, ev[i], &outcome, NULL, why, sizeof why), STORE_OK);
        assert_int_equal(outcome, STORE_APPLIED);
    }
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(st, set->identity_pk, "nordic-wbl", &seq, head), STORE_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(store_add(st, ev[3], &outcome, NULL, why, sizeof why), STORE_OK);
    assert_int_equal(store_head(st, set->identity_pk, "nordic-wbl", &seq, head), STORE_OK);
    assert_int_equal(seq, 1);
    assert_memory_equal(head, set->ev[1].id, EVENT_ID_BYTES);
    for (int i = 0; i < NEVENTS; i++)
        event_free(&ev[i]);
    store_close(&st);
    tu_rmtree(&dir);
    vset_free(set);
}

/* --print: the JSON blocks of docs/test-vectors.md. */
static int print_vectors(void)
{
    vset_t *set = vset_new();
    json_t *d = digest_json(), *e = event_json(set);
    fputs("```json\n", stdout);
    json_dumpf(d, stdout, JSON_INDENT(2));
    fputs("\n```\n\n```json\n", stdout);
    json_dumpf(e, stdout, JSON_INDENT(2));
    fputs("\n```\n", stdout);
    json_decref(d);
    json_decref(e);
    vset_free(set);
    return 0;
}

int main(int argc, char **argv)
{
    keys_init();
    if (argc == 2 && strcmp(argv[1], "--print") == 0)
        return print_vectors();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_vector),
        cmocka_unit_test(test_store_order),
        cmocka_unit_test(test_event_vector),
        cmocka_unit_test(test_create_is_this_construction),
        cmocka_unit_test(test_key_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
