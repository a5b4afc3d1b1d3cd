#include "router/split.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace basalt::router {
namespace {

std::vector<config::WeightedTarget> targets(std::initializer_list<uint32_t> weights) {
  std::vector<config::WeightedTarget> out;
  int n = 0;
  for (uint32_t w : weights) out.push_back({"u" + std::to_string(n++), w, {}});
  return out;
}

TEST(Split, NinetyTenPicksByRange) {
  const Split split(targets({90, 10}));
  ASSERT_EQ(split.total(), 100u);
  for (uint32_t r = 0; r < 100; ++r) EXPECT_EQ(split.pick(r), r < 90 ? 0u : 1u) << r;
}

TEST(Split, EveryTargetGetsExactlyItsWeight) {
  const Split split(targets({3, 1, 5, 2}));
  ASSERT_EQ(split.total(), 11u);
  std::vector<int> counts(4, 0);
  for (uint32_t r = 0; r < split.total(); ++r) ++counts[split.pick(r)];
  EXPECT_EQ(counts, (std::vector<int>{3, 1, 5, 2}));
}

TEST(Split, SingleTargetTakesEverything) {
  const Split split(targets({1}));
  EXPECT_EQ(split.total(), 1u);
  EXPECT_EQ(split.pick(0), 0u);
}

TEST(Split, ZeroWeightTargetIsNeverPicked) {
  const Split split(targets({0, 5, 0, 5, 0}));
  ASSERT_EQ(split.total(), 10u);
  for (uint32_t r = 0; r < 10; ++r) EXPECT_EQ(split.pick(r), r < 5 ? 1u : 3u) << r;
}

TEST(Split, OutOfRangeDrawPicksTheLastWeightedTarget) {
  const Split split(targets({90, 10, 0}));
  EXPECT_EQ(split.pick(100), 1u);
  EXPECT_EQ(split.pick(std::numeric_limits<uint32_t>::max()), 1u);
}

TEST(Split, EmptyOrWeightlessSplitPicksZero) {
  EXPECT_EQ(Split().total(), 0u);
  EXPECT_EQ(Split().pick(7), 0u);
  EXPECT_EQ(Split(targets({0, 0})).pick(0), 0u);
  EXPECT_EQ(Split(targets({})).size(), 0u);
}

TEST(Split, HugeWeightsSaturateInsteadOfWrapping) {
  const uint32_t max = std::numeric_limits<uint32_t>::max();
  const Split split(targets({max - 1, 10}));
  EXPECT_EQ(split.total(), max);
  EXPECT_EQ(split.pick(0), 0u);
  EXPECT_EQ(split.pick(max - 1), 1u);
}

}  // namespace
}  // namespace basalt::router
