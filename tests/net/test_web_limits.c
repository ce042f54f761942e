/*
 * test_web_limits: who the web page lets in and how long a client may hold
 * a slot, on one real daemon. A Host naming a loopback name and this port
 * exactly is local; "localhost:PORT.evil.example" and every near miss is
 * not. The sign-in page, shown to anyone, never carries the publish forms'
 * CSRF token. 32 trickling connections from 127.0.0.1 and 32 from
 * 127.0.0.2 (a byte every half second, never a whole request) do not keep
 * a staff request from being answered at once, and each is cut once it has
 * had WEB_REQUEST_S for its request, although it was never idle. A publish
 * form into a managed network where the node is not (yet) a member shows
 * the store's reason, in the visitor's language; a catalogue whose
 * translations do not fit their msgid's arguments costs those sentences
 * their translation, never the daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "harness/testutil.h"
#include "web/web.h"

#define NET "nordic-wbl"
#define TOKEN "kf3Jq9vXb2LmT7wZr5YpN8sHc4DgA6eU"
#define PER_ADDRESS 32

static hnode_t D;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP connection to a page (D's: dial) from the given loopback source address. */
static int dial_port(int port, const char *from)
{
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof dst), 0);
    return fd;
}

static int dial(const char *from)
{
    return dial_port(D.web_port, from);
}

typedef struct reply {
    int status;
    char *text;
} reply_t;

/* Sends req whole to port's page (D's: request) and reads the answer to
 * the close, for at most 5 s. */
static reply_t request_port(int port, const char *req)
{
    reply_t r = {-1, calloc(1, 1 << 17)};
    struct timeval tv = {5, 0};
    size_t got = 0;
    int fd = dial_port(port, "127.0.0.1");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    for (ssize_t n; (n = recv(fd, r.text + got, (1 << 17) - 1 - got, 0)) > 0;)
        got += (size_t)n;
    close(fd);
    r.text[got] = '\0';
    if (sscanf(r.text, "HTTP/1.%*d %d", &r.status) != 1)
        r.status = -1;
    return r;
}

static reply_t request(const char *req)
{
    return request_port(D.web_port, req);
}

/* The workshop form's fields in body posted to the page on port, from the
 * page itself, with extra header lines (each ending in \r\n). */
static reply_t post_workshop(int port, const char *extra, const char *body)
{
    char req[2048];
    snprintf(req, sizeof req,
             "POST /publish/workshop HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
             "Sec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             port, extra, strlen(body), body);
    return request_port(port, req);
}

static reply_t get_as(const char *host, const char *path)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
             host);
    return request(req);
}

static int status_for_host(const char *host)
{
    reply_t r = get_as(host, "/health");
    free(r.text);
    return r.status;
}

/* The value of the first csrf field in a page. */
static char *csrf_in(const char *page)
{
    const char *p = strstr(page, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    return strndup(p, strcspn(p, "\""));
}

/* n's config (written) gets NET managed by a coordinator whose admission
 * of n has not come: its publishes there are refused by the store. */
static void managed_by_stranger(const hnode_t *n)
{
    keys_identity_t *coord = NULL;
    char pub[KEYS_PUB_STR_SIZE], path[600];
    assert_int_equal(keys_generate(&coord), KEYS_OK);
    keys_pub_encode(pub, keys_public(coord));
    keys_free(&coord);
    snprintf(path, sizeof path, "%s/lernet.ini", n->home);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "\n[network \"%s\"]\ncoordinators = %s\n", NET, pub);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(h_node_init(&D, "Lärcentrum Östhammar", "SE", NET), 0);
    D.web_port = h_free_port();
    snprintf(D.web_token, sizeof D.web_token, "%s", TOKEN);
    assert_int_equal(h_node_write_config(&D), 0);
    managed_by_stranger(&D);
    assert_int_equal(h_node_start(&D), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_node_free(&D);
    return 0;
}

/* ---- Host ------------------------------------------------------------------ */

static void test_host_exact(void **state)
{
    (void)state;
    char h[128];
    /* HOST:PORT with these before and after the port */
    static const char *const local[][2] = {{"127.0.0.1:", ""}, {"localhost:", ""},
                                           {"LocalHost:", ""}, {"127.0.0.2:", ""},
                                           {"[::1]:", ""}};
    static const char *const foreign[][2] = {
        {"localhost:", ".evil.example"}, {"127.0.0.1:", ".evil.example"}, {"localhost:", "x"},
        {"localhost:", ":1"}, {"127.0.0.1:0", ""}, {"127.1:", ""}, {"127.0.0.01:", ""},
        {"localhost.evil.example:", ""}, {"[::1]:", ".evil.example"}, {"127.0.0.1:", "/"}};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        snprintf(h, sizeof h, "%s%d%s", foreign[i][0], D.web_port, foreign[i][1]);
        if (status_for_host(h) != 401)
            fail_msg("Host: %s must not be local", h);
    }
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        snprintf(h, sizeof h, "%s%d%s", local[i][0], D.web_port, local[i][1]);
        if (status_for_host(h) != 200)
            fail_msg("Host: %s should be local", h);
    }
    /* another port, or none (that would be 80) */
    snprintf(h, sizeof h, "127.0.0.1:%d", D.web_port == 1 ? 2 : D.web_port - 1);
    assert_int_equal(status_for_host(h), 401);
    assert_int_equal(status_for_host("localhost"), 401);
    assert_int_equal(status_for_host("127.0.0.1"), 401);
}

/* ---- the sign-in page's token ---------------------------------------------- */

static void test_login_token_is_its_own(void **state)
{
    (void)state;
    char local[64], body[1024], req[2048];
    snprintf(local, sizeof local, "127.0.0.1:%d", D.web_port);
    reply_t form = get_as(local, "/publish/workshop");
    reply_t login = get_as(local, "/login");
    reply_t held = get_as("lernet.example.org", "/publish/workshop"); /* not let in */
    assert_int_equal(form.status, 200);
    assert_int_equal(login.status, 200);
    assert_int_equal(held.status, 401);
    char *ftok = csrf_in(form.text), *ltok = csrf_in(login.text), *htok = csrf_in(held.text);
    assert_string_not_equal(ftok, ltok);
    assert_string_equal(htok, ltok); /* a visitor not let in sees only the sign-in token */
    /* the sign-in token does not pass for a form's */
    snprintf(body, sizeof body,
             "csrf=%s&network=%s&lang_1=sv&title_1=Validering&start=2027-05-01T09%%3A00"
             "&end=2027-05-01T12%%3A00&tz=Europe%%2FStockholm&place=Stationsgatan+2",
             ltok, NET);
    reply_t r = post_workshop(D.web_port, "", body);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.text, "CSRF"));
    free(r.text);
    /* and signing in with it still works */
    snprintf(body, sizeof body, "csrf=%s&token=%s", ltok, TOKEN);
    snprintf(req, sizeof req,
             "POST /login HTTP/1.1\r\nHost: lernet.example.org\r\nConnection: close\r\n"
             "Origin: http://lernet.example.org\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    r = request(req);
    assert_int_equal(r.status, 303);
    assert_non_null(strstr(r.text, "Set-Cookie: lernet_auth="));
    free(r.text);
    free(ftok);
    free(ltok);
    free(htok);
    free(form.text);
    free(login.text);
    free(held.text);
}

/* ---- the store's reason in the form ---------------------------------------- */

/* The workshop form sent into NET, where D is not (yet) a member, with
 * extra header lines (each ending in \r\n). */
static reply_t post_unadmitted(const char *extra)
{
    char local[64], body[1024];
    snprintf(local, sizeof local, "127.0.0.1:%d", D.web_port);
    reply_t form = get_as(local, "/publish/workshop");
    char *tok = csrf_in(form.text);
    snprintf(body, sizeof body,
             "csrf=%s&network=%s&lang_1=sv&title_1=Validering+i+arbetslivet&lang_2=&title_2="
             "&start=2027-05-01T09%%3A00&end=2027-05-01T12%%3A00&tz=Europe%%2FStockholm"
             "&place=Stationsgatan+2",
             tok, NET);
    free(tok);
    free(form.text);
    return post_workshop(D.web_port, extra, body);
}

static void test_form_shows_store_reason(void **state)
{
    (void)state;
    reply_t r = post_unadmitted("");
    if (r.status != 422 || !strstr(r.text, "is not a member of " NET))
        fail_msg("want 422 with the store's reason, got %d: %.600s", r.status,
                 strstr(r.text, "<main>") ? strstr(r.text, "<main>") : r.text);
    assert_null(strstr(r.text, "duplicate"));
    free(r.text);
}

/* The store's reason is made deep below the page (store/authz.c), in the
 * visitor's language (util/why.h): Swedish for a Swedish browser, with
 * the node's key and the network in it; the daemon's own log stays
 * English. */
static void test_store_reason_in_page_language(void **state)
{
    (void)state;
    reply_t r = post_unadmitted("Accept-Language: sv\r\n");
    if (r.status != 422 || !strstr(r.text, "är inte medlem i " NET) ||
        !strstr(r.text, "upphovsnoden "))
        fail_msg("want 422 with the store's reason in Swedish, got %d: %.600s", r.status,
                 strstr(r.text, "<main>") ? strstr(r.text, "<main>") : r.text);
    assert_null(strstr(r.text, "is not a member of"));
    free(r.text);
    reply_t de = post_unadmitted("Accept-Language: de\r\n");
    assert_non_null(strstr(de.text, "ist kein Mitglied von " NET));
    free(de.text);
    assert_false(h_log_contains(&D, "är inte medlem"));
}

/* ---- a hostile catalogue ---------------------------------------------------- */

/* A Swedish catalogue msgfmt --check would refuse, written byte by byte
 * (little-endian GNU .mo; msgids sorted): translations whose printf
 * conversions are not their msgid's. A page format of the workshop form
 * with a %n after its %s, the store's reason with a %n in place of its
 * first %s, and a wire rule's reason that drops the quotes the form looks
 * for, with markup in it. */
static const tu_msg_t HOSTILE[] = {
    TU_MSG("", "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; "
               "plural=(n != 1);\n"),
    TU_MSG("%s, in the second language (optional)", "%s%n, på andra språket"),
    TU_MSG("author %s is not a member of %s (no statement from its coordinators, or not yet)",
           "upphovsnoden %n är inte medlem i %s"),
    TU_MSG("field 'online_url': not an http(s) address without spaces",
           "<b>ogiltig</b> adress i online_url")};

/* A node whose web_locale_dir holds that catalogue: its pages in Swedish
 * are served whole, with the English of each sentence whose translation
 * does not fit its arguments (before, the workshop form's %n crashed the
 * daemon at the first Swedish visitor), the store's reason in English,
 * and the wire rule's reason, translated but naming its field unquoted,
 * shown escaped (not at a field: the page cannot tell which), nothing
 * stored; the daemon stops cleanly. */
static void test_hostile_catalogue(void **state)
{
    (void)state;
    hnode_t E;
    char dir[200], local[64], body[1024], req[2048];
    assert_int_equal(h_node_init(&E, "Folkhögskolan Fornby", "SE", NET), 0);
    snprintf(dir, sizeof dir, "%s/hostile-locale", E.home);
    assert_int_equal(mkdir(dir, 0700), 0);
    tu_write_mo(dir, "sv", HOSTILE, sizeof HOSTILE / sizeof HOSTILE[0]);
    E.web_port = h_free_port();
    snprintf(E.node_extra, sizeof E.node_extra, "web_locale_dir = %s\n", dir);
    assert_int_equal(h_node_write_config(&E), 0);
    managed_by_stranger(&E);
    assert_int_equal(h_node_start(&E), 0);
    snprintf(local, sizeof local, "127.0.0.1:%d", E.web_port);
    /* the page format: the form whole, that one label in English */
    snprintf(req, sizeof req,
             "GET /publish/workshop HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
             "Accept-Language: sv\r\n\r\n",
             local);
    reply_t form = request_port(E.web_port, req);
    if (form.status != 200 || !strstr(form.text, "</html>"))
        fail_msg("the Swedish form: status %d, %zu bytes", form.status, strlen(form.text));
    assert_non_null(strstr(form.text, ", in the second language (optional)"));
    assert_null(strstr(form.text, "på andra språket"));
    char *tok = csrf_in(form.text);
    /* the store's reason: English, whole */
    snprintf(body, sizeof body,
             "csrf=%s&network=%s&lang_1=sv&title_1=Studiecirkel+i+hantverk&lang_2=&title_2="
             "&start=2027-05-03T09%%3A00&end=2027-05-03T12%%3A00&tz=Europe%%2FStockholm"
             "&place=Fornbyv%%C3%%A4gen+1",
             tok, NET);
    reply_t r = post_workshop(E.web_port, "Accept-Language: sv\r\n", body);
    if (r.status != 422 || !strstr(r.text, "is not a member of " NET))
        fail_msg("want 422 with the English reason, got %d: %.600s", r.status,
                 strstr(r.text, "<main>") ? strstr(r.text, "<main>") : r.text);
    assert_null(strstr(r.text, "upphovsnoden"));
    free(r.text);
    /* the wire rule's reason: translated, escaped, in the error summary */
    snprintf(body, sizeof body,
             "csrf=%s&network=%s&lang_1=sv&title_1=Studiecirkel+i+hantverk&lang_2=&title_2="
             "&start=2027-05-03T09%%3A00&end=2027-05-03T12%%3A00&tz=Europe%%2FStockholm"
             "&place=&online_url=fornby.example.se%%2Fanmalan",
             tok, NET);
    r = post_workshop(E.web_port, "Accept-Language: sv\r\n", body);
    if (r.status != 422 || !strstr(r.text, "&lt;b&gt;ogiltig&lt;/b&gt; adress i online_url"))
        fail_msg("want 422 with the translated reason escaped, got %d: %.600s", r.status,
                 strstr(r.text, "error-summary") ? strstr(r.text, "error-summary") : r.text);
    assert_null(strstr(r.text, "<b>ogiltig"));
    free(r.text);
    free(tok);
    free(form.text);
    assert_int_equal(h_count_items(&E), 0);
    assert_int_equal(h_node_stop(&E), 0);
    h_node_free(&E);
}

/* ---- trickling clients ----------------------------------------------------- */

typedef struct trickler {
    int fd;
    long long opened_ms, closed_ms; /* closed_ms 0: still open */
} trickler_t;

/* 1 once the server has ended the connection (EOF or reset). */
static int ended(int fd)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* One more byte of a header line that never ends, to every open one. */
static size_t trickle(trickler_t *t, size_t n, size_t step)
{
    static const char drip[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    size_t open = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].closed_ms)
            continue;
        if (ended(t[i].fd) ||
            send(t[i].fd, drip + step % (sizeof drip - 1), 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            t[i].closed_ms = mono_ms();
            continue;
        }
        open++;
    }
    return open;
}

static void test_tricklers_do_not_hold_the_page(void **state)
{
    (void)state;
    enum { N = 2 * PER_ADDRESS };
    trickler_t t[N];
    char start[128], local[64];
    snprintf(local, sizeof local, "127.0.0.1:%d", D.web_port);
    snprintf(start, sizeof start, "GET / HTTP/1.1\r\nHost: %s\r\n", local);
    /* every slot taken, by two addresses at their old per-address limit */
    for (size_t i = 0; i < N; i++) {
        t[i].fd = dial(i < PER_ADDRESS ? "127.0.0.1" : "127.0.0.2");
        t[i].opened_ms = mono_ms();
        t[i].closed_ms = 0;
        assert_int_equal(send(t[i].fd, start, strlen(start), MSG_NOSIGNAL), (ssize_t)strlen(start));
    }
    /* staff: answered at once, not after the tricklers give up */
    long long asked = mono_ms();
    reply_t r = get_as(local, "/health");
    long long took = mono_ms() - asked;
    if (r.status != 200)
        fail_msg("staff request: status %d after %lld ms", r.status, took);
    assert_true(took < 3000);
    free(r.text);
    /* the tricklers send a byte every half second, so they are never idle
     * for MHD's WEB_TIMEOUT_S; each is cut once it has had WEB_REQUEST_S */
    long long deadline = t[N - 1].opened_ms + (WEB_REQUEST_S + 4) * 1000LL;
    for (size_t step = 0; trickle(t, N, step) > 0 && mono_ms() < deadline; step++) {
        struct timespec half = {0, 500 * 1000000L}; /* the attacker's pace */
        nanosleep(&half, NULL);
    }
    size_t at_bound = 0, early = 0;
    for (size_t i = 0; i < N; i++) {
        if (!t[i].closed_ms)
            fail_msg("trickler %zu still open after %d s", i, WEB_REQUEST_S + 4);
        long long held = t[i].closed_ms - t[i].opened_ms;
        if (held >= (WEB_REQUEST_S - 1) * 1000LL && held <= (WEB_REQUEST_S + 3) * 1000LL)
            at_bound++;
        else if (held < (WEB_REQUEST_S - 1) * 1000LL)
            early++; /* cut to make room for newer connections */
        close(t[i].fd);
    }
    fprintf(stderr, "tricklers: %zu cut early to make room, %zu at the %d s bound\n", early,
            at_bound, WEB_REQUEST_S);
    /* room for staff was made by cutting the oldest few, the rest ran to the bound */
    assert_true(early <= WEB_RESERVED + 2);
    assert_int_equal(at_bound + early, N);
    char needle[80];
    snprintf(needle, sizeof needle, "had not sent a whole request in %d s", WEB_REQUEST_S);
    assert_true(h_log_contains(&D, needle));
    /* and the page serves as before */
    r = get_as(local, "/health");
    assert_int_equal(r.status, 200);
    free(r.text);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_exact),
        cmocka_unit_test(test_login_token_is_its_own),
        cmocka_unit_test(test_form_shows_store_reason),
        cmocka_unit_test(test_store_reason_in_page_language),
        cmocka_unit_test(test_hostile_catalogue),
        cmocka_unit_test(test_tricklers_do_not_hold_the_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
