#include "png_codec.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct failure {
    jmp_buf jump;
    char *message;
    size_t message_size;
};

static void on_error(png_structp png, png_const_charp text) {
    struct failure *failure = png_get_error_ptr(png);
    snprintf(failure->message, failure->message_size, "%s", text);
    longjmp(failure->jump, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;  // warnings (odd ancillary chunks) do not stop a decode
}

struct reader {
    const uint8_t *data;
    size_t size;
    size_t offset;
};

static void read_bytes(png_structp png, png_bytep out, size_t count) {
    struct reader *reader = png_get_io_ptr(png);
    if (reader->size - reader->offset < count) png_error(png, "truncated file: unexpected end of data");
    memcpy(out, reader->data + reader->offset, count);
    reader->offset += count;
}

static void fail(char *message, size_t message_size, const char *text) {
    snprintf(message, message_size, "%s", text);
}

int comcl_png_decode_rgb(const uint8_t *data, size_t size, uint64_t max_pixels, int keep_16,
                         uint8_t **pixels_out, uint32_t *width_out, uint32_t *height_out, int *depth_out,
                         char *message, size_t message_size) {
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        fail(message, message_size, "not a PNG file (bad signature)");
        return 1;
    }
    struct failure failure = {.message = message, .message_size = message_size};
    struct reader reader = {.data = data, .size = size, .offset = 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    if (png == NULL) {
        fail(message, message_size, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    // Written after setjmp and read after a longjmp: must be volatile.
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile indices = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(failure.jump)) {
        free(pixels);
        free(indices);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    if (info == NULL) png_error(png, "out of memory");
    png_set_read_fn(png, &reader, read_bytes);
    // A CRC error in any chunk is an error: a medical image is not silently half-trusted.
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, info);

    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * height > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        *width_out = width;
        *height_out = height;
        snprintf(message, message_size, "image of %ux%u exceeds the limit of %llu pixels", width, height,
                 (unsigned long long)max_pixels);
        return COMCL_PNG_TOO_LARGE;
    }
    const int palette = color_type == PNG_COLOR_TYPE_PALETTE;
    const int depth = palette || bit_depth != 16 || !keep_16 ? 8 : 16;
    if (palette) {
        png_set_packing(png);  // one index per byte; expanded below with a range check
    } else {
        if (bit_depth == 16 && depth == 8) png_set_strip_16(png);
        if (depth == 16) png_set_swap(png);  // PNG stores big-endian; the caller reads host order (little-endian)
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
        if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t row_bytes = (size_t)width * (palette ? 1 : 3) * (depth / 8);
    if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "unexpected row layout after transforms");
    uint8_t *target = malloc(row_bytes * height);
    if (palette) indices = target; else pixels = target;
    rows = malloc(sizeof(png_bytep) * height);
    if (target == NULL || rows == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = target + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);  // checks the chunks after the image data and IEND

    if (palette) {
        png_colorp entries = NULL;
        int count = 0;
        if (png_get_PLTE(png, info, &entries, &count) == 0) png_error(png, "palette image without PLTE chunk");
        pixels = malloc((size_t)width * height * 3);
        if (pixels == NULL) png_error(png, "out of memory");
        for (size_t i = 0; i < (size_t)width * height; i++) {
            if (indices[i] >= count) {
                snprintf(message, message_size, "palette index %d exceeds the palette's %d entries", indices[i], count);
                longjmp(failure.jump, 1);
            }
            png_color colour = entries[indices[i]];
            pixels[3 * i] = colour.red;
            pixels[3 * i + 1] = colour.green;
            pixels[3 * i + 2] = colour.blue;
        }
        free(indices);
        indices = NULL;
    }
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    *pixels_out = pixels;
    *width_out = width;
    *height_out = height;
    *depth_out = depth;
    return 0;
}

struct writer {
    uint8_t *data;
    size_t size;
    size_t capacity;
};

static void write_bytes(png_structp png, png_bytep bytes, size_t count) {
    struct writer *writer = png_get_io_ptr(png);
    if (writer->size + count > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (capacity < writer->size + count) capacity *= 2;
        uint8_t *grown = realloc(writer->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, bytes, count);
    writer->size += count;
}

static void flush_nothing(png_structp png) { (void)png; }

int comcl_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                     uint8_t **png_out, size_t *png_size, char *message, size_t message_size) {
    int color_type;
    switch (channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGBA; break;
    default: fail(message, message_size, "channels must be 1, 3 or 4"); return 1;
    }
    if (width == 0 || height == 0) {
        fail(message, message_size, "cannot encode an empty image");
        return 1;
    }
    struct failure failure = {.message = message, .message_size = message_size};
    struct writer writer = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    if (png == NULL) {
        fail(message, message_size, "out of memory");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    if (setjmp(failure.jump)) {
        free(rows);
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    if (info == NULL) png_error(png, "out of memory");
    png_set_write_fn(png, &writer, write_bytes, flush_nothing);
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    rows = malloc(sizeof(png_bytep) * height);
    if (rows == NULL) png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)pixels + (size_t)y * width * channels;
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    rows = NULL;
    png_destroy_write_struct(&png, &info);
    *png_out = writer.data;
    *png_size = writer.size;
    return 0;
}

void comcl_free(void *pointer) { free(pointer); }
