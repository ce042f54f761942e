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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    assert_int_equal(attach_import(dir, src, hash, &size, why, sizeof why), ATTACH_OK);
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
    assert_int_equal(attach_import(dir, src, hash, &size, why, sizeof why), ATTACH_OK);
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
    assert_int_equal(attach_import(dir, path, hash, &size, why, sizeof why), ATTACH_ERR_SIZE);
    assert_non_null(strstr(why, "25 MiB"));
    assert_int_equal(attach_hash_file(dir, hash, &size, why, sizeof why), ATTACH_ERR_IO);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(attach_hash_file(path, hash, &size, why, sizeof why), ATTACH_ERR_ABSENT);
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

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_open_export),
        cmocka_unit_test(test_sizes_refused),
        cmocka_unit_test(test_media_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
