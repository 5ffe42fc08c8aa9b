// A record's "segments": spans of its fields marked with modality names (what input-centric methods read).
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "data/dataset.h"
#include "io/json_file.h"

namespace peft {

// Reads obj["segments"] (absent or null: none) into record.segments. Each entry is
// {"modality": NAME, "field": F, "start": S, "end": E}: F defaults to "text" in text records
// and to NAME in instruction records when NAME is instruction/input/output; S and E are
// Unicode code points into the field, half-open, defaulting to the whole field. Errors name
// `where` and the entry ("segments[2]"): not a list or object, unknown key, missing or empty
// modality, unknown field, start > end, end beyond the field, two entries that overlap.
// The record's fields must be parsed already.
Status parse_segments(const Json& obj, Record& record, const std::string& where);

// The text a segment's field names ("instruction", "input", "output", "text").
std::string_view segment_field_text(const Record& record, std::string_view field);

// Number of Unicode code points of valid UTF-8 `s` (JSON strings always are).
int64_t code_points(std::string_view s);

// Checks every segment's modality against `modalities` (an adapter's names, text first).
// The error names the record, the name and the valid names.
Status check_segment_modalities(std::span<const Record> records, std::span<const std::string> modalities);

// How many records carry segments.
int64_t count_segmented(std::span<const Record> records);

}  // namespace peft
