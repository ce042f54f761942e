/* fuzz_json: `lernet publish --json FILE`, the JSON form of each kind. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "core/payload_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    char why[512];
    fuzz_init();
    json_t *obj = json_loadb((const char *)data, size, 0, &e);
    if (!obj)
        return 0;
    for (int kind = 1; kind <= 5; kind++) {
        Lernet__Payload *p = NULL;
        if (payload_from_json(&p, kind, obj, why, sizeof why) == 0 && p)
            lernet__payload__free_unpacked(p, NULL);
    }
    json_decref(obj);
    return 0;
}
