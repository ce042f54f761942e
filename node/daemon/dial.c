/*
 * dial: back-off and once-only logging of the attempts to reach a partner
 * (see dial.h for the policy).
 */
#include "daemon/dial.h"

#include <stdio.h>

int64_t dial_backoff_ms(unsigned fails, uint32_t rnd)
{
    int64_t max = DIAL_BASE_MS;
    for (unsigned i = 1; i < fails && max < DIAL_MAX_MS; i++)
        max *= 2;
    if (max > DIAL_MAX_MS)
        max = DIAL_MAX_MS;
    return max / 2 + (int64_t)(rnd % (uint32_t)(max / 2 + 1));
}

int dial_up(dial_t *d, int64_t now_ms)
{
    (void)now_ms;
    int act = d->fails ? DIAL_LOG_BACK : DIAL_NOTHING;
    d->up = true;
    d->fails = 0;
    d->down_since_ms = 0;
    d->retry_at_ms = 0;
    d->error[0] = '\0';
    return act;
}

void dial_down(dial_t *d)
{
    d->up = false;
}

int dial_failed(dial_t *d, bool handshake, const char *error, uint32_t rnd, int64_t now_ms)
{
    int act = d->fails ? DIAL_NOTHING : DIAL_LOG_DOWN;
    d->up = false;
    if (!d->fails)
        d->down_since_ms = now_ms;
    d->fails++;
    snprintf(d->error, sizeof d->error, "%s", error ? error : "");
    if (handshake) {
        d->retry_at_ms = now_ms + dial_backoff_ms(d->fails, rnd);
        act |= DIAL_DETACH;
    }
    return act;
}

bool dial_due(dial_t *d, int64_t now_ms)
{
    if (!d->retry_at_ms || now_ms < d->retry_at_ms)
        return false;
    d->retry_at_ms = 0;
    return true;
}
