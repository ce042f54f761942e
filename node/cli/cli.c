/*
 * cli: dispatcher and shared helpers for the lernet commands (see cli.h).
 * `lernet --help` is printed from the command table, and each command
 * group's usage from its subcommand table (cli_dispatch), so neither can
 * drift from what runs.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "keys/keystore.h"
#include "util/log.h"
#include "util/text.h"
#include "sync/sync.h"

#define PASSPHRASE_MAX 1024

static const cli_cmd_t commands[] = {
    {"init", cli_init, "create a node home: identity key, config, store"},
    {"keys", cli_keys, "show, list, rotate and revoke the node's keys"},
    {"network", cli_network, "create a managed network, invite, join, list or remove members"},
    {"export", cli_export, "calendar file, JSON or CSV of the items, or a signed-event bundle"},
    {"import", cli_import, "import a signed-event bundle (verified as sync verifies)"},
    {"report", cli_report, "figures for funders: events, organisations, participants by role"},
    {"config", cli_config, "check the configuration file"},
    {"publish", cli_publish, "sign and store a workshop, meeting, experience report, resource "
                             "or reply"},
    {"update", cli_update, "replace the content of one of your workshops or meetings"},
    {"cancel", cli_cancel, "cancel one of your workshops or meetings"},
    {"erase", cli_erase, "take content back: every node drops its text (GDPR Art. 17)"},
    {"hide", cli_hide, "as a coordinator: hide a member's reply or resource (or --undo)"},
    {"list", cli_list, "list workshops, meetings, reports, resources and replies"},
    {"show", cli_show, "show one item with its reports and its thread of replies"},
    {"search", cli_search, "find items by words of their titles and texts, in any language"},
    {"attachment", cli_attachment, "list attached files, or get one that is here"},
    {"log", cli_log, "print the raw signed events (base64), for independent checks"},
    {"verify", cli_verify, "re-check every signature, chain and derived table"},
    {"store", cli_store, "store maintenance: rebuild the derived tables"},
    {"run", cli_run, "run the node daemon: listen, connect to partners, sync"},
    {"peers", cli_peers, "show each partner's connection and sync state (daemon)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: lernet [--home DIR] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'lernet COMMAND --help' explains a command.\n"
               "exit codes: 0 ok, 1 failed, 2 usage, 3 verify found problems,\n"
               "            4 node home missing, 5 key file problem\n"
               "environment: LERNET_HOME (node home), LERNET_PASSPHRASE (key passphrase)\n");
}

/* ---- subcommand tables ------------------------------------------------ */

#define USAGE_WIDTH 79

/* Up to the next blank or newline outside [...]: an option with its value
 * ("[--out FILE]") is not broken over two lines. */
static size_t word_len(const char *p)
{
    size_t len = 0;
    for (int depth = 0; p[len] && p[len] != '\n' && (p[len] != ' ' || depth > 0); len++)
        depth += p[len] == '[' ? 1 : p[len] == ']' ? -1 : 0;
    return len;
}

/* Prints text from column col on, breaking between words before
 * USAGE_WIDTH and where it holds '\n'; each further line is indented to
 * indent. A word longer than a line stands on its own. Ends the line. */
static void put_wrapped(FILE *f, const char *text, size_t col, size_t indent)
{
    bool line_empty = true; /* nothing of text on this line yet */
    for (const char *p = text; *p;) {
        size_t len = word_len(p);
        if (*p == ' ') {
            p++;
        } else if (*p == '\n' || (!line_empty && col + 1 + len > USAGE_WIDTH)) {
            fputc('\n', f);
            col = 0;
            line_empty = true;
            p += *p == '\n';
        } else {
            if (col < indent) /* the indent only before a word: no trailing blanks */
                col += (size_t)fprintf(f, "%*s", (int)(indent - col), "");
            else if (!line_empty)
                col += (size_t)fprintf(f, " ");
            col += fwrite(p, 1, len, f);
            line_empty = false;
            p += len;
        }
    }
    fputc('\n', f);
}

void cli_sub_usage(FILE *f, const char *group, const cli_sub_t *subs, size_t n)
{
    size_t longest = 0;
    for (size_t i = 0, j; i < n; i = j) {
        int start = fprintf(f, "%s lernet %s ", i ? "      " : "usage:", group), col = start;
        for (j = i; j < n && (j == i || (subs[i].args[0] && !strcmp(subs[j].args, subs[i].args)));
             j++)
            col += fprintf(f, "%s%s", j > i ? "|" : "", subs[j].name);
        if (subs[i].args[0]) {
            fputc(' ', f);
            /* further lines under the arguments, unless they start far right */
            put_wrapped(f, subs[i].args, (size_t)col + 1,
                        (size_t)(col + 1 <= 32 ? col + 1 : start + 4));
        } else {
            fputc('\n', f);
        }
    }
    for (size_t i = 0; i < n; i++)
        longest = strlen(subs[i].name) > longest ? strlen(subs[i].name) : longest;
    /* a column for the summaries; a name longer than it runs into it */
    size_t col = longest + 2 <= 12 ? longest + 2 : 9;
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(subs[i].name);
        fprintf(f, "%s%*s", subs[i].name, (int)(len + 2 > col ? 2 : col - len), "");
        put_wrapped(f, subs[i].summary, len + 2 > col ? len + 2 : col, col);
    }
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_dispatch(cli_ctx_t *ctx, const char *group, const cli_sub_t *subs, size_t n, int argc,
                 char **argv)
{
    if ((argc >= 2 && is_help(argv[1])) || (argc >= 3 && is_help(argv[2]))) {
        cli_sub_usage(stdout, group, subs, n);
        return CLI_OK;
    }
    for (size_t i = 0; argc >= 2 && i < n; i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        int rc = subs[i].run(ctx, argc, argv);
        if (rc != CLI_ARGS)
            return rc;
        cli_sub_usage(stderr, group, subs, n);
        return CLI_USAGE;
    }
    if (argc >= 2)
        cli_error(CLI_USAGE, "%s: no subcommand '%s'", group, argv[1]);
    cli_sub_usage(stderr, group, subs, n);
    return CLI_USAGE;
}

int cli_json_flag(int argc, char **argv, int at)
{
    if (argc == at)
        return 0;
    return argc == at + 1 && strcmp(argv[at], "--json") == 0 ? 1 : -1;
}

/* ---- shared helpers --------------------------------------------------- */

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("lernet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void cli_print_col(const char *s, size_t width)
{
    size_t chars = 0;
    if (s)
        fwrite(s, 1, text_utf8_cut(s, width, &chars), stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

const char *cli_home_path(cli_ctx_t *ctx, const char *name)
{
    /* resolve_home keeps home 64 bytes short of PATH_MAX, so this fits */
    if (snprintf(ctx->path, sizeof ctx->path, "%s/%s", ctx->home, name) >= (int)sizeof ctx->path)
        ctx->path[0] = '\0';
    return ctx->path;
}

static int resolve_home(cli_ctx_t *ctx, const char *flag)
{
    const char *env = getenv("LERNET_HOME"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (flag)
        n = snprintf(ctx->home, sizeof ctx->home, "%s", flag);
    else if (env && *env)
        n = snprintf(ctx->home, sizeof ctx->home, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(ctx->home, sizeof ctx->home, "%s/lernet", xdg);
    else if (home && *home)
        n = snprintf(ctx->home, sizeof ctx->home, "%s/.local/share/lernet", home);
    else
        return cli_error(CLI_NOHOME, "no node home: give --home DIR or set LERNET_HOME");
    if (n <= 0 || (size_t)n >= sizeof ctx->home - 64)
        return cli_error(CLI_USAGE, "--home: path too long");
    return CLI_OK;
}

/* Pulls "--home DIR" / "--home=DIR" out of argv wherever it stands, so that
 * commands need not each know it. */
static int take_home_flag(int *argc, char **argv, const char **home)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--home") == 0) {
            if (i + 1 >= *argc)
                return cli_error(CLI_USAGE, "--home needs a directory");
            *home = argv[++i];
        } else if (strncmp(argv[i], "--home=", 7) == 0) {
            *home = argv[i] + 7;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return CLI_OK;
}

static int home_exists(cli_ctx_t *ctx)
{
    struct stat st;
    if (stat(cli_home_path(ctx, "lernet.ini"), &st) != 0)
        return cli_error(CLI_NOHOME, "%s is not a lernet node home (no lernet.ini); run 'lernet init'",
                         ctx->home);
    return CLI_OK;
}

int cli_open_store(cli_ctx_t *ctx, store_t **out)
{
    char why[256] = "";
    int rc = home_exists(ctx);
    if (rc)
        return rc;
    if (store_open(out, cli_home_path(ctx, "store.db"), why, sizeof why) != STORE_OK)
        return cli_error(CLI_FAIL, "store %s: %s", ctx->path, why);
    /* Membership is enforced by the store, from the coordinators the config
     * trusts: every path that writes (daemon, CLI) must see the same. */
    config_t *cfg = NULL;
    if (config_load(&cfg, cli_home_path(ctx, "lernet.ini"), why, sizeof why) == CONFIG_OK) {
        for (size_t i = 0; i < cfg->n_netdefs; i++)
            for (size_t j = 0; j < cfg->netdefs[i].n_coordinators; j++)
                store_trust(*out, cfg->netdefs[i].name, cfg->netdefs[i].coordinators[j]);
        config_free(&cfg);
    }
    return CLI_OK;
}

int cli_load_config(cli_ctx_t *ctx, config_t **out)
{
    char why[512] = "";
    int rc = home_exists(ctx);
    if (rc)
        return rc;
    if (config_load(out, cli_home_path(ctx, "lernet.ini"), why, sizeof why) != CONFIG_OK)
        return cli_error(CLI_FAIL, "%s", why);
    return CLI_OK;
}

int cli_has_signing_key(cli_ctx_t *ctx)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%.*s/" KEYSTORE_SIGNING ".key", PATH_MAX - 1,
             cli_home_path(ctx, "keys"));
    return access(path, F_OK) == 0;
}

int cli_load_transport(cli_ctx_t *ctx, keys_transport_t **out)
{
    char why[512] = "", keydir[PATH_MAX], path[PATH_MAX + 16];
    keys_identity_t *id = NULL;
    snprintf(keydir, sizeof keydir, "%s", cli_home_path(ctx, "keys"));
    snprintf(path, sizeof path, "%.*s/transport.key", PATH_MAX - 1, keydir);
    if (access(path, F_OK) == 0) {
        int rc = keystore_load_transport(keydir, out, why, sizeof why);
        return rc == KEYSTORE_OK ? CLI_OK : cli_error(CLI_KEYS, "%s", why);
    }
    int rc = cli_load_keys(ctx, &id);
    if (rc)
        return rc;
    rc = keys_transport_from_identity(out, id);
    keys_free(&id);
    if (rc != KEYS_OK)
        return cli_error(CLI_KEYS, "transport key: %s", err_text(rc));
    if (keystore_save_transport(keydir, *out, why, sizeof why) != KEYSTORE_OK)
        log_warn("could not keep the transport key: %s", why);
    return CLI_OK;
}

int cli_load_signer(cli_ctx_t *ctx, keys_identity_t **out, uint8_t author[KEYS_PUBLIC_BYTES])
{
    char why[512] = "", keydir[PATH_MAX];
    snprintf(keydir, sizeof keydir, "%s", cli_home_path(ctx, "keys"));
    if (keystore_load_public(keydir, author, why, sizeof why) != KEYSTORE_OK)
        return cli_error(CLI_KEYS, "%s", why);
    if (!cli_has_signing_key(ctx))
        return cli_load_keys(ctx, out);
    int rc = keystore_load_as(keydir, KEYSTORE_SIGNING, NULL, out, why, sizeof why);
    if (rc != KEYSTORE_OK)
        return cli_error(CLI_KEYS, "%s", why[0] ? why : err_text(rc));
    return CLI_OK;
}

int cli_load_keys(cli_ctx_t *ctx, keys_identity_t **out)
{
    char why[512] = "";
    char *pass = NULL;
    int code = CLI_OK;
    const char *dir = cli_home_path(ctx, "keys");
    char keydir[PATH_MAX];
    snprintf(keydir, sizeof keydir, "%s", dir);
    int enc = keystore_is_encrypted(keydir, why, sizeof why);
    if (enc < 0)
        return cli_error(CLI_KEYS, "%s", why);
    if (enc) {
        pass = cli_passphrase(getenv("LERNET_PASSPHRASE_FILE"), 0, &code);
        if (!pass)
            return code;
    }
    int rc = keystore_load(keydir, pass, out, why, sizeof why);
    cli_passphrase_free(pass);
    if (rc != KEYSTORE_OK)
        return cli_error(CLI_KEYS, "%s", why[0] ? why : err_text(rc));
    return CLI_OK;
}

static char *read_tty_line(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct termios old, quiet;
    char *buf = sodium_malloc(PASSPHRASE_MAX);
    size_t n = 0;
    if (!buf || tcgetattr(fd, &old) != 0) {
        close(fd);
        sodium_free(buf);
        return NULL;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
    if (write(fd, prompt, strlen(prompt)) < 0)
        n = 0;
    char c;
    while (n < PASSPHRASE_MAX - 1 && read(fd, &c, 1) == 1 && c != '\n')
        buf[n++] = c;
    buf[n] = '\0';
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0)
        n = 0;
    close(fd);
    return buf;
}

static char *read_pass_file(const char *file, int *code)
{
    char *buf = sodium_malloc(PASSPHRASE_MAX);
    FILE *f = buf ? fopen(file, "r") : NULL;
    if (!f) {
        sodium_free(buf);
        *code = cli_error(CLI_KEYS, "passphrase file %s: %s", file, strerror(errno));
        return NULL;
    }
    size_t n = fread(buf, 1, PASSPHRASE_MAX - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0'; /* the first line is the passphrase */
    return buf;
}

char *cli_passphrase(const char *file, int confirm, int *code)
{
    const char *env = getenv("LERNET_PASSPHRASE");
    char *p = NULL;
    if (env && *env) {
        if (strlen(env) >= PASSPHRASE_MAX || !(p = sodium_malloc(PASSPHRASE_MAX))) {
            *code = cli_error(CLI_KEYS, "LERNET_PASSPHRASE: too long");
            return NULL;
        }
        strcpy(p, env);
    } else if (file && *file) {
        p = read_pass_file(file, code);
        if (!p)
            return NULL;
    } else {
        p = read_tty_line("passphrase for the node key: ");
        if (p && confirm) {
            char *again = read_tty_line("again: ");
            int same = again && strcmp(p, again) == 0;
            cli_passphrase_free(again);
            if (!same) {
                cli_passphrase_free(p);
                *code = cli_error(CLI_KEYS, "passphrases differ");
                return NULL;
            }
        }
        if (!p) {
            *code = cli_error(CLI_KEYS, "the key is encrypted: set LERNET_PASSPHRASE, "
                                        "give --passphrase-file, or run on a terminal");
            return NULL;
        }
    }
    if (!*p) {
        cli_passphrase_free(p);
        *code = cli_error(CLI_KEYS, "empty passphrase (use --no-passphrase to store the key "
                                    "unencrypted)");
        return NULL;
    }
    return p;
}

void cli_passphrase_free(char *p)
{
    if (p)
        sodium_free(p); /* wipes */
}

int cli_main(int argc, char **argv)
{
    cli_ctx_t ctx;
    const char *home = NULL;
    memset(&ctx, 0, sizeof ctx);
    if (keys_init() != KEYS_OK)
        return cli_error(CLI_FAIL, "libsodium failed to initialise");
    log_init(LOG_LVL_WARN, "");
    int rc = take_home_flag(&argc, argv, &home);
    if (rc)
        return rc;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("lernet %s (event format %d, sync protocol %d)\n", LERNET_VERSION, EVENT_VERSION,
               SYNC_PROTOCOL);
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if ((rc = resolve_home(&ctx, home)))
                return rc;
            return commands[i].run(&ctx, argc - 1, argv + 1);
        }
    }
    cli_error(CLI_USAGE, "unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}

