/*
 * search: the full-text index over the items (SQLite FTS5) and its queries.
 *
 * What is indexed: one row per (item, language), its title column the
 * item's title in that language, its body column everything else it says
 * in that language: a workshop's description, a meeting's agenda and
 * minutes, an experience report's text and lessons, a resource's summary,
 * a reply's text, a goal's description, a questionnaire's questions. The
 * row's rowid is the item's origin (the rowid of its first event) shifted
 * by SEARCH_SLOT_BITS, plus the language's slot, so an item's rows are one
 * rowid range and are replaced without a scan. The rows are in parts: the
 * FTS5 table search_p<N> holds the items whose origin >> SEARCH_PART_BITS
 * is N (made when its first row comes, listed in search_parts), so that
 * what an erasure costs does not grow with the store (below). search_docs
 * says, per item, which content event (items.content) its rows were made
 * from, NULL for one whose text was erased: an item whose content moves on
 * is indexed again, one whose content stayed is left alone.
 *
 * How it matches: the "lernet" tokenizer wraps unicode61 (lower case,
 * remove_diacritics 2: ä→a, ö→o, å→a, é→e, ü→u, in every script) and then
 * folds the letters unicode61 keeps that a Nordic or German reader types
 * without the key: ø→o, æ→ae, œ→oe, ß→ss, ð/đ→d, þ→th, ł→l, ŋ→n, ŧ→t,
 * ħ→h, ı→i. So "larare" finds "lärare", "Kobenhavn" "København", "laering"
 * "læring" and "Strasse" "Straße". (The spelled-out transliterations,
 * "Koebenhavn" for "København" or "Aerzte" for "Ärzte", are not matched.)
 * A document's folded word is indexed at its position, and each of its
 * suffixes that could be a compound's part (three or more characters
 * before it and from it, PART_MIN_CPS) at the same position; a query word
 * of three or more letters is a prefix query, so it matches wherever it is
 * part of a word: "platz" finds "Arbeitsplatzlernen" (its suffix
 * "platzlernen"), "vux" finds "vuxenutbildning". A word of one or two
 * characters only matches that word. Results are ranked by bm25 among
 * the newest SEARCH_RANKED matches, parts newest first; the snippet is cut
 * here from the row's text, with the part of each word that matched
 * between the marks.
 *
 * Kept in step: items_derive indexes an item when it is created and when
 * an update changes its content (search_put); a cancel changes nothing
 * here (a cancelled item stays findable and is shown cancelled); a hide
 * is decided when results are read, like in every view (a hidden reply or
 * resource is left out of results: a search must not show what a
 * coordinator took out of the views). When all the items are derived
 * again (a withdrawal, store_rebuild), search_sync brings the index to the
 * items' content after the replay; when an erasure derived just its items
 * again, search_item_sync does for each. Erased text leaves the index:
 * its rows are deleted (secure_delete zeroes the freed cells) and the
 * segments of their part are merged into one (FTS5 'optimize' of that
 * part: FTS5 3.40 only marks a deleted row's entries deleted in a newer
 * segment, and keeps them in the old one until it is merged), which drops
 * the deleted words from the inverted index too, before the commit; the
 * WAL is then checkpointed and truncated as for every erasure (erase.c).
 */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "util/text.h"

_Static_assert(3 * EVENT_MAX_LANGS <= (1 << SEARCH_SLOT_BITS),
               "an item's languages (at most 3 text fields of EVENT_MAX_LANGS) fit its slots");

/* ---- the tokenizer ---------------------------------------------------- */

/* A folded word longer than this is indexed by its first characters. */
#define FOLD_MAX_CPS 256

typedef struct fold_tok {
    fts5_tokenizer parent;
    Fts5Tokenizer *inner;
} fold_tok_t;

struct folded;

typedef struct fold_ctx {
    void *ctx;
    int (*emit)(void *, int, const char *, int, int, int);
    const char *text;
    int document; /* the text is indexed (or its index entries deleted) */
    struct folded *f; /* fold_token's word, one per tokenize call: a word is
                       * folded into it and emitted before the next comes */
} fold_ctx_t;

/* What the letters unicode61 keeps fold to; NULL: the letter stays. */
static const char *fold_letter(uint32_t cp)
{
    switch (cp) {
    case 0xF8: return "o";                  /* ø */
    case 0xE6: return "ae";                 /* æ */
    case 0x153: return "oe";                /* œ */
    case 0xDF: case 0x1E9E: return "ss";    /* ß, ẞ */
    case 0xF0: case 0x111: return "d";      /* ð, đ */
    case 0xFE: return "th";                 /* þ */
    case 0x142: return "l";                 /* ł */
    case 0x14B: return "n";                 /* ŋ */
    case 0x167: return "t";                 /* ŧ */
    case 0x127: return "h";                 /* ħ */
    case 0x131: return "i";                 /* ı */
    default: return NULL;
    }
}

/* The code point of the valid sequence of len bytes at p. */
static uint32_t utf8_cp(const unsigned char *p, size_t len)
{
    if (len == 1)
        return p[0];
    uint32_t cp = p[0] & (0xFF >> (len + 1));
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

static size_t seq_len(const char *p, size_t n)
{
    size_t len = text_utf8_seq((const unsigned char *)p, n);
    return len ? len : 1; /* a stray byte is one character of its own */
}

static size_t count_cps(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i += seq_len(p + i, n - i))
        k++;
    return k;
}

/* A folded word: its bytes, where each character starts in them, and the
 * span of the original text each character stands for. */
typedef struct folded {
    char out[FOLD_MAX_CPS * 4];
    int at[FOLD_MAX_CPS + 1];
    int start[FOLD_MAX_CPS], end[FOLD_MAX_CPS];
    int n;
} folded_t;

/* Folds the token unicode61 made of the original text's [ostart, oend).
 * The original and the token need not have as many characters (combining
 * marks are dropped): the token's j-th character stands for the original
 * from character j * n_orig / n_tok to the next one's, so the spans are
 * contiguous and in order (the snippet's highlighting needs that); a
 * letter that folds to two stands for its original with the first and
 * for nothing after it with the second. */
/* An ASCII token of an ASCII original of as many bytes: what fold_word
 * makes of it (every character stands for its own, none folds), without
 * decoding it character by character. Most words of the texts are such.
 * False, f untouched: not such a token. */
static bool fold_ascii(folded_t *f, const char *orig, const char *tok, int ntok, int ostart,
                       int oend)
{
    if (ntok != oend - ostart || ntok > FOLD_MAX_CPS)
        return false;
    for (int i = 0; i < ntok; i++)
        if ((unsigned char)tok[i] >= 0x80 || (unsigned char)orig[i] >= 0x80)
            return false;
    memcpy(f->out, tok, (size_t)ntok);
    for (int i = 0; i < ntok; i++) {
        f->at[i] = i;
        f->start[i] = ostart + i;
        f->end[i] = ostart + i + 1;
    }
    f->at[ntok] = ntok;
    f->n = ntok;
    return true;
}

static void fold_word(folded_t *f, const fold_ctx_t *c, const char *tok, int ntok, int ostart,
                      int oend)
{
    const char *orig = c->text + ostart;
    if (fold_ascii(f, orig, tok, ntok, ostart, oend))
        return;
    size_t norig = (size_t)(oend - ostart), ntc = count_cps(tok, (size_t)ntok);
    size_t no = count_cps(orig, norig);
    size_t ocp = 0, obyte = 0; /* cursor in the original: character ocp starts at obyte */
    size_t nout = 0;
    int next_start = ostart;
    f->n = 0;
    for (size_t i = 0, j = 0; i < (size_t)ntok && f->n < FOLD_MAX_CPS; j++) {
        size_t len = seq_len(tok + i, (size_t)ntok - i);
        size_t want = ntc ? (j + 1) * no / ntc : no; /* the original character after this one */
        while (ocp < want && obyte < norig) {
            obyte += seq_len(orig + obyte, norig - obyte);
            ocp++;
        }
        int s = next_start, e = j + 1 == ntc ? oend : ostart + (int)obyte;
        next_start = e;
        const char *x = len > 1 ? fold_letter(utf8_cp((const unsigned char *)tok + i, len)) : NULL;
        const char *from = x ? x : tok + i;
        size_t nfrom = x ? strlen(x) : len;
        for (size_t k = 0; k < nfrom && f->n < FOLD_MAX_CPS; k++) {
            size_t clen = x ? 1 : nfrom;
            f->at[f->n] = (int)nout;
            f->start[f->n] = k ? e : s;
            f->end[f->n] = e;
            memcpy(f->out + nout, from + (x ? k : 0), clen);
            nout += clen;
            f->n++;
            if (!x)
                break;
        }
        i += len;
    }
    f->at[f->n] = (int)nout;
}

/* A token holds at most this many characters of a word (a suffix, or the
 * word itself): a long word's terms stay small, and a query word longer
 * than this matches by its first characters. */
#define TOKEN_MAX_CPS 32

static int emit_part(const fold_ctx_t *c, const folded_t *f, int flags, int k)
{
    int end = f->n - k > TOKEN_MAX_CPS ? k + TOKEN_MAX_CPS : f->n;
    return c->emit(c->ctx, flags, f->out + f->at[k], f->at[end] - f->at[k], f->start[k],
                   f->end[end - 1]);
}

/* A compound's part: a suffix of a word is indexed only where at least
 * this many characters come before it and at least as many from it. */
#define PART_MIN_CPS 3

/* unicode61 gives a word; this emits it folded, and in a document also
 * each of its suffixes that could be a part of a compound (PART_MIN_CPS)
 * at the same position (colocated), so a query word that is a prefix of
 * one of them ("platz*" of "platzlernen" in "arbeitsplatzlernen") is part
 * of the word. A suffix from the word's first or second character ("rbeit"
 * of "arbeit") is no word's part: those were most of the suffix terms of
 * the index, and the suffix terms most of what indexing a received event
 * cost (make bench: catch-up 37,600 events/s with every suffix, 52,300
 * with none, 58,900 without the index). A query, or a snippet's
 * highlighting, gets the word alone. */
static int fold_token(void *vc, int tflags, const char *tok, int ntok, int ostart, int oend)
{
    (void)tflags;
    fold_ctx_t *c = vc;
    folded_t *f = c->f;
    int rc = SQLITE_OK;
    fold_word(f, c, tok, ntok, ostart, oend);
    if (f->n > 0)
        rc = emit_part(c, f, 0, 0);
    for (int k = PART_MIN_CPS; c->document && rc == SQLITE_OK && k + PART_MIN_CPS <= f->n; k++)
        rc = emit_part(c, f, FTS5_TOKEN_COLOCATED, k);
    return rc;
}

static int fold_create(void *api_ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    (void)argv;
    fts5_api *api = api_ctx;
    static const char *args[] = {"remove_diacritics", "2"};
    void *ud = NULL;
    if (argc != 0)
        return SQLITE_ERROR;
    fold_tok_t *t = calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    int rc = api->xFindTokenizer(api, "unicode61", &ud, &t->parent);
    if (rc == SQLITE_OK)
        rc = t->parent.xCreate(ud, args, 2, &t->inner);
    if (rc != SQLITE_OK) {
        free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void fold_delete(Fts5Tokenizer *p)
{
    fold_tok_t *t = (fold_tok_t *)p;
    if (t) {
        t->parent.xDelete(t->inner);
        free(t);
    }
}

static int fold_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                         int (*emit)(void *, int, const char *, int, int, int))
{
    fold_tok_t *t = (fold_tok_t *)p;
    fold_ctx_t c = {ctx, emit, text, (flags & FTS5_TOKENIZE_DOCUMENT) != 0, malloc(sizeof *c.f)};
    if (!c.f)
        return SQLITE_NOMEM;
    int rc = t->parent.xTokenize(t->inner, &c, flags, text, n, fold_token);
    free(c.f);
    return rc;
}

int search_register(store_t *s, char *why, size_t whylen)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return why_fail(why, whylen, STORE_ERR_OPEN, "this SQLite has no FTS5: %s",
                        sqlite3_errmsg(s->db));
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    fts5_tokenizer tok = {fold_create, fold_delete, fold_tokenize};
    if (!api || api->xCreateTokenizer(api, "lernet", api, &tok, NULL) != SQLITE_OK)
        return why_fail(why, whylen, STORE_ERR_OPEN, "cannot register the search tokenizer");
    s->search_api = api;
    return STORE_OK;
}

/* ---- statements -------------------------------------------------------- */

enum search_stmt {
    S_DOC_GET, S_DOC_PUT, S_DOC_DEL, S_ORIGIN_OF, S_CONTENT, S_ITEM,
    S_PART_HAS, S_PART_ADD, S_PARTS, S_ITEM_PAYLOAD, N_SEARCH_Q
};
_Static_assert(N_SEARCH_Q <= SEARCH_N_STMTS, "struct store has room for the statements");

/* The snippet's marks: control characters no text a person reads holds
 * (event fields are text_plain), so a view can find them after escaping. */
#define MARK_OPEN "\x02"
#define MARK_CLOSE "\x03"

static const char *const search_sql[N_SEARCH_Q] = {
    [S_DOC_GET] = "SELECT content FROM search_docs WHERE origin = ?1",
    [S_DOC_PUT] = "INSERT OR REPLACE INTO search_docs(origin, content) VALUES (?1, ?2)",
    [S_DOC_DEL] = "DELETE FROM search_docs WHERE origin = ?1",
    [S_ORIGIN_OF] = "SELECT rowid FROM events WHERE id = ?1",
    [S_CONTENT] = "SELECT payload FROM events WHERE rowid = ?1",
    [S_ITEM] = "SELECT i.kind, o.network, o.id, i.cancelled, i.start, o.created_ms, a.key"
               " FROM items i JOIN events o ON o.rowid = i.origin"
               " JOIN authors a ON a.id = i.author WHERE i.origin = ?1",
    [S_PART_HAS] = "SELECT 1 FROM search_parts WHERE part = ?1",
    [S_PART_ADD] = "INSERT INTO search_parts(part) VALUES (?1)",
    [S_PARTS] = "SELECT part FROM search_parts ORDER BY part DESC",
    /* an item's content event and its payload, in one lookup */
    [S_ITEM_PAYLOAD] = ("SELECT i.content, e.payload FROM items i"
                        " LEFT JOIN events e ON e.rowid = i.content WHERE i.origin = ?1"),
};

/* Each part's statements, @ its table (part_text). */
enum part_stmt { P_DEL, P_INS, P_CUTOFF, P_MATCH, P_SNIPPET, P_TITLE, N_PART_Q };
_Static_assert(N_PART_Q <= SEARCH_N_PART_STMTS, "struct store has room for them");

static const char *const part_sql[N_PART_Q] = {
    [P_DEL] = "DELETE FROM @ WHERE rowid BETWEEN ?1 AND ?2",
    [P_INS] = "INSERT INTO @(rowid, title, body, lang) VALUES (?1, ?2, ?3, ?4)",
    /* the rowid of the ?2-th newest matching row: only rows from it on
     * are ranked (see SEARCH_RANKED) */
    [P_CUTOFF] = "SELECT rowid FROM @ WHERE @ MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
    /* rank: bm25 with a title word worth four of the body's (the part's
     * config) */
    [P_MATCH] = "SELECT rowid, rank FROM @ WHERE @ MATCH ?1 AND rowid >= ?2 ORDER BY rank",
    [P_SNIPPET] = "SELECT lang, title, body FROM @ WHERE rowid = ?1",
    [P_TITLE] = "SELECT title FROM @ WHERE rowid BETWEEN ?1 AND ?2 AND title != '' LIMIT 1",
};

/* A part's table, made when its first row comes. */
#define PART_SQL \
    "CREATE VIRTUAL TABLE @ USING fts5(title, body, lang UNINDEXED," \
    " tokenize = 'lernet');" \
    "INSERT INTO @(@, rank) VALUES('rank', 'bm25(4.0, 1.0, 0.0)')"

static sqlite3_stmt *SQ(store_t *s, enum search_stmt id)
{
    if (!s->search_q[id] && sqlite3_prepare_v3(s->db, search_sql[id], -1,
                                               SQLITE_PREPARE_PERSISTENT, &s->search_q[id],
                                               NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(s->search_q[id]);
    sqlite3_clear_bindings(s->search_q[id]);
    return s->search_q[id];
}

/* tmpl with each @ replaced by part's table name, search_p<part>. */
static void part_text(char *out, size_t n, const char *tmpl, int64_t part)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < n; p++) {
        if (*p != '@')
            out[o++] = *p;
        else {
            int k = snprintf(out + o, n - o, "search_p%lld", (long long)part);
            o = k > 0 && (size_t)k < n - o ? o + (size_t)k : n - 1;
        }
    }
    out[o] = '\0';
}

/* Part part's statement id (the part's table must exist). */
static sqlite3_stmt *PQ(store_t *s, int64_t part, enum part_stmt id)
{
    if (part < 0 || part > (INT64_MAX >> SEARCH_PART_BITS >> SEARCH_SLOT_BITS))
        return NULL;
    if ((size_t)part >= s->n_search_pq) {
        size_t n = (size_t)part + 16;
        sqlite3_stmt *(*pq)[SEARCH_N_PART_STMTS] = realloc(s->search_pq, n * sizeof *pq);
        if (!pq)
            return NULL;
        memset(pq + s->n_search_pq, 0, (n - s->n_search_pq) * sizeof *pq);
        s->search_pq = pq;
        s->n_search_pq = n;
    }
    sqlite3_stmt **st = &s->search_pq[part][id];
    if (!*st) {
        char sql[512];
        part_text(sql, sizeof sql, part_sql[id], part);
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
            return NULL;
    }
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return *st;
}

static void parts_close(store_t *s)
{
    for (size_t p = 0; p < s->n_search_pq; p++)
        for (int i = 0; i < SEARCH_N_PART_STMTS; i++)
            sqlite3_finalize(s->search_pq[p][i]);
    free(s->search_pq);
    s->search_pq = NULL;
    s->n_search_pq = 0;
    s->c.search_part1 = 0; /* its tables may be dropped next */
}

void search_close(store_t *s)
{
    for (int i = 0; i < SEARCH_N_STMTS; i++) {
        sqlite3_finalize(s->search_q[i]);
        s->search_q[i] = NULL;
    }
    parts_close(s);
}

static int sq_fail(store_t *s, char *why, size_t whylen)
{
    return sql_fail(s, sqlite3_errcode(s->db), why, whylen);
}

/* ---- indexing ---------------------------------------------------------- */

/* One language's row: its title and the rest, joined by newlines. */
typedef struct doc {
    char lang[36];
    char *title, *body;
    size_t tlen, blen;
} doc_t;

typedef struct docs {
    doc_t d[1 << SEARCH_SLOT_BITS];
    size_t n;
    int nomem;
} docs_t;

static doc_t *doc_for(docs_t *ds, const char *lang)
{
    for (size_t i = 0; i < ds->n; i++)
        if (strcasecmp(ds->d[i].lang, lang) == 0)
            return &ds->d[i];
    if (ds->n == sizeof ds->d / sizeof ds->d[0])
        return NULL; /* cannot happen (see the static assertion) */
    doc_t *d = &ds->d[ds->n++];
    snprintf(d->lang, sizeof d->lang, "%s", lang);
    return d;
}

static void append(docs_t *ds, char **buf, size_t *len, const char *text)
{
    size_t n = strlen(text);
    char *b = realloc(*buf, *len + n + 2);
    if (!b) {
        ds->nomem = 1;
        return;
    }
    if (*len)
        b[(*len)++] = '\n';
    memcpy(b + *len, text, n + 1);
    *len += n;
    *buf = b;
}

static void add_texts(docs_t *ds, Lernet__Text **t, size_t n, int title)
{
    for (size_t i = 0; i < n; i++) {
        doc_t *d = t[i] && t[i]->text && t[i]->text[0] ? doc_for(ds, t[i]->lang ? t[i]->lang : "")
                                                       : NULL;
        if (d && title)
            append(ds, &d->title, &d->tlen, t[i]->text);
        else if (d)
            append(ds, &d->body, &d->blen, t[i]->text);
    }
}

/* The texts of a content payload (an original or an update), by language. */
static void collect(docs_t *ds, const Lernet__Payload *p)
{
    const Lernet__Workshop *w = NULL;
    const Lernet__Meeting *m = NULL;
    const Lernet__Resource *r = NULL;
    const Lernet__Goal *g = NULL;
    if (!p)
        return;
    switch (p->body_case) {
    case LERNET__PAYLOAD__BODY_WORKSHOP: w = p->workshop; break;
    case LERNET__PAYLOAD__BODY_MEETING: m = p->meeting; break;
    case LERNET__PAYLOAD__BODY_RESOURCE: r = p->resource; break;
    case LERNET__PAYLOAD__BODY_UPDATE:
        /* a oneof: only the member content_case names may be read */
        if (p->update->content_case == LERNET__UPDATE__CONTENT_WORKSHOP)
            w = p->update->workshop;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_MEETING)
            m = p->update->meeting;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_RESOURCE)
            r = p->update->resource;
        else if (p->update->content_case == LERNET__UPDATE__CONTENT_GOAL)
            g = p->update->goal;
        break;
    case LERNET__PAYLOAD__BODY_EXPERIENCE:
        add_texts(ds, p->experience->title, p->experience->n_title, 1);
        add_texts(ds, p->experience->text, p->experience->n_text, 0);
        add_texts(ds, p->experience->lessons, p->experience->n_lessons, 0);
        return;
    case LERNET__PAYLOAD__BODY_REPLY:
        add_texts(ds, p->reply->text, p->reply->n_text, 0);
        return;
    case LERNET__PAYLOAD__BODY_GOAL: g = p->goal; break;
    case LERNET__PAYLOAD__BODY_QUESTIONNAIRE:
        add_texts(ds, p->questionnaire->title, p->questionnaire->n_title, 1);
        for (size_t i = 0; i < p->questionnaire->n_questions; i++)
            if (p->questionnaire->questions[i])
                add_texts(ds, p->questionnaire->questions[i]->text,
                          p->questionnaire->questions[i]->n_text, 0);
        return;
    default: return;
    }
    if (g) {
        add_texts(ds, g->title, g->n_title, 1);
        add_texts(ds, g->description, g->n_description, 0);
    }
    if (w) {
        add_texts(ds, w->title, w->n_title, 1);
        add_texts(ds, w->description, w->n_description, 0);
    } else if (m) {
        add_texts(ds, m->title, m->n_title, 1);
        add_texts(ds, m->agenda, m->n_agenda, 0);
        add_texts(ds, m->minutes, m->n_minutes, 0);
    } else if (r) {
        add_texts(ds, r->title, r->n_title, 1);
        add_texts(ds, r->summary, r->n_summary, 0);
    }
}

static void docs_free(docs_t *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->d[i].title);
        free(ds->d[i].body);
    }
}

static int64_t part_of(int64_t origin)
{
    return origin >> SEARCH_PART_BITS;
}

/* 1 if part's table exists, 0 if not, < 0 on error. */
static int part_has(store_t *s, int64_t part)
{
    sqlite3_stmt *st = SQ(s, S_PART_HAS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, part);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int part_known(store_t *s, int64_t part)
{
    s->c.search_part1 = part + 1;
    return STORE_OK;
}

/* Makes part's table unless it is there. */
static int part_ensure(store_t *s, int64_t part, char *why, size_t whylen)
{
    /* a batch's new items fall in one part: look it up once (the cache is
     * cleared with the transaction, parts_close forgets it) */
    if (s->c.search_part1 == part + 1)
        return STORE_OK;
    int have = part_has(s, part);
    if (have)
        return have < 0 ? sq_fail(s, why, whylen) : part_known(s, part);
    char sql[512];
    part_text(sql, sizeof sql, PART_SQL, part);
    int rc = exec(s, sql, why, whylen);
    sqlite3_stmt *st = rc ? NULL : SQ(s, S_PART_ADD);
    if (rc || !st)
        return rc ? rc : sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, part);
    rc = step_done(s, st, why, whylen);
    return rc ? rc : part_known(s, part);
}

static int rows_delete(store_t *s, int64_t origin, char *why, size_t whylen)
{
    int have = part_has(s, part_of(origin));
    if (have <= 0)
        return have < 0 ? sq_fail(s, why, whylen) : STORE_OK;
    sqlite3_stmt *st = PQ(s, part_of(origin), P_DEL);
    if (!st)
        return sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, origin << SEARCH_SLOT_BITS);
    sqlite3_bind_int64(st, 2, (origin << SEARCH_SLOT_BITS) | ((1 << SEARCH_SLOT_BITS) - 1));
    return step_done(s, st, why, whylen);
}

static int rows_insert(store_t *s, int64_t origin, const docs_t *ds, char *why, size_t whylen)
{
    int rc = ds->n ? part_ensure(s, part_of(origin), why, whylen) : STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < ds->n; i++) {
        sqlite3_stmt *st = PQ(s, part_of(origin), P_INS);
        if (!st)
            return sq_fail(s, why, whylen);
        sqlite3_bind_int64(st, 1, (origin << SEARCH_SLOT_BITS) | (int64_t)i);
        bind_text(st, 2, ds->d[i].title ? ds->d[i].title : "");
        bind_text(st, 3, ds->d[i].body ? ds->d[i].body : "");
        bind_text(st, 4, ds->d[i].lang);
        rc = step_done(s, st, why, whylen);
    }
    return rc;
}

/* What search_docs holds for origin: 1 and *content (-1 for NULL) if a
 * row, 0 if none, < 0 on error. */
static int doc_get(store_t *s, int64_t origin, int64_t *content)
{
    sqlite3_stmt *st = SQ(s, S_DOC_GET);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, origin);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *content = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int doc_delete(store_t *s, int64_t origin, char *why, size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_DOC_DEL);
    if (!st)
        return sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, origin);
    return step_done(s, st, why, whylen);
}

int search_put(store_t *s, int64_t origin, int64_t content, const Lernet__Payload *p, char *why,
               size_t whylen)
{
    int64_t want = p ? content : -1, had = 0;
    int have = doc_get(s, origin, &had), rc = STORE_OK;
    if (have < 0)
        return sq_fail(s, why, whylen);
    if (have && had == want)
        return STORE_OK; /* these rows were made from this content already */
    if (have && had >= 0 && (rc = rows_delete(s, origin, why, whylen)))
        return rc;
    docs_t *ds = calloc(1, sizeof *ds);
    if (!ds)
        return why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
    collect(ds, p);
    rc = ds->nomem ? why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory")
                   : rows_insert(s, origin, ds, why, whylen);
    docs_free(ds);
    free(ds);
    if (rc)
        return rc;
    sqlite3_stmt *st = SQ(s, S_DOC_PUT);
    if (!st)
        return sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, origin);
    if (want >= 0)
        sqlite3_bind_int64(st, 2, want);
    return step_done(s, st, why, whylen);
}

int search_put_target(store_t *s, const uint8_t target[EVENT_ID_BYTES], int64_t content,
                      const Lernet__Payload *p, char *why, size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_ORIGIN_OF);
    if (!st)
        return sq_fail(s, why, whylen);
    bind_blob(st, 1, target, EVENT_ID_BYTES);
    int found = sqlite3_step(st) == SQLITE_ROW;
    int64_t origin = found ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return found ? search_put(s, origin, content, p, why, whylen) : STORE_OK;
}

void search_note(store_t *s, int64_t origin)
{
    for (size_t i = s->n_search_pending; i > 0 && i + 8 > s->n_search_pending; i--)
        if (s->search_pending[i - 1] == origin)
            return; /* an update just after its item */
    if (s->n_search_pending == SEARCH_PENDING_MAX)
        s->search_pending_over = true;
    else
        s->search_pending[s->n_search_pending++] = origin;
}

int search_note_target(store_t *s, const uint8_t target[EVENT_ID_BYTES], char *why,
                       size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_ORIGIN_OF);
    if (!st)
        return sq_fail(s, why, whylen);
    bind_blob(st, 1, target, EVENT_ID_BYTES);
    int found = sqlite3_step(st) == SQLITE_ROW;
    int64_t origin = found ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (found)
        search_note(s, origin);
    return STORE_OK;
}

void search_drop_notes(store_t *s)
{
    s->n_search_pending = 0;
    s->search_pending_over = false;
}

int search_flush(store_t *s, char *why, size_t whylen)
{
    int rc = STORE_OK;
    if (s->search_pending_over)
        rc = search_sync(s, false, why, whylen);
    for (size_t i = 0; rc == STORE_OK && !s->search_pending_over && i < s->n_search_pending; i++)
        rc = search_item_sync(s, s->search_pending[i], why, whylen);
    if (rc == STORE_OK)
        search_drop_notes(s);
    return rc;
}

/* Indexes origin again from content, whose payload is column col of st's
 * current row (none, or not a blob: erased); resets st before writing. */
static int reindex_row(store_t *s, sqlite3_stmt *st, bool row, int col, int64_t origin,
                       int64_t content, char *why, size_t whylen)
{
    Lernet__Payload *p = NULL;
    arena_t ar; /* the payload is only read here: its fields go at once */
    if (row && sqlite3_column_type(st, col) == SQLITE_BLOB) {
        size_t len = (size_t)sqlite3_column_bytes(st, col);
        arena_init(&ar, 2 * len + 512);
        p = lernet__payload__unpack(&ar.pc, len, sqlite3_column_blob(st, col));
        if (!p)
            arena_free(&ar);
    }
    sqlite3_reset(st);
    int rc = search_put(s, origin, content, p, why, whylen);
    if (p)
        arena_free(&ar);
    return rc;
}

/* Indexes origin again from content (the items' view of it now). */
static int reindex(store_t *s, int64_t origin, int64_t content, char *why, size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_CONTENT);
    if (!st)
        return sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, content);
    return reindex_row(s, st, sqlite3_step(st) == SQLITE_ROW, 0, origin, content, why, whylen);
}

/* A growing list of rowid pairs, read before any of them is changed. */
typedef struct pairs {
    int64_t (*v)[2];
    size_t n, cap;
} pairs_t;

static int pairs_read(store_t *s, const char *sql, pairs_t *ps, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int rc = STORE_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, why, whylen);
    while (rc == STORE_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (ps->n == ps->cap) {
            size_t cap = ps->cap ? ps->cap * 2 : 256;
            int64_t(*v)[2] = realloc(ps->v, cap * sizeof *v);
            if (!v) {
                rc = why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
                break;
            }
            ps->v = v;
            ps->cap = cap;
        }
        ps->v[ps->n][0] = sqlite3_column_int64(st, 0);
        ps->v[ps->n++][1] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Items whose rows were not made from their content now (or not at all),
 * with that content; and rows of items that are no more. */
static const char *stale_sql =
    "SELECT i.origin, i.content FROM items i LEFT JOIN search_docs d ON d.origin = i.origin"
    " LEFT JOIN events e ON e.rowid = i.content WHERE d.origin IS NULL"
    " OR d.content IS NOT (CASE WHEN e.payload IS NULL THEN NULL ELSE i.content END)";
static const char *gone_sql =
    "SELECT d.origin, d.content IS NOT NULL FROM search_docs d"
    " WHERE NOT EXISTS(SELECT 1 FROM items i WHERE i.origin = d.origin)";

/* Every part's number, newest first, into *parts (the caller frees it). */
static int parts_list(store_t *s, int64_t **parts, size_t *n, char *why, size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_PARTS);
    size_t cap = 0;
    int step;
    *parts = NULL;
    *n = 0;
    if (!st)
        return sq_fail(s, why, whylen);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *p = realloc(*parts, (cap = cap ? cap * 2 : 16) * sizeof *p);
            if (!p) {
                sqlite3_reset(st);
                return why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
            }
            *parts = p;
        }
        (*parts)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? STORE_OK : sq_fail(s, why, whylen);
}

/* Merges each part's segments into one: entries of deleted rows, which
 * FTS5 only marks deleted in the segments holding them, are dropped. */
static int parts_optimize(store_t *s, const int64_t *parts, size_t n, char *why, size_t whylen)
{
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        char sql[160];
        part_text(sql, sizeof sql, "INSERT INTO @(@) VALUES('optimize')", parts[i]);
        rc = exec(s, sql, why, whylen);
    }
    return rc;
}

/* The index emptied: every part's table dropped (their statements first). */
static int parts_drop(store_t *s, char *why, size_t whylen)
{
    int64_t *parts;
    size_t n;
    int rc = parts_list(s, &parts, &n, why, whylen);
    parts_close(s);
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        char sql[96];
        part_text(sql, sizeof sql, "DROP TABLE @", parts[i]);
        rc = exec(s, sql, why, whylen);
    }
    free(parts);
    return rc ? rc : exec(s, "DELETE FROM search_parts; DELETE FROM search_docs", why, whylen);
}

int search_sync(store_t *s, bool full, char *why, size_t whylen)
{
    pairs_t stale = {0}, gone = {0};
    int rc = STORE_OK, removed = 0;
    if (full)
        rc = parts_drop(s, why, whylen);
    if (rc == STORE_OK)
        rc = pairs_read(s, stale_sql, &stale, why, whylen);
    if (rc == STORE_OK)
        rc = pairs_read(s, gone_sql, &gone, why, whylen);
    for (size_t i = 0; rc == STORE_OK && i < stale.n; i++) {
        int64_t had = 0;
        removed |= doc_get(s, stale.v[i][0], &had) == 1 && had >= 0;
        rc = reindex(s, stale.v[i][0], stale.v[i][1], why, whylen);
    }
    for (size_t i = 0; rc == STORE_OK && i < gone.n; i++) {
        if (gone.v[i][1]) {
            removed = 1;
            rc = rows_delete(s, gone.v[i][0], why, whylen);
        }
        if (rc == STORE_OK)
            rc = doc_delete(s, gone.v[i][0], why, whylen);
    }
    free(stale.v);
    free(gone.v);
    /* text an erasure took must leave the inverted index too, not only
     * the rows; after a whole replay (rights changed in the same write)
     * every part is merged */
    if (rc == STORE_OK && removed && s->erase_due) {
        int64_t *parts;
        size_t n;
        rc = parts_list(s, &parts, &n, why, whylen);
        if (rc == STORE_OK)
            rc = parts_optimize(s, parts, n, why, whylen);
        free(parts);
    }
    return rc;
}

int search_item_sync(store_t *s, int64_t origin, char *why, size_t whylen)
{
    sqlite3_stmt *st = SQ(s, S_ITEM_PAYLOAD);
    if (!st)
        return sq_fail(s, why, whylen);
    sqlite3_bind_int64(st, 1, origin);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        return reindex_row(s, st, true, 1, origin, sqlite3_column_int64(st, 0), why, whylen);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return sq_fail(s, why, whylen);
    int64_t had = 0; /* the item is gone: so are its rows */
    int have = doc_get(s, origin, &had), rc = STORE_OK;
    if (have < 0)
        return sq_fail(s, why, whylen);
    if (have && had >= 0)
        rc = rows_delete(s, origin, why, whylen);
    return rc == STORE_OK && have ? doc_delete(s, origin, why, whylen) : rc;
}

int search_purge(store_t *s, const int64_t *origins, size_t n, char *why, size_t whylen)
{
    int64_t parts[STALE_ITEMS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n && k < STALE_ITEMS_MAX; i++) {
        int64_t p = part_of(origins[i]);
        size_t j = 0;
        while (j < k && parts[j] != p)
            j++;
        if (j == k && part_has(s, p) == 1)
            parts[k++] = p;
    }
    return parts_optimize(s, parts, k, why, whylen);
}

int search_stale_count(store_t *s, int64_t *n)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM (%s)) + (SELECT count(*) FROM (%s))",
             stale_sql, gone_sql);
    return store_scalar(s, sql, n);
}

/* ---- queries ------------------------------------------------------------ */

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A word has something to search for: a letter or digit (any non-ASCII
 * character may be one; the tokenizer decides). */
static bool has_word(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return true;
    }
    return false;
}

/* How many letters or digits the word has (a non-ASCII character counts
 * as one: the tokenizer decides). */
static size_t letters(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        k += (c >= 0xC0) || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    }
    return k;
}

int store_search_expr(const char *text, char *out, size_t outlen, char *why, size_t whylen)
{
    if (!text)
        return why_fail(why, whylen, STORE_ERR_INVALID, "search: the query is empty");
    size_t n = strlen(text), terms = 0, o = 0;
    if (n > STORE_SEARCH_MAX_QUERY)
        return why_fail(why, whylen, STORE_ERR_INVALID,
                        "search: the query is %zu bytes, at most %d are searched", n,
                        STORE_SEARCH_MAX_QUERY);
    if (!text_utf8_valid(text, n))
        return why_fail(why, whylen, STORE_ERR_INVALID, "search: the query is not valid UTF-8");
    if (text_has_control(text, n, TEXT_MULTILINE))
        return why_fail(why, whylen, STORE_ERR_INVALID,
                        "search: the query holds a control character");
    for (size_t i = 0; i < n;) {
        while (i < n && is_space((unsigned char)text[i]))
            i++;
        size_t j = i;
        while (j < n && !is_space((unsigned char)text[j]))
            j++;
        if (j > i && has_word(text + i, j - i)) {
            if (++terms > STORE_SEARCH_MAX_TERMS)
                return why_fail(why, whylen, STORE_ERR_INVALID,
                                "search: the query has more than %d words",
                                STORE_SEARCH_MAX_TERMS);
            /* every word one FTS5 string: its operators (AND, NEAR, *,
             * column:, ^) are only text; a quote is doubled. A word of
             * three or more letters is a prefix query: the index holds
             * every word's suffixes, so it matches inside words too */
            if (o + 2 * (j - i) + 5 > outlen)
                return why_fail(why, whylen, STORE_ERR_INVALID, "search: the query is too long");
            if (o)
                out[o++] = ' ';
            out[o++] = '"';
            for (size_t k = i; k < j; k++) {
                if (text[k] == '"')
                    out[o++] = '"';
                out[o++] = text[k];
            }
            out[o++] = '"';
            if (letters(text + i, j - i) >= 3)
                out[o++] = '*';
        }
        i = j;
    }
    if (!terms)
        return why_fail(why, whylen, STORE_ERR_INVALID,
                        "search: the query has no word to search for (letters or digits)");
    out[o] = '\0';
    return STORE_OK;
}

/* Parts are searched newest first until this many rows matched, the
 * last one's newest only: a word that a third of 100,000 items hold is
 * ranked among its newest matches, not all of them (bm25 of every match
 * took the better part of a second; of a part's 2,700, 10 ms). */
#ifndef SEARCH_RANKED
#define SEARCH_RANKED 500
#endif

/* A result chosen in the first pass: its best row. */
typedef struct pick {
    int64_t origin, row, part;
    double rank;
} pick_t;

static bool picked(const pick_t *p, size_t n, int64_t origin)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].origin == origin)
            return true;
    return false;
}

/* Whether the item at origin passes the query's filters; its facts in h. */
static int item_passes(store_t *s, const store_search_t *q, int64_t origin, store_hit_t *h,
                       char *net, size_t netlen)
{
    sqlite3_stmt *st = SQ(s, S_ITEM);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, origin);
    int ok = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 2) == EVENT_ID_BYTES) {
        h->kind = sqlite3_column_int(st, 0);
        snprintf(net, netlen, "%s", (const char *)sqlite3_column_text(st, 1));
        memcpy(h->id, sqlite3_column_blob(st, 2), EVENT_ID_BYTES);
        h->cancelled = sqlite3_column_int(st, 3);
        h->start = sqlite3_column_int64(st, 4);
        h->created_ms = sqlite3_column_int64(st, 5);
        ok = (!q->kind || q->kind == h->kind) && (!q->network || strcmp(q->network, net) == 0);
        /* a goal or questionnaire of a managed network counts only from
         * one who coordinated it then: the views leave the others out */
        if (ok && (h->kind == LERNET__KIND__KIND_GOAL ||
                   h->kind == LERNET__KIND__KIND_QUESTIONNAIRE))
            ok = !store_managed(s, net) ||
                 (sqlite3_column_bytes(st, 6) == KEYS_PUBLIC_BYTES &&
                  authz_coordinator(s, net, sqlite3_column_blob(st, 6), h->created_ms));
    }
    sqlite3_reset(st);
    if (ok && (h->kind == LERNET__KIND__KIND_RESOURCE || h->kind == LERNET__KIND__KIND_REPLY))
        ok = !items_hidden(s, h->id, net);
    return ok;
}

/* ---- the snippet's marks ------------------------------------------------ */

/* The snippet is cut here: the row's text is tokenized as it was indexed,
 * and each word a query word is part of is marked on the part that
 * matched, with the original characters ("Arbeits\x02platz\x03lernen"
 * for "platz", "\x02Køge\x03" for "koge"). */
#define MAX_QWORDS (2 * STORE_SEARCH_MAX_TERMS)

typedef struct qwords {
    char w[MAX_QWORDS][TOKEN_MAX_CPS * 4 + 1];
    size_t n;
} qwords_t;

static int qword_cb(void *vq, int tflags, const char *tok, int ntok, int ostart, int oend)
{
    (void)tflags, (void)ostart, (void)oend;
    qwords_t *q = vq;
    if (q->n < MAX_QWORDS && ntok > 0 && (size_t)ntok < sizeof q->w[0]) {
        memcpy(q->w[q->n], tok, (size_t)ntok);
        q->w[q->n++][ntok] = '\0';
    }
    return SQLITE_OK;
}

/* Where query word w (folded) is in f: its first character, or -1; a word
 * of one or two characters only as the whole word. *m: its characters. */
static int word_at(const folded_t *f, const char *w, int *m)
{
    int wlen = (int)strlen(w), total = f->at[f->n];
    for (int k = 0; k < f->n; k++) {
        if (f->at[k] + wlen > total || memcmp(f->out + f->at[k], w, (size_t)wlen) != 0)
            continue;
        int e = k;
        while (e < f->n && f->at[e] < f->at[k] + wlen)
            e++;
        if (f->at[e] != f->at[k] + wlen || (e - k < 3 && (k != 0 || e != f->n)))
            continue;
        *m = e - k;
        return k;
    }
    return -1;
}

/* A word of the text: its span, and the part of it that matched (from <
 * 0: none). */
typedef struct word {
    int start, end, from, to;
} word_t;

/* The words of one text, and which query words matched (a bit each). */
typedef struct scan {
    fold_ctx_t c;
    const qwords_t *q;
    word_t *w;
    size_t n, cap;
    uint32_t matched;
    int nomem;
} scan_t;

_Static_assert(MAX_QWORDS <= 32, "a bit per query word");

static int scan_cb(void *vs, int tflags, const char *tok, int ntok, int ostart, int oend)
{
    (void)tflags;
    scan_t *sc = vs;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        word_t *w = realloc(sc->w, cap * sizeof *w);
        if (!w) {
            sc->nomem = 1;
            return SQLITE_NOMEM;
        }
        sc->w = w;
        sc->cap = cap;
    }
    folded_t *f = sc->c.f;
    fold_word(f, &sc->c, tok, ntok, ostart, oend);
    word_t *w = &sc->w[sc->n++];
    *w = (word_t){ostart, oend, -1, -1};
    for (size_t i = 0; i < sc->q->n; i++) {
        int m = 0, k = word_at(f, sc->q->w[i], &m);
        if (k < 0)
            continue;
        sc->matched |= 1u << i;
        if (w->from < 0 || f->start[k] < w->from)
            w->from = f->start[k];
        if (f->end[k + m - 1] > w->to)
            w->to = f->end[k + m - 1];
    }
    return SQLITE_OK;
}

static int bits(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* A snippet of at most this many words. */
#define SNIPPET_WORDS 16

static void put(char *out, size_t *o, size_t cap, const char *p, size_t n)
{
    if (*o + n < cap) {
        memcpy(out + *o, p, n);
        *o += n;
    }
}

/* The snippet of text: SNIPPET_WORDS words from a little before the first
 * match, each match's part of its word between the marks; "…" where the
 * text goes on. Malloc'd; NULL when out of memory. */
static char *snippet_of(const char *text, const scan_t *sc)
{
    size_t first = 0, len = strlen(text);
    while (first < sc->n && sc->w[first].from < 0)
        first++;
    size_t from = first < sc->n && first > 3 ? first - 3 : 0;
    size_t to = from + SNIPPET_WORDS < sc->n ? from + SNIPPET_WORDS : sc->n; /* past the last */
    size_t cap = len + 2 * SNIPPET_WORDS + 2 * sizeof "…" + 1, o = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int at = from == 0 || sc->n == 0 ? 0 : sc->w[from].start;
    int end = to == sc->n ? (int)len : sc->w[to - 1].end;
    if (at > 0)
        put(out, &o, cap, "…", strlen("…"));
    for (size_t i = from; i < to; i++) {
        const word_t *w = &sc->w[i];
        if (w->from < 0 || w->from < at || w->to > end)
            continue;
        put(out, &o, cap, text + at, (size_t)(w->from - at));
        put(out, &o, cap, MARK_OPEN, 1);
        put(out, &o, cap, text + w->from, (size_t)(w->to - w->from));
        put(out, &o, cap, MARK_CLOSE, 1);
        at = w->to;
    }
    put(out, &o, cap, text + at, (size_t)(end - at));
    if (end < (int)len)
        put(out, &o, cap, "…", strlen("…"));
    out[o] = '\0';
    return out;
}

/* The snippet of the row's title or body, the one more query words
 * matched in (the title on a tie), cut and marked here rather than by
 * FTS5's snippet(), which would evaluate the whole query again for every
 * result. Malloc'd; NULL when out of memory. */
static char *make_snippet(fold_tok_t *t, const qwords_t *q, const char *title, const char *body)
{
    folded_t *f = malloc(sizeof *f); /* the word scan_cb folds, one at a time */
    scan_t sc[2] = {{{NULL, NULL, title, 0, f}, q, NULL, 0, 0, 0, 0},
                    {{NULL, NULL, body, 0, f}, q, NULL, 0, 0, 0, 0}};
    const char *texts[2] = {title, body};
    if (!f)
        return NULL;
    for (int i = 0; i < 2; i++)
        t->parent.xTokenize(t->inner, &sc[i], FTS5_TOKENIZE_AUX, texts[i], (int)strlen(texts[i]),
                            scan_cb);
    int pick = bits(sc[1].matched) > bits(sc[0].matched) || !title[0];
    char *out = sc[0].nomem || sc[1].nomem ? NULL : snippet_of(texts[pick], &sc[pick]);
    free(sc[0].w);
    free(sc[1].w);
    free(f);
    return out;
}

/* ---- results -------------------------------------------------------------- */

/* Second pass, per result: the row's language, title and snippet, then
 * the callback. */
static int emit_hit(store_t *s, const pick_t *p, store_hit_t *h, fold_tok_t *tok,
                    const qwords_t *qw, store_hit_cb cb, void *ctx)
{
    sqlite3_stmt *st = PQ(s, p->part, P_SNIPPET);
    if (!st)
        return STORE_ERR_SQL;
    sqlite3_bind_int64(st, 1, p->row);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return STORE_ERR_SQL;
    }
    char title[EVENT_MAX_TITLE * EVENT_MAX_LANGS + 16];
    const char *t = (const char *)sqlite3_column_text(st, 1);
    const char *body = (const char *)sqlite3_column_text(st, 2);
    char *snip = make_snippet(tok, qw, t ? t : "", body ? body : "");
    if (!snip) {
        sqlite3_reset(st);
        return STORE_ERR_NOMEM;
    }
    snprintf(title, sizeof title, "%s", t ? t : "");
    h->lang = (const char *)sqlite3_column_text(st, 0);
    h->snippet = snip;
    h->rank = p->rank;
    if (!title[0]) { /* no title in this language: the item's first one */
        sqlite3_stmt *tt = PQ(s, p->part, P_TITLE);
        if (tt) {
            sqlite3_bind_int64(tt, 1, p->origin << SEARCH_SLOT_BITS);
            sqlite3_bind_int64(tt, 2, (p->origin << SEARCH_SLOT_BITS) |
                                          ((1 << SEARCH_SLOT_BITS) - 1));
            if (sqlite3_step(tt) == SQLITE_ROW)
                snprintf(title, sizeof title, "%s", (const char *)sqlite3_column_text(tt, 0));
            sqlite3_reset(tt);
        }
    }
    /* a title of several lines (two titles in one language) shows its first */
    title[strcspn(title, "\n")] = '\0';
    h->title = title;
    int rc = cb(ctx, h);
    sqlite3_reset(st);
    free(snip);
    return rc;
}

typedef struct hitinfo {
    store_hit_t h;
    char net[EVENT_MAX_NETWORK + 1];
} hitinfo_t;

/* The best `limit` results so far, best first (picks and their facts). */
typedef struct best {
    pick_t *p;
    hitinfo_t *info;
    size_t n, limit;
} best_t;

/* One part's matches, best first, into the best results; *matched counts
 * its matching rows. */
static int search_part(store_t *s, const store_search_t *q, const char *fts, int64_t part,
                       best_t *b, size_t *matched)
{
    sqlite3_stmt *cut = PQ(s, part, P_CUTOFF);
    int64_t from = 0;
    if (!cut)
        return -1;
    bind_text(cut, 1, fts);
    sqlite3_bind_int64(cut, 2, (int64_t)(SEARCH_RANKED - *matched) - 1);
    if (sqlite3_step(cut) == SQLITE_ROW)
        from = sqlite3_column_int64(cut, 0);
    sqlite3_reset(cut);
    sqlite3_stmt *st = PQ(s, part, P_MATCH);
    if (!st)
        return -1;
    bind_text(st, 1, fts);
    sqlite3_bind_int64(st, 2, from);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        (*matched)++;
        int64_t row = sqlite3_column_int64(st, 0), origin = row >> SEARCH_SLOT_BITS;
        double rank = sqlite3_column_double(st, 1);
        if (b->n == b->limit && rank >= b->p[b->n - 1].rank)
            continue; /* counted, but no better than the results so far */
        if (picked(b->p, b->n, origin))
            continue; /* the item's best language came first */
        hitinfo_t hi;
        int ok = item_passes(s, q, origin, &hi.h, hi.net, sizeof hi.net);
        if (ok < 0)
            break;
        if (!ok)
            continue;
        size_t at = b->n < b->limit ? b->n++ : b->n - 1;
        while (at > 0 && b->p[at - 1].rank > rank) {
            b->p[at] = b->p[at - 1];
            b->info[at] = b->info[at - 1];
            at--;
        }
        b->p[at] = (pick_t){origin, row, part, rank};
        b->info[at] = hi;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -1;
}

int store_search(store_t *s, const store_search_t *q, store_hit_cb cb, void *ctx, char *why,
                 size_t whylen)
{
    char fts[STORE_SEARCH_MAX_QUERY * 2 + 5 * STORE_SEARCH_MAX_TERMS + 8];
    size_t limit = q->limit ? q->limit : STORE_SEARCH_DEFAULT_LIMIT;
    if (limit > STORE_SEARCH_MAX_LIMIT)
        return why_fail(why, whylen, STORE_ERR_INVALID, "search: a limit of %zu is above %d",
                        limit, STORE_SEARCH_MAX_LIMIT);
    int rc = store_search_expr(q->text, fts, sizeof fts, why, whylen);
    if (rc)
        return rc;
    best_t b = {calloc(limit, sizeof *b.p), calloc(limit, sizeof *b.info), 0, limit};
    qwords_t *qw = calloc(1, sizeof *qw);
    Fts5Tokenizer *tok = NULL;
    int64_t *parts = NULL;
    size_t nparts = 0, matched = 0;
    if (!b.p || !b.info || !qw ||
        fold_create(s->search_api, NULL, 0, &tok) != SQLITE_OK) {
        rc = why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    fold_tok_t *ft = (fold_tok_t *)tok;
    if ((rc = parts_list(s, &parts, &nparts, why, whylen)))
        goto cleanup;
    for (size_t i = 0; i < nparts && matched < SEARCH_RANKED; i++)
        if (search_part(s, q, fts, parts[i], &b, &matched) < 0) {
            rc = sq_fail(s, why, whylen);
            goto cleanup;
        }
    fold_tokenize(tok, qw, FTS5_TOKENIZE_QUERY, q->text, (int)strlen(q->text), qword_cb);
    for (size_t i = 0; rc == STORE_OK && i < b.n; i++) {
        b.info[i].h.network = b.info[i].net;
        int e = emit_hit(s, &b.p[i], &b.info[i].h, ft, qw, cb, ctx);
        /* the callback's own non-zero answer is returned as it is */
        rc = e == STORE_ERR_SQL     ? sq_fail(s, why, whylen)
             : e == STORE_ERR_NOMEM ? why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory")
                                    : e;
    }
cleanup:
    fold_delete(tok);
    free(parts);
    free(qw);
    free(b.p);
    free(b.info);
    return rc;
}

int search_index_all(store_t *s, char *why, size_t whylen)
{
    int rc = exec(s, "BEGIN IMMEDIATE", why, whylen);
    if (rc)
        return rc;
    rc = search_sync(s, true, why, whylen); /* the rows of an older index go first */
    if (rc == STORE_OK)
        rc = exec(s, "COMMIT", why, whylen);
    if (rc != STORE_OK)
        exec(s, "ROLLBACK", NULL, 0);
    return rc;
}
