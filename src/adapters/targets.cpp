// Target selection: match module paths the way PEFT 0.6 does.
#include "adapters/targets.h"

#include <algorithm>
#include <regex>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace peft {

namespace {
bool matches_name(const std::string& path, const std::string& name) {
  return path == name || (path.size() > name.size() && path.ends_with("." + name));
}

std::vector<SiteRef> all_sites(const Model& m) {
  std::vector<SiteRef> out;
  for (int64_t l = 0; l < m.config.n_layer; ++l)
    for (Site s : kLinearSites)
      if (linear_at(m.layers[size_t(l)], s)) out.push_back({s, l, module_path(m, s, l)});
  return out;
}
}  // namespace

Result<TargetSpec> parse_targets(const Json& cfg, const std::vector<std::string>& fallback, const std::string& where) {
  TargetSpec spec;
  const Json tm = cfg.contains("target_modules") ? cfg["target_modules"] : Json();
  if (tm.is_null()) {
    spec.names = fallback;
  } else if (tm.is_string()) {
    const std::string s = tm.get<std::string>();
    if (s == "all-linear") {
      spec.kind = TargetSpec::Kind::AllLinear;
    } else {
      spec.kind = TargetSpec::Kind::Regex;
      spec.regex = s;
      try {
        std::regex check(s);
      } catch (const std::regex_error& e) {
        return Status::errorf("{}: target_modules regex '{}' is invalid ({})", where, s, e.what());
      }
    }
  } else if (tm.is_array()) {
    for (const Json& e : tm) {
      if (!e.is_string()) return Status::errorf("{}: target_modules entries must be strings", where);
      spec.names.push_back(e.get<std::string>());
    }
    if (spec.names.empty()) return Status::errorf("{}: target_modules is an empty list", where);
  } else {
    return Status::errorf("{}: target_modules must be a list, a regex string or \"all-linear\"", where);
  }
  const Json lt = cfg.contains("layers_to_transform") ? cfg["layers_to_transform"] : Json();
  if (lt.is_number_integer()) {
    spec.layers.push_back(lt.get<int64_t>());
  } else if (lt.is_array()) {
    for (const Json& e : lt) {
      if (!e.is_number_integer()) return Status::errorf("{}: layers_to_transform entries must be integers", where);
      spec.layers.push_back(e.get<int64_t>());
    }
  } else if (!lt.is_null()) {
    return Status::errorf("{}: layers_to_transform must be null, an integer or a list", where);
  }
  return spec;
}

std::vector<std::string> target_module_names(const Model& m) {
  std::set<std::string> names;
  for (const SiteRef& r : all_sites(m)) names.insert(r.path.substr(r.path.rfind('.') + 1));
  return {names.begin(), names.end()};
}

Result<std::vector<SiteRef>> select_sites(const Model& m, const TargetSpec& spec, const std::string& where) {
  for (int64_t l : spec.layers)
    if (l < 0 || l >= m.config.n_layer)
      return Status::errorf("{}: layers_to_transform has layer {} but the model has {} layers", where, l,
                            m.config.n_layer);
  std::vector<bool> used(spec.names.size(), false);
  std::regex re(spec.kind == TargetSpec::Kind::Regex ? spec.regex : std::string("."));
  std::vector<SiteRef> out;
  for (const SiteRef& r : all_sites(m)) {
    if (!spec.layers.empty() && std::find(spec.layers.begin(), spec.layers.end(), r.layer) == spec.layers.end())
      continue;
    bool take = spec.kind == TargetSpec::Kind::AllLinear;
    if (spec.kind == TargetSpec::Kind::Regex) take = std::regex_match(r.path, re);
    for (size_t i = 0; i < spec.names.size(); ++i)
      if (matches_name(r.path, spec.names[i])) used[i] = take = true;
    if (take) out.push_back(r);
  }
  for (size_t i = 0; i < spec.names.size(); ++i)
    if (!used[i])
      return Status::errorf("{}: target module '{}' does not exist in this {} model (valid: {})", where, spec.names[i],
                            m.config.arch, fmt::join(target_module_names(m), ", "));
  if (out.empty()) return Status::errorf("{}: target_modules select no module of the model", where);
  return out;
}

Json targets_to_json(const TargetSpec& spec) {
  switch (spec.kind) {
    case TargetSpec::Kind::AllLinear:
      return "all-linear";
    case TargetSpec::Kind::Regex:
      return spec.regex;
    case TargetSpec::Kind::List:
      return spec.names;
  }
  return nullptr;
}

namespace {
std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string exact_target_regex(const Model& model, const TargetSpec& spec) {
  auto sites = select_sites(model, spec, "target_modules");
  if (!sites.is_ok()) return {};
  std::vector<std::string> paths;
  for (const SiteRef& r : sites.value()) paths.push_back(regex_escape(r.path));
  return fmt::format("(?:{})", fmt::join(paths, "|"));
}

PeftTargets peft_targets(const Model& model, const TargetSpec& spec, bool layers_as_regex) {
  PeftTargets out{targets_to_json(spec), spec.layers.empty() ? Json() : Json(spec.layers)};
  const bool restricted = !spec.layers.empty();
  if (restricted && (spec.kind == TargetSpec::Kind::Regex || layers_as_regex)) {
    const std::string re = exact_target_regex(model, spec);
    if (re.empty()) return out;  // validated when the adapter was built; keep the user's form
    return {re, nullptr};
  }
  if (spec.kind != TargetSpec::Kind::AllLinear) return out;
  auto sites = select_sites(model, spec, "target_modules");
  if (!sites.is_ok()) return out;
  std::set<std::string> names;  // all-linear: every projection of the chosen layers, by name
  for (const SiteRef& r : sites.value()) names.insert(r.path.substr(r.path.rfind('.') + 1));
  out.target_modules = std::vector<std::string>(names.begin(), names.end());
  return out;
}

}  // namespace peft
