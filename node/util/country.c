/* country: see country.h. */
#include "util/country.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct country {
    const char *cc;   /* "SE" */
    const char *zone; /* a tzid of util/time's table; NULL: none taken as the default */
    const char *lang; /* "sv" */
} country_t;

/* Ordered as util/time's zone table (tests/unit/test_country checks it).
 * Poland has a language (the web form's first one for a Polish node) but
 * no zone: util/time's table has no row for Europe/Warsaw, so a Polish
 * node's times default to UTC, as they always have. */
static const country_t countries[] = {
    {"SE", "Europe/Stockholm", "sv"}, {"DK", "Europe/Copenhagen", "da"},
    {"FI", "Europe/Helsinki", "fi"},  {"DE", "Europe/Berlin", "de"},
    {"NO", "Europe/Oslo", "nb"},      {"EE", "Europe/Tallinn", "et"},
    {"LV", "Europe/Riga", "lv"},      {"LT", "Europe/Vilnius", "lt"},
    {"GB", "Europe/London", "en"},    {"PL", NULL, "pl"},
};
#define N_COUNTRIES (sizeof countries / sizeof countries[0])

static const country_t *find(const char *cc)
{
    for (size_t i = 0; cc && i < N_COUNTRIES; i++)
        if (strcmp(cc, countries[i].cc) == 0)
            return &countries[i];
    return NULL;
}

int country_code_valid(const char *cc)
{
    return cc && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == '\0';
}

const char *country_zone(const char *cc)
{
    const country_t *c = find(cc);
    return c && c->zone ? c->zone : "UTC";
}

/* zone.tab of the system tz database: the country of every zone the
 * database names (Europe/Amsterdam NL, ...), read once. A line is
 * "CC<TAB>coordinates<TAB>Zone[<TAB>comment]"; a file past the bounds or a
 * line of another shape is left out, never half read. */
#define ZONE_TAB "/usr/share/zoneinfo/zone.tab"
#define ZONE_TAB_MAX 1024 /* zone.tab has about 400 lines */
#define ZONE_TAB_LINE 256

typedef struct zone_cc {
    char cc[3];
    char zone[65];
} zone_cc_t;

static zone_cc_t zone_tab[ZONE_TAB_MAX];
static size_t n_zone_tab;
static pthread_once_t zone_tab_once = PTHREAD_ONCE_INIT;

static void zone_tab_line(const char *line)
{
    const char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t2 || t1 - line != 2 || n_zone_tab == ZONE_TAB_MAX)
        return;
    size_t zl = strcspn(t2 + 1, "\t\r\n");
    zone_cc_t *z = &zone_tab[n_zone_tab];
    if (!country_code_valid((char[3]){line[0], line[1], 0}) || zl == 0 || zl >= sizeof z->zone)
        return;
    memcpy(z->cc, line, 2);
    z->cc[2] = '\0';
    memcpy(z->zone, t2 + 1, zl);
    z->zone[zl] = '\0';
    n_zone_tab++;
}

static void zone_tab_load(void)
{
    char line[ZONE_TAB_LINE];
    FILE *f = fopen(ZONE_TAB, "re");
    if (!f)
        return; /* no tz database: the table's countries only */
    while (fgets(line, sizeof line, f))
        if (line[0] != '#')
            zone_tab_line(line);
    fclose(f);
}

const char *country_of_zone(const char *tz)
{
    for (size_t i = 0; tz && i < N_COUNTRIES; i++)
        if (countries[i].zone && strcmp(tz, countries[i].zone) == 0)
            return countries[i].cc;
    if (!tz)
        return "other";
    pthread_once(&zone_tab_once, zone_tab_load);
    for (size_t i = 0; i < n_zone_tab; i++)
        if (strcmp(tz, zone_tab[i].zone) == 0)
            return zone_tab[i].cc;
    return "other";
}

const char *country_lang(const char *cc)
{
    const country_t *c = find(cc);
    return c ? c->lang : "en";
}
