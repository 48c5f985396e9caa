#include <sqlite3.h>
#include "CSQLiteTuning.h"

int odoosync_sqlite_tune(void) {
    // GRDB never uses one connection from two threads at once, so SQLite's own per-connection
    // mutexes only cost time (multi-thread mode). Memory statistics take a global mutex on every
    // allocation, and odoosync never reads them.
    int rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
