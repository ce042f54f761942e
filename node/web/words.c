/*
 * words: names the page shows for codes that travel in events: countries
 * (ISO 3166-1 "DE"), languages (BCP 47 "da") and content kinds, each in
 * the page's language (see web.h, T). An unknown code is shown as it is.
 */
#include "web/web.h"

#include <string.h>

static const char *const countries[][2] = {
    {"SE", N_("Sweden")},    {"DK", N_("Denmark")}, {"DE", N_("Germany")},
    {"FI", N_("Finland")},   {"NO", N_("Norway")},  {"IS", N_("Iceland")},
    {"EE", N_("Estonia")},   {"LV", N_("Latvia")},  {"LT", N_("Lithuania")},
    {"PL", N_("Poland")},    {"NL", N_("Netherlands")}, {"AT", N_("Austria")},
    {"CH", N_("Switzerland")}, {"GB", N_("United Kingdom")}, {"IE", N_("Ireland")},
    {"FR", N_("France")},
};

static const char *const languages[][2] = {
    {"sv", N_("Swedish")},   {"da", N_("Danish")},  {"de", N_("German")},
    {"fi", N_("Finnish")},   {"en", N_("English")}, {"nb", N_("Norwegian")},
    {"no", N_("Norwegian")}, {"nn", N_("Norwegian")}, {"is", N_("Icelandic")},
    {"et", N_("Estonian")},  {"lv", N_("Latvian")}, {"lt", N_("Lithuanian")},
    {"pl", N_("Polish")},    {"nl", N_("Dutch")},   {"fr", N_("French")},
    {"se", N_("Northern Sami")},
};

const char *web_country_name(const web_req_t *r, const char *cc)
{
    for (size_t i = 0; cc && i < sizeof countries / sizeof countries[0]; i++)
        if (strcmp(cc, countries[i][0]) == 0)
            return T(r, countries[i][1]);
    return cc ? cc : "";
}

const char *web_lang_name(const web_req_t *r, const char *tag)
{
    size_t n = tag ? strcspn(tag, "-_") : 0;
    for (size_t i = 0; tag && i < sizeof languages / sizeof languages[0]; i++)
        if (strlen(languages[i][0]) == n && strncmp(tag, languages[i][0], n) == 0 &&
            tag[n] == '\0')
            return T(r, languages[i][1]);
    return tag ? tag : "";
}

const char *web_kind_name(const web_req_t *r, int kind)
{
    switch (kind) {
    case LERNET__KIND__KIND_WORKSHOP: return T(r, "workshop");
    case LERNET__KIND__KIND_MEETING: return T(r, "network meeting");
    case LERNET__KIND__KIND_EXPERIENCE: return T(r, "experience report");
    case LERNET__KIND__KIND_RESOURCE: return T(r, "resource");
    case LERNET__KIND__KIND_REPLY: return T(r, "reply");
    case LERNET__KIND__KIND_GOAL: return T(r, "goal");
    case LERNET__KIND__KIND_QUESTIONNAIRE: return T(r, "questionnaire");
    case LERNET__KIND__KIND_FEEDBACK: return T(r, "feedback");
    default: return T(r, "event");
    }
}
