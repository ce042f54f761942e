/*
 * atom: the Atom feed (see atom.h). The entries are gathered first (the
 * store gives items oldest first; the feed wants the newest
 * ATOM_MAX_ENTRIES first), then written.
 */
#include "export/atom.h"
#include "core/payload_json.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct entry {
    uint8_t id[EVENT_ID_BYTES], author[KEYS_PUBLIC_BYTES];
    int kind;
    int64_t created_ms, updated_ms;
    char *title, *summary, *network;
    char **cats;
    size_t n_cats;
} entry_t;

typedef struct gather {
    const atom_opts_t *o;
    entry_t *e; /* a ring of the newest ATOM_MAX_ENTRIES */
    size_t n, next;
    int failed;
} gather_t;

static void xml(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void rfc3339(FILE *f, int64_t ms)
{
    char buf[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(buf, f);
}

static void entry_free(entry_t *e)
{
    free(e->title);
    free(e->summary);
    free(e->network);
    for (size_t i = 0; i < e->n_cats; i++)
        free(e->cats[i]);
    free(e->cats);
    memset(e, 0, sizeof *e);
}

static int take(void *vctx, const store_item_t *it)
{
    gather_t *g = vctx;
    const char *title = NULL, *summary = NULL;
    char **themes = NULL;
    size_t n_themes = 0;
    if (it->hidden || it->erased)
        return 0;
    if (it->resource) {
        title = payload_text_pick(it->resource->title, it->resource->n_title, g->o->langs);
        summary = payload_text_pick(it->resource->summary, it->resource->n_summary, g->o->langs);
        themes = it->resource->themes, n_themes = it->resource->n_themes;
    } else if (it->experience) {
        title = payload_text_pick(it->experience->title, it->experience->n_title, g->o->langs);
        summary = payload_text_pick(it->experience->text, it->experience->n_text, g->o->langs);
        themes = it->experience->tags, n_themes = it->experience->n_tags;
    } else {
        return 0;
    }
    entry_t *e = &g->e[g->next];
    entry_free(e);
    memcpy(e->id, it->id, EVENT_ID_BYTES);
    memcpy(e->author, it->author, KEYS_PUBLIC_BYTES);
    e->kind = it->kind;
    e->created_ms = it->created_ms;
    e->updated_ms = it->updated_ms;
    e->title = strdup(title ? title : "");
    e->summary = summary ? strdup(summary) : NULL;
    e->network = strdup(it->network);
    e->cats = calloc(n_themes + 1, sizeof *e->cats);
    if (!e->title || !e->network || !e->cats || (summary && !e->summary)) {
        g->failed = 1;
        return 1;
    }
    e->cats[e->n_cats++] = strdup(it->resource ? payload_resource_type_name((int)it->resource->type)
                                               : "experience report");
    for (size_t i = 0; i < n_themes; i++)
        e->cats[e->n_cats++] = strdup(themes[i]);
    for (size_t i = 0; i < e->n_cats; i++)
        if (!e->cats[i])
            g->failed = 1;
    g->next = (g->next + 1) % ATOM_MAX_ENTRIES;
    if (g->n < ATOM_MAX_ENTRIES)
        g->n++;
    return g->failed;
}

static void write_entry(FILE *f, store_t *st, const atom_opts_t *o, const entry_t *e)
{
    char id[EVENT_ID_HEX_SIZE], fpr[KEYS_FPR_STR_SIZE];
    store_profile_t p;
    event_id_hex(id, e->id);
    fprintf(f, "  <entry>\n    <id>urn:lernet:event:%s</id>\n    <title type=\"text\">", id);
    xml(f, e->title);
    fputs("</title>\n    <updated>", f);
    rfc3339(f, e->updated_ms);
    fputs("</updated>\n    <published>", f);
    rfc3339(f, e->created_ms);
    fputs("</published>\n    <author><name>", f);
    if (store_profile(st, e->author, &p)) {
        xml(f, p.name);
    } else {
        keys_fingerprint(fpr, e->author);
        xml(f, fpr);
    }
    fputs("</name></author>\n    <link rel=\"alternate\" type=\"text/html\" href=\"", f);
    xml(f, o->base);
    fprintf(f, "/event/%s\"/>\n", id);
    for (size_t i = 0; i < e->n_cats; i++) {
        fputs("    <category term=\"", f);
        xml(f, e->cats[i]);
        fputs("\"/>\n", f);
    }
    if (e->summary) {
        fputs("    <summary type=\"text\">", f);
        xml(f, e->summary);
        fputs("</summary>\n", f);
    }
    fputs("  </entry>\n", f);
}

int atom_write(FILE *f, store_t *st, const atom_opts_t *o)
{
    gather_t g = {o, calloc(ATOM_MAX_ENTRIES, sizeof(entry_t)), 0, 0, 0};
    store_query_t q = {.network = o->network};
    int64_t newest = 0;
    if (!g.e)
        return -1;
    if (store_items(st, &q, take, &g) != STORE_OK)
        g.failed = 1;
    for (size_t i = 0; i < g.n; i++)
        if (g.e[i].updated_ms > newest)
            newest = g.e[i].updated_ms;
    if (!g.failed) {
        fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
              "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>urn:lernet:feed:", f);
        xml(f, o->network ? o->network : "all");
        fputs("</id>\n  <title type=\"text\">", f);
        if (o->network) {
            fputs("lernet: ", f);
            xml(f, o->network);
        } else {
            fputs("lernet: every network", f);
        }
        fputs(" — resources and experience reports</title>\n  <updated>", f);
        rfc3339(f, newest);
        fputs("</updated>\n  <author><name>", f);
        xml(f, o->node);
        fputs("</name></author>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"", f);
        xml(f, o->self);
        fputs("\"/>\n  <generator>lernet</generator>\n", f);
        /* newest first: back from the ring's last written slot */
        for (size_t k = 0; k < g.n; k++)
            write_entry(f, st, o,
                        &g.e[(g.next + ATOM_MAX_ENTRIES - 1 - k) % ATOM_MAX_ENTRIES]);
        fputs("</feed>\n", f);
    }
    for (size_t i = 0; i < ATOM_MAX_ENTRIES; i++)
        entry_free(&g.e[i]);
    free(g.e);
    return g.failed ? -1 : 0;
}
