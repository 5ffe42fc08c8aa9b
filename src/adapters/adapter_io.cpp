// Saving and loading adapter folders.
#include "adapters/adapter_io.h"

#include <cstring>
#include <filesystem>
#include <set>

#include "adapters/registry.h"
#include "io/atomic_output.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"

namespace peft {

Status write_adapter_files(const Adapter& adapter, const std::string& dir, const std::string& base_model_path,
                           AdapterTensors which) {
  Json config = adapter.config_json();
  config["base_model_name_or_path"] = base_model_path;
  // With a task head's copy the adapter is PEFT's PeftModelForSequenceClassification /
  // ForTokenClassification kind, which saves the "classifier" module beside the method's.
  if (adapter.params().has_head()) {
    config["task_type"] = peft_task_type(adapter.params().head_task());
    // Head layers beyond the classifier that trained (a pooler the checkpoint lacked): PEFT adds
    // "classifier" itself and loads these when listed.
    if (!adapter.params().extra_modules_to_save().empty())
      config["modules_to_save"] = adapter.params().extra_modules_to_save();
  }
  std::vector<NamedTensor> tensors;
  if (which == AdapterTensors::Export) {
    tensors = adapter.export_tensors();
  } else {
    for (const Param& p : adapter.params().all()) tensors.push_back({p.name, p.value});
  }
  StagedFiles files;
  PEFT_TRY(write_json_file(files.stage(dir + "/adapter_config.json"), config));
  PEFT_TRY(write_safetensors(files.stage(dir + "/adapter_model.safetensors"), tensors, {{"format", "pt"}}));
  if (which == AdapterTensors::Export && adapter.writes_torch_checkpoint())
    PEFT_TRY(write_torch_checkpoint(files.stage(dir + "/adapter_model.bin"), tensors));
  return files.commit();
}

Status save_adapter(const Adapter& adapter, const std::string& dir, const std::string& base_model_path,
                    bool overwrite) {
  PEFT_ASSIGN_OR_RETURN(OutputDir out, OutputDir::create(dir, overwrite));
  PEFT_TRY(write_adapter_files(adapter, out.tmp_dir(), base_model_path));
  return out.commit();
}

namespace {

// An adapter for a model with a task head carries the head's trained copy (PEFT's SEQ_CLS /
// TOKEN_CLS task types); one trained without it (CAUSAL_LM) would leave the head untrained.
Status check_task_type(const Model& model, const Json& config, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(std::string task, json_get_string_or(config, "task_type", "", where));
  if (model.task.task == TaskType::CausalLm) {
    if (task == "SEQ_CLS" || task == "TOKEN_CLS")
      return Status::errorf("{}: task_type {} needs a model with a classification head, but {} has none", where, task,
                            model.path);
    return Status::ok();
  }
  const std::string want = peft_task_type(model.task.task);
  if (task != want)
    return Status::errorf(
        "{}: task_type is '{}' but the model {} has a {} head: the adapter must be a {} adapter (with the "
        "head's trained copy)",
        where, task, model.path, task_type_name(model.task.task), want);
  return Status::ok();
}

// modules_to_save: PEFT's classifier default, or head layers this model trains (a pooler the
// checkpoint lacked, or one load_model was told to train: LoadOptions::HeadOptions, which
// adapter_head_options fills from this list). Taken out of `config`: the head's copies are the
// ParamStore's, not the method's.
Status take_modules_to_save(const Model& model, Json& config, const std::string& where) {
  auto it = config.find("modules_to_save");
  if (it == config.end()) return Status::ok();
  if (!it->is_null()) {
    if (!it->is_array()) return Status::errorf("{}: modules_to_save must be a list or null", where);
    for (const Json& e : *it) {
      if (!e.is_string()) return Status::errorf("{}: modules_to_save entries must be strings", where);
      const std::string entry = e.get<std::string>();
      if (is_default_module_to_save(entry)) continue;
      bool trains = false;
      for (const Model::HeadLayer& h : model.head)
        trains = trains || (h.spec.trainable && modules_to_save_entry(h.spec.module) == entry);
      if (!trains)
        return Status::errorf(
            "{}: modules_to_save '{}' names no head layer of {} that trains with the adapter (only task heads' "
            "layers can be saved modules)",
            where, entry, model.path);
    }
  }
  config.erase(it);
  return Status::ok();
}

// A single-file adapter: a GGUF whose adapter.type names the method that reads it.
Result<std::unique_ptr<Adapter>> load_gguf_adapter(const Model& model, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(path));
  PEFT_ASSIGN_OR_RETURN(std::string type, file.get_string_or("general.type", "model"));
  if (type != "adapter")
    return Status::errorf("{}: general.type is '{}': this GGUF file is a model, not an adapter (pass it as --model)",
                          path, type);
  PEFT_ASSIGN_OR_RETURN(std::string adapter_type, file.get_string("adapter.type"));
  const MethodDef* method = find_gguf_method(adapter_type);
  if (!method)
    return Status::errorf("{}: adapter.type '{}' is not supported (GGUF adapters of type: lora)", path, adapter_type);
  return method->load_gguf(model, file);
}

}  // namespace

namespace {
// NaN or inf in an adapter would turn every output (and a merged model) into garbage.
Result<std::unique_ptr<Adapter>> finite(Result<std::unique_ptr<Adapter>> loaded, const std::string& path) {
  if (!loaded.is_ok()) return loaded;
  for (const Param& p : loaded.value()->params().all())
    if (const int64_t i = first_non_finite(p.value); i >= 0)
      return Status::errorf("{}: adapter tensor '{}' holds a non-finite value (NaN or inf) at element {}", path, p.name,
                            i);
  return loaded;
}
}  // namespace

Result<std::unique_ptr<Adapter>> load_adapter_unchecked(const Model& model, const std::string& dir);

Status adapter_head_options(const std::string& dir, LoadOptions::HeadOptions& head) {
  std::error_code ec;
  const std::string config_path = dir + "/adapter_config.json", weights_path = dir + "/adapter_model.safetensors";
  if (!std::filesystem::is_regular_file(config_path, ec) || !std::filesystem::is_regular_file(weights_path, ec))
    return Status::ok();  // load_adapter reports what is missing
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
  if (!config.is_object()) return Status::ok();
  const std::string task = config.value("task_type", Json()).is_string() ? config["task_type"].get<std::string>() : "";
  if (task != "SEQ_CLS" && task != "TOKEN_CLS") return Status::ok();
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(weights_path));
  int64_t labels = -1;
  for (const char* last : {"classifier.out_proj.weight", "classifier.weight", "score.weight"}) {
    for (const std::string& name : file.names())
      if ((name == last || name.ends_with(std::string(".") + last)) && file.find(name)->dims().size() == 2) {
        labels = file.find(name)->dim(0);
        break;
      }
    if (labels > 0) break;
  }
  if (labels <= 0)
    return Status::errorf("{}: a {} adapter without the classifier's weights (modules_to_save 'classifier')",
                          weights_path, task);
  head.task = TaskSpec{task == "TOKEN_CLS" ? TaskType::TokenCls : TaskType::SeqCls,
                       labels == 1 ? ProblemType::Regression : ProblemType::SingleLabel, labels};
  head.reinit = true;  // the trainable layers are the adapter's: the checkpoint's, of any size, give way
  if (config.contains("modules_to_save") && config["modules_to_save"].is_array())
    for (const Json& e : config["modules_to_save"])
      if (e.is_string() && !is_default_module_to_save(e.get<std::string>()))
        head.trainable_modules.push_back(e.get<std::string>());
  return Status::ok();
}

Result<std::unique_ptr<Adapter>> load_adapter(const Model& model, const std::string& dir) {
  return finite(load_adapter_unchecked(model, dir), dir);
}

Result<std::unique_ptr<Adapter>> load_adapter_unchecked(const Model& model, const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir, ec)) return load_gguf_adapter(model, dir);
  if (!std::filesystem::is_directory(dir, ec))
    return Status::errorf("{}: no such adapter folder or GGUF adapter file", dir);
  const std::string config_path = dir + "/adapter_config.json";
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
  if (!config.is_object()) return Status::errorf("{}: expected a JSON object", config_path);
  PEFT_ASSIGN_OR_RETURN(std::string peft_type, json_get_string(config, "peft_type", config_path));
  const MethodDef* method = find_method(peft_type);
  if (!method)
    return Status::errorf("{}: unsupported peft_type '{}' (supported: {})", config_path, peft_type,
                          supported_methods());
  PEFT_TRY(check_task_type(model, config, config_path));
  PEFT_TRY(take_modules_to_save(model, config, config_path));
  PEFT_ASSIGN_OR_RETURN(auto adapter, method->create(model, config, config_path, 0));

  const std::string weights_path = dir + "/adapter_model.safetensors";
  if (!std::filesystem::exists(weights_path, ec) && std::filesystem::exists(dir + "/adapter_model.bin", ec))
    return Status::errorf(
        "{}: missing; the folder has only adapter_model.bin (a PyTorch pickle, which peft.cpp does "
        "not execute): convert it to safetensors",
        weights_path);
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(weights_path));
  std::set<std::string> unused(file.names().begin(), file.names().end());
  for (Param& p : adapter->params().all()) {
    const Tensor* t = file.find(p.name);
    if (!t) return Status::errorf("{}: tensor '{}' is missing (adapter and model do not match?)", weights_path, p.name);
    if (t->dims() != p.value.dims())
      return Status::errorf("{}: tensor '{}' has shape {} but this model needs {}", weights_path, p.name,
                            t->shape_str(), p.value.shape_str());
    if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)
      return Status::errorf("{}: tensor '{}' has dtype {}, expected a float type", weights_path, p.name,
                            dtype_name(t->dtype));
    convert_to_f32(p.value.f32(), t->data, t->dtype, size_t(t->numel()));
    unused.erase(p.name);
  }
  if (!unused.empty())
    return Status::errorf("{}: tensor '{}' does not belong to any module of this {} model", weights_path,
                          *unused.begin(), model.config.arch);
  return adapter;
}

}  // namespace peft
