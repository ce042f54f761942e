/*
 * attach: the attached files a node holds, beside its log. A resource or
 * reply lists each file by its BLAKE2b-256 hash, size, media type and name
 * (core/event.h bounds them); the bytes live in the node home as
 * attachments/<64 hex digits of the hash>, written only whole and checked
 * (through util/fileio, mode 0600). Nothing here speaks SQL: the store
 * layer holds it because the log and the files it names belong together
 * (the transfer between partners, in sync, builds on it).
 *
 * The attachment hash (docs/protocol.md, "Attachment hash") is a hash
 * tree of one level, so that a file fetched from partners can be checked
 * chunk by chunk: the file is cut into chunks of ATTACH_CHUNK bytes (the
 * last one shorter), leaf i is BLAKE2b-256 of chunk i, and the hash is
 * that leaf for a file of one chunk (BLAKE2b-256 of the file) or else
 * BLAKE2b-256 of the leaves concatenated. The listed size says how many
 * chunks there are, so no file of one count passes for one of another.
 *
 * A file is "present" when attachments/<hex> is a regular file of the
 * listed size; a reader that hands the bytes on (attach_open) re-checks
 * the hash first, so a damaged file is never passed off as the signed one.
 */
#ifndef LERNET_ATTACH_H
#define LERNET_ATTACH_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* Error codes: ATTACH_ERR_* (-1300s) of the one namespace in util/err.h. */

#define ATTACH_DIR "attachments"
#define ATTACH_HEX_SIZE (2 * EVENT_HASH_BYTES + 1)
#define ATTACH_PART ".part" /* attachments/<hex>.part: a file on its way */
#define ATTACH_LEAVES ".leaves" /* attachments/<hex>.leaves: its chunk hashes, kept beside it */
#define ATTACH_CHUNK (256 * 1024) /* bytes of a chunk, the unit of hashing and transfer */
#define ATTACH_MAX_CHUNKS (EVENT_MAX_ATTACHMENT_SIZE / ATTACH_CHUNK) /* 100 */

/* Chunks of a file of size bytes (the last may be short). */
uint32_t attach_chunks(uint64_t size);
/* The attachment hash from the n leaves (n × 32 bytes). */
void attach_root(const uint8_t *leaves, uint32_t n, uint8_t hash[EVENT_HASH_BYTES]);

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
 * copied again; one that is damaged is replaced. *placed (may be NULL) is
 * 1 when this import put the file there (so a caller whose publish then
 * fails removes it), 0 when it was here already. */
int attach_import(const char *home, const char *src, uint8_t hash[EVENT_HASH_BYTES],
                  uint64_t *size, int *placed, char *why, size_t whylen);

/* A file arriving in pieces (a web upload; attach_import's copy): written
 * into home's attachments/ under a temporary name (util/fileio: random,
 * exclusive, 0600) and hashed with the attachment hash as the bytes come,
 * so it is never held whole in memory. Nothing is visible under a hash
 * before attach_writer_commit; attach_writer_abort (or a failed commit)
 * removes the temporary file. *out is the caller's, ended by exactly one
 * of commit or abort. */
typedef struct attach_writer attach_writer_t;
int attach_writer_open(attach_writer_t **out, const char *home, uint64_t max, char *why,
                       size_t whylen);
/* Past max bytes (the open's, at most EVENT_MAX_ATTACHMENT_SIZE):
 * ATTACH_ERR_TOO_LARGE with why ("more than N bytes"), and the writer
 * takes nothing more (abort it). */
int attach_writer_put(attach_writer_t *w, const void *data, size_t len, char *why,
                      size_t whylen);
/* The bytes are all in: their attachment hash and size (an empty file is
 * ATTACH_ERR_SIZE). No put after it. hash and *size written on success. */
int attach_writer_end(attach_writer_t *w, uint8_t hash[EVENT_HASH_BYTES], uint64_t *size,
                      char *why, size_t whylen);
/* After attach_writer_end: the file is synced and put in place under its
 * hash; when a copy whose bytes match is here already, that one is kept.
 * *placed (may be NULL) is 1 when this commit put it there, 0 when it was
 * here already. Frees *w and sets it to NULL, success or failure. */
int attach_writer_commit(attach_writer_t **w, int *placed, char *why, size_t whylen);
void attach_writer_abort(attach_writer_t **w);

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

/* ---- for the transfer (sync/xfer.c) ---- */

/* What a file's inode said when its bytes were last checked whole against
 * its hash (at import, at the end of a fetch, or when its leaves were made
 * from it): while it says the same, nothing has written to the file since,
 * because any write, truncate, chmod or replacement changes its ctime or
 * its inode. All zero: not known. It does not see the disk itself decay
 * (nor a write within the filesystem's timestamp tick): a receiver checks
 * every chunk against its signed leaf, whatever the server did. */
typedef struct attach_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} attach_stamp_t;

/* True when a is known and b is the same. */
bool attach_stamp_same(const attach_stamp_t *a, const attach_stamp_t *b);

/* The leaves of home's file of hash (room for attach_chunks(size) × 32
 * bytes), checked to give hash: those kept beside it (<hex>.leaves, put
 * there with the file), else made from its bytes (which are checked
 * against hash, and the leaves then kept). *checked (may be NULL) gets the
 * file's stamp when its bytes were last checked whole: kept with the
 * leaves, or taken now; all zero when not known (a file of one chunk, or
 * leaves kept by an older version). Errors: ATTACH_ERR_ABSENT,
 * ATTACH_ERR_DAMAGED. */
int attach_leaves(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                  uint8_t *leaves, attach_stamp_t *checked, char *why, size_t whylen);
/* Chunk index of home's file (buf has room for ATTACH_CHUNK bytes; *len
 * gets its length, *now (may be NULL) the stamp of the file read). Not
 * checked here: the server checks it against its leaf unless *now is the
 * stamp attach_leaves gave (sync/xfer.c). */
int attach_read_chunk(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                      uint32_t index, uint8_t *buf, size_t *len, attach_stamp_t *now);
/* "<home>/attachments/<hex>.part"; -1 when it does not fit. */
int attach_part_path(char *out, size_t len, const char *home, const uint8_t hash[EVENT_HASH_BYTES]);
/* The length of the .part of hash, or ATTACH_ERR_ABSENT. */
int attach_part_bytes(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t *n);
/* Opens (creates, 0600) the .part of hash for a fetch of a file of size
 * bytes with the n_chunks leaves given (already checked against hash):
 * the chunks from the start that match their leaves are kept (*good of
 * them), the rest is cut off. *fd is the caller's to close. */
int attach_part_open(const char *home, const uint8_t hash[EVENT_HASH_BYTES],
                     const uint8_t *leaves, uint32_t n_chunks, uint64_t size, int *fd,
                     uint32_t *good, char *why, size_t whylen);
/* Writes a checked chunk at its place in the .part. */
int attach_part_write(int fd, uint32_t index, const uint8_t *data, size_t len);
/* The .part is whole (every chunk checked against its leaf, the leaves
 * against hash): synced and renamed into place (it is 0600 in
 * attachments/ as the writer's files are), its leaves kept beside it; on
 * any failure it is removed. */
int attach_part_finish(const char *home, const uint8_t hash[EVENT_HASH_BYTES], uint64_t size,
                       const uint8_t *leaves, char *why, size_t whylen);
/* Removes from home's attachments/ what no item lists, as a daemon does
 * once at start (files unlisted while it runs go as the list changes, in
 * sync/xfer.c): <hex>, <hex>.part and <hex>.leaves for which
 * listed(ctx, hash) is 0,
 * and the writer's temporary files (.incoming.*.tmp, left by a crash
 * mid-upload). Only entries older than min_age_s seconds: a `publish
 * --attach` running at that moment has put its file in place but not yet
 * signed the item that lists it. Other names are left alone. Returns the
 * number removed. */
size_t attach_sweep(const char *home, int (*listed)(void *ctx, const uint8_t *hash), void *ctx,
                    int64_t min_age_s);
#define ATTACH_SWEEP_AGE_S 600

/* Removes the file of hash, its .part and its .leaves, if there. */
void attach_remove(const char *home, const uint8_t hash[EVENT_HASH_BYTES]);

/* The media type for a file name, by its extension (a fixed table, no
 * content sniffing): "application/pdf" for x.PDF; "application/octet-stream"
 * when unknown. Static. */
const char *attach_media_type(const char *name);
/* The last component of path ("a/b/c.pdf" → "c.pdf"); path itself when it
 * has no '/'. */
const char *attach_basename(const char *path);

#endif
