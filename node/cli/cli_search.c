/*
 * cli_search: `lernet search QUERY`, the full-text search of the store
 * (store_search: every language's titles and texts, diacritics folded,
 * parts of words found, best first). A table of kind, date, title and
 * snippet, or JSON.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/payload_json.h"
#include "util/text.h"
#include "util/time.h"

static const char search_usage[] =
    "usage: lernet search QUERY [--kind KIND] [--network NET] [--limit N] [--json]\n"
    "Finds items whose title or text, in any language, holds every word of QUERY.\n"
    "Diacritics do not matter (\"larare\" finds \"lärare\", \"koge\" \"Køge\", \"strasse\"\n"
    "\"Straße\"), and a word is found inside a longer one (\"platz\" finds\n"
    "\"Arbeitsplatzlernen\"); words of one or two letters only match themselves.\n"
    "Best matches first, a title counting more than the text. Cancelled items are\n"
    "shown [CANCELLED]; replies and resources a coordinator hid are left out.\n"
    "--kind: workshop, meeting, experience, resource or reply (or the plural).\n"
    "--limit: at most N results (default 20, at most 200). QUERY: at most 256\n"
    "bytes, 16 words; quotes and operators are only text. The snippet marks what\n"
    "matched with [ ]. --json: [{\"id\", \"kind\", \"network\", \"title\", \"lang\",\n"
    "\"snippet\", \"rank\" (bm25, lower is better), \"cancelled\"}].\n";

typedef struct search_ctx {
    int json;
    size_t count;
    json_t *arr;
} search_ctx_t;

/* The snippet with its marks as [ ], on one line (the table's and the
 * JSON's). */
static void plain_snippet(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 4 < len; p++) {
        char c = *p == STORE_SEARCH_MARK_OPEN ? '[' : *p == STORE_SEARCH_MARK_CLOSE ? ']' : *p;
        out[o++] = c == '\n' || c == '\t' || c == '\r' ? ' ' : c;
    }
    out[o] = '\0';
}

static int print_hit(void *vctx, const store_hit_t *h)
{
    search_ctx_t *c = vctx;
    char hex[EVENT_ID_HEX_SIZE], snip[1024], day[16] = "";
    const payload_kind_t *k = payload_kind_of(h->kind);
    event_id_hex(hex, h->id);
    plain_snippet(h->snippet, snip, sizeof snip);
    c->count++;
    if (c->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:b}", "id", hex, "kind",
                              k ? k->name : "?", "network", h->network, "title", h->title,
                              "lang", h->lang, "snippet", snip, "rank", h->rank,
                              "cancelled", h->cancelled);
        if (o)
            json_array_append_new(c->arr, o);
        return 0;
    }
    civil_strftime(h->start ? h->start : h->created_ms / 1000, NULL, "%Y-%m-%d", day, sizeof day);
    if (c->count == 1)
        printf("%-10s  %-10s  %-36s  %s\n", "KIND", "DATE", "TITLE", "SNIPPET");
    printf("%-10s  %-10s  ", k ? k->name : "?", day);
    char title[400];
    snprintf(title, sizeof title, "%s%s", h->cancelled ? "[CANCELLED] " : "",
             h->title[0] ? h->title : "(reply)");
    cli_print_col(title, 36);
    printf("  %s\n          %.16s  %s [%s]\n", snip, hex, h->network, h->lang);
    return 0;
}

static int parse_limit(const char *s, size_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > STORE_SEARCH_MAX_LIMIT)
        return -1;
    *out = (size_t)v;
    return 0;
}

int cli_search(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"kind", required_argument, 0, 'k'},
                                         {"network", required_argument, 0, 'n'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    store_search_t q = {0};
    search_ctx_t sc = {0};
    const payload_kind_t *k;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (!(k = payload_kind_named(optarg)))
                return cli_error(CLI_USAGE, "search: --kind '%s' is not workshop, meeting, "
                                            "experience, resource or reply", optarg);
            q.kind = k->kind;
            break;
        case 'n': q.network = optarg; break;
        case 'l':
            if (parse_limit(optarg, &q.limit))
                return cli_error(CLI_USAGE, "search: --limit must be a number from 1 to %d",
                                 STORE_SEARCH_MAX_LIMIT);
            break;
        case 'j': sc.json = 1; break;
        case 'h': fputs(search_usage, stdout); return CLI_OK;
        default: fputs(search_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(search_usage, stderr);
        return CLI_USAGE;
    }
    q.text = argv[optind];
    store_t *st = NULL;
    char why[256] = "";
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    sc.arr = json_array();
    int src = store_search(st, &q, print_hit, &sc, why, sizeof why);
    if (src == STORE_ERR_INVALID)
        rc = cli_error(CLI_USAGE, "%s", why);
    else if (src != STORE_OK)
        rc = cli_error(CLI_FAIL, "search: %s", why);
    else if (sc.json)
        json_dumpf(sc.arr, stdout, JSON_INDENT(2)), putchar('\n');
    else if (sc.count == 0)
        printf("(nothing found)\n");
    json_decref(sc.arr);
    store_close(&st);
    return rc;
}
