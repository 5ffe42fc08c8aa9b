// GGUF v3 writer: metadata in insertion order, tensors encoded as F32/F16/BF16/Q8_0, atomic output.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"

namespace peft {

// Encode `n` floats as ggml `type` (F32, F16, BF16 or Q8_0; Q8_0 needs n % 32 == 0).
std::string encode_ggml(const float* data, int64_t n, GgmlType type);

class GgufWriter {
 public:
  // Setting a key twice replaces the value (the key keeps its first position).
  // "general.alignment" (u32) sets the alignment instead, as set_alignment() does.
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v) { set(key, GgufValue::of_string(std::move(v))); }
  void set_u32(const std::string& key, uint32_t v) { set(key, GgufValue::of_uint(GgufType::U32, v)); }
  void set_i32(const std::string& key, int32_t v) { set(key, GgufValue::of_int(GgufType::I32, v)); }
  void set_f32(const std::string& key, float v) { set(key, GgufValue::of_float(GgufType::F32, v)); }
  void set_bool(const std::string& key, bool v) { set(key, GgufValue::of_bool(v)); }
  void set_strings(const std::string& key, const std::vector<std::string>& items);
  void set_f32s(const std::string& key, const std::vector<float>& items);
  void set_i32s(const std::string& key, const std::vector<int32_t>& items);

  // A tensor with row-major `shape` (written as ne = shape reversed) and already-encoded
  // bytes, whose size must match the shape and type (checked by write()).
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> shape, std::string bytes);
  // Raw form for tests: any type number, bytes unchecked.
  void add_raw_tensor(std::string name, uint32_t type, std::vector<int64_t> ne, std::string bytes);

  // general.alignment is written when `alignment` differs from the default 32.
  void set_alignment(uint64_t alignment) { alignment_ = alignment; }
  uint32_t version = 3;

  // The whole file in memory (tests) or written to `path` via temp + rename.
  Result<std::string> serialize() const;
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    uint32_t type;
    std::vector<int64_t> ne;
    std::string bytes;
    bool check;
  };
  Result<std::string> header() const;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
  uint64_t alignment_ = kGgufDefaultAlignment;
};

// Appends the little-endian encoding of a value (no type tag) to `out`.
void append_gguf_value(std::string& out, const GgufValue& v);

}  // namespace peft
