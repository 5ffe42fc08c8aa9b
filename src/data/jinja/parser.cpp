// Template source → statements. Two passes: the source is cut into text and tags with Jinja2's
// whitespace rules (-, +, trim_blocks, lstrip_blocks, no kept trailing newline), then each tag's
// expression is tokenised and parsed by recursive descent with Jinja2's precedence:
//   cond-expr > or > and > not > compare (== != < > <= >= in, not in) > + - > ~ > * / // %
//   > ** > unary - + > postfix (.attr [index] (call)) with filters (|f) and tests (is t).
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "data/jinja/ast.h"

namespace peft::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw TemplateError(fmt::format("template line {}: {}", line, what));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// ---- pass 1: text and tags -------------------------------------------------------------

struct Segment {
  enum class Kind { Text, Var, Block } kind;
  std::string content;
  int line;
};

int count_lines(const std::string& s, size_t from, size_t to) {
  int n = 0;
  for (size_t k = from; k < to && k < s.size(); ++k) n += s[k] == '\n';
  return n;
}

// The position of `close` ("}}" or "%}") ending the tag whose content starts at `from`,
// skipping string literals (a '}}' inside quotes does not close the tag).
size_t find_tag_end(const std::string& src, size_t from, const char* close, int line) {
  char quote = 0;
  for (size_t k = from; k + 1 < src.size(); ++k) {
    const char c = src[k];
    if (quote) {
      if (c == '\\')
        ++k;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == close[0] && src[k + 1] == close[1]) {
      return k;
    }
  }
  fail(line, fmt::format("a tag is not closed (missing '{}')", close));
}

std::vector<Segment> segment(std::string src) {
  // Jinja2 normalises newlines and drops one trailing newline (keep_trailing_newline=False).
  std::string norm;
  for (size_t k = 0; k < src.size(); ++k) {
    if (src[k] == '\r') {
      norm += '\n';
      if (k + 1 < src.size() && src[k + 1] == '\n') ++k;
    } else {
      norm += src[k];
    }
  }
  if (!norm.empty() && norm.back() == '\n') norm.pop_back();
  src = std::move(norm);

  std::vector<Segment> out;
  size_t pos = 0;
  int line = 1;
  bool line_starting = true;
  while (pos <= src.size()) {
    size_t p = pos;
    while (p + 1 < src.size() && !(src[p] == '{' && (src[p + 1] == '{' || src[p + 1] == '%' || src[p + 1] == '#'))) ++p;
    if (p + 1 >= src.size()) {
      if (pos < src.size()) out.push_back({Segment::Kind::Text, src.substr(pos), line});
      break;
    }
    std::string text = src.substr(pos, p - pos);
    const int text_line = line;
    line += count_lines(src, pos, p);
    const char type = src[p + 1];
    const char flag = p + 2 < src.size() ? src[p + 2] : 0;
    if (flag == '-') {
      while (!text.empty() && is_space(text.back())) text.pop_back();
    } else if (type != '{' && flag != '+') {  // lstrip_blocks: block and comment tags
      const size_t l_pos = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
        bool blank = true;
        for (size_t k = l_pos; k < text.size(); ++k) blank = blank && is_space(text[k]);
        if (blank) text.resize(l_pos);
      }
    }
    if (!text.empty()) out.push_back({Segment::Kind::Text, text, text_line});
    const size_t body = p + 2 + (flag == '-' || flag == '+' ? 1 : 0);
    size_t end;
    if (type == '#') {
      end = src.find("#}", body);
      if (end == std::string::npos) fail(line, "a comment is not closed (missing '#}')");
    } else {
      end = find_tag_end(src, body, type == '{' ? "}}" : "%}", line);
    }
    const bool strip_after = end > body && src[end - 1] == '-';
    std::string content = src.substr(body, end - body - (strip_after ? 1 : 0));
    const int tag_line = line;
    line += count_lines(src, p, end + 2);
    pos = end + 2;
    // Whatever the tag's end consumes: all whitespace after '-', one newline (trim_blocks)
    // after a block or comment tag.
    size_t after = pos;
    if (strip_after) {
      while (after < src.size() && is_space(src[after])) ++after;
    } else if (type != '{' && after < src.size() && src[after] == '\n') {
      ++after;
    }
    line_starting = after > pos && src[after - 1] == '\n';
    line += count_lines(src, pos, after);
    pos = after;
    if (type == '#') continue;
    if (type == '%') {
      size_t a = 0;
      while (a < content.size() && is_space(content[a])) ++a;
      size_t b = content.size();
      while (b > a && is_space(content[b - 1])) --b;
      if (content.substr(a, b - a) == "raw") {  // verbatim up to {% endraw %}
        size_t k = pos;
        for (;; ++k) {
          k = src.find("{%", k);
          if (k == std::string::npos) fail(tag_line, "'raw' without 'endraw'");
          size_t c = k + 2;
          if (c < src.size() && (src[c] == '-' || src[c] == '+')) ++c;
          while (c < src.size() && is_space(src[c])) ++c;
          if (src.compare(c, 6, "endraw") == 0) break;
        }
        std::string raw = src.substr(pos, k - pos);
        if (src[k + 2] == '-')
          while (!raw.empty() && is_space(raw.back())) raw.pop_back();
        out.push_back({Segment::Kind::Text, raw, line});
        line += count_lines(src, pos, k);
        const size_t close = find_tag_end(src, k + 2, "%}", line);
        const bool strip = src[close - 1] == '-';
        pos = close + 2;
        if (strip) {
          while (pos < src.size() && is_space(src[pos])) line += src[pos++] == '\n';
        } else if (pos < src.size() && src[pos] == '\n') {
          ++pos, ++line;
        }
        line_starting = pos > 0 && src[pos - 1] == '\n';
        continue;
      }
    }
    out.push_back({type == '{' ? Segment::Kind::Var : Segment::Kind::Block, content, tag_line});
  }
  return out;
}

// ---- pass 2: expressions ---------------------------------------------------------------

struct Token {
  enum class Kind { Name, Int, Float, String, Op, End } kind;
  std::string text;
  int64_t i = 0;
  double f = 0;
};

std::vector<Token> tokenize(const std::string& s, int line) {
  std::vector<Token> out;
  size_t k = 0;
  while (k < s.size()) {
    const char c = s[k];
    if (is_space(c)) {
      ++k;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = k;
      while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
      out.push_back({Token::Kind::Name, s.substr(k, e - k)});
      k = e;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t e = k;
      bool is_float = false;
      while (e < s.size() && (std::isdigit(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
      if (e + 1 < s.size() && s[e] == '.' && std::isdigit(static_cast<unsigned char>(s[e + 1]))) {
        is_float = true;
        ++e;
        while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
      }
      if (e < s.size() && (s[e] == 'e' || s[e] == 'E')) {
        size_t x = e + 1;
        if (x < s.size() && (s[x] == '+' || s[x] == '-')) ++x;
        if (x < s.size() && std::isdigit(static_cast<unsigned char>(s[x]))) {
          is_float = true;
          e = x;
          while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
        }
      }
      std::string digits;
      for (size_t q = k; q < e; ++q)
        if (s[q] != '_') digits += s[q];
      Token t{is_float ? Token::Kind::Float : Token::Kind::Int, digits};
      errno = 0;
      if (is_float)
        t.f = std::strtod(digits.c_str(), nullptr);
      else
        t.i = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE) fail(line, fmt::format("the number {} is out of range", digits));
      out.push_back(t);
      k = e;
    } else if (c == '\'' || c == '"') {
      std::string v;
      size_t e = k + 1;
      for (; e < s.size() && s[e] != c; ++e) {
        if (s[e] != '\\' || e + 1 >= s.size()) {
          v += s[e];
          continue;
        }
        const char x = s[++e];
        switch (x) {
          case 'n':
            v += '\n';
            break;
          case 't':
            v += '\t';
            break;
          case 'r':
            v += '\r';
            break;
          case '\\':
            v += '\\';
            break;
          case '\'':
            v += '\'';
            break;
          case '"':
            v += '"';
            break;
          case '\n':
            break;
          case 'u':
          case 'x': {
            const size_t n = x == 'u' ? 4 : 2;
            if (e + n >= s.size()) fail(line, "a truncated escape in a string");
            for (size_t q = 1; q <= n; ++q)
              if (!std::isxdigit(static_cast<unsigned char>(s[e + q])))
                fail(line, fmt::format("a bad \\{} escape in a string", x));
            const uint32_t cp = uint32_t(std::stoul(s.substr(e + 1, n), nullptr, 16));
            e += n;
            if (cp < 0x80) {
              v += char(cp);
            } else if (cp < 0x800) {
              v += char(0xC0 | (cp >> 6));
              v += char(0x80 | (cp & 0x3F));
            } else {
              v += char(0xE0 | (cp >> 12));
              v += char(0x80 | ((cp >> 6) & 0x3F));
              v += char(0x80 | (cp & 0x3F));
            }
            break;
          }
          default:
            v += '\\';
            v += x;
        }
      }
      if (e >= s.size()) fail(line, "a string is not closed");
      out.push_back({Token::Kind::String, v});
      k = e + 1;
    } else {
      static const char* ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                  ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", "?"};
      bool matched = false;
      for (const char* op : ops) {
        const size_t n = std::char_traits<char>::length(op);
        if (s.compare(k, n, op) == 0) {
          out.push_back({Token::Kind::Op, op});
          k += n;
          matched = true;
          break;
        }
      }
      if (!matched) fail(line, fmt::format("unexpected character '{}'", c));
    }
  }
  out.push_back({Token::Kind::End, ""});
  return out;
}

// Nesting deeper than this (brackets, unary operators, blocks) is refused: real templates
// nest a few levels, and the parser recurses once per level.
constexpr int kMaxDepth = 200;

struct DepthGuard {
  DepthGuard(int& depth, int line) : depth_(depth) {
    if (++depth_ > kMaxDepth) fail(line, fmt::format("nesting deeper than {} levels", kMaxDepth));
  }
  ~DepthGuard() { --depth_; }
  int& depth_;
};

class ExprParser {
 public:
  ExprParser(std::vector<Token> tokens, int line) : t_(std::move(tokens)), line_(line) {}

  const Token& peek(size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  bool at_end() const { return peek().kind == Token::Kind::End; }
  bool is_op(const char* op, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::Op && peek(ahead).text == op;
  }
  bool is_name(const char* name, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::Name && peek(ahead).text == name;
  }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    ++pos_;
    return true;
  }
  bool accept_name(const char* name) {
    if (!is_name(name)) return false;
    ++pos_;
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(line_, fmt::format("expected '{}', found '{}'", op, describe(peek())));
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::Name) fail(line_, fmt::format("expected a name, found '{}'", describe(peek())));
    return t_[pos_++].text;
  }
  void expect_end() {
    if (!at_end()) fail(line_, fmt::format("unexpected '{}'", describe(peek())));
  }
  static std::string describe(const Token& t) { return t.kind == Token::Kind::End ? "end of tag" : t.text; }

  ExprPtr make(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line_;
    return e;
  }
  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b) {
    auto e = make(Expr::Kind::Binary);
    e->name = op;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  // expression: a conditional expression, or (with_tuple) a bare tuple "a, b".
  ExprPtr expression(bool with_tuple = false) {
    ExprPtr first = condition();
    if (!with_tuple) return first;
    return tuple_from(std::move(first), &ExprParser::condition, ")");
  }

  // A for loop's iterable: no conditional expression (its `if` filters the loop).
  ExprPtr or_expr_tuple() { return tuple_from(or_expr(), &ExprParser::or_expr, "if"); }

  // `first` alone, or "first, item, ..." as a tuple (a trailing comma allowed before `stop`).
  ExprPtr tuple_from(ExprPtr first, ExprPtr (ExprParser::*item)(), const char* stop) {
    if (!is_op(",")) return first;
    auto tuple = make(Expr::Kind::Tuple);
    tuple->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_end() || is_op(stop) || is_name(stop)) break;
      tuple->args.push_back((this->*item)());
    }
    return tuple;
  }

  ExprPtr condition() {
    ExprPtr value = or_expr();
    while (accept_name("if")) {
      auto e = make(Expr::Kind::Condition);
      e->args.push_back(or_expr());
      e->args.push_back(std::move(value));
      e->args.push_back(accept_name("else") ? condition() : nullptr);
      value = std::move(e);
    }
    return value;
  }
  // One left-associative level: next (op next)*, each op an operator or a keyword.
  ExprPtr level(ExprPtr (ExprParser::*next)(), std::initializer_list<const char*> ops) {
    ExprPtr a = (this->*next)();
    for (;;) {
      const char* hit = nullptr;
      for (const char* op : ops)
        if (std::isalpha(static_cast<unsigned char>(op[0])) ? accept_name(op) : accept_op(op)) {
          hit = op;
          break;
        }
      if (!hit) return a;
      a = binary(hit, std::move(a), (this->*next)());
    }
  }
  ExprPtr or_expr() { return level(&ExprParser::and_expr, {"or"}); }
  ExprPtr and_expr() { return level(&ExprParser::not_expr, {"and"}); }
  ExprPtr not_expr() {
    if (accept_name("not")) {
      auto e = make(Expr::Kind::Unary);
      e->name = "not";
      e->args.push_back(not_expr());
      return e;
    }
    return compare();
  }
  ExprPtr compare() {
    ExprPtr a = math1();
    for (;;) {
      std::string op;
      for (const char* o : {"==", "!=", "<=", ">=", "<", ">"})
        if (op.empty() && accept_op(o)) op = o;
      if (op.empty() && accept_name("in")) op = "in";
      if (op.empty() && is_name("not") && is_name("in", 1)) {
        pos_ += 2;
        op = "not in";
      }
      if (op.empty()) return a;
      a = binary(op, std::move(a), math1());
    }
  }
  ExprPtr math1() { return level(&ExprParser::concat, {"+", "-"}); }
  ExprPtr concat() { return level(&ExprParser::math2, {"~"}); }
  ExprPtr math2() { return level(&ExprParser::power, {"//", "*", "/", "%"}); }
  ExprPtr power() { return level(&ExprParser::filtered_unary, {"**"}); }
  ExprPtr filtered_unary() { return unary(true); }
  ExprPtr unary(bool with_filter) {
    DepthGuard guard(depth_, line_);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      auto u = make(Expr::Kind::Unary);
      u->name = t_[pos_++].text;
      u->args.push_back(unary(false));
      e = std::move(u);
    } else {
      e = postfix(primary());
    }
    if (with_filter) return filters(std::move(e));
    return e;
  }

  ExprPtr primary() {
    const Token tok = peek();
    switch (tok.kind) {
      case Token::Kind::String: {
        ++pos_;
        std::string s = tok.text;
        while (peek().kind == Token::Kind::String) s += t_[pos_++].text;  // "a" "b" concatenates
        auto e = make(Expr::Kind::Literal);
        e->value = Value::string(s);
        return e;
      }
      case Token::Kind::Int:
      case Token::Kind::Float: {
        ++pos_;
        auto e = make(Expr::Kind::Literal);
        e->value = tok.kind == Token::Kind::Int ? Value::integer(tok.i) : Value::number(tok.f);
        return e;
      }
      case Token::Kind::Name: {
        ++pos_;
        auto e = make(Expr::Kind::Literal);
        if (tok.text == "true" || tok.text == "True")
          e->value = Value::boolean(true);
        else if (tok.text == "false" || tok.text == "False")
          e->value = Value::boolean(false);
        else if (tok.text == "none" || tok.text == "None")
          e->value = Value::none();
        else {
          e->kind = Expr::Kind::Name;
          e->name = tok.text;
        }
        return e;
      }
      case Token::Kind::Op:
        if (accept_op("(")) {
          if (accept_op(")")) return make(Expr::Kind::Tuple);
          ExprPtr inner = expression(true);
          expect_op(")");
          return inner;
        }
        if (accept_op("[")) return items(Expr::Kind::List, "]");
        if (accept_op("{")) return items(Expr::Kind::Dict, "}");
        break;
      case Token::Kind::End:
        break;
    }
    fail(line_, fmt::format("unexpected '{}'", describe(tok)));
  }

  // A list [a, b] or dict {k: v, ...} literal after its opening bracket (a dict's args
  // alternate key, value).
  ExprPtr items(Expr::Kind kind, const char* close) {
    auto e = make(kind);
    while (!is_op(close)) {
      e->args.push_back(expression());
      if (kind == Expr::Kind::Dict) {
        expect_op(":");
        e->args.push_back(expression());
      }
      if (!accept_op(",")) break;
    }
    expect_op(close);
    return e;
  }

  // callee(args) after its '('.
  ExprPtr call(ExprPtr callee) {
    auto c = make(Expr::Kind::Call);
    c->args.push_back(std::move(callee));
    call_args(*c);
    return c;
  }

  // Call arguments after '(': positional, then name=value.
  void call_args(Expr& call) {
    std::vector<ExprPtr> kw_values;
    while (!is_op(")")) {
      if (peek().kind == Token::Kind::Name && is_op("=", 1)) {
        call.kw_names.push_back(t_[pos_].text);
        pos_ += 2;
        kw_values.push_back(expression());
      } else {
        if (!kw_values.empty()) fail(line_, "a positional argument after a keyword argument");
        call.args.push_back(expression());
      }
      if (!accept_op(",")) break;
    }
    expect_op(")");
    for (auto& v : kw_values) call.args.push_back(std::move(v));
  }

  ExprPtr postfix(ExprPtr e) {
    for (;;) {
      if (accept_op(".")) {
        auto a = make(Expr::Kind::Attr);
        if (peek().kind == Token::Kind::Int) {  // x.0 is x[0]
          a->kind = Expr::Kind::Index;
          auto idx = make(Expr::Kind::Literal);
          idx->value = Value::integer(t_[pos_++].i);
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
        } else {
          a->name = expect_name();
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (accept_op("[")) {
        e = subscript(std::move(e));
      } else if (accept_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr subscript(ExprPtr base) {
    ExprPtr parts[3];
    int part = 0;
    bool slice = false;
    while (!is_op("]")) {
      if (accept_op(":")) {
        slice = true;
        if (++part > 2) fail(line_, "too many ':' in a slice");
        continue;
      }
      parts[part] = expression();
    }
    expect_op("]");
    auto e = make(slice ? Expr::Kind::Slice : Expr::Kind::Index);
    e->args.push_back(std::move(base));
    if (!slice) {
      if (!parts[0]) fail(line_, "an empty subscript");
      e->args.push_back(std::move(parts[0]));
    } else {
      for (auto& p : parts) e->args.push_back(std::move(p));
    }
    return e;
  }

  ExprPtr filters(ExprPtr e) {
    for (;;) {
      if (accept_op("|")) {
        auto f = make(Expr::Kind::Filter);
        f->name = expect_name();
        while (accept_op(".")) f->name += "." + expect_name();
        f->args.push_back(std::move(e));
        if (accept_op("(")) call_args(*f);
        e = std::move(f);
      } else if (accept_name("is")) {
        auto t = make(Expr::Kind::Test);
        t->negated = accept_name("not");
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (accept_op("(")) {
          call_args(*t);
        } else if ((peek().kind != Token::Kind::End && peek().kind != Token::Kind::Op && !is_name("else") &&
                    !is_name("and") && !is_name("or") && !is_name("if") && !is_name("in") && !is_name("not") &&
                    !is_name("is")) ||
                   is_op("[") || is_op("{")) {
          t->args.push_back(postfix(primary()));  // `is divisibleby 3`, `is equalto x`
        }
        e = std::move(t);
      } else if (accept_op("(")) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  size_t pos_ = 0;

 private:
  std::vector<Token> t_;
  int line_;
  int depth_ = 0;
};

// ---- statements ------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Segment> segs) : segs_(std::move(segs)) {}

  Body parse_all() {
    std::string end;
    Body b = parse_body({}, end);
    return b;
  }

 private:
  // Statements up to one of `ends` (its keyword goes to `end`, its parser stays positioned
  // after the keyword in end_parser_).
  Body parse_body(const std::vector<std::string>& ends, std::string& end) {
    DepthGuard guard(depth_, k_ < segs_.size() ? segs_[k_].line : 0);
    Body body;
    while (k_ < segs_.size()) {
      const Segment& s = segs_[k_++];
      if (s.kind == Segment::Kind::Text) {
        auto n = node(Node::Kind::Text, s.line);
        n->text = s.content;
        body.push_back(std::move(n));
        continue;
      }
      auto p = std::make_unique<ExprParser>(tokenize(s.content, s.line), s.line);
      if (s.kind == Segment::Kind::Var) {
        auto n = node(Node::Kind::Output, s.line);
        n->expr = p->expression(true);
        p->expect_end();
        body.push_back(std::move(n));
        continue;
      }
      const std::string kw = p->expect_name();
      for (const std::string& e : ends)
        if (kw == e) {
          end = kw;
          end_parser_ = std::move(p);
          end_line_ = s.line;
          return body;
        }
      body.push_back(statement(kw, *p, s.line));
    }
    if (!ends.empty())
      fail(segs_.empty() ? 1 : segs_.back().line,
           fmt::format("unexpected end of template, expected '{}'", ends.back()));
    return body;
  }

  NodePtr node(Node::Kind kind, int line) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->line = line;
    return n;
  }

  NodePtr statement(const std::string& kw, ExprParser& p, int line) {
    std::string end;
    if (kw == "if") {
      auto n = node(Node::Kind::If, line);
      n->conditions.push_back(p.expression(true));
      p.expect_end();
      for (;;) {
        n->bodies.push_back(parse_body({"elif", "else", "endif"}, end));
        if (end == "elif") {
          n->conditions.push_back(end_parser_->expression(true));
          end_parser_->expect_end();
        } else if (end == "else") {
          end_parser_->expect_end();
          n->else_body = parse_body({"endif"}, end);
          break;
        } else {
          break;
        }
      }
      return n;
    }
    if (kw == "for") {
      auto n = node(Node::Kind::For, line);
      do {
        n->targets.push_back(p.expect_name());
      } while (p.accept_op(","));
      if (!p.accept_name("in")) fail(line, "expected 'in' in a for loop");
      n->expr = p.or_expr_tuple();
      if (p.accept_name("if")) n->filter = p.expression();
      if (p.accept_name("recursive")) fail(line, "unsupported feature: recursive for loops");
      p.expect_end();
      n->body = parse_body({"else", "endfor"}, end);
      if (end == "else") {
        end_parser_->expect_end();
        n->else_body = parse_body({"endfor"}, end);
      }
      return n;
    }
    if (kw == "set") {
      std::string first = p.expect_name();
      if (p.accept_op(".")) {
        auto n = node(Node::Kind::Set, line);
        n->attr_of = first;
        n->targets.push_back(p.expect_name());
        p.expect_op("=");
        n->expr = p.expression(true);
        p.expect_end();
        return n;
      }
      std::vector<std::string> names = {first};
      while (p.accept_op(",")) names.push_back(p.expect_name());
      if (p.at_end() && names.size() == 1) {
        auto n = node(Node::Kind::SetBlock, line);
        n->targets = names;
        n->body = parse_body({"endset"}, end);
        return n;
      }
      if (p.is_op("|")) fail(line, "unsupported feature: filtered block set");
      auto n = node(Node::Kind::Set, line);
      n->targets = names;
      p.expect_op("=");
      n->expr = p.expression(true);
      p.expect_end();
      return n;
    }
    if (kw == "macro") {
      auto n = node(Node::Kind::Macro, line);
      n->targets.push_back(p.expect_name());
      p.expect_op("(");
      while (!p.is_op(")")) {
        n->targets.push_back(p.expect_name());
        n->defaults.push_back(p.accept_op("=") ? p.expression() : nullptr);
        if (!p.accept_op(",")) break;
      }
      p.expect_op(")");
      p.expect_end();
      n->body = parse_body({"endmacro"}, end);
      return n;
    }
    if (kw == "break" || kw == "continue") {
      p.expect_end();
      return node(kw == "break" ? Node::Kind::Break : Node::Kind::Continue, line);
    }
    if (kw == "generation") {  // transformers' AssistantTracker: marks assistant text, renders it
      p.expect_end();
      auto n = node(Node::Kind::Scope, line);
      n->body = parse_body({"endgeneration"}, end);
      return n;
    }
    static const char* known_unsupported[] = {"filter", "call", "include",    "import", "from", "extends",
                                              "block",  "with", "autoescape", "do",     "trans"};
    for (const char* u : known_unsupported)
      if (kw == u) fail(line, fmt::format("unsupported feature: the '{}' tag", kw));
    fail(line, fmt::format("unknown tag '{}'", kw));
  }

  std::vector<Segment> segs_;
  size_t k_ = 0;
  int depth_ = 0;
  std::unique_ptr<ExprParser> end_parser_;
  int end_line_ = 0;
};

}  // namespace

std::shared_ptr<const Template> parse_template(const std::string& source) {
  auto t = std::make_shared<Template>();
  t->body = Parser(segment(source)).parse_all();
  return t;
}

}  // namespace peft::jinja
