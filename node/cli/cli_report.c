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
    "  " REPORT_COLUMNS "\n";

static void print_json(json_t *rows)
{
    json_dumpf(rows, stdout, JSON_INDENT(2));
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
          "                     [--by ", f);
    for (size_t i = 0; (g = report_grouping_at(i)); i++)
        fprintf(f, "%s%s", i ? "|" : "", g->name);
    fputs("] [--format ", f);
    for (size_t i = 0; i < N_FORMATS; i++)
        fprintf(f, "%s%s", i ? "|" : "", formats[i].name);
    fprintf(f, "]\n%s", report_help);
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
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        int bad = !v;
        if (!bad && strcmp(a, "--network") == 0)
            network = v;
        else if (!bad && strcmp(a, "--from") == 0)
            bad = civil_day_parse(v, &from, 0) != 0;
        else if (!bad && strcmp(a, "--to") == 0)
            bad = civil_day_parse(v, &to, 1) != 0;
        else if (!bad && strcmp(a, "--by") == 0)
            bad = report_by_parse(v, &by) != 0;
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
