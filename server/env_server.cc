#include "server/env_server.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <new>
#include <stdexcept>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "envs/core/registry.h"
#include "protocol/curve.h"
#include "protocol/protocol_arrays.h"
#include "protocol/protocol_convert.h"

namespace marl {

namespace pb = ::marl::env::v3;

inline constexpr uint32_t kServerProtocolVersion = 3;

struct EnvService::HandleState {
  uint64_t id = 0;
  std::string client;  // whose limits it counts against
  int64_t bytes = 0;   // its memory estimate
  std::unique_ptr<EnvBatch> batch;
  pb::EnvSpec spec;
  // Guarded by EnvService::mutex_: last use, whether a thread is running one
  // of its requests, the requests waiting behind it, and whether it closed
  // (requests still queued then answer NOT_FOUND).
  std::chrono::steady_clock::time_point last_used;
  bool busy = false;
  bool closed = false;
  struct Pending {
    uint64_t tag;
    std::unique_ptr<pb::Request> request;
    std::string client;  // who sent it
  };
  std::deque<Pending> queue;
  // Measured cost of a reset [0] and a step [1], ns per row on one thread;
  // unknown until measured, so a handle's first reset and first step
  // always run on a request thread. Written only by the thread running the
  // handle.
  CostEstimate cost[2];
  // Step scratch reused across requests (cleared, capacity kept), so a
  // steady-state step allocates nothing here: the copy list of "all copies"
  // (built once), and the packed-action and buffer pointer tables.
  std::vector<int32_t> all_copies;
  PackedActions actions;
  // Copies of actions whose bytes are not aligned for their type (rare).
  std::vector<std::vector<int64_t>> discrete_scratch;
  std::vector<std::vector<float>> continuous_scratch;
  BatchBuffers buffers;
  FinalBuffers final_buffers;
  // This handle's answers, reused (only one thread runs it at a time).
  pb::Response response;
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

void SetError(const absl::Status& status, pb::Response* response) {
  // An error carries no payload: drop whatever was half-built.
  response->clear_payload();
  response->mutable_status()->set_code(
      static_cast<pb::StatusCode>(status.code()));
  response->mutable_status()->set_message(std::string(status.message()));
}

// Serializes `response` straight into the room `reply` gives (no copy of
// the bytes afterwards). An answer past protobuf's 2 GiB becomes an error.
void SerializeInto(const pb::Response& response,
                   EnvService::ReplyBuffer reply) {
  const size_t size = response.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    pb::Response error;
    error.set_request_id(response.request_id());
    SetError(absl::ResourceExhaustedError(absl::StrCat(
                 "the answer would take ", size,
                 " bytes, more than a protocol message can hold (2 GiB)")),
             &error);
    SerializeInto(error, reply);
    return;
  }
  response.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(reply(size)));
}

// Serializes the error answer to request `request_id` into `reply`.
void SerializeError(const absl::Status& status, uint64_t request_id,
                    EnvService::ReplyBuffer reply) {
  pb::Response response;
  response.set_request_id(request_id);
  SetError(status, &response);
  SerializeInto(response, reply);
}

// Would `used + more` pass `limit` (0 = no limit)? Without overflowing.
bool OverLimit(int64_t used, int64_t more, int64_t limit) {
  return limit > 0 && (more > limit || used > limit - more);
}

std::string Bytes(int64_t bytes) {
  if (bytes >= (int64_t{1} << 30)) {
    return absl::StrFormat("%.2f GiB", bytes / double(int64_t{1} << 30));
  }
  if (bytes >= (1 << 20)) return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
  return absl::StrCat(bytes, " bytes");
}

}  // namespace

EnvService::EnvService(const ServerOptions& options, Completion completion)
    : options_(options),
      completion_(std::move(completion)),
      pool_(options.worker_threads),
      requests_(completion_ ? std::max(1, options.request_threads) : 0) {}

EnvService::~EnvService() = default;

double EnvService::RunParallel(int64_t n,
                               const std::function<void(int64_t)>& body) {
  // Handles run concurrently, but the pool takes one batch at a time: a
  // batch that finds it busy steps on its own thread.
  std::unique_lock<std::mutex> lock(pool_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  const double busy_ns = pool_.ParallelFor(n, body);
  const double wall_ns = std::chrono::duration<double, std::nano>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  return std::max(0.0, busy_ns - wall_ns);
}

ParallelFor EnvService::Parallel(const HandleState& handle, bool step,
                                 int64_t rows, double* pooled_ns) {
  if (pool_.threads() == 0 || rows < 2) return nullptr;
  const double ns_per_row = handle.cost[step].ns_per_row();
  if (options_.parallel_min_us > 0 &&
      (ns_per_row < 0 || ns_per_row * rows < 1e3 * options_.parallel_min_us)) {
    return nullptr;
  }
  // Small enough for std::function's inline storage: no allocation.
  return
      [this, pooled_ns](int64_t n, const std::function<void(int64_t)>& body) {
        *pooled_ns += RunParallel(n, body);
      };
}

int EnvService::num_handles() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(handles_.size());
}

namespace {

// Parses `size` bytes into `request`; an error status when they are not a
// Request.
absl::Status Parse(const void* data, size_t size, pb::Request* request) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !request->ParseFromArray(data, static_cast<int>(size))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request of ", size, " bytes is not a marl.env.v3.Request"));
  }
  return absl::OkStatus();
}

}  // namespace

void EnvService::Handle(const void* request, size_t size,
                        std::string* response) {
  if (absl::Status status = Parse(request, size, &request_); !status.ok()) {
    response_.Clear();
    SetError(status, &response_);
  } else {
    Execute(request_, "", &response_);
  }
  response_.SerializeToString(response);
}

const pb::Response& EnvService::Handle(const pb::Request& request) {
  Execute(request, "", &response_);
  return response_;
}

std::shared_ptr<EnvService::HandleState> EnvService::Route(
    const pb::Request& request) {
  uint64_t id;
  switch (request.payload_case()) {
    case pb::Request::kReset:
      id = request.reset().handle();
      break;
    case pb::Request::kStep:
      id = request.step().handle();
      break;
    case pb::Request::kClose:
      id = request.close().handle();
      break;
    default:
      return nullptr;
  }
  auto it = handles_.find(id);
  return it == handles_.end() ? nullptr : it->second;
}

namespace {

int64_t RowsOf(const pb::Request& request, int num_copies) {
  const int listed = request.has_step() ? request.step().copies_size()
                                        : request.reset().copies_size();
  return listed > 0 ? listed : num_copies;
}

}  // namespace

bool EnvService::Submit(const void* data, size_t size,
                        const std::string& client, uint64_t tag,
                        ReplyBuffer reply) {
  pb::Request& request = request_;
  if (absl::Status status = Parse(data, size, &request); !status.ok()) {
    SerializeError(status, 0, reply);
    return true;
  }
  if (!completion_ || request.has_handshake() ||
      request.has_list_environments() ||
      request.payload_case() == pb::Request::PAYLOAD_NOT_SET) {
    Execute(request, client, &response_);
    SerializeInto(response_, reply);
    return true;
  }
  auto refuse = [&](const absl::Status& status) {
    SerializeError(status, request.request_id(), reply);
    return true;
  };
  if (request.has_make()) {
    // Builds copies: possibly slow, always on a request thread.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (absl::Status status = ReserveDeferred(client); !status.ok()) {
        return refuse(status);
      }
    }
    auto owned = std::make_unique<pb::Request>();
    owned->Swap(&request);
    requests_.Post([this, tag, client,
                    owned = std::shared_ptr<pb::Request>(std::move(owned))] {
      pb::Response response;
      Execute(*owned, client, &response);
      ReleaseDeferred(client);
      completion_(tag, response.SerializeAsString());
    });
    return false;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  std::shared_ptr<HandleState> handle = Route(request);
  if (handle == nullptr || handle->closed) {
    lock.unlock();
    Execute(request, client, &response_);  // NOT_FOUND
    SerializeInto(response_, reply);
    return true;
  }
  if (!handle->busy) {
    // The estimate is of one thread's work: a step split over the workers
    // takes less, so this errs towards deferring.
    const double ns_per_row = handle->cost[request.has_step()].ns_per_row();
    const bool cheap =
        request.has_close() ||
        (ns_per_row >= 0 &&
         ns_per_row * RowsOf(request, handle->batch->num_copies()) <=
             1e3 * options_.inline_budget_us);
    if (cheap) {
      // Nothing else can queue on it meanwhile: only this thread submits.
      handle->busy = true;
      lock.unlock();
      Execute(request, client, &handle->response);
      SerializeInto(handle->response, reply);
      lock.lock();
      handle->busy = false;
      return true;
    }
  }
  if (absl::Status status = ReserveDeferred(client); !status.ok()) {
    lock.unlock();
    return refuse(status);
  }
  auto owned = std::make_unique<pb::Request>();
  owned->Swap(&request);
  handle->queue.push_back({tag, std::move(owned), client});
  if (!handle->busy) {
    handle->busy = true;
    requests_.Post([this, handle] { Drain(handle); });
  }
  return false;
}

void EnvService::Drain(const std::shared_ptr<HandleState>& handle) {
  while (true) {
    HandleState::Pending next;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (handle->queue.empty()) {
        handle->busy = false;
        return;
      }
      next = std::move(handle->queue.front());
      handle->queue.pop_front();
    }
    Execute(*next.request, next.client, &handle->response);
    ReleaseDeferred(next.client);
    completion_(next.tag, handle->response.SerializeAsString());
  }
}

void EnvService::Execute(const pb::Request& request, const std::string& client,
                         pb::Response* response) {
  if (request.payload_case() == pb::Request::kStep &&
      response->payload_case() == pb::Response::kStep) {
    // Step after step: refill the previous step's response in place.
    // Response::Clear() would delete the oneof payload (StepResponse,
    // TimeStep and every array), and the step below would allocate it all
    // again; clearing the repeated fields keeps their capacity.
    response->mutable_step()->mutable_timestep()->Clear();
  } else {
    response->Clear();
  }
  response->set_request_id(request.request_id());
  absl::Status status;
  try {
    status = Dispatch(request, client, response);
  } catch (const std::bad_alloc&) {
    status = absl::ResourceExhaustedError(
        "the server ran out of memory handling this request (its memory "
        "estimate was within the limits: lower --max_server_bytes to match "
        "the memory the server may use)");
  } catch (const std::length_error&) {
    status = absl::ResourceExhaustedError(
        "the request asks for an array larger than this server can hold");
  }
  if (!status.ok()) {
    SetError(status, response);
    return;
  }
  response->mutable_status()->set_code(pb::OK);
  response->mutable_status()->clear_message();
}

void EnvService::RecordCost(HandleState& handle, bool step, int64_t rows,
                            std::chrono::steady_clock::time_point start,
                            double pooled_ns) {
  // The cost per row predicts whether the handle's next request of this
  // kind runs inline (Submit) and whether it is split over the workers.
  const double ns = std::chrono::duration<double, std::nano>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  handle.cost[step].Add((ns + pooled_ns) / std::max<int64_t>(rows, 1));
}

absl::Status EnvService::Dispatch(const pb::Request& request,
                                  const std::string& client,
                                  pb::Response* response) {
  switch (request.payload_case()) {
    case pb::Request::kHandshake:
      return DoHandshake(request.handshake(), response->mutable_handshake());
    case pb::Request::kListEnvironments:
      return DoList(response->mutable_list_environments());
    case pb::Request::kMake:
      return DoMake(request.make(), client, response->mutable_make());
    case pb::Request::kReset:
      return DoReset(request.reset(),
                     response->mutable_reset()->mutable_timestep());
    case pb::Request::kStep:
      return DoStep(request.step(),
                    response->mutable_step()->mutable_timestep());
    case pb::Request::kClose:
      response->mutable_close();
      return DoClose(request.close().handle());
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
  if (!options_.curve_secret_key_file.empty()) {
    response->add_capabilities("curve");
  }
  response->set_max_copies_per_handle(options_.max_copies_per_handle);
  response->set_idle_handle_timeout_seconds(
      options_.idle_handle_timeout_seconds);
  response->set_max_message_bytes(options_.max_message_bytes);
  response->set_max_handles(options_.max_handles);
  response->set_max_handles_per_client(options_.max_handles_per_client);
  response->set_max_handle_bytes(options_.max_handle_bytes);
  response->set_max_client_bytes(options_.max_client_bytes);
  response->set_max_server_bytes(options_.max_server_bytes);
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
    for (const SettingDecl& decl : AcceptedSettings(*registration)) {
      pb::SettingSpec* setting = info->add_settings();
      setting->set_name(decl.name);
      setting->set_description(decl.description);
      ToProto(decl.default_value, setting->mutable_default_value());
    }
  }
  return absl::OkStatus();
}

absl::Status EnvService::DoMake(const pb::MakeRequest& request,
                                const std::string& client,
                                pb::MakeResponse* response) {
  const int num_copies = request.num_copies() == 0 ? 1 : request.num_copies();
  if (num_copies < 0 || num_copies > options_.max_copies_per_handle) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_copies must be in [1, ", options_.max_copies_per_handle,
        "] (--max_copies_per_handle), got ", num_copies));
  }
  if (request.auto_reset() != pb::SAME_STEP &&
      request.auto_reset() != pb::NONE) {
    return absl::InvalidArgumentError("unknown auto_reset mode");
  }
  absl::StatusOr<std::map<std::string, SettingValue>> settings =
      SettingsFromProto(request.settings());
  if (!settings.ok()) return settings.status();

  // Reserve a handle, then memory as the estimate grows, before building;
  // what is reserved counts against every other make at once.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (options_.max_handles > 0 && handles_reserved_ >= options_.max_handles) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the server holds ", handles_reserved_, " handles, its limit (",
          "--max_handles=", options_.max_handles, "); close some first"));
    }
    ClientUsage& usage = clients_[client];
    if (options_.max_handles_per_client > 0 &&
        usage.handles >= options_.max_handles_per_client) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "this client holds ", usage.handles, " handles, its limit (",
          "--max_handles_per_client=", options_.max_handles_per_client,
          "); close some first"));
    }
    ++usage.handles;
    ++handles_reserved_;
  }
  int64_t reserved = 0;
  const std::string what =
      absl::StrCat("make of ", request.name(), " with ", num_copies,
                   num_copies == 1 ? " copy" : " copies");
  auto check = [&](int64_t estimate) -> absl::Status {
    if (OverLimit(0, estimate, options_.max_handle_bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, " needs an estimated ", Bytes(estimate),
          "; the limit per handle is ", Bytes(options_.max_handle_bytes),
          " (--max_handle_bytes)"));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ClientUsage& usage = clients_[client];
    const int64_t more = estimate - reserved;
    if (OverLimit(usage.bytes, more, options_.max_client_bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, " needs an estimated ", Bytes(estimate), "; this client's ",
          "handles already hold ", Bytes(usage.bytes - reserved),
          " of its limit of ", Bytes(options_.max_client_bytes),
          " (--max_client_bytes)"));
    }
    if (OverLimit(server_bytes_, more, options_.max_server_bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, " needs an estimated ", Bytes(estimate),
          "; the server's handles already hold ",
          Bytes(server_bytes_ - reserved), " of its limit of ",
          Bytes(options_.max_server_bytes), " (--max_server_bytes)"));
    }
    usage.bytes += more;
    server_bytes_ += more;
    reserved = estimate;
    return absl::OkStatus();
  };
  absl::StatusOr<std::unique_ptr<EnvBatch>> batch;
  try {
    batch =
        EnvBatch::Create(request.name(), *settings, num_copies, request.seed(),
                         request.auto_reset() == pb::SAME_STEP, check);
  } catch (const std::bad_alloc&) {
    batch = absl::ResourceExhaustedError(absl::StrCat(
        "the server ran out of memory in ", what,
        " (within its estimate: lower --max_server_bytes to match the memory "
        "the server may use)"));
  } catch (const std::length_error&) {
    batch = absl::ResourceExhaustedError(
        absl::StrCat(what, " asks for more than this server can hold"));
  }
  if (!batch.ok()) {
    ReleaseUsage(client, reserved);
    return batch.status();
  }

  auto handle = std::make_shared<HandleState>();
  handle->client = client;
  handle->bytes = reserved;
  handle->batch = *std::move(batch);
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
  *response->mutable_spec() = spec;
  response->set_estimated_bytes(reserved);

  std::lock_guard<std::mutex> lock(mutex_);
  // 52 random bits in [2^52, 2^53): every id has the same varint length
  // (steady request sizes) and is exact as a double (JSON, JavaScript).
  constexpr uint64_t kIdBit = uint64_t{1} << 52;
  do {
    handle->id = kIdBit | (handle_ids_() & (kIdBit - 1));
  } while (handles_.count(handle->id) > 0);
  handle->last_used = std::chrono::steady_clock::now();
  response->set_handle(handle->id);
  handles_[handle->id] = std::move(handle);
  return absl::OkStatus();
}

absl::Status EnvService::ReserveDeferred(const std::string& client) {
  int& mine = deferred_by_client_[client];
  if (options_.max_deferred_per_client > 0 &&
      mine >= options_.max_deferred_per_client) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this client has ", mine,
        " requests waiting for the server's request "
        "threads, its limit; wait for their answers before sending more"));
  }
  if (options_.max_deferred > 0 && deferred_ >= options_.max_deferred) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", deferred_,
                     " requests waiting for its request "
                     "threads, its limit; try again shortly"));
  }
  ++mine;
  ++deferred_;
  return absl::OkStatus();
}

void EnvService::ReleaseDeferred(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  --deferred_;
  auto it = deferred_by_client_.find(client);
  if (it != deferred_by_client_.end() && --it->second == 0) {
    deferred_by_client_.erase(it);
  }
}

void EnvService::ReleaseUsage(const std::string& client, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  --handles_reserved_;
  server_bytes_ -= bytes;
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  it->second.bytes -= bytes;
  if (--it->second.handles == 0) clients_.erase(it);
}

absl::StatusOr<std::shared_ptr<EnvService::HandleState>> EnvService::FindHandle(
    uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = handles_.find(id);
  if (it == handles_.end() || it->second->closed) {
    return absl::NotFoundError(absl::StrCat(
        "handle ", id, " is unknown, closed or expired (idle for over ",
        options_.idle_handle_timeout_seconds, " s)"));
  }
  it->second->last_used = std::chrono::steady_clock::now();
  return it->second;
}

void EnvService::PrepareTimeStep(const HandleState& handle,
                                 absl::Span<const int32_t> copies,
                                 bool named_copies, pb::TimeStep* timestep,
                                 BatchBuffers* buffers) {
  const EnvBatch& batch = *handle.batch;
  const EnvSpec& spec = batch.spec();
  const BatchLayout& layout = batch.layout();
  const int64_t rows = static_cast<int64_t>(copies.size());
  // Every copy in order goes without saying (protocol version 3).
  if (named_copies) SetArray(copies, timestep->mutable_copies());
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    pb::AgentTimeStep* agent_step = timestep->add_agents();
    buffers->observation.push_back(
        ResizeArray<float>(agent_step->mutable_observation(),
                           rows * layout.observation_size[agent]));
    buffers->reward.push_back(
        ResizeArray<float>(agent_step->mutable_reward(), rows));
    buffers->action_mask.push_back(
        layout.mask_size[agent] > 0
            ? ResizeArray<bool>(agent_step->mutable_action_mask(),
                                rows * layout.mask_size[agent])
            : nullptr);
  }
  buffers->terminated = ResizeArray<bool>(timestep->mutable_terminated(), rows);
  buffers->truncated = ResizeArray<bool>(timestep->mutable_truncated(), rows);
  buffers->episode_step =
      ResizeArray<int32_t>(timestep->mutable_episode_step(), rows);
  if (spec.has_public_observation) {
    buffers->public_observation =
        ResizeArray<float>(timestep->mutable_public_observation(),
                           rows * layout.public_observation_size);
  }
  if (spec.has_state) {
    buffers->state =
        ResizeArray<float>(timestep->mutable_state(), rows * layout.state_size);
  }
  if (spec.sequential) {
    buffers->current_agent =
        ResizeArray<int32_t>(timestep->mutable_current_agent(), rows);
  }
  if (layout.info_size > 0) {
    buffers->info =
        ResizeArray<float>(timestep->mutable_info(), rows * layout.info_size);
  }
}

absl::Status EnvService::DoReset(const pb::ResetRequest& request,
                                 pb::TimeStep* timestep) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<HandleState>> handle =
      FindHandle(request.handle());
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
  PrepareTimeStep(**handle, *copies, !request.copies().empty(), timestep,
                  &buffers);
  const int64_t rows = static_cast<int64_t>(copies->size());
  double pooled_ns = 0;
  absl::Status reset = batch.Reset(
      *copies,
      absl::MakeConstSpan(request.seeds().data(), request.seeds_size()),
      buffers, Parallel(**handle, /*step=*/false, rows, &pooled_ns));
  if (reset.ok()) {
    RecordCost(**handle, /*step=*/false, rows, start, pooled_ns);
  }
  return reset;
}

absl::Status EnvService::DoStep(const pb::StepRequest& request,
                                pb::TimeStep* timestep) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<HandleState>> found =
      FindHandle(request.handle());
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
  handle.discrete_scratch.resize(spec.num_agents());
  handle.continuous_scratch.resize(spec.num_agents());
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    const pb::AgentActions& agent_actions = request.actions(agent);
    const std::string& id = spec.agent_ids[agent];
    absl::StatusOr<absl::Span<const int64_t>> discrete = ArrayView<int64_t>(
        agent_actions.discrete(),
        [&] { return absl::StrCat("agent '", id, "' discrete actions"); },
        &handle.discrete_scratch[agent]);
    if (!discrete.ok()) return discrete.status();
    absl::StatusOr<absl::Span<const float>> continuous = ArrayView<float>(
        agent_actions.continuous(),
        [&] { return absl::StrCat("agent '", id, "' continuous actions"); },
        &handle.continuous_scratch[agent]);
    if (!continuous.ok()) return continuous.status();
    actions.discrete.push_back(*discrete);
    actions.continuous.push_back(*continuous);
  }
  if (absl::Status status = batch.CheckStep(copies, actions); !status.ok()) {
    return status;
  }
  BatchBuffers& buffers = handle.buffers;
  ClearBuffers(&buffers);
  PrepareTimeStep(handle, copies, !request.copies().empty(), timestep,
                  &buffers);
  FinalBuffers& final_buffers = handle.final_buffers;
  ClearFinalBuffers(&final_buffers);
  const int64_t rows = static_cast<int64_t>(copies.size());
  const BatchLayout& layout = batch.layout();
  if (batch.auto_reset()) {
    // Room for every row to end; trimmed to the rows that did below (the
    // rows are not sent: they are the ended ones, in order).
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      final_buffers.observation.push_back(ResizeArray<float>(
          timestep->mutable_agents(agent)->mutable_final_observation(),
          rows * layout.observation_size[agent]));
    }
    if (spec.has_public_observation) {
      final_buffers.public_observation =
          ResizeArray<float>(timestep->mutable_final_public_observation(),
                             rows * layout.public_observation_size);
    }
    if (spec.has_state) {
      final_buffers.state = ResizeArray<float>(timestep->mutable_final_state(),
                                               rows * layout.state_size);
    }
  }
  double pooled_ns = 0;
  absl::StatusOr<int> stepped =
      batch.Step(copies, actions, buffers, final_buffers,
                 Parallel(handle, /*step=*/true, rows, &pooled_ns));
  if (!stepped.ok()) return stepped.status();
  const int ended = *stepped;
  if (batch.auto_reset()) {
    for (int agent = 0; agent < spec.num_agents(); ++agent) {
      timestep->mutable_agents(agent)->mutable_final_observation()->resize(
          sizeof(float) * ended * layout.observation_size[agent]);
    }
    if (spec.has_public_observation) {
      timestep->mutable_final_public_observation()->resize(
          sizeof(float) * ended * layout.public_observation_size);
    }
    if (spec.has_state) {
      timestep->mutable_final_state()->resize(sizeof(float) * ended *
                                              layout.state_size);
    }
  }
  RecordCost(handle, /*step=*/true, rows, start, pooled_ns);
  return absl::OkStatus();
}

absl::Status EnvService::DoClose(uint64_t id) {
  std::shared_ptr<HandleState> handle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = handles_.find(id);
    if (it == handles_.end() || it->second->closed) {
      return absl::NotFoundError(
          absl::StrCat("handle ", id, " is unknown, closed or expired"));
    }
    handle = std::move(it->second);
    handles_.erase(it);
    // Requests queued behind this close find it closed.
    handle->closed = true;
  }
  ReleaseUsage(handle->client, handle->bytes);
  return absl::OkStatus();
}

int EnvService::ExpireIdleHandles(std::chrono::steady_clock::time_point now) {
  if (options_.idle_handle_timeout_seconds <= 0) return 0;
  const auto limit = std::chrono::seconds(options_.idle_handle_timeout_seconds);
  std::vector<std::shared_ptr<HandleState>> expired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = handles_.begin(); it != handles_.end();) {
      HandleState& handle = *it->second;
      if (!handle.busy && now - handle.last_used > limit) {
        handle.closed = true;
        expired.push_back(std::move(it->second));
        it = handles_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& handle : expired)
    ReleaseUsage(handle->client, handle->bytes);
  return static_cast<int>(expired.size());
}

// ------------------------------------------------------------------ server --

namespace {

// Where a deferred answer travels from a request thread to Run()'s thread.
std::string CompletedEndpoint(const void* server) {
  return absl::StrCat("inproc://marl-env-server-completed-",
                      reinterpret_cast<uintptr_t>(server));
}

}  // namespace

EnvServer::EnvServer(zmq::context_t* context, const ServerOptions& options)
    : socket_(
          std::make_unique<zmq::socket_t>(*context, zmq::socket_type::router)),
      completed_pull_(
          std::make_unique<zmq::socket_t>(*context, zmq::socket_type::pull)),
      completed_push_(
          std::make_unique<zmq::socket_t>(*context, zmq::socket_type::push)),
      service_(options, [this](uint64_t tag, std::string reply) {
        // The reply's bytes move into the message without a copy.
        auto* owned = new std::string(std::move(reply));
        zmq::message_t body(
            owned->data(), owned->size(),
            [](void*, void* hint) { delete static_cast<std::string*>(hint); },
            owned);
        std::lock_guard<std::mutex> lock(completed_push_mutex_);
        completed_push_->send(zmq::buffer(&tag, sizeof(tag)),
                              zmq::send_flags::sndmore);
        completed_push_->send(body, zmq::send_flags::none);
      }) {
  socket_->set(zmq::sockopt::linger, 0);
  // Replies to vanished clients are dropped rather than queued forever.
  socket_->set(zmq::sockopt::router_mandatory, false);
  // ZeroMQ drops the connection of a peer whose frame declares more than
  // this, before allocating it.
  if (options.max_message_bytes > 0) {
    socket_->set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  }
  const std::string completed = CompletedEndpoint(this);
  for (zmq::socket_t* socket : {completed_pull_.get(), completed_push_.get()}) {
    socket->set(zmq::sockopt::linger, 0);
  }
  // Never block a request thread on a slow Run() loop.
  completed_push_->set(zmq::sockopt::sndhwm, 0);
  completed_pull_->set(zmq::sockopt::rcvhwm, 0);
  completed_pull_->bind(completed);
  completed_push_->connect(completed);
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
    return absl::Status(
        keys.status().code(),
        absl::StrCat("--curve_secret_key_file: ", keys.status().message()));
  }
  std::set<std::string> authorized;
  if (!options.curve_authorized_keys.empty()) {
    absl::StatusOr<std::set<std::string>> read =
        ReadAuthorizedKeys(options.curve_authorized_keys);
    if (!read.ok()) {
      return absl::Status(
          read.status().code(),
          absl::StrCat("--curve_authorized_keys: ", read.status().message()));
    }
    authorized = *std::move(read);
  }
  // A handler even when any client is admitted: it tags every message
  // with the client's public key ("User-Id"), which identifies the client.
  absl::StatusOr<std::unique_ptr<ZapAuthenticator>> zap =
      ZapAuthenticator::Start(
          context, std::move(authorized),
          /*allow_any=*/options.curve_authorized_keys.empty());
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

void EnvServer::Reply(std::vector<zmq::message_t>& envelope,
                      zmq::message_t& body) {
  try {
    for (zmq::message_t& frame : envelope) {
      socket_->send(frame, zmq::send_flags::sndmore);
    }
    socket_->send(body, zmq::send_flags::dontwait);
  } catch (const zmq::error_t& error) {
    // A peer that cannot take the reply (gone, full) loses it; the server
    // carries on. (ETERM ends Run() at its next receive.)
  }
}

void EnvServer::ServeOne(bool wait) {
  std::vector<zmq::message_t>& frames = frames_;
  frames.clear();
  try {
    while (true) {
      zmq::message_t frame;
      // The first frame may wait; the rest of a multipart message arrives
      // with it.
      const bool first = frames.empty();
      if (!socket_->recv(frame, first && wait ? zmq::recv_flags::none
                                              : zmq::recv_flags::dontwait)) {
        break;
      }
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) break;
    }
  } catch (const zmq::error_t& error) {
    if (error.num() == ETERM) stop_.store(true);
    if (error.num() == EINTR || error.num() == ETERM) return;
    throw;
  }
  // Nothing (the timeout), or a bare frame: ROUTER prepends the peer
  // identity and a REQ peer adds an empty delimiter, so everything before
  // the last frame is the envelope.
  if (frames.size() < 2) return;
  zmq::message_t body = std::move(frames.back());
  frames.pop_back();
  // The client, for its limits: its CURVE key when a ZAP handler named it,
  // else the connection.
  // (Rebuilt in place: no allocation per request.)
  const char* user = zmq_msg_gets(body.handle(), "User-Id");
  std::string& client = client_;
  if (user != nullptr) {
    client.assign("key:").append(user);
  } else {
    client.assign("connection:")
        .append(frames[0].data<char>(), frames[0].size());
  }
  const uint64_t tag = next_tag_;
  zmq::message_t answer;
  if (service_.Submit(body.data(), body.size(), client, tag,
                      [&answer](size_t size) {
                        answer.rebuild(size);
                        return answer.data();
                      })) {
    Reply(frames, answer);
  } else {
    ++next_tag_;
    waiting_.emplace(tag, std::move(frames));
  }
}

void EnvServer::SendCompleted() {
  while (true) {
    zmq::message_t tag_frame, body;
    try {
      if (!completed_pull_->recv(tag_frame, zmq::recv_flags::dontwait)) return;
      (void)completed_pull_->recv(body, zmq::recv_flags::none);
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) stop_.store(true);
      return;
    }
    uint64_t tag;
    std::memcpy(&tag, tag_frame.data(), sizeof(tag));
    auto it = waiting_.find(tag);
    if (it == waiting_.end()) continue;
    Reply(it->second, body);
    waiting_.erase(it);
  }
}

void EnvServer::Run() {
  auto last_sweep = std::chrono::steady_clock::now();
  // With nothing deferred (the usual case), requests are taken with a
  // blocking receive that gives up after 100 ms, so the loop wakes up
  // regularly to notice Stop() and to expire idle handles. (zmq::poll and
  // then non-blocking receives costs more system calls per request:
  // measurably slower round trips, see docs/BENCHMARKS.md.) While answers
  // are outstanding it polls both the clients and the request threads.
  socket_->set(zmq::sockopt::rcvtimeo, 100);
  while (!stop_.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sweep > std::chrono::seconds(1)) {
      service_.ExpireIdleHandles(now);
      last_sweep = now;
    }
    if (waiting_.empty()) {
      ServeOne(/*wait=*/true);
      continue;
    }
    zmq::pollitem_t items[] = {
        {socket_->handle(), 0, ZMQ_POLLIN, 0},
        {completed_pull_->handle(), 0, ZMQ_POLLIN, 0},
    };
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) return;
      continue;  // EINTR: a signal; check stop_
    }
    if (items[1].revents & ZMQ_POLLIN) SendCompleted();
    if (items[0].revents & ZMQ_POLLIN) ServeOne(/*wait=*/false);
  }
}

}  // namespace marl
