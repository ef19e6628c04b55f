// The server's limits and its fairness between clients, over real sockets:
// memory estimates and handle quotas answered with RESOURCE_EXHAUSTED, an
// allocation failure turned into a reply, rewards out of range refused, and
// slow work of one client never holding up another's requests.
#include <condition_variable>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "client/env_client.h"
#include "envs/core/registry.h"
#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/env_server.h"
#include "server/test_server.h"

namespace marl {
namespace {

// A latch the blocking environment below waits on, so a test decides when
// its make or step finishes (no sleeps, no timing).
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = true;
  int waiting = 0;

  void Close() {
    std::lock_guard<std::mutex> lock(mutex);
    open = false;
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> lock(mutex);
    ++waiting;
    opened.wait(lock, [&] { return open; });
    --waiting;
  }
  int Waiting() {
    std::lock_guard<std::mutex> lock(mutex);
    return waiting;
  }
};

Gate& TheGate() {
  static Gate* gate = new Gate();
  return *gate;
}

// One agent, Discrete(2) actions; blocks on the gate when made with
// block_make, and on every step; its reward is the `reward` setting.
class GatedEnv : public Env {
 public:
  explicit GatedEnv(double reward) : reward_(reward) {
    spec_.agent_ids = {"a"};
    spec_.observation_spaces = {Space::Discrete(1)};
    spec_.action_spaces = {Space::Discrete(2)};
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override { out.observation(0)[0] = 0; }
  void Step(const Actions&, const Output& out) override {
    TheGate().Pass();
    out.set_reward(0, static_cast<float>(reward_));
  }

 private:
  EnvSpec spec_;
  double reward_;
};

MARL_REGISTER_ENV(
    {"test_gated",
     "waits on the test's gate",
     {{"block_make", "wait on the gate when made", false},
      {"throw_bad_alloc", "fail the make with std::bad_alloc", false},
      {"reward", "every step's reward", double{1.0}}},
     [](const Settings& s) -> absl::StatusOr<std::unique_ptr<Env>> {
       if (s.GetBool("throw_bad_alloc")) throw std::bad_alloc();
       if (s.GetBool("block_make")) TheGate().Pass();
       return std::make_unique<GatedEnv>(s.GetDouble("reward"));
     }});

namespace pb = ::marl::env::v3;

// A raw DEALER connection: requests can be pipelined and answers awaited
// separately.
class RawClient {
 public:
  RawClient(zmq::context_t& context, const std::string& endpoint)
      : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void Send(pb::Request request) {
    request.set_request_id(next_id_++);
    const std::string bytes = request.SerializeAsString();
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  // The next answer, waiting up to `timeout_ms`; nullopt if none came.
  std::optional<pb::Response> Receive(int timeout_ms = 10000) {
    zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms));
    if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
    zmq::message_t reply;
    (void)socket_.recv(reply);
    pb::Response response;
    EXPECT_TRUE(response.ParseFromArray(reply.data(), reply.size()));
    return response;
  }
  // Has an answer arrived already? (Does not wait.)
  bool HasAnswer() {
    zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(0));
    return item.revents & ZMQ_POLLIN;
  }
  pb::Response Call(const pb::Request& request) {
    Send(request);
    std::optional<pb::Response> response = Receive();
    EXPECT_TRUE(response.has_value()) << "no answer";
    return response.value_or(pb::Response());
  }

 private:
  zmq::socket_t socket_;
  uint64_t next_id_ = 1;
};

pb::Request Make(const std::string& name, int copies,
                 std::vector<std::pair<std::string, pb::Value>> settings = {}) {
  pb::Request request;
  request.mutable_make()->set_name(name);
  request.mutable_make()->set_num_copies(copies);
  for (auto& [key, value] : settings) {
    pb::Setting* setting = request.mutable_make()->add_settings();
    setting->set_name(key);
    *setting->mutable_value() = value;
  }
  return request;
}

pb::Value Bool(bool b) {
  pb::Value value;
  value.set_bool_value(b);
  return value;
}

pb::Request Handshake() {
  pb::Request request;
  request.mutable_handshake()->set_protocol_version(kProtocolVersion);
  return request;
}

pb::Request Reset(uint64_t handle) {
  pb::Request request;
  request.mutable_reset()->set_handle(handle);
  return request;
}

pb::Request Step(uint64_t handle, int copies, int num_agents = 1) {
  pb::Request request;
  request.mutable_step()->set_handle(handle);
  for (int agent = 0; agent < num_agents; ++agent) {
    ResizeArray<int64_t>(
        request.mutable_step()->add_actions()->mutable_discrete(), copies);
  }
  return request;
}

pb::Request Close(uint64_t handle) {
  pb::Request request;
  request.mutable_close()->set_handle(handle);
  return request;
}

TEST(EnvServerLimitsTest, HandshakeReportsTheLimits) {
  ServerOptions options;
  options.max_handles_per_client = 7;
  options.max_handle_bytes = 12345;
  TestServer server(options);
  zmq::context_t context;
  RawClient client(context, server.endpoint());
  pb::Response response = client.Call(Handshake());
  ASSERT_EQ(response.status().code(), pb::OK);
  const pb::HandshakeResponse& handshake = response.handshake();
  EXPECT_EQ(handshake.max_handles_per_client(), 7);
  EXPECT_EQ(handshake.max_handle_bytes(), 12345);
  EXPECT_EQ(handshake.max_handles(), options.max_handles);
  EXPECT_EQ(handshake.max_client_bytes(), options.max_client_bytes);
  EXPECT_EQ(handshake.max_server_bytes(), options.max_server_bytes);
  EXPECT_EQ(handshake.max_message_bytes(), options.max_message_bytes);
}

TEST(EnvServerLimitsTest, MakeOverTheMemoryEstimateLimitsIsRefused) {
  ServerOptions options;
  options.max_handle_bytes = 4 << 20;
  options.max_client_bytes = 6 << 20;
  options.max_server_bytes = 8 << 20;
  TestServer server(options);
  zmq::context_t context;
  RawClient client(context, server.endpoint());

  // 65536 copies of the matrix game: far over 4 MiB before any is built.
  pb::Response big = client.Call(Make("matrix_game", 1 << 16));
  EXPECT_EQ(big.status().code(), pb::RESOURCE_EXHAUSTED);
  EXPECT_NE(big.status().message().find("--max_handle_bytes"),
            std::string::npos)
      << big.status().message();

  // Handles within the per-handle limit add up to the client's limit...
  pb::Response first = client.Call(Make("matrix_game", 100));
  ASSERT_EQ(first.status().code(), pb::OK) << first.status().message();
  const int64_t each = first.make().estimated_bytes();
  ASSERT_GT(each, 0);
  const int fit = static_cast<int>((6 << 20) / each);
  int made = 1;
  pb::Response last;
  for (; made <= fit + 1; ++made) {
    last = client.Call(Make("matrix_game", 100));
    if (last.status().code() != pb::OK) break;
  }
  EXPECT_EQ(made, fit);
  EXPECT_EQ(last.status().code(), pb::RESOURCE_EXHAUSTED);
  EXPECT_NE(last.status().message().find("--max_client_bytes"),
            std::string::npos)
      << last.status().message();

  // ...while another client still has room up to the server's limit, and
  // closing a handle gives its estimate back.
  RawClient other(context, server.endpoint());
  pb::Response other_made = other.Call(Make("matrix_game", 100));
  EXPECT_EQ(other_made.status().code(), pb::OK);
  ASSERT_EQ(client.Call(Close(first.make().handle())).status().code(), pb::OK);
  EXPECT_EQ(client.Call(Make("matrix_game", 100)).status().code(), pb::OK);
}

TEST(EnvServerLimitsTest, OneClientCannotTakeEveryHandle) {
  ServerOptions options;
  options.max_handles = 6;
  options.max_handles_per_client = 3;
  TestServer server(options);
  zmq::context_t context;
  RawClient greedy(context, server.endpoint());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(greedy.Call(Make("matrix_game", 1)).status().code(), pb::OK);
  }
  pb::Response refused = greedy.Call(Make("matrix_game", 1));
  EXPECT_EQ(refused.status().code(), pb::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.status().message().find("--max_handles_per_client=3"),
            std::string::npos)
      << refused.status().message();

  RawClient polite(context, server.endpoint());
  pb::Response made = polite.Call(Make("matrix_game", 1));
  ASSERT_EQ(made.status().code(), pb::OK);
  ASSERT_EQ(polite.Call(Reset(made.make().handle())).status().code(), pb::OK);
  EXPECT_EQ(polite.Call(Step(made.make().handle(), 1, 2)).status().code(),
            pb::OK);
}

TEST(EnvServerLimitsTest, AnAllocationFailureIsAnErrorReply) {
  TestServer server;
  zmq::context_t context;
  RawClient client(context, server.endpoint());
  pb::Response response =
      client.Call(Make("test_gated", 1, {{"throw_bad_alloc", Bool(true)}}));
  EXPECT_EQ(response.status().code(), pb::RESOURCE_EXHAUSTED);
  EXPECT_NE(response.status().message().find("out of memory"),
            std::string::npos);
  // Its reservation was given back, and the server serves on.
  EXPECT_EQ(client.Call(Handshake()).status().code(), pb::OK);
  EXPECT_EQ(client.Call(Make("matrix_game", 1)).status().code(), pb::OK);
}

TEST(EnvServerLimitsTest, AStepWithAnInfiniteRewardIsRefused) {
  TestServer server;
  zmq::context_t context;
  RawClient client(context, server.endpoint());
  pb::Value huge;
  huge.set_double_value(1e300);  // becomes inf as a float
  pb::Response made = client.Call(Make("test_gated", 2, {{"reward", huge}}));
  ASSERT_EQ(made.status().code(), pb::OK);
  const uint64_t handle = made.make().handle();
  ASSERT_EQ(client.Call(Reset(handle)).status().code(), pb::OK);
  pb::Response stepped = client.Call(Step(handle, 2));
  EXPECT_EQ(stepped.status().code(), pb::INTERNAL);
  EXPECT_NE(stepped.status().message().find("test_gated"), std::string::npos)
      << stepped.status().message();
  EXPECT_FALSE(stepped.has_step());
}

pb::Value Array(std::vector<int64_t> shape, std::vector<double> values) {
  pb::Value value;
  value.mutable_array_value()->mutable_shape()->Add(shape.begin(), shape.end());
  value.mutable_array_value()->mutable_values()->Add(values.begin(),
                                                     values.end());
  return value;
}

pb::Value Int(int64_t i) {
  pb::Value value;
  value.set_int_value(i);
  return value;
}

pb::Value Double(double d) {
  pb::Value value;
  value.set_double_value(d);
  return value;
}

// The cases of issue 9, sent again: each gets a clear error, and the server
// serves on.
TEST(EnvServerLimitsTest, HostileSettingsGetClearErrors) {
  TestServer server;
  zmq::context_t context;
  RawClient client(context, server.endpoint());
  struct Case {
    const char* what;
    pb::Request request;
    pb::StatusCode code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"shape [2^32, 2^32] with no values",
       Make("matrix_game", 1,
            {{"payoffs_row", Array({int64_t{1} << 32, int64_t{1} << 32}, {})}}),
       pb::INVALID_ARGUMENT, "payoffs_row"},
      {"shape [2^62+1, 4] with 4 values",
       Make(
           "matrix_game", 1,
           {{"payoffs_row", Array({(int64_t{1} << 62) + 1, 4}, {1, 2, 3, 4})}}),
       pb::INVALID_ARGUMENT, "payoffs_row"},
      {"beauty_contest with 10^6 agents",
       Make("beauty_contest", 1, {{"num_agents", Int(1000000)}}),
       pb::RESOURCE_EXHAUSTED, "--max_handle_bytes"},
      {"reward_scale 1e308",
       Make("matrix_game", 1, {{"reward_scale", Double(1e308)}}),
       pb::INVALID_ARGUMENT, "reward_scale"},
      {"p 1e308", Make("beauty_contest", 1, {{"p", Double(1e308)}}),
       pb::INVALID_ARGUMENT, "p"},
  };
  for (const Case& c : cases) {
    pb::Response response = client.Call(c.request);
    EXPECT_EQ(response.status().code(), c.code)
        << c.what << ": " << response.status().message();
    EXPECT_NE(response.status().message().find(c.message), std::string::npos)
        << c.what << ": " << response.status().message();
    EXPECT_EQ(client.Call(Handshake()).status().code(), pb::OK) << c.what;
  }
  EXPECT_EQ(client.Call(Make("beauty_contest", 1, {{"num_agents", Int(1000)}}))
                .status()
                .code(),
            pb::OK);
}

TEST(EnvServerLimitsTest, AFrameOverTheMessageLimitIsNeverRead) {
  ServerOptions options;
  options.max_message_bytes = 1 << 20;
  TestServer server(options);
  zmq::context_t context;
  RawClient big(context, server.endpoint());
  RawClient other(context, server.endpoint());
  // A valid make whose (unknown) setting pads the frame past the limit.
  pb::Value padding;
  padding.set_string_value(std::string(2 << 20, 'x'));
  big.Send(Make("matrix_game", 1, {{"padding", padding}}));
  EXPECT_EQ(other.Call(Handshake()).status().code(), pb::OK);
  EXPECT_EQ(other.Call(Make("matrix_game", 1)).status().code(), pb::OK);
  // ZeroMQ dropped the big frame's connection: no answer ever comes. (It
  // reconnects by itself, and a request within the limit is served.)
  EXPECT_FALSE(big.Receive(/*timeout_ms=*/300).has_value());
  pb::Response small = big.Call(Handshake());
  EXPECT_EQ(small.status().code(), pb::OK);
}

TEST(EnvServerLimitsTest, PipeliningPastTheWaitingLimitIsRefused) {
  ServerOptions options;
  options.max_deferred_per_client = 2;
  TestServer server(options);
  zmq::context_t context;
  RawClient client(context, server.endpoint());
  Gate& gate = TheGate();
  gate.Close();
  for (int i = 0; i < 3; ++i) {
    client.Send(Make("test_gated", 1, {{"block_make", Bool(true)}}));
  }
  // The third is refused at once, while the first two wait.
  std::optional<pb::Response> refused = client.Receive();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->request_id(), 3u);
  EXPECT_EQ(refused->status().code(), pb::RESOURCE_EXHAUSTED);
  gate.Open();
  for (int i = 0; i < 2; ++i) {
    std::optional<pb::Response> made = client.Receive();
    ASSERT_TRUE(made.has_value());
    EXPECT_EQ(made->status().code(), pb::OK);
  }
}

TEST(EnvServerFairnessTest, ASlowMakeDoesNotHoldUpOtherClients) {
  TestServer server;
  zmq::context_t context;
  RawClient slow(context, server.endpoint());
  RawClient quick(context, server.endpoint());
  Gate& gate = TheGate();
  gate.Close();
  slow.Send(Make("test_gated", 1, {{"block_make", Bool(true)}}));
  while (gate.Waiting() == 0) std::this_thread::yield();

  // While that make is held, another client is served in full.
  EXPECT_EQ(quick.Call(Handshake()).status().code(), pb::OK);
  pb::Response made = quick.Call(Make("matrix_game", 4));
  ASSERT_EQ(made.status().code(), pb::OK);
  const uint64_t handle = made.make().handle();
  ASSERT_EQ(quick.Call(Reset(handle)).status().code(), pb::OK);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(quick.Call(Step(handle, 4, 2)).status().code(), pb::OK);
  }
  EXPECT_FALSE(slow.HasAnswer());

  gate.Open();
  std::optional<pb::Response> slow_made = slow.Receive();
  ASSERT_TRUE(slow_made.has_value());
  EXPECT_EQ(slow_made->status().code(), pb::OK);
}

TEST(EnvServerFairnessTest, ASlowStepDoesNotHoldUpOthersAndKeepsItsOrder) {
  TestServer server;
  zmq::context_t context;
  RawClient slow(context, server.endpoint());
  RawClient quick(context, server.endpoint());
  pb::Response made = slow.Call(Make("test_gated", 1));
  ASSERT_EQ(made.status().code(), pb::OK);
  const uint64_t slow_handle = made.make().handle();
  ASSERT_EQ(slow.Call(Reset(slow_handle)).status().code(), pb::OK);

  Gate& gate = TheGate();
  gate.Close();
  // A held step, then a close of the same handle right behind it: the
  // close must wait for the step.
  slow.Send(Step(slow_handle, 1));
  slow.Send(Close(slow_handle));
  while (gate.Waiting() == 0) std::this_thread::yield();

  pb::Response quick_made = quick.Call(Make("matrix_game", 2));
  ASSERT_EQ(quick_made.status().code(), pb::OK);
  const uint64_t handle = quick_made.make().handle();
  ASSERT_EQ(quick.Call(Reset(handle)).status().code(), pb::OK);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(quick.Call(Step(handle, 2, 2)).status().code(), pb::OK);
  }
  EXPECT_EQ(quick.Call(Handshake()).status().code(), pb::OK);
  EXPECT_FALSE(slow.HasAnswer());

  gate.Open();
  std::optional<pb::Response> stepped = slow.Receive();
  std::optional<pb::Response> closed = slow.Receive();
  ASSERT_TRUE(stepped.has_value() && closed.has_value());
  EXPECT_EQ(stepped->request_id(), 1u + 2u);  // make, reset, then the step
  EXPECT_EQ(stepped->status().code(), pb::OK) << stepped->status().message();
  EXPECT_TRUE(stepped->has_step());
  EXPECT_EQ(closed->status().code(), pb::OK);
  EXPECT_EQ(slow.Call(Reset(slow_handle)).status().code(), pb::NOT_FOUND);
}

}  // namespace
}  // namespace marl
