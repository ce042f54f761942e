/*
 * keys: Ed25519 identity in libsodium secure memory. See keys.h for the
 * rules; the invariant kept here is that the secret bytes are readable only
 * inside a function of this file, between unprotect and protect.
 */
#include "keys/keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keys_identity {
    uint8_t pk[KEYS_PUBLIC_BYTES];
    uint8_t *sk; /* sodium_malloc'd, PROT_NONE while unused */
};

int keys_init(void)
{
    return sodium_init() < 0 ? KEYS_ERR_SODIUM : KEYS_OK;
}

static int identity_alloc(keys_identity_t **out)
{
    keys_identity_t *k = calloc(1, sizeof *k);
    if (!k)
        return KEYS_ERR_SODIUM;
    k->sk = sodium_malloc(KEYS_SECRET_BYTES);
    if (!k->sk) {
        free(k);
        return KEYS_ERR_SODIUM;
    }
    *out = k;
    return KEYS_OK;
}

int keys_generate(keys_identity_t **out)
{
    keys_identity_t *k;
    int rc = identity_alloc(&k);
    if (rc)
        return rc;
    crypto_sign_keypair(k->pk, k->sk);
    sodium_mprotect_noaccess(k->sk);
    *out = k;
    return KEYS_OK;
}

int keys_from_secret(keys_identity_t **out, const uint8_t secret[KEYS_SECRET_BYTES])
{
    keys_identity_t *k;
    uint8_t check[KEYS_PUBLIC_BYTES];
    int rc = identity_alloc(&k);
    if (rc)
        return rc;
    memcpy(k->sk, secret, KEYS_SECRET_BYTES);
    /* The public half is derived again from the seed: a key file whose two
     * halves disagree is corrupt, not a different identity. */
    crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
    uint8_t seed_pk[KEYS_PUBLIC_BYTES], tmp_sk[KEYS_SECRET_BYTES];
    crypto_sign_seed_keypair(seed_pk, tmp_sk, k->sk);
    sodium_memzero(tmp_sk, sizeof tmp_sk);
    memcpy(check, k->pk, sizeof check);
    sodium_mprotect_noaccess(k->sk);
    if (sodium_memcmp(seed_pk, check, KEYS_PUBLIC_BYTES) != 0) {
        keys_free(&k);
        return KEYS_ERR_CRYPTO;
    }
    *out = k;
    return KEYS_OK;
}

void keys_free(keys_identity_t **kp)
{
    if (!kp || !*kp)
        return;
    sodium_free((*kp)->sk); /* sodium_free wipes before unmapping */
    free(*kp);
    *kp = NULL;
}

const uint8_t *keys_public(const keys_identity_t *k)
{
    return k->pk;
}

/* The signed message is domain || NUL || msg; built in a stack buffer for
 * event-sized input to avoid an allocation per signature. */
static int with_domain(const uint8_t *msg, size_t len, uint8_t **buf, size_t *blen,
                       uint8_t *stack, size_t stack_size)
{
    size_t dlen = sizeof KEYS_SIGN_DOMAIN; /* includes the NUL */
    *blen = dlen + len;
    *buf = *blen <= stack_size ? stack : malloc(*blen);
    if (!*buf)
        return KEYS_ERR_SODIUM;
    memcpy(*buf, KEYS_SIGN_DOMAIN, dlen);
    if (len)
        memcpy(*buf + dlen, msg, len);
    return KEYS_OK;
}

int keys_sign(const keys_identity_t *k, uint8_t sig[KEYS_SIG_BYTES], const uint8_t *msg,
              size_t len)
{
    uint8_t stack[2048], *buf;
    size_t blen;
    if (with_domain(msg, len, &buf, &blen, stack, sizeof stack))
        return KEYS_ERR_SODIUM;
    sodium_mprotect_readonly(k->sk);
    crypto_sign_detached(sig, NULL, buf, blen, k->sk);
    sodium_mprotect_noaccess(k->sk);
    if (buf != stack)
        free(buf);
    return KEYS_OK;
}

int keys_verify(const uint8_t pk[KEYS_PUBLIC_BYTES], const uint8_t sig[KEYS_SIG_BYTES],
                const uint8_t *msg, size_t len)
{
    uint8_t stack[2048], *buf;
    size_t blen;
    if (with_domain(msg, len, &buf, &blen, stack, sizeof stack))
        return KEYS_ERR_SODIUM;
    int ok = crypto_sign_verify_detached(sig, buf, blen, pk) == 0;
    if (buf != stack)
        free(buf);
    return ok ? KEYS_OK : KEYS_ERR_CRYPTO;
}

int keys_export_secret(const keys_identity_t *k, uint8_t *secret_out)
{
    sodium_mprotect_readonly(k->sk);
    memcpy(secret_out, k->sk, KEYS_SECRET_BYTES);
    sodium_mprotect_noaccess(k->sk);
    return KEYS_OK;
}

int keys_curve_public(uint8_t x25519[32], const uint8_t ed25519[KEYS_PUBLIC_BYTES])
{
    return crypto_sign_ed25519_pk_to_curve25519(x25519, ed25519) == 0 ? KEYS_OK
                                                                       : KEYS_ERR_CRYPTO;
}

void keys_pub_encode(char out[KEYS_PUB_STR_SIZE], const uint8_t pk[KEYS_PUBLIC_BYTES])
{
    sodium_bin2base64(out, KEYS_PUB_STR_SIZE, pk, KEYS_PUBLIC_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
}

int keys_pub_decode(uint8_t pk[KEYS_PUBLIC_BYTES], const char *s)
{
    size_t len = 0;
    const char *end = NULL;
    if (!s || strlen(s) != KEYS_PUB_STR_LEN)
        return KEYS_ERR_ENCODING;
    if (sodium_base642bin(pk, KEYS_PUBLIC_BYTES, s, KEYS_PUB_STR_LEN, NULL, &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != KEYS_PUBLIC_BYTES || *end != '\0')
        return KEYS_ERR_ENCODING;
    /* Reject small-order and non-canonical points: they are never an identity. */
    uint8_t x[32];
    if (crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0)
        return KEYS_ERR_ENCODING;
    return KEYS_OK;
}

void keys_fingerprint(char out[KEYS_FPR_STR_SIZE], const uint8_t pk[KEYS_PUBLIC_BYTES])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, pk, KEYS_PUBLIC_BYTES, NULL, 0);
    snprintf(out, KEYS_FPR_STR_SIZE, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", h[0], h[1], h[2],
             h[3], h[4], h[5], h[6], h[7]);
}

/* ---- transport key ---------------------------------------------------- */

struct keys_transport {
    uint8_t identity[KEYS_PUBLIC_BYTES];
    uint8_t xpk[KEYS_X25519_BYTES];
    uint8_t *xsk; /* sodium_malloc'd, PROT_NONE while unused */
};

static int transport_new(keys_transport_t **out, const uint8_t identity[KEYS_PUBLIC_BYTES])
{
    keys_transport_t *t = calloc(1, sizeof *t);
    if (!t || !(t->xsk = sodium_malloc(KEYS_X25519_BYTES))) {
        free(t);
        return KEYS_ERR_SODIUM;
    }
    memcpy(t->identity, identity, KEYS_PUBLIC_BYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(t->xpk, identity) != 0) {
        keys_transport_free(&t);
        return KEYS_ERR_ARG;
    }
    *out = t;
    return KEYS_OK;
}

int keys_transport_from_identity(keys_transport_t **out, const keys_identity_t *k)
{
    int rc = transport_new(out, k->pk);
    if (rc)
        return rc;
    sodium_mprotect_readonly(k->sk);
    int conv = crypto_sign_ed25519_sk_to_curve25519((*out)->xsk, k->sk);
    sodium_mprotect_noaccess(k->sk);
    sodium_mprotect_noaccess((*out)->xsk);
    if (conv != 0) {
        keys_transport_free(out);
        return KEYS_ERR_CRYPTO;
    }
    return KEYS_OK;
}

int keys_transport_from_secret(keys_transport_t **out, const uint8_t identity[KEYS_PUBLIC_BYTES],
                               const uint8_t secret[KEYS_X25519_BYTES])
{
    uint8_t derived[KEYS_X25519_BYTES];
    int rc = transport_new(out, identity);
    if (rc)
        return rc;
    memcpy((*out)->xsk, secret, KEYS_X25519_BYTES);
    int ok = crypto_scalarmult_base(derived, (*out)->xsk) == 0 &&
             sodium_memcmp(derived, (*out)->xpk, KEYS_X25519_BYTES) == 0;
    sodium_mprotect_noaccess((*out)->xsk);
    if (!ok) {
        keys_transport_free(out);
        return KEYS_ERR_CRYPTO; /* not this identity's transport key */
    }
    return KEYS_OK;
}

int keys_transport_export(const keys_transport_t *t, uint8_t *secret_out)
{
    sodium_mprotect_readonly(t->xsk);
    memcpy(secret_out, t->xsk, KEYS_X25519_BYTES);
    sodium_mprotect_noaccess(t->xsk);
    return KEYS_OK;
}

const uint8_t *keys_transport_identity(const keys_transport_t *t)
{
    return t->identity;
}

void keys_transport_free(keys_transport_t **tp)
{
    if (!tp || !*tp)
        return;
    sodium_free((*tp)->xsk); /* wipes */
    free(*tp);
    *tp = NULL;
}

int keys_transport_lend(const keys_transport_t *t, keys_curve_use_fn use, void *ctx)
{
    if (!use)
        return KEYS_ERR_CRYPTO;
    sodium_mprotect_readonly(t->xsk);
    int rc = use(ctx, t->xpk, t->xsk);
    sodium_mprotect_noaccess(t->xsk);
    return rc;
}