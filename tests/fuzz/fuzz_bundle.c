/* fuzz_bundle: `lernet import bundle FILE` with a hostile file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "export/bundle.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store_t *st;
    static config_t cfg;
    char why[512];
    bundle_stats_t bs;
    if (!st) {
        fuzz_init();
        if (store_open(&st, fuzz_temp_path("bundle.db"), why, sizeof why) != STORE_OK)
            abort();
        snprintf(cfg.networks[0], sizeof cfg.networks[0], "nordic-wbl");
        cfg.n_networks = 1;
    }
    const char *path = fuzz_temp_path("in.bundle");
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    bundle_import(st, &cfg, path, &bs, why, sizeof why);
    return 0;
}
