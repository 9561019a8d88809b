// bench/epoch_workloads.hpp: pieces of the epoch workloads that the Google Benchmark suite
// (bench/epoch.cpp) and the callgrind driver (bench/epoch_callgrind.cpp) share, so that
// both measure the same thing.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <lockless/epoch.hpp>

namespace lockless_bench {

// `n` epoch domains of their own, in creation order (registration and guard workloads
// over many domains).
using domain_list = std::vector<std::unique_ptr<lockless::epoch_domain>>;

inline domain_list make_domains(std::size_t n) {
  domain_list domains;
  domains.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    domains.push_back(std::make_unique<lockless::epoch_domain>());
  }
  return domains;
}

}  // namespace lockless_bench
