/* fuzz_mo: the web page's translation catalogues (.mo files, node/web/i18n).
 * They come from our own build, yet a damaged or foreign file in
 * web_locale_dir must be refused, never read past its end: the checker,
 * and for an accepted file the lookups (singular, plural, a miss). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "web/i18n.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256], path[700], missing[64];
    size_t n = 0;
    fuzz_init();
    if (i18n_check_mo(data, size, &n, why, sizeof why) != 0)
        return 0;
    const char *dir = fuzz_temp_path("locale");
    snprintf(path, sizeof path, "%s/sv", dir);
    mkdir(dir, 0700);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/sv/LC_MESSAGES", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/sv/LC_MESSAGES/lernet.mo", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    i18n_t *t = NULL;
    if (i18n_open(&t, dir, missing, sizeof missing, why, sizeof why) != 0)
        return 0;
    static const char *const ids[] = {"Calendar", "", "zzz", "%s event", "A"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const char *s = i18n_get(t, "sv", ids[i]);
        (void)strlen(s);
        s = i18n_nget(t, "sv", ids[i], "many", i);
        (void)strlen(s);
    }
    i18n_close(&t);
    return 0;
}
