// libFuzzer's driver, called from a fuzz target's own `main` (see Tests/Fuzz/FuzzSupport/Fuzzer.swift).
// The library itself comes with the Swift toolchain (libclang_rt.fuzzer) and is linked by -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
