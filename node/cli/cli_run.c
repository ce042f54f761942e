/*
 * cli_run: `lernet run` (the daemon, which cannot dump core) and `lernet
 * peers` (asks it).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "util/log.h"

/* The daemon holds the transport and signing keys in memory for as long as
 * it runs, so it must never be dumped: RLIMIT_CORE 0 stops a core file in
 * the working directory, and only not being dumpable also stops a pipe
 * core_pattern (systemd-coredump, apport ignore the limit) and ptrace by
 * other processes of the same user. Done before any key is loaded. */
static int no_core_dumps(void)
{
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
        prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        return cli_error(CLI_FAIL, "run: cannot turn core dumps off: %s", strerror(errno));
    return CLI_OK;
}

int cli_run(cli_ctx_t *ctx, int argc, char **argv)
{
    config_t *cfg = NULL;
    store_t *st = NULL;
    keys_identity_t *signing = NULL;
    keys_transport_t *t = NULL;
    uint8_t author[KEYS_PUBLIC_BYTES];
    char why[512] = "", fpr[KEYS_FPR_STR_SIZE], tag[64];
    enum log_level lvl = LOG_LVL_INFO;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet run\nStarts the node: listens on 'listen', connects to every "
               "[peer] in lernet.ini,\nsyncs, and serves the CLI over <home>/control.sock. "
               "Logs go to stderr\n(LERNET_LOG_PREFIX=journal for journald priorities). "
               "SIGTERM/SIGINT stop it.\n");
        return CLI_OK;
    }
    if (argc != 1)
        return cli_error(CLI_USAGE, "usage: lernet run");
    int rc = no_core_dumps();
    if (!rc)
        rc = cli_load_config(ctx, &cfg);
    /* The daemon needs no identity key when keys/transport.key and
     * keys/signing.key exist: identity.key can stay offline. */
    if (rc || (rc = cli_open_store(ctx, &st)) || (rc = cli_load_transport(ctx, &t)) ||
        (rc = cli_load_signer(ctx, &signing, author)))
        goto done;
    log_level_parse(cfg->log_level, &lvl);
    keys_fingerprint(fpr, keys_transport_identity(t));
    snprintf(tag, sizeof tag, "[%.40s]", cfg->name);
    log_init(lvl, tag);
    log_info("lernet %s starting, node key fingerprint %s", LERNET_VERSION, fpr);
    if (daemon_run(ctx->home, cfg, st, t, signing, why, sizeof why) != 0)
        rc = cli_error(CLI_FAIL, "run: %s", why);
done:
    keys_free(&signing);
    keys_transport_free(&t);
    store_close(&st);
    config_free(&cfg);
    return rc;
}

static const char *ago(json_t *ms, char *buf, size_t n)
{
    if (!json_is_integer(ms))
        return "never";
    snprintf(buf, n, "%.1f s ago", (double)json_integer_value(ms) / 1000.0);
    return buf;
}

int cli_peers(cli_ctx_t *ctx, int argc, char **argv)
{
    json_t *req, *reply = NULL, *peer;
    size_t i;
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet peers [--json]\nAsks the running daemon about each partner: "
               "connected or not, last sync,\nevents we hold that it lacks and the reverse.\n");
        return CLI_OK;
    }
    if (argc > 2 || (argc == 2 && !json))
        return cli_error(CLI_USAGE, "usage: lernet peers [--json]");
    req = json_pack("{s:s}", "cmd", "peers");
    int rc = control_request(ctx->home, req, &reply, CONTROL_TIMEOUT_MS);
    json_decref(req);
    if (rc != CONTROL_OK)
        return cli_error(CLI_FAIL, "peers: no daemon is running for %s (start 'lernet run')",
                         ctx->home);
    json_t *peers = json_object_get(reply, "peers");
    if (json) {
        json_dumpf(peers, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        printf("%-28s %-10s %-9s %-14s %8s %8s\n", "PARTNER", "CONNECTED", "STATE", "LAST SYNC",
               "WE LACK", "IT LACKS");
        json_array_foreach(peers, i, peer) {
            char buf[32];
            cli_print_col(json_string_value(json_object_get(peer, "name")), 28);
            printf(" %-10s %-9s %-14s %8lld %8lld\n",
                   json_is_true(json_object_get(peer, "connected")) ? "yes" : "no",
                   json_string_value(json_object_get(peer, "state")),
                   ago(json_object_get(peer, "last_sync_ago_ms"), buf, sizeof buf),
                   json_integer_value(json_object_get(peer, "we_lack")),
                   json_integer_value(json_object_get(peer, "they_lack")));
            json_t *err = json_object_get(peer, "last_error");
            if (err)
                printf("    last error: %s\n", json_string_value(err));
        }
    }
    json_decref(reply);
    return CLI_OK;
}
