/*
 * testutil: fixtures shared by the tests (see testutil.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/testutil.h"

#include <sqlite3.h>

#include "core/payload_json.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/lernet-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void tu_write_mo(const char *dir, const char *lang, const tu_msg_t *msgs, size_t n)
{
    char path[600];
    uint32_t hdr[7] = {0x950412de, 0, (uint32_t)n, 28, 28 + 8 * (uint32_t)n, 0, 0};
    uint32_t off = 28 + 16 * (uint32_t)n;
    snprintf(path, sizeof path, "%s/%s", dir, lang);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/%s/LC_MESSAGES", dir, lang);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/%s/LC_MESSAGES/lernet.mo", dir, lang);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    for (int pass = 0; pass < 2; pass++) /* the msgid table, then the msgstr table */
        for (size_t i = 0; i < n; i++) {
            size_t len = pass ? msgs[i].str_len : msgs[i].id_len;
            uint32_t ent[2] = {(uint32_t)len, off};
            assert_int_equal(fwrite(ent, sizeof ent, 1, f), 1);
            off += (uint32_t)len + 1;
        }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            size_t len = pass ? msgs[i].str_len : msgs[i].id_len;
            assert_int_equal(fwrite(pass ? msgs[i].str : msgs[i].id, 1, len + 1, f), len + 1);
        }
    assert_int_equal(fclose(f), 0);
}

void tu_rmtree(char **path)
{
    if (!path || !*path)
        return;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", *path);
    if (system(cmd) != 0)
        fprintf(stderr, "tu_rmtree: could not remove %s\n", *path);
    free(*path);
    *path = NULL;
}

static Lernet__Text *text(const char *lang, const char *s)
{
    Lernet__Text *t = malloc(sizeof *t);
    lernet__text__init(t);
    t->lang = strdup(lang);
    t->text = strdup(s);
    return t;
}

static char **strings(size_t n, const char *const *v)
{
    char **out = calloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(v[i]);
    return out;
}

static Lernet__Workshop *workshop(const char *title_sv, const char *title_en, int64_t start)
{
    static const char *themes[] = {"workplace learning", "learning centre as broker"};
    static const char *roles[] = {"teachers", "study and career counsellors"};
    Lernet__Workshop *w = malloc(sizeof *w);
    lernet__workshop__init(w);
    w->n_title = title_en ? 2 : 1;
    w->title = calloc(w->n_title, sizeof *w->title);
    w->title[0] = text("sv", title_sv);
    if (title_en)
        w->title[1] = text("en", title_en);
    w->n_description = 1;
    w->description = calloc(1, sizeof *w->description);
    w->description[0] = text("sv", "Hur lärcentra kan stödja arbetsplatsförlagt lärande.");
    w->start = start;
    w->end = start + 3 * 3600;
    w->tz = strdup("Europe/Stockholm");
    w->place = strdup("Lärcentrum Östhammar, Storgatan 1");
    w->online_url = strdup("");
    w->organiser = strdup("Lärcentrum Östhammar");
    w->capacity = 30;
    w->n_themes = 2;
    w->themes = strings(2, themes);
    w->n_roles = 2;
    w->roles = strings(2, roles);
    w->language = strdup("sv");
    w->status = LERNET__STATUS__STATUS_PLANNED;
    return w;
}

Lernet__Payload *tu_workshop(const char *title_sv, const char *title_en, int64_t start)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    p->body_case = LERNET__PAYLOAD__BODY_WORKSHOP;
    p->workshop = workshop(title_sv, title_en, start);
    return p;
}

Lernet__Payload *tu_meeting(const char *title, int64_t start)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Meeting *m = malloc(sizeof *m);
    lernet__meeting__init(m);
    m->n_title = 1;
    m->title = calloc(1, sizeof *m->title);
    m->title[0] = text("da", title);
    m->start = start;
    m->end = start + 2 * 3600;
    m->tz = strdup("Europe/Copenhagen");
    m->place = strdup("Roskilde Handelsskole");
    m->online_url = strdup("");
    m->organiser = strdup("Roskilde Handelsskole");
    m->n_agenda = 1;
    m->agenda = calloc(1, sizeof *m->agenda);
    m->agenda[0] = text("da", "1. Velkomst\n2. Erfaringer fra innovationscamp");
    p->body_case = LERNET__PAYLOAD__BODY_MEETING;
    p->meeting = m;
    return p;
}

Lernet__Payload *tu_experience(const uint8_t about[EVENT_ID_BYTES], const char *title)
{
    static const char *tags[] = {"workplace learning"};
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Experience *e = malloc(sizeof *e);
    lernet__experience__init(e);
    e->about.len = EVENT_ID_BYTES;
    e->about.data = malloc(EVENT_ID_BYTES);
    memcpy(e->about.data, about, EVENT_ID_BYTES);
    e->n_title = 1;
    e->title = calloc(1, sizeof *e->title);
    e->title[0] = text("de", title);
    e->n_text = 1;
    e->text = calloc(1, sizeof *e->text);
    e->text[0] = text("de", "Die Lernwerkstatt hat gezeigt, dass Coaching vor Ort wirkt.");
    e->n_tags = 1;
    e->tags = strings(1, tags);
    e->n_participants = 2;
    e->participants = calloc(2, sizeof *e->participants);
    for (int i = 0; i < 2; i++) {
        e->participants[i] = malloc(sizeof **e->participants);
        lernet__role_count__init(e->participants[i]);
        e->participants[i]->role = strdup(i ? "company representatives" : "teachers");
        e->participants[i]->count = i ? 7 : 12;
    }
    p->body_case = LERNET__PAYLOAD__BODY_EXPERIENCE;
    p->experience = e;
    return p;
}

Lernet__Payload *tu_update_workshop(const uint8_t target[EVENT_ID_BYTES], const char *title,
                                    int64_t start)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Update *u = malloc(sizeof *u);
    lernet__update__init(u);
    u->target.len = EVENT_ID_BYTES;
    u->target.data = malloc(EVENT_ID_BYTES);
    memcpy(u->target.data, target, EVENT_ID_BYTES);
    u->content_case = LERNET__UPDATE__CONTENT_WORKSHOP;
    u->workshop = workshop(title, NULL, start);
    p->body_case = LERNET__PAYLOAD__BODY_UPDATE;
    p->update = u;
    return p;
}

Lernet__Payload *tu_update_meeting(const uint8_t target[EVENT_ID_BYTES], const char *title,
                                   int64_t start, const char *minutes)
{
    Lernet__Payload *p = tu_meeting(title, start);
    Lernet__Meeting *m = p->meeting;
    m->n_minutes = 1;
    m->minutes = calloc(1, sizeof *m->minutes);
    m->minutes[0] = text("da", minutes);
    Lernet__Update *u = malloc(sizeof *u);
    lernet__update__init(u);
    u->target.len = EVENT_ID_BYTES;
    u->target.data = malloc(EVENT_ID_BYTES);
    memcpy(u->target.data, target, EVENT_ID_BYTES);
    u->content_case = LERNET__UPDATE__CONTENT_MEETING;
    u->meeting = m;
    p->body_case = LERNET__PAYLOAD__BODY_UPDATE;
    p->update = u;
    return p;
}

Lernet__Payload *tu_cancel(const uint8_t target[EVENT_ID_BYTES], const char *reason)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Cancel *c = malloc(sizeof *c);
    lernet__cancel__init(c);
    c->target.len = EVENT_ID_BYTES;
    c->target.data = malloc(EVENT_ID_BYTES);
    memcpy(c->target.data, target, EVENT_ID_BYTES);
    c->reason = strdup(reason);
    p->body_case = LERNET__PAYLOAD__BODY_CANCEL;
    p->cancel = c;
    return p;
}

Lernet__Payload *tu_erasure(const uint8_t (*targets)[EVENT_ID_BYTES], size_t n,
                            const char *reason)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Erasure *x = malloc(sizeof *x);
    lernet__erasure__init(x);
    x->n_targets = n;
    x->targets = calloc(n ? n : 1, sizeof *x->targets);
    for (size_t i = 0; i < n; i++) {
        x->targets[i].len = EVENT_ID_BYTES;
        x->targets[i].data = malloc(EVENT_ID_BYTES);
        memcpy(x->targets[i].data, targets[i], EVENT_ID_BYTES);
    }
    x->reason = strdup(reason);
    p->body_case = LERNET__PAYLOAD__BODY_ERASURE;
    p->erasure = x;
    return p;
}

static Lernet__Attachment *attachment(const char *name)
{
    Lernet__Attachment *a = malloc(sizeof *a);
    lernet__attachment__init(a);
    a->hash.len = EVENT_HASH_BYTES;
    a->hash.data = malloc(EVENT_HASH_BYTES);
    crypto_generichash(a->hash.data, EVENT_HASH_BYTES, (const uint8_t *)name, strlen(name),
                       NULL, 0);
    a->size = 1234567;
    a->media_type = strdup("application/pdf");
    a->name = strdup(name);
    return a;
}

Lernet__Payload *tu_resource(const char *title, int n_attachments)
{
    static const char *themes[] = {"workplace learning"};
    static const char *urls[] = {"https://example.org/metodekatalog"};
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Resource *r = malloc(sizeof *r);
    lernet__resource__init(r);
    r->n_title = 1;
    r->title = calloc(1, sizeof *r->title);
    r->title[0] = text("da", title);
    r->n_summary = 1;
    r->summary = calloc(1, sizeof *r->summary);
    r->summary[0] = text("en", "Innovation camps, experience groups, internship cooperation.");
    r->type = LERNET__RESOURCE_TYPE__RESOURCE_TYPE_METHOD;
    r->n_themes = 1;
    r->themes = strings(1, themes);
    r->language = strdup("da");
    r->n_urls = 1;
    r->urls = strings(1, urls);
    r->licence = strdup("CC BY 4.0");
    r->n_attachments = (size_t)n_attachments;
    r->attachments = calloc(n_attachments ? (size_t)n_attachments : 1, sizeof *r->attachments);
    for (int i = 0; i < n_attachments; i++) {
        char name[32];
        snprintf(name, sizeof name, "metodekatalog-%d.pdf", i + 1);
        r->attachments[i] = attachment(name);
    }
    p->body_case = LERNET__PAYLOAD__BODY_RESOURCE;
    p->resource = r;
    return p;
}

Lernet__Payload *tu_reply(const uint8_t about[EVENT_ID_BYTES], const char *text_sv)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Reply *r = malloc(sizeof *r);
    lernet__reply__init(r);
    r->about.len = EVENT_ID_BYTES;
    r->about.data = malloc(EVENT_ID_BYTES);
    memcpy(r->about.data, about, EVENT_ID_BYTES);
    r->n_text = 1;
    r->text = calloc(1, sizeof *r->text);
    r->text[0] = text("sv", text_sv);
    p->body_case = LERNET__PAYLOAD__BODY_REPLY;
    p->reply = r;
    return p;
}

Lernet__Payload *tu_hide(const uint8_t target[EVENT_ID_BYTES], const char *reason, int unhide)
{
    Lernet__Payload *p = malloc(sizeof *p);
    lernet__payload__init(p);
    Lernet__Hide *h = malloc(sizeof *h);
    lernet__hide__init(h);
    h->target.len = EVENT_ID_BYTES;
    h->target.data = malloc(EVENT_ID_BYTES);
    memcpy(h->target.data, target, EVENT_ID_BYTES);
    h->reason = strdup(reason);
    h->unhide = unhide != 0;
    p->body_case = LERNET__PAYLOAD__BODY_HIDE;
    p->hide = h;
    return p;
}

void tu_payload_free(Lernet__Payload *p)
{
    /* Everything was malloc'd field by field, which is exactly what
     * protobuf-c's free_unpacked expects of an unpacked message. */
    if (p)
        lernet__payload__free_unpacked(p, NULL);
}

Lernet__Payload *tu_payload_from_json(int kind, const char *text)
{
    char why[256] = "";
    json_error_t e;
    Lernet__Payload *p = NULL;
    json_t *o = json_loads(text, 0, &e);
    if (!o)
        fail_msg("tu_payload_from_json: line %d: %s", e.line, e.text);
    if (payload_from_json(&p, kind, o, why, sizeof why) != PJ_OK)
        fail_msg("payload_from_json: %s", why);
    json_decref(o);
    return p;
}

void tu_store_sql(store_t **st, const char *path, const char *sql)
{
    sqlite3 *db;
    store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(st, path, NULL, 0), STORE_OK);
}

event_t *tu_next(const keys_identity_t *k, const char *network, const event_t *prev_ev,
                 const Lernet__Payload *p)
{
    event_t *ev = NULL;
    char why[256];
    uint64_t seq = prev_ev ? prev_ev->seq + 1 : 1;
    uint8_t prev_sig[EVENT_HASH_BYTES];
    if (prev_ev)
        event_sig_hash(prev_sig, prev_ev->sig);
    /* linked as a node publishes (publish_event) */
    int rc = event_create_linked(&ev, NULL, k, network, seq, prev_ev ? prev_ev->id : NULL,
                                 prev_ev ? prev_sig : NULL, event_now_ms(), p, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "tu_next: %s: %s\n", err_name(rc), why);
        return NULL;
    }
    return ev;
}

int tu_run(const char *cmdline, char **out)
{
    FILE *f = popen(cmdline, "r");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2048) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(f);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct json_t *tu_node_json(const char *script, const char *file)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "node '%s/tests/harness/%s' '%s/build-npm/node_modules' '%s'",
             LERNET_SOURCE_DIR, script, LERNET_SOURCE_DIR, file);
    int rc = tu_run(cmd, &out);
    json_error_t e;
    json_t *doc = rc == 0 && out ? json_loads(out, 0, &e) : NULL;
    if (!doc)
        fprintf(stderr, "tu_node_json: %s failed (scripts/install-deps puts the npm packages "
                        "in build-npm/): %s\n",
                script, out ? out : "");
    free(out);
    return doc;
}

struct json_t *tu_python_json(const char *script, const char *args)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s '%s/tests/harness/%s' %s", TU_PYTHON, LERNET_SOURCE_DIR, script,
             args);
    int rc = tu_run(cmd, &out);
    json_error_t e;
    json_t *doc = rc == 0 && out ? json_loads(out, 0, &e) : NULL;
    if (!doc)
        fprintf(stderr, "tu_python_json: %s failed (scripts/install-deps installs Debian's "
                        "python3-icalendar): %s\n",
                script, out ? out : "");
    free(out);
    return doc;
}
