// Work on a list of items shared by the ranks of an MPI job, results gathered in item order.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace peft::dist {

// Items 0..n-1 are dealt to the ranks in turn (item i to rank i mod N). work(mine) computes
// this rank's items, one string each in the order given; every rank gets all n strings in
// item order. A rank whose work fails stops every rank (dist::agree), naming `what`. One
// process: work(0..n-1).
Result<std::vector<std::string>> shard_items(
    int64_t n, const std::function<Result<std::vector<std::string>>(const std::vector<int64_t>&)>& work,
    const std::string& what);

}  // namespace peft::dist
