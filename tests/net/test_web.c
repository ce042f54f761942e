/*
 * test_web: the page each daemon serves, on three real daemons in a chain
 * A–B–C (a Swedish learning centre, a Danish business college relaying, a
 * German regional agency). Raw HTTP checks the refusals byte by byte
 * (token, CSRF, sizes, methods); tests/harness/web_check.js then drives a real
 * headless Chromium (playwright-core) through the calendar, the event page,
 * the three publish forms, a bad field, a forged cross-site post, a
 * non-local visit with the token, and saves screenshots of the calendar
 * and the health page into build/web-artifacts/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "web/html.h"
#include "keys/keystore.h"
#include "web/page.h"
#include "store/store.h"
#include "harness/testutil.h"

#define TOKEN "kf3Jq9vXb2LmT7wZr5YpN8sHc4DgA6eU" /* 32 characters */
#define FAR_TITLE_DE "Lernwerkstatt Ausbildung 4.0"
#define FAR_TITLE_SV "Lärverkstad Yrkesutbildning 4.0"
#define TWO_TITLE_SV "Validering av yrkeskunskaper"
#define TWO_TITLE_EN "Validating vocational skills"

static hnode_t A, B, C;

/* ---- a raw HTTP/1.1 client: one request, read to close ------------------ */

typedef struct http_reply {
    int status;
    char *text; /* headers and body, NUL-terminated */
} http_reply_t;

static int http_raw(int port, const char *req, size_t len, http_reply_t *r)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {10, 0};
    size_t cap = 1 << 16, got = 0;
    memset(r, 0, sizeof *r);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    /* the server may answer (413) and close before taking the whole body */
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    r->text = malloc(cap);
    for (ssize_t n; r->text && (n = recv(fd, r->text + got, cap - got - 1, 0)) > 0;) {
        got += (size_t)n;
        if (got + 1 == cap)
            r->text = realloc(r->text, cap *= 2);
    }
    close(fd);
    if (!r->text)
        return -1;
    r->text[got] = '\0';
    if (sscanf(r->text, "HTTP/1.%*d %d", &r->status) != 1)
        r->status = -1;
    return 0;
}

/* A request with the given extra header lines (each ending in \r\n). */
static http_reply_t http(int port, const char *method, const char *path, const char *headers,
                         const char *body)
{
    char *req = NULL;
    size_t blen = body ? strlen(body) : 0;
    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                     "%s%zu\r\n\r\n%s",
                     method, path, port, headers ? headers : "",
                     body ? "Content-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: "
                          : "X-Body: ",
                     blen, body ? body : "");
    assert_true(n > 0);
    http_reply_t r;
    assert_int_equal(http_raw(port, req, (size_t)n, &r), 0);
    free(req);
    return r;
}

static void expect(int port, const char *method, const char *path, const char *headers,
                   const char *body, int status, const char *needle)
{
    http_reply_t r = http(port, method, path, headers, body);
    if (r.status != status || (needle && !strstr(r.text, needle))) {
        const char *b = strstr(r.text, "field-error");
        b = b ? b : strstr(r.text, "<main>");
        fprintf(stderr, "%s %s: want %d with '%s', got %d:\n%.1500s\n", method, path, status,
                needle ? needle : "", r.status, b ? b : r.text);
        fail();
    }
    free(r.text);
}

/* The CSRF token the form at path carries. */
static char *csrf_at(int port, const char *path)
{
    http_reply_t r = http(port, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    const char *p = strstr(r.text, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    char *tok = strndup(p, strcspn(p, "\""));
    free(r.text);
    return tok;
}

static char *csrf_of(int port)
{
    return csrf_at(port, "/publish/workshop");
}

/* ---- fixtures ------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", "nordic-wbl"), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", "nordic-wbl"), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", "nordic-wbl"), 0);
    h_link(&A, &B, "nordic-wbl");
    h_link(&B, &C, "nordic-wbl");
    snprintf(B.web_token, sizeof B.web_token, "%s", TOKEN);
    hnode_t *all[] = {&A, &B, &C};
    /* rounds a minute apart: whatever arrives within the tests' deadlines
     * was pushed the moment it was published */
    for (int i = 0; i < 3; i++) {
        all[i]->web_port = h_free_port();
        all[i]->sync_interval_ms = 60000;
        assert_int_equal(h_node_write_config(all[i]), 0);
        assert_int_equal(h_node_start(all[i]), 0);
    }
    /* every node's own connections up, not only B's: with rounds a minute
     * apart, an event A publishes while its connection to B is still
     * coming up (its redial backs off from 250 ms) is only pulled by B's
     * next round, after the deadlines (seen: 1 run in 4 failed) */
    for (int i = 0; i < 3; i++)
        assert_true(h_wait(h_partners_up, all[i], H_DEADLINE_MS));
    /* C's workshop, in German and Swedish, reaches A only through B */
    assert_int_equal(h_lernet(&C, NULL,
                              "publish workshop --title 'de:%s' --title 'sv:%s' "
                              "--start 2027-04-14T09:00 --end 2027-04-14T15:00 "
                              "--place 'Jahnplatz 5, Bielefeld' --theme 'apprenticeships' "
                              "--role 'company representatives' --language de --capacity 30",
                              FAR_TITLE_DE, FAR_TITLE_SV),
                     0);
    assert_int_equal(h_publish_workshop(&B, "Innovationscamp med SMV-virksomheder", "nordic-wbl"),
                     0);
    /* in Swedish and English only: what a German reader is shown */
    assert_int_equal(h_lernet(&A, NULL,
                              "publish workshop --title 'sv:%s' --title 'en:%s' "
                              "--start 2027-09-07T13:00 --end 2027-09-07T16:00 "
                              "--place 'Stationsgatan 2, Östhammar'",
                              TWO_TITLE_SV, TWO_TITLE_EN),
                     0);
    assert_true(h_wait_items(all, 3, 3, H_DEADLINE_MS));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_node_free(&A);
    h_node_free(&B);
    h_node_free(&C);
    return 0;
}

/* ---- raw HTTP ------------------------------------------------------------ */

static void test_pages_and_feeds(void **state)
{
    (void)state;
    expect(A.web_port, "GET", "/", "Accept-Language: de-DE,de;q=0.9\r\n", NULL, 200,
           FAR_TITLE_DE);
    expect(A.web_port, "GET", "/", "Accept-Language: sv\r\n", NULL, 200, FAR_TITLE_SV);
    expect(A.web_port, "GET", "/?country=DE", NULL, NULL, 200, "1 event<");
    expect(A.web_port, "GET", "/?country=DK", NULL, NULL, 200, "Innovationscamp");
    expect(A.web_port, "GET", "/health", NULL, NULL, 200, "Roskilde Handelsskole");
    expect(A.web_port, "GET", "/calendar.ics", NULL, NULL, 200, "BEGIN:VCALENDAR");
    expect(A.web_port, "GET", "/report.csv", NULL, NULL, 200, "text/csv");
    /* a funder's period: C's workshop on 14 April 2027 only, then with B's of 2 March */
    expect(A.web_port, "GET", "/report.csv?from=2027-04-01&to=2027-04-30&by=month&network=", NULL,
           NULL, 200, "\n2027-04,1,0,0,1,0,0,0,0\ntotal,1,0,0,1,");
    expect(A.web_port, "GET", "/report.csv?from=2027-03-01&to=2027-04-30&by=month", NULL, NULL, 200,
           "\n2027-03,1,0,0,1,0,0,0,0\n2027-04,1,0,0,1,0,0,0,0\ntotal,2,0,0,2,");
    /* the form's "Download for Excel" button (excel=1): the same rows with
     * a UTF-8 byte order mark first and CRLF line ends, as a download */
    expect(A.web_port, "GET", "/report.csv?from=2027-04-01&to=2027-04-30&by=month&excel=1", NULL,
           NULL, 200, "\r\n\r\n\xEF\xBB\xBF");
    expect(A.web_port, "GET", "/report.csv?from=2027-04-01&to=2027-04-30&by=month&excel=1", NULL,
           NULL, 200, "\r\n2027-04,1,0,0,1,0,0,0,0\r\ntotal,1,0,0,1,");
    expect(A.web_port, "GET", "/report.csv?by=month&excel=1", NULL, NULL, 200,
           "attachment; filename=\"lernet-report-excel.csv\"");
    expect(A.web_port, "GET", "/", NULL, NULL, 200, "<button name=\"excel\" value=\"1\">");
    expect(A.web_port, "GET", "/report.csv?from=2027-13-01", NULL, NULL, 400, "from: a day");
    expect(A.web_port, "GET", "/report.csv?to=yesterday", NULL, NULL, 400, "to: a day");
    expect(A.web_port, "GET", "/", NULL, NULL, 200, "action=\"/report.csv\"");
    expect(A.web_port, "GET", "/metrics", NULL, NULL, 200, "\nlernet_events_stored ");
    expect(A.web_port, "GET", "/metrics", NULL, NULL, 200, "lernet_peer_lag_events{peer=");
    expect(A.web_port, "GET", "/style.css", NULL, NULL, 200, "text/css");
    /* every page forbids scripts, framing and sniffing */
    expect(A.web_port, "GET", "/", NULL, NULL, 200, "Content-Security-Policy: default-src 'none'");
    expect(A.web_port, "GET", "/", NULL, NULL, 200, "X-Frame-Options: DENY");
}

/* The page in the visitor's language: Accept-Language, the menu's ?lang=
 * (remembered in a cookie), dates as each language writes them, and a
 * title in another language than the page's marked with its own lang. */
static void test_languages(void **state)
{
    (void)state;
    /* only German asked for: no German title, so the English one, not the Swedish */
    expect(A.web_port, "GET", "/", "Accept-Language: de\r\n", NULL, 200, TWO_TITLE_EN);
    expect(A.web_port, "GET", "/", "Accept-Language: de\r\n", NULL, 200, "<html lang=\"de\">");
    expect(A.web_port, "GET", "/", "Accept-Language: de-AT,de;q=0.9\r\n", NULL, 200,
           ">Kalender</a>");
    expect(A.web_port, "GET", "/", "Accept-Language: de\r\n", NULL, 200,
           " lang=\"en\">" TWO_TITLE_EN "</a>");
    /* C's workshop, Wednesday 14 April 2027 in Bielefeld, in each language */
    expect(A.web_port, "GET", "/", "Accept-Language: de\r\n", NULL, 200, "Mi., 14. Apr. 2027, 09:00");
    expect(A.web_port, "GET", "/", "Accept-Language: sv\r\n", NULL, 200, "ons 14 apr. 2027, 09:00");
    expect(A.web_port, "GET", "/", "Accept-Language: da\r\n", NULL, 200, "ons. 14. apr. 2027, 09.00");
    expect(A.web_port, "GET", "/", "Accept-Language: fi\r\n", NULL, 200, "ke 14.4.2027, 9.00");
    expect(A.web_port, "GET", "/", "Accept-Language: en\r\n", NULL, 200, "Wed 14 Apr 2027, 09:00");
    /* the menu: ?lang= wins over Accept-Language and is remembered */
    expect(A.web_port, "GET", "/health?lang=fi", "Accept-Language: de\r\n", NULL, 200,
           "<html lang=\"fi\">");
    expect(A.web_port, "GET", "/health?lang=fi", NULL, NULL, 200,
           "Set-Cookie: lernet_lang=fi; Path=/; Max-Age=31536000; SameSite=Lax");
    expect(A.web_port, "GET", "/health", "Cookie: lernet_lang=da\r\nAccept-Language: de\r\n",
           NULL, 200, "<h1>Nodens tilstand</h1>");
    expect(A.web_port, "GET", "/publish/workshop", "Cookie: lernet_lang=sv\r\n", NULL, 200,
           "Signera och publicera");
    /* a language the page does not have: English, with content still as asked */
    expect(A.web_port, "GET", "/?lang=nb", "Accept-Language: nb\r\n", NULL, 200,
           "<html lang=\"en\">");
    expect(A.web_port, "GET", "/", "Accept-Language: en\r\n", NULL, 200,
           "<a href=\"?lang=sv\" lang=\"sv\" hreflang=\"sv\">svenska</a>");
    /* counts and filter values in words */
    expect(A.web_port, "GET", "/?country=DE", "Accept-Language: sv\r\n", NULL, 200,
           ">1 evenemang<");
    expect(A.web_port, "GET", "/", "Accept-Language: sv\r\n", NULL, 200,
           "<option value=\"DE\">Tyskland</option>");
}

/* A rule only the core checks (core/event.c: an online link must be an
 * http(s) address) is said in the page's language (util/why.h) and at
 * the field it names, though the field's name is the payload's: Swedish,
 * German and English, the form sent back with nothing stored. */
static void test_wire_rule_in_page_language(void **state)
{
    (void)state;
    static const char *const langs[][2] = {
        {"sv", "fältet &#39;online_url&#39;: ingen http(s)-adress utan mellanslag"},
        {"de", "Feld &#39;online_url&#39;: keine http(s)-Adresse ohne Leerzeichen"},
        {"en", "field &#39;online_url&#39;: not an http(s) address without spaces"}};
    char *csrf = csrf_of(A.web_port), body[1024], hdr[128];
    long before = h_count_items(&A);
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&title_1=Handledning+p%%C3%%A5+distans"
             "&lang_2=&title_2=&start=2027-05-11T09%%3A00&end=2027-05-11T12%%3A00"
             "&tz=Europe%%2FStockholm&place=&online_url=kurs.example.se%%2Fanmalan",
             csrf);
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        snprintf(hdr, sizeof hdr, "Sec-Fetch-Site: same-origin\r\nAccept-Language: %s\r\n",
                 langs[i][0]);
        http_reply_t r = http(A.web_port, "POST", "/publish/workshop", hdr, body);
        if (r.status != 422 || !strstr(r.text, langs[i][1]))
            fail_msg("%s: want 422 with \"%s\", got %d: %.400s", langs[i][0], langs[i][1],
                     r.status, strstr(r.text, "error-summary") ? strstr(r.text, "error-summary")
                                                              : r.text);
        assert_non_null(strstr(r.text, "aria-describedby=\"hint-online_url error-online_url\""));
        free(r.text);
    }
    assert_int_equal(h_count_items(&A), before);
    free(csrf);
}

/* A form sent back says everything wrong at once: a summary at the top
 * (which takes the focus) with a link to each field, each message next to
 * its field and tied to it; every control has a label, the required ones
 * say so to the browser and to screen readers, and the * is explained. */
static void test_form_errors(void **state)
{
    (void)state;
    char *csrf = csrf_of(A.web_port), body[1024];
    const char *same = "Sec-Fetch-Site: same-origin\r\n";
    long before = h_count_items(&A);
    /* no title, the end before the start, a capacity that is not a number */
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&title_1=&lang_2=&title_2="
             "&start=2027-05-11T13%%3A00&end=2027-05-11T09%%3A00&tz=Europe%%2FStockholm"
             "&capacity=many",
             csrf);
    http_reply_t r = http(A.web_port, "POST", "/publish/workshop", same, body);
    assert_int_equal(r.status, 422);
    const char *sum = strstr(r.text, "<div class=\"error-summary\" id=\"error\" role=\"alert\" "
                                     "tabindex=\"-1\" autofocus");
    assert_non_null(sum);
    assert_non_null(strstr(sum, "3 things to correct"));
    assert_non_null(strstr(sum, "<a href=\"#f-title_1\">Title: fill this in</a>"));
    assert_non_null(strstr(sum, "<a href=\"#f-end\">Ends: must be after the start</a>"));
    assert_non_null(strstr(sum, "<a href=\"#f-capacity\">Capacity: &#39;many&#39; is not a whole number"));
    /* each field: its message, and the control pointing at it */
    assert_non_null(strstr(r.text, "id=\"error-end\""));
    assert_non_null(strstr(r.text, "name=\"end\" id=\"f-end\" required aria-required=\"true\" "
                                   "aria-describedby=\"error-end\" class=\"invalid\" "
                                   "aria-invalid=\"true\""));
    assert_non_null(strstr(r.text, "name=\"title_1\" id=\"f-title_1\" required "
                                   "aria-required=\"true\" aria-describedby=\"error-title\""));
    assert_non_null(strstr(r.text, "id=\"f-capacity\" aria-describedby=\"hint-capacity "
                                   "error-capacity\" class=\"invalid\" aria-invalid=\"true\""));
    /* what was typed is kept */
    assert_non_null(strstr(r.text, "value=\"2027-05-11T13:00\""));
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    /* in Finnish too */
    r = http(A.web_port, "POST", "/publish/workshop", "Sec-Fetch-Site: same-origin\r\n"
                                                      "Accept-Language: fi\r\n", body);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.text, "<html lang=\"fi\">"));
    assert_non_null(strstr(r.text, "3 korjattavaa asiaa"));
    free(r.text);
    free(csrf);
    /* the empty form: every control labelled, the second-language boxes too */
    static const char *const labelled[] = {"f-lang_1", "f-lang_2", "f-title_1", "f-title_2",
                                           "f-description_1", "f-description_2", "f-start",
                                           "f-end", "f-tz", "f-capacity", "f-status"};
    r = http(A.web_port, "GET", "/publish/workshop", NULL, NULL);
    for (size_t i = 0; i < sizeof labelled / sizeof labelled[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "<label for=\"%s\"", labelled[i]);
        if (!strstr(r.text, want))
            fail_msg("no label for %s", labelled[i]);
        snprintf(want, sizeof want, "id=\"%s\"", labelled[i]);
        assert_non_null(strstr(r.text, want));
    }
    assert_non_null(strstr(r.text, "id=\"required-note\">Fields marked * must be filled in."));
    assert_non_null(strstr(r.text, "<a class=\"skip\" href=\"#main\">"));
    assert_null(strstr(r.text, "error-summary"));
    free(r.text);
}

static void test_bad_requests(void **state)
{
    (void)state;
    expect(A.web_port, "GET", "/nowhere", NULL, NULL, 404, NULL);
    expect(A.web_port, "GET", "/event/zz", NULL, NULL, 404, NULL);
    expect(A.web_port, "GET", "/event/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
           NULL, NULL, 404, "no such event");
    expect(A.web_port, "GET", "/publish/poem", NULL, NULL, 404, NULL);
    expect(A.web_port, "DELETE", "/", NULL, NULL, 405, NULL);
    expect(A.web_port, "GET", "/?lang=%ff%fe", NULL, NULL, 200, NULL);
    char *csrf = csrf_of(A.web_port), body[512];
    snprintf(body, sizeof body, "csrf=%s&title_1=%%zz", csrf);
    expect(A.web_port, "POST", "/publish/workshop", NULL, body, 400, "field &#39;title_1&#39;: a % not followed");
    snprintf(body, sizeof body, "csrf=%s&title_1=%%C3%%28", csrf);
    expect(A.web_port, "POST", "/publish/workshop", NULL, body, 400, "UTF-8");
    /* the form's participant lines go through the CLI's parser */
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&title_1=T&text_1=T"
             "&participants=teachers%%3D5%%0D%%0Ateachers%%3D7",
             csrf);
    expect(A.web_port, "POST", "/publish/experience", "Sec-Fetch-Site: same-origin\r\n", body,
           422, "role &#39;teachers&#39; is given twice");
    /* a body over 64 KiB is refused whole, announced or not */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    memcpy(big, "title_1=", 8);
    expect(A.web_port, "POST", "/publish/workshop", NULL, big, 413, NULL);
    free(big);
    /* more fields than any form has (feedback's counts: 16 + 32 × 11) */
    char many[4096] = "";
    snprintf(many, sizeof many, "csrf=%s", csrf);
    for (int i = 0; i < 380; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "&f%d=x", i);
    expect(A.web_port, "POST", "/publish/workshop", NULL, many, 400, "fields");
    free(csrf);
    /* and the node still serves */
    expect(A.web_port, "GET", "/", NULL, NULL, 200, FAR_TITLE_SV);
}

/* A valid workshop form, less its CSRF field. */
static const char *const FIELDS =
    "network=nordic-wbl&lang_1=sv&title_1=Validering+i+arbetslivet&lang_2=&title_2="
    "&start=2027-05-01T09%3A00&end=2027-05-01T12%3A00&tz=Europe%2FStockholm"
    "&place=Stationsgatan+2";

static void test_csrf(void **state)
{
    (void)state;
    long before = h_count_items(&A);
    const char *same = "Sec-Fetch-Site: same-origin\r\n";
    char *csrf = csrf_of(A.web_port), body[1024], origin[64];
    expect(A.web_port, "POST", "/publish/workshop", same, FIELDS, 403, "CSRF");
    snprintf(body, sizeof body, "csrf=%s&%s", csrf, FIELDS);
    /* a form with neither header: not from any current browser's page */
    expect(A.web_port, "POST", "/publish/workshop", NULL, body, 403, "origin is unknown");
    expect(A.web_port, "POST", "/publish/workshop", "Origin: http://evil.example\r\n", body, 403,
           "another site");
    expect(A.web_port, "POST", "/publish/workshop", "Origin: http://127.0.0.1:1\r\n", body, 403,
           "another site");
    expect(A.web_port, "POST", "/publish/workshop", "Sec-Fetch-Site: same-site\r\n", body, 403,
           "another site");
    expect(A.web_port, "POST", "/publish/workshop", same, "csrf=0000&title_1=x", 403, "CSRF");
    assert_int_equal(h_count_items(&A), before);
    /* the same form from the page itself goes through, also via a TLS proxy */
    expect(A.web_port, "POST", "/publish/workshop", same, body, 303, "Location: /event/");
    snprintf(origin, sizeof origin, "Origin: https://127.0.0.1:%d\r\n", A.web_port);
    expect(A.web_port, "POST", "/publish/workshop", origin, body, 303, "Location: /event/");
    assert_int_equal(h_count_items(&A), before + 2);
    free(csrf);
}

/* Only requests from this machine, to a loopback name, get in without the
 * token: a browser sent here by DNS rebinding carries another Host. */
static void test_token(void **state)
{
    (void)state;
    const char *evil = "Host: lernet.example.org\r\n";
    char hdr[256];
    /* http() sets Host itself: raw requests for the non-local ones */
    http_reply_t r;
    char req[2048];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\n%sConnection: close\r\n\r\n", evil);
    assert_int_equal(http_raw(B.web_port, req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.text, "sign in"));
    assert_null(strstr(r.text, "Innovationscamp"));
    free(r.text);
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", TOKEN);
    n = snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\n%s%s\r\nConnection: close\r\n\r\n",
                 evil, hdr);
    assert_int_equal(http_raw(B.web_port, req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.text, "lernet_events_stored"));
    free(r.text);
    n = snprintf(req, sizeof req,
                 "GET / HTTP/1.1\r\n%sAuthorization: Bearer %.31sX\r\nConnection: close\r\n\r\n",
                 evil, TOKEN);
    assert_int_equal(http_raw(B.web_port, req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 401);
    free(r.text);
    /* a script with the token may post without Origin: no browser sends Bearer by itself */
    char *csrf = csrf_of(B.web_port), body[1024];
    long before = h_count_items(&B);
    snprintf(body, sizeof body, "csrf=%s&%s", csrf, FIELDS);
    free(csrf);
    n = snprintf(req, sizeof req,
                 "POST /publish/workshop HTTP/1.1\r\n%s%s\r\nConnection: close\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
                 evil, hdr, strlen(body), body);
    assert_int_equal(http_raw(B.web_port, req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 303);
    free(r.text);
    assert_int_equal(h_count_items(&B), before + 1);
    /* a reverse proxy on this machine: loopback address and Host, yet not local */
    expect(A.web_port, "GET", "/", "X-Forwarded-For: 203.0.113.7\r\n", NULL, 401, "sign in");
    expect(A.web_port, "GET", "/", "Via: 1.1 nginx\r\n", NULL, 401, "sign in");
    /* A has no token file: nobody off the machine gets in at all */
    n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\n%s%s\r\nConnection: close\r\n\r\n", evil,
                 hdr);
    assert_int_equal(http_raw(A.web_port, req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 401);
    free(r.text);
}

typedef struct exit_ctx {
    hnode_t *node;
    int status;
} exit_ctx_t;

static int exited(void *vctx)
{
    exit_ctx_t *c = vctx;
    return waitpid(c->node->pid, &c->status, WNOHANG) == c->node->pid;
}

/* The daemon will not start on a token file others can read. */
static void test_token_file_checked(void **state)
{
    (void)state;
    hnode_t D = {0};
    char path[600];
    assert_int_equal(h_node_init(&D, "Vuxenutbildningen Uppsala", "SE", "nordic-wbl"), 0);
    D.web_port = h_free_port();
    snprintf(D.web_token, sizeof D.web_token, "%s", TOKEN);
    assert_int_equal(h_node_write_config(&D), 0);
    snprintf(path, sizeof path, "%s/web.token", D.home);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(h_node_spawn(&D), 0);
    exit_ctx_t c = {&D, 0};
    assert_true(h_wait(exited, &c, H_DEADLINE_MS));
    D.pid = 0;
    assert_true(WIFEXITED(c.status) && WEXITSTATUS(c.status) != 0);
    assert_true(h_log_contains(&D, "web.token: mode 644, must be 0600"));
    /* too short a secret */
    snprintf(D.web_token, sizeof D.web_token, "%s", "short");
    assert_int_equal(h_node_write_config(&D), 0);
    assert_int_equal(h_node_spawn(&D), 0);
    c.status = 0;
    assert_true(h_wait(exited, &c, H_DEADLINE_MS));
    D.pid = 0;
    assert_true(h_log_contains(&D, "must hold one line of 32 to"));
    h_node_free(&D);
}

/* web_behind_proxy: a proxy's requests all come from loopback, so loopback
 * visitors sign in too, and the cookie is kept to TLS. */
static void test_behind_proxy(void **state)
{
    (void)state;
    hnode_t D = {0};
    char body[256], origin[64];
    assert_int_equal(h_node_init(&D, "Turun ammattiopisto", "FI", "nordic-wbl"), 0);
    D.web_port = h_free_port();
    D.web_behind_proxy = 1;
    snprintf(D.web_token, sizeof D.web_token, "%s", TOKEN);
    assert_int_equal(h_node_write_config(&D), 0);
    assert_int_equal(h_node_start(&D), 0);
    expect(D.web_port, "GET", "/", NULL, NULL, 401, "sign in");
    char *csrf = csrf_at(D.web_port, "/login");
    snprintf(body, sizeof body, "csrf=%s&token=%s", csrf, TOKEN);
    snprintf(origin, sizeof origin, "Origin: https://127.0.0.1:%d\r\n", D.web_port);
    http_reply_t r = http(D.web_port, "POST", "/login", origin, body);
    assert_int_equal(r.status, 303);
    const char *ck = strstr(r.text, "Set-Cookie: lernet_auth=");
    assert_non_null(ck);
    assert_non_null(strstr(ck, "Max-Age=43200"));
    assert_non_null(strstr(ck, "; Secure"));
    free(r.text);
    free(csrf);
    h_node_free(&D);
}

/* A workshop whose every text is 300 '"' (six bytes each once escaped),
 * with 32 distinct such themes: as large as a page row can get. */
static Lernet__Payload *bloated(int i, int64_t start)
{
    char q[EVENT_MAX_SHORT + 1];
    memset(q, '"', EVENT_MAX_SHORT);
    q[EVENT_MAX_SHORT] = '\0';
    Lernet__Payload *p = tu_workshop(q, q, start);
    Lernet__Workshop *w = p->workshop;
    for (size_t t = 0; t < w->n_themes; t++)
        free(w->themes[t]);
    free(w->themes);
    w->n_themes = EVENT_MAX_TAGS;
    w->themes = calloc(EVENT_MAX_TAGS, sizeof *w->themes);
    for (int t = 0; t < EVENT_MAX_TAGS; t++) {
        w->themes[t] = strdup(q);
        snprintf(w->themes[t] + EVENT_MAX_SHORT - 8, 9, "%04d%04d", i, t);
    }
    return p;
}

/* Events from the network may be as large as validation allows: the
 * calendar then shows fewer rows and options, but it still shows. */
static void test_bloated_events(void **state)
{
    (void)state;
    enum { N = 90 };
    hnode_t D = {0};
    char path[600], why[256];
    keys_identity_t *k = NULL;
    store_t *st = NULL;
    event_t *prev = NULL;
    assert_int_equal(h_node_init(&D, "Vuxenutbildningen Uppsala", "SE", "nordic-wbl"), 0);
    snprintf(path, sizeof path, "%s/keys", D.home);
    assert_int_equal(keystore_load(path, NULL, &k, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/store.db", D.home);
    assert_int_equal(store_open(&st, path, why, sizeof why), 0);
    for (int i = 0; i < N; i++) {
        Lernet__Payload *p = bloated(i, (int64_t)time(NULL) + 86400 * (i + 1));
        event_t *ev = tu_next(k, "nordic-wbl", prev, p);
        tu_payload_free(p);
        assert_non_null(ev);
        assert_int_equal(store_add(st, ev, NULL, NULL, why, sizeof why), 0);
        event_free(&prev);
        prev = ev;
    }
    event_free(&prev);
    store_close(&st);
    keys_free(&k);
    D.web_port = h_free_port();
    assert_int_equal(h_node_write_config(&D), 0);
    assert_int_equal(h_node_start(&D), 0);
    http_reply_t r = http(D.web_port, "GET", "/", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.text, "90 events"));
    assert_non_null(strstr(r.text, "more)</option>"));
    assert_true(strlen(r.text) < HTML_MAX);
    assert_non_null(strstr(r.text, "</html>"));
    /* the byte budget ends the first page early; the next page starts there */
    unsigned first = 0, last = 0, of = 0;
    const char *pg = strstr(r.text, "<p id=\"page\">Events ");
    assert_non_null(pg);
    assert_int_equal(sscanf(pg, "<p id=\"page\">Events %u–%u of %u", &first, &last, &of), 3);
    assert_int_equal(first, 1);
    assert_true(last > 1 && last < 90);
    assert_int_equal(of, 90);
    char next[64];
    snprintf(next, sizeof next, "id=\"next-page\" href=\"/?start=%u\"", last);
    assert_non_null(strstr(r.text, next));
    free(r.text);
    snprintf(next, sizeof next, "/?start=%u", last);
    r = http(D.web_port, "GET", next, NULL, NULL);
    assert_int_equal(r.status, 200);
    snprintf(next, sizeof next, "<p id=\"page\">Events %u–", last + 1);
    assert_non_null(strstr(r.text, next));
    assert_non_null(strstr(r.text, "id=\"prev-page\""));
    free(r.text);
    h_node_free(&D);
}

/* ---- the browser --------------------------------------------------------- */

static void test_browser(void **state)
{
    (void)state;
    char cfg_path[600], dir[600];
    snprintf(dir, sizeof dir, "%s/web-artifacts", LERNET_BUILD_DIR);
    mkdir(dir, 0755);
    snprintf(cfg_path, sizeof cfg_path, "%s/web-check.json", A.home);
    const char *chromium = getenv("LERNET_CHROMIUM");
    json_t *cfg = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", TOKEN, "artifacts", dir,
                            "far_de", FAR_TITLE_DE, "far_sv", FAR_TITLE_SV, "chromium",
                            chromium ? chromium : "/usr/bin/chromium");
    char url[64];
    hnode_t *all[] = {&A, &B, &C};
    const char *keys[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d", all[i]->web_port);
        json_object_set_new(cfg, keys[i], json_string(url));
    }
    json_object_set_new(cfg, "b_port", json_integer(B.web_port));
    assert_int_equal(json_dump_file(cfg, cfg_path, 0), 0);
    json_decref(cfg);
    long a_before = h_count_items(&A);

    json_t *res = tu_node_json("web_check.js", cfg_path);
    assert_non_null(res);
    char *dump = json_dumps(res, JSON_INDENT(1));
    fprintf(stderr, "web_check.js: %s\n", dump);
    free(dump);
    assert_null(json_object_get(res, "error"));
#define RES_STR(k) json_string_value(json_object_get(res, k))
#define RES_INT(k) json_integer_value(json_object_get(res, k))
#define RES_TRUE(k) json_is_true(json_object_get(res, k))
    /* the calendar at A shows C's event in the reader's language */
    assert_true(RES_TRUE("sv_title_shown"));
    assert_true(RES_TRUE("de_title_shown"));
    assert_true(RES_TRUE("other_lang_one_click"));
    assert_int_equal(RES_INT("country_filter_count"), 1);
    /* its event page: fields, organiser's node, signature */
    assert_non_null(strstr(RES_STR("far_org"), "OWL Lernregion"));
    /* in the visitor's language (the browser asks for sv-SE) */
    assert_non_null(strstr(RES_STR("far_signature"), "verifierad"));
    assert_non_null(strstr(RES_STR("far_fields"), "Jahnplatz 5, Bielefeld"));
    /* a bad field: the message next to it, nothing published */
    assert_int_equal(RES_INT("bad_status"), 422);
    assert_non_null(strstr(RES_STR("bad_end_message"), "efter starten"));
    /* the summary of errors has the focus, and links to the field */
    assert_string_equal(RES_STR("bad_focus"), "error");
    assert_string_equal(RES_STR("bad_summary_link"), "#f-end");
    assert_true(RES_TRUE("bad_value_kept"));
    /* the workshop published in A's form arrives on C's page */
    assert_true(RES_TRUE("published_notice"));
    assert_true(RES_TRUE("workshop_at_c"));
    assert_true(RES_TRUE("meeting_at_a"));
    assert_true(RES_TRUE("report_listed_at_c"));
    /* the forged cross-site form is refused */
    assert_int_equal(RES_INT("forged_status"), 403);
    assert_false(RES_TRUE("forged_published"));
    /* non-local: the sign-in page until the token is given */
    assert_int_equal(RES_INT("nonlocal_status"), 401);
    assert_false(RES_TRUE("nonlocal_leaked"));
    assert_int_equal(RES_INT("wrong_token_status"), 403);
    assert_true(RES_TRUE("nonlocal_after_login"));
    /* keyboard alone: published, corrected, cancelled */
    assert_true(RES_TRUE("kb_skip_first"));
    assert_string_equal(RES_STR("kb_start_value"), "2027-09-15T13:00");
    assert_true(RES_TRUE("kb_published"));
    assert_true(RES_TRUE("kb_updated"));
    assert_true(RES_TRUE("kb_cancelled"));
    /* the five languages, and the menu's choice kept */
    const char *langs[] = {"en", "sv", "da", "de", "fi"};
    for (size_t i = 0; i < 5; i++)
        assert_true(json_is_true(json_object_get(json_object_get(res, "languages"), langs[i])));
    assert_true(RES_TRUE("menu_kept"));
    /* every page and state: axe-core WCAG 2.1 AA, the Nu HTML checker, a phone */
    /* a reply with a file through the thread form: the thread lists it */
    assert_true(RES_TRUE("thread_reply_file"));
    /* 35 + goals, search (3), publish/goal (and with errors), publish/feedback, the
     * thread with a file; goals and search in 4 languages; publish/questionnaire (and
     * with errors, in 5 languages), a questionnaire's page, the feedback's counts (and
     * with errors) */
    assert_true(RES_INT("audit_pages") >= 60);
    /* the questionnaire published in its form; the feedback's counts: two
     * questions of 1..5, and too few respondents refused at their fields */
    assert_true(RES_TRUE("questionnaire_published"));
    assert_int_equal(RES_INT("feedback_counts"), 10);
    assert_int_equal(RES_INT("feedback_errors"), 2);
    assert_int_equal(json_array_size(json_object_get(res, "axe_violations")), 0);
    assert_int_equal(json_array_size(json_object_get(res, "too_wide")), 0);
    json_t *vnu = json_object_get(res, "vnu");
    assert_true(json_is_true(json_object_get(vnu, "ran")));
    assert_int_equal(json_integer_value(json_object_get(vnu, "files")), RES_INT("audit_pages"));
    assert_int_equal(json_array_size(json_object_get(vnu, "errors")), 0);
    /* the health page as an operator sees it */
    assert_int_equal(RES_INT("health_peers_up"), 1);
    assert_true(RES_TRUE("screenshots"));
    json_decref(res);
    /* six publications from the forms (one by keyboard, one the thread's
     * reply with a file, one questionnaire), none from the forgery */
    assert_int_equal(h_count_items(&A), a_before + 6);
    char shot[700];
    snprintf(shot, sizeof shot, "%s/calendar.png", dir);
    struct stat st;
    assert_int_equal(stat(shot, &st), 0);
    assert_true(st.st_size > 10000);
    snprintf(shot, sizeof shot, "%s/health.png", dir);
    assert_int_equal(stat(shot, &st), 0);
    assert_true(st.st_size > 10000);
}

typedef struct marked_ctx {
    int port;
    const char *path, *needle;
} marked_ctx_t;

static int page_has(void *vctx)
{
    marked_ctx_t *c = vctx;
    http_reply_t r = http(c->port, "GET", c->path, NULL, NULL);
    int found = r.status == 200 && strstr(r.text, c->needle) != NULL;
    free(r.text);
    return found;
}

/* Finding things: the calendar by month and week, with the periods
 * before and after one click away; the report form's "About" list most
 * recent first, and its search. */
static void test_finding(void **state)
{
    (void)state;
    /* April 2027 holds C's workshop (14 April), not A's of September */
    http_reply_t r = http(A.web_port, "GET", "/?from=2027-04-20&span=month", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.text, FAR_TITLE_SV));
    assert_non_null(strstr(r.text, "<strong id=\"period\">April 2027</strong>"));
    assert_non_null(strstr(r.text, "id=\"prev-period\" href=\"/?from=2027-03-01&amp;span=month\""));
    assert_non_null(strstr(r.text, "id=\"next-period\" href=\"/?from=2027-05-01&amp;span=month\""));
    assert_null(strstr(r.text, TWO_TITLE_SV "</a>"));
    assert_non_null(strstr(r.text, ">1 event<"));
    free(r.text);
    /* the week from Monday 12 April, in German, filters kept in its links */
    r = http(A.web_port, "GET", "/?from=2027-04-15&span=week&country=DE", "Accept-Language: de\r\n",
             NULL);
    assert_non_null(strstr(r.text, FAR_TITLE_DE));
    assert_non_null(strstr(r.text, "Mo., 12. Apr. 2027 – So., 18. Apr. 2027"));
    assert_non_null(strstr(r.text, "href=\"/?country=DE&amp;from=2027-04-19&amp;span=week\""));
    free(r.text);
    expect(A.web_port, "GET", "/?from=2027-09-01&span=month", NULL, NULL, 200, TWO_TITLE_SV);
    expect(A.web_port, "GET", "/?from=2027-09-01&span=month", "Accept-Language: sv\r\n", NULL,
           200, "<strong id=\"period\">september 2027</strong>");
    expect(A.web_port, "GET", "/?from=2031-01-01&span=week", NULL, NULL, 200, "id=\"none\"");
    expect(A.web_port, "GET", "/?from=garbage&span=month&start=x", NULL, NULL, 200, "id=\"period\"");
    /* "About": the latest first (September before April), and a search */
    r = http(A.web_port, "GET", "/publish/experience", NULL, NULL);
    const char *two = strstr(r.text, TWO_TITLE_EN "</option>"), *far = strstr(r.text, FAR_TITLE_DE "</option>");
    if (!far)
        far = strstr(r.text, FAR_TITLE_SV "</option>");
    assert_non_null(two);
    assert_non_null(far);
    assert_true(two < far);
    assert_non_null(strstr(r.text, "<label for=\"f-q\">"));
    free(r.text);
    r = http(A.web_port, "GET", "/publish/experience?q=lernwerk", NULL, NULL);
    assert_non_null(strstr(r.text, "Lernwerkstatt"));
    assert_null(strstr(r.text, TWO_TITLE_EN "</option>"));
    assert_non_null(strstr(r.text, "1 match"));
    free(r.text);
}

/* Corrected and then cancelled on A's page, through the forms (CSRF as
 * every form): only A's own event offers it, the correction keeps what
 * the form does not show and reaches B, the cancel too. */
static void test_edit_cancel(void **state)
{
    (void)state;
    char *out = NULL, id[65], path[200], body[2048], needle[200];
    const char *same = "Sec-Fetch-Site: same-origin\r\n";
    assert_int_equal(h_lernet(&A, &out,
                              "publish workshop --title 'sv:Studiebesök på Scania' "
                              "--title 'en:Study visit at Scania' --title 'fi:Opintokäynti Scanialla' "
                              "--start 2027-10-05T09:00 --end 2027-10-05T12:00 "
                              "--place 'Verkstadsvägen 1, Södertälje' --theme 'workplace learning'"),
                     0);
    const char *p = strstr(out, "published ");
    assert_non_null(p);
    snprintf(id, sizeof id, "%.64s", p + 10);
    free(out);
    /* A's own event offers both; C's does not, and its forms are refused */
    snprintf(path, sizeof path, "/event/%s", id);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "id=\"edit\"");
    char far[65] = "";
    assert_int_equal(h_lernet(&A, &out, "list --json"), 0);
    const char *f = strstr(out, FAR_TITLE_DE);
    assert_non_null(f);
    while (f > out && strncmp(f, "\"id\": \"", 7) != 0 && strncmp(f, "\"id\":\"", 6) != 0)
        f--;
    f = strchr(f + 5, '"');
    snprintf(far, sizeof far, "%.64s", f + 1);
    free(out);
    snprintf(path, sizeof path, "/event/%s", far);
    http_reply_t r = http(A.web_port, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.text, "id=\"edit\""));
    free(r.text);
    snprintf(path, sizeof path, "/event/%s/edit", far);
    expect(A.web_port, "GET", path, NULL, NULL, 403, "this node published");
    /* the form, filled with the current content */
    snprintf(path, sizeof path, "/event/%s/edit", id);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "value=\"Study visit at Scania\"");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "value=\"2027-10-05T09:00\"");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "value=\"workplace learning\"");
    char *csrf = csrf_at(A.web_port, path);
    snprintf(body, sizeof body,
             "lang_1=sv&title_1=Studiebes%%C3%%B6k+p%%C3%%A5+Scania&lang_2=en"
             "&title_2=Study+visit+at+Scania&start=2027-10-05T09%%3A00&end=2027-10-05T13%%3A00"
             "&tz=Europe%%2FStockholm&place=Verkstadsv%%C3%%A4gen+3%%2C+S%%C3%%B6dert%%C3%%A4lje"
             "&themes=workplace+learning&status=confirmed");
    /* without the form's token: refused, nothing signed */
    long before = h_count_items(&A);
    expect(A.web_port, "POST", path, same, body, 403, "CSRF");
    char full[2300];
    snprintf(full, sizeof full, "csrf=%s&%s", csrf, body);
    snprintf(needle, sizeof needle, "Location: /event/%s?updated=1", id);
    expect(A.web_port, "POST", path, same, full, 303, needle);
    assert_int_equal(h_count_items(&A), before); /* an update is no new item */
    snprintf(path, sizeof path, "/event/%s", id);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "Verkstadsvägen 3, Södertälje");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "13:00");
    /* the Finnish title, which the form did not show, is kept */
    expect(A.web_port, "GET", path, NULL, NULL, 200, "Opintokäynti Scanialla");
    marked_ctx_t c = {B.web_port, path, "Verkstadsvägen 3, Södertälje"};
    assert_true(h_wait(page_has, &c, H_DEADLINE_MS));
    /* a bad correction: the form again, with the error */
    snprintf(path, sizeof path, "/event/%s/edit", id);
    snprintf(full, sizeof full, "csrf=%s&lang_1=sv&title_1=&start=x&end=&tz=Europe%%2FStockholm",
             csrf);
    expect(A.web_port, "POST", path, same, full, 422, "error-summary");
    /* cancelled with a reason */
    snprintf(path, sizeof path, "/event/%s/cancel", id);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "<label for=\"f-reason\">");
    snprintf(full, sizeof full, "csrf=%s&reason=Bussen+%%C3%%A4r+inst%%C3%%A4lld", csrf);
    snprintf(needle, sizeof needle, "Location: /event/%s?cancelled=1", id);
    expect(A.web_port, "POST", path, same, full, 303, needle);
    snprintf(path, sizeof path, "/event/%s", id);
    c.path = path;
    c.needle = "Bussen är inställd";
    assert_true(h_wait(page_has, &c, H_DEADLINE_MS));
    r = http(A.web_port, "GET", path, NULL, NULL);
    assert_non_null(strstr(r.text, "id=\"cancelled\""));
    assert_null(strstr(r.text, "id=\"edit\""));
    free(r.text);
    snprintf(path, sizeof path, "/event/%s/cancel", id);
    expect(A.web_port, "GET", path, NULL, NULL, 403, NULL); /* once is enough */
    /* a plain event page takes no POST */
    snprintf(path, sizeof path, "/event/%s", id);
    snprintf(full, sizeof full, "csrf=%s", csrf);
    expect(A.web_port, "POST", path, same, full, 405, NULL);
    free(csrf);
}

/* The id of the item at n whose listing holds needle (the last such). */
static void item_id(const hnode_t *n, const char *needle, char id[80])
{
    char *out = NULL;
    assert_int_equal(h_lernet(n, &out, "list --json"), 0);
    json_t *items = json_loads(out, 0, NULL), *it;
    free(out);
    size_t i;
    id[0] = '\0';
    json_array_foreach(items, i, it) {
        char *one = json_dumps(it, 0);
        if (one && strstr(one, needle))
            snprintf(id, 80, "%s", json_string_value(json_object_get(it, "id")));
        free(one);
    }
    json_decref(items);
    assert_true(id[0]);
}

/* Cancelled at B, marked as such on A's calendar and event page. */
static void test_cancelled_marked(void **state)
{
    (void)state;
    char id[80], path[120];
    item_id(&B, "Innovationscamp", id);
    assert_int_equal(h_lernet(&B, NULL, "cancel %s --reason 'Too few registrations'", id), 0);
    char needle[160];
    snprintf(needle, sizeof needle, "<li class=\"event cancelled\" data-id=\"%s\"", id);
    marked_ctx_t c = {A.web_port, "/?lang=sv", needle};
    assert_true(h_wait(page_has, &c, H_DEADLINE_MS));
    snprintf(path, sizeof path, "/event/%s", id);
    c.path = path;
    c.needle = "Too few registrations";
    assert_true(page_has(&c));
    c.needle = "id=\"cancelled\"";
    assert_true(page_has(&c));
}

/* A form posted to A from its own page: the reply, its status asserted
 * (and the page printed when it is another). */
static http_reply_t post_form(const char *path, const char *body, int want)
{
    http_reply_t r = http(A.web_port, "POST", path, "Sec-Fetch-Site: same-origin\r\n", body);
    if (r.status != want)
        fprintf(stderr, "%s: %d, want %d\n%.1500s\n", path, r.status, want, r.text);
    assert_int_equal(r.status, want);
    return r;
}

/* The page a publish landed on ("Location: /event/ID?published=1"), into
 * path; r is freed. */
static void landed_on(http_reply_t *r, char *path, size_t n)
{
    const char *loc = strstr(r->text, "/event/");
    assert_non_null(loc);
    snprintf(path, n, "%.*s", (int)strcspn(loc, "\r\n"), loc);
    free(r->text);
}

/* The goal form (issue 19's goal, on the page): drawn with every field,
 * sent back with what it lacks said at each field, and sent whole it
 * publishes the goal, which /goals then lists with its target; a target
 * that is not a number is refused by the form. Last: the goal stays. */
static void test_goal_form(void **state)
{
    (void)state;
    expect(A.web_port, "GET", "/publish/goal", NULL, NULL, 200, "<select name=\"measure\"");
    expect(A.web_port, "GET", "/publish/goal", NULL, NULL, 200,
           "type=\"date\" name=\"from\" id=\"f-from\" required");
    expect(A.web_port, "GET", "/publish/goal", "Accept-Language: sv\r\n", NULL, 200, "Nytt mål");
    expect(A.web_port, "GET", "/goals", NULL, NULL, 200, "<a href=\"/publish/goal\">");
    char *csrf = csrf_at(A.web_port, "/publish/goal"), body[1024];
    long before = h_count_items(&A);
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&title_1=&lang_2=&title_2=&measure=participants"
             "&target=many&from=2027-01-01&to=",
             csrf);
    http_reply_t r = post_form("/publish/goal", body, 422);
    assert_non_null(strstr(r.text, "3 things to correct"));
    assert_non_null(strstr(r.text, "<a href=\"#f-title_1\">Title: fill this in</a>"));
    assert_non_null(strstr(r.text, "<a href=\"#f-to\">To: fill this in</a>"));
    assert_non_null(strstr(r.text, "Target: &#39;many&#39; is not a whole number"));
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&title_1=180+personer+i+kompetensinsatser"
             "&lang_2=en&title_2=180+persons+in+competence+activities&measure=participants"
             "&target=180&from=2027-01-01&to=2028-12-31&roles=&themes=workplace+learning"
             "&description_1=&description_2=",
             csrf);
    r = post_form("/publish/goal", body, 303);
    /* it lands on the goal's own page */
    char path[128];
    landed_on(&r, path, sizeof path);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "180 persons in competence activities");
    assert_int_equal(h_count_items(&A), before + 1);
    expect(A.web_port, "GET", "/goals", NULL, NULL, 200, "180 persons in competence activities");
    expect(A.web_port, "GET", "/goals", "Accept-Language: sv\r\n", NULL, 200,
           "180 personer i kompetensinsatser");
    free(csrf);
}

/* The questionnaire form: drawn with its rows of questions (and more on
 * request, what was typed kept), sent back with each error at its field
 * (the row's text, its scale) and nothing stored, and sent whole it lands
 * on the questionnaire's page and /goals lists it. */
static void test_questionnaire_form(void **state)
{
    (void)state;
    expect(A.web_port, "GET", "/publish/questionnaire", NULL, NULL, 200,
           "<legend>Question 1</legend>");
    expect(A.web_port, "GET", "/publish/questionnaire", NULL, NULL, 200,
           "<input type=\"number\" name=\"q5_max\" id=\"f-q5_max\" min=\"0\" inputmode=\"numeric\" "
           "value=\"5\">");
    expect(A.web_port, "GET", "/publish/questionnaire", NULL, NULL, 200,
           "<label for=\"f-q2_low_1\">Label of the lowest value</label>");
    expect(A.web_port, "GET", "/publish/questionnaire", "Accept-Language: sv\r\n", NULL, 200,
           "Ny enkät");
    expect(A.web_port, "GET", "/goals", NULL, NULL, 200, "<a href=\"/publish/questionnaire\">");
    char *csrf = csrf_at(A.web_port, "/publish/questionnaire"), body[2048];
    long before = h_count_items(&A);
    /* more rows: the form again, with ten, and the question typed kept */
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&lang_2=en&rows=5&more=1"
             "&q1_text_1=Hur+n%%C3%%B6jd+%%C3%%A4r+du%%3F&q1_min=1&q1_max=5",
             csrf);
    http_reply_t r = post_form("/publish/questionnaire", body, 200);
    assert_non_null(strstr(r.text, "name=\"q10_text_1\""));
    assert_null(strstr(r.text, "name=\"q11_text_1\""));
    assert_non_null(strstr(r.text, "value=\"Hur nöjd är du?\""));
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    /* no title; a scale upside down; a label without its question; a
     * scale end that is no number */
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&lang_2=en&rows=5&title_1="
             "&q1_text_1=Hur+n%%C3%%B6jd+%%C3%%A4r+du%%3F&q1_min=5&q1_max=1"
             "&q2_text_1=&q2_low_1=Inte+alls&q2_min=1&q2_max=5"
             "&q3_text_1=Kan+du+anv%%C3%%A4nda+det%%3F&q3_min=one&q3_max=5",
             csrf);
    r = post_form("/publish/questionnaire", body, 422);
    assert_non_null(strstr(r.text, "4 things to correct"));
    assert_non_null(strstr(r.text, "<a href=\"#f-title_1\">Title: fill this in</a>"));
    assert_non_null(strstr(r.text, "<a href=\"#f-q1_max\">Question 1: Highest value: must be "
                                   "above the lowest value, at most 11 values in all</a>"));
    assert_non_null(strstr(r.text, "<a href=\"#f-q2_text_1\">Question 2: Question: fill this "
                                   "in: the question, in the first language</a>"));
    assert_non_null(strstr(r.text, "<a href=\"#f-q3_min\">Question 3: Lowest value: "
                                   "&#39;one&#39; is not a whole number</a>"));
    /* each at its field, which names it */
    assert_non_null(strstr(r.text, "<p class=\"field-error\" id=\"error-q1_max\">"));
    assert_non_null(strstr(r.text, "id=\"f-q1_max\" aria-describedby=\"hint-q1_max "
                                   "error-q1_max\" class=\"invalid\" aria-invalid=\"true\""));
    assert_non_null(strstr(r.text, "value=\"Inte alls\"")); /* kept */
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    /* every control of the largest form posted, as a browser posts them:
     * 32 rows, all empty but the last; only the title is missing */
    size_t cap = 16384, len = 0;
    char *all = malloc(cap);
    assert_non_null(all);
    len += (size_t)snprintf(all, cap, "csrf=%s&network=nordic-wbl&lang_1=sv&lang_2=&rows=32"
                                      "&title_1=&title_2=", csrf);
    for (int row = 1; row <= 32; row++)
        len += (size_t)snprintf(all + len, cap - len,
                                "&q%d_text_1=%s&q%d_text_2=&q%d_min=1&q%d_max=5&q%d_low_1="
                                "&q%d_low_2=&q%d_high_1=&q%d_high_2=",
                                row, row == 32 ? "Sista+fr%C3%A5gan" : "", row, row, row, row,
                                row, row, row);
    assert_true(len < cap);
    r = post_form("/publish/questionnaire", all, 422);
    assert_non_null(strstr(r.text, "1 thing to correct"));
    assert_non_null(strstr(r.text, "value=\"Sista frågan\""));
    assert_null(strstr(r.text, "id=\"more\"")); /* no more rows than 32 */
    free(r.text);
    free(all);
    /* what only the wire rules see (a question of 301 bytes), said at the
     * row it was typed in, though it is the first question */
    char longq[302];
    memset(longq, 'a', 301);
    longq[301] = '\0';
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&lang_2=&rows=5&title_1=Utv%%C3%%A4rdering"
             "&q1_text_1=&q2_text_1=&q3_text_1=%s&q3_min=1&q3_max=5",
             csrf, longq);
    r = post_form("/publish/questionnaire", body, 422);
    assert_non_null(strstr(r.text, "<a href=\"#f-q3_text_1\">Question 3: Question: field "
                                   "&#39;questions[0].text"));
    assert_non_null(strstr(r.text, "id=\"error-q3_text\""));
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    /* sent whole: two questions (rows 1 and 3; row 2 left empty) */
    snprintf(body, sizeof body,
             "csrf=%s&network=nordic-wbl&lang_1=sv&lang_2=en&rows=5"
             "&title_1=Deltagarnas+utv%%C3%%A4rdering&title_2=Participants%%27+evaluation"
             "&q1_text_1=Hur+n%%C3%%B6jd+%%C3%%A4r+du+med+aktiviteten%%3F"
             "&q1_text_2=How+satisfied+are+you+with+the+activity%%3F&q1_min=1&q1_max=5"
             "&q1_low_1=Inte+alls&q1_low_2=Not+at+all&q1_high_1=Mycket&q1_high_2=Very"
             "&q2_text_1=&q2_min=1&q2_max=5"
             "&q3_text_1=Kan+du+anv%%C3%%A4nda+det+i+ditt+arbete%%3F&q3_min=0&q3_max=10",
             csrf);
    r = post_form("/publish/questionnaire", body, 303);
    char path[128];
    landed_on(&r, path, sizeof path);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "How satisfied are you with the activity?");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "Question 2 (scale 0–10)");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "Not at all");
    assert_int_equal(h_count_items(&A), before + 1);
    expect(A.web_port, "GET", "/goals", NULL, NULL, 200, "Participants&#39; evaluation</a>");
    expect(A.web_port, "GET", "/goals", "Accept-Language: sv\r\n", NULL, 200,
           "Deltagarnas utvärdering</a> <span class=\"meta\">2 frågor");
    free(csrf);
}

/* The feedback form for A's own workshop: its page links it; step 1
 * lists the questionnaire, step 2 draws one count per value of each
 * question; too few respondents and a histogram that does not sum to them
 * are refused at their fields with nothing stored; another node's
 * workshop is refused; sent whole, the workshop's page shows the results. */
static void test_feedback_form(void **state)
{
    (void)state;
    char ws[80], other[80], qid[80], path[400], needle[300], body[2048];
    assert_int_equal(h_lernet(&A, NULL,
                              "publish questionnaire --title 'sv:Utvärdering av lärverkstaden' "
                              "--question 'sv:Hur nöjd är du?' --question 'sv:Lärde du dig "
                              "något nytt?' --scale 1-5 --label '1=sv:Inte alls' "
                              "--label '5=sv:Mycket'"),
                     0);
    item_id(&A, "Utvärdering av lärverkstaden", qid);
    /* the questionnaire's page leads to the form too, with it chosen */
    snprintf(path, sizeof path, "/event/%s", qid);
    snprintf(needle, sizeof needle, "<a href=\"/publish/feedback?questionnaire=%s\"", qid);
    expect(A.web_port, "GET", path, NULL, NULL, 200, needle);
    snprintf(path, sizeof path, "/publish/feedback?questionnaire=%s", qid);
    snprintf(needle, sizeof needle, "<option value=\"%s\" selected>", qid);
    expect(A.web_port, "GET", path, NULL, NULL, 200, needle);
    item_id(&A, TWO_TITLE_SV, ws);
    item_id(&A, "Innovationscamp", other);
    snprintf(path, sizeof path, "/event/%s", ws);
    snprintf(needle, sizeof needle, "<a href=\"/publish/feedback?about=%s\" id=\"share-feedback\">",
             ws);
    expect(A.web_port, "GET", path, NULL, NULL, 200, needle);
    snprintf(path, sizeof path, "/event/%s", other); /* not A's: no link */
    http_reply_t r = http(A.web_port, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.text, "share-feedback"));
    free(r.text);
    /* step 1: the activity chosen, the questionnaire of its network listed */
    snprintf(path, sizeof path, "/publish/feedback?about=%s", ws);
    snprintf(needle, sizeof needle, "<option value=\"%s\">Utvärdering av lärverkstaden", qid);
    expect(A.web_port, "GET", path, "Accept-Language: sv\r\n", NULL, 200, needle);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "method=\"get\" action=\"/publish/feedback\"");
    snprintf(path, sizeof path, "/publish/feedback?step=2&about=%s&questionnaire=", ws);
    expect(A.web_port, "GET", path, NULL, NULL, 422, "Questionnaire: choose one");
    snprintf(path, sizeof path, "/publish/feedback?about=%s&questionnaire=%s", other, qid);
    expect(A.web_port, "GET", path, NULL, NULL, 422,
           "About: organised by another node: only its organiser shares its feedback");
    /* step 2: one count per value of each question's scale */
    snprintf(path, sizeof path, "/publish/feedback?about=%s&questionnaire=%s", ws, qid);
    r = http(A.web_port, "GET", path, "Accept-Language: sv\r\n", NULL);
    assert_int_equal(r.status, 200);
    size_t counts = 0;
    const char *box = "<input type=\"number\" min=\"0\" inputmode=\"numeric\" name=\"r";
    for (const char *p = r.text; (p = strstr(p, box)); p++)
        counts++;
    assert_int_equal(counts, 10);
    assert_non_null(strstr(r.text, "name=\"r2_v5\""));
    assert_non_null(strstr(r.text, "<label for=\"f-r1_v1\">"));
    assert_non_null(strstr(r.text, "(Inte alls)</label>"));
    assert_non_null(strstr(r.text, "Lärde du dig något nytt?"));
    free(r.text);
    char *csrf = csrf_at(A.web_port, path);
    long before = h_count_items(&A);
    /* 4 respondents, and the second question's counts sum to 5 */
    snprintf(body, sizeof body,
             "csrf=%s&about=%s&questionnaire=%s&lang_1=sv&lang_2=&title_1=&title_2="
             "&respondents=teachers%%3D4&r1_v1=&r1_v2=1&r1_v3=1&r1_v4=2&r1_v5="
             "&r2_v1=1&r2_v2=1&r2_v3=1&r2_v4=1&r2_v5=1",
             csrf, ws, qid);
    r = post_form("/publish/feedback", body, 422);
    assert_non_null(strstr(r.text, "2 things to correct"));
    assert_non_null(strstr(r.text, "<a href=\"#f-respondents\">Respondents by role: 4 in all: "
                                   "results of fewer than 5 respondents are never shared</a>"));
    assert_non_null(strstr(r.text, "<a href=\"#f-r2_v1\">Question 2: the counts sum to 5, the "
                                   "respondents to 4</a>"));
    assert_non_null(strstr(r.text, "<p class=\"field-error\" id=\"error-r2\">"));
    assert_non_null(strstr(r.text, "aria-describedby=\"error-r2\""));
    assert_null(strstr(r.text, "id=\"error-r1\""));
    free(r.text);
    /* 9 respondents; a count that is no number */
    snprintf(body, sizeof body,
             "csrf=%s&about=%s&questionnaire=%s&lang_1=sv&lang_2=en"
             "&respondents=teachers%%3D6%%0D%%0Acompany+representatives%%3D3"
             "&r1_v1=0&r1_v2=1&r1_v3=2&r1_v4=4&r1_v5=2&r2_v1=x&r2_v2=0&r2_v3=3&r2_v4=5&r2_v5=1",
             csrf, ws, qid);
    r = post_form("/publish/feedback", body, 422);
    assert_non_null(strstr(r.text, "1 thing to correct"));
    assert_non_null(strstr(r.text, "Question 2: &#39;x&#39; is not a whole number"));
    assert_non_null(strstr(r.text, "value=\"4\"")); /* kept */
    free(r.text);
    assert_int_equal(h_count_items(&A), before);
    /* sent whole: back to the workshop, which shows the results */
    snprintf(body, sizeof body,
             "csrf=%s&about=%s&questionnaire=%s&lang_1=sv&lang_2=en"
             "&title_1=Deltagarnas+%%C3%%A5terkoppling&title_2="
             "&respondents=teachers%%3D6%%0D%%0Acompany+representatives%%3D3"
             "&r1_v1=0&r1_v2=1&r1_v3=2&r1_v4=4&r1_v5=2&r2_v1=&r2_v2=0&r2_v3=3&r2_v4=5&r2_v5=1",
             csrf, ws, qid);
    r = post_form("/publish/feedback", body, 303);
    snprintf(needle, sizeof needle, "Location: /event/%s?published=1#feedback", ws);
    assert_non_null(strstr(r.text, needle));
    free(r.text);
    assert_int_equal(h_count_items(&A), before + 1);
    snprintf(path, sizeof path, "/event/%s", ws);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "9 respondents:");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "company representatives 3");
    expect(A.web_port, "GET", path, NULL, NULL, 200, "<span class=\"count\">4: 5</span>");
    expect(A.web_port, "GET", path, "Accept-Language: sv\r\n", NULL, 200,
           "Utvärdering av lärverkstaden");
    /* the largest feedback form, 32 questions of 0..10, all 360 controls
     * posted: published */
    char cmd[2048] = "publish questionnaire --title 'sv:Stor enkät' --scale 0-10";
    for (int i = 1; i <= 32; i++)
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " --question 'sv:Fråga %d'", i);
    assert_int_equal(h_lernet(&A, NULL, "%s", cmd), 0);
    item_id(&A, "Stor enkät", qid);
    snprintf(path, sizeof path, "/publish/feedback?about=%s&questionnaire=%s", ws, qid);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "name=\"r32_v10\"");
    size_t cap = 16384, len = 0;
    char *all = malloc(cap);
    assert_non_null(all);
    len += (size_t)snprintf(all, cap,
                            "csrf=%s&about=%s&questionnaire=%s&lang_1=sv&lang_2=&title_1="
                            "&title_2=&respondents=teachers%%3D5",
                            csrf, ws, qid);
    for (int i = 1; i <= 32; i++)
        for (int v = 0; v <= 10; v++)
            len += (size_t)snprintf(all + len, cap - len, "&r%d_v%d=%s", i, v, v == 7 ? "5" : "");
    assert_true(len < cap);
    r = post_form("/publish/feedback", all, 303);
    free(r.text);
    free(all);
    assert_int_equal(h_count_items(&A), before + 3);
    snprintf(path, sizeof path, "/event/%s", ws);
    expect(A.web_port, "GET", path, NULL, NULL, 200, "Stor enkät");
    free(csrf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_and_feeds),   cmocka_unit_test(test_languages),
        cmocka_unit_test(test_form_errors),
        cmocka_unit_test(test_wire_rule_in_page_language),       cmocka_unit_test(test_finding),
        cmocka_unit_test(test_edit_cancel),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_csrf),              cmocka_unit_test(test_token),
        cmocka_unit_test(test_token_file_checked), cmocka_unit_test(test_behind_proxy),
        cmocka_unit_test(test_bloated_events),    cmocka_unit_test(test_cancelled_marked),
        cmocka_unit_test(test_browser),           cmocka_unit_test(test_goal_form),
        cmocka_unit_test(test_questionnaire_form), cmocka_unit_test(test_feedback_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
