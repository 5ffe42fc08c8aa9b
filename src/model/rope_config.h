// A config.json's rotary-embedding keys, as transformers 4.x and 5.x write them.
#pragma once
#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "kernels/rope.h"

namespace peft {

// The RoPE of a config: transformers 4.x's `rope_theta` + `rope_scaling` (its "type" or
// "rope_type": default, linear, dynamic, llama3, longrope, yarn), or 5.x's `rope_parameters`
// (the same fields with `rope_theta` inside), and `partial_rotary_factor` in either place.
// Every key of the scaling object is read or refused by name; an unknown type is refused.
// `theta_key` names the base where an architecture calls it otherwise (GPT-NeoX:
// rotary_emb_base); `default_theta` applies when no base is given.
Result<RopeSpec> read_rope_config(const Json& config, const std::string& where, const std::string& theta_key,
                                  double default_theta, int64_t max_positions);

// Fixes rot_dim from head_dim when left 0 (int(head_dim · partial_rotary_factor)) and checks
// the scaling against it (LongRoPE's factor lists have rot_dim/2 entries).
Status finish_rope_spec(RopeSpec& rope, int64_t head_dim, const std::string& where);

// "llama3" for RopeScaling::Llama3, ...: transformers' rope_type names.
const char* rope_scaling_name(RopeScaling scaling);

}  // namespace peft
