// PNG decode/encode over libpng 1.6, memory to memory.
//
// Error handling: libpng reports fatal errors through an error callback that must not
// return. Ours records a status and message in the per-call context and longjmps to the
// setjmp in *_run below, which returns to its (plain C) caller; that caller releases
// everything. Keeping every setjmp in a small function that owns no resources means no
// local variable's value matters after the jump (C leaves modified locals of the function
// that called setjmp indeterminate), and no longjmp can ever reach a Swift frame.
#include "ds_image.h"

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Ancillary chunks are skipped, so this only bounds pathological files; real PLTE/tRNS
// chunks are at most 768 bytes.
#define DS_PNG_CHUNK_MALLOC_MAX (8u * 1024u * 1024u)
#define DS_PNG_CHUNK_CACHE_MAX 128u

typedef struct png_ctx {
    jmp_buf jmp;
    ds_status status;        // set before any longjmp
    ds_status default_error; // what a libpng error means: CORRUPT (read) / INVALID_ARGUMENT (write)
    int eof;                 // the read callback ran out of input
    char *err;
    size_t errlen;

    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *pixels;

    // read source
    const uint8_t *data;
    size_t len, pos;

    // write sink
    uint8_t *obuf;
    size_t osize, ocap;
} png_ctx;

static void set_err(char *err, size_t errlen, const char *msg) {
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", msg);
}

static void fail(png_ctx *c, ds_status status, const char *msg) {
    c->status = status;
    set_err(c->err, c->errlen, msg);
    longjmp(c->jmp, 1);
}

static void ds_png_error(png_structp png, png_const_charp msg) {
    png_ctx *c = (png_ctx *)png_get_error_ptr(png);
    ds_status status = c->default_error;
    if (c->eof)
        status = DS_ERR_TRUNCATED;
    else if (strstr(msg, "memory") != NULL) // "Out of memory", "Insufficient memory", ...
        status = DS_ERR_NOMEM;
    char buf[256];
    snprintf(buf, sizeof buf, "libpng: %s", msg);
    fail(c, status, buf);
}

// Warnings (unknown sRGB profiles, benign extra data, ...) are not worth failing for, and
// libpng's default would print them to stderr from library code.
static void ds_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void ds_png_read(png_structp png, png_bytep dst, size_t n) {
    png_ctx *c = (png_ctx *)png_get_io_ptr(png);
    if (n > c->len - c->pos) {
        c->eof = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(dst, c->data + c->pos, n);
    c->pos += n;
}

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int too_large(uint32_t w, uint32_t h, size_t max_pixels) {
    return w == 0 || h == 0 || (uint64_t)w * (uint64_t)h > (uint64_t)max_pixels;
}

static ds_status png_decode_run(png_ctx *c, ds_png_mode mode, size_t max_pixels,
                                ds_decoded *out) {
    if (setjmp(c->jmp)) return c->status;

    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, ds_png_error, ds_png_warning);
    if (c->png == NULL) fail(c, DS_ERR_NOMEM, "out of memory creating the PNG reader");
    c->info = png_create_info_struct(c->png);
    if (c->info == NULL) fail(c, DS_ERR_NOMEM, "out of memory creating the PNG reader");

    png_set_read_fn(c->png, c, ds_png_read);
    // Our own max_pixels check replaces libpng's 1,000,000-per-side default, which would
    // otherwise reject legitimate 2,000,000×1 strips with a misleading "invalid IHDR".
    png_set_user_limits(c->png, 0x7fffffffu, 0x7fffffffu);
    png_set_chunk_cache_max(c->png, DS_PNG_CHUNK_CACHE_MAX);
    png_set_chunk_malloc_max(c->png, DS_PNG_CHUNK_MALLOC_MAX);
    // A CRC mismatch in any chunk, even an ancillary one libpng would silently drop, means
    // the file was damaged; report it instead of decoding possibly damaged pixels.
    png_set_crc_action(c->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    // Skip (but still CRC-check) every chunk except IHDR, PLTE, tRNS, IDAT and IEND: colour
    // management and text are not used, and parsing them is work and attack surface.
    png_set_keep_unknown_chunks(c->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);

    png_read_info(c->png, c->info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    out->width = w;
    out->height = h;
    if (too_large(w, h, max_pixels)) fail(c, DS_ERR_TOO_LARGE, "image size out of range");

    int channels;
    if (mode == DS_PNG_LABELS) {
        char why[160];
        if (depth == 16) {
            snprintf(why, sizeof why, "it is a 16-bit %s PNG; labels need 8 bits or fewer",
                     (color & PNG_COLOR_MASK_COLOR) ? "colour" : "grayscale");
            fail(c, DS_ERR_NOT_LABELS, why);
        }
        if (color != PNG_COLOR_TYPE_PALETTE && color != PNG_COLOR_TYPE_GRAY) {
            const char *kind = color == PNG_COLOR_TYPE_RGB         ? "an RGB"
                               : color == PNG_COLOR_TYPE_RGB_ALPHA ? "an RGBA"
                                                                   : "a gray+alpha";
            snprintf(why, sizeof why, "it is %s PNG, not a palette or grayscale one", kind);
            fail(c, DS_ERR_NOT_LABELS, why);
        }
        // Indices/values stay raw: a 4-bit gray mask holding classes 0...15 must not be
        // rescaled to 0...255 the way a photo would be.
        if (depth < 8) png_set_packing(c->png);
        channels = 1;
    } else {
        if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
        if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
        // High byte, as Pillow does, so 16-bit inputs match Python reference pipelines.
        if (depth == 16) png_set_strip_16(c->png);
        // Alpha is dropped, not composited: the colour values are kept as stored.
        if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(c->png, c->info, PNG_INFO_tRNS))
            png_set_strip_alpha(c->png);
        if (!(color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(c->png);
        channels = 3;
    }
    (void)png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);

    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    if (png_get_channels(c->png, c->info) != channels || png_get_bit_depth(c->png, c->info) != 8 ||
        rowbytes != (size_t)w * (size_t)channels)
        fail(c, DS_ERR_UNSUPPORTED, "unexpected PNG layout after conversion");

    size_t size = rowbytes * (size_t)h;
    c->pixels = (uint8_t *)malloc(size);
    c->rows = (png_bytep *)malloc((size_t)h * sizeof(png_bytep));
    if (c->pixels == NULL || c->rows == NULL)
        fail(c, DS_ERR_NOMEM, "out of memory for the pixel buffer");
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->pixels + (size_t)y * rowbytes;

    png_read_image(c->png, c->rows);
    // Reading through IEND is what detects a file cut after the last IDAT, and checks the
    // CRCs of the trailing chunks.
    png_read_end(c->png, c->info);

    out->data = c->pixels;
    out->size = size;
    out->channels = channels;
    c->pixels = NULL;
    return DS_OK;
}

ds_status ds_png_decode(const uint8_t *data, size_t len, ds_png_mode mode, size_t max_pixels,
                        ds_decoded *out, char *err, size_t errlen) {
    set_err(err, errlen, "");
    if (out == NULL) return DS_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (data == NULL && len > 0) return DS_ERR_INVALID_ARGUMENT;
    if (mode != DS_PNG_RGB8 && mode != DS_PNG_LABELS) return DS_ERR_INVALID_ARGUMENT;

    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t n = len < 8 ? len : 8;
    if (len == 0 || memcmp(data, sig, n) != 0) {
        set_err(err, errlen, "not a PNG file (bad signature)");
        return DS_ERR_CORRUPT;
    }
    // IHDR must be the first chunk; its width/height are bytes 16...23. Checking them here,
    // before libpng exists, guarantees nothing is allocated for absurd sizes, and lets a
    // zero size be reported as such rather than as libpng's generic "invalid IHDR".
    if (len < 24) {
        set_err(err, errlen, "the file ends inside the PNG header");
        return DS_ERR_TRUNCATED;
    }
    if (memcmp(data + 12, "IHDR", 4) == 0) {
        uint32_t w = be32(data + 16), h = be32(data + 20);
        if (too_large(w, h, max_pixels)) {
            out->width = w;
            out->height = h;
            set_err(err, errlen, "image size out of range");
            return DS_ERR_TOO_LARGE;
        }
    }

    png_ctx c;
    memset(&c, 0, sizeof c);
    c.default_error = DS_ERR_CORRUPT;
    c.err = err;
    c.errlen = errlen;
    c.data = data;
    c.len = len;

    ds_status status = png_decode_run(&c, mode, max_pixels, out);

    if (c.png != NULL) png_destroy_read_struct(&c.png, c.info != NULL ? &c.info : NULL, NULL);
    free(c.rows);
    free(c.pixels); // NULL on success: ownership moved to out->data
    if (status != DS_OK) {
        uint32_t w = out->width, h = out->height;
        memset(out, 0, sizeof *out);
        if (status == DS_ERR_TOO_LARGE) {
            out->width = w;
            out->height = h;
        }
    }
    return status;
}

// ---------------------------------------------------------------------------------------
// Encoding

static void ds_png_write(png_structp png, png_bytep src, size_t n) {
    png_ctx *c = (png_ctx *)png_get_io_ptr(png);
    if (n > c->ocap - c->osize) {
        size_t cap = c->ocap ? c->ocap : 64 * 1024;
        while (cap - c->osize < n) {
            if (cap > SIZE_MAX / 2) fail(c, DS_ERR_NOMEM, "PNG output too large");
            cap *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(c->obuf, cap);
        if (grown == NULL) fail(c, DS_ERR_NOMEM, "out of memory for the PNG output");
        c->obuf = grown;
        c->ocap = cap;
    }
    memcpy(c->obuf + c->osize, src, n);
    c->osize += n;
}

static void ds_png_flush(png_structp png) { (void)png; }

static ds_status png_encode_run(png_ctx *c, const uint8_t *pixels, uint32_t w, uint32_t h,
                                int channels, const uint8_t *palette, int entries, int level) {
    if (setjmp(c->jmp)) return c->status;

    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, ds_png_error, ds_png_warning);
    if (c->png == NULL) fail(c, DS_ERR_NOMEM, "out of memory creating the PNG writer");
    c->info = png_create_info_struct(c->png);
    if (c->info == NULL) fail(c, DS_ERR_NOMEM, "out of memory creating the PNG writer");
    png_set_write_fn(c->png, c, ds_png_write, ds_png_flush);

    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    int color = palette != NULL ? PNG_COLOR_TYPE_PALETTE : types[channels];
    png_set_IHDR(c->png, c->info, w, h, 8, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette != NULL) {
        png_color plte[256];
        for (int i = 0; i < entries; i++) {
            plte[i].red = palette[3 * i];
            plte[i].green = palette[3 * i + 1];
            plte[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(c->png, c->info, plte, entries);
    }
    if (level >= 0) png_set_compression_level(c->png, level);

    size_t rowbytes = (size_t)w * (size_t)channels;
    c->rows = (png_bytep *)malloc((size_t)h * sizeof(png_bytep));
    if (c->rows == NULL) fail(c, DS_ERR_NOMEM, "out of memory for row pointers");
    // libpng only reads the rows (no write transforms are set), so dropping const is safe.
    for (uint32_t y = 0; y < h; y++) c->rows[y] = (png_bytep)(pixels + (size_t)y * rowbytes);

    png_write_info(c->png, c->info);
    png_write_image(c->png, c->rows);
    png_write_end(c->png, c->info);
    return DS_OK;
}

ds_status ds_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                        const uint8_t *palette_rgb, int palette_entries, int compression_level,
                        ds_encoded *out, char *err, size_t errlen) {
    set_err(err, errlen, "");
    if (out == NULL) return DS_ERR_INVALID_ARGUMENT;
    out->data = NULL;
    out->size = 0;
    if (pixels == NULL || width == 0 || height == 0 || width > 0x7fffffffu ||
        height > 0x7fffffffu) {
        set_err(err, errlen, "a PNG needs a width and height between 1 and 2^31-1");
        return DS_ERR_INVALID_ARGUMENT;
    }
    if (channels < 1 || channels > 4 || (palette_rgb != NULL && channels != 1)) {
        set_err(err, errlen, "unsupported channel count for PNG");
        return DS_ERR_INVALID_ARGUMENT;
    }
    if (palette_rgb != NULL && (palette_entries < 1 || palette_entries > 256)) {
        set_err(err, errlen, "a PNG palette has 1 to 256 entries");
        return DS_ERR_INVALID_ARGUMENT;
    }
    if (compression_level > 9) compression_level = 9;

    png_ctx c;
    memset(&c, 0, sizeof c);
    c.default_error = DS_ERR_INVALID_ARGUMENT;
    c.err = err;
    c.errlen = errlen;

    ds_status status = png_encode_run(&c, pixels, width, height, channels, palette_rgb,
                                      palette_entries, compression_level);

    if (c.png != NULL) png_destroy_write_struct(&c.png, c.info != NULL ? &c.info : NULL);
    free(c.rows);
    if (status == DS_OK) {
        out->data = c.obuf;
        out->size = c.osize;
    } else {
        free(c.obuf);
    }
    return status;
}

void ds_free(void *ptr) { free(ptr); }
