// torch.save's zip checkpoint: a stored (uncompressed) zip of `<archive>/data.pkl` — a
// protocol-2 pickle whose tensors point at storages by key —, one `<archive>/data/<key>` per
// storage (raw little-endian bytes, 64-byte aligned in the file as torch aligns them) and
// `<archive>/version`. Only the pickle opcodes torch's own writer uses for a dict of tensors.
#include "io/torch_checkpoint.h"

#include <array>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "io/atomic_output.h"

namespace peft {

namespace {

// torch.<X>Storage, the class torch.load maps back to the dtype.
const char* storage_class(DType t) {
  switch (t) {
    case DType::F32:
      return "FloatStorage";
    case DType::F16:
      return "HalfStorage";
    case DType::BF16:
      return "BFloat16Storage";
    case DType::I64:
      return "LongStorage";
    case DType::I32:
      return "IntStorage";
    default:
      return nullptr;
  }
}

class Pickle {
 public:
  Pickle() { out_ += "\x80\x02"; }  // PROTO 2
  void mark() { out_ += '('; }
  void op(char c) { out_ += c; }
  void global(const char* module, const char* name) { out_ += fmt::format("c{}\n{}\n", module, name); }
  void str(const std::string& s) {  // BINUNICODE
    out_ += 'X';
    u32(uint32_t(s.size()));
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {  // BININT1
      out_ += 'K';
      out_ += char(v);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {  // BININT
      out_ += 'J';
      u32(uint32_t(int32_t(v)));
    } else {  // LONG1: 8 little-endian two's-complement bytes
      out_ += "\x8a\x08";
      for (int i = 0; i < 8; ++i) out_ += char((uint64_t(v) >> (8 * i)) & 0xff);
    }
  }
  void int_tuple(const std::vector<int64_t>& v) {
    mark();
    for (int64_t x : v) integer(x);
    op('t');  // TUPLE
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(')');  // EMPTY_TUPLE
    op('R');  // REDUCE
  }
  std::string finish() { return out_ + '.'; }  // STOP

 private:
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += char((v >> (8 * i)) & 0xff);
  }
  std::string out_;
};

uint32_t crc32(const char* data, size_t n, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ uint8_t(data[i])) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// A stored zip built as a list of byte pieces (tensor data is referenced, not copied).
class ZipWriter {
 public:
  void add(const std::string& name, std::string_view data) {
    Entry e{name, uint32_t(offset_), crc32(data.data(), data.size()), uint32_t(data.size())};
    // Local header + name + an "FB" extra field padding the data to 64 bytes, as torch does.
    const size_t header = 30 + name.size() + 4;
    const size_t pad = (64 - (offset_ + header) % 64) % 64;
    std::string h;
    le32(h, 0x04034b50);
    le16(h, 20);  // version needed
    le16(h, 0);   // flags
    le16(h, 0);   // stored
    le32(h, 0);   // time, date
    le32(h, e.crc);
    le32(h, e.size);
    le32(h, e.size);
    le16(h, uint16_t(name.size()));
    le16(h, uint16_t(4 + pad));
    h += name;
    le16(h, 0x4246);  // "FB"
    le16(h, uint16_t(pad));
    h.append(pad, 'Z');
    push(std::move(h));
    pieces_.push_back(data);
    offset_ += data.size();
    entries_.push_back(e);
  }

  // Central directory and end record; false when the archive outgrows zip32.
  bool finish() {
    const uint64_t cd_start = offset_;
    std::string cd;
    for (const Entry& e : entries_) {
      le32(cd, 0x02014b50);
      le16(cd, 20);  // made by
      le16(cd, 20);  // needed
      le16(cd, 0);
      le16(cd, 0);
      le32(cd, 0);
      le32(cd, e.crc);
      le32(cd, e.size);
      le32(cd, e.size);
      le16(cd, uint16_t(e.name.size()));
      le16(cd, 0);  // extra
      le16(cd, 0);  // comment
      le16(cd, 0);  // disk
      le16(cd, 0);  // internal attributes
      le32(cd, 0);  // external attributes
      le32(cd, e.offset);
      cd += e.name;
    }
    std::string end;
    le32(end, 0x06054b50);
    le16(end, 0);
    le16(end, 0);
    le16(end, uint16_t(entries_.size()));
    le16(end, uint16_t(entries_.size()));
    le32(end, uint32_t(cd.size()));
    le32(end, uint32_t(cd_start));
    le16(end, 0);
    const bool fits = cd_start + cd.size() < 0xffffffffull && entries_.size() < 0xffff;
    push(std::move(cd));
    push(std::move(end));
    return fits;
  }
  std::vector<std::string_view> pieces() const { return pieces_; }

 private:
  struct Entry {
    std::string name;
    uint32_t offset, crc, size;
  };
  static void le16(std::string& s, uint16_t v) {
    s += char(v & 0xff);
    s += char(v >> 8);
  }
  static void le32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff);
  }
  void push(std::string bytes) {
    offset_ += bytes.size();
    owned_.push_back(std::make_unique<std::string>(std::move(bytes)));
    pieces_.emplace_back(*owned_.back());
  }
  uint64_t offset_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<std::string>> owned_;
  std::vector<std::string_view> pieces_;
};

}  // namespace

Status write_torch_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors) {
  // The pickle: {name: _rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict())}.
  Pickle p;
  p.op('}');  // EMPTY_DICT
  p.mark();
  std::set<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const NamedTensor& nt = tensors[i];
    const Tensor& t = nt.tensor;
    const char* storage = storage_class(t.dtype);
    if (!storage)
      return Status::errorf("{}: tensor '{}' has dtype {}, which this writer does not store", path, nt.name,
                            dtype_name(t.dtype));
    PEFT_CHECK(t.is_contiguous(), "write_torch_checkpoint: '{}' is a strided view", nt.name);
    PEFT_CHECK(names.insert(nt.name).second, "write_torch_checkpoint: tensor name '{}' is repeated", nt.name);
    std::vector<int64_t> stride(t.dims().size(), 1);
    for (int d = int(stride.size()) - 2; d >= 0; --d)
      stride[size_t(d)] = stride[size_t(d) + 1] * t.dims()[size_t(d) + 1];
    p.str(nt.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    p.mark();  // the persistent id: ('storage', torch.XStorage, key, 'cpu', numel)
    p.str("storage");
    p.global("torch", storage);
    p.str(std::to_string(i));
    p.str("cpu");
    p.integer(t.numel());
    p.op('t');
    p.op('Q');     // BINPERSID
    p.integer(0);  // storage offset
    p.int_tuple(t.dims());
    p.int_tuple(stride);
    p.op('\x89');            // NEWFALSE: requires_grad
    p.empty_ordered_dict();  // backward hooks
    p.op('t');
    p.op('R');
  }
  p.op('u');  // SETITEMS
  const std::string pickle = p.finish();

  const std::string archive = "archive/";
  ZipWriter zip;
  zip.add(archive + "data.pkl", pickle);
  for (size_t i = 0; i < tensors.size(); ++i)
    zip.add(archive + "data/" + std::to_string(i),
            std::string_view(static_cast<const char*>(tensors[i].tensor.data), tensors[i].tensor.nbytes()));
  zip.add(archive + "version", "3\n");
  if (!zip.finish())
    return Status::errorf("{}: the checkpoint would exceed 4 GiB or 65,535 entries (zip64 is not written)", path);
  return write_file_atomic(path, zip.pieces());
}

}  // namespace peft
