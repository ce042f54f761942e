/*
 * cli_attach: `lernet attachment list` and `lernet attachment get HASH
 * --out FILE`: the files that resources and replies list, and whether this
 * node holds them yet (home/attachments/, store/attach.h). Fetching them
 * from partners is the transfer's (sync/xfer.c, in the daemon): list shows
 * a file on its way by its .part, and get asks the running daemon to
 * fetch a file not here yet before any other, says so and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/payload_json.h"
#include "daemon/control.h"
#include "store/attach.h"
#include "util/text.h"

typedef struct att_ctx {
    const char *home;
    int json;
    json_t *arr;
    size_t n;
    /* get: the hash (or prefix) asked for, and the one file it names */
    const char *want;
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    char name[EVENT_MAX_FILE_NAME + 1];
    int found, ambiguous;
} att_ctx_t;

static void files_of(const store_item_t *it, Lernet__Attachment ***a, size_t *n)
{
    *a = it->resource ? it->resource->attachments : it->reply ? it->reply->attachments : NULL;
    *n = it->resource ? it->resource->n_attachments : it->reply ? it->reply->n_attachments : 0;
}

static int list_one(void *vctx, const store_item_t *it)
{
    att_ctx_t *c = vctx;
    Lernet__Attachment **a;
    size_t n;
    char hex[ATTACH_HEX_SIZE], id[EVENT_ID_HEX_SIZE];
    files_of(it, &a, &n);
    event_id_hex(id, it->id);
    for (size_t i = 0; i < n; i++) {
        int present = attach_present(c->home, a[i]->hash.data, a[i]->size);
        uint64_t part = 0;
        int fetching = !present && attach_part_bytes(c->home, a[i]->hash.data, &part) == ATTACH_OK;
        char state[64];
        if (present)
            snprintf(state, sizeof state, "here");
        else if (fetching)
            snprintf(state, sizeof state, "fetching (%llu bytes so far)", (unsigned long long)part);
        else
            snprintf(state, sizeof state, "not yet here");
        text_hex(hex, a[i]->hash.data, EVENT_HASH_BYTES);
        c->n++;
        if (c->json) {
            json_t *o = payload_attachment_json(a[i]);
            json_object_set_new(o, "present", json_boolean(present));
            json_object_set_new(o, "state", json_string(present    ? "present"
                                                        : fetching ? "fetching"
                                                                   : "absent"));
            if (fetching)
                json_object_set_new(o, "bytes_so_far", json_integer((json_int_t)part));
            json_object_set_new(o, "item", json_string(id));
            json_object_set_new(o, "network", json_string(it->network));
            json_array_append_new(c->arr, o);
        } else {
            printf("%.16s  %10llu  %-12s  %-8s %.12s  %s\n", hex,
                   (unsigned long long)a[i]->size, state,
                   event_kind_name(it->kind), id, a[i]->name);
        }
    }
    return 0;
}

static int run_list(cli_ctx_t *ctx, int argc, char **argv)
{
    att_ctx_t c = {.home = ctx->home};
    store_t *st = NULL;
    if ((c.json = cli_json_flag(argc, argv, 2)) < 0)
        return CLI_ARGS;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    c.arr = json_array();
    store_query_t q = {0};
    if (store_items(st, &q, list_one, &c) != STORE_OK)
        rc = cli_error(CLI_FAIL, "attachment list: store query failed");
    else if (c.json)
        json_dumpf(c.arr, stdout, JSON_INDENT(2)), putchar('\n');
    else if (!c.n)
        printf("(no attachments yet)\n");
    json_decref(c.arr);
    store_close(&st);
    return rc;
}

static int find_one(void *vctx, const store_item_t *it)
{
    att_ctx_t *c = vctx;
    Lernet__Attachment **a;
    size_t n;
    char hex[ATTACH_HEX_SIZE];
    files_of(it, &a, &n);
    for (size_t i = 0; i < n; i++) {
        text_hex(hex, a[i]->hash.data, EVENT_HASH_BYTES);
        if (strncmp(hex, c->want, strlen(c->want)) != 0)
            continue;
        if (c->found && memcmp(c->hash, a[i]->hash.data, EVENT_HASH_BYTES) != 0)
            c->ambiguous = 1;
        c->found = 1;
        memcpy(c->hash, a[i]->hash.data, EVENT_HASH_BYTES);
        c->size = a[i]->size;
        snprintf(c->name, sizeof c->name, "%s", a[i]->name);
    }
    return 0;
}

/* The file is not here: the running daemon is asked to fetch it first.
 * Exit 1 either way (it is not here now), with what the daemon said: on
 * its way, or refused by a limit of this node (named). */
static int ask_daemon(cli_ctx_t *ctx, const att_ctx_t *c)
{
    char hex[ATTACH_HEX_SIZE];
    uint64_t part = 0;
    json_t *reply = NULL;
    text_hex(hex, c->hash, EVENT_HASH_BYTES);
    json_t *req = json_pack("{s:s,s:s}", "cmd", "attachment-fetch", "hash", hex);
    int rc = req ? control_request(ctx->home, req, &reply, CONTROL_TIMEOUT_MS) : CONTROL_ERR_SOCKET;
    json_decref(req);
    if (rc != CONTROL_OK) {
        json_decref(reply);
        return cli_error(CLI_FAIL, "attachment get: %s (%s) is not yet here, and no daemon runs "
                                   "to fetch it (start lernet run)", c->name, c->want);
    }
    const char *reason = json_string_value(json_object_get(reply, "reason"));
    const char *err = json_string_value(json_object_get(reply, "error"));
    if (!json_is_true(json_object_get(reply, "ok"))) {
        rc = cli_error(CLI_FAIL, "attachment get: %s (%s) is not fetched: %s", c->name, c->want,
                       err ? err : reason ? reason : "the daemon refused");
        json_decref(reply);
        return rc;
    }
    const char *state = json_string_value(json_object_get(reply, "state"));
    int here = state && strcmp(state, "here") == 0;
    json_decref(reply);
    if (here) /* it came meanwhile */
        return cli_error(CLI_FAIL, "attachment get: %s has just arrived; run the command again",
                         c->name);
    if (attach_part_bytes(ctx->home, c->hash, &part) == ATTACH_OK && part > 0)
        return cli_error(CLI_FAIL, "attachment get: %s (%s) is not yet here: it is on its way "
                                   "(%llu of %llu bytes); run the command again later",
                         c->name, c->want, (unsigned long long)part, (unsigned long long)c->size);
    return cli_error(CLI_FAIL, "attachment get: %s (%s) is not yet here: it is on its way from "
                               "partners that hold it; run the command again later",
                     c->name, c->want);
}

static int run_get(cli_ctx_t *ctx, int argc, char **argv)
{
    att_ctx_t c = {.home = ctx->home};
    store_t *st = NULL;
    char why[512] = "";
    if (argc != 5 || strcmp(argv[3], "--out") != 0)
        return CLI_ARGS;
    c.want = argv[2];
    size_t len = strlen(c.want);
    if (len < 8 || len > 2 * EVENT_HASH_BYTES || text_hex_span(c.want) != len)
        return cli_error(CLI_USAGE, "attachment get: '%.70s' is not a hash (at least 8 hex "
                                    "digits)", c.want);
    for (char *p = argv[2]; *p; p++) /* list and show print lower case */
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    store_query_t q = {0};
    store_items(st, &q, find_one, &c);
    store_close(&st);
    if (!c.found)
        return cli_error(CLI_FAIL, "attachment get: no resource or reply here lists %s", c.want);
    if (c.ambiguous)
        return cli_error(CLI_FAIL, "attachment get: %s names several files; give more digits",
                         c.want);
    rc = attach_export(ctx->home, c.hash, c.size, argv[4], why, sizeof why);
    if (rc == ATTACH_ERR_ABSENT)
        return ask_daemon(ctx, &c);
    if (rc != ATTACH_OK)
        return cli_error(CLI_FAIL, "attachment get: %s", why);
    printf("%s: %llu bytes, hash checked, written to %s\n", c.name,
           (unsigned long long)c.size, argv[4]);
    return CLI_OK;
}

static const cli_sub_t attach_subs[] = {
    {"list", "[--json]", run_list,
     "every file the resources and replies held here list: hash, size, whether it is here "
     "(in the node home's attachments/) or not yet, the item, the name"},
    {"get", "HASH --out FILE", run_get,
     "writes the file whose BLAKE2b-256 hash starts with HASH (at least 8 hex digits) to FILE, "
     "after checking its bytes against the signed hash; while it is not yet here, asks the "
     "running daemon to fetch it first and exits 1"},
};

int cli_attachment(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "attachment", attach_subs, sizeof attach_subs / sizeof attach_subs[0],
                        argc, argv);
}
