// The minitrain command line: parse arguments, run the job, report errors
// plainly with a non-zero exit.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <c10/util/Exception.h>

#include <iostream>

#include "job_runner.hpp"
#include "launcher.hpp"
#include "minitrain/io/collect.hpp"
#include "minitrain/report/report_page.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/base/interrupt.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/base/runtime_info.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitConfigError = 2;

// "--a.b" "value" pairs become "--a.b=value"; "--a.b=value" stays as it is.
std::vector<std::string> overrides_from(const std::vector<std::string>& extras, std::vector<std::string>& unknown) {
  std::vector<std::string> overrides;
  for (std::size_t i = 0; i < extras.size(); ++i) {
    const std::string& arg = extras[i];
    if (arg.rfind("--", 0) != 0 || arg.size() < 3) {
      unknown.push_back(arg);
    } else if (arg.find('=') != std::string::npos) {
      overrides.push_back(arg);
    } else if (i + 1 < extras.size() && extras[i + 1].rfind("--", 0) != 0) {
      overrides.push_back(arg + "=" + extras[i + 1]);
      ++i;
    } else {
      unknown.push_back(arg);
    }
  }
  return overrides;
}

}  // namespace

int main(int argc, char** argv) {

  CLI::App app{"minitrain: training and inference on LibTorch with plugin callbacks"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "print versions, threads and the BLAS in use");

  minitrain::cli::JobRequest request;
  std::vector<std::string> configs;
  auto add_job_command = [&](const char* name, const char* help) {
    CLI::App* sub = app.add_subcommand(name, help);
    sub->add_option("-c,--config", configs, "the job file (YAML); given again, a later file overrides an earlier one "
                                           "key by key (lists are replaced)")
        ->required()
        ->allow_extra_args(false)
        ->take_all();
    sub->add_flag("--print-config", request.print_config, "print the resolved job, defaults included, and exit");
    sub->allow_extras();
    sub->footer("Any job value can be overridden: --trainer.max_epochs=3, "
                "--trainer.callbacks[0].init_args.output_dir=out");
    return sub;
  };
  CLI::App* fit = add_job_command("fit", "train the model of a job file");
  CLI::App* validate = add_job_command("validate", "run one validation epoch over data.val and print its metrics");
  CLI::App* predict = add_job_command("predict", "run predict_step over a job's data and feed the callbacks");
  CLI::App* plugins = app.add_subcommand("plugins", "list every plugin found, with its version and parameters");
  minitrain::cli::LaunchRequest launch_request;
  int master_port = 0;
  CLI::App* launch = app.add_subcommand("launch", "start N local ranks of a fit, validate or predict: "
                                                  "minitrain launch --nproc 2 fit --config job.yaml");
  launch->add_option("--nproc", launch_request.nproc, "ranks to start on this machine")->required();
  launch->add_option("--master_port", master_port, "the port rank 0 listens on (default: a free one)");
  launch->add_option("--max_restarts", launch_request.max_restarts,
                     "when a rank fails, start all ranks again up to this many times: fit goes on from its last "
                     "checkpoint, a prediction_writer resumes (default 0)");
  launch->prefix_command();
  std::string collect_input, collect_output, collect_format, collect_x_key;
  CLI::App* collect = app.add_subcommand("collect", "merge every rank's prediction files into one, in dataset order");
  collect->add_option("--input", collect_input, "the prediction_writer's output_dir")->required();
  collect->add_option("--output", collect_output, "the merged file to write")->required();
  collect->add_option("--format", collect_format, "pt, safetensors, hdf5 or h5ad (default: by --output's extension: "
                                                  ".safetensors, .h5/.hdf5, .h5ad, else pt)")
      ->check(CLI::IsMember({"pt", "safetensors", "hdf5", "h5ad"}));
  collect->add_option("--x-key", collect_x_key, "h5ad: the output to store as .X (default: the first floating-point one "
                                                "with two dims); the others go to .obsm and .obs");
  std::string report_dir, report_output;
  CLI::App* report = app.add_subcommand("report", "draw the HTML report of a run from its run_report record: "
                                                  "minitrain report runs/protein_encoder");
  report->add_option("RUN_DIR", report_dir, "the run_report callback's dir (it holds run.jsonl)")->required();
  report->add_option("--output", report_output, "the page to write (default: RUN_DIR/report.html)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and succeeds; any other parse error is a bad command line: exit 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (show_version) {
      std::cout << minitrain::runtime_summary() << "\n";
      return 0;
    }
    if (plugins->parsed()) {
      minitrain::cli::list_plugins();
      return 0;
    }
    if (collect->parsed()) {
      minitrain::CollectOptions options;
      options.format = collect_format.empty() ? minitrain::collect_format_for(collect_output)
                                              : *minitrain::collect_format_named(collect_format);
      if (!collect_x_key.empty()) options.x_key = collect_x_key;
      const minitrain::CollectSummary summary = minitrain::collect_predictions(collect_input, collect_output, options);
      minitrain::log::info(fmt::format("collect: {} samples from {} file(s) of {} rank(s) written to {}", summary.samples,
                                       summary.files, summary.ranks, collect_output));
      return 0;
    }
    if (report->parsed()) {
      const std::filesystem::path output = report_output.empty() ? std::filesystem::path(report_dir) / minitrain::kReportPageName
                                                                 : std::filesystem::path(report_output);
      const minitrain::RunRecord record = minitrain::read_run_record(report_dir);
      minitrain::write_report_page(record, output, {0, report_dir});
      minitrain::log::info(fmt::format("report: {} of {} ({}) written to {}", record.starts.front().stage, report_dir,
                                       record.end ? record.end->status : "still running, or stopped without a word",
                                       output.string()));
      return 0;
    }
    if (launch->parsed()) {
      launch_request.command = launch->remaining();
      if (master_port) launch_request.master_port = master_port;
      const std::string stage = launch_request.command.empty() ? "" : launch_request.command.front();
      if (stage != "fit" && stage != "validate" && stage != "predict") {
        std::cerr << "minitrain: error: launch runs fit, validate or predict, e.g. minitrain launch --nproc 2 fit --config "
                     "job.yaml\n";
        return kExitConfigError;
      }
      return minitrain::cli::launch(launch_request);
    }
    CLI::App* job = fit->parsed() ? fit : validate->parsed() ? validate : predict->parsed() ? predict : nullptr;
    if (!job) {
      std::cout << app.help();
      return kExitConfigError;
    }
    std::vector<std::string> unknown;
    request.stage = job == fit ? minitrain::Stage::fit : job == validate ? minitrain::Stage::validate : minitrain::Stage::predict;
    request.configs.assign(configs.begin(), configs.end());
    request.overrides = overrides_from(job->remaining(), unknown);
    if (!unknown.empty()) {
      std::cerr << "minitrain: error: unexpected argument '" << unknown.front()
                << "'; overrides look like --trainer.max_epochs=3\n";
      return kExitConfigError;
    }
    minitrain::cli::run_job(request);
    return 0;
  } catch (const minitrain::Interrupted& e) {
    std::cerr << "minitrain: " << e.what() << ": stopped at a batch boundary; every file written so far is complete "
              << "(a prediction_writer with resume: true completes the run; a fit resumes from checkpoints/last.pt)\n";
    return 128 + e.signal();
  } catch (const minitrain::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitConfigError;
  } catch (const minitrain::DataError& e) {
    std::cerr << e.what() << "\n";  // already "file:line: error: ..."
    return kExitFailure;
  } catch (const minitrain::PluginError& e) {
    std::cerr << e.what() << "\n";  // a plugin that failed to start, located in the job file
    return kExitFailure;
  } catch (const minitrain::Error& e) {
    std::cerr << "minitrain: error: " << e.what() << "\n";
    return kExitFailure;
  } catch (const c10::Error& e) {
    std::cerr << "minitrain: error (LibTorch): " << e.what_without_backtrace() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "minitrain: error: " << e.what() << "\n";
    return kExitFailure;
  }
}
