// Several ranks on 127.0.0.1: data-parallel fit, sharded predict, collect,
// and the faults that must end a run with a clear error instead of a hang.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "e2e/cli_runner.hpp"
#include "e2e/linear_job.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using minitrain::testing::TempDir;
using namespace minitrain::e2e;

namespace {

// A port that something else is listening on, for as long as this object lives.
class BusyPort {
 public:
  BusyPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Predicts the shipped sequences on one rank (dir/single, one epoch file) and on `ranks` ranks
// (dir/`name`, batch files); checks the manifest lists `files` files and that collect of them
// equals the one rank's epoch file.
void predict_on_ranks_and_collect(const TempDir& dir, const std::string& name, int ranks, int files) {
  const std::string shared = fmt::format("--ckpt_path=null --trainer.default_root_dir={} --trainer.callbacks[0].init_args.output_dir=",
                                         (dir / "runs").string());
  const Result single = run_cli("predict --config configs/predict_epoch.yaml " + shared + (dir / "single").string());
  INFO(single.output);
  REQUIRE(single.exit_code == 0);
  const Result many = run_cli(fmt::format("launch --nproc {} predict --config configs/predict.yaml {}{}", ranks, shared,
                                          (dir / name).string()));
  INFO(many.output);
  REQUIRE(many.exit_code == 0);
  CHECK(many.output.find(fmt::format("{} ranks met at 127.0.0.1:", ranks)) != std::string::npos);
  for (int rank = 0; rank < ranks; ++rank)
    CHECK(fs::exists(dir / name / fmt::format("predictions__rank_{}__batch_0.pt", rank)));
  const Result manifest =
      run(fmt::format("{} tests/e2e/check_manifest.py {} {}", MINITRAIN_PYTHON, (dir / name).string(), ranks));
  INFO(manifest.output);
  CHECK(manifest.output.find(fmt::format("check_manifest: OK: {} files of {} rank(s), 45 samples", files, ranks)) !=
        std::string::npos);

  const std::string collected = (dir / "collected.pt").string();
  const Result collect = run_cli(fmt::format("collect --input {} --output {}", (dir / name).string(), collected));
  INFO(collect.output);
  REQUIRE(collect.exit_code == 0);
  CHECK(collect.output.find(fmt::format("collect: 45 samples from {} file(s) of {} rank(s)", files, ranks)) !=
        std::string::npos);
  const Result compare = run(fmt::format("{} tests/e2e/compare_collected.py {} {}", MINITRAIN_PYTHON, collected,
                                         (dir / "single" / "predictions__rank_0.pt").string()));
  INFO(compare.output);
  CHECK(compare.output.find("compare_collected: OK: 45 samples") != std::string::npos);
}

}  // namespace

TEST_CASE("2 ranks with half the batch each reach the weights 1 rank reaches with the whole batch") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  const Result one = run_cli(fmt::format("fit --config {} --trainer.default_root_dir={}", job.string(), (dir / "one").string()));
  INFO(one.output);
  REQUIRE(one.exit_code == 0);
  const Result two = run_cli(fmt::format("launch --nproc 2 fit --config {} --data.batch_size=4 --trainer.default_root_dir={}",
                                         job.string(), (dir / "two").string()));
  INFO(two.output);
  REQUIRE(two.exit_code == 0);
  CHECK(two.output.find("2 ranks met at 127.0.0.1:") != std::string::npos);
  CHECK(two.output.find("rank 0 info epoch 2 done: train_loss") != std::string::npos);
  CHECK(two.output.find("rank 1 info") == std::string::npos);  // only rank 0 logs

  check_same_trained_weights(dir, "one", "two", 1e-6);
}

TEST_CASE("3 ranks predict every sample exactly once, and collect puts them back in dataset order") {
  TempDir dir;
  predict_on_ranks_and_collect(dir, "three", 3, 6);

  SUBCASE("a file the manifest lists is missing") {
    fs::remove(dir / "three" / "predictions__rank_1__batch_1.pt");
    const Result r = run_cli(fmt::format("collect --input {} --output {}", (dir / "three").string(), (dir / "x.pt").string()));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("predictions__rank_1__batch_1.pt: error: manifest.json lists it with ") != std::string::npos);
    CHECK(r.output.find("but it is missing: it changed after the run wrote it") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.pt"));
  }
  SUBCASE("a file not in the manifest") {
    fs::copy_file(dir / "three" / "predictions__rank_2__batch_0.pt", dir / "three" / "predictions__rank_3__batch_0.pt");
    const Result r = run_cli(fmt::format("collect --input {} --output {}", (dir / "three").string(), (dir / "x.pt").string()));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("predictions__rank_3__batch_0.pt: error: manifest.json does not list this file, so the run it "
                        "describes did not write it") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.pt"));
  }
  SUBCASE("without a manifest, a missing file is named as missing samples") {
    fs::remove(dir / "three" / "manifest.json");
    fs::remove(dir / "three" / "predictions__rank_1__batch_1.pt");
    const Result r = run_cli(fmt::format("collect --input {} --output {}", (dir / "three").string(), (dir / "x.pt").string()));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("no manifest.json: the run that wrote these files may not have finished") != std::string::npos);
    CHECK(r.output.find("do not cover every sample exactly once\n  missing dataset indices: 25, 28, 31, 34, 37, 40, 43") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.pt"));
  }
  SUBCASE("without a manifest, a file copied twice is named as duplicates") {
    fs::remove(dir / "three" / "manifest.json");
    fs::copy_file(dir / "three" / "predictions__rank_2__batch_0.pt", dir / "three" / "predictions__rank_3__batch_0.pt");
    const Result r = run_cli(fmt::format("collect --input {} --output {}", (dir / "three").string(), (dir / "x.pt").string()));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("dataset indices found more than once: 2, 5, 8") != std::string::npos);
    CHECK(r.output.find("(e.g. 2 in predictions__rank_2__batch_0.pt and predictions__rank_3__batch_0.pt)") != std::string::npos);
  }
}

TEST_CASE("16 ranks predict every sample exactly once, and collect equals one rank's epoch file") {
  TempDir dir;
  predict_on_ranks_and_collect(dir, "sixteen", 16, 16);
}

TEST_CASE("faults end every rank with a clear error, never a hang") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  const std::string fit = fmt::format("fit --config {} --trainer.default_root_dir={} --trainer.distributed_timeout_s=3 ",
                                      job.string(), (dir / "run").string());

  SUBCASE("a rank that never arrives") {
    const auto start = std::chrono::steady_clock::now();
    const Result r = run("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29731 timeout 60 '" + kCli + "' " + fit +
                         "--trainer.devices=2");
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("rank 0: the 2 ranks did not all join the process group at 127.0.0.1:29731 within 3 s") !=
          std::string::npos);
    CHECK(seconds < 30);
  }
  SUBCASE("a port already in use") {
    const BusyPort busy;
    const Result r = run_cli(fmt::format("launch --nproc 2 --master_port {} {}", busy.port(), fit));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find(fmt::format("rank 0 cannot listen on 127.0.0.1:{}: the port is already in use", busy.port())) !=
          std::string::npos);
  }
  SUBCASE("a rank killed mid-fit") {
    // Rank 1 dies by SIGKILL once both train (rank 0 has finished an epoch); rank 0 must notice and stop.
    const fs::path log = dir / "rank0.log";
    const Result r = run(fmt::format(
        "export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29733; "
        "RANK=1 '{0}' {1} --trainer.devices=2 --trainer.max_epochs=100000 >/dev/null 2>&1 & P1=$!; "
        "RANK=0 timeout 60 '{0}' {1} --trainer.devices=2 --trainer.max_epochs=100000 >{2} 2>&1 & P0=$!; "
        "while kill -0 $P0 2>/dev/null && ! grep -q 'epoch 0 done' {2}; do sleep 0.1; done; "
        "kill -9 $P1; wait $P0; echo \"rank 0 exit $?\"; cat {2}",
        kCli, fit, log.string()));
    INFO(r.output);
    CHECK(r.output.find("rank 0 exit 1") != std::string::npos);
    // Whichever collective rank 0 was in when its peer died.
    CHECK((r.output.find("rank 0: averaging gradients failed") != std::string::npos ||
           r.output.find("rank 0: summing metrics failed") != std::string::npos));
    CHECK(r.output.find("another rank has probably stopped") != std::string::npos);
  }
  SUBCASE("WORLD_SIZE that the job's devices do not match") {
    const Result r = run("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29735 '" + kCli + "' " + fit);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("trainer.devices: devices (1) x num_nodes (1) is 1 processes, but WORLD_SIZE is 2") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "weights.pt"));
}
