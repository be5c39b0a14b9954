#pragma once
// oneDNN's C API (Debian's libdnnl-dev, built on the OpenMP runtime) and the few entry points of
// that runtime (libgomp) the engine calls itself, so its own loops share oneDNN's threads.
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

// libgomp (omp.h lives in GCC's private include folder, which Swift's clang does not search).
void omp_set_num_threads(int);
int omp_get_max_threads(void);
int omp_get_thread_num(void);
// Runs fn(data) on a team of num_threads threads (the caller is thread 0): what GCC emits for
// `#pragma omp parallel num_threads(n)`, a stable part of libgomp's ABI since GCC 4.9.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
