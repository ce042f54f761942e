/*
 * keystore: the identity key on disk (format and rules in keystore.h).
 *
 * The key file is treated as hostile input when loading: its size, each line
 * and the key-derivation parameters are bounded before anything is decoded,
 * so a crafted file cannot make us read or allocate without limit. Secret
 * bytes (the derived key, the decrypted secret, the base64 of an unencrypted
 * secret, and the whole file text while it is parsed or built) live only in
 * sodium_malloc'd memory, which sodium_free wipes.
 */
#include "keys/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/why.h"

#define KS_MAGIC "lernet-secret-key 1"
#define KS_PROT_AEAD "argon2id-xchacha20poly1305"
#define KS_PROT_NONE "none"
#define KS_FILE_MAX 4096    /* a real key file is under 400 bytes */
#define KS_LINE_MAX 256     /* the longest real line is about 120 */
#define KS_PUB_FILE_MAX 128 /* 44 characters and a newline */
#define KS_MEMLIMIT_MAX (1024ULL * 1024 * 1024)
#define KS_SALT_BYTES crypto_pwhash_SALTBYTES
#define KS_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KS_AEAD_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define KS_CT_BYTES (KEYS_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define KS_B64_SIZE(n) sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL)

/* A parsed key file. Strings point into the (secure) file buffer. */
typedef struct ks_file {
    uint8_t pk[KEYS_PUBLIC_BYTES];
    int encrypted;
    unsigned long long opslimit;
    unsigned long long memlimit;
    uint8_t salt[KS_SALT_BYTES];
    uint8_t nonce[KS_NONCE_BYTES];
    uint8_t ct[KS_CT_BYTES]; /* encrypted only */
    const char *secret_b64;  /* unencrypted only */
} ks_file_t;

typedef struct cursor {
    char *p, *end;
    int lineno;
} cursor_t;

/* File text being built, in secure memory. */
typedef struct tbuf {
    char *buf;
    size_t len, cap;
} tbuf_t;

static void why_clear(char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
}

static int join_path(char out[PATH_MAX], const char *dir, const char *name, char *why,
                     size_t whylen)
{
    if (!dir) {
        errno = EINVAL;
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "no key directory given");
    }
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "key directory path is too long");
    }
    return KEYSTORE_OK;
}

/* Exactly n bytes of standard padded base64, nothing around it. */
static int b64_exact(uint8_t *out, size_t n, const char *s)
{
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, n, s, strlen(s), NULL, &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return len == n && *end == '\0' ? 0 : -1;
}

/* ---- reading ---------------------------------------------------------- */

/* Reads until EOF or cap bytes; the total, or -1 with errno set. */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
    size_t total = 0;
    while (total < cap) {
        ssize_t n = read(fd, buf + total, cap - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        total += (size_t)n;
    }
    return (ssize_t)total;
}

static const char *mode_problem(mode_t mode)
{
    if (mode & 044)
        return "readable";
    if (mode & 022)
        return "writable";
    return "accessible";
}

/* Opens path for reading and checks that it is a regular file. *fd is -1
 * or an open descriptor the caller closes, also on error; *st describes the
 * opened file, so what is checked is what is read. O_NONBLOCK keeps a FIFO
 * planted at the path from hanging us. */
static int open_regular(const char *path, int *fd, struct stat *st, char *why, size_t whylen)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0 || fstat(*fd, st) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st->st_mode))
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: not a regular file", path);
    return KEYSTORE_OK;
}

/* Reads the whole secret file into secure memory. The mode is checked on the
 * opened descriptor before any content is read, so the file checked is the
 * file read. O_NONBLOCK keeps a FIFO planted at the path from hanging us. */
static int read_key_file(const char *path, char **out, size_t *outlen, char *why,
                         size_t whylen)
{
    int ret = KEYSTORE_ERR_IO, saved;
    char *buf = NULL;
    ssize_t total;
    struct stat st;
    int fd;
    if ((ret = open_regular(path, &fd, &st, why, whylen)))
        goto cleanup;
    if (st.st_mode & 077) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MODE,
                   "%s: mode %04o is %s by group or others; run chmod 600", path,
                   (unsigned)(st.st_mode & 07777), mode_problem(st.st_mode & 077));
        goto cleanup;
    }
    if (st.st_size > KS_FILE_MAX) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                   "%s: larger than %d bytes; not a lernet key file", path, KS_FILE_MAX);
        goto cleanup;
    }
    buf = sodium_malloc(KS_FILE_MAX + 1);
    if (!buf) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
        goto cleanup;
    }
    /* Read one byte past the limit so a file that grew since fstat is caught. */
    total = read_upto(fd, buf, KS_FILE_MAX + 1);
    if (total < 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (total > KS_FILE_MAX) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                   "%s: larger than %d bytes; not a lernet key file", path, KS_FILE_MAX);
        goto cleanup;
    }
    buf[total] = '\0';
    *out = buf;
    *outlen = (size_t)total;
    buf = NULL;
    ret = KEYSTORE_OK;
cleanup:
    saved = errno;
    if (fd >= 0)
        close(fd);
    sodium_free(buf);
    errno = saved;
    return ret;
}

/* Takes the next line, which must be "<name> <value>", NUL-terminates it in
 * place and returns the value. Every line must end in '\n': a missing final
 * newline means the file was cut short. */
static int take_line(cursor_t *c, const char *name, char **value, const char *path, char *why,
                     size_t whylen)
{
    c->lineno++;
    if (c->p >= c->end)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line %d: missing '%s' (file truncated?)", path, c->lineno, name);
    char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (!nl)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line %d: no final newline (file truncated?)", path, c->lineno);
    if (nl - c->p > KS_LINE_MAX)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: line %d: longer than %d characters",
                    path, c->lineno, KS_LINE_MAX);
    *nl = '\0';
    char *line = c->p;
    c->p = nl + 1;
    size_t nlen = strlen(name);
    if (strncmp(line, name, nlen) != 0 || line[nlen] != ' ')
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: line %d: expected '%s'", path,
                    c->lineno, name);
    *value = line + nlen + 1;
    return KEYSTORE_OK;
}

/* Decimal digits only (no sign, no spaces), stopping at *end. */
static int parse_uint(const char *s, char **end, unsigned long long *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, end, 10);
    return errno == ERANGE ? -1 : 0;
}

/* "kdf <opslimit> <memlimit> <salt>". The limits are bounded because they
 * come from the file: an unbounded memlimit would let a crafted file make us
 * allocate whatever it names. */
static int parse_kdf(ks_file_t *f, char *v, const char *path, char *why, size_t whylen)
{
    char *end;
    if (parse_uint(v, &end, &f->opslimit) != 0 || *end != ' ')
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'kdf': opslimit is not a number", path);
    if (parse_uint(end + 1, &end, &f->memlimit) != 0 || *end != ' ')
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'kdf': memlimit is not a number", path);
    if (f->opslimit < crypto_pwhash_OPSLIMIT_MIN || f->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'kdf': opslimit %llu outside %llu..%llu", path, f->opslimit,
                    (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
                    (unsigned long long)crypto_pwhash_OPSLIMIT_SENSITIVE);
    if (f->memlimit < crypto_pwhash_MEMLIMIT_MIN || f->memlimit > KS_MEMLIMIT_MAX)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'kdf': memlimit %llu outside %llu..%llu", path, f->memlimit,
                    (unsigned long long)crypto_pwhash_MEMLIMIT_MIN, KS_MEMLIMIT_MAX);
    if (b64_exact(f->salt, sizeof f->salt, end + 1) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'kdf': salt is not %d bytes of base64", path, KS_SALT_BYTES);
    return KEYSTORE_OK;
}

static int parse_protection(ks_file_t *f, cursor_t *c, const char *path, char *why,
                            size_t whylen)
{
    char *v;
    int ret = take_line(c, "protection", &v, path, why, whylen);
    if (ret)
        return ret;
    /* The value is not echoed: file content has no business in a terminal. */
    if (strcmp(v, KS_PROT_AEAD) == 0)
        f->encrypted = 1;
    else if (strcmp(v, KS_PROT_NONE) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'protection': expected '" KS_PROT_AEAD "' or '" KS_PROT_NONE "'",
                    path);
    if (!f->encrypted)
        return KEYSTORE_OK;
    if ((ret = take_line(c, "kdf", &v, path, why, whylen)) ||
        (ret = parse_kdf(f, v, path, why, whylen)))
        return ret;
    if ((ret = take_line(c, "nonce", &v, path, why, whylen)))
        return ret;
    if (b64_exact(f->nonce, sizeof f->nonce, v) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'nonce': not %d bytes of base64", path, KS_NONCE_BYTES);
    return KEYSTORE_OK;
}

/* Parses the whole file strictly: fixed lines in a fixed order, nothing after
 * 'secret'. The unencrypted secret is left as base64 for the caller to decode
 * into secure memory. */
static int parse_key_file(ks_file_t *f, char *buf, size_t len, const char *path, char *why,
                          size_t whylen)
{
    cursor_t c;
    char *v;
    int ret;
    memset(f, 0, sizeof *f);
    if (memchr(buf, '\0', len))
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: contains a NUL byte", path);
    /* sizeof KS_MAGIC counts the NUL, which stands for the '\n' here. */
    if (len < sizeof KS_MAGIC || memcmp(buf, KS_MAGIC "\n", sizeof KS_MAGIC) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: not a lernet secret key file (first line is not '" KS_MAGIC "')",
                    path);
    c = (cursor_t){buf + sizeof KS_MAGIC, buf + len, 1};
    if ((ret = take_line(&c, "public", &v, path, why, whylen)))
        return ret;
    if (keys_pub_decode(f->pk, v) != KEYS_OK)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'public': not a lernet public key", path);
    if ((ret = parse_protection(f, &c, path, why, whylen)))
        return ret;
    if ((ret = take_line(&c, "secret", &v, path, why, whylen)))
        return ret;
    if (f->encrypted) {
        if (b64_exact(f->ct, sizeof f->ct, v) != 0)
            return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                        "%s: line 'secret': not %d bytes of base64", path, KS_CT_BYTES);
    } else {
        f->secret_b64 = v;
    }
    if (c.p != c.end)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line %d: unexpected text after 'secret'", path, c.lineno + 1);
    return KEYSTORE_OK;
}

/* Derives the file key from the passphrase and opens the secret into the
 * caller's secure buffer. */
static int decrypt_secret(uint8_t *secret, const ks_file_t *f, const char *passphrase,
                          const char *path, char *why, size_t whylen)
{
    int ret = KEYSTORE_ERR_MEMORY;
    unsigned long long mlen = 0;
    uint8_t *key = sodium_malloc(KS_AEAD_KEY_BYTES);
    if (!key)
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    if (crypto_pwhash(key, KS_AEAD_KEY_BYTES, passphrase, strlen(passphrase), f->salt,
                      f->opslimit, (size_t)f->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY,
                   "key derivation failed: not enough memory for %llu MiB", f->memlimit >> 20);
        goto cleanup;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL, f->ct, sizeof f->ct,
                                                   f->pk, sizeof f->pk, f->nonce, key) != 0 ||
        mlen != KEYS_SECRET_BYTES) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_PASSPHRASE,
                   "%s: wrong passphrase (or the file was altered)", path);
        goto cleanup;
    }
    ret = KEYSTORE_OK;
cleanup:
    sodium_free(key);
    return ret;
}

/* Turns the 64 secret bytes into an identity and checks it against the
 * file's public line. */
static int make_identity(keys_identity_t **out, const uint8_t *secret, const ks_file_t *f,
                         const char *path, char *why, size_t whylen)
{
    keys_identity_t *k = NULL;
    int rc = keys_from_secret(&k, secret);
    if (rc == KEYS_ERR_CRYPTO)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                    "%s: line 'secret': the two halves of the secret key disagree", path);
    if (rc != KEYS_OK)
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    if (sodium_memcmp(keys_public(k), f->pk, KEYS_PUBLIC_BYTES) != 0) {
        keys_free(&k);
        return why_fail(why, whylen, KEYSTORE_ERR_MISMATCH,
                    "%s: line 'public' is not the public key of the secret", path);
    }
    *out = k;
    return KEYSTORE_OK;
}

/* "<name>.key" or "<name>.pub" */
static const char *file_of(char out[64], const char *name, const char *ext)
{
    snprintf(out, 64, "%.50s.%s", name, ext);
    return out;
}

/* Key file text (modified in place) to an identity. */
static int unseal(char *buf, size_t len, const char *path, const char *passphrase,
                  keys_identity_t **out, char *why, size_t whylen)
{
    uint8_t *secret = NULL;
    ks_file_t f;
    int ret, saved;
    if ((ret = parse_key_file(&f, buf, len, path, why, whylen)))
        goto cleanup;
    if (f.encrypted && !passphrase) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_NEED_PASS,
                   "%s: the secret key is encrypted; a passphrase is needed", path);
        goto cleanup;
    }
    secret = sodium_malloc(KEYS_SECRET_BYTES);
    if (!secret) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
        goto cleanup;
    }
    if (f.encrypted) {
        ret = decrypt_secret(secret, &f, passphrase, path, why, whylen);
    } else if (b64_exact(secret, KEYS_SECRET_BYTES, f.secret_b64) != 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
                   "%s: line 'secret': not %d bytes of base64", path, KEYS_SECRET_BYTES);
    }
    if (ret)
        goto cleanup;
    ret = make_identity(out, secret, &f, path, why, whylen);
cleanup:
    saved = errno;
    sodium_free(secret);
    sodium_memzero(&f, sizeof f);
    errno = saved;
    return ret;
}

int keystore_load_as(const char *dir, const char *name, const char *passphrase,
                     keys_identity_t **out, char *why, size_t whylen)
{
    char path[PATH_MAX], file[64];
    char *buf = NULL;
    size_t len = 0;
    int ret, saved;

    why_clear(why, whylen);
    if (!out) {
        errno = EINVAL;
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "no place for the loaded key");
    }
    if ((ret = join_path(path, dir, file_of(file, name, "key"), why, whylen)))
        return ret;
    if ((ret = read_key_file(path, &buf, &len, why, whylen)) == KEYSTORE_OK)
        ret = unseal(buf, len, path, passphrase, out, why, whylen);
    saved = errno;
    sodium_free(buf);
    errno = saved;
    return ret;
}



int keystore_is_encrypted_as(const char *dir, const char *name, char *why, size_t whylen)
{
    char path[PATH_MAX], file[64];
    char *buf = NULL;
    size_t len = 0;
    ks_file_t f;
    int ret, saved;

    why_clear(why, whylen);
    if ((ret = join_path(path, dir, file_of(file, name, "key"), why, whylen)))
        return ret;
    if ((ret = read_key_file(path, &buf, &len, why, whylen)) ||
        (ret = parse_key_file(&f, buf, len, path, why, whylen)))
        goto cleanup;
    ret = f.encrypted;
cleanup:
    saved = errno;
    sodium_free(buf);
    errno = saved;
    return ret;
}

int keystore_load_public_as(const char *dir, const char *name, uint8_t pk[KEYS_PUBLIC_BYTES],
                            char *why, size_t whylen)
{
    char path[PATH_MAX], text[KS_PUB_FILE_MAX + 1], file[64];
    ssize_t total;
    struct stat st;
    int ret, fd, saved;

    why_clear(why, whylen);
    if ((ret = join_path(path, dir, file_of(file, name, "pub"), why, whylen)))
        return ret;
    if ((ret = open_regular(path, &fd, &st, why, whylen)))
        goto cleanup;
    total = read_upto(fd, text, sizeof text);
    if (total < 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    /* Exactly one trailing newline is stripped; anything else around the
     * key (a NUL, a space, a second line) makes keys_pub_decode refuse it. */
    if ((size_t)total < sizeof text && !memchr(text, '\0', (size_t)total)) {
        if (total > 0 && text[total - 1] == '\n')
            total--;
        text[total] = '\0';
        if (keys_pub_decode(pk, text) == KEYS_OK) {
            ret = KEYSTORE_OK;
            goto cleanup;
        }
    }
    ret = why_fail(why, whylen, KEYSTORE_ERR_FORMAT,
               "%s: not a lernet public key (44 base64 characters and a newline)", path);
cleanup:
    saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return ret;
}

/* ---- writing ---------------------------------------------------------- */

static int tb_add(tbuf_t *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n >= t->cap)
        return KEYSTORE_ERR_MEMORY;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
    return KEYSTORE_OK;
}

/* Header lines common to both protections. */
static int tb_header(tbuf_t *t, const keys_identity_t *k, const char *protection)
{
    char pub[KEYS_PUB_STR_SIZE];
    keys_pub_encode(pub, keys_public(k));
    if (tb_add(t, KS_MAGIC "\npublic ") || tb_add(t, pub) || tb_add(t, "\nprotection ") ||
        tb_add(t, protection) || tb_add(t, "\n"))
        return KEYSTORE_ERR_MEMORY;
    return KEYSTORE_OK;
}

static int build_plain(tbuf_t *t, const keys_identity_t *k, char *why, size_t whylen)
{
    int ret = KEYSTORE_ERR_MEMORY;
    uint8_t *secret = sodium_malloc(KEYS_SECRET_BYTES);
    char *b64 = sodium_malloc(KS_B64_SIZE(KEYS_SECRET_BYTES));
    if (!secret || !b64 || keys_export_secret(k, secret) != KEYS_OK)
        goto cleanup;
    sodium_bin2base64(b64, KS_B64_SIZE(KEYS_SECRET_BYTES), secret, KEYS_SECRET_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    if (tb_header(t, k, KS_PROT_NONE) || tb_add(t, "secret ") || tb_add(t, b64) ||
        tb_add(t, "\n"))
        goto cleanup;
    ret = KEYSTORE_OK;
cleanup:
    sodium_free(b64);
    sodium_free(secret);
    return ret == KEYSTORE_OK ? ret : why_fail(why, whylen, ret, "out of secure memory");
}

/* Appends "kdf", "nonce" and "secret" lines; the ciphertext and parameters
 * are not secret, so they are formatted on the stack. */
static int tb_sealed(tbuf_t *t, const uint8_t *salt, const uint8_t *nonce, const uint8_t *ct)
{
    char line[128];
    char salt64[KS_B64_SIZE(KS_SALT_BYTES)], nonce64[KS_B64_SIZE(KS_NONCE_BYTES)];
    char ct64[KS_B64_SIZE(KS_CT_BYTES)];
    sodium_bin2base64(salt64, sizeof salt64, salt, KS_SALT_BYTES, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(nonce64, sizeof nonce64, nonce, KS_NONCE_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(ct64, sizeof ct64, ct, KS_CT_BYTES, sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "kdf %llu %llu %s\nnonce %s\nsecret ",
             (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE,
             (unsigned long long)crypto_pwhash_MEMLIMIT_INTERACTIVE, salt64, nonce64);
    if (tb_add(t, line) || tb_add(t, ct64) || tb_add(t, "\n"))
        return KEYSTORE_ERR_MEMORY;
    return KEYSTORE_OK;
}

static int build_encrypted(tbuf_t *t, const keys_identity_t *k, const char *passphrase,
                           char *why, size_t whylen)
{
    int ret = KEYSTORE_ERR_MEMORY;
    uint8_t salt[KS_SALT_BYTES], nonce[KS_NONCE_BYTES], ct[KS_CT_BYTES];
    uint8_t *secret = sodium_malloc(KEYS_SECRET_BYTES);
    uint8_t *key = sodium_malloc(KS_AEAD_KEY_BYTES);
    if (!secret || !key || keys_export_secret(k, secret) != KEYS_OK) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
        goto cleanup;
    }
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(key, KS_AEAD_KEY_BYTES, passphrase, strlen(passphrase), salt,
                      crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "key derivation failed: not enough memory");
        goto cleanup;
    }
    /* The public key is associated data: the secret cannot be moved under
     * another public line without failing authentication. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, secret, KEYS_SECRET_BYTES,
                                               keys_public(k), KEYS_PUBLIC_BYTES, NULL, nonce,
                                               key);
    if (tb_header(t, k, KS_PROT_AEAD) || tb_sealed(t, salt, nonce, ct)) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
        goto cleanup;
    }
    ret = KEYSTORE_OK;
cleanup:
    sodium_free(key);
    sodium_free(secret);
    return ret;
}

/* Writes path through the node's one atomic writer (node/fileio.h): a
 * random temporary name created exclusively, exactly mode, fsync, rename,
 * fsync of the directory. A crash leaves either the old state or the whole
 * new file; with noreplace an existing key is never replaced. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode,
                        int noreplace, char *why, size_t whylen)
{
    int rc = fileio_write_atomic(path, data, len, mode, noreplace ? FILEIO_NOREPLACE : 0, why,
                                 whylen);
    if (rc == FILEIO_ERR_EXISTS)
        return why_fail(why, whylen, KEYSTORE_ERR_EXISTS,
                        "%s already exists; refusing to overwrite a key", path);
    if (rc == FILEIO_ERR_NOMEM)
        return KEYSTORE_ERR_MEMORY;
    return rc == FILEIO_OK ? KEYSTORE_OK : KEYSTORE_ERR_IO;
}

/* Creates dir (only dir, not its parents) as 0700. An existing directory is
 * left as the operator set it. */
static int ensure_dir(const char *dir, char *why, size_t whylen)
{
    struct stat st;
    if (mkdir(dir, 0700) == 0) {
        /* mkdir's mode is masked by the umask; the key directory is 0700. */
        if (chmod(dir, 0700) != 0)
            return why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", dir, strerror(errno));
        return KEYSTORE_OK;
    }
    if (errno != EEXIST)
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0)
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: not a directory", dir);
    }
    return KEYSTORE_OK;
}

int keystore_save_as(const char *dir, const char *name, const keys_identity_t *k,
                     const char *passphrase, char *why, size_t whylen)
{
    char keypath[PATH_MAX], pubpath[PATH_MAX], pubtext[KEYS_PUB_STR_SIZE + 1], kf[64], pf[64];
    struct stat st;
    tbuf_t t = {NULL, 0, KS_FILE_MAX};
    int ret, saved;

    why_clear(why, whylen);
    if (!k) {
        errno = EINVAL;
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "no key to save");
    }
    if ((ret = join_path(keypath, dir, file_of(kf, name, "key"), why, whylen)) ||
        (ret = join_path(pubpath, dir, file_of(pf, name, "pub"), why, whylen)) ||
        (ret = ensure_dir(dir, why, whylen)))
        return ret;
    if (lstat(keypath, &st) == 0)
        return why_fail(why, whylen, KEYSTORE_ERR_EXISTS,
                    "%s already exists; refusing to overwrite a key", keypath);
    if (errno != ENOENT)
        return why_fail(why, whylen, KEYSTORE_ERR_IO, "%s: %s", keypath, strerror(errno));
    t.buf = sodium_malloc(t.cap);
    if (!t.buf)
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    t.buf[0] = '\0';
    ret = passphrase ? build_encrypted(&t, k, passphrase, why, whylen)
                     : build_plain(&t, k, why, whylen);
    if (ret)
        goto cleanup;
    keys_pub_encode(pubtext, keys_public(k));
    pubtext[KEYS_PUB_STR_LEN] = '\n';
    pubtext[KEYS_PUB_STR_LEN + 1] = '\0';
    /* The public file goes first: identity.key existing is what marks a
     * finished save, so a crash in between leaves a state a new save
     * simply overwrites. (Only two saves racing into one directory could
     * leave identity.pub naming the loser's key; the key itself is kept.) */
    if ((ret = write_atomic(pubpath, pubtext, KEYS_PUB_STR_LEN + 1, 0644, 0, why, whylen)))
        goto cleanup;
    ret = write_atomic(keypath, t.buf, t.len, 0600, 1, why, whylen);
    if (ret != KEYSTORE_OK && ret != KEYSTORE_ERR_EXISTS) {
        saved = errno;
        unlink(pubpath);
        errno = saved;
    }
cleanup:
    saved = errno;
    sodium_free(t.buf);
    errno = saved;
    return ret;
}

int keystore_load(const char *dir, const char *passphrase, keys_identity_t **out, char *why,
                  size_t whylen)
{
    return keystore_load_as(dir, KEYSTORE_IDENTITY, passphrase, out, why, whylen);
}

int keystore_is_encrypted(const char *dir, char *why, size_t whylen)
{
    return keystore_is_encrypted_as(dir, KEYSTORE_IDENTITY, why, whylen);
}

int keystore_load_public(const char *dir, uint8_t pk[KEYS_PUBLIC_BYTES], char *why,
                         size_t whylen)
{
    return keystore_load_public_as(dir, KEYSTORE_IDENTITY, pk, why, whylen);
}

int keystore_save(const char *dir, const keys_identity_t *k, const char *passphrase,
                  char *why, size_t whylen)
{
    return keystore_save_as(dir, KEYSTORE_IDENTITY, k, passphrase, why, whylen);
}

/* ---- transport key ----------------------------------------------------
 * keys/transport.key, 0600, never encrypted (the daemon starts unattended):
 *   lernet-transport-key 1
 *   identity <printable identity public key>
 *   secret <base64 of the 32-byte X25519 secret>
 */
#define KS_TRANSPORT "transport.key"

int keystore_save_transport(const char *dir, const keys_transport_t *t, char *why,
                            size_t whylen)
{
    char path[PATH_MAX], pub[KEYS_PUB_STR_SIZE];
    uint8_t *secret = sodium_malloc(KEYS_X25519_BYTES);
    char *text = sodium_malloc(256), b64[sodium_base64_ENCODED_LEN(
                                         KEYS_X25519_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    int ret;
    why_clear(why, whylen);
    if (!secret || !text) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
        goto cleanup;
    }
    if ((ret = join_path(path, dir, KS_TRANSPORT, why, whylen)) ||
        (ret = ensure_dir(dir, why, whylen)))
        goto cleanup;
    keys_transport_export(t, secret);
    sodium_bin2base64(b64, sizeof b64, secret, KEYS_X25519_BYTES, sodium_base64_VARIANT_ORIGINAL);
    keys_pub_encode(pub, keys_transport_identity(t));
    int n = snprintf(text, 256, "lernet-transport-key 1\nidentity %s\nsecret %s\n", pub, b64);
    ret = write_atomic(path, text, (size_t)n, 0600, 1, why, whylen);
    sodium_memzero(b64, sizeof b64);
cleanup:
    sodium_free(secret);
    sodium_free(text);
    return ret;
}

int keystore_load_transport(const char *dir, keys_transport_t **out, char *why, size_t whylen)
{
    char path[PATH_MAX], *buf = NULL, pub[KEYS_PUB_STR_SIZE + 8], b64[64];
    size_t len = 0;
    uint8_t id[KEYS_PUBLIC_BYTES], *secret = sodium_malloc(KEYS_X25519_BYTES);
    int ret;
    why_clear(why, whylen);
    if (!secret)
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    if ((ret = join_path(path, dir, KS_TRANSPORT, why, whylen)) ||
        (ret = read_key_file(path, &buf, &len, why, whylen)))
        goto cleanup;
    if (sscanf(buf, "lernet-transport-key 1\nidentity %50s\nsecret %60s", pub, b64) != 2 ||
        keys_pub_decode(id, pub) != KEYS_OK ||
        b64_exact(secret, KEYS_X25519_BYTES, b64) != 0) {
        ret = why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: not a lernet transport key file",
                       path);
        goto cleanup;
    }
    if (keys_transport_from_secret(out, id, secret) != KEYS_OK)
        ret = why_fail(why, whylen, KEYSTORE_ERR_MISMATCH,
                       "%s: the secret does not belong to the identity it names", path);
cleanup:
    sodium_memzero(b64, sizeof b64);
    sodium_free(secret);
    sodium_free(buf);
    return ret;
}

/* ---- backups ---------------------------------------------------------- */

int keystore_seal(const keys_identity_t *k, const char *passphrase, char **text, size_t *len,
                  char *why, size_t whylen)
{
    tbuf_t t = {NULL, 0, KS_FILE_MAX};
    why_clear(why, whylen);
    *text = NULL;
    if (!(t.buf = sodium_malloc(t.cap)))
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    t.buf[0] = '\0';
    int ret = passphrase ? build_encrypted(&t, k, passphrase, why, whylen)
                         : build_plain(&t, k, why, whylen);
    if (ret) {
        sodium_free(t.buf);
        return ret;
    }
    *text = t.buf;
    *len = t.len;
    return KEYSTORE_OK;
}

int keystore_unseal(const char *text, size_t len, const char *label, const char *passphrase,
                    keys_identity_t **out, char *why, size_t whylen)
{
    why_clear(why, whylen);
    if (len > KS_FILE_MAX)
        return why_fail(why, whylen, KEYSTORE_ERR_FORMAT, "%s: larger than a key file", label);
    char *buf = sodium_malloc(len + 1);
    if (!buf)
        return why_fail(why, whylen, KEYSTORE_ERR_MEMORY, "out of secure memory");
    memcpy(buf, text, len);
    buf[len] = '\0';
    int ret = unseal(buf, len, label, passphrase, out, why, whylen);
    sodium_free(buf);
    return ret;
}
