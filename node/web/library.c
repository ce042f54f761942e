/*
 * library: the shared library and the discussions on the web page (see
 * page.h): /library, the resource and reply fields of /event/ID with
 * their attached files (/event/ID/file/N), the thread under every item
 * with its reply form, and /feed.atom. Content from the network is only
 * ever written through html_text.
 *
 * Uploads: the resource and reply forms (form.c), and the reply form
 * under every item's thread, take one optional file, posted as
 * multipart/form-data and streamed to disk (web/upload.h); more than one
 * file a reply carries with `lernet publish reply --attach FILE`.
 */
#include "web/page.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/payload_json.h"
#include "export/atom.h"
#include "store/attach.h"
#include "util/country.h"
#include "util/text.h"
#include "util/time.h"
#include "web/html.h"

static const char *const type_names[] = {"documentation", "literature", "recording", "method",
                                         "link"};
/* the same, for people (translated with T where shown) */
static const char *const type_labels[] = {N_("documentation"), N_("literature"),
                                          N_("recording"), N_("method"), N_("link")};

static const char *type_label(const web_req_t *r, const char *type)
{
    for (size_t i = 0; type && i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type, type_names[i]) == 0)
            return T(r, type_labels[i]);
    return "?";
}
#define N_TYPES (sizeof type_names / sizeof type_names[0])

static void files_of(const store_item_t *it, Lernet__Attachment ***a, size_t *n)
{
    *a = it->resource ? it->resource->attachments : it->reply ? it->reply->attachments : NULL;
    *n = it->resource ? it->resource->n_attachments : it->reply ? it->reply->n_attachments : 0;
}

void library_texts(struct html *h, Lernet__Text **t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        html_raw(h, "<p lang=\"");
        html_text(h, t[i]->lang);
        html_raw(h, "\"><span class=\"badge\">");
        html_text(h, t[i]->lang);
        html_raw(h, "</span>");
        html_text(h, t[i]->text);
        html_raw(h, "</p>");
    }
}

static void strings_cell(html_t *h, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        html_raw(h, i ? ", " : "");
        html_text(h, v[i]);
    }
}

/* The attachments as a list: name, size, and a download link when the
 * file is here. */
static void files(html_t *h, const web_req_t *r, const store_item_t *it)
{
    Lernet__Attachment **a;
    size_t n;
    char id[EVENT_ID_HEX_SIZE], hex[ATTACH_HEX_SIZE];
    files_of(it, &a, &n);
    if (!n)
        return;
    event_id_hex(id, it->id);
    html_raw(h, "<ul class=\"files\">");
    for (size_t i = 0; i < n; i++) {
        int here = attach_present(r->env->home, a[i]->hash.data, a[i]->size);
        text_hex(hex, a[i]->hash.data, EVENT_HASH_BYTES);
        html_rawf(h, "<li class=\"file\" data-hash=\"%s\">", hex);
        if (here) {
            html_rawf(h, "<a href=\"/event/%s/file/%zu\" download>", id, i);
            html_text(h, a[i]->name);
            html_raw(h, "</a>");
        } else {
            html_text(h, a[i]->name);
        }
        char num[32];
        html_rawf(h, " <span class=\"hint\">(");
        html_text(h, a[i]->media_type);
        html_rawf(h, ", %s\u00a0KiB%s%s)</span></li>",
                  web_decimal(r, (double)a[i]->size / 1024.0, 1, num, sizeof num),
                  here ? "" : ", ", here ? "" : T(r, "not yet here"));
    }
    html_raw(h, "</ul>");
}

void library_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    static const uint8_t zero[EVENT_ID_BYTES];
    char about[EVENT_ID_HEX_SIZE];
    if (it->reply) {
        event_id_hex(about, it->about);
        html_rawf(h, "<tr><th>%s</th><td><a href=\"/event/%s\">%s</a></td></tr>",
                  T(r, "Answers"), about, T(r, "what this reply answers"));
        html_rawf(h, "<tr><th>%s</th><td>", T(r, "Text"));
        library_texts(h, it->reply->text, it->reply->n_text);
        html_raw(h, "</td></tr>");
    } else {
        const Lernet__Resource *res = it->resource;
        const char *type = payload_resource_type_name((int)res->type);
        html_rawf(h, "<tr><th>%s</th><td>", T(r, "Title"));
        library_texts(h, res->title, res->n_title);
        html_rawf(h, "</td></tr><tr><th>%s</th><td>%s</td></tr>", T(r, "Type"),
                  type_label(r, type));
        if (res->n_summary) {
            html_rawf(h, "<tr><th>%s</th><td>", T(r, "Summary"));
            library_texts(h, res->summary, res->n_summary);
            html_raw(h, "</td></tr>");
        }
        if (memcmp(it->about, zero, sizeof zero)) {
            event_id_hex(about, it->about);
            html_rawf(h, "<tr><th>%s</th><td><a href=\"/event/%s\">%s</a></td></tr>",
                      T(r, "Documents"), about, T(r, "the workshop or meeting it documents"));
        }
        for (size_t i = 0; i < res->n_urls; i++) {
            /* the wire check allows http(s) only */
            html_rawf(h, "<tr><th>%s</th><td><a rel=\"noopener noreferrer\" href=\"",
                      i ? "" : T(r, "Links"));
            html_text(h, res->urls[i]);
            html_raw(h, "\">");
            html_text(h, res->urls[i]);
            html_raw(h, "</a></td></tr>");
        }
        if (res->n_themes) {
            html_rawf(h, "<tr><th>%s</th><td>", T(r, "Themes"));
            strings_cell(h, res->themes, res->n_themes);
            html_raw(h, "</td></tr>");
        }
        if (res->n_roles) {
            html_rawf(h, "<tr><th>%s</th><td>", T(r, "For"));
            strings_cell(h, res->roles, res->n_roles);
            html_raw(h, "</td></tr>");
        }
        if (*res->language) {
            html_rawf(h, "<tr><th>%s</th><td>", T(r, "Language"));
            html_text(h, web_lang_name(r, res->language));
            html_raw(h, "</td></tr>");
        }
        if (*res->licence) {
            html_rawf(h, "<tr><th>%s</th><td>", T(r, "Licence"));
            html_text(h, res->licence);
            html_raw(h, "</td></tr>");
        }
    }
    Lernet__Attachment **a;
    size_t n;
    files_of(it, &a, &n);
    if (n) {
        html_rawf(h, "<tr><th>%s</th><td>", T(r, "Files"));
        files(h, r, it);
        html_raw(h, "</td></tr>");
    }
}

/* ---- the thread ------------------------------------------------------- */

typedef struct thread {
    const web_req_t *r;
    html_t *h;
    int depth;
    size_t n;
} thread_t;

static void replies(thread_t *t, const uint8_t id[EVENT_ID_BYTES]);

static int reply_li(void *ctx, const store_item_t *it)
{
    thread_t *t = ctx;
    html_t *h = t->h;
    char id[EVENT_ID_HEX_SIZE], day[64];
    store_profile_t p;
    if (t->n++ >= THREAD_MAX_REPLIES)
        return 1;
    event_id_hex(id, it->id);
    web_day_time(t->r, it->created_ms / 1000, NULL, day, sizeof day, NULL, 0);
    html_rawf(h, "<li class=\"reply%s\" id=\"r-%s\"><p class=\"meta\">", it->hidden ? " hidden" : "",
              id);
    if (store_profile(t->r->env->st, it->author, &p))
        html_text(h, p.name);
    else
        html_text(h, T(t->r, "an organisation"));
    html_rawf(h, ", %s · <a href=\"/event/%s\">%s</a></p>", day, id, T(t->r, "link"));
    if (it->hidden) {
        html_rawf(h, "<p class=\"bad\">%s", T(t->r, "Hidden by a coordinator"));
        if (store_profile(t->r->env->st, it->hidden_by, &p)) {
            html_raw(h, " (");
            html_text(h, p.name);
            html_raw(h, ")");
        }
        if (it->hide_reason && *it->hide_reason) {
            html_raw(h, ": ");
            html_text(h, it->hide_reason);
        }
        html_raw(h, "</p>");
    } else if (it->reply) {
        library_texts(h, it->reply->text, it->reply->n_text);
        files(h, t->r, it);
    } else {
        html_rawf(h, "<p>%s</p>", T(t->r, "(content erased)"));
    }
    replies(t, it->id);
    html_raw(h, "</li>");
    return 0;
}

static void replies(thread_t *t, const uint8_t id[EVENT_ID_BYTES])
{
    store_query_t q = {.kind = LERNET__KIND__KIND_REPLY, .about = id};
    if (t->depth >= THREAD_MAX_DEPTH)
        return;
    t->depth++;
    size_t before = t->n;
    html_raw(t->h, "<ul class=\"thread\">");
    store_items(t->r->env->st, &q, reply_li, t);
    html_raw(t->h, "</ul>");
    (void)before;
    t->depth--;
}

void library_thread(html_t *h, const web_req_t *r, const uint8_t id[EVENT_ID_BYTES],
                    const char *network)
{
    char hex[EVENT_ID_HEX_SIZE];
    thread_t t = {r, h, 0, 0};
    event_id_hex(hex, id);
    html_rawf(h, "<h2>%s</h2><div id=\"thread\">", T(r, "Discussion"));
    replies(&t, id);
    if (!t.n)
        html_rawf(h, "<p>%s</p>", T(r, "No replies yet."));
    html_raw(h, "</div>");
    if (!config_has_network(r->env->cfg, network))
        return; /* this node does not publish there */
    /* multipart: one optional file, streamed to disk as the publish forms'
     * are (web/upload.h); csrf first, as the upload takes a file only after it */
    html_rawf(h, "<form class=\"publish reply\" method=\"post\" action=\"/publish/reply\" "
                 "enctype=\"multipart/form-data\">"
                 "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                 "<input type=\"hidden\" name=\"about\" value=\"%s\">"
                 "<input type=\"hidden\" name=\"network\" value=\"",
              r->csrf, hex);
    html_text(h, network);
    html_rawf(h, "\"><label for=\"f-text_1\">%s *</label>"
                 "<textarea rows=\"3\" name=\"text_1\" id=\"f-text_1\" required "
                 "aria-required=\"true\"></textarea>"
                 "<label for=\"f-lang_1\">%s</label><select name=\"lang_1\" id=\"f-lang_1\">",
              T(r, "Reply as this organisation"), T(r, "Language"));
    static const char *const langs[] = {"sv", "da", "fi", "de", "nb", "en"};
    const char *mine = country_lang(r->env->cfg->country);
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
        html_rawf(h, "<option value=\"%s\"%s>%s</option>", langs[i],
                  mine && strcmp(mine, langs[i]) == 0 ? " selected" : "", web_lang_name(r, langs[i]));
    html_rawf(h, "</select><label for=\"f-attachment\">%s</label><span class=\"hint\" "
                 "id=\"hint-attachment\">",
              T(r, "File"));
    html_rawf(h, T(r, "optional: one file, at most %lld MiB"),
              (long long)(r->env->cfg->attachment_max >> 20));
    html_rawf(h, "</span><input type=\"file\" name=\"attachment\" id=\"f-attachment\" "
                 "aria-describedby=\"hint-attachment\"><p class=\"hint\">%s</p>"
                 "<button type=\"submit\" id=\"reply-submit\">%s</button></form>",
              T(r, "* required"), T(r, "Sign and publish the reply"));
}

/* ---- downloads -------------------------------------------------------- */

typedef struct file_pick {
    size_t index;
    int found;
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    char name[EVENT_MAX_FILE_NAME + 1];
} file_pick_t;

static int pick_file(void *ctx, const store_item_t *it)
{
    file_pick_t *f = ctx;
    Lernet__Attachment **a;
    size_t n;
    files_of(it, &a, &n);
    if (f->index < n && !it->hidden) {
        f->found = 1;
        memcpy(f->hash, a[f->index]->hash.data, EVENT_HASH_BYTES);
        f->size = a[f->index]->size;
        snprintf(f->name, sizeof f->name, "%s", a[f->index]->name);
    }
    return 1;
}

/* RFC 6266: an ASCII fallback name, and the UTF-8 name percent-encoded. */
static void disposition(char *out, size_t len, const char *name)
{
    size_t o = (size_t)snprintf(out, len, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 2 < len; p++)
        out[o++] = *p < 0x80 && *p >= 0x20 && *p != '"' && *p != '\\' ? (char)*p : '_';
    o += (size_t)snprintf(out + o, len > o ? len - o : 0, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", *p);
    }
    out[o < len ? o : len - 1] = '\0';
}

void library_file(const web_req_t *r, web_resp_t *out, const char *path)
{
    char id[EVENT_ID_HEX_SIZE], why[256] = "", *end = NULL;
    const char *slash = strstr(path, "/file/");
    size_t idlen = (size_t)(slash - path);
    file_pick_t f = {0};
    if (idlen < 8 || idlen > 64) {
        web_error_page(r, out, 404, T(r, "no such file"));
        return;
    }
    memcpy(id, path, idlen);
    id[idlen] = '\0';
    unsigned long i = strtoul(slash + 6, &end, 10);
    if (text_hex_prefix(id, EVENT_ID_BYTES, TEXT_HEX_LOWER, NULL, NULL) != 0 || !end ||
        *end || end == slash + 6 || i >= EVENT_MAX_ATTACHMENTS) {
        web_error_page(r, out, 404, T(r, "no such file"));
        return;
    }
    f.index = i;
    if (store_item(r->env->st, id, pick_file, &f, why, sizeof why) != STORE_OK || !f.found) {
        web_error_page(r, out, 404, T(r, "no such file"));
        return;
    }
    int fd, rc = attach_open(r->env->home, f.hash, f.size, &fd, why, sizeof why);
    if (rc != ATTACH_OK) {
        web_error_page(r, out, rc == ATTACH_ERR_ABSENT ? 404 : 500,
                       rc == ATTACH_ERR_ABSENT ? T(r, "not yet here: the file is fetched from "
                                                      "partners that hold it")
                                               : why);
        return;
    }
    out->status = 200;
    /* never the author's media type: a file is downloaded, not shown in the page's origin */
    out->type = "application/octet-stream";
    out->has_fd = 1;
    out->fd = fd;
    out->fd_len = f.size;
    disposition(out->disposition_buf, sizeof out->disposition_buf, f.name);
}

/* ---- the library page --------------------------------------------------- */

typedef struct lib {
    const web_req_t *r;
    html_t *h;
    const char *type, *theme, *language;
    size_t n;
} lib_t;

static int has(char **v, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i], want) == 0)
            return 1;
    return 0;
}

static int lib_row(void *ctx, const store_item_t *it)
{
    lib_t *l = ctx;
    const Lernet__Resource *res = it->resource;
    char id[EVENT_ID_HEX_SIZE];
    store_profile_t p;
    if (!res)
        return 0; /* erased */
    const char *type = payload_resource_type_name((int)res->type);
    if ((l->type && (!type || strcmp(type, l->type) != 0)) ||
        (l->theme && !has(res->themes, res->n_themes, l->theme)) ||
        (l->language && strcasecmp(res->language, l->language) != 0))
        return 0;
    if (l->n++ >= LIBRARY_MAX_ROWS)
        return 1;
    event_id_hex(id, it->id);
    const char *title = payload_text_pick(res->title, res->n_title, l->r->langs);
    html_rawf(l->h, "<tr class=\"resource%s\" data-id=\"%s\"><td><a href=\"/event/%s\"",
              it->hidden ? " hidden" : "", id, id);
    for (size_t i = 0; i < res->n_title; i++)
        if (res->title[i]->text == title) {
            html_raw(l->h, " lang=\"");
            html_text(l->h, res->title[i]->lang);
            html_raw(l->h, "\"");
        }
    html_raw(l->h, ">");
    html_text(l->h, title);
    html_raw(l->h, "</a>");
    if (it->hidden)
        html_rawf(l->h, " <span class=\"badge\">%s</span>", T(l->r, "hidden by a coordinator"));
    html_rawf(l->h, "</td><td>%s</td><td>", type_label(l->r, type));
    strings_cell(l->h, res->themes, res->n_themes);
    html_raw(l->h, "</td><td>");
    html_text(l->h, web_lang_name(l->r, res->language));
    html_raw(l->h, "</td><td>");
    html_text(l->h, it->network);
    html_raw(l->h, "</td><td>");
    if (store_profile(l->r->env->st, it->author, &p))
        html_text(l->h, p.name);
    html_rawf(l->h, "</td><td>%zu</td></tr>", res->n_attachments);
    return 0;
}

static void text_filter(html_t *h, const char *name, const char *label, const char *v)
{
    html_rawf(h, "<label for=\"f-%s\">%s</label><input type=\"text\" name=\"%s\" id=\"f-%s\" "
                 "value=\"", name, label, name, name);
    html_text(h, v);
    html_raw(h, "\">");
}

void page_library(const web_req_t *r, web_resp_t *out)
{
    html_t *h = html_new();
    const config_t *cfg = r->env->cfg;
    lib_t l = {r, h, web_arg(r, "type"), web_arg(r, "theme"), web_arg(r, "language"), 0};
    const char *net = web_arg(r, "network");
    html_rawf(h, "<h1 id=\"library-title\">%s</h1><p>%s <a href=\"/publish/resource\">%s</a> · "
                 "<a href=\"/feed.atom\">%s</a></p>"
                 "<form class=\"filters\" method=\"get\" action=\"/library\">"
                 "<label for=\"f-type\">%s</label><select name=\"type\" id=\"f-type\">"
                 "<option value=\"\">%s</option>",
              T(r, "Library"),
              T(r, "Documentation, literature tips, recorded lectures, methods and links the "
                   "networks share."),
              T(r, "Add a resource"), T(r, "Atom feed"), T(r, "Type"), T(r, "all"));
    for (size_t i = 0; i < N_TYPES; i++)
        html_rawf(h, "<option value=\"%s\"%s>%s</option>", type_names[i],
                  l.type && strcmp(l.type, type_names[i]) == 0 ? " selected" : "",
                  T(r, type_labels[i]));
    html_rawf(h, "</select><label for=\"f-network\">%s</label><select name=\"network\" "
                 "id=\"f-network\"><option value=\"\">%s</option>",
              T(r, "Network"), T(r, "all"));
    for (size_t i = 0; i < cfg->n_networks; i++) {
        html_raw(h, "<option value=\"");
        html_text(h, cfg->networks[i]);
        html_raw(h, net && strcmp(net, cfg->networks[i]) == 0 ? "\" selected>" : "\">");
        html_text(h, cfg->networks[i]);
        html_raw(h, "</option>");
    }
    html_raw(h, "</select>");
    text_filter(h, "theme", T(r, "Theme"), l.theme);
    text_filter(h, "language", T(r, "Language"), l.language);
    html_rawf(h, "<button type=\"submit\">%s</button></form>"
                 "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"library-title\">"
                 "<table class=\"library\" id=\"library\"><thead><tr>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th></tr></thead><tbody>",
              T(r, "Filter"), T(r, "Title"), T(r, "Type"), T(r, "Themes"), T(r, "Language"),
              T(r, "Network"), T(r, "Organisation"), T(r, "Files"));
    store_query_t q = {.kind = LERNET__KIND__KIND_RESOURCE, .network = net};
    store_items(r->env->st, &q, lib_row, &l);
    html_raw(h, "</tbody></table></div>");
    if (!l.n)
        html_rawf(h, "<p>%s</p>", T(r, "Nothing here yet."));
    else if (l.n > LIBRARY_MAX_ROWS)
        html_rawf(h, T(r, "<p>The first %d are shown; filter to see others.</p>"), LIBRARY_MAX_ROWS);
    web_page(r, out, 200, T(r, "Library"), html_take(&h, NULL));
}

/* ---- the feed ------------------------------------------------------------ */

void page_atom(const web_req_t *r, web_resp_t *out)
{
    char base[64], self[200], *buf = NULL;
    size_t len = 0;
    const char *net = web_arg(r, "network");
    snprintf(base, sizeof base, "http://%s", r->env->cfg->web);
    snprintf(self, sizeof self, "%s/feed.atom%s%.64s", base, net ? "?network=" : "",
             net ? net : "");
    atom_opts_t o = {net, base, self, r->env->cfg->name, r->langs};
    FILE *f = open_memstream(&buf, &len);
    if (!f || atom_write(f, r->env->st, &o) != 0) {
        if (f)
            fclose(f);
        free(buf);
        web_error_page(r, out, 500, T(r, "the feed could not be made (store or memory)"));
        return;
    }
    fclose(f);
    out->status = 200;
    out->type = "application/atom+xml; charset=utf-8";
    out->body = buf;
    out->len = len;
}
