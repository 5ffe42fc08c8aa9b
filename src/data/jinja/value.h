// Values of the Jinja subset chat templates use, with Python's semantics (str(), ==, truth,
// ordering of dicts by insertion), since Jinja2 evaluates templates as Python objects.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "io/json_file.h"

namespace peft::jinja {

// A template error: the message is what Jinja2 (or the template's raise_exception) says.
// Thrown inside the renderer only; render_template turns it into a Status.
struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // insertion order, as Python's dict
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(const std::string& name) const;
};
using Function = std::function<Value(const CallArgs&)>;

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;               // String; Undefined: the missing name (for messages)
  std::shared_ptr<List> list;  // List (tuples too)
  bool tuple = false;          // a List that Python would hold as a tuple (repr with parentheses)
  std::shared_ptr<Dict> dict;  // Dict, Namespace
  std::shared_ptr<Function> fn;

  static Value undefined(std::string name = {});
  static Value none();
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value number(double v);
  static Value string(std::string v);
  static Value make_list(List items = {});
  static Value make_tuple(List items);
  static Value make_dict(Dict items = {});
  static Value make_namespace(Dict items = {});
  static Value function(Function f);
  static Value from_json(const nlohmann::ordered_json& j);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_list() const { return kind == Kind::List; }
  bool is_mapping() const { return kind == Kind::Dict || kind == Kind::Namespace; }
  double as_double() const;  // numbers (bool as 0/1)

  // Python truth: empty strings, lists, dicts, 0, None and undefined are false.
  bool truthy() const;
  // Python's str(): True, None, 1.0, ['a', 1], {'k': 'v'}; undefined → "".
  std::string str() const;
  // Python's repr() (strings quoted), used inside str() of containers.
  std::string repr() const;
  // The value at key in a mapping, or nullptr.
  const Value* get(const std::string& key) const;
  // Python's type name, for error messages.
  std::string type_name() const;
};

// Python ==, across int/float/bool and deeply through lists and dicts.
bool equal(const Value& a, const Value& b);
// Python <, for numbers and strings (otherwise a TemplateError).
bool less(const Value& a, const Value& b);
// json.dumps(v, ensure_ascii=False, indent=indent (<0: none), separators as Python picks them,
// sort_keys=sort_keys): transformers' tojson filter.
std::string to_json(const Value& v, int indent = -1, bool sort_keys = false);

}  // namespace peft::jinja
