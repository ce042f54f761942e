/*
 * fuzz: what the libFuzzer targets in tests/fuzz share. Each fuzz_NAME.c
 * defines LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer for
 * `make fuzz`, and with replay.c's main() into a ctest (fuzz_replay_NAME)
 * that runs the seed corpus and every saved crash in every build.
 */
#ifndef LERNET_FUZZ_H
#define LERNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Once per process: libsodium, quiet logs, a private temporary directory. */
void fuzz_init(void);
/* A path inside that directory (static buffer, valid until the next call). */
const char *fuzz_temp_path(const char *name);

#endif
