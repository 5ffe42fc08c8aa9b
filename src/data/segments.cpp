// Segment parsing and validation: every bad entry is an error naming the record and entry.
#include "data/segments.h"

#include <algorithm>
#include <tuple>

namespace peft {

namespace {

constexpr std::string_view kInstructionFields[] = {"instruction", "input", "output"};

bool is_instruction_field(std::string_view f) {
  return std::find(std::begin(kInstructionFields), std::end(kInstructionFields), f) != std::end(kInstructionFields);
}

std::string join(std::span<const std::string> names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

Result<Segment> parse_one(const Json& e, const Record& r, const std::string& where) {
  if (!e.is_object())
    return Status::errorf("{}: expected an object like {{\"modality\": \"code\", \"field\": \"input\"}}, found {}",
                          where, e.type_name());
  for (auto it = e.begin(); it != e.end(); ++it)
    if (it.key() != "modality" && it.key() != "field" && it.key() != "start" && it.key() != "end")
      return Status::errorf("{}: unknown key '{}' (expected modality, field, start, end)", where, it.key());
  Segment s;
  PEFT_ASSIGN_OR_RETURN(s.modality, json_get_string(e, "modality", where));
  if (s.modality.empty()) return Status::errorf("{}: field 'modality' must be a non-empty name", where);
  const bool text = r.kind == RecordKind::Text;
  // An instruction record's segment named after a field marks that field, the common case.
  const std::string fallback = text ? "text" : is_instruction_field(s.modality) ? s.modality : "";
  PEFT_ASSIGN_OR_RETURN(s.field, json_get_string_or(e, "field", fallback, where));
  if (s.field.empty())
    return Status::errorf("{}: field 'field' missing (instruction, input or output: which field '{}' marks)", where,
                          s.modality);
  if (text ? s.field != "text" : !is_instruction_field(s.field))
    return Status::errorf("{}: field '{}' is unknown for {} record (expected {})", where, s.field,
                          text ? "a text" : "an instruction", text ? "text" : "instruction, input or output");
  const int64_t length = code_points(segment_field_text(r, s.field));
  PEFT_ASSIGN_OR_RETURN(s.start, json_get_int_or(e, "start", 0, where));
  PEFT_ASSIGN_OR_RETURN(s.end, json_get_int_or(e, "end", length, where));
  if (s.start < 0) return Status::errorf("{}: start {} is negative", where, s.start);
  if (s.start > s.end) return Status::errorf("{}: start {} is after end {}", where, s.start, s.end);
  if (s.end > length)
    return Status::errorf("{}: end {} is beyond field '{}' ({} characters)", where, s.end, s.field, length);
  return s;
}

}  // namespace

Status parse_segments(const Json& obj, Record& record, const std::string& where) {
  auto it = obj.find("segments");
  if (it == obj.end() || it->is_null()) return Status::ok();
  if (!it->is_array())
    return Status::errorf("{}: field 'segments' must be a list of objects, found {}", where, it->type_name());
  for (size_t i = 0; i < it->size(); ++i) {
    PEFT_ASSIGN_OR_RETURN(Segment s, parse_one((*it)[i], record, fmt::format("{}: segments[{}]", where, i)));
    record.segments.push_back(std::move(s));
  }
  std::vector<size_t> order(record.segments.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key = [&](size_t i) { return std::tie(record.segments[i].field, record.segments[i].start); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  // Sorted by start, a span overlaps an earlier one of its field iff it starts before the
  // largest end seen so far there. Empty spans cover nothing, so they overlap nothing.
  const Segment* reach = nullptr;  // the non-empty span of the current field ending last
  size_t reach_entry = 0;          // its index in the "segments" list
  for (size_t i : order) {
    const Segment& b = record.segments[i];
    if (b.start == b.end) continue;
    const bool same_field = reach && reach->field == b.field;
    if (same_field && b.start < reach->end)
      return Status::errorf("{}: segments[{}] ({} {}..{}) and segments[{}] ({} {}..{}) overlap", where, reach_entry,
                            reach->field, reach->start, reach->end, i, b.field, b.start, b.end);
    if (!same_field || b.end > reach->end) {
      reach = &b;
      reach_entry = i;
    }
  }
  std::vector<Segment> sorted;
  for (size_t i : order) sorted.push_back(std::move(record.segments[i]));
  record.segments = std::move(sorted);
  return Status::ok();
}

std::string_view segment_field_text(const Record& record, std::string_view field) {
  if (field == "instruction") return record.instruction;
  if (field == "input") return record.input;
  if (field == "output") return record.output;
  return record.text;
}

int64_t code_points(std::string_view s) {
  // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

Status check_segment_modalities(std::span<const Record> records, std::span<const std::string> modalities) {
  for (size_t i = 0; i < records.size(); ++i)
    for (const Segment& s : records[i].segments)
      if (std::find(modalities.begin(), modalities.end(), s.modality) == modalities.end()) {
        const std::string where = records[i].where.empty() ? fmt::format("record {}", i) : records[i].where;
        return Status::errorf(
            "{}: segment modality '{}' is not one of the adapter's modalities ({}); add it to "
            "--adalink-modalities",
            where, s.modality, join(modalities));
      }
  return Status::ok();
}

int64_t count_segmented(std::span<const Record> records) {
  return std::count_if(records.begin(), records.end(), [](const Record& r) { return !r.segments.empty(); });
}

}  // namespace peft
