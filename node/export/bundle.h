/*
 * bundle: signed events in a file, for sites that can only exchange files
 * (sneakernet, air-gapped networks). Format: the line "lernet-bundle 1\n",
 * then each event as a 4-byte big-endian length and its envelope, key logs
 * first, every log in seq order. Import checks every event exactly as sync
 * does (event_parse_erasable, then the store's chain, key, membership and
 * erasure rules) and keeps only networks this node takes part in; nothing is
 * trusted because it came in a file. A bundle made after an erasure holds
 * the erased events header-only: they are taken because the erasure, later
 * in the file, covers them (a second pass over the header-only envelopes).
 */
#ifndef LERNET_BUNDLE_H
#define LERNET_BUNDLE_H

#include <stddef.h>

#include "config/config.h"
#include "store/store.h"

#define BUNDLE_MAGIC "lernet-bundle 1\n"
#define BUNDLE_MAX_EVENTS 10000000

typedef struct bundle_stats {
    size_t events, logs, applied, duplicates, held, refused;
} bundle_stats_t;

/* Writes every log (of network, and the key logs; NULL: every log) to path,
 * atomically and without following a planted symlink (node/fileio.h;
 * mode 0644 less the umask). 0 and *out, or -1 with why (*out untouched). */
int bundle_export(store_t *st, const char *network, const char *path, bundle_stats_t *out,
                  char *why, size_t whylen);
/* Reads path and stores what verifies; refusals are logged one line each
 * (at most 20, then a count). 0 (even with refusals), or -1 when the file
 * cannot be read or the store fails. */
int bundle_import(store_t *st, const config_t *cfg, const char *path, bundle_stats_t *out,
                  char *why, size_t whylen);

#endif
