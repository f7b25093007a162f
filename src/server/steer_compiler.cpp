#include "server/steer_compiler.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "common/log.h"

namespace geodns::server {

const steer::CompiledRule* CompiledSteering::find(const steer::Rule* rule) const noexcept {
  auto it = std::lower_bound(
      by_rule.begin(), by_rule.end(), rule,
      [](const std::pair<const steer::Rule*, const steer::CompiledRule*>& e, const steer::Rule* r) {
        return std::less<const steer::Rule*>()(e.first, r);
      });
  return it != by_rule.end() && it->first == rule ? it->second : nullptr;
}

std::span<const steer::CompiledRule* const> CompiledSteering::tables_of(
    const zone::Zone* zone) const noexcept {
  auto it = std::lower_bound(by_zone.begin(), by_zone.end(), zone, [](const auto& e, auto* z) {
    return std::less<const zone::Zone*>()(e.first, z);
  });
  if (it == by_zone.end() || it->first != zone) return {};
  return it->second;
}

size_t CompiledSteering::bytes() const noexcept {
  size_t n = index ? index->bytes() : 0;
  if (asn_index) n += asn_index->bytes();
  for (const auto& [key, base] : bases.bases) {
    n += base->runs->bytes();
    for (const steer::DcList& l : base->lists) n += sizeof(l) + l.capacity() * sizeof(uint32_t);
  }
  for (const auto& [key, table] : tables) n += key.size() + table->own_bytes();
  return n;
}

Result<std::shared_ptr<const CompiledSteering>> compile_steering(
    std::shared_ptr<const zone::ZoneSet> zones, geo::DatabasePtr database,
    const CompiledSteering* previous) {
  auto out = std::make_shared<CompiledSteering>();
  out->zones = std::move(zones);
  out->database = std::move(database);
  const bool same_db = previous != nullptr && previous->database == out->database;
  // The network indexes are big (about 50 MB for the real country database) and needed only
  // to compile a table the previous set does not have: walked on first need and dropped once
  // the set is built, so a reload that changes no steering rule walks nothing. A walk of the
  // same database numbers its classes alike, so the previous set's bases stay valid.
  if (same_db) {
    out->index = previous->index;  // set only when a caller walked it beforehand (benches)
    out->asn_index = previous->asn_index;
  }
  auto walk = [&]() -> Status {
    if (out->index) return {};
    if (!out->database) {
      out->index = geo::NetworkIndex::empty();
      return {};
    }
    auto index = geo::NetworkIndex::build(*out->database);
    if (!index) return index.error();
    out->index = std::move(index.value());
    if (const geo::Database* asn = out->database->asn_database(); asn != nullptr) {
      auto asn_index = geo::NetworkIndex::build_asn(*asn);
      if (!asn_index) return asn_index.error();
      out->asn_index = std::move(asn_index.value());
    }
    return {};
  };
  out->bases.previous = same_db ? &previous->bases : nullptr;
  if (out->zones) {
    for (const zone::ZonePtr& z : out->zones->zones) {
      std::vector<const steer::CompiledRule*> per_rule(z->rules.size(), nullptr);
      for (const steer::Rule& rule : z->rules) {
        std::string key = steer::canonical_key(rule, z->datacenters);
        if (key.empty()) continue;
        auto it = out->tables.find(key);
        if (it == out->tables.end()) {
          std::shared_ptr<const steer::CompiledRule> table;
          if (same_db) {
            if (auto old = previous->tables.find(key); old != previous->tables.end()) {
              table = old->second;
              out->bases.bases.emplace(table->base()->key, table->base());
            }
          }
          if (!table) {
            if (Status st = walk(); !st) return st.error();
            table = steer::CompiledRule::compile(rule, z->datacenters, *out->index, &out->bases,
                                                 out->asn_index.get());
          }
          if (!table) continue;
          it = out->tables.emplace(std::move(key), std::move(table)).first;
        }
        out->by_rule.emplace_back(&rule, it->second.get());
        per_rule[static_cast<size_t>(&rule - z->rules.data())] = it->second.get();
      }
      if (!z->rules.empty()) out->by_zone.emplace_back(z.get(), std::move(per_rule));
    }
  }
  out->bases.previous = nullptr;
  out->index.reset();
  out->asn_index.reset();
  std::sort(out->by_rule.begin(), out->by_rule.end(), [](const auto& a, const auto& b) {
    return std::less<const steer::Rule*>()(a.first, b.first);
  });
  std::sort(out->by_zone.begin(), out->by_zone.end(), [](const auto& a, const auto& b) {
    return std::less<const zone::Zone*>()(a.first, b.first);
  });
  return std::shared_ptr<const CompiledSteering>(std::move(out));
}

SteerCompiler::SteerCompiler(const Published<zone::ZoneSet>& zones,
                             const Published<geo::Database>& geoip,
                             Published<CompiledSteering>* out)
    : zones_(zones), geoip_(geoip), out_(out), thread_([this] { run(); }) {}

SteerCompiler::~SteerCompiler() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SteerCompiler::changed() {
  {
    std::lock_guard lock(mutex_);
    ++requested_;
  }
  cv_.notify_all();
}

void SteerCompiler::wait_idle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return done_ >= requested_ || stop_; });
}

void SteerCompiler::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || done_ < requested_; });
    if (stop_) return;
    const uint64_t target = requested_;
    lock.unlock();
    // Read the inputs after the notification: a burst of changes compiles the newest pair once.
    auto zones = zones_.load();
    auto db = geoip_.load();
    auto previous = out_->load();
    const auto started = std::chrono::steady_clock::now();
    std::string failure;
    try {
      auto compiled = compile_steering(zones, db, previous.get());
      if (compiled) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        log::info("steering_compiled", {{"rules", std::to_string(compiled.value()->by_rule.size())},
                                        {"tables", std::to_string(compiled.value()->tables.size())},
                                        {"bytes", std::to_string(compiled.value()->bytes())},
                                        {"ms", std::to_string(ms)}});
        out_->publish(std::move(compiled.value()));
      } else {
        failure = compiled.error().to_string();
      }
    } catch (const std::exception& e) {  // bad_alloc on a huge database: keep serving
      failure = e.what();
    }
    if (!failure.empty()) {
      // The old set stays published; it no longer matches the new inputs, so the pipelines
      // answer those from the runtime path meanwhile.
      log::warn("steering_compile_failed", {{"error", failure}});
    }
    lock.lock();
    done_ = std::max(done_, target);
    cv_.notify_all();
  }
}

}  // namespace geodns::server
