/*
 * cli_export: `lernet export ical|json|csv|xapi|bundle` and `lernet import
 * bundle`: the calendar file (node/ical.c), the derived view for
 * spreadsheets and scripts, xAPI statements (node/xapi.c), and signed-event
 * bundles for sites that can only exchange files (node/bundle.c). The
 * formats and bundle are one table (export_subs), which dispatch and the
 * help come from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/atom.h"
#include "export/bundle.h"
#include "cli/cli.h"
#include "export/erased.h"
#include "util/fileio.h"
#include "export/report.h"
#include "export/ical.h"
#include "core/payload_json.h"
#include "util/time.h"
#include "export/xapi.h"

#define CSV_COLUMNS                                                                             \
    "id,kind,network,author,organiser,title,start,end,tz,place,online_url,themes,cancelled,"     \
    "revision,about,participants,created,updated,erased"

typedef struct export_opts {
    const char *network, *lang, *out, *base;
    int64_t from, to; /* local days as civil_day_parse gives them; 0: open */
    int excel;        /* csv-excel: UTF-8 BOM and CRLF */
} export_opts_t;

/* The zone of a workshop or meeting, NULL for the rest. */
static const char *item_tz(const store_item_t *it)
{
    return it->workshop ? it->workshop->tz : it->meeting ? it->meeting->tz : NULL;
}

/* The one period rule (civil_in_period): a dated item is in the period
 * when it overlaps its local days; undated ones (reports, resources,
 * replies) are always in. */
static int in_period(const export_opts_t *o, const store_item_t *it)
{
    return !it->start || civil_in_period(o->from, o->to, it->start, it->end, item_tz(it));
}

/* What store_query's starts_after (end >= it, in UTC) may leave out for a
 * period from local day `from`: a zone is at most 14 hours ahead of UTC,
 * so a day earlier loses nothing; in_period decides exactly. */
static int64_t query_from(int64_t from)
{
    return from ? from - 86400 : 0;
}

static int parse(int argc, char **argv, export_opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return cli_error(CLI_ARGS, "export: '%s' needs a value", a);
        if (strcmp(a, "--network") == 0)
            o->network = v;
        else if (strcmp(a, "--lang") == 0)
            o->lang = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--base") == 0 && (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8)))
            o->base = v;
        else if (strcmp(a, "--from") == 0 && civil_day_parse(v, &o->from, 0) == 0)
            ;
        else if (strcmp(a, "--to") == 0 && civil_day_parse(v, &o->to, 1) == 0)
            ;
        else
            return cli_error(CLI_ARGS, "export: '%s %s' is not understood", a, v);
    }
    return CLI_OK;
}

/* Where an export goes: stdout, or --out FILE through the node's one
 * atomic writer (node/fileio.h), so FILE is the whole export or what it
 * was before, and a symlink planted in a shared directory is replaced,
 * never followed. Mode 0644 less the umask: a calendar feed is for others
 * to read. End with dest_commit or dest_abort. */
typedef struct dest {
    fileio_t *fio; /* NULL: stdout */
    FILE *f;
} dest_t;

static int dest_open(const export_opts_t *o, dest_t *d, const char *what)
{
    char why[512] = "";
    d->fio = NULL;
    d->f = stdout;
    if (!o->out)
        return CLI_OK;
    if (fileio_open(&d->fio, o->out, 0644, FILEIO_UMASK, why, sizeof why) != FILEIO_OK)
        return cli_error(CLI_FAIL, "export %s: %s", what, why);
    d->f = fileio_stream(d->fio);
    return CLI_OK;
}

static void dest_abort(dest_t *d)
{
    fileio_abort(&d->fio);
}

static int dest_commit(dest_t *d, const char *what)
{
    char why[512] = "";
    if (!d->fio)
        return fflush(stdout) != 0 || ferror(stdout)
                   ? cli_error(CLI_FAIL, "export %s: cannot write stdout", what)
                   : CLI_OK;
    if (fileio_commit(&d->fio, why, sizeof why) != FILEIO_OK)
        return cli_error(CLI_FAIL, "export %s: %s", what, why);
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
    if (!in_period(c->o, it))
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
    config_t *cfg = NULL;
    const char *text;
    size_t len;
    int rc = cli_load_config(ctx, &cfg);
    if (rc || (rc = cli_open_store(ctx, &st))) {
        config_free(&cfg);
        return rc;
    }
    store_query_t q = {.network = o->network, .starts_after = query_from(o->from)};
    add_ctx_t ac = {NULL, o, 0};
    /* the name a subscriber sees: the network, else this node's name */
    if (ical_new(&cal, o->lang) != 0 || !(ac.cal = cal) ||
        ical_set_name(cal, o->network ? o->network : cfg->name) != 0 ||
        store_items(st, &q, add_item, &ac) != 0 || ical_finish(cal, &text, &len) != 0) {
        rc = cli_error(CLI_FAIL, "export ical: out of memory or store error");
        goto done;
    }
    dest_t d;
    if ((rc = dest_open(o, &d, "ical")))
        goto done;
    fwrite(text, 1, len, d.f); /* a short write is an error on the stream: see dest_commit */
    if ((rc = dest_commit(&d, "ical")))
        goto done;
    if (o->out)
        fprintf(stderr, "%zu workshops and meetings written to %s\n", ac.n, o->out);
done:
    ical_free(&cal);
    store_close(&st);
    config_free(&cfg);
    return rc;
}

/* A CSV field after the first: the comma, then the field. */
static void csv_field(FILE *f, const char *s)
{
    fputc(',', f);
    report_csv_field(f, s);
}

typedef struct rows_ctx {
    const export_opts_t *o;
    FILE *f;
    json_t *arr;
    size_t n;
} rows_ctx_t;

static void iso(char out[32], int64_t t, const char *tz)
{
    if (t)
        civil_format(t, tz, out, 32);
    else
        out[0] = '\0';
}

static int csv_row(const store_item_t *it, const export_opts_t *o, FILE *f)
{
    char id[EVENT_ID_HEX_SIZE], author[KEYS_PUB_STR_SIZE], start[32], end[32], about[65] = "",
         created[32], updated[32], num[32];
    const Lernet__Workshop *w = it->workshop;
    const Lernet__Meeting *m = it->meeting;
    const Lernet__Experience *x = it->experience;
    const Lernet__Resource *r = it->resource;
    const char *tz = w ? w->tz : m ? m->tz : NULL;
    char themes[EVENT_MAX_TAGS * (EVENT_MAX_SHORT + 1)] = "";
    const Lernet__Goal *g = it->goal;
    char **tv = w ? w->themes : m ? m->themes : x ? x->tags : r ? r->themes : g ? g->themes : NULL;
    size_t tn = w   ? w->n_themes
                : m ? m->n_themes
                : x ? x->n_tags
                : r ? r->n_themes
                : g ? g->n_themes
                    : 0;
    static const uint8_t zero[EVENT_ID_BYTES];
    for (size_t i = 0; i < tn; i++)
        snprintf(themes + strlen(themes), sizeof themes - strlen(themes), "%s%s", i ? ";" : "",
                 tv[i]);
    uint64_t people = 0;
    for (size_t i = 0; x && i < x->n_participants; i++)
        people += x->participants[i]->count;
    event_id_hex(id, it->id);
    keys_pub_encode(author, it->author);
    iso(start, w ? w->start : m ? m->start : 0, tz);
    iso(end, w ? w->end : m ? m->end : 0, tz);
    iso(created, it->created_ms / 1000, NULL);
    iso(updated, it->updated_ms / 1000, NULL);
    if (x || it->reply || it->feedback || (r && memcmp(it->about, zero, sizeof zero)))
        event_id_hex(about, it->about);
    fputs(id, f);
    csv_field(f, event_kind_name(it->kind));
    csv_field(f, it->network);
    fprintf(f, ",%s", author); /* base64 of our own making: no quoting, no formula guard */
    csv_field(f, w ? w->organiser : m ? m->organiser : "");
    csv_field(f, cli_item_title(it, o->lang ? o->lang : "en,sv,da,de,fi"));
    csv_field(f, start);
    csv_field(f, end);
    csv_field(f, tz ? tz : "");
    csv_field(f, w ? w->place : m ? m->place : "");
    csv_field(f, w ? w->online_url : m ? m->online_url : r && r->n_urls ? r->urls[0] : "");
    csv_field(f, themes);
    csv_field(f, it->cancelled ? "yes" : "no");
    snprintf(num, sizeof num, "%u", it->revision);
    csv_field(f, num);
    csv_field(f, about);
    snprintf(num, sizeof num, "%llu", (unsigned long long)people);
    csv_field(f, x ? num : "");
    csv_field(f, created);
    csv_field(f, updated);
    char gone[400];
    csv_field(f, it->erased ? erased_text(it, gone, sizeof gone) : "");
    return fputs(o->excel ? "\r\n" : "\n", f) == EOF;
}

static int add_row(void *vctx, const store_item_t *it)
{
    rows_ctx_t *c = vctx;
    if (!in_period(c->o, it))
        return 0;
    c->n++;
    if (c->arr)
        return json_array_append_new(c->arr, cli_item_json(it)) != 0;
    return csv_row(it, c->o, c->f);
}

/* json or csv of the derived view, filtered like ical. */
static int export_rows(cli_ctx_t *ctx, const export_opts_t *o, int json)
{
    store_t *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    const char *what = json ? "json" : o->excel ? "csv-excel" : "csv";
    dest_t d;
    if ((rc = dest_open(o, &d, what))) {
        store_close(&st);
        return rc;
    }
    rows_ctx_t c = {o, d.f, json ? json_array() : NULL, 0};
    if (!json)
        fputs(o->excel ? REPORT_EXCEL_BOM CSV_COLUMNS "\r\n" : CSV_COLUMNS "\n", d.f);
    store_query_t q = {.network = o->network};
    if (store_items(st, &q, add_row, &c) != 0)
        rc = cli_error(CLI_FAIL, "export %s: store error", what);
    if (json && rc == CLI_OK && json_dumpf(c.arr, d.f, JSON_INDENT(2)) != 0)
        rc = cli_error(CLI_FAIL, "export json: cannot write %s", o->out ? o->out : "stdout");
    if (json && rc == CLI_OK)
        fputc('\n', d.f);
    json_decref(c.arr);
    if (rc == CLI_OK)
        rc = dest_commit(&d, what);
    else
        dest_abort(&d);
    if (o->out && rc == CLI_OK)
        fprintf(stderr, "%zu items written to %s\n", c.n, o->out);
    store_close(&st);
    return rc;
}

typedef struct xapi_ctx {
    store_t *st;
    const export_opts_t *o;
    json_t *arr;
    const store_item_t *report;
    int failed;
} xapi_ctx_t;

/* A report's statements are in the period when the activity it is about
 * is: the one period rule of every export. */
static int xapi_about(void *vctx, const store_item_t *about)
{
    xapi_ctx_t *c = vctx;
    if (in_period(c->o, about))
        c->failed |= xapi_statements(c->arr, c->report, about) != 0;
    return 0;
}

static int xapi_report(void *vctx, const store_item_t *it)
{
    xapi_ctx_t *c = vctx;
    char hex[EVENT_ID_HEX_SIZE];
    if (it->kind != LERNET__KIND__KIND_EXPERIENCE)
        return 0;
    c->report = it;
    event_id_hex(hex, it->about);
    store_item(c->st, hex, xapi_about, c, NULL, 0); /* reports about unknown events: skipped */
    return c->failed;
}

static int export_xapi(cli_ctx_t *ctx, const export_opts_t *o)
{
    store_t *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    xapi_ctx_t c = {st, o, json_array(), NULL, 0};
    store_query_t q = {.network = o->network, .kind = LERNET__KIND__KIND_EXPERIENCE};
    dest_t d;
    if (store_items(st, &q, xapi_report, &c) != 0 || c.failed)
        rc = cli_error(CLI_FAIL, "export xapi: out of memory or store error");
    else if ((rc = dest_open(o, &d, "xapi")))
        ;
    else if (json_dumpf(c.arr, d.f, JSON_INDENT(2)) != 0 || fputc('\n', d.f) == EOF) {
        dest_abort(&d);
        rc = cli_error(CLI_FAIL, "export xapi: cannot write %s", o->out ? o->out : "stdout");
    } else if ((rc = dest_commit(&d, "xapi")))
        ;
    else if (o->out)
        fprintf(stderr, "%zu statements written to %s\n", json_array_size(c.arr), o->out);
    json_decref(c.arr);
    store_close(&st);
    return rc;
}

/* The Atom feed of resources and experience reports (export/atom.h). */
static int export_atom(cli_ctx_t *ctx, const export_opts_t *o)
{
    store_t *st = NULL;
    config_t *cfg = NULL;
    char base[64], self[600];
    int rc = cli_load_config(ctx, &cfg);
    if (rc || (rc = cli_open_store(ctx, &st))) {
        config_free(&cfg);
        return rc;
    }
    if (o->base)
        snprintf(base, sizeof base, "%.63s", o->base);
    else if (strcmp(cfg->web, "off") != 0)
        snprintf(base, sizeof base, "http://%s", cfg->web);
    else
        snprintf(base, sizeof base, "http://localhost");
    snprintf(self, sizeof self, "%s/feed.atom%s%s", base, o->network ? "?network=" : "",
             o->network ? o->network : "");
    atom_opts_t ao = {o->network, base, self, cfg->name, o->lang ? o->lang : "en,sv,da,de,fi"};
    dest_t d;
    if ((rc = dest_open(o, &d, "atom")))
        goto done;
    if (atom_write(d.f, st, &ao) != 0) {
        dest_abort(&d);
        rc = cli_error(CLI_FAIL, "export atom: out of memory or store error");
    } else {
        rc = dest_commit(&d, "atom");
    }
done:
    store_close(&st);
    config_free(&cfg);
    return rc;
}

static int bundle_cmd(cli_ctx_t *ctx, int import, const char *path, const char *network)
{
    store_t *st = NULL;
    config_t *cfg = NULL;
    char why[512] = "";
    bundle_stats_t bs = {0};
    int rc = cli_open_store(ctx, &st);
    if (rc || (import && (rc = cli_load_config(ctx, &cfg)))) {
        store_close(&st);
        return rc;
    }
    if (import ? bundle_import(st, cfg, path, &bs, why, sizeof why)
               : bundle_export(st, network, path, &bs, why, sizeof why))
        rc = cli_error(CLI_FAIL, "%s bundle: %s", import ? "import" : "export", why);
    else if (import)
        printf("%zu events in %s: %zu stored, %zu already here, %zu held for a gap, %zu refused\n",
               bs.events, path, bs.applied, bs.duplicates, bs.held, bs.refused);
    else
        printf("%zu signed events from %zu logs written to %s\n", bs.events, bs.logs, path);
    config_free(&cfg);
    store_close(&st);
    return rc;
}

static int export_json(cli_ctx_t *ctx, const export_opts_t *o)
{
    return export_rows(ctx, o, 1);
}

static int export_csv(cli_ctx_t *ctx, const export_opts_t *o)
{
    return export_rows(ctx, o, 0);
}

static int export_csv_excel(cli_ctx_t *ctx, const export_opts_t *o)
{
    export_opts_t x = *o;
    x.excel = 1;
    return export_rows(ctx, &x, 0);
}

/* `lernet export FORMAT [options]`: the options, then the format. */
static int run_format(cli_ctx_t *ctx, int argc, char **argv,
                      int (*format)(cli_ctx_t *ctx, const export_opts_t *o))
{
    export_opts_t o;
    int rc = parse(argc, argv, &o);
    return rc ? rc : format(ctx, &o);
}

static int run_ical(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_ical);
}

static int run_json(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_json);
}

static int run_csv(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_csv);
}

static int run_csv_excel(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_csv_excel);
}

static int run_xapi(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_xapi);
}

static int run_atom(cli_ctx_t *ctx, int argc, char **argv)
{
    return run_format(ctx, argc, argv, export_atom);
}

static int run_export_bundle(cli_ctx_t *ctx, int argc, char **argv)
{
    if (argc == 3)
        return bundle_cmd(ctx, 0, argv[2], NULL);
    if (argc == 5 && strcmp(argv[3], "--network") == 0)
        return bundle_cmd(ctx, 0, argv[2], argv[4]);
    return CLI_ARGS;
}

static int run_import_bundle(cli_ctx_t *ctx, int argc, char **argv)
{
    return argc == 3 ? bundle_cmd(ctx, 1, argv[2], NULL) : CLI_ARGS;
}

/* --from/--to are local days: an item is in the period when it overlaps
 * them in its own zone (util/time's civil_in_period). */
#define EXPORT_OPTS "[--network NET] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--lang sv,en] [--out FILE]"

/* The formats of `lernet export FORMAT`, in the order of the help, which
 * is printed from here; tests/net/test_matrix.c reads every item back
 * through each. bundle, the signed events themselves, is last: it is no
 * format of the items (cli_export_format_at leaves it out). */
static const cli_sub_t export_subs[] = {
    {"ical", EXPORT_OPTS, run_ical,
     "workshops and network meetings as an RFC 5545 calendar (stdout or FILE), in their own "
     "time zones, cancelled ones as STATUS:CANCELLED"},
    {"json", EXPORT_OPTS, run_json,
     "every workshop, meeting, experience report, resource and reply as `list --json` shows "
     "it"},
    {"csv", EXPORT_OPTS, run_csv,
     "the same, one row each; columns:\n" CSV_COLUMNS
     "\n(a reply's title is its text, a resource's online_url its first URL; text starting "
     "with = + - @ gets a leading ' so spreadsheets never run it); lines end in LF"},
    {"csv-excel", EXPORT_OPTS, run_csv_excel,
     "the same CSV for Excel: a UTF-8 byte order mark (so å, ä, ö open right) and CRLF line "
     "ends (RFC 4180)"},
    {"xapi", EXPORT_OPTS, run_xapi,
     "experience reports and participation as xAPI statements (JSON array) for a learning "
     "record store; the actor is the organisation, never a person"},
    {"atom", "[--network NET] [--lang sv,en] [--base URL] [--out FILE]", run_atom,
     "an Atom 1.0 feed of the newest resources and experience reports (of one network, or "
     "all), for feed readers; entries link BASE/event/ID (default: this node's web page)"},
    {"bundle", "FILE [--network NET]", run_export_bundle,
     "the signed events themselves, for a node that can only get files: `lernet import "
     "bundle FILE` there verifies every event as sync does and stores what is valid"},
};
#define N_EXPORT_SUBS (sizeof export_subs / sizeof export_subs[0])

static const cli_sub_t import_subs[] = {
    {"bundle", "FILE", run_import_bundle,
     "the signed events of a bundle (`lernet export bundle`): every event is verified as sync "
     "verifies it, and what is valid is stored"},
};

const char *cli_export_format_at(size_t i)
{
    return i + 1 < N_EXPORT_SUBS ? export_subs[i].name : NULL;
}

int cli_import(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "import", import_subs, sizeof import_subs / sizeof import_subs[0],
                        argc, argv);
}

int cli_export(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "export", export_subs, N_EXPORT_SUBS, argc, argv);
}
