#ifndef MARL_SERVER_TEST_SERVER_H_
#define MARL_SERVER_TEST_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "server/env_server.h"

namespace marl {

// A real EnvServer on a background thread, bound to the given endpoint
// (default: an ephemeral loopback TCP port), for tests and benchmarks.
class TestServer {
 public:
  explicit TestServer(const ServerOptions& options = ServerOptions(),
                      const std::string& endpoint = "tcp://127.0.0.1:0")
      : server_(&context_, options) {
    absl::Status status = server_.Bind(endpoint);
    if (!status.ok()) {
      std::fprintf(stderr, "TestServer: %s\n", status.ToString().c_str());
      std::abort();
    }
    endpoint_ = server_.last_endpoint();
    thread_ = std::thread([this] { server_.Run(); });
  }
  ~TestServer() {
    server_.Stop();
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  zmq::context_t& context() { return context_; }

 private:
  zmq::context_t context_{1};
  EnvServer server_;
  std::string endpoint_;
  std::thread thread_;
};

}  // namespace marl

#endif  // MARL_SERVER_TEST_SERVER_H_
