#ifndef CSQLITETUNING_H
#define CSQLITETUNING_H

/// Sets SQLite's process-wide options before its first use; sqlite3_config is variadic, which
/// Swift cannot call. Returns SQLite's result code (SQLITE_MISUSE once SQLite is initialized).
int odoosync_sqlite_tune(void);

#endif
