#ifndef MARL_PROTOCOL_ENDPOINT_H_
#define MARL_PROTOCOL_ENDPOINT_H_

// ZeroMQ endpoints as the servers and clients accept them: checked before
// use, so a typo fails at once with a clear message instead of a client
// waiting for a server that cannot exist.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marl {

struct Endpoint {
  std::string transport;  // "tcp", "ipc" or "inproc"
  std::string host;       // tcp: without IPv6 brackets
  int port = 0;           // tcp; -1 for a bind to "*" (any free port)
  std::string path;       // ipc: the path; inproc: the name
};

// Parses tcp://HOST:PORT, tcp://[IPV6]:PORT, ipc://PATH or inproc://NAME.
// For a connect (for_bind false) the port is 1..65535 and the host a name
// or address; a bind also takes port 0 or "*" (a free port) and host "*"
// (every interface). INVALID_ARGUMENT saying what is wrong otherwise.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text, bool for_bind);

// True for 127.0.0.0/8, ::1 and localhost: addresses only this machine
// reaches.
bool IsLoopbackHost(absl::string_view host);

// The rule for a server's bind addresses: a tcp endpoint on anything but
// loopback needs `allow_remote_clients` (FAILED_PRECONDITION naming the
// flag otherwise). With it but without CURVE, `*warning` gets a line for
// stderr (empty when there is nothing to warn about). Endpoints that do not
// parse give INVALID_ARGUMENT.
absl::Status CheckServerExposure(const std::vector<std::string>& endpoints,
                                 bool allow_remote_clients, bool curve_on,
                                 std::string* warning);

}  // namespace marl

#endif  // MARL_PROTOCOL_ENDPOINT_H_
