// The role table: llama.cpp names (llm_tensor names in llama-arch.cpp) ↔ Hugging Face names.
#include "model/gguf_names.h"

#include <cstring>

#include <fmt/format.h>

#include "io/gguf_writer.h"

namespace peft {

namespace {

const LayerWeights& L(const Model& m, int64_t l) { return m.layers[size_t(l)]; }

// Roles whose rows llama.cpp's converter may reorder.
enum class RowRole { None, Q, K, Qkv };

struct RoleRow {
  GgufRole role;
  RowRole rows;
  Site site;  // for projection weights
};

const std::vector<RoleRow>& table() {
  using T = TensorNames;
  static const std::vector<RoleRow> rows = {
      {{"token_embd.weight", &T::tok_embd, false, [](const Model& m, int64_t) { return m.tok_embd; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"position_embd.weight", &T::pos_embd, false, [](const Model& m, int64_t) { return m.pos_embd; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"token_embd_norm.weight", &T::embd_norm_w, false, [](const Model& m, int64_t) { return m.embd_norm.w; }, false,
        true},
       RowRole::None,
       Site::AttnQ},
      {{"token_embd_norm.bias", &T::embd_norm_b, false, [](const Model& m, int64_t) { return m.embd_norm.b; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"output_norm.weight", &T::out_norm_w, false, [](const Model& m, int64_t) { return m.out_norm.w; }, false, true},
       RowRole::None,
       Site::AttnQ},
      {{"output_norm.bias", &T::out_norm_b, false, [](const Model& m, int64_t) { return m.out_norm.b; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"output.weight", &T::lm_head_w, false,
        [](const Model& m, int64_t) { return m.config.block.tied_embeddings ? Tensor{} : m.lm_head.w; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"output.bias", &T::lm_head_b, false, [](const Model& m, int64_t) { return m.lm_head.b; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"attn_norm.weight", &T::attn_norm_w, true, [](const Model& m, int64_t l) { return L(m, l).attn_norm.w; }, false,
        true},
       RowRole::None,
       Site::AttnQ},
      {{"attn_norm.bias", &T::attn_norm_b, true, [](const Model& m, int64_t l) { return L(m, l).attn_norm.b; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"attn_q_norm.weight", &T::q_norm_w, true, [](const Model& m, int64_t l) { return L(m, l).q_norm.w; }, false,
        true},
       RowRole::None,
       Site::AttnQ},
      {{"attn_k_norm.weight", &T::k_norm_w, true, [](const Model& m, int64_t l) { return L(m, l).k_norm.w; }, false,
        true},
       RowRole::None,
       Site::AttnK},
      {{"attn_q.weight", &T::q_w, true, [](const Model& m, int64_t l) { return L(m, l).q.w; }, true},
       RowRole::Q,
       Site::AttnQ},
      {{"attn_q.bias", &T::q_b, true, [](const Model& m, int64_t l) { return L(m, l).q.b; }, false},
       RowRole::Q,
       Site::AttnQ},
      {{"attn_k.weight", &T::k_w, true, [](const Model& m, int64_t l) { return L(m, l).k.w; }, true},
       RowRole::K,
       Site::AttnK},
      {{"attn_k.bias", &T::k_b, true, [](const Model& m, int64_t l) { return L(m, l).k.b; }, false},
       RowRole::K,
       Site::AttnK},
      {{"attn_v.weight", &T::v_w, true, [](const Model& m, int64_t l) { return L(m, l).v.w; }, true},
       RowRole::None,
       Site::AttnV},
      {{"attn_v.bias", &T::v_b, true, [](const Model& m, int64_t l) { return L(m, l).v.b; }, false},
       RowRole::None,
       Site::AttnV},
      {{"attn_qkv.weight", &T::qkv_w, true, [](const Model& m, int64_t l) { return L(m, l).qkv.w; }, true},
       RowRole::Qkv,
       Site::AttnQKV},
      {{"attn_qkv.bias", &T::qkv_b, true, [](const Model& m, int64_t l) { return L(m, l).qkv.b; }, false},
       RowRole::Qkv,
       Site::AttnQKV},
      {{"attn_output.weight", &T::o_w, true, [](const Model& m, int64_t l) { return L(m, l).o.w; }, true},
       RowRole::None,
       Site::AttnO},
      {{"attn_output.bias", &T::o_b, true, [](const Model& m, int64_t l) { return L(m, l).o.b; }, false},
       RowRole::None,
       Site::AttnO},
      {{"ffn_norm.weight", &T::ffn_norm_w, true, [](const Model& m, int64_t l) { return L(m, l).ffn_norm.w; }, false,
        true},
       RowRole::None,
       Site::AttnQ},
      {{"ffn_norm.bias", &T::ffn_norm_b, true, [](const Model& m, int64_t l) { return L(m, l).ffn_norm.b; }, false},
       RowRole::None,
       Site::AttnQ},
      {{"post_attention_norm.weight", &T::attn_out_norm_w, true,
        [](const Model& m, int64_t l) { return L(m, l).attn_out_norm.w; }, false, true},
       RowRole::None,
       Site::AttnQ},
      {{"post_ffw_norm.weight", &T::ffn_out_norm_w, true,
        [](const Model& m, int64_t l) { return L(m, l).ffn_out_norm.w; }, false, true},
       RowRole::None,
       Site::AttnQ},
      {{"ffn_gate.weight", &T::gate_w, true, [](const Model& m, int64_t l) { return L(m, l).gate.w; }, true},
       RowRole::None,
       Site::FfnGate},
      {{"ffn_gate.bias", &T::gate_b, true, [](const Model& m, int64_t l) { return L(m, l).gate.b; }, false},
       RowRole::None,
       Site::FfnGate},
      {{"ffn_up.weight", &T::up_w, true, [](const Model& m, int64_t l) { return L(m, l).up.w; }, true},
       RowRole::None,
       Site::FfnUp},
      {{"ffn_up.bias", &T::up_b, true, [](const Model& m, int64_t l) { return L(m, l).up.b; }, false},
       RowRole::None,
       Site::FfnUp},
      {{"ffn_down.weight", &T::down_w, true, [](const Model& m, int64_t l) { return L(m, l).down.w; }, true},
       RowRole::None,
       Site::FfnDown},
      {{"ffn_down.bias", &T::down_b, true, [](const Model& m, int64_t l) { return L(m, l).down.b; }, false},
       RowRole::None,
       Site::FfnDown},
  };
  return rows;
}

}  // namespace

const std::vector<GgufRole>& gguf_roles() {
  static const std::vector<GgufRole> roles = [] {
    std::vector<GgufRole> v;
    for (const RoleRow& r : table()) v.push_back(r.role);
    return v;
  }();
  return roles;
}

std::string gguf_tensor_name(const GgufRole& role, int64_t layer) {
  return role.per_layer ? fmt::format("blk.{}.{}", layer, role.gguf) : std::string(role.gguf);
}

GgufRowFix gguf_row_fix(const GgufArchDef& arch, const GgufRole& role, const ModelConfig& c) {
  RowRole rr = RowRole::None;
  for (const RoleRow& r : table())
    if (std::strcmp(r.role.gguf, role.gguf) == 0) rr = r.rows;
  if (arch.rotary_interleaved_qk && rr == RowRole::Q) return {GgufRows::Interleave, c.n_head};
  if (arch.rotary_interleaved_qk && rr == RowRole::K) return {GgufRows::Interleave, c.n_head_kv};
  if (arch.qkv_blocked && rr == RowRole::Qkv && c.block.qkv == QkvLayout::PerHead)
    return {GgufRows::QkvBlocked, c.n_head};
  return {};
}

Status reorder_rows(const GgufRowFix& fix, bool to_gguf, void* dst, const void* src, int64_t rows, size_t row_bytes,
                    const std::string& what) {
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  if (fix.rows == GgufRows::Same) {
    std::memcpy(d, s, size_t(rows) * row_bytes);
    return Status::ok();
  }
  const int64_t split = fix.rows == GgufRows::Interleave ? 2 * fix.heads : 3 * fix.heads;
  if (fix.heads <= 0 || rows % split != 0)
    return Status::errorf("{}: {} rows do not split into {} heads{}", what, rows, fix.heads,
                          fix.rows == GgufRows::Interleave ? " of rotary pairs" : " of q, k and v");
  auto copy = [&](int64_t hf_row, int64_t gguf_row) {
    if (to_gguf)
      std::memcpy(d + size_t(gguf_row) * row_bytes, s + size_t(hf_row) * row_bytes, row_bytes);
    else
      std::memcpy(d + size_t(hf_row) * row_bytes, s + size_t(gguf_row) * row_bytes, row_bytes);
  };
  if (fix.rows == GgufRows::Interleave) {
    const int64_t hd = rows / fix.heads, half = hd / 2;
    for (int64_t h = 0; h < fix.heads; ++h)
      for (int64_t sel = 0; sel < 2; ++sel)
        for (int64_t i = 0; i < half; ++i) copy(h * hd + sel * half + i, h * hd + 2 * i + sel);
    return Status::ok();
  }
  const int64_t hd = rows / (3 * fix.heads);  // rows = H · 3 · hd
  for (int64_t h = 0; h < fix.heads; ++h)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t i = 0; i < hd; ++i) copy((h * 3 + j) * hd + i, (j * fix.heads + h) * hd + i);
  return Status::ok();
}

std::optional<GgufLinear> gguf_linear_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return std::nullopt;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4) return std::nullopt;
  const std::string layer = name.substr(4, dot - 4), rest = name.substr(dot + 1);
  if (layer.find_first_not_of("0123456789") != std::string::npos || layer.size() > 9) return std::nullopt;
  for (const RoleRow& r : table())
    if (r.role.per_layer && r.role.linear_weight && rest == r.role.gguf) return GgufLinear{r.site, std::stoll(layer)};
  return std::nullopt;
}

std::string gguf_linear_name(Site site, int64_t layer) { return gguf_tensor_name(gguf_role_of(site), layer); }

const GgufRole& gguf_role_of(Site site) {
  const auto& roles = gguf_roles();
  const auto& rows = table();
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].role.linear_weight && rows[i].site == site) return roles[i];
  PEFT_CHECK(false, "gguf_role_of: no role for site {}", site_name(site));
  return roles[0];
}

void write_gguf_common_hparams(GgufWriter& w, const std::string& arch, const ModelConfig& c) {
  const std::string p = arch + ".";
  w.set_u32(p + "context_length", uint32_t(c.n_ctx));
  w.set_u32(p + "embedding_length", uint32_t(c.n_embd));
  w.set_u32(p + "block_count", uint32_t(c.n_layer));
  w.set_u32(p + "feed_forward_length", uint32_t(c.n_ff));
  w.set_u32(p + "attention.head_count", uint32_t(c.n_head));
}

}  // namespace peft
