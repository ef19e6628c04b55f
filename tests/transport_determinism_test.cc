// The same seed gives the same trajectory in-process (no protocol), through
// the embedded server (inproc://), and over ipc:// and tcp:// sockets.
#include <stdlib.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "client/env_client.h"
#include "client/remote_env.h"
#include "envs/core/env_batch.h"
#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/embedded_server.h"
#include "server/test_server.h"

namespace marl {
namespace {

constexpr int kCopies = 3;
constexpr int kSteps = 25;

// Random actions from a seeded engine, the same for every transport.
struct ActionSource {
  explicit ActionSource(uint64_t seed) : rng(seed) {}
  void Fill(const EnvSpec& spec, int agent, std::vector<int64_t>* discrete,
            std::vector<float>* continuous) {
    const Space& space = spec.action_spaces[agent];
    if (space.is_discrete()) {
      discrete->resize(kCopies);
      for (auto& a : *discrete) {
        a = std::uniform_int_distribution<int64_t>(0, space.n - 1)(rng);
      }
    } else {
      continuous->resize(kCopies * space.FlatSize());
      for (size_t i = 0; i < continuous->size(); ++i) {
        const size_t k = i % space.FlatSize();
        (*continuous)[i] = std::uniform_real_distribution<float>(
            space.low[k], space.high[k])(rng);
      }
    }
  }
  std::mt19937_64 rng;
};

// Observations, rewards, flags and final observations, flattened.
using Trace = std::vector<double>;

Trace InProcess(const std::string& env_name, uint64_t seed) {
  auto batch = EnvBatch::Create(env_name, {}, kCopies, seed, true);
  EXPECT_TRUE(batch.ok()) << batch.status();
  LocalBatch local(*std::move(batch));
  const EnvSpec& spec = local.spec();
  Trace trace;
  auto record = [&] {
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      trace.insert(trace.end(), local.observation(agent).begin(),
                   local.observation(agent).end());
      trace.insert(trace.end(), local.reward(agent).begin(),
                   local.reward(agent).end());
      const int64_t size = spec.observation_spaces[agent].FlatSize();
      trace.insert(trace.end(), local.final_observation(agent).begin(),
                   local.final_observation(agent).begin() +
                       local.final_rows().size() * size);
    }
    for (int c = 0; c < kCopies; ++c) {
      trace.push_back(local.terminated(c));
      trace.push_back(local.truncated(c));
    }
  };
  EXPECT_TRUE(local.ResetAll().ok());
  record();
  ActionSource source(seed);
  std::vector<std::vector<int64_t>> discrete(spec.num_agents());
  std::vector<std::vector<float>> continuous(spec.num_agents());
  for (int step = 0; step < kSteps; ++step) {
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      source.Fill(spec, agent, &discrete[agent], &continuous[agent]);
    }
    EXPECT_TRUE(local.StepAll(discrete, continuous).ok());
    record();
  }
  return trace;
}

Trace OverProtocol(const std::string& endpoint, const std::string& env_name,
                   uint64_t seed) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.timeout_ms = 10000;
  options.embedded_server = EmbeddedServerFactory();
  auto client = EnvClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  auto env = RemoteEnv::Make(client->get(), env_name, {}, kCopies, seed);
  EXPECT_TRUE(env.ok()) << env.status();
  const EnvSpec& spec = (*env)->spec();
  Trace trace;
  auto append = [&](const std::string& floats) {
    const std::vector<float> values = ArrayToVector<float>(floats);
    trace.insert(trace.end(), values.begin(), values.end());
  };
  auto record = [&](const proto::TimeStep& t) {
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      const auto& a = t.agents(agent);
      append(a.observation());
      append(a.reward());
      append(a.final_observation());
    }
    const std::vector<uint8_t> terminated =
        ArrayToVector<uint8_t>(t.terminated());
    const std::vector<uint8_t> truncated =
        ArrayToVector<uint8_t>(t.truncated());
    EXPECT_EQ(terminated.size(), size_t{kCopies});
    EXPECT_EQ(truncated.size(), size_t{kCopies});
    for (size_t c = 0; c < terminated.size() && c < truncated.size(); ++c) {
      trace.push_back(terminated[c]);
      trace.push_back(truncated[c]);
    }
  };
  auto first = (*env)->Reset();
  EXPECT_TRUE(first.ok()) << first.status();
  record(**first);
  ActionSource source(seed);
  std::vector<float> unused_continuous;
  std::vector<int64_t> unused_discrete;
  for (int step = 0; step < kSteps; ++step) {
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      if (spec.action_spaces[agent].is_discrete()) {
        source.Fill(spec, agent, &(*env)->discrete_actions(agent),
                    &unused_continuous);
      } else {
        source.Fill(spec, agent, &unused_discrete,
                    &(*env)->continuous_actions(agent));
      }
    }
    auto timestep = (*env)->Step();
    EXPECT_TRUE(timestep.ok()) << timestep.status();
    if (!timestep.ok()) break;
    record(**timestep);
  }
  return trace;
}

class TransportDeterminismTest : public ::testing::TestWithParam<std::string> {
};

TEST_P(TransportDeterminismTest, SameSeedSameTrajectoryEverywhere) {
  const std::string env_name = GetParam();
  const Trace reference = InProcess(env_name, 11);
  ASSERT_FALSE(reference.empty());
  EXPECT_EQ(InProcess(env_name, 11), reference);

  EXPECT_EQ(OverProtocol("", env_name, 11), reference) << "embedded inproc";
  TestServer tcp;
  EXPECT_EQ(OverProtocol(tcp.endpoint(), env_name, 11), reference) << "tcp";
  // Unix socket paths are limited to 107 bytes: Bazel's TEST_TMPDIR is
  // longer, so use a short directory under /tmp.
  char dir[] = "/tmp/marl-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ipc_path = std::string(dir) + "/server.ipc";
  TestServer ipc(ServerOptions(), "ipc://" + ipc_path);
  EXPECT_EQ(OverProtocol(ipc.endpoint(), env_name, 11), reference) << "ipc";
  // A server with workers steps copies in parallel: same results.
  ServerOptions parallel;
  parallel.worker_threads = 2;
  parallel.parallel_min_us = 0;  // always split
  TestServer tcp_parallel(parallel);
  EXPECT_EQ(OverProtocol(tcp_parallel.endpoint(), env_name, 11), reference)
      << "tcp, parallel stepping";
  unlink(ipc_path.c_str());
  rmdir(dir);
  // A different seed gives a different trajectory (random actions differ).
  EXPECT_NE(InProcess(env_name, 12), reference);
}

INSTANTIATE_TEST_SUITE_P(Environments, TransportDeterminismTest,
                         ::testing::Values("matrix_game",
                                           "iterated_matrix_game",
                                           "max_of_two_quadratics",
                                           "beauty_contest"));

}  // namespace
}  // namespace marl
