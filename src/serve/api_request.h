// The OpenAI-compatible request bodies `peft serve` takes (/v1/completions and
// /v1/chat/completions, with vLLM's and llama-server's additions), parsed and checked before
// anything runs. Errors carry the HTTP status and the field, as OpenAI's error object does.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/json_file.h"

namespace peft::serve {

// A refused request: HTTP status, message, the offending field (or empty), OpenAI's code.
struct ApiError {
  int status = 400;
  std::string message;
  std::string param;
  std::string code;
  // {"error": {"message", "type", "param", "code"}} as the OpenAI API writes it.
  Json body() const;
};

// One LoRA of llama-server's per-request "lora": [{"id": i, "scale": s}].
struct LoraChoice {
  int64_t id = 0;
  double scale = 1.0;
};

struct GenerationParams {
  bool chat = false;
  std::string model;  // empty: the base model
  // Completions: the prompt text, or its token ids. Chat: the messages, rendered later.
  std::string prompt;
  std::vector<int32_t> prompt_ids;
  bool prompt_is_ids = false;
  nlohmann::ordered_json messages;
  int64_t max_tokens = 16;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // Completions: logprobs = N (0..20) alternatives per token; chat: logprobs = true with
  // top_logprobs = N. Absent: none.
  std::optional<int64_t> logprobs;
  std::vector<LoraChoice> lora;
};

// Limits the server enforces while parsing.
struct ParseLimits {
  int64_t max_tokens = 4096;  // the largest max_tokens accepted
};

// body: the request's raw text. Every field OpenAI defines that would change the output and
// is not supported here (n > 1, best_of, penalties, logit_bias, echo, suffix, tools, ...)
// is refused by name; fields that do not (user, metadata) are accepted and ignored.
std::variant<GenerationParams, ApiError> parse_generation_request(const std::string& body, bool chat,
                                                                  const ParseLimits& limits);

// {"lora_name", "lora_path"} of vLLM's /v1/load_lora_adapter (path empty for unload).
struct LoraAdapterRequest {
  std::string name, path;
};
std::variant<LoraAdapterRequest, ApiError> parse_lora_adapter_request(const std::string& body, bool load);

}  // namespace peft::serve
