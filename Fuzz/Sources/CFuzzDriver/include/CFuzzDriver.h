#ifndef DIVSEG_CFUZZDRIVER_H
#define DIVSEG_CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (command-line options, corpus, mutation loop) on `test`.
///
/// SwiftPM links an executable with `--defsym main=<Module>_main` (testable executables), a
/// symbol that `-parse-as-library` never emits, so libFuzzer's own `main` is never used. Each
/// fuzz target therefore defines `<Module>_main` with `@_cdecl` and calls this.
int divseg_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));
#endif
