// The server over a real ZeroMQ socket with real protobuf bytes: every bad
// request gets its error status and the server then still answers a good
// one; several clients at once; idle handles expire; vanished clients.
#include "server/env_server.h"

#include <atomic>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "client/env_client.h"
#include "client/remote_env.h"
#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/test_server.h"

namespace marl {
namespace {

using ::marl::env::v3::Request;
using ::marl::env::v3::Response;

std::unique_ptr<EnvClient> Connect(const std::string& endpoint,
                                   int timeout_ms = 5000) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.timeout_ms = timeout_ms;
  auto client = EnvClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

proto::MakeRequest MakeMatrix(int copies = 2, uint64_t seed = 1) {
  proto::MakeRequest make;
  make.set_name("matrix_game");
  make.set_num_copies(copies);
  make.set_seed(seed);
  return make;
}

// The server still works: a handshake and a full make/reset/step/close.
void ExpectServerHealthy(EnvClient& client) {
  auto handshake = client.Handshake();
  ASSERT_TRUE(handshake.ok()) << handshake.status();
  EXPECT_EQ(handshake->protocol_version(), kProtocolVersion);
  auto made = client.Make(MakeMatrix());
  ASSERT_TRUE(made.ok()) << made.status();
  proto::ResetRequest reset;
  reset.set_handle(made->handle());
  ASSERT_TRUE(client.Reset(reset).ok());
  proto::StepRequest step;
  step.set_handle(made->handle());
  for (int agent = 0; agent < 2; ++agent) {
    SetArray<int64_t>({0, 1}, step.add_actions()->mutable_discrete());
  }
  auto timestep = client.Step(step);
  ASSERT_TRUE(timestep.ok()) << timestep.status();
  EXPECT_EQ((*timestep)->agents_size(), 2);
  EXPECT_TRUE(client.Close(made->handle()).ok());
}

class EnvServerTest : public ::testing::Test {
 protected:
  TestServer server_;
  std::unique_ptr<EnvClient> client_ = Connect(server_.endpoint());

  proto::StepRequest ValidStep(uint64_t handle) {
    proto::StepRequest step;
    step.set_handle(handle);
    SetArray<int64_t>({0, 1}, step.add_actions()->mutable_discrete());
    SetArray<int64_t>({1, 0}, step.add_actions()->mutable_discrete());
    return step;
  }
  uint64_t MakeAndReset(const proto::MakeRequest& make = MakeMatrix()) {
    auto made = client_->Make(make);
    EXPECT_TRUE(made.ok()) << made.status();
    proto::ResetRequest reset;
    reset.set_handle(made->handle());
    EXPECT_TRUE(client_->Reset(reset).ok());
    return made->handle();
  }
};

TEST_F(EnvServerTest, HandshakeReportsVersionAndCapabilities) {
  auto handshake = client_->Handshake();
  ASSERT_TRUE(handshake.ok());
  EXPECT_EQ(handshake->protocol_version(), 3u);
  EXPECT_GT(handshake->capabilities_size(), 0);
  EXPECT_GT(handshake->max_copies_per_handle(), 0);
}

TEST_F(EnvServerTest, WrongProtocolVersionIsRefused) {
  Request request;
  request.mutable_handshake()->set_protocol_version(99);
  auto response = client_->Call(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ((*response)->status().code(), proto::FAILED_PRECONDITION);
  EXPECT_NE((*response)->status().message().find("speaks 3"),
            std::string::npos);
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, ListsEnvironmentsWithSettings) {
  auto list = client_->ListEnvironments();
  ASSERT_TRUE(list.ok());
  bool found = false;
  for (const auto& env : list->environments()) {
    if (env.name() != "matrix_game") continue;
    found = true;
    EXPECT_FALSE(env.description().empty());
    EXPECT_GT(env.settings_size(), 0);
  }
  EXPECT_TRUE(found);
}

TEST_F(EnvServerTest, MakeReturnsTheFullSpec) {
  auto made = client_->Make(MakeMatrix(3));
  ASSERT_TRUE(made.ok());
  const proto::EnvSpec& spec = made->spec();
  EXPECT_EQ(spec.name(), "matrix_game");
  EXPECT_EQ(spec.num_copies(), 3);
  ASSERT_EQ(spec.agents_size(), 2);
  EXPECT_TRUE(spec.agents(0).action_space().has_discrete());
  EXPECT_GT(spec.settings_size(), 0);  // defaults filled in
}

TEST_F(EnvServerTest, GarbageBytesGetAnErrorThenServerStillServes) {
  for (const std::string& garbage :
       {std::string("\xff\xff\xff\xff garbage", 13), std::string(),
        std::string(1000, '\x07')}) {
    auto raw = client_->CallRaw(garbage);
    ASSERT_TRUE(raw.ok()) << raw.status();
    Response response;
    ASSERT_TRUE(response.ParseFromString(*raw));
    EXPECT_NE(response.status().code(), proto::OK);
  }
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, UnknownOperationIsUnimplemented) {
  Request request;  // no payload
  auto response = client_->Call(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ((*response)->status().code(), proto::UNIMPLEMENTED);
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, UnknownEnvironmentAndSettingsAreErrors) {
  proto::MakeRequest make = MakeMatrix();
  make.set_name("no_such_game");
  EXPECT_EQ(client_->Make(make).status().code(), absl::StatusCode::kNotFound);

  make = MakeMatrix();
  auto* setting = make.add_settings();
  setting->set_name("no_such_setting");
  setting->mutable_value()->set_int_value(1);
  EXPECT_EQ(client_->Make(make).status().code(),
            absl::StatusCode::kInvalidArgument);

  make = MakeMatrix();
  setting = make.add_settings();
  setting->set_name("game");
  setting->mutable_value()->set_int_value(3);  // wrong type
  EXPECT_EQ(client_->Make(make).status().code(),
            absl::StatusCode::kInvalidArgument);

  make = MakeMatrix();
  setting = make.add_settings();
  setting->set_name("game");
  setting->mutable_value()->set_string_value("no_such_preset");
  EXPECT_FALSE(client_->Make(make).ok());

  make = MakeMatrix();
  make.set_num_copies(-4);
  EXPECT_EQ(client_->Make(make).status().code(),
            absl::StatusCode::kInvalidArgument);
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, StepBeforeResetIsFailedPrecondition) {
  auto made = client_->Make(MakeMatrix());
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(client_->Step(ValidStep(made->handle())).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, BadActionsAreErrorsAndNothingSteps) {
  const uint64_t handle = MakeAndReset();
  // Wrong count.
  proto::StepRequest step = ValidStep(handle);
  step.mutable_actions(0)->mutable_discrete()->resize(sizeof(int64_t));
  EXPECT_EQ(client_->Step(step).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Not a whole number of int64 values.
  step = ValidStep(handle);
  step.mutable_actions(0)->mutable_discrete()->push_back('\0');
  auto partial = client_->Step(step).status();
  EXPECT_EQ(partial.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(partial.message().find("not a whole number"), std::string::npos)
      << partial;
  // Wrong type: floats for a discrete agent.
  step = ValidStep(handle);
  SetArray<float>({0.f, 1.f}, step.mutable_actions(1)->mutable_continuous());
  EXPECT_EQ(client_->Step(step).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Wrong number of agents.
  step = ValidStep(handle);
  step.mutable_actions()->RemoveLast();
  EXPECT_EQ(client_->Step(step).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Out of range.
  step = ValidStep(handle);
  ResizeArray<int64_t>(step.mutable_actions(0)->mutable_discrete(), 2)[1] = 7;
  auto status = client_->Step(step).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(status.message().find("player_0"), std::string::npos) << status;
  step = ValidStep(handle);
  ResizeArray<int64_t>(step.mutable_actions(0)->mutable_discrete(), 2)[0] = -1;
  EXPECT_EQ(client_->Step(step).status().code(), absl::StatusCode::kOutOfRange);
  // Copies that do not exist or repeat.
  step = ValidStep(handle);
  step.add_copies(0);
  step.add_copies(5);
  EXPECT_EQ(client_->Step(step).status().code(), absl::StatusCode::kOutOfRange);
  step = ValidStep(handle);
  step.add_copies(1);
  step.add_copies(1);
  EXPECT_EQ(client_->Step(step).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The handle is intact: a valid step works and it is the first step.
  auto timestep = client_->Step(ValidStep(handle));
  ASSERT_TRUE(timestep.ok()) << timestep.status();
  EXPECT_EQ((*timestep)->terminated()[0], 1);  // one-shot game
}

TEST_F(EnvServerTest, ContinuousActionsAreCheckedAgainstTheBox) {
  proto::MakeRequest make;
  make.set_name("max_of_two_quadratics");
  make.set_num_copies(1);
  const uint64_t handle = MakeAndReset(make);
  proto::StepRequest step;
  step.set_handle(handle);
  SetArray<float>({5.f}, step.add_actions()->mutable_continuous());
  SetArray<float>({10.5f}, step.add_actions()->mutable_continuous());
  EXPECT_EQ(client_->Step(step).status().code(), absl::StatusCode::kOutOfRange);
  SetArray<float>({std::nanf("")},
                  step.mutable_actions(1)->mutable_continuous());
  EXPECT_EQ(client_->Step(step).status().code(), absl::StatusCode::kOutOfRange);
  step.mutable_actions(1)->clear_continuous();
  SetArray<int64_t>({5}, step.mutable_actions(1)->mutable_discrete());
  EXPECT_EQ(client_->Step(step).status().code(),
            absl::StatusCode::kInvalidArgument);
  step.mutable_actions(1)->clear_discrete();
  SetArray<float>({5.f}, step.mutable_actions(1)->mutable_continuous());
  auto timestep = client_->Step(step);
  ASSERT_TRUE(timestep.ok()) << timestep.status();
  EXPECT_NEAR(ArrayAt<float>((*timestep)->agents(0).reward(), 0), 10.0, 1e-5);
}

TEST_F(EnvServerTest, UnknownAndClosedHandlesAreNotFound) {
  EXPECT_EQ(client_->Step(ValidStep(12345)).status().code(),
            absl::StatusCode::kNotFound);
  const uint64_t handle = MakeAndReset();
  ASSERT_TRUE(client_->Close(handle).ok());
  EXPECT_EQ(client_->Step(ValidStep(handle)).status().code(),
            absl::StatusCode::kNotFound);
  proto::ResetRequest reset;
  reset.set_handle(handle);
  EXPECT_EQ(client_->Reset(reset).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Close(handle).code(), absl::StatusCode::kNotFound);
  ExpectServerHealthy(*client_);
}

TEST_F(EnvServerTest, ResetOfChosenCopiesWithSeeds) {
  const uint64_t handle = MakeAndReset(MakeMatrix(4));
  proto::ResetRequest reset;
  reset.set_handle(handle);
  reset.add_copies(3);
  reset.add_copies(1);
  reset.add_seeds(10);
  auto timestep = client_->Reset(reset);
  EXPECT_EQ(timestep.status().code(), absl::StatusCode::kInvalidArgument);
  reset.add_seeds(11);
  timestep = client_->Reset(reset);
  ASSERT_TRUE(timestep.ok()) << timestep.status();
  EXPECT_EQ(ArrayToVector<int32_t>((*timestep)->copies()),
            (std::vector<int32_t>{3, 1}));
  EXPECT_EQ((*timestep)->agents(0).observation().size(), 2 * sizeof(float));
}

TEST(EnvServerClientsTest, AClientThatVanishesDoesNotDisturbOthers) {
  TestServer server;
  // A raw DEALER sends a request and disappears before the answer.
  for (int i = 0; i < 20; ++i) {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(server.endpoint());
    Request request;
    request.mutable_make()->CopyFrom(MakeMatrix(64));
    std::string bytes = request.SerializeAsString();
    socket.send(zmq::buffer(bytes), zmq::send_flags::none);
    // A partial multi-frame message, then gone.
    socket.send(zmq::str_buffer("part"), zmq::send_flags::sndmore);
  }
  auto client = Connect(server.endpoint());
  ExpectServerHealthy(*client);
}

TEST(EnvServerClientsTest, IdleHandlesExpire) {
  ServerOptions options;
  options.idle_handle_timeout_seconds = 1;
  TestServer server(options);
  auto client = Connect(server.endpoint());
  auto made = client->Make(MakeMatrix());
  ASSERT_TRUE(made.ok());
  proto::ResetRequest reset;
  reset.set_handle(made->handle());
  ASSERT_TRUE(client->Reset(reset).ok());
  // The sweep runs about once a second; 3.5 s is past timeout plus sweep.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  auto status = client->Reset(reset).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("expired"), std::string::npos);
}

TEST(EnvServerClientsTest, ManyClientsAtOnceWithIndependentHandles) {
  TestServer server;
  constexpr int kClients = 6;
  constexpr int kSteps = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Connect(server.endpoint());
      // Each client plays its own fixed joint action; its rewards must be
      // that action's payoffs every step, whatever the others do.
      auto env = RemoteEnv::Make(client.get(), "matrix_game",
                                 {{"game", "wolf"}}, 3, c);
      if (!env.ok()) {
        failures++;
        return;
      }
      if (!(*env)->Reset().ok()) failures++;
      const int a0 = c % 2, a1 = (c / 2) % 2;
      // wolf: row [[0,3],[1,2]], column [[3,2],[0,1]].
      const float row[2][2] = {{0, 3}, {1, 2}};
      const float column[2][2] = {{3, 2}, {0, 1}};
      for (int step = 0; step < kSteps; ++step) {
        std::fill((*env)->discrete_actions(0).begin(),
                  (*env)->discrete_actions(0).end(), a0);
        std::fill((*env)->discrete_actions(1).begin(),
                  (*env)->discrete_actions(1).end(), a1);
        auto timestep = (*env)->Step();
        if (!timestep.ok()) {
          failures++;
          return;
        }
        for (int copy = 0; copy < 3; ++copy) {
          if (ArrayAt<float>((*timestep)->agents(0).reward(), copy) !=
                  row[a0][a1] ||
              ArrayAt<float>((*timestep)->agents(1).reward(), copy) !=
                  column[a0][a1]) {
            failures++;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// Every TimeStep of 64 copies of the iterated matrix game (episodes of 5
// steps: truncation and auto-reset) over 12 steps of varied actions, as
// serialized bytes.
std::vector<std::string> IteratedGameRun(const ServerOptions& options) {
  constexpr int kCopies = 64;
  TestServer server(options);
  auto client = Connect(server.endpoint());
  proto::MakeRequest make;
  make.set_name("iterated_matrix_game");
  make.set_num_copies(kCopies);
  make.set_seed(3);
  proto::Setting* length = make.add_settings();
  length->set_name("episode_length");
  length->mutable_value()->set_int_value(5);
  auto made = client->Make(make);
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) return {};
  std::vector<std::string> seen;
  proto::ResetRequest reset;
  reset.set_handle(made->handle());
  auto first = client->Reset(reset);
  EXPECT_TRUE(first.ok()) << first.status();
  if (!first.ok()) return {};
  seen.push_back((*first)->SerializeAsString());
  for (int t = 0; t < 12; ++t) {
    proto::StepRequest step;
    step.set_handle(made->handle());
    for (int agent = 0; agent < 2; ++agent) {
      std::vector<int64_t> actions(kCopies);
      for (int c = 0; c < kCopies; ++c) actions[c] = (c * (agent + 1) + t) % 2;
      SetArray<int64_t>(actions, step.add_actions()->mutable_discrete());
    }
    auto timestep = client->Step(step);
    EXPECT_TRUE(timestep.ok()) << timestep.status();
    if (!timestep.ok()) return {};
    seen.push_back((*timestep)->SerializeAsString());
  }
  return seen;
}

// Workers that step every batch (parallel_min_us = 0), or that a cheap
// batch never reaches (the default), give what one thread gives.
TEST(EnvServerClientsTest, WorkersGiveTheSameResultsAsOneThread) {
  ServerOptions one_thread;
  one_thread.worker_threads = 0;
  const std::vector<std::string> reference = IteratedGameRun(one_thread);
  ASSERT_EQ(reference.size(), 13u);
  EXPECT_NE(reference[1], reference[2]);  // the steps differ
  ServerOptions always;
  always.worker_threads = 2;
  always.parallel_min_us = 0;
  EXPECT_EQ(IteratedGameRun(always), reference);
  ServerOptions by_cost;
  by_cost.worker_threads = 1;
  EXPECT_EQ(IteratedGameRun(by_cost), reference);
}

TEST(EnvServerClientsTest, ReqSocketsWorkToo) {
  // A REQ peer adds an empty delimiter frame; the server answers in kind.
  TestServer server;
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, 5000);
  socket.connect(server.endpoint());
  Request request;
  request.set_request_id(77);
  request.mutable_list_environments();
  std::string bytes = request.SerializeAsString();
  socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq::message_t reply;
  ASSERT_TRUE(socket.recv(reply, zmq::recv_flags::none));
  Response response;
  ASSERT_TRUE(response.ParseFromArray(reply.data(), reply.size()));
  EXPECT_EQ(response.request_id(), 77u);
  EXPECT_EQ(response.status().code(), proto::OK);
}

TEST(EnvServerClientsTest, DeadServerGivesDeadlineExceeded) {
  // Nothing listens here; the call must fail, not hang.
  auto client = Connect("tcp://127.0.0.1:1", /*timeout_ms=*/300);
  EXPECT_EQ(client->Handshake().status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace marl
