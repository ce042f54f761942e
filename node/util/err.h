/*
 * err: the one namespace of error codes. Every module's codes are listed
 * here, each module in a range of its own (-100s events, -200s store, ...),
 * so a code means one thing wherever it travels and one function names it.
 * Codes are negative; 0 is success everywhere. A module's functions still
 * return the codes of that module (a caller that passes a callee's code on
 * says so in its header); the one-line reason beside a code is in `why`
 * (util/why.h), and a caller may prefix it, never replace it. Everywhere,
 * out-parameters are written only when a call returns 0: after a failure
 * they hold what the caller put there.
 *
 * The names ("bad_signature", "not_a_member", ...) are stable: they appear
 * in logs, CLI output, /metrics and tests, and are unique across modules.
 */
#ifndef LERNET_UTIL_ERR_H
#define LERNET_UTIL_ERR_H

#include <stddef.h>

/* X(identifier, value, name, text) for every code, grouped by module. */
#define LERNET_ERRORS(X)                                                                     \
    /* core/event: why an event is refused (event_parse, event_create) */                    \
    X(EV_ENVELOPE_TOO_LARGE, -101, "envelope_too_large", "envelope too large")               \
    X(EV_ENVELOPE_MALFORMED, -102, "envelope_malformed", "envelope malformed")               \
    X(EV_HEADER_TOO_LARGE, -103, "header_too_large", "header too large")                     \
    X(EV_HEADER_MALFORMED, -104, "header_malformed", "header malformed")                     \
    X(EV_BAD_VERSION, -105, "bad_version", "unknown event format version")                   \
    X(EV_BAD_AUTHOR, -106, "bad_author", "bad author key")                                   \
    X(EV_BAD_SIGNER, -107, "bad_signer", "bad signer key")                                   \
    X(EV_BAD_SEQ, -108, "bad_seq", "bad seq")                                                \
    X(EV_BAD_PREV, -109, "bad_prev", "bad previous event id")                                \
    X(EV_BAD_NETWORK, -110, "bad_network", "bad or foreign network")                         \
    X(EV_UNKNOWN_KIND, -111, "unknown_kind", "kind not supported")                           \
    X(EV_FUTURE_TIME, -112, "future_time", "created in the future")                          \
    X(EV_BAD_SIGNATURE, -113, "bad_signature", "signature does not verify")                  \
    X(EV_PAYLOAD_TOO_LARGE, -114, "payload_too_large", "payload too large")                  \
    X(EV_PAYLOAD_SIZE_MISMATCH, -115, "payload_size_mismatch", "payload size mismatch")      \
    X(EV_PAYLOAD_HASH_MISMATCH, -116, "payload_hash_mismatch", "payload hash mismatch")      \
    X(EV_PAYLOAD_MALFORMED, -117, "payload_malformed", "payload malformed")                  \
    X(EV_KIND_MISMATCH, -118, "kind_mismatch", "payload of another kind")                    \
    X(EV_MISSING_FIELD, -119, "missing_field", "a required field is missing")                \
    X(EV_FIELD_TOO_LONG, -120, "field_too_long", "a field is too long")                      \
    X(EV_BAD_UTF8, -121, "bad_utf8", "text is not valid UTF-8")                              \
    X(EV_BAD_LANG, -122, "bad_lang", "bad language tag")                                     \
    X(EV_BAD_TIME, -123, "bad_time", "bad time")                                             \
    X(EV_BAD_TZ, -124, "bad_tz", "bad time zone")                                            \
    X(EV_BAD_URL, -125, "bad_url", "bad address")                                            \
    X(EV_TOO_MANY, -126, "too_many", "too many entries")                                     \
    X(EV_BAD_SALT, -127, "bad_salt", "bad salt")                                             \
    X(EV_BAD_REFERENCE, -128, "bad_reference", "bad reference to another event")             \
    X(EV_NO_MEMORY, -129, "no_memory", "out of memory")                                      \
    X(EV_WRONG_LOG, -130, "wrong_log", "kind not allowed in that log, or wrong signer")      \
    X(EV_PAYLOAD_MISSING, -131, "payload_missing", "envelope without its payload")           \
    X(EV_SIGN_FAILED, -132, "sign_failed", "signing failed")                                 \
    X(EV_BAD_ATTACHMENT, -133, "bad_attachment", "bad attachment (hash, size, media type)")  \
    X(EV_BAD_FILE_NAME, -134, "bad_file_name", "attachment name is not a plain file name")   \
    X(EV_TOO_FEW_RESPONDENTS, -140, "too_few_respondents",                                   \
      "feedback of fewer than 5 respondents (it could show one person's answers)")           \
    X(EV_HISTOGRAM_MISMATCH, -141, "histogram_mismatch",                                     \
      "a feedback histogram does not sum to the respondent count")                           \
    X(EV_BAD_SERIES, -135, "bad_series", "a series' rule or dates break a bound")          \
    /* store: the replica */                                                                 \
    X(STORE_ERR_SQL, -201, "database_error", "database error")                               \
    X(STORE_ERR_OPEN, -202, "cannot_open", "cannot open the database")                       \
    X(STORE_ERR_SCHEMA, -203, "newer_schema", "database was written by a newer lernet")      \
    X(STORE_ERR_NOT_FOUND, -204, "not_found", "not found")                                   \
    X(STORE_ERR_AMBIGUOUS, -205, "ambiguous_id", "id prefix matches several events")         \
    X(STORE_ERR_PENDING_FULL, -206, "pending_full", "too many held-back events")             \
    X(STORE_ERR_FORKS_FULL, -207, "forks_full", "fork evidence limit reached for this author") \
    X(STORE_ERR_NOMEM, -208, "out_of_memory", "out of memory")                               \
    X(STORE_ERR_BUSY, -209, "database_busy", "database is locked by another process")        \
    X(STORE_ERR_CORRUPT, -210, "corrupt", "stored bytes no longer verify")                   \
    X(STORE_ERR_FULL, -211, "disk_full", "disk full")                                        \
    X(STORE_ERR_UNCERTIFIED, -212, "uncertified_signing_key",                                \
      "signing key not certified by the author")                                             \
    X(STORE_ERR_REVOKED, -213, "revoked", "revoked")                                         \
    X(STORE_ERR_NOT_MEMBER, -214, "not_a_member", "not a member")                            \
    X(STORE_ERR_NO_PAYLOAD, -215, "no_payload", "payload missing")                           \
    X(STORE_ERR_INVALID, -216, "invalid_argument", "invalid argument")                       \
    X(STORE_ERR_LIMIT, -217, "limit_reached", "a bound of the store is reached")             \
    X(STORE_ERR_NOT_ERASABLE, -218, "not_erasable",                                          \
      "an erasure names an event it may not erase")                                          \
    /* keys: secret memory and signing */                                                    \
    X(KEYS_ERR_SODIUM, -301, "sodium", "libsodium initialisation or secure allocation failed") \
    X(KEYS_ERR_ARG, -302, "bad_key_argument", "invalid key argument")                        \
    X(KEYS_ERR_ENCODING, -303, "bad_key_encoding",                                           \
      "not a lernet public key (44 base64 characters)")                                      \
    X(KEYS_ERR_CRYPTO, -304, "crypto", "signature or key check failed")                      \
    /* keys/keystore: key files */                                                           \
    X(KEYSTORE_ERR_IO, -401, "key_io", "cannot read or write the key files")                 \
    X(KEYSTORE_ERR_MODE, -402, "key_mode", "secret key file is accessible by group or others") \
    X(KEYSTORE_ERR_FORMAT, -403, "key_format", "not a lernet key file, or corrupted")        \
    X(KEYSTORE_ERR_PASSPHRASE, -404, "passphrase",                                           \
      "wrong passphrase (or the key file was altered)")                                      \
    X(KEYSTORE_ERR_NEED_PASS, -405, "need_passphrase",                                       \
      "the secret key is encrypted; a passphrase is needed")                                 \
    X(KEYSTORE_ERR_EXISTS, -406, "key_exists", "a key already exists; refusing to overwrite it") \
    X(KEYSTORE_ERR_MEMORY, -407, "key_memory", "out of memory")                              \
    X(KEYSTORE_ERR_MISMATCH, -408, "key_mismatch",                                           \
      "the public key in the key file does not match the secret")                            \
    /* config: lernet.ini */                                                                 \
    X(CONFIG_ERR_IO, -501, "config_io", "cannot open, read or write the file")               \
    X(CONFIG_ERR_INVALID, -502, "config_invalid", "a value or section is wrong")             \
    X(CONFIG_ERR_NOMEM, -503, "config_memory", "out of memory")                              \
    /* store/publish: this node's own events */                                              \
    X(PUBLISH_ERR_INVALID, -601, "publish_invalid", "content breaks a field rule")           \
    X(PUBLISH_ERR_TARGET, -602, "publish_target", "refers to the wrong thing")               \
    X(PUBLISH_ERR_STORE, -603, "publish_store", "the store refused or failed")               \
    X(PUBLISH_ERR_NETWORK, -604, "publish_network", "network missing or not one of ours")    \
    /* core/payload_json: the JSON form of content */                                        \
    X(PJ_ERR_INVALID, -701, "json_invalid", "a field is wrong")                              \
    X(PJ_ERR_NOMEM, -702, "json_memory", "out of memory")                                    \
    /* util/time: civil time */                                                              \
    X(CIVIL_ERR_INVALID, -801, "time_invalid", "not a valid time")                           \
    X(CIVIL_ERR_NOMEM, -802, "time_memory", "out of memory")                                 \
    X(CIVIL_ERR_RANGE, -803, "time_range", "more zone changes than room for them")           \
    /* util/fileio: the atomic writer */                                                     \
    X(FILEIO_ERR_IO, -901, "file_io", "cannot create, write, sync or rename")                \
    X(FILEIO_ERR_EXISTS, -902, "file_exists", "the file exists")                             \
    X(FILEIO_ERR_NOMEM, -903, "file_memory", "out of memory")                                \
    /* daemon/net: CURVE sockets */                                                          \
    X(NET_ERR_VERSION, -1001, "zmq_version", "libzmq too old or without CURVE")              \
    X(NET_ERR_SOCKET, -1002, "socket", "socket creation, option, bind or connect failed")    \
    X(NET_ERR_AGAIN, -1003, "would_block", "would block, or the peer is not connected")      \
    /* web: the page's server */                                                             \
    X(WEB_ERR_LISTEN, -1101, "web_listen", "cannot bind the address")                        \
    X(WEB_ERR_TOKEN, -1102, "web_token", "web_token_file missing, too short or not 0600")    \
    X(WEB_ERR_NOMEM, -1103, "web_memory", "out of memory")                                   \
    X(WEB_ERR_LOCALE, -1104, "web_locale", "a translation catalogue is malformed")             \
    /* daemon/control: the CLI's socket to a running daemon */                               \
    X(CONTROL_ERR_NO_DAEMON, -1201, "no_daemon", "no daemon answered")                       \
    X(CONTROL_ERR_SOCKET, -1202, "control_socket", "control socket failed")                  \
    X(CONTROL_ERR_REPLY, -1203, "control_reply", "the daemon's reply was not JSON")          \
    /* store/attach: attached files beside the log */                                        \
    X(ATTACH_ERR_IO, -1301, "attachment_io", "cannot read or write an attached file")        \
    X(ATTACH_ERR_ABSENT, -1302, "attachment_absent", "the attached file is not here yet")    \
    X(ATTACH_ERR_DAMAGED, -1303, "attachment_damaged", "the attached file's bytes do not match its hash") \
    X(ATTACH_ERR_SIZE, -1304, "attachment_size", "the file is empty or larger than 25 MiB") \
    X(ATTACH_ERR_TOO_LARGE, -1305, "attachment_too_large",                                   \
      "the file is larger than this node's attachment_max_mib")                              \
    X(ATTACH_ERR_QUOTA, -1306, "attachment_quota",                                           \
      "the author's files in that network would pass this node's attachment_quota_mib")     \
    X(ATTACH_ERR_BAD_CHUNK, -1307, "bad_chunk",                                              \
      "a chunk or chunk list from a partner does not match the signed hash")

enum lernet_err {
    ERR_OK = 0,
#define LERNET_ERR_ENUM(id, value, name, text) id = value,
    LERNET_ERRORS(LERNET_ERR_ENUM)
#undef LERNET_ERR_ENUM
};

/* Every module's success is 0. */
enum {
    EV_OK = 0, STORE_OK = 0, KEYS_OK = 0, KEYSTORE_OK = 0, CONFIG_OK = 0, PUBLISH_OK = 0,
    PJ_OK = 0, CIVIL_OK = 0, FILEIO_OK = 0, NET_OK = 0, WEB_OK = 0, CONTROL_OK = 0,
    ATTACH_OK = 0,
};

/* How many codes there are, and a dense index 1..ERR_COUNT of each (0 for
 * ERR_OK and for a number that is no code): for counters per reason. */
enum {
#define LERNET_ERR_ONE(id, value, name, text) +1
    ERR_COUNT = 0 LERNET_ERRORS(LERNET_ERR_ONE)
#undef LERNET_ERR_ONE
};
size_t err_index(int code);
/* The code at index i (1..ERR_COUNT), or ERR_OK. */
int err_at(size_t i);

/* "bad_signature": the stable snake_case name of a code ("ok" for 0,
 * "unknown_error" for a number that is no code). */
const char *err_name(int code);
/* "signature does not verify": a short English text of a code. */
const char *err_text(int code);

#endif
