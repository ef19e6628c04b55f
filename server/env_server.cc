#include "server/env_server.h"

#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "common/curve.h"
#include "common/protocol_convert.h"
#include "envs/core/registry.h"

namespace marl {

namespace pb = ::marl::env::v1;

inline constexpr uint32_t kServerProtocolVersion = 1;

struct EnvService::HandleState {
  std::unique_ptr<EnvBatch> batch;
  pb::EnvSpec spec;
  std::chrono::steady_clock::time_point last_used;
  // Final-observation scratch, sized for every copy once.
  std::vector<int32_t> final_rows;
  // Step scratch reused across requests (cleared, capacity kept), so a
  // steady-state step allocates nothing here: the copy list of "all copies"
  // (built once), and the packed-action and buffer pointer tables.
  std::vector<int32_t> all_copies;
  PackedActions actions;
  BatchBuffers buffers;
  FinalBuffers final_buffers;
};

namespace {

// Empties the pointer tables, keeping their capacity.
void ClearBuffers(BatchBuffers* buffers) {
  buffers->observation.clear();
  buffers->reward.clear();
  buffers->action_mask.clear();
  buffers->terminated = nullptr;
  buffers->truncated = nullptr;
  buffers->episode_step = nullptr;
  buffers->public_observation = nullptr;
  buffers->state = nullptr;
  buffers->current_agent = nullptr;
  buffers->info = nullptr;
}

void ClearFinalBuffers(FinalBuffers* buffers) {
  buffers->rows = nullptr;
  buffers->observation.clear();
  buffers->public_observation = nullptr;
  buffers->state = nullptr;
}

}  // namespace

EnvService::EnvService(const ServerOptions& options)
    : options_(options), pool_(options.worker_threads) {
  if (pool_.threads() > 0) {
    parallel_ = [this](int64_t n, const std::function<void(int64_t)>& body) {
      if (n < options_.parallel_min_rows) {
        for (int64_t i = 0; i < n; ++i) body(i);
      } else {
        pool_.ParallelFor(n, body);
      }
    };
  }
}

EnvService::~EnvService() = default;

void EnvService::Handle(const void* request, size_t size,
                        std::string* response) {
  if (!request_.ParseFromArray(request, static_cast<int>(size))) {
    response_.Clear();
    response_.mutable_status()->set_code(pb::INVALID_ARGUMENT);
    response_.mutable_status()->set_message(absl::StrCat(
        "request of ", size, " bytes is not a marl.env.v1.Request"));
    response_.SerializeToString(response);
    return;
  }
  Handle(request_).SerializeToString(response);
}

const pb::Response& EnvService::Handle(const pb::Request& request) {
  if (request.payload_case() == pb::Request::kStep &&
      response_.payload_case() == pb::Response::kStep) {
    // Step after step: refill the previous step's response in place.
    // Response::Clear() would delete the oneof payload (StepResponse,
    // TimeStep, AgentTimeSteps and every array) and the next step would
    // allocate them all again; TimeStep::Clear() keeps the AgentTimeStep
    // objects and the arrays' capacity. request_id and status are set below
    // and a StepResponse has nothing but its timestep, so the result is the
    // same as after Clear().
    response_.mutable_step()->mutable_timestep()->Clear();
  } else {
    response_.Clear();
  }
  response_.set_request_id(request.request_id());
  absl::Status status = Dispatch(request, &response_);
  if (!status.ok()) {
    // An error carries no payload: drop whatever was half-built.
    response_.clear_payload();
  }
  response_.mutable_status()->set_code(
      static_cast<pb::StatusCode>(status.code()));
  response_.mutable_status()->set_message(std::string(status.message()));
  return response_;
}

absl::Status EnvService::Dispatch(const pb::Request& request,
                                  pb::Response* response) {
  switch (request.payload_case()) {
    case pb::Request::kHandshake:
      return DoHandshake(request.handshake(), response->mutable_handshake());
    case pb::Request::kListEnvironments:
      return DoList(response->mutable_list_environments());
    case pb::Request::kMake:
      return DoMake(request.make(), response->mutable_make());
    case pb::Request::kReset:
      return DoReset(request.reset(),
                     response->mutable_reset()->mutable_timestep());
    case pb::Request::kStep:
      return DoStep(request.step(),
                    response->mutable_step()->mutable_timestep());
    case pb::Request::kClose:
      response->mutable_close();
      return DoClose(request.close());
    default:
      return absl::UnimplementedError(
          "request carries no known operation (handshake, "
          "list_environments, make, reset, step, close)");
  }
}

absl::Status EnvService::DoHandshake(const pb::HandshakeRequest& request,
                                     pb::HandshakeResponse* response) {
  response->set_protocol_version(kServerProtocolVersion);
  response->set_server_name(options_.server_name);
  for (const char* capability :
       {"batched_step", "auto_reset_same_step", "public_observation",
        "global_state", "action_masks", "sequential_turns", "reset_seeds",
        "copy_subsets"}) {
    response->add_capabilities(capability);
  }
  response->set_max_copies_per_handle(options_.max_copies_per_handle);
  response->set_idle_handle_timeout_seconds(
      options_.idle_handle_timeout_seconds);
  if (request.protocol_version() != kServerProtocolVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client speaks protocol version ", request.protocol_version(),
        "; this server speaks ", kServerProtocolVersion));
  }
  return absl::OkStatus();
}

absl::Status EnvService::DoList(pb::ListEnvironmentsResponse* response) {
  for (const EnvRegistration* registration : EnvRegistry::Global().List()) {
    pb::EnvironmentInfo* info = response->add_environments();
    info->set_name(registration->name);
    info->set_description(registration->description);
    for (const SettingDecl& decl : registration->settings) {
      pb::SettingSpec* setting = info->add_settings();
      setting->set_name(decl.name);
      setting->set_description(decl.description);
      ToProto(decl.default_value, setting->mutable_default_value());
    }
  }
  return absl::OkStatus();
}

absl::Status EnvService::DoMake(const pb::MakeRequest& request,
                                pb::MakeResponse* response) {
  const int num_copies = request.num_copies() == 0 ? 1 : request.num_copies();
  if (num_copies < 0 || num_copies > options_.max_copies_per_handle) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_copies must be in [1, ",
                     options_.max_copies_per_handle, "], got ", num_copies));
  }
  if (static_cast<int>(handles_.size()) >= options_.max_handles) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server holds ", handles_.size(), " handles; close some first"));
  }
  if (request.auto_reset() != pb::SAME_STEP &&
      request.auto_reset() != pb::NONE) {
    return absl::InvalidArgumentError("unknown auto_reset mode");
  }
  absl::StatusOr<std::map<std::string, SettingValue>> settings =
      SettingsFromProto(request.settings());
  if (!settings.ok()) return settings.status();
  absl::StatusOr<std::unique_ptr<EnvBatch>> batch =
      EnvBatch::Create(request.name(), *settings, num_copies, request.seed(),
                       request.auto_reset() == pb::SAME_STEP);
  if (!batch.ok()) return batch.status();

  auto handle = std::make_unique<HandleState>();
  handle->batch = *std::move(batch);
  handle->last_used = std::chrono::steady_clock::now();
  pb::EnvSpec& spec = handle->spec;
  spec.set_name(request.name());
  for (const auto& [name, value] : handle->batch->settings().values()) {
    pb::Setting* setting = spec.add_settings();
    setting->set_name(name);
    ToProto(value, setting->mutable_value());
  }
  spec.set_num_copies(num_copies);
  ToProto(handle->batch->spec(), &spec);
  spec.set_auto_reset(request.auto_reset());

  const uint64_t id = next_handle_++;
  *response->mutable_spec() = spec;
  response->set_handle(id);
  handles_[id] = std::move(handle);
  return absl::OkStatus();
}

absl::StatusOr<EnvService::HandleState*> EnvService::FindHandle(uint64_t id) {
  auto it = handles_.find(id);
  if (it == handles_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "handle ", id, " is unknown, closed or expired (idle for over ",
        options_.idle_handle_timeout_seconds, " s)"));
  }
  it->second->last_used = std::chrono::steady_clock::now();
  return it->second.get();
}

namespace {

template <typename T>
T* Sized(google::protobuf::RepeatedField<T>* field, int64_t size) {
  field->Resize(static_cast<int>(size), T());
  return field->mutable_data();
}

}  // namespace

void EnvService::PrepareTimeStep(const HandleState& handle,
                                 absl::Span<const int32_t> copies,
                                 pb::TimeStep* timestep,
                                 BatchBuffers* buffers) {
  const EnvBatch& batch = *handle.batch;
  const EnvSpec& spec = batch.spec();
  const BatchLayout& layout = batch.layout();
  const int64_t rows = static_cast<int64_t>(copies.size());
  timestep->mutable_copies()->Add(copies.begin(), copies.end());
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    pb::AgentTimeStep* agent_step = timestep->add_agents();
    buffers->observation.push_back(
        Sized(agent_step->mutable_observation(),
              rows * layout.observation_size[agent]));
    buffers->reward.push_back(Sized(agent_step->mutable_reward(), rows));
    buffers->action_mask.push_back(
        layout.mask_size[agent] > 0 ? Sized(agent_step->mutable_action_mask(),
                                            rows * layout.mask_size[agent])
                                    : nullptr);
  }
  buffers->terminated = Sized(timestep->mutable_terminated(), rows);
  buffers->truncated = Sized(timestep->mutable_truncated(), rows);
  buffers->episode_step = Sized(timestep->mutable_episode_step(), rows);
  if (spec.has_public_observation) {
    buffers->public_observation = Sized(timestep->mutable_public_observation(),
                                        rows * layout.public_observation_size);
  }
  if (spec.has_state) {
    buffers->state = Sized(timestep->mutable_state(), rows * layout.state_size);
  }
  if (spec.sequential) {
    buffers->current_agent = Sized(timestep->mutable_current_agent(), rows);
  }
  if (layout.info_size > 0) {
    buffers->info = Sized(timestep->mutable_info(), rows * layout.info_size);
  }
}

absl::Status EnvService::DoReset(const pb::ResetRequest& request,
                                 pb::TimeStep* timestep) {
  absl::StatusOr<HandleState*> handle = FindHandle(request.handle());
  if (!handle.ok()) return handle.status();
  EnvBatch& batch = *(*handle)->batch;
  absl::StatusOr<std::vector<int32_t>> copies =
      batch.ResolveCopies(request.copies());
  if (!copies.ok()) return copies.status();
  if (request.seeds_size() != 0 &&
      request.seeds_size() != static_cast<int>(copies->size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", request.seeds_size(), " seeds for ",
                     copies->size(), " copies (give none, or one per copy)"));
  }
  BatchBuffers buffers;
  PrepareTimeStep(**handle, *copies, timestep, &buffers);
  return batch.Reset(
      *copies,
      absl::MakeConstSpan(request.seeds().data(), request.seeds_size()),
      buffers, parallel_);
}

absl::Status EnvService::DoStep(const pb::StepRequest& request,
                                pb::TimeStep* timestep) {
  absl::StatusOr<HandleState*> found = FindHandle(request.handle());
  if (!found.ok()) return found.status();
  HandleState& handle = **found;
  EnvBatch& batch = *handle.batch;
  const EnvSpec& spec = batch.spec();
  // All copies (the usual request) need no resolving: the list is built
  // once per handle.
  absl::StatusOr<std::vector<int32_t>> resolved;
  absl::Span<const int32_t> copies;
  if (request.copies().empty()) {
    if (handle.all_copies.empty()) {
      resolved = batch.ResolveCopies({});
      if (!resolved.ok()) return resolved.status();
      handle.all_copies = *std::move(resolved);
    }
    copies = handle.all_copies;
  } else {
    resolved = batch.ResolveCopies(request.copies());
    if (!resolved.ok()) return resolved.status();
    copies = *resolved;
  }
  if (request.actions_size() != spec.num_agents()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected actions for ", spec.num_agents(),
                     " agents (spec order), got ", request.actions_size()));
  }
  PackedActions& actions = handle.actions;
  actions.discrete.clear();
  actions.continuous.clear();
  for (const pb::AgentActions& agent_actions : request.actions()) {
    actions.discrete.emplace_back(agent_actions.discrete().data(),
                                  agent_actions.discrete_size());
    actions.continuous.emplace_back(agent_actions.continuous().data(),
                                    agent_actions.continuous_size());
  }
  if (absl::Status status = batch.CheckStep(copies, actions); !status.ok()) {
    return status;
  }
  BatchBuffers& buffers = handle.buffers;
  ClearBuffers(&buffers);
  PrepareTimeStep(handle, copies, timestep, &buffers);
  FinalBuffers& final_buffers = handle.final_buffers;
  ClearFinalBuffers(&final_buffers);
  const int64_t rows = static_cast<int64_t>(copies.size());
  const BatchLayout& layout = batch.layout();
  if (batch.auto_reset()) {
    // Room for every row to end; trimmed to the rows that did below.
    final_buffers.rows = &handle.final_rows;
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      final_buffers.observation.push_back(
          Sized(timestep->mutable_agents(agent)->mutable_final_observation(),
                rows * layout.observation_size[agent]));
    }
    if (spec.has_public_observation) {
      final_buffers.public_observation =
          Sized(timestep->mutable_final_public_observation(),
                rows * layout.public_observation_size);
    }
    if (spec.has_state) {
      final_buffers.state =
          Sized(timestep->mutable_final_state(), rows * layout.state_size);
    }
  }
  const int ended =
      batch.Step(copies, actions, buffers, final_buffers, parallel_);
  if (batch.auto_reset()) {
    timestep->mutable_final_rows()->Add(handle.final_rows.begin(),
                                        handle.final_rows.end());
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      timestep->mutable_agents(agent)->mutable_final_observation()->Truncate(
          ended * layout.observation_size[agent]);
    }
    if (spec.has_public_observation) {
      timestep->mutable_final_public_observation()->Truncate(
          ended * layout.public_observation_size);
    }
    if (spec.has_state) {
      timestep->mutable_final_state()->Truncate(ended * layout.state_size);
    }
  }
  return absl::OkStatus();
}

absl::Status EnvService::DoClose(const pb::CloseRequest& request) {
  if (handles_.erase(request.handle()) == 0) {
    return absl::NotFoundError(absl::StrCat("handle ", request.handle(),
                                            " is unknown, closed or expired"));
  }
  return absl::OkStatus();
}

int EnvService::ExpireIdleHandles(std::chrono::steady_clock::time_point now) {
  if (options_.idle_handle_timeout_seconds <= 0) return 0;
  const auto limit = std::chrono::seconds(options_.idle_handle_timeout_seconds);
  int expired = 0;
  for (auto it = handles_.begin(); it != handles_.end();) {
    if (now - it->second->last_used > limit) {
      it = handles_.erase(it);
      ++expired;
    } else {
      ++it;
    }
  }
  return expired;
}

// ------------------------------------------------------------------ server --

EnvServer::EnvServer(zmq::context_t* context, const ServerOptions& options)
    : socket_(
          std::make_unique<zmq::socket_t>(*context, zmq::socket_type::router)),
      service_(options) {
  socket_->set(zmq::sockopt::linger, 0);
  // Replies to vanished clients are dropped rather than queued forever.
  socket_->set(zmq::sockopt::router_mandatory, false);
  curve_status_ = SetUpCurve(context, options);
}

EnvServer::~EnvServer() {
  socket_.reset();  // before the ZAP handler stops (see zap_)
}

absl::Status EnvServer::SetUpCurve(zmq::context_t* context,
                                   const ServerOptions& options) {
  if (options.curve_secret_key_file.empty()) {
    if (options.curve_authorized_keys.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "--curve_authorized_keys needs --curve_secret_key_file (the "
        "server's own key pair)");
  }
  absl::StatusOr<CurveKeyPair> keys =
      ReadCurveSecretCertificate(options.curve_secret_key_file);
  if (!keys.ok()) {
    return absl::Status(keys.status().code(),
                        absl::StrCat("--curve_secret_key_file: ",
                                     keys.status().message()));
  }
  std::set<std::string> authorized;
  if (!options.curve_authorized_keys.empty()) {
    absl::StatusOr<std::set<std::string>> read =
        ReadAuthorizedKeys(options.curve_authorized_keys);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat("--curve_authorized_keys: ",
                                       read.status().message()));
    }
    authorized = *std::move(read);
  }
  // A handler even when any client is admitted: it tags every message
  // with the client's public key ("User-Id"), which identifies the client.
  absl::StatusOr<std::unique_ptr<ZapAuthenticator>> zap =
      ZapAuthenticator::Start(context, std::move(authorized),
                              /*allow_any=*/options.curve_authorized_keys
                                  .empty());
  if (!zap.ok()) return zap.status();
  zap_ = *std::move(zap);
  return ConfigureCurveServer(socket_.get(), *keys);
}

int64_t EnvServer::curve_denials() const {
  return zap_ == nullptr ? 0 : zap_->denied();
}

absl::Status EnvServer::Bind(const std::string& endpoint) {
  if (!curve_status_.ok()) return curve_status_;
  // The kernel limits Unix socket paths; say so instead of "too long".
  constexpr size_t kMaxIpcPath = 107;
  if (endpoint.rfind("ipc://", 0) == 0 && endpoint.size() - 6 > kMaxIpcPath) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot bind ", endpoint, ": ipc paths are limited to ", kMaxIpcPath,
        " bytes (this one has ", endpoint.size() - 6, ")"));
  }
  try {
    socket_->bind(endpoint);
    last_endpoint_ = socket_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", endpoint, ": ", error.what()));
  }
  return absl::OkStatus();
}

std::string EnvServer::last_endpoint() const { return last_endpoint_; }

void EnvServer::Run() {
  std::vector<zmq::message_t> frames;
  std::string reply;
  auto last_sweep = std::chrono::steady_clock::now();
  // Requests are taken with a blocking receive that gives up after 100 ms,
  // so the loop wakes up regularly to notice Stop() and to expire idle
  // handles. (zmq::poll and then non-blocking receives until one fails
  // does the same with more system calls per request: measurably slower
  // round trips, see docs/BENCHMARKS.md.)
  socket_->set(zmq::sockopt::rcvtimeo, 100);
  while (!stop_.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sweep > std::chrono::seconds(1)) {
      service_.ExpireIdleHandles(now);
      last_sweep = now;
    }
    frames.clear();
    try {
      while (true) {
        zmq::message_t frame;
        // The first frame may wait; the rest of a multipart message arrives
        // with it.
        if (!socket_->recv(frame, frames.empty() ? zmq::recv_flags::none
                                                 : zmq::recv_flags::dontwait)) {
          break;
        }
        const bool more = frame.more();
        frames.push_back(std::move(frame));
        if (!more) break;
      }
    } catch (const zmq::error_t& error) {
      if (error.num() == EINTR) continue;  // a signal; check stop_
      if (error.num() == ETERM) return;
      throw;
    }
    // Nothing (the timeout), or a bare frame: ROUTER prepends the peer
    // identity and a REQ peer adds an empty delimiter, so everything before
    // the last frame is the envelope.
    if (frames.size() < 2) continue;
    const zmq::message_t& body = frames.back();
    service_.Handle(body.data(), body.size(), &reply);
    try {
      for (size_t i = 0; i + 1 < frames.size(); ++i) {
        socket_->send(frames[i], zmq::send_flags::sndmore);
      }
      socket_->send(zmq::buffer(reply), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) return;
      // A peer that cannot take the reply (gone, full) loses it; the
      // server carries on.
    }
  }
}

}  // namespace marl
