#include "config/model.h"

namespace basalt::config {

std::string Diagnostic::format() const {
  if (pos.line <= 0) return pos.file + ": " + message;
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
         message;
}

}  // namespace basalt::config
