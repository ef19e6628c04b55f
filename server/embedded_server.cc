#include "server/embedded_server.h"

#include <atomic>

#include "absl/strings/str_cat.h"

namespace marl {

absl::StatusOr<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Start(
    zmq::context_t* context, const ServerOptions& options) {
  static std::atomic<int> counter{0};
  std::unique_ptr<EmbeddedServer> embedded(new EmbeddedServer());
  embedded->server_ = std::make_unique<EnvServer>(context, options);
  embedded->endpoint_ =
      absl::StrCat("inproc://marl-embedded-", counter.fetch_add(1));
  if (absl::Status status = embedded->server_->Bind(embedded->endpoint_);
      !status.ok()) {
    return status;
  }
  EnvServer* server = embedded->server_.get();
  embedded->thread_ = std::thread([server] { server->Run(); });
  return embedded;
}

InProcessServerFactory EmbeddedServerFactory(int worker_threads) {
  return [worker_threads](zmq::context_t* context)
             -> absl::StatusOr<std::unique_ptr<InProcessServer>> {
    ServerOptions options;
    options.server_name = "marl-embedded-server";
    options.worker_threads = worker_threads;
    absl::StatusOr<std::unique_ptr<EmbeddedServer>> server =
        EmbeddedServer::Start(context, options);
    if (!server.ok()) return server.status();
    return std::unique_ptr<InProcessServer>(*std::move(server));
  };
}

EmbeddedServer::~EmbeddedServer() {
  server_->Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace marl
