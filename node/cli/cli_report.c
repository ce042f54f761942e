/*
 * cli_report: `lernet report`: the period's figures for a funder, as a
 * table, CSV (stable columns) or JSON. See node/report.h for what counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/payload_json.h"
#include "util/time.h"
#include "export/programme.h"
#include "export/report.h"


static const char report_help[] =
    "Workshops and meetings held (and cancelled), organisations taking part,\n"
    "experience reports and participants (from the reports' role counts), per\n"
    "organiser, theme, participant role, country (of the event's time zone) or\n"
    "month, and in total, with how many events crossed a municipal or national\n"
    "border (an organisation from elsewhere reported on it; from the profiles\n"
    "nodes publish, `lernet keys profile`). --from and --to are local days,\n"
    "--to inclusive: an event counts when it overlaps them in its own time zone,\n"
    "and its month is the local month it starts in. csv-excel is the CSV with a\n"
    "UTF-8 byte order mark and CRLF line ends, as Excel needs. CSV columns:\n"
    "  " REPORT_COLUMNS "\n"
    "--goals: per goal of the network (`lernet publish goal`) its target, how far it\n"
    "is reached (the same counts, over the goal's period and themes), share and\n"
    "what remains. CSV columns:\n"
    "  " PROGRAMME_GOAL_COLUMNS "\n"
    "--feedback: the activities' feedback (`lernet publish feedback`), per question\n"
    "the respondents' answers as counts per scale value, and the mean. CSV columns:\n"
    "  " PROGRAMME_FEEDBACK_COLUMNS "\n";

static void print_json(json_t *rows)
{
    json_dumpf(rows, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    putchar('\n');
}

static void print_csv(json_t *rows)
{
    report_write_csv(rows, stdout);
}

static void print_csv_excel(json_t *rows)
{
    report_write_csv_excel(rows, stdout);
}

static void print_table(json_t *rows)
{
    json_t *row;
    size_t i;
    printf("%-32s %9s %8s %9s %13s %10s %8s %8s %12s\n", "", "workshops", "meetings",
               "cancelled", "organisations", "municipal", "national", "reports", "participants");
    json_array_foreach(rows, i, row) {
        cli_print_col(json_string_value(json_object_get(row, "key")), 32);
        for (size_t c = 0; c < REPORT_N_COLUMNS; c++) {
            static const int widths[] = {9, 8, 9, 13, 10, 8, 8, 12};
            printf(" %*lld", widths[c],
                   json_integer_value(json_object_get(row, report_columns[c])));
        }
        putchar('\n');
    }
}

/* The --format choices, the first the default; the usage is printed from
 * here and from the groupings of report.c. */
static const struct report_format {
    const char *name;
    void (*print)(json_t *rows);
} formats[] = {{"table", print_table}, {"csv", print_csv}, {"csv-excel", print_csv_excel},
               {"json", print_json}};
#define N_FORMATS (sizeof formats / sizeof formats[0])

const char *cli_report_format_at(size_t i)
{
    return i < N_FORMATS ? formats[i].name : NULL;
}

static void usage(FILE *f)
{
    const report_grouping_t *g;
    fputs("usage: lernet report [--network NET] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
          "                     [--goals | --feedback] [--lang sv,en] [--by ", f);
    for (size_t i = 0; (g = report_grouping_at(i)); i++)
        fprintf(f, "%s%s", i ? "|" : "", g->name);
    fputs("] [--format ", f);
    for (size_t i = 0; i < N_FORMATS; i++)
        fprintf(f, "%s%s", i ? "|" : "", formats[i].name);
    fprintf(f, "]\n%s", report_help);
}

/* ---- --goals and --feedback -------------------------------------------- */

static void print_goals_table(json_t *goals)
{
    json_t *g;
    size_t i;
    printf("%-12s %-40s %-13s %8s %8s %7s %9s  %s\n", "GOAL", "TITLE", "MEASURE", "TARGET",
           "ACTUAL", "SHARE", "REMAINING", "PERIOD");
    json_array_foreach(goals, i, g) {
        printf("%-12.12s ", json_string_value(json_object_get(g, "id")));
        cli_print_col(json_string_value(json_object_get(g, "title")), 40);
        printf(" %-13s %8lld %8lld %6.1f%% %9lld  %s – %s\n",
               json_string_value(json_object_get(g, "measure")),
               json_integer_value(json_object_get(g, "target")),
               json_integer_value(json_object_get(g, "actual")),
               100.0 * json_real_value(json_object_get(g, "share")),
               json_integer_value(json_object_get(g, "remaining")),
               json_string_value(json_object_get(g, "from")),
               json_string_value(json_object_get(g, "to")));
    }
    if (!json_array_size(goals))
        printf("(no goals yet: lernet publish goal --help)\n");
}

void cli_print_feedback(const json_t *fb, const char *indent)
{
    const json_t *q, *v;
    const char *role;
    size_t j, k;
    printf("%sfeedback %.12s on %s (%.16s), questionnaire: %s\n", indent,
           json_string_value(json_object_get(fb, "id")),
           json_string_value(json_object_get(fb, "activity")),
           json_string_value(json_object_get(fb, "activity_start")),
           json_string_value(json_object_get(fb, "questionnaire_title")));
    printf("%s  respondents %lld:", indent, json_integer_value(json_object_get(fb, "respondents")));
    json_object_foreach((json_t *)json_object_get(fb, "respondents_by_role"), role, v)
        printf(" %s %lld", role, json_integer_value(v));
    putchar('\n');
    json_array_foreach(json_object_get(fb, "questions"), j, q) {
        long long min = json_integer_value(json_object_get(q, "min"));
        printf("%s  %zu. %s\n%s     ", indent, j + 1, json_string_value(json_object_get(q, "text")),
               indent);
        json_array_foreach(json_object_get(q, "counts"), k, v)
            printf(" %lld:%lld", min + (long long)k, json_integer_value(v));
        printf("   mean %.2f\n", json_real_value(json_object_get(q, "mean")));
    }
}

static void print_feedback_table(json_t *items)
{
    json_t *fb;
    size_t i;
    json_array_foreach(items, i, fb)
        cli_print_feedback(fb, "");
    if (!json_array_size(items))
        printf("(no feedback yet: lernet publish feedback --help)\n");
}

static int programme_report(cli_ctx_t *ctx, int goals, const char *network, const char *langs,
                            const char *format)
{
    store_t *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    json_t *out = goals ? programme_goals(st, network, langs)
                        : programme_feedback(st, network, NULL, langs);
    if (!out)
        rc = cli_error(CLI_FAIL, "report: out of memory or store error");
    else if (strcmp(format, "json") == 0)
        print_json(out);
    else if (strcmp(format, "csv") == 0)
        goals ? programme_goals_csv(out, stdout) : programme_feedback_csv(out, stdout);
    else
        goals ? print_goals_table(out) : print_feedback_table(out);
    json_decref(out);
    store_close(&st);
    return rc;
}

static int add(void *ctx, const store_item_t *it)
{
    return report_add(ctx, it) != 0;
}

int cli_report(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *network = NULL;
    const struct report_format *format = &formats[0];
    enum report_by by = REPORT_BY_ORG;
    int64_t from = 0, to = 0;
    int goals = 0, feedback = 0, by_given = 0, period = 0;
    const char *langs = getenv("LERNET_LANG") && *getenv("LERNET_LANG") ? getenv("LERNET_LANG")
                                                                        : "en,sv,da,de,fi";
    for (int i = 1; i < argc; i += 2) { /* every option but two takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--goals") == 0 || strcmp(a, "--feedback") == 0) {
            *(a[2] == 'g' ? &goals : &feedback) = 1;
            i--;
            continue;
        }
        int bad = !v;
        by_given |= strcmp(a, "--by") == 0;
        period |= strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0;
        if (!bad && strcmp(a, "--network") == 0)
            network = v;
        else if (!bad && strcmp(a, "--from") == 0)
            bad = civil_day_parse(v, &from, 0) != 0;
        else if (!bad && strcmp(a, "--to") == 0)
            bad = civil_day_parse(v, &to, 1) != 0;
        else if (!bad && strcmp(a, "--by") == 0)
            bad = report_by_parse(v, &by) != 0;
        else if (!bad && strcmp(a, "--lang") == 0)
            langs = v;
        else if (!bad && strcmp(a, "--format") == 0) {
            format = NULL;
            for (size_t f = 0; f < N_FORMATS && !format; f++)
                if (strcmp(v, formats[f].name) == 0)
                    format = &formats[f];
            bad = !format;
        }
        else
            bad = 1;
        if (bad) {
            cli_error(CLI_USAGE, "report: '%s%s%s' is not understood", a, v ? " " : "",
                      v ? v : "");
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if ((goals || feedback) && (goals + feedback > 1 || by_given || period))
        return cli_error(CLI_USAGE, "report: --goals and --feedback go alone (a goal has its "
                                    "own period; --by does not apply)");
    if (goals || feedback)
        return programme_report(ctx, goals, network, langs, format->name);
    store_t *st = NULL;
    report_t *r = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    store_query_t q = {.network = network};
    json_t *rows = NULL;
    if (report_new(&r, by, from, to) != 0 || store_items(st, &q, add, r) != 0 ||
        (report_finish(r, st), !(rows = report_json(r))))
        rc = cli_error(CLI_FAIL, "report: out of memory or store error");
    else
        format->print(rows);
    json_decref(rows);
    report_free(&r);
    store_close(&st);
    return rc;
}
