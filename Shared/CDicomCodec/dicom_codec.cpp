// The only C++ in the product: GDCM's reader behind a C function (comcl-dicom-decoder calls it).
// Exceptions and GDCM's own failures end here as a message; GDCM's assertions end the process,
// which is why it runs in one of its own.
#include "dicom_codec.h"

#include <gdcm-3.0/gdcmImageApplyLookupTable.h>
#include <gdcm-3.0/gdcmImageReader.h>
#include <gdcm-3.0/gdcmStringFilter.h>
#include <gdcm-3.0/gdcmTrace.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Failure {
    std::string text;
};

std::string trimmed(const std::string &s) {
    size_t start = s.find_first_not_of(" \0", 0, 2), end = s.find_last_not_of(" \0", std::string::npos, 2);
    return start == std::string::npos ? "" : s.substr(start, end - start + 1);
}

/// The first value of a multi-valued string element ("40\\400" gives "40"), "" when absent.
std::string first_value(const gdcm::File &file, uint16_t group, uint16_t element) {
    gdcm::StringFilter filter;
    filter.SetFile(file);
    gdcm::Tag tag(group, element);
    if (!file.GetDataSet().FindDataElement(tag)) return "";
    std::string text = filter.ToString(tag);
    return trimmed(text.substr(0, text.find('\\')));
}

void copy_text(char *target, size_t size, const std::string &text) { snprintf(target, size, "%s", text.c_str()); }

/// One sample of the buffer as a number; unused high bits cleared (overlays once lived there)
/// and signed values sign-extended from the bits stored.
template <typename T> float sample(const char *buffer, size_t index, unsigned bits_stored, bool is_signed) {
    T raw;
    memcpy(&raw, buffer + index * sizeof(T), sizeof(T));
    const unsigned width = sizeof(T) * 8;
    if (bits_stored == 0 || bits_stored > width) bits_stored = width;
    const uint64_t bits = static_cast<uint64_t>(raw) & ((uint64_t(1) << bits_stored) - 1);
    if (is_signed && (bits >> (bits_stored - 1)) & 1) return static_cast<float>(static_cast<int64_t>(bits) - (int64_t(1) << bits_stored));
    return static_cast<float>(bits);
}

/// The image as numbers, interleaved, whatever its scalar type and planar configuration.
std::vector<float> numbers(const gdcm::Image &image, size_t pixels, unsigned samples) {
    std::vector<char> buffer(image.GetBufferLength());
    if (!image.GetBuffer(buffer.data())) throw Failure{"GDCM cannot decode the pixel data (transfer syntax " +
                                                       std::string(image.GetTransferSyntax().GetString()) + ")"};
    const gdcm::PixelFormat &format = image.GetPixelFormat();
    const unsigned stored = format.GetBitsStored();
    const size_t count = pixels * samples;
    size_t bytes = 0;
    switch (format.GetScalarType()) {
    case gdcm::PixelFormat::UINT8: case gdcm::PixelFormat::INT8: bytes = 1; break;
    case gdcm::PixelFormat::UINT16: case gdcm::PixelFormat::INT16: bytes = 2; break;
    case gdcm::PixelFormat::UINT32: case gdcm::PixelFormat::INT32: bytes = 4; break;
    default: throw Failure{"pixels of " + std::to_string(format.GetBitsAllocated()) + " bits allocated are not supported"};
    }
    if (buffer.size() < count * bytes) throw Failure{"the pixel data is shorter than the image it declares"};
    std::vector<float> out(count);
    const bool planar = samples > 1 && image.GetPlanarConfiguration() == 1;
    for (size_t i = 0; i < count; i++) {
        // Planar configuration 1 stores the whole red plane, then green, then blue.
        const size_t from = planar ? (i % samples) * pixels + i / samples : i;
        switch (format.GetScalarType()) {
        case gdcm::PixelFormat::UINT8: out[i] = sample<uint8_t>(buffer.data(), from, stored, false); break;
        case gdcm::PixelFormat::INT8: out[i] = sample<uint8_t>(buffer.data(), from, stored, true); break;
        case gdcm::PixelFormat::UINT16: out[i] = sample<uint16_t>(buffer.data(), from, stored, false); break;
        case gdcm::PixelFormat::INT16: out[i] = sample<uint16_t>(buffer.data(), from, stored, true); break;
        case gdcm::PixelFormat::UINT32: out[i] = sample<uint32_t>(buffer.data(), from, stored, false); break;
        default: out[i] = sample<uint32_t>(buffer.data(), from, stored, true); break;
        }
    }
    return out;
}

/// Whether a file's native pixel data is cut short. GDCM reads such a file without complaint, so
/// the Pixel Data element's declared length is checked against the bytes that follow it. The
/// element is the first (7FE0,0010), little- or big-endian, explicit ("OB"/"OW") or implicit VR,
/// whose length is the image's size (an odd size is padded by one byte); encapsulated pixel
/// data (undefined length) is left to its codec, which fails on a cut stream.
bool cut_short(const uint8_t *data, size_t size, uint64_t expected) {
    static const uint8_t little[4] = {0xE0, 0x7F, 0x10, 0x00}, big[4] = {0x7F, 0xE0, 0x00, 0x10};
    for (size_t at = 0; at + 8 <= size; at++) {
        const bool is_little = memcmp(data + at, little, 4) == 0;
        if (!is_little && memcmp(data + at, big, 4) != 0) continue;
        auto u32 = [&](size_t o) {
            return is_little ? uint64_t(data[o]) | uint64_t(data[o + 1]) << 8 | uint64_t(data[o + 2]) << 16 | uint64_t(data[o + 3]) << 24
                             : uint64_t(data[o + 3]) | uint64_t(data[o + 2]) << 8 | uint64_t(data[o + 1]) << 16 | uint64_t(data[o]) << 24;
        };
        const bool explicit_vr = at + 12 <= size && data[at + 4] == 'O' && (data[at + 5] == 'B' || data[at + 5] == 'W');
        const uint64_t length = explicit_vr ? u32(at + 8) : u32(at + 4), start = at + (explicit_vr ? 12 : 8);
        if (length == expected || length == expected + 1) return start + length > size;
    }
    return false;
}

/// YBR_FULL to RGB in place (DICOM PS3.3 C.7.6.3.1.2, the JPEG/JFIF equations), rounded and
/// clamped to the samples' range.
void to_rgb(std::vector<float> &values, unsigned bits) {
    const float top = float((1u << bits) - 1), half = float(1u << (bits - 1));
    auto level = [top](float v) { return std::min(top, std::max(0.0f, std::nearbyint(v))); };
    for (size_t i = 0; i + 2 < values.size(); i += 3) {
        const float y = values[i], cb = values[i + 1] - half, cr = values[i + 2] - half;
        values[i] = level(y + 1.402f * cr);
        values[i + 1] = level(y - 0.344136f * cb - 0.714136f * cr);
        values[i + 2] = level(y + 1.772f * cb);
    }
}

void decode(const uint8_t *data, size_t size, uint64_t max_pixels, comcl_dicom_image *out) {
    std::istringstream stream(std::string(reinterpret_cast<const char *>(data), size));
    gdcm::ImageReader reader;
    reader.SetStream(stream);
    if (!reader.Read()) throw Failure{"GDCM cannot read it as a DICOM image (no pixel data, or a damaged file)"};
    const gdcm::Image &stored = reader.GetImage();
    const gdcm::Image *shown = &stored;  // the palette's RGB image when it has one
    const gdcm::File &file = reader.GetFile();
    const unsigned *dims = stored.GetDimensions();
    if (stored.GetNumberOfDimensions() == 3 && dims[2] > 1)
        throw Failure{"a multi-frame DICOM (" + std::to_string(dims[2]) + " frames): this version reads single images; export the frame you want"};
    out->width = dims[0];
    out->height = dims[1];
    if (out->width == 0 || out->height == 0) throw Failure{"the image declares no pixels"};
    if (uint64_t(out->width) * out->height > max_pixels) throw COMCL_DICOM_TOO_LARGE;

    copy_text(out->photometric, sizeof out->photometric, trimmed(first_value(file, 0x0028, 0x0004)));
    using PI = gdcm::PhotometricInterpretation;
    // The palette filter's output lives as long as the filter: both stay in this scope.
    gdcm::ImageApplyLookupTable lookup;
    bool ybr = false;
    switch (stored.GetPhotometricInterpretation().GetType()) {
    case PI::MONOCHROME1: case PI::MONOCHROME2: case PI::RGB: break;
    case PI::PALETTE_COLOR:
        lookup.SetInput(stored);
        if (!lookup.Apply()) throw Failure{"GDCM cannot apply its palette"};
        shown = &lookup.GetOutput();
        break;
    case PI::YBR_FULL: case PI::YBR_FULL_422: case PI::YBR_RCT: case PI::YBR_ICT:
        // JPEG codecs hand back RGB for these already; raw YBR_FULL is converted below.
        if (stored.GetTransferSyntax().IsEncapsulated()) break;
        if (stored.GetPhotometricInterpretation() != PI::YBR_FULL)
            throw Failure{std::string("uncompressed ") + out->photometric + " is not supported (YBR_FULL is)"};
        ybr = true;
        break;
    default:
        throw Failure{std::string("photometric interpretation ") + out->photometric +
                      " is not supported (MONOCHROME1, MONOCHROME2, RGB, YBR_FULL and PALETTE COLOR are)"};
    }
    const gdcm::Image &image = *shown;
    const gdcm::PixelFormat &format = image.GetPixelFormat();
    out->samples = format.GetSamplesPerPixel();
    if (out->samples != 1 && out->samples != 3) throw Failure{std::to_string(out->samples) + " samples per pixel (1 or 3 are read)"};
    out->bits_stored = format.GetBitsStored();
    out->is_signed = format.GetPixelRepresentation() == 1;
    out->monochrome1 = image.GetPhotometricInterpretation().GetType() == PI::MONOCHROME1;
    const size_t pixels = size_t(out->width) * out->height;
    if (cut_short(data, size, pixels * stored.GetPixelFormat().GetPixelSize()))
        throw Failure{"the pixel data is shorter than the image it declares (a truncated file?)"};
    std::vector<float> values = numbers(image, pixels, out->samples);
    if (ybr) to_rgb(values, out->bits_stored);

    out->slope = 1;
    out->intercept = 0;
    if (out->samples == 1) {
        const std::string slope = first_value(file, 0x0028, 0x1053), intercept = first_value(file, 0x0028, 0x1052);
        if (!slope.empty()) out->slope = atof(slope.c_str());
        if (!intercept.empty()) out->intercept = atof(intercept.c_str());
        if (out->slope == 0) out->slope = 1;  // a zero slope would erase the image: a broken header
        for (float &v : values) v = static_cast<float>(v * out->slope + out->intercept);
        const std::string centre = first_value(file, 0x0028, 0x1050), width = first_value(file, 0x0028, 0x1051);
        out->has_window = !centre.empty() && !width.empty();
        if (out->has_window) {
            out->window_centre = atof(centre.c_str());
            out->window_width = atof(width.c_str());
        }
        copy_text(out->voi_function, sizeof out->voi_function, first_value(file, 0x0028, 0x1056));
    }
    out->values = static_cast<float *>(malloc(values.size() * sizeof(float)));
    if (out->values == nullptr) throw Failure{"out of memory"};
    memcpy(out->values, values.data(), values.size() * sizeof(float));
}

void quiet_once() {
    // Our one sentence replaces GDCM's own messages on stderr.
    static const bool quiet = [] {
        gdcm::Trace::WarningOff();
        gdcm::Trace::DebugOff();
        gdcm::Trace::ErrorOff();
        return true;
    }();
    (void)quiet;
}

int guarded_decode(const uint8_t *data, size_t size, uint64_t max_pixels, comcl_dicom_image *out, char *message, size_t message_size) {
    try {
        decode(data, size, max_pixels, out);
        return COMCL_DICOM_OK;
    } catch (int code) {
        return code;
    } catch (const Failure &failure) {
        copy_text(message, message_size, failure.text);
    } catch (const std::exception &error) {
        copy_text(message, message_size, std::string("GDCM failed: ") + error.what());
    } catch (...) {
        copy_text(message, message_size, "GDCM failed with an unknown error");
    }
    return COMCL_DICOM_FAILED;
}

}  // namespace

extern "C" int comcl_dicom_decode(const uint8_t *data, size_t size, uint64_t max_pixels, comcl_dicom_image *out, char *message,
                                  size_t message_size) {
    memset(out, 0, sizeof *out);
    quiet_once();
    const int status = guarded_decode(data, size, max_pixels, out, message, message_size);
    if (status != COMCL_DICOM_OK) {
        free(out->values);
        out->values = nullptr;
    }
    return status;
}

extern "C" void comcl_dicom_free(comcl_dicom_image *image) {
    free(image->values);
    image->values = nullptr;
}
