// HDF5 operations for Swift, implemented whole in C.
//
// Why C and not thin accessors: HDF5's constants (H5T_NATIVE_FLOAT, H5P_DEFAULT, ...) are
// macros that Swift cannot import or imports with the wrong type, and its error reporting
// lives in a global error stack that must be read right after the failing call, under the
// same lock. Each function below is one complete operation that returns a status code and,
// on failure, a sentence in `msg` that carries HDF5's own innermost error text.
//
// This header deliberately does not include <hdf5.h>: the CHDF5 system module already
// exports it, and a second textual inclusion here would give Swift two copies of every
// HDF5 type. Identifiers are plain int64_t (hid_t is int64_t since HDF5 1.10).
//
// Thread safety: HDF5 built without --enable-threadsafe, the usual serial build, must not be
// entered from two threads at once (Debian's happens to be thread-safe; we do not rely on
// it). Every function takes one process-wide recursive mutex; ds_h5_lock/ds_h5_unlock expose it so that callers can keep state of
// their own (e.g. whether a file is still open) consistent with the HDF5 calls.
#ifndef DS_HDF5_H
#define DS_HDF5_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of every ds_h5_* operation; anything but DS_H5_OK leaves a message in `msg`.
typedef enum {
    DS_H5_OK = 0,
    DS_H5_MISSING = 1,     ///< the object (or its parent, or the attribute) does not exist
    DS_H5_WRONG_TYPE = 2,  ///< exists, but is a group where a dataset was wanted, strings not numbers, ...
    DS_H5_SHAPE = 3,       ///< element count or rank disagrees with what the caller passed
    DS_H5_CORRUPT = 4,     ///< HDF5 could not decode the file: truncated, damaged
    DS_H5_IO = 5,          ///< the operating system refused: permissions, file locks, missing directory
    DS_H5_FAILED = 6,      ///< any other HDF5 failure (mostly while writing)
    DS_H5_NOMEM = 7,
    DS_H5_NOT_HDF5 = 8,    ///< no HDF5 signature at any valid offset
} ds_h5_status;

/// On-disk element type of a written dataset.
typedef enum {
    DS_H5_STORE_F32 = 0,   ///< IEEE binary32, little endian
    DS_H5_STORE_F16 = 1,   ///< IEEE binary16, little endian (a custom HDF5 float type, as h5py writes it)
} ds_h5_storage;

/// HDF5 datatype classes as far as callers care.
typedef enum {
    DS_H5_CLASS_OTHER = 0,
    DS_H5_CLASS_INTEGER = 1,
    DS_H5_CLASS_FLOAT = 2,
    DS_H5_CLASS_STRING = 3,
} ds_h5_class;

/// Largest rank HDF5 supports (H5S_MAX_RANK).
#define DS_H5_MAX_RANK 32

/// Take / release the process-wide HDF5 lock (recursive, so it may be held around calls).
void ds_h5_lock(void);
void ds_h5_unlock(void);

/// Looks for the 8-byte HDF5 signature at offset 0, 512, 1024, 2048, ... (userblock sizes).
/// Returns 1 if found, 0 if not (including empty files), -1 if the file cannot be read
/// (`*err` receives errno).
int ds_h5_has_signature(const char *path, int *err);

/// Opens an existing file; `writable` selects read-write access.
ds_h5_status ds_h5_open(const char *path, int writable, int64_t *out_file, char *msg, size_t msg_cap);
/// Creates (truncates) a file for writing.
ds_h5_status ds_h5_create(const char *path, int64_t *out_file, char *msg, size_t msg_cap);
/// Flushes and closes; every object of the file is closed with it.
ds_h5_status ds_h5_close(int64_t file, char *msg, size_t msg_cap);

/// 1 if every component of `path` exists (soft links resolved), 0 otherwise. "/" exists.
int ds_h5_exists(int64_t file, const char *path);

/// Shape and element class of a dataset. `dims` must hold DS_H5_MAX_RANK entries.
ds_h5_status ds_h5_dataset_info(int64_t file, const char *name, int *rank, uint64_t *dims,
                                ds_h5_class *cls, char *msg, size_t msg_cap);

/// Reads a numeric dataset converted to native float, C order. `count` must equal the
/// dataset's element count.
/// IEEE binary32 <-> binary16 arrays (round to nearest, ties to even), with F16C when the CPU
/// has it. `ds_f32_to_f16_array_portable` is the scalar reference the fast path is tested against.
void ds_f32_to_f16_array(const float *in, uint16_t *out, uint64_t n);
void ds_f16_to_f32_array(const uint16_t *in, float *out, uint64_t n);
void ds_f32_to_f16_array_portable(const float *in, uint16_t *out, uint64_t n);

ds_h5_status ds_h5_read_floats(int64_t file, const char *name, float *out, uint64_t count,
                               char *msg, size_t msg_cap);

/// Writes `values` (C order) as a new dataset, creating intermediate groups. An existing
/// dataset of that name is replaced. `compressed`: chunked with shuffle + gzip.
ds_h5_status ds_h5_write_floats(int64_t file, const char *name, const float *values, int rank,
                                const uint64_t *dims, ds_h5_storage storage, int compressed,
                                char *msg, size_t msg_cap);

/// Reads a string dataset (any shape, fixed- or variable-length), packed like
/// ds_h5_read_string_attribute.
ds_h5_status ds_h5_read_string_dataset(int64_t file, const char *name, char **out, size_t *out_bytes,
                                       size_t *out_count, char *msg, size_t msg_cap);

/// Writes a 1-D dataset of variable-length UTF-8 strings, creating intermediate groups and
/// replacing an existing dataset of that name.
ds_h5_status ds_h5_write_string_dataset(int64_t file, const char *name, const char *const *values,
                                        size_t count, char *msg, size_t msg_cap);

/// 1 if `object` exists and has attribute `name`, 0 otherwise.
int ds_h5_has_attribute(int64_t file, const char *object, const char *name);

/// Reads a string attribute (scalar or 1-D; fixed-length or variable-length). The strings
/// are returned in one malloc'd buffer, each terminated by NUL, `*out_count` of them; free
/// it with ds_h5_free. Fixed-length strings are cut at their first NUL (padding).
ds_h5_status ds_h5_read_string_attribute(int64_t file, const char *object, const char *name,
                                         char **out, size_t *out_bytes, size_t *out_count,
                                         char *msg, size_t msg_cap);

/// Writes variable-length UTF-8 strings; `scalar` writes count == 1 as a scalar attribute.
/// An existing attribute of that name is replaced.
ds_h5_status ds_h5_write_string_attribute(int64_t file, const char *object, const char *name,
                                          const char *const *values, size_t count, int scalar,
                                          char *msg, size_t msg_cap);

/// Reads a numeric attribute converted to float. `*out` is malloc'd (free with ds_h5_free).
ds_h5_status ds_h5_read_float_attribute(int64_t file, const char *object, const char *name,
                                        float **out, size_t *out_count, char *msg, size_t msg_cap);

/// Writes a float32 attribute; `scalar` writes count == 1 as a scalar attribute.
ds_h5_status ds_h5_write_float_attribute(int64_t file, const char *object, const char *name,
                                         const float *values, size_t count, int scalar,
                                         char *msg, size_t msg_cap);

/// Names of the links in a group, in name order, packed like string attributes.
ds_h5_status ds_h5_child_names(int64_t file, const char *group, char **out, size_t *out_bytes,
                               size_t *out_count, char *msg, size_t msg_cap);

/// Frees buffers returned by this API.
void ds_h5_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
