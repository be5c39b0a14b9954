// libpng behind a plain C interface. libpng reports errors by longjmp; that jump must
// never cross Swift frames, so every libpng call happens here, under setjmp, and errors
// come back as a return code and a message.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { COMCL_PNG_TOO_LARGE = 2 };

/// Decodes a PNG (any bit depth, gray / gray+alpha / RGB / RGBA / palette, interlaced or
/// not) to RGB, row-major. With keep_16, a 16-bit PNG gives 16-bit samples in host order
/// (*depth 16: 6 bytes a pixel); otherwise samples are 8-bit (*depth 8) and 16-bit ones keep
/// their high byte. Alpha and tRNS are dropped; no gamma or colour management is applied (the
/// stored samples, as Pillow's convert("RGB") gives them). Images over max_pixels are refused
/// before allocation. Returns 0 and sets *pixels (free with comcl_free), *width, *height,
/// *depth; returns COMCL_PNG_TOO_LARGE (with *width, *height set) for an image over
/// max_pixels; otherwise returns another nonzero value and writes a message.
int comcl_png_decode_rgb(const uint8_t *data, size_t size, uint64_t max_pixels, int keep_16,
                         uint8_t **pixels, uint32_t *width, uint32_t *height, int *depth,
                         char *message, size_t message_size);

/// Encodes 8-bit pixels (channels 1 = gray, 3 = RGB, 4 = RGBA) as a non-interlaced PNG.
/// Returns 0 and sets *png / *png_size (free with comcl_free), or nonzero and a message.
int comcl_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                     uint8_t **png, size_t *png_size, char *message, size_t message_size);

void comcl_free(void *pointer);
