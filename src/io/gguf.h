// GGUF (llama.cpp's model format, v2/v3 little-endian): metadata values, ggml types, a reader.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace peft {

class MappedFile;  // io/mapped_file.h

// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);  // "u32", "string", ...; "?" when unknown

// One metadata value. Unsigned integers and bools live in `u`, signed ones in `i`,
// floats in `f`; arrays keep their element type (possibly Array again) and elements.
struct GgufValue {
  GgufType type = GgufType::U32;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string s;
  GgufType elem = GgufType::U8;
  std::vector<GgufValue> arr;

  static GgufValue of_uint(GgufType t, uint64_t v) {
    GgufValue x;
    x.type = t;
    x.u = v;
    return x;
  }
  static GgufValue of_int(GgufType t, int64_t v) {
    GgufValue x;
    x.type = t;
    x.i = v;
    return x;
  }
  static GgufValue of_float(GgufType t, double v) {
    GgufValue x;
    x.type = t;
    x.f = v;
    return x;
  }
  static GgufValue of_bool(bool v) { return of_uint(GgufType::Bool, v ? 1 : 0); }
  static GgufValue of_string(std::string v) {
    GgufValue x;
    x.type = GgufType::String;
    x.s = std::move(v);
    return x;
  }
  static GgufValue of_array(GgufType elem, std::vector<GgufValue> items);

  bool is_integer() const;
  // Any integer type that fits int64 (not bool); nullopt otherwise.
  std::optional<int64_t> to_int() const;
  // Floats and integers.
  std::optional<double> to_float() const;
  // "u32 4096", "string \"llama\"", "array[string; 32000]" (for inspect).
  std::string summary() const;
};

// ggml tensor types (the numbers llama.cpp writes). F32, F16, BF16 and the quantized types of
// src/quant/ are read; the others are recognised so errors and `inspect` can name them.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  IQ4_NL = 20,
  IQ4_XS = 23,
  BF16 = 30
};
// "F32", "Q4_K", ...; nullptr for numbers ggml does not define.
const char* ggml_type_name(uint32_t type);
// Elements per block and bytes per block; {0, 0} for unknown types.
std::pair<int64_t, int64_t> ggml_block_layout(uint32_t type);
bool ggml_type_readable(uint32_t type);  // F32, F16, BF16 and dtype_from_ggml's quantized types

constexpr int kGgufMaxDims = 4;
constexpr uint64_t kGgufDefaultAlignment = 32;

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // GGUF order: ne[0] is the contiguous (innermost) dimension
  uint32_t type = 0;        // ggml type number
  uint64_t offset = 0;      // relative to the data section
  uint64_t nbytes = 0;
  const unsigned char* data = nullptr;  // into the mapping
  // Row-major shape (ne reversed): a PyTorch [out, in] matrix has ne = [in, out].
  std::vector<int64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
  int64_t numel() const;
};

// A read-only, mmap'ed GGUF file. Every count, length and offset is checked against the
// file size when opening, so a truncated or hostile file gives "<path>: ..." errors.
class GgufFile {
 public:
  static Result<GgufFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;

  // Typed metadata access; errors name the file, the key, the expected and found type.
  Result<std::string> get_string(const std::string& key) const;
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;
  Result<std::string> get_string_or(const std::string& key, const std::string& fallback) const;
  Result<int64_t> get_int_or(const std::string& key, int64_t fallback) const;
  Result<double> get_float_or(const std::string& key, double fallback) const;
  Result<bool> get_bool_or(const std::string& key, bool fallback) const;

  // A zero-copy view (row-major shape) of a tensor of any readable type, quantized ones in
  // their blocks. Unsupported types fail with "<path>: unsupported ggml type IQ2_XS (17) for
  // tensor '<name>' ..."; a quantized tensor with a NaN/inf scale fails naming the tensor and
  // the block (open() refuses rows that are not whole blocks).
  Result<Tensor> view(const GgufTensorInfo& t) const;
  // An F32 copy of any readable type (quantized ones dequantized).
  Result<OwnedTensor> to_f32(const GgufTensorInfo& t) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> map_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace peft
