// AdaLinkConfig: PEFT's fields, read and validated from adapter_config.json and written back.
#include "adapters/adalink/adalink_config.h"

#include <algorithm>

namespace peft {

std::optional<Activation> AdaLinkConfig::kernel_activation() const {
  if (activation == "identity") return Activation::Identity;
  if (activation == "gelu") return Activation::GeluExact;
  if (activation == "relu") return Activation::Relu;
  return std::nullopt;  // tanh is applied inline (no tanh kernel here); anything else is refused
}

Result<AdaLinkConfig> AdaLinkConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  AdaLinkConfig c;
  PEFT_ASSIGN_OR_RETURN(c.rank, json_get_int_or(j, "r", 4, where));
  if (c.rank <= 0) return Status::errorf("{}: r must be positive, found {}", where, c.rank);
  PEFT_ASSIGN_OR_RETURN(c.activation, json_get_string_or(j, "activation", "identity", where));
  if (c.activation != "tanh" && !c.kernel_activation())
    return Status::errorf("{}: activation '{}' is unknown (identity, gelu, relu, tanh)", where, c.activation);
  if (j.contains("modalities") && !j["modalities"].is_null()) {
    const Json& m = j["modalities"];
    if (!m.is_array() || m.empty()) return Status::errorf("{}: modalities must be a non-empty list", where);
    c.modalities.clear();
    for (const Json& e : m) {
      if (!e.is_string() || e.get<std::string>().empty())
        return Status::errorf("{}: modalities entries must be non-empty strings", where);
      const std::string name = e.get<std::string>();
      if (std::find(c.modalities.begin(), c.modalities.end(), name) != c.modalities.end())
        return Status::errorf("{}: modality '{}' is listed twice", where, name);
      c.modalities.push_back(name);
    }
  }
  return c;
}

Json AdaLinkConfig::to_json(const Model& model) const {
  return Json{{"peft_type", "ADALINK"},   {"task_type", "CAUSAL_LM"}, {"r", rank},
              {"activation", activation}, {"modalities", modalities}, {"token_dim", model.config.embd_in()},
              {"inference_mode", true}};
}

}  // namespace peft
