/*
 * keys: a node's Ed25519 identity and everything that touches its secret.
 *
 * The secret key lives only in sodium_malloc'd memory (guard pages, no-access
 * while unused) inside an opaque keys_identity_t; no other module ever sees
 * it. Other modules ask this one to sign, or to configure a ZeroMQ socket's
 * CURVE keys (the transport key is the identity key converted to X25519, so
 * that one public key names a node in config, logs and signatures).
 *
 * Printable form of a public key, used everywhere (config, logs, CLI):
 * standard base64 of the 32 bytes, 44 characters ending in '=' (as WireGuard).
 * Fingerprint: first 8 bytes of BLAKE2b-256(public key) as hex in groups of
 * four, e.g. "3f2a:91c0:77de:0b45".
 */
#ifndef LERNET_KEYS_H
#define LERNET_KEYS_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define KEYS_PUBLIC_BYTES 32
#define KEYS_SECRET_BYTES 64 /* libsodium's Ed25519 secret: seed || public */
#define KEYS_SIG_BYTES 64
#define KEYS_PUB_STR_LEN 44  /* base64 chars, without NUL */
#define KEYS_PUB_STR_SIZE 45
#define KEYS_FPR_STR_SIZE 20 /* "xxxx:xxxx:xxxx:xxxx" + NUL */
#define KEYS_SIGN_DOMAIN "lernet/event/v1" /* signed as these 15 bytes + NUL */

typedef struct keys_identity keys_identity_t;

/* Error codes: KEYS_ERR_* (-300s) of the one namespace in util/err.h. */

/* Must be called once before anything else (wraps sodium_init). */
int keys_init(void);

/* New random identity. *out is owned by the caller: keys_free() it. */
int keys_generate(keys_identity_t **out);
/* Identity from a 64-byte libsodium secret key (copied into secure memory;
 * the caller wipes its own copy). Checks that the embedded public key matches
 * the seed. */
int keys_from_secret(keys_identity_t **out, const uint8_t secret[KEYS_SECRET_BYTES]);
/* Wipes and frees; sets *k to NULL. Safe on NULL. */
void keys_free(keys_identity_t **k);

/* Borrowed pointer to the 32-byte public key, valid while k lives. */
const uint8_t *keys_public(const keys_identity_t *k);

/* Detached Ed25519 signature over KEYS_SIGN_DOMAIN "\0" || msg. */
int keys_sign(const keys_identity_t *k, uint8_t sig[KEYS_SIG_BYTES], const uint8_t *msg,
              size_t len);
/* Verification of the same construction; 0 if valid, KEYS_ERR_CRYPTO if not. */
int keys_verify(const uint8_t pk[KEYS_PUBLIC_BYTES], const uint8_t sig[KEYS_SIG_BYTES],
                const uint8_t *msg, size_t len);

/* Copies the secret out for the keystore to encrypt: writes into a buffer
 * the caller allocated with sodium_malloc and must sodium_free. */
int keys_export_secret(const keys_identity_t *k, uint8_t *secret_out /* KEYS_SECRET_BYTES */);

/* The transport key: the identity converted to X25519, kept on its own so
 * the daemon can run CurveZMQ under the identity partners know while the
 * Ed25519 identity key itself stays offline. Its secret can authenticate a
 * connection but sign nothing. Secret in sodium_malloc'd memory. */
typedef struct keys_transport keys_transport_t;
#define KEYS_X25519_BYTES 32
int keys_transport_from_identity(keys_transport_t **out, const keys_identity_t *k);
/* From a stored X25519 secret; checks it belongs to identity. */
int keys_transport_from_secret(keys_transport_t **out, const uint8_t identity[KEYS_PUBLIC_BYTES],
                               const uint8_t secret[KEYS_X25519_BYTES]);
/* Copies the secret into a sodium_malloc'd buffer of the caller's. */
int keys_transport_export(const keys_transport_t *t, uint8_t *secret_out);
const uint8_t *keys_transport_identity(const keys_transport_t *t);
void keys_transport_free(keys_transport_t **t);
/* Lends the transport key pair to use(), which hands it to CurveZMQ
 * (daemon/net.c sets ZMQ_CURVE_PUBLICKEY/SECRETKEY with it): the secret is
 * readable only during the call and keys/ copies it nowhere, so keys/ needs
 * no socket library. Returns use()'s result (0 on success), or
 * KEYS_ERR_CRYPTO when use is NULL. */
typedef int (*keys_curve_use_fn)(void *ctx, const uint8_t pub[KEYS_X25519_BYTES],
                                 const uint8_t secret[KEYS_X25519_BYTES]);
int keys_transport_lend(const keys_transport_t *t, keys_curve_use_fn use, void *ctx);

/* X25519 public key for an Ed25519 public key (a partner's, for
 * ZMQ_CURVE_SERVERKEY and for matching ZAP requests). */
int keys_curve_public(uint8_t x25519[32], const uint8_t ed25519[KEYS_PUBLIC_BYTES]);

/* Printable forms. encode writes KEYS_PUB_STR_LEN chars + NUL. decode accepts
 * exactly the printable form (surrounding whitespace is an error) and checks
 * the bytes form a valid Ed25519 point. */
void keys_pub_encode(char out[KEYS_PUB_STR_SIZE], const uint8_t pk[KEYS_PUBLIC_BYTES]);
int keys_pub_decode(uint8_t pk[KEYS_PUBLIC_BYTES], const char *s);
void keys_fingerprint(char out[KEYS_FPR_STR_SIZE], const uint8_t pk[KEYS_PUBLIC_BYTES]);

#endif
