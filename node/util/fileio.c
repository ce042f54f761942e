/*
 * fileio: atomic, symlink-proof file writes (see fileio.h). Every step
 * after opening the target's directory is relative to that descriptor:
 * openat for the temporary file, renameat (or linkat) to put it in place,
 * fsync of the same descriptor.
 */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"
#include "util/why.h"

#define TMP_TRIES 8    /* a random name already taken: someone planted it, try another */
#define TMP_BASE_MAX 200 /* of the target's name in the temporary one (NAME_MAX is 255) */

struct fileio {
    int dirfd;
    int fd;  /* the temporary file, until the stream takes it over */
    FILE *f; /* NULL for fileio_write_atomic */
    int flags;
    char base[NAME_MAX + 1]; /* the target's name in dirfd */
    char tmp[NAME_MAX + 1];  /* ".BASE.<16 hex>.tmp" */
    char path[PATH_MAX];     /* as the caller gave it, for messages */
};

static void drop(fileio_t *w)
{
    int saved = errno;
    if (w->f)
        fclose(w->f);
    else if (w->fd >= 0)
        close(w->fd);
    if (w->tmp[0])
        unlinkat(w->dirfd, w->tmp, 0);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w);
    errno = saved;
}

/* Splits path into its directory (opened) and last component. */
static int open_dir(fileio_t *w, const char *path, char *why, size_t whylen)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path ||
        strlen(base) > NAME_MAX) {
        errno = ENAMETOOLONG;
        return why_fail(why, whylen, FILEIO_ERR_IO, "%.200s…: path too long", path);
    }
    if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        errno = EISDIR;
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: not a file name", path);
    }
    snprintf(w->base, sizeof w->base, "%s", base);
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0)
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: %s", dir, strerror(errno));
    return FILEIO_OK;
}

/* The temporary file: a fresh random name each try, never an existing
 * file, never through a symlink. Its mode is set before any byte. */
static int create_tmp(fileio_t *w, mode_t mode, char *why, size_t whylen)
{
    for (int i = 0; i < TMP_TRIES; i++) {
        uint8_t r[8];
        char hex[2 * sizeof r + 1];
        randombytes_buf(r, sizeof r);
        text_hex(hex, r, sizeof r);
        snprintf(w->tmp, sizeof w->tmp, ".%.*s.%s.tmp", TMP_BASE_MAX, w->base, hex);
        w->fd = openat(w->dirfd, w->tmp,
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                       mode & 07777);
        if (w->fd >= 0)
            break;
        if (errno != EEXIST) {
            w->tmp[0] = '\0';
            return why_fail(why, whylen, FILEIO_ERR_IO, "%s: cannot create a temporary file: %s",
                            w->path, strerror(errno));
        }
    }
    if (w->fd < 0) {
        w->tmp[0] = '\0'; /* not ours: never remove it */
        return why_fail(why, whylen, FILEIO_ERR_IO,
                        "%s: cannot create a temporary file: %d random names were taken",
                        w->path, TMP_TRIES);
    }
    if (!(w->flags & FILEIO_UMASK) && fchmod(w->fd, mode & 07777) != 0)
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: %s", w->path, strerror(errno));
    return FILEIO_OK;
}

static int begin(fileio_t **out, const char *path, mode_t mode, int flags, char *why,
                 size_t whylen)
{
    fileio_t *w = calloc(1, sizeof *w);
    int rc;
    if (!w)
        return why_fail(why, whylen, FILEIO_ERR_NOMEM, "out of memory");
    w->dirfd = w->fd = -1;
    w->flags = flags;
    if (!path)
        rc = why_fail(why, whylen, FILEIO_ERR_IO, "no path to write");
    else if ((rc = open_dir(w, path, why, whylen)) == FILEIO_OK)
        rc = create_tmp(w, mode, why, whylen);
    if (rc != FILEIO_OK) {
        drop(w);
        return rc;
    }
    *out = w;
    return FILEIO_OK;
}

/* The temporary file becomes the target. With FILEIO_NOREPLACE an existing
 * target is refused by the kernel itself: renameat2 where the filesystem
 * has it, otherwise linkat, which never replaces either. */
static int put_in_place(fileio_t *w)
{
    if (!(w->flags & FILEIO_NOREPLACE))
        return renameat(w->dirfd, w->tmp, w->dirfd, w->base);
#ifdef RENAME_NOREPLACE
    if (renameat2(w->dirfd, w->tmp, w->dirfd, w->base, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    if (linkat(w->dirfd, w->tmp, w->dirfd, w->base, 0) != 0)
        return -1;
    unlinkat(w->dirfd, w->tmp, 0);
    return 0;
}

static int finish(fileio_t *w, char *why, size_t whylen)
{
    int fd = w->f ? fileno(w->f) : w->fd;
    if ((w->f && (fflush(w->f) != 0 || ferror(w->f))) || fsync(fd) != 0)
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: cannot write: %s", w->path,
                        strerror(errno ? errno : EIO));
    int rc = w->f ? fclose(w->f) : close(w->fd);
    w->f = NULL;
    w->fd = -1;
    if (rc != 0)
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: cannot write: %s", w->path,
                        strerror(errno));
    if (put_in_place(w) != 0) {
        if (errno == EEXIST)
            return why_fail(why, whylen, FILEIO_ERR_EXISTS, "%s already exists", w->path);
        return why_fail(why, whylen, FILEIO_ERR_IO, "cannot put %s in place: %s", w->path,
                        strerror(errno));
    }
    w->tmp[0] = '\0'; /* the name is the target's now */
    /* Some filesystems cannot fsync a directory (EINVAL): nothing better to do there. */
    if (fsync(w->dirfd) != 0 && errno != EINVAL)
        return why_fail(why, whylen, FILEIO_ERR_IO, "%s: fsync of its directory: %s", w->path,
                        strerror(errno));
    return FILEIO_OK;
}

int fileio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, int flags,
                        char *why, size_t whylen)
{
    fileio_t *w = NULL;
    const char *p = buf;
    int rc = begin(&w, path, mode, flags, why, whylen);
    if (rc != FILEIO_OK)
        return rc;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = why_fail(why, whylen, FILEIO_ERR_IO, "%s: cannot write: %s", w->path,
                          strerror(n < 0 ? errno : EIO));
            drop(w);
            return rc;
        }
        p += n;
        len -= (size_t)n;
    }
    rc = finish(w, why, whylen);
    drop(w);
    return rc;
}

int fileio_open(fileio_t **out, const char *path, mode_t mode, int flags, char *why,
                size_t whylen)
{
    fileio_t *w = NULL;
    int rc = begin(&w, path, mode, flags, why, whylen);
    if (rc != FILEIO_OK)
        return rc;
    if (!(w->f = fdopen(w->fd, "wb"))) {
        rc = why_fail(why, whylen, FILEIO_ERR_NOMEM, "%s: %s", path, strerror(errno));
        drop(w);
        return rc;
    }
    w->fd = -1; /* the stream owns it */
    *out = w;
    return FILEIO_OK;
}

FILE *fileio_stream(fileio_t *f)
{
    return f->f;
}

int fileio_commit(fileio_t **f, char *why, size_t whylen)
{
    if (!f || !*f)
        return why_fail(why, whylen, FILEIO_ERR_IO, "no file to commit");
    errno = 0;
    int rc = finish(*f, why, whylen);
    drop(*f);
    *f = NULL;
    return rc;
}

int fileio_commit_as(fileio_t **f, const char *name, char *why, size_t whylen)
{
    if (!f || !*f)
        return why_fail(why, whylen, FILEIO_ERR_IO, "no file to commit");
    if (!name || !name[0] || strchr(name, '/') || strlen(name) > NAME_MAX ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        fileio_abort(f);
        return why_fail(why, whylen, FILEIO_ERR_IO, "%.200s: not a file name", name ? name : "");
    }
    fileio_t *w = *f;
    char *slash = strrchr(w->path, '/');
    size_t dir = slash ? (size_t)(slash - w->path) + 1 : 0;
    snprintf(w->base, sizeof w->base, "%s", name);
    snprintf(w->path + dir, sizeof w->path - dir, "%s", name); /* for messages */
    return fileio_commit(f, why, whylen);
}

void fileio_abort(fileio_t **f)
{
    if (!f || !*f)
        return;
    drop(*f);
    *f = NULL;
}
