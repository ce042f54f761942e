/* erased: see erased.h. */
#include "export/erased.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keys/keys.h"

static int by_author(const store_item_t *it)
{
    return !it->erased_by_known || memcmp(it->erased_by, it->author, KEYS_PUBLIC_BYTES) == 0;
}

const char *erased_text(const store_item_t *it, char *buf, size_t n)
{
    char day[16] = "", fpr[KEYS_FPR_STR_SIZE] = "";
    if (it->erased_ms > 0) {
        time_t t = (time_t)(it->erased_ms / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(day, sizeof day, " on %Y-%m-%d", &tm);
    }
    if (!by_author(it))
        keys_fingerprint(fpr, it->erased_by);
    const char *reason = it->erase_reason && *it->erase_reason ? it->erase_reason : NULL;
    snprintf(buf, n, "erased%s by %s%s%s%s%s", day, by_author(it) ? "its author" : "coordinator ",
             fpr, by_author(it) ? "" : " (moderation)", reason ? ": " : "", reason ? reason : "");
    return buf;
}

void erased_json(const store_item_t *it, json_t *o)
{
    char by[KEYS_PUB_STR_SIZE];
    json_object_set_new(o, "erased", json_boolean(it->erased));
    if (!it->erased)
        return;
    if (it->erased_ms > 0)
        json_object_set_new(o, "erased_ms", json_integer(it->erased_ms));
    if (it->erased_by_known) {
        keys_pub_encode(by, it->erased_by);
        json_object_set_new(o, "erased_by", json_string(by));
        json_object_set_new(o, "erased_as", json_string(by_author(it) ? "author" : "coordinator"));
    }
    if (it->erase_reason && *it->erase_reason)
        json_object_set_new(o, "erase_reason", json_string(it->erase_reason));
}
