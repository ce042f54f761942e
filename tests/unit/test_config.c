/*
 * test_config: lernet.ini loading and writing. The shipped example must load
 * with its values intact (å/ö included); a file written for a new node must
 * load back; and every kind of wrong or hostile file must be refused with
 * the right error code and a one-line reason naming the line and the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "keys/keys.h"
#include "harness/testutil.h"

#define PATH_BUF 1024
#define WHY_BUF 512

/* Valid Ed25519 public keys (made with crypto_sign_keypair for the tests). */
#define K1 "k+64JV0rEMjXFK5+xYgeR4nr/P74FopaQE64fQfEp8I="
#define K2 "BBDNkkF0JHreUqy6xB0F5KupRIt0O4UsdF/HXSYu0DE="
/* Keys of the example file's peers. */
#define K_ROSKILDE "31L0tLV6rf4B9AaCLI5knukrBfH5jqLqwbCgAvfdW1w="
#define K_OWL "dsrD3RVzx6hXEQcJDVzkAjaqhi21SCsNGbviUFIE6pg="

/* A valid [node] section on lines 1-4. */
#define NODE                                                                                       \
    "[node]\n"                                                                                     \
    "name = Lärcentrum Östhammar\n"                                                              \
    "country = SE\n"                                                                               \
    "networks = malardalen-skills, nordic-wbl\n"

static char *dir;

static int group_setup(void **state)
{
    (void)state;
    dir = tu_tempdir();
    return dir && keys_init() == KEYS_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(&dir);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void path_in_dir(char out[PATH_BUF], const char *name)
{
    int n = snprintf(out, PATH_BUF, "%s/%s", dir, name);
    assert_true(n > 0 && n < PATH_BUF);
}

/* Writes len bytes (may contain NUL) to dir/lernet.ini, replacing it. */
static void put_file(char path[PATH_BUF], const char *data, size_t len)
{
    path_in_dir(path, "lernet.ini");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Loads text; on success returns the config (caller frees), else NULL with
 * the code in *rc and the reason in why. */
static config_t *load_text(const char *text, size_t len, int *rc, char why[WHY_BUF])
{
    char path[PATH_BUF];
    config_t *c = (config_t *)1;
    put_file(path, text, len);
    why[0] = '\0';
    *rc = config_load(&c, path, why, WHY_BUF);
    if (*rc != CONFIG_OK) {
        assert_ptr_equal(c, (config_t *)1); /* out-parameters only on success */
        c = NULL;
        assert_true(why[0] != '\0');
        assert_null(strchr(why, '\n')); /* one line */
    }
    return c;
}

static config_t *load_ok(const char *text)
{
    char why[WHY_BUF];
    int rc;
    config_t *c = load_text(text, strlen(text), &rc, why);
    if (rc != CONFIG_OK)
        fail_msg("expected to load, got %d: %s", rc, why);
    assert_non_null(c);
    return c;
}

/* The load must fail with code rc, and why must contain each of want[]. */
static void load_bad_n(const char *text, size_t len, int want_rc, const char *const *want,
                       size_t n_want)
{
    char why[WHY_BUF];
    int rc;
    config_t *c = load_text(text, len, &rc, why);
    config_free(&c);
    if (rc != want_rc)
        fail_msg("expected %d, got %d (%s) for:\n%s", want_rc, rc, why, text);
    for (size_t i = 0; i < n_want; i++)
        if (!strstr(why, want[i]))
            fail_msg("'%s' not in why: %s", want[i], why);
}

#define load_bad(text, ...)                                                                        \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        load_bad_n(text, strlen(text), CONFIG_ERR_INVALID, want_, sizeof want_ / sizeof want_[0]); \
    } while (0)

static void decode(uint8_t pk[KEYS_PUBLIC_BYTES], const char *s)
{
    assert_int_equal(keys_pub_decode(pk, s), KEYS_OK);
}

/* ---- the example file ------------------------------------------------- */

static void test_example_loads(void **state)
{
    (void)state;
    char why[WHY_BUF] = "";
    config_t *c = NULL;
    uint8_t pk[KEYS_PUBLIC_BYTES];
    int rc = config_load(&c, LERNET_SOURCE_DIR "/config/lernet.ini", why, sizeof why);
    if (rc != CONFIG_OK)
        fail_msg("config/lernet.ini: %s", why);
    assert_string_equal(c->name, "Lärcentrum Östhammar");
    assert_string_equal(c->country, "SE");
    assert_string_equal(c->municipality, "Östhammar");
    assert_string_equal(c->listen, "tcp://0.0.0.0:7400");
    assert_int_equal(c->n_networks, 3);
    assert_string_equal(c->networks[0], "malardalen-skills");
    assert_string_equal(c->networks[1], "nordic-wbl");
    assert_string_equal(c->networks[2], "owl-nordic-exchange");
    assert_string_equal(c->default_network, "malardalen-skills");
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->sync_interval_ms, 2000);
    assert_int_equal(c->n_peers, 2);

    decode(pk, K_ROSKILDE);
    const config_peer_t *dk = config_peer_by_key(c, pk);
    assert_ptr_equal(dk, &c->peers[0]);
    assert_string_equal(dk->name, "Roskilde Handelsskole");
    assert_string_equal(dk->endpoint, "tcp://lernet.roskilde-handelsskole.example:7400");
    assert_int_equal(dk->n_networks, 1);
    assert_true(config_peer_has_network(dk, "nordic-wbl"));
    assert_false(config_peer_has_network(dk, "malardalen-skills"));

    decode(pk, K_OWL);
    const config_peer_t *de = config_peer_by_key(c, pk);
    assert_ptr_equal(de, &c->peers[1]);
    assert_string_equal(de->name, "Regionalagentur OWL, Bielefeld");
    assert_int_equal(de->n_networks, 2);
    assert_string_equal(de->networks[0], "owl-nordic-exchange");
    assert_string_equal(de->networks[1], "nordic-wbl");
    config_free(&c);
    assert_null(c);
}

/* ---- writing a new node's file ---------------------------------------- */

static void test_write_new_round_trip(void **state)
{
    (void)state;
    char path[PATH_BUF], why[WHY_BUF] = "";
    struct stat st;
    config_t *c = NULL;
    path_in_dir(path, "new.ini");
    unlink(path);
    mode_t old = umask(022);
    int rc = config_write_new(path, "Lärcentrum Östhammar", "SE", "Östhammar", "tcp://127.0.0.1:7400", NULL, "malardalen-skills", why, sizeof why);
    umask(old);
    if (rc != CONFIG_OK)
        fail_msg("write_new: %s", why);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600); /* the node's own, whatever the umask */

    rc = config_load(&c, path, why, sizeof why);
    if (rc != CONFIG_OK)
        fail_msg("written file does not load: %s", why);
    assert_string_equal(c->name, "Lärcentrum Östhammar");
    assert_string_equal(c->country, "SE");
    assert_string_equal(c->municipality, "Östhammar");
    assert_string_equal(c->listen, "tcp://127.0.0.1:7400");
    assert_int_equal(c->n_networks, 1);
    assert_string_equal(c->networks[0], "malardalen-skills");
    assert_string_equal(c->default_network, "malardalen-skills");
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->sync_interval_ms, 2000);
    assert_int_equal(c->n_peers, 0);
    config_free(&c);

    /* never overwritten */
    rc = config_write_new(path, "Other", "DK", "", "", NULL, "nordic-wbl", why, sizeof why);
    assert_int_equal(rc, CONFIG_ERR_IO);
    assert_non_null(strstr(why, "exists"));
    assert_int_equal(config_load(&c, path, why, sizeof why), CONFIG_OK);
    assert_string_equal(c->name, "Lärcentrum Östhammar");
    config_free(&c);
    unlink(path);
}

/* As `lernet init` then the demo script: defaults, then a peer appended. */
static void test_write_new_then_add_peer(void **state)
{
    (void)state;
    char path[PATH_BUF], why[WHY_BUF] = "";
    config_t *c = NULL;
    path_in_dir(path, "init.ini");
    unlink(path);
    assert_int_equal(
        config_write_new(path, "lernet node", "DK", "", "", NULL, "nordic-wbl", why, sizeof why),
        CONFIG_OK);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fprintf(fp,
            "\n[peer \"Lärcentrum Östhammar\"]\npublic_key = %s\n"
            "endpoint = tcp://127.0.0.1:7401\nnetworks = nordic-wbl\n",
            K1);
    assert_int_equal(fclose(fp), 0);
    if (config_load(&c, path, why, sizeof why) != CONFIG_OK)
        fail_msg("%s", why);
    assert_string_equal(c->municipality, "");
    assert_string_equal(c->listen, "");
    assert_int_equal(c->n_peers, 1);
    assert_string_equal(c->peers[0].name, "Lärcentrum Östhammar");
    config_free(&c);
    unlink(path);
}

static void test_write_new_refuses_bad_values(void **state)
{
    (void)state;
    char path[PATH_BUF], why[WHY_BUF];
    struct stat st;
    path_in_dir(path, "refused.ini");
    unlink(path);
    static const struct {
        const char *name, *country, *municipality, *listen, *network, *key;
    } bad[] = {
        {"Evil\n[peer \"x\"]", "SE", "", "", "net", "name"},
        {"Cut ; here", "SE", "", "", "net", "name"},
        {"Ok", "Sweden", "", "", "net", "country"},
        {"Ok", "SE", "\xff", "", "net", "municipality"},
        {"Ok", "SE", "", "http://x", "net", "listen"},
        {"Ok", "SE", "", "", "Mälardalen", "networks"},
    };
    char listen[CONFIG_MAX_ENDPOINT + 1] = "tcp://";
    memset(listen + 6, 'h', sizeof listen - 8);
    strcat(listen, "1"); /* CONFIG_MAX_ENDPOINT bytes: one too many */
    assert_int_equal(strlen(listen), CONFIG_MAX_ENDPOINT);
    assert_int_equal(config_write_new(path, "Ok", "SE", "", listen, NULL, "net", why, sizeof why),
                     CONFIG_ERR_INVALID);
    assert_non_null(strstr(why, "[node] listen: too long"));
    /* short enough for a config_t, too long for a line libinih can read */
    listen[200] = '\0';
    assert_int_equal(config_write_new(path, "Ok", "SE", "", listen, NULL, "net", why, sizeof why),
                     CONFIG_ERR_INVALID);
    assert_non_null(strstr(why, "line too long"));
    assert_int_equal(stat(path, &st), -1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        int rc = config_write_new(path, bad[i].name, bad[i].country, bad[i].municipality, bad[i].listen, NULL, bad[i].network, why, sizeof why);
        char want[64];
        snprintf(want, sizeof want, "[node] %s: ", bad[i].key);
        if (rc != CONFIG_ERR_INVALID || !strstr(why, want))
            fail_msg("case %zu: rc %d, why: %s", i, rc, why);
        assert_int_equal(stat(path, &st), -1); /* nothing written */
    }
}

/* ---- values that load -------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    config_t *c = load_ok(NODE);
    assert_string_equal(c->default_network, "malardalen-skills");
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->sync_interval_ms, 2000);
    assert_string_equal(c->listen, "");
    assert_string_equal(c->municipality, "");
    assert_int_equal(c->n_peers, 0);
    assert_null(c->peers);
    config_free(&c);
}

/* Comments, CRLF, a byte order mark, indentation and the ';' rule. */
static void test_syntax_variants(void **state)
{
    (void)state;
    config_t *c = load_ok("\xef\xbb\xbf# comment\r\n; another\r\n"
                          "  [node]   ; the node\r\n"
                          "\tname = Lärcentrum Östhammar ; inline comment\r\n"
                          "  country=SE\r\n"
                          "  municipality = Öst;hammar # not a comment\r\n"
                          "networks =  nordic-wbl ,malardalen-skills  \r\n"
                          "sync_interval_ms = 100\r\n"
                          "log_level = debug\r\n"
                          "[peer \"Roskilde Handelsskole\"]\r\n"
                          "  public_key = " K1 "\r\n"
                          "  endpoint = ipc:///run/lernet/roskilde.sock\r\n"
                          "  networks = nordic-wbl\r\n");
    assert_string_equal(c->name, "Lärcentrum Östhammar");
    assert_string_equal(c->country, "SE");
    assert_string_equal(c->municipality, "Öst;hammar # not a comment");
    assert_int_equal(c->n_networks, 2);
    assert_string_equal(c->networks[0], "nordic-wbl");
    assert_string_equal(c->networks[1], "malardalen-skills");
    assert_string_equal(c->default_network, "nordic-wbl");
    assert_int_equal(c->sync_interval_ms, 100);
    assert_string_equal(c->log_level, "debug");
    assert_int_equal(c->n_peers, 1);
    assert_string_equal(c->peers[0].endpoint, "ipc:///run/lernet/roskilde.sock");
    config_free(&c);
}

/* Names past libinih's 49-byte section limit come through whole; 127 bytes
 * is the most a name may have. */
static void test_long_names_at_limit(void **state)
{
    (void)state;
    char text[2048], name[CONFIG_MAX_NAME], peer[CONFIG_MAX_NAME];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    /* 42 two-byte letters + 43 ASCII = 127 bytes */
    peer[0] = '\0';
    for (int i = 0; i < 42; i++)
        strcat(peer, "ø");
    memset(peer + 84, 'p', 43);
    peer[127] = '\0';
    snprintf(text, sizeof text,
             "[node]\nname = %s\ncountry = DK\nnetworks = nordic-wbl\n"
             "[peer \"%s\"]\npublic_key = %s\nendpoint = tcp://10.0.0.1:7400\n"
             "networks = nordic-wbl\n",
             name, peer, K1);
    config_t *c = load_ok(text);
    assert_string_equal(c->name, name);
    assert_string_equal(c->peers[0].name, peer);
    config_free(&c);
}

/* The node section may come after the peers: checks that need both run at
 * the end and still name the right line. */
static void test_node_after_peers(void **state)
{
    (void)state;
    config_t *c = load_ok("[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n"
                          "networks = nordic-wbl\n" NODE);
    assert_int_equal(c->n_peers, 1);
    config_free(&c);
    load_bad("[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n"
             "networks = eu-vet\n" NODE,
             "lernet.ini:4: ", "[peer \"A\"] networks", "'eu-vet'");
    /* the earliest of the end-of-file problems is named, not the first found */
    load_bad("[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n"
             "networks = eu-vet\n[node]\ncountry = SE\nnetworks = nordic-wbl\n",
             "lernet.ini:4: ", "[peer \"A\"] networks", "'eu-vet'");
}

/* Peers text: n peers with fresh keys; peer dup_of's key again as the
 * last one's when key_dup, its name again when not. */
static char *many_peers(int n, int dup_of, int key_dup)
{
    size_t cap = 300 * (size_t)(n + 1) + 256, len = 0;
    char *text = malloc(cap), pub[KEYS_PUB_STR_SIZE], dup[KEYS_PUB_STR_SIZE] = "";
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "%s", NODE);
    for (int i = 0; i <= n; i++) {
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_keypair(pk, sk);
        sodium_memzero(sk, sizeof sk);
        keys_pub_encode(pub, pk);
        if (i == dup_of)
            memcpy(dup, pub, sizeof dup);
        char name[32];
        snprintf(name, sizeof name, "Partner %d", i == n && !key_dup ? dup_of : i);
        len += (size_t)snprintf(text + len, cap - len, "[peer \"%s\"]\npublic_key = %s\n",
                                name, i == n && key_dup ? dup : pub);
    }
    return text;
}

/* Duplicates are found past the first tables (the indexes are rebuilt as
 * the peer list grows: 8, 16, 32, 64). */
static void test_duplicates_many(void **state)
{
    (void)state;
    char *t = many_peers(40, 3, 1);
    load_bad(t, "lernet.ini:86: ", "[peer \"Partner 40\"] public_key",
             "same key as [peer \"Partner 3\"] (line 12)");
    free(t);
    t = many_peers(40, 5, 0);
    load_bad(t, "lernet.ini:85: ", "[peer \"Partner 5\"]", "duplicate peer name (first at line 15)");
    free(t);
}

static void test_max_peers(void **state)
{
    (void)state;
    size_t cap = 600 * (CONFIG_MAX_PEERS + 1) + 256, len = 0;
    char *text = malloc(cap), pub[KEYS_PUB_STR_SIZE];
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "%s", NODE);
    for (int i = 0; i < CONFIG_MAX_PEERS + 1; i++) {
        keys_identity_t *k = NULL;
        assert_int_equal(keys_generate(&k), KEYS_OK);
        keys_pub_encode(pub, keys_public(k));
        keys_free(&k);
        len += (size_t)snprintf(text + len, cap - len,
                                "[peer \"Partner %d\"]\npublic_key = %s\n"
                                "endpoint = tcp://127.0.0.1:%d\nnetworks = nordic-wbl\n",
                                i, pub, 8000 + i);
        assert_true(len < cap);
        if (i == CONFIG_MAX_PEERS - 1) {
            config_t *c = load_ok(text);
            assert_int_equal(c->n_peers, CONFIG_MAX_PEERS);
            char last[64];
            snprintf(last, sizeof last, "Partner %d", CONFIG_MAX_PEERS - 1);
            assert_string_equal(c->peers[CONFIG_MAX_PEERS - 1].name, last);
            config_free(&c);
        }
    }
    /* the section past the bound is on line 4 + CONFIG_MAX_PEERS * 4 + 1 */
    char where[64], section[64], why[64];
    snprintf(where, sizeof where, "lernet.ini:%d: ", 4 + CONFIG_MAX_PEERS * 4 + 1);
    snprintf(section, sizeof section, "[peer \"Partner %d\"]", CONFIG_MAX_PEERS);
    snprintf(why, sizeof why, "more than %d peers", CONFIG_MAX_PEERS);
    load_bad(text, where, section, why);
    free(text);
}

static void test_max_networks(void **state)
{
    (void)state;
    char text[1024] = "[node]\nname = x\ncountry = FI\nnetworks = ";
    for (int i = 0; i < CONFIG_MAX_NETWORKS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sn%d", i ? "," : "", i);
    strcat(text, "\n");
    config_t *c = load_ok(text);
    assert_int_equal(c->n_networks, CONFIG_MAX_NETWORKS);
    assert_string_equal(c->networks[31], "n31");
    config_free(&c);
    text[strlen(text) - 1] = '\0';
    strcat(text, ",n32\n");
    load_bad(text, "lernet.ini:4: ", "[node] networks", "more than 32");
}

/* ---- refusals ----------------------------------------------------------- */

static void test_unknown_key_and_section(void **state)
{
    (void)state;
    load_bad(NODE "colour = blue\n", "lernet.ini:5: ", "[node] colour", "unknown key");
    load_bad(NODE "\n[peer \"Roskilde\"]\npublic_key = " K1 "\nendpont = tcp://x:1\n",
             "lernet.ini:8: ", "[peer \"Roskilde\"] endpont", "unknown key");
    load_bad(NODE "Name = x\n", "lernet.ini:5: ", "Name", "unknown key");
    load_bad(NODE "[nodes]\n", "lernet.ini:5: ", "[nodes]", "unknown section");
    load_bad(NODE "[peer Roskilde]\n", "lernet.ini:5: ", "[peer Roskilde]", "unknown section");
    load_bad(NODE "[peer \"Roskilde\"] x\n", "lernet.ini:5: ", "unknown section");
    load_bad(NODE "[peer \"Roskilde\n", "lernet.ini:5: ", "unknown section");
    load_bad("name = x\n" NODE, "lernet.ini:1: ", "name", "outside any section");
    load_bad(NODE "just some words\n", "lernet.ini:5: ", "[node]", "expected 'key = value'");
}

static void test_duplicates(void **state)
{
    (void)state;
    load_bad(NODE "country = DK\n", "lernet.ini:5: ", "[node] country",
             "duplicate key (first at line 3)");
    load_bad(NODE "[node]\n", "lernet.ini:5: ", "[node]", "duplicate section (first at line 1)");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\nnetworks = nordic-wbl\n"
                  "[peer \"B\"]\npublic_key = " K1 "\nendpoint = tcp://b:1\n",
             "lernet.ini:10: ", "[peer \"B\"] public_key", "same key as [peer \"A\"] (line 6)");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\nnetworks = nordic-wbl\n"
                  "[peer \"A\"]\npublic_key = " K2 "\n",
             "lernet.ini:9: ", "[peer \"A\"]", "duplicate peer name (first at line 5)");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\npublic_key = " K2 "\n",
             "lernet.ini:7: ", "[peer \"A\"] public_key", "duplicate key (first at line 6)");
    load_bad("[node]\nnetworks = a, b, a\n", "lernet.ini:2: ", "[node] networks",
             "'a' is listed twice");
}

static void test_bad_public_key(void **state)
{
    (void)state;
    uint8_t pk[KEYS_PUBLIC_BYTES];
    /* the identity point: well-formed base64 but never a node's key */
    const char *small = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_int_not_equal(keys_pub_decode(pk, small), KEYS_OK);

    load_bad(NODE "\n[peer \"Roskilde Handelsskole\"]\npublic_key = abc\n",
             "lernet.ini:7: ", "[peer \"Roskilde Handelsskole\"] public_key",
             "not a lernet public key");
    load_bad(NODE "[peer \"A\"]\npublic_key = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
             "lernet.ini:6: ", "public_key", "not a lernet public key");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "x\n", "lernet.ini:6: ", "public_key");
}

static void test_peer_requirements(void **state)
{
    (void)state;
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n"
                  "networks = nordic-wbl, eu-vet\n",
             "lernet.ini:8: ", "[peer \"A\"] networks", "'eu-vet' is not one of the node's");
    /* no endpoint: it dials us, which it can only if we listen */
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nnetworks = nordic-wbl\n",
             "lernet.ini:5: ", "[peer \"A\"] endpoint", "neither node could dial the other");
    config_t *c = load_ok(NODE "listen = tcp://0.0.0.0:7400\n[peer \"A\"]\npublic_key = " K1
                               "\nnetworks = nordic-wbl\n[peer \"B\"]\npublic_key = " K2
                               "\nendpoint =\nnetworks = nordic-wbl\n");
    assert_int_equal(c->n_peers, 2);
    assert_string_equal(c->peers[0].endpoint, "");
    assert_string_equal(c->peers[1].endpoint, "");
    config_free(&c);
    load_bad(NODE "[peer \"A\"]\nendpoint = tcp://a:1\nnetworks = nordic-wbl\n",
             "lernet.ini:5: ", "[peer \"A\"] public_key", "missing");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n",
             "lernet.ini:5: ", "[peer \"A\"] networks", "missing");
    load_bad(NODE "[peer \"\"]\n", "lernet.ini:5: ", "must not be empty");
    /* of several problems found at the end, the earliest line is named */
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\nnetworks = x1\n"
                  "[peer \"B\"]\npublic_key = " K2 "\n",
             "lernet.ini:8: ", "[peer \"A\"] networks", "'x1'");
}

static void test_bad_endpoints(void **state)
{
    (void)state;
    char text[1024];
    load_bad(NODE "listen = http://0.0.0.0:7400\n", "lernet.ini:5: ", "[node] listen",
             "must start with tcp:// or ipc://");
    load_bad(NODE "listen = tcp://\n", "lernet.ini:5: ", "listen", "no address");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a b:1\n",
             "lernet.ini:7: ", "[peer \"A\"] endpoint", "spaces");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = lernet.example:7400\n",
             "lernet.ini:7: ", "endpoint", "must start with");
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint =\nnetworks = nordic-wbl\n",
             "lernet.ini:7: ", "endpoint", "neither node could dial");
    /* longer than libinih's line buffer */
    snprintf(text, sizeof text, NODE "listen = tcp://%0200d:1\n", 0);
    load_bad(text, "lernet.ini:5: ", "line too long");
}

static void test_bad_node_values(void **state)
{
    (void)state;
    load_bad("[node]\nname = x\ncountry = se\nnetworks = a\n", "lernet.ini:3: ", "[node] country",
             "two capital letters");
    load_bad("[node]\nname = x\ncountry = SWE\nnetworks = a\n", "lernet.ini:3: ", "country");
    load_bad(NODE "log_level = verbose\n", "lernet.ini:5: ", "[node] log_level", "'verbose'");
    load_bad(NODE "default_network = nordic\n", "lernet.ini:5: ", "[node] default_network",
             "'nordic' is not one of the node's networks");
    load_bad("[node]\ndefault_network = nordic\nname = x\ncountry = SE\nnetworks = a\n",
             "lernet.ini:2: ", "default_network");
    load_bad(NODE "default_network = Nordic\n", "lernet.ini:5: ", "not a network name");
    load_bad("[node]\nnetworks = Mälardalen\n", "lernet.ini:2: ", "networks", "not a network name");
    load_bad("[node]\nnetworks = a,,b\n", "lernet.ini:2: ", "networks", "empty entry");
    load_bad("[node]\nnetworks = a,\n", "lernet.ini:2: ", "networks", "empty entry");
    load_bad("[node]\nnetworks =\n", "lernet.ini:2: ", "networks", "at least one network");
    load_bad("[node]\nname = x\ncountry = SE\n", "lernet.ini:1: ", "[node] networks", "missing");
    load_bad("[node]\ncountry = SE\nnetworks = a\n", "lernet.ini:1: ", "[node] name", "missing");
    load_bad("[node]\nname =\ncountry = SE\nnetworks = a\n", "lernet.ini:2: ", "[node] name",
             "must not be empty");
}

static void test_interval(void **state)
{
    (void)state;
    config_t *c = load_ok(NODE "sync_interval_ms = 3600000\n");
    assert_int_equal(c->sync_interval_ms, 3600000);
    config_free(&c);
    load_bad(NODE "sync_interval_ms = 99\n", "lernet.ini:5: ", "[node] sync_interval_ms",
             "out of range");
    load_bad(NODE "sync_interval_ms = 3600001\n", "lernet.ini:5: ", "out of range");
    load_bad(NODE "sync_interval_ms = -2000\n", "lernet.ini:5: ", "out of range");
    load_bad(NODE "sync_interval_ms = 99999999999999999999999\n", "lernet.ini:5: ", "out of range");
    load_bad(NODE "sync_interval_ms = 2000ms\n", "lernet.ini:5: ", "sync_interval_ms",
             "not a whole number");
    load_bad(NODE "sync_interval_ms = 2 000\n", "lernet.ini:5: ", "not a whole number");
    load_bad(NODE "sync_interval_ms = 0x400\n", "lernet.ini:5: ", "not a whole number");
    load_bad(NODE "sync_interval_ms = +2000\n", "lernet.ini:5: ", "not a whole number");
    load_bad(NODE "sync_interval_ms =\n", "lernet.ini:5: ", "not a whole number");
}

/* The web page: loopback by default, a token file needed anywhere else. */
static void test_web(void **state)
{
    (void)state;
    config_t *c = load_ok(NODE);
    assert_string_equal(c->web, "127.0.0.1:8470");
    assert_true(c->web_defaulted);
    assert_true(config_web_local(c));
    config_free(&c);
    c = load_ok(NODE "web = off\n");
    assert_string_equal(c->web, "off");
    assert_false(c->web_defaulted);
    config_free(&c);
    c = load_ok(NODE "web = 0.0.0.0:8470\nweb_token_file = /etc/lernet/web.token\n");
    assert_false(config_web_local(c));
    assert_string_equal(c->web_token_file, "/etc/lernet/web.token");
    config_free(&c);
    load_bad(NODE "web = 0.0.0.0:8470\n", "[node] web", "not a loopback address",
             "web_token_file");
    load_bad(NODE "web = 192.168.1.20:80\n", "web_token_file");
    load_bad(NODE "web = localhost:8470\n", "lernet.ini:5: ", "[node] web", "IPv4 HOST:PORT");
    load_bad(NODE "web = 127.0.0.1\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web = 127.0.0.1:0\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web = 127.0.0.1:65536\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web = 256.0.0.1:80\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web = 127.0.0.1:80x\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web = [::1]:80\n", "lernet.ini:5: ", "IPv4 HOST:PORT");
    load_bad(NODE "web_token_file =\n", "lernet.ini:5: ", "[node] web_token_file");
    /* behind a reverse proxy every visitor needs the token */
    c = load_ok(NODE "web_behind_proxy = yes\nweb_token_file = web.token\n");
    assert_true(c->web_behind_proxy);
    config_free(&c);
    c = load_ok(NODE "web_behind_proxy = no\n");
    assert_false(c->web_behind_proxy);
    config_free(&c);
    load_bad(NODE "web_behind_proxy = yes\n", "lernet.ini:5: ", "[node] web_behind_proxy",
             "needs web_token_file");
    load_bad(NODE "web_behind_proxy = 1\n", "lernet.ini:5: ", "'1' is not yes or no");
}

static void test_missing_node(void **state)
{
    (void)state;
    load_bad("[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\nnetworks = a\n", "[node]",
             "missing");
    load_bad("", "[node]", "missing");
    load_bad("# only a comment\n", "[node]", "missing");
}

static void test_text_limits(void **state)
{
    (void)state;
    char text[1024], name[CONFIG_MAX_NAME + 1];
    memset(name, 'a', CONFIG_MAX_NAME);
    name[CONFIG_MAX_NAME] = '\0';
    snprintf(text, sizeof text, NODE "[peer \"%s\"]\n", name);
    load_bad(text, "lernet.ini:5: ", "too long (128 bytes, at most 127)");
    snprintf(text, sizeof text, "[node]\nname = %s\ncountry = SE\nnetworks = a\n", name);
    load_bad(text, "lernet.ini:2: ", "[node] name", "too long");
    snprintf(text, sizeof text, "[node]\nnetworks = %065d\n", 0);
    load_bad(text, "lernet.ini:2: ", "networks", "not a network name");

    load_bad("[node]\nname = Lärcentrum \xc3\x28\ncountry = SE\nnetworks = a\n",
             "lernet.ini:2: ", "[node] name", "not valid UTF-8");
    load_bad("[node]\nname = x\nmunicipality = \xc0\xaf\n", "lernet.ini:3: ", "municipality",
             "UTF-8");
    load_bad("[node]\nname = \xed\xa0\x80\n", "lernet.ini:2: ", "UTF-8");     /* surrogate */
    load_bad("[node]\nname = \xf4\x90\x80\x80\n", "lernet.ini:2: ", "UTF-8"); /* > U+10FFFF */
    load_bad("[node]\nname = a\x1b[2Jb\n", "lernet.ini:2: ", "control character");
    load_bad(NODE "[peer \"Lärcentrum \xff\"]\n", "lernet.ini:5: ", "[peer \"Lärcentrum ?\"]",
             "UTF-8");
}

static void test_hostile_files(void **state)
{
    (void)state;
    char path[PATH_BUF], why[WHY_BUF];
    config_t *c = NULL;
    const char *const too_large[] = {"too large"};
    const char *const nul[] = {"lernet.ini:2: ", "NUL"};

    size_t big = CONFIG_MAX_FILE + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memcpy(text, NODE, strlen(NODE));
    memset(text + strlen(NODE), '#', big - strlen(NODE));
    text[big - 1] = '\n';
    load_bad_n(text, big, CONFIG_ERR_INVALID, too_large, 1);
    c = load_text(text, big - 1, &(int){0}, why); /* exactly 256 KiB is fine */
    assert_non_null(c);
    config_free(&c);
    free(text);

    static const char with_nul[] = "[node]\nname = a\0b\n";
    load_bad_n(with_nul, sizeof with_nul - 1, CONFIG_ERR_INVALID, nul, 2);

    path_in_dir(path, "does-not-exist.ini");
    assert_int_equal(config_load(&c, path, why, sizeof why), CONFIG_ERR_IO);
    assert_non_null(strstr(why, "does-not-exist.ini"));
    assert_int_equal(config_load(&c, dir, why, sizeof why), CONFIG_ERR_IO); /* a directory */
    assert_null(c);
}

/* why may be NULL or short; the error code is the same. */
static void test_why_optional(void **state)
{
    (void)state;
    char path[PATH_BUF], why[8];
    config_t *c = NULL;
    put_file(path, "[nodes]\n", 8);
    assert_int_equal(config_load(&c, path, NULL, 0), CONFIG_ERR_INVALID);
    assert_int_equal(config_load(&c, path, why, sizeof why), CONFIG_ERR_INVALID);
    assert_int_equal(strlen(why), sizeof why - 1);
    config_free(&c); /* safe on NULL */
    config_free(NULL);
}

static void test_helpers(void **state)
{
    (void)state;
    uint8_t pk[KEYS_PUBLIC_BYTES];
    config_t *c = load_ok(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\n"
                               "networks = nordic-wbl\n"
                               "[peer \"B\"]\npublic_key = " K2 "\nendpoint = tcp://b:1\n"
                               "networks = malardalen-skills, nordic-wbl\n");
    assert_true(config_has_network(c, "nordic-wbl"));
    assert_true(config_has_network(c, "malardalen-skills"));
    assert_false(config_has_network(c, "nordic"));
    assert_false(config_has_network(c, ""));
    assert_false(config_has_network(c, NULL));
    assert_false(config_has_network(NULL, "nordic-wbl"));

    decode(pk, K2);
    const config_peer_t *b = config_peer_by_key(c, pk);
    assert_non_null(b);
    assert_string_equal(b->name, "B");
    assert_true(config_peer_has_network(b, "malardalen-skills"));
    decode(pk, K1);
    const config_peer_t *a = config_peer_by_key(c, pk);
    assert_non_null(a);
    assert_string_equal(a->name, "A");
    assert_false(config_peer_has_network(a, "malardalen-skills"));
    assert_false(config_peer_has_network(NULL, "nordic-wbl"));
    decode(pk, K_OWL);
    assert_null(config_peer_by_key(c, pk));
    assert_null(config_peer_by_key(NULL, pk));
    config_free(&c);
}

/* What a check saw of the edited file; refuses when asked to. */
typedef struct seen {
    size_t peers;
    char name[CONFIG_MAX_NAME];
    int refuse;
} seen_t;

static int note_edit(void *ctx, const config_t *c, char *why, size_t whylen)
{
    seen_t *s = ctx;
    s->peers = c->n_peers;
    snprintf(s->name, sizeof s->name, "%s", c->n_peers ? c->peers[c->n_peers - 1].name : "");
    if (s->refuse)
        snprintf(why, whylen, "not what was asked for");
    return s->refuse;
}

static char *file_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 400 * 1024);
    fread(buf, 1, 400 * 1024 - 1, fp);
    fclose(fp);
    return buf;
}

/* config_edit_checked: the check sees the file as it will load; a refusal,
 * an unloadable result or one over the size limit leave it byte for byte. */
static void test_edit_checked(void **state)
{
    (void)state;
    char path[PATH_BUF], why[WHY_BUF] = "";
    const char *peer = "\n[peer \"Köge\"]\npublic_key = " K1 "\nendpoint = tcp://k:1\n"
                       "networks = nordic-wbl\n";
    put_file(path, NODE, strlen(NODE));
    char *before = file_text(path);
    seen_t s = {.refuse = 1};
    assert_int_equal(config_edit_checked(path, "vet-net", peer, note_edit, &s, why, sizeof why),
                     CONFIG_ERR_INVALID);
    assert_string_equal(why, "not what was asked for");
    assert_int_equal(s.peers, 1);
    assert_string_equal(s.name, "Köge");
    char *after = file_text(path);
    assert_string_equal(before, after);
    free(after);
    /* a result that would not load is refused before the check is asked */
    s = (seen_t){0};
    assert_int_equal(config_edit_checked(path, NULL, "\n[peer \"x\"]\n", note_edit, &s, why,
                                         sizeof why),
                     CONFIG_ERR_INVALID);
    assert_int_equal(s.peers, 0);
    assert_non_null(strstr(why, "missing (required)"));
    /* nor one past the size limit config_load keeps to */
    size_t big = CONFIG_MAX_FILE + 1024;
    char *pad = malloc(big + 1);
    memset(pad, '#', big);
    pad[big] = '\0';
    pad[0] = '\n';
    assert_int_equal(config_edit_checked(path, NULL, pad, NULL, NULL, why, sizeof why),
                     CONFIG_ERR_INVALID);
    assert_non_null(strstr(why, "too large"));
    free(pad);
    after = file_text(path);
    assert_string_equal(before, after);
    free(after);
    /* accepted: written, and loads as the check saw it */
    s = (seen_t){0};
    assert_int_equal(config_edit_checked(path, NULL, peer, note_edit, &s, why, sizeof why),
                     CONFIG_OK);
    config_t *c = NULL;
    assert_int_equal(config_load(&c, path, why, sizeof why), CONFIG_OK);
    assert_int_equal(c->n_peers, s.peers);
    assert_string_equal(c->peers[0].name, s.name);
    config_free(&c);
    free(before);
}

/* The validators an invite's fields go through are the file's own. */
static void test_exposed_checks(void **state)
{
    (void)state;
    char r[256];
    assert_int_equal(config_check_peer_name("Region Örebro län", r, sizeof r), 0);
    assert_int_equal(config_check_peer_name("a\nb", r, sizeof r), -1);
    assert_int_equal(config_check_peer_name("a\"] ;", r, sizeof r), -1);
    assert_non_null(strstr(r, "double quote"));
    assert_int_equal(config_check_peer_name("", r, sizeof r), -1);
    assert_int_equal(config_check_endpoint("tcp://127.0.0.1:7400", r, sizeof r), 0);
    assert_int_equal(config_check_endpoint("", r, sizeof r), -1);
    assert_int_equal(config_check_endpoint("tcp://a:1\n[peer \"x\"]", r, sizeof r), -1);
    assert_non_null(strstr(r, "control character"));
    assert_null(strchr(r, '\n'));
    load_bad(NODE "[peer \"A\"]\npublic_key = " K1 "\nendpoint = tcp://a:1\x01\n"
                  "networks = nordic-wbl\n",
             "lernet.ini:7: ", "endpoint", "control character");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_write_new_round_trip),
        cmocka_unit_test(test_write_new_then_add_peer),
        cmocka_unit_test(test_write_new_refuses_bad_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_syntax_variants),
        cmocka_unit_test(test_long_names_at_limit),
        cmocka_unit_test(test_node_after_peers),
        cmocka_unit_test(test_max_peers),
        cmocka_unit_test(test_max_networks),
        cmocka_unit_test(test_unknown_key_and_section),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_duplicates_many),
        cmocka_unit_test(test_bad_public_key),
        cmocka_unit_test(test_peer_requirements),
        cmocka_unit_test(test_bad_endpoints),
        cmocka_unit_test(test_bad_node_values),
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_web),
        cmocka_unit_test(test_missing_node),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_why_optional),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_edit_checked),
        cmocka_unit_test(test_exposed_checks),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
