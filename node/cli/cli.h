/*
 * cli: the command table and what every command shares: the node home,
 * exit codes, one-line errors, and opening the store, keys and config.
 *
 * Node home (first that applies): --home DIR, $LERNET_HOME,
 * $XDG_DATA_HOME/lernet, ~/.local/share/lernet. It holds lernet.ini,
 * keys/identity.key + keys/identity.pub, store.db and, while the daemon
 * runs, control.sock.
 */
#ifndef LERNET_CLI_H
#define LERNET_CLI_H

#include <limits.h>
#include <stdio.h>

#include <jansson.h>

#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"

/* Documented exit codes (README, lernet --help). */
enum cli_exit {
    CLI_OK = 0,
    CLI_FAIL = 1,     /* the operation failed: refused input, not found, I/O */
    CLI_USAGE = 2,    /* bad command line */
    CLI_TAMPERED = 3, /* verify found tampering, corruption or forks */
    CLI_NOHOME = 4,   /* node home missing or not initialised */
    CLI_KEYS = 5,     /* key file unreadable: mode, passphrase, corruption */
};

typedef struct cli_ctx {
    char home[PATH_MAX];
    char path[PATH_MAX]; /* scratch for home-relative paths */
} cli_ctx_t;

typedef struct cli_cmd {
    const char *name;
    int (*run)(cli_ctx_t *ctx, int argc, char **argv);
    const char *summary;
} cli_cmd_t;

int cli_main(int argc, char **argv);

/* A subcommand of a command group (`lernet keys rotate`). A group's table
 * is at once its dispatch, its usage and its --help, so they cannot drift
 * apart. run gets the group's argc and argv (argv[1] is the subcommand)
 * and returns an exit code, or CLI_ARGS when the arguments do not fit the
 * synopsis (after its own one-line error, if it has one to add). */
typedef struct cli_sub {
    const char *name;
    const char *args; /* synopsis of the arguments, "" for none */
    int (*run)(cli_ctx_t *ctx, int argc, char **argv);
    const char *summary; /* for --help: wrapped to the terminal width; '\n' breaks a line */
} cli_sub_t;

#define CLI_ARGS (-1) /* from a cli_sub_t's run: print the usage, exit CLI_USAGE */

/* Runs the subcommand argv[1] from subs. --help or -h (in place of the
 * subcommand or just after it) prints the group's usage on stdout; no
 * subcommand, an unknown one or CLI_ARGS print it on stderr and return
 * CLI_USAGE. */
int cli_dispatch(cli_ctx_t *ctx, const char *group, const cli_sub_t *subs, size_t n, int argc,
                 char **argv);
/* The usage of `lernet group`: a synopsis line per subcommand (neighbours
 * with the same arguments share one: "export|import FILE"), then each
 * subcommand's summary. */
void cli_sub_usage(FILE *f, const char *group, const cli_sub_t *subs, size_t n);
/* An optional last argument "--json" at argv[at]: 1 if given, 0 if absent,
 * -1 if anything else is there. */
int cli_json_flag(int argc, char **argv, int at);

/* Prints "lernet: <message>" on stderr; returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints s cut or padded to width characters (UTF-8 aware, so that
 * "Lärcentrum Östhammar" lines up with ASCII names). */
void cli_print_col(const char *s, size_t width);
/* An item's title in the first of langs it has (cli_view.c). */
const char *cli_item_title(const store_item_t *it, const char *langs);
/* An item as the JSON of `list --json` and `export json` (new reference). */
json_t *cli_item_json(const store_item_t *it);
/* One feedback item's results (programme_feedback_json) as text, each line
 * after indent: `report --feedback` and `show`. */
void cli_print_feedback(const json_t *fb, const char *indent);
/* An item's attachments as `show --json` lists them: hash, size, name,
 * media_type, and whether the file is in the node home ("present"); an
 * empty array for an item without (new reference). */
json_t *cli_attachments_json(const store_item_t *it, const char *home);

/* The i-th format of `lernet export FORMAT` (cli_export.c; bundle aside),
 * NULL past the end: for the help and for tests that read every item back
 * through every format. */
const char *cli_export_format_at(size_t i);
/* The i-th --format of `lernet report` (cli_report.c), NULL past the end. */
const char *cli_report_format_at(size_t i);

/* "<home>/<name>" in ctx->path (overwritten by the next call). */
const char *cli_home_path(cli_ctx_t *ctx, const char *name);

/* Open helpers: print their own one-line error and return an exit code. */
int cli_open_store(cli_ctx_t *ctx, store_t **out);
int cli_load_config(cli_ctx_t *ctx, config_t **out);
int cli_load_keys(cli_ctx_t *ctx, keys_identity_t **out);
/* The key that signs this node's events: the certified signing key
 * (keys/signing.key, needs no passphrase) when there is one, else the
 * identity key. *out is owned by the caller; author gets the identity's
 * public key. */
int cli_load_signer(cli_ctx_t *ctx, keys_identity_t **out, uint8_t author[KEYS_PUBLIC_BYTES]);
/* The CurveZMQ transport key: keys/transport.key, or (older homes) derived
 * from the identity key, and then written for next time. */
int cli_load_transport(cli_ctx_t *ctx, keys_transport_t **out);
/* 1 if keys/signing.key exists. */
int cli_has_signing_key(cli_ctx_t *ctx);
/* At init: a certified signing key and the identity revocation statement. */
int cli_keys_init(cli_ctx_t *ctx, store_t *st, const keys_identity_t *id);
/* Passphrase from $LERNET_PASSPHRASE, or --passphrase-file contents, or a
 * prompt on the terminal (twice when confirm). sodium_malloc'd; free with
 * cli_passphrase_free. NULL with *code set on failure. */
char *cli_passphrase(const char *file, int confirm, int *code);
void cli_passphrase_free(char *p);


/* Commands (cli_*.c) */
int cli_init(cli_ctx_t *ctx, int argc, char **argv);
int cli_keys(cli_ctx_t *ctx, int argc, char **argv);
int cli_network(cli_ctx_t *ctx, int argc, char **argv);
int cli_export(cli_ctx_t *ctx, int argc, char **argv);
int cli_import(cli_ctx_t *ctx, int argc, char **argv);
int cli_report(cli_ctx_t *ctx, int argc, char **argv);
int cli_config(cli_ctx_t *ctx, int argc, char **argv);
int cli_publish(cli_ctx_t *ctx, int argc, char **argv);
int cli_update(cli_ctx_t *ctx, int argc, char **argv);
int cli_cancel(cli_ctx_t *ctx, int argc, char **argv);
/* `lernet erase ID... [--reason TEXT]`: a signed erasure (cli_publish.c). */
int cli_erase(cli_ctx_t *ctx, int argc, char **argv);
/* `lernet hide ID [--reason TEXT] | --undo`: a coordinator's moderation (cli_publish.c). */
int cli_hide(cli_ctx_t *ctx, int argc, char **argv);
/* `lernet attachment list | get HASH --out FILE` (cli_attach.c). */
int cli_attachment(cli_ctx_t *ctx, int argc, char **argv);
int cli_list(cli_ctx_t *ctx, int argc, char **argv);
int cli_show(cli_ctx_t *ctx, int argc, char **argv);
int cli_search(cli_ctx_t *ctx, int argc, char **argv);
int cli_log(cli_ctx_t *ctx, int argc, char **argv);
int cli_verify(cli_ctx_t *ctx, int argc, char **argv);
int cli_store(cli_ctx_t *ctx, int argc, char **argv);
int cli_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_peers(cli_ctx_t *ctx, int argc, char **argv);

#endif
