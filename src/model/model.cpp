// load_model: config.json → architecture → weights.
#include <fmt/format.h>

#include <cctype>
#include <filesystem>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/gguf_model.h"
#include "model/math_keys.h"
#include "model/model.h"
#include "quant/quant.h"

namespace peft {

int64_t model_param_count(const Model& m) {
  auto n = [](const Tensor& t) { return t.data ? t.numel() : int64_t(0); };
  int64_t total = n(m.tok_embd) + n(m.pos_embd) + n(m.embd_norm.w) + n(m.embd_norm.b) + n(m.out_norm.w) +
                  n(m.out_norm.b) + n(m.project_in.w) + n(m.project_out.w) + n(m.lm_head.b);
  if (!m.config.block.tied_embeddings) total += n(m.lm_head.w);
  for (const Model::HeadLayer& h : m.head) total += n(h.lin.w) + n(h.lin.b);
  for (const LayerWeights& w : m.layers) {
    for (const Norm* nm : {&w.attn_norm, &w.ffn_norm, &w.attn_out_norm, &w.ffn_out_norm, &w.q_norm, &w.k_norm})
      total += n(nm->w) + n(nm->b);
    for (const Linear* l : {&w.q, &w.k, &w.v, &w.qkv, &w.o, &w.gate, &w.up, &w.down}) total += n(l->w) + n(l->b);
  }
  return total;
}

Status check_causal_lm(const Model& m, const std::string& what) {
  if (m.config.causal) return Status::ok();
  return Status::errorf(
      "{}: {} is an encoder ({}), which generates no text and has no LM head; it trains and scores "
      "through its task head (peft train --data-format glue, peft eval --task <glue task>, peft logits)",
      what, m.path, m.config.arch);
}

Result<LoadOptions> load_options_from_base_dtype(std::string_view flag) {
  LoadOptions o;
  if (flag.empty()) return o;
  std::string upper(flag);
  for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  if (upper.ends_with(":ALL")) {
    upper.resize(upper.size() - 4);
    o.quantize_embeddings = true;
  }
  std::optional<DType> t = dtype_from_name(upper);
  if (!t) t = quant_type_from_name(upper);
  if (!t || (*t != DType::F32 && *t != DType::BF16 && !(dtype_is_quantized(*t) && quant_can_quantize(*t))) ||
      (o.quantize_embeddings && !dtype_is_quantized(*t)))
    return Status::errorf(
        "--base-dtype: expected f32, bf16, q8_0, q4_0, q4_k or nf4 (the quantized ones with ':all' to quantize the "
        "embedding and head too), found '{}'",
        flag);
  o.base_dtype = t;
  return o;
}

namespace {

// "BertForMaskedLM" / "BertModel" → "Bert"; without architectures, from model_type
// ("deberta-v2" → "DebertaV2").
std::string class_prefix(const Json& config, const std::string& model_type) {
  if (config.contains("architectures") && config["architectures"].is_array() && !config["architectures"].empty() &&
      config["architectures"][0].is_string()) {
    std::string a = config["architectures"][0].get<std::string>();
    if (auto at = a.find("For"); at != std::string::npos) return a.substr(0, at);
    if (a.ends_with("Model")) return a.substr(0, a.size() - 5);
  }
  std::string out;
  bool upper = true;
  for (char ch : model_type) {
    if (ch == '-' || ch == '_') {
      upper = true;
      continue;
    }
    out += upper ? char(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  return out;
}

// --task-type / a GLUE file / an adapter's head on a checkpoint that has another (or none): the
// config.json transformers would save after AutoModelFor<Task>.from_pretrained(num_labels=K).
Status apply_head_task(Model& m, const TaskSpec& task, const std::string& where) {
  if (!m.arch->task_head)
    return Status::errorf("{}: a {} head on model_type '{}' is not supported (encoders: bert, roberta, deberta-v2)",
                          where, task_type_name(task.task), m.config.arch);
  if (m.config.causal)
    return Status::errorf("{}: a {} head needs an encoder, and '{}' is a decoder", where, task_type_name(task.task),
                          m.config.arch);
  Json& j = m.hf_config;
  // The checkpoint's own head when it is this one (its label names and problem_type stay).
  if (m.task.task == task.task && m.task.num_labels == task.num_labels) return Status::ok();
  const char* kind = task.task == TaskType::TokenCls ? "ForTokenClassification" : "ForSequenceClassification";
  j["architectures"] = Json::array({class_prefix(j, j.value("model_type", m.config.arch)) + kind});
  Json id2label = Json::object(), label2id = Json::object();  // transformers' default label names
  for (int64_t i = 0; i < task.num_labels; ++i) {
    id2label[std::to_string(i)] = fmt::format("LABEL_{}", i);
    label2id[fmt::format("LABEL_{}", i)] = i;
  }
  j["id2label"] = id2label;
  j["label2id"] = label2id;
  j.erase("num_labels");
  j["problem_type"] = problem_type_name(task.problem);
  m.task = task;
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Model>> load_model_from(const Json& config, const std::string& where,
                                               std::shared_ptr<const TensorSource> source, const std::string& path,
                                               const LoadOptions& options) {
  if (!config.is_object()) return Status::errorf("{}: expected a JSON object", where);
  PEFT_ASSIGN_OR_RETURN(std::string model_type, json_get_string(config, "model_type", where));
  const ArchDef* arch = find_arch(model_type);
  if (!arch)
    return Status::errorf("{}: unsupported model_type '{}' (supported: {})", where, model_type, supported_archs());
  auto model = std::make_unique<Model>();
  model->path = path;
  model->arch = arch;
  model->hf_config = config;
  PEFT_ASSIGN_OR_RETURN(model->config, parse_model_config(*arch, config, where));
  PEFT_ASSIGN_OR_RETURN(model->task, task_from_config(config, where));
  if (options.head.task) PEFT_TRY(apply_head_task(*model, *options.head.task, where));
  if (model->task.task != TaskType::CausalLm && !arch->task_head)
    return Status::errorf("{}: a {} head on model_type '{}' is not supported (architectures: {})", where,
                          task_type_name(model->task.task), model_type, config["architectures"].dump());
  model->names = arch->tensor_names(model->config);
  model->source = std::move(source);
  PEFT_TRY(bind_weights(*model, options));
  return model;
}

Result<bool> checkpoint_is_encoder(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return false;  // a GGUF file (decoders only), or load_model says
  const std::string config_path = path + "/config.json";
  if (!std::filesystem::exists(config_path, ec)) return false;
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
  if (!config.is_object()) return Status::errorf("{}: expected a JSON object", config_path);
  PEFT_ASSIGN_OR_RETURN(std::string model_type, json_get_string(config, "model_type", config_path));
  const ArchDef* arch = find_arch(model_type);
  if (!arch) return false;  // load_model names it
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_model_config(*arch, config, config_path));
  return !c.causal;
}

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::errorf("{}: no such file or folder", path);
  if (path.ends_with(".gguf") && fs::is_regular_file(path, ec)) return load_gguf_model(path, options);
  if (!fs::is_directory(path, ec))
    return Status::errorf("{}: expected a Hugging Face model folder (config.json + safetensors)", path);
  const std::string config_path = path + "/config.json";
  PEFT_ASSIGN_OR_RETURN(Json config, read_json_file(config_path));
  PEFT_ASSIGN_OR_RETURN(WeightFiles files, WeightFiles::open_folder(path));
  return load_model_from(config, config_path, std::make_shared<WeightFiles>(std::move(files)), path, options);
}

}  // namespace peft
