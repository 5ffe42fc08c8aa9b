// Core: Status/Result, tensor views, arena, RNG, dtype conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/arena.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/tensor.h"

namespace peft {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::errorf("value must be positive, found {}", v);
  return v;
}
Status use_it(int v, int& out) {
  PEFT_ASSIGN_OR_RETURN(out, parse_positive(v));
  return Status::ok();
}

TEST(Status, ResultCarriesValueOrError) {
  int out = 0;
  EXPECT_TRUE(use_it(3, out).is_ok());
  EXPECT_EQ(out, 3);
  Status s = use_it(-1, out);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "value must be positive, found -1");
  EXPECT_EQ(s.with_context("cfg.json").message(), "cfg.json: value must be positive, found -1");
}

TEST(Tensor, ShapesStridesAndViews) {
  std::vector<float> data(24);
  for (int i = 0; i < 24; ++i) data[size_t(i)] = float(i);
  Tensor t(data.data(), DType::F32, {2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.stride[0], 12);
  EXPECT_EQ(t.stride[2], 1);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.shape_str(), "[2, 3, 4]");
  Tensor row = t[1];
  EXPECT_EQ(row.ndim, 2);
  EXPECT_EQ(row.f32()[0], 12.f);
  Tensor s = t.slice0(1, 2);
  EXPECT_EQ(s.dim(0), 1);
  EXPECT_EQ(s.f32()[5], 17.f);
  Tensor r = t.reshape({6, 4});
  EXPECT_EQ(r.dim(0), 6);
  Tensor scalar(data.data(), DType::F32, std::vector<int64_t>{});
  EXPECT_EQ(scalar.numel(), 1);
}

TEST(Tensor, OwnedIsAlignedAndZeroed) {
  OwnedTensor t(DType::BF16, {3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.view().data) % 64, 0u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(t.view().u16()[i], 0);
}

TEST(Arena, CarvesAlignedZeroedTensorsAndResets) {
  Arena arena(4096);
  Tensor a = arena.alloc_f32({3, 7});
  Tensor b = arena.alloc(DType::I32, {5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data) % 64, 0u);
  EXPECT_NE(a.data, b.data);
  EXPECT_EQ(arena.used(), Arena::bytes_for(DType::F32, {3, 7}) + Arena::bytes_for(DType::I32, {5}));
  arena.reset();
  EXPECT_EQ(arena.alloc_f32({1}).data, a.data);
}

TEST(Arena, OverflowIsABug) {
  Arena arena(64);
  EXPECT_DEATH(arena.alloc_f32({1000}), "arena overflow");
}

TEST(Rng, SeededAndReproducible) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(a.next_u64(), c.next_u64());
  Rng s(7);
  auto saved = s.state();
  uint64_t x = s.next_u64();
  s.set_state(saved);
  EXPECT_EQ(s.next_u64(), x);
  Rng u(1);
  double mean = 0;
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    float f = u.uniform();
    ASSERT_GE(f, 0.f);
    ASSERT_LT(f, 1.f);
    mean += f;
    seen.insert(u.below(10));
  }
  EXPECT_NEAR(mean / 10000, 0.5, 0.02);
  EXPECT_EQ(seen.size(), 10u);
}

TEST(DType, Bf16AndF16Conversions) {
  const float values[] = {0.f, 1.f, -2.5f, 3.14159f, 65504.f, 1e-3f, -1e-6f};
  for (float v : values) {
    EXPECT_NEAR(bf16_to_f32(f32_to_bf16(v)), v, std::fabs(v) * 4e-3 + 1e-30);
    EXPECT_NEAR(f16_to_f32(f32_to_f16(v)), v, std::fabs(v) * 1e-3 + 6e-8);
  }
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.f);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  // Round to nearest even: 1 + 2^-8 is halfway between two bf16 values.
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);
  EXPECT_EQ(*dtype_from_name("BF16"), DType::BF16);
  EXPECT_FALSE(dtype_from_name("F64").has_value());
}

}  // namespace
}  // namespace peft
