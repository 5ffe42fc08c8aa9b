// WebNLG 2017 and DART JSON read as AdaMix's / LoRA's converters format them: triples
// "s : p : o | ...", one row per kept reference, errors naming the file and entry.
#include "data/webnlg_dart.h"

#include <gtest/gtest.h>

namespace peft {
namespace {

const char* kWebnlg = R"js({"entries": [
  {"1": {"category": "Airport", "modifiedtripleset": [
           {"subject": "Aarhus_Airport", "property": "cityServed", "object": "\"Aarhus, Denmark\""},
           {"subject": "Aarhus_Airport", "property": "elevationAboveTheSeaLevel_(in_metres)", "object": "25.0"}],
         "lexicalisations": [{"comment": "good", "lex": " Aarhus Airport serves Aarhus, Denmark. ", "lid": "Id1"},
                             {"comment": "bad", "lex": "Aarhus is.", "lid": "Id2"},
                             {"comment": "good", "lex": "The airport of Aarhus lies 25 m up.", "lid": "Id3"}]}},
  {"2": {"category": "Food", "modifiedtripleset": [{"subject": "Bakso", "property": "country", "object": "Indonesia"}],
         "lexicalisations": [{"comment": "good", "lex": "Bakso comes from Indonesia.", "lid": "Id1"}]}}]})js";

const char* kDart = R"([
  {"tripleset": [["Mars Hill College", "JOINED", "1973"], ["Mars Hill College", "LOCATION", "Mars Hill, NC"]],
   "subtree_was_extended": false,
   "annotations": [{"source": "WikiSQL_decl_sents", "text": "Mars Hill College in Mars Hill, NC joined in 1973."},
                   {"source": "WikiSQL_decl_sents", "text": "A school joined in 1973."}]},
  {"tripleset": [["[TABLECONTEXT]", "[TITLE]", "Hawaii"]], "annotations": [{"source": "e2e", "text": "Hawaii."}]}])";

TEST(WebnlgDart, WebnlgKeepsTheGoodLexicalisations) {
  auto f = parse_webnlg_json(kWebnlg, "train.json");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->task->name, "webnlg");
  ASSERT_EQ(f->rows.size(), 3u);
  EXPECT_EQ(f->rows[0].input,
            "Aarhus_Airport : cityServed : \"Aarhus, Denmark\" | Aarhus_Airport : "
            "elevationAboveTheSeaLevel_(in_metres) : 25.0");
  EXPECT_EQ(f->rows[0].reference, "Aarhus Airport serves Aarhus, Denmark.");
  EXPECT_EQ(f->rows[1].reference, "The airport of Aarhus lies 25 m up.");
  EXPECT_EQ(f->rows[1].input, f->rows[0].input);
  EXPECT_EQ(f->rows[2].input, "Bakso : country : Indonesia");
  EXPECT_EQ(f->rows[2].line, 2);
}

TEST(WebnlgDart, DartLowercasesRelations) {
  auto f = parse_dart_json(kDart, "dart.json");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->task->name, "dart");
  ASSERT_EQ(f->rows.size(), 3u);
  EXPECT_EQ(f->rows[0].input, "Mars Hill College : joined : 1973 | Mars Hill College : location : Mars Hill, NC");
  EXPECT_EQ(f->rows[1].reference, "A school joined in 1973.");
  EXPECT_EQ(f->rows[2].input, "[TABLECONTEXT] : [title] : Hawaii");
}

TEST(WebnlgDart, BadFilesNameTheEntry) {
  struct Bad {
    bool webnlg;
    const char* text;
    const char* message;
  };
  const Bad cases[] = {
      {true, "{\"entries\": [", "x.json: not JSON"},
      {true, "[]", "x.json: expected WebNLG's {\"entries\": [...]}"},
      {true, R"({"entries": [{"1": {"lexicalisations": []}}]})", "x.json: entry 1: field 'modifiedtripleset'"},
      {true, R"({"entries": [{"1": {"modifiedtripleset": [{"subject": "a", "object": "b"}], "lexicalisations": []}}]})",
       "x.json: entry 1 triple: field 'property' missing"},
      {true, R"({"entries": [{"1": {"modifiedtripleset": [{"subject": "a", "property": "p", "object": "b"}],
                 "lexicalisations": [{"comment": "bad", "lex": "x"}]}}]})",
       "x.json: no entries with a good lexicalisation"},
      {false, "{}", "x.json: expected DART's list of entries"},
      {false, R"([{"tripleset": [["a", "b"]], "annotations": []}])", "x.json: entry 1: a triple must be"},
      {false, R"([{"tripleset": [["a", "b", "c"]]}])", "x.json: entry 1: field 'annotations' missing"},
      {false, R"([{"tripleset": [["a", "b", "c"]], "annotations": [{"source": "x"}]}])",
       "x.json: entry 1 annotation: field 'text' missing"},
  };
  for (const Bad& c : cases) {
    auto f = c.webnlg ? parse_webnlg_json(c.text, "x.json") : parse_dart_json(c.text, "x.json");
    ASSERT_FALSE(f.is_ok()) << c.text;
    EXPECT_NE(f.status().message().find(c.message), std::string::npos) << f.status().message();
  }
}

}  // namespace
}  // namespace peft
