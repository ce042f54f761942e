/* country: see country.h. */
#include "util/country.h"

#include <stddef.h>
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

const char *country_of_zone(const char *tz)
{
    for (size_t i = 0; tz && i < N_COUNTRIES; i++)
        if (countries[i].zone && strcmp(tz, countries[i].zone) == 0)
            return countries[i].cc;
    return "other";
}

const char *country_lang(const char *cc)
{
    const country_t *c = find(cc);
    return c ? c->lang : "en";
}
