// peft inspect: the config and tensor table of a model folder, safetensors or llama2.c file.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/command.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "io/gguf_writer.h"
#include "io/llama2c.h"
#include "io/safetensors.h"
#include "model/gguf_model.h"
#include "model/math_keys.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace peft::cli {

namespace {

void print_tensor_row(const std::string& name, const Tensor& t) {
  fmt::print("  {:<56} {:<5} {}\n", name, dtype_name(t.dtype), t.shape_str());
}

const char* norm_name(NormKind k) { return k == NormKind::RmsNorm ? "rmsnorm" : "layernorm"; }
const char* position_name(PositionKind k) {
  switch (k) {
    case PositionKind::Learned:
      return "learned";
    case PositionKind::Rope:
      return "rope";
    case PositionKind::Alibi:
      return "alibi";
    case PositionKind::None:
      return "none";
  }
  return "?";
}

void print_config(const ModelConfig& c) {
  fmt::print("architecture: {}\n", c.arch);
  fmt::print("vocab: {}  hidden: {}  layers: {}  heads: {}  kv heads: {}  head dim: {}  mlp: {}  context: {}\n",
             c.n_vocab, c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.head_dim, c.n_ff, c.n_ctx);
  fmt::print("norm: {} (eps {})  positions: {}", norm_name(c.block.norm), c.norm_eps, position_name(c.block.position));
  if (c.block.position == PositionKind::Rope)
    fmt::print(" (theta {}, rotary dims {}, {})", c.block.rope.theta, c.block.rope.rot_dim,
               c.block.rope.layout == RopeLayout::RotateHalf ? "rotate-half" : "interleaved");
  fmt::print("  mlp: {}  tied embeddings: {}\n", c.block.gated_mlp ? "gated" : "plain",
             c.block.tied_embeddings ? "yes" : "no");
}

Status inspect_folder(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto model, load_model(path));
  print_config(model->config);
  auto tok = load_tokenizer(path);
  if (tok.is_ok())
    fmt::print("tokenizer: {} ({} tokens, bos {}, eos {})\n", (*tok)->kind(), (*tok)->vocab_size(), (*tok)->bos_id(),
               (*tok)->eos_id());
  else
    fmt::print("tokenizer: none ({})\n", tok.status().message());
  fmt::print("tensors:\n");
  for (const std::string& name : model->source->names()) print_tensor_row(name, *model->source->find(name));
  return Status::ok();
}

Status inspect_safetensors(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(path));
  for (const auto& [k, v] : f.metadata()) fmt::print("metadata {}: {}\n", k, v);
  fmt::print("tensors ({}):\n", f.names().size());
  for (const std::string& name : f.names()) print_tensor_row(name, *f.find(name));
  return Status::ok();
}

Status inspect_llama2c(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(Llama2cCheckpoint ck, read_llama2c(path));
  const Llama2cConfig& c = ck.config;
  fmt::print("llama2.c checkpoint (version {})\n", c.version);
  fmt::print(
      "dim: {}  hidden: {}  layers: {}  heads: {}  kv heads: {}  vocab: {}  seq_len: {}  shared classifier: {}\n",
      c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len,
      c.shared_classifier ? "yes" : "no");
  fmt::print("tensors (Hugging Face names after conversion):\n");
  for (const auto& [name, t] : ck.tensors) print_tensor_row(name, t.view());
  return Status::ok();
}

Status inspect_gguf(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  fmt::print("GGUF v{} ({} tensors, {} metadata keys, alignment {})\n", f.version(), f.tensors().size(),
             f.metadata().size(), f.alignment());
  // The architecture as our loader would see it; a file we cannot load is still listed.
  auto config = gguf_hf_config(f);
  std::string why;
  if (!config.is_ok()) {
    why = config.status().message();
  } else if (const ArchDef* arch = find_arch((*config)["model_type"].get<std::string>())) {
    auto parsed = parse_model_config(*arch, *config, path);
    if (parsed.is_ok())
      print_config(*parsed);
    else
      why = parsed.status().message();
  } else {
    why = "architecture not built in";
  }
  const GgufValue* arch_name = f.find("general.architecture");
  if (!why.empty()) fmt::print("architecture: {} (cannot load: {})\n", arch_name ? arch_name->summary() : "?", why);
  auto vocab = read_gguf_vocab(f);
  if (!vocab.is_ok())
    fmt::print("tokenizer: unreadable ({})\n", vocab.status().message());
  else if (!*vocab)
    fmt::print("tokenizer: none\n");
  else
    fmt::print("tokenizer: {} ({} tokens, {} merges, bos {}, eos {})\n", (*vocab)->model, (*vocab)->tokens.size(),
               (*vocab)->merges.size(), (*vocab)->bos_id, (*vocab)->eos_id);
  fmt::print("metadata:\n");
  for (const auto& [key, v] : f.metadata()) fmt::print("  {:<48} {}\n", key, v.summary());
  fmt::print("tensors (GGUF names, type, row-major shape):\n");
  for (const GgufTensorInfo& t : f.tensors()) {
    const char* type = ggml_type_name(t.type);
    fmt::print("  {:<56} {:<7} [{}]\n", t.name, type ? type : "?", fmt::join(t.shape(), ", "));
  }
  return Status::ok();
}

// --dequantize: the same file with every tensor as F32 (quantized blocks decoded as ggml
// decodes them), for tools that cannot read a quantized type, and to check our decoding.
Status dequantize_gguf(const std::string& path, const std::string& out) {
  if (!path.ends_with(".gguf")) return Status::errorf("{}: --dequantize reads a .gguf file", path);
  PEFT_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  GgufWriter w;
  w.set_alignment(f.alignment());
  for (const auto& [key, v] : f.metadata())
    if (key != "general.alignment") w.set(key, key == "general.file_type" ? GgufValue::of_uint(GgufType::U32, 0) : v);
  for (const GgufTensorInfo& t : f.tensors()) {
    PEFT_ASSIGN_OR_RETURN(OwnedTensor x, f.to_f32(t));
    w.add_tensor(t.name, GgmlType::F32, t.shape(),
                 std::string(static_cast<const char*>(x.view().data), x.view().nbytes()));
  }
  PEFT_TRY(w.write(out));
  fmt::print(stderr, "{} -> {} ({} tensors as F32)\n", path, out, f.tensors().size());
  return Status::ok();
}

Status run_inspect(const std::string& path, const std::string& dequantize_to) {
  if (!dequantize_to.empty()) return dequantize_gguf(path, dequantize_to);
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::errorf("{}: no such file or folder", path);
  if (fs::is_directory(path, ec)) return inspect_folder(path);
  if (path.ends_with(".safetensors")) return inspect_safetensors(path);
  if (path.ends_with(".bin")) return inspect_llama2c(path);
  if (path.ends_with(".gguf")) return inspect_gguf(path);
  return Status::errorf("{}: unknown file kind (expected a model folder, .safetensors, .gguf or a llama2.c .bin)",
                        path);
}

}  // namespace

void add_inspect(CLI::App& app, Action& action) {
  auto path = std::make_shared<std::string>();
  auto dequantize_to = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("inspect", "print the config and tensors of a model or file");
  sub->add_option("path", *path, "model folder, .safetensors, .gguf or llama2.c .bin file")->required();
  sub->add_option("--dequantize", *dequantize_to,
                  "write the .gguf file's tensors, every one as F32 (quantized blocks decoded), to this .gguf");
  sub->callback([path, dequantize_to, &action] {
    action = [path, dequantize_to] { return run_inspect(*path, *dequantize_to); };
  });
}

}  // namespace peft::cli
