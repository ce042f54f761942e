/*
 * cli_export: `lernet export ical`: the node's workshops and network
 * meetings as one calendar file (node/ical.c) that Outlook, Google and Apple
 * calendars subscribe to or import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ical.h"

static const char export_usage[] =
    "usage: lernet export ical [--network NET] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                          [--lang sv,en] [--out FILE]\n"
    "ical  workshops and network meetings as an RFC 5545 calendar (stdout or FILE),\n"
    "      in their own time zones, cancelled ones as STATUS:CANCELLED\n";

typedef struct export_opts {
    const char *network, *lang, *out;
    int64_t from, to; /* Unix seconds; 0: open */
} export_opts_t;

static int parse_day(const char *s, int64_t *out, int end_of_day)
{
    struct tm tm = {0};
    const char *e = strptime(s, "%Y-%m-%d", &tm);
    if (!e || *e)
        return -1;
    *out = (int64_t)timegm(&tm) + (end_of_day ? 86400 : 0);
    return 0;
}

static int parse(int argc, char **argv, export_opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return cli_error(CLI_USAGE, "export: '%s' needs a value\n%s", a, export_usage);
        if (strcmp(a, "--network") == 0)
            o->network = v;
        else if (strcmp(a, "--lang") == 0)
            o->lang = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--from") == 0 && parse_day(v, &o->from, 0) == 0)
            ;
        else if (strcmp(a, "--to") == 0 && parse_day(v, &o->to, 1) == 0)
            ;
        else
            return cli_error(CLI_USAGE, "export: '%s %s' is not understood\n%s", a, v,
                             export_usage);
        i++;
    }
    return CLI_OK;
}

typedef struct add_ctx {
    ical_t *cal;
    const export_opts_t *o;
    size_t n;
} add_ctx_t;

static int add_item(void *vctx, const store_item_t *it)
{
    add_ctx_t *c = vctx;
    if (c->o->to && it->start >= c->o->to)
        return 0;
    if (ical_add(c->cal, it) != 0)
        return 1;
    c->n += it->kind != LERNET__KIND__KIND_EXPERIENCE;
    return 0;
}

static int export_ical(cli_ctx_t *ctx, const export_opts_t *o)
{
    store_t *st = NULL;
    ical_t *cal = NULL;
    const char *text;
    size_t len;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    store_query_t q = {.network = o->network, .starts_after = o->from};
    add_ctx_t ac = {NULL, o, 0};
    if (ical_new(&cal, o->lang) != 0 || !(ac.cal = cal) ||
        store_items(st, &q, add_item, &ac) != 0 || ical_finish(cal, &text, &len) != 0) {
        rc = cli_error(CLI_FAIL, "export ical: out of memory or store error");
        goto done;
    }
    FILE *f = o->out ? fopen(o->out, "wb") : stdout;
    if (!f || fwrite(text, 1, len, f) != len || (o->out && fclose(f) != 0)) {
        rc = cli_error(CLI_FAIL, "export ical: cannot write %s", o->out ? o->out : "stdout");
        goto done;
    }
    if (o->out)
        fprintf(stderr, "%zu workshops and meetings written to %s\n", ac.n, o->out);
done:
    ical_free(&cal);
    store_close(&st);
    return rc;
}

int cli_export(cli_ctx_t *ctx, int argc, char **argv)
{
    export_opts_t o;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(export_usage, stdout);
        return CLI_OK;
    }
    if (argc < 2 || strcmp(argv[1], "ical") != 0) {
        fputs(export_usage, stderr);
        return CLI_USAGE;
    }
    int rc = parse(argc, argv, &o);
    return rc ? rc : export_ical(ctx, &o);
}
