// Weighted choice among a route's targets (canary and blue/green splits).
//
// Cumulative weights are computed once when the route table is compiled, so a pick is one
// binary search over a handful of integers with no allocation. The caller draws the random
// number, which keeps this class deterministic and lets each worker use its own generator.
//
//   router::Split split(route.split);               // weights 90 and 10
//   size_t target = split.pick(rng() % split.total());
//   const auto& upstream = route.split[target].upstream;
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "config/model.h"

namespace basalt::router {

class Split {
 public:
  Split() = default;
  explicit Split(const std::vector<config::WeightedTarget>& targets);

  // Index of the target that owns `r`, for r drawn uniformly in [0, total()). Target i owns
  // the next weight(i) values after its predecessors, so a target of weight 0 is never
  // picked. An r >= total() picks the last target that has a weight. With no targets, or
  // all weights 0, returns 0: callers only pick for routes that have a split.
  size_t pick(uint32_t r) const;

  // Sum of the weights. The loader keeps it within uint32_t; a larger sum saturates.
  uint32_t total() const { return cumulative_.empty() ? 0 : cumulative_.back(); }

  size_t size() const { return cumulative_.size(); }

 private:
  std::vector<uint32_t> cumulative_;  // cumulative_[i] = weight(0) + ... + weight(i)
};

}  // namespace basalt::router
