/*
 * cli_publish: `lernet publish`, `lernet update`, `lernet cancel`, `lernet erase`,
 * `lernet hide`.
 *
 * Flags are gathered into the same JSON object a --json file holds, and
 * both go through payload_from_json: one validation path, one set of
 * messages. `update` overlays the flags on the item's current content, so
 * `lernet update ID --capacity 40` changes just the capacity.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "core/series.h"
#include "daemon/control.h"
#include "core/payload_json.h"
#include "util/country.h"
#include "util/text.h"
#include "util/time.h"
#include "store/attach.h"
#include "store/publish.h"

#define JSON_FILE_MAX (256 * 1024)

static const char publish_usage[] =
    "usage: lernet publish workshop|meeting|experience|resource|reply|goal|questionnaire|\n"
    "                      feedback [--network NET]\n"
    "                      [--json FILE | FIELDS] [--attach FILE]...\n"
    "       lernet update ID [--json FILE | FIELDS]\n"
    "       lernet cancel ID [--reason TEXT] [--occurrence DATE]\n"
    "FIELDS (multilingual ones take LANG:TEXT and may be repeated, one per language):\n"
    "  all:         --title LANG:TEXT\n"
    "  workshop:    --description LANG:TEXT --start TIME --end TIME --tz ZONE --place TEXT\n"
    "               --online-url URL --organiser ORG --capacity N --theme T... --role R...\n"
    "               --language LANG --status planned|confirmed|full\n"
    "  meeting:     --start --end --tz --place --online-url --organiser --agenda LANG:TEXT\n"
    "               --minutes LANG:TEXT --theme T...\n"
    "  series (workshop, meeting): --repeat weekly|monthly [--interval N] [--byday MO,WE]\n"
    "               --count N | --until DATE; or --dates DATE,DATE... [--places P1;P2...]\n"
    "               (further dates at --start's and --end's times, each its own place,\n"
    "               ';' between places, empty: --place). At most 200 occurrences within\n"
    "               3 years. cancel --occurrence DATE: that day's occurrence only.\n"
    "  experience:  --about ID --text LANG:TEXT --lessons LANG:TEXT --tag T...\n"
    "               --participants ROLE=COUNT...\n"
    "  resource:    --summary LANG:TEXT --type documentation|literature|recording|method|link\n"
    "               --url URL... --licence L --theme T... --role R... --language LANG\n"
    "               --about ID (the workshop or meeting it documents)\n"
    "  reply:       --about ID (any item, a reply too) --text LANG:TEXT\n"
    "  goal:        --measure participants|organisations|events --role R... (participants)\n"
    "               --theme T... (only events with one of them) --target N\n"
    "               --from YYYY-MM-DD --to YYYY-MM-DD --description LANG:TEXT\n"
    "  questionnaire: --question LANG:TEXT... (a language given again starts the next\n"
    "               question) --scale MIN-MAX (every question; default 1-5)\n"
    "               --label VALUE=LANG:TEXT... (every question's scale)\n"
    "  feedback:    --about ID (your workshop or meeting) --questionnaire ID\n"
    "               --respondents ROLE=COUNT... --result C,C,C,C,C... (one per question:\n"
    "               how many gave each value of its scale, lowest first)\n"
    "               or --results FILE ({\"respondents\": {...}, \"results\": [[...], ...]});\n"
    "               at least 5 respondents; every result sums to them\n"
    "A goal or questionnaire of a managed network: only a coordinator publishes one.\n"
    "--attach FILE (resource, reply; at most 16, each at most 25 MiB): hashed and copied into\n"
    "the node home (attachments/); the signed event lists its hash, size, media type and\n"
    "name. The node's attachment_max_mib and attachment_quota_mib apply: a file past them is\n"
    "refused before signing. A reply goes to the network of what it answers.\n"
    "TIME: 2026-12-03T09:00 (local time in --tz), or with Z or +01:00. --tz defaults to the\n"
    "zone of the node's country; --organiser to the node's name; --network to\n"
    "default_network. --json FILE ('-' for stdin) holds the same fields as JSON.\n"
    "ID: an event id or a unique prefix of at least 8 hex characters.\n";

enum { F_TITLE = 256, F_DESC, F_START, F_END, F_TZ, F_PLACE, F_URL, F_ORG, F_CAP, F_THEME,
       F_ROLE, F_LANG, F_STATUS, F_AGENDA, F_MINUTES, F_ABOUT, F_TEXT, F_LESSONS, F_TAG,
       F_PART, F_NETWORK, F_JSON, F_REASON, F_SUMMARY, F_TYPE, F_URLS, F_LICENCE, F_ATTACH,
       F_UNDO, F_MEASURE, F_TARGET, F_FROM, F_TO, F_QUESTION, F_SCALE, F_LABEL,
       F_QUESTIONNAIRE, F_RESPONDENTS, F_RESULT, F_RESULTS, F_REPEAT, F_COUNT, F_UNTIL,
       F_INTERVAL, F_BYDAY, F_DATES, F_PLACES, F_OCCURRENCE, F_HELP };

/* --help: the usage, then a sample --json FILE of every content kind. */
static void print_help(void)
{
    const payload_kind_t *k;
    fputs(publish_usage, stdout);
    for (size_t i = 0; (k = payload_kind_at(i)); i++)
        printf("\nlernet publish %s --json FILE, for example:\n%s\n", k->name, k->sample);
}

static const struct option field_opts[] = {
    {"title", required_argument, 0, F_TITLE},     {"description", required_argument, 0, F_DESC},
    {"start", required_argument, 0, F_START},     {"end", required_argument, 0, F_END},
    {"tz", required_argument, 0, F_TZ},           {"place", required_argument, 0, F_PLACE},
    {"online-url", required_argument, 0, F_URL},  {"organiser", required_argument, 0, F_ORG},
    {"capacity", required_argument, 0, F_CAP},    {"theme", required_argument, 0, F_THEME},
    {"role", required_argument, 0, F_ROLE},       {"language", required_argument, 0, F_LANG},
    {"status", required_argument, 0, F_STATUS},   {"agenda", required_argument, 0, F_AGENDA},
    {"minutes", required_argument, 0, F_MINUTES}, {"about", required_argument, 0, F_ABOUT},
    {"text", required_argument, 0, F_TEXT},       {"lessons", required_argument, 0, F_LESSONS},
    {"tag", required_argument, 0, F_TAG},         {"participants", required_argument, 0, F_PART},
    {"network", required_argument, 0, F_NETWORK}, {"json", required_argument, 0, F_JSON},
    {"reason", required_argument, 0, F_REASON},   {"summary", required_argument, 0, F_SUMMARY},
    {"type", required_argument, 0, F_TYPE},       {"url", required_argument, 0, F_URLS},
    {"licence", required_argument, 0, F_LICENCE}, {"attach", required_argument, 0, F_ATTACH},
    {"undo", no_argument, 0, F_UNDO},             {"help", no_argument, 0, F_HELP},
    {"measure", required_argument, 0, F_MEASURE}, {"target", required_argument, 0, F_TARGET},
    {"from", required_argument, 0, F_FROM},       {"to", required_argument, 0, F_TO},
    {"question", required_argument, 0, F_QUESTION}, {"scale", required_argument, 0, F_SCALE},
    {"label", required_argument, 0, F_LABEL},
    {"questionnaire", required_argument, 0, F_QUESTIONNAIRE},
    {"respondents", required_argument, 0, F_RESPONDENTS},
    {"result", required_argument, 0, F_RESULT},   {"results", required_argument, 0, F_RESULTS},
    {"repeat", required_argument, 0, F_REPEAT},   {"count", required_argument, 0, F_COUNT},
    {"until", required_argument, 0, F_UNTIL},     {"interval", required_argument, 0, F_INTERVAL},
    {"byday", required_argument, 0, F_BYDAY},     {"dates", required_argument, 0, F_DATES},
    {"places", required_argument, 0, F_PLACES},   {"occurrence", required_argument, 0, F_OCCURRENCE},
    {0, 0, 0, 0}};

typedef struct pub_args {
    json_t *fields; /* gathered from flags */
    const char *network, *json_file, *reason;
    char *start, *end; /* kept raw: they are converted once tz is known */
    const char *dates, *places, *occurrence; /* a series' --dates, --places; cancel --occurrence */
    const char *attach[EVENT_MAX_ATTACHMENTS]; /* --attach FILE, in order */
    size_t n_attach;
    /* the files the import put in the home (not there before): removed
     * again when the publish fails, so nothing unlisted stays */
    uint8_t placed[EVENT_MAX_ATTACHMENTS][EVENT_HASH_BYTES];
    size_t n_placed;
    int undo; /* hide --undo */
    int kind;
    const char *scale;  /* questionnaire --scale MIN-MAX, for every question */
    json_t *labels;     /* questionnaire --label VALUE=LANG:TEXT: {"1": {"sv": ...}} */
} pub_args_t;

static const char *opt_name(int c)
{
    for (const struct option *o = field_opts; o->name; o++)
        if (o->val == c)
            return o->name;
    return "?";
}

/* "sv:Text" → fields[key]["sv"] = "Text" */
static int add_text(json_t *fields, const char *key, const char *arg)
{
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : 0;
    if (!colon || n < 2 || n > 35 || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n)
        return cli_error(CLI_USAGE, "--%s: write LANG:TEXT, e.g. sv:Arbetsplatslärande", key);
    char lang[36];
    memcpy(lang, arg, n);
    lang[n] = '\0';
    json_t *obj = json_object_get(fields, key);
    if (!obj) {
        obj = json_object();
        json_object_set_new(fields, key, obj);
    }
    if (json_object_get(obj, lang))
        return cli_error(CLI_USAGE, "--%s: language '%s' given twice", key, lang);
    json_object_set_new(obj, lang, json_string(colon + 1));
    return CLI_OK;
}

static int add_list(json_t *fields, const char *key, const char *arg)
{
    json_t *arr = json_object_get(fields, key);
    if (!arr) {
        arr = json_array();
        json_object_set_new(fields, key, arr);
    }
    json_array_append_new(arr, json_string(arg));
    return CLI_OK;
}

static int add_participants(json_t *fields, const char *arg)
{
    char why[256];
    json_t *obj = json_object_get(fields, "participants");
    if (!obj) {
        obj = json_object();
        json_object_set_new(fields, "participants", obj);
    }
    if (payload_count_add(obj, arg, strlen(arg), why, sizeof why) != PJ_OK)
        return cli_error(CLI_USAGE, "--participants: %s", why);
    return CLI_OK;
}

static int add_int(json_t *fields, const char *key, const char *arg)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(arg, &end, 10);
    if (!*arg || *end || errno)
        return cli_error(CLI_USAGE, "--%s: '%s' is not a whole number", key, arg);
    json_object_set_new(fields, key, json_integer(n));
    return CLI_OK;
}

/* --question LANG:TEXT: a language the last question has already starts
 * the next one, so "--question sv:A --question en:A --question sv:B" is
 * two questions. */
static int add_question(json_t *fields, const char *arg)
{
    json_t *qs = json_object_get(fields, "questions"), *tmp = json_object();
    int rc = add_text(tmp, "question", arg);
    json_t *one = json_object_get(tmp, "question");
    const char *lang = NULL;
    json_t *v;
    if (rc) {
        json_decref(tmp);
        return rc;
    }
    if (!qs) {
        qs = json_array();
        json_object_set_new(fields, "questions", qs);
    }
    json_t *last = json_array_get(qs, json_array_size(qs) - 1);
    json_object_foreach(one, lang, v) {
        if (!last || json_object_get(json_object_get(last, "text"), lang)) {
            last = json_pack("{s:{}}", "text");
            json_array_append_new(qs, last);
        }
        json_object_set(json_object_get(last, "text"), lang, v);
    }
    json_decref(tmp);
    return CLI_OK;
}

/* --label VALUE=LANG:TEXT */
static int add_label(pub_args_t *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char value[8];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof value ||
        strspn(arg, "0123456789") != (size_t)(eq - arg))
        return cli_error(CLI_USAGE, "--label: write VALUE=LANG:TEXT, e.g. 1=sv:Inte alls");
    memcpy(value, arg, (size_t)(eq - arg));
    value[eq - arg] = '\0';
    if (!a->labels)
        a->labels = json_object();
    return add_text(a->labels, value, eq + 1);
}

/* --result C,C,C: one question's histogram, appended to "results". */
static int add_result(json_t *fields, const char *arg)
{
    json_t *h = json_array();
    const char *p = arg;
    for (;;) {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(p, &end, 10);
        if (end == p || errno || n < 0 || (*end && *end != ',')) {
            json_decref(h);
            return cli_error(CLI_USAGE, "--result: '%.60s' is not counts like 0,1,4,6,3", arg);
        }
        json_array_append_new(h, json_integer(n));
        if (!*end)
            break;
        p = end + 1;
    }
    json_t *arr = json_object_get(fields, "results");
    if (!arr) {
        arr = json_array();
        json_object_set_new(fields, "results", arr);
    }
    json_array_append_new(arr, h);
    return CLI_OK;
}

static int add_respondents(json_t *fields, const char *arg)
{
    char why[256];
    json_t *obj = json_object_get(fields, "respondents");
    if (!obj) {
        obj = json_object();
        json_object_set_new(fields, "respondents", obj);
    }
    if (payload_count_add(obj, arg, strlen(arg), why, sizeof why) != PJ_OK)
        return cli_error(CLI_USAGE, "--respondents: %s", why);
    return CLI_OK;
}

static json_t *load_json_file(const char *path);

/* --results FILE: {"respondents": {...}, "results": [[...], ...]}, what a
 * survey tool's tally gives, laid into the fields. */
static int add_results_file(json_t *fields, const char *path)
{
    json_t *j = load_json_file(path);
    const char *key;
    json_t *v;
    if (!j)
        return CLI_FAIL;
    if (!json_is_object(j)) {
        json_decref(j);
        return cli_error(CLI_FAIL, "--results %s: must be a JSON object with respondents and "
                                   "results", path);
    }
    json_object_foreach(j, key, v) {
        if (strcmp(key, "respondents") && strcmp(key, "results")) {
            json_decref(j);
            return cli_error(CLI_FAIL, "--results %s: unknown key '%.40s' (known: "
                                       "respondents, results)", path, key);
        }
        json_object_set(fields, key, v);
    }
    json_decref(j);
    return CLI_OK;
}

/* fields.recurrence, made on first use. */
static json_t *rule_of(json_t *fields)
{
    json_t *r = json_object_get(fields, "recurrence");
    if (!r) {
        r = json_object();
        json_object_set_new(fields, "recurrence", r);
    }
    return r;
}

/* --repeat, --count, --until, --interval, --byday: the series' rule. */
static int take_rule(pub_args_t *a, int c, const char *arg)
{
    json_t *r = rule_of(a->fields);
    char *end = NULL, until[40];
    long n = 0;
    if (c == F_COUNT || c == F_INTERVAL) {
        n = strtol(arg, &end, 10);
        if (!*arg || *end || n < 1 || n > (c == F_COUNT ? 200 : 52))
            return cli_error(CLI_USAGE, "--%s: a number 1..%d", opt_name(c), c == F_COUNT ? 200 : 52);
        json_object_set_new(r, opt_name(c), json_integer(n));
    } else if (c == F_REPEAT) {
        json_object_set_new(r, "freq", json_string(arg));
    } else if (c == F_UNTIL) { /* a day means through its end, in the series' zone */
        snprintf(until, sizeof until, strlen(arg) == 10 ? "%sT23:59:59" : "%s", arg);
        json_object_set_new(r, "until", json_string(until));
    } else {
        json_t *days = json_array();
        for (const char *p = arg; *p;) {
            size_t l = strcspn(p, ",");
            json_array_append_new(days, json_stringn(p, l));
            p += l + (p[l] == ',');
        }
        json_object_set_new(r, "byday", days);
    }
    return CLI_OK;
}

static int take_field(pub_args_t *a, int c, const char *arg)
{
    const char *name = opt_name(c);
    switch (c) {
    case F_REPEAT: case F_COUNT: case F_UNTIL: case F_INTERVAL: case F_BYDAY:
        return take_rule(a, c, arg);
    case F_DATES: a->dates = arg; return CLI_OK;
    case F_PLACES: a->places = arg; return CLI_OK;
    case F_OCCURRENCE: a->occurrence = arg; return CLI_OK;
    case F_TITLE: case F_DESC: case F_AGENDA: case F_MINUTES: case F_TEXT: case F_LESSONS:
    case F_SUMMARY:
        return add_text(a->fields, name, arg);
    case F_URLS: return add_list(a->fields, "urls", arg);
    case F_ATTACH:
        if (a->n_attach == EVENT_MAX_ATTACHMENTS)
            return cli_error(CLI_USAGE, "--attach: at most %d files", EVENT_MAX_ATTACHMENTS);
        a->attach[a->n_attach++] = arg;
        return CLI_OK;
    case F_UNDO: a->undo = 1; return CLI_OK;
    case F_THEME: return add_list(a->fields, "themes", arg);
    case F_ROLE: return add_list(a->fields, "roles", arg);
    case F_TAG: return add_list(a->fields, "tags", arg);
    case F_PART: return add_participants(a->fields, arg);
    case F_CAP: case F_TARGET: return add_int(a->fields, name, arg);
    case F_QUESTION: return add_question(a->fields, arg);
    case F_SCALE: a->scale = arg; return CLI_OK;
    case F_LABEL: return add_label(a, arg);
    case F_RESPONDENTS: return add_respondents(a->fields, arg);
    case F_RESULT: return add_result(a->fields, arg);
    case F_RESULTS: return add_results_file(a->fields, arg);
    case F_START: a->start = (char *)arg; return CLI_OK;
    case F_END: a->end = (char *)arg; return CLI_OK;
    case F_URL: json_object_set_new(a->fields, "online_url", json_string(arg)); return CLI_OK;
    case F_NETWORK: a->network = arg; return CLI_OK;
    case F_JSON: a->json_file = arg; return CLI_OK;
    case F_REASON: a->reason = arg; return CLI_OK;
    default: json_object_set_new(a->fields, name, json_string(arg)); return CLI_OK;
    }
}

static int parse_fields(int argc, char **argv, pub_args_t *a)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", field_opts, NULL)) != -1) {
        if (c == F_HELP) {
            print_help();
            return -1;
        }
        if (c == '?' || c == ':')
            return cli_error(CLI_USAGE, "see 'lernet publish --help'");
        int rc = take_field(a, c, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc)
        return cli_error(CLI_USAGE, "unexpected argument '%s'", argv[optind]);
    if (a->json_file && (json_object_size(a->fields) || a->start || a->end || a->dates))
        return cli_error(CLI_USAGE, "--json FILE and field flags cannot be mixed");
    return CLI_OK;
}

static json_t *load_json_file(const char *path)
{
    json_error_t err;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        cli_error(CLI_FAIL, "--json %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(JSON_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, JSON_FILE_MAX + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    json_t *j = NULL;
    if (n > JSON_FILE_MAX)
        cli_error(CLI_FAIL, "--json %s: larger than %d bytes", path, JSON_FILE_MAX);
    else if (buf && !(j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &err)))
        cli_error(CLI_FAIL, "--json %s:%d:%d: %s", path, err.line, err.column, err.text);
    free(buf);
    return j;
}

/* --scale and --label for every question that has none of its own. */
static int fill_scales(pub_args_t *a, json_t *obj)
{
    unsigned lo = 1, hi = 5;
    int n = -1;
    json_t *q;
    size_t i;
    if (a->scale && (sscanf(a->scale, "%u-%u%n", &lo, &hi, &n) != 2 ||
                     n != (int)strlen(a->scale)))
        return cli_error(CLI_USAGE, "--scale: write MIN-MAX, e.g. 1-5");
    json_array_foreach(json_object_get(obj, "questions"), i, q) {
        if (!json_object_get(q, "min"))
            json_object_set_new(q, "min", json_integer(lo));
        if (!json_object_get(q, "max"))
            json_object_set_new(q, "max", json_integer(hi));
        if (a->labels && !json_object_get(q, "labels"))
            json_object_set(q, "labels", a->labels);
    }
    return CLI_OK;
}

/* --dates D1,D2 [--places P1;P2]: further dates of a series at the times
 * of day of --start and --end (local in the item's zone), each with its
 * place ("" keeps --place). */
static int series_dates(const pub_args_t *a, json_t *obj)
{
    if (!a->dates)
        return CLI_OK;
    const char *st = a->start ? strchr(a->start, 'T') : NULL;
    const char *et = a->end ? strchr(a->end, 'T') : NULL;
    if (!st || !et)
        return cli_error(CLI_USAGE, "--dates: needs --start and --end (their times of day)");
    json_t *arr = json_array();
    const char *pl = a->places;
    for (const char *p = a->dates; *p && json_array_size(arr) < 200;) {
        size_t l = strcspn(p, ","), pn = pl ? strcspn(pl, ";") : 0;
        char s[64], e[64];
        if (l != 10) {
            json_decref(arr);
            return cli_error(CLI_USAGE, "--dates: days like 2027-02-10, comma-separated");
        }
        snprintf(s, sizeof s, "%.10s%s", p, st);
        snprintf(e, sizeof e, "%.10s%s", p, et);
        json_t *o = json_pack("{s:s,s:s}", "start", s, "end", e);
        if (pl && pn)
            json_object_set_new(o, "place", json_stringn(pl, pn));
        json_array_append_new(arr, o);
        p += l + (p[l] == ',');
        if (pl)
            pl = pl[pn] ? pl + pn + 1 : NULL;
    }
    json_object_set_new(obj, "occurrences", arr);
    return CLI_OK;
}

static int fill_defaults(pub_args_t *a, json_t *obj, const config_t *cfg)
{
    if (a->kind == LERNET__KIND__KIND_QUESTIONNAIRE && !a->json_file) {
        int rc = fill_scales(a, obj);
        if (rc)
            return rc;
    }
    if (a->kind == LERNET__KIND__KIND_WORKSHOP || a->kind == LERNET__KIND__KIND_MEETING) {
        if (!json_object_get(obj, "tz"))
            json_object_set_new(obj, "tz", json_string(country_zone(cfg->country)));
        if (!json_object_get(obj, "organiser"))
            json_object_set_new(obj, "organiser", json_string(cfg->name));
    }
    const char *tz = json_string_value(json_object_get(obj, "tz"));
    char why[256];
    int64_t t;
    const char *times[2] = {a->start, a->end}, *keys[2] = {"start", "end"};
    for (int i = 0; i < 2; i++) {
        if (!times[i])
            continue;
        if (civil_parse(times[i], tz, &t, why, sizeof why) != CIVIL_OK)
            return cli_error(CLI_FAIL, "--%s: %s", keys[i], why);
        /* hand the instant on in UTC so payload_from_json needs no zone */
        char iso[64];
        civil_format(t, NULL, iso, sizeof iso);
        json_object_set_new(obj, keys[i], json_string(iso));
    }
    return series_dates(a, obj);
}

/* --attach FILE...: each file hashed and copied into the node home, and
 * listed in the content's "attachments" after any it has. */
static int add_attachments(cli_ctx_t *ctx, pub_args_t *a, json_t *obj)
{
    char why[512];
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    int placed;
    if (!a->n_attach)
        return CLI_OK;
    if (a->kind != LERNET__KIND__KIND_RESOURCE && a->kind != LERNET__KIND__KIND_REPLY)
        return cli_error(CLI_USAGE, "--attach: only resources and replies carry files");
    for (size_t i = 0; i < a->n_attach; i++) {
        if (attach_import(ctx->home, a->attach[i], hash, &size, &placed, why, sizeof why) !=
            ATTACH_OK)
            return cli_error(CLI_FAIL, "--attach: %s", why);
        if (placed)
            memcpy(a->placed[a->n_placed++], hash, EVENT_HASH_BYTES);
        const char *name = attach_basename(a->attach[i]);
        if (payload_attachment_add(obj, hash, size, attach_media_type(name), name) != 0)
            return cli_error(CLI_FAIL, "--attach: %s: the file name is not UTF-8 text", name);
    }
    return CLI_OK;
}

/* The publish failed: the files its import put in the home go again. */
static void unplace(cli_ctx_t *ctx, pub_args_t *a)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < a->n_placed; i++)
        if (attach_path(path, sizeof path, ctx->home, a->placed[i]) == 0)
            unlink(path);
    a->n_placed = 0;
}

/* --about and --questionnaire accept a prefix; the payload needs the full id. */
static int resolve_ref(store_t *st, json_t *obj, const char *key)
{
    const char *about = json_string_value(json_object_get(obj, key));
    publish_target_t t;
    char why[256], hex[EVENT_ID_HEX_SIZE];
    if (!about || strlen(about) == 64)
        return CLI_OK;
    if (publish_find(st, about, &t, why, sizeof why) != PUBLISH_OK)
        return cli_error(CLI_FAIL, "--%s: %s", key, why);
    event_id_hex(hex, t.id);
    json_object_set_new(obj, key, json_string(hex));
    return CLI_OK;
}

static int resolve_about(store_t *st, json_t *obj)
{
    int rc = resolve_ref(st, obj, "about");
    return rc ? rc : resolve_ref(st, obj, "questionnaire");
}

typedef struct pub_env {
    cli_ctx_t *ctx;
    config_t *cfg;
    store_t *st;
    keys_identity_t *k; /* the signing key (or the identity when there is none) */
    uint8_t author[KEYS_PUBLIC_BYTES];
} pub_env_t;

static int open_env(cli_ctx_t *ctx, pub_env_t *e)
{
    int rc;
    memset(e, 0, sizeof *e);
    e->ctx = ctx;
    if ((rc = cli_load_config(ctx, &e->cfg)) || (rc = cli_open_store(ctx, &e->st)))
        return rc;
    return CLI_OK;
}

static void close_env(pub_env_t *e)
{
    keys_free(&e->k);
    store_close(&e->st);
    config_free(&e->cfg);
}

/* With a daemon running, it signs and pushes at once; the reply says how
 * it went. Returns CONTROL_ERR_NO_DAEMON when there is none. */
static int via_daemon(pub_env_t *e, const char *network, const Lernet__Payload *p,
                      const char *what, int *exit_code)
{
    size_t len = lernet__payload__get_packed_size(p);
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t *buf = malloc(len ? len : 1);
    char *b64 = malloc(b64len);
    json_t *reply = NULL;
    if (!buf || !b64) {
        free(buf);
        free(b64);
        *exit_code = cli_error(CLI_FAIL, "out of memory");
        return CONTROL_OK;
    }
    lernet__payload__pack(p, buf);
    sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *req = json_pack("{s:s,s:s?,s:s}", "cmd", "publish", "network", network, "payload",
                            b64);
    int rc = control_request(e->ctx->home, req, &reply, CONTROL_TIMEOUT_MS);
    json_decref(req);
    free(buf);
    free(b64);
    if (rc != CONTROL_OK)
        return rc;
    if (json_is_true(json_object_get(reply, "ok")))
        printf("%s %s (seq %lld in network %s; pushed to partners)\n", what,
               json_string_value(json_object_get(reply, "id")),
               json_integer_value(json_object_get(reply, "seq")),
               json_string_value(json_object_get(reply, "network")));
    else
        *exit_code = cli_error(CLI_FAIL, "%s refused: %s", what,
                               json_string_value(json_object_get(reply, "error")));
    json_decref(reply);
    return CONTROL_OK;
}

static int sign_and_store(pub_env_t *e, const char *network, Lernet__Payload *p,
                          const char *what)
{
    char why[512] = "", hex[EVENT_ID_HEX_SIZE];
    event_t *ev = NULL;
    int rc = CLI_OK;
    if (network && !config_has_network(e->cfg, network))
        return cli_error(CLI_FAIL, "--network: this node does not take part in '%s' "
                                   "(see networks in lernet.ini)", network);
    if (via_daemon(e, network, p, what, &rc) == CONTROL_OK)
        return rc;
    if (!e->k && (rc = cli_load_signer(e->ctx, &e->k, e->author)))
        return rc;
    /* the node's own limits on its files, as the daemon applies them */
    publish_signer_t who = {e->k, e->author, e->cfg->attachment_max, e->cfg->attachment_quota};
    if (publish_event(e->st, &who, network, p, &ev, why, sizeof why) != PUBLISH_OK)
        return cli_error(CLI_FAIL, "%s refused: %s", what, why);
    event_id_hex(hex, ev->id);
    printf("%s %s (seq %llu in network %s)\n", what, hex, (unsigned long long)ev->seq,
           ev->network);
    event_free(&ev);
    return CLI_OK;
}

/* The content kind `publish KIND` names (by its singular name); 0 for none. */
static int kind_arg(const char *s)
{
    const payload_kind_t *k = payload_kind_named(s);
    return k && strcmp(s, k->name) == 0 ? k->kind : 0;
}

/* Shared by publish and update: flags or file → validated payload content. */
static int build_content(pub_env_t *e, pub_args_t *a, json_t *base, Lernet__Payload **out)
{
    char why[512] = "";
    json_t *obj = base;
    int rc;
    if (a->json_file) {
        if (!(obj = load_json_file(a->json_file)))
            return CLI_FAIL;
    } else {
        /* per language: --title sv:X keeps the English title */
        json_object_update_recursive(obj, a->fields);
        json_incref(obj);
    }
    if ((rc = fill_defaults(a, obj, e->cfg)) || (rc = resolve_about(e->st, obj)) ||
        (rc = add_attachments(e->ctx, a, obj))) {
        json_decref(obj);
        return rc;
    }
    rc = payload_from_json(out, a->kind, obj, why, sizeof why);
    json_decref(obj);
    if (rc != PJ_OK)
        return cli_error(CLI_FAIL, "%s refused: %s", event_kind_name(a->kind), why);
    return CLI_OK;
}

int cli_publish(cli_ctx_t *ctx, int argc, char **argv)
{
    pub_args_t a = {0};
    pub_env_t e;
    Lernet__Payload *p = NULL;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        print_help();
        return CLI_OK;
    }
    if (argc < 2 || !(a.kind = kind_arg(argv[1]))) {
        fputs(publish_usage, stderr);
        return CLI_USAGE;
    }
    a.fields = json_object();
    int rc = parse_fields(argc - 1, argv + 1, &a);
    if (rc) {
        json_decref(a.fields);
        json_decref(a.labels);
        return rc < 0 ? CLI_OK : rc;
    }
    if (!(rc = open_env(ctx, &e))) {
        json_t *base = json_object();
        rc = build_content(&e, &a, base, &p);
        json_decref(base);
        /* a reply goes where what it answers is: its network, unless one is named */
        /* so does feedback: to the network of the activity */
        const char *net = a.network ? a.network
                          : a.kind == LERNET__KIND__KIND_REPLY || a.kind == LERNET__KIND__KIND_FEEDBACK
                              ? NULL
                              : e.cfg->default_network;
        if (!rc)
            rc = sign_and_store(&e, net, p, "published");
        if (rc)
            unplace(ctx, &a);
    }
    if (p)
        lernet__payload__free_unpacked(p, NULL);
    json_decref(a.fields);
    json_decref(a.labels);
    close_env(&e);
    return rc;
}

typedef struct current {
    int kind;
    json_t *content;
} current_t;

static int take_current(void *ctx, const store_item_t *it)
{
    current_t *c = ctx;
    c->kind = it->kind;
    if (it->workshop)
        c->content = payload_workshop_json(it->workshop);
    else if (it->meeting)
        c->content = payload_meeting_json(it->meeting);
    else if (it->resource)
        c->content = payload_resource_json(it->resource);
    else if (it->goal)
        c->content = payload_goal_json(it->goal);
    return 0;
}

/* The current content as the base an update's flags are laid over. The
 * *_local keys are only for reading; times travel as UTC. */
static int current_content(store_t *st, const char *id, current_t *cur)
{
    char why[256];
    memset(cur, 0, sizeof *cur);
    if (store_item(st, id, take_current, cur, why, sizeof why) != STORE_OK)
        return cli_error(CLI_FAIL, "%s", why);
    const payload_kind_t *k = payload_kind_of(cur->kind);
    if (!k || !(k->ops & PAYLOAD_KIND_UPDATE))
        return cli_error(CLI_FAIL, "%s: an item of kind %s cannot be updated", id,
                         k ? k->name : "unknown");
    if (!cur->content)
        return cli_error(CLI_FAIL, "%s: its content was erased; give --json FILE", id);
    json_object_del(cur->content, "start_local");
    json_object_del(cur->content, "end_local");
    return CLI_OK;
}


/* The shared start of update and cancel: flags, the store, and the item
 * argv[1] names. Returns -1 when only help was asked for. */
static int start_on_target(cli_ctx_t *ctx, int argc, char **argv, const char *what,
                           pub_args_t *a, pub_env_t *e, publish_target_t *t)
{
    char why[256];
    memset(e, 0, sizeof *e);
    if (argc < 2) {
        fputs(publish_usage, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0) {
        print_help();
        return -1;
    }
    a->fields = json_object();
    int rc = parse_fields(argc - 1, argv + 1, a);
    if (rc || (rc = open_env(ctx, e)))
        return rc;
    if (publish_find(e->st, argv[1], t, why, sizeof why) != PUBLISH_OK)
        return cli_error(CLI_FAIL, "%s: %s", what, why);
    return CLI_OK;
}

int cli_update(cli_ctx_t *ctx, int argc, char **argv)
{
    pub_args_t a = {0};
    pub_env_t e;
    current_t cur = {0};
    publish_target_t t;
    Lernet__Payload *content = NULL, *p = NULL;
    int rc = start_on_target(ctx, argc, argv, "update", &a, &e, &t);
    if (rc || (rc = current_content(e.st, argv[1], &cur)))
        goto done;
    a.kind = cur.kind;
    if ((rc = build_content(&e, &a, cur.content, &content)))
        goto done;
    if (!(p = payload_update_of(content, t.id))) {
        rc = cli_error(CLI_FAIL, "out of memory");
        goto done;
    }
    rc = sign_and_store(&e, NULL, p, "updated");
done:
    if (rc > 0)
        unplace(ctx, &a);
    if (content)
        lernet__payload__free_unpacked(content, NULL);
    if (p)
        lernet__payload__free_unpacked(p, NULL);
    json_decref(cur.content);
    json_decref(a.fields);
    json_decref(a.labels);
    close_env(&e);
    return rc < 0 ? CLI_OK : rc;
}

typedef struct occ_find {
    const char *when; /* DATE (the local day) or TIME */
    int64_t found;
    int rc;
} occ_find_t;

static int occ_in_item(void *vctx, const store_item_t *it)
{
    occ_find_t *f = vctx;
    series_t sr = series_of(it->workshop, it->meeting);
    series_occ_t *occ = malloc(SERIES_MAX * sizeof *occ);
    char why[256], day[16];
    size_t n = 0;
    int64_t at = 0;
    int is_day = strlen(f->when) == 10;
    if (!occ || !series_repeats(&sr))
        f->rc = cli_error(CLI_FAIL, "cancel --occurrence: not a series");
    else if (!is_day && civil_parse(f->when, sr.tz, &at, why, sizeof why) != CIVIL_OK)
        f->rc = cli_error(CLI_USAGE, "--occurrence: %s", why);
    else if (series_expand(&sr, occ, SERIES_MAX, &n, why, sizeof why) != 0)
        f->rc = cli_error(CLI_FAIL, "cancel --occurrence: %s", why);
    for (size_t i = 0; !f->rc && i < n && !f->found; i++) {
        civil_strftime(occ[i].start, sr.tz, "%Y-%m-%d", day, sizeof day);
        if (is_day ? strcmp(day, f->when) == 0 : occ[i].start == at)
            f->found = occ[i].start;
    }
    if (!f->rc && !f->found)
        f->rc = cli_error(CLI_FAIL, "cancel --occurrence: the series has no occurrence on %s",
                          f->when);
    free(occ);
    return 0;
}

/* --occurrence DATE|TIME: the start of the series' occurrence on that
 * local day (or at that time). */
static int find_occurrence(store_t *st, const char *id, const char *when, int64_t *out)
{
    occ_find_t f = {when, 0, CLI_OK};
    char why[256];
    if (store_item(st, id, occ_in_item, &f, why, sizeof why) != STORE_OK)
        return cli_error(CLI_FAIL, "cancel: %s", why);
    if (f.rc == CLI_OK)
        *out = f.found;
    return f.rc;
}

int cli_cancel(cli_ctx_t *ctx, int argc, char **argv)
{
    pub_args_t a = {0};
    pub_env_t e;
    publish_target_t t;
    int rc = start_on_target(ctx, argc, argv, "cancel", &a, &e, &t);
    if (rc)
        goto done;
    if (json_object_size(a.fields) || a.start || a.end || a.json_file || a.network ||
        a.n_attach || a.undo || a.dates || a.places) {
        rc = cli_error(CLI_USAGE, "cancel takes only --reason and --occurrence");
        goto done;
    }
    Lernet__Cancel c = LERNET__CANCEL__INIT;
    if (a.occurrence && (rc = find_occurrence(e.st, argv[1], a.occurrence, &c.occurrence)))
        goto done;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    c.target.data = t.id;
    c.target.len = EVENT_ID_BYTES;
    c.reason = (char *)(a.reason ? a.reason : "");
    p.body_case = LERNET__PAYLOAD__BODY_CANCEL;
    p.cancel = &c;
    rc = sign_and_store(&e, NULL, &p, c.occurrence ? "cancelled one occurrence of" : "cancelled");
done:
    json_decref(a.fields);
    json_decref(a.labels);
    close_env(&e);
    return rc < 0 ? CLI_OK : rc;
}

static const char erase_usage[] =
    "usage: lernet erase ID... [--reason TEXT]\n"
    "Publishes a signed erasure of the events ID names (content of this node, or, as a\n"
    "coordinator of a managed network, a member's): every node that holds them drops\n"
    "their text and keeps only the signed header. A workshop's or meeting's updates and\n"
    "cancels are erased with it. Keys, revocations, memberships and profiles can never\n"
    "be erased. --reason: at most 200 bytes, shown wherever the item was; never put\n"
    "personal data in it. ID: an event id or a unique prefix of at least 8 hex characters.\n";

/* Adds id to the targets unless it is there; false when they are full. */
static bool add_target(uint8_t (*t)[EVENT_ID_BYTES], size_t *n, const uint8_t *id)
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(t[i], id, EVENT_ID_BYTES) == 0)
            return true;
    if (*n == EVENT_MAX_ERASE_TARGETS)
        return false;
    memcpy(t[(*n)++], id, EVENT_ID_BYTES);
    return true;
}

/* The events an ID names, with the updates and cancels that change it. */
static int erase_targets(store_t *st, const char *hex, uint8_t (*t)[EVENT_ID_BYTES], size_t *n)
{
    char why[256];
    uint8_t deps[EVENT_MAX_ERASE_TARGETS][EVENT_ID_BYTES];
    size_t nd = 0;
    event_t *ev = NULL;
    if (store_get_event(st, hex, &ev, why, sizeof why) != STORE_OK)
        return cli_error(CLI_FAIL, "erase refused: %s", why);
    bool ok = add_target(t, n, ev->id);
    if (ok && (ev->kind == LERNET__KIND__KIND_WORKSHOP || ev->kind == LERNET__KIND__KIND_MEETING ||
               ev->kind == LERNET__KIND__KIND_RESOURCE || ev->kind == LERNET__KIND__KIND_GOAL) &&
        store_erase_dependents(st, ev->id, deps, EVENT_MAX_ERASE_TARGETS, &nd) == STORE_OK)
        for (size_t i = 0; ok && i < nd; i++)
            ok = add_target(t, n, deps[i]);
    event_free(&ev);
    if (!ok)
        return cli_error(CLI_FAIL, "erase refused: more than %d events (with their updates); "
                                   "erase them in several steps", EVENT_MAX_ERASE_TARGETS);
    return CLI_OK;
}

int cli_erase(cli_ctx_t *ctx, int argc, char **argv)
{
    pub_env_t e;
    const char *reason = "";
    uint8_t targets[EVENT_MAX_ERASE_TARGETS][EVENT_ID_BYTES];
    ProtobufCBinaryData refs[EVENT_MAX_ERASE_TARGETS];
    size_t n = 0;
    int rc = CLI_OK, ids = 0;
    memset(&e, 0, sizeof e);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(erase_usage, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (argv[i][0] == '-')
            return cli_error(CLI_USAGE, "erase: unknown option '%.40s' (see --help)", argv[i]);
        else
            ids++;
    }
    if (ids == 0) {
        fputs(erase_usage, stderr);
        return CLI_USAGE;
    }
    if ((rc = open_env(ctx, &e)))
        return rc;
    for (int i = 1; rc == CLI_OK && i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0)
            i++;
        else
            rc = erase_targets(e.st, argv[i], targets, &n);
    }
    if (rc == CLI_OK) {
        Lernet__Erasure x = LERNET__ERASURE__INIT;
        Lernet__Payload p = LERNET__PAYLOAD__INIT;
        for (size_t i = 0; i < n; i++)
            refs[i] = (ProtobufCBinaryData){EVENT_ID_BYTES, targets[i]};
        x.n_targets = n;
        x.targets = refs;
        x.reason = (char *)reason;
        p.body_case = LERNET__PAYLOAD__BODY_ERASURE;
        p.erasure = &x;
        rc = sign_and_store(&e, NULL, &p, "erasure");
    }
    close_env(&e);
    return rc;
}

/* `lernet hide ID [--reason TEXT]`, `lernet hide ID --undo`: a coordinator's
 * signed statement that hides a reply or resource of its managed network
 * from the members' views (or shows it again). publish_event refuses it
 * from anyone who is not a coordinator there. */
int cli_hide(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char usage[] =
        "usage: lernet hide ID [--reason TEXT]\n"
        "       lernet hide ID --undo\n"
        "As a coordinator of a managed network: hide a reply or resource its members wrote\n"
        "(every member sees it hidden, and by whom; nothing is erased), or show it again.\n"
        "--reason: one line, at most 300 bytes, shown with it; never personal data.\n";
    pub_args_t a = {0};
    pub_env_t e;
    publish_target_t t;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (argc < 2 || argv[1][0] == '-') {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    int rc = start_on_target(ctx, argc, argv, "hide", &a, &e, &t);
    if (rc)
        goto done;
    if (json_object_size(a.fields) || a.start || a.end || a.json_file || a.network ||
        a.n_attach || (a.undo && a.reason)) {
        rc = cli_error(CLI_USAGE, "hide takes --reason TEXT or --undo");
        goto done;
    }
    Lernet__Hide h = LERNET__HIDE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    h.target.data = t.id;
    h.target.len = EVENT_ID_BYTES;
    h.reason = (char *)(a.reason ? a.reason : "");
    h.unhide = a.undo;
    p.body_case = LERNET__PAYLOAD__BODY_HIDE;
    p.hide = &h;
    rc = sign_and_store(&e, NULL, &p, a.undo ? "unhide" : "hide");
done:
    json_decref(a.fields);
    json_decref(a.labels);
    close_env(&e);
    return rc < 0 ? CLI_OK : rc;
}
