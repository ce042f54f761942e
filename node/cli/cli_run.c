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

/* "0.4 s ago", "12 min ago", "3.1 h ago", "5 d ago"; "never" for null. */
static const char *ago(const json_t *ms, char *buf, size_t n)
{
    if (!json_is_integer(ms))
        return "never";
    double v = (double)json_integer_value(ms);
    if (v < 60000)
        snprintf(buf, n, "%.1f s ago", v / 1000.0);
    else if (v < 3600000)
        snprintf(buf, n, "%.0f min ago", v / 60000.0);
    else if (v < 172800000)
        snprintf(buf, n, "%.1f h ago", v / 3600000.0);
    else
        snprintf(buf, n, "%.0f d ago", v / 86400000.0);
    return buf;
}

static const char *bytes(const json_t *b, char *buf, size_t n)
{
    double v = (double)json_integer_value(b);
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0])
        v /= 1024, u++;
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

/* A count, or "?" while it was never measured (null). */
static const char *count(const json_t *v, char *buf, size_t n)
{
    if (!json_is_integer(v))
        return "?";
    snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    return buf;
}

static void print_peer(const json_t *peer)
{
    char a[32], b[32], c[32], d[32], e[32], f[32];
    const json_t *in_sync = json_object_get(peer, "in_sync");
    const char *ep = json_string_value(json_object_get(peer, "endpoint"));
    cli_print_col(json_string_value(json_object_get(peer, "name")), 28);
    printf(" %-5s %-3s %-7s %-11s %7s %8s %-11s %9s %9s\n",
           json_string_value(json_object_get(peer, "dials")),
           json_is_true(json_object_get(peer, "connected")) ? "yes" : "no",
           json_is_boolean(in_sync) ? (json_is_true(in_sync) ? "yes" : "no") : "?",
           ago(json_object_get(peer, "since_ago_ms"), a, sizeof a),
           count(json_object_get(peer, "we_lack"), b, sizeof b),
           count(json_object_get(peer, "they_lack"), c, sizeof c),
           ago(json_object_get(peer, "as_of_ago_ms"), d, sizeof d),
           bytes(json_object_get(peer, "bytes_sent"), e, sizeof e),
           bytes(json_object_get(peer, "bytes_received"), f, sizeof f));
    printf("    endpoint: %s\n", ep && ep[0] ? ep : "none (it dials this node)");
    const json_t *err = json_object_get(peer, "last_error");
    if (err)
        printf("    last error: %s\n", json_string_value(err));
}

int cli_peers(cli_ctx_t *ctx, int argc, char **argv)
{
    json_t *req, *reply = NULL, *peer;
    size_t i;
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet peers [--json]\n"
               "Asks the running daemon about each partner, as of the last exchange with it\n"
               "(over our connection or its own):\n"
               "  DIALS     who opens the connection: we, they (it has no endpoint here) or "
               "both\n"
               "  UP        connected now (ours is up, or its requests keep coming)\n"
               "  IN SYNC   yes: the last exchange found nothing to exchange; ? not known yet\n"
               "  SINCE     since when IN SYNC has held its value\n"
               "  WE LACK   events it holds that this node lacks, and IT LACKS the reverse,\n"
               "            as of AS OF, less what has been stored or acknowledged since\n"
               "  SENT      bytes sent to it, RECEIVED bytes from it, since the daemon started\n");
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
        printf("%-28s %-5s %-3s %-7s %-11s %7s %8s %-11s %9s %9s\n", "PARTNER", "DIALS", "UP",
               "IN SYNC", "SINCE", "WE LACK", "IT LACKS", "AS OF", "SENT", "RECEIVED");
        json_array_foreach(peers, i, peer)
            print_peer(peer);
        if (!json_array_size(peers))
            printf("(no partners)\n");
    }
    json_decref(reply);
    return CLI_OK;
}
