// E2E challenge metrics against the official scorer's numbers (tests/reference/e2e_metrics/: inputs
// made there, expected values from tuetschek/e2e-metrics measure_scores.py -p, see its README), and
// the file parsers' layouts and errors.
#include "eval/e2e_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace peft {
namespace {

const std::string kDir = std::string(PEFT_SOURCE_DIR) + "/tests/reference/e2e_metrics";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const nlohmann::json& expected() {
  static const nlohmann::json j = nlohmann::json::parse(read_file(kDir + "/expected.json"));
  return j;
}

// The C++ sums in sequence where Python sums dicts in insertion order and numpy pairwise, so
// the two agree to a few ulp; 1e-9 relative leaves room for that and nothing else.
constexpr double kRel = 1e-9;

void expect_close(double got, double want, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), kRel * std::max(1.0, std::fabs(want)))
      << what << ": got " << got << ", want " << want;
}

// ---------------------------------------------------------------------------------------------
// One case a parameter: cases/<name>/{hyps,refs}.txt with the script's scores, per-MR scores and
// the tokens each of its scorers saw.
class E2eOfficialCase : public testing::TestWithParam<std::string> {
 protected:
  const nlohmann::json& want() const { return expected()["cases"][GetParam()]; }
  std::string path(const char* file) const { return kDir + "/cases/" + GetParam() + "/" + file; }
};

TEST_P(E2eOfficialCase, CorpusScoresMatchTheScript) {
  auto r = score_e2e_files(path("hyps.txt"), path("refs.txt"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const auto& s = want()["scores"];
  expect_close(r->bleu, s["bleu"].get<double>(), "BLEU");
  expect_close(r->nist, s["nist"].get<double>(), "NIST");
  expect_close(r->rouge_l, s["rouge_l"].get<double>(), "ROUGE_L");
  expect_close(r->cider, s["cider"].get<double>(), "CIDEr");
}

TEST_P(E2eOfficialCase, FilesParseAsTheScriptReadsThem) {
  auto hyps = parse_e2e_outputs(read_file(path("hyps.txt")), "hyps.txt");
  auto refs = parse_e2e_references(read_file(path("refs.txt")), "refs.txt");
  ASSERT_TRUE(hyps.is_ok()) << hyps.status().message();
  ASSERT_TRUE(refs.is_ok()) << refs.status().message();
  EXPECT_EQ(hyps->size(), want()["mrs"].get<size_t>());
  ASSERT_EQ(refs->size(), want()["mrs"].get<size_t>());
  size_t n = 0;
  for (const auto& rs : *refs) n += rs.size();
  EXPECT_EQ(n, want()["references"].get<size_t>());
}

TEST_P(E2eOfficialCase, MtevalTokensMatchPymteval) {
  auto hyps = parse_e2e_outputs(read_file(path("hyps.txt")), "hyps.txt");
  auto refs = parse_e2e_references(read_file(path("refs.txt")), "refs.txt");
  ASSERT_TRUE(hyps.is_ok() && refs.is_ok());
  const auto& tok = want()["mteval_tokens"];
  for (size_t i = 0; i < hyps->size(); ++i) {
    EXPECT_EQ(mteval_tokenize((*hyps)[i]), tok["hyps"][i].get<TokenList>()) << "output " << i;
    for (size_t j = 0; j < (*refs)[i].size(); ++j)
      EXPECT_EQ(mteval_tokenize((*refs)[i][j]), tok["refs"][i][j].get<TokenList>()) << "MR " << i << " ref " << j;
  }
}

TEST_P(E2eOfficialCase, PtbTokensMatchTheWrapperOverTheEmulation) {
  auto hyps = parse_e2e_outputs(read_file(path("hyps.txt")), "hyps.txt");
  auto refs = parse_e2e_references(read_file(path("refs.txt")), "refs.txt");
  ASSERT_TRUE(hyps.is_ok() && refs.is_ok());
  const auto& tok = want()["ptb_tokens"];
  EXPECT_EQ(coco_ptb_tokenize(*hyps), tok["hyps"].get<std::vector<std::string>>());
  std::vector<std::string> flat, want_flat;
  for (size_t i = 0; i < refs->size(); ++i) {
    flat.insert(flat.end(), (*refs)[i].begin(), (*refs)[i].end());
    for (const auto& t : tok["refs"][i]) want_flat.push_back(t.get<std::string>());
  }
  EXPECT_EQ(coco_ptb_tokenize(flat), want_flat);  // one stream, as the wrapper tokenises them
}

TEST_P(E2eOfficialCase, PerMrRougeAndCiderMatchPycocoevalcap) {
  // On the script's own tokens, so this isolates the two scorers from the tokenizer.
  const auto& tok = want()["ptb_tokens"];
  const auto hyps = tok["hyps"].get<std::vector<std::string>>();
  const auto refs = tok["refs"].get<std::vector<std::vector<std::string>>>();
  const auto rouge = coco_rouge_l(hyps, refs), cider = coco_cider(hyps, refs);
  const auto& per = want()["per_mr"];
  ASSERT_EQ(rouge.size(), per["rouge_l"].size());
  ASSERT_EQ(cider.size(), per["cider"].size());
  for (size_t i = 0; i < rouge.size(); ++i) {
    expect_close(rouge[i], per["rouge_l"][i].get<double>(), "ROUGE_L of MR " + std::to_string(i));
    expect_close(cider[i], per["cider"][i].get<double>(), "CIDEr of MR " + std::to_string(i));
  }
}

// basic: multi-reference MRs, punctuation, mixed case, repeated n-grams, numbers and £ prices.
// unicode: accented capitals, curly quotes, en dash, ellipsis characters.
// short_outputs: an output of punctuation only, a one-token output and an empty line. pymteval
//   counts len(output) - n n-grams per output even when negative, so on this tiny corpus its
//   4-gram denominator is floored to 1e-9 and BLEU comes out as 65.49: the script's number, kept.
// variable_refs: 1, 5 and 2 references. single_ref_file: no blank lines, one reference per MR.
// valid30: 30 MRs of the E2E validation set (all their references) with perturbed references as outputs.
INSTANTIATE_TEST_SUITE_P(Cases, E2eOfficialCase,
                         testing::Values("basic", "unicode", "short_outputs", "variable_refs", "single_ref_file",
                                         "valid30"),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

// ---------------------------------------------------------------------------------------------
// PTB tokenisation against Stanford's own expectations: inputs and gold tokens of CoreNLP's
// PTBTokenizerTest (ptbInputs/ptbGold), lowercased and with ptbtokenizer.py's punctuation removed.
struct PtbCase {
  const char* input;
  const char* want;
};

class E2ePtbGold : public testing::TestWithParam<PtbCase> {};

TEST_P(E2ePtbGold, MatchesStanfordGold) {
  EXPECT_EQ(coco_ptb_tokenize({GetParam().input}), std::vector<std::string>{GetParam().want});
}

INSTANTIATE_TEST_SUITE_P(
    CoreNlpTests, E2ePtbGold,
    testing::Values(
        PtbCase{"This is a sentence.", "this is a sentence"},
        PtbCase{"Based in Eugene,Ore., PakTech needs a new distributor after Sydney-based Creative Pack Pty. Ltd. "
                "went into voluntary administration.",
                "based in eugene ore. paktech needs a new distributor after sydney-based creative pack pty. ltd. went "
                "into voluntary administration"},
        PtbCase{"The Iron Age (ca. 1300 \u2013 ca. 300 BC).", "the iron age -lrb- ca. 1300 ca. 300 bc -rrb-"},
        PtbCase{"Gimme a phone, I'm gonna call.", "gim me a phone i 'm gon na call"},
        PtbCase{"I said at 4:45pm.", "i said at 4:45 pm"},
        PtbCase{"You `paid' US$170,000?!", "you paid us$ 170,000 ?!"},
        PtbCase{"You should've paid only$16.75.", "you should 've paid only $ 16.75"},
        PtbCase{"No. I like No. 24 and no.47.", "no i like no. 24 and no. 47"},
        PtbCase{"You can get a B.S. or a B. A. or a Ph.D (sometimes a Ph. D) from Stanford.",
                "you can get a b.s. or a b. a. or a ph.d -lrb- sometimes a ph. d -rrb- from stanford"},
        PtbCase{"I wasn\u2019t really ... well, what I mean...see . . . what I'm saying, the thing is . . . I "
                "didn\u2019t mean it.",
                "i was n't really well what i mean see what i 'm saying the thing is i did n't mean it"},
        PtbCase{"We traveled from No. Korea to So. Calif. yesterday.",
                "we traveled from no. korea to so. calif. yesterday"},
        PtbCase{"I dunno.", "i du n no"}));

// ---------------------------------------------------------------------------------------------
TEST(E2eMtevalTokenize, FollowsPymtevalRegexes) {
  // ' and - stay inside words; '-' after a digit, '.' and ',' away from digits are split off.
  EXPECT_EQ(mteval_tokenize("It's £20-25."), (TokenList{"It's", "£20", "-", "25", "."}));
  EXPECT_EQ(mteval_tokenize("1,000.50 a.b,c"), (TokenList{"1,000.50", "a", ".", "b", ",", "c"}));
  EXPECT_EQ(mteval_tokenize("&quot;x&quot; (y)/z"), (TokenList{"\"", "x", "\"", "(", "y", ")", "/", "z"}));
  EXPECT_EQ(mteval_tokenize("family-friendly"), (TokenList{"family-friendly"}));
  EXPECT_EQ(mteval_tokenize(""), (TokenList{""}));  // Python's "".split(' ')
}

TEST(E2eScores, IdenticalOutputAndHandComputedNist) {
  // One MR whose output is its only reference: BLEU 1, ROUGE-L 1, and CIDEr 0 because with one MR
  // log(#MRs) = 0 makes every idf 0. NIST: unigram info log2(6/2) for "the" (twice), log2(6/1) for
  // the other four; bigram info log2(count(w1)/count(w1 w2)): 1 for the two starting with "the",
  // 0 for the rest; longer n-grams 0. (The script gives 2.6516291673878225.)
  auto r = e2e_scores({"the cat sat on the mat"}, {{"the cat sat on the mat"}});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_NEAR(r->bleu, 1.0, 1e-12);
  EXPECT_NEAR(r->rouge_l, 1.0, 1e-12);
  EXPECT_NEAR(r->cider, 0.0, 1e-12);
  EXPECT_NEAR(r->nist, (2 * std::log2(3.0) + 4 * std::log2(6.0)) / 6 + 2.0 / 5, 1e-12);
}

TEST(E2eScores, ZeroNgramDenominatorGivesAZeroNistTerm) {
  // "a b" alone: its 3-gram candidate count len - 2 sums to 0, on which pymteval raises
  // ZeroDivisionError; here that term is 0, leaving unigrams (1 + 1) / 2 and bigrams 0 / 1.
  auto r = e2e_scores({"a b"}, {{"a b"}});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_NEAR(r->nist, 1.0, 1e-12);
}

TEST(E2eScores, RejectsMismatchedInput) {
  EXPECT_FALSE(e2e_scores({}, {}).is_ok());
  auto r = e2e_scores({"a", "b"}, {{"a"}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("2 outputs"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("1 MRs"), std::string::npos) << r.status().message();
  EXPECT_FALSE(e2e_scores({"a"}, {{}}).is_ok());
  EXPECT_FALSE(e2e_scores({"\xff"}, {{"a"}}).is_ok());
}

// ---------------------------------------------------------------------------------------------
using Refs = std::vector<std::vector<std::string>>;

TEST(E2eParse, OutputsAreStrippedLinesEmptyOnesIncluded) {
  auto r = parse_e2e_outputs("  a b \r\n\nc\t\n", "h.txt");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, (std::vector<std::string>{"a b", "", "c"}));
  // str.splitlines boundaries: form feed, U+2028; no line after a final break
  r = parse_e2e_outputs("a\fb\u2028c", "h.txt");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"a", "b", "c"}));
  // non-breaking spaces are Python whitespace
  r = parse_e2e_outputs("\u00A0x\u00A0\n", "h.txt");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"x"}));
}

TEST(E2eParse, ReferenceLayouts) {
  auto r = parse_e2e_references("a1\na2\n\nb1\n\n\n", "r.txt");  // trailing blank lines ignored
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, (Refs{{"a1", "a2"}, {"b1"}}));
  r = parse_e2e_references("x\ny\nz", "r.txt");  // no blank line: one reference per MR
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (Refs{{"x"}, {"y"}, {"z"}}));
  r = parse_e2e_references("a\r\n \r\nb\r\n", "r.txt");  // CRLF; a whitespace-only line is blank
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (Refs{{"a"}, {"b"}}));
}

struct ParseErrorCase {
  const char* what;
  bool refs;  // parse_e2e_references, else parse_e2e_outputs
  const char* content;
  const char* message;  // a part of the error
};

class E2eParseError : public testing::TestWithParam<ParseErrorCase> {};

TEST_P(E2eParseError, NamesFileAndLine) {
  const auto& c = GetParam();
  Status st =
      c.refs ? parse_e2e_references(c.content, "R.txt").status() : parse_e2e_outputs(c.content, "H.txt").status();
  ASSERT_FALSE(st.is_ok()) << c.what;
  EXPECT_NE(st.message().find(c.message), std::string::npos) << c.what << ": " << st.message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, E2eParseError,
    testing::Values(ParseErrorCase{"empty outputs", false, "", "H.txt: no outputs"},
                    ParseErrorCase{"bad UTF-8 in outputs", false, "ok\nbad \xC3(\n", "H.txt: line 2: not valid UTF-8"},
                    ParseErrorCase{"empty references", true, "\n\n", "R.txt: no references"},
                    ParseErrorCase{"leading blank line", true, "\na\n\nb\n", "R.txt: line 1: a leading blank line"},
                    ParseErrorCase{"two blank lines", true, "a\n\n\nb\n", "R.txt: line 3: a second blank line"},
                    ParseErrorCase{"bad UTF-8 in references", true, "a\n\n\xE2\x82\n",
                                   "R.txt: line 3: not valid UTF-8"}),
    [](const testing::TestParamInfo<ParseErrorCase>& p) { return std::to_string(p.index); });

TEST(E2eParse, CountMismatchNamesBothFilesAndCounts) {
  const std::string dir = testing::TempDir();
  const std::string h = dir + "/e2e_count_h.txt", r = dir + "/e2e_count_r.txt";
  std::ofstream(h) << "one\ntwo\nthree\n";
  std::ofstream(r) << "a\nb\n\nc\n";
  auto s = score_e2e_files(h, r);
  ASSERT_FALSE(s.is_ok());
  const std::string& m = s.status().message();
  EXPECT_NE(m.find(h + ": 3 outputs"), std::string::npos) << m;
  EXPECT_NE(m.find(r + " has 2 MRs"), std::string::npos) << m;
  EXPECT_FALSE(score_e2e_files(dir + "/no_such_file.txt", r).is_ok());
}

}  // namespace
}  // namespace peft
