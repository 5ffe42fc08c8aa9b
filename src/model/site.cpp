// Site names, the projection behind each site, and Hugging Face module paths.
#include "model/site.h"

namespace peft {

const char* site_name(Site site) {
  switch (site) {
    case Site::AttnQ:
      return "attn_q";
    case Site::AttnK:
      return "attn_k";
    case Site::AttnV:
      return "attn_v";
    case Site::AttnQKV:
      return "attn_qkv";
    case Site::AttnO:
      return "attn_o";
    case Site::FfnGate:
      return "ffn_gate";
    case Site::FfnUp:
      return "ffn_up";
    case Site::FfnDown:
      return "ffn_down";
  }
  return "?";
}

Linear* linear_at(LayerWeights& w, Site site) {
  Linear* l = nullptr;
  switch (site) {
    case Site::AttnQ:
      l = &w.q;
      break;
    case Site::AttnK:
      l = &w.k;
      break;
    case Site::AttnV:
      l = &w.v;
      break;
    case Site::AttnQKV:
      l = &w.qkv;
      break;
    case Site::AttnO:
      l = &w.o;
      break;
    case Site::FfnGate:
      l = &w.gate;
      break;
    case Site::FfnUp:
      l = &w.up;
      break;
    case Site::FfnDown:
      l = &w.down;
      break;
  }
  return l && l->w.data ? l : nullptr;
}

const Linear* linear_at(const LayerWeights& w, Site site) { return linear_at(const_cast<LayerWeights&>(w), site); }

std::string module_path(const Model& m, Site site, int64_t layer) {
  const TensorNames& n = m.names;
  const std::string* pattern = nullptr;
  switch (site) {
    case Site::AttnQ:
      pattern = &n.q_w;
      break;
    case Site::AttnK:
      pattern = &n.k_w;
      break;
    case Site::AttnV:
      pattern = &n.v_w;
      break;
    case Site::AttnQKV:
      pattern = &n.qkv_w;
      break;
    case Site::AttnO:
      pattern = &n.o_w;
      break;
    case Site::FfnGate:
      pattern = &n.gate_w;
      break;
    case Site::FfnUp:
      pattern = &n.up_w;
      break;
    case Site::FfnDown:
      pattern = &n.down_w;
      break;
  }
  if (!pattern || pattern->empty()) return {};
  std::string path = layer_name(*pattern, layer);
  const std::string suffix = ".weight";
  if (path.size() > suffix.size() && path.ends_with(suffix)) path.resize(path.size() - suffix.size());
  return path;
}

}  // namespace peft
