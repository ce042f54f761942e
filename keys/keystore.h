/*
 * keystore: a node's identity key on disk.
 *
 * Files in <home>/keys/: identity.pub (the printable public key and a
 * newline, 0644) and identity.key (the secret, 0600). The secret file is
 * either encrypted with a passphrase (Argon2id via crypto_pwhash, then
 * XChaCha20-Poly1305 with the public key as associated data) or, when the
 * operator asks for it explicitly, stored unencrypted for unattended servers.
 * A secret file readable or writable by group or others is refused.
 * Files are written through node/fileio.h (an exclusive random temporary
 * name, fsync, rename, fsync of the directory), so a crash never leaves
 * half a key and no planted file or symlink is ever written through.
 *
 * File format (text, one field per line, so an operator can tell what it is):
 *   lernet-secret-key 1
 *   public <printable public key>
 *   protection argon2id-xchacha20poly1305 | none
 *   kdf <opslimit> <memlimit> <salt base64>          (encrypted only)
 *   nonce <base64>                                   (encrypted only)
 *   secret <base64 of ciphertext or of the 64-byte secret>
 */
#ifndef LERNET_KEYSTORE_H
#define LERNET_KEYSTORE_H

#include "util/err.h"

#include "keys/keys.h"

/* Error codes: KEYSTORE_ERR_* (-400s) of the one namespace in util/err.h. */

/* Writes identity.key and identity.pub under dir (created 0700 if missing).
 * passphrase NULL means unencrypted. Refuses to overwrite (KEYSTORE_ERR_EXISTS).
 * why (may be NULL) receives a one-line detail on error. */
int keystore_save(const char *dir, const keys_identity_t *k, const char *passphrase,
                  char *why, size_t whylen);
/* Loads dir/identity.key. passphrase may be NULL for an unencrypted file.
 * *out is owned by the caller (keys_free). */
int keystore_load(const char *dir, const char *passphrase, keys_identity_t **out, char *why,
                  size_t whylen);
/* Reads only the public key from dir/identity.pub (no passphrase needed). */
int keystore_load_public(const char *dir, uint8_t pk[KEYS_PUBLIC_BYTES], char *why,
                         size_t whylen);
/* 1 if dir/identity.key is encrypted, 0 if not, negative error. */
int keystore_is_encrypted(const char *dir, char *why, size_t whylen);

/* The same for any named key pair in dir: <name>.key and <name>.pub. A node
 * keeps its identity ("identity") and the signing key the daemon uses day
 * to day ("signing"); a signing key certified by the identity lets the
 * identity key itself stay offline. */
#define KEYSTORE_IDENTITY "identity"
#define KEYSTORE_SIGNING "signing"
int keystore_save_as(const char *dir, const char *name, const keys_identity_t *k,
                     const char *passphrase, char *why, size_t whylen);
int keystore_load_as(const char *dir, const char *name, const char *passphrase,
                     keys_identity_t **out, char *why, size_t whylen);
int keystore_load_public_as(const char *dir, const char *name, uint8_t pk[KEYS_PUBLIC_BYTES],
                            char *why, size_t whylen);
int keystore_is_encrypted_as(const char *dir, const char *name, char *why, size_t whylen);

/* A key file's text in memory, for backups: seal (passphrase NULL means
 * unencrypted; *text is sodium_malloc'd, sodium_free it) and unseal (label
 * names the source in errors). */
int keystore_seal(const keys_identity_t *k, const char *passphrase, char **text, size_t *len,
                  char *why, size_t whylen);
int keystore_unseal(const char *text, size_t len, const char *label, const char *passphrase,
                    keys_identity_t **out, char *why, size_t whylen);

/* keys/transport.key: what the daemon needs for CurveZMQ under the node's
 * identity (see keys_transport_t), so identity.key can be taken offline.
 * Written at init, 0600, unencrypted; refuses to overwrite. */
int keystore_save_transport(const char *dir, const keys_transport_t *t, char *why,
                            size_t whylen);
int keystore_load_transport(const char *dir, keys_transport_t **out, char *why, size_t whylen);

#endif
