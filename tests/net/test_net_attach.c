/*
 * test_net_attach: the attachment transfer (docs/protocol.md,
 * "Attachments") between real daemons in an open network.
 *
 *  - test_relay_resume_scope: A – B – C. A 5 MiB file attached on A is
 *    fetched by B unasked (attachments_keep default) and by C, which keeps
 *    none unasked, when `attachment get` asks (exit 1, "on its way", until
 *    it is here), through B, byte-identical. C starts with a .part holding
 *    the first 8 chunks and a torn 9th, as a fetch stopped mid-way leaves
 *    it: C continues from chunk 8 (B serves 12 of the 20 chunks, not 20).
 *    A partner of B outside the network gets "not_found" for the file by
 *    its hash, while one inside gets its first chunk.
 *  - test_liar_and_limits: C lists a lying partner first (it serves every
 *    chunk with one byte flipped): the chunk is refused (bad_chunk, counted)
 *    and the file fetched from B, byte-identical. C's limits refuse by name
 *    a file above attachment_max_mib (attachment_too_large) and one past
 *    the author's attachment_quota_mib (attachment_quota). A file whose item
 *    is erased is removed from C's home.
 *  - test_kill_mid_transfer: A – C. C is killed (SIGKILL) while it fetches
 *    a 24 MiB file, once its .part holds some chunks but not all; C starts
 *    again, continues from the chunks its .part holds (re-checked), and the
 *    file is byte-identical; A serves exactly the chunks C did not have
 *    (none verified before is fetched twice). Files no item lists, planted
 *    in C's attachments/ while it was down (a file, a .part, an upload's
 *    temporary file, an hour old), are removed when it starts; its own
 *    .part is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness/harness.h"
#include "harness/harness_liar.h"
#include "harness/testutil.h"
#include "store/attach.h"

#define NET "wbl-library"

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
    char cmd[2048], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    tu_run(cmd, &out);
    return out;
}

/* Publishes a resource with a file of size random bytes on n; its
 * attachment hash (64 hex) into hash, the file's path into path, the
 * item's id into id. */
static void publish_file(const hnode_t *n, const char *name, long size, char path[700],
                         char hash[65], char id[65])
{
    char *out = NULL;
    uint8_t h[EVENT_HASH_BYTES];
    uint64_t got;
    snprintf(path, 700, "%s/%s", n->home, name);
    free(run("head -c %ld /dev/urandom > '%s'", size, path));
    assert_int_equal(attach_hash_file(path, h, &got, NULL, 0), ATTACH_OK);
    sodium_bin2hex(hash, 65, h, sizeof h);
    assert_int_equal(h_lernet(n, &out, "publish resource --title 'sv:%s' --type documentation "
                                       "--attach '%s'", name, path), 0);
    const char *p = out ? strstr(out, "published ") : NULL;
    assert_non_null(p);
    assert_int_equal(sscanf(p, "published %64[0-9a-f]", id), 1);
    free(out);
}

typedef struct want {
    const hnode_t *n;
    const char *hash;
    liar_t *pump; /* a lying server to keep answering meanwhile, or NULL */
} want_t;

static int present(void *ctx)
{
    want_t *w = ctx;
    char path[700];
    struct stat sb;
    if (w->pump)
        liar_serve_step(w->pump, 10);
    snprintf(path, sizeof path, "%s/attachments/%s", w->n->home, w->hash);
    return stat(path, &sb) == 0;
}

static int gone(void *ctx)
{
    return !present(ctx);
}

static int partners_up_pumped(void *ctx)
{
    want_t *w = ctx;
    liar_serve_step(w->pump, 10);
    return h_partners_up((void *)w->n);
}

/* A value of the daemon's "attachments" control reply, or -1. */
static long att_stat(const hnode_t *n, const char *key)
{
    json_t *r = h_control(n, "attachments");
    json_t *v = json_object_get(json_object_get(r, "attachments"), key);
    long x = json_is_integer(v) ? (long)json_integer_value(v) : -1;
    json_decref(r);
    return x;
}

static long refused(const hnode_t *n, const char *reason)
{
    json_t *r = h_control(n, "status");
    json_t *v = json_object_get(json_object_get(r, "refused"), reason);
    long x = json_is_integer(v) ? (long)json_integer_value(v) : 0;
    json_decref(r);
    return x;
}

/* `attachment get` on n: its output with stderr and "exit=N". */
static char *get(const hnode_t *n, const char *hash, const char *out)
{
    return run("'%s' --home '%s' attachment get %s --out '%s' 2>&1; echo exit=$?", h_bin(),
               n->home, hash, out);
}

static void same_bytes(const char *a, const char *b)
{
    char *out = run("cmp '%s' '%s' && echo same", a, b);
    assert_non_null(strstr(out, "same"));
    free(out);
}

/* n's `attachment list` shows a file on its way (its .part). */
static int lists_fetching(void *ctx)
{
    const hnode_t *n = ctx;
    char *out = run("'%s' --home '%s' attachment list", h_bin(), n->home);
    int ok = out && strstr(out, "fetching (") != NULL;
    free(out);
    return ok;
}

static void test_relay_resume_scope(void **state)
{
    (void)state;
    hnode_t A = {0}, B = {0}, C = {0}, D = {0}, E = {0};
    char path[700], hash[65], id[65], dst[800], part[800], *out = NULL;
    assert_int_equal(h_node_init(&A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET ",other-net"), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&D, "Køge Handelsskole", "DK", "other-net"), 0);
    assert_int_equal(h_node_init(&E, "Lärcentrum Östhammar", "SE", NET), 0);
    h_link(&A, &B, NET);
    h_link(&B, &C, NET);
    h_link(&D, &B, "other-net"); /* D and E: liars (never started) that ask B by hash */
    h_link(&E, &B, NET);
    snprintf(C.node_extra, sizeof C.node_extra, "attachments_keep = none\n");
    hnode_t *all[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    assert_int_equal(h_node_start(&A), 0);
    assert_int_equal(h_node_start(&B), 0);
    publish_file(&A, "Kursrapport.pdf", 5 * 1024 * 1024, path, hash, id);
    want_t wb = {&B, hash, NULL};
    assert_true(h_wait(present, &wb, H_DEADLINE_MS)); /* B fetched it unasked */
    snprintf(dst, sizeof dst, "%s/attachments/%s", B.home, hash);
    same_bytes(path, dst);

    /* C stopped mid-way before: 8 whole chunks and a torn 9th in its .part */
    assert_int_equal(mkdir(strcat(strcpy(part, C.home), "/attachments"), 0700), 0);
    snprintf(part, sizeof part, "%s/attachments/%s.part", C.home, hash);
    free(run("head -c %d '%s' > '%s'", 8 * ATTACH_CHUNK + 1000, path, part));
    assert_int_equal(h_node_start(&C), 0);
    assert_true(h_wait(h_partners_up, &C, H_DEADLINE_MS));
    /* once the resource has reached C, its list shows the .part: polled,
     * since partners up is not yet the item synced (1 plain run in 5 read
     * the list before the item was there) */
    assert_true(h_wait(lists_fetching, &C, H_DEADLINE_MS));
    snprintf(dst, sizeof dst, "%s/got.pdf", C.home);
    want_t wc = {&C, hash, NULL};
    assert_false(present(&wc)); /* kept none unasked */
    out = get(&C, hash, dst);
    assert_non_null(strstr(out, "on its way"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    assert_true(h_wait(present, &wc, H_DEADLINE_MS));
    out = get(&C, hash, dst);
    assert_non_null(strstr(out, "exit=0"));
    free(out);
    same_bytes(path, dst);
    assert_true(h_log_contains(&C, "continuing from chunk 8 of 20"));
    assert_int_equal(att_stat(&B, "chunks_served"), 20 - 8);
    assert_int_equal(access(part, F_OK), -1); /* the .part is gone */

    /* by hash alone: D (outside the network) gets nothing, E (inside) a chunk */
    uint8_t h[EVENT_HASH_BYTES];
    assert_int_equal(sodium_hex2bin(h, sizeof h, hash, 64, NULL, NULL, NULL), 0);
    Lernet__Wire__GetChunk g = LERNET__WIRE__GET_CHUNK__INIT;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    g.hash = (ProtobufCBinaryData){sizeof h, h};
    m.body_case = LERNET__WIRE__MSG__BODY_GET_CHUNK;
    m.get_chunk = &g;
    hnode_t *askers[] = {&D, &E};
    for (int i = 0; i < 2; i++) {
        liar_t *l = NULL;
        assert_int_equal(liar_open(&l, askers[i]), 0);
        assert_int_equal(liar_dial(l, &B), 0);
        Lernet__Wire__Msg *r = liar_ask(l, &m, 10000);
        assert_non_null(r);
        assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_CHUNK);
        if (i == 0) {
            assert_string_equal(r->chunk->refused, "not_found");
            assert_int_equal(r->chunk->data.len, 0);
        } else {
            assert_string_equal(r->chunk->refused, "");
            assert_int_equal(r->chunk->data.len, ATTACH_CHUNK);
        }
        lernet__wire__msg__free_unpacked(r, NULL);
        liar_close(&l);
    }
    /* B checked every byte as it fetched the file: it serves it without
     * hashing each chunk again, until the file is written to in place */
    assert_int_equal(att_stat(&B, "chunks_checked"), 0);
    snprintf(dst, sizeof dst, "%s/attachments/%s", B.home, hash);
    int fd = open(dst, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 100), 1);
    close(fd);
    liar_t *l = NULL;
    assert_int_equal(liar_open(&l, &E), 0);
    assert_int_equal(liar_dial(l, &B), 0);
    Lernet__Wire__Msg *r = liar_ask(l, &m, 10000);
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_CHUNK);
    assert_string_equal(r->chunk->refused, "not_found");
    lernet__wire__msg__free_unpacked(r, NULL);
    liar_close(&l);
    assert_int_equal(att_stat(&B, "chunks_checked"), 1);
    assert_true(h_log_contains(&B, "chunk 0 held here does not match its hash"));
    hnode_t *every[] = {&A, &B, &C, &D, &E};
    for (int i = 0; i < 5; i++)
        h_node_free(every[i]);
}

static void test_liar_and_limits(void **state)
{
    (void)state;
    hnode_t A = {0}, B = {0}, C = {0}, L = {0};
    char path[700], hash[65], id[65], dst[800], *out = NULL;
    char path2[700], hash2[65], id2[65], path3[700], hash3[65], id3[65];
    liar_t *liar = NULL;
    assert_int_equal(h_node_init(&A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&L, "Køge Handelsskole", "DK", NET), 0);
    h_link(&A, &B, NET);
    h_link(&C, &L, NET); /* listed first: asked first */
    h_link(&C, &B, NET);
    /* 3 MiB files at most, 5 MiB of one author's in a network */
    snprintf(C.node_extra, sizeof C.node_extra,
             "attachment_max_mib = 3\nattachment_quota_mib = 5\n");
    hnode_t *all[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    assert_int_equal(liar_open(&liar, &L), 0);
    assert_int_equal(liar_serve(liar, A.home), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_start(all[i]), 0);
    want_t up = {&C, NULL, liar};
    assert_true(h_wait(partners_up_pumped, &up, H_DEADLINE_MS));

    publish_file(&A, "Metodbok.pdf", 2 * 1024 * 1024 + 5000, path, hash, id);
    want_t wc = {&C, hash, liar};
    assert_true(h_wait(present, &wc, H_DEADLINE_MS));
    snprintf(dst, sizeof dst, "%s/attachments/%s", C.home, hash);
    same_bytes(path, dst);
    assert_true(liar_serve_step(liar, 0) >= 1); /* it was asked, and lied */
    assert_true(refused(&C, "bad_chunk") >= 1);

    /* the limits: too large for C, then past the author's quota there */
    publish_file(&A, "Inspelning.mp4", 3 * 1024 * 1024 + 1, path2, hash2, id2);
    publish_file(&A, "Rapport.pdf", 3 * 1024 * 1024, path3, hash3, id3);
    want_t b3 = {&B, hash3, liar};
    assert_true(h_wait(present, &b3, H_DEADLINE_MS)); /* B holds both: not its limits */
    snprintf(dst, sizeof dst, "%s/got.bin", C.home);
    char args[100];
    snprintf(args, sizeof args, "show %s", id3);
    for (int tries = 0; tries < 500 && h_lernet(&C, NULL, "%s", args) != 0; tries++)
        liar_serve_step(liar, 20);
    out = get(&C, hash2, dst);
    assert_non_null(strstr(out, "attachment_too_large"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    out = get(&C, hash3, dst);
    assert_non_null(strstr(out, "attachment_quota"));
    assert_non_null(strstr(out, "exit=1"));
    free(out);
    want_t c2 = {&C, hash2, liar}, c3 = {&C, hash3, liar};
    assert_false(present(&c2));
    assert_false(present(&c3));

    /* the first file's item erased on A: C removes the file */
    assert_int_equal(h_lernet(&A, NULL, "erase %s --reason 'wrong file'", id), 0);
    assert_true(h_wait(gone, &wc, H_DEADLINE_MS));
    liar_close(&liar);
    hnode_t *every[] = {&A, &B, &C, &L};
    for (int i = 0; i < 4; i++)
        h_node_free(every[i]);
}

/* n's .part of hash: its length, or -1. */
static long part_bytes(const hnode_t *n, const char *hash)
{
    char path[800];
    struct stat sb;
    snprintf(path, sizeof path, "%s/attachments/%s.part", n->home, hash);
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int nothing_waiting(void *ctx)
{
    return att_stat(ctx, "requests_waiting") == 0;
}

static void test_kill_mid_transfer(void **state)
{
    (void)state;
    hnode_t A = {0}, C = {0};
    char path[700], hash[65], id[65], dst[800], line[100];
    const long size = 24L * 1024 * 1024;
    const long chunks = size / ATTACH_CHUNK;
    assert_int_equal(h_node_init(&A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    h_link(&A, &C, NET);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_write_config(&C), 0);
    assert_int_equal(h_node_start(&A), 0);
    assert_int_equal(h_node_start(&C), 0);
    assert_true(h_wait(h_partners_up, &C, H_DEADLINE_MS));
    publish_file(&A, "Inspelning.webm", size, path, hash, id);
    /* polled tightly (a quarter in, not yet whole): 96 chunks take about a second */
    long part = -1;
    for (int i = 0; i < 60000 && !(part >= size / 4 && part < size - ATTACH_CHUNK); i++) {
        usleep(500);
        part = part_bytes(&C, hash);
    }
    assert_true(part >= size / 4 && part < size - ATTACH_CHUNK);
    h_node_kill(&C);
    long kept = part_bytes(&C, hash);
    long whole = kept / ATTACH_CHUNK; /* a fetch writes chunks in order, each checked */
    assert_true(whole >= 1 && whole < chunks);
    /* what A sends the dead session is sent before C is back */
    assert_true(h_wait(nothing_waiting, &A, H_DEADLINE_MS));
    long served = att_stat(&A, "chunks_served");
    assert_true(served >= whole);
    /* left by earlier runs: nothing lists them */
    char stray[3][900];
    snprintf(stray[0], sizeof stray[0], "%s/attachments/%064x", C.home, 7);
    snprintf(stray[1], sizeof stray[1], "%s/attachments/%064x.part", C.home, 8);
    snprintf(stray[2], sizeof stray[2], "%s/attachments/.incoming.0a1b2c3d4e5f6a7b.tmp", C.home);
    for (int i = 0; i < 3; i++)
        free(run("head -c 1000 /dev/urandom > '%s' && touch -d '1 hour ago' '%s'", stray[i],
                 stray[i]));
    assert_int_equal(h_node_start(&C), 0);
    want_t wc = {&C, hash, NULL};
    assert_true(h_wait(present, &wc, H_DEADLINE_MS));
    snprintf(dst, sizeof dst, "%s/attachments/%s", C.home, hash);
    same_bytes(path, dst);
    snprintf(line, sizeof line, "continuing from chunk %ld of %ld", whole, chunks);
    assert_true(h_log_contains(&C, line));
    print_message("killed with %ld of %ld chunks in the .part; A served %ld before, %ld after\n",
                  whole, chunks, served, att_stat(&A, "chunks_served") - served);
    assert_int_equal(att_stat(&A, "chunks_served") - served, chunks - whole);
    assert_int_equal(part_bytes(&C, hash), -1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(access(stray[i], F_OK), -1);
    assert_true(h_log_contains(&C, "attachments: removed 3 file(s) no item lists"));
    h_node_free(&A);
    h_node_free(&C);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_resume_scope),
        cmocka_unit_test(test_liar_and_limits),
        cmocka_unit_test(test_kill_mid_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
