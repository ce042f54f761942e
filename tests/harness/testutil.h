/*
 * testutil: shared fixtures for the cmocka tests: temporary homes, sample
 * payloads with realistic multilingual content, and signed chains.
 * Include after <cmocka.h>'s prerequisites (stdarg, stddef, setjmp).
 */
#ifndef LERNET_TESTUTIL_H
#define LERNET_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "keys/keys.h"

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_tempdir(void);
/* rm -rf path and free it; sets *path NULL. */
void tu_rmtree(char **path);

/* One message of a GNU .mo catalogue, with its length: a plural entry
 * holds both forms, NUL-separated. */
typedef struct tu_msg {
    const char *id;
    size_t id_len;
    const char *str;
    size_t str_len;
} tu_msg_t;
#define TU_MSG(id, str) {id, sizeof id - 1, str, sizeof str - 1}
/* Writes DIR/LANG/LC_MESSAGES/lernet.mo (little-endian, no hash table)
 * from msgs[0..n), which must be sorted by msgid with the header ("")
 * first: bytes built here, which no msgfmt --check has seen (hostile
 * catalogues). Fails the test on any error. */
void tu_write_mo(const char *dir, const char *lang, const tu_msg_t *msgs, size_t n);

/* Payload builders. The returned payload and everything in it is malloc'd;
 * free with tu_payload_free. */
Lernet__Payload *tu_workshop(const char *title_sv, const char *title_en, int64_t start);
Lernet__Payload *tu_meeting(const char *title, int64_t start);
Lernet__Payload *tu_experience(const uint8_t about[EVENT_ID_BYTES], const char *title);
Lernet__Payload *tu_update_workshop(const uint8_t target[EVENT_ID_BYTES], const char *title,
                                    int64_t start);
/* An update of a meeting: tu_meeting's content with minutes added. */
Lernet__Payload *tu_update_meeting(const uint8_t target[EVENT_ID_BYTES], const char *title,
                                   int64_t start, const char *minutes);
Lernet__Payload *tu_cancel(const uint8_t target[EVENT_ID_BYTES], const char *reason);
/* An erasure of n event ids. */
Lernet__Payload *tu_erasure(const uint8_t (*targets)[EVENT_ID_BYTES], size_t n,
                            const char *reason);
/* A method description in Danish with a URL and n_attachments (0..16)
 * listed files (made-up hashes: the files are nowhere). */
Lernet__Payload *tu_resource(const char *title, int n_attachments);
Lernet__Payload *tu_reply(const uint8_t about[EVENT_ID_BYTES], const char *text_sv);
Lernet__Payload *tu_hide(const uint8_t target[EVENT_ID_BYTES], const char *reason, int unhide);
void tu_payload_free(Lernet__Payload *p);

/* The payload of kind from its JSON text (core/payload_json.h); fails the
 * test with payload_from_json's reason when it is refused. Free with
 * tu_payload_free. */
Lernet__Payload *tu_payload_from_json(int kind, const char *text);

/* Closes *st, runs sql on the store's file at path behind its back (to
 * tamper with it, or to probe what a replay would put right), and opens it
 * again into *st; fails the test if any step does. */
struct store;
void tu_store_sql(struct store **st, const char *path, const char *sql);

/* Signs the next event of (k, network) after prev_ev (NULL for seq 1). */
event_t *tu_next(const keys_identity_t *k, const char *network, const event_t *prev_ev,
                 const Lernet__Payload *p);

/* Runs `node tests/SCRIPT build-npm/node_modules FILE` (a real parser or
 * validator from the npm registry, installed by scripts/install-deps) and
 * returns its stdout as JSON (new reference); fails the test if it cannot. */
struct json_t;
struct json_t *tu_node_json(const char *script, const char *file);
/* Runs a shell command line; returns its exit status (or -1), and if out is
 * not NULL, a malloc'd copy of its stdout. */
int tu_run(const char *cmdline, char **out);
/* Debian's python, which has the packages scripts/install-deps installs
 * (python3-icalendar, ...), whatever python3 is first on PATH. */
#define TU_PYTHON "/usr/bin/python3"
/* Runs tests/harness/SCRIPT (python) with args (already shell-quoted) and
 * parses its stdout as JSON (new ref), or NULL with the output on stderr. */
struct json_t *tu_python_json(const char *script, const char *args);

#endif
