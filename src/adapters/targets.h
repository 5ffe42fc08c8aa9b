// Which projections an adapter wraps: PEFT's target_modules / layers_to_transform semantics.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

struct SiteRef {
  Site site;
  int64_t layer;
  std::string path;  // Hugging Face module path, e.g. "model.layers.0.self_attn.q_proj"
};

struct TargetSpec {
  enum class Kind { List, Regex, AllLinear } kind = Kind::List;
  std::vector<std::string> names;  // List: module names matched as PEFT does (suffix ".name")
  std::string regex;               // Regex: full match against the module path
  std::vector<int64_t> layers;     // empty = every layer
};

// target_modules: a list of names, a regex string, or "all-linear"; layers_to_transform:
// null, an int or a list of ints. `fallback` is used when target_modules is null/absent.
Result<TargetSpec> parse_targets(const Json& config, const std::vector<std::string>& fallback,
                                 const std::string& where);

// The (site, layer) pairs of `model` the spec selects, in layer-then-site order. A listed
// name that matches nothing is an error that lists the architecture's module names.
Result<std::vector<SiteRef>> select_sites(const Model& model, const TargetSpec& spec, const std::string& where);

// Names usable in target_modules for this model (leaf names of its projections).
std::vector<std::string> target_module_names(const Model& model);

// Which of a method's modules sits at each (site, layer): −1 where none. Lookups run on
// every projection, so this is a flat table, not a map.
class SiteIndex {
 public:
  void reset(int64_t n_layer) { slots_.assign(size_t(n_layer * kNumLinearSites), -1); }
  void set(const SiteRef& ref, int module) { slots_[slot(ref.site, ref.layer)] = module; }
  int get(Site site, int64_t layer) const { return slots_[slot(site, layer)]; }

 private:
  static size_t slot(Site site, int64_t layer) { return size_t(layer * kNumLinearSites + int(site)); }
  std::vector<int> slots_;
};

// TargetSpec back to JSON (for adapter_config.json).
Json targets_to_json(const TargetSpec& spec);

// target_modules / layers_to_transform in a form every Hugging Face PEFT reads as selecting
// exactly the modules `spec` selects on `model`: "all-linear" (PEFT ≥ 0.8 only) becomes the
// list of module names, and a layer restriction PEFT cannot combine with the form given (a
// regex, or — with `layers_as_regex`, for clients that ignore layers_to_transform such as
// the LLM-Adapters fork — any form) becomes one regex matching exactly the selected paths.
struct PeftTargets {
  Json target_modules;
  Json layers_to_transform;  // null or a list of layer indices
};
PeftTargets peft_targets(const Model& model, const TargetSpec& spec, bool layers_as_regex = false);
// One regex (PEFT's re.fullmatch) matching exactly the module paths `spec` selects on `model`.
std::string exact_target_regex(const Model& model, const TargetSpec& spec);

}  // namespace peft
