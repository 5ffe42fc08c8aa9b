// Seeded, reproducible random numbers (splitmix64 seeding + xoshiro256**), state is serialisable.
#pragma once
#include <array>
#include <cstdint>

namespace peft {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_with(seed); }
  void seed_with(uint64_t seed);
  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits.
  float uniform();
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n);
  float normal();  // Box-Muller, standard normal
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace peft
