/*
 * test_home: what `lernet init` leaves on disk and what the daemon keeps
 * to itself. A home made in an existing 0755 directory ends up 0700 with
 * every file 0600 (the public keys 0644), whatever the umask; a non-empty
 * directory others can enter is refused with a one-line error and nothing
 * written. `init --network A --network B` keeps both, A the default. The
 * daemon cannot dump core (the transport key is in its memory): its core
 * limit is 0 and a SIGABRT leaves no core; SQLite's -wal and -shm files are
 * 0600 while it runs. Publishing into a managed network where this node is
 * not (yet) a member says so, from the CLI with and without a daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

static char *parent;
static char errpath[700];

static int setup(void **state)
{
    (void)state;
    parent = tu_tempdir();
    snprintf(errpath, sizeof errpath, "%s/err.txt", parent);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(&parent);
    return 0;
}

/* lernet --home HOME ARGS with stderr in errpath (outside the home, which
 * must stay as init leaves it). */
static int L(const char *home, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int L(const char *home, char **out, const char *fmt, ...)
{
    char args[2048], cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' %s 2>'%s'", LERNET_BIN, home, args, errpath);
    return tu_run(cmd, out);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void assert_stderr_has(const char *needle)
{
    char *e = slurp(errpath);
    if (!strstr(e, needle))
        fprintf(stderr, "stderr was: %s\n", e);
    assert_non_null(strstr(e, needle));
    free(e);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Every entry under dir: directories 0700, *.pub 0644, the rest 0600. */
static int check_tree(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        char path[1200];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(lstat(path, &st), 0);
        size_t len = strlen(e->d_name);
        mode_t want = S_ISDIR(st.st_mode) ? 0700
                      : len > 4 && strcmp(e->d_name + len - 4, ".pub") == 0 ? 0644
                                                                            : 0600;
        if ((st.st_mode & 07777) != want)
            fprintf(stderr, "%s: mode %04o, want %04o\n", path, st.st_mode & 07777, want);
        assert_int_equal(st.st_mode & 07777, want);
        n++;
        if (S_ISDIR(st.st_mode))
            n += check_tree(path);
    }
    closedir(d);
    return n;
}

/* ---- init --------------------------------------------------------------- */

static void test_init_into_open_directory(void **state)
{
    (void)state;
    char home[800], path[900];
    snprintf(home, sizeof home, "%s/lernet", parent);
    /* an installer's directory, and an operator's permissive umask */
    assert_int_equal(mkdir(home, 0755), 0);
    assert_int_equal(chmod(home, 0755), 0);
    mode_t old = umask(0);
    int rc = L(home, NULL, "init --no-passphrase --name 'Lärcentrum Östhammar' --country SE "
                           "--network " NET);
    umask(old);
    assert_int_equal(rc, 0);
    assert_int_equal(mode_of(home), 0700);
    snprintf(path, sizeof path, "%s/store.db", home);
    assert_int_equal(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/lernet.ini", home);
    assert_int_equal(mode_of(path), 0600);
    /* lernet.ini, store.db, keys/ and its key files, revocation statement */
    assert_true(check_tree(home) >= 9);
}

static void test_init_refuses_open_nonempty_directory(void **state)
{
    (void)state;
    char home[800], path[900];
    snprintf(home, sizeof home, "%s/shared", parent);
    assert_int_equal(mkdir(home, 0755), 0);
    assert_int_equal(chmod(home, 0755), 0);
    snprintf(path, sizeof path, "%s/notes.txt", home);
    FILE *f = fopen(path, "w");
    fputs("someone's notes\n", f);
    fclose(f);
    assert_int_equal(L(home, NULL, "init --no-passphrase --network " NET), 1);
    assert_stderr_has("mode 0755 and not empty; a node home must be 0700 (chmod 700");
    char *e = slurp(errpath);
    assert_int_equal(strchr(e, '\n') - e, (long)strlen(e) - 1); /* one line */
    free(e);
    assert_int_equal(mode_of(home), 0755); /* not the node's to change */
    snprintf(path, sizeof path, "%s/lernet.ini", home);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/keys", home);
    assert_int_not_equal(access(path, F_OK), 0);
    /* once the operator has made it private, init goes ahead */
    assert_int_equal(chmod(home, 0700), 0);
    assert_int_equal(L(home, NULL, "init --no-passphrase --network " NET), 0);
}

static void test_init_several_networks(void **state)
{
    (void)state;
    char home[800], path[900], why[512] = "", *out = NULL;
    config_t *c = NULL;
    snprintf(home, sizeof home, "%s/multi", parent);
    assert_int_equal(L(home, NULL, "init --no-passphrase --name 'Roskilde Handelsskole' "
                                   "--country DK --network " NET " --network sjaelland-erhverv "
                                   "--network oresund-vet"),
                     0);
    snprintf(path, sizeof path, "%s/lernet.ini", home);
    assert_int_equal(config_load(&c, path, why, sizeof why), CONFIG_OK);
    assert_int_equal(c->n_networks, 3);
    assert_string_equal(c->networks[0], NET);
    assert_string_equal(c->networks[1], "sjaelland-erhverv");
    assert_string_equal(c->networks[2], "oresund-vet");
    assert_string_equal(c->default_network, NET); /* the first one given */
    config_free(&c);
    assert_int_equal(L(home, &out, "config check"), 0);
    assert_non_null(strstr(out, "3 networks"));
    free(out);
    /* the same network twice is a usage error, and nothing is written */
    snprintf(home, sizeof home, "%s/twice", parent);
    assert_int_equal(L(home, NULL, "init --no-passphrase --network " NET " --network " NET), 2);
    assert_stderr_has("--network: '" NET "' given twice");
    assert_int_not_equal(access(home, F_OK), 0);
}

/* ---- the daemon ---------------------------------------------------------- */

static int limits_core_zero(pid_t pid)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
    text = slurp(path);
    const char *line = strstr(text, "Max core file size");
    unsigned long long soft = 1, hard = 1;
    int ok = line && sscanf(line + strlen("Max core file size"), " %llu %llu", &soft, &hard) == 2 &&
             soft == 0 && hard == 0;
    if (!ok)
        fprintf(stderr, "daemon limits: %.200s\n", line ? line : text);
    free(text);
    return ok;
}

static void test_daemon_cannot_dump_core(void **state)
{
    (void)state;
    hnode_t A;
    char cwd[1200], path[900];
    struct rlimit was, all = {RLIM_INFINITY, RLIM_INFINITY};
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", NET), 0);
    /* the daemon inherits a core limit that allows dumps, and a working
     * directory where a plain core_pattern would put the core */
    assert_int_equal(getrlimit(RLIMIT_CORE, &was), 0);
    int raised = setrlimit(RLIMIT_CORE, &all) == 0;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(A.home), 0);
    int rc = h_node_start(&A);
    assert_int_equal(chdir(cwd), 0);
    setrlimit(RLIMIT_CORE, &was);
    assert_int_equal(rc, 0);
    assert_true(limits_core_zero(A.pid));
    /* SQLite's files beside the store, open while the daemon runs */
    snprintf(path, sizeof path, "%s/store.db-wal", A.home);
    assert_int_equal(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/store.db-shm", A.home);
    assert_int_equal(mode_of(path), 0600);
    if (raised) { /* not dumpable: no core, whatever the limit or core_pattern */
        int status = 0;
        assert_int_equal(kill(A.pid, SIGABRT), 0);
        assert_int_equal(waitpid(A.pid, &status, 0), A.pid);
        A.pid = 0;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
        assert_false(WCOREDUMP(status));
    }
    h_node_free(&A);
}

/* ---- publishing where not (yet) a member --------------------------------- */

static void test_publish_not_member_says_so(void **state)
{
    (void)state;
    hnode_t N;
    keys_identity_t *coord = NULL;
    char pub[KEYS_PUB_STR_SIZE], path[900], *log = NULL;
    assert_int_equal(h_node_init(&N, "OWL Lernregion", "DE", NET), 0);
    /* joined in the config (its coordinator trusted), admission not here yet */
    assert_int_equal(keys_generate(&coord), KEYS_OK);
    keys_pub_encode(pub, keys_public(coord));
    keys_free(&coord);
    snprintf(path, sizeof path, "%s/lernet.ini", N.home);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "\n[network \"%s\"]\ncoordinators = %s\n", NET, pub);
    fclose(f);
    assert_int_equal(h_publish_workshop(&N, "Lernwerkstatt Auftakt", NET), 1);
    snprintf(path, sizeof path, "%s/cli.log", N.home);
    log = slurp(path);
    if (!strstr(log, "is not a member of " NET))
        fprintf(stderr, "cli.log: %s\n", log);
    assert_non_null(strstr(log, "is not a member of " NET));
    assert_null(strstr(log, "duplicate"));
    free(log);
    /* the same through a running daemon's control socket */
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(h_node_start(&N), 0);
    assert_int_equal(h_publish_workshop(&N, "Lernwerkstatt Auftakt", NET), 1);
    log = slurp(path);
    assert_non_null(strstr(log, "is not a member of " NET));
    assert_null(strstr(log, "duplicate"));
    free(log);
    assert_int_equal(h_count_items(&N), 0);
    h_node_free(&N);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_into_open_directory),
        cmocka_unit_test(test_init_refuses_open_nonempty_directory),
        cmocka_unit_test(test_init_several_networks),
        cmocka_unit_test(test_daemon_cannot_dump_core),
        cmocka_unit_test(test_publish_not_member_says_so),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
