// ShardedEnv against real servers over loopback TCP: copies spread over
// several servers play exactly as on one, and a lost server ends the run
// with its name or, tolerated, moves its copies.
#include "client/sharded_env.h"

#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/test_server.h"

namespace marl {
namespace {

using ::testing::HasSubstr;

struct Servers {
  explicit Servers(int count, int timeout_ms = 30000) {
    for (int k = 0; k < count; ++k) {
      servers.push_back(std::make_unique<TestServer>());
      ClientOptions options;
      options.endpoint = servers.back()->endpoint();
      options.timeout_ms = timeout_ms;
      clients.push_back(EnvClient::Connect(options).value());
    }
  }
  std::vector<EnvClient*> Clients() const {
    std::vector<EnvClient*> out;
    for (const auto& client : clients) out.push_back(client.get());
    return out;
  }
  std::vector<std::unique_ptr<TestServer>> servers;
  std::vector<std::unique_ptr<EnvClient>> clients;
};

ShardedEnvOptions Options(const std::string& env, int copies, uint64_t seed) {
  ShardedEnvOptions options;
  options.env_name = env;
  options.num_copies = copies;
  options.seed = seed;
  return options;
}

// Random legal actions for every copy (the same draws for the same rng).
void FillActions(ShardedEnv& env, std::mt19937_64& rng) {
  const EnvSpec& spec = env.spec();
  for (int a = 0; a < env.num_agents(); ++a) {
    const Space& space = spec.action_spaces[a];
    const int64_t size = space.FlatSize();
    if (space.is_integer()) {
      auto& actions = env.discrete_actions(a);
      for (size_t i = 0; i < actions.size(); ++i) {
        const int64_t k = i % size;
        const int64_t n = space.is_discrete() ? space.n : space.nvec[k];
        actions[i] = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
      }
    } else {
      auto& actions = env.continuous_actions(a);
      for (size_t i = 0; i < actions.size(); ++i) {
        const int64_t k = i % size;
        actions[i] = std::uniform_real_distribution<float>(space.low[k],
                                                           space.high[k])(rng);
      }
    }
  }
}

// The TimeSteps of a reset and `steps` steps of random play.
std::vector<proto::TimeStep> Play(ShardedEnv& env, int steps) {
  std::vector<proto::TimeStep> out;
  out.push_back(*env.Reset().value());
  std::mt19937_64 rng(7);
  for (int t = 0; t < steps; ++t) {
    FillActions(env, rng);
    absl::StatusOr<const proto::TimeStep*> stepped = env.Step();
    EXPECT_TRUE(stepped.ok()) << stepped.status();
    if (!stepped.ok()) break;
    out.push_back(**stepped);
  }
  return out;
}

// Environments between them send every array of a TimeStep: public
// observations, states and turns (tiny_hanabi), info (soccer,
// taxi_meeting), Box actions (max_of_two_quadratics), and episodes that
// end and auto-reset (final rows) in all.
TEST(ShardedEnvTest, CopiesPlayAsOnOneServerWhateverTheSplit) {
  Servers one(1), three(3);
  for (const char* name : {"matrix_game", "tiny_hanabi", "soccer",
                           "taxi_meeting", "max_of_two_quadratics"}) {
    for (int copies : {7, 2}) {
      SCOPED_TRACE(std::string(name) + " with " + std::to_string(copies));
      auto single = ShardedEnv::Make(one.Clients(), Options(name, copies, 5));
      auto spread = ShardedEnv::Make(three.Clients(), Options(name, copies, 5));
      ASSERT_TRUE(single.ok()) << single.status();
      ASSERT_TRUE(spread.ok()) << spread.status();
      EXPECT_EQ((*spread)->num_live_servers(), std::min(copies, 3));
      EXPECT_EQ((*spread)->proto_spec().num_copies(), copies);
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          (*single)->proto_spec(), (*spread)->proto_spec()));
      const std::vector<proto::TimeStep> a = Play(**single, 60);
      const std::vector<proto::TimeStep> b = Play(**spread, 60);
      ASSERT_EQ(a.size(), b.size());
      int finals = 0;
      for (size_t t = 0; t < a.size(); ++t) {
        // Final observations too, in row order (protocol version 3).
        const proto::TimeStep& x = a[t];
        const proto::TimeStep& y = b[t];
        std::vector<int32_t> final_rows;
        FinalRows(x.terminated(), x.truncated(), /*auto_reset=*/true,
                  &final_rows);
        finals += static_cast<int>(final_rows.size());
        ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(x, y))
            << "step " << t << "\none:\n"
            << x.DebugString() << "\nthree:\n"
            << y.DebugString();
      }
      if (std::string(name) != "max_of_two_quadratics" &&
          std::string(name) != "matrix_game") {
        EXPECT_GT(finals, 0) << "no episode ended: the test needs longer play";
      }
    }
  }
}

TEST(ShardedEnvTest, ExplicitSeedsAreSplitOverTheServers) {
  Servers one(1), two(2);
  auto single = ShardedEnv::Make(one.Clients(), Options("soccer", 4, 1));
  auto spread = ShardedEnv::Make(two.Clients(), Options("soccer", 4, 2));
  ASSERT_TRUE(single.ok() && spread.ok());
  const std::vector<uint64_t> seeds = {9, 8, 7, 6};
  const proto::TimeStep a = *(*single)->Reset(seeds).value();
  const proto::TimeStep b = *(*spread)->Reset(seeds).value();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b));
  EXPECT_EQ((*spread)->Reset({1, 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ShardedEnvTest, RefusalsNameTheServer) {
  Servers two(2);
  ShardedEnvOptions options = Options("matrix_game", 4, 0);
  options.settings = {{"no_such_setting", "1"}};
  absl::Status status = ShardedEnv::Make(two.Clients(), options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(two.servers[0]->endpoint()));
  EXPECT_THAT(status.message(), HasSubstr("server 1 of 2, copies 0-1"));
  EXPECT_THAT(status.message(), HasSubstr("no_such_setting"));
  EXPECT_EQ(ShardedEnv::Make({}, Options("matrix_game", 1, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);

  // A refused step (an illegal action) is an error, never a lost server.
  options = Options("matrix_game", 4, 0);
  options.tolerate_server_loss = true;
  auto env = ShardedEnv::Make(two.Clients(), options);
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE((*env)->Reset().ok());
  (*env)->discrete_actions(0)[3] = 99;
  status = (*env)->Step().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(status.message(), HasSubstr("server 2 of 2, copies 2-3"));
  EXPECT_EQ((*env)->num_live_servers(), 2);
}

TEST(ShardedEnvTest, ALostServerEndsTheRunNamingIt) {
  Servers three(3, /*timeout_ms=*/300);
  auto env = ShardedEnv::Make(three.Clients(), Options("soccer", 6, 3));
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE((*env)->Reset().ok());
  ASSERT_TRUE((*env)->Step().ok());
  const std::string lost = three.servers[1]->endpoint();
  three.servers[1].reset();
  const absl::Status status = (*env)->Step().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr(lost));
  EXPECT_THAT(status.message(), HasSubstr("server 2 of 3, copies 2-3"));
  EXPECT_THAT(status.message(), HasSubstr("--tolerate_server_loss"));
}

TEST(ShardedEnvTest, ToleratedLossMovesTheCopiesAndCutsTheirEpisodes) {
  Servers three(3, /*timeout_ms=*/300);
  ShardedEnvOptions options = Options("soccer", 6, 3);
  options.tolerate_server_loss = true;
  std::ostringstream log;
  options.log = &log;
  auto made = ShardedEnv::Make(three.Clients(), options);
  ASSERT_TRUE(made.ok());
  ShardedEnv& env = **made;
  ASSERT_TRUE(env.Reset().ok());
  std::mt19937_64 rng(1);
  FillActions(env, rng);
  const proto::TimeStep before = *env.Step().value();
  const std::string lost = three.servers[1]->endpoint();
  three.servers[1].reset();
  FillActions(env, rng);
  absl::StatusOr<const proto::TimeStep*> cut = env.Step();
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(env.num_live_servers(), 2);
  EXPECT_THAT(log.str(), HasSubstr(lost));
  EXPECT_THAT(log.str(), HasSubstr(three.servers[2]->endpoint()));
  // Copies 2 and 3 (the lost server's): truncated, reward 0, and their final
  // observations are the ones they had before.
  const auto truncated = ArrayToVector<uint8_t>((*cut)->truncated());
  EXPECT_EQ(truncated[2], 1);
  EXPECT_EQ(truncated[3], 1);
  std::vector<int32_t> final_rows;
  FinalRows((*cut)->terminated(), (*cut)->truncated(), /*auto_reset=*/true,
            &final_rows);
  for (int row : {2, 3}) {
    const auto it = std::find(final_rows.begin(), final_rows.end(), row);
    ASSERT_NE(it, final_rows.end()) << row;
    const size_t k = it - final_rows.begin();
    for (int a = 0; a < env.num_agents(); ++a) {
      EXPECT_EQ(ArrayAt<float>((*cut)->agents(a).reward(), row), 0.0f);
      const std::string& previous = before.agents(a).observation();
      const size_t w = previous.size() / 6;
      EXPECT_EQ((*cut)->agents(a).final_observation().substr(k * w, w),
                previous.substr(row * w, w));
    }
  }
  // The run goes on with two servers, and ends when none is left.
  for (int t = 0; t < 20; ++t) {
    FillActions(env, rng);
    ASSERT_TRUE(env.Step().ok());
  }
  three.servers[0].reset();
  three.servers[2].reset();
  FillActions(env, rng);
  const absl::Status status = env.Step().status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("every environment server is lost"));
}

}  // namespace
}  // namespace marl
