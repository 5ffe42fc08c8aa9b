// Data file loading: each layout, auto-detection, every bad-input message, the real LLM-Adapters files.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/cli_runner.h"
#include "data/dataset.h"
#include "test_paths.h"

namespace peft {
namespace {

Result<std::vector<Record>> parse(const std::string& text, DataFormat format = DataFormat::Auto,
                                  const std::string& name = "data.json") {
  return parse_dataset(text, name, format);
}

std::string error_of(const std::string& text, DataFormat format = DataFormat::Auto,
                     const std::string& name = "data.json") {
  auto r = parse(text, format, name);
  EXPECT_FALSE(r.is_ok()) << "expected an error for: " << text;
  return r.is_ok() ? "" : r.status().message();
}

TEST(Dataset, AlpacaJsonArray) {
  auto r = parse(R"([
    {"instruction": "Add.", "input": "2 and 3", "output": "5", "answer": "5"},
    {"instruction": "Say hi.", "input": "", "output": "hi"},
    {"instruction": "No input field.", "output": "ok"},
    {"instruction": "Null input.", "input": null, "output": "ok"}
  ])");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].kind, RecordKind::Instruction);
  EXPECT_EQ((*r)[0].instruction, "Add.");
  EXPECT_EQ((*r)[0].input, "2 and 3");
  EXPECT_EQ((*r)[0].output, "5");
  EXPECT_EQ((*r)[1].input, "");
  EXPECT_EQ((*r)[2].input, "");
  EXPECT_EQ((*r)[3].input, "");
}

TEST(Dataset, AlpacaJsonlWithBlankLinesAndCrlf) {
  auto r = parse(
      "{\"instruction\": \"a\", \"output\": \"b\"}\r\n\n  \n{\"instruction\": \"c\", \"input\": \"d\", \"output\": "
      "\"e\"}",
      DataFormat::Auto, "data.jsonl");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].instruction, "c");
  EXPECT_EQ((*r)[1].input, "d");
  EXPECT_EQ((*r)[1].output, "e");
}

TEST(Dataset, TextJsonl) {
  const std::string text = "{\"text\": \"Once upon a time\"}\n{\"text\": \"The end.\", \"meta\": 1}\n";
  for (DataFormat f : {DataFormat::Auto, DataFormat::TextJsonl}) {
    auto r = parse(text, f, "t.jsonl");
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].kind, RecordKind::Text);
    EXPECT_EQ((*r)[1].text, "The end.");
  }
}

TEST(Dataset, AutoDetectsTextRecordsInAnArray) {
  auto r = parse(R"(  [{"text": "x"}, {"instruction": "i", "output": "o"}])");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ((*r)[0].kind, RecordKind::Text);
  EXPECT_EQ((*r)[1].kind, RecordKind::Instruction);
}

TEST(Dataset, OverrideForcesTheRecordKind) {
  EXPECT_EQ(error_of(R"({"instruction": "i", "output": "o"})", DataFormat::TextJsonl, "d.jsonl"),
            "d.jsonl: line 1: field 'text' missing");
  EXPECT_EQ(error_of(R"({"text": "t"})", DataFormat::AlpacaJsonl, "d.jsonl"),
            "d.jsonl: line 1: field 'instruction' missing");
  EXPECT_EQ(error_of(R"({"a": 1})", DataFormat::AlpacaJson),
            "data.json: expected a JSON array of records, found object");
}

TEST(Dataset, ParseFormatNames) {
  EXPECT_EQ(parse_data_format("auto").value(), DataFormat::Auto);
  EXPECT_EQ(parse_data_format("alpaca").value(), DataFormat::AlpacaJson);
  EXPECT_EQ(parse_data_format("jsonl").value(), DataFormat::AlpacaJsonl);
  EXPECT_EQ(parse_data_format("text").value(), DataFormat::TextJsonl);
  auto bad = parse_data_format("csv");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'csv'"), std::string::npos);
  for (DataFormat f : {DataFormat::Auto, DataFormat::AlpacaJson, DataFormat::AlpacaJsonl, DataFormat::TextJsonl})
    EXPECT_EQ(parse_data_format(data_format_name(f)).value(), f);
}

TEST(Dataset, MalformedJsonArrayGivesPosition) {
  std::string e = error_of("[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n  {\"instruction\": ]");
  EXPECT_TRUE(e.starts_with("data.json: invalid JSON at byte ")) << e;
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
}

TEST(Dataset, MalformedJsonlLineGivesLineAndColumn) {
  std::string e = error_of("{\"instruction\": \"a\", \"output\": \"b\"}\n\n{\"instruction\": \"a\" \"output\": 1}\n",
                           DataFormat::Auto, "data.jsonl");
  EXPECT_TRUE(e.starts_with("data.jsonl: line 3: invalid JSON at column ")) << e;
}

TEST(Dataset, PrettyPrintedObjectHintsAtJsonLines) {
  std::string e = error_of("{\n  \"instruction\": \"a\",\n  \"output\": \"b\"\n}\n");
  EXPECT_TRUE(e.starts_with("data.json: line 1: invalid JSON")) << e;
  EXPECT_NE(e.find("one object per line"), std::string::npos) << e;
}

TEST(Dataset, MissingField) {
  EXPECT_EQ(error_of(R"([{"instruction": "a", "output": "b"}, {"instruction": "a"}])"),
            "data.json: record 1: field 'output' missing");
  EXPECT_EQ(error_of("{\"output\": \"b\"}", DataFormat::Auto, "d.jsonl"),
            "d.jsonl: line 1: field 'instruction' missing");
  EXPECT_EQ(error_of(R"([{"question": "q", "answer": "a"}])"),
            "data.json: record 0: expected fields 'instruction' and 'output' (Alpaca), 'text' or 'messages' (chat), "
            "found keys "
            "'answer', 'question'");
}

TEST(Dataset, WrongType) {
  std::string jsonl;
  for (int i = 1; i <= 6; ++i) jsonl += "{\"instruction\": \"a\", \"output\": \"b\"}\n";
  jsonl += "{\"instruction\": \"a\", \"output\": 5}\n";
  EXPECT_EQ(error_of(jsonl, DataFormat::Auto, "data.jsonl"),
            "data.jsonl: line 7: field 'output' must be a string, found integer 5");
  EXPECT_EQ(error_of(R"([{"instruction": ["a"], "output": "b"}])"),
            "data.json: record 0: field 'instruction' must be a string, found array");
  EXPECT_EQ(error_of(R"([{"instruction": "a", "input": 1.5, "output": "b"}])"),
            "data.json: record 0: field 'input' must be a string, found number 1.5");
  EXPECT_EQ(error_of(R"({"text": true})", DataFormat::Auto, "t.jsonl"),
            "t.jsonl: line 1: field 'text' must be a string, found boolean true");
  EXPECT_EQ(error_of(R"([{"text": "ok"}, 3])"), "data.json: record 1: expected a JSON object, found number");
  EXPECT_EQ(error_of("[1, 2]\n", DataFormat::AlpacaJsonl, "d.jsonl"),
            "d.jsonl: line 1: expected a JSON object, found array");
}

TEST(Dataset, EmptyInputs) {
  EXPECT_EQ(error_of(""), "data.json: no records (the file is empty)");
  EXPECT_EQ(error_of(" \n\t\n"), "data.json: no records (the file is empty)");
  EXPECT_EQ(error_of("[]"), "data.json: no records");
  EXPECT_EQ(error_of(" [ ] \n", DataFormat::AlpacaJson), "data.json: no records");
}

TEST(Dataset, FilesOnDisk) {
  test::TempDir dir;
  const std::string empty = dir / "empty.json", good = dir / "good.jsonl";
  { std::ofstream(empty, std::ios::binary); }
  { std::ofstream(good, std::ios::binary) << "\xEF\xBB\xBF{\"text\": \"bom first\"}\n"; }
  auto e = load_dataset(empty);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().message(), empty + ": no records (the file is empty)");
  auto g = load_dataset(good);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ((*g)[0].text, "bom first");
  auto missing = load_dataset(dir / "nope.json");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_TRUE(missing.status().message().starts_with(dir / "nope.json")) << missing.status().message();
}

TEST(Dataset, RealBoolqTrain) {
  auto r = load_dataset(test::shared_path("data/datasets/llm_adapters/dataset/boolq/train.json"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->size(), 9427u);
  const Record& first = (*r)[0];
  EXPECT_EQ(first.kind, RecordKind::Instruction);
  EXPECT_TRUE(first.instruction.starts_with("Please answer the following question with true or false, question: "));
  EXPECT_EQ(first.input, "");
  EXPECT_EQ(first.output, "the correct answer is true");
}

TEST(Dataset, RealMathData) {
  auto r = load_dataset(test::shared_path("data/datasets/llm_adapters/math_data.json"), DataFormat::AlpacaJson);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->size(), 3260u);
  EXPECT_TRUE((*r)[0].output.starts_with("\nA: ")) << (*r)[0].output;
}

}  // namespace
}  // namespace peft
