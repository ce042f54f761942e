/*
 * test_xapi: `lernet export xapi` on a workshop and an experience report
 * with role counts: two statements (attended, shared), valid by Learning
 * Locker's conformance-tested xapi-validation (from the npm registry; `make
 * test` installs it into build-npm/), the actor an organisation account and
 * no person anywhere; the validator is shown to catch a broken statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

static json_t *validate(const char *file)
{
    json_t *w = tu_node_json("xapi_check.js", file);
    assert_non_null(w);
    return w;
}

static void test_export_xapi(void **state)
{
    (void)state;
    hnode_t A;
    char *out = NULL, file[700], broken[700];
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_lernet(&A, &out, "publish workshop --title 'sv:Arbetsplatslärande' "
                                        "--start 2027-02-09T09:00 --end 2027-02-09T12:00 "
                                        "--place Östhammar"),
                     0);
    char id[13];
    snprintf(id, sizeof id, "%.12s", strchr(out, ' ') + 1);
    free(out);
    assert_int_equal(h_lernet(&A, NULL,
                              "publish experience --about %s --title 'sv:Vad vi lärde oss' "
                              "--text 'sv:Coachning på arbetsplatsen fungerade.' "
                              "--participants teachers=12 "
                              "--participants 'company representatives=7'",
                              id),
                     0);
    snprintf(file, sizeof file, "%s/xapi.json", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export xapi --out '%s'", file), 0);

    json_t *warnings = validate(file);
    assert_int_equal(json_array_size(warnings), 2);
    for (size_t i = 0; i < 2; i++)
        if (json_array_size(json_array_get(warnings, i)) != 0) {
            char *w = json_dumps(json_array_get(warnings, i), 0);
            fail_msg("statement %zu is not valid xAPI: %s", i, w);
        }
    json_decref(warnings);

    json_error_t e;
    json_t *st = json_load_file(file, 0, &e), *s0 = json_array_get(st, 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(s0, "verb"), "id")),
                        "http://adlnet.gov/expapi/verbs/attended");
    json_t *account = json_object_get(json_object_get(s0, "actor"), "account");
    assert_non_null(account); /* the organisation's key, never a person */
    assert_null(json_object_get(json_object_get(s0, "actor"), "mbox"));
    json_t *ext = json_object_get(json_object_get(s0, "result"), "extensions");
    assert_int_equal(json_integer_value(json_object_get(ext, "https://lernet.invalid/xapi/participants")),
                     19);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(st, 1), "verb"), "id")),
                        "http://adlnet.gov/expapi/verbs/shared");
    /* exporting again gives the same statement ids: an LRS keeps one copy */
    char again[700];
    snprintf(again, sizeof again, "%s/xapi2.json", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export xapi --out '%s'", again), 0);
    json_t *st2 = json_load_file(again, 0, &e);
    assert_string_equal(json_string_value(json_object_get(s0, "id")),
                        json_string_value(json_object_get(json_array_get(st2, 0), "id")));
    json_decref(st2);

    /* the validator is not lenient: without an actor a statement fails */
    json_object_del(s0, "actor");
    snprintf(broken, sizeof broken, "%s/broken.json", A.home);
    assert_int_equal(json_dump_file(st, broken, 0), 0);
    warnings = validate(broken);
    assert_true(json_array_size(json_array_get(warnings, 0)) > 0);
    json_decref(warnings);
    json_decref(st);
    h_node_free(&A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_export_xapi)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
