/*
 * test_attach: attached files beside the log (store/attach.c): hashing in
 * chunks, the copy into the node home, the checks before a file is handed
 * on, the media-type table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/testutil.h"
#include "store/attach.h"

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void test_import_open_export(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), src[600], dst[600], held[700], why[512] = "";
    static unsigned char buf[200000], back[200000];
    uint8_t hash[EVENT_HASH_BYTES], want[EVENT_HASH_BYTES];
    uint64_t size = 0;
    int fd = -1;
    randombytes_buf(buf, sizeof buf);
    crypto_generichash(want, sizeof want, buf, sizeof buf, NULL, 0);
    snprintf(src, sizeof src, "%s/Metodbok.pdf", dir);
    write_file(src, buf, sizeof buf);

    assert_false(attach_present(dir, want, sizeof buf));
    assert_int_equal(attach_open(dir, want, sizeof buf, &fd, why, sizeof why), ATTACH_ERR_ABSENT);
    assert_int_equal(attach_import(dir, src, hash, &size, NULL, why, sizeof why), ATTACH_OK);
    assert_memory_equal(hash, want, sizeof want);
    assert_int_equal(size, sizeof buf);
    assert_true(attach_present(dir, want, sizeof buf));
    assert_false(attach_present(dir, want, sizeof buf - 1)); /* the listed size counts */

    snprintf(dst, sizeof dst, "%s/out.pdf", dir);
    assert_int_equal(attach_export(dir, want, sizeof buf, dst, why, sizeof why), ATTACH_OK);
    FILE *f = fopen(dst, "rb");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof back, f), sizeof buf);
    fclose(f);
    assert_memory_equal(back, buf, sizeof buf);

    /* a damaged copy in the home (same size) is caught, and a new import repairs it */
    assert_int_equal(attach_path(held, sizeof held, dir, want), 0);
    buf[1000] ^= 1;
    write_file(held, buf, sizeof buf);
    buf[1000] ^= 1;
    assert_int_equal(attach_open(dir, want, sizeof buf, &fd, why, sizeof why),
                     ATTACH_ERR_DAMAGED);
    assert_non_null(strstr(why, "do not match the signed hash"));
    assert_int_equal(attach_export(dir, want, sizeof buf, dst, why, sizeof why),
                     ATTACH_ERR_DAMAGED);
    assert_int_equal(attach_import(dir, src, hash, &size, NULL, why, sizeof why), ATTACH_OK);
    assert_int_equal(attach_open(dir, want, sizeof buf, &fd, why, sizeof why), ATTACH_OK);
    close(fd);
    tu_rmtree(&dir);
}

static void test_sizes_refused(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[600], why[512] = "";
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size = 7;
    snprintf(path, sizeof path, "%s/empty.txt", dir);
    write_file(path, "", 0);
    assert_int_equal(attach_hash_file(path, hash, &size, why, sizeof why), ATTACH_ERR_SIZE);
    assert_non_null(strstr(why, "empty"));
    assert_int_equal(size, 7); /* out-parameters only on success */
    snprintf(path, sizeof path, "%s/big.mp4", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, EVENT_MAX_ATTACHMENT_SIZE + 1), 0);
    close(fd);
    assert_int_equal(attach_import(dir, path, hash, &size, NULL, why, sizeof why), ATTACH_ERR_SIZE);
    assert_non_null(strstr(why, "25 MiB"));
    assert_int_equal(attach_hash_file(dir, hash, &size, why, sizeof why), ATTACH_ERR_IO);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(attach_hash_file(path, hash, &size, why, sizeof why), ATTACH_ERR_ABSENT);
    tu_rmtree(&dir);
}

/* The attachment hash: one chunk, BLAKE2b-256 of the bytes; more, the
 * hash of the chunk hashes (256 KiB chunks, the last one short). The
 * vector of docs/test-vectors.md: 600,000 bytes, byte i = i mod 251. */
static void test_hash_tree(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[600], why[512] = "", hex[65];
    static unsigned char buf[600000];
    uint8_t leaves[3 * 32], want[32], hash[32], got[3 * 32];
    uint64_t size = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i % 251);
    crypto_generichash(leaves, 32, buf, ATTACH_CHUNK, NULL, 0);
    crypto_generichash(leaves + 32, 32, buf + ATTACH_CHUNK, ATTACH_CHUNK, NULL, 0);
    crypto_generichash(leaves + 64, 32, buf + 2 * ATTACH_CHUNK, sizeof buf - 2 * ATTACH_CHUNK,
                       NULL, 0);
    crypto_generichash(want, 32, leaves, sizeof leaves, NULL, 0);
    snprintf(path, sizeof path, "%s/three.bin", dir);
    write_file(path, buf, sizeof buf);
    assert_int_equal(attach_hash_file(path, hash, &size, why, sizeof why), ATTACH_OK);
    assert_memory_equal(hash, want, 32);
    assert_int_equal(attach_chunks(size), 3);
    attach_root(leaves, 3, got);
    assert_memory_equal(got, want, 32);
    sodium_bin2hex(hex, sizeof hex, hash, 32);
    assert_string_equal(hex, "319d0be237b2bc049070dd1a8b7883e5d508f0241ffc5149d9c944a1fd3eebb8");
    /* the leaves a node serves, checked against the hash */
    assert_int_equal(attach_import(dir, path, hash, &size, NULL, why, sizeof why), ATTACH_OK);
    assert_int_equal(attach_leaves(dir, hash, size, got, NULL, why, sizeof why), ATTACH_OK);
    assert_memory_equal(got, leaves, sizeof leaves);
    /* kept beside the file by the import; a damaged list is not believed:
     * they are made from the bytes again (and kept again) */
    char kept[700];
    snprintf(kept, sizeof kept, "%s/attachments/%s" ATTACH_LEAVES, dir, hex);
    struct stat kb;
    assert_int_equal(stat(kept, &kb), 0);
    assert_int_equal(kb.st_size, sizeof leaves + 40); /* and the file's stamp */
    static const uint8_t junk[3 * 32] = {1};
    write_file(kept, junk, sizeof junk);
    memset(got, 0, sizeof got);
    assert_int_equal(attach_leaves(dir, hash, size, got, NULL, why, sizeof why), ATTACH_OK);
    assert_memory_equal(got, leaves, sizeof leaves);
    /* a .part of one good chunk and a torn second keeps only the first */
    int fd = -1;
    uint32_t good = 9;
    snprintf(path, sizeof path, "%s/attachments/%s.part", dir, hex);
    write_file(path, buf, ATTACH_CHUNK + 100);
    assert_int_equal(attach_part_open(dir, hash, leaves, 3, size, &fd, &good, why, sizeof why),
                     ATTACH_OK);
    assert_int_equal(good, 1);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal(sb.st_size, ATTACH_CHUNK);
    close(fd);
    /* exactly one chunk: BLAKE2b-256 of the bytes, as for any smaller file */
    snprintf(path, sizeof path, "%s/one.bin", dir);
    write_file(path, buf, ATTACH_CHUNK);
    assert_int_equal(attach_hash_file(path, hash, &size, why, sizeof why), ATTACH_OK);
    assert_memory_equal(hash, leaves, 32);
    tu_rmtree(&dir);
}

/* The first tick of the file system's clock after ctime_ns: a write from
 * then on is sure to change a file's ctime. */
static void await_tick(const char *dir, int64_t ctime_ns)
{
    char probe[700];
    snprintf(probe, sizeof probe, "%s/tick", dir);
    for (int i = 0; i < 2000; i++) {
        struct stat sb;
        write_file(probe, "t", 1);
        assert_int_equal(stat(probe, &sb), 0);
        if ((int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec > ctime_ns)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the clock of %s did not move in 2 s", dir);
}

/* A server skips the check of a chunk only while the file is as it was
 * when its bytes were checked whole: an import, leaves made from the
 * bytes, a write in place, an older version's leaves without a stamp. */
static void test_checked_stamp(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[600], held[700], kept[720], why[512] = "";
    static unsigned char buf[3 * ATTACH_CHUNK], chunk[ATTACH_CHUNK];
    uint8_t hash[32], leaves[3 * 32];
    uint64_t size = 0;
    size_t len = 0;
    attach_stamp_t checked = {0}, now = {0}, none = {0};
    randombytes_buf(buf, sizeof buf);
    snprintf(path, sizeof path, "%s/Metodbeskrivning.pdf", dir);
    write_file(path, buf, sizeof buf);
    assert_int_equal(attach_import(dir, path, hash, &size, NULL, why, sizeof why), ATTACH_OK);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, hash, 32);
    snprintf(held, sizeof held, "%s/attachments/%s", dir, hex);
    snprintf(kept, sizeof kept, "%s" ATTACH_LEAVES, held);

    /* as imported: known, and the file as it is now */
    assert_int_equal(attach_leaves(dir, hash, size, leaves, &checked, why, sizeof why), ATTACH_OK);
    assert_int_equal(attach_read_chunk(dir, hash, size, 1, chunk, &len, &now), ATTACH_OK);
    assert_int_equal(len, ATTACH_CHUNK);
    assert_true(attach_stamp_same(&checked, &now));
    assert_false(attach_stamp_same(&none, &none)); /* not known is never the same */

    /* written in place (same size, same bytes even): not the file checked */
    await_tick(dir, checked.ctime_ns);
    int fd = open(held, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf + 5, 1, 5), 1);
    close(fd);
    assert_int_equal(attach_read_chunk(dir, hash, size, 0, chunk, &len, &now), ATTACH_OK);
    assert_false(attach_stamp_same(&checked, &now));
    /* still told by the kept stamp, after a restart too */
    attach_stamp_t again = {0};
    assert_int_equal(attach_leaves(dir, hash, size, leaves, &again, why, sizeof why), ATTACH_OK);
    assert_false(attach_stamp_same(&again, &now));

    /* an older version's list (leaves only): not known; made from the
     * bytes when the list is gone: known again, for the file as it is */
    write_file(kept, leaves, sizeof leaves);
    assert_int_equal(attach_leaves(dir, hash, size, leaves, &again, why, sizeof why), ATTACH_OK);
    assert_int_equal(again.ino, 0);
    assert_int_equal(unlink(kept), 0);
    assert_int_equal(attach_leaves(dir, hash, size, leaves, &again, why, sizeof why), ATTACH_OK);
    assert_true(attach_stamp_same(&again, &now));
    tu_rmtree(&dir);
}

static void test_media_types(void **state)
{
    (void)state;
    assert_string_equal(attach_media_type("a/b/Metodbok.PDF"), "application/pdf");
    assert_string_equal(attach_media_type("seminar.mp4"), "video/mp4");
    assert_string_equal(attach_media_type("README"), "application/octet-stream");
    assert_string_equal(attach_media_type("x.exe"), "application/octet-stream");
    assert_string_equal(attach_media_type("dir.pdf/file"), "application/octet-stream");
    assert_string_equal(attach_basename("/tmp/a/b.pdf"), "b.pdf");
    assert_string_equal(attach_basename("b.pdf"), "b.pdf");
}

static int listed_one(void *ctx, const uint8_t *hash)
{
    return memcmp(ctx, hash, EVENT_HASH_BYTES) == 0;
}

/* What no item lists goes at start; what is listed, young, or not ours stays. */
static void test_sweep(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[700], sub[600], hex[ATTACH_HEX_SIZE], hex2[ATTACH_HEX_SIZE];
    uint8_t keep[EVENT_HASH_BYTES], other[EVENT_HASH_BYTES];
    randombytes_buf(keep, sizeof keep);
    randombytes_buf(other, sizeof other);
    sodium_bin2hex(hex, sizeof hex, keep, sizeof keep);
    sodium_bin2hex(hex2, sizeof hex2, other, sizeof other);
    snprintf(sub, sizeof sub, "%s/attachments", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    const char *old[] = {hex,         "listed.part", hex2, "unlisted.part", "unlisted.leaves",
                         ".incoming.0123abcd.tmp", "notes.txt", "UPPER"};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        const char *name = old[i];
        char n[100];
        if (!strcmp(name, "listed.part"))
            snprintf(n, sizeof n, "%s.part", hex), name = n;
        else if (!strcmp(name, "unlisted.part"))
            snprintf(n, sizeof n, "%s.part", hex2), name = n;
        else if (!strcmp(name, "unlisted.leaves"))
            snprintf(n, sizeof n, "%s.leaves", hex2), name = n;
        else if (!strcmp(name, "UPPER")) { /* not a name the node gives: not ours */
            for (size_t k = 0; k <= strlen(hex2); k++)
                n[k] = (char)(hex2[k] >= 'a' && hex2[k] <= 'f' ? hex2[k] - 32 : hex2[k]);
            name = n;
        }
        snprintf(path, sizeof path, "%s/%s", sub, name);
        write_file(path, "x", 1);
        struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
        assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    }
    char young[700];
    uint8_t y[EVENT_HASH_BYTES];
    randombytes_buf(y, sizeof y);
    sodium_bin2hex(hex2, sizeof hex2, y, sizeof y);
    snprintf(young, sizeof young, "%s/%s", sub, hex2);
    write_file(young, "x", 1); /* a publish --attach under way: put in place, not yet signed */
    /* the unlisted file, its .part and .leaves, the temporary file */
    assert_int_equal(attach_sweep(dir, listed_one, keep, ATTACH_SWEEP_AGE_S), 4);
    snprintf(path, sizeof path, "%s/%s", sub, hex);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/%s.part", sub, hex);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/notes.txt", sub);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(access(young, F_OK), 0);
    snprintf(path, sizeof path, "%s/.incoming.0123abcd.tmp", sub);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(attach_sweep(dir, listed_one, keep, ATTACH_SWEEP_AGE_S), 0);
    tu_rmtree(&dir);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_open_export),
        cmocka_unit_test(test_sizes_refused),
        cmocka_unit_test(test_media_types),
        cmocka_unit_test(test_hash_tree),
        cmocka_unit_test(test_checked_stamp),
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
