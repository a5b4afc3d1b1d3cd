// Parsing of the unit-carrying scalars of the config format: durations and byte sizes.
//
// Both parsers are strict and total: they accept exactly the documented spellings and
// return nullopt for anything else, so the loader can turn a miss into a diagnostic.
//
//   auto t = config::parse_duration("1.5s");    // 1500ms
//   auto n = config::parse_size("64KiB");       // 65536
//   if (!config::parse_duration("15")) report("durations need a unit");
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/model.h"

namespace basalt::config {

// A non-negative decimal number followed by one unit: ms, s, m or h ("250ms", "15s",
// "1.5s", "2m", "1h"). A bare "0" is accepted; any other number needs a unit. The value
// must be a whole number of milliseconds ("1.5ms" is refused) and fit in Duration.
// Signs, spaces, exponents and compound forms ("1m30s") are refused.
std::optional<Duration> parse_duration(std::string_view text);

// A non-negative integer number of bytes, optionally followed by a binary unit:
// KiB, MiB, GiB or TiB ("1024", "64KiB", "10MiB"). Refuses fractions, signs, spaces,
// decimal units (KB, MB) and values that overflow uint64_t.
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace basalt::config
