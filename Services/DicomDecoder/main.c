// comcl-dicom-decoder: one DICOM file on stdin, its pixels on stdout. GDCM runs in this separate
// process because Debian builds it with assertions on: a damaged file can abort() it, and a
// crash here must cost one image, not the cropper or the evaluator. The caller (Images'
// DicomDecoder) reads a text header, "data", then width * height * samples float32 values in
// host order. On failure: one sentence on stderr, exit status 1 (2: larger than the limit).
// Usage: comcl-dicom-decoder MAX_PIXELS < file.dcm
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom_codec.h"

/// A file's text as one header word: printable, no spaces.
static void word(char *text) {
    for (char *c = text; *c; c++)
        if (*c <= ' ' || *c > '~') *c = '_';
    if (text[0] == 0) strcpy(text, "-");
}

int main(int argc, char **argv) {
    unsigned long long max_pixels = argc > 1 ? strtoull(argv[1], NULL, 10) : (64ull << 20);
    size_t size = 0, capacity = 1 << 20;
    uint8_t *data = malloc(capacity);
    for (size_t got; data != NULL && (got = fread(data + size, 1, capacity - size, stdin)) > 0;) {
        size += got;
        if (size == capacity) data = realloc(data, capacity *= 2);
    }
    if (data == NULL) {
        fputs("out of memory reading the file\n", stderr);
        return 1;
    }
    comcl_dicom_image image;
    char message[512] = "";
    int status = comcl_dicom_decode(data, size, max_pixels, &image, message, sizeof message);
    free(data);
    if (status == COMCL_DICOM_TOO_LARGE) {
        fprintf(stderr, "%u %u\n", image.width, image.height);
        return 2;
    }
    if (status != COMCL_DICOM_OK) {
        fprintf(stderr, "%s\n", message);
        return 1;
    }
    word(image.voi_function);
    word(image.photometric);
    printf("width %u\nheight %u\nsamples %u\nbits_stored %u\nmonochrome1 %d\n", image.width, image.height, image.samples,
           image.bits_stored, image.monochrome1);
    if (image.has_window) printf("window %.17g %.17g %s\n", image.window_centre, image.window_width, image.voi_function);
    printf("photometric %s\ndata\n", image.photometric);
    size_t count = (size_t)image.width * image.height * image.samples;
    int ok = fwrite(image.values, sizeof(float), count, stdout) == count && fflush(stdout) == 0;
    comcl_dicom_free(&image);
    return ok ? 0 : 1;
}
