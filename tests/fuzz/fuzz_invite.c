/* fuzz_invite: the string `lernet network join` reads. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "export/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    invite_t iv;
    char why[512];
    fuzz_init();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (invite_parse(&iv, text, NULL, event_now_ms(), why, sizeof why) == 0)
        invite_free(&iv);
    free(text);
    return 0;
}
