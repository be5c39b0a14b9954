// The machine's fp32 peak, measured rather than looked up: 12 independent FMA chains hide the
// 4-cycle latency on two FMA ports. Each kernel is compiled for its instruction set and chosen at
// run time, so the binary runs on any x86-64.
#include "peak_flops.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CHAINS 12

__attribute__((target("avx512f"))) static double fma512(long n) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    float sink = 0;
    for (int i = 0; i < CHAINS; i++) sink += _mm512_reduce_add_ps(acc[i]);
    __asm__ volatile("" : : "x"(sink));
    return (double)n * CHAINS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double fma256(long n) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float out[8], sink = 0;
    for (int i = 0; i < CHAINS; i++) { _mm256_storeu_ps(out, acc[i]); sink += out[0]; }
    __asm__ volatile("" : : "x"(sink));
    return (double)n * CHAINS * 8 * 2;
}

static double mul_add128(long n) {
    __m128 acc[CHAINS];
    const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
    float sink = _mm_cvtss_f32(acc[0]);
    __asm__ volatile("" : : "x"(sink));
    return (double)n * CHAINS * 4 * 2;
}

double comcl_fma_flops(long iterations, int *width) {
    if (__builtin_cpu_supports("avx512f")) { *width = 16; return fma512(iterations); }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { *width = 8; return fma256(iterations); }
    *width = 4;
    return mul_add128(iterations);
}

#else
// Other CPUs: scalar chains, a lower bound of the peak.
double comcl_fma_flops(long iterations, int *width) {
    float acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = (float)i;
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    float sink = acc[0];
    __asm__ volatile("" : : "r"(sink));
    *width = 1;
    return (double)iterations * CHAINS * 2;
}
#endif
