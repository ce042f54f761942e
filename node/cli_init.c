/*
 * cli_init: commands that set up and inspect a node home:
 * `lernet init` and `lernet config check` (keys: cli_keys.c).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "keystore.h"

static const char init_usage[] =
    "usage: lernet init [--name ORG] [--country CC] [--municipality NAME] [--network NET]\n"
    "                   [--listen ENDPOINT] [--web HOST:PORT|off]\n"
    "                   [--no-passphrase | --passphrase-file FILE]\n"
    "Creates the node home: an Ed25519 identity (keys/identity.key, encrypted with a\n"
    "passphrase unless --no-passphrase), a commented lernet.ini and an empty store.\n"
    "The passphrase comes from $LERNET_PASSPHRASE, --passphrase-file or the terminal.\n"
    "--web: where the node's web page listens (default " CONFIG_WEB_DEFAULT ").\n";

/* mkdir -p with mode for the last component; parents get 0755. */
static int make_dirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

typedef struct init_opts {
    const char *name, *country, *municipality, *network, *listen, *pass_file, *web;
    int no_pass;
} init_opts_t;

static int parse_init(int argc, char **argv, init_opts_t *o)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'},      {"country", required_argument, 0, 'c'},
        {"municipality", required_argument, 0, 'm'}, {"network", required_argument, 0, 'N'},
        {"listen", required_argument, 0, 'l'},    {"no-passphrase", no_argument, 0, 'P'},
        {"passphrase-file", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'},
        {"web", required_argument, 0, 'w'},
        {0, 0, 0, 0}};
    int c;
    *o = (init_opts_t){"lernet node", "SE", "", "lernet-demo", "tcp://127.0.0.1:7400", NULL,
                       NULL, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'c': o->country = optarg; break;
        case 'm': o->municipality = optarg; break;
        case 'N': o->network = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'P': o->no_pass = 1; break;
        case 'f': o->pass_file = optarg; break;
        case 'w': o->web = optarg; break;
        case 'h': fputs(init_usage, stdout); return -1;
        default: fputs(init_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind != argc)
        return cli_error(CLI_USAGE, "init: unexpected argument '%s'", argv[optind]);
    return CLI_OK;
}

static int write_identity(cli_ctx_t *ctx, const init_opts_t *o, keys_identity_t *k)
{
    char why[512] = "", *pass = NULL;
    int code = CLI_OK;
    if (!o->no_pass && !(pass = cli_passphrase(o->pass_file, 1, &code)))
        return code;
    int rc = keystore_save(cli_home_path(ctx, "keys"), k, pass, why, sizeof why);
    cli_passphrase_free(pass);
    if (rc != KEYSTORE_OK)
        return cli_error(CLI_KEYS, "%s", why[0] ? why : keystore_strerror(rc));
    return CLI_OK;
}

int cli_init(cli_ctx_t *ctx, int argc, char **argv)
{
    init_opts_t o;
    char why[512] = "", pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    keys_identity_t *k = NULL;
    store_t *st = NULL;
    struct stat sb;
    int rc = parse_init(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (!event_network_valid(o.network))
        return cli_error(CLI_USAGE, "--network: '%s' is not a network name "
                                    "(a-z, 0-9, '.', '_', '-'; at most 64)", o.network);
    if (stat(cli_home_path(ctx, "lernet.ini"), &sb) == 0 ||
        stat(cli_home_path(ctx, "keys/identity.key"), &sb) == 0)
        return cli_error(CLI_FAIL, "%s is already a node home; refusing to overwrite it",
                         ctx->home);
    if (make_dirs(ctx->home, 0700) != 0)
        return cli_error(CLI_FAIL, "cannot create %s: %s", ctx->home, strerror(errno));
    if (keys_generate(&k) != KEYS_OK)
        return cli_error(CLI_FAIL, "key generation failed");
    if ((rc = write_identity(ctx, &o, k)))
        goto done;
    rc = CLI_FAIL;
    if (config_write_new(cli_home_path(ctx, "lernet.ini"), o.name, o.country, o.municipality,
                         o.listen, o.web, o.network, why, sizeof why) != CONFIG_OK) {
        cli_error(CLI_FAIL, "%s", why);
        goto done;
    }
    if (store_open(&st, cli_home_path(ctx, "store.db"), why, sizeof why) != STORE_OK) {
        cli_error(CLI_FAIL, "store: %s", why);
        goto done;
    }
    keys_pub_encode(pub, keys_public(k));
    keys_fingerprint(fpr, keys_public(k));
    printf("initialised %s\npublic_key  %s\nfingerprint %s\nkey file    %s\n", ctx->home, pub,
           fpr, o.no_pass ? "unencrypted (--no-passphrase)" : "encrypted with passphrase");
    rc = cli_keys_init(ctx, st, k);
done:
    store_close(&st);
    keys_free(&k);
    return rc;
}

static const char config_usage[] = "usage: lernet config check\n"
                                   "Parses and validates lernet.ini; prints the first problem\n"
                                   "as file:line: [section] key: reason.\n";

int cli_config(cli_ctx_t *ctx, int argc, char **argv)
{
    config_t *cfg = NULL;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(config_usage, stdout);
        return CLI_OK;
    }
    if (argc != 2 || strcmp(argv[1], "check") != 0) {
        fputs(config_usage, stderr);
        return CLI_USAGE;
    }
    int rc = cli_load_config(ctx, &cfg);
    if (rc)
        return rc;
    printf("%s: ok (node '%s', %zu network%s, %zu peer%s)\n", cli_home_path(ctx, "lernet.ini"),
           cfg->name, cfg->n_networks, cfg->n_networks == 1 ? "" : "s", cfg->n_peers,
           cfg->n_peers == 1 ? "" : "s");
    config_free(&cfg);
    return CLI_OK;
}
