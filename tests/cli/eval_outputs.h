// Reading peft eval's outputs in tests: predictions.jsonl, and rescoring what it saved.
#pragma once
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

namespace peft::test {

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Writes the {"index", "output"} of `preds` to `saved` and runs `peft eval --task TASK
// --predictions saved --out OUT` on them (with the task's default data).
inline CliResult rescore(const std::string& task, const std::vector<nlohmann::json>& preds, const std::string& saved,
                         const std::string& out) {
  std::string lines;
  for (const auto& p : preds) lines += nlohmann::json{{"index", p["index"]}, {"output", p["output"]}}.dump() + "\n";
  std::ofstream(saved, std::ios::binary) << lines;
  return run_peft("eval --task " + task + " --predictions " + saved + " --out " + out);
}

}  // namespace peft::test
