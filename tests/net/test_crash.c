/*
 * test_crash: SIGKILL in the middle of `lernet publish` and of `lernet keys
 * rotate`, at random moments, many times: the log is always either without
 * the event or with it whole (verify clean, chain unbroken), and the key in
 * use is always a whole key file whose certificate is stored. Then a full
 * disk (a file-size limit): a clear error, nothing corrupted, and
 * publishing works again once there is room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "keys/keystore.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

/* Runs `lernet --home H args` and SIGKILLs it after up to max_ms. */
static void run_and_kill(const hnode_t *n, const char *args, int max_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec '%s' --home '%s' %s >/dev/null 2>&1", LERNET_BIN,
                 n->home, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct timespec ts = {0, (long)randombytes_uniform((uint32_t)max_ms * 1000) * 1000};
    nanosleep(&ts, NULL); /* the kill point is random on purpose */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static uint64_t events_of(const hnode_t *n)
{
    char path[600];
    store_t *st = NULL;
    store_stats_t ss = {0};
    snprintf(path, sizeof path, "%s/store.db", n->home);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    store_close(&st);
    return ss.events;
}

typedef struct cert_q {
    const uint8_t *key;
    int certified;
} cert_q_t;

static int note(void *ctx, const store_signing_key_t *k)
{
    cert_q_t *q = ctx;
    if (memcmp(k->key, q->key, KEYS_PUBLIC_BYTES) == 0)
        q->certified = k->certified && !k->revoked;
    return 0;
}

/* The signing key on disk loads whole and is certified in the store. */
static void assert_signing_key_sound(const hnode_t *n)
{
    char dir[600], path[600], why[256];
    keys_identity_t *k = NULL;
    uint8_t id[KEYS_PUBLIC_BYTES];
    store_t *st = NULL;
    snprintf(dir, sizeof dir, "%s/keys", n->home);
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &k, why, sizeof why), 0);
    assert_int_equal(keystore_load_public(dir, id, NULL, 0), 0);
    snprintf(path, sizeof path, "%s/store.db", n->home);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    cert_q_t q = {keys_public(k), 0};
    store_signing_keys(st, id, note, &q);
    store_close(&st);
    keys_free(&k);
    assert_true(q.certified);
}

static void test_kill_during_publish_and_rotation(void **state)
{
    (void)state;
    hnode_t A;
    const char *env = getenv("LERNET_KILLS");
    int kills = env ? atoi(env) : 10, whole = 0, none = 0;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    for (int i = 0; i < kills; i++) {
        uint64_t before = events_of(&A);
        run_and_kill(&A, "publish workshop --title 'sv:Avbruten' --start 2027-02-09T09:00 "
                         "--end 2027-02-09T12:00 --place Östhammar",
                     40);
        uint64_t after = events_of(&A);
        assert_true(after == before || after == before + 1);
        whole += after == before + 1;
        none += after == before;
        assert_int_equal(h_lernet(&A, NULL, "verify"), 0);
        run_and_kill(&A, "keys rotate", 40);
        assert_signing_key_sound(&A);
        assert_int_equal(h_lernet(&A, NULL, "verify"), 0);
    }
    /* and the node still publishes with whatever key it is left with */
    assert_int_equal(h_publish_workshop(&A, "Efter avbrotten", NET), 0);
    assert_int_equal(h_lernet(&A, NULL, "verify"), 0);
    fprintf(stderr, "%d kills during publish (%d left the event whole, %d left nothing) and %d "
                    "during rotation: every store and key sound\n",
            kills, whole, none, kills);
    h_node_free(&A);
}

static void test_full_disk(void **state)
{
    (void)state;
    hnode_t A;
    char *out = NULL, cmd[2048];
    assert_int_equal(h_node_init(&A, "Lärcentrum Tierp", "SE", NET), 0);
    assert_int_equal(h_publish_workshop(&A, "Före", NET), 0);
    uint64_t before = events_of(&A);
    /* a file-size limit below the store's size: every write that grows it fails */
    snprintf(cmd, sizeof cmd,
             "trap '' XFSZ; ulimit -f 1; '%s' --home '%s' publish workshop --title 'sv:Fullt' "
             "--start 2027-02-09T09:00 --end 2027-02-09T12:00 --place Tierp "
             "--description \"sv:$(head -c 6000 /dev/zero | tr '\\0' x)\" 2>&1",
             LERNET_BIN, A.home);
    int rc = tu_run(cmd, &out);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "disk full"));
    assert_non_null(strstr(out, "nothing was stored"));
    free(out);
    assert_int_equal(events_of(&A), before); /* nothing partial */
    assert_int_equal(h_lernet(&A, NULL, "verify"), 0);
    /* room again: it carries on */
    assert_int_equal(h_publish_workshop(&A, "Efter", NET), 0);
    assert_int_equal(events_of(&A), before + 1);
    assert_int_equal(h_lernet(&A, NULL, "verify"), 0);
    h_node_free(&A);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_publish_and_rotation),
        cmocka_unit_test(test_full_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
