// split_json_array: element spans of a JSON array's top level, or nullopt for the whole-text parser.
#include "io/json_array_split.h"

#include <gtest/gtest.h>

namespace peft {
namespace {

using Parts = std::vector<std::string_view>;

TEST(JsonArraySplit, FindsTopLevelElements) {
  EXPECT_EQ(split_json_array(" [ ] "), Parts{});
  EXPECT_EQ(split_json_array("[1]"), Parts{"1"});
  EXPECT_EQ(split_json_array("[ {\"a\": [1, 2]} ,\n {\"b\": {\"c\": 3}} ]"),
            (Parts{"{\"a\": [1, 2]}", "{\"b\": {\"c\": 3}}"}));
  // Brackets, commas and escaped quotes inside strings do not count.
  EXPECT_EQ(split_json_array(R"([{"s": "x, ] } \" ["}, "\\"])"), (Parts{R"({"s": "x, ] } \" ["})", R"("\\")"}));
}

TEST(JsonArraySplit, LeavesMalformedTextToTheFullParser) {
  for (const char* bad : {"", "{}", "[1,]", "[,1]", "[1,,2]", "[{]", "[\"open]", "[1]]", "[[1]"})
    EXPECT_FALSE(split_json_array(bad).has_value()) << bad;
}

}  // namespace
}  // namespace peft
