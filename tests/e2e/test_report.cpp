// The run report: a fit and a predict with run_report, their pages opened in
// headless Chromium (tests/e2e/check_report_in_browser.py) with JavaScript on
// and off; the page while a run goes on, and after it was interrupted or failed;
// `minitrain report` drawing the same page from the record.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "e2e/cli_runner.hpp"
#include "e2e/fault_rows.hpp"
#include "e2e/linear_job.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace minitrain::e2e;
using minitrain::testing::count_of;
using minitrain::testing::read_file;
using minitrain::testing::write_file;

namespace {

constexpr int kBrowserMissing = 77;  // check_report_in_browser.py's exit when Chromium is not installed

// Opens `page` in headless Chromium and checks it; false when the browser is not installed (the test
// is then skipped with the reason, unless MINITRAIN_REQUIRE_BROWSER is set, as in CI, where it fails).
bool check_in_browser(const fs::path& page, const std::string& name, const std::string& expectations) {
  const fs::path screenshots = MINITRAIN_SCREENSHOT_DIR;
  fs::create_directories(screenshots);
  const Result r = run(fmt::format("{} tests/e2e/check_report_in_browser.py '{}' '{}' {}", MINITRAIN_PYTHON, page.string(),
                                   (screenshots / (name + ".png")).string(), expectations));
  INFO(r.output);
  if (r.exit_code == kBrowserMissing) {
    if (std::getenv("MINITRAIN_REQUIRE_BROWSER"))
      FAIL_CHECK("MINITRAIN_REQUIRE_BROWSER is set, but " << r.output);
    else
      MESSAGE("skipped: " << r.output);
    return false;
  }
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("no console errors, the same") != std::string::npos);
  return true;
}

fs::path fit_job(const TempDir& dir) {
  return write_file(dir / "fit.yaml", fmt::format(R"(seed_everything: 42
trainer:
  max_epochs: 12
  default_root_dir: {0}/fit
  callbacks:
    - plugin: run_report
      init_args: {{dir: {0}/fit}}
    - plugin: model_checkpoint
      init_args: {{dirpath: {0}/fit/best, monitor: val_loss}}
    - plugin: early_stopping
      init_args: {{monitor: val_loss, min_delta: 0.1, patience: 2}}
model:
  class_path: protein_encoder
  init_args: {{embed_dim: 32, num_layers: 1, num_heads: 2, ff_dim: 64, lr: 0.01}}
lr_scheduler: {{class_path: cosine, init_args: {{warmup_steps: 6}}}}
data:
  batch_size: 8
  shuffle: true
  train: {{fasta: {1}, max_length: 160}}
  val: {{fasta: {1}, max_length: 160}}
)",
                                                  dir.path().string(), kFasta.string()));
}

}  // namespace

TEST_CASE("a fit's and a predict's report pages show every chart with its axes and points, in Chromium, with JavaScript on "
          "and off, and `minitrain report` draws the same page from the record") {
  TempDir dir;
  const Result fit = run_cli(fmt::format("fit --config {}", fit_job(dir).string()));
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  const std::size_t epochs = count_of(fit.output, " done: train_loss ");
  const std::size_t steps = epochs * 6;  // 45 sequences in batches of 8
  REQUIRE(epochs >= 3);
  CHECK(fit.output.find(fmt::format("run_report: {}/fit/report.html", dir.path().string())) != std::string::npos);

  // The page the callback left is the page the record draws.
  const Result drawn = run_cli(fmt::format("report {0}/fit --output {0}/again.html", dir.path().string()));
  INFO(drawn.output);
  REQUIRE(drawn.exit_code == 0);
  CHECK(drawn.output.find(fmt::format("report: fit of {0}/fit (finished) written to {0}/again.html", dir.path().string())) !=
        std::string::npos);
  CHECK(read_file(dir / "again.html") == read_file(dir / "fit" / "report.html"));

  const std::string per_epoch = fmt::format("{}", epochs);
  check_in_browser(dir / "fit" / "report.html", "report_fit",
                   fmt::format("--chart fit-loss-epoch=epoch:train_loss={0},val_loss={0} --chart fit-loss-step=step:train_loss_step={1} "
                               "--chart fit-metric-val_accuracy=epoch:val_accuracy={0} "
                               "--chart fit-metric-val_perplexity=epoch:val_perplexity={0} --chart fit-lr=step:lr={1} "
                               "--chart fit-samples-per-s=epoch:samples/s={0} --chart fit-batches-per-s=epoch:batches/s={0} "
                               "--charts 7 --text 'Best checkpoint' --text finished --text 'LibTorch' --text 'max_epochs: 12'",
                               per_epoch, steps));

  const fs::path predict = write_file(dir / "predict.yaml", fmt::format(R"(ckpt_path: {0}/fit/checkpoints/last.pt
trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {0}/predictions}}
    - plugin: run_report
      init_args: {{dir: {0}/predict_report}}
model:
  class_path: protein_encoder
  init_args: {{embed_dim: 32, num_layers: 1, num_heads: 2, ff_dim: 64}}
data:
  batch_size: 8
  predict: {{fasta: {1}, max_length: 160}}
)",
                                                                         dir.path().string(), kFasta.string()));
  const Result predicted = run_cli(fmt::format("predict --config {}", predict.string()));
  INFO(predicted.output);
  REQUIRE(predicted.exit_code == 0);
  // The writer's progress is recorded as it changes; the charts of it have a point per record.
  const std::size_t writer_records = count_of(read_file(dir / "predict_report" / "run.jsonl"), "{\"record\":\"writer\"");
  CHECK(writer_records >= 2);
  const std::string page = read_file(dir / "predict_report" / "report.html");
  CHECK(page.find("<dt>Manifest</dt><dd>complete: 6 file(s) of 1 rank(s), 45 rows</dd>") != std::string::npos);
  check_in_browser(dir / "predict_report" / "report.html", "report_predict",
                   fmt::format("--chart predict-rows=seconds:rows=6 --chart predict-rows-per-s=seconds:rows/s=6 "
                               "--chart 'predict-written=seconds:MB written={0}' --chart predict-writer-wait=seconds:waited={0} "
                               "--charts 4 --text 'Waiting for the writer' --text 'Keys in each file' --text token_logits",
                               writer_records));
}

TEST_CASE("a report follows a fit while it runs, and says how it ended: interrupted, or failed and why") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  const std::string report = fmt::format("--trainer.callbacks='[{{plugin: run_report, init_args: {{dir: {}, refresh_every_s: 0.2}}}}]'",
                                         (dir / "report").string());
  const fs::path page = dir / "report" / "report.html";
  // A long fit, interrupted once the page shows it running with a few epochs done.
  const Result r = run_cli_then(
      fmt::format("fit --config {} --trainer.max_epochs=100000 --optimizer.init_args.lr=0.001 --trainer.default_root_dir={} {}",
                  job.string(), (dir / "run").string(), report),
      fmt::format("grep -q 'data-name=\"train_loss\" data-points=\"[1-9][0-9]' {} 2>/dev/null", page.string()),
      fmt::format("cp {} {}; kill -INT $P", page.string(), (dir / "run.running.html").string()), dir / "run.log");
  INFO(r.output);
  CHECK(r.output.find("minitrain exit 130\n") != std::string::npos);
  const std::string running = read_file(dir / "run.running.html");
  CHECK(running.find("<span class=\"status running\">running</span>") != std::string::npos);
  CHECK(running.find("<meta http-equiv=\"refresh\" content=\"1\">") != std::string::npos);
  const std::string ended = read_file(page);
  CHECK(ended.find("<span class=\"status interrupted\">interrupted</span>: interrupted by SIGINT (signal 2)") != std::string::npos);
  CHECK(ended.find("http-equiv=\"refresh\"") == std::string::npos);

  // Momentum 0.9 at lr 0.05 makes this loss infinite after about a hundred epochs.
  const Result failed = run_cli(fmt::format("fit --config {} --data.batch_size=4 --trainer.max_epochs=400 "
                                            "--trainer.default_root_dir={} {}",
                                            job.string(), (dir / "failed").string(), report));
  INFO(failed.output);
  CHECK(failed.exit_code == 1);
  const std::string failed_page = read_file(page);
  CHECK(failed_page.find("<span class=\"status failed\">failed</span>: the loss is inf at epoch ") != std::string::npos);
  CHECK(failed_page.find("\"train_loss_step\" data-points=\"") != std::string::npos);
}

TEST_CASE("a report that cannot be written is a warning: the run goes on and its results are whole") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  fs::create_directories(dir / "report" / "report.html");  // a directory where the page should go
  const Result r = run_cli(fmt::format("fit --config {} --trainer.default_root_dir={} "
                                       "--trainer.callbacks='[{{plugin: run_report, init_args: {{dir: {}}}}}]'",
                                       job.string(), (dir / "run").string(), (dir / "report").string()));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(count_of(r.output, "warning run_report: ") == 1);
  CHECK(r.output.find("; the run goes on without its report") != std::string::npos);
  CHECK(fs::exists(dir / "run" / "checkpoints" / "weights.pt"));
}

TEST_CASE("fault catalogue: run reports") {
  check_fault_rows({
      {"report of a folder without a run record", nullptr, false, {}, nullptr, "report {dir}", 1,
       {"{dir} has no run.jsonl: the run_report callback writes it; add it to the job's trainer.callbacks, e.g. - plugin: "
        "run_report, init_args: {dir: {dir}}"}},
      {"a run record with a line that is not a record", nullptr, false,
       {{"{dir}/r/run.jsonl", "{\"record\": \"start\", \"time\": 1, \"stage\": \"fit\", \"world_size\": 1, \"restart\": 0, "
                              "\"job\": \"\", \"runtime\": \"\", \"model\": \"m\"}\n{\"record\": step}\n"}},
       nullptr, "report {dir}/r --output {dir}/out/report.html", 1,
       {"{dir}/r/run.jsonl:2:12: error: not a run record: [json.exception.parse_error.101] parse error at line 1, column 12: "
        "syntax error while parsing value - invalid literal; last read: '\"record\": s'\n  fix: this file is written by the "
        "run_report callback only; run the job again to write it anew"}},
      {"run_report's dir is a file", nullptr, true, {{"{dir}/file", "not a directory"}}, nullptr,
       "fit --config {dir}/table.yaml --trainer.callbacks='[{plugin: run_report, init_args: {dir: {dir}/file}}]'", 1,
       {"run_report: dir {dir}/file is a file, not a directory; name a directory for run.jsonl and report.html"}},
  });
}
