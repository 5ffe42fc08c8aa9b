// GGUF metadata values and the ggml type table.
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "io/gguf.h"
#include "quant/quant.h"

namespace peft {

namespace {

struct GgmlTypeRow {
  uint32_t id;
  const char* name;
  int64_t block;  // elements per block
  int64_t bytes;  // bytes per block
};

// Every type ggml defines (numbers 4, 5, 31–33 and 36–38 were removed upstream).
constexpr GgmlTypeRow kGgmlTypes[] = {
    {0, "F32", 1, 4},         {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},      {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},      {7, "Q5_1", 32, 24},      {8, "Q8_0", 32, 34},      {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},    {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},   {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},   {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},   {20, "IQ4_NL", 32, 18},   {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},   {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},         {25, "I16", 1, 2},
    {26, "I32", 1, 4},        {27, "I64", 1, 8},        {28, "F64", 1, 8},        {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},       {34, "TQ1_0", 256, 54},   {35, "TQ2_0", 256, 66},   {39, "MXFP4", 32, 17},
};

const GgmlTypeRow* find_type(uint32_t id) {
  for (const GgmlTypeRow& r : kGgmlTypes)
    if (r.id == id) return &r;
  return nullptr;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8:
      return "u8";
    case GgufType::I8:
      return "i8";
    case GgufType::U16:
      return "u16";
    case GgufType::I16:
      return "i16";
    case GgufType::U32:
      return "u32";
    case GgufType::I32:
      return "i32";
    case GgufType::F32:
      return "f32";
    case GgufType::Bool:
      return "bool";
    case GgufType::String:
      return "string";
    case GgufType::Array:
      return "array";
    case GgufType::U64:
      return "u64";
    case GgufType::I64:
      return "i64";
    case GgufType::F64:
      return "f64";
  }
  return "?";
}

GgufValue GgufValue::of_array(GgufType elem, std::vector<GgufValue> items) {
  GgufValue x;
  x.type = GgufType::Array;
  x.elem = elem;
  x.arr = std::move(items);
  return x;
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
    case GgufType::U64:
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> GgufValue::to_int() const {
  switch (type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
    case GgufType::U64:
      if (u > uint64_t(INT64_MAX)) return std::nullopt;
      return int64_t(u);
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      return i;
    default:
      return std::nullopt;
  }
}

std::optional<double> GgufValue::to_float() const {
  if (type == GgufType::F32 || type == GgufType::F64) return f;
  if (auto v = to_int()) return double(*v);
  return std::nullopt;
}

std::string GgufValue::summary() const {
  switch (type) {
    case GgufType::String: {
      std::string shown = s.size() > 80 ? s.substr(0, 77) + "..." : s;
      return fmt::format("string \"{}\"", shown);
    }
    case GgufType::Array:
      return fmt::format("array[{}; {}]", gguf_type_name(elem), arr.size());
    case GgufType::Bool:
      return u ? "bool true" : "bool false";
    case GgufType::F32:
    case GgufType::F64:
      return fmt::format("{} {}", gguf_type_name(type), f);
    default:
      if (type == GgufType::I8 || type == GgufType::I16 || type == GgufType::I32 || type == GgufType::I64)
        return fmt::format("{} {}", gguf_type_name(type), i);
      return fmt::format("{} {}", gguf_type_name(type), u);
  }
}

const char* ggml_type_name(uint32_t type) {
  const GgmlTypeRow* r = find_type(type);
  return r ? r->name : nullptr;
}

std::pair<int64_t, int64_t> ggml_block_layout(uint32_t type) {
  const GgmlTypeRow* r = find_type(type);
  return r ? std::pair{r->block, r->bytes} : std::pair<int64_t, int64_t>{0, 0};
}

bool ggml_type_readable(uint32_t type) { return dtype_from_ggml(type).has_value(); }

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

}  // namespace peft
