// Jinja2's built-in filters and tests, with transformers' tojson (keeps non-ASCII, keeps key
// order, Python's separators).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/jinja/interpreter.h"

namespace peft::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw TemplateError(fmt::format("template line {}: {}", line, what));
}

const Value* arg(const CallArgs& a, size_t k, const char* name) {
  if (k < a.positional.size()) return &a.positional[k];
  return a.kw(name);
}

// item.attr with Jinja's dotted paths ("function.name") and integer parts.
Value attribute_path(const Value& item, const std::string& path, int line) {
  Value v = item;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    if (dot == std::string::npos) dot = path.size();
    const std::string part = path.substr(pos, dot - pos);
    if (v.is_undefined()) return v;
    const bool digits = !part.empty() && part.size() < 18 && std::all_of(part.begin(), part.end(), ::isdigit);
    v = digits ? get_item(v, Value::integer(std::stoll(part)), line) : get_item(v, Value::string(part), line);
    pos = dot + 1;
  }
  return v;
}

std::string capitalize(const std::string& s) {
  std::string out = s;
  for (size_t k = 0; k < out.size(); ++k) out[k] = char(k == 0 ? ::toupper(out[k]) : ::tolower(out[k]));
  return out;
}

std::string title(const std::string& s) {
  std::string out = s;
  bool start = true;
  for (char& c : out) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c));
    c = char(alpha ? (start ? ::toupper(c) : ::tolower(c)) : c);
    start = !std::isalnum(static_cast<unsigned char>(c)) && c != '\'';
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// select/reject/selectattr/rejectattr: items kept when the test (default: truth) says `keep`.
Value select(const Value& seq, const CallArgs& a, bool by_attr, bool keep, int line) {
  size_t k = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty()) fail(line, "selectattr/rejectattr need an attribute name");
    attr = a.positional[k++].str();
  }
  std::string test;
  if (k < a.positional.size()) test = a.positional[k++].str();
  CallArgs test_args;
  test_args.positional.assign(a.positional.begin() + long(std::min(k, a.positional.size())), a.positional.end());
  List out;
  for (const Value& item : iterate(seq, line)) {
    const Value v = by_attr ? attribute_path(item, attr, line) : item;
    const bool pass = test.empty() ? v.truthy() : apply_test(test, v, test_args, line);
    if (pass == keep) out.push_back(item);
  }
  return Value::make_list(std::move(out));
}

}  // namespace

Value apply_filter(const std::string& name, const Value& v, const CallArgs& a, int line) {
  auto need_string = [&]() -> const std::string& {
    if (!v.is_string()) fail(line, fmt::format("filter '{}' expects a string, found {}", name, v.type_name()));
    return v.s;
  };
  if (name == "trim" || name == "strip") {
    CallArgs m;
    if (const Value* chars = arg(a, 0, "chars")) m.positional.push_back(*chars);
    return call(get_attr(Value::string(v.str()), "strip", line), m, line);
  }
  if (name == "length" || name == "count") return Value::integer(length(v, line));
  if (name == "string") return Value::string(v.str());
  if (name == "upper" || name == "lower") return Value::string(change_case(v.str(), name == "upper"));
  if (name == "capitalize") return Value::string(capitalize(v.str()));
  if (name == "title") return Value::string(title(v.str()));
  if (name == "tojson") {
    const Value* indent = arg(a, 0, "indent");
    const Value* sort = a.kw("sort_keys");
    return Value::string(
        to_json(v, indent && indent->is_number() ? int(indent->as_double()) : -1, sort && sort->truthy()));
  }
  if (name == "default" || name == "d") {
    const Value* fallback = arg(a, 0, "default_value");
    const Value* boolean = arg(a, 1, "boolean");
    const bool use = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
    return use ? (fallback ? *fallback : Value::string("")) : v;
  }
  if (name == "join") {
    const Value* sep = arg(a, 0, "d");
    const Value* attr = arg(a, 1, "attribute");
    std::string out;
    const List items = iterate(v, line);
    for (size_t k = 0; k < items.size(); ++k)
      out += (k && sep ? sep->str() : "") + (attr ? attribute_path(items[k], attr->str(), line) : items[k]).str();
    return Value::string(out);
  }
  if (name == "first" || name == "last") {
    const List items = iterate(v, line);
    if (items.empty()) return Value::undefined(name);
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::make_list(iterate(v, line));
  if (name == "items") return call(get_attr(v, "items", line), {}, line);
  if (name == "reverse") {
    if (v.is_string()) {
      List chars = iterate(v, line);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->s;
      return Value::string(out);
    }
    List items = iterate(v, line);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "select" || name == "reject") return select(v, a, false, name == "select", line);
  if (name == "selectattr" || name == "rejectattr") return select(v, a, true, name == "selectattr", line);
  if (name == "map") {
    List out;
    const Value* attr = a.kw("attribute");
    const Value* fallback = a.kw("default");
    for (const Value& item : iterate(v, line)) {
      if (attr) {
        Value x = attribute_path(item, attr->str(), line);
        out.push_back(x.is_undefined() && fallback ? *fallback : x);
      } else {
        if (a.positional.empty()) fail(line, "map needs a filter name or attribute=");
        CallArgs rest;
        rest.positional.assign(a.positional.begin() + 1, a.positional.end());
        out.push_back(apply_filter(a.positional[0].str(), item, rest, line));
      }
    }
    return Value::make_list(std::move(out));
  }
  if (name == "replace") {
    if (a.positional.size() < 2) fail(line, "replace needs two arguments");
    CallArgs m;
    m.positional = a.positional;
    return call(get_attr(Value::string(v.str()), "replace", line), m, line);
  }
  if (name == "indent") {
    const Value* width = arg(a, 0, "width");
    const Value* first = arg(a, 1, "first");
    const Value* blank = arg(a, 2, "blank");
    const std::string pad =
        width && width->is_string() ? width->s : std::string(size_t(width ? width->as_double() : 4), ' ');
    const std::string s = v.str();
    std::string out;
    size_t pos = 0;
    bool first_line = true;
    while (pos <= s.size()) {
      size_t k = s.find('\n', pos);
      const bool last = k == std::string::npos;
      if (last) k = s.size();
      const std::string line_text = s.substr(pos, k - pos);
      const bool indent_it =
          (!first_line || (first && first->truthy())) && (!line_text.empty() || (blank && blank->truthy()));
      out += (indent_it ? pad : "") + line_text;
      if (last) break;
      out += '\n';
      pos = k + 1;
      first_line = false;
    }
    return Value::string(out);
  }
  if (name == "int" || name == "float") {  // a number, or the text parsed; the default when it does not parse
    const bool to_int = name == "int";
    double x = 0;
    bool ok = v.is_number();
    if (ok) {
      x = v.as_double();
    } else {
      const std::string text = v.str();
      char* end = nullptr;
      x = to_int ? double(std::strtoll(text.c_str(), &end, 10)) : std::strtod(text.c_str(), &end);
      ok = end && end != text.c_str() && *end == 0;
    }
    if (!ok) {
      const Value* d = arg(a, 0, "default");
      if (d) return *d;
      x = 0;
    }
    return to_int ? Value::integer(int64_t(x)) : Value::number(x);
  }
  if (name == "abs") {
    if (!v.is_number()) fail(line, "abs expects a number");
    return v.kind == Value::Kind::Float ? Value::number(std::fabs(v.f))
                                        : Value::integer(std::llabs(int64_t(v.as_double())));
  }
  if (name == "round") {
    const Value* prec = arg(a, 0, "precision");
    const double p = std::pow(10.0, prec ? prec->as_double() : 0);
    return Value::number(std::nearbyint(v.as_double() * p) / p);
  }
  if (name == "safe") return v;
  if (name == "e" || name == "escape" || name == "forceescape") return Value::string(html_escape(v.str()));
  if (name == "wordcount") {
    CallArgs none;
    return Value::integer(length(call(get_attr(Value::string(v.str()), "split", line), none, line), line));
  }
  if (name == "unique") {
    List out;
    for (const Value& item : iterate(v, line))
      if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return equal(o, item); })) out.push_back(item);
    return Value::make_list(std::move(out));
  }
  if (name == "sort") {
    List items = iterate(v, line);
    const Value* reverse = arg(a, 0, "reverse");
    const Value* attr = a.kw("attribute");
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      return attr ? less(attribute_path(x, attr->str(), line), attribute_path(y, attr->str(), line)) : less(x, y);
    });
    if (reverse && reverse->truthy()) std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (name == "dictsort") {
    if (!v.is_mapping()) fail(line, "dictsort expects a mapping");
    Dict items = *v.dict;
    std::stable_sort(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    List out;
    for (const auto& [k, x] : items) out.push_back(Value::make_tuple({Value::string(k), x}));
    return Value::make_list(std::move(out));
  }
  if (name == "sum" || name == "max" || name == "min") {
    const List items = iterate(v, line);
    if (name == "sum") {
      Value total = Value::integer(0);
      for (const Value& x : items)
        total = x.kind == Value::Kind::Float || total.kind == Value::Kind::Float
                    ? Value::number(total.as_double() + x.as_double())
                    : Value::integer(total.i + int64_t(x.as_double()));
      return total;
    }
    if (items.empty()) return Value::undefined(name);
    Value best = items[0];
    for (const Value& x : items)
      if (name == "max" ? less(best, x) : less(x, best)) best = x;
    return best;
  }
  if (name == "center") {
    const std::string s = v.str();
    const int64_t width = a.positional.empty() ? 80 : int64_t(a.positional[0].as_double());
    const int64_t pad = std::max<int64_t>(0, width - length(Value::string(s), line));
    const int64_t left = pad / 2 + (pad & width & 1);
    return Value::string(std::string(size_t(left), ' ') + s + std::string(size_t(pad - left), ' '));
  }
  (void)need_string;
  fail(line, fmt::format("unsupported feature: the filter '{}'", name));
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a, int line) {
  auto other = [&]() -> const Value& {
    if (a.positional.empty()) fail(line, fmt::format("test '{}' needs an argument", name));
    return a.positional[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.kind == Value::Kind::Int || v.kind == Value::Kind::Float;
  if (name == "integer") return v.kind == Value::Kind::Int;
  if (name == "float") return v.kind == Value::Kind::Float;
  if (name == "boolean") return v.kind == Value::Kind::Bool;
  if (name == "true") return v.kind == Value::Kind::Bool && v.b;
  if (name == "false") return v.kind == Value::Kind::Bool && !v.b;
  if (name == "mapping") return v.is_mapping();
  if (name == "iterable") return v.is_list() || v.is_mapping() || v.is_string();
  if (name == "sequence") return v.is_list() || v.is_string() || v.is_mapping();
  if (name == "callable") return v.kind == Value::Kind::Function;
  if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") return equal(v, other());
  if (name == "ne" || name == "!=") return !equal(v, other());
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, other());
  if (name == "gt" || name == "greaterthan" || name == ">") return less(other(), v);
  if (name == "le" || name == "<=") return !less(other(), v);
  if (name == "ge" || name == ">=") return !less(v, other());
  if (name == "in") {
    const Value& c = other();
    if (c.is_string()) return v.is_string() && c.s.find(v.s) != std::string::npos;
    if (c.is_mapping()) return v.is_string() && c.get(v.s);
    for (const Value& x : iterate(c, line))
      if (equal(x, v)) return true;
    return false;
  }
  if (name == "odd" || name == "even") {
    if (v.kind != Value::Kind::Int) fail(line, fmt::format("test '{}' expects an integer", name));
    return (((v.i % 2) + 2) % 2 == 1) == (name == "odd");
  }
  if (name == "divisibleby") {
    const int64_t d = int64_t(other().as_double());
    if (d == 0) fail(line, "divisibleby 0");
    return int64_t(v.as_double()) % d == 0;
  }
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    for (unsigned char c : v.s)
      if (name == "lower" ? std::isupper(c) : std::islower(c)) return false;
    return true;
  }
  fail(line, fmt::format("unsupported feature: the test '{}'", name));
}

}  // namespace peft::jinja
