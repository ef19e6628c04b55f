#include "client/env_client.h"

#include <atomic>
#include <cstring>
#include <optional>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "protocol/curve.h"
#include "protocol/endpoint.h"

namespace marl {

struct EnvClient::Impl {
  ClientOptions options;
  // Declaration order is destruction order reversed: the socket closes
  // first, then the embedded server stops, then the context ends.
  zmq::context_t context{1};
  std::unique_ptr<InProcessServer> embedded;
  std::unique_ptr<zmq::socket_t> socket;
  // Under CURVE: the socket's handshake-failure events, read after a call
  // got no answer to tell a refused key from a silent server.
  std::unique_ptr<zmq::socket_t> monitor;
  std::string endpoint;
  bool connection_lost = false;
  bool curve = false;  // CURVE options given
  uint64_t next_request_id = 1;
  uint64_t pending_id = 0;  // the request sent and not yet answered; 0: none
  proto::Request request;
  std::string buffer;
  // Responses are parsed into an arena reset before each parse. Parsing
  // into a plain message would first delete the previous response's
  // payload (a oneof: the TimeStep and every array) and then allocate it
  // all again; the arena's first block is ours and survives resets, so a
  // response that fits in it allocates nothing.
  static constexpr size_t kArenaBlockSize = 64 << 10;
  std::unique_ptr<char[]> arena_block{new char[kArenaBlockSize]};
  google::protobuf::Arena arena{ArenaOptions(arena_block.get())};
  proto::Response* response = nullptr;  // in `arena`; the last answer

  static google::protobuf::ArenaOptions ArenaOptions(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kArenaBlockSize;
    return options;
  }
  // Parses an answer, dropping the previous one; null if it does not parse.
  proto::Response* ParseResponse(const zmq::message_t& reply) {
    response = nullptr;
    arena.Reset();
    proto::Response* parsed =
        google::protobuf::Arena::CreateMessage<proto::Response>(&arena);
    if (!parsed->ParseFromArray(reply.data(), static_cast<int>(reply.size()))) {
      return nullptr;
    }
    response = parsed;
    return parsed;
  }

  absl::Status Send(const void* data, size_t size) {
    try {
      if (!socket->send(zmq::const_buffer(data, size), zmq::send_flags::none)) {
        connection_lost = true;
        return absl::UnavailableError(
            absl::StrCat("could not send to ", endpoint, " within ",
                         options.timeout_ms, " ms: is env_server running at ",
                         endpoint, "? (check --endpoint)"));
      }
    } catch (const zmq::error_t& error) {
      connection_lost = true;
      return absl::UnavailableError(
          absl::StrCat("send to ", endpoint, " failed: ", error.what()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<zmq::message_t> Receive() {
    zmq::message_t reply;
    try {
      if (!socket->recv(reply, zmq::recv_flags::none)) {
        connection_lost = true;
        if (const std::string failure = HandshakeFailure(); !failure.empty()) {
          return absl::UnauthenticatedError(
              absl::StrCat("no answer from ", endpoint,
                           ": the connection's security "
                           "handshake failed: ",
                           failure));
        }
        return absl::DeadlineExceededError(absl::StrCat(
            "no answer from ", endpoint, " within ", options.timeout_ms,
            " ms: is env_server running at ", endpoint,
            "? (check --endpoint; raise --timeout_ms if the server is only "
            "slow)"));
      }
    } catch (const zmq::error_t& error) {
      connection_lost = true;
      return absl::UnavailableError(
          absl::StrCat("receive from ", endpoint, " failed: ", error.what()));
    }
    connection_lost = false;
    return reply;
  }

  // Drains the monitor; what to fix for the handshake failures seen, or ""
  // if there was none (the server is silent or gone). ZeroMQ retries the
  // connection meanwhile, and a retry may fail without detail: a specific
  // cause (a refused key, a mechanism mismatch), once seen, is kept.
  std::string HandshakeFailure() {
    if (monitor == nullptr) return "";
    std::string failure;
    bool specific = false;
    try {
      zmq::message_t event;
      while (monitor->recv(event, zmq::recv_flags::dontwait)) {
        // Frame 1: 16-bit event id and 32-bit value; frame 2: the address.
        uint16_t id = 0;
        uint32_t value = 0;
        const bool header = event.size() == 6;
        if (header) {
          std::memcpy(&id, event.data(), 2);
          std::memcpy(&value, event.data<char>() + 2, 4);
        }
        while (event.more() &&
               monitor->recv(event, zmq::recv_flags::dontwait)) {
        }
        if (!header) continue;
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
          specific = true;
          failure = absl::StrCat(
              "the server refused this client's CURVE key (ZAP status ", value,
              "): check that --curve_client_key_file is a key the server "
              "authorizes (its --curve_authorized_keys)");
        } else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
          specific = true;
          failure = curve ? "the server does not use CURVE: drop "
                            "--curve_server_key_file, or start env_server "
                            "with --curve_secret_key_file"
                          : "the server requires CURVE: pass "
                            "--curve_server_key_file=<the server's NAME.key>";
        } else if (!specific && (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                                 id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
          // Without detail (the server may drop the connection before the
          // client sees the mismatch): a plain client's handshake fails
          // only against another mechanism or a peer that is not ZeroMQ.
          // A CURVE client of a plain server can see only this too (under
          // load the mismatch event may come after the server hung up).
          failure = curve ? "check that --curve_server_key_file is that "
                            "server's public key, and that the server uses "
                            "CURVE (env_server --curve_secret_key_file)"
                          : "the server may require CURVE (pass "
                            "--curve_server_key_file=<the server's NAME.key>)"
                            ", or is not an env_server";
        }
      }
    } catch (const zmq::error_t&) {
      // No events to read: report the timeout alone.
    }
    return failure;
  }
};

EnvClient::EnvClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnvClient::~EnvClient() = default;

absl::StatusOr<std::unique_ptr<EnvClient>> EnvClient::Connect(
    const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->endpoint = options.endpoint;
  const bool curve = !options.curve_server_key_file.empty();
  impl->curve = curve;
  if (!curve && !options.curve_client_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--curve_client_key_file needs --curve_server_key_file (the "
        "server's public key)");
  }
  if (!impl->endpoint.empty()) {
    absl::StatusOr<Endpoint> parsed =
        ParseEndpoint(impl->endpoint, /*for_bind=*/false);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(parsed.status().message(), " (check --endpoint)"));
    }
    if (curve && parsed->transport == "inproc") {
      return absl::InvalidArgumentError(
          "CURVE secures tcp:// and ipc:// endpoints, not inproc://");
    }
  } else if (curve) {
    return absl::InvalidArgumentError(
        "CURVE needs a server endpoint (--endpoint); the embedded server "
        "is in this process");
  }
  std::string server_key;
  std::optional<CurveKeyPair> client_keys;
  if (curve) {
    absl::StatusOr<CurveKeyPair> server =
        ReadCurveCertificate(options.curve_server_key_file);
    if (!server.ok()) {
      return absl::Status(
          server.status().code(),
          absl::StrCat("--curve_server_key_file: ", server.status().message()));
    }
    server_key = server->public_key;
    if (!options.curve_client_key_file.empty()) {
      absl::StatusOr<CurveKeyPair> own =
          ReadCurveSecretCertificate(options.curve_client_key_file);
      if (!own.ok()) {
        return absl::Status(
            own.status().code(),
            absl::StrCat("--curve_client_key_file: ", own.status().message()));
      }
      client_keys = *std::move(own);
    }
  }
  if (impl->endpoint.empty()) {
    if (!options.embedded_server) {
      return absl::InvalidArgumentError(
          "no server endpoint given (--endpoint), and this program embeds "
          "no server");
    }
    absl::StatusOr<std::unique_ptr<InProcessServer>> embedded =
        options.embedded_server(&impl->context);
    if (!embedded.ok()) return embedded.status();
    impl->embedded = *std::move(embedded);
    impl->endpoint = impl->embedded->endpoint();
  }
  try {
    impl->socket = std::make_unique<zmq::socket_t>(impl->context,
                                                   zmq::socket_type::dealer);
    impl->socket->set(zmq::sockopt::linger, 0);
    impl->socket->set(zmq::sockopt::rcvtimeo, options.timeout_ms);
    impl->socket->set(zmq::sockopt::sndtimeo, options.timeout_ms);
    if (curve) {
      if (absl::Status status =
              ConfigureCurveClient(impl->socket.get(), server_key,
                                   client_keys ? &*client_keys : nullptr);
          !status.ok()) {
        return status;
      }
    }
    // Handshake failures (a refused key, CURVE on one side only) are
    // recorded, to be told apart from a silent server after a timeout.
    if (impl->embedded == nullptr &&
        impl->endpoint.rfind("inproc://", 0) != 0) {
      static std::atomic<int> counter{0};
      const std::string monitor_endpoint =
          absl::StrCat("inproc://marl-client-monitor-", counter.fetch_add(1));
      if (zmq_socket_monitor(impl->socket->handle(), monitor_endpoint.c_str(),
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
        impl->monitor = std::make_unique<zmq::socket_t>(impl->context,
                                                        zmq::socket_type::pair);
        impl->monitor->set(zmq::sockopt::linger, 0);
        impl->monitor->connect(monitor_endpoint);
      }
    }
    impl->socket->connect(impl->endpoint);
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot connect to '", impl->endpoint, "': ", error.what()));
  }
  return std::unique_ptr<EnvClient>(new EnvClient(std::move(impl)));
}

const std::string& EnvClient::endpoint() const { return impl_->endpoint; }
bool EnvClient::embedded() const { return impl_->embedded != nullptr; }
bool EnvClient::connection_lost() const { return impl_->connection_lost; }

absl::Status FromProtoStatus(const proto::Status& status) {
  if (status.code() == proto::OK) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      status.message());
}

absl::Status EnvClient::Send(proto::Request& request) {
  Impl& impl = *impl_;
  const uint64_t id = impl.next_request_id++;
  request.set_request_id(id);
  impl.pending_id = 0;
  if (!request.SerializeToString(&impl.buffer)) {
    return absl::InternalError("could not serialise the request");
  }
  if (absl::Status status = impl.Send(impl.buffer.data(), impl.buffer.size());
      !status.ok()) {
    return status;
  }
  impl.pending_id = id;
  return absl::OkStatus();
}

absl::StatusOr<const proto::Response*> EnvClient::Await() {
  Impl& impl = *impl_;
  const uint64_t id = impl.pending_id;
  if (id == 0) return absl::FailedPreconditionError("no request in flight");
  impl.pending_id = 0;
  // Answers to earlier requests that timed out may still arrive: skip them.
  while (true) {
    absl::StatusOr<zmq::message_t> reply = impl.Receive();
    if (!reply.ok()) return reply.status();
    const proto::Response* response = impl.ParseResponse(*reply);
    if (response == nullptr) {
      return absl::DataLossError(absl::StrCat(
          "the answer from ", impl.endpoint, " is not a marl.env.v3.Response"));
    }
    if (response->request_id() == id) return response;
    if (response->request_id() > id) {
      return absl::DataLossError(absl::StrCat("answer to request ",
                                              response->request_id(),
                                              " while waiting for ", id));
    }
  }
}

absl::StatusOr<const proto::Response*> EnvClient::Call(
    proto::Request& request) {
  if (absl::Status status = Send(request); !status.ok()) return status;
  return Await();
}

absl::StatusOr<std::string> EnvClient::CallRaw(const std::string& bytes) {
  if (absl::Status status = impl_->Send(bytes.data(), bytes.size());
      !status.ok()) {
    return status;
  }
  absl::StatusOr<zmq::message_t> reply = impl_->Receive();
  if (!reply.ok()) return reply.status();
  return reply->to_string();
}

namespace {

// Runs a request and returns its response if the server said OK.
template <typename Fill>
absl::StatusOr<const proto::Response*> Run(EnvClient* client,
                                           proto::Request* request, Fill fill) {
  request->Clear();
  fill(request);
  absl::StatusOr<const proto::Response*> response = client->Call(*request);
  if (!response.ok()) return response.status();
  if (absl::Status status = FromProtoStatus((*response)->status());
      !status.ok()) {
    return status;
  }
  return response;
}

}  // namespace

absl::StatusOr<proto::HandshakeResponse> EnvClient::Handshake() {
  auto response = Run(this, &impl_->request, [&](proto::Request* r) {
    r->mutable_handshake()->set_protocol_version(kProtocolVersion);
    r->mutable_handshake()->set_client_name(impl_->options.client_name);
  });
  if (!response.ok()) return response.status();
  return (*response)->handshake();
}

absl::StatusOr<proto::ListEnvironmentsResponse> EnvClient::ListEnvironments() {
  auto response = Run(this, &impl_->request, [](proto::Request* r) {
    r->mutable_list_environments();
  });
  if (!response.ok()) return response.status();
  return (*response)->list_environments();
}

absl::StatusOr<proto::MakeResponse> EnvClient::Make(
    const proto::MakeRequest& request) {
  auto response = Run(this, &impl_->request,
                      [&](proto::Request* r) { *r->mutable_make() = request; });
  if (!response.ok()) return response.status();
  return (*response)->make();
}

absl::StatusOr<const proto::TimeStep*> EnvClient::Reset(
    const proto::ResetRequest& request) {
  auto response = Run(this, &impl_->request, [&](proto::Request* r) {
    *r->mutable_reset() = request;
  });
  if (!response.ok()) return response.status();
  return &(*response)->reset().timestep();
}

absl::Status EnvClient::StartStep(const proto::StepRequest& request) {
  // The request is serialised from a borrowed copy: step requests are the
  // hot path, so avoid copying large action arrays into the envelope.
  proto::Request& envelope = impl_->request;
  envelope.Clear();
  envelope.unsafe_arena_set_allocated_step(
      const_cast<proto::StepRequest*>(&request));
  absl::Status sent = Send(envelope);
  envelope.unsafe_arena_release_step();
  return sent;
}

absl::StatusOr<const proto::TimeStep*> EnvClient::FinishStep() {
  absl::StatusOr<const proto::Response*> response = Await();
  if (!response.ok()) return response.status();
  if (absl::Status status = FromProtoStatus((*response)->status());
      !status.ok()) {
    return status;
  }
  if (!(*response)->has_step()) {
    return absl::DataLossError(absl::StrCat("the answer from ", impl_->endpoint,
                                            " to a step is not a step"));
  }
  return &(*response)->step().timestep();
}

absl::StatusOr<const proto::TimeStep*> EnvClient::Step(
    const proto::StepRequest& request) {
  if (absl::Status status = StartStep(request); !status.ok()) return status;
  return FinishStep();
}

absl::Status EnvClient::Close(uint64_t handle) {
  auto response = Run(this, &impl_->request, [&](proto::Request* r) {
    r->mutable_close()->set_handle(handle);
  });
  return response.status();
}

}  // namespace marl
