// safetensors reader (mmap + full header validation), writer, and HF weight folders.
//
// Tensors returned by SafetensorsFile point straight into a read-only, private mapping.
// Tensor::data is a mutable void*, so the pointer is const_cast'ed: writing through it
// would fault (PROT_READ) — callers treat loaded weights as read-only or copy them.
// safetensors places tensors at arbitrary byte offsets, so a view may be unaligned for
// its dtype; x86 tolerates unaligned scalar/vector loads (and kernels use loadu), so
// this is accepted rather than copied. If the file is truncated by another process
// while mapped, reads raise SIGBUS — as with any mmap-based loader.
#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "io/atomic_output.h"
#include "io/json_file.h"
#include "io/mapped_file.h"

namespace peft {

namespace {

using OrderedJson = nlohmann::ordered_json;

struct Entry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

std::string shape_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// A non-negative integer that fits in int64, or nullopt (floats, negatives, strings...).
std::optional<int64_t> as_index(const OrderedJson& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) return std::nullopt;
    return int64_t(u);
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0) return std::nullopt;
    return i;
  }
  return std::nullopt;
}

// Validates one header entry; the error is prefixed with "<path>: tensor '<name>': ".
Status parse_entry(const std::string& name, const OrderedJson& v, uint64_t data_size, Entry& out) {
  if (!v.is_object())
    return Status::errorf("expected an object with dtype, shape and data_offsets, found {}", v.type_name());
  auto dtype_it = v.find("dtype");
  if (dtype_it == v.end()) return Status::error("field 'dtype' missing");
  if (!dtype_it->is_string()) return Status::errorf("field 'dtype' must be a string, found {}", dtype_it->dump());
  std::string dtype_name_str = dtype_it->get<std::string>();
  auto dtype = dtype_from_name(dtype_name_str);
  if (!dtype) return Status::errorf("unsupported dtype {} (supported: F32, F16, BF16, I32, I64)", dtype_name_str);

  auto shape_it = v.find("shape");
  if (shape_it == v.end()) return Status::error("field 'shape' missing");
  if (!shape_it->is_array()) return Status::errorf("field 'shape' must be an array, found {}", shape_it->dump());
  if (shape_it->size() > size_t(kMaxDims))
    return Status::errorf("shape {} has {} dims, at most {} are supported", shape_it->dump(), shape_it->size(),
                          kMaxDims);
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape_it->size(); ++i) {
    auto d = as_index((*shape_it)[i]);
    if (!d) return Status::errorf("shape[{}] must be a non-negative integer, found {}", i, (*shape_it)[i].dump());
    shape.push_back(*d);
    overflow |= __builtin_mul_overflow(numel, uint64_t(*d), &numel);
  }
  uint64_t need = 0;
  overflow |= __builtin_mul_overflow(numel, uint64_t(dtype_size(*dtype)), &need);
  if (overflow) return Status::errorf("shape {} {} is too large", shape_string(shape), dtype_name_str);

  auto off_it = v.find("data_offsets");
  if (off_it == v.end()) return Status::error("field 'data_offsets' missing");
  if (!off_it->is_array() || off_it->size() != 2)
    return Status::errorf("field 'data_offsets' must be [begin, end], found {}", off_it->dump());
  auto b = as_index((*off_it)[0]), e = as_index((*off_it)[1]);
  if (!b || !e || *b > *e)
    return Status::errorf("data_offsets {} must be two integers 0 <= begin <= end", off_it->dump());
  if (uint64_t(*e) > data_size)
    return Status::errorf("data_offsets [{}, {}] run past the end of the data section ({} bytes; file truncated?)", *b,
                          *e, data_size);
  if (uint64_t(*e - *b) != need)
    return Status::errorf("data_offsets [{}, {}] but shape {} {} needs {} bytes", *b, *e, shape_string(shape),
                          dtype_name_str, need);
  out = Entry{name, *dtype, std::move(shape), uint64_t(*b), uint64_t(*e)};
  return Status::ok();
}

// A shard name from an index must stay inside the model folder.
bool is_plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos;
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
  const unsigned char* base = map->data();
  const uint64_t size = map->size();
  if (size < 8)
    return Status::errorf("{}: file is {} bytes, too short for the 8-byte safetensors header length", path, size);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];  // little-endian on any host
  if (header_len > size - 8)
    return Status::errorf(
        "{}: header length {} exceeds the {} bytes after the length prefix (not a safetensors "
        "file, or truncated)",
        path, header_len, size - 8);
  const char* header = reinterpret_cast<const char*>(base + 8);
  const uint64_t data_size = size - 8 - header_len;

  // Duplicate top-level keys would silently shadow each other in the parsed object.
  std::set<std::string> seen;
  std::string duplicate;
  auto on_event = [&](int depth, OrderedJson::parse_event_t event, OrderedJson& parsed) {
    if (depth == 1 && event == OrderedJson::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  PEFT_TRY(check_json_depth(std::string_view(header, header_len), path + ": header"));
  OrderedJson json;
  try {
    json = OrderedJson::parse(header, header + header_len, on_event);
  } catch (const OrderedJson::exception& e) {
    return Status::errorf("{}: header is not valid JSON: {}", path, json_error_text(e));
  }
  if (!json.is_object()) return Status::errorf("{}: header must be a JSON object, found {}", path, json.type_name());
  if (!duplicate.empty()) return Status::errorf("{}: header lists '{}' twice", path, duplicate);

  SafetensorsFile f;
  std::vector<Entry> entries;
  for (const auto& [key, value] : json.items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        return Status::errorf("{}: __metadata__ must be an object, found {}", path, value.type_name());
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          return Status::errorf("{}: __metadata__ field '{}' must be a string, found {}", path, mk, mv.dump());
        f.metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    Entry e;
    Status st = parse_entry(key, value, data_size, e);
    if (!st) return Status::errorf("{}: tensor '{}': {}", path, key, st.message());
    entries.push_back(std::move(e));
  }

  // File order; the stable sort keeps header order among zero-sized tensors. The tensors
  // must tile the data section exactly, as the reference implementation requires: a gap
  // or a short header (every offset shifted) is a damaged file, not something to read past.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  const Entry* prev = nullptr;
  uint64_t covered = 0;
  for (const Entry& e : entries) {
    if (e.begin == e.end) continue;  // empty ranges cannot overlap anything
    if (prev && e.begin < prev->end)
      return Status::errorf("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", path, prev->name, prev->begin,
                            prev->end, e.name, e.begin, e.end);
    if (e.begin != covered)
      return Status::errorf(
          "{}: tensor '{}' starts at byte {} of the data section but the tensors before it end at "
          "{} (a gap: damaged file?)",
          path, e.name, e.begin, covered);
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    return Status::errorf(
        "{}: the tensors cover {} bytes but the data section holds {} (truncated, or a header "
        "length that does not match?)",
        path, covered, data_size);

  const unsigned char* data_base = base + 8 + header_len;
  for (const Entry& e : entries) {
    // const_cast: see the file comment; the mapping is read-only.
    void* p = const_cast<unsigned char*>(data_base + e.begin);
    f.tensors_.emplace(e.name, Tensor(p, e.dtype, e.shape));
    f.names_.push_back(e.name);
  }
  f.path_ = path;
  f.map_ = std::move(map);
  return f;
}

const Tensor* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Status write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson meta = OrderedJson::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  std::vector<std::string_view> pieces(2);  // [0] length prefix, [1] header, then tensor bytes
  uint64_t offset = 0;
  for (const NamedTensor& nt : tensors) {
    const Tensor& t = nt.tensor;
    PEFT_CHECK(t.is_contiguous(), "write_safetensors: '{}' is a strided view", nt.name);
    PEFT_CHECK(nt.name != "__metadata__" && names.insert(nt.name).second,
               "write_safetensors: tensor name '{}' is reserved or repeated", nt.name);
    const uint64_t n = t.nbytes();
    PEFT_CHECK(n == 0 || t.data != nullptr, "write_safetensors: '{}' has no data", nt.name);
    header[nt.name] = {
        {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.dims()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
    pieces.emplace_back(static_cast<const char*>(t.data), n);
  }
  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const OrderedJson::exception& e) {  // names/metadata that are not valid UTF-8
    return Status::errorf("{}: cannot write safetensors header: {}", path, json_error_text(e));
  }
  // Pad so the data section starts 8-byte aligned in the file, as the reference does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  char prefix[8];
  uint64_t len = header_text.size();
  for (int i = 0; i < 8; ++i) prefix[i] = char((len >> (8 * i)) & 0xff);
  pieces[0] = std::string_view(prefix, 8);
  pieces[1] = header_text;
  return write_file_atomic(path, pieces);
}

Result<WeightFiles> WeightFiles::open_file(const std::string& safetensors_path) {
  PEFT_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(safetensors_path));
  WeightFiles w;
  for (const std::string& name : file.names()) w.index_[name] = 0;
  w.files_.push_back(std::move(file));
  return w;
}

Result<WeightFiles> WeightFiles::open_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string single = dir + "/model.safetensors";
  const std::string index_path = dir + "/model.safetensors.index.json";
  std::error_code ec;
  // Same precedence as transformers: a single file wins over an index.
  if (fs::exists(single, ec)) return open_file(single);
  if (!fs::exists(index_path, ec))
    return Status::errorf("{}: no model.safetensors or model.safetensors.index.json found", dir);

  PEFT_ASSIGN_OR_RETURN(Json index, read_json_file(index_path));
  if (!index.is_object()) return Status::errorf("{}: expected a JSON object, found {}", index_path, index.type_name());
  auto map_it = index.find("weight_map");
  if (map_it == index.end()) return Status::errorf("{}: field 'weight_map' missing", index_path);
  if (!map_it->is_object())
    return Status::errorf("{}: field 'weight_map' must be an object, found {}", index_path, map_it->type_name());

  WeightFiles w;
  std::map<std::string, size_t> shard_index;  // shard file name -> files_ index
  for (const auto& [name, shard_json] : map_it->items()) {
    if (!shard_json.is_string())
      return Status::errorf("{}: weight_map['{}'] must be a shard file name, found {}", index_path, name,
                            shard_json.dump());
    const std::string shard = shard_json.get<std::string>();
    if (!is_plain_file_name(shard))
      return Status::errorf("{}: weight_map['{}'] = '{}' must be a file name in the same folder", index_path, name,
                            shard);
    auto it = shard_index.find(shard);
    if (it == shard_index.end()) {
      const std::string shard_path = dir + "/" + shard;
      if (!fs::exists(shard_path, ec))
        return Status::errorf("{}: shard '{}' (listed for tensor '{}') does not exist", index_path, shard, name);
      PEFT_ASSIGN_OR_RETURN(auto file, SafetensorsFile::open(shard_path));
      it = shard_index.emplace(shard, w.files_.size()).first;
      w.files_.push_back(std::move(file));
    }
    if (!w.files_[it->second].contains(name))
      return Status::errorf("{}: tensor '{}' is listed in shard '{}' but {} does not contain it", index_path, name,
                            shard, w.files_[it->second].path());
    w.index_[name] = it->second;
  }
  return w;
}

const Tensor* WeightFiles::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : files_[it->second].find(name);
}

std::string WeightFiles::file_of(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? std::string() : files_[it->second].path();
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& [name, i] : index_) out.push_back(name);
  return out;
}

}  // namespace peft
