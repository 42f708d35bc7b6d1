#pragma once

#include <cstdio>
#include <cstdlib>

// A property every input must keep. abort() rather than an exception, so that libFuzzer records
// the input as a crash and the replay test fails with the line that broke.
#define FUZZ_CHECK(condition)                                                                    \
    do {                                                                                         \
        if (!(condition)) {                                                                      \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                        \
        }                                                                                        \
    } while (false)
