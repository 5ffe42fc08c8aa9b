// The parsed form of a template: statements (text, output, if, for, set, macro, ...) over
// expressions. Built by parse_template (parser.cpp), run by render (interpreter.cpp).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/jinja/value.h"

namespace peft::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,    // value
    Name,       // name
    List,       // args
    Tuple,      // args
    Dict,       // args: key, value, key, value, ...
    Attr,       // args[0].name
    Index,      // args[0][args[1]]
    Slice,      // args[0][args[1]:args[2]:args[3]] (null parts absent)
    Call,       // args[0](args[1..], keyword names in kw_names for the last kw_names.size())
    Filter,     // args[0] | name(args[1..]; kw_names)
    Test,       // args[0] is [not] name(args[1..])
    Unary,      // op args[0]: "-", "+", "not"
    Binary,     // args[0] op args[1]: + - * / // % ** ~ == != < > <= >= in "not in" and or
    Condition,  // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;      // Name, Attr, Call target name, Filter, Test; Unary/Binary: the operator
  bool negated = false;  // Test: "is not"
  std::vector<ExprPtr> args;
  std::vector<std::string> kw_names;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    Text,      // text
    Output,    // {{ expr }}
    If,        // conditions[i] → bodies[i]; else_body
    For,       // for targets in expr [if filter]: body; else_body
    Set,       // targets = expr, or attr_of.attr = expr
    SetBlock,  // {% set name %}body{% endset %}
    Macro,     // {% macro name(params) %}body{% endmacro %}
    Break,
    Continue,
    Scope,  // a body rendered in place ({% generation %}: transformers' assistant marks)
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr, filter;
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  Body body, else_body;
  std::vector<std::string> targets;  // For, Set, SetBlock names; Macro: the name then params
  std::string attr_of;               // Set: namespace variable of `set ns.attr = ...`
  std::vector<ExprPtr> defaults;     // Macro: one per param (null = required)
};

struct Template {
  Body body;
};

// Parses with transformers' settings: trim_blocks, lstrip_blocks, keep_trailing_newline off.
// Errors (TemplateError) name the line and the construct.
std::shared_ptr<const Template> parse_template(const std::string& source);

}  // namespace peft::jinja
