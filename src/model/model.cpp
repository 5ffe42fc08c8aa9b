// load_model: config.json → architecture → weights.
#include <filesystem>

#include "io/json_file.h"
#include "model/model.h"

namespace peft {

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::errorf("{}: no such file or folder", path);
  if (!fs::is_directory(path, ec))
    return Status::errorf("{}: expected a Hugging Face model folder (config.json + safetensors)",
                          path);
  const std::string config_path = path + "/config.json";
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
  if (!config.is_object()) return Status::errorf("{}: expected a JSON object", config_path);
  PEFT_ASSIGN_OR_RETURN(std::string model_type, json_get_string(config, "model_type", config_path));
  const ArchDef* arch = find_arch(model_type);
  if (!arch)
    return Status::errorf("{}: unsupported model_type '{}' (supported: {})", config_path,
                          model_type, supported_archs());

  auto model = std::make_unique<Model>();
  model->path = path;
  PEFT_ASSIGN_OR_RETURN(model->config, arch->parse_config(config, config_path));
  model->names = arch->tensor_names(model->config);
  PEFT_ASSIGN_OR_RETURN(model->files, WeightFiles::open_folder(path));
  PEFT_TRY(bind_weights(*model, options));
  return model;
}

}  // namespace peft
