// shard_items: length-prefixed results, one all-gather.
#include "dist/shard.h"

#include <cstring>

#include "core/check.h"
#include "dist/comm.h"

namespace peft::dist {

Result<std::vector<std::string>> shard_items(
    int64_t n, const std::function<Result<std::vector<std::string>>(const std::vector<int64_t>&)>& work,
    const std::string& what) {
  const int64_t world = size(), me = rank();
  std::vector<int64_t> mine;
  for (int64_t i = me; i < n; i += world) mine.push_back(i);
  auto done = work(mine);
  PEFT_TRY(agree(done.status(), what));
  if (world == 1) return std::move(*done);
  if (done->size() != mine.size())
    return Status::errorf("{}: {} results for {} items", what, done->size(), mine.size());
  std::string blob;  // (8-byte length, bytes) per item
  for (const std::string& s : *done) {
    const uint64_t len = s.size();
    blob.append(reinterpret_cast<const char*>(&len), sizeof len);
    blob += s;
  }
  const std::vector<std::string> all = allgather(blob);
  std::vector<std::string> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < world; ++r) {
    size_t pos = 0;
    const std::string& b = all[size_t(r)];
    for (int64_t i = r; i < n; i += world) {
      uint64_t len = 0;
      PEFT_CHECK(pos + sizeof len <= b.size(), "shard_items: rank {}'s results end early", r);
      std::memcpy(&len, b.data() + pos, sizeof len);
      pos += sizeof len;
      PEFT_CHECK(pos + len <= b.size(), "shard_items: rank {}'s results end early", r);
      out[size_t(i)] = b.substr(pos, len);
      pos += len;
    }
  }
  return out;
}

}  // namespace peft::dist
