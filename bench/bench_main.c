/*
 * bench: `make bench` (all sections, medians of --runs runs, default 3)
 * or `bench --quick` (tiny sizes, one run: the ctest smoke test).
 * Prints one table and writes it as JSON (--out, default
 * build/bench/bench.json).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "util/log.h"

static void print_table(const bench_t *b)
{
    printf("\n%-62s %12s  %s\n", "figure", "value", "compared to");
    for (size_t i = 0; i < b->n_rows; i++)
        printf("%-62s %12s  %s\n", b->rows[i].label, b->rows[i].shown, b->rows[i].compared);
}

static int write_json(const bench_t *b, const char *path)
{
    json_t *rows = json_object();
    for (size_t i = 0; i < b->n_rows; i++)
        json_object_set_new(rows, b->rows[i].key,
                            json_pack("{s:s,s:f,s:s}", "label", b->rows[i].label, "value",
                                      b->rows[i].value, "compared", b->rows[i].compared));
    json_t *doc = json_pack("{s:i,s:i,s:b,s:o}", "cores", b->cores, "runs", b->runs, "quick",
                            b->quick, "figures", rows);
    int rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    return rc;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench [--quick] [--runs N (1-9)] [--out FILE] [--only SECTION[,SECTION...]]\n"
            "             [--hub-partners N] [--catchup-events N (100-1000000; default 100,000)]\n"
            "sections: limits inprocess catchup hypercore propagation footprint hub search attach\n"
            "--hub-partners N: simulated partners of the hub section (default 1000, --quick 20;\n"
            "  also $LERNET_BENCH_HUB_PARTNERS); the hub's config must allow N + 1 peers\n");
    exit(2);
}

/* Whether name is one of the comma-separated list's entries. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    bench_t *b = calloc(1, sizeof *b);
    const char *out = "build/bench/bench.json", *only = NULL;
    b->runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            b->quick = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            b->runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--hub-partners") == 0 && i + 1 < argc)
            b->hub_partners = atoi(argv[++i]);
        else if (strcmp(argv[i], "--catchup-events") == 0 && i + 1 < argc)
            b->catchup_events = atol(argv[++i]);
        else
            usage();
    }
    const char *hp = getenv("LERNET_BENCH_HUB_PARTNERS");
    if (!b->hub_partners && hp && *hp)
        b->hub_partners = atoi(hp);
    if (b->quick)
        b->runs = 1;
    if (b->hub_partners < 0 || b->hub_partners > 100000)
        usage();
    if (b->runs < 1 || b->runs > 9 ||
        (b->catchup_events && (b->catchup_events < 100 || b->catchup_events > 1000000)))
        usage();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    b->cores = cores > 0 ? (int)cores : 1;
    char *dir = strdup(out), *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    b->workdir = slash ? dir : ".";
    if (keys_init())
        bench_die("libsodium did not initialise");
    log_init(LOG_LVL_WARN, "");
    static const struct {
        const char *name;
        void (*fn)(bench_t *);
    } sections[] = {{"limits", bench_limits},         {"inprocess", bench_inprocess},
                    {"catchup", bench_catchup},       {"hypercore", bench_hypercore},
                    {"propagation", bench_propagation},
                    {"footprint", bench_footprint},     {"hub", bench_hub},
                    {"search", bench_search}, {"attach", bench_attach}};
    bench_limits(b); /* every ratio needs the machine's limits from this run */
    for (size_t i = 1; i < sizeof sections / sizeof sections[0]; i++)
        if (!only || listed(only, sections[i].name))
            sections[i].fn(b);
    print_table(b);
    if (write_json(b, out) != 0)
        bench_die("cannot write %s", out);
    printf("written to %s (%d core%s, medians of %d run%s)\n", out, b->cores,
           b->cores == 1 ? "" : "s", b->runs, b->runs == 1 ? "" : "s");
    free(dir);
    free(b);
    return 0;
}
