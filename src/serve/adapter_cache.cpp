// AdapterCache: safe name resolution, single-flight loads, LRU eviction.
#include "serve/adapter_cache.h"

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "adapters/adapter_io.h"

namespace peft::serve {

namespace fs = std::filesystem;

namespace {
std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}
}  // namespace

AdapterCache::AdapterCache(const Model& model, std::string dir, int64_t max_loaded)
    : model_(model),
      dir_(dir.empty() ? std::string() : real_path(dir)),
      max_loaded_(std::max<int64_t>(max_loaded, 1)) {}

Status AdapterCache::add_pinned(const std::string& name, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto adapter, load_adapter(model_, path));
  std::lock_guard lock(mu_);
  for (const auto& p : pinned_)
    if (p->name == name) return Status::errorf("--adapter {}: the name is given twice", name);
  const bool scalable = adapter->set_scale(1.0).is_ok();
  pinned_.push_back(std::make_shared<LoadedAdapter>(LoadedAdapter{name, path, std::move(adapter), scalable}));
  ++loads_;
  return Status::ok();
}

std::variant<std::string, AdapterLookupError> AdapterCache::resolve(const std::string& name) const {
  if (dir_.empty())
    return AdapterLookupError{404, "no adapter called '" + name + "' (the server has no --adapter-dir)"};
  if (name.empty() || name[0] == '/' || name.find('\0') != std::string::npos)
    return AdapterLookupError{400, "adapter name '" + name + "' must be a relative path inside the adapter directory"};
  for (const auto& part : fs::path(name))
    if (part == "..") return AdapterLookupError{400, "adapter name '" + name + "' may not contain '..'"};
  for (const std::string& candidate : {dir_ + "/" + name, dir_ + "/" + name + ".gguf"}) {
    std::error_code ec;
    if (!fs::exists(candidate, ec)) continue;
    const std::string real = real_path(candidate);
    if (real.empty() || real.rfind(dir_ + "/", 0) != 0)
      return AdapterLookupError{400, "adapter '" + name + "' leads outside the adapter directory"};
    return real;
  }
  return AdapterLookupError{404, "The model `" + name + "` does not exist."};
}

std::optional<AdapterLookupError> AdapterCache::register_adapter(const std::string& name, const std::string& path) {
  if (dir_.empty())
    return AdapterLookupError{400, "loading adapters at run time needs --adapter-dir (paths must lie inside it)"};
  std::string rel = path;
  if (!rel.empty() && rel[0] == '/') {  // an absolute path is accepted when it lies inside the directory
    const std::string real = real_path(rel);
    if (real.empty()) return AdapterLookupError{404, "lora_path '" + path + "' does not exist"};
    if (real.rfind(dir_ + "/", 0) != 0)
      return AdapterLookupError{400, "lora_path '" + path + "' is outside the adapter directory"};
    rel = real.substr(dir_.size() + 1);
  }
  auto resolved = resolve(rel);
  if (auto* err = std::get_if<AdapterLookupError>(&resolved)) return *err;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : pinned_)
      if (p->name == name) return AdapterLookupError{400, "adapter '" + name + "' is already loaded"};
    if (registered_.count(name)) return AdapterLookupError{400, "adapter '" + name + "' is already loaded"};
    registered_[name] = rel;
    cache_.erase(name);
  }
  auto got = get(name);  // load now, so a broken adapter is reported to the caller
  if (auto* err = std::get_if<AdapterLookupError>(&got)) {
    std::lock_guard lock(mu_);
    registered_.erase(name);
    return *err;
  }
  return std::nullopt;
}

std::optional<AdapterLookupError> AdapterCache::unregister(const std::string& name) {
  std::lock_guard lock(mu_);
  for (const auto& p : pinned_)
    if (p->name == name) return AdapterLookupError{400, "adapter '" + name + "' was given at start and stays loaded"};
  const bool known = registered_.erase(name) + cache_.erase(name) > 0;
  if (!known) return AdapterLookupError{404, "The lora adapter '" + name + "' cannot be found."};
  return std::nullopt;
}

std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError> AdapterCache::get(const std::string& name) {
  std::promise<std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError>> promise;
  std::shared_future<std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError>> wait_on;
  std::string rel;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : pinned_)
      if (p->name == name) return p;
    if (auto it = cache_.find(name); it != cache_.end()) {
      it->second.last_used = ++clock_;
      wait_on = it->second.loading;
    } else {
      auto reg = registered_.find(name);
      rel = reg == registered_.end() ? name : reg->second;
      cache_[name] = Entry{promise.get_future().share(), ++clock_};
      evict_locked();
    }
  }
  if (wait_on.valid()) return wait_on.get();  // waits only for this name's own load (or none)
  // This thread loads; others asking for the name wait on the shared future.
  std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError> result;
  auto resolved = resolve(rel);
  if (auto* err = std::get_if<AdapterLookupError>(&resolved)) {
    result = *err;
  } else {
    const std::string path = std::get<std::string>(resolved);
    auto adapter = load_adapter(model_, path);
    if (adapter.is_ok()) {
      const bool scalable = (*adapter)->set_scale(1.0).is_ok();
      result = std::make_shared<LoadedAdapter>(
          LoadedAdapter{name, path, std::shared_ptr<Adapter>(std::move(*adapter)), scalable});
    } else
      result = AdapterLookupError{400, "adapter '" + name + "': " + adapter.status().message()};
  }
  promise.set_value(result);
  std::lock_guard lock(mu_);
  if (std::holds_alternative<AdapterLookupError>(result)) {
    auto it = cache_.find(name);  // failures are not cached: a fixed file loads next time
    if (it != cache_.end() && it->second.loading.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        std::holds_alternative<AdapterLookupError>(it->second.loading.get()))
      cache_.erase(it);
  } else {
    ++loads_;
  }
  return result;
}

void AdapterCache::evict_locked() {
  while (int64_t(cache_.size()) > max_loaded_) {
    auto oldest = cache_.end();
    for (auto it = cache_.begin(); it != cache_.end(); ++it)
      if (it->second.loading.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
          (oldest == cache_.end() || it->second.last_used < oldest->second.last_used))
        oldest = it;
    if (oldest == cache_.end()) return;  // everything is still loading
    cache_.erase(oldest);
    ++evictions_;
  }
}

std::vector<std::shared_ptr<LoadedAdapter>> AdapterCache::pinned() const {
  std::lock_guard lock(mu_);
  return pinned_;
}

std::vector<std::shared_ptr<LoadedAdapter>> AdapterCache::loaded() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LoadedAdapter>> out = pinned_;
  for (const auto& [name, e] : cache_)
    if (e.loading.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      if (auto* a = std::get_if<std::shared_ptr<LoadedAdapter>>(&e.loading.get())) out.push_back(*a);
  return out;
}

int64_t AdapterCache::loads() const {
  std::lock_guard lock(mu_);
  return loads_;
}

int64_t AdapterCache::evictions() const {
  std::lock_guard lock(mu_);
  return evictions_;
}

}  // namespace peft::serve
