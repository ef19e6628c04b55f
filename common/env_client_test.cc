// Clients fail fast: an endpoint that cannot be valid fails before any
// wait, and once a server stops answering, the one call that noticed is the
// only one that waits (closing handles on the way out sends nothing).
#include "common/env_client.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/remote_env.h"
#include "common/training_loop.h"
#include "gtest/gtest.h"
#include "server/embedded_server.h"
#include "server/env_server.h"

namespace marl {
namespace {

// A real EnvService behind a ROUTER that answers until told to go silent;
// then it keeps reading and records which operations arrived (a hung
// server).
class SilenceableServer {
 public:
  SilenceableServer() : service_(ServerOptions()) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 20);
    socket_.bind("tcp://127.0.0.1:0");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Serve(); });
  }
  ~SilenceableServer() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  // Silent after this many more answers (0: now).
  void SilenceAfter(int answers) { answers_left_ = answers; }
  // Operations received and not answered, e.g. {"step", "close"}.
  std::vector<std::string> unanswered() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unanswered_;
  }
  int closes_answered() const { return closes_answered_; }

 private:
  void Serve() {
    std::string reply;
    while (!stop_) {
      zmq::message_t identity, body;
      if (!socket_.recv(identity, zmq::recv_flags::none)) continue;
      if (!socket_.recv(body, zmq::recv_flags::none)) continue;
      env::v2::Request request;
      request.ParseFromArray(body.data(), static_cast<int>(body.size()));
      if (answers_left_ == 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto* field =
            request.GetDescriptor()->FindFieldByNumber(request.payload_case());
        unanswered_.push_back(field == nullptr ? "none" : field->name());
        continue;
      }
      if (answers_left_ > 0) --answers_left_;
      if (request.has_close()) ++closes_answered_;
      service_.Handle(body.data(), body.size(), &reply);
      socket_.send(identity, zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }

  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::router};
  EnvService service_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answers_left_{-1};  // -1: answer forever
  std::atomic<int> closes_answered_{0};
  std::mutex mutex_;
  std::vector<std::string> unanswered_;
  std::thread thread_;
};

std::unique_ptr<EnvClient> Connect(const std::string& endpoint,
                                   int timeout_ms) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.timeout_ms = timeout_ms;
  options.embedded_server = EmbeddedServerFactory();
  absl::StatusOr<std::unique_ptr<EnvClient>> client =
      EnvClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

TEST(EnvClientTest, ImpossibleEndpointsFailAtOnce) {
  for (const char* endpoint :
       {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://:5555",
        "tcp://127.0.0.1", "udp://127.0.0.1:5555", "127.0.0.1:5555",
        "tcp://127.0.0.1:55a5"}) {
    ClientOptions options;
    options.endpoint = endpoint;
    // A wait would hit the test's timeout, not pass.
    options.timeout_ms = 1000000;
    absl::Status status = EnvClient::Connect(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << endpoint;
    EXPECT_NE(status.message().find("--endpoint"), std::string::npos) << status;
  }
}

TEST(EnvClientTest, NoEndpointNeedsAnEmbeddedServer) {
  // The client does not depend on the server: without a factory an empty
  // endpoint is an error, not a silent wait.
  absl::Status status = EnvClient::Connect(ClientOptions()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("--endpoint"), std::string::npos) << status;
  ClientOptions options;
  options.embedded_server = EmbeddedServerFactory();
  absl::StatusOr<std::unique_ptr<EnvClient>> client =
      EnvClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->embedded());
  EXPECT_TRUE((*client)->Handshake().ok());
}

TEST(EnvClientTest, CurveOptionsAreCheckedBeforeConnecting) {
  ClientOptions options;
  options.endpoint = "tcp://127.0.0.1:5555";
  options.curve_client_key_file = "/nonexistent/me.key_secret";
  EXPECT_EQ(EnvClient::Connect(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // no server key
  options.curve_server_key_file = "/nonexistent/server.key";
  absl::Status status = EnvClient::Connect(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("--curve_server_key_file"),
            std::string::npos);
  options.endpoint = "";  // embedded: CURVE does not apply
  EXPECT_EQ(EnvClient::Connect(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EnvClientTest, HandlesCloseWhileTheServerAnswers) {
  // The control case: the close below is what a lost server skips.
  SilenceableServer server;
  auto client = Connect(server.endpoint(), 10000);
  auto env = RemoteEnv::Make(client.get(), "matrix_game", {}, 2, 1);
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_TRUE((*env)->Reset().ok());
  env->reset();
  EXPECT_EQ(server.closes_answered(), 1);
  EXPECT_FALSE(client->connection_lost());
}

TEST(EnvClientTest, ALostServerCostsOneTimeout) {
  SilenceableServer server;
  auto client = Connect(server.endpoint(), 300);
  auto env = RemoteEnv::Make(client.get(), "matrix_game", {}, 2, 1);
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_TRUE((*env)->Reset().ok());
  server.SilenceAfter(0);
  absl::Status status = (*env)->Step().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(
      status.message().find("is env_server running at " + server.endpoint()),
      std::string::npos)
      << status;
  EXPECT_NE(status.message().find("--timeout_ms"), std::string::npos);
  EXPECT_TRUE(client->connection_lost());
  env->reset();  // must not send (and wait for) a close
  // The server answers again: the client is usable and no longer lost.
  server.SilenceAfter(-1);
  ASSERT_TRUE(client->Handshake().ok());
  EXPECT_FALSE(client->connection_lost());
  EXPECT_EQ(server.unanswered(), std::vector<std::string>{"step"});
  EXPECT_EQ(server.closes_answered(), 0);
}

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
  o.endpoint = endpoint;
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
