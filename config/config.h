/*
 * config: the node's INI file (libinih), parsed into a validated struct.
 *
 *   [node]
 *   name = Lärcentrum Östhammar      ; organisation shown to partners
 *   country = SE                      ; ISO 3166-1 alpha-2
 *   municipality = Östhammar
 *   listen = tcp://127.0.0.1:7400     ; ZeroMQ endpoint for partners
 *   networks = malardalen-skills, nordic-wbl
 *   default_network = malardalen-skills   (must be one of networks)
 *   log_level = info                  ; error|warn|info|debug
 *   sync_interval_ms = 2000           ; anti-entropy round period
 *   web = 127.0.0.1:8470              ; the web page (HOST:PORT or off)
 *   web_token_file = web.token        ; required when web is not on 127.x
 *   web_behind_proxy = no             ; yes: loopback visitors need the token too
 *   web_locale_dir = /usr/share/locale ; the page's translations (LANG/LC_MESSAGES/
 *                                      ; lernet.mo); empty: found beside the program
 *   attachments_keep = 200            ; MiB of partners' attached files fetched unasked
 *                                     ; (all, none: only those asked for), default 200
 *   attachment_max_mib = 25           ; no file above this is fetched (1..25, default 25)
 *   attachment_quota_mib = 100        ; per author and network (default 100)
 *
 *   [network "nordic-wbl"]            ; a managed network (see store_trust)
 *   coordinators = <key>, <key>       ; whose membership statements to trust
 *
 *   [peer "Roskilde Handelsskole"]    ; one section per partner
 *   public_key = <44-char base64 Ed25519 key>
 *   endpoint = tcp://127.0.0.1:7401   ; empty or absent: it dials us (needs listen)
 *   networks = nordic-wbl             ; networks this partner takes part in
 *
 * Every value is validated; an error names file:line, section, key and why.
 * Unknown sections or keys are errors too (a typo must not silently change
 * what a node shares).
 */
#ifndef LERNET_CONFIG_H
#define LERNET_CONFIG_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "keys/keys.h"

#define CONFIG_MAX_PEERS 10000 /* [peer] sections in a file; members admitted later are not counted */
#define CONFIG_MAX_FILE (4 * 1024 * 1024) /* bytes of lernet.ini: room for CONFIG_MAX_PEERS sections */
#define CONFIG_MAX_NETWORKS 32
#define CONFIG_MAX_NAME 128
#define CONFIG_MAX_ENDPOINT 256
#define CONFIG_WEB_DEFAULT "127.0.0.1:8470"
#define CONFIG_KEEP_ALL INT64_MAX                  /* attachments_keep = all */
#define CONFIG_KEEP_DEFAULT ((int64_t)200 << 20)   /* attachments_keep: 200 MiB */
#define CONFIG_QUOTA_DEFAULT ((int64_t)100 << 20)  /* attachment_quota_mib: 100 */

/* Error codes: CONFIG_ERR_* (-500s) of the one namespace in util/err.h. */

typedef char config_network_t[EVENT_MAX_NETWORK + 1];

typedef struct config_peer {
    char name[CONFIG_MAX_NAME];
    uint8_t public_key[KEYS_PUBLIC_BYTES];
    char endpoint[CONFIG_MAX_ENDPOINT]; /* empty: it dials us, we open no connection to it */
    config_network_t networks[CONFIG_MAX_NETWORKS];
    size_t n_networks;
} config_peer_t;

#define CONFIG_MAX_COORDINATORS 4 /* what fits on one line */
typedef struct config_netdef {
    config_network_t name;
    uint8_t coordinators[CONFIG_MAX_COORDINATORS][KEYS_PUBLIC_BYTES];
    size_t n_coordinators;
} config_netdef_t;

typedef struct config {
    char name[CONFIG_MAX_NAME];
    char country[3];
    char municipality[CONFIG_MAX_NAME];
    char listen[CONFIG_MAX_ENDPOINT]; /* empty: do not listen */
    config_network_t networks[CONFIG_MAX_NETWORKS];
    size_t n_networks;
    char default_network[EVENT_MAX_NETWORK + 1];
    char log_level[16];
    int sync_interval_ms; /* 100..3600000, default 2000 */
    char web[32];         /* "off" or IPv4 HOST:PORT of the web page */
    int web_defaulted;    /* web was not in the file (a busy port is then no error) */
    char web_token_file[CONFIG_MAX_ENDPOINT]; /* relative to the home, or absolute */
    int web_behind_proxy; /* a reverse proxy on this machine: no request counts as local */
    char web_locale_dir[CONFIG_MAX_ENDPOINT]; /* "": beside the program (web/i18n.h) */
    /* Attached files (sync/xfer.c): bytes of partners' files fetched unasked
     * (CONFIG_KEEP_ALL, 0 for none: only files someone asks for); no file
     * above attachment_max bytes is fetched, nor one that takes an author's
     * files in a network above attachment_quota bytes. */
    int64_t attachments_keep;
    int attachments_keep_set;
    int64_t attachment_max, attachment_quota;
    config_peer_t *peers; /* owned */
    size_t n_peers;
    config_netdef_t netdefs[CONFIG_MAX_NETWORKS]; /* [network "NAME"] sections */
    size_t n_netdefs;
} config_t;

/* Parses and validates path. *out owned by caller (config_free). */
int config_load(config_t **out, const char *path, char *why, size_t whylen);
void config_free(config_t **c);

/* 1 if the web page listens on loopback only (127.x). */
int config_web_local(const config_t *c);
/* 1 if the node takes part in network, else 0. */
int config_has_network(const config_t *c, const char *network);
/* Peer by public key, or NULL. Borrowed. */
const config_peer_t *config_peer_by_key(const config_t *c, const uint8_t key[KEYS_PUBLIC_BYTES]);
/* 1 if the peer takes part in network (and so may receive its events). */
int config_peer_has_network(const config_peer_t *p, const char *network);

/* The rules lernet.ini applies to a [peer "NAME"] name and to an endpoint,
 * for text from elsewhere that will be written into it (an invite): 0, or
 * -1 with the reason (naming no field: the caller does) in reason. */
int config_check_peer_name(const char *name, char *reason, size_t rlen);
int config_check_endpoint(const char *endpoint, char *reason, size_t rlen);

/* Writes a commented config for a new node (lernet init); web NULL means
 * CONFIG_WEB_DEFAULT. Mode 0600, atomically (node/fileio.h); refuses to
 * overwrite an existing file. */
int config_write_new(const char *path, const char *name, const char *country,
                     const char *municipality, const char *listen, const char *web,
                     const char *network, char *why, size_t whylen);

/* Edits an existing config atomically (node/fileio.h; the new file is
 * 0600): adds add_network (may be NULL) to [node] networks if missing, then
 * appends append (whole sections, may be NULL). The result must load, or
 * nothing is changed. */
int config_edit(const char *path, const char *add_network, const char *append, char *why,
                size_t whylen);
/* config_edit, and the edit must also pass check (may be NULL): it gets
 * the config exactly as the edited file will load (borrowed for the call)
 * before anything is written, and returns 0 to let the edit go ahead, or
 * non-zero with a one-line reason in why to refuse it (nothing changes;
 * config_edit then returns CONFIG_ERR_INVALID). */
typedef int (*config_check_fn)(void *ctx, const config_t *edited, char *why, size_t whylen);
int config_edit_checked(const char *path, const char *add_network, const char *append,
                        config_check_fn check, void *check_ctx, char *why, size_t whylen);

#endif
