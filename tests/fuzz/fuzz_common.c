/* fuzz_common: see fuzz.h. The state here is per fuzzing process, which is
 * what libFuzzer's one-function interface leaves room for. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "keys/keys.h"
#include "util/log.h"

static char dir[256];

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

void fuzz_init(void)
{
    if (dir[0])
        return;
    if (keys_init() != 0)
        abort();
    log_init(LOG_LVL_ERROR, ""); /* refusals are the expected outcome: keep them quiet */
    snprintf(dir, sizeof dir, "%s/lernet-fuzz-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        abort();
    atexit(remove_dir);
}

const char *fuzz_temp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}
