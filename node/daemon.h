/*
 * daemon: `lernet run`, the node's event loop (see daemon.c). Blocks until
 * SIGTERM or SIGINT, then closes every socket and returns 0. cfg, st and k
 * are borrowed.
 */
#ifndef LERNET_DAEMON_H
#define LERNET_DAEMON_H

#include <stddef.h>

#include "config.h"
#include "keys.h"
#include "store.h"

/* Runs the node until SIGTERM/SIGINT. k is the identity (CURVE transport);
 * signing, when not NULL, is the certified key that signs what the node
 * publishes (else the identity signs). All borrowed. */
int daemon_run(const char *home, const config_t *cfg, store_t *st, const keys_identity_t *k,
               const keys_identity_t *signing, char *why, size_t whylen);

#endif
