// The statement runner and expression evaluator of the template engine.
#include "data/jinja/interpreter.h"

#include <fmt/format.h>

#include <cmath>

namespace peft::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw TemplateError(fmt::format("template line {}: {}", line, what));
}

enum class Flow { Normal, Break, Continue };

// Bounds that turn a runaway template into an error instead of a hang or an out-of-memory:
// real chat templates loop over a conversation and build a few kilobytes.
constexpr int64_t kMaxIterations = 10'000'000;   // loop iterations in one render
constexpr int kMaxCallDepth = 100;               // nested macro calls
constexpr size_t kMaxStringBytes = 64ull << 20;  // one string value

bool is_int(const Value& v) { return v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool; }
int64_t as_int(const Value& v) { return v.kind == Value::Kind::Bool ? int64_t(v.b) : v.i; }

// Jinja2 raises on using an undefined value in arithmetic or as a container.
void check_defined(const Value& v, int line) {
  if (v.is_undefined()) fail(line, fmt::format("'{}' is undefined", v.s.empty() ? "value" : v.s));
}

Value arithmetic(const std::string& op, const Value& a, const Value& b, int line) {
  check_defined(a, line);
  check_defined(b, line);
  auto unsupported = [&]() -> Value {
    fail(line, fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, a.type_name(), b.type_name()));
  };
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.s.size() + b.s.size() > kMaxStringBytes) fail(line, "the result of '+' is too large");
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list()) {
      if (a.list->size() + b.list->size() > kMaxStringBytes / 16) fail(line, "the result of '+' is too large");
      List items = *a.list;
      items.insert(items.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(items));
    }
  }
  if (op == "*") {
    const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
    const Value& n = seq == &a ? b : a;
    if (seq && is_int(n)) {
      const int64_t times = std::max<int64_t>(0, as_int(n));
      if (double(times) * double(seq->is_string() ? seq->s.size() : seq->list->size()) > double(kMaxStringBytes))
        fail(line, "the result of '*' is too large");
      if (seq->is_string()) {
        std::string out;
        for (int64_t k = 0; k < times; ++k) out += seq->s;
        return Value::string(out);
      }
      List items;
      for (int64_t k = 0; k < times; ++k) items.insert(items.end(), seq->list->begin(), seq->list->end());
      return Value::make_list(std::move(items));
    }
  }
  if (!a.is_number() || !b.is_number()) return unsupported();
  const bool ints = is_int(a) && is_int(b);
  const double x = a.as_double(), y = b.as_double();
  if (op == "+") return ints ? Value::integer(as_int(a) + as_int(b)) : Value::number(x + y);
  if (op == "-") return ints ? Value::integer(as_int(a) - as_int(b)) : Value::number(x - y);
  if (op == "*") return ints ? Value::integer(as_int(a) * as_int(b)) : Value::number(x * y);
  if (op == "/") {
    if (y == 0) fail(line, "division by zero");
    return Value::number(x / y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) fail(line, "integer division or modulo by zero");
    if (ints) {
      const int64_t p = as_int(a), q = as_int(b);
      int64_t d = p / q, m = p % q;
      if (m != 0 && ((m < 0) != (q < 0))) --d, m += q;  // Python floors
      return Value::integer(op == "//" ? d : m);
    }
    const double d = std::floor(x / y);
    return Value::number(op == "//" ? d : x - d * y);
  }
  if (op == "**") {
    if (ints && as_int(b) >= 0) {
      int64_t r = 1;
      for (int64_t k = 0; k < as_int(b); ++k) r *= as_int(a);
      return Value::integer(r);
    }
    return Value::number(std::pow(x, y));
  }
  return unsupported();
}

bool contains(const Value& container, const Value& item, int line) {
  switch (container.kind) {
    case Value::Kind::String:
      if (!item.is_string())
        fail(line, fmt::format("'in <string>' requires string as left operand, not {}", item.type_name()));
      return container.s.find(item.s) != std::string::npos;
    case Value::Kind::List:
      for (const Value& v : *container.list)
        if (equal(v, item)) return true;
      return false;
    case Value::Kind::Dict:
    case Value::Kind::Namespace:
      return item.is_string() && container.get(item.s) != nullptr;
    case Value::Kind::Undefined:
      return false;  // Jinja2's Undefined iterates as empty
    default:
      fail(line, fmt::format("argument of type '{}' is not iterable", container.type_name()));
  }
}

class Interpreter {
 public:
  explicit Interpreter(const Dict& globals) { frames_.push_back(globals); }

  Flow exec(const Body& body, std::string& out) {
    for (const NodePtr& n : body) {
      const Flow f = exec(*n, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

 private:
  Value lookup(const std::string& name) const {
    for (auto f = frames_.rbegin(); f != frames_.rend(); ++f)
      for (const auto& [k, v] : *f)
        if (k == name) return v;
    Value b = builtin_global(name);
    if (!b.is_undefined()) return b;
    return Value::undefined(name);
  }
  void assign(const std::string& name, Value v) {
    for (auto& [k, old] : frames_.back())
      if (k == name) {
        old = std::move(v);
        return;
      }
    frames_.back().emplace_back(name, std::move(v));
  }

  Flow exec(const Node& n, std::string& out) {
    switch (n.kind) {
      case Node::Kind::Text:
        out += n.text;
        return Flow::Normal;
      case Node::Kind::Output:
        out += eval(*n.expr).str();
        return Flow::Normal;
      case Node::Kind::If:
        for (size_t k = 0; k < n.conditions.size(); ++k)
          if (eval(*n.conditions[k]).truthy()) return exec(n.bodies[k], out);
        return exec(n.else_body, out);
      case Node::Kind::For:
        return exec_for(n, out);
      case Node::Kind::Set: {
        Value v = eval(*n.expr);
        if (!n.attr_of.empty()) {
          Value ns = lookup(n.attr_of);
          if (ns.kind != Value::Kind::Namespace)
            fail(n.line, fmt::format("cannot assign attribute on non-namespace object '{}'", n.attr_of));
          for (auto& [k, old] : *ns.dict)
            if (k == n.targets[0]) {
              old = std::move(v);
              return Flow::Normal;
            }
          ns.dict->emplace_back(n.targets[0], std::move(v));
          return Flow::Normal;
        }
        if (n.targets.size() == 1) {
          assign(n.targets[0], std::move(v));
        } else {
          List items = iterate(v, n.line);
          if (items.size() != n.targets.size())
            fail(n.line, fmt::format("cannot unpack {} values into {} names", items.size(), n.targets.size()));
          for (size_t k = 0; k < items.size(); ++k) assign(n.targets[k], items[k]);
        }
        return Flow::Normal;
      }
      case Node::Kind::SetBlock: {
        std::string captured;
        exec(n.body, captured);
        assign(n.targets[0], Value::string(captured));
        return Flow::Normal;
      }
      case Node::Kind::Macro:
        assign(n.targets[0], macro(n));
        return Flow::Normal;
      case Node::Kind::Break:
        return Flow::Break;
      case Node::Kind::Continue:
        return Flow::Continue;
      case Node::Kind::Scope:
        return exec(n.body, out);
    }
    return Flow::Normal;
  }

  Flow exec_for(const Node& n, std::string& out) {
    List items = iterate(eval(*n.expr), n.line);
    // `for x in xs if cond`: the filter runs first, so loop.* counts only kept items.
    if (n.filter) {
      List kept;
      for (const Value& item : items) {
        frames_.emplace_back();
        bind_targets(n, item);
        if (eval(*n.filter).truthy()) kept.push_back(item);
        frames_.pop_back();
      }
      items = std::move(kept);
    }
    const int64_t count = int64_t(items.size());
    // Each iteration is a fresh scope: what the body sets is gone at the next item (Jinja2).
    for (int64_t k = 0; k < count; ++k) {
      if (++iterations_ > kMaxIterations)
        fail(n.line, fmt::format("the template runs too long (more than {} loop iterations)", kMaxIterations));
      frames_.emplace_back();
      bind_targets(n, items[size_t(k)]);
      Dict loop = {{"index", Value::integer(k + 1)},
                   {"index0", Value::integer(k)},
                   {"revindex", Value::integer(count - k)},
                   {"revindex0", Value::integer(count - k - 1)},
                   {"first", Value::boolean(k == 0)},
                   {"last", Value::boolean(k == count - 1)},
                   {"length", Value::integer(count)},
                   {"depth", Value::integer(1)},
                   {"depth0", Value::integer(0)},
                   {"previtem", k > 0 ? items[size_t(k - 1)] : Value::undefined("previtem")},
                   {"nextitem", k + 1 < count ? items[size_t(k + 1)] : Value::undefined("nextitem")}};
      loop.emplace_back("cycle", Value::function([k](const CallArgs& a) {
                          if (a.positional.empty()) throw TemplateError("no items for cycling given");
                          return a.positional[size_t(k) % a.positional.size()];
                        }));
      assign("loop", Value::make_dict(std::move(loop)));
      const Flow f = exec(n.body, out);
      frames_.pop_back();
      if (f == Flow::Break) break;
    }
    if (count == 0) return exec(n.else_body, out);
    return Flow::Normal;
  }

  void bind_targets(const Node& n, const Value& item) {
    if (n.targets.size() == 1) {
      assign(n.targets[0], item);
      return;
    }
    List parts = iterate(item, n.line);
    if (parts.size() != n.targets.size())
      fail(n.line, fmt::format("cannot unpack {} values into {} loop variables", parts.size(), n.targets.size()));
    for (size_t k = 0; k < parts.size(); ++k) assign(n.targets[k], parts[k]);
  }

  // A macro: a function rendering its body in a new scope with its parameters bound.
  Value macro(const Node& n) {
    const Node* def = &n;
    return Value::function([this, def](const CallArgs& args) {
      if (call_depth_ >= kMaxCallDepth)
        fail(def->line, fmt::format("macro '{}' calls nest deeper than {}", def->targets[0], kMaxCallDepth));
      Dict frame;
      const size_t params = def->targets.size() - 1;
      if (args.positional.size() > params)
        fail(def->line,
             fmt::format("macro '{}' takes {} arguments, {} given", def->targets[0], params, args.positional.size()));
      for (size_t k = 0; k < params; ++k) {
        const std::string& name = def->targets[k + 1];
        Value v;
        if (k < args.positional.size())
          v = args.positional[k];
        else if (const Value* kw = args.kw(name))
          v = *kw;
        else if (def->defaults[k])
          v = eval(*def->defaults[k]);
        else
          v = Value::undefined(name);
        frame.emplace_back(name, v);
      }
      frames_.push_back(std::move(frame));
      std::string out;
      ++call_depth_;
      exec(def->body, out);
      --call_depth_;
      frames_.pop_back();
      return Value::string(out);
    });
  }

  CallArgs eval_args(const Expr& e, size_t first) {
    CallArgs a;
    const size_t n_kw = e.kw_names.size(), n_pos = e.args.size() - first - n_kw;
    for (size_t k = 0; k < n_pos; ++k) a.positional.push_back(eval(*e.args[first + k]));
    for (size_t k = 0; k < n_kw; ++k) a.keyword.emplace_back(e.kw_names[k], eval(*e.args[first + n_pos + k]));
    return a;
  }

  Value eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Literal:
        return e.value;
      case Expr::Kind::Name:
        return lookup(e.name);
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        List items;
        for (const ExprPtr& a : e.args) items.push_back(eval(*a));
        return e.kind == Expr::Kind::Tuple ? Value::make_tuple(std::move(items)) : Value::make_list(std::move(items));
      }
      case Expr::Kind::Dict: {
        Dict items;
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          Value key = eval(*e.args[k]);
          Value v = eval(*e.args[k + 1]);
          const std::string ks = key.str();
          bool replaced = false;
          for (auto& [name, old] : items)
            if (name == ks) old = v, replaced = true;
          if (!replaced) items.emplace_back(ks, v);
        }
        return Value::make_dict(std::move(items));
      }
      case Expr::Kind::Attr:
        return get_attr(eval(*e.args[0]), e.name, e.line);
      case Expr::Kind::Index:
        return get_item(eval(*e.args[0]), eval(*e.args[1]), e.line);
      case Expr::Kind::Slice: {
        auto part = [&](size_t k) { return e.args[k] ? eval(*e.args[k]) : Value::none(); };
        return slice(eval(*e.args[0]), part(1), part(2), part(3), e.line);
      }
      case Expr::Kind::Call: {
        Value callee = eval(*e.args[0]);
        if (callee.kind != Value::Kind::Function) {
          const std::string what = e.args[0]->kind == Expr::Kind::Name ? e.args[0]->name : callee.type_name();
          fail(e.line, callee.is_undefined() ? fmt::format("'{}' is undefined", what)
                                             : fmt::format("'{}' object is not callable", what));
        }
        return call(callee, eval_args(e, 1), e.line);
      }
      case Expr::Kind::Filter:
        return apply_filter(e.name, eval(*e.args[0]), eval_args(e, 1), e.line);
      case Expr::Kind::Test: {
        const bool r = apply_test(e.name, eval(*e.args[0]), eval_args(e, 1), e.line);
        return Value::boolean(r != e.negated);
      }
      case Expr::Kind::Unary: {
        Value v = eval(*e.args[0]);
        if (e.name == "not") return Value::boolean(!v.truthy());
        check_defined(v, e.line);
        if (!v.is_number()) fail(e.line, fmt::format("bad operand type for unary {}: '{}'", e.name, v.type_name()));
        if (e.name == "+") return v;
        return is_int(v) ? Value::integer(-as_int(v)) : Value::number(-v.f);
      }
      case Expr::Kind::Binary: {
        const std::string& op = e.name;
        if (op == "and") {
          Value a = eval(*e.args[0]);
          return a.truthy() ? eval(*e.args[1]) : a;
        }
        if (op == "or") {
          Value a = eval(*e.args[0]);
          return a.truthy() ? a : eval(*e.args[1]);
        }
        Value a = eval(*e.args[0]), b = eval(*e.args[1]);
        if (op == "==") return Value::boolean(equal(a, b));
        if (op == "!=") return Value::boolean(!equal(a, b));
        if (op == "<") return Value::boolean(less(a, b));
        if (op == ">") return Value::boolean(less(b, a));
        if (op == "<=") return Value::boolean(!less(b, a));
        if (op == ">=") return Value::boolean(!less(a, b));
        if (op == "in") return Value::boolean(contains(b, a, e.line));
        if (op == "not in") return Value::boolean(!contains(b, a, e.line));
        if (op == "~") {
          if (a.str().size() + b.str().size() > kMaxStringBytes) fail(e.line, "the result of '~' is too large");
          return Value::string(a.str() + b.str());
        }
        return arithmetic(op, a, b, e.line);
      }
      case Expr::Kind::Condition:
        if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
        return e.args[2] ? eval(*e.args[2]) : Value::undefined();
    }
    return Value::undefined();
  }

  std::vector<Dict> frames_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render(const Template& tmpl, const Dict& globals) {
  Interpreter run(globals);
  std::string out;
  run.exec(tmpl.body, out);
  return out;
}

}  // namespace peft::jinja
