/* fuzz_search: what a user types into `lernet search` or the page's search
 * box: store_search_expr must make of any text either a refusal or an
 * expression of quoted words (never FTS5 syntax of the user's), and
 * store_search over a small store of the kinds' samples must answer with
 * results or a refusal, never an SQL error, with snippets whose marks pair
 * up and that are valid UTF-8. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/payload_json.h"
#include "store/store.h"
#include "util/text.h"

static store_t *st;

/* The store, made once per process: one item of each kind with a sample
 * (titles and texts in several languages, with diacritics). */
static void store_make(void)
{
    static const char *kinds[] = {"workshop", "meeting", "resource", "goal", "questionnaire"};
    keys_identity_t *k = NULL;
    event_t *prev = NULL;
    char why[256];
    if (store_open(&st, fuzz_temp_path("search.db"), why, sizeof why) != STORE_OK ||
        keys_generate(&k) != 0)
        abort();
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const payload_kind_t *pk = payload_kind_named(kinds[i]);
        json_error_t e;
        json_t *o = pk ? json_loads(pk->sample, 0, &e) : NULL;
        Lernet__Payload *p = NULL;
        event_t *ev = NULL;
        if (!o || payload_from_json(&p, pk->kind, o, why, sizeof why) != PJ_OK ||
            event_create(&ev, k, "nordic-wbl", i + 1, prev ? prev->id : NULL,
                         event_now_ms() - 1000, p, why, sizeof why) != EV_OK ||
            store_add(st, ev, NULL, NULL, why, sizeof why) != STORE_OK)
            abort();
        json_decref(o);
        lernet__payload__free_unpacked(p, NULL);
        event_free(&prev);
        prev = ev;
    }
    event_free(&prev);
    keys_free(&k);
}

/* expr is words, each "..." with inner quotes doubled and an optional
 * '*', one space between; each word's text (undoubled) is in the query. */
static bool expr_ok(const char *expr, const char *text)
{
    size_t terms = 0;
    char word[STORE_SEARCH_MAX_QUERY + 1];
    for (const char *p = expr; *p;) {
        if (terms && *p++ != ' ')
            return false;
        if (*p++ != '"')
            return false;
        size_t n = 0;
        for (;;) {
            if (!*p)
                return false;
            if (*p == '"' && p[1] != '"')
                break;
            if (*p == '"')
                p++; /* a doubled quote is one */
            if (n == STORE_SEARCH_MAX_QUERY)
                return false;
            word[n++] = *p++;
        }
        p++; /* the closing quote */
        if (*p == '*')
            p++;
        word[n] = '\0';
        if (!n || !strstr(text, word) || strpbrk(word, " \t\n\r\f\v"))
            return false;
        terms++;
    }
    return terms > 0 && terms <= STORE_SEARCH_MAX_TERMS;
}

static int check_hit(void *ctx, const store_hit_t *h)
{
    (void)ctx;
    int open = 0;
    for (const char *p = h->snippet; *p; p++) {
        if (*p == STORE_SEARCH_MARK_OPEN && open++)
            abort(); /* a mark opened inside a mark */
        if (*p == STORE_SEARCH_MARK_CLOSE && !open--)
            abort(); /* a mark closed that was not open */
    }
    if (open || !text_utf8_valid(h->snippet, strlen(h->snippet)) ||
        !text_utf8_valid(h->title, strlen(h->title)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char expr[4 * STORE_SEARCH_MAX_QUERY + 64], why[256];
    fuzz_init();
    if (!st)
        store_make();
    if (size > 4 * STORE_SEARCH_MAX_QUERY)
        size = 4 * STORE_SEARCH_MAX_QUERY; /* longer ones are refused by their length */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = store_search_expr(text, expr, sizeof expr, why, sizeof why);
    if (rc != STORE_OK && rc != STORE_ERR_INVALID)
        abort();
    if (rc == STORE_OK && !expr_ok(expr, text))
        abort();
    store_search_t q = {.text = text, .limit = 5};
    int src = store_search(st, &q, check_hit, NULL, why, sizeof why);
    if (src != STORE_OK && src != STORE_ERR_INVALID)
        abort(); /* an SQL error: the user's text reached FTS5 as syntax */
    if ((src == STORE_OK) != (rc == STORE_OK))
        abort();
    free(text);
    return 0;
}
