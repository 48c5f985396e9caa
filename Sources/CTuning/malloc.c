#include <stdlib.h>
#include "CTuning.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void odoosync_malloc_tune(void) {
#if defined(__GLIBC__)
    // Allocations of 128 KiB and more (response bodies, page buffers) get their own mapping,
    // given back when freed. glibc otherwise raises that threshold after the first such free,
    // and later bodies stay in the heap: a 100k-lead pull peaked 2.5 MB higher.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}
