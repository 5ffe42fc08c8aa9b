// A record's "segments": defaults, ordering, and every bad entry named by file, line and entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "cli/cli_runner.h"
#include "data/dataset.h"
#include "data/segments.h"

namespace peft {
namespace {

Result<std::vector<Record>> parse(const std::string& text) { return parse_dataset(text, "data.jsonl"); }

std::string error_of(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r.is_ok()) << "expected an error for: " << text;
  return r.is_ok() ? "" : r.status().message();
}

// One instruction record on line 1 with the given segments list.
std::string instruction_with(std::string segments) {
  std::replace(segments.begin(), segments.end(), '\n', ' ');  // JSON Lines: one line per record
  return R"({"instruction": "Add the numbers.", "input": "2 and 3", "output": "5", "segments": )" + segments + "}";
}

TEST(Segments, InstructionRecordDefaultsAndOrder) {
  auto r = parse(instruction_with(
      R"([{"modality": "output"}, {"modality": "code", "field": "input", "start": 2, "end": 5},
          {"modality": "instruction"}, {"modality": "code", "field": "input", "end": 1}])"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const std::vector<Segment>& s = (*r)[0].segments;
  ASSERT_EQ(s.size(), 4u);
  // Sorted by field, then start; a field-named modality marks that field, whole.
  EXPECT_EQ(s[0].field, "input");
  EXPECT_EQ(s[0].modality, "code");
  EXPECT_EQ(s[0].start, 0);
  EXPECT_EQ(s[0].end, 1);
  EXPECT_EQ(s[1].field, "input");
  EXPECT_EQ(s[1].start, 2);
  EXPECT_EQ(s[1].end, 5);
  EXPECT_EQ(s[2].field, "instruction");
  EXPECT_EQ(s[2].end, 16);  // "Add the numbers."
  EXPECT_EQ(s[3].field, "output");
  EXPECT_EQ(s[3].modality, "output");
  EXPECT_EQ(s[3].end, 1);
  EXPECT_EQ((*r)[0].where, "data.jsonl: line 1");
}

TEST(Segments, TextRecordOffsetsAreCodePoints) {
  // "héllo wörld": 11 code points, 13 bytes.
  auto r = parse(R"({"text": "héllo wörld", "segments": [{"modality": "x", "start": 6}]})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ((*r)[0].segments.size(), 1u);
  EXPECT_EQ((*r)[0].segments[0].field, "text");
  EXPECT_EQ((*r)[0].segments[0].start, 6);
  EXPECT_EQ((*r)[0].segments[0].end, 11);
  EXPECT_EQ(code_points("héllo wörld"), 11);
  std::string e = error_of(R"({"text": "héllo wörld", "segments": [{"modality": "x", "end": 12}]})");
  EXPECT_NE(e.find("end 12 is beyond field 'text' (11 characters)"), std::string::npos) << e;
}

TEST(Segments, AbsentNullOrEmptyMeansAllText) {
  auto r = parse("{\"text\": \"a\"}\n{\"text\": \"b\", \"segments\": null}\n{\"text\": \"c\", \"segments\": []}\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  for (const Record& rec : *r) EXPECT_TRUE(rec.segments.empty());
  EXPECT_EQ(count_segmented(*r), 0);
}

TEST(Segments, EveryBadEntryIsNamed) {
  struct Case {
    std::string segments, message;
  };
  const std::vector<Case> cases = {
      {R"({"modality": "x"})", "data.jsonl: line 1: field 'segments' must be a list of objects, found object"},
      {R"(["instruction"])", "data.jsonl: line 1: segments[0]: expected an object"},
      {R"([{"field": "input"}])", "data.jsonl: line 1: segments[0]: field 'modality' missing"},
      {R"([{"modality": ""}])", "segments[0]: field 'modality' must be a non-empty name"},
      {R"([{"modality": 3}])", "segments[0]: field 'modality' must be"},
      {R"([{"modality": "code"}])", "segments[0]: field 'field' missing (instruction, input or output"},
      {R"([{"modality": "code", "field": "text"}])",
       "segments[0]: field 'text' is unknown for an instruction record (expected instruction, input or output)"},
      {R"([{"modality": "code", "field": "input", "begin": 2}])",
       "segments[0]: unknown key 'begin' (expected modality, field, start, end)"},
      {R"([{"modality": "code", "field": "input", "start": 4, "end": 2}])", "segments[0]: start 4 is after end 2"},
      {R"([{"modality": "code", "field": "input", "start": -1}])", "segments[0]: start -1 is negative"},
      {R"([{"modality": "code", "field": "input", "start": 1.5}])", "segments[0]: field 'start' must be"},
      {R"([{"modality": "code", "field": "input", "end": 8}])",
       "segments[0]: end 8 is beyond field 'input' (7 characters)"},
      {R"([{"modality": "a", "field": "input", "start": 0, "end": 4}, {"modality": "b", "field": "input", "start": 3}])",
       "data.jsonl: line 1: segments[0] (input 0..4) and segments[1] (input 3..7) overlap"},
      // An empty span in between hides nothing: the outer span still overlaps the later one.
      {R"([{"modality": "a", "field": "input"}, {"modality": "b", "field": "input", "start": 2, "end": 2},
           {"modality": "c", "field": "input", "start": 5, "end": 6}])",
       "segments[0] (input 0..7) and segments[2] (input 5..6) overlap"},
      {R"([{"modality": "instruction"}, {"modality": "x", "field": "instruction", "start": 15}])",
       "segments[0] (instruction 0..16) and segments[1] (instruction 15..16) overlap"},
  };
  for (const Case& c : cases) {
    std::string e = error_of(instruction_with(c.segments));
    EXPECT_NE(e.find(c.message), std::string::npos) << "segments " << c.segments << "\n got: " << e;
  }
  std::string e = error_of(R"({"text": "abc", "segments": [{"modality": "x", "field": "input"}]})");
  EXPECT_NE(e.find("field 'input' is unknown for a text record (expected text)"), std::string::npos) << e;
}

TEST(Segments, TouchingAndEmptySpansAreFine) {
  auto r = parse(instruction_with(R"([{"modality": "a", "field": "input", "end": 3},
      {"modality": "b", "field": "input", "start": 3}, {"modality": "c", "field": "input", "start": 3, "end": 3},
      {"modality": "a", "field": "output"}])"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].segments.size(), 4u);
}

TEST(Segments, JsonArrayRecordsAreNamedByIndex) {
  std::string e = error_of(R"([{"text": "ab"}, {"text": "cd", "segments": [{"modality": "x", "end": 3}]}])");
  EXPECT_NE(e.find("data.jsonl: record 1: segments[0]: end 3"), std::string::npos) << e;
}

TEST(Segments, UnknownModalityNamesTheRecordAndTheValidNames) {
  auto r = parse("{\"text\": \"ab\"}\n\n" + instruction_with(R"([{"modality": "code", "field": "input"}])") + "\n");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(count_segmented(*r), 1);
  const std::vector<std::string> names = {"text", "instruction", "output"};
  Status s = check_segment_modalities(*r, names);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "data.jsonl: line 3: segment modality 'code' is not one of the adapter's modalities (text, instruction, "
            "output); add it to --adalink-modalities");
  const std::vector<std::string> with_code = {"text", "code"};
  EXPECT_TRUE(check_segment_modalities(*r, with_code).is_ok());
}

TEST(Segments, LoadedFromAFile) {
  test::TempDir dir;
  const std::string path = dir / "seg.jsonl";
  std::ofstream(path) << instruction_with(R"([{"modality": "code", "field": "input", "start": 9}])") << "\n";
  auto r = load_dataset(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(path + ": line 1: segments[0]: start 9 is after end 7"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace peft
