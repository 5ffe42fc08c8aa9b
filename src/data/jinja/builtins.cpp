// Jinja2's built-in globals, filters and tests, and the Python methods of str / dict / list
// that chat templates call (message.content.strip(), tool.items(), ...). Strings index and
// slice by code point, as Python's str does.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "data/jinja/interpreter.h"

namespace peft::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw TemplateError(fmt::format("template line {}: {}", line, what));
}

// Byte offsets of each code point of a UTF-8 string, plus its size at the end.
std::vector<size_t> code_points(const std::string& s) {
  std::vector<size_t> at;
  for (size_t k = 0; k < s.size(); ++k)
    if ((static_cast<unsigned char>(s[k]) & 0xC0) != 0x80) at.push_back(k);
  at.push_back(s.size());
  return at;
}

// Python's str.isspace() for the code point starting at s[k] (n bytes).
bool space_at(const std::string& s, size_t k, size_t n) {
  const auto u = [&](size_t i) { return static_cast<unsigned char>(s[k + i]); };
  if (n == 1) return u(0) == ' ' || (u(0) >= 0x09 && u(0) <= 0x0d) || (u(0) >= 0x1c && u(0) <= 0x1f);
  if (n == 2) return (u(0) == 0xc2 && (u(1) == 0x85 || u(1) == 0xa0));
  if (n == 3) {
    const uint32_t cp = ((u(0) & 0x0f) << 12) | ((u(1) & 0x3f) << 6) | (u(2) & 0x3f);
    return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
  }
  return false;
}

// str.strip / lstrip / rstrip: whitespace, or any of `chars` (code points).
std::string strip(const std::string& s, const Value* chars, bool left, bool right) {
  const std::vector<size_t> at = code_points(s);
  const std::vector<size_t> set_at = chars && chars->is_string() ? code_points(chars->s) : std::vector<size_t>{};
  auto strippable = [&](size_t i) {
    const size_t b = at[i], n = at[i + 1] - at[i];
    if (!chars || chars->is_none()) return space_at(s, b, n);
    for (size_t j = 0; j + 1 < set_at.size(); ++j)
      if (chars->s.compare(set_at[j], set_at[j + 1] - set_at[j], s, b, n) == 0) return true;
    return false;
  };
  size_t first = 0, last = at.size() - 1;
  if (left)
    while (first < last && strippable(first)) ++first;
  if (right)
    while (last > first && strippable(last - 1)) --last;
  return s.substr(at[first], at[last] - at[first]);
}

std::vector<std::string> split(const std::string& s, const Value* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep || sep->is_none()) {  // runs of whitespace, no empty parts
    const std::vector<size_t> at = code_points(s);
    size_t i = 0;
    const size_t n = at.size() - 1;
    while (i < n) {
      while (i < n && space_at(s, at[i], at[i + 1] - at[i])) ++i;
      if (i >= n) break;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        std::string rest = s.substr(at[i]);
        out.push_back(strip(rest, nullptr, false, true));
        return out;
      }
      size_t j = i;
      while (j < n && !space_at(s, at[j], at[j + 1] - at[j])) ++j;
      out.push_back(s.substr(at[i], at[j] - at[i]));
      i = j;
    }
    return out;
  }
  if (sep->s.empty()) throw TemplateError("empty separator");
  size_t pos = 0;
  for (;;) {
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) break;
    const size_t k = s.find(sep->s, pos);
    if (k == std::string::npos) break;
    out.push_back(s.substr(pos, k - pos));
    pos = k + sep->s.size();
  }
  out.push_back(s.substr(pos));
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) return s;
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  for (;;) {
    const size_t k = s.find(from, pos);
    if (k == std::string::npos || (count >= 0 && done == count)) break;
    out += s.substr(pos, k - pos) + to;
    pos = k + from.size();
    ++done;
  }
  return out + s.substr(pos);
}

const Value& arg(const CallArgs& a, size_t k, const char* name, const Value& fallback) {
  if (k < a.positional.size()) return a.positional[k];
  if (const Value* v = a.kw(name)) return *v;
  return fallback;
}

Value list_of_strings(const std::vector<std::string>& parts) {
  List items;
  for (const std::string& p : parts) items.push_back(Value::string(p));
  return Value::make_list(std::move(items));
}

int64_t to_int(const Value& v, int line) {
  if (v.kind == Value::Kind::Int) return v.i;
  if (v.kind == Value::Kind::Bool) return v.b;
  if (v.kind == Value::Kind::Float) return int64_t(v.f);
  fail(line, fmt::format("expected an integer, found {}", v.type_name()));
}

// A bound method of a str, dict or list value.
Value method(const Value& obj, const std::string& name, int line) {
  const Value self = obj;
  auto fn = [&](auto f) { return Value::function(f); };
  if (obj.is_string()) {
    const std::string s = obj.s;
    if (name == "strip" || name == "lstrip" || name == "rstrip")
      return fn([s, name](const CallArgs& a) {
        const Value* chars = a.positional.empty() ? nullptr : &a.positional[0];
        return Value::string(strip(s, chars, name != "rstrip", name != "lstrip"));
      });
    if (name == "startswith" || name == "endswith")
      return fn([s, name, line](const CallArgs& a) {
        if (a.positional.empty()) fail(line, name + "() takes at least 1 argument");
        List options = a.positional[0].is_list() ? *a.positional[0].list : List{a.positional[0]};
        for (const Value& o : options) {
          if (!o.is_string()) fail(line, name + "() argument must be str or a tuple of str");
          const bool hit = name == "startswith"
                               ? s.rfind(o.s, 0) == 0
                               : s.size() >= o.s.size() && s.compare(s.size() - o.s.size(), o.s.size(), o.s) == 0;
          if (hit) return Value::boolean(true);
        }
        return Value::boolean(false);
      });
    if (name == "split" || name == "rsplit")
      return fn([s, name, line](const CallArgs& a) {
        const Value none = Value::none(), minus = Value::integer(-1);
        const Value& sep = arg(a, 0, "sep", none);
        const int64_t maxsplit = to_int(arg(a, 1, "maxsplit", minus), line);
        if (name == "rsplit" && maxsplit >= 0 && sep.is_string()) {  // split from the right
          std::vector<std::string> parts;
          std::string rest = s;
          while (int64_t(parts.size()) < maxsplit) {
            const size_t k = rest.rfind(sep.s);
            if (k == std::string::npos) break;
            parts.insert(parts.begin(), rest.substr(k + sep.s.size()));
            rest = rest.substr(0, k);
          }
          parts.insert(parts.begin(), rest);
          return list_of_strings(parts);
        }
        return list_of_strings(split(s, &sep, maxsplit));
      });
    if (name == "splitlines")
      return fn([s](const CallArgs&) {
        std::vector<std::string> parts = split(s, nullptr, -1);
        parts.clear();
        size_t pos = 0;
        while (pos < s.size()) {
          size_t k = s.find('\n', pos);
          if (k == std::string::npos) k = s.size();
          std::string line = s.substr(pos, k - pos);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          parts.push_back(line);
          pos = k + 1;
        }
        return list_of_strings(parts);
      });
    if (name == "replace")
      return fn([s, line](const CallArgs& a) {
        if (a.positional.size() < 2 || !a.positional[0].is_string() || !a.positional[1].is_string())
          fail(line, "replace() takes two strings");
        const int64_t count = a.positional.size() > 2 ? to_int(a.positional[2], line) : -1;
        return Value::string(replace_all(s, a.positional[0].s, a.positional[1].s, count));
      });
    if (name == "upper") return fn([s](const CallArgs&) { return Value::string(change_case(s, true)); });
    if (name == "lower") return fn([s](const CallArgs&) { return Value::string(change_case(s, false)); });
    if (name == "capitalize" || name == "title")
      return fn([s, name](const CallArgs&) { return apply_filter(name, Value::string(s), {}, 0); });
    if (name == "find" || name == "rfind" || name == "count" || name == "index")
      return fn([s, name, line](const CallArgs& a) {
        if (a.positional.empty() || !a.positional[0].is_string()) fail(line, name + "() takes a string");
        const std::string& sub = a.positional[0].s;
        if (name == "count") {
          if (sub.empty()) return Value::integer(int64_t(code_points(s).size()));
          int64_t n = 0;
          for (size_t k = s.find(sub); k != std::string::npos; k = s.find(sub, k + sub.size())) ++n;
          return Value::integer(n);
        }
        const size_t k = name == "rfind" ? s.rfind(sub) : s.find(sub);
        if (k == std::string::npos) {
          if (name == "index") fail(line, "substring not found");
          return Value::integer(-1);
        }
        const std::vector<size_t> at = code_points(s);
        return Value::integer(int64_t(std::lower_bound(at.begin(), at.end(), k) - at.begin()));
      });
    if (name == "join")
      return fn([s, line](const CallArgs& a) {
        if (a.positional.empty()) fail(line, "join() takes an iterable");
        std::string out;
        const List items = iterate(a.positional[0], line);
        for (size_t k = 0; k < items.size(); ++k) {
          if (!items[k].is_string()) fail(line, fmt::format("sequence item {}: expected str instance", k));
          out += (k ? s : "") + items[k].s;
        }
        return Value::string(out);
      });
    if (name == "removeprefix" || name == "removesuffix")
      return fn([s, name](const CallArgs& a) {
        const std::string p = a.positional.empty() ? "" : a.positional[0].str();
        if (name == "removeprefix") return Value::string(s.rfind(p, 0) == 0 ? s.substr(p.size()) : s);
        const bool ends = s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
        return Value::string(ends ? s.substr(0, s.size() - p.size()) : s);
      });
    if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" ||
        name == "islower")
      return fn([s, name](const CallArgs&) {
        if (s.empty()) return Value::boolean(false);
        bool all = true, cased = false;
        for (unsigned char c : s) {
          if (name == "isdigit")
            all = all && std::isdigit(c);
          else if (name == "isalpha")
            all = all && std::isalpha(c);
          else if (name == "isalnum")
            all = all && std::isalnum(c);
          else if (name == "isspace")
            all = all && std::isspace(c);
          else if (name == "isupper")
            all = all && !std::islower(c), cased = cased || std::isupper(c);
          else
            all = all && !std::isupper(c), cased = cased || std::islower(c);
        }
        return Value::boolean(all && (name == "isupper" || name == "islower" ? cased : true));
      });
    if (name == "format")
      return fn([s](const CallArgs& a) {  // positional {} and {0} fields
        std::string out;
        size_t next = 0;
        for (size_t k = 0; k < s.size(); ++k) {
          if (s[k] == '{' && k + 1 < s.size() && s[k + 1] == '{') {
            out += '{', ++k;
          } else if (s[k] == '}' && k + 1 < s.size() && s[k + 1] == '}') {
            out += '}', ++k;
          } else if (s[k] == '{') {
            const size_t close = s.find('}', k);
            if (close == std::string::npos) throw TemplateError("format(): unmatched '{'");
            const std::string field = s.substr(k + 1, close - k - 1);
            size_t idx = field.empty() ? next++ : size_t(std::stoul(field));
            Value v = idx < a.positional.size() ? a.positional[idx] : Value::undefined();
            if (const Value* kw = a.kw(field); kw) v = *kw;
            out += v.str();
            k = close;
          } else {
            out += s[k];
          }
        }
        return Value::string(out);
      });
  }
  if (obj.is_mapping()) {
    if (name == "items")
      return fn([self](const CallArgs&) {
        List items;
        for (const auto& [k, v] : *self.dict) items.push_back(Value::make_tuple({Value::string(k), v}));
        return Value::make_list(std::move(items));
      });
    if (name == "keys" || name == "values")
      return fn([self, name](const CallArgs&) {
        List items;
        for (const auto& [k, v] : *self.dict) items.push_back(name == "keys" ? Value::string(k) : v);
        return Value::make_list(std::move(items));
      });
    if (name == "get")
      return fn([self](const CallArgs& a) {
        const Value none = Value::none();
        const Value* v = a.positional.empty() || !a.positional[0].is_string() ? nullptr : self.get(a.positional[0].s);
        return v ? *v : arg(a, 1, "default", none);
      });
  }
  if (obj.is_list()) {
    if (name == "index" || name == "count")
      return fn([self, name, line](const CallArgs& a) {
        if (a.positional.empty()) fail(line, name + "() takes an argument");
        int64_t n = 0;
        for (size_t k = 0; k < self.list->size(); ++k)
          if (equal((*self.list)[k], a.positional[0])) {
            if (name == "index") return Value::integer(int64_t(k));
            ++n;
          }
        if (name == "index") fail(line, "value is not in list");
        return Value::integer(n);
      });
    if (name == "append" || name == "extend" || name == "pop" || name == "insert" || name == "remove" ||
        name == "clear" || name == "sort" || name == "reverse")
      fail(line, fmt::format("access to attribute '{}' of 'list' object is unsafe.", name));
  }
  if (obj.is_mapping() && (name == "update" || name == "pop" || name == "setdefault" || name == "clear"))
    fail(line, fmt::format("access to attribute '{}' of 'dict' object is unsafe.", name));
  return Value::undefined(name);
}

Value sequence_slice_result(const Value& obj, const std::vector<int64_t>& picks) {
  if (obj.is_string()) {
    const std::vector<size_t> at = code_points(obj.s);
    std::string out;
    for (int64_t k : picks) out += obj.s.substr(at[size_t(k)], at[size_t(k) + 1] - at[size_t(k)]);
    return Value::string(out);
  }
  List items;
  for (int64_t k : picks) items.push_back((*obj.list)[size_t(k)]);
  return Value::make_list(std::move(items));
}

uint32_t case_of(uint32_t cp, bool upper) {
  auto shift = [&](uint32_t lo_first, uint32_t lo_last, uint32_t delta) -> int64_t {
    if (upper && cp >= lo_first && cp <= lo_last) return int64_t(cp) - delta;
    if (!upper && cp >= lo_first - delta && cp <= lo_last - delta) return int64_t(cp) + delta;
    return -1;
  };
  if (cp < 0x80) return uint32_t(upper ? ::toupper(int(cp)) : ::tolower(int(cp)));
  if (cp == 0xF7 || cp == 0xD7) return cp;
  for (auto [first, last, delta] :
       {std::tuple{0xE0u, 0xFEu, 0x20u}, {0x3B1u, 0x3C9u, 0x20u}, {0x430u, 0x44Fu, 0x20u}, {0x450u, 0x45Fu, 0x50u}})
    if (int64_t r = shift(first, last, delta); r >= 0 && cp != 0x3C2) return uint32_t(r);
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
    // Latin Extended-A pairs: even upper / odd lower, except 0x139–0x148 and 0x179–0x17E (odd upper).
    const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    const bool is_upper = odd_upper ? (cp & 1) : !(cp & 1);
    if (upper && !is_upper) return cp - 1;
    if (!upper && is_upper) return cp + 1;
  }
  return cp;
}

}  // namespace

std::string change_case(const std::string& s, bool upper) {
  std::string out;
  for (size_t k = 0; k < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[k]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > 3 || k + n > s.size()) {
      out += s.substr(k, n);
      k += n;
      continue;
    }
    uint32_t cp = n == 1   ? c
                  : n == 2 ? ((c & 0x1F) << 6) | (s[k + 1] & 0x3F)
                           : ((c & 0x0F) << 12) | ((s[k + 1] & 0x3F) << 6) | (s[k + 2] & 0x3F);
    cp = case_of(cp, upper);
    if (cp < 0x80)
      out += char(cp);
    else if (cp < 0x800)
      out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
    else
      out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
    k += n;
  }
  return out;
}

int64_t length(const Value& v, int line) {
  switch (v.kind) {
    case Value::Kind::String:
      return int64_t(code_points(v.s).size()) - 1;
    case Value::Kind::List:
      return int64_t(v.list->size());
    case Value::Kind::Dict:
    case Value::Kind::Namespace:
      return int64_t(v.dict->size());
    case Value::Kind::Undefined:
      return 0;
    default:
      fail(line, fmt::format("object of type '{}' has no len()", v.type_name()));
  }
}

List iterate(const Value& v, int line) {
  switch (v.kind) {
    case Value::Kind::List:
      return *v.list;
    case Value::Kind::Dict:
    case Value::Kind::Namespace: {
      List keys;
      for (const auto& [k, x] : *v.dict) keys.push_back(Value::string(k));
      return keys;
    }
    case Value::Kind::String: {
      const std::vector<size_t> at = code_points(v.s);
      List chars;
      for (size_t k = 0; k + 1 < at.size(); ++k) chars.push_back(Value::string(v.s.substr(at[k], at[k + 1] - at[k])));
      return chars;
    }
    case Value::Kind::Undefined:
      return {};
    default:
      fail(line, fmt::format("'{}' object is not iterable", v.type_name()));
  }
}

Value get_attr(const Value& obj, const std::string& name, int line) {
  if (obj.is_undefined()) fail(line, fmt::format("'{}' is undefined", obj.s.empty() ? "value" : obj.s));
  // Jinja2's getattr: the Python attribute first (so dict.items is the method), then the item.
  Value m = method(obj, name, line);
  if (!m.is_undefined()) return m;
  if (const Value* v = obj.get(name)) return *v;
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key, int line) {
  if (obj.is_undefined()) fail(line, fmt::format("'{}' is undefined", obj.s.empty() ? "value" : obj.s));
  if (obj.is_mapping()) {
    if (const Value* v = obj.get(key.str())) return *v;
    return key.is_string() ? method(obj, key.s, line) : Value::undefined();
  }
  if (obj.is_list() || obj.is_string()) {
    if (!key.is_number()) return key.is_string() ? method(obj, key.s, line) : Value::undefined();
    const int64_t n = length(obj, line);
    int64_t k = to_int(key, line);
    if (k < 0) k += n;
    if (k < 0 || k >= n) return Value::undefined();
    if (obj.is_list()) return (*obj.list)[size_t(k)];
    return sequence_slice_result(obj, {k});
  }
  return Value::undefined();
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, int line) {
  if (!obj.is_list() && !obj.is_string()) fail(line, fmt::format("'{}' object is not subscriptable", obj.type_name()));
  const int64_t n = length(obj, line);
  const int64_t st = step.is_none() ? 1 : to_int(step, line);
  if (st == 0) fail(line, "slice step cannot be zero");
  // Python's slice.indices().
  auto clamp = [&](const Value& v, int64_t dflt, bool is_stop) {
    if (v.is_none()) return dflt;
    int64_t k = to_int(v, line);
    if (k < 0) k += n;
    if (st > 0) return std::clamp<int64_t>(k, 0, n);
    (void)is_stop;
    return std::clamp<int64_t>(k, -1, n - 1);
  };
  const int64_t a = clamp(start, st > 0 ? 0 : n - 1, false), b = clamp(stop, st > 0 ? n : -1, true);
  std::vector<int64_t> picks;
  for (int64_t k = a; st > 0 ? k < b : k > b; k += st) picks.push_back(k);
  return sequence_slice_result(obj, picks);
}

Value call(const Value& callee, const CallArgs& args, int line) {
  try {
    return (*callee.fn)(args);
  } catch (const TemplateError&) {
    throw;
  } catch (const std::exception& e) {
    fail(line, e.what());
  }
}

Value builtin_global(const std::string& name) {
  if (name == "range")
    return Value::function([](const CallArgs& a) {
      int64_t start = 0, stop = 0, step = 1;
      auto i = [](const Value& v) { return to_int(v, 0); };
      if (a.positional.size() == 1)
        stop = i(a.positional[0]);
      else if (a.positional.size() >= 2)
        start = i(a.positional[0]), stop = i(a.positional[1]);
      if (a.positional.size() >= 3) step = i(a.positional[2]);
      if (step == 0) throw TemplateError("range() arg 3 must not be zero");
      if ((stop - start) / step > 100000) throw TemplateError("range too big (more than 100000 items)");
      List items;
      for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) items.push_back(Value::integer(k));
      return Value::make_list(std::move(items));
    });
  if (name == "namespace" || name == "dict")
    return Value::function([name](const CallArgs& a) {
      Dict items;
      for (const Value& p : a.positional)
        if (p.is_mapping()) items.insert(items.end(), p.dict->begin(), p.dict->end());
      for (const auto& kv : a.keyword) items.push_back(kv);
      return name == "namespace" ? Value::make_namespace(std::move(items)) : Value::make_dict(std::move(items));
    });
  return Value::undefined(name);
}

}  // namespace peft::jinja
