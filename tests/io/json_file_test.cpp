// Tests for JSON file reading/writing and the typed field getters' error messages.
#include "io/json_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace peft {
namespace {

namespace fs = std::filesystem;

class JsonFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::temp_directory_path() / fmt::format("peft_json_{}_{}", ::getpid(), info->name())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(JsonFileTest, ReadsValidFile) {
  auto j = read_json_file(write("config.json", R"({"hidden_size": 64, "name": "x"})"));
  ASSERT_TRUE(j.is_ok()) << j.status().message();
  EXPECT_EQ((*j)["hidden_size"], 64);
}

TEST_F(JsonFileTest, MissingFile) {
  const std::string p = dir_ + "/absent.json";
  auto j = read_json_file(p);
  ASSERT_FALSE(j.is_ok());
  EXPECT_EQ(j.status().message(), p + ": cannot open (No such file or directory)");
}

TEST_F(JsonFileTest, InvalidJsonNamesByteOffset) {
  const struct {
    const char* name;
    const char* text;
    const char* phrase;
  } cases[] = {
      {"bad.json", "{\"a\": 1,\n \"b\": }", "invalid JSON at byte 16"},
      {"empty.json", "", "invalid JSON at byte"},
      {"trailing.json", "{} x", "invalid JSON at byte"},
      {"overflow.json", "[1e999]", "invalid JSON"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string p = write(c.name, c.text);
    auto j = read_json_file(p);
    ASSERT_FALSE(j.is_ok());
    EXPECT_EQ(j.status().message().rfind(p + ": " + c.phrase, 0), 0u) << j.status().message();
    EXPECT_EQ(j.status().message().find("[json.exception"), std::string::npos) << j.status().message();
  }
}

TEST_F(JsonFileTest, WriteRoundTripIsPrettyAndAtomic) {
  const std::string p = dir_ + "/out.json";
  Json v = {{"r", 8}, {"alpha", 16.5}, {"targets", {"q_proj", "v_proj"}}};
  ASSERT_TRUE(write_json_file(p, v).is_ok());
  auto back = read_json_file(p);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, v);
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\n  \"r\": 8"), std::string::npos) << text;                      // indent 2
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temp left
}

TEST_F(JsonFileTest, WriteFailureNamesPath) {
  const std::string p = dir_ + "/no/such/dir/out.json";
  Status st = write_json_file(p, Json::object());
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message().rfind(p + ": ", 0), 0u) << st.message();
}

// One getter call on `obj["k"]`: either the value printed as JSON, or the error message.
struct GetCase {
  const char* label;
  std::function<Status(const Json&, std::string*)> get;
  const char* json;
  bool ok;
  const char* expect;  // dumped value when ok, else a phrase of the message
};

template <typename T>
std::function<Status(const Json&, std::string*)> getter(Result<T> (*fn)(const Json&, const std::string&,
                                                                        const std::string&)) {
  return [fn](const Json& obj, std::string* out) {
    auto r = fn(obj, "k", "cfg.json");
    if (!r.is_ok()) return r.status();
    *out = Json(r.value()).dump();
    return Status::ok();
  };
}

template <typename T, typename F>
std::function<Status(const Json&, std::string*)> getter_or(Result<T> (*fn)(const Json&, const std::string&, F,
                                                                           const std::string&),
                                                           T fallback) {
  return [fn, fallback](const Json& obj, std::string* out) {
    auto r = fn(obj, "k", fallback, "cfg.json");
    if (!r.is_ok()) return r.status();
    *out = Json(r.value()).dump();
    return Status::ok();
  };
}

TEST(JsonGetTest, TypedGetters) {
  const auto i = getter(&json_get_int);
  const auto f = getter(&json_get_float);
  const auto b = getter(&json_get_bool);
  const auto s = getter(&json_get_string);
  const auto io = getter_or<int64_t, int64_t>(&json_get_int_or, 7);
  const auto fo = getter_or<double, double>(&json_get_float_or, 0.5);
  const auto bo = getter_or<bool, bool>(&json_get_bool_or, true);
  const auto so = getter_or<std::string, const std::string&>(&json_get_string_or, std::string("dflt"));
  const std::vector<GetCase> cases = {
      {"int", i, R"({"k": 64})", true, "64"},
      {"int_negative", i, R"({"k": -3})", true, "-3"},
      {"int_from_integral_float", i, R"({"k": 64.0})", false,
       "cfg.json: field 'k' must be an integer, found number 64.0"},
      {"int_from_string", i, R"({"k": "64"})", false, "cfg.json: field 'k' must be an integer, found string \"64\""},
      {"int_from_bool", i, R"({"k": true})", false, "must be an integer, found boolean true"},
      {"int_too_big", i, R"({"k": 18446744073709551615})", false, "out of the int64 range"},
      {"int_missing", i, R"({"x": 1})", false, "cfg.json: field 'k' missing"},
      {"int_null_is_missing", i, R"({"k": null})", false, "cfg.json: field 'k' missing"},
      {"not_an_object", i, R"([1])", false, "cfg.json: expected a JSON object, found array"},
      {"float", f, R"({"k": 1.5})", true, "1.5"},
      {"float_from_int", f, R"({"k": 10000})", true, "10000.0"},
      {"float_from_string", f, R"({"k": "1.5"})", false, "must be a number, found string"},
      {"bool", b, R"({"k": false})", true, "false"},
      {"bool_from_int", b, R"({"k": 1})", false, "must be a boolean, found integer 1"},
      {"bool_from_string", b, R"({"k": "true"})", false, "must be a boolean, found string"},
      {"string", s, R"({"k": "silu"})", true, "\"silu\""},
      {"string_from_int", s, R"({"k": 3})", false, "must be a string, found integer 3"},
      {"string_from_array", s, R"({"k": [1]})", false, "must be a string, found array"},
      {"int_or_absent", io, R"({})", true, "7"},
      {"int_or_null", io, R"({"k": null})", true, "7"},
      {"int_or_present", io, R"({"k": 2})", true, "2"},
      {"int_or_wrong", io, R"({"k": 2.5})", false, "must be an integer, found number 2.5"},
      {"float_or_absent", fo, R"({})", true, "0.5"},
      {"float_or_wrong", fo, R"({"k": false})", false, "must be a number, found boolean"},
      {"bool_or_absent", bo, R"({})", true, "true"},
      {"bool_or_present", bo, R"({"k": false})", true, "false"},
      {"bool_or_wrong", bo, R"({"k": 0})", false, "must be a boolean"},
      {"string_or_absent", so, R"({})", true, "\"dflt\""},
      {"string_or_wrong", so, R"({"k": {}})", false, "must be a string, found object"},
  };
  for (const GetCase& c : cases) {
    SCOPED_TRACE(c.label);
    std::string out;
    Status st = c.get(Json::parse(c.json), &out);
    EXPECT_EQ(st.is_ok(), c.ok) << st.message();
    if (c.ok) {
      EXPECT_EQ(out, c.expect);
    } else {
      EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
      EXPECT_EQ(st.message().rfind("cfg.json: ", 0), 0u) << st.message();
    }
  }
}

}  // namespace
}  // namespace peft
