// Environment-variable references inside config scalars: ${VAR}, ${VAR:-default}, $${.
//
// The loader expands every scalar value before converting it to a type, so secrets and
// per-deployment addresses can stay out of the file. The lookup is injectable for tests.
//
//   config::Expansion e = config::expand_env("Bearer ${TOKEN}", config::getenv_lookup);
//   if (e.error) report(*e.error);
//   else use(e.text, e.had_reference);   // had_reference: redact this value when shown
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace basalt::config {

// Returns the variable's value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads the process environment (std::getenv).
std::optional<std::string> getenv_lookup(std::string_view name);

struct Expansion {
  std::string text;                  // the scalar with every reference replaced
  bool had_reference = false;        // at least one ${...} was expanded (an escape $${ is not one)
  std::optional<std::string> error;  // set on the first problem; `text` is then meaningless
};

// Expands `text`:
//   ${NAME}           the variable's value; an error if it is unset (set but empty is "")
//   ${NAME:-default}  the value, or `default` when the variable is unset or empty
//   $${               a literal "${"
// NAME is [A-Za-z_][A-Za-z0-9_]*. A '$' not followed by '{' is literal. A default ends at
// the first '}' and may not contain "${" (no nesting). An unterminated "${" is an error.
Expansion expand_env(std::string_view text, const EnvLookup& lookup);

}  // namespace basalt::config
