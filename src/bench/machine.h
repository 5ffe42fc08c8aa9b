// Machine limits for benchmarks: measured matmul peak, memory read bandwidth, peak RSS.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace peft::bench {

// GFLOP/s of linear_forward (oneDNN) on a representative shape: x (1024, 768) · Wᵀ with
// W (3072, 768) in `weights` (F32 or BF16) — GPT-2's MLP up-projection at 4 × 256 tokens.
// Best of a few repetitions after a warm-up, on the current thread count.
double matmul_peak_gflops(DType weights);

// GB/s of a multi-threaded sequential read of a 256 MiB buffer (best of a few passes).
double read_bandwidth_gbs();

// Peak resident set size of this process so far (getrusage ru_maxrss), MB (10⁶ bytes).
double peak_rss_mb();

}  // namespace peft::bench
