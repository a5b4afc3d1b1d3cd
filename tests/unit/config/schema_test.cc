// docs/config.schema.json against the shipped examples and the loader: the examples pass,
// and documents the loader refuses for their shape are refused by the schema too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "config/document.h"
#include "config/loader.h"
#include "test_support.h"

namespace basalt::config {
namespace {

namespace fs = std::filesystem;
using valijson::adapters::NlohmannJsonAdapter;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::path path = test::source_dir() / "docs/config.schema.json";
    schema_json_ = new nlohmann::json(nlohmann::json::parse(read_text(path)));
    schema_ = new valijson::Schema;
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(NlohmannJsonAdapter(*schema_json_), *schema_);
  }
  static void TearDownTestSuite() {
    delete schema_;
    delete schema_json_;
  }

  // Empty when `yaml` (converted to JSON without expanding ${...}) satisfies the schema;
  // otherwise the validator's complaints, one per line.
  static std::string violations(std::string_view yaml) {
    Document doc = parse_document(yaml, "t.yaml", Expand::keep);
    if (!doc.parsed) return "YAML syntax error";
    nlohmann::json json = to_json(doc.root, /*redact=*/false);
    valijson::Validator validator;
    valijson::ValidationResults results;
    if (validator.validate(*schema_, NlohmannJsonAdapter(json), &results)) return "";
    std::string out;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      std::string where;
      for (const auto& part : error.context) where += part;
      out += where + ": " + error.description + "\n";
    }
    return out.empty() ? "invalid" : out;
  }

  static nlohmann::json* schema_json_;
  static valijson::Schema* schema_;
};

nlohmann::json* SchemaTest::schema_json_ = nullptr;
valijson::Schema* SchemaTest::schema_ = nullptr;

TEST_F(SchemaTest, IsDraft07AndClosedAtTheTop) {
  EXPECT_EQ((*schema_json_)["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ((*schema_json_)["additionalProperties"], false);
}

TEST_F(SchemaTest, EveryExampleValidates) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(test::source_dir() / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(violations(read_text(entry.path())), "");
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

constexpr std::string_view kValid =
    "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
    "upstreams: [ { name: u, endpoints: [ { address: h:1, weight: 2 } ] } ]\n";

std::string with(std::string_view more) { return std::string(kValid) + std::string(more); }

TEST_F(SchemaTest, AcceptsWhatTheLoaderAccepts) {
  const std::string docs[] = {
      with(""),
      with("routes: [ { name: r, upstream: u, timeout: 1.5s, max_body_bytes: 64KiB } ]\n"),
      with("routes: [ { name: r, split: [ { upstream: u, weight: 0 }, { upstream: u } ] } ]\n"),
      with("routes: [ { name: r, match: { path_prefix: /a }, upstream: u,"
           " rewrite: { path_prefix: /b } } ]\n"),
      with("limits: { drain_timeout: 0, max_body_bytes: 1024, idle_timeout: 2m }\n"),
      with("admin: { enabled: false }\nworkers: 8\n"),
      with("routes: [ { name: r, redirect: { location: /x, status: 307 } } ]\n"),
      with("routes: [ { name: r, upstream: u,"
           " match: { headers: [ { name: x-a, present: true } ], methods: [GET] } } ]\n"),
      with("limits: { header_timeout: \"${T:-10s}\" }\n"),
  };
  for (const auto& doc : docs) {
    SCOPED_TRACE(doc);
    EXPECT_TRUE(load_string(doc, "t.yaml").ok());
    EXPECT_EQ(violations(doc), "");
  }
}

TEST_F(SchemaTest, RefusesWhatTheLoaderRefusesForItsShape) {
  const std::string docs[] = {
      "upstreams: []\n",                                                    // no listeners
      "listeners: []\n",                                                    // empty listeners
      with("colour: red\n"),                                                // unknown top-level key
      with("routes: [ { name: r, upstream: u, timeuot: 1s } ]\n"),          // unknown route key
      with("routes: [ { name: r } ]\n"),                                    // no action
      with("routes: [ { name: r, upstream: u, direct_response: {} } ]\n"),  // two actions
      with("routes: [ { name: r, split: [] } ]\n"),                         // empty split
      with("routes: [ { name: r, upstream: u, timeout: 15 } ]\n"),          // duration without unit
      with("routes: [ { name: r, upstream: u, max_body_bytes: 1MB } ]\n"),  // decimal unit
      with("routes: [ { name: r, upstream: u, rewrite: { path_prefix: /b } } ]\n"),
      with("routes: [ { name: r, upstream: u, match: { path: /a, path_prefix: /b } } ]\n"),
      with("routes: [ { name: r, upstream: u,"
           " match: { headers: [ { name: x, exact: a, present: true } ] } } ]\n"),
      with("routes: [ { name: r, upstream: u, match: { hosts: [ \"a.*.com\" ] } } ]\n"),
      with("routes: [ { name: r, redirect: { location: /x, status: 200 } } ]\n"),
      with("routes: [ { name: r, direct_response: { status: 600 } } ]\n"),
      with("admin: { address: localhost }\n"),  // missing port
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "upstreams: [ { name: v, endpoints: [] } ]\n",
      with("log: { level: loud }\n"),
      with("workers: 0\n"),
  };
  for (const auto& doc : docs) {
    SCOPED_TRACE(doc);
    EXPECT_FALSE(load_string(doc, "t.yaml").ok());
    EXPECT_NE(violations(doc), "");
  }
}

}  // namespace
}  // namespace basalt::config
