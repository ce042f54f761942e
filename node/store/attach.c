/*
 * attach: attached files beside the log (see attach.h). Every read is in
 * chunks of CHUNK bytes, so no file is ever held whole in memory.
 */
#include "store/attach.h"
#include "util/fileio.h"
#include "util/text.h"
#include "util/why.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
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

/* The attachment hash (attach.h, docs/protocol.md "Attachment hash"),
 * computed as the bytes stream past: each ATTACH_CHUNK bytes make a leaf,
 * the leaves feed the root. */
typedef struct tree {
    crypto_generichash_state leaf, root;
    uint64_t in_leaf;
    uint32_t n;
    uint8_t first[EVENT_HASH_BYTES];
    uint8_t *leaves; /* NULL, or room for ATTACH_MAX_CHUNKS leaves */
} tree_t;

static void tree_init(tree_t *t, uint8_t *leaves)
{
    memset(t, 0, sizeof *t);
    t->leaves = leaves;
    crypto_generichash_init(&t->leaf, NULL, 0, EVENT_HASH_BYTES);
    crypto_generichash_init(&t->root, NULL, 0, EVENT_HASH_BYTES);
}

static void tree_end_leaf(tree_t *t)
{
    uint8_t h[EVENT_HASH_BYTES];
    crypto_generichash_final(&t->leaf, h, sizeof h);
    if (t->n == 0)
        memcpy(t->first, h, sizeof h);
    if (t->leaves && t->n < ATTACH_MAX_CHUNKS)
        memcpy(t->leaves + (size_t)t->n * EVENT_HASH_BYTES, h, sizeof h);
    crypto_generichash_update(&t->root, h, sizeof h);
    t->n++;
    t->in_leaf = 0;
    crypto_generichash_init(&t->leaf, NULL, 0, EVENT_HASH_BYTES);
}

static void tree_update(tree_t *t, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t take = ATTACH_CHUNK - t->in_leaf < n ? (size_t)(ATTACH_CHUNK - t->in_leaf) : n;
        crypto_generichash_update(&t->leaf, p, take);
        t->in_leaf += take;
        p += take;
        n -= take;
        if (t->in_leaf == ATTACH_CHUNK)
            tree_end_leaf(t);
    }
}

/* A file of one chunk: its leaf; of more: the hash of the leaves. */
static void tree_final(tree_t *t, uint8_t hash[EVENT_HASH_BYTES])
{
    if (t->in_leaf > 0)
        tree_end_leaf(t);
    if (t->n == 1)
        memcpy(hash, t->first, EVENT_HASH_BYTES);
    else
        crypto_generichash_final(&t->root, hash, EVENT_HASH_BYTES);
}

uint32_t attach_chunks(uint64_t size)
{
    return (uint32_t)((size + ATTACH_CHUNK - 1) / ATTACH_CHUNK);
}

void attach_root(const uint8_t *leaves, uint32_t n, uint8_t hash[EVENT_HASH_BYTES])
{
    if (n == 1)
        memcpy(hash, leaves, EVENT_HASH_BYTES);
    else
        crypto_generichash(hash, EVENT_HASH_BYTES, leaves, (size_t)n * EVENT_HASH_BYTES, NULL, 0);
}

/* Hashes what fd holds from where it is (the attachment hash; its leaves
 * into leaves when set); copies it to out when out is set. At most
 * EVENT_MAX_ATTACHMENT_SIZE bytes, or ATTACH_ERR_SIZE. */
static int hash_fd(int fd, FILE *out, uint8_t hash[EVENT_HASH_BYTES], uint8_t *leaves,
                   uint64_t *size, const char *name, char *why, size_t whylen)
{
    static unsigned char buf[CHUNK]; /* the CLI and the daemon's loop: one caller at a time */
    tree_t t;
    uint64_t total = 0;
    ssize_t n;
    tree_init(&t, leaves);
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        total += (uint64_t)n;
        if (total > EVENT_MAX_ATTACHMENT_SIZE)
            return why_fail(why, whylen, ATTACH_ERR_SIZE, "%s: larger than %d bytes (25 MiB)",
                            name, EVENT_MAX_ATTACHMENT_SIZE);
        tree_update(&t, buf, (size_t)n);
        if (out && fwrite(buf, 1, (size_t)n, out) != (size_t)n)
            return why_fail(why, whylen, ATTACH_ERR_IO, "%s: cannot write its copy", name);
    }
    if (n < 0)
        return why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", name, strerror(errno));
    if (total == 0)
        return why_fail(why, whylen, ATTACH_ERR_SIZE, "%s: the file is empty", name);
    tree_final(&t, hash);
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
    rc = hash_fd(fd, NULL, hash, NULL, size, path, why, whylen);
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

/* ---- the chunk list beside a file: <hex>.leaves ------------------------ *
 * The leaves of a file of several chunks are kept beside it when it is put
 * in place, so that serving it begins without hashing it whole first; they
 * are checked against the hash whenever they are read. After them comes
 * the file's stamp when its bytes were checked whole (5 × 8 bytes, little
 * endian: dev, ino, size, mtime_ns, ctime_ns): a server checks a chunk
 * against its leaf only when the file no longer has that stamp
 * (sync/xfer.c). A list without the stamp (an older version's) is read
 * as "not known". */
#define STAMP_BYTES 40

static attach_stamp_t stamp_of(const struct stat *sb)
{
    return (attach_stamp_t){
        .dev = (uint64_t)sb->st_dev,
        .ino = (uint64_t)sb->st_ino,
        .size = (uint64_t)sb->st_size,
        .mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec,
        .ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec};
}

bool attach_stamp_same(const attach_stamp_t *a, const attach_stamp_t *b)
{
    return a->ino != 0 && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static void stamp_put(uint8_t *p, const attach_stamp_t *st)
{
    const uint64_t v[5] = {st->dev, st->ino, st->size, (uint64_t)st->mtime_ns,
                           (uint64_t)st->ctime_ns};
    for (int i = 0; i < 5; i++)
        for (int b = 0; b < 8; b++)
            p[i * 8 + b] = (uint8_t)(v[i] >> (8 * b));
}

static attach_stamp_t stamp_get(const uint8_t *p)
{
    uint64_t v[5] = {0};
    for (int i = 0; i < 5; i++)
        for (int b = 0; b < 8; b++)
            v[i] |= (uint64_t)p[i * 8 + b] << (8 * b);
    return (attach_stamp_t){.dev = v[0], .ino = v[1], .size = v[2],
                            .mtime_ns = (int64_t)v[3], .ctime_ns = (int64_t)v[4]};
}

static int leaves_path(char *out, size_t len, const char *home,
                       const uint8_t hash[EVENT_HASH_BYTES])
{
    char hex[ATTACH_HEX_SIZE];
    text_hex(hex, hash, EVENT_HASH_BYTES);
    int n = snprintf(out, len, "%s/" ATTACH_DIR "/%s" ATTACH_LEAVES, home, hex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Best effort: without it, the leaves are made from the file (attach_leaves).
 * checked: the file's stamp as its bytes were checked whole, or NULL to
 * take it now from the file in place (just put there by a writer that
 * checked every byte it wrote). */
static void put_leaves(const char *home, const uint8_t hash[EVENT_HASH_BYTES],
                       const uint8_t *leaves, uint32_t n, const attach_stamp_t *checked)
{
    char path[PATH_MAX];
    uint8_t buf[ATTACH_MAX_CHUNKS * EVENT_HASH_BYTES + STAMP_BYTES];
    size_t len = (size_t)n * EVENT_HASH_BYTES;
    attach_stamp_t st = {0};
    struct stat sb;
    if (n <= 1 || n > ATTACH_MAX_CHUNKS)
        return;
    if (checked)
        st = *checked;
    else if (attach_path(path, sizeof path, home, hash) == 0 && stat(path, &sb) == 0)
        st = stamp_of(&sb);
    memcpy(buf, leaves, len);
    stamp_put(buf + len, &st);
    if (leaves_path(path, sizeof path, home, hash) == 0 &&
        fileio_write_atomic(path, buf, len + STAMP_BYTES, 0600, 0, NULL, 0) != FILEIO_OK)
        unlink(path);
}

/* The kept leaves of hash, if they are there, n of them and giving hash;
 * *checked the stamp kept with them (all zero when none). */
static int read_leaves(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint32_t n,
                       uint8_t *leaves, attach_stamp_t *checked)
{
    char path[PATH_MAX];
    uint8_t root[EVENT_HASH_BYTES], stamp[STAMP_BYTES];
    size_t want = (size_t)n * EVENT_HASH_BYTES;
    if (n < 2 || leaves_path(path, sizeof path, home, hash) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat sb;
    bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
              ((size_t)sb.st_size == want || (size_t)sb.st_size == want + STAMP_BYTES);
    bool stamped = ok && (size_t)sb.st_size == want + STAMP_BYTES;
    ok = ok && pread(fd, leaves, want, 0) == (ssize_t)want &&
         (!stamped || pread(fd, stamp, sizeof stamp, (off_t)want) == (ssize_t)sizeof stamp);
    close(fd);
    if (!ok)
        return -1;
    attach_root(leaves, n, root);
    if (sodium_memcmp(root, hash, sizeof root) != 0)
        return -1;
    *checked = stamped ? stamp_get(stamp) : (attach_stamp_t){0};
    return 0;
}

/* ---- the writer: a file put in place under its hash ------------------- */

struct attach_writer {
    char home[PATH_MAX];
    fileio_t *fio;
    tree_t t;
    uint64_t n, max;
    bool ended;
    uint8_t hash[EVENT_HASH_BYTES];
    uint8_t leaves[ATTACH_MAX_CHUNKS * EVENT_HASH_BYTES];
};

int attach_writer_open(attach_writer_t **out, const char *home, uint64_t max, char *why,
                       size_t whylen)
{
    char path[PATH_MAX];
    int rc = make_dir(home, why, whylen);
    if (rc)
        return rc;
    attach_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return why_fail(why, whylen, ATTACH_ERR_IO, "out of memory");
    /* the name is the temporary file's stem only: the file lands under its
     * hash (fileio_commit_as) */
    if (snprintf(w->home, sizeof w->home, "%s", home) >= (int)sizeof w->home ||
        snprintf(path, sizeof path, "%s/" ATTACH_DIR "/incoming", home) >= (int)sizeof path) {
        free(w);
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    }
    if (fileio_open(&w->fio, path, 0600, 0, why, whylen) != FILEIO_OK) {
        free(w);
        return ATTACH_ERR_IO;
    }
    tree_init(&w->t, w->leaves);
    w->max = max < EVENT_MAX_ATTACHMENT_SIZE ? max : EVENT_MAX_ATTACHMENT_SIZE;
    *out = w;
    return ATTACH_OK;
}

int attach_writer_put(attach_writer_t *w, const void *data, size_t len, char *why,
                      size_t whylen)
{
    if (w->ended || w->n + len > w->max) {
        w->ended = true;
        return why_fail(why, whylen, ATTACH_ERR_TOO_LARGE, "more than %llu bytes",
                        (unsigned long long)w->max);
    }
    tree_update(&w->t, data, len);
    w->n += len;
    if (len && fwrite(data, 1, len, fileio_stream(w->fio)) != len)
        return why_fail(why, whylen, ATTACH_ERR_IO, "cannot write the file: %s",
                        strerror(errno));
    return ATTACH_OK;
}

int attach_writer_end(attach_writer_t *w, uint8_t hash[EVENT_HASH_BYTES], uint64_t *size,
                      char *why, size_t whylen)
{
    if (w->ended)
        return why_fail(why, whylen, ATTACH_ERR_IO, "the file was refused or is already whole");
    if (w->n == 0)
        return why_fail(why, whylen, ATTACH_ERR_SIZE, "the file is empty");
    tree_final(&w->t, w->hash);
    w->ended = true;
    memcpy(hash, w->hash, EVENT_HASH_BYTES);
    *size = w->n;
    return ATTACH_OK;
}

int attach_writer_commit(attach_writer_t **wp, int *placed, char *why, size_t whylen)
{
    attach_writer_t *w = *wp;
    char hex[ATTACH_HEX_SIZE];
    int held = -1, rc = ATTACH_OK, put = 0;
    *wp = NULL;
    if (!w->ended || w->n == 0 || w->n > w->max) {
        fileio_abort(&w->fio);
        free(w);
        return why_fail(why, whylen, ATTACH_ERR_IO, "the file is not whole");
    }
    text_hex(hex, w->hash, EVENT_HASH_BYTES);
    if (attach_open(w->home, w->hash, w->n, &held, NULL, 0) == ATTACH_OK) {
        close(held); /* here already, and whole: the new copy is not needed */
        fileio_abort(&w->fio);
    } else if (fileio_commit_as(&w->fio, hex, why, whylen) == FILEIO_OK) {
        put = 1; /* absent, or damaged: this copy replaces it */
        put_leaves(w->home, w->hash, w->leaves, attach_chunks(w->n), NULL);
    } else {
        rc = ATTACH_ERR_IO;
    }
    free(w);
    if (rc == ATTACH_OK && placed)
        *placed = put;
    return rc;
}

void attach_writer_abort(attach_writer_t **wp)
{
    if (!wp || !*wp)
        return;
    fileio_abort(&(*wp)->fio);
    free(*wp);
    *wp = NULL;
}

int attach_import(const char *home, const char *src, uint8_t hash[EVENT_HASH_BYTES],
                  uint64_t *size, int *placed, char *why, size_t whylen)
{
    static unsigned char buf[CHUNK]; /* the CLI and the daemon's loop: one caller at a time */
    uint8_t h[EVENT_HASH_BYTES], again[EVENT_HASH_BYTES];
    uint64_t n, n2;
    attach_writer_t *w = NULL;
    int fd, rc;
    if ((rc = attach_hash_file(src, h, &n, why, whylen)))
        return rc;
    int held = -1;
    if (attach_open(home, h, n, &held, NULL, 0) == ATTACH_OK) {
        close(held); /* here already, and whole: nothing to copy */
        memcpy(hash, h, sizeof h);
        *size = n;
        if (placed)
            *placed = 0;
        return ATTACH_OK;
    }
    if ((rc = open_regular(src, &fd, why, whylen)))
        return rc;
    /* absent, or damaged: the copy replaces it, hashed again as it is made */
    if ((rc = attach_writer_open(&w, home, EVENT_MAX_ATTACHMENT_SIZE, why, whylen))) {
        close(fd);
        return rc;
    }
    ssize_t got;
    while (rc == ATTACH_OK && (got = read(fd, buf, sizeof buf)) > 0)
        rc = attach_writer_put(w, buf, (size_t)got, why, whylen);
    if (rc == ATTACH_OK && got < 0)
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", src, strerror(errno));
    close(fd);
    if (rc == ATTACH_OK)
        rc = attach_writer_end(w, again, &n2, why, whylen);
    if (rc == ATTACH_OK && (n2 != n || memcmp(again, h, sizeof h) != 0))
        rc = why_fail(why, whylen, ATTACH_ERR_DAMAGED,
                      "%s: the file changed while it was being copied; try again", src);
    if (rc) {
        attach_writer_abort(&w);
        return rc;
    }
    int put = 0;
    if ((rc = attach_writer_commit(&w, &put, why, whylen)))
        return rc;
    memcpy(hash, h, sizeof h);
    *size = n;
    if (placed)
        *placed = put;
    return ATTACH_OK;
}

/* The held file of hash, opened at its start once its bytes are checked
 * against the signed hash and size (its chunk leaves into leaves, may be
 * NULL). The one place a held file is opened for others. */
/* *stamp (may be NULL): the file's stamp as it was before its bytes were
 * hashed, so that a write while they were read is not taken as checked. */
static int open_checked(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                        uint8_t *leaves, int *fd, attach_stamp_t *stamp, char *why,
                        size_t whylen)
{
    struct stat sb;
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
    if (stamp && fstat(f, &sb) != 0) {
        close(f);
        return why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", path, strerror(errno));
    }
    rc = hash_fd(f, NULL, h, leaves, &n, path, why, whylen);
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
    if (stamp)
        *stamp = stamp_of(&sb);
    return ATTACH_OK;
}

int attach_open(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size, int *fd,
                char *why, size_t whylen)
{
    return open_checked(home, hash, size, NULL, fd, NULL, why, whylen);
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
    rc = hash_fd(fd, fileio_stream(fio), h, NULL, &n, out, why, whylen);
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

/* ---- the transfer's side: leaves, and files on their way (.part) ------ */

int attach_leaves(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                  uint8_t *leaves, attach_stamp_t *checked, char *why, size_t whylen)
{
    uint32_t n = attach_chunks(size);
    attach_stamp_t st = {0};
    if (attach_present(home, hash, size) && read_leaves(home, hash, n, leaves, &st) == 0) {
        if (checked)
            *checked = st;
        return ATTACH_OK;
    }
    int f, rc = open_checked(home, hash, size, leaves, &f, &st, why, whylen);
    if (rc != ATTACH_OK)
        return rc;
    close(f);
    put_leaves(home, hash, leaves, n, &st); /* the next run need not hash it whole */
    if (checked)
        *checked = n > 1 ? st : (attach_stamp_t){0};
    return ATTACH_OK;
}

int attach_read_chunk(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                      uint32_t index, uint8_t *buf, size_t *len, attach_stamp_t *now)
{
    char path[PATH_MAX];
    struct stat sb;
    uint64_t off = (uint64_t)index * ATTACH_CHUNK;
    if (off >= size || attach_path(path, sizeof path, home, hash) != 0)
        return ATTACH_ERR_ABSENT;
    size_t want = size - off < ATTACH_CHUNK ? (size_t)(size - off) : ATTACH_CHUNK;
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return ATTACH_ERR_ABSENT;
    ssize_t got = pread(f, buf, want, (off_t)off);
    bool st = !now || fstat(f, &sb) == 0;
    close(f);
    if (got != (ssize_t)want || !st)
        return ATTACH_ERR_IO;
    *len = want;
    if (now)
        *now = stamp_of(&sb);
    return ATTACH_OK;
}

int attach_part_path(char *out, size_t len, const char *home, const uint8_t hash[EVENT_HASH_BYTES])
{
    char hex[ATTACH_HEX_SIZE];
    text_hex(hex, hash, EVENT_HASH_BYTES);
    int n = snprintf(out, len, "%s/" ATTACH_DIR "/%s" ATTACH_PART, home, hex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int attach_part_bytes(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t *n)
{
    char path[PATH_MAX];
    struct stat sb;
    if (attach_part_path(path, sizeof path, home, hash) != 0 || lstat(path, &sb) != 0 ||
        !S_ISREG(sb.st_mode))
        return ATTACH_ERR_ABSENT;
    *n = (uint64_t)sb.st_size;
    return ATTACH_OK;
}

int attach_part_open(const char *home, const uint8_t hash[EVENT_HASH_BYTES],
                     const uint8_t *leaves, uint32_t n_chunks, uint64_t size, int *fd,
                     uint32_t *good, char *why, size_t whylen)
{
    char path[PATH_MAX];
    static uint8_t buf[ATTACH_CHUNK];
    struct stat sb;
    int rc = make_dir(home, why, whylen);
    if (rc)
        return rc;
    if (attach_part_path(path, sizeof path, home, hash) != 0)
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0 || fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", path, strerror(errno));
        if (f >= 0)
            close(f);
        return rc;
    }
    /* What a run before wrote was checked then; it is checked again here
     * (a crash may have torn the last chunk, the disk may lie): the run of
     * whole chunks from the start that match their leaves is kept. */
    uint32_t ok = 0;
    uint64_t have = (uint64_t)sb.st_size;
    while (ok < n_chunks) {
        uint64_t off = (uint64_t)ok * ATTACH_CHUNK;
        size_t want = size - off < ATTACH_CHUNK ? (size_t)(size - off) : ATTACH_CHUNK;
        uint8_t h[EVENT_HASH_BYTES];
        if (have < off + want || pread(f, buf, want, (off_t)off) != (ssize_t)want)
            break;
        crypto_generichash(h, sizeof h, buf, want, NULL, 0);
        if (sodium_memcmp(h, leaves + (size_t)ok * EVENT_HASH_BYTES, sizeof h) != 0)
            break;
        ok++;
    }
    uint64_t keep = (uint64_t)ok * ATTACH_CHUNK < size ? (uint64_t)ok * ATTACH_CHUNK : size;
    if (have != keep && ftruncate(f, (off_t)keep) != 0) {
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", path, strerror(errno));
        close(f);
        return rc;
    }
    *fd = f;
    *good = ok;
    return ATTACH_OK;
}

int attach_part_write(int fd, uint32_t index, const uint8_t *data, size_t len)
{
    off_t off = (off_t)index * ATTACH_CHUNK;
    if (pwrite(fd, data, len, off) != (ssize_t)len)
        return ATTACH_ERR_IO;
#ifdef SYNC_FILE_RANGE_WRITE
    /* write-back starts now, not at the finishing fsync (which then has
     * little left to wait for): it does not wait, and a failure here only
     * leaves the work to that fsync */
    sync_file_range(fd, off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#endif
    return ATTACH_OK;
}

int attach_part_finish(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                       const uint8_t *leaves, char *why, size_t whylen)
{
    char path[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
    struct stat sb;
    int fd, rc;
    if (attach_part_path(path, sizeof path, home, hash) != 0 ||
        attach_path(dst, sizeof dst, home, hash) != 0 ||
        snprintf(dir, sizeof dir, "%s/" ATTACH_DIR, home) >= (int)sizeof dir)
        return why_fail(why, whylen, ATTACH_ERR_IO, "node home path too long");
    /* every chunk was checked against its leaf as it was written, and the
     * leaves against the hash: the whole is synced and renamed into place,
     * so a crash leaves the .part or the whole file, never half of one.
     * (Hashing it again here read the page cache, not the disk: a reader
     * that hands it on checks it, attach_open.) */
    if ((rc = open_regular(path, &fd, why, whylen)))
        return rc;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != size)
        rc = why_fail(why, whylen, ATTACH_ERR_DAMAGED, "%s: not %llu bytes", path,
                      (unsigned long long)size);
    else if (fsync(fd) != 0)
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "%s: %s", path, strerror(errno));
    close(fd);
    if (rc == ATTACH_OK && rename(path, dst) != 0)
        rc = why_fail(why, whylen, ATTACH_ERR_IO, "cannot put %s in place: %s", dst,
                      strerror(errno));
    if (rc != ATTACH_OK) {
        unlink(path);
        return rc;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) { /* the rename durable: some filesystems cannot (EINVAL) */
        fsync(d);
        close(d);
    }
    put_leaves(home, hash, leaves, attach_chunks(size), NULL);
    return ATTACH_OK;
}

/* The hash an entry of attachments/ is named by ("<hex>" or
 * "<hex>.part"); 0 when its name is neither. */
static int entry_hash(const char *name, uint8_t hash[EVENT_HASH_BYTES])
{
    size_t n = strlen(name), hexlen = 2 * EVENT_HASH_BYTES;
    if (n != hexlen && strcmp(name + (n > hexlen ? hexlen : n), ATTACH_PART) != 0 &&
        strcmp(name + (n > hexlen ? hexlen : n), ATTACH_LEAVES) != 0)
        return 0;
    for (size_t i = 0; i < hexlen; i++) {
        int hi = text_hex_digit((unsigned char)name[i]);
        if (hi < 0 || (name[i] >= 'A' && name[i] <= 'F'))
            return 0;
        if (i % 2 == 0)
            hash[i / 2] = (uint8_t)(hi << 4);
        else
            hash[i / 2] |= (uint8_t)hi;
    }
    return 1;
}

size_t attach_sweep(const char *home, int (*listed)(void *ctx, const uint8_t *hash), void *ctx,
                    int64_t min_age_s)
{
    char dir[PATH_MAX];
    size_t removed = 0;
    if (snprintf(dir, sizeof dir, "%s/" ATTACH_DIR, home) >= (int)sizeof dir)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    time_t now = time(NULL);
    for (struct dirent *e; (e = readdir(d));) {
        uint8_t h[EVENT_HASH_BYTES];
        struct stat sb;
        size_t n = strlen(e->d_name);
        int tmp = !strncmp(e->d_name, ".incoming.", 10) && n > 14 &&
                  !strcmp(e->d_name + n - 4, ".tmp");
        if (!tmp && (!entry_hash(e->d_name, h) || listed(ctx, h)))
            continue;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(sb.st_mode) || (int64_t)(now - sb.st_mtime) < min_age_s)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

void attach_remove(const char *home, const uint8_t hash[EVENT_HASH_BYTES])
{
    char path[PATH_MAX];
    if (attach_path(path, sizeof path, home, hash) == 0)
        unlink(path);
    if (attach_part_path(path, sizeof path, home, hash) == 0)
        unlink(path);
    if (leaves_path(path, sizeof path, home, hash) == 0)
        unlink(path);
}
