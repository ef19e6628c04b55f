// env_server under CURVE with real keys over loopback TCP: listed clients
// are served; a client without a key, with an unlisted key or without the
// server's key gets nothing, while the listed one keeps being served.
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "client/env_client.h"
#include "client/remote_env.h"
#include "gtest/gtest.h"
#include "protocol/curve.h"
#include "server/env_server.h"

namespace marl {
namespace {

// Key files for a server and three clients in a fresh directory; only
// alice is authorized.
struct Keys {
  Keys() {
    dir = ::testing::TempDir() + "/curve_server_keys";
    std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
    EXPECT_EQ(mkdir(dir.c_str(), 0700), 0);
    authorized = dir + "/authorized";
    EXPECT_EQ(mkdir(authorized.c_str(), 0700), 0);
    for (const char* name : {"server", "alice", "mallory"}) {
      absl::StatusOr<CurveKeyPair> keys = GenerateCurveKeyPair();
      EXPECT_TRUE(keys.ok()) << keys.status();
      EXPECT_TRUE(WriteCurveCertificates(dir, name, *keys, false).ok());
    }
    EXPECT_EQ(std::system(
                  absl::StrCat("cp ", dir, "/alice.key ", authorized).c_str()),
              0);
  }
  std::string dir;
  std::string authorized;
};

class CurveServer {
 public:
  explicit CurveServer(const ServerOptions& options)
      : server_(&context_, options) {
    bind_status_ = server_.Bind("tcp://127.0.0.1:0");
    if (bind_status_.ok()) {
      thread_ = std::thread([this] { server_.Run(); });
    }
  }
  ~CurveServer() {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  const absl::Status& bind_status() const { return bind_status_; }
  std::string endpoint() const { return server_.last_endpoint(); }
  const EnvServer& server() const { return server_; }

 private:
  zmq::context_t context_{1};
  EnvServer server_;
  absl::Status bind_status_;
  std::thread thread_;
};

std::unique_ptr<EnvClient> Client(const std::string& endpoint,
                                  const std::string& server_key,
                                  const std::string& client_key,
                                  int timeout_ms) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.timeout_ms = timeout_ms;
  options.curve_server_key_file = server_key;
  options.curve_client_key_file = client_key;
  absl::StatusOr<std::unique_ptr<EnvClient>> client =
      EnvClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

void ExpectRefused(const absl::Status& status, const std::string& fix) {
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_NE(status.message().find(fix), std::string::npos) << status;
}

// A make, a reset and a step: real service.
void ExpectServed(EnvClient* client) {
  ASSERT_TRUE(client->Handshake().ok());
  auto env =
      RemoteEnv::Make(client, "matrix_game", {{"game", "climbing"}}, 4, 7);
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_TRUE((*env)->Reset().ok());
  auto step = (*env)->Step();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ((*step)->agents_size(), 2);
}

TEST(CurveServerTest, OnlyAuthorizedClientsAreServed) {
  Keys keys;
  ServerOptions options;
  options.curve_secret_key_file = keys.dir + "/server.key_secret";
  options.curve_authorized_keys = keys.authorized;
  CurveServer server(options);
  ASSERT_TRUE(server.bind_status().ok()) << server.bind_status();
  const std::string server_key = keys.dir + "/server.key";

  auto alice = Client(server.endpoint(), server_key,
                      keys.dir + "/alice.key_secret", 10000);
  ExpectServed(alice.get());

  // No CURVE at all.
  // (Each refused call waits its whole timeout; the handshake's failure,
  // seen meanwhile, names what to fix.)
  auto plain = Client(server.endpoint(), "", "", 2000);
  ExpectRefused(plain->Handshake().status(), "--curve_server_key_file=");
  // A key the server does not list, then a fresh ephemeral one.
  auto mallory = Client(server.endpoint(), server_key,
                        keys.dir + "/mallory.key_secret", 2000);
  ExpectRefused(mallory->Handshake().status(), "refused this client's");
  auto ephemeral = Client(server.endpoint(), server_key, "", 2000);
  ExpectRefused(ephemeral->Handshake().status(), "refused this client's");
  EXPECT_GE(server.server().curve_denials(), 2);
  // Alice's key as if it were the server's: the handshake cannot succeed.
  auto wrong_server = Client(server.endpoint(), keys.dir + "/alice.key",
                             keys.dir + "/alice.key_secret", 2000);
  ExpectRefused(wrong_server->Handshake().status(),
                "--curve_server_key_file is that server's");

  // The listed client, on its existing connection and on a new one.
  ExpectServed(alice.get());
  auto alice_again = Client(server.endpoint(), server_key,
                            keys.dir + "/alice.key_secret", 10000);
  ExpectServed(alice_again.get());
  EXPECT_TRUE(plain->connection_lost());
}

TEST(CurveServerTest, WithoutAuthorizedKeysAnyClientWithTheServerKey) {
  Keys keys;
  ServerOptions options;
  options.curve_secret_key_file = keys.dir + "/server.key_secret";
  CurveServer server(options);
  ASSERT_TRUE(server.bind_status().ok()) << server.bind_status();
  const std::string server_key = keys.dir + "/server.key";
  auto mallory = Client(server.endpoint(), server_key,
                        keys.dir + "/mallory.key_secret", 10000);
  ExpectServed(mallory.get());
  auto ephemeral = Client(server.endpoint(), server_key, "", 10000);
  ExpectServed(ephemeral.get());
  // Still not a client without the server's key.
  auto plain = Client(server.endpoint(), "", "", 2000);
  ExpectRefused(plain->Handshake().status(), "--curve_server_key_file=");
  EXPECT_EQ(server.server().curve_denials(), 0);
}

TEST(CurveServerTest, ACurveClientOfAPlainServerIsToldSo) {
  Keys keys;
  CurveServer server{ServerOptions()};
  ASSERT_TRUE(server.bind_status().ok()) << server.bind_status();
  auto client = Client(server.endpoint(), keys.dir + "/server.key", "", 2000);
  // "the server does not use CURVE", or, when the server hangs up before
  // the client sees the mismatch (a loaded machine), the handshake failure
  // that names both causes.
  const absl::Status refused = client->Handshake().status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_TRUE(
      refused.message().find("does not use CURVE") != std::string::npos ||
      refused.message().find("the server uses CURVE") != std::string::npos)
      << refused;
  auto plain = Client(server.endpoint(), "", "", 10000);
  ExpectServed(plain.get());
}

TEST(CurveServerTest, BadCurveOptionsFailTheBind) {
  Keys keys;
  ServerOptions options;
  options.curve_secret_key_file = keys.dir + "/missing.key_secret";
  CurveServer missing(options);
  EXPECT_EQ(missing.bind_status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.bind_status().message().find("--curve_secret_key_file"),
            std::string::npos);

  options.curve_secret_key_file = keys.dir + "/server.key";  // public only
  CurveServer public_only(options);
  EXPECT_EQ(public_only.bind_status().code(),
            absl::StatusCode::kInvalidArgument);

  options.curve_secret_key_file = "";
  options.curve_authorized_keys = keys.authorized;
  CurveServer no_secret(options);
  EXPECT_EQ(no_secret.bind_status().code(), absl::StatusCode::kInvalidArgument);

  options.curve_secret_key_file = keys.dir + "/server.key_secret";
  options.curve_authorized_keys = keys.dir + "/no_such_dir";
  CurveServer no_dir(options);
  EXPECT_EQ(no_dir.bind_status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_dir.bind_status().message().find("--curve_authorized_keys"),
            std::string::npos);
}

}  // namespace
}  // namespace marl
