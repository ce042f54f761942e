/* fuzz_config: lernet.ini as a hostile file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t *c = NULL;
    char why[512];
    fuzz_init();
    const char *path = fuzz_temp_path("lernet.ini");
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    if (config_load(&c, path, why, sizeof why) == CONFIG_OK)
        config_free(&c);
    return 0;
}
