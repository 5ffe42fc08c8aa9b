// release_free_heap on glibc.
#include "core/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace peft {

void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace peft
