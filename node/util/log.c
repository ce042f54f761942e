/*
 * log: the one place that writes diagnostics. Process-wide state (level and
 * tag) is set once at start-up by main; every module just calls log_*.
 * Escaping (text_escape) happens here, once, on the whole formatted record:
 * no caller has to remember which of its arguments came from the network.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/text.h"

static enum log_level threshold = LOG_LVL_INFO;
static char log_tag[48];

void log_init(enum log_level level, const char *tag)
{
    threshold = level;
    text_escape(log_tag, sizeof log_tag, tag ? tag : "");
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
    /* syslog priorities, understood by journald when stderr is captured */
    static const int prio[] = {3, 4, 6, 7};
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (lvl > threshold)
        return;
    char raw[1024], line[4 * sizeof raw + 1];
    vsnprintf(raw, sizeof raw, fmt, ap);
    text_escape(line, sizeof line, raw);
    const char *journal = getenv("LERNET_LOG_PREFIX");
    if (journal && strcmp(journal, "journal") == 0) {
        fprintf(stderr, "<%d>%s%s%s\n", prio[lvl], log_tag, log_tag[0] ? ": " : "", line);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s %s%s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                ts.tv_nsec / 1000000, names[lvl], log_tag, log_tag[0] ? " " : "", line);
    }
}

#define LOG_FN(name, lvl)                                                                          \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vlog(lvl, fmt, ap);                                                                        \
        va_end(ap);                                                                                \
    }
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)
