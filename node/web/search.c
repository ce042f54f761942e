/*
 * search (web): the search box every page's header carries and the page
 * GET /search?q=&kind=&network= that answers it, from store_search (the
 * same results as `lernet search`). The snippet is escaped like every
 * untrusted text; only the store's marks around the matched words become
 * <mark>, so a text can add no markup.
 */
#include <stdio.h>
#include <string.h>

#include "core/payload_json.h"
#include "util/time.h"
#include "web/html.h"
#include "web/page.h"

/* The box: a labelled field and a button, small enough for the header. */
void page_search_box(html_t *h, const web_req_t *r)
{
    const char *q = web_arg(r, "q");
    html_rawf(h, "<form class=\"search\" method=\"get\" action=\"/search\" role=\"search\">"
                 "<label for=\"search-q\">%s</label><input type=\"search\" name=\"q\" "
                 "id=\"search-q\" maxlength=\"256\" value=\"",
              T(r, "Search"));
    html_text(h, q);
    html_rawf(h, "\"><button type=\"submit\">%s</button></form>", T(r, "Find"));
}

/* The snippet, escaped, its marks as <mark>; a mark the text itself
 * holds only opens or closes one (never unbalanced markup). */
static void snippet_html(html_t *h, const char *s)
{
    char seg[1024];
    size_t n = 0;
    int open = 0;
    for (const char *p = s;; p++) {
        int mark = *p == STORE_SEARCH_MARK_OPEN || *p == STORE_SEARCH_MARK_CLOSE;
        if (*p == '\0' || mark || n + 1 == sizeof seg) {
            seg[n] = '\0';
            html_text(h, seg);
            n = 0;
        }
        if (*p == '\0')
            break;
        if (*p == STORE_SEARCH_MARK_OPEN && !open)
            html_raw(h, "<mark>"), open = 1;
        else if (*p == STORE_SEARCH_MARK_CLOSE && open)
            html_raw(h, "</mark>"), open = 0;
        else if (!mark)
            seg[n++] = *p;
    }
    if (open)
        html_raw(h, "</mark>");
}

typedef struct hits {
    html_t *h;
    const web_req_t *r;
    size_t n;
} hits_t;

static int hit_row(void *ctx, const store_hit_t *hit)
{
    hits_t *x = ctx;
    char hex[EVENT_ID_HEX_SIZE], day[64] = "", iso[40];
    int64_t t = hit->start ? hit->start : hit->created_ms / 1000;
    event_id_hex(hex, hit->id);
    web_day_time(x->r, t, NULL, day, sizeof day, NULL, 0);
    civil_format(t, NULL, iso, sizeof iso);
    if (x->n++ == 0)
        html_raw(x->h, "<ol class=\"results\" id=\"results\">");
    html_raw(x->h, "<li><p><span class=\"badge\">");
    html_text(x->h, web_kind_name(x->r, hit->kind));
    html_rawf(x->h, "</span> <time datetime=\"%s\">", iso);
    html_text(x->h, day);
    html_raw(x->h, "</time> ");
    if (hit->cancelled)
        html_rawf(x->h, "<span class=\"badge\">%s</span> ", T(x->r, "Cancelled"));
    html_rawf(x->h, "<a href=\"/event/%s\"", hex);
    if (hit->title[0]) { /* the title in its own language, as the snippet */
        html_raw(x->h, " lang=\"");
        html_text(x->h, hit->lang);
        html_raw(x->h, "\">");
        html_text(x->h, hit->title);
    } else {
        html_rawf(x->h, ">%s", T(x->r, "Reply"));
    }
    html_raw(x->h, "</a> <span class=\"node\">");
    html_text(x->h, hit->network);
    html_raw(x->h, "</span></p><p class=\"snippet\" lang=\"");
    html_text(x->h, hit->lang);
    html_raw(x->h, "\">");
    snippet_html(x->h, hit->snippet);
    html_raw(x->h, "</p></li>");
    return 0;
}

void page_search(const web_req_t *r, web_resp_t *out)
{
    const char *q = web_arg(r, "q"), *kind = web_arg(r, "kind");
    const payload_kind_t *k = kind ? payload_kind_named(kind) : NULL;
    store_search_t sq = {.text = q, .network = web_arg(r, "network"), .kind = k ? k->kind : 0};
    html_t *h = html_new();
    hits_t x = {h, r, 0};
    char why[256] = "";
    int status = 200;
    html_rawf(h, "<h1>%s</h1>", T(r, "Search"));
    if (!q) {
        html_rawf(h, "<p>%s</p>", T(r, "Words of a title or text, in any language; diacritics do "
                                       "not matter and a word is found inside a longer one."));
    } else if (kind && !k) {
        status = 400;
        html_rawf(h, "<p class=\"error\" id=\"error\">%s</p>",
                  T(r, "kind must be workshop, meeting, experience, resource or reply"));
    } else if (store_search(r->env->st, &sq, hit_row, &x, why, sizeof why) != STORE_OK) {
        status = 400;
        html_raw(h, "<p class=\"error\" id=\"error\">");
        html_text(h, why);
        html_raw(h, "</p>");
    } else if (x.n) {
        html_raw(h, "</ol>");
    } else {
        html_rawf(h, "<p id=\"results\">%s</p>", T(r, "Nothing found."));
    }
    web_page(r, out, status, T(r, "Search"), html_take(&h, NULL));
}
