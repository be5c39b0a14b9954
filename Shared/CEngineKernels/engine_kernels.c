#include "engine_kernels.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES  // other CPUs: the compiler's own vectorisation for the build target
#endif

CLONES void comcl_channel_sum(const float *restrict x, long rows, long channels, float *restrict acc) {
    for (long r = 0; r < rows; r++) {
        const float *restrict row = x + r * channels;
        for (long k = 0; k < channels; k++) acc[k] += row[k];
    }
}

CLONES void comcl_channel_centred_squares(const float *restrict x, long rows, long channels, const float *restrict mean,
                                          float *restrict acc) {
    for (long r = 0; r < rows; r++) {
        const float *restrict row = x + r * channels;
        for (long k = 0; k < channels; k++) {
            float d = row[k] - mean[k];
            acc[k] += d * d;
        }
    }
}

CLONES void comcl_scale_shift(const float *restrict x, const float *restrict residual, float *restrict y, long rows,
                              long channels, const float *restrict scale, const float *restrict shift, int relu) {
    for (long r = 0; r < rows; r++) {
        const float *restrict in = x + r * channels;
        float *restrict out = y + r * channels;
        if (residual) {
            const float *restrict res = residual + r * channels;
            if (relu) for (long k = 0; k < channels; k++) out[k] = fmaxf(in[k] * scale[k] + shift[k] + res[k], 0);
            else for (long k = 0; k < channels; k++) out[k] = in[k] * scale[k] + shift[k] + res[k];
        } else {
            if (relu) for (long k = 0; k < channels; k++) out[k] = fmaxf(in[k] * scale[k] + shift[k], 0);
            else for (long k = 0; k < channels; k++) out[k] = in[k] * scale[k] + shift[k];
        }
    }
}

CLONES void comcl_bn_backward_sums(const float *restrict y, const float *restrict dy, const float *restrict x,
                                   const float *restrict mean, float *restrict g_out, long rows, long channels, int relu,
                                   float *restrict sum_g, float *restrict sum_gx) {
    for (long r = 0; r < rows; r++) {
        long o = r * channels;
        if (relu) {
            for (long k = 0; k < channels; k++) {
                float g = y[o + k] > 0 ? dy[o + k] : 0;
                g_out[o + k] = g;
                sum_g[k] += g;
                sum_gx[k] += g * (x[o + k] - mean[k]);
            }
        } else {
            for (long k = 0; k < channels; k++) {
                float g = dy[o + k];
                sum_g[k] += g;
                sum_gx[k] += g * (x[o + k] - mean[k]);
            }
        }
    }
}

CLONES void comcl_bn_input_gradient(const float *restrict g, const float *restrict x, float *restrict dx, long rows,
                                    long channels, const float *restrict scale, const float *restrict a,
                                    const float *restrict b) {
    for (long r = 0; r < rows; r++) {
        long o = r * channels;
        for (long k = 0; k < channels; k++) dx[o + k] = scale[k] * g[o + k] - a[k] * x[o + k] + b[k];
    }
}

CLONES void comcl_max_tap(const float *restrict v, float *restrict best, int32_t *restrict at, int32_t base, long channels) {
    for (long k = 0; k < channels; k++) {
        int better = v[k] > best[k];
        best[k] = better ? v[k] : best[k];
        at[k] = better ? base + (int32_t)k : at[k];
    }
}

CLONES void comcl_adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, long count,
                       float b1, float b2, float l2, float shrink, float step_size, float c2, float eps) {
    for (long i = 0; i < count; i++) {
        float grad = g[i] + l2 * w[i];
        float mi = b1 * m[i] + (1 - b1) * grad;
        float vi = b2 * v[i] + (1 - b2) * grad * grad;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - step_size * mi / (sqrtf(vi) / c2 + eps);
    }
}
