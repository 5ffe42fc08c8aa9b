// safetensors: mmap'ed, bounds-checked reader and an atomic (temp + rename) writer.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "io/tensor_source.h"

namespace peft {

class MappedFile;  // io/mapped_file.h

// A read-only view of one .safetensors file. Tensors point into the mapping, which
// lives as long as any copy of this object.
class SafetensorsFile {
 public:
  // Validates: file size >= 8, header length fits, header is a JSON object, every entry
  // has a known dtype, a shape of non-negative dims, data_offsets [b, e] with b <= e,
  // e <= data section size, and e - b == numel * dtype size. Errors name the path and tensor.
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  // Tensor names in file order (as the header lists them, sorted by offset).
  const std::vector<std::string>& names() const { return names_; }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const Tensor* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }

 private:
  std::string path_;
  std::shared_ptr<MappedFile> map_;
  std::vector<std::string> names_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// One named tensor to write; the view must be contiguous.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// Write tensors (in the given order, offsets contiguous from 0, header padded with
// spaces to a multiple of 8, like the reference implementation) to `path` via a
// temporary file in the same folder and a rename: a failure never leaves a partial file.
Status write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// All tensors of a Hugging Face model folder: model.safetensors, or the shards listed
// by model.safetensors.index.json ("weight_map": name -> shard file).
class WeightFiles final : public TensorSource {
 public:
  static Result<WeightFiles> open_folder(const std::string& dir);
  static Result<WeightFiles> open_file(const std::string& safetensors_path);
  const Tensor* find(const std::string& name) const override;
  // Which file holds `name` (for error messages).
  std::string file_of(const std::string& name) const override;
  std::vector<std::string> names() const override;  // sorted
  const std::vector<SafetensorsFile>& files() const { return files_; }

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> index_;  // name -> files_ index
};

}  // namespace peft
