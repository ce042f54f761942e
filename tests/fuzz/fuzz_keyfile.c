/* fuzz_keyfile: key files (identity and signing keys, unencrypted or
 * encrypted) and the transport key file. Without a passphrase, so an
 * encrypted file stops before Argon2id: the parser is what is fuzzed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "keys/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keys_identity_t *k = NULL;
    keys_transport_t *t = NULL;
    char why[512];
    fuzz_init();
    if (keystore_unseal((const char *)data, size, "fuzz", NULL, &k, why, sizeof why) == 0)
        keys_free(&k);
    const char *dir = fuzz_temp_path("keys");
    char path[700];
    snprintf(path, sizeof path, "%s/transport.key", dir);
    mkdir(dir, 0700);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    chmod(path, 0600);
    if (keystore_load_transport(dir, &t, why, sizeof why) == 0)
        keys_transport_free(&t);
    return 0;
}
