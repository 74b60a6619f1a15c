// PNG and JPEG decode/encode over libpng and libjpeg(-turbo).
//
// Both libraries report fatal errors by longjmp. A longjmp must never unwind through Swift
// frames, so every setjmp lives in these C functions and Swift only ever sees a status code
// plus a message. All functions are reentrant (no static mutable state): any number of
// threads may decode at once, each with its own buffers.
//
// Memory contract: on DS_OK, out->data is malloc'd by C and owned by the caller, who must
// release it with ds_free. On any other status out->data is NULL (nothing to free), and
// `err` holds a NUL-terminated, human-readable reason (truncated to errlen).
#ifndef DS_IMAGE_H
#define DS_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_status {
    DS_OK = 0,
    /// The data ends before the image does (missing IDAT bytes, IEND, JPEG scan data).
    DS_ERR_TRUNCATED = 1,
    /// The data is damaged: bad CRC, invalid header, corrupt compressed stream, ...
    DS_ERR_CORRUPT = 2,
    /// The header claims more than max_pixels pixels, or a zero width or height.
    /// out->width/out->height hold the claimed size. No pixel memory was allocated.
    DS_ERR_TOO_LARGE = 3,
    /// A valid file this build cannot decode (e.g. 12-bit or lossless JPEG).
    DS_ERR_UNSUPPORTED = 4,
    DS_ERR_NOMEM = 5,
    /// Label mode only: the PNG is not palette or <= 8-bit gray (RGB, alpha, 16-bit).
    DS_ERR_NOT_LABELS = 6,
    /// The caller passed something no image could be made of (encode side mostly).
    DS_ERR_INVALID_ARGUMENT = 7,
} ds_status;

typedef enum ds_png_mode {
    /// 8-bit RGB, 3 bytes per pixel; gray, palette, alpha and 16-bit are converted.
    DS_PNG_RGB8 = 0,
    /// One byte per pixel: palette index or gray value, never remapped or rescaled.
    DS_PNG_LABELS = 1,
} ds_png_mode;

typedef struct ds_decoded {
    uint8_t *data;      ///< width * height * channels bytes, row-major; free with ds_free
    size_t size;        ///< bytes in data
    uint32_t width;     ///< also set for DS_ERR_TOO_LARGE (the claimed width)
    uint32_t height;    ///< also set for DS_ERR_TOO_LARGE (the claimed height)
    int channels;       ///< 3 for RGB output, 1 for labels
} ds_decoded;

typedef struct ds_encoded {
    uint8_t *data;      ///< the encoded file; free with ds_free
    size_t size;
} ds_encoded;

/// Decodes a complete in-memory PNG file. max_pixels bounds width*height and is checked
/// against the IHDR before libpng allocates anything.
ds_status ds_png_decode(const uint8_t *data, size_t len, ds_png_mode mode, size_t max_pixels,
                        ds_decoded *out, char *err, size_t errlen);

/// Decodes a complete in-memory JPEG file to 8-bit RGB (3 channels). Grayscale is
/// replicated, CMYK/YCCK is converted naively (no ICC profile; Adobe inverted CMYK as
/// written by Photoshop is recognised by its APP14 marker). EXIF orientation is ignored.
/// Data that ends before all pixels are in it is DS_ERR_TRUNCATED (libjpeg would pad with
/// grey). A baseline file that lacks only its final EOI marker is complete and accepted; a
/// progressive one is not (missing final scans cannot be told apart from a missing EOI).
ds_status ds_jpeg_decode(const uint8_t *data, size_t len, size_t max_pixels,
                         ds_decoded *out, char *err, size_t errlen);

/// Encodes 8-bit pixels as a PNG file in memory.
/// channels 1..4 = gray, gray+alpha, RGB, RGBA. With palette_rgb != NULL the image is a
/// palette image: channels must be 1, each byte is an index and palette_rgb holds
/// palette_entries (1...256) RGB triples. compression_level is zlib's 0...9, or -1 for
/// libpng's default.
ds_status ds_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                        const uint8_t *palette_rgb, int palette_entries, int compression_level,
                        ds_encoded *out, char *err, size_t errlen);

/// Releases a buffer returned by ds_png_decode, ds_jpeg_decode or ds_png_encode.
void ds_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
