/*
 * test_security: after a full run (init with a passphrase, sync, publish,
 * rotation, revocation, a backup), no secret key appears in any log, the
 * store or the backup, in any printable form; the control socket is private
 * to the node's user, and refuses a command it does not know with the list
 * of those it does, which is the list control.h documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/control.h"
#include "harness/harness.h"
#include "keys/keystore.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define PASS "Östhammar-lösenord-2026"
#define MAX_SECRETS 8

typedef struct secret {
    uint8_t bytes[KEYS_SECRET_BYTES];
    size_t len;
    const char *what;
} secret_t;

/* Every printable form a key could leak in: hex, base64 (both alphabets,
 * padded or not), and the raw bytes. */
static void forms(const uint8_t *b, size_t n, char out[6][256], size_t *count)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                   sodium_base64_VARIANT_URLSAFE,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    sodium_bin2hex(out[0], 256, b, n);
    for (int i = 0; i < 4; i++)
        sodium_bin2base64(out[1 + i], 256, b, n, variants[i]);
    memcpy(out[5], out[0], sizeof out[5]);
    for (char *p = out[5]; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    *count = 6;
}

static int file_contains(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    size_t n = fread(buf, 1, (size_t)size, f);
    fclose(f);
    int found = n >= len && memmem(buf, n, needle, len) != NULL;
    free(buf);
    return found;
}

/* Searches every file the run wrote outside keys/ (and the backup) for the
 * secret and its 32-byte seed, in every form. */
static void assert_nowhere(const char *const *files, size_t n_files, const secret_t *s)
{
    size_t lens[2] = {s->len, 32};
    for (int part = 0; part < (s->len > 32 ? 2 : 1); part++) {
        char f[6][256];
        size_t nf;
        forms(s->bytes, lens[part], f, &nf);
        for (size_t i = 0; i < n_files; i++) {
            if (file_contains(files[i], s->bytes, lens[part]))
                fail_msg("%s (raw) found in %s", s->what, files[i]);
            for (size_t j = 0; j < nf; j++)
                if (file_contains(files[i], f[j], strlen(f[j])))
                    fail_msg("%s (form %zu) found in %s", s->what, j, files[i]);
        }
    }
}

static void keep(secret_t *v, size_t *n, const keys_identity_t *k, const char *what)
{
    uint8_t *buf = sodium_malloc(KEYS_SECRET_BYTES);
    assert_int_equal(keys_export_secret(k, buf), KEYS_OK);
    memcpy(v[*n].bytes, buf, KEYS_SECRET_BYTES);
    v[*n].len = KEYS_SECRET_BYTES;
    v[*n].what = what;
    (*n)++;
    sodium_free(buf);
}

static void test_no_secret_in_logs_store_or_backup(void **state)
{
    (void)state;
    hnode_t A, B;
    secret_t secrets[MAX_SECRETS];
    size_t n = 0;
    char dir[600], why[256], *out = NULL;
    setenv("LERNET_PASSPHRASE", PASS, 1);
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    /* A's identity key encrypted: init it again, with the passphrase */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' --home '%s' init --name A --country SE "
                              "--network %s >/dev/null",
             A.home, LERNET_BIN, A.home, NET);
    assert_int_equal(tu_run(cmd, NULL), 0);
    snprintf(dir, sizeof dir, "%s/keys", A.home);
    assert_int_equal(keystore_load_public(dir, (uint8_t *)why, NULL, 0), 0);
    keys_pub_encode(A.pub, (const uint8_t *)why);
    h_link(&A, &B, NET);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_write_config(&B), 0);
    assert_int_equal(h_node_start(&A), 0);
    assert_int_equal(h_node_start(&B), 0);
    hnode_t *both[] = {&A, &B};
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", NET), 0);
    assert_true(h_wait_items(both, 2, 1, H_DEADLINE_MS));

    keys_identity_t *k = NULL;
    keys_transport_t *t = NULL;
    assert_int_equal(keystore_load(dir, PASS, &k, why, sizeof why), 0);
    keep(secrets, &n, k, "A's identity key");
    assert_int_equal(keys_transport_from_identity(&t, k), KEYS_OK);
    uint8_t *x = sodium_malloc(KEYS_X25519_BYTES);
    keys_transport_export(t, x);
    memcpy(secrets[n].bytes, x, KEYS_X25519_BYTES);
    secrets[n].len = KEYS_X25519_BYTES;
    secrets[n++].what = "A's transport key";
    sodium_free(x);
    keys_transport_free(&t);
    keys_free(&k);
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &k, why, sizeof why), 0);
    keep(secrets, &n, k, "A's first signing key");
    keys_free(&k);

    assert_int_equal(h_lernet(&A, &out, "keys rotate"), 0);
    free(out);
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &k, why, sizeof why), 0);
    keep(secrets, &n, k, "A's second signing key");
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, keys_public(k));
    keys_free(&k);
    assert_int_equal(h_publish_workshop(&A, "Efter rotationen", NET), 0);
    assert_true(h_wait_items(both, 2, 2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&A, &out, "keys revoke %s", fpr), 0); /* rotates again */
    free(out);
    char backup[700];
    snprintf(backup, sizeof backup, "%s/backup.txt", B.home);
    assert_int_equal(h_lernet(&A, &out, "keys export '%s'", backup), 0);
    free(out);
    snprintf(dir, sizeof dir, "%s/keys", B.home);
    assert_int_equal(keystore_load(dir, NULL, &k, why, sizeof why), 0);
    keep(secrets, &n, k, "B's identity key");
    keys_free(&k);
    assert_int_equal(h_node_stop(&A), 0);
    assert_int_equal(h_node_stop(&B), 0);

    char files[6][700];
    snprintf(files[0], sizeof files[0], "%s/daemon.log", A.home);
    snprintf(files[1], sizeof files[1], "%s/cli.log", A.home);
    snprintf(files[2], sizeof files[2], "%s/store.db", A.home);
    snprintf(files[3], sizeof files[3], "%s/daemon.log", B.home);
    snprintf(files[4], sizeof files[4], "%s/store.db", B.home);
    snprintf(files[5], sizeof files[5], "%s", backup);
    const char *list[6] = {files[0], files[1], files[2], files[3], files[4], files[5]};
    struct stat sb;
    assert_int_equal(stat(files[0], &sb), 0);
    assert_true(sb.st_size > 0); /* there was a log to search */
    for (size_t i = 0; i < n; i++)
        assert_nowhere(list, 6, &secrets[i]);
    /* the search itself finds a leak: a control file holding one form */
    char probe[700], f[6][256];
    size_t nf;
    snprintf(probe, sizeof probe, "%s/probe.log", A.home);
    forms(secrets[0].bytes, 32, f, &nf);
    FILE *pf = fopen(probe, "w");
    fprintf(pf, "log line with %s inside\n", f[3]);
    fclose(pf);
    assert_true(file_contains(probe, f[3], strlen(f[3])));
    unlink(probe);
    sodium_memzero(secrets, sizeof secrets);
    h_node_free(&A);
    h_node_free(&B);
    unsetenv("LERNET_PASSPHRASE");
}

static void test_control_socket_is_private(void **state)
{
    (void)state;
    hnode_t A;
    struct stat sb;
    char path[700];
    assert_int_equal(h_node_init(&A, "Lärcentrum Tierp", "SE", NET), 0);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_start(&A), 0);
    snprintf(path, sizeof path, "%s/%s", A.home, CONTROL_SOCKET);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(stat(A.home, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0); /* the home itself: 0700 */
    if (geteuid() == 0) { /* as another user, it must not answer */
        pid_t pid = fork();
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
            json_t *req = json_pack("{s:s}", "cmd", "status"), *reply = NULL;
            _exit(control_request(A.home, req, &reply, 2000) == CONTROL_OK ? 1 : 0);
        }
        int status = -1;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    h_node_free(&A);
}

/* The "cmd" names control.h documents ({"cmd":"NAME"...), comma-separated. */
static void documented_commands(char *out, size_t len)
{
    char path[700], line[512];
    snprintf(path, sizeof path, "%s/node/daemon/control.h", LERNET_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    out[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        const char *c = strstr(line, "{\"cmd\":\"");
        if (c)
            snprintf(out + strlen(out), len - strlen(out), "%s%.*s", out[0] ? ", " : "",
                     (int)strcspn(c + 8, "\""), c + 8);
    }
    fclose(f);
}

/* "publish(network, payload), peers" -> "publish, peers" */
static void names_only(char *s)
{
    char *w = s;
    for (int depth = 0; *s; s++) {
        depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
        if (depth == 0 && *s != ')')
            *w++ = *s;
    }
    *w = '\0';
}

static void test_control_commands_listed_as_documented(void **state)
{
    (void)state;
    hnode_t A;
    char documented[512], listed[512];
    assert_int_equal(h_node_init(&A, "Lärcentrum Tierp", "SE", NET), 0);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_start(&A), 0);
    json_t *r = h_control(&A, "frobnicate");
    assert_non_null(r);
    assert_true(json_is_false(json_object_get(r, "ok")));
    const char *err = json_string_value(json_object_get(r, "error"));
    assert_non_null(err);
    assert_non_null(strstr(err, "unknown command 'frobnicate'"));
    const char *list = strstr(err, "the commands: ");
    assert_non_null(list);
    snprintf(listed, sizeof listed, "%s", list + strlen("the commands: "));
    names_only(listed);
    documented_commands(documented, sizeof documented);
    assert_string_equal(listed, documented);
    assert_non_null(strstr(listed, "reload-signer"));
    json_decref(r);
    /* every listed command is served (none answers "unknown") */
    for (char *name = strtok(listed, ", "); name; name = strtok(NULL, ", ")) {
        r = h_control(&A, name);
        assert_non_null(r);
        const char *e = json_string_value(json_object_get(r, "error"));
        assert_true(!e || !strstr(e, "unknown command"));
        json_decref(r);
    }
    h_node_free(&A);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_secret_in_logs_store_or_backup),
        cmocka_unit_test(test_control_socket_is_private),
        cmocka_unit_test(test_control_commands_listed_as_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
