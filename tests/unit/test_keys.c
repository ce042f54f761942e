/*
 * test_keys: the identity key module (signatures, printable public keys,
 * fingerprints, secret import) and the keystore (encrypted and unencrypted
 * round trips, file modes, refusal to overwrite, and hostile or damaged key
 * files, which must be refused with the right error and never loaded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys.h"
#include "keys/keystore.h"
#include "harness/testutil.h"

#define PASS "correct horse battery staple"
#define PATH_BUF 1024

/* Per-test fixture: a fresh home, the key paths under it, and a key. */
typedef struct fx {
    char *home;
    char keydir[PATH_BUF], keypath[PATH_BUF], pubpath[PATH_BUF];
    keys_identity_t *k;
} fx_t;

static int group_setup(void **state)
{
    (void)state;
    return keys_init();
}

/* out = a + b; the check also tells the compiler truncation is handled. */
static void join(char out[PATH_BUF], const char *a, const char *b)
{
    int n = snprintf(out, PATH_BUF, "%s%s", a, b);
    assert_true(n > 0 && n < PATH_BUF);
}

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->home = tu_tempdir();
    if (!f->home || keys_generate(&f->k) != KEYS_OK)
        return -1;
    join(f->keydir, f->home, "/keys");
    join(f->keypath, f->keydir, "/identity.key");
    join(f->pubpath, f->keydir, "/identity.pub");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    keys_free(&f->k);
    tu_rmtree(&f->home);
    free(f);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* Whole file as a malloc'd NUL-terminated string; *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 8192);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 8191, fp);
    fclose(fp);
    if (len)
        *len = n;
    return buf;
}

/* Replaces path's content, keeping the given mode regardless of umask. */
static void spit(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* why must be a non-empty single line after an error. */
static void assert_why_line(const char *why)
{
    assert_true(why[0] != '\0');
    assert_null(strchr(why, '\n'));
}

static int load_dir(const char *dir, const char *pass)
{
    keys_identity_t *k = (keys_identity_t *)1;
    char why[512] = "";
    int rc = keystore_load(dir, pass, &k, why, sizeof why);
    if (rc == KEYSTORE_OK) {
        keys_free(&k);
    } else {
        assert_ptr_equal(k, (keys_identity_t *)1); /* nothing handed out: untouched */
        assert_why_line(why);
    }
    return rc;
}

static int load_rc(const fx_t *f, const char *pass)
{
    return load_dir(f->keydir, pass);
}

/* Content of the key file with the line starting with prefix replaced by
 * repl (which includes its own "\n"). Returns a malloc'd string. */
static char *with_line(const char *content, const char *prefix, const char *repl)
{
    const char *start = strstr(content, prefix);
    assert_non_null(start);
    const char *end = strchr(start, '\n');
    assert_non_null(end);
    size_t head = (size_t)(start - content);
    char *out = malloc(strlen(content) + strlen(repl) + 1);
    assert_non_null(out);
    memcpy(out, content, head);
    strcpy(out + head, repl);
    strcat(out, end + 1);
    return out;
}

/* Changes the base64 character at position pos of the value of the line
 * starting with prefix to another valid base64 character. */
static void corrupt_b64(const fx_t *f, const char *prefix, size_t pos)
{
    char *s = slurp(f->keypath, NULL);
    char *v = strstr(s, prefix);
    assert_non_null(v);
    v += strlen(prefix);
    assert_true(pos < (size_t)(strchr(v, '\n') - v));
    v[pos] = v[pos] == 'A' ? 'B' : 'A';
    spit(f->keypath, s, strlen(s), 0600);
    free(s);
}

static void save_ok(const fx_t *f, const char *pass)
{
    char why[512] = "";
    assert_int_equal(keystore_save(f->keydir, f->k, pass, why, sizeof why), KEYSTORE_OK);
    assert_string_equal(why, "");
}

static void assert_mode(const char *path, mode_t want)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, want);
}

/* ---- keys.c ----------------------------------------------------------- */

static void test_sign_verify(void **state)
{
    fx_t *f = *state;
    const uint8_t msg[] = "Lärcentrum Östhammar: workshop 1 december";
    uint8_t sig[KEYS_SIG_BYTES];
    assert_int_equal(keys_sign(f->k, sig, msg, sizeof msg), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(f->k), sig, msg, sizeof msg), KEYS_OK);
    /* An empty message is signable too (domain separation still applies). */
    assert_int_equal(keys_sign(f->k, sig, NULL, 0), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(f->k), sig, NULL, 0), KEYS_OK);
    /* The signature is over domain || NUL || msg, not msg alone. */
    assert_int_equal(keys_sign(f->k, sig, msg, sizeof msg), KEYS_OK);
    assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, keys_public(f->k)), 0);
}

static void test_sign_tamper(void **state)
{
    fx_t *f = *state;
    uint8_t msg[48], sig[KEYS_SIG_BYTES];
    const uint8_t *pk = keys_public(f->k);
    randombytes_buf(msg, sizeof msg);
    assert_int_equal(keys_sign(f->k, sig, msg, sizeof msg), KEYS_OK);
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x01;
        assert_int_equal(keys_verify(pk, sig, msg, sizeof msg), KEYS_ERR_CRYPTO);
        msg[i] ^= 0x01;
    }
    for (size_t i = 0; i < sizeof sig; i++) {
        sig[i] ^= 0x80;
        assert_int_equal(keys_verify(pk, sig, msg, sizeof msg), KEYS_ERR_CRYPTO);
        sig[i] ^= 0x80;
    }
    assert_int_equal(keys_verify(pk, sig, msg, sizeof msg), KEYS_OK);
    /* Another key's public key does not verify it either. */
    keys_identity_t *other = NULL;
    assert_int_equal(keys_generate(&other), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(other), sig, msg, sizeof msg), KEYS_ERR_CRYPTO);
    keys_free(&other);
    assert_null(other);
}

static void test_pub_roundtrip(void **state)
{
    fx_t *f = *state;
    char s[KEYS_PUB_STR_SIZE];
    uint8_t pk[KEYS_PUBLIC_BYTES];
    keys_pub_encode(s, keys_public(f->k));
    assert_int_equal(strlen(s), KEYS_PUB_STR_LEN);
    assert_int_equal(s[KEYS_PUB_STR_LEN - 1], '=');
    assert_int_equal(keys_pub_decode(pk, s), KEYS_OK);
    assert_memory_equal(pk, keys_public(f->k), KEYS_PUBLIC_BYTES);
}

static void test_pub_decode_rejects(void **state)
{
    fx_t *f = *state;
    char s[KEYS_PUB_STR_SIZE], bad[64];
    uint8_t pk[KEYS_PUBLIC_BYTES], zero[KEYS_PUBLIC_BYTES] = {0};
    keys_pub_encode(s, keys_public(f->k));

    snprintf(bad, sizeof bad, "%.43s", s); /* one short */
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%sA", s); /* one long */
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s", s);
    bad[5] = '!';
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    bad[5] = '-'; /* URL-safe alphabet is not the printable form */
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s ", s);
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    snprintf(bad, sizeof bad, " %s", s);
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    snprintf(bad, sizeof bad, "%s\n", s);
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
    assert_int_equal(keys_pub_decode(pk, ""), KEYS_ERR_ENCODING);
    assert_int_equal(keys_pub_decode(pk, NULL), KEYS_ERR_ENCODING);
    /* Well-formed base64 of a small-order point is not an identity. */
    keys_pub_encode(bad, zero);
    assert_int_equal(keys_pub_decode(pk, bad), KEYS_ERR_ENCODING);
}

static void test_fingerprint(void **state)
{
    fx_t *f = *state;
    char fpr[KEYS_FPR_STR_SIZE], want[KEYS_FPR_STR_SIZE];
    uint8_t h[32];
    keys_fingerprint(fpr, keys_public(f->k));
    assert_int_equal(strlen(fpr), 19);
    for (int i = 0; i < 19; i++) {
        if (i % 5 == 4)
            assert_int_equal(fpr[i], ':');
        else
            assert_non_null(strchr("0123456789abcdef", fpr[i]));
    }
    crypto_generichash(h, sizeof h, keys_public(f->k), KEYS_PUBLIC_BYTES, NULL, 0);
    snprintf(want, sizeof want, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7]);
    assert_string_equal(fpr, want);
}

static void test_from_secret(void **state)
{
    fx_t *f = *state;
    keys_identity_t *k = NULL;
    uint8_t *sk = sodium_malloc(KEYS_SECRET_BYTES);
    uint8_t sig[KEYS_SIG_BYTES];
    assert_non_null(sk);
    assert_int_equal(keys_export_secret(f->k, sk), KEYS_OK);
    assert_int_equal(keys_from_secret(&k, sk), KEYS_OK);
    assert_memory_equal(keys_public(k), keys_public(f->k), KEYS_PUBLIC_BYTES);
    assert_int_equal(keys_sign(k, sig, (const uint8_t *)"x", 1), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(f->k), sig, (const uint8_t *)"x", 1), KEYS_OK);
    keys_free(&k);

    sk[40] ^= 0x01; /* public half no longer matches the seed */
    assert_int_equal(keys_from_secret(&k, sk), KEYS_ERR_CRYPTO);
    assert_null(k);
    sk[40] ^= 0x01;
    sk[3] ^= 0x01; /* seed no longer matches the public half */
    assert_int_equal(keys_from_secret(&k, sk), KEYS_ERR_CRYPTO);
    assert_null(k);
    sodium_free(sk);
}

/* ---- keystore: round trips ------------------------------------------- */

static void test_store_encrypted_roundtrip(void **state)
{
    fx_t *f = *state;
    keys_identity_t *k = NULL;
    char why[512] = "";
    uint8_t sig[KEYS_SIG_BYTES];
    save_ok(f, PASS);

    char *s = slurp(f->keypath, NULL);
    assert_true(strncmp(s, "lernet-secret-key 1\npublic ", 27) == 0);
    assert_non_null(strstr(s, "\nprotection argon2id-xchacha20poly1305\nkdf "));
    assert_non_null(strstr(s, "\nnonce "));
    free(s);

    assert_int_equal(keystore_load(f->keydir, PASS, &k, why, sizeof why), KEYSTORE_OK);
    assert_non_null(k);
    assert_memory_equal(keys_public(k), keys_public(f->k), KEYS_PUBLIC_BYTES);
    assert_int_equal(keys_sign(k, sig, (const uint8_t *)"hej", 3), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(f->k), sig, (const uint8_t *)"hej", 3), KEYS_OK);
    keys_free(&k);
}

static void test_store_wrong_passphrase(void **state)
{
    fx_t *f = *state;
    save_ok(f, PASS);
    assert_int_equal(load_rc(f, "correct horse battery stapler"), KEYSTORE_ERR_PASSPHRASE);
    assert_int_equal(load_rc(f, ""), KEYSTORE_ERR_PASSPHRASE);
    assert_int_equal(load_rc(f, PASS), KEYSTORE_OK);
}

static void test_store_need_pass(void **state)
{
    fx_t *f = *state;
    save_ok(f, PASS);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_NEED_PASS);
}

static void test_store_plain_roundtrip(void **state)
{
    fx_t *f = *state;
    keys_identity_t *k = NULL;
    char why[512] = "";
    uint8_t sig[KEYS_SIG_BYTES];
    save_ok(f, NULL);

    char *s = slurp(f->keypath, NULL);
    assert_non_null(strstr(s, "\nprotection none\nsecret "));
    assert_null(strstr(s, "kdf "));
    free(s);

    assert_int_equal(keystore_load(f->keydir, NULL, &k, why, sizeof why), KEYSTORE_OK);
    assert_memory_equal(keys_public(k), keys_public(f->k), KEYS_PUBLIC_BYTES);
    assert_int_equal(keys_sign(k, sig, (const uint8_t *)"hej", 3), KEYS_OK);
    assert_int_equal(keys_verify(keys_public(f->k), sig, (const uint8_t *)"hej", 3), KEYS_OK);
    keys_free(&k);
    /* A passphrase given for an unencrypted file is not needed, not an error. */
    assert_int_equal(load_rc(f, PASS), KEYSTORE_OK);
}

/* ---- keystore: files on disk ----------------------------------------- */

static void test_store_modes(void **state)
{
    fx_t *f = *state;
    char dir2[PATH_BUF], key2[PATH_BUF], pub2[PATH_BUF];
    /* The modes must not depend on the umask, in either direction. */
    mode_t old = umask(0);
    save_ok(f, NULL);
    umask(0777);
    join(dir2, f->home, "/keys2");
    join(key2, dir2, "/identity.key");
    join(pub2, dir2, "/identity.pub");
    assert_int_equal(keystore_save(dir2, f->k, NULL, NULL, 0), KEYSTORE_OK);
    umask(old);

    assert_mode(f->keydir, 0700);
    assert_mode(f->keypath, 0600);
    assert_mode(f->pubpath, 0644);
    assert_mode(dir2, 0700);
    assert_mode(key2, 0600);
    assert_mode(pub2, 0644);
    /* No temporary file is left behind: the directory holds the two files. */
    assert_int_equal(access(key2, F_OK), 0);
    DIR *d = opendir(dir2);
    int entries = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    assert_int_equal(entries, 2);
}

static void test_store_refuses_open_mode(void **state)
{
    fx_t *f = *state;
    char why[512] = "";
    keys_identity_t *k = NULL;
    save_ok(f, NULL);

    assert_int_equal(chmod(f->keypath, 0644), 0);
    assert_int_equal(keystore_load(f->keydir, NULL, &k, why, sizeof why), KEYSTORE_ERR_MODE);
    assert_null(k);
    assert_why_line(why);
    assert_non_null(strstr(why, "0644"));
    assert_non_null(strstr(why, "chmod 600"));
    assert_non_null(strstr(why, "identity.key"));
    assert_int_equal(keystore_is_encrypted(f->keydir, why, sizeof why), KEYSTORE_ERR_MODE);

    assert_int_equal(chmod(f->keypath, 0640), 0);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_MODE);
    assert_int_equal(chmod(f->keypath, 0604), 0);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_MODE);
    assert_int_equal(chmod(f->keypath, 0620), 0);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_MODE);
    assert_int_equal(chmod(f->keypath, 0600), 0);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_OK);
    assert_int_equal(chmod(f->keypath, 0400), 0);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_OK);
}

static void test_store_no_overwrite(void **state)
{
    fx_t *f = *state;
    keys_identity_t *other = NULL, *k = NULL;
    char why[512] = "";
    save_ok(f, NULL);
    char *pub_before = slurp(f->pubpath, NULL);

    assert_int_equal(keys_generate(&other), KEYS_OK);
    assert_int_equal(keystore_save(f->keydir, other, NULL, why, sizeof why),
                     KEYSTORE_ERR_EXISTS);
    assert_why_line(why);
    assert_int_equal(keystore_save(f->keydir, other, PASS, NULL, 0), KEYSTORE_ERR_EXISTS);
    keys_free(&other);

    /* Both files still hold the first key. */
    char *pub_after = slurp(f->pubpath, NULL);
    assert_string_equal(pub_before, pub_after);
    assert_int_equal(keystore_load(f->keydir, NULL, &k, why, sizeof why), KEYSTORE_OK);
    assert_memory_equal(keys_public(k), keys_public(f->k), KEYS_PUBLIC_BYTES);
    keys_free(&k);
    free(pub_before);
    free(pub_after);
}

static void test_store_stale_tmp(void **state)
{
    fx_t *f = *state;
    char tmp[PATH_BUF];
    /* Files at the names the old writer used (KEY.tmp) do not block a save,
     * and are neither written through nor removed: the temporary name is a
     * fresh random one, so whoever's file is there is left alone. */
    assert_int_equal(mkdir(f->keydir, 0700), 0);
    join(tmp, f->keypath, ".tmp");
    spit(tmp, "lernet-secret-key 1\npub", 23, 0600);
    join(tmp, f->pubpath, ".tmp");
    spit(tmp, "half", 4, 0644);
    save_ok(f, NULL);
    char *left = slurp(tmp, NULL);
    assert_string_equal(left, "half");
    free(left);
    join(tmp, f->keypath, ".tmp");
    left = slurp(tmp, NULL);
    assert_string_equal(left, "lernet-secret-key 1\npub");
    free(left);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_OK);
}

static void test_store_load_public(void **state)
{
    fx_t *f = *state;
    uint8_t pk[KEYS_PUBLIC_BYTES];
    char why[512] = "", text[KEYS_PUB_STR_SIZE + 8];
    assert_int_equal(keystore_load_public(f->keydir, pk, why, sizeof why), KEYSTORE_ERR_IO);
    assert_why_line(why);

    save_ok(f, PASS);
    char *s = slurp(f->pubpath, NULL);
    keys_pub_encode(text, keys_public(f->k));
    strcat(text, "\n");
    assert_string_equal(s, text);
    free(s);
    assert_int_equal(keystore_load_public(f->keydir, pk, why, sizeof why), KEYSTORE_OK);
    assert_memory_equal(pk, keys_public(f->k), KEYS_PUBLIC_BYTES);

    /* Without a newline is fine; anything more than one is not. */
    keys_pub_encode(text, keys_public(f->k));
    spit(f->pubpath, text, strlen(text), 0644);
    assert_int_equal(keystore_load_public(f->keydir, pk, NULL, 0), KEYSTORE_OK);
    strcat(text, "\n\n");
    spit(f->pubpath, text, strlen(text), 0644);
    assert_int_equal(keystore_load_public(f->keydir, pk, why, sizeof why), KEYSTORE_ERR_FORMAT);
    assert_why_line(why);
    keys_pub_encode(text, keys_public(f->k));
    strcat(text, " \n");
    spit(f->pubpath, text, strlen(text), 0644);
    assert_int_equal(keystore_load_public(f->keydir, pk, NULL, 0), KEYSTORE_ERR_FORMAT);
}

static void test_store_is_encrypted(void **state)
{
    fx_t *f = *state;
    char why[512] = "", dir2[PATH_BUF];
    assert_int_equal(keystore_is_encrypted(f->keydir, why, sizeof why), KEYSTORE_ERR_IO);
    assert_why_line(why);
    save_ok(f, PASS);
    assert_int_equal(keystore_is_encrypted(f->keydir, why, sizeof why), 1);
    join(dir2, f->home, "/plain");
    assert_int_equal(keystore_save(dir2, f->k, NULL, NULL, 0), KEYSTORE_OK);
    assert_int_equal(keystore_is_encrypted(dir2, why, sizeof why), 0);
}

/* ---- keystore: damaged and hostile files ------------------------------ */

static void assert_pass_or_format(int rc)
{
    assert_true(rc == KEYSTORE_ERR_PASSPHRASE || rc == KEYSTORE_ERR_FORMAT);
}

static void test_store_corrupt_encrypted(void **state)
{
    fx_t *f = *state;
    keys_identity_t *other = NULL;
    char pub[KEYS_PUB_STR_SIZE], line[80];
    save_ok(f, PASS);
    char *orig = slurp(f->keypath, NULL);

    /* Positions at the start, middle and just before the padding. */
    const size_t secret_pos[] = {0, 50, 105};
    for (size_t i = 0; i < sizeof secret_pos / sizeof *secret_pos; i++) {
        spit(f->keypath, orig, strlen(orig), 0600);
        corrupt_b64(f, "\nsecret ", secret_pos[i]);
        assert_pass_or_format(load_rc(f, PASS));
    }
    const size_t nonce_pos[] = {0, 17, 30};
    for (size_t i = 0; i < sizeof nonce_pos / sizeof *nonce_pos; i++) {
        spit(f->keypath, orig, strlen(orig), 0600);
        corrupt_b64(f, "\nnonce ", nonce_pos[i]);
        assert_pass_or_format(load_rc(f, PASS));
    }
    /* The public key is authenticated: another valid key in its place fails. */
    assert_int_equal(keys_generate(&other), KEYS_OK);
    keys_pub_encode(pub, keys_public(other));
    keys_free(&other);
    snprintf(line, sizeof line, "public %s\n", pub);
    char *s = with_line(orig, "public ", line);
    spit(f->keypath, s, strlen(s), 0600);
    free(s);
    int rc = load_rc(f, PASS);
    assert_true(rc == KEYSTORE_ERR_PASSPHRASE || rc == KEYSTORE_ERR_MISMATCH);

    spit(f->keypath, orig, strlen(orig), 0600);
    assert_int_equal(load_rc(f, PASS), KEYSTORE_OK);
    free(orig);
}

static void test_store_corrupt_plain(void **state)
{
    fx_t *f = *state;
    keys_identity_t *other = NULL;
    char pub[KEYS_PUB_STR_SIZE], line[80];
    save_ok(f, NULL);
    char *orig = slurp(f->keypath, NULL);

    /* Seed and public half of the secret: either way the halves disagree. */
    const size_t pos[] = {0, 20, 50, 84};
    for (size_t i = 0; i < sizeof pos / sizeof *pos; i++) {
        spit(f->keypath, orig, strlen(orig), 0600);
        corrupt_b64(f, "\nsecret ", pos[i]);
        int rc = load_rc(f, NULL);
        assert_true(rc == KEYSTORE_ERR_FORMAT || rc == KEYSTORE_ERR_MISMATCH);
    }
    spit(f->keypath, orig, strlen(orig), 0600);
    corrupt_b64(f, "\nsecret ", 87); /* the padding '=' */
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);

    assert_int_equal(keys_generate(&other), KEYS_OK);
    keys_pub_encode(pub, keys_public(other));
    keys_free(&other);
    snprintf(line, sizeof line, "public %s\n", pub);
    char *s = with_line(orig, "public ", line);
    spit(f->keypath, s, strlen(s), 0600);
    free(s);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_MISMATCH);
    free(orig);
}

/* Every proper prefix of dir's key file, including the empty file, is
 * refused as a format error; the whole file loads again afterwards. */
static void truncations(const char *dir, const char *pass)
{
    char path[PATH_BUF];
    size_t len;
    join(path, dir, "/identity.key");
    char *orig = slurp(path, &len);
    assert_true(len > 100);
    for (size_t cut = 0; cut < len; cut++) {
        spit(path, orig, cut, 0600);
        assert_int_equal(load_dir(dir, pass), KEYSTORE_ERR_FORMAT);
    }
    spit(path, orig, len, 0600);
    assert_int_equal(load_dir(dir, pass), KEYSTORE_OK);
    free(orig);
}

static void test_store_truncated(void **state)
{
    fx_t *f = *state;
    char dir2[PATH_BUF];
    save_ok(f, PASS);
    truncations(f->keydir, PASS);
    join(dir2, f->home, "/plain");
    assert_int_equal(keystore_save(dir2, f->k, NULL, NULL, 0), KEYSTORE_OK);
    truncations(dir2, NULL);
}

static void test_store_kdf_bounds(void **state)
{
    fx_t *f = *state;
    char why[512] = "", salt[64], line[200];
    unsigned long long ops, mem;
    keys_identity_t *k = NULL;
    save_ok(f, PASS);
    char *orig = slurp(f->keypath, NULL);
    const char *kdf = strstr(orig, "\nkdf ");
    assert_non_null(kdf);
    assert_int_equal(sscanf(kdf, "\nkdf %llu %llu %63s", &ops, &mem, salt), 3);
    assert_int_equal(ops, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(mem, crypto_pwhash_MEMLIMIT_INTERACTIVE);

    /* Each is refused before any memory is derived for it. */
    const char *bad[] = {
        "2 4398046511104",           /* 4 TiB */
        "2 1073742848",              /* 1 GiB + 1 KiB */
        "2 18446744073709551615",    /* SIZE_MAX on 64 bits */
        "2 99999999999999999999999", /* overflows */
        "2 1024",                    /* below the minimum */
        "0 67108864",
        "1000 67108864",
        "-1 67108864",
        "+2 67108864",
        "2 -67108864",
        "2  67108864",
        "0x2 67108864",
        "2 67108864 extra",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(line, sizeof line, "kdf %s %s\n", bad[i], salt);
        char *s = with_line(orig, "kdf ", line);
        spit(f->keypath, s, strlen(s), 0600);
        free(s);
        assert_int_equal(keystore_load(f->keydir, PASS, &k, why, sizeof why),
                         KEYSTORE_ERR_FORMAT);
        assert_null(k);
        assert_non_null(strstr(why, "'kdf'"));
    }
    /* A short salt is a format error too. */
    snprintf(line, sizeof line, "kdf 2 67108864 AAAA\n");
    char *s = with_line(orig, "kdf ", line);
    spit(f->keypath, s, strlen(s), 0600);
    free(s);
    assert_int_equal(load_rc(f, PASS), KEYSTORE_ERR_FORMAT);
    free(orig);
}

static void test_store_garbage(void **state)
{
    fx_t *f = *state;
    save_ok(f, NULL);
    size_t len;
    char *orig = slurp(f->keypath, &len);
    char *s, *big;

    struct {
        const char *prefix, *repl;
    } lines[] = {
        {"lernet-secret-key", "lernet-secret-key 2\n"},
        {"lernet-secret-key", "hello\n"},
        {"protection", "protection rot13\n"},
        {"protection", "protection none \n"},
        {"protection", "protection  none\n"},
        {"public ", "public not-a-key\n"},
        {"public ", "publik AAAA\n"},
        {"secret ", "secret AAAA\n"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        s = with_line(orig, lines[i].prefix, lines[i].repl);
        spit(f->keypath, s, strlen(s), 0600);
        free(s);
        assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    }

    /* An extra line after 'secret'. */
    s = malloc(len + 16);
    memcpy(s, orig, len);
    memcpy(s + len, "extra 1\n", 8);
    spit(f->keypath, s, len + 8, 0600);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    /* CRLF line ends. */
    s[len - 1] = '\r';
    s[len] = '\n';
    spit(f->keypath, s, len + 1, 0600);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    /* A NUL byte inside. */
    memcpy(s, orig, len);
    s[25] = '\0';
    spit(f->keypath, s, len, 0600);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    free(s);

    /* Too large, and a line too long inside a small file. */
    big = malloc(8192);
    memset(big, 'A', 8192);
    memcpy(big, orig, len);
    spit(f->keypath, big, 5000, 0600);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    memcpy(big, "lernet-secret-key 1\npublic ", 27);
    big[27 + 400] = '\n';
    spit(f->keypath, big, 27 + 401, 0600);
    assert_int_equal(load_rc(f, NULL), KEYSTORE_ERR_FORMAT);
    free(big);

    /* A directory in place of the file. */
    assert_int_equal(unlink(f->keypath), 0);
    assert_int_equal(mkdir(f->keypath, 0700), 0);
    assert_true(load_rc(f, NULL) < 0);
    assert_int_equal(rmdir(f->keypath), 0);

    /* A missing file is an I/O error with errno kept. */
    keys_identity_t *k = NULL;
    assert_int_equal(keystore_load(f->keydir, NULL, &k, NULL, 0), KEYSTORE_ERR_IO);
    assert_int_equal(errno, ENOENT);
    free(orig);
}

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {KEYSTORE_OK,           KEYSTORE_ERR_IO,        KEYSTORE_ERR_MODE,
                         KEYSTORE_ERR_FORMAT,   KEYSTORE_ERR_PASSPHRASE, KEYSTORE_ERR_NEED_PASS,
                         KEYSTORE_ERR_EXISTS,   KEYSTORE_ERR_MEMORY,    KEYSTORE_ERR_MISMATCH};
    const char *unknown = err_text(-100);
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const char *m = err_text(codes[i]);
        assert_non_null(m);
        assert_string_not_equal(m, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m, err_text(codes[j]));
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sign_verify),
        T(test_sign_tamper),
        T(test_pub_roundtrip),
        T(test_pub_decode_rejects),
        T(test_fingerprint),
        T(test_from_secret),
        T(test_store_encrypted_roundtrip),
        T(test_store_wrong_passphrase),
        T(test_store_need_pass),
        T(test_store_plain_roundtrip),
        T(test_store_modes),
        T(test_store_refuses_open_mode),
        T(test_store_no_overwrite),
        T(test_store_stale_tmp),
        T(test_store_load_public),
        T(test_store_is_encrypted),
        T(test_store_corrupt_encrypted),
        T(test_store_corrupt_plain),
        T(test_store_truncated),
        T(test_store_kdf_bounds),
        T(test_store_garbage),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
