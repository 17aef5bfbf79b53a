// The one parameter checker: ranges of every kind, located, and the plugin
// tables that now declare theirs.
#include "minitrain/base/param_check.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

namespace {

constexpr ParamSpec kTable[] = {
    {"count", ParamType::Int, "1", "at least 1", nullptr, at_least(1)},
    {"rate", ParamType::Float, "0.5", "above 0", nullptr, above(0)},
    {"beta", ParamType::Float, "0.9", "in [0, 1)", nullptr, in_range(0, 1, false, true)},
    {"share", ParamType::Float, "0.5", "in (0, 1]", nullptr, in_range(0, 1, true, false)},
    {"free", ParamType::Int, "0", "no bounds", nullptr},
};

struct Checked {
  PluginArgs args;
  Diagnostics diagnostics;
};

Checked check(const std::string& yaml) {
  Checked out;
  out.args = validate_params(YAML::Load(yaml), kTable, "init_args", JobSource("job.yaml"), out.diagnostics);
  return out;
}

}  // namespace

TEST_CASE("values inside their ranges pass, bounds included where they are closed") {
  const Checked c = check("{count: 1, rate: 0.001, beta: 0, share: 1, free: -7}");
  CHECK(c.diagnostics.empty());
  CHECK(c.args.integer("count") == 1);
  CHECK(c.args.number("share") == 1.0);
  CHECK(c.args.integer("free") == -7);
}

TEST_CASE("a value outside its range is an error at its own line and column, saying the range") {
  const Checked c = check("{count: 0,\n rate: 0,\n beta: 1,\n share: 0}");
  REQUIRE(c.diagnostics.items().size() == 4);
  const std::string text = c.diagnostics.format();
  CHECK(text.find("job.yaml:1:9: error: init_args.count: must be at least 1, got 0") != std::string::npos);
  CHECK(text.find("job.yaml:2:8: error: init_args.rate: must be above 0, got 0") != std::string::npos);
  CHECK(text.find("job.yaml:3:8: error: init_args.beta: must be in [0, 1), got 1") != std::string::npos);
  CHECK(text.find("job.yaml:4:9: error: init_args.share: must be in (0, 1], got 0") != std::string::npos);
  CHECK_FALSE(c.args.has("count"));  // a value out of range is not handed on
}

TEST_CASE("ranges read as help text") {
  CHECK(describe(at_least(-1)) == "at least -1");
  CHECK(describe(above(0)) == "above 0");
  CHECK(describe(in_range(0, 1, false, true)) == "in [0, 1)");
  CHECK(describe(ParamRange{}).empty());
  CHECK(range_problem(at_least(3), 2.5, "2.5") == std::optional<std::string>("must be at least 3, got 2.5"));
  CHECK_FALSE(range_problem(above(0), 1e-300, "1e-300").has_value());
}

TEST_CASE("problems of arguments that do not fit together are located at the key they blame") {
  Diagnostics diagnostics;
  const YAML::Node args = YAML::Load("{a: 1,\n b: 2}");
  report_arg_problems({{"b", "must be below a"}}, args, "model.init_args", JobSource("job.yaml"), diagnostics);
  CHECK(diagnostics.format() == "job.yaml:2:5: error: model.init_args.b: must be below a");
}
