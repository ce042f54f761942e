/*
 * attach: the attached files a node holds, beside its log. A resource or
 * reply lists each file by its BLAKE2b-256 hash, size, media type and name
 * (core/event.h bounds them); the bytes live in the node home as
 * attachments/<64 hex digits of the hash>, written only whole and checked
 * (through util/fileio, mode 0600). Nothing here speaks SQL: the store
 * layer holds it because the log and the files it names belong together
 * (the transfer between partners, in sync, builds on it).
 *
 * A file is "present" when attachments/<hex> is a regular file of the
 * listed size; a reader that hands the bytes on (attach_open) re-checks
 * the hash first, so a damaged file is never passed off as the signed one.
 */
#ifndef LERNET_ATTACH_H
#define LERNET_ATTACH_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* Error codes: ATTACH_ERR_* (-1300s) of the one namespace in util/err.h. */

#define ATTACH_DIR "attachments"
#define ATTACH_HEX_SIZE (2 * EVENT_HASH_BYTES + 1)

/* "<home>/attachments/<hex>" in out; -1 when it does not fit. */
int attach_path(char *out, size_t len, const char *home, const uint8_t hash[EVENT_HASH_BYTES]);
/* 1 if the home holds the file (a regular file of size bytes), else 0. */
int attach_present(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size);

/* BLAKE2b-256 and size of the file at path, read once in chunks. A file
 * that is empty, not a regular file, or above EVENT_MAX_ATTACHMENT_SIZE is
 * refused (ATTACH_ERR_SIZE, ATTACH_ERR_IO) with why. hash and *size are
 * written only on success. */
int attach_hash_file(const char *path, uint8_t hash[EVENT_HASH_BYTES], uint64_t *size,
                     char *why, size_t whylen);

/* Copies the file at src into home's attachments/ under its hash (which,
 * with its size, is written to hash and *size on success). The bytes are
 * hashed again while they are copied: a file that changed meanwhile is
 * refused and nothing is kept. A file already here whose bytes match is not
 * copied again; one that is damaged is replaced. */
int attach_import(const char *home, const char *src, uint8_t hash[EVENT_HASH_BYTES],
                  uint64_t *size, char *why, size_t whylen);

/* Opens home's file of hash for reading, after checking that it has size
 * bytes and that they hash to hash; *fd (the caller closes it) is at the
 * start. ATTACH_ERR_ABSENT when it is not here, ATTACH_ERR_DAMAGED when
 * its bytes do not match. */
int attach_open(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size, int *fd,
                char *why, size_t whylen);

/* Writes home's file of hash (checked as attach_open does) to out through
 * the atomic writer (mode 0644 less the umask). */
int attach_export(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                  const char *out, char *why, size_t whylen);

/* The media type for a file name, by its extension (a fixed table, no
 * content sniffing): "application/pdf" for x.PDF; "application/octet-stream"
 * when unknown. Static. */
const char *attach_media_type(const char *name);
/* The last component of path ("a/b/c.pdf" → "c.pdf"); path itself when it
 * has no '/'. */
const char *attach_basename(const char *path);

#endif
