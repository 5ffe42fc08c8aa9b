// WebNLG / DART JSON → data-to-text rows.
#include "data/webnlg_dart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/text.h"
#include "io/json_file.h"

namespace peft {
namespace {

Result<Json> parse_document(std::string_view content, const std::string& name) {
  try {
    return Json::parse(content);
  } catch (const Json::exception& e) {
    return Status::errorf("{}: not JSON ({})", name, json_error_text(e));
  }
}

Result<std::string> text_field(const Json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string())
    return Status::errorf("{}: field '{}' missing or not a string", where, key);
  return obj[key].get<std::string>();
}

// One row per reference of an input; empty references are skipped (they score nothing).
void add_rows(VerbalFile& f, const std::string& input, const std::vector<std::string>& refs, int64_t entry) {
  for (const std::string& ref : refs) {
    VerbalRow row;
    row.input = input;
    row.reference = std::string(strip_ws(ref));
    row.line = entry;
    if (!row.reference.empty()) f.rows.push_back(std::move(row));
  }
}

}  // namespace

Result<VerbalFile> parse_webnlg_json(std::string_view content, const std::string& name) {
  PEFT_ASSIGN_OR_RETURN(Json doc, parse_document(content, name));
  if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array())
    return Status::errorf("{}: expected WebNLG's {{\"entries\": [...]}}", name);
  VerbalFile f;
  f.task = find_verbal_task("webnlg");
  int64_t index = 0;
  for (const Json& wrapper : doc["entries"]) {
    ++index;
    // Each entry is {"<its 1-based number>": {...}}.
    const std::string where = fmt::format("{}: entry {}", name, index);
    if (!wrapper.is_object() || wrapper.size() != 1 || !wrapper.begin().value().is_object())
      return Status::errorf("{}: expected {{\"{}\": {{...}}}}", where, index);
    const Json& e = wrapper.begin().value();
    if (!e.contains("modifiedtripleset") || !e["modifiedtripleset"].is_array() || e["modifiedtripleset"].empty())
      return Status::errorf("{}: field 'modifiedtripleset' missing or empty", where);
    std::string input;
    for (const Json& t : e["modifiedtripleset"]) {
      PEFT_ASSIGN_OR_RETURN(std::string s, text_field(t, "subject", where + " triple"));
      PEFT_ASSIGN_OR_RETURN(std::string p, text_field(t, "property", where + " triple"));
      PEFT_ASSIGN_OR_RETURN(std::string o, text_field(t, "object", where + " triple"));
      input += (input.empty() ? "" : " | ") + s + " : " + p + " : " + o;
    }
    if (!e.contains("lexicalisations") || !e["lexicalisations"].is_array())
      return Status::errorf("{}: field 'lexicalisations' missing", where);
    std::vector<std::string> refs;
    for (const Json& lex : e["lexicalisations"]) {
      PEFT_ASSIGN_OR_RETURN(std::string text, text_field(lex, "lex", where + " lexicalisation"));
      if (lex.value("comment", std::string("good")) == "good") refs.push_back(std::move(text));
    }
    add_rows(f, input, refs, index);
  }
  if (f.rows.empty()) return Status::errorf("{}: no entries with a good lexicalisation", name);
  return f;
}

Result<VerbalFile> parse_dart_json(std::string_view content, const std::string& name) {
  PEFT_ASSIGN_OR_RETURN(Json doc, parse_document(content, name));
  if (!doc.is_array()) return Status::errorf("{}: expected DART's list of entries", name);
  VerbalFile f;
  f.task = find_verbal_task("dart");
  int64_t index = 0;
  for (const Json& e : doc) {
    ++index;
    const std::string where = fmt::format("{}: entry {}", name, index);
    if (!e.is_object() || !e.contains("tripleset") || !e["tripleset"].is_array() || e["tripleset"].empty())
      return Status::errorf("{}: field 'tripleset' missing or empty", where);
    std::string input;
    for (const Json& t : e["tripleset"]) {
      if (!t.is_array() || t.size() != 3 || !t[0].is_string() || !t[1].is_string() || !t[2].is_string())
        return Status::errorf("{}: a triple must be [subject, relation, object] strings, found {}", where,
                              t.dump().substr(0, 80));
      std::string rel = t[1].get<std::string>();
      std::transform(rel.begin(), rel.end(), rel.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      input += (input.empty() ? "" : " | ") + t[0].get<std::string>() + " : " + rel + " : " + t[2].get<std::string>();
    }
    if (!e.contains("annotations") || !e["annotations"].is_array())
      return Status::errorf("{}: field 'annotations' missing", where);
    std::vector<std::string> refs;
    for (const Json& a : e["annotations"]) {
      PEFT_ASSIGN_OR_RETURN(std::string text, text_field(a, "text", where + " annotation"));
      refs.push_back(std::move(text));
    }
    add_rows(f, input, refs, index);
  }
  if (f.rows.empty()) return Status::errorf("{}: no entries with an annotation", name);
  return f;
}

}  // namespace peft
