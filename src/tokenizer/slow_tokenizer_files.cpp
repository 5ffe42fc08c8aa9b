// Special-token and added-token files as transformers 4.31's slow tokenizers read them.
#include "tokenizer/slow_tokenizer_files.h"

#include <fmt/format.h>

#include <algorithm>

namespace peft {
namespace {

// A token field: "[CLS]", {"content": "[CLS]", ...} (an AddedToken), or null (none).
Result<std::string> token_value(const Json& v, const std::string& what) {
  if (v.is_null()) return std::string();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return Status::errorf("{} must be a string, {{\"content\": ...}} or null", what);
}

}  // namespace

std::vector<std::string> SpecialTokenNames::all() const {
  std::vector<std::string> out;
  for (const std::string* t : {&bos, &eos, &unk, &sep, &pad, &cls, &mask})
    if (!t->empty()) out.push_back(*t);
  out.insert(out.end(), additional.begin(), additional.end());
  std::vector<std::string> unique;
  for (std::string& t : out)
    if (!t.empty() && std::find(unique.begin(), unique.end(), t) == unique.end()) unique.push_back(std::move(t));
  return unique;
}

Status read_special_tokens(const Json& config, const std::string& where, SpecialTokenNames& s) {
  const std::pair<const char*, std::string*> fields[] = {
      {"bos_token", &s.bos}, {"eos_token", &s.eos}, {"unk_token", &s.unk},  {"sep_token", &s.sep},
      {"pad_token", &s.pad}, {"cls_token", &s.cls}, {"mask_token", &s.mask}};
  for (auto [key, value] : fields) {
    auto it = config.find(key);
    if (it == config.end()) continue;
    PEFT_ASSIGN_OR_RETURN(*value, token_value(*it, fmt::format("{}: field '{}'", where, key)));
  }
  auto it = config.find("additional_special_tokens");
  if (it != config.end() && !it->is_null()) {
    if (!it->is_array()) return Status::errorf("{}: field 'additional_special_tokens' must be an array", where);
    s.additional.clear();
    for (const Json& t : *it) {
      PEFT_ASSIGN_OR_RETURN(std::string content,
                            token_value(t, fmt::format("{}: an additional_special_tokens entry", where)));
      s.additional.push_back(std::move(content));
    }
  }
  return Status::ok();
}

Result<Json> read_json_if_present(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Json();
  PEFT_ASSIGN_OR_RETURN(Json j, read_json_file(path.string()));
  if (!j.is_object()) return Status::errorf("{}: expected a JSON object", path.string());
  return j;
}

Result<std::vector<std::pair<int64_t, std::string>>> added_tokens_by_id(const Json& added, const std::string& where) {
  std::vector<std::pair<int64_t, std::string>> entries;
  for (auto it = added.begin(); it != added.end(); ++it) {
    if (!it.value().is_number_integer()) return Status::errorf("{}: token '{}' needs an integer id", where, it.key());
    entries.emplace_back(it.value().get<int64_t>(), it.key());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

}  // namespace peft
