/*
 * make_seeds: writes the seed corpora of the fuzz targets (one valid input
 * of every shape each decoder knows) under DIR/NAME/. `make fuzz-seeds`
 * regenerates tests/fuzz/corpus; the result is committed.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/bundle.h"
#include "core/event.h"
#include "export/invite.h"
#include "keys/keystore.h"
#include "util/log.h"
#include "core/payload_json.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"

#define START 1796112000LL
#define NET "nordic-wbl"

static const char *out_dir;

static void put(const char *target, const char *name, const void *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

static event_t *sign(const keys_identity_t *k, const uint8_t *author, const char *net,
                     uint64_t seq, const event_t *prev, Lernet__Payload *p)
{
    event_t *ev = NULL;
    char why[256];
    if (event_create_as(&ev, author, k, net, seq, prev ? prev->id : NULL, event_now_ms(), p, why,
                        sizeof why) != EV_OK) {
        fprintf(stderr, "make_seeds: %s\n", why);
        exit(1);
    }
    return ev;
}

static void put_event(const char *name, const event_t *ev, ProtobufCBinaryData *keep)
{
    uint8_t *env;
    size_t len;
    event_envelope(ev, &env, &len);
    put("event", name, env, len);
    if (keep) {
        keep->data = env;
        keep->len = len;
    } else
        free(env);
}

static void put_msg(const char *name, Lernet__Wire__Msg *m)
{
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    lernet__wire__msg__pack(m, buf);
    put("wire", name, buf, len);
    free(buf);
}

static void wire_seeds(keys_identity_t *id, ProtobufCBinaryData *envs, size_t n)
{
    char *caps[] = {"digest-v1", "push-v1", "push-to-me"}, *nets[] = {NET};
    uint8_t root[16] = {1}, digests[32 * 8] = {2}, bitmap[4] = {0xff, 0, 0, 1};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    h.protocol = 1, h.n_capabilities = 2, h.capabilities = caps, h.n_networks = 1,
    h.networks = nets, h.node_name = "Lärcentrum Tierp";
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO, m.hello = &h;
    put_msg("hello", &m);
    Lernet__Wire__HelloAck a = LERNET__WIRE__HELLO_ACK__INIT;
    a.protocol = 1, a.n_capabilities = 3, a.capabilities = caps, a.n_networks = 1,
    a.networks = nets, a.node_name = "Køge Handelsskole";
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO_ACK, m.hello_ack = &a;
    put_msg("hello_ack", &m);
    Lernet__Wire__Summary s = LERNET__WIRE__SUMMARY__INIT;
    s.root.data = root, s.root.len = sizeof root, s.logs = 3;
    m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY, m.summary = &s;
    put_msg("summary", &m);
    Lernet__Wire__Buckets b = LERNET__WIRE__BUCKETS__INIT;
    b.digests.data = digests, b.digests.len = sizeof digests;
    m.body_case = LERNET__WIRE__MSG__BODY_BUCKETS, m.buckets = &b;
    put_msg("buckets", &m);
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    g.buckets.data = bitmap, g.buckets.len = sizeof bitmap;
    m.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS, m.get_heads = &g;
    put_msg("get_heads", &m);
    Lernet__Wire__Head hd = LERNET__WIRE__HEAD__INIT, *hp = &hd;
    hd.author.data = (uint8_t *)keys_public(id), hd.author.len = 32, hd.network = NET, hd.seq = 2;
    Lernet__Wire__Heads hs = LERNET__WIRE__HEADS__INIT;
    hs.n_heads = 1, hs.heads = &hp;
    m.body_case = LERNET__WIRE__MSG__BODY_HEADS, m.heads = &hs;
    put_msg("heads", &m);
    Lernet__Wire__Range r = LERNET__WIRE__RANGE__INIT, *rp = &r;
    r.author = hd.author, r.network = NET, r.from = 1, r.to = 2;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    w.n_ranges = 1, w.ranges = &rp, w.max_events = 4000;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT, m.want = &w;
    put_msg("want", &m);
    Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
    e.n_envelopes = n, e.envelopes = envs, e.more = 1;
    m.body_case = LERNET__WIRE__MSG__BODY_EVENTS, m.events = &e;
    put_msg("events", &m);
    m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
    put_msg("push", &m);
    Lernet__Wire__Error er = LERNET__WIRE__ERROR__INIT;
    er.code = LERNET__WIRE__ERROR__CODE__CODE_VERSION, er.message = "protocol 9 is not supported";
    m.body_case = LERNET__WIRE__MSG__BODY_ERROR, m.error = &er;
    put_msg("error", &m);
}

static char *b64(const uint8_t *buf, size_t len, int variant)
{
    size_t n = sodium_base64_ENCODED_LEN(len, variant);
    char *t = malloc(n);
    sodium_bin2base64(t, n, buf, len, variant);
    return t;
}

static void invite_put(const char *seed, const char *pub, const char *name,
                       const char *endpoint, const char *cert, const char *stmt)
{
    json_t *doc = json_pack("{s:s,s:[s],s:{s:s,s:s,s:s},s:s,s:[s]}", "network", NET,
                            "coordinators", pub, "peer", "name", name, "public_key", pub,
                            "endpoint", endpoint, "statement", stmt, "keys", cert);
    char *json = json_dumps(doc, JSON_COMPACT);
    char *body = b64((const uint8_t *)json, strlen(json), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *text = malloc(strlen(INVITE_PREFIX) + strlen(body) + 1);
    sprintf(text, "%s%s", INVITE_PREFIX, body);
    put("invite", seed, text, strlen(text));
    free(json), free(body), free(text);
    json_decref(doc);
}

/* A valid invite, and two crafted ones whose endpoint or peer name would
 * write a [peer] section of the sender's into the joiner's lernet.ini. */
static void invite_seed(const keys_identity_t *coord, const ProtobufCBinaryData *cert,
                        const ProtobufCBinaryData *stmt)
{
    char pub[KEYS_PUB_STR_SIZE], evil[512];
    keys_pub_encode(pub, keys_public(coord));
    char *c = b64(cert->data, cert->len, sodium_base64_VARIANT_ORIGINAL),
         *s = b64(stmt->data, stmt->len, sodium_base64_VARIANT_ORIGINAL);
    invite_put("invite", pub, "Region Örebro län", "tcp://127.0.0.1:7400", c, s);
    snprintf(evil, sizeof evil,
             "tcp://127.0.0.1:7400\nnetworks = " NET "\n\n[peer \"Zweiter Partner\"]\n"
             "public_key = %s\nendpoint = tcp://evil.example:7400", pub);
    invite_put("endpoint-newline", pub, "Region Örebro län", evil, c, s);
    snprintf(evil, sizeof evil,
             "OWL\"]\npublic_key = %s\nendpoint = tcp://evil.example:7400\nnetworks = " NET
             "\n\n[peer \"Region", pub);
    invite_put("name-section", pub, evil, "tcp://127.0.0.1:7400", c, s);
    free(c), free(s);
}

static void key_seeds(const keys_identity_t *k)
{
    char *text;
    size_t len;
    keys_transport_t *t = NULL;
    if (keystore_seal(k, NULL, &text, &len, NULL, 0) == 0) {
        put("keyfile", "plain", text, len);
        sodium_free(text);
    }
    if (keystore_seal(k, "lösenfras för test", &text, &len, NULL, 0) == 0) {
        put("keyfile", "encrypted", text, len);
        sodium_free(text);
    }
    uint8_t *secret = sodium_malloc(KEYS_X25519_BYTES);
    char pub[KEYS_PUB_STR_SIZE], line[256];
    keys_transport_from_identity(&t, k);
    keys_transport_export(t, secret);
    char *s = b64(secret, KEYS_X25519_BYTES, sodium_base64_VARIANT_ORIGINAL);
    keys_pub_encode(pub, keys_public(k));
    int n = snprintf(line, sizeof line, "lernet-transport-key 1\nidentity %s\nsecret %s\n", pub, s);
    put("keyfile", "transport", line, (size_t)n);
    free(s);
    sodium_free(secret);
    keys_transport_free(&t);
}

static void json_seeds(void)
{
    Lernet__Payload *w = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    Lernet__Payload *m = tu_meeting("Netværksmøde i Køge", START);
    json_t *j[2] = {payload_workshop_json(w->workshop), payload_meeting_json(m->meeting)};
    const char *names[2] = {"workshop", "meeting"};
    for (int i = 0; i < 2; i++) {
        char *t = json_dumps(j[i], JSON_INDENT(2));
        put("json", names[i], t, strlen(t));
        free(t);
        json_decref(j[i]);
    }
    tu_payload_free(w);
    tu_payload_free(m);
}

static void config_seeds(const keys_identity_t *k)
{
    char pub[KEYS_PUB_STR_SIZE], text[1024];
    keys_pub_encode(pub, keys_public(k));
    int n = snprintf(text, sizeof text,
                     "[node]\nname = Lärcentrum Östhammar\ncountry = SE\nmunicipality = Östhammar\n"
                     "listen = tcp://127.0.0.1:7400\nnetworks = malardalen-skills, " NET "\n"
                     "default_network = malardalen-skills\nlog_level = info\n"
                     "sync_interval_ms = 2000\n\n[network \"" NET "\"]\ncoordinators = %s\n\n"
                     "[peer \"Roskilde Handelsskole\"]\npublic_key = %s\n"
                     "endpoint = tcp://127.0.0.1:7401\nnetworks = " NET "\n",
                     pub, pub);
    put("config", "full", text, (size_t)n);
}

/* A payload from the JSON form (the kinds table's samples); exits when it
 * is refused, as a seed generator may. */
static Lernet__Payload *json_payload(int kind, const char *text)
{
    char why[256];
    json_error_t e;
    Lernet__Payload *p = NULL;
    json_t *o = json_loads(text, 0, &e);
    if (!o || payload_from_json(&p, kind, o, why, sizeof why) != PJ_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", event_kind_name(kind), o ? why : e.text);
        exit(1);
    }
    json_decref(o);
    return p;
}

/* What users type into a search: words with and without diacritics, a
 * compound's part, FTS5 operators and SQL that must stay text. */
static void search_seeds(void)
{
    static const char *const q[][2] = {
        {"diacritic-free", "larare"},
        {"compound-part", "platz"},
        {"two-words", "Køge læring"},
        {"near", "\"NEAR(platz werkstatt)"},
        {"columns", "title:platz OR body:x*"},
        {"sql", "'; DROP TABLE events; --"},
        {"sixteen-words", "a b c d e f g h i j k l m n o p"},
        {"short", "pl"},
        {"folds", "TYÖELÄMÄN Straße ø æ ß"},
        {"goal", "kompetensinsatser arbetsliv"},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        put("search", q[i][0], q[i][1], strlen(q[i][1]));
}

int main(int argc, char **argv)
{
    if (argc != 2 || keys_init() != 0) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0755);
    log_init(LOG_LVL_ERROR, "");
    keys_identity_t *id, *sk, *member;
    keys_generate(&id), keys_generate(&sk), keys_generate(&member);
    const uint8_t *me = keys_public(id);
    Lernet__KeyCert kc = LERNET__KEY_CERT__INIT;
    kc.signing_key.data = (uint8_t *)keys_public(sk), kc.signing_key.len = 32, kc.note = "init";
    Lernet__Payload pc = LERNET__PAYLOAD__INIT;
    pc.body_case = LERNET__PAYLOAD__BODY_KEY_CERT, pc.key_cert = &kc;
    event_t *cert = sign(id, NULL, EVENT_LOG_KEYS, 1, NULL, &pc);
    Lernet__Payload *w = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    event_t *e1 = sign(sk, me, NET, 1, NULL, w);
    Lernet__Payload *mt = tu_meeting("Netværksmøde", START);
    event_t *e2 = sign(sk, me, NET, 2, e1, mt);
    Lernet__Payload *x = tu_experience(e1->id, "Erfahrungen aus der Lernwerkstatt");
    event_t *e3 = sign(sk, me, NET, 3, e2, x);
    Lernet__Payload *u = tu_update_workshop(e1->id, "Arbetsplatslärande (flyttad)", START + 86400);
    event_t *e4 = sign(sk, me, NET, 4, e3, u);
    Lernet__Payload *cn = tu_cancel(e1->id, "Snöstorm");
    event_t *e5 = sign(sk, me, NET, 5, e4, cn);
    Lernet__Membership ms = LERNET__MEMBERSHIP__INIT;
    ms.member.data = (uint8_t *)keys_public(member), ms.member.len = 32, ms.name = "OWL",
    ms.endpoint = "", ms.until_ms = 1900000000000LL;
    Lernet__Payload pm = LERNET__PAYLOAD__INIT;
    pm.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP, pm.membership = &ms;
    event_t *e6 = sign(sk, me, NET, 6, e5, &pm);
    Lernet__LogCut cut = LERNET__LOG_CUT__INIT, *cp = &cut;
    cut.network = NET, cut.last_good_seq = 5;
    cut.last_good_id.data = e5->id, cut.last_good_id.len = EVENT_ID_BYTES;
    Lernet__KeyRevoke kr = LERNET__KEY_REVOKE__INIT;
    kr.signing_key = kc.signing_key, kr.n_cuts = 1, kr.cuts = &cp, kr.reason = "stolen";
    Lernet__Payload pr = LERNET__PAYLOAD__INIT;
    pr.body_case = LERNET__PAYLOAD__BODY_KEY_REVOKE, pr.key_revoke = &kr;
    event_t *rv = sign(id, NULL, EVENT_LOG_KEYS, 2, cert, &pr);
    Lernet__IdentityRevoke ir = LERNET__IDENTITY_REVOKE__INIT;
    ir.reason = "lost";
    Lernet__Payload pi = LERNET__PAYLOAD__INIT;
    pi.body_case = LERNET__PAYLOAD__BODY_IDENTITY_REVOKE, pi.identity_revoke = &ir;
    event_t *irv = sign(id, NULL, EVENT_LOG_REVOKED, 1, NULL, &pi);

    ProtobufCBinaryData envs[3], cert_env, stmt_env;
    put_event("key_cert", cert, &cert_env);
    put_event("workshop", e1, &envs[0]);
    put_event("meeting", e2, &envs[1]);
    put_event("experience", e3, &envs[2]);
    put_event("update", e4, NULL);
    put_event("cancel", e5, NULL);
    put_event("membership", e6, &stmt_env);
    put_event("key_revoke", rv, NULL);
    put_event("identity_revoke", irv, NULL);
    Lernet__Profile pf = LERNET__PROFILE__INIT;
    pf.name = "Lärcentrum Östhammar", pf.country = "SE", pf.municipality = "Östhammar";
    Lernet__Payload pp = LERNET__PAYLOAD__INIT;
    pp.body_case = LERNET__PAYLOAD__BODY_PROFILE, pp.profile = &pf;
    event_t *prof = sign(id, NULL, EVENT_LOG_KEYS, 3, rv, &pp);
    put_event("profile", prof, NULL);
    const uint8_t(*gone)[EVENT_ID_BYTES] = (const uint8_t(*)[EVENT_ID_BYTES])e3->id;
    Lernet__Payload *er = tu_erasure(gone, 1, "written in error");
    event_t *e7 = sign(id, NULL, NET, 7, e6, er);
    put_event("erasure", e7, NULL);
    Lernet__Payload *res = tu_resource("Metodekatalog", 2);
    event_t *e8 = sign(sk, me, NET, 8, e7, res);
    put_event("resource", e8, NULL);
    Lernet__Payload *rep = tu_reply(e8->id, "Vi provade metoden i Östhammar.");
    event_t *e9 = sign(sk, me, NET, 9, e8, rep);
    put_event("reply", e9, NULL);
    Lernet__Payload *hd = tu_hide(e9->id, "off topic", 0);
    event_t *e10 = sign(sk, me, NET, 10, e9, hd);
    put_event("hide", e10, NULL);
    /* the programme: a goal, a questionnaire, feedback on e1 against it */
    Lernet__Payload *gl = json_payload(LERNET__KIND__KIND_GOAL,
                                       payload_kind_named("goal")->sample);
    event_t *e11 = sign(sk, me, NET, 11, e10, gl);
    put_event("goal", e11, NULL);
    Lernet__Payload *qn = json_payload(LERNET__KIND__KIND_QUESTIONNAIRE,
                                       payload_kind_named("questionnaire")->sample);
    event_t *e12 = sign(sk, me, NET, 12, e11, qn);
    put_event("questionnaire", e12, NULL);
    char fb_json[512], about_hex[EVENT_ID_HEX_SIZE], q_hex[EVENT_ID_HEX_SIZE];
    event_id_hex(about_hex, e1->id);
    event_id_hex(q_hex, e12->id);
    snprintf(fb_json, sizeof fb_json,
             "{\"about\": \"%s\", \"questionnaire\": \"%s\", \"respondents\": "
             "{\"teachers\": 9, \"company representatives\": 5}, \"results\": "
             "[[0, 1, 2, 6, 5], [1, 0, 3, 7, 3]]}", about_hex, q_hex);
    Lernet__Payload *fb = json_payload(LERNET__KIND__KIND_FEEDBACK, fb_json);
    event_t *e13 = sign(sk, me, NET, 13, e12, fb);
    put_event("feedback", e13, NULL);
    wire_seeds(id, envs, 3);
    {
        /* a bundle: magic line, then length-prefixed envelopes, key log first */
        ProtobufCBinaryData all[4] = {cert_env, envs[0], envs[1], envs[2]};
        size_t total = strlen(BUNDLE_MAGIC);
        for (int i = 0; i < 4; i++)
            total += 4 + all[i].len;
        uint8_t *b = malloc(total), *p = b;
        memcpy(p, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC));
        p += strlen(BUNDLE_MAGIC);
        for (int i = 0; i < 4; i++) {
            p[0] = (uint8_t)(all[i].len >> 24), p[1] = (uint8_t)(all[i].len >> 16),
            p[2] = (uint8_t)(all[i].len >> 8), p[3] = (uint8_t)all[i].len;
            memcpy(p + 4, all[i].data, all[i].len);
            p += 4 + all[i].len;
        }
        put("bundle", "four-events", b, total);
        free(b);
    }
    invite_seed(id, &cert_env, &stmt_env);
    key_seeds(id);
    json_seeds();
    search_seeds();
    config_seeds(id);
    printf("seeds written to %s\n", out_dir);
    return 0;
}
