/*
 * form: see form.h. One table describes each kind's fields; the same
 * table draws the form and turns a posted form into the JSON content.
 */
#include "web/form.h"

#include <errno.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "web/html.h"
#include "web/page.h"
#include "web/upload.h"
#include "core/payload_json.h"
#include "util/country.h"
#include "util/err.h"
#include "util/time.h"

enum ftype {
    T_NETWORK, /* select of the node's networks */
    T_TEXTS,   /* one line per language: NAME_1, NAME_2 */
    T_AREAS,   /* a text area per language */
    T_TIME,    /* datetime-local, in the zone of "tz" */
    T_TZ,
    T_LINE,
    T_URL,
    T_COUNT,   /* a whole number */
    T_LIST,    /* comma-separated */
    T_LANG,
    T_STATUS,
    T_ABOUT,        /* select of workshops and meetings */
    T_PARTICIPANTS, /* lines of ROLE=COUNT */
    T_RTYPE,        /* select of the resource types */
    T_ID,           /* an event id typed or passed on (?about=) */
    T_FILE,         /* a file, uploaded as multipart/form-data (web/upload.h) */
    T_MEASURE,      /* select of what a goal counts */
    T_DAY,          /* a day, YYYY-MM-DD (the browser's date control) */
    T_QUESTIONS,     /* the questionnaire's rows of questions (question_parts) */
    T_QUESTIONNAIRE, /* select of the questionnaires held in the activity's network */
    T_RESULTS,       /* feedback: per question, one count per value of its scale */
};

typedef struct ffield {
    const char *name; /* the JSON field, and the form field (plus _1/_2 for texts) */
    enum ftype type;
    const char *label, *hint;
    int required;
} ffield_t;

static const ffield_t workshop_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"title", T_TEXTS, N_("Title"), NULL, 1},
    {"description", T_AREAS, N_("Description"), NULL, 0},
    {"start", T_TIME, N_("Starts"), NULL, 1},
    {"end", T_TIME, N_("Ends"), NULL, 1},
    {"tz", T_TZ, N_("Time zone"), N_("of the times above"), 1},
    {"place", T_LINE, N_("Place"), N_("address, or leave empty for online only"), 0},
    {"online_url", T_URL, N_("Online link"), N_("https://…"), 0},
    {"organiser", T_LINE, N_("Organiser"), N_("the organisation, never a person"), 0},
    {"capacity", T_COUNT, N_("Capacity"), N_("places; empty if open"), 0},
    {"themes", T_LIST, N_("Themes"), N_("comma-separated, e.g. workplace learning"), 0},
    {"roles", T_LIST, N_("For"), N_("roles, comma-separated, e.g. teachers, company representatives"),
     0},
    {"language", T_LANG, N_("Language of instruction"), NULL, 0},
    {"status", T_STATUS, N_("Status"), NULL, 0},
};

static const ffield_t meeting_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"title", T_TEXTS, N_("Title"), NULL, 1},
    {"start", T_TIME, N_("Starts"), NULL, 1},
    {"end", T_TIME, N_("Ends"), NULL, 1},
    {"tz", T_TZ, N_("Time zone"), N_("of the times above"), 1},
    {"place", T_LINE, N_("Place"), NULL, 0},
    {"online_url", T_URL, N_("Online link"), N_("https://…"), 0},
    {"organiser", T_LINE, N_("Organiser"), N_("the organisation, never a person"), 0},
    {"agenda", T_AREAS, N_("Agenda"), NULL, 0},
    {"minutes", T_AREAS, N_("Minutes"), N_("often added later"), 0},
    {"themes", T_LIST, N_("Themes"), N_("comma-separated"), 0},
};

static const ffield_t experience_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"about", T_ABOUT, N_("About"), N_("the workshop or meeting reported on"), 1},
    {"title", T_TEXTS, N_("Title"), NULL, 1},
    {"text", T_AREAS, N_("What was tried and how it went"), NULL, 1},
    {"lessons", T_AREAS, N_("Lessons others can reuse"), NULL, 0},
    {"tags", T_LIST, N_("Tags"), N_("comma-separated"), 0},
    {"participants", T_PARTICIPANTS, N_("Participants by role"),
     N_("one per line, ROLE=COUNT, e.g. teachers=12 (counts only, never names)"), 0},
};

static const ffield_t resource_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"title", T_TEXTS, N_("Title"), NULL, 1},
    {"type", T_RTYPE, N_("Type"), NULL, 1},
    {"summary", T_AREAS, N_("Summary"), N_("what it is and who it helps"), 0},
    {"urls", T_LIST, N_("Links"), N_("comma-separated http(s) addresses; a link needs one"), 0},
    {"licence", T_LINE, N_("Licence"), N_("e.g. CC BY 4.0"), 0},
    {"themes", T_LIST, N_("Themes"), N_("comma-separated, e.g. workplace learning"), 0},
    {"roles", T_LIST, N_("For"), N_("roles, comma-separated, e.g. teachers, competence brokers"), 0},
    {"language", T_LANG, N_("Language of the resource"), NULL, 0},
    {"about", T_ID, N_("Documents"), N_("optional: the id of the workshop or meeting it documents"), 0},
    {"attachment", T_FILE, N_("File"),
     N_("optional: one file, at most the node's attachment_max_mib (25 MiB unless set lower)"), 0},
};

static const ffield_t reply_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("the network of what it answers"), 1},
    {"about", T_ID, N_("Answers"), N_("the id of the item (or reply) it answers"), 1},
    {"text", T_AREAS, N_("Reply"), N_("written as the organisation: no personal data"), 1},
    {"attachment", T_FILE, N_("File"),
     N_("optional: one file, at most the node's attachment_max_mib (25 MiB unless set lower)"), 0},
};

/* A network's goal (issue 19): what it counts, how many, over which days;
 * the same fields as `lernet publish goal`. In a managed network only a
 * coordinator may publish one: the daemon's refusal is the form's error. */
static const ffield_t goal_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"title", T_TEXTS, N_("Title"),
     N_("what is to be reached, e.g. 180 persons in competence activities"), 1},
    {"measure", T_MEASURE, N_("Counts"), NULL, 1},
    {"target", T_COUNT, N_("Target"), N_("the number to reach"), 1},
    {"from", T_DAY, N_("From"), N_("the first day counted"), 1},
    {"to", T_DAY, N_("To"), N_("the last day counted"), 1},
    {"roles", T_LIST, N_("Only participants in these roles"),
     N_("comma-separated, e.g. teachers; empty for every role"), 0},
    {"themes", T_LIST, N_("Only events with these themes"),
     N_("comma-separated, e.g. workplace learning; empty for all"), 0},
    {"description", T_AREAS, N_("Description"), NULL, 0},
};

/* A network's questionnaire (issue 19): a title and rows of questions,
 * each with its scale and the labels of the scale's ends; empty rows are
 * left out. The same content as `lernet publish questionnaire`. */
static const ffield_t questionnaire_fields[] = {
    {"network", T_NETWORK, N_("Network"), N_("who receives it"), 1},
    {"title", T_TEXTS, N_("Title"), N_("e.g. Participants' evaluation"), 1},
    {"questions", T_QUESTIONS, N_("Questions"), NULL, 1},
};

/* The aggregate results of a questionnaire for one of this node's
 * workshops or meetings: in two steps, the activity and the questionnaire
 * first (a GET form), then the counts of its questions. Never an answer:
 * at least EVENT_MIN_RESPONDENTS, each question's counts sum to them. */
static const ffield_t feedback_fields[] = {
    {"about", T_ABOUT, N_("About"), N_("a workshop or meeting this node organised"), 1},
    {"questionnaire", T_QUESTIONNAIRE, N_("Questionnaire"),
     N_("the one the participants answered, of the activity's network"), 1},
    {"title", T_TEXTS, N_("Title"), N_("optional, e.g. Participants' feedback, Östhammar"), 0},
    {"respondents", T_PARTICIPANTS, N_("Respondents by role"),
     N_("one per line, ROLE=COUNT, e.g. teachers=9; at least 5 in all"), 1},
    {"results", T_RESULTS, N_("Answers"), NULL, 1},
};

/* One row of the questionnaire form: its controls are named qN_PART (N
 * from 1), the texts qN_PART_1 and qN_PART_2 like a title's. */
static const ffield_t question_parts[] = {
    {"text", T_TEXTS, N_("Question"), N_("as the participants read it"), 0},
    {"min", T_COUNT, N_("Lowest value"), N_("of the scale, e.g. 1"), 0},
    {"max", T_COUNT, N_("Highest value"), N_("e.g. 5; a scale has 2 to 11 values, up to 100"), 0},
    {"low", T_TEXTS, N_("Label of the lowest value"), N_("optional, e.g. not at all"), 0},
    {"high", T_TEXTS, N_("Label of the highest value"), N_("optional, e.g. very much"), 0},
};
#define N_PARTS (sizeof question_parts / sizeof question_parts[0])
/* Question rows a new form shows, and how many more each "more" adds. */
#define FORM_QUESTION_ROWS 5
/* Every control of the largest forms is posted, empty or not: a
 * questionnaire of EVENT_MAX_QUESTIONS rows (each 2 texts of 2 boxes, 2
 * ends) and feedback with every scale at EVENT_MAX_SCALE values, with
 * csrf, network or about and questionnaire, the languages, the title's
 * boxes, rows or respondents. */
_Static_assert(7 + EVENT_MAX_QUESTIONS * (3 * 2 + 2) <= WEB_MAX_FIELDS,
               "the questionnaire form has more fields than a post may");
_Static_assert(8 + EVENT_MAX_QUESTIONS * EVENT_MAX_SCALE <= WEB_MAX_FIELDS,
               "the feedback form has more fields than a post may");

typedef struct fkind {
    const char *path, *title;
    int kind;
    const ffield_t *fields;
    size_t n;
} fkind_t;

#define KIND(p, t, k, f) {p, t, k, f, sizeof f / sizeof f[0]}
static const fkind_t kinds[] = {
    KIND("workshop", N_("New workshop"), LERNET__KIND__KIND_WORKSHOP, workshop_fields),
    KIND("meeting", N_("New network meeting"), LERNET__KIND__KIND_MEETING, meeting_fields),
    KIND("experience", N_("New experience report"), LERNET__KIND__KIND_EXPERIENCE,
         experience_fields),
    KIND("resource", N_("New resource for the library"), LERNET__KIND__KIND_RESOURCE,
         resource_fields),
    KIND("reply", N_("New reply"), LERNET__KIND__KIND_REPLY, reply_fields),
    KIND("goal", N_("New goal"), LERNET__KIND__KIND_GOAL, goal_fields),
    KIND("questionnaire", N_("New questionnaire"), LERNET__KIND__KIND_QUESTIONNAIRE,
         questionnaire_fields),
    KIND("feedback", N_("New feedback"), LERNET__KIND__KIND_FEEDBACK, feedback_fields),
};

static const char *const langs[][2] = {{"sv", "svenska"}, {"da", "dansk"},   {"fi", "suomi"},
                                       {"de", "Deutsch"}, {"nb", "norsk"},   {"en", "English"},
                                       {"et", "eesti"},   {"lv", "latviešu"}, {"lt", "lietuvių"},
                                       {"pl", "polski"}};
#define N_LANGS (sizeof langs / sizeof langs[0])

/* One message about one field ("" = the form as a whole). */
typedef struct ferr {
    char field[64];
    char msg[512];
} ferr_t;

/* The form being drawn or checked. Every error found is kept (up to
 * FORM_MAX_ERRORS), so that all are shown at once. */
typedef struct fstate {
    const web_req_t *r;
    const fkind_t *k;
    ferr_t errs[FORM_MAX_ERRORS];
    size_t n_errs;
    char lang1[36], lang2[36];
    /* a correction (form_edit): the event's current content as the form
     * shows it (field name → text) and as JSON (the base the fields are
     * laid over, as `lernet update` lays its flags), and its two text
     * languages the form shows; NULL/"" for a new event */
    json_t *prefill, *base;
    char orig1[36], orig2[36];
    uint8_t target[EVENT_ID_BYTES];
    char target_hex[EVENT_ID_HEX_SIZE];
    char title[512], network[EVENT_MAX_NETWORK + 1];
    /* the questionnaire form: rows drawn, and the row each question put
     * came from (for the wire rules' "questions[i]") */
    unsigned rows;
    unsigned qrow[EVENT_MAX_QUESTIONS];
    /* feedback: the activity it is about (title, network: the fields
     * above) and its questionnaire, once both are known; NULL in step 1 */
    struct fquest *fq;
} fstate_t;

/* The feedback form's questionnaire, as its counts grid shows it: each
 * question's text and the labels of its values, in the page's language. */
typedef struct fquest {
    char id[EVENT_ID_HEX_SIZE], title[EVENT_MAX_TITLE + 1], network[EVENT_MAX_NETWORK + 1];
    size_t n;
    struct {
        unsigned min, max;
        char text[EVENT_MAX_TITLE + 1];
        char label[EVENT_MAX_SCALE][EVENT_MAX_SHORT + 1]; /* "" for none */
    } q[EVENT_MAX_QUESTIONS];
} fquest_t;

/* A field's current value: what was posted, else a default for a new form. */
static const char *value(const fstate_t *s, const char *name)
{
    const config_t *cfg = s->r->env->cfg;
    if (s->r->form)
        return web_field(s->r, name);
    if (s->prefill)
        return json_string_value(json_object_get(s->prefill, name));
    if (strcmp(name, "network") == 0)
        return cfg->default_network;
    if (strcmp(name, "tz") == 0)
        return country_zone(cfg->country);
    if (strcmp(name, "organiser") == 0)
        return cfg->name;
    if (strcmp(name, "about") == 0 || strcmp(name, "questionnaire") == 0)
        return web_arg(s->r, name);
    size_t n = strlen(name);
    if (name[0] == 'q' && n > 4 && strcmp(name + n - 4, "_min") == 0)
        return "1"; /* the scale most questionnaires use */
    if (name[0] == 'q' && n > 4 && strcmp(name + n - 4, "_max") == 0)
        return "5";
    return NULL;
}

/* A part of a question row named qN_PART, as a field of its own (its name
 * in *out's buffer): the hints only on the first row, which explains them
 * once. Returns the row N (1..EVENT_MAX_QUESTIONS), 0 when name is none. */
typedef struct subfield {
    char name[24];
    ffield_t f;
} subfield_t;

static unsigned question_part(const char *name, subfield_t *out)
{
    unsigned row;
    int used = -1;
    char part[8];
    if (sscanf(name, "q%2u_%7[a-z]%n", &row, part, &used) != 2 || name[used] || row < 1 ||
        row > EVENT_MAX_QUESTIONS)
        return 0;
    for (size_t i = 0; i < N_PARTS; i++)
        if (strcmp(question_parts[i].name, part) == 0) {
            out->f = question_parts[i];
            snprintf(out->name, sizeof out->name, "q%u_%s", row, part);
            out->f.name = out->name;
            out->f.hint = row == 1 ? out->f.hint : NULL;
            out->f.required = row == 1 && i == 0; /* at least one question */
            return row;
        }
    return 0;
}

static const ferr_t *error_of(const fstate_t *s, const char *field)
{
    for (size_t i = 0; i < s->n_errs; i++)
        if (strcmp(s->errs[i].field, field) == 0)
            return &s->errs[i];
    return NULL;
}

static const ffield_t *field_named(const fstate_t *s, const char *name)
{
    for (size_t i = 0; i < s->k->n; i++)
        if (strcmp(s->k->fields[i].name, name) == 0)
            return &s->k->fields[i];
    return NULL;
}

/* The control a field's label and error link point at: the first
 * language's box for texts. */
static void control_id(const fstate_t *s, const char *field, char *out, size_t n)
{
    subfield_t sub;
    const ffield_t *f = field_named(s, field);
    unsigned q;
    if (!f && question_part(field, &sub))
        f = &sub.f;
    if (!f && s->fq && sscanf(field, "r%2u", &q) == 1 && q >= 1 && q <= s->fq->n) {
        snprintf(out, n, "f-%s_v%u", field, s->fq->q[q - 1].min); /* its first count */
        return;
    }
    int multi = f && (f->type == T_TEXTS || f->type == T_AREAS);
    snprintf(out, n, "f-%s%s", field, multi ? "_1" : "");
}

/* ---- drawing ----------------------------------------------------------- */

static void err_line(html_t *h, const fstate_t *s, const char *name)
{
    const ferr_t *e = error_of(s, name);
    if (!e)
        return;
    html_rawf(h, "<p class=\"field-error\" id=\"error-%s\"><span class=\"visually-hidden\">%s"
                 "</span>",
              name, T(s->r, "Error:"));
    html_text(h, e->msg);
    html_raw(h, "</p>");
}

/* The attributes every control carries: required, and what describes it
 * (its hint, its error) for screen readers, and whether it is invalid.
 * field is the table's name (the error's), ctl the control's. */
/* required: 1 for required (the browser's attribute and aria-required),
 * 2 for a select that always holds a value (no empty first option, so the
 * attribute is not allowed: aria-required alone tells screen readers). */
static void ctl_attrs(html_t *h, const fstate_t *s, const char *field, const char *ctl,
                      int required, int has_hint)
{
    const ferr_t *e = error_of(s, field);
    int first = strcmp(field, ctl) == 0 || (strlen(ctl) > 2 && !strcmp(ctl + strlen(ctl) - 2, "_1"));
    html_rawf(h, " name=\"%s\" id=\"f-%s\"", ctl, ctl);
    if (required == 1)
        html_raw(h, " required aria-required=\"true\"");
    else if (required)
        html_raw(h, " aria-required=\"true\"");
    if (has_hint || (e && first)) {
        html_raw(h, " aria-describedby=\"");
        if (has_hint)
            html_rawf(h, "hint-%s", field);
        if (e && first)
            html_rawf(h, "%serror-%s", has_hint ? " " : "", field);
        html_raw(h, "\"");
    }
    if (e && first)
        html_raw(h, " class=\"invalid\" aria-invalid=\"true\"");
}

static void option(html_t *h, const char *v, const char *label, const char *cur)
{
    html_raw(h, "<option value=\"");
    html_text(h, v);
    html_raw(h, cur && strcmp(cur, v) == 0 ? "\" selected>" : "\">");
    html_text(h, label);
    html_raw(h, "</option>");
}

/* Each language named in itself, and marked as such (WCAG 3.1.2). */
static void lang_select(html_t *h, const fstate_t *s, const char *field, const char *name,
                        const char *cur, int allow_none, int has_hint)
{
    html_raw(h, "<select");
    ctl_attrs(h, s, field, name, allow_none ? 0 : 2, has_hint);
    html_raw(h, ">");
    if (allow_none)
        option(h, "", T(s->r, "(none)"), cur);
    for (size_t i = 0; i < N_LANGS; i++) {
        html_rawf(h, "<option lang=\"%s\" value=\"%s\"%s>%s</option>", langs[i][0], langs[i][0],
                  cur && strcmp(cur, langs[i][0]) == 0 ? " selected" : "", langs[i][1]);
    }
    html_raw(h, "</select>");
}

static void input(html_t *h, const fstate_t *s, const ffield_t *f, const char *name,
                  const char *type, const char *v, int required)
{
    html_rawf(h, "<input type=\"%s\"", type);
    ctl_attrs(h, s, f->name, name, required, f->hint != NULL);
    if (f->type == T_COUNT)
        html_raw(h, " min=\"0\" inputmode=\"numeric\"");
    html_raw(h, " value=\"");
    html_text(h, v);
    html_raw(h, "\">");
}

static void textarea(html_t *h, const fstate_t *s, const ffield_t *f, const char *name,
                     const char *v, int required)
{
    html_raw(h, "<textarea rows=\"4\"");
    ctl_attrs(h, s, f->name, name, required, f->hint != NULL);
    html_raw(h, ">");
    html_text(h, v);
    html_raw(h, "</textarea>");
}

/* The report form's choices: the latest FORM_MAX_ABOUT matching events
 * (a ring over the store's order by start), shown most recent first. */
typedef struct about_one {
    char id[EVENT_ID_HEX_SIZE];
    int64_t start;
    char *title; /* malloc'd */
} about_one_t;

typedef struct about_ctx {
    const web_req_t *r;
    const char *q; /* ?q=: words the title must hold (any language), or NULL */
    int own;       /* only this node's (feedback: its organiser publishes it) */
    about_one_t *ring;
    size_t n; /* taken so far; the ring holds the last min(n, FORM_MAX_ABOUT) */
} about_ctx_t;

/* Case-insensitive for ASCII, byte-exact beyond: "scania" finds "Scania",
 * "ö" finds "ö". */
static int holds(const char *text, const char *q)
{
    return q && text && strcasestr(text, q) != NULL;
}

/* A workshop's or meeting's titles and their count; NULL (and 0) for any
 * other item. */
static Lernet__Text **activity_title(const store_item_t *it, size_t *n)
{
    *n = it->workshop ? it->workshop->n_title : it->meeting ? it->meeting->n_title : 0;
    return it->workshop ? it->workshop->title : it->meeting ? it->meeting->title : NULL;
}

static int about_take(void *ctx, const store_item_t *it)
{
    about_ctx_t *a = ctx;
    size_t n;
    Lernet__Text **t = activity_title(it, &n);
    int match = !a->q;
    if (!t || (a->own && memcmp(it->author, a->r->env->author, KEYS_PUBLIC_BYTES) != 0))
        return 0;
    for (size_t i = 0; !match && i < n; i++)
        match = holds(t[i]->text, a->q);
    if (!match)
        return 0;
    about_one_t *o = &a->ring[a->n++ % FORM_MAX_ABOUT];
    free(o->title);
    event_id_hex(o->id, it->id);
    o->start = it->start;
    o->title = strdup(payload_text_pick(t, n, a->r->langs));
    return 0;
}

static void about_select(html_t *h, const fstate_t *s, const ffield_t *f, const char *cur)
{
    about_ctx_t a = {s->r, web_arg(s->r, "q"), s->k->kind == LERNET__KIND__KIND_FEEDBACK,
                     calloc(FORM_MAX_ABOUT, sizeof(about_one_t)), 0};
    /* reports are written after the event: the past year and what is ahead */
    store_query_t q = {.starts_after = time(NULL) - 366 * 86400};
    html_raw(h, "<select");
    ctl_attrs(h, s, f->name, f->name, f->required, f->hint != NULL);
    html_rawf(h, "><option value=\"\">%s</option>", T(s->r, "(choose)"));
    if (a.ring)
        store_items(s->r->env->st, &q, about_take, &a);
    size_t kept = a.n < FORM_MAX_ABOUT ? a.n : FORM_MAX_ABOUT;
    for (size_t k = 0; a.ring && k < kept; k++) { /* newest first */
        about_one_t *o = &a.ring[(a.n - 1 - k) % FORM_MAX_ABOUT];
        char day[64];
        web_day_time(s->r, o->start, NULL, day, sizeof day, NULL, 0);
        html_rawf(h, "<option value=\"%s\"%s>", o->id,
                  cur && strcmp(cur, o->id) == 0 ? " selected" : "");
        html_text(h, day);
        html_raw(h, ": ");
        html_text(h, o->title);
        html_raw(h, "</option>");
    }
    html_raw(h, "</select>");
    if (a.own && !a.n)
        html_rawf(h, "<p class=\"hint\" id=\"no-about\">%s</p>",
                  T(s->r, "This node organised no workshop or meeting in the past year, and has "
                          "none ahead."));
    if (a.q || a.n > FORM_MAX_ABOUT) {
        html_rawf(h, "<p class=\"hint\" id=\"about-count\">");
        if (a.n > FORM_MAX_ABOUT)
            html_rawf(h, T(s->r, "The %d most recent of %zu are listed; search to find others."),
                      FORM_MAX_ABOUT, a.n);
        else
            html_rawf(h, TN(s->r, "%zu match", "%zu matches", a.n), a.n);
        html_raw(h, "</p>");
    }
    for (size_t k = 0; a.ring && k < FORM_MAX_ABOUT; k++)
        free(a.ring[k].title);
    free(a.ring);
}

/* Above the report form: a search that narrows its "About" list (a GET
 * of this same page; nothing typed below is lost, as nothing is typed
 * yet). */
static void about_search(html_t *h, const fstate_t *s)
{
    const char *q = web_arg(s->r, "q");
    html_rawf(h, "<form class=\"filters\" id=\"about-search\" method=\"get\" "
                 "action=\"/publish/%s\" role=\"search\"><label for=\"f-q\">%s</label>"
                 "<input type=\"search\" name=\"q\" id=\"f-q\" value=\"",
              s->k->path, T(s->r, "Find the workshop or meeting to report on"));
    html_text(h, q);
    html_rawf(h, "\"><button>%s</button></form>", T(s->r, "Find"));
}

/* Texts in two languages: the second box has a label of its own. */
static void multi(html_t *h, const fstate_t *s, const ffield_t *f)
{
    char n1[80], n2[80];
    snprintf(n1, sizeof n1, "%s_1", f->name);
    snprintf(n2, sizeof n2, "%s_2", f->name);
    if (f->type == T_TEXTS)
        input(h, s, f, n1, "text", value(s, n1), f->required);
    else
        textarea(h, s, f, n1, value(s, n1), f->required);
    html_rawf(h, "<label for=\"f-%s\" class=\"second\">", n2);
    html_rawf(h, T(s->r, "%s, in the second language (optional)"), T(s->r, f->label));
    html_raw(h, "</label>");
    if (f->type == T_TEXTS)
        input(h, s, f, n2, "text", value(s, n2), 0);
    else
        textarea(h, s, f, n2, value(s, n2), 0);
}

/* A select of fixed values: opts are {value, label to translate} pairs,
 * ended by {NULL, NULL}; cur is selected. */
static void choice(html_t *h, const fstate_t *s, const ffield_t *f, const char *const (*opts)[2],
                   const char *cur, int hint)
{
    html_raw(h, "<select");
    ctl_attrs(h, s, f->name, f->name, f->required ? 2 : 0, hint);
    html_raw(h, ">");
    for (size_t i = 0; opts[i][0]; i++)
        option(h, opts[i][0], T(s->r, opts[i][1]), cur);
    html_raw(h, "</select>");
}

static void draw_field(html_t *h, const fstate_t *s, const ffield_t *f);

/* The question rows (s->rows of them), each a fieldset of question_parts. */
static void draw_questions(html_t *h, const fstate_t *s)
{
    subfield_t sub;
    char name[24];
    html_rawf(h, "<input type=\"hidden\" name=\"rows\" value=\"%u\">", s->rows);
    for (unsigned row = 1; row <= s->rows; row++) {
        html_raw(h, "<fieldset class=\"question\"><legend>");
        html_rawf(h, T(s->r, "Question %u"), row);
        html_raw(h, "</legend>");
        for (size_t i = 0; i < N_PARTS; i++) {
            snprintf(name, sizeof name, "q%u_%s", row, question_parts[i].name);
            if (question_part(name, &sub))
                draw_field(h, s, &sub.f);
        }
        html_raw(h, "</fieldset>");
    }
    html_rawf(h, "<p class=\"hint\" id=\"questions-note\">");
    html_rawf(h, T(s->r, "Empty questions are left out. A questionnaire asks 1 to %d questions: "
                         "the button below the form adds rows."),
              EVENT_MAX_QUESTIONS);
    html_raw(h, "</p>");
}

/* A questionnaire's title in the page's language (into out). */
static void questionnaire_title(const fstate_t *s, const Lernet__Questionnaire *q, char *out,
                                size_t n)
{
    const char *t = q->n_title ? payload_text_pick(q->title, q->n_title, s->r->langs) : NULL;
    snprintf(out, n, "%s", t ? t : "");
}

typedef struct quest_ctx {
    html_t *h;
    const fstate_t *s;
    const char *cur;
    size_t n;
} quest_ctx_t;

static int quest_option(void *ctx, const store_item_t *it)
{
    quest_ctx_t *c = ctx;
    char id[EVENT_ID_HEX_SIZE], title[EVENT_MAX_TITLE + 1];
    if (!it->questionnaire || it->unauthorised)
        return 0; /* erased, or not counted: feedback would not be shown */
    event_id_hex(id, it->id);
    questionnaire_title(c->s, it->questionnaire, title, sizeof title);
    html_rawf(c->h, "<option value=\"%s\"%s>", id,
              c->cur && strcmp(c->cur, id) == 0 ? " selected" : "");
    html_text(c->h, title);
    html_raw(c->h, " (");
    html_text(c->h, it->network);
    html_raw(c->h, ")</option>");
    c->n++;
    return 0;
}

/* The questionnaires held here: of the activity's network once it is
 * known (s->network), else of every network, each named with its own. */
static void questionnaire_select(html_t *h, const fstate_t *s, const ffield_t *f, const char *cur)
{
    quest_ctx_t c = {h, s, cur, 0};
    store_query_t q = {.kind = LERNET__KIND__KIND_QUESTIONNAIRE,
                       .network = s->network[0] ? s->network : NULL,
                       .limit = FORM_MAX_ABOUT};
    html_raw(h, "<select");
    ctl_attrs(h, s, f->name, f->name, f->required, f->hint != NULL);
    html_rawf(h, "><option value=\"\">%s</option>", T(s->r, "(choose)"));
    store_items(s->r->env->st, &q, quest_option, &c);
    html_raw(h, "</select>");
    if (!c.n)
        html_rawf(h, "<p class=\"hint\" id=\"no-questionnaire\">%s <a href=\"/publish/"
                     "questionnaire\">%s</a></p>",
                  T(s->r, "No questionnaire of this network is here yet."),
                  T(s->r, "Publish a questionnaire"));
}

/* The counts of one question: one number per value of its scale, each
 * labelled with the value (and its label); the question's error, if any,
 * is said once above them and named by every count. */
static void draw_counts(html_t *h, const fstate_t *s, size_t i)
{
    char field[32], ctl[48];
    snprintf(field, sizeof field, "r%zu", i + 1);
    const ferr_t *e = error_of(s, field);
    html_raw(h, "<fieldset class=\"counts\"><legend>");
    html_rawf(h, T(s->r, "Question %u"), (unsigned)(i + 1));
    html_raw(h, ": ");
    html_text(h, s->fq->q[i].text);
    html_raw(h, "</legend>");
    err_line(h, s, field);
    for (unsigned v = s->fq->q[i].min; v <= s->fq->q[i].max; v++) {
        const char *label = s->fq->q[i].label[v - s->fq->q[i].min];
        snprintf(ctl, sizeof ctl, "%s_v%u", field, v);
        html_rawf(h, "<span class=\"value\"><label for=\"f-%s\">", ctl);
        html_rawf(h, T(s->r, "Gave %u"), v);
        if (*label) {
            html_raw(h, " (");
            html_text(h, label);
            html_raw(h, ")");
        }
        html_rawf(h, "</label><input type=\"number\" min=\"0\" inputmode=\"numeric\" "
                     "name=\"%s\" id=\"f-%s\"",
                  ctl, ctl);
        if (e)
            html_rawf(h, " class=\"invalid\" aria-invalid=\"true\" aria-describedby=\"error-%s\"",
                      field);
        html_raw(h, " value=\"");
        html_text(h, s->r->form ? web_field(s->r, ctl) : NULL);
        html_raw(h, "\"></span>");
    }
    html_raw(h, "</fieldset>");
}

static void draw_results(html_t *h, const fstate_t *s)
{
    html_rawf(h, "<p class=\"hint\" id=\"results-note\">%s</p>",
              T(s->r, "For each question: how many respondents gave each value. Each "
                      "question's counts sum to the respondents; an empty box counts 0."));
    for (size_t i = 0; s->fq && i < s->fq->n; i++)
        draw_counts(h, s, i);
}

/* Step 2 of the feedback form: the activity and the questionnaire chosen
 * in step 1, shown and passed on. */
static void draw_chosen(html_t *h, const fstate_t *s, const ffield_t *f)
{
    int about = f->type == T_ABOUT;
    const char *id = about ? s->target_hex : s->fq->id;
    html_rawf(h, "<input type=\"hidden\" name=\"%s\" value=\"%s\"><p class=\"chosen\" "
                 "id=\"chosen-%s\"><strong>%s:</strong> <a href=\"/event/%s\">",
              f->name, id, f->name, T(s->r, f->label), id);
    html_text(h, about ? s->title : s->fq->title);
    html_raw(h, "</a>");
    if (!about)
        html_rawf(h, " <a href=\"/publish/feedback?about=%s\">%s</a>", s->target_hex,
                  T(s->r, "Choose another"));
    html_raw(h, "</p>");
}

static void draw_field(html_t *h, const fstate_t *s, const ffield_t *f)
{
    const config_t *cfg = s->r->env->cfg;
    const char *v = value(s, f->name);
    const char *target = f->type == T_TEXTS || f->type == T_AREAS ? "_1" : "";
    int hint = f->hint != NULL;
    if (f->type == T_QUESTIONS) { /* fieldsets of their own: no label */
        draw_questions(h, s);
        return;
    }
    if (f->type == T_RESULTS) {
        draw_results(h, s);
        return;
    }
    if (s->fq && (f->type == T_ABOUT || f->type == T_QUESTIONNAIRE)) {
        draw_chosen(h, s, f);
        return;
    }
    html_rawf(h, "<label for=\"f-%s%s\">%s%s</label>", f->name, target, T(s->r, f->label),
              f->required ? " <span class=\"req\" aria-hidden=\"true\">*</span>" : "");
    if (hint)
        html_rawf(h, "<span class=\"hint\" id=\"hint-%s\">%s</span>", f->name, T(s->r, f->hint));
    err_line(h, s, f->name);
    switch (f->type) {
    case T_NETWORK:
        html_raw(h, "<select");
        ctl_attrs(h, s, f->name, f->name, f->required ? 2 : 0, hint);
        html_raw(h, ">");
        for (size_t i = 0; i < cfg->n_networks; i++)
            option(h, cfg->networks[i], cfg->networks[i], v);
        html_raw(h, "</select>");
        break;
    case T_TEXTS:
    case T_AREAS: multi(h, s, f); break;
    case T_TIME: input(h, s, f, f->name, "datetime-local", v, f->required); break;
    case T_TZ:
        html_raw(h, "<select");
        ctl_attrs(h, s, f->name, f->name, f->required ? 2 : 0, hint);
        html_raw(h, ">");
        for (size_t i = 0; civil_zone_at(i); i++)
            option(h, civil_zone_at(i)->tzid, civil_zone_at(i)->tzid, v);
        option(h, "UTC", "UTC", v);
        html_raw(h, "</select>");
        break;
    case T_URL: input(h, s, f, f->name, "url", v, f->required); break;
    case T_COUNT: input(h, s, f, f->name, "number", v, f->required); break;
    case T_LANG: lang_select(h, s, f->name, f->name, v, 1, hint); break;
    case T_STATUS:
        html_raw(h, "<select");
        ctl_attrs(h, s, f->name, f->name, 0, hint);
        html_raw(h, ">");
        option(h, "planned", T(s->r, "planned"), v);
        option(h, "confirmed", T(s->r, "confirmed"), v);
        option(h, "full", T(s->r, "full"), v);
        html_raw(h, "</select>");
        break;
    case T_ABOUT: about_select(h, s, f, v); break;
    case T_QUESTIONNAIRE: questionnaire_select(h, s, f, v); break;
    case T_RTYPE: {
        static const char *const types[][2] = {{"documentation", N_("documentation")},
                                               {"literature", N_("literature")},
                                               {"recording", N_("recording")},
                                               {"method", N_("method")},
                                               {"link", N_("link")},
                                               {NULL, NULL}};
        choice(h, s, f, types, v, hint);
        break;
    }
    case T_MEASURE: {
        /* the words of /goals (programme.c's measure_label) */
        static const char *const measures[][2] = {{"participants", N_("participants")},
                                                  {"organisations", N_("organisations")},
                                                  {"events", N_("workshops and meetings held")},
                                                  {NULL, NULL}};
        choice(h, s, f, measures, v, hint);
        break;
    }
    case T_DAY: input(h, s, f, f->name, "date", v, f->required); break;
    case T_PARTICIPANTS: textarea(h, s, f, f->name, v, f->required); break;
    case T_FILE:
        html_raw(h, "<input type=\"file\"");
        ctl_attrs(h, s, f->name, f->name, f->required, f->hint != NULL);
        html_raw(h, ">");
        break;
    default: input(h, s, f, f->name, "text", v, f->required); break;
    }
}

/* The label of a field for the error summary: the table's, or the
 * language selects'. */
static const char *field_label(const fstate_t *s, const char *field, char *buf, size_t n)
{
    const ffield_t *f = field_named(s, field);
    subfield_t sub;
    unsigned row = question_part(field, &sub), q;
    int used = -1;
    if (f)
        return T(s->r, f->label);
    if (row || (sscanf(field, "r%2u%n", &q, &used) == 1 && !field[used])) {
        /* TRANSLATORS: "Question 3" in the error summary, e.g. Question 3: Highest value */
        int k = snprintf(buf, n, T(s->r, "Question %u"), row ? row : q);
        if (row && k > 0 && (size_t)k < n)
            snprintf(buf + k, n - (size_t)k, ": %s", T(s->r, sub.f.label));
        return buf;
    }
    if (strcmp(field, "lang_1") == 0)
        return T(s->r, "First language");
    if (strcmp(field, "lang_2") == 0)
        return T(s->r, "Second language");
    if (strcmp(field, "reason") == 0)
        return T(s->r, "Reason (optional)");
    return NULL;
}

/* Every error at once, at the top, each a link to its field; it takes the
 * focus when the page loads (autofocus: the page runs no scripts), so a
 * screen reader reads it first and Tab goes on to the first field. */
static void error_summary(html_t *h, const fstate_t *s)
{
    if (!s->n_errs)
        return;
    html_rawf(h, "<div class=\"error-summary\" id=\"error\" role=\"alert\" tabindex=\"-1\" "
                 "autofocus aria-labelledby=\"error-summary-title\"><h2 id=\"error-summary-title\">");
    html_rawf(h, TN(s->r, "Not published: %zu thing to correct", "Not published: %zu things to correct",
                    s->n_errs),
              s->n_errs);
    html_raw(h, "</h2><ul>");
    for (size_t i = 0; i < s->n_errs; i++) {
        char ctl[80], buf[160];
        const char *label = field_label(s, s->errs[i].field, buf, sizeof buf);
        html_raw(h, "<li>");
        if (label) {
            control_id(s, s->errs[i].field, ctl, sizeof ctl);
            html_rawf(h, "<a href=\"#%s\">", ctl);
            html_text(h, label);
            html_raw(h, ": ");
        }
        html_text(h, s->errs[i].msg);
        html_raw(h, label ? "</a></li>" : "</li>");
    }
    html_raw(h, "</ul></div>");
}

static void draw_head(html_t *h, const fstate_t *s, const char *title)
{
    html_raw(h, "<h1>");
    html_text(h, title);
    html_raw(h, "</h1>");
    error_summary(h, s);
}

static void required_note(html_t *h, const fstate_t *s)
{
    html_rawf(h, "<p class=\"hint\" id=\"required-note\">%s</p>",
              T(s->r, "Fields marked * must be filled in."));
}

/* Step 1 of the feedback form: which activity, which questionnaire (a
 * GET form: nothing is signed yet; step 2 comes from its answer). */
static void draw_choose(const fstate_t *s, web_resp_t *out, int status)
{
    html_t *h = html_new();
    const char *title = T(s->r, s->k->title);
    draw_head(h, s, title);
    html_raw(h, "<p>");
    html_rawf(h, T(s->r, "Step 1 of 2: the workshop or meeting, and the questionnaire its "
                         "participants answered; step 2: how many gave each answer. Feedback "
                         "is shared only as counts of at least %d respondents, never as "
                         "anyone's answers."),
              EVENT_MIN_RESPONDENTS);
    html_raw(h, "</p><form class=\"publish\" method=\"get\" action=\"/publish/feedback\" "
                "novalidate><input type=\"hidden\" name=\"step\" value=\"2\">");
    required_note(h, s);
    draw_field(h, s, field_named(s, "about"));
    draw_field(h, s, field_named(s, "questionnaire"));
    html_rawf(h, "<button type=\"submit\" id=\"submit\">%s</button></form>",
              T(s->r, "Next: the counts"));
    web_page(s->r, out, status, title, html_take(&h, NULL));
}

static void draw(const fstate_t *s, web_resp_t *out, int status)
{
    if (s->k->kind == LERNET__KIND__KIND_FEEDBACK && !s->fq) {
        draw_choose(s, out, status);
        return;
    }
    html_t *h = html_new();
    const char *l1 = s->r->form || s->prefill ? value(s, "lang_1")
                                               : country_lang(s->r->env->cfg->country);
    const char *l2 = s->r->form || s->prefill ? value(s, "lang_2") : "en";
    char title[700];
    if (s->base)
        snprintf(title, sizeof title, T(s->r, "Correct: %s"), s->title);
    else
        snprintf(title, sizeof title, "%s", T(s->r, s->k->title));
    draw_head(h, s, title);
    if (!s->base && s->k->kind == LERNET__KIND__KIND_EXPERIENCE)
        about_search(h, s);
    int files = 0;
    for (size_t i = 0; i < s->k->n; i++)
        files |= s->k->fields[i].type == T_FILE;
    /* csrf first: an upload's file is taken only after it (web/upload.h) */
    if (s->base)
        html_rawf(h, "<form class=\"publish\" method=\"post\" action=\"/event/%s/edit\" "
                     "novalidate><input type=\"hidden\" name=\"csrf\" value=\"%s\"><p>%s</p>",
                  s->target_hex, s->r->csrf,
                  T(s->r, "The correction is signed by this node and replaces the event at every "
                          "partner; it stays in its network."));
    else
        html_rawf(h, "<form class=\"publish\" method=\"post\" action=\"/publish/%s\"%s "
                     "novalidate><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
                  s->k->path, files ? " enctype=\"multipart/form-data\"" : "", s->r->csrf);
    required_note(h, s);
    html_rawf(h, "<fieldset><legend>%s</legend><label for=\"f-lang_1\">%s <span class=\"req\" "
                 "aria-hidden=\"true\">*</span></label>",
              T(s->r, "Languages of the texts"), T(s->r, "First language"));
    err_line(h, s, "lang_1");
    lang_select(h, s, "lang_1", "lang_1", l1, 0, 0);
    html_rawf(h, "<label for=\"f-lang_2\">%s</label>", T(s->r, "Second language"));
    err_line(h, s, "lang_2");
    lang_select(h, s, "lang_2", "lang_2", l2, 1, 0);
    html_raw(h, "</fieldset>");
    for (size_t i = 0; i < s->k->n; i++)
        if (!(s->base && s->k->fields[i].type == T_NETWORK)) /* an update keeps its network */
            draw_field(h, s, &s->k->fields[i]);
    html_rawf(h, "<button type=\"submit\" id=\"submit\">%s</button>",
              s->base ? T(s->r, "Sign and publish the correction") : T(s->r, "Sign and publish"));
    if (field_named(s, "questions") && s->rows < EVENT_MAX_QUESTIONS) /* after it: not Enter's */
        html_rawf(h, " <button type=\"submit\" name=\"more\" value=\"1\" id=\"more\">%s</button>",
                  T(s->r, "More question rows"));
    html_raw(h, "</form>");
    web_page(s->r, out, status, title, html_take(&h, NULL));
}

/* ---- checking ----------------------------------------------------------- */

/* Records an error about field (one per field: the first found). */
__attribute__((format(printf, 3, 4))) static int fail(fstate_t *s, const char *field,
                                                       const char *fmt, ...)
{
    va_list ap;
    if (error_of(s, field) || s->n_errs >= FORM_MAX_ERRORS)
        return -1;
    ferr_t *e = &s->errs[s->n_errs++];
    snprintf(e->field, sizeof e->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* The two boxes of a text, v1 in the form's first language and v2 in its
 * second, into o ({LANG: TEXT}); an error is field's (or lang_2's). */
static int texts_into(fstate_t *s, json_t *o, const char *field, const char *v1, const char *v2)
{
    if (v1 && *v1 && s->lang1[0])
        json_object_set_new(o, s->lang1, json_string(v1));
    if (!v2 || !*v2)
        return 0;
    if (!s->lang2[0])
        return fail(s, field, "%s", T(s->r, "the second text: choose the second language above"));
    if (json_object_get(o, s->lang2))
        return fail(s, "lang_2", "%s", T(s->r, "is the same as the first language"));
    json_object_set_new(o, s->lang2, json_string(v2));
    return 0;
}

static int put_texts(fstate_t *s, json_t *obj, const ffield_t *f)
{
    char n1[80], n2[80];
    snprintf(n1, sizeof n1, "%s_1", f->name);
    snprintf(n2, sizeof n2, "%s_2", f->name);
    const char *v1 = web_field(s->r, n1), *v2 = web_field(s->r, n2);
    /* a correction keeps the texts in languages the form does not show */
    json_t *cur = s->base ? json_object_get(s->base, f->name) : NULL;
    json_t *o = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    const char *drop[] = {s->orig1, s->orig2, s->lang1, s->lang2};
    for (size_t i = 0; cur && i < 4; i++)
        if (drop[i][0])
            json_object_del(o, drop[i]);
    if (texts_into(s, o, f->name, v1, v2) != 0) {
        json_decref(o);
        return -1;
    }
    if (json_object_size(o))
        json_object_set_new(obj, f->name, o);
    else {
        json_object_del(obj, f->name);
        json_decref(o);
    }
    return 0;
}

static int put_list(json_t *obj, const char *name, const char *v)
{
    json_t *arr = json_array();
    for (const char *p = v; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *a = p, *b = p + n;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            json_array_append_new(arr, json_stringn(a, (size_t)(b - a)));
        p += n + (p[n] == ',');
    }
    json_object_set_new(obj, name, arr);
    return 0;
}

/* v, a whole number not below 0, into *n; else an error of field. */
static int parse_count(fstate_t *s, const char *field, const char *v, long long *n)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < 0)
        return fail(s, field, T(s->r, "'%s' is not a whole number"), v);
    *n = x;
    return 0;
}

static int put_count(fstate_t *s, json_t *obj, const char *name, const char *v)
{
    long long n;
    if (parse_count(s, name, v, &n) != 0)
        return -1;
    json_object_set_new(obj, name, json_integer(n));
    return 0;
}

/* ---- the questionnaire's rows ---------------------------------------------- */

/* The posted control qROW_PART, or NULL. */
static const char *row_field(const fstate_t *s, unsigned row, const char *part)
{
    char name[32];
    snprintf(name, sizeof name, "q%u_%s", row, part);
    return web_field(s->r, name);
}

/* One end of a row's scale, 0..100, into *v; else its field's error. */
static int scale_end(fstate_t *s, unsigned row, const char *part, long long *v)
{
    char field[24];
    const char *x = row_field(s, row, part);
    snprintf(field, sizeof field, "q%u_%s", row, part);
    if (!x || !*x)
        return fail(s, field, "%s", T(s->r, "fill this in"));
    if (parse_count(s, field, x, v) != 0)
        return -1;
    if (*v > 100)
        return fail(s, field, "%s", T(s->r, "a scale ends at 100 at most"));
    return 0;
}

/* The label of one end of a row's scale (part "low" or "high"), put under
 * the value it labels. */
static void put_label(fstate_t *s, json_t *labels, unsigned row, const char *part, long long value)
{
    char field[24], n1[16], n2[16], key[24];
    snprintf(field, sizeof field, "q%u_%s", row, part);
    snprintf(n1, sizeof n1, "%s_1", part);
    snprintf(n2, sizeof n2, "%s_2", part);
    json_t *t = json_object();
    texts_into(s, t, field, row_field(s, row, n1), row_field(s, row, n2));
    snprintf(key, sizeof key, "%lld", value);
    if (json_object_size(t))
        json_object_set_new(labels, key, t);
    else
        json_decref(t);
}

/* A row as a question ({"text", "min", "max", "labels"}); NULL for a row
 * without any text (min and max have defaults: they do not count). */
static json_t *question_json(fstate_t *s, unsigned row)
{
    static const char *const texts[] = {"text_1", "text_2", "low_1", "low_2", "high_1", "high_2"};
    int any = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *v = row_field(s, row, texts[i]);
        any |= v && *v;
    }
    if (!any)
        return NULL;
    char field[24];
    long long min = 0, max = 0;
    json_t *q = json_object(), *text = json_object(), *labels = json_object();
    snprintf(field, sizeof field, "q%u_text", row);
    const char *t1 = row_field(s, row, "text_1");
    if (!t1 || !*t1)
        fail(s, field, "%s", T(s->r, "fill this in: the question, in the first language"));
    texts_into(s, text, field, t1, row_field(s, row, "text_2"));
    json_object_set_new(q, "text", text);
    int ok = scale_end(s, row, "min", &min) == 0;
    ok &= scale_end(s, row, "max", &max) == 0;
    snprintf(field, sizeof field, "q%u_max", row);
    if (ok && (max <= min || max - min + 1 > EVENT_MAX_SCALE))
        fail(s, field, T(s->r, "must be above the lowest value, at most %d values in all"),
             EVENT_MAX_SCALE);
    json_object_set_new(q, "min", json_integer(min));
    json_object_set_new(q, "max", json_integer(max));
    put_label(s, labels, row, "low", min);
    put_label(s, labels, row, "high", max);
    if (json_object_size(labels))
        json_object_set_new(q, "labels", labels);
    else
        json_decref(labels);
    return q;
}

/* The questions of the rows that hold one, in order; which row each came
 * from is kept, for the wire rules' errors (place_error). */
static int put_questions(fstate_t *s, json_t *obj)
{
    json_t *arr = json_array();
    for (unsigned row = 1; row <= s->rows; row++) {
        json_t *q = question_json(s, row);
        if (!q)
            continue;
        s->qrow[json_array_size(arr)] = row;
        json_array_append_new(arr, q);
    }
    if (!json_array_size(arr))
        fail(s, "q1_text", "%s",
             T(s->r, "a questionnaire asks at least one question: write it here"));
    json_object_set_new(obj, "questions", arr);
    return 0;
}

/* The rows the questionnaire form shows: as many as were posted (1 to
 * EVENT_MAX_QUESTIONS), FORM_QUESTION_ROWS more for "more". */
static unsigned question_rows(const web_req_t *r)
{
    const char *v = r->form ? web_field(r, "rows") : NULL;
    unsigned n = FORM_QUESTION_ROWS;
    if (v && *v && strlen(v) < 4 && strspn(v, "0123456789") == strlen(v))
        n = (unsigned)atoi(v);
    if (r->form && web_field(r, "more"))
        n += FORM_QUESTION_ROWS;
    return n < 1 ? 1 : n > EVENT_MAX_QUESTIONS ? EVENT_MAX_QUESTIONS : n;
}

/* ---- the feedback's counts ----------------------------------------------- */

/* One question's counts (the controls rN_vVALUE, empty for 0), lowest
 * value first; into *sum. NULL after an error of rN. */
static json_t *counts_json(fstate_t *s, size_t i, unsigned long long *sum)
{
    char field[32], ctl[48];
    json_t *arr = json_array();
    snprintf(field, sizeof field, "r%zu", i + 1);
    *sum = 0;
    for (unsigned v = s->fq->q[i].min; v <= s->fq->q[i].max; v++) {
        long long n = 0;
        snprintf(ctl, sizeof ctl, "%s_v%u", field, v);
        const char *x = web_field(s->r, ctl);
        if (x && *x && parse_count(s, field, x, &n) != 0) {
            json_decref(arr);
            return NULL;
        }
        if (n > EVENT_MAX_COUNT) {
            fail(s, field, T(s->r, "%lld is more than %d"), n, EVENT_MAX_COUNT);
            json_decref(arr);
            return NULL;
        }
        *sum += (unsigned long long)n;
        json_array_append_new(arr, json_integer(n));
    }
    return arr;
}

/* The histograms, each said wrong at its question when its counts do not
 * sum to the respondents; and too few respondents said at theirs (the
 * wire rules, in the page's language, for every question at once). */
static int put_results(fstate_t *s, json_t *obj)
{
    const json_t *resp = json_object_get(obj, "respondents"), *v;
    const char *role;
    unsigned long long total = 0, sum;
    char field[32];
    json_object_foreach((json_t *)resp, role, v)
        total += (unsigned long long)json_integer_value(v);
    if (resp && total < EVENT_MIN_RESPONDENTS)
        fail(s, "respondents",
             T(s->r, "%llu in all: results of fewer than %d respondents are never shared"),
             total, EVENT_MIN_RESPONDENTS);
    json_t *arr = json_array();
    for (size_t i = 0; s->fq && i < s->fq->n; i++) {
        json_t *counts = counts_json(s, i, &sum);
        snprintf(field, sizeof field, "r%zu", i + 1);
        if (counts && resp && sum != total)
            fail(s, field, T(s->r, "the counts sum to %llu, the respondents to %llu"), sum,
                 total);
        json_array_append_new(arr, counts ? counts : json_array());
    }
    json_object_set_new(obj, "results", arr);
    return 0;
}

static int put_participants(fstate_t *s, json_t *obj, const char *name, const char *v)
{
    json_t *o = json_object();
    char why[256];
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, "\r\n"), blank = strspn(p, " \t");
        const char *line = p;
        p += n + strspn(p + n, "\r\n");
        if (blank >= n)
            continue;
        if (payload_count_add(o, line, n, why, sizeof why) != PJ_OK) {
            json_decref(o);
            return fail(s, name, "%s", why);
        }
    }
    json_object_set_new(obj, name, o);
    return 0;
}

/* A required field left empty: said here, in the page's language, for
 * every such field at once (payload_from_json would name only the first). */
static int empty_required(fstate_t *s, const ffield_t *f)
{
    char n1[80];
    snprintf(n1, sizeof n1, "%s%s", f->name, f->type == T_TEXTS || f->type == T_AREAS ? "_1" : "");
    const char *v = web_field(s->r, n1);
    if (!f->required || (v && *v))
        return 0;
    return fail(s, f->name, "%s",
                f->type == T_ABOUT || f->type == T_NETWORK || f->type == T_TZ ||
                        f->type == T_RTYPE || f->type == T_MEASURE || f->type == T_QUESTIONNAIRE
                    ? T(s->r, "choose one")
                    : T(s->r, "fill this in"));
}

/* The uploaded file, listed as `publish --attach` lists one; a refusal
 * of it (too large, ...) is the form's error. */
static int put_file(fstate_t *s, json_t *obj)
{
    const char *field, *line;
    char why[300];
    if (upload_refused(s->r->upload, &field, &line))
        return fail(s, field, "%s", line);
    if (upload_list(s->r->upload, obj, why, sizeof why) != 0)
        return fail(s, "attachment", "%s", why);
    return 0;
}

static int put_field(fstate_t *s, json_t *obj, const ffield_t *f)
{
    const config_t *cfg = s->r->env->cfg;
    const char *v = web_field(s->r, f->name);
    if (s->base && f->type == T_NETWORK)
        return 0; /* an update goes to its target's network */
    if (f->type == T_QUESTIONS)
        return put_questions(s, obj);
    if (f->type == T_RESULTS)
        return put_results(s, obj);
    if (empty_required(s, f))
        return -1;
    if (f->type == T_TEXTS || f->type == T_AREAS)
        return put_texts(s, obj, f);
    if (f->type == T_FILE)
        return put_file(s, obj);
    if (!v || !*v) {
        json_object_del(obj, f->name); /* emptied in a correction: gone */
        if (strcmp(f->name, "organiser") == 0)
            json_object_set_new(obj, "organiser", json_string(cfg->name));
        return 0; /* payload_from_json names what is required */
    }
    switch (f->type) {
    case T_NETWORK:
        if (!config_has_network(cfg, v))
            return fail(s, "network", T(s->r, "'%s' is not one of this node's networks"), v);
        return 0; /* not content: it goes beside the payload */
    case T_COUNT: return put_count(s, obj, f->name, v);
    case T_LIST: return put_list(obj, f->name, v);
    case T_PARTICIPANTS: return put_participants(s, obj, f->name, v);
    default: json_object_set_new(obj, f->name, json_string(v)); return 0;
    }
}

/* start and end read in the form's zone: each must be a time, and the end
 * after the start (the wire rule, said in the page's language). */
static void check_times(fstate_t *s)
{
    const char *tz = web_field(s->r, "tz"), *a = web_field(s->r, "start"),
               *b = web_field(s->r, "end");
    int64_t ta = 0, tb = 0;
    char why[256];
    if (!field_named(s, "start") || !tz || !civil_zone_known(tz))
        return;
    int ok_a = a && *a && civil_parse(a, tz, &ta, why, sizeof why) == 0;
    if (a && *a && !ok_a)
        fail(s, "start", T(s->r, "'%s' is not a date and time"), a);
    int ok_b = b && *b && civil_parse(b, tz, &tb, why, sizeof why) == 0;
    if (b && *b && !ok_b)
        fail(s, "end", T(s->r, "'%s' is not a date and time"), b);
    if (ok_a && ok_b && tb <= ta)
        fail(s, "end", "%s", T(s->r, "must be after the start"));
}

static void pick_langs(fstate_t *s)
{
    const char *l1 = web_field(s->r, "lang_1"), *l2 = web_field(s->r, "lang_2");
    for (int which = 0; which < 2; which++) {
        const char *l = which ? l2 : l1;
        size_t n = l ? strlen(l) : 0;
        int bad = (which == 0 || n) &&
                  (n < 2 || n > 35 ||
                   strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n);
        if (bad)
            fail(s, which ? "lang_2" : "lang_1", T(s->r, "'%s' is not a language tag"), l ? l : "");
        else
            snprintf(which ? s->lang2 : s->lang1, sizeof s->lang1, "%s", l ? l : "");
    }
}

/* A part of a list the wire rules name, as the form's field: questions[i]
 * (its text, a label, else its scale) in the row it came from, results[i]
 * at its question's counts, respondents[i] at the respondents, and any
 * field of the table followed by ':', '[' or '.'. */
static void indexed_field(const fstate_t *s, const char *q, char *field, size_t n)
{
    size_t i;
    int used = -1;
    if (sscanf(q, "questions[%zu]%n", &i, &used) == 1 && used > 0 && i < EVENT_MAX_QUESTIONS &&
        s->qrow[i]) {
        const char *rest = q + used, *low = row_field(s, s->qrow[i], "low_1"),
                   *low2 = row_field(s, s->qrow[i], "low_2");
        int had_low = (low && *low) || (low2 && *low2);
        const char *part = strncmp(rest, ".text", 5) == 0 ? "text"
                           : strncmp(rest, ".labels[0]", 10) == 0 && had_low ? "low"
                           : strncmp(rest, ".labels", 7) == 0              ? "high"
                                                                            : "max";
        snprintf(field, n, "q%u_%s", s->qrow[i], part);
        return;
    }
    if (sscanf(q, "results[%zu]%n", &i, &used) == 1 && used > 0 && s->fq && i < s->fq->n) {
        snprintf(field, n, "r%zu", i + 1);
        return;
    }
    for (size_t k = 0; k < s->k->n; k++) {
        size_t len = strlen(s->k->fields[k].name);
        if (strncmp(q, s->k->fields[k].name, len) == 0 && q[len] && strchr(":[.", q[len]))
            snprintf(field, n, "%s", s->k->fields[k].name);
    }
}

/* Where a wire rule's reason names its field: after "field '" in English,
 * and in every language at the start, one word and the quoted name
 * ("fältet 'start'", "Feld 'start'", "kenttä 'start'": the reasons are
 * translated, util/why.h, the names are the payload's). NULL if neither. */
static const char *named_field(const char *why)
{
    const char *q = strstr(why, "field '");
    if (q)
        return q + 7;
    size_t w = strcspn(why, " '");
    return w > 0 && strncmp(why + w, " '", 2) == 0 ? why + w + 2 : NULL;
}

/* "field 'start': ..." → start; the message itself stays whole. The
 * publisher's own refusals of a file (attachment_too_large, past
 * attachment_max_mib; attachment_quota) name no field: they are the file
 * field's, on a form that has one. */
static void place_error(fstate_t *s, const char *why)
{
    const char *q = named_field(why);
    char field[64] = "";
    if (!q && field_named(s, "attachment") &&
        (strstr(why, err_name(ATTACH_ERR_TOO_LARGE)) || strstr(why, err_name(ATTACH_ERR_QUOTA))))
        snprintf(field, sizeof field, "attachment");
    if (q) {
        size_t n = strcspn(q, "'");
        for (size_t i = 0; i < s->k->n; i++)
            if (strlen(s->k->fields[i].name) == n && strncmp(s->k->fields[i].name, q, n) == 0)
                snprintf(field, sizeof field, "%s", s->k->fields[i].name);
    } else if (s->k->kind == LERNET__KIND__KIND_FEEDBACK) {
        q = why; /* the publisher's refusals: "about: ...", "results[2]: ..." */
    }
    if (q && !field[0])
        indexed_field(s, q, field, sizeof field);
    fail(s, field, "%s", why);
}

/* Checks everything the form can check itself, collecting every error;
 * only a form without any goes on to payload_from_json (the wire rules),
 * whose first error is added. */
static int build(fstate_t *s, Lernet__Payload **p)
{
    char why[512] = "";
    json_t *obj = s->base ? json_deep_copy(s->base) : json_object();
    pick_langs(s);
    for (size_t i = 0; i < s->k->n; i++)
        put_field(s, obj, &s->k->fields[i]);
    check_times(s);
    if (!s->n_errs && payload_from_json(p, s->k->kind, obj, why, sizeof why) != PJ_OK)
        place_error(s, why);
    json_decref(obj);
    return s->n_errs ? -1 : 0;
}

/* Through the daemon's publish command: signed, stored and pushed. */
static json_t *publish(fstate_t *s, const Lernet__Payload *p)
{
    /* updates and cancels: NULL, the target's network (the only one allowed) */
    const char *net = p->body_case == LERNET__PAYLOAD__BODY_UPDATE ||
                              p->body_case == LERNET__PAYLOAD__BODY_CANCEL
                          ? NULL
                          : web_field(s->r, "network");
    size_t len = lernet__payload__get_packed_size(p);
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t *buf = malloc(len ? len : 1);
    char *b64 = malloc(b64len);
    json_t *req = NULL, *reply = NULL;
    if (buf && b64) {
        lernet__payload__pack(p, buf);
        sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
        req = json_pack("{s:s,s:s?,s:s}", "cmd", "publish", "network", net, "payload", b64);
    }
    if (req)
        reply = s->r->env->control(s->r->env->control_ctx, req);
    json_decref(req);
    free(buf);
    free(b64);
    return reply;
}

static void submit(fstate_t *s, web_resp_t *out)
{
    Lernet__Payload *p = NULL;
    if (build(s, &p) != 0) {
        draw(s, out, 422);
        return;
    }
    char why[300];
    if (upload_place(s->r->upload, why, sizeof why) != 0) {
        lernet__payload__free_unpacked(p, NULL);
        place_error(s, why);
        draw(s, out, 422);
        return;
    }
    json_t *reply = publish(s, p);
    lernet__payload__free_unpacked(p, NULL);
    if (reply && json_is_true(json_object_get(reply, "ok"))) {
        const char *id = json_string_value(json_object_get(reply, "id"));
        const char *about = web_field(s->r, "about");
        out->status = 303;
        if (s->k->kind == LERNET__KIND__KIND_REPLY && about) /* back to the thread */
            snprintf(out->location, sizeof out->location, "/event/%.64s?published=1#r-%.64s",
                     about, id);
        else if (s->k->kind == LERNET__KIND__KIND_FEEDBACK) /* the activity shows it */
            snprintf(out->location, sizeof out->location, "/event/%s?published=1#feedback",
                     s->target_hex);
        else
            snprintf(out->location, sizeof out->location, "/event/%s?published=1", id);
    } else {
        const char *err = json_string_value(json_object_get(reply, "error"));
        upload_unplace(s->r->upload); /* refused: the file goes too */
        place_error(s, err ? err : T(s->r, "the daemon did not answer"));
        draw(s, out, 422);
    }
    json_decref(reply);
}

/* ---- the feedback's activity and questionnaire ---------------------------- */

typedef struct refs_ctx {
    fstate_t *s;
    int found;
} refs_ctx_t;

/* The activity: one of this node's workshops or meetings (its organiser
 * shares the feedback: the publisher's rule, said here at the field). */
static int take_about(void *ctx, const store_item_t *it)
{
    refs_ctx_t *c = ctx;
    fstate_t *s = c->s;
    size_t n;
    Lernet__Text **t = activity_title(it, &n);
    c->found = 1;
    if (!t)
        return fail(s, "about", "%s", T(s->r, "not a workshop or meeting"));
    if (memcmp(it->author, s->r->env->author, KEYS_PUBLIC_BYTES) != 0)
        return fail(s, "about", "%s",
                    T(s->r, "organised by another node: only its organiser shares its feedback"));
    event_id_hex(s->target_hex, it->id);
    snprintf(s->network, sizeof s->network, "%s", it->network);
    const char *title = n ? payload_text_pick(t, n, s->r->langs) : NULL;
    snprintf(s->title, sizeof s->title, "%s", title ? title : "");
    return 1;
}

static int take_quest(void *ctx, const store_item_t *it)
{
    refs_ctx_t *c = ctx;
    fstate_t *s = c->s;
    const Lernet__Questionnaire *q = it->questionnaire;
    c->found = 1;
    if (it->kind != LERNET__KIND__KIND_QUESTIONNAIRE)
        return fail(s, "questionnaire", "%s", T(s->r, "not a questionnaire"));
    if (!q || it->unauthorised)
        return fail(s, "questionnaire", "%s",
                    T(s->r, "its content was erased, or it is not counted here"));
    if (strcmp(it->network, s->network) != 0)
        return fail(s, "questionnaire", T(s->r, "is of the network '%s', the activity of '%s'"),
                    it->network, s->network);
    fquest_t *fq = calloc(1, sizeof *fq);
    if (!fq)
        return fail(s, "", "%s", T(s->r, "out of memory"));
    event_id_hex(fq->id, it->id);
    questionnaire_title(s, q, fq->title, sizeof fq->title);
    snprintf(fq->network, sizeof fq->network, "%s", it->network);
    for (size_t i = 0; i < q->n_questions && i < EVENT_MAX_QUESTIONS; i++) {
        const Lernet__Question *x = q->questions[i];
        const char *text = x->n_text ? payload_text_pick(x->text, x->n_text, s->r->langs) : NULL;
        if (x->max <= x->min || x->max - x->min >= EVENT_MAX_SCALE) /* checked when stored */
            break;
        fq->q[i].min = x->min;
        fq->q[i].max = x->max;
        snprintf(fq->q[i].text, sizeof fq->q[i].text, "%s", text ? text : "");
        for (size_t j = 0; j < x->n_labels; j++) {
            const char *l = x->labels[j]->n_text ? payload_text_pick(x->labels[j]->text,
                                                                     x->labels[j]->n_text,
                                                                     s->r->langs)
                                                 : NULL;
            if (l && x->labels[j]->value >= x->min && x->labels[j]->value <= x->max)
                snprintf(fq->q[i].label[x->labels[j]->value - x->min], EVENT_MAX_SHORT + 1, "%s",
                         l);
        }
        fq->n = i + 1;
    }
    s->fq = fq;
    return 1;
}

/* One id the feedback form names (field about or questionnaire): read
 * through take; left empty when step 1 was sent ("Next", step=2) or in
 * step 2, "choose one"; absent on a first visit, no error. Returns 0 once
 * taken. */
static int load_ref(fstate_t *s, const char *field, store_item_cb take)
{
    const char *id = value(s, field);
    refs_ctx_t c = {s, 0};
    char why[256] = "";
    if (!id || !*id)
        return s->r->form || web_arg(s->r, "step") ? fail(s, field, "%s", T(s->r, "choose one"))
                                                   : -1;
    int rc = store_item(s->r->env->st, id, take, &c, why, sizeof why);
    if (!c.found)
        return fail(s, field, "%s",
                    rc == STORE_ERR_AMBIGUOUS ? why : T(s->r, "no such event here"));
    return error_of(s, field) ? -1 : 0;
}

/* Step 2 needs both: the activity (which also narrows step 1's list of
 * questionnaires to its network) and the questionnaire. */
static void feedback_refs(fstate_t *s)
{
    if (load_ref(s, "about", take_about) == 0)
        load_ref(s, "questionnaire", take_quest);
}

void form_publish(const web_req_t *r, web_resp_t *out)
{
    fstate_t s = {.r = r};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(r->path, kinds[i].path) == 0)
            s.k = &kinds[i];
    if (!s.k) {
        web_error_page(r, out, 404, T(r, "forms: /publish/workshop, /publish/meeting, "
                                         "/publish/experience, /publish/resource, /publish/reply, "
                                         "/publish/goal, /publish/questionnaire, "
                                         "/publish/feedback"));
        return;
    }
    s.rows = question_rows(r);
    if (s.k->kind == LERNET__KIND__KIND_FEEDBACK)
        feedback_refs(&s);
    if (s.n_errs) /* the activity or questionnaire: step 1 again */
        draw(&s, out, 422);
    else if (r->form && field_named(&s, "questions") && web_field(r, "more"))
        draw(&s, out, 200); /* more rows, nothing checked yet */
    else if (r->form && (s.k->kind != LERNET__KIND__KIND_FEEDBACK || s.fq))
        submit(&s, out);
    else
        draw(&s, out, 200);
    free(s.fq);
}

/* ---- correcting and cancelling an event ---------------------------------- */

/* What the event page offers this node for an item: a correction and a
 * cancellation of its own workshops and meetings that are not cancelled
 * (the same rule publish_event applies to updates and cancels). */
int form_editable(const web_req_t *r, const store_item_t *it)
{
    return (it->workshop || it->meeting) && !it->cancelled &&
           memcmp(it->author, r->env->author, KEYS_PUBLIC_BYTES) == 0;
}

static void join_list(json_t *pre, const char *name, char **v, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 2;
    char *buf = malloc(len + 1), *p = buf;
    if (!buf)
        return;
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%s", i ? ", " : "", v[i]);
    json_object_set_new(pre, name, json_string(buf));
    free(buf);
}

/* The texts of one field in the form's two languages (the title's first two). */
static void prefill_texts(fstate_t *s, const char *name, Lernet__Text **t, size_t n)
{
    char key[80];
    for (size_t i = 0; i < n; i++) {
        int which = strcmp(t[i]->lang, s->orig1) == 0   ? 1
                    : strcmp(t[i]->lang, s->orig2) == 0 ? 2
                                                        : 0;
        if (!which)
            continue;
        snprintf(key, sizeof key, "%s_%d", name, which);
        json_object_set_new(s->prefill, key, json_string(t[i]->text));
    }
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

static void prefill_times(fstate_t *s, const store_item_t *it, const char *tz)
{
    char a[32], b[32];
    civil_strftime(it->start, tz, "%Y-%m-%dT%H:%M", a, sizeof a);
    civil_strftime(it->end, tz, "%Y-%m-%dT%H:%M", b, sizeof b);
    set_str(s->prefill, "start", a);
    set_str(s->prefill, "end", b);
    set_str(s->prefill, "tz", tz);
}

static void prefill_workshop(fstate_t *s, const store_item_t *it)
{
    const Lernet__Workshop *w = it->workshop;
    static const char *const st[] = {"", "planned", "confirmed", "full", ""};
    char cap[16];
    prefill_texts(s, "title", w->title, w->n_title);
    prefill_texts(s, "description", w->description, w->n_description);
    prefill_times(s, it, w->tz);
    set_str(s->prefill, "place", w->place);
    set_str(s->prefill, "online_url", w->online_url);
    set_str(s->prefill, "organiser", w->organiser);
    if (w->capacity) {
        snprintf(cap, sizeof cap, "%u", w->capacity);
        set_str(s->prefill, "capacity", cap);
    }
    join_list(s->prefill, "themes", w->themes, w->n_themes);
    join_list(s->prefill, "roles", w->roles, w->n_roles);
    set_str(s->prefill, "language", w->language);
    set_str(s->prefill, "status", (int)w->status >= 0 && w->status < 5 ? st[w->status] : "");
}

static void prefill_meeting(fstate_t *s, const store_item_t *it)
{
    const Lernet__Meeting *m = it->meeting;
    prefill_texts(s, "title", m->title, m->n_title);
    prefill_texts(s, "agenda", m->agenda, m->n_agenda);
    prefill_texts(s, "minutes", m->minutes, m->n_minutes);
    prefill_times(s, it, m->tz);
    set_str(s->prefill, "place", m->place);
    set_str(s->prefill, "online_url", m->online_url);
    set_str(s->prefill, "organiser", m->organiser);
    join_list(s->prefill, "themes", m->themes, m->n_themes);
}

typedef struct target_ctx {
    fstate_t *s;
    int found, editable;
} target_ctx_t;

static int take_target(void *ctx, const store_item_t *it)
{
    target_ctx_t *c = ctx;
    fstate_t *s = c->s;
    size_t n;
    Lernet__Text **t = activity_title(it, &n);
    c->found = 1;
    c->editable = form_editable(s->r, it);
    memcpy(s->target, it->id, EVENT_ID_BYTES);
    event_id_hex(s->target_hex, it->id);
    snprintf(s->network, sizeof s->network, "%s", it->network);
    const char *title = n ? payload_text_pick(t, n, s->r->langs) : NULL;
    snprintf(s->title, sizeof s->title, "%s", title ? title : "");
    if (!c->editable)
        return 1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == it->kind)
            s->k = &kinds[i];
    snprintf(s->orig1, sizeof s->orig1, "%s", n > 0 ? t[0]->lang : "");
    snprintf(s->orig2, sizeof s->orig2, "%s", n > 1 ? t[1]->lang : "");
    s->prefill = json_object();
    s->base = it->workshop ? payload_workshop_json(it->workshop) : payload_meeting_json(it->meeting);
    json_object_set_new(s->prefill, "lang_1", json_string(s->orig1));
    json_object_set_new(s->prefill, "lang_2", json_string(s->orig2));
    if (it->workshop)
        prefill_workshop(s, it);
    else
        prefill_meeting(s, it);
    /* the *_local keys are only for reading; the form's times replace both */
    json_object_del(s->base, "start_local");
    json_object_del(s->base, "end_local");
    return 1;
}

/* The event ID names, for a correction or a cancellation; else an error
 * page (and -1). */
static int load_target(fstate_t *s, web_resp_t *out, const char *id)
{
    target_ctx_t c = {s, 0, 0};
    char why[256] = "";
    int rc = store_item(s->r->env->st, id, take_target, &c, why, sizeof why);
    if (!c.found) {
        web_error_page(s->r, out, 404,
                       rc == STORE_ERR_AMBIGUOUS ? why : T(s->r, "no such event here"));
        return -1;
    }
    if (!c.editable || !s->base) {
        web_error_page(s->r, out, 403,
                       T(s->r, "Only workshops and meetings this node published, and not "
                               "cancelled, can be corrected or cancelled here."));
        return -1;
    }
    return 0;
}

static void free_target(fstate_t *s)
{
    json_decref(s->prefill);
    json_decref(s->base);
}

/* The daemon's answer to an update or cancel: back to the event, or the
 * form again with its error. Returns 0 when done. */
static int answered(fstate_t *s, json_t *reply, web_resp_t *out, const char *notice)
{
    int ok = reply && json_is_true(json_object_get(reply, "ok"));
    if (ok) {
        out->status = 303;
        snprintf(out->location, sizeof out->location, "/event/%s?%s=1", s->target_hex, notice);
    } else {
        const char *why = json_string_value(json_object_get(reply, "error"));
        place_error(s, why ? why : T(s->r, "the daemon did not answer"));
    }
    json_decref(reply);
    return ok ? 0 : -1;
}

void form_edit(const web_req_t *r, web_resp_t *out, const char *id)
{
    fstate_t s = {.r = r};
    Lernet__Payload *content = NULL, *p = NULL;
    if (load_target(&s, out, id) != 0) {
        free_target(&s);
        return;
    }
    if (!r->form) {
        draw(&s, out, 200);
    } else if (build(&s, &content) != 0) {
        draw(&s, out, 422);
    } else if (!(p = payload_update_of(content, s.target))) {
        lernet__payload__free_unpacked(content, NULL);
        fail(&s, "", "%s", T(r, "out of memory"));
        draw(&s, out, 500);
    } else {
        lernet__payload__free_unpacked(content, NULL); /* its body is in p now */
        json_t *reply = publish(&s, p);
        lernet__payload__free_unpacked(p, NULL);
        if (answered(&s, reply, out, "updated") != 0)
            draw(&s, out, 422);
    }
    free_target(&s);
}

static void draw_cancel(const fstate_t *s, web_resp_t *out, int status)
{
    html_t *h = html_new();
    char title[700];
    snprintf(title, sizeof title, T(s->r, "Cancel: %s"), s->title);
    html_raw(h, "<h1>");
    html_text(h, title);
    html_raw(h, "</h1>");
    error_summary(h, s);
    html_rawf(h, "<form class=\"publish\" method=\"post\" action=\"/event/%s/cancel\" novalidate>"
                 "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><p>%s</p>"
                 "<label for=\"f-reason\">%s</label><span class=\"hint\" id=\"hint-reason\">%s"
                 "</span>",
              s->target_hex, s->r->csrf,
              T(s->r, "Everyone who sees this event, at every partner, sees it cancelled. This "
                      "cannot be undone; publish a new event if it takes place after all."),
              T(s->r, "Reason (optional)"),
              T(s->r, "shown with the event, e.g. too few registrations; no personal data"));
    err_line(h, s, "reason");
    html_raw(h, "<textarea rows=\"3\" maxlength=\"200\"");
    ctl_attrs(h, s, "reason", "reason", 0, 1);
    html_raw(h, ">");
    html_text(h, s->r->form ? web_field(s->r, "reason") : NULL);
    html_rawf(h, "</textarea><button type=\"submit\" id=\"submit\">%s</button> "
                 "<a href=\"/event/%s\">%s</a></form>",
              T(s->r, "Cancel the event"), s->target_hex, T(s->r, "Keep it"));
    web_page(s->r, out, status, title, html_take(&h, NULL));
}

void form_cancel(const web_req_t *r, web_resp_t *out, const char *id)
{
    fstate_t s = {.r = r};
    if (load_target(&s, out, id) != 0) {
        free_target(&s);
        return;
    }
    if (!r->form) {
        draw_cancel(&s, out, 200);
    } else {
        const char *reason = web_field(r, "reason");
        Lernet__Cancel c = LERNET__CANCEL__INIT;
        Lernet__Payload p = LERNET__PAYLOAD__INIT;
        c.target.data = s.target;
        c.target.len = EVENT_ID_BYTES;
        c.reason = (char *)(reason ? reason : "");
        p.body_case = LERNET__PAYLOAD__BODY_CANCEL;
        p.cancel = &c;
        /* the same check `lernet cancel` meets, before it is signed */
        char why[256];
        if (event_check_payload(LERNET__KIND__KIND_CANCEL, &p, why, sizeof why) != 0) {
            fail(&s, "reason", "%s", why);
            draw_cancel(&s, out, 422);
        } else if (answered(&s, publish(&s, &p), out, "cancelled") != 0) {
            draw_cancel(&s, out, 422);
        }
    }
    free_target(&s);
}
