#ifndef CTUNING_H
#define CTUNING_H

/// Sets SQLite's process-wide options before its first use; sqlite3_config is variadic, which
/// Swift cannot call. Returns SQLite's result code (SQLITE_MISUSE once SQLite is initialized).
int odoosync_sqlite_tune(void);

/// Fixes glibc's mmap threshold (no-op elsewhere); mallopt is not in Swift's Glibc module.
void odoosync_malloc_tune(void);

#endif
