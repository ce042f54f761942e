/*
 * attach: attached files beside the log (see attach.h). Every read is in
 * chunks of CHUNK bytes, so no file is ever held whole in memory.
 */
#include "store/attach.h"
#include "util/fileio.h"
#include "util/text.h"
#include "util/why.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

int attach_path(char *out, size_t len, const char *home, const uint8_t hash[EVENT_HASH_BYTES])
{
    char hex[ATTACH_HEX_SIZE];
    text_hex(hex, hash, EVENT_HASH_BYTES);
    int n = snprintf(out, len, "%s/" ATTACH_DIR "/%s", home, hex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int attach_present(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size)
{
    char path[PATH_MAX];
    struct stat sb;
    return attach_path(path, sizeof path, home, hash) == 0 && stat(path, &sb) == 0 &&
           S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == size;
}

/* Hashes what fd holds from where it is; copies it to out when out is set.
 * At most EVENT_MAX_ATTACHMENT_SIZE bytes, or ATTACH_ERR_SIZE. */
static int hash_fd(int fd, FILE *out, uint8_t hash[EVENT_HASH_BYTES], uint64_t *size,
                   const char *name, char *why, size_t whylen)
{
    static unsigned char buf[CHUNK]; /* the CLI and the daemon's loop: one caller at a time */
    crypto_generichash_state st;
    uint64_t total = 0;
    ssize_t n;
    crypto_generichash_init(&st, NULL, 0, EVENT_HASH_BYTES);
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        total += (uint64_t)n;
        if (total > EVENT_MAX_ATTACHMENT_SIZE)
            return why_fail(why, whylen, ATTACH_ERR_SIZE, "%s: larger than %d bytes (25 MiB)",
                            name, EVENT_MAX_ATTACHMENT_SIZE);
        crypto_generichash_update(&st, buf, (size_t)n);
        if (out && fwrite(buf, 1, (size_t)n, out) != (size_t)n)
            return why_fail(why, whylen, ATTACH_ERR_IO, "%s: cannot write its copy", name);
    }
    if (n < 0)
        return why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", name, strerror(errno));
    if (total == 0)
        return why_fail(why, whylen, ATTACH_ERR_SIZE, "%s: the file is empty", name);
    crypto_generichash_final(&st, hash, EVENT_HASH_BYTES);
    *size = total;
    return ATTACH_OK;
}

/* A regular file opened for reading, or why. */
static int open_regular(const char *path, int *fd, char *why, size_t whylen)
{
    struct stat sb;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return why_fail(why, whylen, errno == ENOENT ? ATTACH_ERR_ABSENT : ATTACH_ERR_IO,
                        "%s: %s", path, strerror(errno));
    if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(f);
        return why_fail(why, whylen, ATTACH_ERR_IO, "%s: not a regular file", path);
    }
    *fd = f;
    return ATTACH_OK;
}

int attach_hash_file(const char *path, uint8_t hash[EVENT_HASH_BYTES], uint64_t *size,
                     char *why, size_t whylen)
{
    int fd, rc = open_regular(path, &fd, why, whylen);
    if (rc)
        return rc;
    rc = hash_fd(fd, NULL, hash, size, path, why, whylen);
    close(fd);
    return rc;
}

static int make_dir(const char *home, char *why, size_t whylen)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/" ATTACH_DIR, home) >= (int)sizeof dir)
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", dir, strerror(errno));
    return ATTACH_OK;
}

int attach_import(const char *home, const char *src, uint8_t hash[EVENT_HASH_BYTES],
                  uint64_t *size, char *why, size_t whylen)
{
    uint8_t h[EVENT_HASH_BYTES], again[EVENT_HASH_BYTES];
    uint64_t n, n2;
    char dst[PATH_MAX];
    fileio_t *fio = NULL;
    int fd, rc;
    if ((rc = attach_hash_file(src, h, &n, why, whylen)) || (rc = make_dir(home, why, whylen)))
        return rc;
    if (attach_path(dst, sizeof dst, home, h) != 0)
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    int held = -1;
    if (attach_open(home, h, n, &held, NULL, 0) == ATTACH_OK)
        close(held); /* here already, and whole: nothing to copy */
    else {           /* absent, or damaged: the copy replaces it */
        if ((rc = open_regular(src, &fd, why, whylen)))
            return rc;
        if (fileio_open(&fio, dst, 0600, 0, why, whylen) != FILEIO_OK) {
            close(fd);
            return ATTACH_ERR_IO;
        }
        rc = hash_fd(fd, fileio_stream(fio), again, &n2, src, why, whylen);
        close(fd);
        if (rc == ATTACH_OK && (n2 != n || memcmp(again, h, sizeof h) != 0))
            rc = why_fail(why, whylen, ATTACH_ERR_DAMAGED,
                          "%s: the file changed while it was being copied; try again", src);
        if (rc) {
            fileio_abort(&fio);
            return rc;
        }
        if (fileio_commit(&fio, why, whylen) != FILEIO_OK)
            return ATTACH_ERR_IO;
    }
    memcpy(hash, h, sizeof h);
    *size = n;
    return ATTACH_OK;
}

int attach_open(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size, int *fd,
                char *why, size_t whylen)
{
    char path[PATH_MAX], hex[ATTACH_HEX_SIZE];
    uint8_t h[EVENT_HASH_BYTES];
    uint64_t n;
    int f, rc;
    text_hex(hex, hash, EVENT_HASH_BYTES);
    if (attach_path(path, sizeof path, home, hash) != 0)
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    if (!attach_present(home, hash, size))
        return why_fail(why, whylen, ATTACH_ERR_ABSENT, "%.16s…: not yet here", hex);
    if ((rc = open_regular(path, &f, why, whylen)))
        return rc;
    rc = hash_fd(f, NULL, h, &n, path, why, whylen);
    if (rc == ATTACH_OK && (n != size || sodium_memcmp(h, hash, sizeof h) != 0))
        rc = why_fail(why, whylen, ATTACH_ERR_DAMAGED,
                      "%.16s…: the bytes held here do not match the signed hash", hex);
    if (rc == ATTACH_OK && lseek(f, 0, SEEK_SET) != 0)
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", path, strerror(errno));
    if (rc) {
        close(f);
        return rc;
    }
    *fd = f;
    return ATTACH_OK;
}

int attach_export(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                  const char *out, char *why, size_t whylen)
{
    uint8_t h[EVENT_HASH_BYTES];
    uint64_t n;
    fileio_t *fio = NULL;
    int fd, rc = attach_open(home, hash, size, &fd, why, whylen);
    if (rc)
        return rc;
    if (fileio_open(&fio, out, 0644, FILEIO_UMASK, why, whylen) != FILEIO_OK) {
        close(fd);
        return ATTACH_ERR_IO;
    }
    /* hashed once more as it is copied: what is written is what was checked */
    rc = hash_fd(fd, fileio_stream(fio), h, &n, out, why, whylen);
    close(fd);
    if (rc == ATTACH_OK && (n != size || sodium_memcmp(h, hash, sizeof h) != 0))
        rc = why_fail(why, whylen, ATTACH_ERR_DAMAGED, "the file changed while it was copied");
    if (rc) {
        fileio_abort(&fio);
        return rc;
    }
    return fileio_commit(&fio, why, whylen) == FILEIO_OK ? ATTACH_OK : ATTACH_ERR_IO;
}

const char *attach_media_type(const char *name)
{
    static const char *const types[][2] = {
        {"pdf", "application/pdf"},   {"txt", "text/plain"},
        {"md", "text/markdown"},      {"csv", "text/csv"},
        {"html", "text/html"},        {"htm", "text/html"},
        {"odt", "application/vnd.oasis.opendocument.text"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"odp", "application/vnd.oasis.opendocument.presentation"},
        {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
        {"epub", "application/epub+zip"}, {"zip", "application/zip"},
        {"png", "image/png"},         {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
        {"svg", "image/svg+xml"},     {"webp", "image/webp"},
        {"mp3", "audio/mpeg"},        {"ogg", "audio/ogg"},
        {"m4a", "audio/mp4"},         {"mp4", "video/mp4"},
        {"webm", "video/webm"},       {"json", "application/json"},
    };
    const char *dot = strrchr(attach_basename(name), '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

const char *attach_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
