// Endpoint checks and the servers' network-exposure rule.
#include "protocol/endpoint.h"

#include "gtest/gtest.h"

namespace marl {
namespace {

TEST(ParseEndpointTest, AcceptsUsableEndpoints) {
  absl::StatusOr<Endpoint> tcp = ParseEndpoint("tcp://127.0.0.1:5555", false);
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  EXPECT_EQ(tcp->transport, "tcp");
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 5555);
  EXPECT_EQ(ParseEndpoint("tcp://[::1]:1", false)->host, "::1");
  EXPECT_EQ(ParseEndpoint("tcp://my-host.example.org:65535", false)->port,
            65535);
  EXPECT_EQ(ParseEndpoint("ipc:///tmp/marl.sock", false)->path,
            "/tmp/marl.sock");
  EXPECT_EQ(ParseEndpoint("inproc://x", false)->path, "x");
  // Only a bind takes a free port or every interface.
  EXPECT_EQ(ParseEndpoint("tcp://127.0.0.1:0", true)->port, 0);
  EXPECT_EQ(ParseEndpoint("tcp://127.0.0.1:*", true)->port, -1);
  EXPECT_EQ(ParseEndpoint("tcp://*:5555", true)->host, "*");
  EXPECT_TRUE(ParseEndpoint("tcp://0.0.0.0:5555", true).ok());
}

TEST(ParseEndpointTest, RejectsEndpointsThatCannotWork) {
  struct Case {
    const char* text;
    const char* expected;  // in the message
  };
  for (const Case& c : std::vector<Case>{
           {"tcp://127.0.0.1:99999", "1..65535"},
           {"tcp://127.0.0.1:0", "1..65535"},
           {"tcp://127.0.0.1:-1", "1..65535"},
           {"tcp://127.0.0.1:+80", "1..65535"},
           {"tcp://127.0.0.1:5555x", "1..65535"},
           {"tcp://127.0.0.1:", "1..65535"},
           {"tcp://127.0.0.1:*", "1..65535"},
           {"tcp://127.0.0.1", "no port"},
           {"tcp://:5555", "empty host"},
           {"tcp://*:5555", "for binding"},
           {"tcp://bad host:5555", "not a name"},
           {"tcp://[::zz]:5555", "not an IPv6"},
           {"http://127.0.0.1:5555", "unsupported scheme"},
           {"127.0.0.1:5555", "no scheme"},
           {"", "no scheme"},
           {"ipc://", "empty path"},
           {"inproc://", "empty name"},
       }) {
    absl::Status status = ParseEndpoint(c.text, false).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(status.message().find(c.expected), std::string::npos)
        << c.text << ": " << status;
  }
  EXPECT_FALSE(ParseEndpoint("ipc://" + std::string(200, 'a'), false).ok());
  EXPECT_FALSE(ParseEndpoint("tcp://127.0.0.1:65536", true).ok());
}

TEST(IsLoopbackHostTest, OnlyThisMachine) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost",
                           "LocalHost", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "*", "10.0.0.1", "128.0.0.1",
                           "::", "example.org", "eth0", "localhost.evil.org"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(CheckServerExposureTest, RemoteBindsNeedTheFlag) {
  std::string warning = "stale";
  EXPECT_TRUE(CheckServerExposure({"tcp://127.0.0.1:0", "ipc:///tmp/x",
                                   "inproc://y", "tcp://[::1]:5555"},
                                  false, false, &warning)
                  .ok());
  EXPECT_EQ(warning, "");

  absl::Status refused = CheckServerExposure(
      {"tcp://127.0.0.1:5555", "tcp://0.0.0.0:5555"}, false, true, &warning);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("--allow_remote_clients"),
            std::string::npos);
  EXPECT_NE(refused.message().find("tcp://0.0.0.0:5555"), std::string::npos);
  EXPECT_EQ(refused.message().find("127.0.0.1:5555"), std::string::npos);
  EXPECT_EQ(
      CheckServerExposure({"tcp://*:5555"}, false, false, &warning).code(),
      absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(
      CheckServerExposure({"tcp://*:5555"}, true, false, &warning).ok());
  EXPECT_NE(warning.find("without CURVE"), std::string::npos);
  ASSERT_TRUE(CheckServerExposure({"tcp://*:5555"}, true, true, &warning).ok());
  EXPECT_EQ(warning, "");

  EXPECT_EQ(
      CheckServerExposure({"tcp://127.0.0.1:99999"}, false, false, &warning)
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
