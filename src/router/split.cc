#include "router/split.h"

#include <algorithm>
#include <limits>

namespace basalt::router {

Split::Split(const std::vector<config::WeightedTarget>& targets) {
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  cumulative_.reserve(targets.size());
  uint64_t sum = 0;
  for (const auto& t : targets) {
    sum = std::min<uint64_t>(sum + t.weight, kMax);
    cumulative_.push_back(static_cast<uint32_t>(sum));
  }
}

size_t Split::pick(uint32_t r) const {
  if (total() == 0) return 0;

  // The first target whose cumulative weight exceeds r owns r.
  const auto owner = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
  if (owner != cumulative_.end()) return static_cast<size_t>(owner - cumulative_.begin());

  // r >= total(): the last target with a weight is the one whose cumulative first reached
  // the total.
  const auto last = std::lower_bound(cumulative_.begin(), cumulative_.end(), total());
  return static_cast<size_t>(last - cumulative_.begin());
}

}  // namespace basalt::router
