/*
 * page: what the web page shows (web.c serves it): the calendar, one
 * event, node health, and the calendar feed, report CSV and metrics.
 * Every handler only reads: the store (r->env->st) and the daemon's state
 * through its control commands. Each fills *out (see web_resp_t).
 */
#ifndef LERNET_PAGE_H
#define LERNET_PAGE_H

#include "web/web.h"

/* GET /?network=&theme=&language=&org=&country=&from=&span=&start= :
 * workshops and meetings of every network this node holds: everything
 * ahead, or with from=YYYY-MM-DD and span=month|week the month or week of
 * that day (in the node's zone), with links to the one before and after
 * and a form to jump to any day; shown in pages of at most PAGE_MAX_ROWS
 * (start= is the index of a page's first row), fewer when the byte budget
 * below ends a page early (the next page starts where it stopped). */
#define PAGE_MAX_ROWS 50
/* The subscription feed: events that ended in the last year or are ahead,
 * at most this many (calendar apps give up long before); the whole history
 * is `lernet export ical`. */
#define PAGE_ICAL_MAX 5000
#define PAGE_ICAL_PAST_S (366 * 86400)
/* Byte budgets inside HTML_MAX: hostile events can make each row or option
 * large (escaping multiplies a '"' by six), and a page that stops early
 * with "N more not shown" beats one that fails whole. One calendar row is
 * at most about 300 KiB (a 48 KiB payload, escaped), so rows + options +
 * frame stay below HTML_MAX. */
#define PAGE_ROWS_BUDGET (4 * 1024 * 1024)
#define PAGE_OPTIONS_BUDGET (256 * 1024) /* per filter */
#define PAGE_MAX_OPTIONS 1000             /* distinct values per filter */
void page_calendar(const web_req_t *r, web_resp_t *out);
/* GET /event/ID (r->path: id or unique prefix) */
void page_event(const web_req_t *r, web_resp_t *out);
/* GET /health */
void page_health(const web_req_t *r, web_resp_t *out);
/* GET /calendar.ics?network=&lang= (as `lernet export ical`) */
void page_ical(const web_req_t *r, web_resp_t *out);
/* GET /report.csv?by=&network= (as `lernet report --format csv`) */
void page_report_csv(const web_req_t *r, web_resp_t *out);
/* GET /metrics: Prometheus text format 0.0.4 */
void page_metrics(const web_req_t *r, web_resp_t *out);

/* search.c: GET /search?q=&kind=&network= (as `lernet search`), and the
 * search box of every page's header (a labelled GET form; q refilled). */
struct html;
void page_search(const web_req_t *r, web_resp_t *out);
void page_search_box(struct html *h, const web_req_t *r);
/* programme.c: goals and feedback. */
/* GET /goals?network=: every counted goal with target, reached, share,
 * remaining (at most PROGRAMME_MAX_GOALS), then the counted questionnaires
 * (as many at most). */
void page_goals(const web_req_t *r, web_resp_t *out);
struct html;
/* The rows of a goal's, questionnaire's or feedback's fields inside the
 * event page's table (a goal with its progress, feedback with its
 * results). */
void programme_rows(struct html *h, const web_req_t *r, const store_item_t *it);
/* A workshop's or meeting's page: the feedback its organiser shared, and
 * for the organiser (own: this node published it) a link to the feedback
 * form (form.c, /publish/feedback?about=ID). */
void programme_feedback_section(struct html *h, const web_req_t *r,
                                const uint8_t id[EVENT_ID_BYTES], int own);

/* library.c: the library and the discussions. */
#define LIBRARY_MAX_ROWS 1000      /* resources on one library page */
#define THREAD_MAX_DEPTH 32        /* replies to replies to ... shown */
#define THREAD_MAX_REPLIES 500     /* replies shown under one item */
/* GET /library?type=&theme=&language=&network= */
void page_library(const web_req_t *r, web_resp_t *out);
/* GET /feed.atom?network= (as `lernet export atom`) */
void page_atom(const web_req_t *r, web_resp_t *out);
/* GET /event/ID/file/N (path "ID/file/N"): the N-th attachment of the
 * item, streamed from the node home when it is here (hash re-checked),
 * else 404 "not yet here". */
void library_file(const web_req_t *r, web_resp_t *out, const char *path);
/* The rows of a resource's or reply's fields (attachments with download
 * links), inside the event page's table. */
struct html;
void library_rows(struct html *h, const web_req_t *r, const store_item_t *it);
/* Texts in several languages, each a paragraph with its lang attribute and
 * a badge naming the language. */
void library_texts(struct html *h, Lernet__Text **t, size_t n);
/* The thread under an item: its replies nested, hidden ones as hidden
 * (by whom), each with its files, then a form that publishes a reply to it
 * (multipart/form-data, with one optional file: web/upload.h). */
void library_thread(struct html *h, const web_req_t *r, const uint8_t id[EVENT_ID_BYTES],
                    const char *network);

#endif
