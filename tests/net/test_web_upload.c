/*
 * test_web_upload: a file uploaded through the resource form of the web
 * page (multipart/form-data, web/upload.h), with real daemons A – B in an
 * open network; A takes files of at most 21 MiB (attachment_max_mib).
 *
 *  - test_upload_arrives: a 3 MiB file posted with the form becomes the
 *    resource's attachment on A (listed as `publish --attach` lists it:
 *    hash, size, name, media type; the bytes under the hash identical) and
 *    B (which keeps only what it is asked for) fetches it byte-identical. A 20 MiB upload does not raise A's peak
 *    memory (VmHWM) by 8 MiB: it is streamed to disk, never held whole.
 *  - test_upload_refusals: a file above the limit is refused on the page
 *    with the field and the reason (attachment_too_large), both when the
 *    announced length says so before the body is read (413) and when a
 *    chunked body shows it on the way (422, the form again); a body that
 *    is not multipart (garbage, a missing boundary, a body cut before its
 *    closing boundary mid-file) is refused (400); a file before the form's
 *    csrf field is refused. After each, A's attachments/ holds no new file
 *    and no temporary one, and A signed nothing.
 *  - test_own_limits: a node's attachment_max_mib (2) and
 *    attachment_quota_mib (3) apply to its own publishing, before it signs:
 *    `publish resource --attach` without a daemon refuses a file above the
 *    size (attachment_too_large), with the daemon running one past the
 *    quota (attachment_quota), and so does the page's upload; the file
 *    each refusal imported is gone again, nothing is signed; a file the
 *    node holds already counts once. The page's refusals name the file
 *    field (id="error-attachment"), on the resource form and the reply form.
 *  - test_reply_file: a reply with a file, posted through the thread form
 *    under a resource on A (multipart/form-data, the file after the csrf
 *    field), lists it in `show REPLY --json` as "attachments" (hash, size,
 *    name, media type); B fetches it byte-identical (`attachment get`), and
 *    both A's and B's thread show the reply with its download link. A file
 *    above A's limit on the reply form is refused with the field and
 *    attachment_too_large (announced: 413; chunked: 422, the form again),
 *    leaves nothing in attachments/ and signs nothing; a reply without a
 *    file (the empty file part a browser sends) still publishes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness/harness.h"
#include "harness/testutil.h"
#include "store/attach.h"

#define NET "wbl-library"
#define MIB (1024L * 1024L)

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
    char cmd[4096], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    tu_run(cmd, &out);
    return out ? out : strdup("");
}

static void csrf_of(const hnode_t *n, char *csrf, size_t len);

typedef struct nodes {
    hnode_t A, B;
    char csrf[200];
} nodes_t;

static void start(nodes_t *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(h_node_init(&t->A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&t->B, "Roskilde Handelsskole", "DK", NET), 0);
    h_link(&t->A, &t->B, NET);
    t->A.web_port = h_free_port();
    t->B.web_port = h_free_port();
    snprintf(t->A.node_extra, sizeof t->A.node_extra, "attachment_max_mib = 21\n");
    /* B fetches what it is asked for only: A's memory is the upload's,
     * not that of serving B a 20 MiB file meanwhile */
    snprintf(t->B.node_extra, sizeof t->B.node_extra, "attachments_keep = none\n");
    assert_int_equal(h_node_write_config(&t->A), 0);
    assert_int_equal(h_node_write_config(&t->B), 0);
    assert_int_equal(h_node_start(&t->A), 0);
    assert_int_equal(h_node_start(&t->B), 0);
    assert_true(h_wait(h_partners_up, &t->A, H_DEADLINE_MS));
    csrf_of(&t->A, t->csrf, sizeof t->csrf);
}

static void csrf_of(const hnode_t *n, char *csrf, size_t len)
{
    char *page = run("curl -s http://127.0.0.1:%d/publish/resource", n->web_port);
    assert_non_null(strstr(page, "enctype=\"multipart/form-data\""));
    assert_non_null(strstr(page, "type=\"file\" name=\"attachment\""));
    const char *p = strstr(page, "name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("name=\"csrf\" value=\"");
    snprintf(csrf, len, "%.*s", (int)strcspn(p, "\""), p);
    free(page);
}

static void stop(nodes_t *t)
{
    h_node_free(&t->A);
    h_node_free(&t->B);
}

/* Entries of n's attachments/ (files, .part and temporary ones), but
 * the chunk lists kept beside files (.leaves). */
static int held(const hnode_t *n)
{
    char dir[700];
    int count = 0;
    snprintf(dir, sizeof dir, "%s/attachments", n->home);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        count += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                 !strstr(e->d_name, ATTACH_LEAVES);
    if (d)
        closedir(d);
    return count;
}

static void make_file(const hnode_t *n, const char *name, long size, char path[700])
{
    snprintf(path, 700, "%s/%s", n->home, name);
    free(run("head -c %ld /dev/urandom > '%s'", size, path));
}

/* POSTs the resource form with file as its attachment: "STATUS LOCATION"
 * then the page, into the returned string. extra: more curl options. */
static char *post(const nodes_t *t, const char *file, const char *extra)
{
    return run("curl -s -S -o - -w '\\n%%{http_code} %%{redirect_url}' "
               "-H 'Origin: http://127.0.0.1:%d' %s -F 'csrf=%s' -F 'network=" NET "' "
               "-F lang_1=sv -F 'title_1=Inspelad föreläsning' -F type=recording "
               "-F 'attachment=@%s' http://127.0.0.1:%d/publish/resource 2>&1",
               t->A.web_port, extra ? extra : "", t->csrf, file, t->A.web_port);
}

static long vm_hwm_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

typedef struct want {
    const hnode_t *n;
    const char *hash;
} want_t;

static int present(void *ctx)
{
    want_t *w = ctx;
    char path[800];
    struct stat sb;
    snprintf(path, sizeof path, "%s/attachments/%s", w->n->home, w->hash);
    return stat(path, &sb) == 0;
}

typedef struct shows {
    const hnode_t *n;
    const char *args;
} shows_t;

static int shows(void *ctx)
{
    shows_t *s = ctx;
    return h_lernet(s->n, NULL, "%s", s->args) == 0;
}

static void same_bytes(const char *a, const char *b)
{
    char *out = run("cmp '%s' '%s' && echo same", a, b);
    assert_non_null(strstr(out, "same"));
    free(out);
}

static void hash_of(const char *path, char hex[65])
{
    uint8_t h[EVENT_HASH_BYTES];
    uint64_t n;
    assert_int_equal(attach_hash_file(path, h, &n, NULL, 0), ATTACH_OK);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

/* The id of the item the page sent us to after a publish. */
static void published_id(const char *out, char id[65])
{
    const char *p = strstr(out, "\n303 ");
    if (!p || sscanf(p, "\n303 http://127.0.0.1:%*d/event/%64[0-9a-f]", id) != 1)
        fail_msg("not published: %.2000s", out);
}

/* Once the item id has reached n, `attachment get` there fetches the file
 * of hash, byte-identical to path. */
static void fetched_by(const hnode_t *n, const char *id, const char *hash, const char *path)
{
    char args[200], dst[800];
    snprintf(args, sizeof args, "show %s", id);
    assert_true(h_wait(shows, &(shows_t){n, args}, H_DEADLINE_MS));
    snprintf(dst, sizeof dst, "%s/got.pdf", n->home);
    free(run("'%s' --home '%s' attachment get %s --out '%s'", h_bin(), n->home, hash, dst));
    want_t w = {n, hash};
    assert_true(h_wait(present, &w, H_DEADLINE_MS));
    snprintf(dst, sizeof dst, "%s/attachments/%s", n->home, hash);
    same_bytes(path, dst);
}

static void test_upload_arrives(void **state)
{
    (void)state;
    nodes_t t;
    char path[700], hash[65], id[65], dst[800], *out;
    start(&t);
    make_file(&t.A, "Metodbok.pdf", 3 * MIB, path);
    hash_of(path, hash);
    out = post(&t, path, NULL);
    published_id(out, id);
    free(out);
    /* listed as `publish --attach` lists it, the bytes under its hash */
    char *show = NULL;
    assert_int_equal(h_lernet(&t.A, &show, "show %s --json", id), 0);
    json_t *j = json_loads(show, 0, NULL);
    free(show);
    json_t *a = json_array_get(json_object_get(j, "attachments"), 0);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "hash")), hash);
    assert_int_equal(json_integer_value(json_object_get(a, "size")), 3 * MIB);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Metodbok.pdf");
    assert_string_equal(json_string_value(json_object_get(a, "media_type")), "application/pdf");
    assert_true(json_is_true(json_object_get(a, "present")));
    json_decref(j);
    snprintf(dst, sizeof dst, "%s/attachments/%s", t.A.home, hash);
    same_bytes(path, dst);
    assert_int_equal(held(&t.A), 1); /* no temporary file left */
    /* B, the partner, fetches it when asked (once the item is there) */
    fetched_by(&t.B, id, hash, path);

    /* 20 MiB through the page: A's peak memory does not grow by 8 MiB */
    make_file(&t.A, "Inspelning.mp4", 20 * MIB, path);
    hash_of(path, hash);
    long before = vm_hwm_kib(t.A.pid);
    assert_true(before > 0);
    out = post(&t, path, NULL);
    published_id(out, id);
    free(out);
    long after = vm_hwm_kib(t.A.pid);
    print_message("A's VmHWM: %ld KiB before, %ld KiB after a 20 MiB upload\n", before, after);
    assert_true(after - before < 8 * 1024);
    snprintf(dst, sizeof dst, "%s/attachments/%s", t.A.home, hash);
    same_bytes(path, dst);
    stop(&t);
}

/* The events in n's store (`lernet log --json`, a line each). */
static long events_of(const hnode_t *n)
{
    char *out = NULL;
    long lines = 0;
    if (h_lernet(n, &out, "log --json") == 0 && out)
        for (const char *p = out; *p; p++)
            lines += *p == '\n';
    free(out);
    return lines;
}

/* out holds status and the page line naming the field and the reason. */
static void refused_as(char *out, const char *status, const char *needle)
{
    char want[16];
    snprintf(want, sizeof want, "\n%s ", status);
    if (!strstr(out, want) || !strstr(out, needle))
        fail_msg("want %s with '%s', got: %.3000s", status, needle, out);
    free(out);
}

static void test_upload_refusals(void **state)
{
    (void)state;
    nodes_t t;
    char path[700], body[900];
    start(&t);
    long events = events_of(&t.A);
    assert_true(events >= 0);

    /* announced above the bound: refused before the body is read */
    make_file(&t.A, "Stor.mp4", 22 * MIB, path);
    refused_as(post(&t, path, NULL), "413", "field &#39;attachment&#39;: attachment_too_large");
    /* chunked, so only the bytes tell: above 21 MiB on the way */
    make_file(&t.A, "Lite för stor.mp4", 21 * MIB + 100 * 1024, path);
    char *out = post(&t, path, "-H 'Transfer-Encoding: chunked'");
    assert_non_null(strstr(out, "id=\"error-attachment\""));
    refused_as(out, "422", "attachment_too_large: the file is larger than this node&#39;s "
                           "attachment_max_mib (21 MiB)");
    assert_int_equal(held(&t.A), 0);

    /* not multipart: garbage, no boundary, cut off mid-file */
    char origin[80];
    snprintf(origin, sizeof origin, "-H 'Origin: http://127.0.0.1:%d'", t.A.web_port);
    refused_as(run("curl -s -w '\\n%%{http_code} ' %s -H 'Content-Type: multipart/form-data; "
                   "boundary=XyZ' --data-binary 'this is not multipart at all' "
                   "http://127.0.0.1:%d/publish/resource",
                   origin, t.A.web_port),
               "400", "not whole multipart/form-data");
    refused_as(run("curl -s -w '\\n%%{http_code} ' %s -H 'Content-Type: multipart/form-data' "
                   "--data-binary 'x' http://127.0.0.1:%d/publish/resource",
                   origin, t.A.web_port),
               "400", "without a boundary");
    snprintf(path, sizeof path, "%s/cut.body", t.A.home);
    snprintf(body, sizeof body,
             "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; "
             "filename=\"Halv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
             t.csrf);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(body, f);
    for (int i = 0; i < 300000; i++)
        fputc('a' + i % 26, f); /* and never the closing boundary */
    fclose(f);
    refused_as(run("curl -s -w '\\n%%{http_code} ' %s -H 'Content-Type: multipart/form-data; "
                   "boundary=XyZ' --data-binary '@%s' http://127.0.0.1:%d/publish/resource",
                   origin, path, t.A.web_port),
               "400", "not whole multipart/form-data");
    assert_int_equal(held(&t.A), 0);

    /* a file before the csrf field is not taken */
    make_file(&t.A, "Metodbok.pdf", 1000, path);
    refused_as(run("curl -s -w '\\n%%{http_code} ' %s -F 'attachment=@%s' -F 'csrf=%s' "
                   "-F 'network=" NET "' -F lang_1=sv -F title_1=T -F type=method "
                   "http://127.0.0.1:%d/publish/resource",
                   origin, path, t.csrf, t.A.web_port),
               "422", "not before its file");
    assert_int_equal(held(&t.A), 0);
    assert_int_equal(events_of(&t.A), events); /* nothing signed */
    stop(&t);
}

/* POSTs A's reply form (the thread form's fields) answering about, with
 * file as its attachment (NULL: the empty file part a browser sends for a
 * file input left empty, written by hand: curl sends none): "STATUS
 * LOCATION" then the page. extra: more curl options. */
static char *post_reply(const nodes_t *t, const char *about, const char *text, const char *file,
                        const char *extra)
{
    char body[1200], path[700];
    if (file)
        return run("curl -s -S -o - -w '\\n%%{http_code} %%{redirect_url}' "
                   "-H 'Origin: http://127.0.0.1:%d' %s -F 'csrf=%s' -F 'about=%s' "
                   "-F 'network=" NET "' -F 'text_1=%s' -F lang_1=sv -F 'attachment=@%s' "
                   "http://127.0.0.1:%d/publish/reply 2>&1",
                   t->A.web_port, extra ? extra : "", t->csrf, about, text, file,
                   t->A.web_port);
    snprintf(body, sizeof body,
             "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"about\"\r\n\r\n%s\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"network\"\r\n\r\n" NET "\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"text_1\"\r\n\r\n%s\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"lang_1\"\r\n\r\nsv\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n",
             t->csrf, about, text);
    snprintf(path, sizeof path, "%s/reply.body", t->A.home);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
    return run("curl -s -S -o - -w '\\n%%{http_code} %%{redirect_url}' "
               "-H 'Origin: http://127.0.0.1:%d' -H 'Content-Type: multipart/form-data; "
               "boundary=XyZ' --data-binary '@%s' http://127.0.0.1:%d/publish/reply 2>&1",
               t->A.web_port, path, t->A.web_port);
}

/* The id of a resource in n's store (`lernet log --json`): 0, or -1. */
static int resource_id(const hnode_t *n, char id[65])
{
    char *out = NULL;
    int rc = -1;
    if (h_lernet(n, &out, "log --json") == 0 && out)
        for (char *line = strtok(out, "\n"); line && rc; line = strtok(NULL, "\n")) {
            json_t *j = json_loads(line, 0, NULL);
            const char *kind = json_string_value(json_object_get(j, "kind"));
            const char *eid = json_string_value(json_object_get(j, "id"));
            if (kind && eid && strcmp(kind, "resource") == 0 && strlen(eid) == 64) {
                snprintf(id, 65, "%s", eid);
                rc = 0;
            }
            json_decref(j);
        }
    free(out);
    return rc;
}

/* `lernet publish resource --attach file` on n: output, stderr, "exit=N". */
static char *publish_cli(const hnode_t *n, const char *file)
{
    return run("'%s' --home '%s' publish resource --title 'sv:Metodbok' --type method "
               "--attach '%s' 2>&1; echo exit=$?",
               h_bin(), n->home, file);
}

static void test_own_limits(void **state)
{
    (void)state;
    nodes_t t;
    char path[700], path2[700], *out;
    memset(&t, 0, sizeof t);
    assert_int_equal(h_node_init(&t.A, "Region Örebro län", "SE", NET), 0);
    t.A.web_port = h_free_port();
    snprintf(t.A.node_extra, sizeof t.A.node_extra,
             "attachment_max_mib = 2\nattachment_quota_mib = 3\n");
    assert_int_equal(h_node_write_config(&t.A), 0);

    /* no daemon: the CLI signs itself, and refuses first */
    long keys = events_of(&t.A); /* init's key events */
    make_file(&t.A, "Inspelning.mp4", 2 * MIB + 1, path);
    out = publish_cli(&t.A, path);
    assert_non_null(strstr(out, "attachment_too_large: Inspelning.mp4 is 2097153 bytes, larger "
                                "than this node's attachment_max_mib (2 MiB)"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    assert_int_equal(held(&t.A), 0); /* the import is undone */
    assert_int_equal(events_of(&t.A), keys);
    make_file(&t.A, "Metodbok.pdf", 2 * MIB, path);
    out = publish_cli(&t.A, path);
    assert_non_null(strstr(out, "exit=0"));
    free(out);
    assert_int_equal(held(&t.A), 1);
    long events = events_of(&t.A);

    /* the daemon, through the CLI and the page: 2 + 1.5 MiB pass the quota */
    assert_int_equal(h_node_start(&t.A), 0);
    make_file(&t.A, "Bilaga.pdf", 3 * MIB / 2, path2);
    out = publish_cli(&t.A, path2);
    assert_non_null(strstr(out, "attachment_quota: this node's files in '" NET "' would come "
                                "to 3.5 MiB, past its attachment_quota_mib (3 MiB)"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    assert_int_equal(held(&t.A), 1);
    csrf_of(&t.A, t.csrf, sizeof t.csrf);
    out = post(&t, path2, NULL);
    assert_non_null(strstr(out, "attachment_quota: this node&#39;s files in &#39;" NET));
    assert_non_null(strstr(out, "id=\"error-attachment\"")); /* on the file field */
    assert_non_null(strstr(out, "\n422 "));
    free(out);
    assert_int_equal(held(&t.A), 1); /* the uploaded file went with the refusal */
    assert_int_equal(events_of(&t.A), events);
    /* and on the reply form: a reply to the resource, with the same file */
    char about[65];
    assert_int_equal(resource_id(&t.A, about), 0);
    out = post_reply(&t, about, "Svar med bilaga", path2, NULL);
    assert_non_null(strstr(out, "attachment_quota: this node&#39;s files in &#39;" NET));
    assert_non_null(strstr(out, "id=\"error-attachment\""));
    assert_non_null(strstr(out, "\n422 "));
    free(out);
    assert_int_equal(held(&t.A), 1);
    assert_int_equal(events_of(&t.A), events);
    /* a file held already counts once: listed again, it passes */
    out = publish_cli(&t.A, path);
    assert_non_null(strstr(out, "exit=0"));
    free(out);
    assert_int_equal(events_of(&t.A), events + 1);
    h_node_free(&t.A);
}

/* n's page for the item about: its thread holds the reply id with the
 * named file's download link (once the file is here). */
typedef struct thread_want {
    const hnode_t *n;
    const char *about, *reply, *name;
} thread_want_t;

static int thread_has(void *ctx)
{
    thread_want_t *w = ctx;
    char want[200];
    char *page = run("curl -s http://127.0.0.1:%d/event/%s", w->n->web_port, w->about);
    snprintf(want, sizeof want, "id=\"r-%s\"", w->reply);
    const char *li = strstr(page, want);
    snprintf(want, sizeof want, "<a href=\"/event/%s/file/0\" download>%s</a>", w->reply,
             w->name);
    int ok = li && strstr(li, want) != NULL;
    free(page);
    return ok;
}

/* The reply's id from the page's redirect back to the thread. */
static void reply_id(const char *out, const char *about, char id[65])
{
    char want[120];
    snprintf(want, sizeof want, "/event/%s?published=1#r-", about);
    const char *p = strstr(out, "\n303 ");
    const char *q = p ? strstr(p, want) : NULL;
    if (!q || sscanf(q + strlen(want), "%64[0-9a-f]", id) != 1 || strlen(id) != 64)
        fail_msg("no reply published: %.2000s", out);
}

static void test_reply_file(void **state)
{
    (void)state;
    nodes_t t;
    char path[700], hash[65], about[65], id[65], dst[800], *out;
    start(&t);
    /* the item answered: a resource published on A's page */
    make_file(&t.A, "Metodbok.pdf", 1000, path);
    out = post(&t, path, NULL);
    published_id(out, about);
    free(out);
    /* its page: the thread's reply form takes a file, after the csrf field */
    char *page = run("curl -s http://127.0.0.1:%d/event/%s", t.A.web_port, about);
    const char *form = strstr(page, "<form class=\"publish reply\"");
    assert_non_null(form);
    assert_non_null(strstr(form, "enctype=\"multipart/form-data\""));
    const char *csrf = strstr(form, "name=\"csrf\""), *file = strstr(form, "type=\"file\" "
                                                                           "name=\"attachment\"");
    assert_non_null(csrf);
    assert_non_null(file);
    assert_true(csrf < file);
    assert_non_null(strstr(form, "<label for=\"f-attachment\">"));
    assert_non_null(strstr(form, "id=\"f-attachment\" aria-describedby=\"hint-attachment\""));
    assert_non_null(strstr(form, "at most 21 MiB"));
    free(page);

    /* a reply with a file through it */
    make_file(&t.A, "Protokoll från träffen.pdf", 2 * MIB + 123, path);
    hash_of(path, hash);
    out = post_reply(&t, about, "Tack! Här är protokollet.", path, NULL);
    reply_id(out, about, id);
    free(out);
    char *show = NULL;
    assert_int_equal(h_lernet(&t.A, &show, "show %s --json", id), 0);
    json_t *j = json_loads(show, 0, NULL);
    free(show);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "reply");
    json_t *a = json_array_get(json_object_get(j, "attachments"), 0);
    assert_non_null(a);
    assert_int_equal(json_array_size(json_object_get(j, "attachments")), 1);
    assert_string_equal(json_string_value(json_object_get(a, "hash")), hash);
    assert_int_equal(json_integer_value(json_object_get(a, "size")), 2 * MIB + 123);
    assert_string_equal(json_string_value(json_object_get(a, "name")),
                        "Protokoll från träffen.pdf");
    assert_string_equal(json_string_value(json_object_get(a, "media_type")), "application/pdf");
    json_decref(j);
    snprintf(dst, sizeof dst, "%s/attachments/%s", t.A.home, hash);
    same_bytes(path, dst);
    assert_int_equal(held(&t.A), 2); /* the resource's file and the reply's */
    thread_want_t ta = {&t.A, about, id, "Protokoll från träffen.pdf"};
    assert_true(thread_has(&ta));
    /* B: the reply arrives, its file is fetched byte-identical when asked */
    fetched_by(&t.B, id, hash, path);
    thread_want_t tb = {&t.B, about, id, "Protokoll från träffen.pdf"};
    assert_true(h_wait(thread_has, &tb, H_DEADLINE_MS));

    /* too large on the reply form: announced, and seen on the way */
    long events = events_of(&t.A);
    make_file(&t.A, "Stor.mp4", 22 * MIB, path);
    refused_as(post_reply(&t, about, "För stor", path, NULL), "413",
               "field &#39;attachment&#39;: attachment_too_large");
    make_file(&t.A, "Lite för stor.mp4", 21 * MIB + 100 * 1024, path);
    out = post_reply(&t, about, "Lite för stor", path, "-H 'Transfer-Encoding: chunked'");
    assert_non_null(strstr(out, "id=\"error-attachment\""));
    assert_non_null(strstr(out, "enctype=\"multipart/form-data\"")); /* the form again */
    refused_as(out, "422", "attachment_too_large: the file is larger than this node&#39;s "
                           "attachment_max_mib (21 MiB)");
    assert_int_equal(held(&t.A), 2);
    assert_int_equal(events_of(&t.A), events);

    /* no file: the empty file part a browser sends */
    out = post_reply(&t, about, "Ett svar utan bilaga.", NULL, NULL);
    reply_id(out, about, id);
    free(out);
    assert_int_equal(h_lernet(&t.A, &show, "show %s --json", id), 0);
    j = json_loads(show, 0, NULL);
    free(show);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "reply");
    assert_int_equal(json_array_size(json_object_get(j, "attachments")), 0);
    json_decref(j);
    assert_int_equal(held(&t.A), 2);
    assert_int_equal(events_of(&t.A), events + 1);
    stop(&t);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_arrives),
        cmocka_unit_test(test_upload_refusals),
        cmocka_unit_test(test_own_limits),
        cmocka_unit_test(test_reply_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
