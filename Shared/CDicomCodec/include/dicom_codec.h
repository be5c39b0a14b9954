#ifndef COMCL_DICOM_CODEC_H
#define COMCL_DICOM_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The return codes of comcl_dicom_decode.
enum { COMCL_DICOM_OK = 0, COMCL_DICOM_FAILED = 1, COMCL_DICOM_TOO_LARGE = 2 };

/// What the GDCM shim hands Swift: the stored pixels as numbers, with what is needed to show them.
/// Greyscale values have the modality rescale (slope, intercept) applied; colour values are the
/// stored samples converted to RGB. The window is applied in Swift (DicomRendering), where it is tested.
typedef struct {
    uint32_t width, height;
    uint32_t samples;         // 1 (greyscale) or 3 (RGB, interleaved)
    uint32_t bits_stored;
    int32_t is_signed;        // pixel representation 1
    int32_t monochrome1;      // greyscale to be inverted: 0 is white
    double slope, intercept;  // the modality rescale that was applied (1, 0 without one)
    int32_t has_window;       // the first VOI window (0028,1050) / (0028,1051), when given
    double window_centre, window_width;
    char voi_function[32];    // (0028,1056) as written, "" when absent (LINEAR)
    char photometric[32];     // (0028,0004) as written in the file
    float *values;            // width * height * samples, malloc'd; free with comcl_dicom_free
} comcl_dicom_image;

/// Decodes a single-frame DICOM image held in memory (any transfer syntax GDCM reads: raw,
/// JPEG, JPEG-LS, JPEG 2000, RLE). On failure, writes one sentence to `message`.
int comcl_dicom_decode(const uint8_t *data, size_t size, uint64_t max_pixels, comcl_dicom_image *out,
                       char *message, size_t message_size);

void comcl_dicom_free(comcl_dicom_image *image);

#ifdef __cplusplus
}
#endif

#endif
