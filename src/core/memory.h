// Process memory housekeeping.
#pragma once

namespace peft {

// Returns the heap's free pages to the OS (glibc malloc_trim). Parsing a data set leaves
// many small freed blocks (JSON nodes, strings) that would otherwise stay in the resident
// set for the whole run; a no-op elsewhere.
void release_free_heap();

}  // namespace peft
