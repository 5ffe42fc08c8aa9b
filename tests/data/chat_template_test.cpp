// The chat-template engine against real Jinja2: the shared chat templates' cases (rendered by
// Jinja2 as transformers does, ../shared/data/chat_templates) through `peft chat-template`, and
// tests/fixtures/jinja_cases.jsonl (Jinja2 3.1's own renderings of the semantics templates
// rely on: whitespace control, scoping, loops, filters, tests, Python methods).
#include <gtest/gtest.h>

#include <fstream>

#include "../cli/cli_runner.h"
#include "data/chat_template.h"
#include "test_paths.h"

namespace peft {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<ojson> read_jsonl(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  std::vector<ojson> out;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(ojson::parse(line));
  return out;
}

TEST(ChatTemplate, SharedCasesRenderByteForByteThroughTheCli) {
  const std::string root = test::shared_path("data/chat_templates");
  const std::vector<ojson> cases = read_jsonl(root + "/cases.jsonl");
  ASSERT_GE(cases.size(), 10u);
  test::TempDir dir;
  int n = 0;
  for (const ojson& c : cases) {
    const std::string name = c["template"].get<std::string>() + "/" + c["conversation"].get<std::string>();
    const std::string messages = dir / ("m" + std::to_string(n++) + ".json");
    std::ofstream(messages) << c["messages"].dump();
    std::string args = "chat-template --template " + root + "/templates/" + c["template"].get<std::string>() +
                       ".jinja --messages " + messages + " --date 2026-01-15";
    if (c.value("add_generation_prompt", false)) args += " --add-generation-prompt";
    args += " --bos-token '" + c.value("bos_token", "") + "' --eos-token '" + c.value("eos_token", "") + "'";
    const test::CliResult r = test::run_peft(args);
    if (c.contains("expected")) {
      EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
      EXPECT_EQ(r.out, c["expected"].get<std::string>()) << name;
    } else {
      EXPECT_EQ(r.exit_code, 1) << name;
      EXPECT_NE(r.err.find(c["expected_error"].get<std::string>()), std::string::npos) << name << ": " << r.err;
      EXPECT_EQ(r.out, "") << name;
    }
  }
}

TEST(ChatTemplate, Jinja2SemanticsCases) {
  const std::vector<ojson> cases = read_jsonl(std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/jinja_cases.jsonl");
  ASSERT_GE(cases.size(), 60u);
  for (const ojson& c : cases) {
    const std::string name = c["name"].get<std::string>();
    auto tmpl = parse_chat_template(c["template"].get<std::string>(), name);
    ChatRenderOptions o;
    o.today = "2026-01-15";
    ojson messages = ojson::array();
    for (auto it = c["context"].begin(); it != c["context"].end(); ++it) {
      if (it.key() == "messages")
        messages = it.value();
      else
        o.extra[it.key()] = it.value();
    }
    Result<std::string> out = tmpl.is_ok() ? render_chat(*tmpl, messages, o) : Result<std::string>(tmpl.status());
    if (c.contains("expected")) {
      ASSERT_TRUE(out.is_ok()) << name << ": " << out.status().message();
      EXPECT_EQ(*out, c["expected"].get<std::string>()) << name;
    } else {
      ASSERT_FALSE(out.is_ok()) << name << " rendered: " << *out;
      const std::string expected = c["expected_error"].get<std::string>();
      if (expected != "error") {
        EXPECT_EQ(out.status().message(), name + ": " + expected);
      }
    }
  }
}

TEST(ChatTemplate, UnsupportedFeaturesAndSyntaxErrorsNameTheLine) {
  struct Row {
    const char* source;
    const char* message;
  };
  const Row rows[] = {
      {"a\n{% include 'x.jinja' %}", "template line 2: unsupported feature: the 'include' tag"},
      {"{{ x | wordwrap(3) }}", "template line 1: unsupported feature: the filter 'wordwrap'"},
      {"{% if x %}\n\nno end", "unexpected end of template, expected 'endif'"},
      {"{{ 'unclosed }}", "a tag is not closed"},
      {"\n\n{% frobnicate %}", "template line 3: unknown tag 'frobnicate'"},
      {"{{ x is frob }}", "unsupported feature: the test 'frob'"},
  };
  for (const Row& r : rows) {
    auto t = parse_chat_template(r.source, "t.jinja");
    Result<std::string> out = t.is_ok() ? render_chat(*t, ojson::array(), {}) : Result<std::string>(t.status());
    ASSERT_FALSE(out.is_ok()) << r.source;
    EXPECT_NE(out.status().message().find(r.message), std::string::npos) << out.status().message();
    EXPECT_EQ(out.status().message().rfind("t.jinja: ", 0), 0u) << out.status().message();
  }
}

}  // namespace
}  // namespace peft
