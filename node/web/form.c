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
#include <time.h>

#include "web/html.h"
#include "web/upload.h"
#include "core/payload_json.h"
#include "util/country.h"
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
};

typedef struct ffield {
    const char *name; /* the JSON field, and the form field (plus _1/_2 for texts) */
    enum ftype type;
    const char *label, *hint;
    int required;
} ffield_t;

static const ffield_t workshop_fields[] = {
    {"network", T_NETWORK, "Network", "who receives it", 1},
    {"title", T_TEXTS, "Title", NULL, 1},
    {"description", T_AREAS, "Description", NULL, 0},
    {"start", T_TIME, "Starts", NULL, 1},
    {"end", T_TIME, "Ends", NULL, 1},
    {"tz", T_TZ, "Time zone", "of the times above", 1},
    {"place", T_LINE, "Place", "address, or leave empty for online only", 0},
    {"online_url", T_URL, "Online link", "https://…", 0},
    {"organiser", T_LINE, "Organiser", "the organisation, never a person", 0},
    {"capacity", T_COUNT, "Capacity", "places; empty if open", 0},
    {"themes", T_LIST, "Themes", "comma-separated, e.g. workplace learning", 0},
    {"roles", T_LIST, "For", "roles, comma-separated, e.g. teachers, company representatives",
     0},
    {"language", T_LANG, "Language of instruction", NULL, 0},
    {"status", T_STATUS, "Status", NULL, 0},
};

static const ffield_t meeting_fields[] = {
    {"network", T_NETWORK, "Network", "who receives it", 1},
    {"title", T_TEXTS, "Title", NULL, 1},
    {"start", T_TIME, "Starts", NULL, 1},
    {"end", T_TIME, "Ends", NULL, 1},
    {"tz", T_TZ, "Time zone", "of the times above", 1},
    {"place", T_LINE, "Place", NULL, 0},
    {"online_url", T_URL, "Online link", "https://…", 0},
    {"organiser", T_LINE, "Organiser", "the organisation, never a person", 0},
    {"agenda", T_AREAS, "Agenda", NULL, 0},
    {"minutes", T_AREAS, "Minutes", "often added later", 0},
    {"themes", T_LIST, "Themes", "comma-separated", 0},
};

static const ffield_t experience_fields[] = {
    {"network", T_NETWORK, "Network", "who receives it", 1},
    {"about", T_ABOUT, "About", "the workshop or meeting reported on", 1},
    {"title", T_TEXTS, "Title", NULL, 1},
    {"text", T_AREAS, "What was tried and how it went", NULL, 1},
    {"lessons", T_AREAS, "Lessons others can reuse", NULL, 0},
    {"tags", T_LIST, "Tags", "comma-separated", 0},
    {"participants", T_PARTICIPANTS, "Participants by role",
     "one per line, ROLE=COUNT, e.g. teachers=12 (counts only, never names)", 0},
};

static const ffield_t resource_fields[] = {
    {"network", T_NETWORK, "Network", "who receives it", 1},
    {"title", T_TEXTS, "Title", NULL, 1},
    {"type", T_RTYPE, "Type", NULL, 1},
    {"summary", T_AREAS, "Summary", "what it is and who it helps", 0},
    {"urls", T_LIST, "Links", "comma-separated http(s) addresses; a link needs one", 0},
    {"licence", T_LINE, "Licence", "e.g. CC BY 4.0", 0},
    {"themes", T_LIST, "Themes", "comma-separated, e.g. workplace learning", 0},
    {"roles", T_LIST, "For", "roles, comma-separated, e.g. teachers, competence brokers", 0},
    {"language", T_LANG, "Language of the resource", NULL, 0},
    {"about", T_ID, "Documents", "optional: the id of the workshop or meeting it documents", 0},
    {"attachment", T_FILE, "File", "optional: one file, at most the node's attachment_max_mib "
                                   "(25 MiB unless set lower)", 0},
};

static const ffield_t reply_fields[] = {
    {"network", T_NETWORK, "Network", "the network of what it answers", 1},
    {"about", T_ID, "Answers", "the id of the item (or reply) it answers", 1},
    {"text", T_AREAS, "Reply", "written as the organisation: no personal data", 1},
};

typedef struct fkind {
    const char *path, *title;
    int kind;
    const ffield_t *fields;
    size_t n;
} fkind_t;

#define KIND(p, t, k, f) {p, t, k, f, sizeof f / sizeof f[0]}
static const fkind_t kinds[] = {
    KIND("workshop", "New workshop", LERNET__KIND__KIND_WORKSHOP, workshop_fields),
    KIND("meeting", "New network meeting", LERNET__KIND__KIND_MEETING, meeting_fields),
    KIND("experience", "New experience report", LERNET__KIND__KIND_EXPERIENCE,
         experience_fields),
    KIND("resource", "New resource for the library", LERNET__KIND__KIND_RESOURCE,
         resource_fields),
    KIND("reply", "New reply", LERNET__KIND__KIND_REPLY, reply_fields),
};

static const char *const langs[][2] = {{"sv", "svenska"}, {"da", "dansk"},   {"fi", "suomi"},
                                       {"de", "Deutsch"}, {"nb", "norsk"},   {"en", "English"},
                                       {"et", "eesti"},   {"lv", "latviešu"}, {"lt", "lietuvių"},
                                       {"pl", "polski"}};
#define N_LANGS (sizeof langs / sizeof langs[0])

/* The form being drawn or checked. */
typedef struct fstate {
    const web_req_t *r;
    const fkind_t *k;
    char err_field[64]; /* the field the error is about ("" = the form) */
    char err[512];
    char lang1[36], lang2[36];
} fstate_t;

/* A field's current value: what was posted, else a default for a new form. */
static const char *value(const fstate_t *s, const char *name)
{
    const config_t *cfg = s->r->env->cfg;
    if (s->r->form)
        return web_field(s->r, name);
    if (strcmp(name, "network") == 0)
        return cfg->default_network;
    if (strcmp(name, "tz") == 0)
        return country_zone(cfg->country);
    if (strcmp(name, "organiser") == 0)
        return cfg->name;
    if (strcmp(name, "about") == 0)
        return web_arg(s->r, "about");
    return NULL;
}

/* ---- drawing ----------------------------------------------------------- */

static void err_line(html_t *h, const fstate_t *s, const char *name)
{
    if (!s->err[0] || strcmp(s->err_field, name) != 0)
        return;
    html_rawf(h, "<p class=\"field-error\" id=\"error-%s\" role=\"alert\">", name);
    html_text(h, s->err);
    html_raw(h, "</p>");
}

static const char *invalid(const fstate_t *s, const char *name)
{
    return s->err[0] && strcmp(s->err_field, name) == 0
               ? " class=\"invalid\" aria-invalid=\"true\""
               : "";
}

static void option(html_t *h, const char *v, const char *label, const char *cur)
{
    html_raw(h, "<option value=\"");
    html_text(h, v);
    html_raw(h, cur && strcmp(cur, v) == 0 ? "\" selected>" : "\">");
    html_text(h, label);
    html_raw(h, "</option>");
}

static void lang_select(html_t *h, const char *name, const char *cur, int allow_none)
{
    html_rawf(h, "<select name=\"%s\" id=\"f-%s\">", name, name);
    if (allow_none)
        option(h, "", "(none)", cur);
    for (size_t i = 0; i < N_LANGS; i++)
        option(h, langs[i][0], langs[i][1], cur);
    html_raw(h, "</select>");
}

static void input(html_t *h, const fstate_t *s, const char *name, const char *type,
                  const char *v)
{
    html_rawf(h, "<input type=\"%s\" name=\"%s\" id=\"f-%s\"%s value=\"", type, name, name,
              invalid(s, name));
    html_text(h, v);
    html_raw(h, "\">");
}

static void textarea(html_t *h, const fstate_t *s, const char *name, const char *v)
{
    html_rawf(h, "<textarea rows=\"4\" name=\"%s\" id=\"f-%s\"%s>", name, name,
              invalid(s, name));
    html_text(h, v);
    html_raw(h, "</textarea>");
}

typedef struct about_ctx {
    html_t *h;
    const char *cur, *langs;
    size_t n;
} about_ctx_t;

static int about_option(void *ctx, const store_item_t *it)
{
    about_ctx_t *a = ctx;
    char id[EVENT_ID_HEX_SIZE], day[16];
    const Lernet__Text *const *t = it->workshop  ? (const Lernet__Text *const *)it->workshop->title
                                   : it->meeting ? (const Lernet__Text *const *)it->meeting->title
                                                 : NULL;
    size_t n = it->workshop ? it->workshop->n_title : it->meeting ? it->meeting->n_title : 0;
    if (!t)
        return 0;
    if (a->n++ >= FORM_MAX_ABOUT)
        return 1; /* stop: enough to choose from */
    event_id_hex(id, it->id);
    civil_strftime(it->start, NULL, "%Y-%m-%d", day, sizeof day);
    html_raw(a->h, "<option value=\"");
    html_raw(a->h, id);
    html_raw(a->h, a->cur && strcmp(a->cur, id) == 0 ? "\" selected>" : "\">");
    html_text(a->h, day);
    html_raw(a->h, " ");
    html_text(a->h, payload_text_pick((Lernet__Text **)t, n, a->langs));
    html_raw(a->h, "</option>");
    return 0;
}

static void about_select(html_t *h, const fstate_t *s, const char *cur)
{
    about_ctx_t a = {h, cur, s->r->langs, 0};
    /* reports are written after the event: the past year and what is ahead */
    store_query_t q = {.starts_after = time(NULL) - 366 * 86400};
    html_rawf(h, "<select name=\"about\" id=\"f-about\"%s><option value=\"\">(choose)</option>",
              invalid(s, "about"));
    store_items(s->r->env->st, &q, about_option, &a);
    html_raw(h, "</select>");
}

static void multi(html_t *h, const fstate_t *s, const ffield_t *f)
{
    char n1[80], n2[80];
    snprintf(n1, sizeof n1, "%s_1", f->name);
    snprintf(n2, sizeof n2, "%s_2", f->name);
    if (f->type == T_TEXTS) {
        input(h, s, n1, "text", value(s, n1));
        html_raw(h, "<span class=\"hint\">in the second language (optional):</span>");
        input(h, s, n2, "text", value(s, n2));
    } else {
        textarea(h, s, n1, value(s, n1));
        html_raw(h, "<span class=\"hint\">in the second language (optional):</span>");
        textarea(h, s, n2, value(s, n2));
    }
}

static void draw_field(html_t *h, const fstate_t *s, const ffield_t *f)
{
    const config_t *cfg = s->r->env->cfg;
    const char *v = value(s, f->name);
    const char *target = f->type == T_TEXTS || f->type == T_AREAS ? "_1" : "";
    html_rawf(h, "<label for=\"f-%s%s\">%s%s</label>", f->name, target, f->label,
              f->required ? " *" : "");
    if (f->hint)
        html_rawf(h, "<span class=\"hint\">%s</span>", f->hint);
    err_line(h, s, f->name);
    switch (f->type) {
    case T_NETWORK:
        html_rawf(h, "<select name=\"network\" id=\"f-network\"%s>", invalid(s, "network"));
        for (size_t i = 0; i < cfg->n_networks; i++)
            option(h, cfg->networks[i], cfg->networks[i], v);
        html_raw(h, "</select>");
        break;
    case T_TEXTS:
    case T_AREAS: multi(h, s, f); break;
    case T_TIME: input(h, s, f->name, "datetime-local", v); break;
    case T_TZ:
        html_rawf(h, "<select name=\"tz\" id=\"f-tz\"%s>", invalid(s, "tz"));
        for (size_t i = 0; civil_zone_at(i); i++)
            option(h, civil_zone_at(i)->tzid, civil_zone_at(i)->tzid, v);
        option(h, "UTC", "UTC", v);
        html_raw(h, "</select>");
        break;
    case T_URL: input(h, s, f->name, "url", v); break;
    case T_COUNT: input(h, s, f->name, "number", v); break;
    case T_LANG: lang_select(h, f->name, v, 1); break;
    case T_STATUS:
        html_raw(h, "<select name=\"status\" id=\"f-status\">");
        option(h, "planned", "planned", v);
        option(h, "confirmed", "confirmed", v);
        option(h, "full", "full", v);
        html_raw(h, "</select>");
        break;
    case T_ABOUT: about_select(h, s, v); break;
    case T_RTYPE: {
        static const char *const types[] = {"documentation", "literature", "recording", "method",
                                            "link"};
        html_rawf(h, "<select name=\"type\" id=\"f-type\"%s>", invalid(s, "type"));
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            option(h, types[i], types[i], v);
        html_raw(h, "</select>");
        break;
    }
    case T_PARTICIPANTS: textarea(h, s, f->name, v); break;
    case T_FILE:
        html_rawf(h, "<input type=\"file\" name=\"%s\" id=\"f-%s\"%s>", f->name, f->name,
                  invalid(s, f->name));
        break;
    default: input(h, s, f->name, "text", v); break;
    }
}

static void draw(const fstate_t *s, web_resp_t *out, int status)
{
    html_t *h = html_new();
    const char *l1 = s->r->form ? web_field(s->r, "lang_1") : country_lang(s->r->env->cfg->country);
    const char *l2 = s->r->form ? web_field(s->r, "lang_2") : "en";
    html_rawf(h, "<h1>%s</h1>", s->k->title);
    if (s->err[0] && !s->err_field[0]) {
        html_raw(h, "<p class=\"error\" id=\"error\" role=\"alert\">");
        html_text(h, s->err);
        html_raw(h, "</p>");
    } else if (s->err[0]) {
        html_raw(h, "<p class=\"error\" id=\"error\">Not published: see the field marked "
                    "below.</p>");
    }
    int files = 0;
    for (size_t i = 0; i < s->k->n; i++)
        files |= s->k->fields[i].type == T_FILE;
    /* csrf first: an upload's file is taken only after it (web/upload.h) */
    html_rawf(h, "<form class=\"publish\" method=\"post\" action=\"/publish/%s\"%s>"
                 "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
              s->k->path, files ? " enctype=\"multipart/form-data\"" : "", s->r->csrf);
    html_raw(h, "<fieldset><legend>Languages of the texts</legend><label for=\"f-lang_1\">"
                "First language</label>");
    err_line(h, s, "lang_1");
    lang_select(h, "lang_1", l1, 0);
    html_raw(h, "<label for=\"f-lang_2\">Second language</label>");
    err_line(h, s, "lang_2");
    lang_select(h, "lang_2", l2, 1);
    html_raw(h, "</fieldset>");
    for (size_t i = 0; i < s->k->n; i++)
        draw_field(h, s, &s->k->fields[i]);
    html_raw(h, "<button type=\"submit\" id=\"submit\">Sign and publish</button></form>");
    web_page(s->r, out, status, s->k->title, html_take(&h, NULL));
}

/* ---- checking ----------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(fstate_t *s, const char *field,
                                                       const char *fmt, ...)
{
    va_list ap;
    snprintf(s->err_field, sizeof s->err_field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int put_texts(fstate_t *s, json_t *obj, const ffield_t *f)
{
    char n1[80], n2[80];
    snprintf(n1, sizeof n1, "%s_1", f->name);
    snprintf(n2, sizeof n2, "%s_2", f->name);
    const char *v1 = web_field(s->r, n1), *v2 = web_field(s->r, n2);
    json_t *o = json_object();
    if (v1 && *v1)
        json_object_set_new(o, s->lang1, json_string(v1));
    if (v2 && *v2) {
        int rc = 0;
        if (!s->lang2[0])
            rc = fail(s, f->name, "%s: choose the second language above", "the second text");
        else if (json_object_get(o, s->lang2))
            rc = fail(s, "lang_2", "%s", "is the same as the first language");
        if (rc) {
            json_decref(o);
            return rc;
        }
        json_object_set_new(o, s->lang2, json_string(v2));
    }
    if (json_object_size(o))
        json_object_set_new(obj, f->name, o);
    else
        json_decref(o);
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

static int put_count(fstate_t *s, json_t *obj, const char *name, const char *v)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || errno || n < 0)
        return fail(s, name, "'%s' is not a whole number", v);
    json_object_set_new(obj, name, json_integer(n));
    return 0;
}

static int put_participants(fstate_t *s, json_t *obj, const char *v)
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
            return fail(s, "participants", "%s", why);
        }
    }
    json_object_set_new(obj, "participants", o);
    return 0;
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
    if (f->type == T_TEXTS || f->type == T_AREAS)
        return put_texts(s, obj, f);
    if (f->type == T_FILE)
        return put_file(s, obj);
    if (!v || !*v) {
        if (strcmp(f->name, "organiser") == 0)
            json_object_set_new(obj, "organiser", json_string(cfg->name));
        return 0; /* payload_from_json names what is required */
    }
    switch (f->type) {
    case T_NETWORK:
        if (!config_has_network(cfg, v))
            return fail(s, "network", "'%s' is not one of this node's networks", v);
        return 0; /* not content: it goes beside the payload */
    case T_COUNT: return put_count(s, obj, f->name, v);
    case T_LIST: return put_list(obj, f->name, v);
    case T_PARTICIPANTS: return put_participants(s, obj, v);
    default: json_object_set_new(obj, f->name, json_string(v)); return 0;
    }
}

static int pick_langs(fstate_t *s)
{
    const char *l1 = web_field(s->r, "lang_1"), *l2 = web_field(s->r, "lang_2");
    for (int which = 0; which < 2; which++) {
        const char *l = which ? l2 : l1;
        size_t n = l ? strlen(l) : 0;
        if ((which == 0 || n) &&
            (n < 2 || n > 35 ||
             strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n))
            return fail(s, which ? "lang_2" : "lang_1", "'%s' is not a language tag",
                        l ? l : "");
    }
    snprintf(s->lang1, sizeof s->lang1, "%s", l1);
    snprintf(s->lang2, sizeof s->lang2, "%s", l2 ? l2 : "");
    return 0;
}

/* "field 'start': ..." → start; the message itself stays whole. */
static void place_error(fstate_t *s, const char *why)
{
    const char *q = strstr(why, "field '");
    snprintf(s->err, sizeof s->err, "%s", why);
    s->err_field[0] = '\0';
    if (!q)
        return;
    q += 7;
    size_t n = strcspn(q, "'");
    for (size_t i = 0; i < s->k->n; i++)
        if (strlen(s->k->fields[i].name) == n && strncmp(s->k->fields[i].name, q, n) == 0)
            snprintf(s->err_field, sizeof s->err_field, "%s", s->k->fields[i].name);
}

static int build(fstate_t *s, Lernet__Payload **p)
{
    char why[512] = "";
    json_t *obj = json_object();
    int rc = pick_langs(s);
    for (size_t i = 0; rc == 0 && i < s->k->n; i++)
        rc = put_field(s, obj, &s->k->fields[i]);
    if (rc == 0 && (rc = payload_from_json(p, s->k->kind, obj, why, sizeof why)) != PJ_OK)
        place_error(s, why);
    json_decref(obj);
    return rc == 0 ? 0 : -1;
}

/* Through the daemon's publish command: signed, stored and pushed. */
static json_t *publish(fstate_t *s, const Lernet__Payload *p)
{
    size_t len = lernet__payload__get_packed_size(p);
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t *buf = malloc(len ? len : 1);
    char *b64 = malloc(b64len);
    json_t *req = NULL, *reply = NULL;
    if (buf && b64) {
        lernet__payload__pack(p, buf);
        sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
        req = json_pack("{s:s,s:s,s:s}", "cmd", "publish", "network",
                        web_field(s->r, "network"), "payload", b64);
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
    if (!web_field(s->r, "network")) {
        fail(s, "network", "%s", "choose the network that receives it");
        draw(s, out, 422);
        return;
    }
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
        else
            snprintf(out->location, sizeof out->location, "/event/%s?published=1", id);
    } else {
        const char *err = json_string_value(json_object_get(reply, "error"));
        upload_unplace(s->r->upload); /* refused: the file goes too */
        place_error(s, err ? err : "the daemon did not answer");
        draw(s, out, 422);
    }
    json_decref(reply);
}

void form_publish(const web_req_t *r, web_resp_t *out)
{
    fstate_t s = {.r = r};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(r->path, kinds[i].path) == 0)
            s.k = &kinds[i];
    if (!s.k) {
        web_error_page(r, out, 404, "forms: /publish/workshop, /publish/meeting, "
                                    "/publish/experience, /publish/resource, /publish/reply");
        return;
    }
    if (r->form)
        submit(&s, out);
    else
        draw(&s, out, 200);
}
