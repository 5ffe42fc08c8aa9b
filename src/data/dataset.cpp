// Data file parsing: layout detection, per-record field checks with file/record/line in messages.
#include "data/dataset.h"

#include <cctype>

#include "data/glue_e2e.h"
#include "data/segments.h"
#include "data/webnlg_dart.h"
#include "io/json_array_split.h"
#include "io/json_file.h"
#include "io/mapped_file.h"

namespace peft {

Result<DataFormat> parse_data_format(std::string_view name) {
  if (name == "auto") return DataFormat::Auto;
  if (name == "alpaca" || name == "json") return DataFormat::AlpacaJson;
  if (name == "alpaca-jsonl" || name == "jsonl") return DataFormat::AlpacaJsonl;
  if (name == "text") return DataFormat::TextJsonl;
  if (name == "glue") return DataFormat::Glue;
  if (name == "e2e") return DataFormat::E2e;
  if (name == "webnlg") return DataFormat::Webnlg;
  if (name == "dart") return DataFormat::Dart;
  if (name == "chat") return DataFormat::Chat;
  return Status::errorf(
      "data format '{}' unknown: expected auto, alpaca, alpaca-jsonl, text, glue, e2e, webnlg, dart or chat", name);
}

const char* data_format_name(DataFormat format) {
  switch (format) {
    case DataFormat::Auto:
      return "auto";
    case DataFormat::AlpacaJson:
      return "alpaca";
    case DataFormat::AlpacaJsonl:
      return "alpaca-jsonl";
    case DataFormat::TextJsonl:
      return "text";
    case DataFormat::Glue:
      return "glue";
    case DataFormat::E2e:
      return "e2e";
    case DataFormat::Webnlg:
      return "webnlg";
    case DataFormat::Dart:
      return "dart";
    case DataFormat::Chat:
      return "chat";
  }
  return "?";
}

namespace {

enum class Want { Any, Instruction, Text, Chat };

// Within one JSONL line nlohmann always says "line 1"; only its column and reason matter.
std::string parse_error_reason(const Json::parse_error& e) {
  std::string s = json_error_text(e);
  size_t colon = s.find(": ");
  return colon == std::string::npos ? s : s.substr(colon + 2);
}

// OpenAI-style "messages" or ShareGPT "conversations" → a JSON array of {role, content, ...}.
Result<std::string> parse_chat_messages(const Json& obj, const std::string& where) {
  const bool sharegpt = !obj.contains("messages") && obj.contains("conversations");
  const char* key = sharegpt ? "conversations" : "messages";
  if (!obj.contains(key)) return Status::errorf("{}: expected a 'messages' list (chat data)", where);
  const Json& list = obj[key];
  if (!list.is_array() || list.empty())
    return Status::errorf("{}: '{}' must be a non-empty list of messages, found {}", where, key,
                          list.is_array() ? "an empty list" : list.type_name());
  Json out = Json::array();
  bool has_assistant = false;
  for (size_t k = 0; k < list.size(); ++k) {
    const std::string at = fmt::format("{}: message {}", where, k);
    const Json& m = list[k];
    if (!m.is_object()) return Status::errorf("{}: expected an object, found {}", at, m.type_name());
    Json msg = m;
    std::string role;
    if (sharegpt) {
      PEFT_ASSIGN_OR_RETURN(std::string from, json_get_string(m, "from", at));
      static const std::pair<const char*, const char*> roles[] = {
          {"human", "user"},          {"user", "user"},       {"gpt", "assistant"},
          {"assistant", "assistant"}, {"model", "assistant"}, {"system", "system"},
          {"tool", "tool"},           {"function", "tool"},   {"observation", "tool"}};
      for (auto [name, mapped] : roles)
        if (from == name) role = mapped;
      if (role.empty())
        return Status::errorf("{}: unknown 'from' '{}' (expected human, gpt, system or tool)", at, from);
      if (!m.contains("value") || !m["value"].is_string()) return Status::errorf("{}: 'value' must be a string", at);
      msg = Json{{"role", role}, {"content", m["value"]}};
    } else {
      PEFT_ASSIGN_OR_RETURN(role, json_get_string(m, "role", at));
      if (role != "system" && role != "user" && role != "assistant" && role != "tool")
        return Status::errorf("{}: unknown role '{}' (expected system, user, assistant or tool)", at, role);
      const bool tool_call = role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array();
      const bool ok = m.contains("content") && (m["content"].is_string() || (tool_call && m["content"].is_null()));
      if (!ok)
        return Status::errorf("{}: 'content' must be a string, found {}", at,
                              m.contains("content") ? m["content"].dump() : std::string("no content"));
    }
    has_assistant = has_assistant || role == "assistant";
    out.push_back(std::move(msg));
  }
  if (!has_assistant) return Status::errorf("{}: the conversation has no assistant turn to train on", where);
  return out.dump();
}

std::string key_list(const Json& obj) {
  std::string keys;
  for (auto it = obj.begin(); it != obj.end(); ++it) keys += (keys.empty() ? "'" : ", '") + it.key() + "'";
  return keys.empty() ? "none" : keys;
}

Result<Record> parse_record(const Json& obj, const std::string& where, Want want) {
  if (!obj.is_object()) return Status::errorf("{}: expected a JSON object, found {}", where, obj.type_name());
  Record r;
  r.where = where;
  if (want == Want::Chat || (want == Want::Any && (obj.contains("messages") || obj.contains("conversations")))) {
    r.kind = RecordKind::Chat;
    PEFT_ASSIGN_OR_RETURN(r.messages_json, parse_chat_messages(obj, where));
    return r;
  }
  bool text = want == Want::Text || (want == Want::Any && obj.contains("text"));
  if (text) {
    r.kind = RecordKind::Text;
    PEFT_ASSIGN_OR_RETURN(r.text, json_get_string(obj, "text", where));
    PEFT_TRY(parse_segments(obj, r, where));
    return r;
  }
  if (want == Want::Any && !obj.contains("instruction") && !obj.contains("output"))
    return Status::errorf(
        "{}: expected fields 'instruction' and 'output' (Alpaca), 'text' or 'messages' (chat), found keys {}", where,
        key_list(obj));
  r.kind = RecordKind::Instruction;
  PEFT_ASSIGN_OR_RETURN(r.instruction, json_get_string(obj, "instruction", where));
  // LLM-Adapters' files always carry "input" (often ""), Alpaca-style JSONL often omits it.
  PEFT_ASSIGN_OR_RETURN(r.input, json_get_string_or(obj, "input", "", where));
  PEFT_ASSIGN_OR_RETURN(r.output, json_get_string(obj, "output", where));
  PEFT_TRY(parse_segments(obj, r, where));
  return r;
}

// Element by element when the array splits cleanly (a whole-document tree of a few MB of
// records costs tens of MB); any syntax error is reported from a parse of the whole text.
Result<std::vector<Record>> parse_array(std::string_view content, const std::string& name, Want want) {
  PEFT_TRY(check_json_depth(content, name));
  std::optional<std::vector<std::string_view>> elements = split_json_array(content);
  Json doc;
  try {
    if (elements) {
      std::vector<Record> records;
      records.reserve(elements->size());
      for (size_t i = 0; i < elements->size(); ++i) {
        const Json obj = Json::parse((*elements)[i].begin(), (*elements)[i].end());
        PEFT_ASSIGN_OR_RETURN(Record r, parse_record(obj, fmt::format("{}: record {}", name, i), want));
        records.push_back(std::move(r));
      }
      return records;
    }
    doc = Json::parse(content.begin(), content.end());
  } catch (const Json::exception&) {
    try {  // the whole-text parse names the byte, line and column
      doc = Json::parse(content.begin(), content.end());
    } catch (const Json::parse_error& e) {
      return Status::errorf("{}: invalid JSON at byte {} {}", name, e.byte, json_parse_error_detail(e));
    } catch (const Json::exception& e) {
      return Status::errorf("{}: invalid JSON: {}", name, json_error_text(e));
    }
  }
  if (!doc.is_array()) return Status::errorf("{}: expected a JSON array of records, found {}", name, doc.type_name());
  std::vector<Record> records;
  records.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    PEFT_ASSIGN_OR_RETURN(Record r, parse_record(doc[i], fmt::format("{}: record {}", name, i), want));
    records.push_back(std::move(r));
  }
  return records;
}

Result<std::vector<Record>> parse_lines(std::string_view content, const std::string& name, Want want,
                                        bool auto_detected) {
  std::vector<Record> records;
  size_t pos = 0;
  for (int64_t line_no = 1; pos < content.size(); ++line_no) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    bool blank = true;
    for (char c : line) blank = blank && std::isspace(static_cast<unsigned char>(c));
    if (blank) continue;  // trailing newlines and spacer lines are common in hand-made files
    const std::string where = fmt::format("{}: line {}", name, line_no);
    PEFT_TRY(check_json_depth(line, where));
    Json obj;
    try {
      obj = Json::parse(line.begin(), line.end());
    } catch (const Json::parse_error& e) {
      // A pretty-printed single object fails on its first line; say what layout was assumed.
      const char* hint = auto_detected && records.empty() ? " (read as JSON Lines: one object per line)" : "";
      return Status::errorf("{}: invalid JSON at column {}: {}{}", where, e.byte, parse_error_reason(e), hint);
    } catch (const Json::exception& e) {
      return Status::errorf("{}: invalid JSON: {}", where, json_error_text(e));
    }
    PEFT_ASSIGN_OR_RETURN(Record r, parse_record(obj, where, want));
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace

Result<std::vector<Record>> parse_dataset(std::string_view content, const std::string& name, DataFormat format) {
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // UTF-8 byte order mark
  size_t first = 0;
  while (first < content.size() && std::isspace(static_cast<unsigned char>(content[first]))) ++first;
  if (first == content.size()) return Status::errorf("{}: no records (the file is empty)", name);

  Result<std::vector<Record>> records = Status::error("unset");
  switch (format) {
    case DataFormat::Auto:
      records = content[first] == '[' ? parse_array(content, name, Want::Any)
                                      : parse_lines(content, name, Want::Any, /*auto_detected=*/true);
      break;
    case DataFormat::AlpacaJson:
      records = parse_array(content, name, Want::Instruction);
      break;
    case DataFormat::AlpacaJsonl:
      records = parse_lines(content, name, Want::Instruction, false);
      break;
    case DataFormat::TextJsonl:
      records = parse_lines(content, name, Want::Text, false);
      break;
    case DataFormat::Glue:
      records = parse_glue_records(content, name);
      break;
    case DataFormat::E2e:
      records = parse_e2e_records(content, name);
      break;
    case DataFormat::Webnlg:
    case DataFormat::Dart: {
      auto f = format == DataFormat::Webnlg ? parse_webnlg_json(content, name) : parse_dart_json(content, name);
      if (!f.is_ok()) return f.status();
      records = verbal_records(*f, name);
      break;
    }
    case DataFormat::Chat:
      records = content[first] == '[' ? parse_array(content, name, Want::Chat)
                                      : parse_lines(content, name, Want::Chat, false);
      break;
  }
  if (!records.is_ok()) return records.status();
  if (records->empty()) return Status::errorf("{}: no records", name);
  return records;
}

Result<std::vector<Record>> load_dataset(const std::string& path, DataFormat format) {
  PEFT_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  std::string_view content(reinterpret_cast<const char*>(file->data()), file->size());
  return parse_dataset(content, path, format);
}

}  // namespace peft
