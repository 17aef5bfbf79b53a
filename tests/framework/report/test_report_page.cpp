#include <regex>
#include <string>

#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/report/report_page.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::count_of;
using minitrain::testing::read_file;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

RunRecord a_fit(int epochs) {
  RunRecord r;
  r.starts.push_back({1000.0, "fit", 2, 0, "trainer:\n  max_epochs: 3\n", "minitrain 0.1.0 | LibTorch 2.6.0", "protein_encoder"});
  for (int e = 0; e < epochs; ++e) {
    for (int s = 1; s <= 4; ++s) r.steps[e * 4 + s] = {1000.0 + e + s * 0.2, e, e * 4 + s, 3.0 - e * 0.3 - s * 0.01, 0.001 * s};
    r.epochs[e] = {1001.0 + e, e, e * 4 + 4, 0.8, 4, 32,
                   {{"train_loss", 3.0 - e * 0.3}, {"val_loss", 2.9 - e * 0.2}, {"val_accuracy", 0.2 + e * 0.1}}};
    r.checkpoints.push_back({1001.1 + e, e, e * 4 + 4, "best/epoch=" + std::to_string(e) + ".pt", "val_loss", 2.9 - e * 0.2,
                             "best/epoch=" + std::to_string(e) + ".pt"});
  }
  r.early_stopping.push_back({1001.2, 0, "val_loss", 2.9, 2.9, 0, 1, ""});
  r.early_stopping.push_back({1002.2, 1, "val_loss", 2.7, 2.7, 1, 1, "early_stopping: val_loss has not improved"});
  return r;
}

}  // namespace

TEST_CASE("a fit's page has every chart, its decisions and the job, and nothing to fetch") {
  RunRecord record = a_fit(3);
  record.end = RunEnd{1004.5, "finished", "early_stopping: val_loss has not improved"};
  const std::string page = render_report_page(record, nullptr, {10, "runs/x"});
  for (const char* chart :
       {"fit-loss-epoch", "fit-loss-step", "fit-metric-val_accuracy", "fit-lr", "fit-samples-per-s", "fit-batches-per-s"})
    CHECK_MESSAGE(page.find(std::string("<figure class=\"chart\" id=\"") + chart + "\"") != std::string::npos, chart);
  CHECK(count_of(page, "<figure class=\"chart\"") == 6);
  CHECK(page.find("data-name=\"train_loss\" data-points=\"3\"") != std::string::npos);
  CHECK(page.find("data-name=\"train_loss_step\" data-points=\"12\"") != std::string::npos);
  CHECK(page.find("data-name=\"lr\" data-points=\"12\"") != std::string::npos);
  CHECK(page.find("data-name=\"samples/s\" data-points=\"3\" data-values=\"0,40 1,40 2,40\"") != std::string::npos);
  CHECK(page.find(">best checkpoint</text>") != std::string::npos);
  CHECK(page.find(">early stop</text>") != std::string::npos);
  CHECK(page.find("<dt>Best checkpoint</dt><dd><code>best/epoch=2.pt</code>, epoch 2 (val_loss 2.5)</dd>") != std::string::npos);
  CHECK(page.find("<dt>Early stopping</dt><dd>stopped after epoch 1: early_stopping: val_loss has not improved</dd>") != std::string::npos);
  CHECK(page.find("<dt>Wall time</dt><dd>4.50 s</dd>") != std::string::npos);
  CHECK(page.find("<dt>Ranks</dt><dd>2</dd>") != std::string::npos);
  CHECK(page.find("<span class=\"status finished\">finished</span>") != std::string::npos);
  CHECK(page.find("<pre>trainer:\n  max_epochs: 3\n</pre>") != std::string::npos);
  CHECK(page.find("minitrain 0.1.0 | LibTorch 2.6.0") != std::string::npos);
  CHECK(page.find("http-equiv=\"refresh\"") == std::string::npos);  // finished: nothing more to show
  CHECK(page.find("default-src 'none'") != std::string::npos);
  // Nothing outside the file: the only address is SVG's namespace name, which is never fetched.
  const std::regex address(R"((src|href)\s*=|url\(|@import|https?://(?!www\.w3\.org/2000/svg"))");
  CHECK_FALSE(std::regex_search(page, address));
}

TEST_CASE("a page of a run still going reloads itself; one that failed says why") {
  RunRecord record = a_fit(1);
  const std::string running = render_report_page(record, nullptr, {10, ""});
  CHECK(running.find("<meta http-equiv=\"refresh\" content=\"10\">") != std::string::npos);
  CHECK(running.find("<span class=\"status running\">running</span> (or stopped without a word; the page reloads while it "
                     "runs)") != std::string::npos);
  CHECK(running.find("<dt>Wall time</dt><dd>1.00 s so far</dd>") != std::string::npos);
  CHECK(render_report_page(record, nullptr, {0, ""}).find("http-equiv=\"refresh\"") == std::string::npos);

  record.end = RunEnd{1002, "failed", "the loss is <inf>"};
  record.starts.push_back({1001.5, "fit", 2, 1, "", "", "protein_encoder"});
  const std::string failed = render_report_page(record, nullptr, {10, ""});
  CHECK(failed.find("<span class=\"status failed\">failed</span>: the loss is &lt;inf&gt;") != std::string::npos);
  CHECK(failed.find("<dt>Restarts</dt><dd>1</dd>") != std::string::npos);
  record.end->status = "<b>odd\"";  // a record is text from a file: nothing of it reaches the page unescaped
  CHECK(render_report_page(record, nullptr, {}).find("<span class=\"status &lt;b&gt;odd&quot;\">") != std::string::npos);
}

TEST_CASE("a predict's page shows rows and their rate over time, the writer's work and wait, and the manifest's summary") {
  RunRecord record;
  record.starts.push_back({500.0, "predict", 1, 0, "", "minitrain", "protein_encoder"});
  for (int b = 0; b < 4; ++b) {
    record.predict.push_back({500.5 + b * 0.5, b, (b + 1) * 8});
    record.writer.push_back({500.6 + b * 0.5, "/out", b + 1, (b + 1) * 8, (b + 1) * 1000000, 0.25 * b, false});
  }
  record.writer.back().done = true;
  record.end = RunEnd{502.5, "finished", ""};
  Manifest manifest{"0.1.0", "abc", "protein_encoder", "ckpt.pt", "def", 2, {}};
  for (int rank = 0; rank < 2; ++rank)
    for (int b = 0; b < 2; ++b)
      manifest.files.push_back(ManifestFile{"f", "batch", rank, {b}, std::vector<std::int64_t>(8 + rank, 0),
                                            {{"embeddings", {8 + rank, 64}, "float32"}, {"batch_idx", {1}, "int64"}}, 1000, 0, {}});
  const std::string page = render_report_page(record, &manifest, {});
  for (const char* chart : {"predict-rows", "predict-rows-per-s", "predict-written", "predict-writer-wait"})
    CHECK_MESSAGE(page.find(std::string("id=\"") + chart + "\"") != std::string::npos, chart);
  CHECK(page.find("data-name=\"rows\" data-points=\"4\" data-values=\"0.5,8 1,16 1.5,24 2,32\"") != std::string::npos);
  CHECK(page.find("data-name=\"rows/s\" data-points=\"4\" data-values=\"0.5,16 1,16 1.5,16 2,16\"") != std::string::npos);
  CHECK(page.find("<dt>Rows predicted (rank 0)</dt><dd>32 in 4 batches, 16 rows/s</dd>") != std::string::npos);
  CHECK(page.find("<dt>Written (rank 0)</dt><dd>4 file(s), 32 rows, 4.0 MB</dd>") != std::string::npos);
  CHECK(page.find("<dt>Waiting for the writer</dt><dd>0.75 s") != std::string::npos);
  CHECK(page.find("<dt>Manifest</dt><dd>complete: 4 file(s) of 2 rank(s), 34 rows</dd>") != std::string::npos);
  CHECK(page.find("<tr><td>1</td><td>18</td></tr>") != std::string::npos);  // rank 1's rows
  CHECK(page.find("<td>[rows, 64]</td>") != std::string::npos);
  CHECK(page.find("<td>[1]</td>") != std::string::npos);  // batch_idx has no row per sample

  record.writer.back().done = false;
  CHECK(render_report_page(record, nullptr, {}).find("No manifest.json yet") != std::string::npos);
}

TEST_CASE("write_report_page writes the page whole, with the manifest of the writer's output once it is done") {
  TempDir dir;
  RunRecord record;
  record.starts.push_back({500.0, "predict", 1, 0, "", "", "m"});
  record.writer.push_back({501, (dir / "missing").string(), 0, 0, 0, 0, true});
  write_report_page(record, dir / "sub" / "report.html", {});
  const std::string page = read_file(dir / "sub" / "report.html");
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("</html>\n") == page.size() - 8);
  CHECK(page.find("No manifest.json yet") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "sub" / "report.html.tmp"));
}
