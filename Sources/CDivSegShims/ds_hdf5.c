// HDF5 operations for Swift; see include/ds_hdf5.h for the contract.
//
// Conventions of this file:
// - every public function takes the global lock first and releases it on every path;
// - HDF5's error stack is read (fail_hdf5) immediately after the failing call, because any
//   later HDF5 call, even a close during cleanup, clears it;
// - all handles are released through one `done:` label per function.
// POSIX 2008 for pread, strnlen, O_CLOEXEC, recursive mutexes under -std=c11.
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700
#include "ds_hdf5.h"

#include <hdf5.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <immintrin.h>

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "ds_hdf5.h passes hid_t as int64_t");
_Static_assert(sizeof(hsize_t) == sizeof(uint64_t), "ds_hdf5.h passes hsize_t as uint64_t");

// MARK: - Lock and library setup

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mutex;
static int g_library_ready = 0;
// HDF5 keeps one error stack (with its auto-print setting) per thread when built
// thread-safe, as Debian's "serial" library is; in other builds there is one global stack.
static _Thread_local int t_errors_silenced = 0;

static void init_mutex(void) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    // Recursive so that Swift can hold the lock across several ds_h5_* calls.
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

void ds_h5_lock(void) {
    pthread_once(&g_once, init_mutex);
    pthread_mutex_lock(&g_mutex);
    if (!g_library_ready) {
        H5open();
        g_library_ready = 1;
    }
    if (!t_errors_silenced) {
        // HDF5 prints its error stack to stderr by default; we report it through errors.
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        t_errors_silenced = 1;
    }
}

void ds_h5_unlock(void) { pthread_mutex_unlock(&g_mutex); }

void ds_h5_free(void *p) { free(p); }

// MARK: - Messages

static void set_msg(char *msg, size_t cap, const char *fmt, ...) {
    if (msg == NULL || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

typedef struct {
    char inner[512];      // the most specific error: says what is actually wrong
    char outer[256];      // the API call that failed
    char outer_func[64];
    hid_t inner_major;
    hid_t inner_minor;
    unsigned count;
} stack_summary;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    stack_summary *s = (stack_summary *)data;
    const char *desc = e->desc ? e->desc : "";
    if (n == 0) {  // H5E_WALK_UPWARD starts at the innermost frame
        snprintf(s->inner, sizeof s->inner, "%s", desc);
        s->inner_major = e->maj_num;
        s->inner_minor = e->min_num;
    }
    snprintf(s->outer, sizeof s->outer, "%s", desc);
    snprintf(s->outer_func, sizeof s->outer_func, "%s", e->func_name ? e->func_name : "");
    s->count++;
    return 0;
}

static stack_summary read_stack(void) {
    stack_summary s;
    memset(&s, 0, sizeof s);
    s.inner_major = s.inner_minor = -1;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &s);
    return s;
}

// Without context (NULL): "<innermost message> [<API function>: <its message>]".
static void format_stack(const stack_summary *s, char *msg, size_t cap, const char *context) {
    const char *c = context ? context : "";
    const char *sep = context ? ": " : "";
    if (s->count == 0) {
        set_msg(msg, cap, "%s%sHDF5 gave no reason", c, sep);
    } else if (s->count == 1 || strcmp(s->inner, s->outer) == 0) {
        set_msg(msg, cap, "%s%s%s", c, sep, s->inner);
    } else {
        set_msg(msg, cap, "%s%s%s [%s: %s]", c, sep, s->inner, s->outer_func, s->outer);
    }
}

// Records the current HDF5 error stack under `context` and returns `status`.
static ds_h5_status fail_hdf5(ds_h5_status status, char *msg, size_t cap, const char *fmt, ...) {
    stack_summary s = read_stack();
    char context[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    format_stack(&s, msg, cap, context);
    return status;
}

// Failures to open/create a file are either the operating system's (permissions, locks,
// the same file already open in a conflicting mode) or HDF5's inability to decode it.
static ds_h5_status classify_open_failure(const stack_summary *s, ds_h5_status otherwise) {
    if (s->inner_minor == H5E_CANTOPENFILE || s->inner_minor == H5E_CANTLOCKFILE ||
        s->inner_minor == H5E_FILEOPEN || s->inner_minor == H5E_FILEEXISTS)
        return DS_H5_IO;
    return otherwise;
}

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floating-point numbers";
    case H5T_STRING: return "strings";
    case H5T_TIME: return "time values";
    case H5T_BITFIELD: return "bit fields";
    case H5T_OPAQUE: return "opaque data";
    case H5T_COMPOUND: return "compound records";
    case H5T_REFERENCE: return "object references";
    case H5T_ENUM: return "enumeration values";
    case H5T_VLEN: return "variable-length sequences";
    case H5T_ARRAY: return "array elements";
    default: return "values of unknown type";
    }
}

static ds_h5_class class_of(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return DS_H5_CLASS_INTEGER;
    case H5T_FLOAT: return DS_H5_CLASS_FLOAT;
    case H5T_STRING: return DS_H5_CLASS_STRING;
    default: return DS_H5_CLASS_OTHER;
    }
}

static const char *or_root(const char *object) {
    return (object == NULL || object[0] == '\0') ? "/" : object;
}

// MARK: - Files

int ds_h5_has_signature(const char *path, int *err) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (err) *err = 0;
    // O_NONBLOCK: a FIFO must not block the open (the Swift side refuses non-regular files
    // first; this is the second line of defence).
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (err) *err = errno;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        if (err) *err = errno;
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        if (err) *err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        close(fd);
        return -1;
    }
    int found = 0;
    // The superblock sits at 0 or after a user block of 512, 1024, 2048, ... bytes.
    for (off_t off = 0; off + 8 <= st.st_size; off = (off == 0) ? 512 : off * 2) {
        unsigned char buf[8];
        ssize_t n = pread(fd, buf, 8, off);
        if (n < 0) {
            if (err) *err = errno;
            close(fd);
            return -1;
        }
        if (n == 8 && memcmp(buf, sig, 8) == 0) {
            found = 1;
            break;
        }
    }
    close(fd);
    return found;
}

// MARK: - Global heap pre-check

// memmem without _GNU_SOURCE: the first occurrence of `needle` at or after `p`. memchr
// looks for one byte of the needle, chosen to be rare: a needle byte that is neither 0x00 nor
// 0xFF when there is one. Files of post-ReLU features are mostly zero bytes (93 % of a cache
// state entry), and the heap addresses searched for start with zeros, so anchoring on the
// first byte made memchr stop at almost every byte (1.2 ms per 0.35 MB entry, a quarter of
// `train`'s time); anchored on a rare byte the same search is a few microseconds. Any anchor
// finds the same first occurrence: a match at s >= p has needle[j] at s + j >= p + j.
static const unsigned char *find_bytes(const unsigned char *p, const unsigned char *end,
                                       const unsigned char *needle, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (needle[i] != 0x00 && needle[i] != 0xFF) { j = i; break; }
    }
    while ((size_t)(end - p) >= n) {
        const unsigned char *c = memchr(p + j, needle[j], (size_t)(end - p) - n + 1);
        if (!c) return NULL;
        if (memcmp(c - j, needle, n) == 0) return c - j;
        p = c - j + 1;
    }
    return NULL;
}

static uint64_t le_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

// libhdf5 1.10 (Debian's) trusts the sizes inside a global heap collection ("GCOL", where
// variable-length strings live): an object whose size runs past its collection makes
// H5HG_read copy gigabytes out of bounds (a crash), a zero-sized free-space object makes the
// collection decoder loop for ever. Found by Fuzz/FuzzModelFiles; see docs/RELIABILITY.md.
// Before HDF5 sees a file, every collection in it (signature, version 1, zero reserved bytes)
// must lie inside the file and its objects must tile it exactly as HDF5 will decode them
// (global_heaps_damaged); before HDF5 reads a variable-length value, the heap ids it will
// follow are checked against the collections (vl_data_damaged).
enum { MAX_COLLECTIONS = 256 };

// One collection: where it is, how many slots libhdf5 gives its object table, and the size
// of each object by index (UINT64_MAX: no object), grown as objects are found.
typedef struct {
    size_t start;
    uint64_t slots;
    uint64_t *sizes;
    size_t count;    // entries of `sizes`
} heap_collection;

static int record_object(heap_collection *c, unsigned idx, uint64_t size) {
    if (idx >= c->count) {
        size_t n = (size_t)idx + 1;
        uint64_t *grown = realloc(c->sizes, n * sizeof *grown);
        if (grown == NULL) return 0;
        for (size_t i = c->count; i < n; i++) grown[i] = UINT64_MAX;
        c->sizes = grown;
        c->count = n;
    }
    c->sizes[idx] = size;
    return 1;
}

static uint64_t object_size(const heap_collection *c, uint32_t idx) {
    return idx > 0 && idx < c->count ? c->sizes[idx] : UINT64_MAX;
}

// Walks the objects of the collection at `start` (its `length` checked against the file):
// they must tile it exactly as libhdf5 decodes them. Fills `heap` (free heap->sizes after);
// returns 1 with a message for a damaged collection.
static int walk_collection(const unsigned char *file, size_t start, uint64_t length, heap_collection *heap,
                           char *msg, size_t cap) {
    const unsigned char *p = file + start;
    *heap = (heap_collection){start, 0, NULL, 0};
    // Objects: index (2), reference count (2), reserved (4), size (8), data padded to 8
    // bytes; index 0 is the free space, whose size includes its header. The table is sized
    // as H5HG__cache_heap_deserialize sizes it.
    uint64_t nalloc = (length - 16) / 16 + 2;
    uint64_t pos = 16;
    while (pos < length) {
        if (length - pos < 16) break;   // a tail too small for a header is free space
        const unsigned char *h = p + pos;
        unsigned idx = h[0] | (unsigned)h[1] << 8;
        uint64_t object = le_u64(h + 8);
        uint64_t need;
        if (idx >= nalloc) nalloc = nalloc * 2 > (uint64_t)idx + 1 ? nalloc * 2 : (uint64_t)idx + 1;
        if (idx == 0) {
            need = object;
        } else if (object > length) {
            need = UINT64_MAX;
        } else {
            need = 16 + ((object + 7) & ~(uint64_t)7);
        }
        if (need == 0 || need > length - pos) {
            set_msg(msg, cap, "global heap collection at byte %zu: object %u at byte %llu claims %llu bytes, "
                    "more than its collection holds", start, idx,
                    (unsigned long long)(start + pos), (unsigned long long)object);
            free(heap->sizes);
            heap->sizes = NULL;
            return 1;
        }
        // Out of memory: the object is not recorded, its heap ids are not checked.
        if (idx > 0) (void)record_object(heap, idx, object);
        pos += need;
    }
    heap->slots = nalloc;
    return 0;
}

// A file mapped for the checks below, with its global heap collections.
typedef struct {
    const unsigned char *file;
    size_t size;
    size_t base;    // offset of the superblock: heap addresses are relative to it
    heap_collection heaps[MAX_COLLECTIONS];
    int collections;
} heap_scan;

static void release_scan(heap_scan *scan) {
    for (int c = 0; c < scan->collections; c++) free(scan->heaps[c].sizes);
    scan->collections = 0;
    if (scan->file) munmap((void *)scan->file, scan->size);
    scan->file = NULL;
}

// Maps `path` and (with `collections`) walks its collections. Returns -1 when the file
// cannot be checked (not a regular file, no superblock, lengths other than 8 bytes), 1 when
// a collection is damaged (message set), 0 otherwise; release_scan frees it in every case.
static int scan_heaps(const char *path, int collections, heap_scan *scan, char *msg, size_t cap) {
    static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    static const unsigned char gcol[8] = {'G', 'C', 'O', 'L', 1, 0, 0, 0};
    memset(scan, 0, sizeof *scan);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 64) {
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED) return -1;
    scan->file = file;
    scan->size = size;
    // The superblock (at 0 or after a user block) says how wide lengths are.
    size_t base = SIZE_MAX;
    for (size_t off = 0; off + 16 <= size; off = off == 0 ? 512 : off * 2)
        if (memcmp(file + off, hdf5_sig, 8) == 0) { base = off; break; }
    if (base == SIZE_MAX) { release_scan(scan); return -1; }
    unsigned version = file[base + 8];
    size_t at = version <= 1 ? base + 14 : base + 10;
    if ((at < size ? file[at] : 0) != 8) { release_scan(scan); return -1; }
    scan->base = base;
    if (!collections) return 0;
    const unsigned char *p = file;
    const unsigned char *end = file + size;
    while ((p = find_bytes(p, end, gcol, 8)) != NULL) {
        size_t start = (size_t)(p - file);
        if (size - start < 16) break;
        uint64_t length = le_u64(p + 8);
        if (length < 16 || length > size - start) {
            set_msg(msg, cap, "global heap collection at byte %zu claims %llu bytes, past the end of the file",
                    start, (unsigned long long)length);
            return 1;
        }
        heap_collection heap;
        if (walk_collection(file, start, length, &heap, msg, cap)) return 1;
        if (scan->collections < MAX_COLLECTIONS) scan->heaps[scan->collections++] = heap;
        else free(heap.sizes);
        p += 8;
    }
    return 0;
}

// A variable-length value is stored as a heap id: its length (4: the bytes of a string), the
// collection's address (8, relative to the superblock) and the object's index (4). libhdf5
// 1.10 trusts all three: it reads obj[index] without checking it against its table (an index
// past it is a wild pointer), and it allocates and clears a buffer of the claimed length
// before it looks at the collection (a 12 KB file made it take 1.9 GB). Both found by
// Fuzz/FuzzModelFiles. What the heap id at byte `at` of the file must satisfy, or 0 with
// nothing to say; a zero length (an empty or null value) is never read.
static int heap_id_problem(const heap_scan *scan, size_t at, char *msg, size_t cap) {
    static const unsigned char gcol[8] = {'G', 'C', 'O', 'L', 1, 0, 0, 0};
    const unsigned char *id = scan->file + at;
    uint32_t length = (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
    uint64_t address = le_u64(id + 4);
    uint32_t idx = (uint32_t)id[12] | (uint32_t)id[13] << 8 | (uint32_t)id[14] << 16 | (uint32_t)id[15] << 24;
    if (length == 0) return 0;
    size_t room = scan->size - scan->base;   // bytes from the superblock on
    if (room < 16 || address > room - 16 || memcmp(scan->file + scan->base + address, gcol, 8) != 0) {
        set_msg(msg, cap, "the heap id at byte %zu claims %u bytes at byte %llu, where there is no global heap collection",
                at, length, (unsigned long long)address + scan->base);
        return 1;
    }
    size_t start = scan->base + (size_t)address;
    uint64_t collection = le_u64(scan->file + start + 8);
    if (collection < 16 || collection > scan->size - start) {
        set_msg(msg, cap, "global heap collection at byte %zu claims %llu bytes, past the end of the file", start,
                (unsigned long long)collection);
        return 1;
    }
    heap_collection heap;
    if (walk_collection(scan->file, start, collection, &heap, msg, cap)) return 1;
    uint64_t named = object_size(&heap, idx);
    free(heap.sizes);
    if (named == UINT64_MAX) {
        set_msg(msg, cap, "the heap id at byte %zu refers to object %u of the global heap collection at byte %zu, "
                "which has no such object", at, idx, start);
        return 1;
    }
    if (length > named) {
        set_msg(msg, cap, "the heap id at byte %zu claims %u bytes of object %u of the global heap collection "
                "at byte %zu, which holds %llu", at, length, idx, start, (unsigned long long)named);
        return 1;
    }
    return 0;
}

// Returns 0 (consistent, or not checkable) or 1 with a message.
static int global_heaps_damaged(const char *path, char *msg, size_t cap) {
    heap_scan scan;
    int damaged = scan_heaps(path, 1, &scan, msg, cap);
    if (damaged != 0) {
        release_scan(&scan);
        return damaged > 0;
    }
    // Heap ids are found where libhdf5 reads them (see vl_data_damaged); here, before the
    // file is opened, every 8 bytes equal to a collection's address are taken for one when
    // the length before them is one of the collection's object sizes (the address alone
    // also turns up in other structures and in raw data): its index must fit the table.
    const unsigned char *end = scan.file + scan.size;
    for (int c = 0; c < scan.collections && !damaged; c++) {
        const heap_collection *heap = &scan.heaps[c];
        unsigned char address[8];
        uint64_t relative = (uint64_t)(heap->start - scan.base);
        for (int b = 0; b < 8; b++) address[b] = (unsigned char)(relative >> (8 * b));
        const unsigned char *q = scan.file + 4;
        while (!damaged && (q = find_bytes(q, end, address, 8)) != NULL) {
            if ((size_t)(end - q) >= 12) {
                uint32_t length = (uint32_t)q[-4] | (uint32_t)q[-3] << 8 | (uint32_t)q[-2] << 16 | (uint32_t)q[-1] << 24;
                uint32_t idx = (uint32_t)q[8] | (uint32_t)q[9] << 8 | (uint32_t)q[10] << 16 | (uint32_t)q[11] << 24;
                int known = 0;
                for (size_t k = 1; k < heap->count && !known; k++) known = heap->sizes[k] == length;
                if (known && idx >= heap->slots) {
                    set_msg(msg, cap, "the heap id at byte %zu refers to object %u of the global heap collection "
                            "at byte %zu, which has %llu slots", (size_t)(q - scan.file), idx, heap->start,
                            (unsigned long long)heap->slots);
                    damaged = 1;
                }
            }
            q += 1;
        }
    }
    release_scan(&scan);
    return damaged;
}

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

// The number of elements of the dataspace message at `at` (`bytes` long; lengths of 8
// bytes): version 1 (rank, flags, 5 reserved bytes, dimensions) or 2 (rank, flags, type,
// dimensions; type 0 scalar, 2 null). Returns 0 when it is not one.
static int dataspace_points(const heap_scan *scan, size_t at, size_t bytes, uint64_t *points) {
    const unsigned char *f = scan->file;
    if (bytes < 4 || at > scan->size || scan->size - at < bytes) return 0;
    unsigned version = f[at], rank = f[at + 1];
    size_t dims;
    if (version == 1) {
        dims = at + 8;
    } else if (version == 2) {
        if (f[at + 3] == 0 || f[at + 3] == 2) {
            *points = f[at + 3] == 0 ? 1 : 0;
            return 1;
        }
        dims = at + 4;
    } else {
        return 0;
    }
    if (rank > 32 || dims + (size_t)rank * 8 > at + bytes) return 0;
    uint64_t n = 1;
    for (unsigned i = 0; i < rank; i++) {
        uint64_t d = le_u64(f + dims + 8 * (size_t)i);
        if (d != 0 && n > UINT64_MAX / d) return 0;
        n *= d;
    }
    *points = n;
    return 1;
}

// Before libhdf5 reads `count` variable-length values of attribute `name` (of any object) or
// of a contiguous dataset at file offset `offset` (HADDR_UNDEF for an attribute), their heap
// ids are checked in the file's bytes (heap_id_problem). An attribute's values are the last
// part of its attribute message (version 1: name, datatype and dataspace each padded to 8
// bytes; versions 2 and 3: unpadded), found by the attribute's name and message header; an
// occurrence that is not a variable-length attribute message of `count` elements is skipped,
// the first that is one is checked. Returns 1 with a
// message for a damaged heap id, 0 otherwise (also when nothing could be checked: a file
// not mapped, attributes in dense storage).
static int vl_data_damaged(hid_t obj, const char *name, haddr_t offset, uint64_t count, char *msg, size_t cap) {
    if (count == 0) return 0;
    ssize_t n = H5Fget_name(obj, NULL, 0);
    if (n <= 0) return 0;
    char *path = malloc((size_t)n + 1);
    if (path == NULL) return 0;
    H5Fget_name(obj, path, (size_t)n + 1);
    heap_scan scan;
    int status = scan_heaps(path, 0, &scan, msg, cap);
    free(path);
    if (status != 0) {
        release_scan(&scan);
        return status > 0;
    }
    int damaged = 0;
    if (count > scan.size / 16) {
        set_msg(msg, cap, "%llu variable-length values cannot fit in the file's %zu bytes", (unsigned long long)count,
                scan.size);
        damaged = 1;
    } else if (name == NULL) {
        size_t data = (size_t)offset;
        if (offset != HADDR_UNDEF && offset <= scan.size - scan.base && scan.size - scan.base - offset >= count * 16) {
            for (uint64_t i = 0; i < count && !damaged; i++)
                damaged = heap_id_problem(&scan, scan.base + data + (size_t)i * 16, msg, cap);
        }
    } else {
        size_t len = strlen(name) + 1;   // stored with its NUL
        const unsigned char *p = scan.file;
        const unsigned char *end = scan.file + scan.size;
        while (!damaged && (p = find_bytes(p, end, (const unsigned char *)name, len)) != NULL) {
            size_t at = (size_t)(p - scan.file);
            p += 1;
            size_t header = 0, type = 0, space = 0, data = 0;
            for (int v = 1; v <= 3 && data == 0; v++) {
                header = v == 3 ? 9 : 8;
                if (at < header || scan.file[at - header] != v) continue;
                const unsigned char *h = scan.file + at - header;
                size_t nsize = h[2] | (size_t)h[3] << 8, tsize = h[4] | (size_t)h[5] << 8, ssize = h[6] | (size_t)h[7] << 8;
                if (nsize != len || tsize < 8) continue;
                type = at + (v == 1 ? pad8(nsize) : nsize);
                space = type + (v == 1 ? pad8(tsize) : tsize);
                data = space + (v == 1 ? pad8(ssize) : ssize);
            }
            // Class 9 (variable-length) in the low bits of the datatype's first byte, and as
            // many elements as libhdf5 reports: the same name may be an attribute of other
            // objects too (or appear elsewhere).
            if (data == 0 || type >= scan.size || (scan.file[type] & 0x0f) != 9) continue;
            if (data > scan.size || scan.size - data < count * 16) continue;
            uint64_t points = 0;
            if (!dataspace_points(&scan, space, data - space, &points) || points != count) continue;
            for (uint64_t i = 0; i < count && !damaged; i++)
                damaged = heap_id_problem(&scan, data + (size_t)i * 16, msg, cap);
            // The first message that fits is taken for the attribute's: object headers come
            // early in a file, and the search does not read the rest of a large file.
            break;
        }
    }
    release_scan(&scan);
    return damaged;
}

static hid_t make_fapl(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    // Strong close: H5Fclose really closes (and flushes) the file even if an object id
    // leaked, so a file that was closed can be fsynced and renamed.
    if (fapl >= 0) H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
    // Keep HDF5's file locks, but do not fail on file systems that refuse them (NFS, some
    // container mounts): the shared weights are only ever read.
    if (fapl >= 0) H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl;
}

ds_h5_status ds_h5_open(const char *path, int writable, int64_t *out_file, char *msg, size_t cap) {
    ds_h5_lock();
    ds_h5_status st = DS_H5_OK;
    *out_file = -1;
    if (global_heaps_damaged(path, msg, cap)) {
        ds_h5_unlock();
        return DS_H5_CORRUPT;
    }
    hid_t fapl = make_fapl();
    hid_t f = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    if (f < 0) {
        stack_summary s = read_stack();
        format_stack(&s, msg, cap, NULL);
        st = classify_open_failure(&s, DS_H5_CORRUPT);
    } else {
        *out_file = f;
    }
    if (fapl >= 0) H5Pclose(fapl);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_create(const char *path, int64_t *out_file, char *msg, size_t cap) {
    ds_h5_lock();
    ds_h5_status st = DS_H5_OK;
    *out_file = -1;
    hid_t fapl = make_fapl();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0) {
        stack_summary s = read_stack();
        format_stack(&s, msg, cap, NULL);
        st = classify_open_failure(&s, DS_H5_FAILED);
    } else {
        *out_file = f;
    }
    if (fapl >= 0) H5Pclose(fapl);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_close(int64_t file, char *msg, size_t cap) {
    ds_h5_lock();
    ds_h5_status st = DS_H5_OK;
    if (H5Fclose(file) < 0) st = fail_hdf5(DS_H5_FAILED, msg, cap, "closing the file failed");
    ds_h5_unlock();
    return st;
}

// MARK: - Objects

// HDF5 refuses H5Lexists("a/b/c") with an error when "a" is missing, so walk the
// components; H5Oexists_by_name then rejects dangling soft links.
static int path_exists(hid_t loc, const char *path) {
    if (path == NULL) return 0;
    size_t n = strlen(path);
    char *prefix = malloc(n + 2);
    if (prefix == NULL) return 0;
    size_t len = 0;
    const char *p = path;
    if (*p == '/') prefix[len++] = '/';
    prefix[len] = '\0';
    int exists = 1;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *end = p;
        while (*end && *end != '/') end++;
        size_t clen = (size_t)(end - p);
        if (!(clen == 1 && p[0] == '.')) {
            if (len > 0 && prefix[len - 1] != '/') prefix[len++] = '/';
            memcpy(prefix + len, p, clen);
            len += clen;
            prefix[len] = '\0';
            if (H5Lexists(loc, prefix, H5P_DEFAULT) <= 0 ||
                H5Oexists_by_name(loc, prefix, H5P_DEFAULT) <= 0) {
                exists = 0;
                break;
            }
        }
        p = end;
    }
    free(prefix);
    return exists;
}

int ds_h5_exists(int64_t file, const char *path) {
    ds_h5_lock();
    int r = path_exists(file, or_root(path));
    ds_h5_unlock();
    return r;
}

// Opens `name` and checks that it is of kind `want` (H5I_DATASET or H5I_GROUP).
static ds_h5_status open_object(hid_t file, const char *name, H5I_type_t want, hid_t *out,
                                char *msg, size_t cap) {
    const char *what = (want == H5I_DATASET) ? "dataset" : "group";
    *out = -1;
    if (!path_exists(file, name)) {
        set_msg(msg, cap, "no %s '%s'", what, name);
        return DS_H5_MISSING;
    }
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0) return fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot open '%s'", name);
    H5I_type_t t = H5Iget_type(obj);
    if (t != want) {
        H5Oclose(obj);
        const char *is = t == H5I_GROUP ? "a group" : t == H5I_DATASET ? "a dataset" : "a named datatype";
        set_msg(msg, cap, "'%s' is %s, not a %s", name, is, what);
        return DS_H5_WRONG_TYPE;
    }
    *out = obj;
    return DS_H5_OK;
}

ds_h5_status ds_h5_dataset_info(int64_t file, const char *name, int *rank, uint64_t *dims,
                                ds_h5_class *cls, char *msg, size_t cap) {
    ds_h5_lock();
    hid_t dset = -1, space = -1, type = -1;
    ds_h5_status st = open_object(file, name, H5I_DATASET, &dset, msg, cap);
    if (st != DS_H5_OK) goto done;
    if ((type = H5Dget_type(dset)) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the type of '%s'", name);
        goto done;
    }
    *cls = class_of(H5Tget_class(type));
    if ((space = H5Dget_space(dset)) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the shape of '%s'", name);
        goto done;
    }
    switch (H5Sget_simple_extent_type(space)) {
    case H5S_SCALAR:
        *rank = 0;
        break;
    case H5S_NULL:  // no elements at all; closest array equivalent is shape [0]
        *rank = 1;
        dims[0] = 0;
        break;
    default: {
        int r = H5Sget_simple_extent_dims(space, (hsize_t *)dims, NULL);
        if (r < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the shape of '%s'", name);
            goto done;
        }
        *rank = r;
    }
    }
done:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (dset >= 0) H5Dclose(dset);
    ds_h5_unlock();
    return st;
}

// True for a little-endian IEEE binary16 float type (what h5py and this shim write).
static int is_ieee_half_le(hid_t type) {
    if (H5Tget_class(type) != H5T_FLOAT || H5Tget_size(type) != 2) return 0;
    if (H5Tget_order(type) != H5T_ORDER_LE) return 0;
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return 0;
    return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(type) == 15;
}

// IEEE binary16 -> binary32 through the compiler's _Float16 (the type Swift's Float16 is):
// exact for every bit pattern.
static float f16_to_f32(uint16_t h) {
    _Float16 value;
    memcpy(&value, &h, sizeof value);
    return (float)value;
}

static ds_h5_status read_half(hid_t dset, hid_t type, const char *name, float *out, uint64_t count,
                              char *msg, size_t cap) {
    // The 16-bit values are read into the upper half of the output buffer, then widened in
    // place from the front: element i's source sits at or after where float i is written.
    uint16_t *raw = (uint16_t *)(out + count) - count;
    hid_t mem = H5Tcopy(type);
    if (mem < 0) return fail_hdf5(DS_H5_FAILED, msg, cap, "cannot copy the type of '%s'", name);
    herr_t rc = H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
    H5Tclose(mem);
    if (rc < 0) return fail_hdf5(DS_H5_CORRUPT, msg, cap, "reading the data of '%s' failed", name);
    ds_f16_to_f32_array(raw, out, count);
    return DS_H5_OK;
}

// Numbers are 1, 2, 4 or 8 bytes wide. A damaged datatype message can claim any size (found
// by Fuzz/FuzzModelFiles: a float of 4 GiB), and libhdf5 1.10 allocates and clears a
// conversion buffer of that size times the element count before it notices anything.
static int number_size_ok(hid_t type) {
    size_t size = H5Tget_size(type);
    return size == 1 || size == 2 || size == 4 || size == 8;
}

ds_h5_status ds_h5_read_floats(int64_t file, const char *name, float *out, uint64_t count,
                               char *msg, size_t cap) {
    ds_h5_lock();
    hid_t dset = -1, space = -1, type = -1;
    ds_h5_status st = open_object(file, name, H5I_DATASET, &dset, msg, cap);
    if (st != DS_H5_OK) goto done;
    if ((type = H5Dget_type(dset)) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the type of '%s'", name);
        goto done;
    }
    H5T_class_t c = H5Tget_class(type);
    if (c != H5T_INTEGER && c != H5T_FLOAT) {
        set_msg(msg, cap, "'%s' holds %s, not numbers", name, class_name(c));
        st = DS_H5_WRONG_TYPE;
        goto done;
    }
    if (!number_size_ok(type)) {
        set_msg(msg, cap, "'%s' claims %zu-byte numbers (damaged datatype)", name, H5Tget_size(type));
        st = DS_H5_CORRUPT;
        goto done;
    }
    if ((space = H5Dget_space(dset)) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the shape of '%s'", name);
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0 || (uint64_t)n != count) {
        set_msg(msg, cap, "'%s' has %lld elements, caller expected %llu", name, (long long)n,
                (unsigned long long)count);
        st = DS_H5_SHAPE;
        goto done;
    }
    if (count > 0 && is_ieee_half_le(type)) {
        // HDF5 1.10 widens half floats through its slow soft-conversion path (~30x slower than
        // a float32 read); read the raw 16-bit values and widen them here, exactly.
        st = read_half(dset, type, name, out, count, msg, cap);
        goto done;
    }
    if (count > 0 && H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "reading the data of '%s' failed", name);
        goto done;
    }
done:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (dset >= 0) H5Dclose(dset);
    ds_h5_unlock();
    return st;
}

// IEEE binary16 is not predefined in HDF5 1.10; this is the type h5py writes for float16,
// so files stay readable by numpy users as dtype float16.
static hid_t make_f16_type(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return -1;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

// IEEE binary32 -> binary16 through the compiler's _Float16 (the type Swift's Float16 is):
// round to nearest, ties to even; overflow gives infinity. Done here rather than by HDF5
// because HDF5 1.10's soft float conversion drops the carry when rounding overflows the
// mantissa: 0x1.ffe5c8p-14 became 0x1p-14 (half the value) and subnormal results were off by
// hundreds of units. Widening (reads) is exact in HDF5, which was checked against all 65536
// half bit patterns.
static uint16_t f32_to_f16(float f) {
    _Float16 value = (_Float16)f;
    uint16_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

// The F16C instructions convert 8 values per instruction with the same IEEE rounding (to
// nearest, ties to even; NaN stays NaN with its payload's top bits and the quiet bit): a
// 4224×64×84 hypercolumn (22.7 M values) takes ~10 ms instead of ~100 ms. Chosen at run
// time, so a plain x86-64 build still runs on CPUs without F16C.
__attribute__((target("avx,f16c"))) static void f32_to_f16_f16c(const float *in, uint16_t *out, uint64_t n) {
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) out[i] = f32_to_f16(in[i]);
}

__attribute__((target("avx,f16c"))) static void f16_to_f32_f16c(const uint16_t *in, float *out, uint64_t n) {
    // In place from the front (read_half): a block's 8 halves are loaded before its 8 floats,
    // which start at or before them, are stored.
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
    for (; i < n; i++) out[i] = f16_to_f32(in[i]);
}

static int has_f16c(void) {
    __builtin_cpu_init();  // idempotent; reads cpuid once per process
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}

void ds_f32_to_f16_array(const float *in, uint16_t *out, uint64_t n) {
    if (has_f16c()) { f32_to_f16_f16c(in, out, n); return; }
    for (uint64_t i = 0; i < n; i++) out[i] = f32_to_f16(in[i]);
}

void ds_f16_to_f32_array(const uint16_t *in, float *out, uint64_t n) {
    if (has_f16c()) { f16_to_f32_f16c(in, out, n); return; }
    for (uint64_t i = 0; i < n; i++) out[i] = f16_to_f32(in[i]);
}

void ds_f32_to_f16_array_portable(const float *in, uint16_t *out, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) out[i] = f32_to_f16(in[i]);
}

// Chunks of at most ~1 MiB of input, shrinking leading dimensions first so that a chunk is a
// run of whole rows: good gzip ratio without reading much more than asked.
static void choose_chunks(int rank, const hsize_t *dims, hsize_t *chunk) {
    const hsize_t target = 262144;  // elements of 4 bytes
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) {
        chunk[i] = dims[i];
        total *= dims[i];
    }
    for (int i = 0; i < rank && total > target; i++) {
        while (chunk[i] > 1 && total > target) {
            hsize_t half = (chunk[i] + 1) / 2;
            total = total / chunk[i] * half;
            chunk[i] = half;
        }
    }
}

// HDF5's own complaint about creating "a/b" below a dataset "a" is "message type not
// found"; check the existing ancestors first to say what is actually wrong.
static ds_h5_status check_parents(hid_t file, const char *name, char *msg, size_t cap) {
    size_t n = strlen(name);
    char *prefix = malloc(n + 1);
    if (prefix == NULL) return DS_H5_NOMEM;
    ds_h5_status st = DS_H5_OK;
    for (size_t i = 1; i < n && st == DS_H5_OK; i++) {
        if (name[i] != '/' || name[i - 1] == '/') continue;
        memcpy(prefix, name, i);
        prefix[i] = '\0';
        if (!path_exists(file, prefix)) break;  // the rest will be created as groups
        hid_t obj = H5Oopen(file, prefix, H5P_DEFAULT);
        if (obj < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot open '%s'", prefix);
        } else {
            if (H5Iget_type(obj) != H5I_GROUP) {
                set_msg(msg, cap, "'%s' is a dataset, so '%s' cannot be created inside it", prefix, name);
                st = DS_H5_WRONG_TYPE;
            }
            H5Oclose(obj);
        }
    }
    free(prefix);
    return st;
}

// Unlinks an existing dataset `name` so it can be written anew; a group there is an error.
// Replacing keeps the caller's model simple ("write = set"); HDF5 does not reclaim the old
// space, which is one reason to rewrite whole files with writeAtomically.
static ds_h5_status replace_dataset(hid_t file, const char *name, char *msg, size_t cap) {
    ds_h5_status st = check_parents(file, name, msg, cap);
    if (st != DS_H5_OK) return st;
    if (!path_exists(file, name)) return DS_H5_OK;
    hid_t old = -1;
    st = open_object(file, name, H5I_DATASET, &old, msg, cap);
    if (st != DS_H5_OK) return st;
    H5Oclose(old);
    if (H5Ldelete(file, name, H5P_DEFAULT) < 0)
        return fail_hdf5(DS_H5_FAILED, msg, cap, "cannot replace the existing dataset '%s'", name);
    return DS_H5_OK;
}

ds_h5_status ds_h5_write_floats(int64_t file, const char *name, const float *values, int rank,
                                const uint64_t *dims_in, ds_h5_storage storage, int compressed,
                                char *msg, size_t cap) {
    ds_h5_lock();
    hid_t space = -1, ftype = -1, mtype = -1, lcpl = -1, dcpl = -1, dset = -1;
    uint16_t *halves = NULL;
    ds_h5_status st = DS_H5_OK;
    const hsize_t *dims = (const hsize_t *)dims_in;
    if (rank < 0 || rank > DS_H5_MAX_RANK) {
        set_msg(msg, cap, "rank %d of '%s' is outside 0...%d", rank, name, DS_H5_MAX_RANK);
        st = DS_H5_SHAPE;
        goto done;
    }
    hsize_t count = 1;
    for (int i = 0; i < rank; i++) count *= dims[i];
    if (storage == DS_H5_STORE_F16) {
        // A finite value from 65520 on would be stored as infinity: refuse it, before anything
        // (an existing dataset of that name included) is touched, rather than store a silently
        // different number.
        uint64_t beyond = 0;
        for (uint64_t i = 0; i < count; i++) beyond += fabsf(values[i]) >= 65520.0f && fabsf(values[i]) <= FLT_MAX;
        if (beyond) {
            set_msg(msg, cap, "'%s' has %llu values beyond float16's range (largest finite 65504); "
                    "store it as float32", name, (unsigned long long)beyond);
            st = DS_H5_FAILED;
            goto done;
        }
    }

    st = replace_dataset(file, name, msg, cap);
    if (st != DS_H5_OK) goto done;

    space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    if (space < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "invalid shape for '%s'", name);
        goto done;
    }
    ftype = storage == DS_H5_STORE_F16 ? make_f16_type() : H5Tcopy(H5T_IEEE_F32LE);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (ftype < 0 || lcpl < 0 || dcpl < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot prepare the dataset '%s'", name);
        goto done;
    }
    H5Pset_create_intermediate_group(lcpl, 1);
    // Every element is written right away, so pre-filling with zeros is wasted work.
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    if (compressed && rank > 0 && count > 0) {
        if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 || H5Zfilter_avail(H5Z_FILTER_SHUFFLE) <= 0) {
            set_msg(msg, cap, "this HDF5 library has no gzip/shuffle filter; write '%s' uncompressed", name);
            st = DS_H5_FAILED;
            goto done;
        }
        hsize_t chunk[DS_H5_MAX_RANK];
        choose_chunks(rank, dims, chunk);
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, 4) < 0) {
            st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot set up compression for '%s'", name);
            goto done;
        }
    }
    dset = H5Dcreate2(file, name, ftype, space, lcpl, dcpl, H5P_DEFAULT);
    if (dset < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot create the dataset '%s'", name);
        goto done;
    }
    if (count > 0 && storage == DS_H5_STORE_F16) {
        halves = malloc((size_t)count * sizeof(uint16_t));
        mtype = H5Tcopy(ftype);
        if (halves == NULL || mtype < 0) {
            set_msg(msg, cap, "out of memory converting '%s' to float16", name);
            st = DS_H5_NOMEM;
            goto done;
        }
        ds_f32_to_f16_array(values, halves, count);
        // Converted already: memory type = file type in host order, so HDF5 only copies.
        H5Tset_order(mtype, H5Tget_order(H5T_NATIVE_FLOAT));
        if (H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, halves) < 0) {
            st = fail_hdf5(DS_H5_FAILED, msg, cap, "writing the data of '%s' failed", name);
            goto done;
        }
    } else if (count > 0 && H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "writing the data of '%s' failed", name);
        goto done;
    }
done:
    free(halves);
    if (mtype >= 0) H5Tclose(mtype);
    if (dset >= 0) H5Dclose(dset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
    ds_h5_unlock();
    return st;
}

// MARK: - Attributes

int ds_h5_has_attribute(int64_t file, const char *object, const char *name) {
    ds_h5_lock();
    object = or_root(object);
    int r = path_exists(file, object) && H5Aexists_by_name(file, object, name, H5P_DEFAULT) > 0;
    ds_h5_unlock();
    return r;
}

static ds_h5_status open_attribute(hid_t file, const char *object, const char *name, hid_t *out,
                                   char *msg, size_t cap) {
    *out = -1;
    if (!path_exists(file, object)) {
        set_msg(msg, cap, "no object '%s'", object);
        return DS_H5_MISSING;
    }
    htri_t e = H5Aexists_by_name(file, object, name, H5P_DEFAULT);
    if (e < 0) return fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot list the attributes of '%s'", object);
    if (e == 0) {
        set_msg(msg, cap, "'%s' has no attribute '%s'", object, name);
        return DS_H5_MISSING;
    }
    hid_t a = H5Aopen_by_name(file, object, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot open attribute '%s' of '%s'", name, object);
    *out = a;
    return DS_H5_OK;
}

// Appends `len` bytes plus NUL to a growing buffer.
typedef struct {
    char *data;
    size_t used, cap, count;
} packer;

static int pack(packer *p, const char *s, size_t len) {
    if (p->used + len + 1 > p->cap) {
        size_t ncap = p->cap ? p->cap : 256;
        while (ncap < p->used + len + 1) ncap *= 2;
        char *nd = realloc(p->data, ncap);
        if (nd == NULL) return 0;
        p->data = nd;
        p->cap = ncap;
    }
    memcpy(p->data + p->used, s, len);
    p->data[p->used + len] = '\0';
    p->used += len + 1;
    p->count++;
    return 1;
}

// HDF5 1.10.8's header declares H5Treclaim, but the library only exports it from 1.12 on.
static void reclaim_vl(hid_t type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

// Reads the strings of an attribute (is_attr) or dataset `obj` into `pk`. `what` names the
// object in messages. Fixed-length strings are cut at their padding.
static ds_h5_status read_strings(hid_t obj, int is_attr, const char *attr_name, const char *what, packer *pk,
                                 char *msg, size_t cap) {
    hid_t ftype = -1, mtype = -1, space = -1;
    char **vl = NULL;
    char *raw = NULL;
    ds_h5_status st = DS_H5_OK;
    ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    space = ftype < 0 ? -1 : (is_attr ? H5Aget_space(obj) : H5Dget_space(obj));
    if (ftype < 0 || space < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read %s", what);
        goto done;
    }
    H5T_class_t c = H5Tget_class(ftype);
    if (c != H5T_STRING) {
        set_msg(msg, cap, "%s holds %s, not strings", what, class_name(c));
        st = DS_H5_WRONG_TYPE;
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the shape of %s", what);
        goto done;
    }
    // Same character set as stored: HDF5 refuses to convert between ASCII and UTF-8.
    mtype = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mtype, H5Tget_cset(ftype));
    if (H5Tis_variable_str(ftype) > 0) {
        H5Tset_size(mtype, H5T_VARIABLE);
        char detail[400];
        if (vl_data_damaged(obj, is_attr ? attr_name : NULL, is_attr ? HADDR_UNDEF : H5Dget_offset(obj),
                            (uint64_t)n, detail, sizeof detail)) {
            set_msg(msg, cap, "%s: %s", what, detail);
            st = DS_H5_CORRUPT;
            goto done;
        }
        vl = calloc((size_t)n + 1, sizeof(char *));
        if (vl == NULL) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); goto done; }
        herr_t r = n == 0 ? 0
                 : is_attr ? H5Aread(obj, mtype, vl)
                           : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, vl);
        if (r < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "reading %s failed", what);
            goto done;
        }
        for (hssize_t i = 0; i < n && st == DS_H5_OK; i++) {
            const char *s = vl[i] ? vl[i] : "";
            if (!pack(pk, s, strlen(s))) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); }
        }
        if (n > 0) reclaim_vl(mtype, space, vl);
    } else {
        size_t size = H5Tget_size(ftype);
        H5T_str_t pad = H5Tget_strpad(ftype);
        // The memory type must keep the file's padding: with the default NULLTERM, a
        // 12-byte "block1_conv1" stored NULLPAD would lose its last character.
        H5Tset_size(mtype, size);
        H5Tset_strpad(mtype, pad);
        raw = malloc(size * (size_t)n + 1);
        if (raw == NULL) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); goto done; }
        herr_t r = n == 0 ? 0
                 : is_attr ? H5Aread(obj, mtype, raw)
                           : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
        if (r < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "reading %s failed", what);
            goto done;
        }
        for (hssize_t i = 0; i < n && st == DS_H5_OK; i++) {
            const char *s = raw + (size_t)i * size;
            size_t len = strnlen(s, size);
            if (pad == H5T_STR_SPACEPAD)
                while (len > 0 && s[len - 1] == ' ') len--;
            if (!pack(pk, s, len)) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); }
        }
    }
done:
    free(vl);
    free(raw);
    if (mtype >= 0) H5Tclose(mtype);
    if (space >= 0) H5Sclose(space);
    if (ftype >= 0) H5Tclose(ftype);
    return st;
}

// Hands a packed buffer to the caller (always non-NULL on success, so it can be freed).
static ds_h5_status finish_pack(ds_h5_status st, packer *pk, char **out, size_t *out_bytes,
                                size_t *out_count) {
    if (st == DS_H5_OK) {
        if (pk->data == NULL) pk->data = calloc(1, 1);
        if (pk->data == NULL) return DS_H5_NOMEM;
        *out = pk->data;
        *out_bytes = pk->used;
        *out_count = pk->count;
        pk->data = NULL;
    }
    free(pk->data);
    pk->data = NULL;
    return st;
}

ds_h5_status ds_h5_read_string_attribute(int64_t file, const char *object, const char *name,
                                         char **out, size_t *out_bytes, size_t *out_count,
                                         char *msg, size_t cap) {
    ds_h5_lock();
    object = or_root(object);
    *out = NULL;
    *out_bytes = *out_count = 0;
    hid_t attr = -1;
    packer pk = {0};
    ds_h5_status st = open_attribute(file, object, name, &attr, msg, cap);
    if (st == DS_H5_OK) {
        char what[512];
        snprintf(what, sizeof what, "attribute '%s' of '%s'", name, object);
        st = read_strings(attr, 1, name, what, &pk, msg, cap);
    }
    st = finish_pack(st, &pk, out, out_bytes, out_count);
    if (attr >= 0) H5Aclose(attr);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_read_string_dataset(int64_t file, const char *name, char **out, size_t *out_bytes,
                                       size_t *out_count, char *msg, size_t cap) {
    ds_h5_lock();
    *out = NULL;
    *out_bytes = *out_count = 0;
    hid_t dset = -1;
    packer pk = {0};
    ds_h5_status st = open_object(file, name, H5I_DATASET, &dset, msg, cap);
    if (st == DS_H5_OK) {
        char what[512];
        snprintf(what, sizeof what, "'%s'", name);
        st = read_strings(dset, 0, NULL, what, &pk, msg, cap);
    }
    st = finish_pack(st, &pk, out, out_bytes, out_count);
    if (dset >= 0) H5Dclose(dset);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_write_string_dataset(int64_t file, const char *name, const char *const *values,
                                        size_t count, char *msg, size_t cap) {
    ds_h5_lock();
    hid_t space = -1, type = -1, lcpl = -1, dset = -1;
    ds_h5_status st = replace_dataset(file, name, msg, cap);
    if (st != DS_H5_OK) goto done;
    hsize_t d = count;
    space = H5Screate_simple(1, &d, NULL);
    type = H5Tcopy(H5T_C_S1);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (space < 0 || type < 0 || lcpl < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot prepare the dataset '%s'", name);
        goto done;
    }
    dset = H5Dcreate2(file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (dset < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot create the dataset '%s'", name);
        goto done;
    }
    if (count > 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "writing the strings of '%s' failed", name);
        goto done;
    }
done:
    if (dset >= 0) H5Dclose(dset);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    ds_h5_unlock();
    return st;
}

// Creates attribute `name` on `object` (replacing one that exists) and writes `buf`.
static ds_h5_status write_attribute(hid_t file, const char *object, const char *name, hid_t ftype,
                                    hid_t mtype, const void *buf, size_t count, int scalar,
                                    char *msg, size_t cap) {
    hid_t space = -1, attr = -1;
    ds_h5_status st = DS_H5_OK;
    if (!path_exists(file, object)) {
        set_msg(msg, cap, "no object '%s' to attach attribute '%s' to", object, name);
        return DS_H5_MISSING;
    }
    htri_t e = H5Aexists_by_name(file, object, name, H5P_DEFAULT);
    if (e > 0 && H5Adelete_by_name(file, object, name, H5P_DEFAULT) < 0)
        return fail_hdf5(DS_H5_FAILED, msg, cap, "cannot replace attribute '%s' of '%s'", name, object);
    if (scalar && count == 1) {
        space = H5Screate(H5S_SCALAR);
    } else {
        hsize_t d = count;
        space = H5Screate_simple(1, &d, NULL);
    }
    if (space < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot shape attribute '%s'", name);
        goto done;
    }
    attr = H5Acreate_by_name(file, object, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot create attribute '%s' on '%s'", name, object);
        goto done;
    }
    if (count > 0 && H5Awrite(attr, mtype, buf) < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "writing attribute '%s' of '%s' failed", name, object);
        goto done;
    }
done:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return st;
}

ds_h5_status ds_h5_write_string_attribute(int64_t file, const char *object, const char *name,
                                          const char *const *values, size_t count, int scalar,
                                          char *msg, size_t cap) {
    ds_h5_lock();
    object = or_root(object);
    ds_h5_status st;
    // Variable-length UTF-8, as h5py writes Python str: no length limit, no padding rules.
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        st = fail_hdf5(DS_H5_FAILED, msg, cap, "cannot make a string type");
    } else {
        st = write_attribute(file, object, name, t, t, values, count, scalar, msg, cap);
    }
    if (t >= 0) H5Tclose(t);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_read_float_attribute(int64_t file, const char *object, const char *name,
                                        float **out, size_t *out_count, char *msg, size_t cap) {
    ds_h5_lock();
    object = or_root(object);
    *out = NULL;
    *out_count = 0;
    hid_t attr = -1, ftype = -1, space = -1;
    float *buf = NULL;
    ds_h5_status st = open_attribute(file, object, name, &attr, msg, cap);
    if (st != DS_H5_OK) goto done;
    if ((ftype = H5Aget_type(attr)) < 0 || (space = H5Aget_space(attr)) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read attribute '%s' of '%s'", name, object);
        goto done;
    }
    H5T_class_t c = H5Tget_class(ftype);
    if (c != H5T_INTEGER && c != H5T_FLOAT) {
        set_msg(msg, cap, "attribute '%s' of '%s' holds %s, not numbers", name, object, class_name(c));
        st = DS_H5_WRONG_TYPE;
        goto done;
    }
    if (!number_size_ok(ftype)) {
        set_msg(msg, cap, "attribute '%s' of '%s' claims %zu-byte numbers (damaged datatype)", name, object,
                H5Tget_size(ftype));
        st = DS_H5_CORRUPT;
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot read the shape of attribute '%s'", name);
        goto done;
    }
    buf = malloc(sizeof(float) * ((size_t)n + 1));
    if (buf == NULL) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); goto done; }
    if (n > 0 && H5Aread(attr, H5T_NATIVE_FLOAT, buf) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "reading attribute '%s' of '%s' failed", name, object);
        goto done;
    }
    *out = buf;
    *out_count = (size_t)n;
    buf = NULL;
done:
    free(buf);
    if (space >= 0) H5Sclose(space);
    if (ftype >= 0) H5Tclose(ftype);
    if (attr >= 0) H5Aclose(attr);
    ds_h5_unlock();
    return st;
}

ds_h5_status ds_h5_write_float_attribute(int64_t file, const char *object, const char *name,
                                         const float *values, size_t count, int scalar,
                                         char *msg, size_t cap) {
    ds_h5_lock();
    ds_h5_status st = write_attribute(file, or_root(object), name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                      values, count, scalar, msg, cap);
    ds_h5_unlock();
    return st;
}

// MARK: - Groups

ds_h5_status ds_h5_child_names(int64_t file, const char *group, char **out, size_t *out_bytes,
                               size_t *out_count, char *msg, size_t cap) {
    ds_h5_lock();
    group = or_root(group);
    *out = NULL;
    *out_bytes = *out_count = 0;
    hid_t g = -1;
    packer pk = {0};
    char *name = NULL;
    ds_h5_status st = open_object(file, group, H5I_GROUP, &g, msg, cap);
    if (st != DS_H5_OK) goto done;
    H5G_info_t info;
    if (H5Gget_info(g, &info) < 0) {
        st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot list group '%s'", group);
        goto done;
    }
    // By index rather than H5Literate: the iterate callback's signature differs between
    // HDF5 1.10 and 1.12, this loop compiles against both.
    for (hsize_t i = 0; i < info.nlinks; i++) {
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (len < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot list group '%s'", group);
            goto done;
        }
        char *nn = realloc(name, (size_t)len + 1);
        if (nn == NULL) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); goto done; }
        name = nn;
        if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, (size_t)len + 1, H5P_DEFAULT) < 0) {
            st = fail_hdf5(DS_H5_CORRUPT, msg, cap, "cannot list group '%s'", group);
            goto done;
        }
        if (!pack(&pk, name, (size_t)len)) { st = DS_H5_NOMEM; set_msg(msg, cap, "out of memory"); goto done; }
    }
    if (pk.data == NULL) pk.data = calloc(1, 1);
    *out = pk.data;
    *out_bytes = pk.used;
    *out_count = pk.count;
    pk.data = NULL;
done:
    free(name);
    free(pk.data);
    if (g >= 0) H5Gclose(g);
    ds_h5_unlock();
    return st;
}
