// The explicit list of PEFT methods: name, PEFT type, factory and command-line flags.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"

namespace peft {

// A method-specific `peft train` flag that sets one adapter_config.json field.
struct MethodFlag {
  enum class Type { Int, Float, String, List, Bool };
  const char* flag;  // "--lora-r"
  const char* key;   // "r"
  Type type;
  const char* help;
  const char* default_value = nullptr;  // applied when neither the flag nor --config sets it
};

struct MethodDef {
  const char* name;       // "lora" (--method)
  const char* peft_type;  // "LORA" (adapter_config.json)
  // Builds and initialises (seeded) the adapter for `model` from an adapter_config.json
  // object; validates the config, errors name `where` and the field.
  Result<std::unique_ptr<Adapter>> (*create)(const Model& model, const Json& config, const std::string& where,
                                             uint64_t seed);
  std::vector<MethodFlag> flags;
  // Adapters of this method stored as GGUF files (llama.cpp's adapter.type, e.g. "lora"), and
  // their reader; nullptr when the method has no GGUF form.
  const char* gguf_adapter_type = nullptr;
  Result<std::unique_ptr<Adapter>> (*load_gguf)(const Model& model, const GgufFile& file) = nullptr;
  // Every `peft export --format` an adapter of this method may write (Adapter::export_formats
  // says which an instance can).
  std::vector<std::string> export_formats = {};
};

// The factory every method uses: ConfigT::from_json(config, model, where) validates, then
// AdapterT::create(model, config, seed) builds and initialises.
template <typename ConfigT, typename AdapterT>
Result<std::unique_ptr<Adapter>> create_from_json(const Model& model, const Json& config, const std::string& where,
                                                  uint64_t seed) {
  PEFT_ASSIGN_OR_RETURN(ConfigT c, ConfigT::from_json(config, model, where));
  PEFT_ASSIGN_OR_RETURN(auto adapter, AdapterT::create(model, c, seed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}

// By --method name or by peft_type; nullptr if unknown.
const MethodDef* find_method(const std::string& name_or_peft_type);
// The export formats of every method, sorted, without repeats.
std::vector<std::string> all_export_formats();
// By a GGUF adapter's adapter.type; nullptr if no method reads it.
const MethodDef* find_gguf_method(const std::string& adapter_type);
const std::vector<const MethodDef*>& all_methods();
// The method `peft train` uses without --method (the registry's first: LoRA).
const char* default_method_name();
std::string supported_methods();  // "lora, ..."

}  // namespace peft
