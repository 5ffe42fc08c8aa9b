// GLUE TSV / E2E line parsing with layout detection and file:line errors.
#include "data/glue_e2e.h"

#include "data/webnlg_dart.h"

#include <cctype>
#include <cstdlib>

#include "core/text.h"
#include "io/mapped_file.h"

namespace peft {

namespace {
struct Line {
  std::string_view text;
  int64_t number = 0;
};

// Non-blank lines, '\r' dropped (files edited on Windows), after a UTF-8 byte order mark.
std::vector<Line> content_lines(std::string_view content) {
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  std::vector<Line> lines;
  size_t pos = 0;
  for (int64_t n = 1; pos < content.size(); ++n) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    bool blank = true;
    for (char c : line) blank = blank && std::isspace(static_cast<unsigned char>(c));
    if (!blank) lines.push_back({line, n});
  }
  return lines;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> f;
  size_t b = 0;
  for (size_t e; (e = line.find('\t', b)) != std::string_view::npos; b = e + 1) f.push_back(line.substr(b, e - b));
  f.push_back(line.substr(b));
  return f;
}

// Which task a GLUE file holds and where its columns are.
struct Layout {
  const VerbalTask* task = nullptr;
  bool header = true;
  size_t columns = 0;
  int a = -1, b = -1, label = -1;  // column indices; b only for sentence pairs
};

// `second` is the first data row (WNLI and RTE share a header and differ in their labels).
Result<Layout> detect_layout(const std::vector<std::string_view>& first, const std::vector<std::string_view>& second,
                             const std::string& where) {
  auto col = [&](std::string_view n) {
    for (size_t i = 0; i < first.size(); ++i)
      if (first[i] == n) return int(i);
    return -1;
  };
  const int s = col("sentence"), s1 = col("sentence1"), s2 = col("sentence2"), label = col("label"),
            score = col("score"), gold = col("gold_label"), q = col("question"), q1 = col("question1"),
            q2 = col("question2"), dup = col("is_duplicate"), quality = col("Quality"), m1 = col("#1 String"),
            m2 = col("#2 String");
  const size_t n = first.size();
  auto task = [](const char* name) { return find_verbal_task(name); };
  if (quality >= 0 && m1 >= 0 && m2 >= 0) return Layout{task("mrpc"), true, n, m1, m2, quality};
  if (q1 >= 0 && q2 >= 0) {
    if (dup < 0)
      return Status::errorf("{}: a QQP header without 'is_duplicate' (GLUE test files are unlabelled)", where);
    return Layout{task("qqp"), true, n, q1, q2, dup};
  }
  if (q >= 0 && s >= 0) {
    if (label < 0) return Status::errorf("{}: a QNLI header without 'label' (GLUE test files are unlabelled)", where);
    return Layout{task("qnli"), true, n, q, s, label};
  }
  if (gold >= 0 && s1 >= 0 && s2 >= 0) return Layout{task("mnli"), true, n, s1, s2, gold};
  if (s >= 0 || s1 >= 0 || label >= 0 || score >= 0) {
    if (label < 0 && score < 0)
      return Status::errorf(
          "{}: the header has no 'label' or 'score' column (GLUE test files are unlabelled: use "
          "train.tsv or dev.tsv)",
          where);
    if (s >= 0 && label >= 0 && n == 2) return Layout{task("sst2"), true, 2, s, -1, label};
    if (s1 >= 0 && s2 >= 0 && label >= 0) {
      const bool binary =
          size_t(label) < second.size() && (second[size_t(label)] == "0" || second[size_t(label)] == "1");
      return Layout{task(binary ? "wnli" : "rte"), true, n, s1, s2, label};
    }
    if (s1 >= 0 && s2 >= 0 && score >= 0) return Layout{task("stsb"), true, n, s1, s2, score};
    return Status::errorf("{}: a header this does not know", where);
  }
  if (n == 4 && (first[1] == "0" || first[1] == "1")) return Layout{task("cola"), false, 4, 3, -1, 1};
  return Status::errorf(
      "{}: not a GLUE layout: expected the header of SST-2 (sentence, label), RTE/WNLI (sentence1, sentence2, "
      "label), STS-B (... score), MRPC (Quality, #1 String, #2 String), QQP (question1, question2, is_duplicate), "
      "QNLI (question, sentence, label) or MNLI (... gold_label), or CoLA's four header-less columns (source, "
      "0/1, mark, sentence)",
      where);
}

Result<double> parse_label(const VerbalTask& task, std::string_view text, const std::string& where) {
  if (task.kind == VerbalKind::Score) {
    const std::string s(text);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= 0.0 && v <= 5.0))
      return Status::errorf("{}: score '{}' is not a number in [0, 5]", where, s);
    return v;
  }
  for (size_t c = 0; c < task.label_names.size(); ++c)
    if (text == task.label_names[c]) return double(c);
  return Status::errorf("{}: label '{}' is not one of {}'s labels ({})", where, text, task.name,
                        fmt::join(task.label_names, ", "));
}
}  // namespace

Result<VerbalFile> parse_glue_tsv(std::string_view content, const std::string& name, std::string_view expect) {
  const std::vector<Line> lines = content_lines(content);
  if (lines.empty()) return Status::errorf("{}: no records (the file is empty)", name);
  const std::vector<std::string_view> second = lines.size() > 1 ? split_tabs(lines[1].text) : split_tabs("");
  PEFT_ASSIGN_OR_RETURN(
      Layout l, detect_layout(split_tabs(lines[0].text), second, fmt::format("{}: line {}", name, lines[0].number)));
  if (!expect.empty() && l.task->name != expect)
    return Status::errorf("{}: line {}: this is a {} file (by its layout), not {}", name, lines[0].number, l.task->name,
                          expect);
  VerbalFile f;
  f.task = l.task;
  for (size_t i = l.header ? 1 : 0; i < lines.size(); ++i) {
    const std::string where = fmt::format("{}: line {}", name, lines[i].number);
    const auto c = split_tabs(lines[i].text);
    if (c.size() != l.columns)
      return Status::errorf("{}: expected {} tab-separated columns, found {}", where, l.columns, c.size());
    VerbalRow row;
    PEFT_ASSIGN_OR_RETURN(row.label, parse_label(*l.task, c[size_t(l.label)], where));
    row.input = verbal_input(*l.task, c[size_t(l.a)], l.b >= 0 ? c[size_t(l.b)] : std::string_view{});
    row.text_a = std::string(c[size_t(l.a)]);
    if (l.b >= 0) row.text_b = std::string(c[size_t(l.b)]);
    row.line = lines[i].number;
    f.rows.push_back(std::move(row));
  }
  if (f.rows.empty()) return Status::errorf("{}: no records (only a header)", name);
  return f;
}

Result<VerbalFile> parse_e2e_lines(std::string_view content, const std::string& name) {
  VerbalFile f;
  f.task = find_verbal_task("e2e");
  for (const Line& line : content_lines(content)) {
    const std::string where = fmt::format("{}: line {}", name, line.number);
    const size_t sep = line.text.find("||");
    if (sep == std::string_view::npos) return Status::errorf("{}: expected 'MR||reference'", where);
    VerbalRow row;
    row.input = verbal_input(*f.task, line.text.substr(0, sep));
    row.reference = std::string(strip_ws(line.text.substr(sep + 2)));
    if (row.input.empty() || row.reference.empty())
      return Status::errorf("{}: empty meaning representation or reference around '||'", where);
    row.line = line.number;
    f.rows.push_back(std::move(row));
  }
  if (f.rows.empty()) return Status::errorf("{}: no records (the file is empty)", name);
  return f;
}

Result<VerbalFile> load_verbal_file(std::string_view task, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  const std::string_view content(reinterpret_cast<const char*>(file->data()), file->size());
  if (task == "e2e") return parse_e2e_lines(content, path);
  if (task == "webnlg") return parse_webnlg_json(content, path);
  if (task == "dart") return parse_dart_json(content, path);
  return parse_glue_tsv(content, path, task);
}

std::vector<Record> verbal_records(const VerbalFile& file, const std::string& name) {
  std::vector<Record> records;
  records.reserve(file.rows.size());
  for (const VerbalRow& row : file.rows) {
    std::string output = file.task->kind == VerbalKind::Text ? row.reference : verbalise_label(*file.task, row.label);
    records.push_back(
        verbal_record(*file.task, row.input, std::move(output), fmt::format("{}: line {}", name, row.line)));
  }
  return records;
}

Result<std::vector<Record>> parse_glue_records(std::string_view content, const std::string& name) {
  PEFT_ASSIGN_OR_RETURN(VerbalFile f, parse_glue_tsv(content, name));
  return verbal_records(f, name);
}

Result<std::vector<Record>> parse_e2e_records(std::string_view content, const std::string& name) {
  PEFT_ASSIGN_OR_RETURN(VerbalFile f, parse_e2e_lines(content, name));
  return verbal_records(f, name);
}

}  // namespace peft
