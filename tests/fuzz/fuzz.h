/* fuzz.h — the libFuzzer entry point of the harnesses in tests/fuzz/ (each
 * also built with replay_main.c into a program that replays a corpus, so
 * ctest runs the stored corpus in every build). */
#ifndef CQB_FUZZ_H
#define CQB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
