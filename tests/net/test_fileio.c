/*
 * test_fileio: the one atomic writer (node/fileio.c) and the writers that
 * go through it. In a directory others can write to (a shared export
 * folder), symlinks planted at the names the old writers used (FILE.partial,
 * FILE.tmp, FILE.new) and at FILE itself are never followed, files already
 * at those names are neither overwritten nor removed, modes are what the
 * caller asked for whatever the umask, an existing file is kept with
 * FILEIO_NOREPLACE, and nothing is at the path until the whole file is.
 * Then the same through `lernet export bundle` and `lernet export ical
 * --out`, whose old code wrote through a planted FILE.partial or FILE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "harness/harness.h"
#include "harness/testutil.h"

#define VICTIM_TEXT "the other user's file\n"

typedef struct fx {
    char *dir;        /* the shared directory */
    char victim[600]; /* a file elsewhere that a planted symlink points to */
    char *victim_dir;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->victim_dir = tu_tempdir();
    snprintf(f->victim, sizeof f->victim, "%s/victim", f->victim_dir);
    FILE *fp = fopen(f->victim, "w");
    fputs(VICTIM_TEXT, fp);
    fclose(fp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    tu_rmtree(&f->dir);
    tu_rmtree(&f->victim_dir);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void assert_content(const char *path, const char *want)
{
    char *got = slurp(path);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void assert_victim_untouched(const fx_t *f)
{
    assert_content(f->victim, VICTIM_TEXT);
}

static void join(char out[700], const char *dir, const char *name)
{
    snprintf(out, 700, "%s/%s", dir, name);
}

/* Symlinks at target.partial, target.tmp and target.new, to the victim. */
static void plant_links(const fx_t *f, const char *target)
{
    static const char *const ext[] = {".partial", ".tmp", ".new"};
    char p[700];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", target, ext[i]);
        assert_int_equal(symlink(f->victim, p), 0);
    }
}

static void assert_links_still_there(const fx_t *f, const char *target)
{
    static const char *const ext[] = {".partial", ".tmp", ".new"};
    char p[700], to[700];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", target, ext[i]);
        ssize_t n = readlink(p, to, sizeof to - 1);
        assert_true(n > 0);
        to[n] = '\0';
        assert_string_equal(to, f->victim);
    }
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    return st.st_mode & 07777;
}

/* ---- the writer ------------------------------------------------------- */

static void test_planted_links_not_followed(void **state)
{
    fx_t *f = *state;
    char target[700], why[512] = "";
    join(target, f->dir, "calendar.ics");
    plant_links(f, target);
    assert_int_equal(symlink(f->victim, target), 0); /* and at the target itself */
    assert_int_equal(fileio_write_atomic(target, "BEGIN:VCALENDAR\n", 16, 0644, 0, why,
                                         sizeof why),
                     FILEIO_OK);
    assert_victim_untouched(f);
    assert_links_still_there(f, target);
    assert_int_equal(mode_of(target), 0644); /* a regular file replaced the link */
    assert_content(target, "BEGIN:VCALENDAR\n");
    assert_int_equal(entries(f->dir), 4); /* no temporary file left */
}

static void test_files_at_old_names_kept(void **state)
{
    fx_t *f = *state;
    char target[700], old[700], why[512] = "";
    join(target, f->dir, "export.json");
    static const char *const ext[] = {".partial", ".tmp", ".new"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(old, sizeof old, "%s%s", target, ext[i]);
        FILE *fp = fopen(old, "w");
        fputs("someone's file\n", fp);
        fclose(fp);
    }
    assert_int_equal(fileio_write_atomic(target, "[]\n", 3, 0600, 0, why, sizeof why), FILEIO_OK);
    for (size_t i = 0; i < 3; i++) {
        snprintf(old, sizeof old, "%s%s", target, ext[i]);
        assert_content(old, "someone's file\n");
    }
    assert_content(target, "[]\n");
    assert_int_equal(entries(f->dir), 4);
}

static void test_modes_whatever_the_umask(void **state)
{
    fx_t *f = *state;
    char a[700], b[700], c[700], why[512] = "";
    join(a, f->dir, "key");
    join(b, f->dir, "pub");
    join(c, f->dir, "feed");
    mode_t old = umask(0);
    assert_int_equal(fileio_write_atomic(a, "s", 1, 0600, 0, why, sizeof why), FILEIO_OK);
    umask(0077);
    assert_int_equal(fileio_write_atomic(b, "p", 1, 0644, 0, why, sizeof why), FILEIO_OK);
    /* a file for people to read: the umask narrows it, as for any new file */
    assert_int_equal(fileio_write_atomic(c, "f", 1, 0644, FILEIO_UMASK, why, sizeof why),
                     FILEIO_OK);
    umask(old);
    assert_int_equal(mode_of(a), 0600);
    assert_int_equal(mode_of(b), 0644);
    assert_int_equal(mode_of(c), 0600);
    /* replacing an existing file gives the new mode, not the old one's */
    assert_int_equal(chmod(a, 0666), 0);
    assert_int_equal(fileio_write_atomic(a, "t", 1, 0600, 0, why, sizeof why), FILEIO_OK);
    assert_int_equal(mode_of(a), 0600);
}

static void test_noreplace(void **state)
{
    fx_t *f = *state;
    char target[700], dangling[700], why[512] = "";
    join(target, f->dir, "identity.key");
    assert_int_equal(fileio_write_atomic(target, "first", 5, 0600, FILEIO_NOREPLACE, why,
                                         sizeof why),
                     FILEIO_OK);
    assert_int_equal(fileio_write_atomic(target, "second", 6, 0600, FILEIO_NOREPLACE, why,
                                         sizeof why),
                     FILEIO_ERR_EXISTS);
    assert_non_null(strstr(why, "identity.key already exists"));
    assert_content(target, "first");
    /* a dangling symlink counts as existing, and is not written through */
    join(dangling, f->dir, "signing.key");
    char nowhere[700];
    join(nowhere, f->victim_dir, "created-through-link");
    assert_int_equal(symlink(nowhere, dangling), 0);
    assert_int_equal(fileio_write_atomic(dangling, "x", 1, 0600, FILEIO_NOREPLACE, why,
                                         sizeof why),
                     FILEIO_ERR_EXISTS);
    assert_int_not_equal(access(nowhere, F_OK), 0);
    assert_int_equal(entries(f->dir), 2);
}

static void test_stream_commit_and_abort(void **state)
{
    fx_t *f = *state;
    char target[700], why[512] = "";
    fileio_t *w = NULL;
    join(target, f->dir, "a.bundle");
    assert_int_equal(fileio_open(&w, target, 0644, 0, why, sizeof why), FILEIO_OK);
    fputs("lernet-bundle 1\n", fileio_stream(w));
    assert_int_not_equal(access(target, F_OK), 0); /* nothing at the path until the commit */
    assert_int_equal(fileio_commit(&w, why, sizeof why), FILEIO_OK);
    assert_null(w);
    assert_content(target, "lernet-bundle 1\n");
    /* an aborted rewrite leaves the old file and no temporary one */
    assert_int_equal(fileio_open(&w, target, 0644, 0, why, sizeof why), FILEIO_OK);
    fputs("half a bund", fileio_stream(w));
    fileio_abort(&w);
    assert_null(w);
    fileio_abort(&w); /* harmless twice */
    assert_content(target, "lernet-bundle 1\n");
    assert_int_equal(entries(f->dir), 1);
}

static void test_errors_name_the_path(void **state)
{
    fx_t *f = *state;
    char target[700], why[512] = "";
    join(target, f->dir, "no-such-dir/out.ics");
    assert_int_equal(fileio_write_atomic(target, "x", 1, 0644, 0, why, sizeof why), FILEIO_ERR_IO);
    assert_non_null(strstr(why, "no-such-dir"));
    assert_null(strchr(why, '\n'));
    /* a directory at the target: the rename fails, the directory stays */
    join(target, f->dir, "sub");
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(fileio_write_atomic(target, "x", 1, 0644, 0, why, sizeof why), FILEIO_ERR_IO);
    assert_non_null(strstr(why, "sub"));
    assert_int_equal(entries(f->dir), 1);
    join(target, f->dir, "trailing/");
    assert_int_equal(fileio_write_atomic(target, "x", 1, 0644, 0, why, sizeof why), FILEIO_ERR_IO);
}

/* ---- the commands that write files ------------------------------------ */

static void test_export_bundle_and_ical(void **state)
{
    fx_t *f = *state;
    hnode_t A;
    char target[700], *out = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", "nordic-wbl"), 0);
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", "nordic-wbl"), 0);

    /* the old bundle writer opened FILE.partial with fopen "wb" */
    join(target, f->dir, "to-tierp.bundle");
    plant_links(f, target);
    assert_int_equal(h_lernet(&A, &out, "export bundle '%s'", target), 0);
    free(out);
    assert_victim_untouched(f);
    assert_links_still_there(f, target);
    char *b = slurp(target);
    assert_non_null(b);
    assert_int_equal(strncmp(b, "lernet-bundle 1\n", 16), 0);
    free(b);
    assert_int_equal(mode_of(target), 0644 & ~(mode_t)022);

    /* the old export writer opened FILE itself with fopen "wb" */
    join(target, f->dir, "nordic-wbl.ics");
    assert_int_equal(symlink(f->victim, target), 0);
    assert_int_equal(h_lernet(&A, NULL, "export ical --out '%s'", target), 0);
    assert_victim_untouched(f);
    b = slurp(target);
    assert_non_null(strstr(b, "BEGIN:VCALENDAR"));
    free(b);
    assert_int_equal(mode_of(target) & 0600, 0600);
    assert_int_equal(entries(f->dir), 5); /* bundle, its three planted links, the feed */
    h_node_free(&A);
}

int main(void)
{
    umask(022); /* the modes asserted for exports assume the usual umask */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_planted_links_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_at_old_names_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes_whatever_the_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noreplace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_commit_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_bundle_and_ical, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
