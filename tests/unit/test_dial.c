/*
 * test_dial: the policy for reaching a partner (daemon/dial.c): after a
 * failed handshake the next try waits exponentially longer, up to a
 * minute, each delay drawn from the upper half of its step (jitter); a
 * partner that cannot be reached is logged once however often it is
 * tried, and once when it is back; an unreachable one is left to libzmq's
 * own back-off (no drop), a refused handshake is dropped until its time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/dial.h"

static void test_backoff_exponential_with_jitter(void **state)
{
    (void)state;
    int64_t step = DIAL_BASE_MS;
    for (unsigned fails = 1; fails <= 12; fails++) {
        int64_t lo = dial_backoff_ms(fails, 0), hi = dial_backoff_ms(fails, UINT32_MAX);
        assert_int_equal(lo, step / 2);
        assert_true(hi <= step && hi > lo);
        /* different random values give different delays: partners drift apart */
        assert_true(dial_backoff_ms(fails, 12345) != dial_backoff_ms(fails, 54321) || step < 4);
        step = step * 2 > DIAL_MAX_MS ? DIAL_MAX_MS : step * 2;
    }
    assert_int_equal(dial_backoff_ms(1, 0), DIAL_BASE_MS / 2);
    assert_true(dial_backoff_ms(40, UINT32_MAX) <= DIAL_MAX_MS);
    assert_true(dial_backoff_ms(40, 0) >= DIAL_MAX_MS / 2);
}

static void test_logged_once_down_and_back(void **state)
{
    (void)state;
    dial_t d = {0};
    int64_t now = 1000;
    assert_int_equal(dial_failed(&d, false, "cannot connect to tcp://lernet.example:7400", 7,
                                 now),
                     DIAL_LOG_DOWN);
    for (int i = 0; i < 50; i++) /* libzmq retries: counted, not logged, not dropped */
        assert_int_equal(dial_failed(&d, false, "cannot connect", 7, now + i), DIAL_NOTHING);
    assert_int_equal(d.fails, 51);
    assert_int_equal(d.down_since_ms, now);
    assert_int_equal(d.retry_at_ms, 0);
    assert_int_equal(dial_up(&d, now + 100), DIAL_LOG_BACK);
    assert_int_equal(d.fails, 0);
    assert_int_equal(d.error[0], '\0');
    /* dropping after being up is no failed try yet: it may come back at once */
    dial_down(&d);
    assert_int_equal(dial_up(&d, now + 200), DIAL_NOTHING);
}

static void test_refused_handshake_dropped_until_due(void **state)
{
    (void)state;
    dial_t d = {0};
    int64_t now = 5000;
    assert_int_equal(dial_failed(&d, true, "it refused our handshake", 0, now),
                     DIAL_LOG_DOWN | DIAL_DETACH);
    assert_int_equal(d.retry_at_ms, now + DIAL_BASE_MS / 2);
    assert_false(dial_due(&d, now + DIAL_BASE_MS / 2 - 1));
    assert_true(dial_due(&d, now + DIAL_BASE_MS / 2));
    assert_false(dial_due(&d, now + DIAL_BASE_MS)); /* once */
    now += DIAL_BASE_MS;
    assert_int_equal(dial_failed(&d, true, "it refused our handshake", 0, now), DIAL_DETACH);
    assert_int_equal(d.retry_at_ms, now + DIAL_BASE_MS); /* the step doubled */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_exponential_with_jitter),
        cmocka_unit_test(test_logged_once_down_and_back),
        cmocka_unit_test(test_refused_handshake_dropped_until_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
