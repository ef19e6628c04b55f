#ifndef MARL_SERVER_EMBEDDED_SERVER_H_
#define MARL_SERVER_EMBEDDED_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "protocol/in_process_server.h"
#include "server/env_server.h"

namespace marl {

// An EnvServer on a background thread of this process, bound to a fresh
// inproc:// endpoint of `context`: what a binary talks to when given no
// server address. Same protocol, no sockets outside the process.
class EmbeddedServer : public InProcessServer {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedServer>> Start(
      zmq::context_t* context, const ServerOptions& options);
  ~EmbeddedServer() override;  // stops and joins the serving thread

  const std::string& endpoint() const override { return endpoint_; }

 private:
  EmbeddedServer() = default;
  std::unique_ptr<EnvServer> server_;
  std::thread thread_;
  std::string endpoint_;
};

// What ClientOptions::embedded_server takes: an EmbeddedServer named
// "marl-embedded-server" with `worker_threads` workers (stepping large
// batches) and the other options at their defaults.
InProcessServerFactory EmbeddedServerFactory(int worker_threads = 1);

}  // namespace marl

#endif  // MARL_SERVER_EMBEDDED_SERVER_H_
