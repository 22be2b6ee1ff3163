// CHECK for the standalone GPU probes in bench/: a CUDA, driver or cuBLASLt
// call's status, printed with its place and fatal when not 0.
#ifndef MLPC_BENCH_PROBE_CHECK_H
#define MLPC_BENCH_PROBE_CHECK_H

#include <cstdio>
#include <cstdlib>

#define CHECK(x)                                                               \
  do {                                                                         \
    auto e = (x);                                                              \
    if (e != 0) {                                                              \
      std::printf("%s:%d: error %d\n", __FILE__, __LINE__, int(e));            \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

#endif
