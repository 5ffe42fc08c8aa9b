// BottleneckConfig: LLM-Adapters' BottleneckConfig fields, read from and written to adapter_config.json.
#pragma once
#include <string>

#include "adapters/targets.h"
#include "core/status.h"
#include "io/json_file.h"
#include "kernels/activations.h"
#include "model/model.h"

namespace peft {

// Where a bottleneck adapter sits on a projection y = W x + b (A(z) = up(act(down(drop(z))))):
//   Mh:       y = W (x + s·A(x)) + b     down (b, in),  up (in, b)
//   Output:   y = h + s·A(h), h = W x + b down (b, out), up (out, b)
//   Parallel: y = W x + b + s·A(x)       down (b, in),  up (out, b)
enum class BottleneckType { Mh, Output, Parallel };

// The adapter's non-linearity: tanh (the fork's default) or one of the shared kernels.
struct BottleneckAct {
  bool tanh = true;
  Activation act = Activation::Identity;  // when !tanh
};

// Targets (LLM-Adapters' mapping tables, as DefaultTargets roles of each arch file):
//   default: "bottleneck" (the MLP projections); use_parallel_adapter: "bottleneck_parallel"
//   (attention q/k/v or the fused qkv); use_adapterp: "bottleneck_adapterp" (the MLP output).
// As in the fork, use_adapterp only picks those defaults; with explicit target_modules each
// target's type still follows bottleneck_type_of. use_parallel_adapter together with
// use_adapterp is rejected (the fork silently ignores use_adapterp then).
// Presets (`preset`, a peft.cpp extension) expand at load and are never written back:
//   "houlsby"  → target_modules = "bottleneck_houlsby" (attention output + MLP output
//                projections, e.g. ["o_proj", "down_proj"]), both output adapters;
//                use_adapterp stays false. The fork cannot load this (its type table lacks
//                the attention output projection).
//   "pfeiffer" → target_modules = "bottleneck_adapterp" (e.g. ["down_proj"]), use_adapterp
//                true: exactly the fork's AdapterP config.
// A preset with target_modules or use_parallel_adapter (or houlsby with use_adapterp) is an
// error. layers_to_transform (not a fork field) is honoured and written only when set.
struct BottleneckConfig {
  int64_t bottleneck_size = 256;
  std::string non_linearity = "tanh";
  BottleneckAct act;
  double adapter_dropout = 0.0;
  bool use_parallel_adapter = false;
  bool use_adapterp = false;
  double scaling = 1.0;               // the constant s (unused when learned)
  bool learned = false;               // scaling == "learned": a trainable adapter_scaling per module, 1 at init
  std::string init_weights = "bert";  // "bert" (N(0, 0.02) both) or "mam_adapter" (identity at init)
  TargetSpec targets;

  // Reads the fork's adapter_config.json fields. `preset` ("houlsby" | "pfeiffer") is a
  // peft.cpp extension that is expanded here into target_modules (and use_adapterp for
  // pfeiffer); to_json writes the expanded fields, never `preset`.
  static Result<BottleneckConfig> from_json(const Json& j, const Model& model, const std::string& where);
  Json to_json(const Model& model) const;
};

// The adapter type of one selected projection: parallel when use_parallel_adapter, else the
// fork's table by site (gate/up → Mh, MLP output → Output) plus the attention output
// projection → Output (for Houlsby); an error naming `where` and the module otherwise.
Result<BottleneckType> bottleneck_type_of(const BottleneckConfig& c, const SiteRef& site, const std::string& where);

}  // namespace peft
