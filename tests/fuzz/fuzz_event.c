/* fuzz_event: the signed-event envelope and, through it, every payload kind
 * (event_parse decodes the header, checks the signature and hash, then
 * decodes and validates the payload for its kind). */
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t *ev = NULL;
    char why[256];
    fuzz_init();
    event_parse(&ev, data, size, event_now_ms(), why, sizeof why);
    event_free(&ev);
    /* the same bytes as a bare payload of each kind, as publishers check them */
    Lernet__Payload *p = lernet__payload__unpack(NULL, size, data);
    if (p) {
        for (int kind = 1; kind <= LERNET__KIND__KIND_ERASURE; kind++)
            event_check_payload(kind, p, why, sizeof why);
        lernet__payload__free_unpacked(p, NULL);
    }
    return 0;
}
