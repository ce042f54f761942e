/*
 * cli_init: commands that set up and inspect a node home:
 * `lernet init` and `lernet config check` (keys: cli_keys.c).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/fileio.h"
#include "keys/keystore.h"

static const char init_usage[] =
    "usage: lernet init [--name ORG] [--country CC] [--municipality NAME] [--network NET]...\n"
    "                   [--listen ENDPOINT] [--web HOST:PORT|off]\n"
    "                   [--no-passphrase | --passphrase-file FILE]\n"
    "Creates the node home: an Ed25519 identity (keys/identity.key, encrypted with a\n"
    "passphrase unless --no-passphrase), a commented lernet.ini and an empty store.\n"
    "--network may be given several times; the first is the default network.\n"
    "The home is 0700 and every file in it 0600 (identity.pub 0644); an existing\n"
    "directory must be empty or already 0700.\n"
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

/* 1 if dir holds nothing but . and .., 0 if it holds something, -1 on error. */
static int dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    int empty = 1;
    if (!d)
        return -1;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* dir (created if missing) becomes a private directory of ours: 0700. One
 * that others may enter is tightened only while it is empty (fresh, or
 * made by an installer); with anything in it already, the operator
 * decides, so init refuses and says how. */
static int private_dir(const char *dir)
{
    struct stat sb;
    if (make_dirs(dir, 0700) != 0)
        return cli_error(CLI_FAIL, "cannot create %s: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0)
        return cli_error(CLI_FAIL, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cli_error(CLI_FAIL, "%s: not a directory", dir);
    if (sb.st_uid != geteuid())
        return cli_error(CLI_FAIL, "%s: owned by uid %u, not by this user (uid %u); a node home "
                                   "must be the node's own",
                         dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if ((sb.st_mode & 0777) == 0700)
        return CLI_OK;
    int empty = dir_empty(dir);
    if (empty < 0)
        return cli_error(CLI_FAIL, "%s: %s", dir, strerror(errno));
    if (!empty)
        return cli_error(CLI_FAIL, "%s: mode %04o and not empty; a node home must be 0700 "
                                   "(chmod 700 %s, or give an empty directory)",
                         dir, (unsigned)(sb.st_mode & 07777), dir);
    if (chmod(dir, 0700) != 0)
        return cli_error(CLI_FAIL, "%s: cannot make it 0700: %s", dir, strerror(errno));
    return CLI_OK;
}

typedef struct init_opts {
    const char *name, *country, *municipality, *listen, *pass_file, *web;
    const char *networks[CONFIG_MAX_NETWORKS]; /* the first is the default */
    size_t n_networks;
    int no_pass;
} init_opts_t;

static int add_network(init_opts_t *o, const char *net)
{
    if (!event_network_valid(net))
        return cli_error(CLI_USAGE, "--network: '%s' is not a network name "
                                    "(a-z, 0-9, '.', '_', '-'; at most 64)", net);
    for (size_t i = 0; i < o->n_networks; i++)
        if (strcmp(o->networks[i], net) == 0)
            return cli_error(CLI_USAGE, "--network: '%s' given twice", net);
    if (o->n_networks >= CONFIG_MAX_NETWORKS)
        return cli_error(CLI_USAGE, "--network: at most %d networks", CONFIG_MAX_NETWORKS);
    o->networks[o->n_networks++] = net;
    return CLI_OK;
}

static int parse_init(int argc, char **argv, init_opts_t *o)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'},      {"country", required_argument, 0, 'c'},
        {"municipality", required_argument, 0, 'm'}, {"network", required_argument, 0, 'N'},
        {"listen", required_argument, 0, 'l'},    {"no-passphrase", no_argument, 0, 'P'},
        {"passphrase-file", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'},
        {"web", required_argument, 0, 'w'},
        {0, 0, 0, 0}};
    int c, rc;
    *o = (init_opts_t){.name = "lernet node", .country = "SE", .municipality = "",
                       .listen = "tcp://127.0.0.1:7400"};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'c': o->country = optarg; break;
        case 'm': o->municipality = optarg; break;
        case 'N':
            if ((rc = add_network(o, optarg)))
                return rc;
            break;
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
    if (o->n_networks == 0)
        o->networks[o->n_networks++] = "lernet-demo";
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
        return cli_error(CLI_KEYS, "%s", why[0] ? why : err_text(rc));
    return CLI_OK;
}

/* lernet.ini with the first network as the default, then each further one
 * added as `network create` adds one (the same atomic edit). */
static int write_config(cli_ctx_t *ctx, const init_opts_t *o)
{
    char why[512] = "";
    const char *path = cli_home_path(ctx, "lernet.ini");
    if (config_write_new(path, o->name, o->country, o->municipality, o->listen, o->web,
                         o->networks[0], why, sizeof why) != CONFIG_OK)
        return cli_error(CLI_FAIL, "%s", why);
    for (size_t i = 1; i < o->n_networks; i++)
        if (config_edit(path, o->networks[i], NULL, why, sizeof why) != CONFIG_OK)
            return cli_error(CLI_FAIL, "%s", why);
    return CLI_OK;
}

/* An empty store.db of our own making, 0600, before SQLite opens it: SQLite
 * would create it 0644 (less the umask), and gives its -wal and -shm files
 * the database file's mode. */
static int create_store(cli_ctx_t *ctx, store_t **st)
{
    char why[512] = "";
    const char *path = cli_home_path(ctx, "store.db");
    if (fileio_write_atomic(path, "", 0, 0600, FILEIO_NOREPLACE, why, sizeof why) != FILEIO_OK)
        return cli_error(CLI_FAIL, "store: %s", why);
    if (store_open(st, path, why, sizeof why) != STORE_OK)
        return cli_error(CLI_FAIL, "store: %s", why);
    return CLI_OK;
}

int cli_init(cli_ctx_t *ctx, int argc, char **argv)
{
    init_opts_t o;
    char pub[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    keys_identity_t *k = NULL;
    store_t *st = NULL;
    struct stat sb;
    int rc = parse_init(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (stat(cli_home_path(ctx, "lernet.ini"), &sb) == 0 ||
        stat(cli_home_path(ctx, "keys/identity.key"), &sb) == 0 ||
        lstat(cli_home_path(ctx, "store.db"), &sb) == 0)
        return cli_error(CLI_FAIL, "%s is already a node home; refusing to overwrite it",
                         ctx->home);
    if ((rc = private_dir(ctx->home)) || (rc = private_dir(cli_home_path(ctx, "keys"))))
        return rc;
    if (keys_generate(&k) != KEYS_OK)
        return cli_error(CLI_FAIL, "key generation failed");
    if ((rc = write_identity(ctx, &o, k)) || (rc = write_config(ctx, &o)) ||
        (rc = create_store(ctx, &st)))
        goto done;
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

static int run_check(cli_ctx_t *ctx, int argc, char **argv)
{
    config_t *cfg = NULL;
    (void)argv;
    if (argc != 2)
        return CLI_ARGS;
    int rc = cli_load_config(ctx, &cfg);
    if (rc)
        return rc;
    printf("%s: ok (node '%s', %zu network%s, %zu peer%s)\n", cli_home_path(ctx, "lernet.ini"),
           cfg->name, cfg->n_networks, cfg->n_networks == 1 ? "" : "s", cfg->n_peers,
           cfg->n_peers == 1 ? "" : "s");
    config_free(&cfg);
    return CLI_OK;
}

static const cli_sub_t config_subs[] = {
    {"check", "", run_check,
     "parse and validate lernet.ini; print the first problem as file:line: [section] key: "
     "reason"},
};

int cli_config(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "config", config_subs, sizeof config_subs / sizeof config_subs[0],
                        argc, argv);
}
