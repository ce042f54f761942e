/*
 * erased: how every reader says that an item was erased (GDPR Art. 17):
 * one line of text for lists, pages, reports and CSV, and the fields of the
 * JSON forms. One place, so list, show, exports, the report and the web
 * page say the same thing: when, by whom (its author, or a coordinator of
 * the network as moderation) and the reason, which by rule holds no
 * personal data.
 */
#ifndef LERNET_ERASED_H
#define LERNET_ERASED_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

/* "erased on 2026-12-01 by its author: written in error" into buf (always
 * terminated); returns buf. Only for an item with it->erased. */
const char *erased_text(const store_item_t *it, char *buf, size_t n);

/* Sets "erased" (true or false) in o and, for an erased item, "erased_ms",
 * "erased_by" (the key), "erased_as" ("author" or "coordinator") and
 * "erase_reason" where known. */
void erased_json(const store_item_t *it, json_t *o);

#endif
