// basalt: the command line. `run` serves a config, `check` validates one offline, `version`
// prints the version. Each takes --help.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "gateway/server.h"
#include "observe/log.h"
#include "router/router.h"

namespace {

using namespace basalt;

constexpr std::string_view kUsage =
    "basalt - an HTTP API gateway configured by one YAML file\n"
    "\n"
    "usage:\n"
    "  basalt run -c FILE     serve the config in FILE until SIGTERM/SIGINT\n"
    "  basalt check FILE      validate FILE; print every problem as FILE:LINE:COLUMN: message\n"
    "  basalt version         print the version\n"
    "  basalt COMMAND --help  help for one command\n";

constexpr std::string_view kRunUsage =
    "usage: basalt run -c FILE\n"
    "\n"
    "Loads FILE, refuses to start if it has any problem (printed as FILE:LINE:COLUMN: message),\n"
    "then serves it. SIGTERM or SIGINT drains in-flight requests and exits 0.\n"
    "  -c, --config FILE   the config file (YAML)\n";

constexpr std::string_view kCheckUsage =
    "usage: basalt check FILE\n"
    "\n"
    "Validates FILE without serving: syntax, unknown keys, types, references between routes and\n"
    "upstreams, regexes, and routes shadowed by earlier ones. Prints every problem as\n"
    "FILE:LINE:COLUMN: message on stderr. Exit status 0 when valid, 1 otherwise.\n";

constexpr std::string_view kVersionUsage = "usage: basalt version\n\nPrints the version.\n";

bool wants_help(const std::vector<std::string_view>& args) {
  for (auto a : args)
    if (a == "-h" || a == "--help") return true;
  return false;
}

// Loads and runs every offline check; prints problems. nullptr when there were any.
std::shared_ptr<const config::Config> load_checked(const std::string& path) {
  auto loaded = config::load_file(path);
  std::vector<config::Diagnostic> problems = loaded.errors;
  if (loaded.ok()) {
    auto shadowed = router::find_shadowed(*loaded.config);
    problems.insert(problems.end(), shadowed.begin(), shadowed.end());
  }
  for (const auto& d : problems) std::cerr << d.format() << '\n';
  if (!problems.empty()) {
    std::cerr << path << ": " << problems.size()
              << (problems.size() == 1 ? " problem" : " problems") << '\n';
    return nullptr;
  }
  return loaded.config;
}

int cmd_check(const std::vector<std::string_view>& args) {
  if (wants_help(args)) return std::cout << kCheckUsage, 0;
  if (args.size() != 1)
    return std::cerr << "basalt check: expected one FILE, got " << args.size() << '\n'
                     << kCheckUsage,
           2;
  if (args[0].size() > 1 && args[0].front() == '-')
    return std::cerr << "basalt check: unknown option '" << args[0] << "'\n" << kCheckUsage, 2;
  std::string path(args[0]);
  if (!load_checked(path)) return 1;
  std::cout << path << ": ok\n";
  return 0;
}

int cmd_run(const std::vector<std::string_view>& args) {
  if (wants_help(args)) return std::cout << kRunUsage, 0;
  std::string path;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-c" || args[i] == "--config") {
      if (i + 1 == args.size())
        return std::cerr << "basalt run: " << args[i] << " needs a FILE\n" << kRunUsage, 2;
      path = std::string(args[++i]);
    } else if (args[i].starts_with("--config="))
      path = std::string(args[i].substr(9));
    else
      return std::cerr << "basalt run: unexpected argument '" << args[i] << "'\n" << kRunUsage, 2;
  }
  if (path.empty()) return std::cerr << "basalt run: no config file given\n" << kRunUsage, 2;

  auto cfg = load_checked(path);
  if (!cfg) return 1;
  std::string err;
  if (!observe::log::init(cfg->log, &err)) {
    std::cerr << "basalt: cannot open the log: " << err << '\n';
    return 1;
  }
  observe::log::mirror_errors_to_stderr(true);  // until the gateway is ready
  observe::log::info("gateway", "starting", {{"config", path}, {"version", BASALT_VERSION}});
  return gateway::run_server(cfg);
}

int cmd_version(const std::vector<std::string_view>& args) {
  if (wants_help(args)) return std::cout << kVersionUsage, 0;
  if (!args.empty())
    return std::cerr << "basalt version: unexpected argument '" << args[0] << "'\n"
                     << kVersionUsage,
           2;
  std::cout << "basalt " << BASALT_VERSION << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return std::cerr << kUsage, 2;
  std::string_view cmd = args.front();
  std::vector<std::string_view> rest(args.begin() + 1, args.end());
  if (cmd == "-h" || cmd == "--help" || cmd == "help") return std::cout << kUsage, 0;
  if (cmd == "run") return cmd_run(rest);
  if (cmd == "check") return cmd_check(rest);
  if (cmd == "version" || cmd == "--version") return cmd_version(rest);
  std::cerr << "basalt: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
