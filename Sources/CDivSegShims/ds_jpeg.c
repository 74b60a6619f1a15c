// JPEG decode over libjpeg(-turbo), memory to memory.
//
// Error handling: libjpeg calls err->error_exit for fatal errors and expects it not to
// return. Ours records a status and message in the per-call context and longjmps to the
// setjmp in jpeg_decode_run, which returns to ds_jpeg_decode; that function owns and
// releases everything, so no local of the setjmp caller is needed after the jump and no
// longjmp ever reaches a Swift frame.
#include "ds_image.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

// A progressive JPEG may legally contain any number of scans, each of which costs a pass
// over the whole coefficient buffer; crafted files use that to take minutes. Real encoders
// write about 10.
#define DS_JPEG_MAX_SCANS 500

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; // first member: libjpeg hands us &pub as cinfo->err
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    ds_status status;
    int saw_eof; // the data source ran dry (libjpeg then feeds a fake EOI marker)
    char *err;
    size_t errlen;
    struct jpeg_decompress_struct cinfo;
    uint8_t *pixels;
    ds_decoded *out;
} jpeg_ctx;

static void set_err(char *err, size_t errlen, const char *msg) {
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", msg);
}

static void fail(jpeg_ctx *c, ds_status status, const char *msg) {
    c->status = status;
    set_err(c->err, c->errlen, msg);
    longjmp(c->jmp, 1);
}

static void fail_with_library_message(jpeg_ctx *c, ds_status status) {
    char text[JMSG_LENGTH_MAX];
    char buf[JMSG_LENGTH_MAX + 16];
    c->pub.format_message((j_common_ptr)&c->cinfo, text);
    snprintf(buf, sizeof buf, "libjpeg: %s", text);
    fail(c, status, buf);
}

static void ds_jpeg_error_exit(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    ds_status status;
    switch (c->pub.msg_code) {
    case JERR_OUT_OF_MEMORY:
        status = DS_ERR_NOMEM;
        break;
    case JERR_IMAGE_TOO_BIG:  // a side above 65500
    case JERR_EMPTY_IMAGE:    // a zero side
    case JERR_WIDTH_OVERFLOW: // row width overflows the library's counters
        status = DS_ERR_TOO_LARGE;
        // Raised inside jpeg_read_header, after the SOF sizes were stored.
        c->out->width = c->cinfo.image_width;
        c->out->height = c->cinfo.image_height;
        break;
    case JERR_BAD_PRECISION: // 12/16-bit samples: this build is 8-bit only
    case JERR_SOF_UNSUPPORTED: // e.g. lossless or hierarchical JPEG
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
        status = DS_ERR_UNSUPPORTED;
        break;
    case JERR_INPUT_EMPTY:
        status = DS_ERR_TRUNCATED;
        break;
    default:
        // Once the data ran out, whatever goes wrong next is a consequence of that
        // (e.g. "JPEG datastream contains no image" for a file cut inside its header).
        status = c->saw_eof ? DS_ERR_TRUNCATED : DS_ERR_CORRUPT;
        break;
    }
    fail_with_library_message(c, status);
}

// libjpeg reports a premature end of data only as warnings and then decodes on, padding the
// rest of the image with grey. Pixels that were never in the file must not reach a training
// set, so those are fatal. But running dry (JWRN_JPEG_EOF) is not yet proof of missing
// pixels: the Huffman decoder reads ahead, and files that lack only the final EOI marker
// occur in the wild and are complete. Pixels are missing exactly when the entropy decoder then needs bits
// that are not there (JWRN_HIT_MARKER) or a restart marker is gone (JWRN_MUST_RESYNC); for
// multi-scan (progressive) files whole scans may be missing, which jpeg_decode_run checks
// at the end. Other warnings (extraneous bytes before a marker, ...) are common in real
// files and tolerated.
static void ds_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (msg_level >= 0) return; // trace messages
    int code = c->pub.msg_code;
    if (code == JWRN_JPEG_EOF) c->saw_eof = 1;
    if (c->saw_eof && (code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC)) {
        c->pub.msg_code = JWRN_JPEG_EOF; // report the cause, not the symptom
        fail_with_library_message(c, DS_ERR_TRUNCATED);
    }
    c->pub.num_warnings++;
}

static void ds_jpeg_progress(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (cinfo->is_decompressor &&
        ((j_decompress_ptr)cinfo)->input_scan_number > DS_JPEG_MAX_SCANS) {
        char buf[128];
        snprintf(buf, sizeof buf, "more than %d progressive scans (a malformed or hostile file)",
                 DS_JPEG_MAX_SCANS);
        fail(c, DS_ERR_CORRUPT, buf);
    }
}

static inline uint8_t muldiv255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

static ds_status jpeg_decode_run(jpeg_ctx *c, const uint8_t *data, size_t len,
                                 size_t max_pixels, ds_decoded *out) {
    if (setjmp(c->jmp)) return c->status;

    j_decompress_ptr cinfo = &c->cinfo;
    cinfo->err = jpeg_std_error(&c->pub);
    c->pub.error_exit = ds_jpeg_error_exit;
    c->pub.emit_message = ds_jpeg_emit_message;
    jpeg_create_decompress(cinfo);
    c->progress.progress_monitor = ds_jpeg_progress;
    cinfo->progress = &c->progress;

    jpeg_mem_src(cinfo, data, (unsigned long)len);
    (void)jpeg_read_header(cinfo, TRUE); // APPn markers (EXIF, ICC) are skipped unsaved

    int multiscan = jpeg_has_multiple_scans(cinfo);
    uint32_t w = cinfo->image_width, h = cinfo->image_height;
    out->width = w;
    out->height = h;
    if (w == 0 || h == 0 || (uint64_t)w * (uint64_t)h > (uint64_t)max_pixels)
        fail(c, DS_ERR_TOO_LARGE, "image size out of range");

    int cmyk = 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK: // libjpeg converts YCCK to CMYK; CMYK to RGB is done below
        cinfo->out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        fail(c, DS_ERR_UNSUPPORTED, "unsupported JPEG colour space");
    }
    // Defaults (JDCT_ISLOW, fancy upsampling) are kept on purpose: they are what Pillow
    // uses, so pixels match Python reference pipelines exactly.

    jpeg_start_decompress(cinfo); // a progressive file is read in full here
    int comps = cinfo->output_components;
    if (cinfo->output_width != w || cinfo->output_height != h || comps != (cmyk ? 4 : 3))
        fail(c, DS_ERR_UNSUPPORTED, "unexpected JPEG output layout");

    size_t stride = (size_t)w * 3;
    size_t size = stride * (size_t)h;
    c->pixels = (uint8_t *)malloc(size);
    if (c->pixels == NULL) fail(c, DS_ERR_NOMEM, "out of memory for the pixel buffer");

    if (!cmyk) {
        JSAMPROW rows[16];
        while (cinfo->output_scanline < h) {
            JDIMENSION y = cinfo->output_scanline;
            JDIMENSION want = h - y < 16 ? h - y : 16;
            for (JDIMENSION i = 0; i < want; i++) rows[i] = c->pixels + (size_t)(y + i) * stride;
            if (jpeg_read_scanlines(cinfo, rows, want) == 0)
                fail(c, DS_ERR_CORRUPT, "libjpeg produced no scanlines");
        }
    } else {
        // Adobe APP14 marks inverted CMYK (Photoshop's convention); the naive conversion
        // R = (255-C)(255-K)/255 is Pillow's, without colour management.
        int inverted = cinfo->saw_Adobe_marker;
        JSAMPARRAY row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE,
                                                     (JDIMENSION)w * 4, 1);
        while (cinfo->output_scanline < h) {
            JDIMENSION y = cinfo->output_scanline;
            if (jpeg_read_scanlines(cinfo, row, 1) != 1)
                fail(c, DS_ERR_CORRUPT, "libjpeg produced no scanlines");
            const uint8_t *src = row[0];
            uint8_t *dst = c->pixels + (size_t)y * stride;
            for (uint32_t x = 0; x < w; x++, src += 4, dst += 3) {
                unsigned k = inverted ? src[3] : 255u - src[3]; // 255 - K
                for (int ch = 0; ch < 3; ch++) {
                    unsigned cc = inverted ? 255u - src[ch] : src[ch];
                    dst[ch] = (uint8_t)(k - muldiv255(cc, k));
                }
            }
        }
    }
    (void)jpeg_finish_decompress(cinfo);
    // A progressive file that ends at a scan boundary decodes without complaint, only
    // blurrier: without EOI there is no telling whether later scans are missing.
    if (c->saw_eof && multiscan) {
        c->pub.msg_code = JWRN_JPEG_EOF;
        fail_with_library_message(c, DS_ERR_TRUNCATED);
    }

    out->data = c->pixels;
    out->size = size;
    out->channels = 3;
    c->pixels = NULL;
    return DS_OK;
}

ds_status ds_jpeg_decode(const uint8_t *data, size_t len, size_t max_pixels,
                         ds_decoded *out, char *err, size_t errlen) {
    set_err(err, errlen, "");
    if (out == NULL) return DS_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (data == NULL || len == 0) {
        set_err(err, errlen, "empty JPEG data");
        return data == NULL && len > 0 ? DS_ERR_INVALID_ARGUMENT : DS_ERR_TRUNCATED;
    }
    static const uint8_t soi[3] = {0xFF, 0xD8, 0xFF};
    if (len < 3 || memcmp(data, soi, 3) != 0) {
        int prefix = len < 3 && memcmp(data, soi, len) == 0;
        set_err(err, errlen, prefix ? "the file ends inside the JPEG header"
                                    : "not a JPEG file (no SOI marker)");
        return prefix ? DS_ERR_TRUNCATED : DS_ERR_CORRUPT;
    }

    // Zeroed: jpeg_destroy_decompress below must see cinfo.mem == NULL if creation failed.
    jpeg_ctx *c = (jpeg_ctx *)calloc(1, sizeof(jpeg_ctx));
    if (c == NULL) {
        set_err(err, errlen, "out of memory creating the JPEG reader");
        return DS_ERR_NOMEM;
    }
    c->err = err;
    c->errlen = errlen;
    c->out = out;

    ds_status status = jpeg_decode_run(c, data, len, max_pixels, out);

    // Safe on a zeroed or partially created struct (it checks cinfo->mem), so it also
    // cleans up after an error inside jpeg_create_decompress itself.
    jpeg_destroy_decompress(&c->cinfo);
    free(c->pixels); // NULL on success: ownership moved to out->data
    free(c);
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
