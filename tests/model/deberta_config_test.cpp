// DeBERTa-v2's config: the keys that shape its disentangled attention are read (both spellings of
// pos_att_type, the defaults of DebertaV2Config), and the variants this engine does not build are
// refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "model/arch.h"
#include "model/encoder_batch.h"
#include "model/math_keys.h"
#include "test_paths.h"

namespace peft {
namespace {

Json fixture_config() { return *read_json_file(test::encoder_dir("deberta_v2_seqcls") + "/model/config.json"); }

Result<ModelConfig> parse_edited(const std::function<void(Json&)>& edit) {
  Json j = fixture_config();
  edit(j);
  return parse_model_config(*find_arch("deberta-v2"), j, "config.json");
}

TEST(DebertaConfig, ReadsTheDisentangledAttention) {
  auto c = parse_edited([](Json&) {});
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_TRUE(c->rel.on && c->rel.c2p && c->rel.p2c && c->rel.norm);
  EXPECT_EQ(c->rel.span, 16);          // position_buckets
  EXPECT_EQ(c->rel.max_position, 64);  // max_relative_positions -1 → max_position_embeddings
  EXPECT_EQ(c->rel.rows(), 32);
  EXPECT_EQ(c->block.position, PositionKind::None);
  EXPECT_FLOAT_EQ(c->attn_scale, 1.f / std::sqrt(8.f * 3.f));  // √(hd · (1 + c2p + p2c))
  EXPECT_TRUE(c->pad_rows_zero);
  EXPECT_FALSE(c->kv_prefix);

  // The "p2c|c2p" string older configs hold; one term only; relative attention off keeps the
  // scale's count (DisentangledSelfAttention counts pos_att_type whatever relative_attention says).
  auto str = parse_edited([](Json& j) { j["pos_att_type"] = "C2P | p2c"; });
  ASSERT_TRUE(str.is_ok());
  EXPECT_TRUE(str->rel.c2p && str->rel.p2c);
  auto one = parse_edited([](Json& j) { j["pos_att_type"] = Json::array({"c2p"}); });
  EXPECT_TRUE(one->rel.c2p && !one->rel.p2c);
  EXPECT_FLOAT_EQ(one->attn_scale, 1.f / std::sqrt(16.f));
  auto off = parse_edited([](Json& j) { j["relative_attention"] = false; });
  EXPECT_EQ(off->rel.rows(), 0);
  EXPECT_FLOAT_EQ(off->attn_scale, 1.f / std::sqrt(24.f));
  // No buckets: distances up to max_relative_positions, 2·that rows.
  auto plain = parse_edited([](Json& j) {
    j.erase("position_buckets");
    j["max_relative_positions"] = 10;
  });
  EXPECT_EQ(plain->rel.span, 10);
  EXPECT_EQ(plain->rel.buckets, 0);
  // DebertaV2Config's default position_biased_input is true: absolute positions then.
  auto absolute = parse_edited([](Json& j) { j.erase("position_biased_input"); });
  EXPECT_EQ(absolute->block.position, PositionKind::Learned);
  auto head = parse_edited([](Json& j) { j["attention_head_size"] = 4; });
  EXPECT_EQ(head->head_dim, 4);
}

struct Refusal {
  const char* name;
  std::function<void(Json&)> edit;
  const char* message;
};

class DebertaRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(DebertaRefusal, NamesTheKey) {
  auto c = parse_edited(GetParam().edit);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find(GetParam().message), std::string::npos) << c.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Keys, DebertaRefusal,
    ::testing::Values(Refusal{"conv", [](Json& j) { j["conv_kernel_size"] = 3; }, "conv_kernel_size 3"},
                      Refusal{"unshared_keys", [](Json& j) { j["share_att_key"] = false; }, "share_att_key false"},
                      Refusal{"p2p", [](Json& j) { j["pos_att_type"] = "p2c|p2p"; }, "pos_att_type 'p2p'"},
                      Refusal{"norm", [](Json& j) { j["norm_rel_ebd"] = "batch_norm"; }, "norm_rel_ebd 'batch_norm'"},
                      Refusal{"embed_proj", [](Json& j) { j["embedding_size"] = 16; }, "embedding_size 16"},
                      Refusal{"pooler", [](Json& j) { j["pooler_hidden_size"] = 16; }, "pooler_hidden_size 16"},
                      Refusal{"pooler_act", [](Json& j) { j["pooler_hidden_act"] = "swoosh"; },
                              "pooler_hidden_act 'swoosh'"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace peft
