/* bundle: see bundle.h. */
#include "export/bundle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/why.h"

#define IMPORT_TX 4000 /* events per store transaction */

typedef struct writer {
    FILE *f;
    size_t n;
    int failed;
} writer_t;

static int write_row(void *ctx, const store_row_t *r)
{
    writer_t *w = ctx;
    uint8_t *env, len4[4];
    size_t len;
    if (store_row_envelope(r, &env, &len) != 0) {
        w->failed = 1;
        return 1;
    }
    len4[0] = (uint8_t)(len >> 24), len4[1] = (uint8_t)(len >> 16), len4[2] = (uint8_t)(len >> 8),
    len4[3] = (uint8_t)len;
    if (fwrite(len4, 1, 4, w->f) != 4 || fwrite(env, 1, len, w->f) != len)
        w->failed = 1;
    free(env);
    w->n++;
    return w->failed;
}

int bundle_export(store_t *st, const char *network, const char *path, bundle_stats_t *out,
                  char *why, size_t whylen)
{
    store_feed_t *feeds = NULL;
    size_t n = 0, logs = 0;
    fileio_t *fio = NULL;
    if (store_feeds(st, NULL, 0, &feeds, &n) != STORE_OK)
        return why_fail(why, whylen, -1, "cannot read the logs");
    /* a random temporary name beside path, never a planted FILE.partial */
    if (fileio_open(&fio, path, 0644, FILEIO_UMASK, why, whylen) != FILEIO_OK) {
        free(feeds);
        return -1;
    }
    writer_t w = {fileio_stream(fio), 0, 0};
    fputs(BUNDLE_MAGIC, w.f);
    for (int pass = 0; pass < 2 && !w.failed; pass++) /* key logs first */
        for (size_t i = 0; i < n && !w.failed; i++) {
            int reserved = event_log_reserved(feeds[i].network);
            if (reserved != (pass == 0) ||
                (!reserved && network && strcmp(network, feeds[i].network) != 0))
                continue;
            store_range(st, feeds[i].author, feeds[i].network, 1, feeds[i].seq, write_row, &w);
            logs++;
        }
    free(feeds);
    if (w.failed) {
        fileio_abort(&fio);
        return why_fail(why, whylen, -1, "%s: an event could not be read or written", path);
    }
    if (fileio_commit(&fio, why, whylen) != FILEIO_OK)
        return -1;
    memset(out, 0, sizeof *out);
    out->events = w.n;
    out->logs = logs;
    return 0;
}

/* The next envelope: 1, 0 at the end, -1 on a malformed frame. */
static int next_envelope(FILE *f, uint8_t *buf, size_t *len)
{
    uint8_t l4[4];
    size_t got = fread(l4, 1, 4, f);
    if (got == 0)
        return 0;
    if (got != 4)
        return -1;
    *len = (size_t)l4[0] << 24 | (size_t)l4[1] << 16 | (size_t)l4[2] << 8 | l4[3];
    if (*len == 0 || *len > EVENT_MAX_ENVELOPE || fread(buf, 1, *len, f) != *len)
        return -1;
    return 1;
}

static void refuse(bundle_stats_t *s, size_t index, const char *reason, const char *detail)
{
    if (s->refused++ < 20)
        log_warn("bundle event %zu refused: %s: %s", index, reason, detail);
    else if (s->refused == 21)
        log_warn("more refusals follow; only the count is kept");
}

/* One import pass over the envelopes after the magic line. Pass 0 takes
 * every envelope, but leaves a header-only one that no erasure covers yet
 * for later (*deferred counts them): the erasure that covers it comes later
 * in the same log, so after the first pass it is known. Pass 1 takes only
 * the header-only envelopes again, and refuses what is still uncovered. */
static int import_pass(store_t *st, const config_t *cfg, FILE *f, uint8_t *buf, int pass,
                       bundle_stats_t *out, size_t *deferred, char *why, size_t whylen)
{
    char detail[256];
    size_t len = 0, in_tx = 0, index = 0;
    int r;
    while (index < BUNDLE_MAX_EVENTS && (r = next_envelope(f, buf, &len)) != 0) {
        event_t *ev = NULL;
        int outcome = -1, prc;
        if (r < 0) {
            if (pass == 0)
                refuse(out, out->events, "malformed", "a frame is cut short or too long; stopped");
            break;
        }
        index++;
        if (pass == 0)
            out->events++;
        prc = event_parse_erasable(&ev, buf, len, event_now_ms(), detail, sizeof detail);
        if (pass == 1 && (prc != EV_OK || ev->has_payload)) {
            event_free(&ev);
            continue; /* judged in the first pass */
        }
        if (prc != EV_OK) {
            refuse(out, index, err_name(prc), detail);
            continue;
        }
        if (!event_log_reserved(ev->network) && !config_has_network(cfg, ev->network)) {
            refuse(out, index, "scope", "a network this node does not take part in");
            event_free(&ev);
            continue;
        }
        if (!in_tx && store_begin(st) != STORE_OK) {
            event_free(&ev);
            return why_fail(why, whylen, -1, "the store is busy");
        }
        in_tx++;
        int src = store_add(st, ev, &outcome, NULL, detail, sizeof detail);
        event_free(&ev);
        if (src == STORE_ERR_SQL || src == STORE_ERR_FULL || src == STORE_ERR_BUSY) {
            store_rollback(st);
            return why_fail(why, whylen, -1, "store: %s", detail);
        }
        if (src == EV_PAYLOAD_MISSING && pass == 0)
            (*deferred)++;
        else if (src != STORE_OK)
            refuse(out, index, src == EV_PAYLOAD_MISSING ? err_name(src) : err_text(src), detail);
        else if (outcome == STORE_APPLIED)
            out->applied++;
        else if (outcome == STORE_DUPLICATE)
            out->duplicates++;
        else if (outcome == STORE_HELD)
            out->held++;
        if (in_tx >= IMPORT_TX) {
            if (store_commit(st) != STORE_OK)
                return why_fail(why, whylen, -1, "store: commit failed");
            in_tx = 0;
        }
    }
    if (in_tx && store_commit(st) != STORE_OK)
        return why_fail(why, whylen, -1, "store: commit failed");
    return 0;
}

int bundle_import(store_t *st, const config_t *cfg, const char *path, bundle_stats_t *out,
                  char *why, size_t whylen)
{
    char magic[sizeof BUNDLE_MAGIC];
    uint8_t *buf = malloc(EVENT_MAX_ENVELOPE);
    size_t deferred = 0;
    int rc = 0;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f || !buf) {
        free(buf);
        if (f)
            fclose(f);
        return why_fail(why, whylen, -1, "%s: %s", path, strerror(errno));
    }
    for (int pass = 0; rc == 0 && pass < 2 && (pass == 0 || deferred); pass++) {
        if (fseek(f, 0, SEEK_SET) != 0 ||
            fread(magic, 1, strlen(BUNDLE_MAGIC), f) != strlen(BUNDLE_MAGIC) ||
            memcmp(magic, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) != 0) {
            rc = why_fail(why, whylen, -1, "%s: not a lernet bundle", path);
            break;
        }
        rc = import_pass(st, cfg, f, buf, pass, out, &deferred, why, whylen);
    }
    fclose(f);
    free(buf);
    return rc;
}
