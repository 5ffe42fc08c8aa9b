// Prefix tuning through PEFT's reparameterisation MLP: gradients by finite differences, and the
// saved adapter (the folded table, as PEFT saves it) gives the same outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/cli_runner.h"
#include "model/decoder.h"
#include "model/model.h"

namespace peft {
namespace {

TEST(PrefixProjection, GradientsMatchFiniteDifferencesAndTheFoldedSaveServesTheSame) {
  for (const std::string arch : {"llama", "bloom"}) {
    auto model = load_model(test::fixture_path(arch + "/model"));
    ASSERT_TRUE(model.is_ok());
    const MethodDef* def = find_method("prefix");
    auto made = def->create(
        **model, Json{{"num_virtual_tokens", 3}, {"prefix_projection", true}, {"encoder_hidden_size", 8}}, "cfg", 5);
    ASSERT_TRUE(made.is_ok()) << made.status().message();
    Adapter& a = **made;
    ASSERT_EQ(a.params().count(), 5u) << "embedding + two linear layers";
    const int64_t B = 2, T = 6, V = (*model)->config.n_vocab;
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < B * T; ++i) ids.push_back(int32_t((i * 29 + 3) % V));
    Decoder dec(**model, B, T, &a);
    a.params().zero_grads();
    dec.forward(ids.data(), ids.data(), B, T, true);
    dec.backward();
    ParamStore& ps = a.params();
    std::vector<float> dir(ps.grads(), ps.grads() + ps.numel());
    float peak = 0.f;
    for (float g : dir) peak = std::max(peak, std::fabs(g));
    ASSERT_GT(peak, 0.f);
    double analytic = 0;
    for (float& g : dir) {
      analytic += double(g) * double(g) / double(peak);
      g /= peak;
    }
    auto loss_at = [&](float h) {
      for (int64_t i = 0; i < ps.numel(); ++i) ps.values()[i] += h * dir[size_t(i)];
      const double l = dec.forward(ids.data(), ids.data(), B, T);
      for (int64_t i = 0; i < ps.numel(); ++i) ps.values()[i] -= h * dir[size_t(i)];
      return l;
    };
    const float h = float(std::min(1e-3, 3e-3 / analytic));
    const double numeric = (loss_at(h) - loss_at(-h)) / (2.0 * double(h));
    EXPECT_NEAR(analytic, numeric, 2e-2 * std::fabs(numeric) + 1e-5) << arch;

    // Saved folded (prompt_embeddings, inference_mode), loaded back as a plain table.
    std::vector<float> before(size_t(B * dec.seq_len() * V)), after(before.size());
    dec.forward(ids.data(), nullptr, B, T);
    dec.logits(before.data());
    test::TempDir dir_out;
    ASSERT_TRUE(save_adapter(a, dir_out / "a", "base").is_ok());
    auto loaded = load_adapter(**model, dir_out / "a");
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
    ASSERT_EQ((*loaded)->params().count(), 1u) << "the folded table";
    Decoder plain(**model, B, T, loaded->get());
    plain.forward(ids.data(), nullptr, B, T);
    plain.logits(after.data());
    EXPECT_LE(test::max_abs_diff(before.data(), after.data(), int64_t(before.size())), 1e-5) << arch;
  }
}

}  // namespace
}  // namespace peft
