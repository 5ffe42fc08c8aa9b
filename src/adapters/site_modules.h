// The projections a method wraps: one Module per selected (site, layer), and the lookup every
// projection asks. The part of create() and the hooks every linear-site method shares.
#pragma once
#include <string>
#include <vector>

#include "adapters/targets.h"
#include "core/status.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

// Module: the method's per-projection record; it must have a `SiteRef ref` member.
template <typename Module>
class SiteModules {
 public:
  // select_sites(model, spec, where), then for each selected projection (layer-then-site
  // order) make(ref, linear) → Result<Module> (it declares the module's parameters), which
  // is stored with its ref and indexed.
  template <typename Make>
  Status build(const Model& model, const TargetSpec& spec, const std::string& where, Make&& make) {
    PEFT_ASSIGN_OR_RETURN(std::vector<SiteRef> sites, select_sites(model, spec, where));
    index_.reset(model.config.n_layer);
    for (const SiteRef& s : sites) {
      PEFT_ASSIGN_OR_RETURN(Module m, make(s, *linear_at(model.layers[size_t(s.layer)], s.site)));
      m.ref = s;
      index_.set(s, int(modules_.size()));
      modules_.push_back(std::move(m));
    }
    return Status::ok();
  }

  // The module at (site, layer); nullptr when the method does not wrap that projection.
  Module* find(Site site, int64_t layer) {
    const int i = index_.get(site, layer);
    return i < 0 ? nullptr : &modules_[size_t(i)];
  }
  const Module* find(Site site, int64_t layer) const {
    const int i = index_.get(site, layer);
    return i < 0 ? nullptr : &modules_[size_t(i)];
  }
  // A module's position (stable: seeds its dropout masks).
  size_t index_of(const Module& m) const { return size_t(&m - modules_.data()); }

  size_t size() const { return modules_.size(); }
  Module& operator[](size_t i) { return modules_[i]; }
  const Module& operator[](size_t i) const { return modules_[i]; }
  auto begin() { return modules_.begin(); }
  auto end() { return modules_.end(); }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<Module> modules_;
  SiteIndex index_;
};

}  // namespace peft
