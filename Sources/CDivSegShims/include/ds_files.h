// File-system calls Swift's Glibc module does not expose.
#ifndef DS_FILES_H
#define DS_FILES_H

// Atomically swaps two existing paths (renameat2 with RENAME_EXCHANGE, Linux ≥ 3.15), so a
// directory can be replaced with no moment at which neither the old nor the new one exists.
// Returns 0, or -1 with errno set (ENOSYS / EINVAL where the system or file system cannot
// exchange: callers then fall back to two renames).
int ds_rename_exchange(const char *from, const char *to);

#endif
