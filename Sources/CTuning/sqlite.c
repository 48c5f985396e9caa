#include <sqlite3.h>
#include "CTuning.h"

int odoosync_sqlite_tune(void) {
    // Memory statistics take a global mutex on every allocation, and odoosync never reads
    // them: that is the saving. Multi-thread mode only states what GRDB already asks of each
    // connection it opens (SQLITE_OPEN_NOMUTEX; it never uses one from two threads at once).
    int rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
