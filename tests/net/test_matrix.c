/*
 * test_matrix: every content kind × every operation × every reader, with
 * real `lernet` processes and daemons.
 *
 * The kinds and the readers are not listed here: they come from the
 * product's own tables, so a new kind, export format, report grouping or
 * format, or web page joins the matrix without anyone adding a row:
 *   kinds     payload_kind_at (payload_json.c), each with its sample JSON
 *   exports   cli_export_format_at (cli_export.c)
 *   reports   report_grouping_at (report.c), cli_report_format_at (cli_report.c)
 *   pages     web_route_at (web.c): every GET route, {id} and {kind}
 *             placeholders filled in
 * besides list, list --json, show, show --json, and store rebuild then
 * verify. The operations are this file's: publish, update once and twice,
 * cancel, update after cancel, an experience report about the item (each
 * where the kind's row says it applies), received by sync from a partner,
 * imported from a bundle into a fresh home. A kind that answers another
 * item (a reply) has no title: the matrix follows it by its text, and
 * after each operation the item it answers must show it in its thread.
 * Then, for every kind, `lernet
 * erase` (its updates and cancels with it), the erasure received by sync,
 * and a bundle made after it imported into a fresh home (and into the home
 * that holds the text from the bundle before).
 *
 * Once erased, every reader must say so (the day, by its author;
 * "erased": true in JSON), show none of its text (a string unique to the
 * test is in every title and in the cancel's reason), leave it out of
 * iCal, the calendar page and the report's counts, and no file of the
 * home (store.db, -wal, -shm, the log, a bundle made then) may hold the
 * string.
 *
 * One cmocka test per kind: its own three nodes (A publishes, B is A's
 * partner, C imports A's bundle), daemons started once. After each
 * operation every reader runs once against the node that holds the state;
 * each must exit normally and show the item as it now is (id, latest title,
 * cancelled or not, revision, the report about it). A failure names
 * kind × operation × reader; all failures of a state are listed before the
 * test stops, and the operations after it are not tried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "harness/harness.h"
#include "core/payload_json.h"
#include "export/report.h"
#include "harness/testutil.h"
#include "web/web.h"

#define NET "matrix-wbl"
#define ID_HEX 64
#define TITLE_MAX 96

/* The item the operations act on, as it should now read. */
typedef struct item {
    char id[ID_HEX + 1];
    char title[TITLE_MAX]; /* in every language of the sample's title */
    unsigned revision;
    int cancelled;
    int dated;          /* its sample has a start: calendars and iCal show it */
    char day[11];       /* the local day of its start, YYYY-MM-DD */
    /* an experience report and what it is about: the item and a report on
     * it (after that operation), or the item itself and what it is about */
    char report_id[ID_HEX + 1], about_id[ID_HEX + 1];
    char report_title[TITLE_MAX];
    char dated_id[ID_HEX + 1]; /* the item, or what it is about: on the calendar */
    /* erased (with its updates and cancels): its text is gone everywhere,
     * readers say so, with the day and by whom; calendars leave it out */
    int erased;
    int64_t erased_from_ms, erased_to_ms; /* when `lernet erase` ran */
    char author[128];                     /* A's public key, who erased it */
    char answers_id[ID_HEX + 1]; /* a reply: what it answers (its thread shows it) */
    char results_of[ID_HEX + 1]; /* feedback: the activity (its "feedback" lists it) */
} item_t;

typedef struct fx {
    const payload_kind_t *k;
    hnode_t a, b, c;
    hnode_t d; /* a fresh home that imports A's bundle made after the erasure */
    int has_c, has_d;
    char *scratch; /* the samples and the bundle made before the erasure: not in a home */
    char mark[24]; /* in the item's titles and its cancel's reason, and nowhere else */
    item_t it;
    const char *op;  /* the operation whose state is being read */
    int failures;    /* in this state */
    size_t cells;    /* reader runs, for the summary */
    char *listing;   /* list --json of the node being read */
} fx_t;

/* ---- failures name the cell -------------------------------------------- */

static void miss(fx_t *f, const char *reader, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void miss(fx_t *f, const char *reader, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "matrix: %s × %s × %s: %s\n", f->k->name, f->op, reader, msg);
    f->failures++;
}

static char *slurp(const char *path)
{
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof cmd, "cat '%s' 2>/dev/null", path);
    tu_run(cmd, &out);
    return out;
}

/* The line of stderr that says what happened: a sanitizer's verdict if
 * there is one, else the first line (cut in place). */
static const char *err_line(char *err)
{
    static const char *const verdicts[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                           "runtime error:"};
    char *at = NULL;
    if (!err)
        return "";
    for (size_t i = 0; !at && i < sizeof verdicts / sizeof verdicts[0]; i++)
        at = strstr(err, verdicts[i]);
    at = at ? at : err;
    at[strcspn(at, "\n")] = '\0';
    return at;
}

/* Runs lernet on n; stdout in *out (malloc'd, also on failure). Returns
 * the exit code as the shell saw it (128 + N: killed by signal N). */
static int lernet(const hnode_t *n, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int lernet(const hnode_t *n, char **out, const char *fmt, ...)
{
    char args[2048], cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' %s 2>'%s/matrix.err'", LERNET_BIN, n->home,
             args, n->home);
    return tu_run(cmd, out);
}

/* A reader on the command line: it must exit 0; its stdout, or NULL
 * after reporting how it ended. */
static char *cli(fx_t *f, const hnode_t *n, const char *reader, const char *args)
{
    char *out = NULL, path[600];
    int rc = lernet(n, &out, "%s", args);
    f->cells++;
    if (rc == 0 && f->it.erased && strstr(out, f->mark))
        miss(f, reader, "the erased text ('%s') is still shown", f->mark);
    if (rc == 0)
        return out;
    snprintf(path, sizeof path, "%s/matrix.err", n->home);
    char *err = slurp(path);
    if (rc > 128)
        miss(f, reader, "killed by signal %d; stderr: %s", rc - 128, err_line(err));
    else
        miss(f, reader, "exit %d; stderr: %s", rc, err_line(err));
    free(err);
    free(out);
    return NULL;
}

static void want(fx_t *f, const char *reader, const char *text, const char *needle,
                 const char *what)
{
    if (!strstr(text, needle))
        miss(f, reader, "%s ('%s') not shown; got: %.400s", what, needle, text);
}

static void want_not(fx_t *f, const char *reader, const char *text, const char *needle,
                     const char *what)
{
    if (strstr(text, needle))
        miss(f, reader, "%s ('%s') shown", what, needle);
}

static json_t *parse_json(fx_t *f, const char *reader, const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        miss(f, reader, "not JSON (%s at line %d): %.300s", e.text, e.line, text);
    return j;
}

/* ---- what an item should read as ---------------------------------------- */

/* The field the matrix follows an item of kind k by: its title, or, for
 * a kind that answers another item and has no title, its text. */
static const char *label_of(const payload_kind_t *k)
{
    return k->ops & PAYLOAD_KIND_ANSWERS ? "text" : "title";
}

static const payload_kind_t *current_kind;

static int title_is(const json_t *content, const char *title)
{
    const char *lang;
    json_t *v;
    json_object_foreach(json_object_get(content, label_of(current_kind)), lang, v)
        if (json_is_string(v) && strcmp(json_string_value(v), title) == 0)
            return 1;
    return 0;
}

static json_t *find_id(const json_t *arr, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *v = json_string_value(json_object_get(o, "id"));
        if (v && strcmp(v, id) == 0)
            return o;
    }
    return NULL;
}

/* The erased item as JSON: "erased": true, by its author (A), when
 * `lernet erase` ran, and no content. */
static void check_erased_obj(fx_t *f, const char *reader, const json_t *o)
{
    const item_t *it = &f->it;
    const char *by = json_string_value(json_object_get(o, "erased_by"));
    const char *as = json_string_value(json_object_get(o, "erased_as"));
    json_int_t ms = json_integer_value(json_object_get(o, "erased_ms"));
    if (!json_is_true(json_object_get(o, "erased")))
        miss(f, reader, "\"erased\" is not true");
    if (!by || strcmp(by, it->author) != 0 || !as || strcmp(as, "author") != 0)
        miss(f, reader, "erased_by %s as %s, want its author %.16s…", by ? by : "-",
             as ? as : "-", it->author);
    if (ms < it->erased_from_ms - 1000 || ms > it->erased_to_ms + 1000)
        miss(f, reader, "erased_ms %lld is not when it was erased (%lld to %lld)",
             (long long)ms, (long long)it->erased_from_ms, (long long)it->erased_to_ms);
    if (!json_is_null(json_object_get(o, "content")))
        miss(f, reader, "content is not null");
}

/* The one line readers print for the erased item: the day and by whom. */
static void want_erased_text(fx_t *f, const char *reader, const char *text)
{
    char line[64];
    time_t t = (time_t)(f->it.erased_to_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(line, sizeof line, "erased on %Y-%m-%d by its author", &tm);
    want(f, reader, text, line, "the erasure, its day and by whom");
}

/* One item as `list --json`, `show --json` and `export json` give it. */
static void check_item_obj(fx_t *f, const char *reader, const json_t *o)
{
    const item_t *it = &f->it;
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind || strcmp(kind, f->k->name) != 0)
        miss(f, reader, "kind is %s, want %s", kind ? kind : "(none)", f->k->name);
    if (it->erased) {
        check_erased_obj(f, reader, o);
        return;
    }
    if (json_is_true(json_object_get(o, "erased")))
        miss(f, reader, "\"erased\" is true");
    if (json_integer_value(json_object_get(o, "revision")) != (json_int_t)it->revision)
        miss(f, reader, "revision %lld, want %u",
             (long long)json_integer_value(json_object_get(o, "revision")), it->revision);
    if (json_is_true(json_object_get(o, "cancelled")) != it->cancelled)
        miss(f, reader, "cancelled is %s", it->cancelled ? "false" : "true");
    const json_t *content = json_object_get(o, "content");
    if (!title_is(content, it->title))
        miss(f, reader, "title is not '%s'", it->title);
    if (it->dated) {
        const char *local = json_string_value(json_object_get(content, "start_local"));
        char want_start[32];
        snprintf(want_start, sizeof want_start, "%sT09:00", it->day);
        if (!local || strncmp(local, want_start, strlen(want_start)) != 0)
            miss(f, reader, "start_local is %s, want %s in its own zone", local ? local : "-",
                 want_start);
    }
}

/* An array of items: the item, and the report with what it is about. */
static void check_items(fx_t *f, const char *reader, const json_t *arr)
{
    const json_t *o = find_id(arr, f->it.id);
    if (!json_is_array(arr) || !o) {
        miss(f, reader, "the item %.12s is not in the array", f->it.id);
        return;
    }
    check_item_obj(f, reader, o);
    if (f->it.report_id[0]) {
        const json_t *r = find_id(arr, f->it.report_id);
        const char *about = json_string_value(json_object_get(r, "about"));
        if (!r || !about || strcmp(about, f->it.about_id) != 0)
            miss(f, reader, "the report %.12s about %.12s is missing", f->it.report_id,
                 f->it.about_id);
    }
}

/* Unfolds iCal lines (RFC 5545 3.1) so that a value can be searched. */
static void unfold(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\r' && r[1] == '\n' && (r[2] == ' ' || r[2] == '\t')) {
            r += 2;
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
}

static void check_ical(fx_t *f, const char *reader, char *text)
{
    char uid[ID_HEX + 16];
    unfold(text);
    want(f, reader, text, "BEGIN:VCALENDAR", "the calendar");
    want(f, reader, text, "END:VCALENDAR", "the calendar's end");
    if (!f->it.dated_id[0])
        return;
    snprintf(uid, sizeof uid, "UID:%s@lernet", f->it.dated_id);
    if (f->it.erased && f->it.dated) { /* left out, so a subscribed client drops it */
        want_not(f, reader, text, uid, "a VEVENT of the erased item");
        return;
    }
    char *at = strstr(text, uid);
    if (!at) {
        miss(f, reader, "no VEVENT with %s", uid);
        return;
    }
    if (!f->it.dated)
        return; /* what a report is about: shown, and that is all here */
    char *end = strstr(at, "END:VEVENT"), seq[32];
    if (end)
        *end = '\0';
    want(f, reader, at, f->it.title, "the latest title");
    snprintf(seq, sizeof seq, "SEQUENCE:%u\r\n", f->it.revision);
    want(f, reader, at, seq, "the revision");
    if (f->it.cancelled)
        want(f, reader, at, "STATUS:CANCELLED", "the cancellation");
    else
        want_not(f, reader, at, "STATUS:CANCELLED", "a cancellation");
}

/* Splits one CSV record (RFC 4180, no newlines inside fields) in place. */
static size_t csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *r = line, *w = line;
    while (n < max) {
        fields[n++] = w;
        int quoted = *r == '"';
        r += quoted;
        for (; *r && (quoted || *r != ','); r++) {
            if (quoted && *r == '"') {
                if (r[1] != '"') {
                    quoted = 0;
                    continue;
                }
                r++;
            }
            *w++ = *r;
        }
        int more = *r == ',';
        *w++ = '\0';
        if (!more)
            break;
        r++;
    }
    return n;
}

static int column(char **head, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(head[i], name) == 0)
            return (int)i;
    return -1;
}

static void check_csv(fx_t *f, const char *reader, char *text)
{
    char *head[32], *row[32], rev[16], start[ID_HEX + 3];
    snprintf(start, sizeof start, "\n%s,", f->it.id);
    char *line = strstr(text, start);
    size_t nh = csv_split(strsep(&text, "\n"), head, 32);
    int ci = column(head, nh, "cancelled"), ti = column(head, nh, "title"),
        ri = column(head, nh, "revision"), ei = column(head, nh, "erased");
    if (ci < 0 || ti < 0 || ri < 0 || ei < 0) {
        miss(f, reader, "the header lacks cancelled, title, revision or erased");
        return;
    }
    if (!line) {
        miss(f, reader, "no row for %.12s", f->it.id);
        return;
    }
    line++;
    size_t n = csv_split(strsep(&line, "\n"), row, 32);
    if (f->it.erased) {
        if (n != nh) /* its title says it is gone, and holds no text of it (cli) */
            miss(f, reader, "the erased item's row has %zu fields (header %zu)", n, nh);
        else
            want_erased_text(f, reader, row[ei]);
        return;
    }
    if (n == nh && row[ei][0])
        miss(f, reader, "the row says '%s'", row[ei]);
    snprintf(rev, sizeof rev, "%u", f->it.revision);
    if (n != nh || strcmp(row[ti], f->it.title) != 0 ||
        strcmp(row[ci], f->it.cancelled ? "yes" : "no") != 0 || strcmp(row[ri], rev) != 0)
        miss(f, reader, "the row has %zu fields (header %zu), title '%s', cancelled %s, "
                        "revision %s",
             n, nh, n > (size_t)ti ? row[ti] : "-", n > (size_t)ci ? row[ci] : "-",
             n > (size_t)ri ? row[ri] : "-");
}

static void check_xapi(fx_t *f, const char *reader, const char *text)
{
    json_t *arr = parse_json(f, reader, text);
    char iri[ID_HEX + 32];
    if (!arr)
        return;
    if (!json_is_array(arr))
        miss(f, reader, "not an array of statements");
    else if (!f->it.report_id[0] && json_array_size(arr) != 0)
        miss(f, reader, "%zu statements without any report", json_array_size(arr));
    else if (f->it.report_id[0] && !f->it.erased) { /* about an erased one: left out */
        snprintf(iri, sizeof iri, "urn:lernet:event:%s", f->it.about_id);
        want(f, reader, text, iri, "the activity reported on");
    }
    json_decref(arr);
}

/* A report's rows (JSON): the total counts the cancellation and the report. */
static void check_report_rows(fx_t *f, const char *reader, const json_t *rows)
{
    const json_t *total = json_array_get(rows, json_array_size(rows) - 1);
    const char *key = json_string_value(json_object_get(total, "key"));
    if (!key || strcmp(key, "total") != 0) {
        miss(f, reader, "no total row last");
        return;
    }
    json_int_t cancelled = json_integer_value(json_object_get(total, "cancelled"));
    json_int_t reports = json_integer_value(json_object_get(total, "experience_reports"));
    /* an erased item is not counted, nor a report about it */
    int want_cancelled = f->it.cancelled && !f->it.erased;
    if (cancelled != want_cancelled)
        miss(f, reader, "total cancelled %lld, want %d", (long long)cancelled, want_cancelled);
    if ((reports > 0) != (f->it.report_id[0] && !f->it.erased))
        miss(f, reader, "total experience_reports %lld", (long long)reports);
}

static void check_report(fx_t *f, const char *reader, const char *format, const char *text)
{
    if (strcmp(format, "json") == 0) {
        json_t *rows = parse_json(f, reader, text);
        if (rows)
            check_report_rows(f, reader, rows);
        json_decref(rows);
    } else if (strcmp(format, "csv") == 0) {
        if (strncmp(text, REPORT_COLUMNS "\n", strlen(REPORT_COLUMNS) + 1) != 0)
            miss(f, reader, "the header is not " REPORT_COLUMNS);
        want(f, reader, text, "\ntotal,", "the total row");
    } else { /* the table, or a format new to this test: something to read */
        want(f, reader, text, "total", "the total row");
    }
}

/* ---- the readers ------------------------------------------------------- */

static void read_list(fx_t *f, const hnode_t *n)
{
    char *out, want_when[32], *line;
    if ((out = cli(f, n, "list", "list"))) {
        char id12[13];
        snprintf(id12, sizeof id12, "%.12s", f->it.id);
        if (!(line = strstr(out, id12)))
            miss(f, "list", "no line for %s: %.400s", id12, out);
        else if (f->it.erased) {
            *strchrnul(line, '\n') = '\0';
            want_erased_text(f, "list", line);
        } else {
            *strchrnul(line, '\n') = '\0';
            want(f, "list", line, f->it.title, "the latest title");
            if (f->it.cancelled)
                want(f, "list", line, "[CANCELLED]", "the cancellation");
            else
                want_not(f, "list", line, "[CANCELLED]", "a cancellation");
            snprintf(want_when, sizeof want_when, "%s 09:00", f->it.day);
            if (f->it.dated)
                want(f, "list", line, want_when, "the start in the item's own zone");
        }
        free(out);
    }
    free(f->listing);
    if ((f->listing = cli(f, n, "list --json", "list --json"))) {
        json_t *arr = parse_json(f, "list --json", f->listing);
        if (arr)
            check_items(f, "list --json", arr);
        json_decref(arr);
    }
}

static void read_show(fx_t *f, const hnode_t *n)
{
    char *out, args[128], rev[48];
    snprintf(args, sizeof args, "show %s", f->it.id);
    if ((out = cli(f, n, "show", args)) && f->it.erased) {
        want(f, "show", out, f->it.id, "the id");
        want_erased_text(f, "show", out);
        if (f->it.report_id[0] && strcmp(f->it.about_id, f->it.id) == 0) {
            snprintf(rev, sizeof rev, "report        %.12s", f->it.report_id);
            want(f, "show", out, rev, "the report about it");
        }
        free(out);
        out = NULL;
    }
    if (out) {
        want(f, "show", out, f->it.id, "the id");
        want(f, "show", out, f->it.title, "the latest title");
        snprintf(rev, sizeof rev, "revision      %u\n", f->it.revision);
        want(f, "show", out, rev, "the revision");
        if (f->it.cancelled)
            want(f, "show", out, "CANCELLED", "the cancellation");
        else
            want_not(f, "show", out, "CANCELLED", "a cancellation");
        if (f->it.report_id[0] && strcmp(f->it.about_id, f->it.id) == 0) {
            snprintf(rev, sizeof rev, "report        %.12s", f->it.report_id);
            want(f, "show", out, rev, "the report about it");
        }
        free(out);
    }
    if (f->it.answers_id[0]) {
        /* the thread of what it answers holds it; once erased it does not:
         * what it answered was in its erased payload, not in the header */
        snprintf(args, sizeof args, "show %s --json", f->it.answers_id);
        if ((out = cli(f, n, "show --json of what it answers", args))) {
            json_t *o = parse_json(f, "show --json of what it answers", out);
            bool held = o && find_id(json_object_get(o, "replies"), f->it.id);
            if (o && !f->it.erased && !held)
                miss(f, "show --json of what it answers", "the reply is not in its replies");
            else if (o && f->it.erased && held)
                miss(f, "show --json of what it answers", "the erased reply is still in its replies");
            json_decref(o);
            free(out);
        }
    }
    if (f->it.results_of[0]) {
        /* the activity's "feedback" lists it, with its results; once erased
         * it does not */
        snprintf(args, sizeof args, "show %s --json", f->it.results_of);
        if ((out = cli(f, n, "show --json of the activity", args))) {
            json_t *o = parse_json(f, "show --json of the activity", out);
            bool held = o && find_id(json_object_get(o, "feedback"), f->it.id);
            if (o && !f->it.erased && !held)
                miss(f, "show --json of the activity", "the feedback is not in its feedback");
            else if (o && f->it.erased && held)
                miss(f, "show --json of the activity", "the erased feedback is still listed");
            json_decref(o);
            free(out);
        }
    }
    snprintf(args, sizeof args, "show %.12s --json", f->it.id);
    if ((out = cli(f, n, "show --json", args))) {
        json_t *o = parse_json(f, "show --json", out);
        const json_t *reports = json_object_get(o, "experience_reports");
        if (o) {
            check_item_obj(f, "show --json", o);
            if (!json_is_array(reports))
                miss(f, "show --json", "no experience_reports array");
            else if (f->it.report_id[0] && strcmp(f->it.about_id, f->it.id) == 0 &&
                     !find_id(reports, f->it.report_id))
                miss(f, "show --json", "the report %.12s is not among its reports",
                     f->it.report_id);
        }
        json_decref(o);
        free(out);
    }
}

static void read_exports(fx_t *f, const hnode_t *n)
{
    const char *fmt;
    for (size_t i = 0; (fmt = cli_export_format_at(i)); i++) {
        char reader[64], *out;
        snprintf(reader, sizeof reader, "export %s", fmt);
        if (!(out = cli(f, n, reader, reader)))
            continue;
        if (strcmp(fmt, "ical") == 0)
            check_ical(f, reader, out);
        else if (strcmp(fmt, "json") == 0) {
            json_t *arr = parse_json(f, reader, out);
            if (arr)
                check_items(f, reader, arr);
            json_decref(arr);
        } else if (strcmp(fmt, "csv") == 0)
            check_csv(f, reader, out);
        else if (strcmp(fmt, "xapi") == 0)
            check_xapi(f, reader, out);
        else if (!out[0]) /* a format new to this test: it must say something */
            miss(f, reader, "empty output");
        free(out);
    }
}

/* Every grouping as JSON, checked closely, and every format by the first
 * grouping: the groupings are report.c's, the formats only print its rows
 * (all 15 pairs would double the matrix's time under ASan). */
static void read_reports(fx_t *f, const hnode_t *n)
{
    const report_grouping_t *g;
    const char *fmt;
    char reader[96], *out;
    for (size_t i = 0; (g = report_grouping_at(i)); i++) {
        snprintf(reader, sizeof reader, "report --by %s --format json", g->name);
        if ((out = cli(f, n, reader, reader)))
            check_report(f, reader, "json", out);
        free(out);
    }
    for (size_t j = 0; (g = report_grouping_at(0)) && (fmt = cli_report_format_at(j)); j++) {
        if (strcmp(fmt, "json") == 0)
            continue;
        snprintf(reader, sizeof reader, "report --by %s --format %s", g->name, fmt);
        if ((out = cli(f, n, reader, reader)))
            check_report(f, reader, fmt, out);
        free(out);
    }
}

/* Last of the command-line readers: the derived tables rebuilt from the
 * signed events alone read the same, and verify finds nothing. */
static void read_rebuild(fx_t *f, const hnode_t *n)
{
    char *out;
    if ((out = cli(f, n, "store rebuild", "store rebuild")))
        free(out);
    if ((out = cli(f, n, "verify", "verify"))) {
        want(f, "verify", out, "verify: ok", "a clean verify");
        free(out);
    }
    if (f->listing && (out = cli(f, n, "list --json after rebuild", "list --json"))) {
        if (strcmp(out, f->listing) != 0)
            miss(f, "store rebuild", "list --json differs after the rebuild");
        free(out);
    }
}

/* ---- the daemon's pages ------------------------------------------------- */

typedef struct page {
    int status; /* -1: no answer */
    char *text; /* headers and body */
} page_t;

static page_t http_get(int port, const char *path)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    page_t p = {-1, NULL};
    char req[1024];
    size_t cap = 1 << 16, got = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), len;
    if (fd < 0)
        return p;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    len = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path,
                   port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        close(fd);
        return p;
    }
    p.text = malloc(cap);
    for (ssize_t n; p.text && (n = recv(fd, p.text + got, cap - got - 1, 0)) > 0;) {
        got += (size_t)n;
        if (got + 1 == cap)
            p.text = realloc(p.text, cap *= 2);
    }
    close(fd);
    if (p.text) {
        p.text[got] = '\0';
        if (sscanf(p.text, "HTTP/1.%*d %d", &p.status) != 1)
            p.status = -1;
    }
    return p;
}

typedef struct reaped {
    pid_t pid;
    int status;
} reaped_t;

static int reap(void *ctx)
{
    reaped_t *r = ctx;
    return waitpid(r->pid, &r->status, WNOHANG) == r->pid;
}

/* 1 while n's daemon runs (waiting up to grace_ms for it to end, as a
 * sanitizer takes a moment to write its report); else reports how it
 * ended, once. */
static int daemon_alive(fx_t *f, hnode_t *n, const char *reader, int grace_ms)
{
    reaped_t r = {n->pid, 0};
    if (n->pid <= 0)
        return 0;
    if (!(grace_ms ? h_wait(reap, &r, grace_ms) : reap(&r)))
        return 1;
    int status = r.status;
    n->pid = 0;
    if (WIFSIGNALED(status))
        miss(f, reader, "the daemon died of signal %d; see %s/daemon.log", WTERMSIG(status),
             n->home);
    else
        miss(f, reader, "the daemon exited with %d; see %s/daemon.log",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, n->home);
    return 0;
}

static void check_page(fx_t *f, const char *reader, const web_route_t *r, const char *kind,
                       char *text)
{
    char needle[ID_HEX + 64];
    const item_t *it = &f->it;
    if (it->erased && strstr(text, f->mark))
        miss(f, reader, "the erased text ('%s') is still shown", f->mark);
    if (strcmp(r->path, "/") == 0 && it->dated_id[0] && it->erased && it->dated) {
        snprintf(needle, sizeof needle, "data-id=\"%s\"", it->dated_id);
        want_not(f, reader, text, needle, "the erased event on the calendar");
    } else if (strcmp(r->path, "/") == 0 && it->dated_id[0]) {
        snprintf(needle, sizeof needle, "data-id=\"%s\"", it->dated_id);
        want(f, reader, text, needle, "the event on the calendar");
        if (it->dated) {
            want(f, reader, text, it->title, "the latest title");
            snprintf(needle, sizeof needle, "class=\"event cancelled\" data-id=\"%s\"", it->id);
            if (it->cancelled)
                want(f, reader, text, needle, "the cancellation");
            else
                want_not(f, reader, text, needle, "a cancellation");
        }
    } else if (strcmp(r->path, "/event/") == 0 && it->erased) {
        want(f, reader, text, "The content of this event was erased on", "the erasure");
        want_erased_text(f, reader, text);
    } else if (strcmp(r->path, "/event/") == 0) {
        want(f, reader, text, it->title, "the latest title");
        if (it->cancelled)
            want(f, reader, text, "id=\"cancelled\"", "the cancellation");
        else
            want_not(f, reader, text, "id=\"cancelled\"", "a cancellation");
        if (it->report_id[0] && strcmp(it->about_id, it->id) == 0) {
            snprintf(needle, sizeof needle, "href=\"/event/%s\"", it->report_id);
            want(f, reader, text, needle, "the link to the report about it");
            want(f, reader, text, it->report_title, "the report's title");
        }
    } else if (strcmp(r->path, "/calendar.ics") == 0) {
        check_ical(f, reader, text);
    } else if (strcmp(r->path, "/report.csv") == 0) {
        want(f, reader, text, "\r\n\r\n" REPORT_COLUMNS "\n", "the report's header");
        want(f, reader, text, "\ntotal,", "the total row");
    } else if (strcmp(r->path, "/metrics") == 0) {
        const char *v = strstr(text, "\nlernet_events_stored ");
        if (!v || atol(v + strlen("\nlernet_events_stored ")) <= 0)
            miss(f, reader, "no lernet_events_stored above 0");
    } else if (strcmp(r->path, "/publish/") == 0 && it->dated_id[0] &&
               payload_kind_named(kind) &&
               (payload_kind_named(kind)->ops & PAYLOAD_KIND_ABOUT)) {
        snprintf(needle, sizeof needle, "<option value=\"%s\"", it->dated_id);
        if (it->erased && it->dated) /* nothing left to report on */
            want_not(f, reader, text, needle, "the erased event to report on");
        else
            want(f, reader, text, needle, "the event to report on");
    }
}

static void fetch(fx_t *f, hnode_t *n, const web_route_t *r, const char *path,
                  const char *kind)
{
    char reader[256];
    snprintf(reader, sizeof reader, "GET %s", path);
    if (strlen(reader) > 40 && strstr(path, f->it.id)) /* keep the name short */
        snprintf(reader, sizeof reader, "GET %s", r->example);
    f->cells++;
    if (!daemon_alive(f, n, reader, 0))
        return;
    page_t p = http_get(n->web_port, path);
    const char *body = p.text ? strstr(p.text, "\r\n\r\n") : NULL;
    if (p.status < 0) {
        if (daemon_alive(f, n, reader, 5000))
            miss(f, reader, "no HTTP answer");
    } else if (p.status != 200)
        miss(f, reader, "status %d: %.300s", p.status, body ? body + 4 : p.text);
    else
        check_page(f, reader, r, kind, p.text);
    free(p.text);
}

/* Every GET route of the table, placeholders filled in: {id} with the
 * item, {kind} with every content kind; /report.csv by every grouping. */
static void read_pages(fx_t *f, hnode_t *n)
{
    const web_route_t *r;
    for (size_t i = 0; (r = web_route_at(i)); i++) {
        char path[512];
        const char *ph = strchr(r->example, '{');
        size_t pre = ph ? (size_t)(ph - r->example) : strlen(r->example);
        if (!(r->methods & WEB_GET))
            continue;
        if (ph && strncmp(ph, "{kind}", 6) == 0) {
            const payload_kind_t *k;
            for (size_t j = 0; (k = payload_kind_at(j)); j++) {
                snprintf(path, sizeof path, "%.*s%s%s", (int)pre, r->example, k->name, ph + 6);
                fetch(f, n, r, path, k->name);
            }
        } else if (ph && strncmp(ph, "{id}", 4) == 0) {
            snprintf(path, sizeof path, "%.*s%s%s", (int)pre, r->example, f->it.id, ph + 4);
            fetch(f, n, r, path, NULL);
        } else if (ph) {
            miss(f, r->example, "a placeholder this test cannot fill (known: {id}, {kind})");
        } else {
            fetch(f, n, r, r->example, NULL);
        }
        const report_grouping_t *g;
        for (size_t j = 0; strcmp(r->path, "/report.csv") == 0 && (g = report_grouping_at(j));
             j++) {
            snprintf(path, sizeof path, "/report.csv?by=%s", g->name);
            fetch(f, n, r, path, NULL);
        }
    }
}

/* The files of a home holding the erased text ('' if none; else their
 * names, malloc'd). */
static char *files_with(const fx_t *f, const hnode_t *n)
{
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "grep -rlaF -e '%s' '%s'", f->mark, n->home);
    tu_run(cmd, &out);
    return out ? out : strdup("");
}

typedef struct home_probe {
    const fx_t *f;
    const hnode_t *n;
} home_probe_t;

static int home_clean(void *ctx)
{
    home_probe_t *p = ctx;
    char *files = files_with(p->f, p->n);
    int clean = files[0] == '\0';
    free(files);
    return clean;
}

/* After the erasure no file of the home holds its text: store.db, -wal,
 * -shm, the log, and a bundle made now (the checkpoint that empties the
 * WAL may wait a moment for a reader: polled). */
static void read_home(fx_t *f, hnode_t *n)
{
    char args[700], *out;
    home_probe_t p = {f, n};
    snprintf(args, sizeof args, "export bundle '%s/after-erasure.bundle'", n->home);
    if ((out = cli(f, n, "export bundle", args)))
        free(out);
    f->cells++;
    if (!h_wait(home_clean, &p, H_DEADLINE_MS)) {
        char *files = files_with(f, n);
        files[strcspn(files, "\0")] = '\0';
        for (char *c = files; *c; c++)
            *c = *c == '\n' ? ' ' : *c;
        miss(f, "the home's files", "the erased text ('%s') is in %s", f->mark, files);
        free(files);
    }
}

/* Every reader once against the node that holds the state; fails the test
 * after listing every cell that failed. */
static void read_all(fx_t *f, hnode_t *n)
{
    f->failures = 0;
    read_list(f, n);
    read_show(f, n);
    read_exports(f, n);
    read_reports(f, n);
    read_rebuild(f, n);
    read_pages(f, n);
    if (f->it.erased)
        read_home(f, n);
    if (f->failures)
        fail_msg("%d failed cells for %s × %s (listed above)", f->failures, f->k->name, f->op);
}

/* ---- the operations ----------------------------------------------------- */

/* The first kind whose row has bit (NULL: none). */
static const payload_kind_t *kind_with(unsigned bit)
{
    const payload_kind_t *k;
    for (size_t i = 0; (k = payload_kind_at(i)); i++)
        if (k->ops & bit)
            return k;
    return NULL;
}

/* The questionnaire a kind with results is published against (its id),
 * set before its sample is published. */
static char questionnaire_id[ID_HEX + 1];

/* The kind's sample as published here: every title language says title,
 * the times move to day (a date ahead, so calendars show it) at 09:00 to
 * 12:00 local time, "about" names about. Fails when there is no sample. */
static json_t *sample_for(const payload_kind_t *k, const char *title, const char *day,
                          const char *about)
{
    json_error_t e;
    char t[32];
    if (!k->sample)
        fail_msg("content kind %s has no sample in the kinds table (payload_json.c)", k->name);
    json_t *o = json_loads(k->sample, JSON_REJECT_DUPLICATES, &e), *titles, *v;
    if (!json_is_object(o))
        fail_msg("the sample of %s is not a JSON object: %s", k->name, e.text);
    if (!json_is_object(titles = json_object_get(o, label_of(k))) || !json_object_size(titles))
        fail_msg("the sample of %s has no %s; the matrix follows items by it", k->name,
                 label_of(k));
    const char *lang;
    json_object_foreach(titles, lang, v)
        json_object_set_new(titles, lang, json_string(title));
    if (json_object_get(o, "start")) {
        snprintf(t, sizeof t, "%sT09:00", day);
        json_object_set_new(o, "start", json_string(t));
        snprintf(t, sizeof t, "%sT12:00", day);
        json_object_set_new(o, "end", json_string(t));
    }
    if (json_object_get(o, "about")) {
        if (!about)
            fail_msg("the sample of %s is about something, and no kind may be reported on",
                     k->name);
        json_object_set_new(o, "about", json_string(about));
    }
    if (json_object_get(o, "questionnaire"))
        json_object_set_new(o, "questionnaire", json_string(questionnaire_id));
    return o;
}

/* Publishes a kind's sample on A; the new item's id into id. */
static void publish(fx_t *f, const payload_kind_t *k, const char *title, const char *about,
                    char id[ID_HEX + 1])
{
    char path[600], *out = NULL;
    snprintf(path, sizeof path, "%s/%s.json", f->scratch, k->name);
    json_t *o = sample_for(k, title, f->it.day, about);
    assert_int_equal(json_dump_file(o, path, JSON_INDENT(1)), 0);
    json_decref(o);
    if (lernet(&f->a, &out, "publish %s --json '%s'", k->name, path) != 0 ||
        sscanf(out, "published %64[0-9a-f]", id) != 1) {
        snprintf(path, sizeof path, "%s/matrix.err", f->a.home);
        char *err = slurp(path);
        fail_msg("%s × %s: publishing %s failed: %s%s", f->k->name, f->op, k->name,
                 out ? out : "", err ? err : "");
    }
    free(out);
}

static hnode_t *op_publish(fx_t *f)
{
    item_t *it = &f->it;
    const payload_kind_t *target = kind_with(PAYLOAD_KIND_REPORTED);
    json_t *sample = sample_for(f->k, "", it->day, "");
    it->dated = json_object_get(sample, "start") != NULL;
    json_decref(sample);
    if (f->k->ops & (PAYLOAD_KIND_ABOUT | PAYLOAD_KIND_ANSWERS | PAYLOAD_KIND_RESULTS)) {
        /* first what it is about */
        if (!target)
            fail_msg("%s is about another item, and no kind may be reported on", f->k->name);
        publish(f, target, "Matrix target", NULL, it->about_id);
        snprintf(it->dated_id, sizeof it->dated_id, "%s", it->about_id);
        if (f->k->ops & PAYLOAD_KIND_ANSWERS)
            snprintf(it->answers_id, sizeof it->answers_id, "%s", it->about_id);
        if (f->k->ops & PAYLOAD_KIND_RESULTS)
            snprintf(it->results_of, sizeof it->results_of, "%s", it->about_id);
    }
    if (f->k->ops & PAYLOAD_KIND_RESULTS) { /* and the questionnaire it answers */
        const payload_kind_t *qk = payload_kind_named("questionnaire");
        if (!qk)
            fail_msg("%s has results, and there is no questionnaire kind", f->k->name);
        publish(f, qk, "Matrix questionnaire", NULL, questionnaire_id);
    }
    snprintf(it->title, sizeof it->title, "Matrix %s r0 %s", f->k->name, f->mark);
    publish(f, f->k, it->title, it->about_id[0] ? it->about_id : NULL, it->id);
    if (f->k->ops & (PAYLOAD_KIND_ANSWERS | PAYLOAD_KIND_RESULTS))
        it->about_id[0] = '\0'; /* no report: nothing is "about" it for the readers */
    if (it->dated)
        snprintf(it->dated_id, sizeof it->dated_id, "%s", it->id);
    if (f->k->ops & PAYLOAD_KIND_ABOUT) {
        snprintf(it->report_id, sizeof it->report_id, "%s", it->id);
        snprintf(it->report_title, sizeof it->report_title, "%s", it->title);
    }
    return &f->a;
}

static void lernet_ok(fx_t *f, const char *what, const char *args)
{
    char *out = NULL, path[600];
    if (lernet(&f->a, &out, "%s", args) != 0) {
        snprintf(path, sizeof path, "%s/matrix.err", f->a.home);
        char *err = slurp(path);
        fail_msg("%s × %s: %s failed: %s%s", f->k->name, f->op, what, out ? out : "",
                 err ? err : "");
    }
    free(out);
}

/* `lernet update ID --title L:TEXT` for every language of the title. */
static hnode_t *op_update(fx_t *f)
{
    item_t *it = &f->it;
    char args[1024];
    json_t *o = sample_for(f->k, "", it->day, it->about_id), *v;
    const char *lang;
    it->revision++;
    it->cancelled = 0; /* an update after a cancel reinstates (README) */
    snprintf(it->title, sizeof it->title, "Matrix %s r%u %s", f->k->name, it->revision, f->mark);
    int n = snprintf(args, sizeof args, "update %s", it->id);
    json_object_foreach(json_object_get(o, label_of(f->k)), lang, v)
        n += snprintf(args + n, sizeof args - (size_t)n, " --title '%s:%s'", lang, it->title);
    json_decref(o);
    lernet_ok(f, "update", args);
    return &f->a;
}

static hnode_t *op_cancel(fx_t *f)
{
    char args[256];
    snprintf(args, sizeof args, "cancel %s --reason 'Matrix: snöstorm %s'", f->it.id, f->mark);
    lernet_ok(f, "cancel", args);
    f->it.revision++;
    f->it.cancelled = 1;
    return &f->a;
}

static hnode_t *op_report(fx_t *f)
{
    const payload_kind_t *report = kind_with(PAYLOAD_KIND_ABOUT);
    item_t *it = &f->it;
    if (!report)
        fail_msg("%s may be reported on, and no kind is about another item", f->k->name);
    snprintf(it->report_title, sizeof it->report_title, "Matrix report on %s", f->k->name);
    publish(f, report, it->report_title, it->id, it->report_id);
    snprintf(it->about_id, sizeof it->about_id, "%s", it->id);
    return &f->a;
}

static int same_listing(void *ctx)
{
    hnode_t **pair = ctx;
    char *x = NULL, *y = NULL;
    int same = lernet(pair[0], &x, "list --json") == 0 && lernet(pair[1], &y, "list --json") == 0 &&
               strcmp(x, y) == 0;
    free(x);
    free(y);
    return same;
}

/* B has had A's events pushed since the start: it must hold what A holds. */
static hnode_t *op_sync(fx_t *f)
{
    hnode_t *pair[2] = {&f->a, &f->b};
    if (!h_wait(same_listing, pair, H_DEADLINE_MS))
        fail_msg("%s × %s: B's items never became A's (see %s/daemon.log)", f->k->name, f->op,
                 f->b.home);
    return &f->b;
}

/* A's signed events as a file, into C, a fresh home; then C's daemon. */
static hnode_t *op_bundle(fx_t *f)
{
    char path[600], args[700], *out = NULL;
    hnode_t *pair[2] = {&f->a, &f->c};
    snprintf(path, sizeof path, "%s/a.bundle", f->scratch); /* made before any erasure */
    snprintf(args, sizeof args, "export bundle '%s'", path);
    lernet_ok(f, "export bundle", args);
    assert_int_equal(h_node_init(&f->c, "OWL Lernregion", "DE", NET), 0);
    f->has_c = 1;
    f->c.web_port = h_free_port();
    assert_int_equal(h_node_write_config(&f->c), 0);
    if (lernet(&f->c, &out, "import bundle '%s'", path) != 0 || !strstr(out, ", 0 refused\n"))
        fail_msg("%s × %s: import bundle: %s", f->k->name, f->op, out ? out : "");
    free(out);
    if (!same_listing(pair))
        fail_msg("%s × %s: C's items after the import are not A's", f->k->name, f->op);
    assert_int_equal(h_node_start(&f->c), 0);
    return &f->c;
}

/* `lernet erase ID` on A: a workshop's or meeting's updates and cancels go
 * with it. An experience report that is the item goes; one about the item
 * stays, about an erased event. */
static hnode_t *op_erase(fx_t *f)
{
    char args[256];
    item_t *it = &f->it;
    home_probe_t p = {f, &f->a};
    if (home_clean(&p)) /* else the search after the erasure would prove nothing */
        fail_msg("%s × %s: the item's text ('%s') is in no file of A's home before the erasure",
                 f->k->name, f->op, f->mark);
    snprintf(args, sizeof args, "erase %.12s --reason 'Matrix: written in error'", it->id);
    it->erased_from_ms = (int64_t)time(NULL) * 1000;
    lernet_ok(f, "erase", args);
    it->erased_to_ms = (int64_t)time(NULL) * 1000 + 999;
    it->erased = 1;
    if (strcmp(it->report_id, it->id) == 0)
        it->report_id[0] = '\0';
    return &f->a;
}

/* B held the item with its text: the erasure reaches it by sync. */
static hnode_t *op_erase_sync(fx_t *f)
{
    return op_sync(f);
}

/* A's bundle made after the erasure, into a fresh home D (the item arrives
 * erased, never with its text) and into C, which holds the text from the
 * bundle made before (the import erases it there). */
static hnode_t *op_erase_bundle(fx_t *f)
{
    char path[600], args[700], *out = NULL;
    hnode_t *with_d[2] = {&f->a, &f->d}, *with_c[2] = {&f->a, &f->c};
    snprintf(path, sizeof path, "%s/erased.bundle", f->a.home);
    snprintf(args, sizeof args, "export bundle '%s'", path);
    lernet_ok(f, "export bundle", args);
    assert_int_equal(h_node_init(&f->d, "Folkuniversitetet Uppsala", "SE", NET), 0);
    f->has_d = 1;
    f->d.web_port = h_free_port();
    assert_int_equal(h_node_write_config(&f->d), 0);
    if (lernet(&f->d, &out, "import bundle '%s'", path) != 0 || !strstr(out, ", 0 refused\n"))
        fail_msg("%s × %s: import bundle into a fresh home: %s", f->k->name, f->op,
                 out ? out : "");
    free(out);
    out = NULL;
    if (!same_listing(with_d))
        fail_msg("%s × %s: D's items after the import are not A's", f->k->name, f->op);
    if (f->has_c) {
        if (lernet(&f->c, &out, "import bundle '%s'", path) != 0 ||
            !strstr(out, ", 0 refused\n"))
            fail_msg("%s × %s: import bundle into C: %s", f->k->name, f->op, out ? out : "");
        free(out);
        home_probe_t p = {f, &f->c};
        if (!same_listing(with_c))
            fail_msg("%s × %s: C's items after the import are not A's", f->k->name, f->op);
        if (!h_wait(home_clean, &p, H_DEADLINE_MS)) {
            char *files = files_with(f, &f->c);
            fail_msg("%s × %s: C still holds the erased text in %s", f->k->name, f->op, files);
        }
    }
    assert_int_equal(h_node_start(&f->d), 0);
    return &f->d;
}

static const struct op {
    const char *name;
    unsigned needs; /* bits of the kind's row that must be set */
    hnode_t *(*run)(fx_t *f);
} ops[] = {
    {"publish", 0, op_publish},
    {"update once", PAYLOAD_KIND_UPDATE, op_update},
    {"update twice", PAYLOAD_KIND_UPDATE, op_update},
    {"cancel", PAYLOAD_KIND_CANCEL, op_cancel},
    {"update after cancel", PAYLOAD_KIND_UPDATE | PAYLOAD_KIND_CANCEL, op_update},
    {"an experience report about it", PAYLOAD_KIND_REPORTED, op_report},
    {"received by sync from a partner", 0, op_sync},
    {"imported from a bundle", 0, op_bundle},
    {"erase", 0, op_erase},
    {"erasure received by sync", 0, op_erase_sync},
    {"erasure imported from a bundle", 0, op_erase_bundle},
};

/* ---- one test per kind -------------------------------------------------- */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->k = *state;
    *state = f;
    time_t ahead = time(NULL) + 45 * 86400;
    uint8_t r[8];
    assert_non_null(f->scratch = tu_tempdir());
    randombytes_buf(r, sizeof r);
    snprintf(f->mark, sizeof f->mark, "Zq%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
             r[5]);
    struct tm tm;
    gmtime_r(&ahead, &tm);
    strftime(f->it.day, sizeof f->it.day, "%Y-%m-%d", &tm);
    assert_int_equal(h_node_init(&f->a, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&f->b, "Roskilde Handelsskole", "DK", NET), 0);
    h_link(&f->a, &f->b, NET);
    snprintf(f->it.author, sizeof f->it.author, "%s", f->a.pub);
    hnode_t *both[] = {&f->a, &f->b};
    for (int i = 0; i < 2; i++) {
        both[i]->web_port = h_free_port();
        assert_int_equal(h_node_write_config(both[i]), 0);
        assert_int_equal(h_node_start(both[i]), 0);
    }
    assert_true(h_wait(h_partners_up, &f->a, H_DEADLINE_MS));
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    h_node_free(&f->a);
    h_node_free(&f->b);
    if (f->has_c)
        h_node_free(&f->c);
    if (f->has_d)
        h_node_free(&f->d);
    tu_rmtree(&f->scratch);
    free(f->listing);
    free(f);
    return 0;
}

static void test_kind(void **state)
{
    fx_t *f = *state;
    current_kind = f->k;
    size_t states = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if ((f->k->ops & ops[i].needs) != ops[i].needs)
            continue;
        f->op = ops[i].name;
        hnode_t *holder = ops[i].run(f);
        read_all(f, holder);
        states++;
    }
    fprintf(stderr, "matrix: %s: %zu operations, %zu reader runs, all as expected\n",
            f->k->name, states, f->cells);
}

int main(void)
{
    keys_init();
    static char names[64][48];
    struct CMUnitTest tests[64];
    size_t n = 0;
    const payload_kind_t *k;
    for (; (k = payload_kind_at(n)) && n < 64; n++) {
        snprintf(names[n], sizeof names[n], "matrix_%s", k->name);
        tests[n] = (struct CMUnitTest){names[n], test_kind, setup, teardown, (void *)k};
    }
    return _cmocka_run_group_tests("test_matrix", tests, n, NULL, NULL);
}
