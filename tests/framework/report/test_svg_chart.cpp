#include <cmath>
#include <limits>
#include <string>

#include "minitrain/report/svg_chart.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::count_of;

namespace {

// The polyline's points attribute of the first series.
std::string polyline_of(const std::string& svg) {
  const std::size_t begin = svg.find("<polyline points=\"") + 18;
  return svg.substr(begin, svg.find('"', begin) - begin);
}

}  // namespace

TEST_CASE("nice_ticks covers the range with round steps") {
  CHECK(nice_ticks(0, 10, 6) == std::vector<double>{0, 2, 4, 6, 8, 10});
  CHECK(nice_ticks(0.13, 0.92, 5) == std::vector<double>{0.2, 0.4, 0.6, 0.8});
  CHECK(nice_ticks(-1, 1, 5) == std::vector<double>{-1, -0.5, 0, 0.5, 1});
  const std::vector<double> big = nice_ticks(0, 72, 8);
  CHECK(big.front() == 0);
  CHECK(big.size() <= 8);
  CHECK(nice_ticks(3, 3, 5) == std::vector<double>{3});
}

TEST_CASE("format_number is short and exact enough to read") {
  CHECK(format_number(0) == "0");
  CHECK(format_number(12.5) == "12.5");
  CHECK(format_number(2.51334123) == "2.51334");
  CHECK(format_number(0.001) == "0.001");
  CHECK(format_number(3.2e6) == "3.2e+06");
  CHECK(format_number(2e-5) == "2e-05");
}

TEST_CASE("a chart draws its axes, a line and a dot with a tooltip per point, and markers") {
  Chart chart{"loss", "Loss per epoch", "epoch", "loss",
              {{"train_loss", {{0, 3.2}, {1, 2.9}, {2, 2.5}}}, {"val_loss", {{0, 3.0}, {2, 2.6}}}}, {{2, "best checkpoint"}}};
  const std::string svg = render_chart(chart);
  CHECK(svg.find("<figure class=\"chart\" id=\"loss\" data-x-label=\"epoch\">") == 0);
  CHECK(count_of(svg, "<g class=\"axis x\"") == 1);
  CHECK(count_of(svg, "<g class=\"axis y\"") == 1);
  CHECK(svg.find("<text class=\"label\" x=\"347\" y=\"272\" text-anchor=\"middle\">epoch</text>") != std::string::npos);
  CHECK(svg.find("data-name=\"train_loss\" data-points=\"3\" data-values=\"0,3.2 1,2.9 2,2.5\"") != std::string::npos);
  CHECK(svg.find("data-name=\"val_loss\" data-points=\"2\"") != std::string::npos);
  CHECK(count_of(svg, "<circle ") == 5);
  CHECK(svg.find("<title>train_loss: epoch 1, 2.9</title>") != std::string::npos);
  CHECK(count_of(svg, "<g class=\"marker\">") == 1);
  CHECK(svg.find(">best checkpoint</text>") != std::string::npos);
  CHECK(svg.find("no points yet") == std::string::npos);
  // x from 0 to 2 spans the plot, 70 to 624 pixels; y is padded by 5% of its range.
  const std::string line = polyline_of(svg);
  CHECK(line.rfind("70.0,", 0) == 0);
  CHECK(line.find(" 624.0,") != std::string::npos);
}

TEST_CASE("a chart leaves out values that are not finite, thins long series, and says when it has no points") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const std::string with_gaps = render_chart({"a", "A", "step", "loss", {{"loss", {{0, 1}, {1, nan}, {2, inf}, {3, 0.5}}}}, {}});
  CHECK(with_gaps.find("data-points=\"2\"") != std::string::npos);
  CHECK(count_of(polyline_of(with_gaps), ",") == 2);

  ChartSeries many{"lr", {}};
  for (int i = 0; i < 5000; ++i) many.points.emplace_back(i, std::sin(i * 0.01));
  const std::string thinned = render_chart({"b", "B", "step", "lr", {many}, {}});
  CHECK(thinned.find("data-points=\"2000\"") != std::string::npos);
  CHECK(count_of(polyline_of(thinned), ",") == 2000);
  CHECK(count_of(thinned, "<circle ") == 0);  // too many to tell apart
  CHECK(thinned.find("data-values=\"0,0 ") != std::string::npos);
  CHECK(thinned.find(" 4999,") != std::string::npos);  // the last point is kept

  const std::string empty = render_chart({"c", "C", "epoch", "loss", {{"train_loss", {}}}, {}});
  CHECK(empty.find("no points yet") != std::string::npos);
  CHECK(empty.find("data-points=\"0\"") != std::string::npos);
}

TEST_CASE("text in a chart is escaped") {
  const std::string svg = render_chart({"x\"y", "<b>&", "a<b", "c", {{"s'1", {{0, 1}}}}, {}});
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK(svg.find("&lt;b&gt;&amp;") != std::string::npos);
  CHECK(svg.find("id=\"x&quot;y\"") != std::string::npos);
  CHECK(svg.find("data-name=\"s&#39;1\"") != std::string::npos);
  CHECK(escape_html("a&b<c>\"'") == "a&amp;b&lt;c&gt;&quot;&#39;");
}
