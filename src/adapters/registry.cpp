// The method registry (one line per method).
#include "adapters/registry.h"

#include <algorithm>

#include <fmt/format.h>

namespace peft {

extern const MethodDef kAdaLinkMethod;
extern const MethodDef kAdamixMethod;
extern const MethodDef kBottleneckMethod;
extern const MethodDef kIa3Method;
extern const MethodDef kLoraMethod;
extern const MethodDef kPrefixTuningMethod;
extern const MethodDef kPromptTuningMethod;

const std::vector<const MethodDef*>& all_methods() {
  static const std::vector<const MethodDef*> methods = {
      &kLoraMethod,       &kIa3Method,    &kPrefixTuningMethod, &kPromptTuningMethod,
      &kBottleneckMethod, &kAdamixMethod, &kAdaLinkMethod,
  };
  return methods;
}

std::vector<std::string> all_export_formats() {
  std::vector<std::string> out;
  for (const MethodDef* m : all_methods())
    for (const std::string& f : m->export_formats)
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  std::sort(out.begin(), out.end());
  return out;
}

const char* default_method_name() { return all_methods().front()->name; }

const MethodDef* find_method(const std::string& name) {
  for (const MethodDef* m : all_methods())
    if (name == m->name || name == m->peft_type) return m;
  return nullptr;
}

const MethodDef* find_gguf_method(const std::string& adapter_type) {
  for (const MethodDef* m : all_methods())
    if (m->gguf_adapter_type && adapter_type == m->gguf_adapter_type) return m;
  return nullptr;
}

std::string supported_methods() {
  std::vector<std::string> names;
  for (const MethodDef* m : all_methods()) names.emplace_back(m->name);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace peft
