// LLM-Adapters' generate_prompt reproduced byte for byte (with and without input, text records).
#include <gtest/gtest.h>

#include "data/prompt.h"

namespace peft {
namespace {

// Written out by hand from AGI-Edgerunners/LLM-Adapters finetune.py: note the trailing
// space(s) after "request.", the 16-space indentation and the 16-space "blank" lines.
const char* kWithInput =
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request. \n"
    "\n"
    "                ### Instruction:\n"
    "                Add the numbers.\n"
    "                \n"
    "                ### Input:\n"
    "                2 and 3\n"
    "                \n"
    "                ### Response:\n"
    "                5";

const char* kWithoutInput =
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.  \n"
    "\n"
    "                ### Instruction:\n"
    "                Say hi.\n"
    "                \n"
    "                ### Response:\n"
    "                hi";

TEST(Prompt, WithInputExact) { EXPECT_EQ(generate_prompt("Add the numbers.", "2 and 3", "5"), kWithInput); }

TEST(Prompt, WithoutInputExact) { EXPECT_EQ(generate_prompt("Say hi.", "", "hi"), kWithoutInput); }

TEST(Prompt, UserPromptIsTemplateWithEmptyOutput) {
  Record r;
  r.instruction = "Say hi.";
  r.output = "hi";
  const std::string full = record_prompt(r), user = record_user_prompt(r);
  EXPECT_EQ(full, kWithoutInput);
  EXPECT_EQ(user, std::string(kWithoutInput).substr(0, full.size() - 2));  // ends "### Response:\n" + 16 spaces
  EXPECT_TRUE(user.ends_with("### Response:\n                "));
}

TEST(Prompt, MultilineFieldsKeptVerbatim) {
  // LLM-Adapters' outputs start with "\nA: ..."; nothing is stripped or re-indented.
  std::string p = generate_prompt("Q?\nmore", "", "\nA: 4");
  EXPECT_NE(p.find("                Q?\nmore\n                \n"), std::string::npos);
  EXPECT_TRUE(p.ends_with("### Response:\n                \nA: 4"));
}

TEST(Prompt, TextRecordsAsIs) {
  Record r;
  r.kind = RecordKind::Text;
  r.text = "Once upon a time";
  EXPECT_EQ(record_prompt(r), "Once upon a time");
  EXPECT_EQ(record_user_prompt(r), "");
}

}  // namespace
}  // namespace peft
