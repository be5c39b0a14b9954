#pragma once
#include <stdint.h>
// The encoder's memory-bound loops outside oneDNN (batch norm, max pooling, Adam) over
// channels-last rows. In C because Swift compiles for baseline x86-64 only: each function is
// cloned for AVX-512, AVX2 and the baseline and picked when the library loads. Vectors run across
// channels, never across rows, so every channel's sums keep the same order on any CPU; contraction
// into FMA is off for the same reason (docs/encoder.md).

/// acc[k] += sum over rows of x[r][k].
void comcl_channel_sum(const float *x, long rows, long channels, float *acc);
/// acc[k] += sum over rows of (x[r][k] - mean[k])^2.
void comcl_channel_centred_squares(const float *x, long rows, long channels, const float *mean, float *acc);
/// y = x * scale + shift, plus residual when not NULL, then max(., 0) when relu.
void comcl_scale_shift(const float *x, const float *residual, float *y, long rows, long channels,
                       const float *scale, const float *shift, int relu);
/// The batch-norm backward's per-channel sums: g = dy, or dy where y > 0 and 0 elsewhere when relu
/// (then written to g_out); sum_g[k] += g, sum_gx[k] += g * (x - mean[k]).
void comcl_bn_backward_sums(const float *y, const float *dy, const float *x, const float *mean, float *g_out,
                            long rows, long channels, int relu, float *sum_g, float *sum_gx);
/// dx = scale * g - a * x + b (the batch-norm input gradient, rewritten per channel).
void comcl_bn_input_gradient(const float *g, const float *x, float *dx, long rows, long channels,
                             const float *scale, const float *a, const float *b);
/// One window tap of max pooling: where v > best (strictly: ties keep the first), best = v and
/// at = base + k.
void comcl_max_tap(const float *v, float *best, int32_t *at, int32_t base, long channels);
/// One Adam step over count entries (torch.optim.Adam / AdamW): grad = g + l2 * w; moments;
/// w = w * shrink - step_size * m / (sqrt(v) / c2 + eps).
void comcl_adam(float *w, const float *g, float *m, float *v, long count, float b1, float b2, float l2, float shrink,
                float step_size, float c2, float eps);
