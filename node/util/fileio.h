/*
 * fileio: the one way the node writes a file (key files, backups, the
 * revocation statement, lernet.ini, store.db's first creation, exports
 * and bundles). The bytes go to a new file with a random name in the
 * target's own directory, created exclusively and never through a symlink
 * (O_CREAT|O_EXCL|O_NOFOLLOW), with its mode set at creation; then fsync,
 * rename over the target (which replaces a symlink planted there instead
 * of following it), and fsync of the directory. Readers and a crash see
 * the old file or the whole new one, never half of it, and nobody else's
 * file in a shared directory is ever opened, truncated or removed: the
 * temporary name cannot be guessed in advance, and a name already taken
 * is never reused.
 *
 * The directory part of path is the caller's choice and is resolved as
 * given (symlinks in it included); everything after it happens relative to
 * one open descriptor of that directory, so it cannot be swapped midway.
 */
#ifndef LERNET_FILEIO_H
#define LERNET_FILEIO_H

#include "util/err.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Error codes: FILEIO_ERR_* (-900s) of the one namespace in util/err.h. */

enum fileio_flags {
    /* Never replace an existing path (key files): the rename itself refuses
     * (RENAME_NOREPLACE, else link(2)), so no check-then-write race. */
    FILEIO_NOREPLACE = 1,
    /* The umask may narrow mode, as for any file a person asked for
     * (exports); without it the file gets exactly mode (keys, config). */
    FILEIO_UMASK = 2,
};

typedef struct fileio fileio_t;

/* Writes len bytes of buf as path with mode (see FILEIO_* flags). buf is
 * written with write(2) straight from the caller's memory (no stdio
 * buffer holds a copy of a secret). 0, or a fileio_error with why. */
int fileio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, int flags,
                        char *why, size_t whylen) __attribute__((warn_unused_result));

/* A streaming write of path: *out owned by the caller, who ends it with
 * exactly one of fileio_commit or fileio_abort. Nothing is visible at path
 * until the commit. */
int fileio_open(fileio_t **out, const char *path, mode_t mode, int flags, char *why,
                size_t whylen) __attribute__((warn_unused_result));
/* The stream to write into (borrowed; do not fclose it). */
FILE *fileio_stream(fileio_t *f);
/* Flushes, syncs and puts the file in place; a write error seen on the
 * stream fails it. Frees *f and sets it to NULL, success or failure (on
 * failure the temporary file is removed and path is untouched). */
int fileio_commit(fileio_t **f, char *why, size_t whylen) __attribute__((warn_unused_result));
/* As fileio_commit, but the file is put in place as name, a file name
 * (no '/') in the directory of the path it was opened with: for a file
 * whose name is known only once it is written (an attachment, named by
 * the hash of its bytes). */
int fileio_commit_as(fileio_t **f, const char *name, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* Drops the temporary file, frees *f, sets it to NULL. Safe on NULL. */
void fileio_abort(fileio_t **f);

#endif
