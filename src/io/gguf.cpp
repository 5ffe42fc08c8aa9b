// GGUF reader: a bounds-checked cursor over the mapping, metadata, tensor infos, data views.
//
// Every length and count read from the file is compared with the bytes left before
// anything is allocated, so a hostile count cannot trigger a huge allocation, and tensor
// extents are checked against the file size so a truncated file is an error, not SIGSEGV.
#include "io/gguf.h"
#include "quant/quant.h"

#include <algorithm>
#include <cstdint>

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/mapped_file.h"

namespace peft {

namespace {

constexpr int kMaxArrayDepth = 16;  // nested arrays: llama.cpp writes at most one level

class Cursor {
 public:
  Cursor(const unsigned char* base, uint64_t size) : base_(base), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  template <typename T>
  Status read(T& out, const char* what) {
    if (left() < sizeof(T))
      return Status::errorf("truncated: {} at byte {} needs {} bytes, {} left", what, pos_, sizeof(T), left());
    std::memcpy(&out, base_ + pos_, sizeof(T));  // little-endian host (x86-64, aarch64)
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string& out, const char* what) {
    uint64_t len = 0;
    PEFT_TRY(read(len, what));
    if (len > left())
      return Status::errorf("{} at byte {} claims {} bytes but only {} are left", what, pos_ - 8, len, left());
    out.assign(reinterpret_cast<const char*>(base_ + pos_), size_t(len));
    pos_ += len;
    return Status::ok();
  }

 private:
  const unsigned char* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

// Smallest encoding of one value of type t (bounds a count before reserving).
uint64_t min_value_size(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::Bool:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::String:
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
      return 8;
    case GgufType::Array:
      return 12;
  }
  return 1;
}

bool known_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

Status read_value(Cursor& c, GgufType type, GgufValue& v, int depth) {
  v.type = type;
  switch (type) {
    case GgufType::U8: {
      uint8_t x = 0;
      PEFT_TRY(c.read(x, "u8 value"));
      v.u = x;
      return Status::ok();
    }
    case GgufType::I8: {
      int8_t x = 0;
      PEFT_TRY(c.read(x, "i8 value"));
      v.i = x;
      return Status::ok();
    }
    case GgufType::U16: {
      uint16_t x = 0;
      PEFT_TRY(c.read(x, "u16 value"));
      v.u = x;
      return Status::ok();
    }
    case GgufType::I16: {
      int16_t x = 0;
      PEFT_TRY(c.read(x, "i16 value"));
      v.i = x;
      return Status::ok();
    }
    case GgufType::U32: {
      uint32_t x = 0;
      PEFT_TRY(c.read(x, "u32 value"));
      v.u = x;
      return Status::ok();
    }
    case GgufType::I32: {
      int32_t x = 0;
      PEFT_TRY(c.read(x, "i32 value"));
      v.i = x;
      return Status::ok();
    }
    case GgufType::U64: {
      uint64_t x = 0;
      PEFT_TRY(c.read(x, "u64 value"));
      v.u = x;
      return Status::ok();
    }
    case GgufType::I64: {
      int64_t x = 0;
      PEFT_TRY(c.read(x, "i64 value"));
      v.i = x;
      return Status::ok();
    }
    case GgufType::F32: {
      float x = 0;
      PEFT_TRY(c.read(x, "f32 value"));
      v.f = x;
      return Status::ok();
    }
    case GgufType::F64: {
      double x = 0;
      PEFT_TRY(c.read(x, "f64 value"));
      v.f = x;
      return Status::ok();
    }
    case GgufType::Bool: {
      uint8_t x = 0;
      PEFT_TRY(c.read(x, "bool value"));
      if (x > 1) return Status::errorf("bool value {} at byte {} is neither 0 nor 1", x, c.pos() - 1);
      v.u = x;
      return Status::ok();
    }
    case GgufType::String:
      return c.read_string(v.s, "string length");
    case GgufType::Array: {
      if (depth >= kMaxArrayDepth) return Status::errorf("arrays nested more than {} deep", kMaxArrayDepth);
      uint32_t elem = 0;
      uint64_t count = 0;
      PEFT_TRY(c.read(elem, "array element type"));
      if (!known_type(elem)) return Status::errorf("unknown array element type {} at byte {}", elem, c.pos() - 4);
      PEFT_TRY(c.read(count, "array length"));
      v.elem = GgufType(elem);
      if (count > c.left() / min_value_size(v.elem))
        return Status::errorf("array of {} {} values at byte {} cannot fit in the {} bytes left", count,
                              gguf_type_name(v.elem), c.pos() - 12, c.left());
      v.arr.resize(size_t(count));
      for (GgufValue& item : v.arr) PEFT_TRY(read_value(c, v.elem, item, depth + 1));
      return Status::ok();
    }
  }
  return Status::error("unreachable");
}

}  // namespace

Result<GgufFile> GgufFile::open(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  GgufFile f;
  f.path_ = path;
  f.map_ = map;
  Cursor c(map->data(), map->size());
  auto fail = [&](const Status& s) { return s.with_context(path); };

  char magic[4] = {};
  if (map->size() < 4 || std::memcmp(map->data(), "GGUF", 4) != 0) {
    if (map->size() >= 4) std::memcpy(magic, map->data(), 4);
    return Status::errorf("{}: not a GGUF file (magic {:02x} {:02x} {:02x} {:02x}, expected \"GGUF\")", path,
                          uint8_t(magic[0]), uint8_t(magic[1]), uint8_t(magic[2]), uint8_t(magic[3]));
  }
  uint32_t magic_word = 0;
  PEFT_TRY(fail(c.read(magic_word, "magic")));
  PEFT_TRY(fail(c.read(f.version_, "version")));
  if (f.version_ == 0x02000000u || f.version_ == 0x03000000u)
    return Status::errorf("{}: big-endian GGUF files are not supported", path);
  if (f.version_ == 1)
    return Status::errorf("{}: GGUF version 1 is not supported (re-convert with a newer llama.cpp)", path);
  if (f.version_ != 2 && f.version_ != 3)
    return Status::errorf("{}: unknown GGUF version {} (supported: 2, 3)", path, f.version_);
  uint64_t n_tensors = 0, n_kv = 0;
  PEFT_TRY(fail(c.read(n_tensors, "tensor count")));
  PEFT_TRY(fail(c.read(n_kv, "metadata count")));
  // A key-value pair takes at least 13 bytes, a tensor info at least 24.
  if (n_kv > c.left() / 13)
    return Status::errorf("{}: metadata count {} cannot fit in the {} bytes of the file", path, n_kv, map->size());
  if (n_tensors > c.left() / 24)
    return Status::errorf("{}: tensor count {} cannot fit in the {} bytes of the file", path, n_tensors, map->size());

  f.kv_.reserve(size_t(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    uint32_t type = 0;
    PEFT_TRY(fail(c.read_string(key, "metadata key length")));
    PEFT_TRY(fail(c.read(type, "metadata value type")));
    if (!known_type(type)) return Status::errorf("{}: metadata '{}' has unknown value type {}", path, key, type);
    GgufValue v;
    PEFT_TRY(fail(read_value(c, GgufType(type), v, 0).with_context("metadata '" + key + "'")));
    if (!f.kv_index_.emplace(key, f.kv_.size()).second)
      return Status::errorf("{}: metadata key '{}' appears twice", path, key);
    f.kv_.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = f.find("general.alignment")) {
    auto v = a->to_int();
    if (a->type != GgufType::U32 || !v || *v == 0 || (*v & (*v - 1)) != 0)
      return Status::errorf("{}: general.alignment must be a u32 power of two, found {}", path, a->summary());
    f.alignment_ = uint64_t(*v);
  }

  f.tensors_.resize(size_t(n_tensors));
  for (GgufTensorInfo& t : f.tensors_) {
    PEFT_TRY(fail(c.read_string(t.name, "tensor name length")));
    uint32_t n_dims = 0;
    PEFT_TRY(fail(c.read(n_dims, "tensor dimension count")));
    if (n_dims > uint32_t(kGgufMaxDims))
      return Status::errorf("{}: tensor '{}' has {} dimensions (at most {})", path, t.name, n_dims, kGgufMaxDims);
    uint64_t numel = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      PEFT_TRY(fail(c.read(ne, "tensor dimension")));
      if (ne > uint64_t(INT64_MAX)) overflow = true;
      overflow |= __builtin_mul_overflow(numel, ne, &numel);
      t.ne.push_back(int64_t(ne));
    }
    PEFT_TRY(fail(c.read(t.type, "tensor type")));
    PEFT_TRY(fail(c.read(t.offset, "tensor offset")));
    auto [block, block_bytes] = ggml_block_layout(t.type);
    if (block == 0) return Status::errorf("{}: tensor '{}' has unknown ggml type {}", path, t.name, t.type);
    if (overflow || numel > uint64_t(INT64_MAX) / 8)
      return Status::errorf("{}: tensor '{}' has an absurd shape [{}]", path, t.name, fmt::join(t.ne, ", "));
    const int64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
    if (ne0 % block != 0)
      return Status::errorf("{}: tensor '{}' ({}) has {} elements per row, not a multiple of the block size {}", path,
                            t.name, ggml_type_name(t.type), ne0, block);
    t.nbytes = numel / uint64_t(block) * uint64_t(block_bytes);
    if (t.offset % f.alignment_ != 0)
      return Status::errorf("{}: tensor '{}' offset {} is not a multiple of the alignment {}", path, t.name, t.offset,
                            f.alignment_);
    if (!f.tensor_index_.emplace(t.name, size_t(&t - f.tensors_.data())).second)
      return Status::errorf("{}: tensor '{}' appears twice", path, t.name);
  }
  // The data section starts at the next multiple of the alignment.
  f.data_offset_ = (c.pos() + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  for (GgufTensorInfo& t : f.tensors_) {
    const uint64_t size = map->size();
    if (f.data_offset_ > size || t.offset > size - f.data_offset_ || t.nbytes > size - f.data_offset_ - t.offset)
      return Status::errorf(
          "{}: tensor '{}' ({} bytes at data offset {}) runs past the end of the file ({} bytes; "
          "truncated?)",
          path, t.name, t.nbytes, t.offset, size);
    t.data = map->data() + f.data_offset_ + t.offset;
  }
  // Two tensors sharing bytes is no file llama.cpp's writer makes: an offset that lies.
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : f.tensors_)
    if (t.nbytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->offset < by_offset[i - 1]->offset + by_offset[i - 1]->nbytes)
      return Status::errorf("{}: tensors '{}' and '{}' overlap in the data section (offsets {} and {})", path,
                            by_offset[i - 1]->name, by_offset[i]->name, by_offset[i - 1]->offset, by_offset[i]->offset);
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return Status::errorf("{}: metadata '{}' is missing", path_, key);
  if (v->type != GgufType::String)
    return Status::errorf("{}: metadata '{}' should be a string, found {}", path_, key, v->summary());
  return v->s;
}

Result<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return Status::errorf("{}: metadata '{}' is missing", path_, key);
  auto x = v->to_int();
  if (!x) return Status::errorf("{}: metadata '{}' should be an integer, found {}", path_, key, v->summary());
  return *x;
}

Result<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return Status::errorf("{}: metadata '{}' is missing", path_, key);
  auto x = v->to_float();
  if (!x) return Status::errorf("{}: metadata '{}' should be a number, found {}", path_, key, v->summary());
  return *x;
}

Result<std::string> GgufFile::get_string_or(const std::string& key, const std::string& fallback) const {
  return find(key) ? get_string(key) : Result<std::string>(fallback);
}

Result<int64_t> GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return find(key) ? get_int(key) : Result<int64_t>(fallback);
}

Result<double> GgufFile::get_float_or(const std::string& key, double fallback) const {
  return find(key) ? get_float(key) : Result<double>(fallback);
}

Result<bool> GgufFile::get_bool_or(const std::string& key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (v->type != GgufType::Bool)
    return Status::errorf("{}: metadata '{}' should be a bool, found {}", path_, key, v->summary());
  return v->u != 0;
}

namespace {
Status unsupported(const std::string& path, const GgufTensorInfo& t) {
  return Status::errorf(
      "{}: unsupported ggml type {} ({}) for tensor '{}' (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
      "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)",
      path, ggml_type_name(t.type) ? ggml_type_name(t.type) : "?", t.type, t.name);
}
}  // namespace

Result<Tensor> GgufFile::view(const GgufTensorInfo& t) const {
  const std::optional<DType> dt = dtype_from_ggml(t.type);
  if (!dt) return unsupported(path_, t);
  // Element types are read in place: their data must sit on a multiple of the element size
  // (a file with general.alignment 1 or 2 can put an F32 tensor anywhere). Blocks are read bytewise.
  if (!dtype_is_quantized(*dt) && reinterpret_cast<uintptr_t>(t.data) % dtype_size(*dt) != 0)
    return Status::errorf("{}: tensor '{}' ({}) starts at offset {}, not a multiple of its element size {}", path_,
                          t.name, dtype_name(*dt), t.offset, dtype_size(*dt));
  if (dtype_is_quantized(*dt)) {
    const int64_t block = quant_block(*dt);  // open() checked that rows are whole blocks
    if (const int64_t b = first_bad_block(t.data, *dt, t.numel()); b >= 0)
      return Status::errorf("{}: tensor '{}' ({}) has a NaN or infinite scale in block {} (row {})", path_, t.name,
                            dtype_name(*dt), b, b * block / t.ne[0]);
  }
  // The mapping is read-only (PROT_READ); callers never write through weight views.
  return Tensor(const_cast<unsigned char*>(t.data), *dt, t.shape());
}

Result<OwnedTensor> GgufFile::to_f32(const GgufTensorInfo& t) const {
  PEFT_ASSIGN_OR_RETURN(Tensor v, view(t));
  return peft::to_f32(v);
}

}  // namespace peft
