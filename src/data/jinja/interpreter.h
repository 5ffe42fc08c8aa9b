// Runs a parsed template: Jinja2's scoping (a for loop or macro is a scope, `if` is not; a
// namespace() is the way out of a loop), loop variables, macros, break/continue.
#pragma once
#include <string>

#include "data/jinja/ast.h"
#include "data/jinja/value.h"

namespace peft::jinja {

// The rendered text of `tmpl` with `globals` in scope beside the built-ins (range, namespace,
// dict). Throws TemplateError.
std::string render(const Template& tmpl, const Dict& globals);

// Built-ins (builtins.cpp), shared by the interpreter.
Value get_attr(const Value& obj, const std::string& name, int line);
Value get_item(const Value& obj, const Value& key, int line);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, int line);
Value apply_filter(const std::string& name, const Value& v, const CallArgs& args, int line);
bool apply_test(const std::string& name, const Value& v, const CallArgs& args, int line);
Value call(const Value& callee, const CallArgs& args, int line);
int64_t length(const Value& v, int line);
// Python iteration: a list's items, a dict's keys, a string's characters.
List iterate(const Value& v, int line);
Value builtin_global(const std::string& name);  // undefined when not a built-in
// str.upper() / str.lower() for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters.
std::string change_case(const std::string& s, bool upper);

}  // namespace peft::jinja
