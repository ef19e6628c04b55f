// Random-play speed of `soccer` through LocalBatch (CheckStep + Step of all
// copies, auto-reset), in environment steps per second. Actions come from a
// pre-drawn pool so that sampling is not measured.
//   bazel run --config=bench //envs/soccer:soccer_benchmark

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "envs/core/env_batch.h"
#include "envs/soccer/soccer.h"

namespace marl {
namespace {

void BM_SoccerRandomPlay(benchmark::State& bench,
                         std::map<std::string, SettingValue> settings) {
  const int copies = static_cast<int>(bench.range(0));
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("soccer", settings, copies, /*seed=*/1,
                       /*auto_reset=*/true);
  if (!made.ok()) {
    bench.SkipWithError(made.status().ToString().c_str());
    return;
  }
  LocalBatch batch(*std::move(made));
  if (!batch.ResetAll().ok()) {
    bench.SkipWithError("reset failed");
    return;
  }
  // Batches of actions, cycled: 2^16 actions per agent (at least 64
  // batches), so that play at small batches stays close to uniform.
  const int pool_size = std::max(64, (1 << 16) / copies);
  std::mt19937_64 rng(2);
  std::vector<std::vector<std::vector<int64_t>>> pool(
      pool_size, std::vector<std::vector<int64_t>>(2));
  for (auto& step : pool) {
    for (auto& agent : step) {
      for (int c = 0; c < copies; ++c) {
        agent.push_back(static_cast<int64_t>(rng() % SoccerEnv::kNumActions));
      }
    }
  }
  const std::vector<std::vector<float>> no_continuous(2);
  int64_t episodes = 0, goals = 0;
  int next = 0;
  for (auto _ : bench) {
    if (!batch.StepAll(pool[next], no_continuous).ok()) {
      bench.SkipWithError("step failed");
      return;
    }
    next = (next + 1) % pool_size;
    for (int32_t row : batch.final_rows()) {
      ++episodes;
      goals += batch.reward(0)[row] != 0.0f;
    }
  }
  const int64_t steps = bench.iterations() * copies;
  bench.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps),
                                                 benchmark::Counter::kIsRate);
  bench.counters["steps/episode"] =
      episodes > 0 ? static_cast<double>(steps) / episodes : 0.0;
  bench.counters["goal_fraction"] =
      episodes > 0 ? static_cast<double>(goals) / episodes : 0.0;
}

BENCHMARK_CAPTURE(BM_SoccerRandomPlay, state_index,
                  std::map<std::string, SettingValue>{})
    ->Arg(1)
    ->Arg(16)
    ->Arg(256);
BENCHMARK_CAPTURE(BM_SoccerRandomPlay, features_egocentric,
                  std::map<std::string, SettingValue>{
                      {"observation", std::string("features")},
                      {"perspective", std::string("egocentric")}})
    ->Arg(1)
    ->Arg(16)
    ->Arg(256);
BENCHMARK_CAPTURE(BM_SoccerRandomPlay, draw_0_1,
                  std::map<std::string, SettingValue>{
                      {"draw_probability", 0.1}})
    ->Arg(256);

}  // namespace
}  // namespace marl

BENCHMARK_MAIN();
