/*
 * daemon: `lernet run`, the node's event loop (see daemon.c). Blocks until
 * SIGTERM or SIGINT, then closes every socket and returns 0. cfg, st and k
 * are borrowed.
 */
#ifndef LERNET_DAEMON_H
#define LERNET_DAEMON_H

#include <stddef.h>

#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"

/* Runs the node until SIGTERM/SIGINT. t is the transport key (CurveZMQ
 * under the node's identity); signing signs what the node publishes (the
 * certified signing key, or the identity key itself in homes without one).
 * All borrowed. */
int daemon_run(const char *home, const config_t *cfg, store_t *st, const keys_transport_t *t,
               const keys_identity_t *signing, char *why, size_t whylen);

#endif
