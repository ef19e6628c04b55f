// An agent fails fast: once its server stops answering, training ends
// within about one --timeout_ms (no second wait to close handles), and an
// endpoint that cannot be valid fails before any wait.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training_loop.h"
#include "server/silenceable_server.h"

namespace marl {
namespace {

// Plays action 0 forever.
class ZeroLearner : public JointLearner {
 public:
  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    for (auto& agent : *discrete) agent.assign(num_copies, 0);
  }
  void Learn(const TransitionBatch& batch) override {}
  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    return {};
  }
  absl::StatusOr<std::string> Save() const override { return std::string(); }
  absl::Status Load(const std::string& bytes) override {
    return absl::OkStatus();
  }
  absl::Status status() const override { return absl::OkStatus(); }
  std::string ConfigJson() const override { return "{}"; }
};

TrainingOptions RunOptions(const std::string& endpoint,
                           const std::string& name) {
  TrainingOptions o;
  o.endpoints = {endpoint};
  o.timeout_ms = 300;
  o.steps = 1 << 30;  // ends only by losing the server
  o.runs_root = ::testing::TempDir() + "/runs";
  o.run_name = name;
  return o;
}

LearnerFactory ZeroFactory() {
  return [](const EnvSpec&,
            uint64_t) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
    return std::unique_ptr<JointLearner>(new ZeroLearner());
  };
}

TEST(TrainingFailFastTest, AnAgentStopsOnceItsServerIsLost) {
  SilenceableServer server;
  // Two makes, a reset, then steps: silent in the middle of training.
  server.SilenceAfter(40);
  absl::StatusOr<TrainingResult> result =
      RunTraining(RunOptions(server.endpoint(), "lost"), "zero", ZeroFactory());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(result.status().message().find("is env_server running at"),
            std::string::npos)
      << result.status();
  // One request went unanswered; the two handles were not closed after it.
  const std::vector<std::string> unanswered = server.unanswered();
  ASSERT_EQ(unanswered.size(), 1u);
  EXPECT_NE(unanswered[0], "close");
}

TEST(TrainingFailFastTest, AnImpossibleEndpointFailsAtOnce) {
  TrainingOptions o = RunOptions("tcp://127.0.0.1:99999", "bad_port");
  o.timeout_ms = 1000000;  // a wait would hit the test's timeout
  absl::StatusOr<TrainingResult> result = RunTraining(o, "zero", ZeroFactory());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("--endpoint"), std::string::npos)
      << result.status();
  EXPECT_NE(result.status().message().find("99999"), std::string::npos);
}

}  // namespace
}  // namespace marl
