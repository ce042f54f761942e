/*
 * log: leveled logging to stderr, one line per record, journald-friendly
 * ("<N>" priority prefixes when LERNET_LOG_PREFIX=journal, plain otherwise).
 * Never pass secret material to these functions.
 */
#ifndef LERNET_LOG_H
#define LERNET_LOG_H

#include <stddef.h>


enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN = 1, LOG_LVL_INFO = 2, LOG_LVL_DEBUG = 3 };

/* Set the threshold and a short tag printed on every line (e.g. the node's
 * fingerprint, so that several daemons on one terminal can be told apart). */
void log_init(enum log_level level, const char *tag);
/* Parses "error|warn|info|debug"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

/* Every record is one line whatever its arguments hold: the formatted text
 * goes through text_escape, so text from the network (a partner's error
 * message, a name, a URL) can neither start a line of its own nor a "<N>"
 * priority prefix. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
