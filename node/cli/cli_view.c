/*
 * cli_view: commands that read the store: `lernet list`, `lernet show`,
 * `lernet log`, `lernet verify`, `lernet store rebuild`.
 */
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/payload_json.h"
#include "export/erased.h"
#include "export/programme.h"
#include "store/attach.h"
#include "util/text.h"
#include "util/time.h"

/* How deep and how long a thread `show` prints: replies to replies to ...
 * (a thread of a hostile partner's may be as deep as its log is long). */
#define THREAD_MAX_DEPTH 32
#define THREAD_MAX_REPLIES 2000

static const char list_usage[] =
    "usage: lernet list [workshops|meetings|experiences|resources|replies|goals|\n"
    "                   questionnaires|feedback] [--upcoming]\n"
    "                   [--network NET]\n"
    "                   [--lang sv,en] [--json]\n"
    "Lists the current items (updates and cancels applied) from every node this one\n"
    "has heard from. --upcoming: only what has not ended yet. --lang: preferred title\n"
    "languages (default: $LERNET_LANG, else en,sv,da,de,fi).\n";

static const char *default_langs(void)
{
    const char *l = getenv("LERNET_LANG");
    return l && *l ? l : "en,sv,da,de,fi";
}

const char *cli_item_title(const store_item_t *it, const char *langs)
{
    if (it->workshop)
        return payload_text_pick(it->workshop->title, it->workshop->n_title, langs);
    if (it->meeting)
        return payload_text_pick(it->meeting->title, it->meeting->n_title, langs);
    if (it->experience)
        return payload_text_pick(it->experience->title, it->experience->n_title, langs);
    if (it->resource)
        return payload_text_pick(it->resource->title, it->resource->n_title, langs);
    if (it->reply) /* no title: its text stands for one */
        return payload_text_pick(it->reply->text, it->reply->n_text, langs);
    if (it->goal)
        return payload_text_pick(it->goal->title, it->goal->n_title, langs);
    if (it->questionnaire)
        return payload_text_pick(it->questionnaire->title, it->questionnaire->n_title, langs);
    if (it->feedback) /* its title is optional */
        return it->feedback->n_title
                   ? payload_text_pick(it->feedback->title, it->feedback->n_title, langs)
                   : "(feedback)";
    return "(content erased)";
}

static const char *tz_of(const store_item_t *it)
{
    return it->workshop ? it->workshop->tz : it->meeting ? it->meeting->tz : NULL;
}

/* JSON of one item: identity, state and content, the shape of --json. */
json_t *cli_item_json(const store_item_t *it)
{
    char id[EVENT_ID_HEX_SIZE], about[EVENT_ID_HEX_SIZE], author[KEYS_PUB_STR_SIZE];
    event_id_hex(id, it->id);
    keys_pub_encode(author, it->author);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:b,s:I,s:I}", "id", id, "kind",
                          event_kind_name(it->kind), "author", author, "network", it->network,
                          "revision", (json_int_t)it->revision, "cancelled", it->cancelled,
                          "created_ms", (json_int_t)it->created_ms, "updated_ms",
                          (json_int_t)it->updated_ms);
    if (it->cancel_reason)
        json_object_set_new(o, "cancel_reason", json_string(it->cancel_reason));
    erased_json(it, o);
    if (it->author_removed || it->author_revoked)
        json_object_set_new(o, "author_standing",
                            json_string(it->author_revoked ? "identity revoked"
                                                           : "no longer a member"));
    static const uint8_t zero[EVENT_ID_BYTES];
    if (it->kind == LERNET__KIND__KIND_EXPERIENCE || it->kind == LERNET__KIND__KIND_REPLY ||
        it->kind == LERNET__KIND__KIND_FEEDBACK ||
        (it->kind == LERNET__KIND__KIND_RESOURCE && memcmp(it->about, zero, sizeof zero))) {
        event_id_hex(about, it->about);
        json_object_set_new(o, "about", json_string(about));
    }
    if (it->hidden) {
        char by[KEYS_PUB_STR_SIZE];
        keys_pub_encode(by, it->hidden_by);
        json_object_set_new(o, "hidden", json_pack("{s:s,s:I,s:s}", "by", by, "hidden_ms",
                                                   (json_int_t)it->hidden_ms, "reason",
                                                   it->hide_reason ? it->hide_reason : ""));
    }
    json_t *content = it->workshop     ? payload_workshop_json(it->workshop)
                      : it->meeting    ? payload_meeting_json(it->meeting)
                      : it->experience ? payload_experience_json(it->experience)
                      : it->resource   ? payload_resource_json(it->resource)
                      : it->reply      ? payload_reply_json(it->reply)
                      : it->goal       ? payload_goal_json(it->goal)
                      : it->questionnaire ? payload_questionnaire_json(it->questionnaire)
                      : it->feedback   ? payload_feedback_json(it->feedback)
                                       : json_null();
    json_object_set_new(o, "content", content);
    if (it->unauthorised) /* kept, never counted */
        json_object_set_new(o, "counted", json_false());
    return o;
}

json_t *cli_attachments_json(const store_item_t *it, const char *home)
{
    Lernet__Attachment **a = it->resource ? it->resource->attachments
                             : it->reply  ? it->reply->attachments
                                          : NULL;
    size_t n = it->resource ? it->resource->n_attachments
               : it->reply  ? it->reply->n_attachments
                            : 0;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = payload_attachment_json(a[i]);
        json_object_set_new(o, "present",
                            json_boolean(attach_present(home, a[i]->hash.data, a[i]->size)));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* One line of text: the first line, at most 60 characters. */
static const char *one_line(const char *s, char *buf, size_t len)
{
    size_t chars = 0, n = strcspn(s, "\n");
    size_t cut = text_utf8_cut(s, 60, &chars);
    snprintf(buf, len, "%.*s%s", (int)(n < cut ? n : cut), s, n > cut || s[n] ? "…" : "");
    return buf;
}

typedef struct list_ctx {
    int json;
    const char *langs;
    json_t *arr;
    size_t count;
} list_ctx_t;

static int print_item(void *vctx, const store_item_t *it)
{
    list_ctx_t *c = vctx;
    char id[EVENT_ID_HEX_SIZE], when[64] = "";
    c->count++;
    if (c->json) {
        json_array_append_new(c->arr, cli_item_json(it));
        return 0;
    }
    event_id_hex(id, it->id);
    if (it->erased) { /* its time went with its content */
        char line[400];
        printf("%-10s %.12s  %-16s  %-18.18s (%s)\n", event_kind_name(it->kind), id, "",
               it->network, erased_text(it, line, sizeof line));
        return 0;
    }
    if (it->workshop || it->meeting) {
        civil_format(it->start, tz_of(it), when, sizeof when);
        when[16] = '\0'; /* "2026-12-03T09:00" */
        when[10] = ' ';
    } else if (it->reply) { /* in place of a time: what it answers */
        char about[EVENT_ID_HEX_SIZE];
        event_id_hex(about, it->about);
        snprintf(when, sizeof when, "re %-13.12s", about);
    } else if (it->resource) {
        snprintf(when, sizeof when, "%-16s",
                 payload_resource_type_name((int)it->resource->type)
                     ? payload_resource_type_name((int)it->resource->type)
                     : "");
    } else if (it->goal) { /* in place of a time: its period */
        snprintf(when, sizeof when, "%.7s–%.7s  ", it->goal->from, it->goal->to);
    } else if (it->feedback) {
        char about[EVENT_ID_HEX_SIZE];
        event_id_hex(about, it->about);
        snprintf(when, sizeof when, "on %-13.12s", about);
    } else {
        snprintf(when, sizeof when, "%-16s", "");
    }
    char line[256];
    const char *title = cli_item_title(it, c->langs);
    printf("%-10s %.12s  %s  %-18.18s %s%s%s%s%s\n", event_kind_name(it->kind), id, when,
           it->network, it->cancelled ? "[CANCELLED] " : "", it->hidden ? "[HIDDEN] " : "",
           it->unauthorised ? "[NOT COUNTED] " : "",
           it->reply ? one_line(title, line, sizeof line) : title,
           it->author_revoked   ? "  (author's identity revoked)"
           : it->author_removed ? "  (author no longer a member)"
                                : "");
    return 0;
}

static int list_kind(const char *s)
{
    const payload_kind_t *k = payload_kind_named(s);
    return k ? k->kind : -1;
}

int cli_list(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"upcoming", no_argument, 0, 'u'},
                                         {"json", no_argument, 0, 'j'},
                                         {"network", required_argument, 0, 'n'},
                                         {"lang", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    store_query_t q = {0};
    list_ctx_t lc = {0, default_langs(), NULL, 0};
    store_t *st = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': q.starts_after = time(NULL); break;
        case 'j': lc.json = 1; break;
        case 'n': q.network = optarg; break;
        case 'l': lc.langs = optarg; break;
        case 'h': fputs(list_usage, stdout); return CLI_OK;
        default: fputs(list_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc && (q.kind = list_kind(argv[optind++])) < 0)
        return cli_error(CLI_USAGE, "list: '%s' is not workshops, meetings, experiences, "
                                    "resources, replies, goals, questionnaires or feedback",
                         argv[optind - 1]);
    if (optind < argc)
        return cli_error(CLI_USAGE, "list: unexpected argument '%s'", argv[optind]);
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    lc.arr = json_array();
    if (store_items(st, &q, print_item, &lc) != STORE_OK)
        rc = cli_error(CLI_FAIL, "list: store query failed");
    else if (lc.json)
        json_dumpf(lc.arr, stdout, JSON_INDENT(2)), putchar('\n');
    else if (lc.count == 0)
        printf("(nothing yet)\n");
    json_decref(lc.arr);
    store_close(&st);
    return rc;
}

/* ---- show ----------------------------------------------------------- */

static void print_texts(const char *label, Lernet__Text **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%-13s [%s] %s\n", i ? "" : label, t[i]->lang, t[i]->text);
}

static void print_list(const char *label, char **v, size_t n)
{
    if (!n)
        return;
    printf("%-13s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", v[i]);
    putchar('\n');
}

static void print_when(const char *tz, int64_t start, int64_t end)
{
    char a[64], b[64];
    civil_format(start, tz, a, sizeof a);
    civil_format(end, tz, b, sizeof b);
    printf("%-13s %s – %s (%s)\n", "when", a, b, tz);
}

static void print_where(const char *place, const char *url)
{
    if (*place)
        printf("%-13s %s\n", "place", place);
    if (*url)
        printf("%-13s %s\n", "online", url);
}

static void show_workshop(const Lernet__Workshop *w)
{
    print_texts("title", w->title, w->n_title);
    print_when(w->tz, w->start, w->end);
    print_where(w->place, w->online_url);
    printf("%-13s %s\n", "organiser", w->organiser);
    if (w->capacity)
        printf("%-13s %u\n", "capacity", w->capacity);
    if (*w->language)
        printf("%-13s %s\n", "language", w->language);
    print_list("themes", w->themes, w->n_themes);
    print_list("roles", w->roles, w->n_roles);
    print_texts("description", w->description, w->n_description);
}

static void show_meeting(const Lernet__Meeting *m)
{
    print_texts("title", m->title, m->n_title);
    print_when(m->tz, m->start, m->end);
    print_where(m->place, m->online_url);
    if (*m->organiser)
        printf("%-13s %s\n", "organiser", m->organiser);
    print_list("themes", m->themes, m->n_themes);
    print_texts("agenda", m->agenda, m->n_agenda);
    print_texts("minutes", m->minutes, m->n_minutes);
}

static void show_experience(const store_item_t *it, const Lernet__Experience *e)
{
    char about[EVENT_ID_HEX_SIZE];
    event_id_hex(about, it->about);
    print_texts("title", e->title, e->n_title);
    printf("%-13s %s\n", "about", about);
    print_texts("text", e->text, e->n_text);
    print_texts("lessons", e->lessons, e->n_lessons);
    print_list("tags", e->tags, e->n_tags);
    for (size_t i = 0; i < e->n_participants; i++)
        printf("%-13s %u %s\n", i ? "" : "participants", e->participants[i]->count,
               e->participants[i]->role);
}

static void show_attachments(const store_item_t *it, const char *home, const char *indent)
{
    json_t *arr = cli_attachments_json(it, home), *a;
    size_t i;
    json_array_foreach(arr, i, a) {
        printf("%s%-13s %s (%s, %lld bytes) %.16s… %s\n", indent, i ? "" : "attachments",
               json_string_value(json_object_get(a, "name")),
               json_string_value(json_object_get(a, "media_type")),
               (long long)json_integer_value(json_object_get(a, "size")),
               json_string_value(json_object_get(a, "hash")),
               json_is_true(json_object_get(a, "present")) ? "here" : "not yet here");
    }
    json_decref(arr);
}

static void show_resource(const store_item_t *it, const Lernet__Resource *r)
{
    static const uint8_t zero[EVENT_ID_BYTES];
    char about[EVENT_ID_HEX_SIZE];
    const char *type = payload_resource_type_name((int)r->type);
    print_texts("title", r->title, r->n_title);
    printf("%-13s %s\n", "type", type ? type : "?");
    if (memcmp(it->about, zero, sizeof zero)) {
        event_id_hex(about, it->about);
        printf("%-13s %s\n", "documents", about);
    }
    if (*r->language)
        printf("%-13s %s\n", "language", r->language);
    if (*r->licence)
        printf("%-13s %s\n", "licence", r->licence);
    print_list("themes", r->themes, r->n_themes);
    print_list("roles", r->roles, r->n_roles);
    for (size_t i = 0; i < r->n_urls; i++)
        printf("%-13s %s\n", i ? "" : "urls", r->urls[i]);
    print_texts("summary", r->summary, r->n_summary);
}

static void show_reply(const store_item_t *it, const Lernet__Reply *r)
{
    char about[EVENT_ID_HEX_SIZE];
    event_id_hex(about, it->about);
    printf("%-13s %s\n", "answers", about);
    print_texts("text", r->text, r->n_text);
}

static void show_goal(const Lernet__Goal *g)
{
    print_texts("title", g->title, g->n_title);
    printf("%-13s %s\n", "measure", payload_measure_name((int)g->measure));
    print_list("roles", g->roles, g->n_roles);
    print_list("themes", g->themes, g->n_themes);
    printf("%-13s %u\n%-13s %s – %s\n", "target", g->target, "period", g->from, g->to);
    print_texts("description", g->description, g->n_description);
}

static void show_questionnaire(const Lernet__Questionnaire *q)
{
    print_texts("title", q->title, q->n_title);
    for (size_t i = 0; i < q->n_questions; i++) {
        const Lernet__Question *x = q->questions[i];
        printf("%-13s %zu. scale %u..%u\n", i ? "" : "questions", i + 1, x->min, x->max);
        for (size_t j = 0; j < x->n_text; j++)
            printf("%-13s    [%s] %s\n", "", x->text[j]->lang, x->text[j]->text);
        for (size_t j = 0; j < x->n_labels; j++)
            for (size_t k = 0; k < x->labels[j]->n_text; k++)
                printf("%-13s    %u = [%s] %s\n", "", x->labels[j]->value,
                       x->labels[j]->text[k]->lang, x->labels[j]->text[k]->text);
    }
}

static void show_feedback_item(const store_item_t *it, const Lernet__Feedback *f)
{
    char about[EVENT_ID_HEX_SIZE], q[EVENT_ID_HEX_SIZE];
    event_id_hex(about, it->about);
    event_id_hex(q, f->questionnaire.data);
    print_texts("title", f->title, f->n_title);
    printf("%-13s %s\n%-13s %s\n", "about", about, "questionnaire", q);
    for (size_t i = 0; i < f->n_respondents; i++)
        printf("%-13s %u %s\n", i ? "" : "respondents", f->respondents[i]->count,
               f->respondents[i]->role);
}

typedef struct show_ctx {
    int json;
    json_t *obj;
    const char *langs, *home;
    store_t *st;
    uint8_t id[EVENT_ID_BYTES];
    int kind;
    int depth;          /* of the thread being printed */
    json_t *programme;  /* a goal's progress or a feedback's results, computed in show_item */
    size_t replies;     /* printed so far */
    json_t *into;       /* the "replies" array being filled */
} show_ctx_t;

/* Who an author is, for people: its organisation, else its fingerprint. */
static const char *who(store_t *st, const uint8_t *key, char *buf, size_t len)
{
    store_profile_t p;
    if (store_profile(st, key, &p)) {
        snprintf(buf, len, "%s", p.name);
    } else {
        char fpr[KEYS_FPR_STR_SIZE];
        keys_fingerprint(fpr, key);
        snprintf(buf, len, "%s", fpr);
    }
    return buf;
}

static void show_hidden(show_ctx_t *c, const store_item_t *it, const char *indent)
{
    char by[320], day[32];
    civil_strftime(it->hidden_ms / 1000, NULL, "%Y-%m-%d", day, sizeof day);
    printf("%s%-13s by %s (coordinator), %s%s%s\n", indent, "HIDDEN",
           who(c->st, it->hidden_by, by, sizeof by), day,
           it->hide_reason && *it->hide_reason ? ": " : "",
           it->hide_reason ? it->hide_reason : "");
}

static int show_item(void *vctx, const store_item_t *it)
{
    show_ctx_t *c = vctx;
    char id[EVENT_ID_HEX_SIZE], author[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    memcpy(c->id, it->id, EVENT_ID_BYTES);
    c->kind = it->kind;
    if (it->goal && !it->unauthorised)
        c->programme = programme_goal_json(c->st, it, c->langs);
    else if (it->feedback)
        c->programme = programme_feedback_json(c->st, it, c->langs);
    if (c->json) {
        c->obj = cli_item_json(it);
        json_object_set_new(c->obj, "attachments", cli_attachments_json(it, c->home));
        if (c->programme)
            json_object_set(c->obj, it->goal ? "progress" : "results", c->programme);
        return 0;
    }
    event_id_hex(id, it->id);
    keys_pub_encode(author, it->author);
    keys_fingerprint(fpr, it->author);
    printf("%-13s %s\n%-13s %s%s\n%-13s %s (%s)\n%-13s %s\n%-13s %u\n", "id", id, "kind",
           event_kind_name(it->kind), it->cancelled ? " — CANCELLED" : "", "author", author, fpr,
           "network", it->network, "revision", it->revision);
    if (it->cancel_reason && *it->cancel_reason)
        printf("%-13s %s\n", "cancelled", it->cancel_reason);
    if (it->hidden)
        show_hidden(c, it, "");
    if (it->workshop)
        show_workshop(it->workshop);
    else if (it->meeting)
        show_meeting(it->meeting);
    else if (it->experience)
        show_experience(it, it->experience);
    else if (it->resource)
        show_resource(it, it->resource);
    else if (it->reply)
        show_reply(it, it->reply);
    else if (it->goal)
        show_goal(it->goal);
    else if (it->questionnaire)
        show_questionnaire(it->questionnaire);
    else if (it->feedback)
        show_feedback_item(it, it->feedback);
    else if (it->erased) {
        char line[400];
        printf("%-13s (%s)\n", "content", erased_text(it, line, sizeof line));
    } else
        printf("%-13s (erased)\n", "content");
    show_attachments(it, c->home, "");
    if (it->unauthorised)
        printf("%-13s %s\n", "NOT COUNTED",
               it->feedback ? "not published by the organiser of the activity (or the "
                              "activity is not here)"
                            : "its author was not a coordinator of the managed network");
    if (it->goal && c->programme)
        printf("%-13s %lld of %lld (%.1f%%), %lld to go\n", "reached",
               json_integer_value(json_object_get(c->programme, "actual")),
               json_integer_value(json_object_get(c->programme, "target")),
               100.0 * json_real_value(json_object_get(c->programme, "share")),
               json_integer_value(json_object_get(c->programme, "remaining")));
    if (it->feedback && c->programme)
        cli_print_feedback(c->programme, "");
    else if (it->feedback && !it->erased)
        printf("%-13s not shown: its activity or questionnaire is not here, or it does not "
               "fit the questionnaire\n", "results");
    return 0;
}

static int show_report(void *vctx, const store_item_t *it)
{
    show_ctx_t *c = vctx;
    char id[EVENT_ID_HEX_SIZE];
    if (c->json) {
        json_array_append_new(json_object_get(c->obj, "experience_reports"), cli_item_json(it));
        return 0;
    }
    event_id_hex(id, it->id);
    printf("%-13s %.12s %s\n", "report", id, cli_item_title(it, c->langs));
    return 0;
}

static void thread(show_ctx_t *c, const uint8_t id[EVENT_ID_BYTES]);

/* One reply of the thread, then the replies to it, one level deeper. */
static int show_reply_in_thread(void *vctx, const store_item_t *it)
{
    show_ctx_t *c = vctx;
    char id[EVENT_ID_HEX_SIZE], by[320], day[32], indent[2 * THREAD_MAX_DEPTH + 1];
    if (c->replies++ >= THREAD_MAX_REPLIES)
        return 1;
    if (c->json) {
        json_t *o = cli_item_json(it), *outer = c->into;
        json_object_set_new(o, "attachments", cli_attachments_json(it, c->home));
        json_object_set_new(o, "replies", json_array());
        json_array_append_new(outer, o);
        c->into = json_object_get(o, "replies");
        thread(c, it->id);
        c->into = outer;
        return 0;
    }
    snprintf(indent, sizeof indent, "%*s", 2 * c->depth, "");
    event_id_hex(id, it->id);
    civil_strftime(it->created_ms / 1000, NULL, "%Y-%m-%d", day, sizeof day);
    printf("%s↳ reply %.12s  %s, %s\n", indent, id, who(c->st, it->author, by, sizeof by), day);
    if (it->hidden)
        show_hidden(c, it, indent);
    else if (it->reply)
        for (size_t i = 0; i < it->reply->n_text; i++)
            printf("%s  [%s] %s\n", indent, it->reply->text[i]->lang, it->reply->text[i]->text);
    else
        printf("%s  (content erased)\n", indent);
    if (!it->hidden)
        show_attachments(it, c->home, indent);
    thread(c, it->id);
    return 0;
}

/* The replies about id, in the order they were written, each with its own. */
static void thread(show_ctx_t *c, const uint8_t id[EVENT_ID_BYTES])
{
    store_query_t q = {.kind = LERNET__KIND__KIND_REPLY, .about = id};
    if (c->depth >= THREAD_MAX_DEPTH)
        return;
    c->depth++;
    store_items(c->st, &q, show_reply_in_thread, c);
    c->depth--;
}

/* A workshop's or meeting's feedback: the results its organiser shared. */
static void show_activity_feedback(show_ctx_t *c)
{
    json_t *fb = programme_feedback(c->st, NULL, c->id, c->langs), *one;
    size_t i;
    if (c->json) {
        json_object_set_new(c->obj, "feedback", fb ? fb : json_array());
        return;
    }
    json_array_foreach(fb, i, one)
        cli_print_feedback(one, "");
    json_decref(fb);
}

int cli_show(cli_ctx_t *ctx, int argc, char **argv)
{
    show_ctx_t sc = {0};
    store_t *st = NULL;
    char why[256];
    sc.langs = default_langs();
    sc.home = ctx->home;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet show ID [--json]\nAll fields of one item, the experience "
               "reports written about it, and its thread:\nthe replies to it and to them, in "
               "order (at most %d deep, %d replies).\n--json: \"replies\" nested the same "
               "way; \"attachments\" with \"present\" (the file\nis in this node's home).\n",
               THREAD_MAX_DEPTH, THREAD_MAX_REPLIES);
        return CLI_OK;
    }
    sc.json = argc == 3 && strcmp(argv[2], "--json") == 0;
    if (argc < 2 || (argc == 3 && !sc.json) || argc > 3)
        return cli_error(CLI_USAGE, "usage: lernet show ID [--json]");
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    sc.st = st;
    if (store_item(st, argv[1], show_item, &sc, why, sizeof why) != STORE_OK) {
        store_close(&st);
        return cli_error(CLI_FAIL, "show: %s", why);
    }
    if (sc.json)
        json_object_set_new(sc.obj, "experience_reports", json_array());
    store_query_t q = {.kind = LERNET__KIND__KIND_EXPERIENCE, .about = sc.id};
    if (sc.kind == LERNET__KIND__KIND_WORKSHOP || sc.kind == LERNET__KIND__KIND_MEETING) {
        store_items(st, &q, show_report, &sc);
        show_activity_feedback(&sc);
    }
    if (sc.json) {
        json_object_set_new(sc.obj, "replies", json_array());
        sc.into = json_object_get(sc.obj, "replies");
    } else {
        printf("%-13s\n", "thread");
    }
    thread(&sc, sc.id);
    if (!sc.json && !sc.replies)
        printf("  (no replies yet: lernet publish reply --about %.12s --text LANG:TEXT)\n",
               argv[1]);
    if (sc.json) {
        json_dumpf(sc.obj, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(sc.obj);
    }
    json_decref(sc.programme);
    store_close(&st);
    return CLI_OK;
}

/* ---- log ------------------------------------------------------------ */

static json_t *b64(const uint8_t *p, size_t n)
{
    if (!p)
        return json_null();
    size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(len);
    sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

typedef struct log_ctx {
    int json;
    size_t count, forks, withdrawn;
} log_ctx_t;

static int print_row(void *vctx, const store_row_t *r)
{
    log_ctx_t *c = vctx;
    char id[EVENT_ID_HEX_SIZE], author[KEYS_PUB_STR_SIZE], fpr[KEYS_FPR_STR_SIZE];
    event_id_hex(id, r->id);
    keys_pub_encode(author, r->author);
    c->count++;
    c->forks += r->fork == STORE_ROW_EVIDENCE;
    c->withdrawn += r->fork == STORE_ROW_WITHDRAWN;
    if (c->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:b}", "id", id, "author", author,
                              "network", r->network, "seq", (json_int_t)r->seq, "kind",
                              event_kind_name(r->kind), "created_ms", (json_int_t)r->created_ms,
                              "fork", r->fork == STORE_ROW_EVIDENCE);
        json_object_set_new(o, "withdrawn", json_boolean(r->fork == STORE_ROW_WITHDRAWN));
        json_object_set_new(o, "received_ms", json_integer((json_int_t)r->received_ms));
        json_object_set_new(o, "header", b64(r->header, r->header_len));
        json_object_set_new(o, "signature", b64(r->sig, KEYS_SIG_BYTES));
        json_object_set_new(o, "payload", b64(r->payload, r->payload_len));
        json_object_set_new(o, "salt", b64(r->salt, EVENT_SALT_BYTES));
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
        return 0;
    }
    keys_fingerprint(fpr, r->author);
    printf("%s  %s  %-18.18s seq %-6llu %-10s%s\n", id, fpr, r->network,
           (unsigned long long)r->seq, event_kind_name(r->kind),
           r->fork == STORE_ROW_EVIDENCE   ? "  FORK EVIDENCE (conflicts with this author's chain)"
           : r->fork == STORE_ROW_WITHDRAWN ? "  WITHDRAWN (signed with a revoked key, or chained on such)"
                          : "");
    return 0;
}

int cli_log(cli_ctx_t *ctx, int argc, char **argv)
{
    log_ctx_t lc = {0};
    store_t *st = NULL;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet log [--json]\n"
               "Every stored signed event in the order received, fork evidence marked.\n"
               "--json: one JSON object per line with the raw header, signature, payload\n"
               "and salt in base64. Anyone can check an event with any Ed25519 library:\n"
               "signature over \"%s\\0\" || header, id = BLAKE2b-256(header),\n"
               "payload_hash = BLAKE2b-256(payload, key = salt). The other fields are\n"
               "this node's: copies of header fields, its state and when it came; a\n"
               "checker decodes the header itself (docs/protocol.md, \"Checking events\n"
               "yourself\").\n",
               KEYS_SIGN_DOMAIN);
        return CLI_OK;
    }
    lc.json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !lc.json))
        return cli_error(CLI_USAGE, "usage: lernet log [--json]");
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    if (store_foreach_event(st, print_row, &lc) != STORE_OK)
        rc = cli_error(CLI_FAIL, "log: store read failed");
    if (!lc.json && lc.forks)
        printf("%zu fork evidence event%s: an author signed conflicting histories "
               "(see 'lernet verify')\n", lc.forks, lc.forks == 1 ? "" : "s");
    store_close(&st);
    return rc;
}

/* ---- verify, store rebuild ------------------------------------------ */

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    printf("problem: %s\n", line);
}

int cli_verify(cli_ctx_t *ctx, int argc, char **argv)
{
    store_t *st = NULL;
    size_t checked = 0, problems = 0;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: lernet verify\nRe-checks the whole store: SQLite integrity, every "
               "signature, event id and\npayload hash from the stored bytes, every chain, and "
               "the derived tables\nagainst a fresh rebuild. Exit 3 if anything is wrong.\n");
        return CLI_OK;
    }
    if (argc != 1)
        return cli_error(CLI_USAGE, "usage: lernet verify");
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    rc = store_verify(st, print_problem, NULL, &checked, &problems);
    store_close(&st);
    if (rc != STORE_OK && problems == 0)
        return cli_error(CLI_TAMPERED, "verify: the store could not be read (%s)",
                         err_text(rc));
    if (problems) {
        printf("verify: %zu problem%s in %zu events\n", problems, problems == 1 ? "" : "s",
               checked);
        return CLI_TAMPERED;
    }
    printf("verify: ok, %zu events checked\n", checked);
    return CLI_OK;
}

static int run_rebuild(cli_ctx_t *ctx, int argc, char **argv)
{
    store_t *st = NULL;
    store_stats_t s;
    char why[256] = "";
    (void)argv;
    if (argc != 2)
        return CLI_ARGS;
    int rc = cli_open_store(ctx, &st);
    if (rc)
        return rc;
    if (store_rebuild(st, why, sizeof why) != STORE_OK || store_stats(st, &s) != STORE_OK)
        rc = cli_error(CLI_FAIL, "store rebuild: %s", why);
    else
        printf("rebuilt %llu items from %llu events\n", (unsigned long long)s.items,
               (unsigned long long)s.events);
    store_close(&st);
    return rc;
}

static const cli_sub_t store_subs[] = {
    {"rebuild", "", run_rebuild,
     "derive the workshop, meeting and experience tables again from the signed events "
     "alone; the result is the same as the incremental one"},
};

int cli_store(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_dispatch(ctx, "store", store_subs, sizeof store_subs / sizeof store_subs[0], argc,
                        argv);
}
