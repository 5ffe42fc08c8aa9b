// A thread-safe, bounded memo of word → token ids shared by the BPE-style encoders: text
// repeats its words, and merging a word is the expensive part of encoding.
#pragma once
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "tokenizer/token_map.h"

namespace peft {

class WordCache {
 public:
  // Appends the ids of `word` to `out`, running encode(word, out) only on a miss.
  template <typename Encode>
  void encode(std::string_view word, std::vector<int32_t>& out, const Encode& encode_uncached) const {
    if (word.size() > kMaxWordBytes) return encode_uncached(word, out);  // long words are rare
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(word);
      if (it != map_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const size_t first = out.size();
    encode_uncached(word, out);
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(std::string(word), std::vector<int32_t>(out.begin() + first, out.end()));
  }

 private:
  static constexpr size_t kMaxWordBytes = 256;
  static constexpr size_t kMaxEntries = size_t(1) << 18;
  mutable std::mutex mu_;
  mutable StringMap<std::vector<int32_t>> map_;
};

}  // namespace peft
