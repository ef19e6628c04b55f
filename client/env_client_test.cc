// Clients fail fast: an endpoint that cannot be valid fails before any
// wait, and once a server stops answering, the one call that noticed is the
// only one that waits (closing handles on the way out sends nothing).
#include "client/env_client.h"

#include <vector>

#include "client/remote_env.h"
#include "gtest/gtest.h"
#include "server/embedded_server.h"
#include "server/silenceable_server.h"

namespace marl {
namespace {

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

}  // namespace
}  // namespace marl
