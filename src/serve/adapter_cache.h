// The adapters a server holds: named ones given at start (always loaded), and names resolved
// inside --adapter-dir, loaded on first use and kept least-recently-used up to a bound.
#pragma once
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "core/status.h"
#include "model/model.h"

namespace peft::serve {

// A loaded adapter; requests hold it by shared_ptr, so an evicted adapter lives on until the
// requests using it finish.
struct LoadedAdapter {
  std::string name, path;
  std::shared_ptr<Adapter> adapter;
  // Whether its effect can be scaled (llama-server's per-request "lora" scale): methods with
  // a low-rank update. Found once at load (set_scale(1) succeeds), before any request uses it.
  bool scalable = false;
};

// What a lookup failed on: 404 for a name that resolves to nothing, 400 for a name that may
// not be resolved (outside the directory), 500-free otherwise (a broken adapter file is the
// server's 400 naming the file).
struct AdapterLookupError {
  int status;
  std::string message;
};

class AdapterCache {
 public:
  // dir: --adapter-dir (empty: none); max_loaded: on-demand adapters kept at once (>= 1).
  AdapterCache(const Model& model, std::string dir, int64_t max_loaded);

  // An adapter given by --adapter NAME=PATH: loaded now, never evicted.
  Status add_pinned(const std::string& name, const std::string& path);
  // vLLM's /v1/load_lora_adapter: `path` must lie inside the adapter directory (relative to
  // it, or absolute within it). Loads it now; it may later be evicted and reloaded.
  std::optional<AdapterLookupError> register_adapter(const std::string& name, const std::string& path);
  // /v1/unload_lora_adapter: forgets a registered or cached name (pinned ones stay).
  std::optional<AdapterLookupError> unregister(const std::string& name);

  // The adapter called `name`, loading it if needed. Concurrent requests for a name being
  // loaded wait for that one load; loads of different names run in parallel.
  std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError> get(const std::string& name);

  // Pinned adapters in the order given (llama-server's "lora" ids index them).
  std::vector<std::shared_ptr<LoadedAdapter>> pinned() const;
  // Names currently in memory (pinned and cached), for /v1/models.
  std::vector<std::shared_ptr<LoadedAdapter>> loaded() const;
  int64_t loads() const;      // adapters read from disk so far
  int64_t evictions() const;  // cache entries dropped for room

  // `name` as a path inside the adapter directory: refused when absolute, with a ".."
  // component, or when its real path (symlinks followed) leaves the directory.
  std::variant<std::string, AdapterLookupError> resolve(const std::string& name) const;

 private:
  struct Entry {
    std::shared_future<std::variant<std::shared_ptr<LoadedAdapter>, AdapterLookupError>> loading;
    uint64_t last_used = 0;
  };
  void evict_locked();

  const Model& model_;
  std::string dir_;  // real path of --adapter-dir, or empty
  int64_t max_loaded_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<LoadedAdapter>> pinned_;
  std::map<std::string, std::string> registered_;  // name → path (load_lora_adapter)
  std::map<std::string, Entry> cache_;
  uint64_t clock_ = 0;
  int64_t loads_ = 0, evictions_ = 0;
};

}  // namespace peft::serve
