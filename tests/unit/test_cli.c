/*
 * test_cli: the operator CLI end to end, as a person would use it, in
 * temporary homes: init with an encrypted key, publish from flags and from
 * a JSON file, update, cancel, list, show, log, verify, rebuild, config
 * check, and the documented exit codes for each kind of failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/testutil.h"

static char *home;
static char errpath[600]; /* beside the home: init creates the home itself */

/* Runs lernet in the test home; stdout in *out (if out), stderr appended
 * to err.txt so that messages can be checked. */
static int L(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int L(char **out, const char *fmt, ...)
{
    char args[4096], cmd[5000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "LERNET_PASSPHRASE='korrekt häst batteri' '%s' --home '%s' %s 2>'%s'",
             LERNET_BIN, home, args, errpath);
    return tu_run(cmd, out);
}

static char *last_error(void)
{
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof cmd, "cat '%s'", errpath);
    tu_run(cmd, &out);
    return out;
}

static void assert_error_has(const char *needle)
{
    char *e = last_error();
    if (!strstr(e, needle))
        fprintf(stderr, "stderr was: %s\n", e);
    assert_non_null(strstr(e, needle));
    free(e);
}

static int setup(void **state)
{
    (void)state;
    char *parent = tu_tempdir(); /* init creates the home itself, 0700 */
    home = malloc(strlen(parent) + 8);
    sprintf(home, "%s/node", parent);
    snprintf(errpath, sizeof errpath, "%s/err.txt", parent);
    free(parent);
    return L(NULL, "init --name 'Lärcentrum Östhammar' --country SE --network malardalen-skills"
                   " --listen tcp://127.0.0.1:1");
}

static int teardown(void **state)
{
    (void)state;
    char *parent = strdup(home);
    *strrchr(parent, '/') = '\0';
    free(home);
    tu_rmtree(&parent);
    return 0;
}

static json_t *json_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *json_out(const char *fmt, ...)
{
    char *out = NULL, args[1024];
    json_error_t e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_int_equal(L(&out, "%s", args), 0);
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fprintf(stderr, "not JSON: %s\n", out);
    free(out);
    assert_non_null(j);
    return j;
}

static char *published_id(const char *out)
{
    const char *p = strchr(out, ' ');
    assert_non_null(p);
    return strndup(p + 1, 64);
}

static void test_init_and_keys(void **state)
{
    (void)state;
    char *out = NULL, path[600];
    struct stat st;
    assert_int_equal(L(&out, "keys show"), 0);
    assert_non_null(strstr(out, "public_key "));
    assert_non_null(strstr(out, "fingerprint "));
    free(out);
    snprintf(path, sizeof path, "%s/keys/identity.key", home);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s", home);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    /* a second init refuses to overwrite */
    assert_int_equal(L(NULL, "init"), 1);
    assert_error_has("already a node home");
    assert_int_equal(L(&out, "config check"), 0);
    assert_non_null(strstr(out, "ok"));
    free(out);
}

static void test_publish_list_show(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(L(&out, "publish workshop --title 'sv:Arbetsplatslärande i praktiken'"
                             " --title 'en:Workplace learning in practice'"
                             " --start 2027-02-09T09:00 --end 2027-02-09T15:00"
                             " --place 'Storgatan 1, Östhammar' --theme 'workplace learning'"
                             " --role teachers --capacity 30 --language sv"),
                     0);
    char *ws = published_id(out);
    free(out);
    assert_int_equal(L(&out, "publish meeting --title 'sv:Nätverksmöte'"
                             " --start 2027-02-16T13:00 --end 2027-02-16T15:00"
                             " --online-url https://meet.example.org/lc"),
                     0);
    free(out);
    assert_int_equal(L(&out, "publish experience --about %.10s --title 'en:What we learned'"
                             " --text 'en:Coaching at the workplace worked.'"
                             " --participants teachers=12 --participants 'company representatives=7'",
                       ws),
                     0);
    free(out);

    json_t *all = json_out("list --json");
    assert_int_equal(json_array_size(all), 3);
    json_decref(all);
    json_t *w = json_out("list workshops --json");
    assert_int_equal(json_array_size(w), 1);
    json_t *c = json_object_get(json_array_get(w, 0), "content");
    /* 09:00 in Stockholm in February is 08:00 UTC */
    assert_string_equal(json_string_value(json_object_get(c, "start")), "2027-02-09T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(c, "tz")), "Europe/Stockholm");
    assert_string_equal(json_string_value(json_object_get(c, "organiser")),
                        "Lärcentrum Östhammar");
    json_decref(w);

    json_t *shown = json_out("show %s --json", ws);
    assert_int_equal(json_array_size(json_object_get(shown, "experience_reports")), 1);
    json_decref(shown);
    assert_int_equal(L(&out, "show %.12s", ws), 0);
    assert_non_null(strstr(out, "Arbetsplatslärande i praktiken"));
    assert_non_null(strstr(out, "What we learned"));
    free(out);
    free(ws);
}

static void test_update_cancel(void **state)
{
    (void)state;
    char *out = NULL, *id;
    json_t *w = json_out("list workshops --json");
    id = strdup(json_string_value(json_object_get(json_array_get(w, 0), "id")));
    json_decref(w);
    assert_int_equal(L(&out, "update %.8s --capacity 45", id), 0);
    free(out);
    json_t *s = json_out("show %s --json", id);
    assert_int_equal(json_integer_value(json_object_get(s, "revision")), 1);
    json_t *c = json_object_get(s, "content");
    assert_int_equal(json_integer_value(json_object_get(c, "capacity")), 45);
    /* the English title survived an update that did not mention it */
    assert_non_null(json_object_get(json_object_get(c, "title"), "en"));
    json_decref(s);
    assert_int_equal(L(&out, "cancel %s --reason 'Inställd: snöstorm'", id), 0);
    free(out);
    s = json_out("show %s --json", id);
    assert_true(json_is_true(json_object_get(s, "cancelled")));
    assert_string_equal(json_string_value(json_object_get(s, "cancel_reason")),
                        "Inställd: snöstorm");
    assert_int_equal(json_integer_value(json_object_get(s, "revision")), 2);
    json_decref(s);
    assert_int_equal(L(&out, "list --upcoming"), 0);
    assert_non_null(strstr(out, "[CANCELLED]"));
    free(out);
    free(id);
}

/* The meeting of test_publish_list_show (13:00 in Stockholm) gets minutes
 * by an update: every reader must still take it for a meeting (an update's
 * content is a oneof, and reading it as a workshop too crashed `show`), and
 * plain `list` must show it in its own zone, not in UTC. */
static void test_update_meeting(void **state)
{
    (void)state;
    char *out = NULL, *id;
    json_t *m = json_out("list meetings --json");
    id = strdup(json_string_value(json_object_get(json_array_get(m, 0), "id")));
    json_decref(m);
    assert_int_equal(L(&out, "update %.8s --minutes 'sv:Protokoll: alla närvarande'", id), 0);
    free(out);
    assert_int_equal(L(&out, "list meetings"), 0);
    if (!strstr(out, "2027-02-16 13:00"))
        fprintf(stderr, "list shows:\n%s", out);
    assert_non_null(strstr(out, "2027-02-16 13:00"));
    free(out);
    assert_int_equal(L(&out, "show %.12s", id), 0);
    assert_non_null(strstr(out, "Protokoll: alla närvarande"));
    free(out);
    json_t *s = json_out("show %s --json", id);
    assert_string_equal(json_string_value(json_object_get(s, "kind")), "meeting");
    json_t *c = json_object_get(s, "content");
    assert_string_equal(json_string_value(json_object_get(c, "tz")), "Europe/Stockholm");
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "minutes"), "sv")),
                        "Protokoll: alla närvarande");
    assert_null(json_object_get(c, "capacity")); /* nothing of a workshop */
    json_decref(s);
    free(id);
}

static void test_publish_json_file(void **state)
{
    (void)state;
    char path[600], *out = NULL;
    snprintf(path, sizeof path, "%s/../ws.json", home);
    FILE *f = fopen(path, "w");
    fputs("{\"title\": {\"de\": \"Lernwerkstatt: Auftakt\", \"en\": \"Kick-off\"},"
          " \"start\": \"2027-03-10T10:00\", \"end\": \"2027-03-10T16:00\","
          " \"tz\": \"Europe/Berlin\", \"place\": \"Bielefeld\", \"organiser\": \"OWL\"}",
          f);
    fclose(f);
    assert_int_equal(L(&out, "publish workshop --json '%s'", path), 0);
    assert_non_null(strstr(out, "published"));
    free(out);
    /* the same file with an unknown key is refused, naming it */
    f = fopen(path, "w");
    fputs("{\"title\": {\"de\": \"X\"}, \"colour\": \"red\"}", f);
    fclose(f);
    assert_int_equal(L(NULL, "publish workshop --json '%s'", path), 1);
    assert_error_has("colour");
}

static void test_refusals(void **state)
{
    (void)state;
    /* a bad field: one line naming it, nothing stored */
    json_t *before = json_out("list --json");
    assert_int_equal(L(NULL, "publish workshop --title 'sv:Fel' --start 2027-02-09T09:00"
                             " --end 2027-02-09T08:00 --place X"),
                     1);
    assert_error_has("'end'");
    assert_int_equal(L(NULL, "publish workshop --title 'Saknar språk' --start 2027-02-09T09:00"
                             " --end 2027-02-09T10:00 --place X"),
                     2);
    assert_error_has("LANG:TEXT");
    assert_int_equal(L(NULL, "publish workshop --title 'sv:Sommartid' --start 2027-03-28T02:30"
                             " --end 2027-03-28T04:00 --place X"),
                     1);
    assert_error_has("does not exist");
    assert_int_equal(L(NULL, "publish meeting --title 'sv:Fel nät' --network mars"
                             " --start 2027-02-09T09:00 --end 2027-02-09T10:00 --place X"),
                     1);
    assert_error_has("does not take part");
    json_t *after = json_out("list --json");
    assert_int_equal(json_array_size(after), json_array_size(before));
    json_decref(before);
    json_decref(after);
    /* usage, unknown ids, no home */
    assert_int_equal(L(NULL, "frobnicate"), 2);
    assert_int_equal(L(NULL, "show 0000000000"), 1);
    assert_error_has("no ");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s' --home '%s/nowhere' list 2>/dev/null", LERNET_BIN, home);
    assert_int_equal(tu_run(cmd, NULL), 4);
}

static void test_key_file_problems(void **state)
{
    (void)state;
    char cmd[800];
    /* publishing signs with the certified signing key: no passphrase asked */
    json_t *w = json_out("list workshops --json");
    const char *id = json_string_value(json_object_get(json_array_get(w, 0), "id"));
    snprintf(cmd, sizeof cmd,
             "LERNET_PASSPHRASE=fel '%s' --home '%s' update %.10s --capacity 5 2>/dev/null",
             LERNET_BIN, home, id);
    assert_int_equal(tu_run(cmd, NULL), 0);
    /* the identity key (rotation) needs it: a wrong one is refused */
    snprintf(cmd, sizeof cmd, "LERNET_PASSPHRASE=fel '%s' --home '%s' keys rotate 2>/dev/null",
             LERNET_BIN, home);
    assert_int_equal(tu_run(cmd, NULL), 5);
    /* key files readable by others are refused */
    static const char *files[] = {"identity.key", "signing.key"};
    for (int i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/keys/%s", home, files[i]);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(L(NULL, i ? "update %.10s --capacity 6" : "keys rotate", id), 5);
        assert_error_has("chmod 600");
        assert_int_equal(chmod(path, 0600), 0);
    }
    assert_int_equal(L(NULL, "update %.10s --capacity 7", id), 0);
    json_decref(w);
}

static void test_log_verify_tamper_rebuild(void **state)
{
    (void)state;
    char *out = NULL, cmd[800];
    assert_int_equal(L(&out, "log --json"), 0);
    json_error_t e;
    json_t *first = json_loadb(out, strcspn(out, "\n"), 0, &e);
    assert_non_null(first);
    assert_non_null(json_string_value(json_object_get(first, "header")));
    assert_non_null(json_string_value(json_object_get(first, "signature")));
    assert_non_null(json_string_value(json_object_get(first, "payload")));
    /* every field docs/protocol.md ("Checking events yourself") lists, no other */
    static const char *fields[] = {"id", "author", "network", "seq", "kind", "created_ms",
                                   "fork", "withdrawn", "received_ms", "header", "signature",
                                   "payload", "salt"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_non_null(json_object_get(first, fields[i]));
    assert_int_equal(json_object_size(first), sizeof fields / sizeof fields[0]);
    json_decref(first);
    free(out);
    assert_int_equal(L(&out, "verify"), 0);
    assert_non_null(strstr(out, "verify: ok"));
    free(out);
    assert_int_equal(L(&out, "store rebuild"), 0);
    free(out);
    assert_int_equal(L(NULL, "verify"), 0);
    /* alter a derived row: verify sees it, rebuild mends it */
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/store.db' 'UPDATE items SET start = start + 60'",
             home);
    assert_int_equal(tu_run(cmd, NULL), 0);
    assert_int_equal(L(&out, "verify"), 3);
    assert_non_null(strstr(out, "derived tables differ"));
    free(out);
    assert_int_equal(L(NULL, "store rebuild"), 0);
    assert_int_equal(L(NULL, "verify"), 0);
    /* alter a column `log --json` prints from the store (issue 16 item 5:
     * created_ms and author were not compared with the header) */
    static const char *alter[] = {"UPDATE events SET created_ms = created_ms + 1",
                                  "UPDATE events SET author = (SELECT max(id) + 1 FROM authors)"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd,
                 "sqlite3 '%s/store.db' 'CREATE TABLE kept AS SELECT * FROM events WHERE rowid = 1;"
                 " %s WHERE rowid = 1'", home, alter[i]);
        assert_int_equal(tu_run(cmd, NULL), 0);
        assert_int_equal(L(&out, "verify"), 3);
        assert_non_null(strstr(out, "stored columns disagree with its signed header"));
        free(out);
        snprintf(cmd, sizeof cmd,
                 "sqlite3 '%s/store.db' 'UPDATE events SET author = (SELECT author FROM kept),"
                 " created_ms = (SELECT created_ms FROM kept) WHERE rowid = 1; DROP TABLE kept'",
                 home);
        assert_int_equal(tu_run(cmd, NULL), 0);
        assert_int_equal(L(NULL, "verify"), 0);
    }
    /* alter one byte of a signed payload: verify names the event. The
     * byte is part of a random key, so it is flipped, not set: set to a
     * fixed value it would be unchanged in one run out of 256. */
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s/store.db' \"UPDATE events SET payload = substr(payload, 1, 10) || "
             "CASE substr(payload, 11, 1) WHEN X'7A' THEN X'7B' ELSE X'7A' END || "
             "substr(payload, 12) WHERE rowid = 1\"",
             home);
    assert_int_equal(tu_run(cmd, NULL), 0);
    assert_int_equal(L(&out, "verify"), 3);
    assert_non_null(strstr(out, "payload_hash_mismatch"));
    free(out);
}

/* Every command group dispatches from its table and prints its usage from
 * it: --help lists each subcommand on stdout, in place of the subcommand
 * or after it; an unknown subcommand or arguments that do not fit are a
 * usage error (exit 2) that names the problem and shows the usage. */
static void test_subcommand_tables(void **state)
{
    (void)state;
    static const struct {
        const char *group, *subs;
    } groups[] = {
        {"keys", "show list rotate profile revoke revoke-identity export import"},
        {"network", "create invite join members remove"},
        {"export", "ical json csv xapi bundle"},
        {"import", "bundle"},
        {"store", "rebuild"},
        {"config", "check"},
    };
    char *out = NULL, subs[128], line[160];
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        assert_int_equal(L(&out, "%s --help", groups[g].group), 0);
        snprintf(line, sizeof line, "usage: lernet %s ", groups[g].group);
        assert_non_null(strstr(out, line));
        snprintf(subs, sizeof subs, "%s", groups[g].subs);
        for (char *sub = strtok(subs, " "); sub; sub = strtok(NULL, " ")) {
            snprintf(line, sizeof line, "\n%s ", sub); /* its summary line */
            if (!strstr(out, line))
                fprintf(stderr, "%s --help lacks %s:\n%s", groups[g].group, sub, out);
            assert_non_null(strstr(out, line));
        }
        free(out);
        assert_int_equal(L(NULL, "%s frobnicate", groups[g].group), 2);
        snprintf(line, sizeof line, "%s: no subcommand 'frobnicate'", groups[g].group);
        assert_error_has(line);
        assert_int_equal(L(NULL, "%s", groups[g].group), 2);
        assert_error_has("usage: lernet ");
    }
    assert_int_equal(L(&out, "keys rotate --help"), 0);
    assert_non_null(strstr(out, "lernet keys rotate [--note TEXT]"));
    free(out);
    assert_int_equal(L(NULL, "keys show extra"), 2);
    assert_error_has("usage: lernet keys show|list [--json]");
    assert_int_equal(L(NULL, "keys revoke KEY --frob"), 2);
    assert_error_has("keys revoke: unexpected '--frob'");
    assert_int_equal(L(NULL, "network members malardalen-skills --xml"), 2);
    assert_error_has("lernet network members NETWORK [--json]");
    assert_int_equal(L(NULL, "export ical --from tomorrow"), 2);
    assert_error_has("export: '--from tomorrow' is not understood");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_keys),
        cmocka_unit_test(test_publish_list_show),
        cmocka_unit_test(test_update_cancel),
        cmocka_unit_test(test_update_meeting),
        cmocka_unit_test(test_publish_json_file),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_key_file_problems),
        cmocka_unit_test(test_log_verify_tamper_rebuild),
        cmocka_unit_test(test_subcommand_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
