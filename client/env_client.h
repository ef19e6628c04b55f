#ifndef MARL_CLIENT_ENV_CLIENT_H_
#define MARL_CLIENT_ENV_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/in_process_server.h"
#include "protocol/proto/env_protocol.pb.h"

namespace marl {

namespace proto = ::marl::env::v3;

inline constexpr uint32_t kProtocolVersion = 3;

struct ClientOptions {
  // tcp://host:port, ipc://path or inproc://name. Empty: start
  // `embedded_server` in this process (inproc://) and talk to it over the
  // same protocol.
  std::string endpoint;
  // The server an empty endpoint starts (none: an empty endpoint is an
  // error). Binaries that embed one set server/embedded_server.h's
  // EmbeddedServerFactory.
  InProcessServerFactory embedded_server;
  // How long a call waits for its answer before failing with
  // DEADLINE_EXCEEDED (a dead server never hangs a client).
  int timeout_ms = 30000;
  std::string client_name = "marl-client";
  // CURVE (see protocol/curve.h): the server's public certificate (NAME.key)
  // turns encryption and authentication on; the client's own secret
  // certificate (NAME.key_secret) is optional, a fresh ephemeral key pair
  // is used without it (fine for a server that admits any client).
  std::string curve_server_key_file;
  std::string curve_client_key_file;
};

// A connection to an environment server: one request in flight at a time
// (talk to several servers at once through one client each).
// Errors come back as statuses: a transport failure, or the server's status
// (code and message) when it refused the request.
class EnvClient {
 public:
  // Fails at once, without waiting for a server, for an endpoint that
  // cannot be valid or unreadable CURVE key files (INVALID_ARGUMENT,
  // NOT_FOUND).
  static absl::StatusOr<std::unique_ptr<EnvClient>> Connect(
      const ClientOptions& options);
  ~EnvClient();
  EnvClient(const EnvClient&) = delete;
  EnvClient& operator=(const EnvClient&) = delete;

  // The endpoint in use (the inproc:// name when embedded).
  const std::string& endpoint() const;
  bool embedded() const;
  // True after a call got no answer (or the transport failed) and until a
  // later call gets one: the server is probably gone, so best-effort
  // requests such as closing handles on the way out should not wait again.
  bool connection_lost() const;

  absl::StatusOr<proto::HandshakeResponse> Handshake();
  absl::StatusOr<proto::ListEnvironmentsResponse> ListEnvironments();
  absl::StatusOr<proto::MakeResponse> Make(const proto::MakeRequest& request);
  // The TimeStep stays valid until the next call on this client.
  absl::StatusOr<const proto::TimeStep*> Reset(
      const proto::ResetRequest& request);
  absl::StatusOr<const proto::TimeStep*> Step(
      const proto::StepRequest& request);
  // Step in two halves, so that requests to several servers are in flight
  // at once: StartStep sends (the request may be reused once it returns),
  // FinishStep waits for the answer. Nothing else is called on this client
  // in between.
  absl::Status StartStep(const proto::StepRequest& request);
  absl::StatusOr<const proto::TimeStep*> FinishStep();
  absl::Status Close(uint64_t handle);

  // Sends any request (its request_id is set here) and returns the whole
  // response, whatever its status; an error only for transport failures or
  // a response that does not parse or answers another request.
  absl::StatusOr<const proto::Response*> Call(proto::Request& request);
  // Call in two halves: Send sets the request_id and sends, Await waits
  // for the answer to the request sent last.
  absl::Status Send(proto::Request& request);
  absl::StatusOr<const proto::Response*> Await();
  // Sends raw bytes as one request frame and returns the raw reply: for
  // tests of how the server treats garbage.
  absl::StatusOr<std::string> CallRaw(const std::string& bytes);

 private:
  struct Impl;
  explicit EnvClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The server's status as an absl::Status.
absl::Status FromProtoStatus(const proto::Status& status);

}  // namespace marl

#endif  // MARL_CLIENT_ENV_CLIENT_H_
