// Optional per-token inputs of a forward besides the ids: modality ids for input-centric
// adapters and embedding vectors a caller computed itself (another modality's encoder).
#pragma once
#include <cstdint>

namespace peft {

// All pointers are aligned with the forward's ids (B, T) and may be null; the forward
// reads them, never keeps them.
struct TokenInputs {
  // (B, T) modality id of every token: an input-centric adapter adapts it by id; null = all text (0).
  const int32_t* modality = nullptr;
  // (B, T, Ce) vectors taken as the token embedding wherever `use_embedding` (B, T) is
  // nonzero, instead of the embedding table's row of the id there (which must still be a
  // valid id, e.g. the pad; it is not read). Ce = ModelConfig::embd_in(). They go through
  // what table rows go through: the embedding hook (with that position's modality),
  // positions and the embedding norm. Both null = every position looks up its id.
  const float* embeddings = nullptr;
  const uint8_t* use_embedding = nullptr;
  // Encoders: (B, T) token-type (segment) ids, null = all 0; (B) real tokens per row, the
  // rest right padding that no query attends to, null = all T.
  const int32_t* token_types = nullptr;
  const int32_t* seq_lens = nullptr;
};

}  // namespace peft
