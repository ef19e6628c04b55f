#ifndef MARL_PROTOCOL_IN_PROCESS_SERVER_H_
#define MARL_PROTOCOL_IN_PROCESS_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace zmq {
class context_t;
}  // namespace zmq

namespace marl {

// An environment server running inside this process, serving an inproc://
// endpoint of the ZeroMQ context it was started on. The client side names
// only this interface, so it does not depend on the server: a binary that
// wants a client with no server address to start one brings the server in
// (server/embedded_server.h: EmbeddedServerFactory).
class InProcessServer {
 public:
  virtual ~InProcessServer() = default;  // stops the server
  virtual const std::string& endpoint() const = 0;
};

// Starts one on `context` (the client's own: inproc:// reaches only
// sockets of the same context).
using InProcessServerFactory =
    std::function<absl::StatusOr<std::unique_ptr<InProcessServer>>(
        zmq::context_t* context)>;

}  // namespace marl

#endif  // MARL_PROTOCOL_IN_PROCESS_SERVER_H_
