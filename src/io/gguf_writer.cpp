// GGUF v3 writer: header (metadata + tensor infos) padded to the alignment, then tensor data.
#include "io/gguf_writer.h"

#include "quant/quant.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "io/atomic_output.h"

namespace peft {

namespace {

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian host
  out.append(b, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void append_gguf_value(std::string& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8:
      put<uint8_t>(out, uint8_t(v.u));
      return;
    case GgufType::I8:
      put<int8_t>(out, int8_t(v.i));
      return;
    case GgufType::U16:
      put<uint16_t>(out, uint16_t(v.u));
      return;
    case GgufType::I16:
      put<int16_t>(out, int16_t(v.i));
      return;
    case GgufType::U32:
      put<uint32_t>(out, uint32_t(v.u));
      return;
    case GgufType::I32:
      put<int32_t>(out, int32_t(v.i));
      return;
    case GgufType::U64:
      put<uint64_t>(out, v.u);
      return;
    case GgufType::I64:
      put<int64_t>(out, v.i);
      return;
    case GgufType::F32:
      put<float>(out, float(v.f));
      return;
    case GgufType::F64:
      put<double>(out, v.f);
      return;
    case GgufType::Bool:
      put<uint8_t>(out, v.u ? 1 : 0);
      return;
    case GgufType::String:
      put_string(out, v.s);
      return;
    case GgufType::Array:
      put<uint32_t>(out, uint32_t(v.elem));
      put<uint64_t>(out, v.arr.size());
      for (const GgufValue& item : v.arr) append_gguf_value(out, item);
      return;
  }
}

std::string encode_ggml(const float* data, int64_t n, GgmlType type) {
  std::string out;
  switch (type) {
    case GgmlType::F32:
      out.assign(reinterpret_cast<const char*>(data), size_t(n) * sizeof(float));
      break;
    case GgmlType::F16:
    case GgmlType::BF16:
      out.resize(size_t(n) * 2);
      convert_from_f32(out.data(), type == GgmlType::F16 ? DType::F16 : DType::BF16, data, size_t(n));
      break;
    default: {
      const std::optional<DType> dt = dtype_from_ggml(uint32_t(type));
      PEFT_CHECK(dt && quant_can_quantize(*dt), "encode_ggml: type {} cannot be written", uint32_t(type));
      PEFT_CHECK(n % quant_block(*dt) == 0, "{} needs a multiple of {} values, got {}", dtype_name(*dt),
                 quant_block(*dt), n);
      out.resize(quant_nbytes(*dt, n));
      quantize(out.data(), data, *dt, n);
    }
  }
  return out;
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  // The layout must follow the alignment the header declares (e.g. metadata copied from
  // another file).
  if (key == "general.alignment" && value.type == GgufType::U32 && value.u > 0) {
    alignment_ = value.u;
    return;
  }
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_strings(const std::string& key, const std::vector<std::string>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (const std::string& s : items) v.push_back(GgufValue::of_string(s));
  set(key, GgufValue::of_array(GgufType::String, std::move(v)));
}

void GgufWriter::set_f32s(const std::string& key, const std::vector<float>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (float x : items) v.push_back(GgufValue::of_float(GgufType::F32, x));
  set(key, GgufValue::of_array(GgufType::F32, std::move(v)));
}

void GgufWriter::set_i32s(const std::string& key, const std::vector<int32_t>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (int32_t x : items) v.push_back(GgufValue::of_int(GgufType::I32, x));
  set(key, GgufValue::of_array(GgufType::I32, std::move(v)));
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<int64_t> shape, std::string bytes) {
  tensors_.push_back({std::move(name), uint32_t(type), {shape.rbegin(), shape.rend()}, std::move(bytes), true});
}

void GgufWriter::add_raw_tensor(std::string name, uint32_t type, std::vector<int64_t> ne, std::string bytes) {
  tensors_.push_back({std::move(name), type, std::move(ne), std::move(bytes), false});
}

Result<std::string> GgufWriter::header() const {
  std::string h;
  h += "GGUF";
  put<uint32_t>(h, version);
  put<uint64_t>(h, tensors_.size());
  const bool write_alignment = alignment_ != kGgufDefaultAlignment;
  put<uint64_t>(h, kv_.size() + (write_alignment ? 1 : 0));
  if (write_alignment) {
    put_string(h, "general.alignment");
    put<uint32_t>(h, uint32_t(GgufType::U32));
    put<uint32_t>(h, uint32_t(alignment_));
  }
  for (const auto& [key, v] : kv_) {
    put_string(h, key);
    put<uint32_t>(h, uint32_t(v.type));
    append_gguf_value(h, v);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    if (t.check) {
      auto [block, block_bytes] = ggml_block_layout(t.type);
      int64_t numel = 1;
      for (int64_t d : t.ne) numel *= d;
      const int64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
      if (block == 0 || ne0 % block != 0 || uint64_t(numel / block * block_bytes) != t.bytes.size())
        return Status::errorf("tensor '{}': {} bytes do not match {} elements of ggml type {}", t.name, t.bytes.size(),
                              numel, t.type);
    }
    put_string(h, t.name);
    put<uint32_t>(h, uint32_t(t.ne.size()));
    for (int64_t d : t.ne) put<uint64_t>(h, uint64_t(d));
    put<uint32_t>(h, t.type);
    put<uint64_t>(h, offset);
    offset = align_up(offset + t.bytes.size(), alignment_);
  }
  h.resize(size_t(align_up(h.size(), alignment_)), '\0');
  return h;
}

Result<std::string> GgufWriter::serialize() const {
  PEFT_ASSIGN_OR_RETURN(std::string out, header());
  for (const PendingTensor& t : tensors_) {
    out += t.bytes;
    out.resize(size_t(align_up(out.size(), alignment_)), '\0');
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  auto h = header();
  if (!h.is_ok()) return h.status().with_context(path);
  // Stream header, tensors and padding without one big buffer.
  static const std::string zeros(4096, '\0');
  std::vector<std::string_view> pieces{*h};
  for (const PendingTensor& t : tensors_) {
    pieces.emplace_back(t.bytes);
    uint64_t pad = align_up(t.bytes.size(), alignment_) - t.bytes.size();
    for (; pad > 0; pad -= std::min<uint64_t>(pad, zeros.size()))
      pieces.emplace_back(zeros.data(), size_t(std::min<uint64_t>(pad, zeros.size())));
  }
  return write_file_atomic(path, pieces);
}

}  // namespace peft
