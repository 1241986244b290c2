#pragma once
// FOLIO_CHECK: an invariant check that stays on in release builds. On failure it prints the
// condition and location to stderr and aborts (a broken invariant is a bug, not an input error).
#include <cstdio>
#include <cstdlib>

#define FOLIO_CHECK(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) [[unlikely]] {                                                        \
            std::fprintf(stderr, "folio: invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                        \
            std::abort();                                                                  \
        }                                                                                  \
    } while (0)
