#include "tools/conformance/conformance_checks.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "client/remote_env.h"
#include "envs/core/settings.h"
#include "protocol/protocol_arrays.h"
#include "protocol/protocol_convert.h"

namespace marl {
namespace conformance {
namespace {

#define CONFORMANCE_RETURN_IF_ERROR(expr) \
  do {                                    \
    absl::Status status_ = (expr);        \
    if (!status_.ok()) return status_;    \
  } while (0)

template <typename... Args>
absl::Status Failure(const Args&... args) {
  return absl::InternalError(absl::StrCat(args...));
}

// A check's failure with what it was doing in front.
absl::Status Prefixed(const std::string& what, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(what, ": ", status.message()));
}

std::string CodeName(int code) {
  const std::string& name =
      pb::StatusCode_Name(static_cast<pb::StatusCode>(code));
  return name.empty() ? absl::StrCat("code ", code) : name;
}

// The response payload a successful request of each kind carries.
pb::Response::PayloadCase ExpectedPayload(pb::Request::PayloadCase request) {
  switch (request) {
    case pb::Request::kHandshake:
      return pb::Response::kHandshake;
    case pb::Request::kListEnvironments:
      return pb::Response::kListEnvironments;
    case pb::Request::kMake:
      return pb::Response::kMake;
    case pb::Request::kReset:
      return pb::Response::kReset;
    case pb::Request::kStep:
      return pb::Response::kStep;
    case pb::Request::kClose:
      return pb::Response::kClose;
    default:
      return pb::Response::PAYLOAD_NOT_SET;
  }
}

const char* OperationName(pb::Request::PayloadCase request) {
  switch (request) {
    case pb::Request::kHandshake:
      return "handshake";
    case pb::Request::kListEnvironments:
      return "list_environments";
    case pb::Request::kMake:
      return "make";
    case pb::Request::kReset:
      return "reset";
    case pb::Request::kStep:
      return "step";
    case pb::Request::kClose:
      return "close";
    default:
      return "request without operation";
  }
}

}  // namespace

// ------------------------------------------------------------ transport --

Connection::Connection(zmq::context_t* context, std::string endpoint,
                       int timeout_ms)
    : context_(context),
      endpoint_(std::move(endpoint)),
      timeout_ms_(timeout_ms) {
  Reconnect();
}

Connection::~Connection() = default;

void Connection::Reconnect() {
  socket_ =
      std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::rcvtimeo, timeout_ms_);
  socket_->set(zmq::sockopt::sndtimeo, timeout_ms_);
  socket_->connect(endpoint_);
}

absl::StatusOr<std::string> Connection::CallRaw(const std::string& bytes) {
  try {
    if (!socket_->send(zmq::buffer(bytes), zmq::send_flags::none)) {
      Reconnect();
      responsive_ = false;
      return absl::DeadlineExceededError(absl::StrCat(
          "could not send to ", endpoint_, " within ", timeout_ms_, " ms"));
    }
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t frame;
      if (!socket_->recv(frame, zmq::recv_flags::none)) {
        // A late answer must not be read as the next request's.
        Reconnect();
        responsive_ = false;
        return absl::DeadlineExceededError(
            absl::StrCat("no reply within ", timeout_ms_, " ms"));
      }
      frames.push_back(std::move(frame));
    } while (frames.back().more());
    responsive_ = true;
    if (frames.size() != 1) {
      return absl::InternalError(absl::StrCat(
          "reply has ", frames.size(), " frames; a DEALER expects exactly 1"));
    }
    return frames[0].to_string();
  } catch (const zmq::error_t& error) {
    Reconnect();
    return absl::UnavailableError(absl::StrCat("ZeroMQ error talking to ",
                                               endpoint_, ": ", error.what()));
  }
}

absl::StatusOr<pb::Response> Connection::Call(pb::Request request) {
  const uint64_t id = next_request_id_++;
  request.set_request_id(id);
  absl::StatusOr<std::string> raw = CallRaw(request.SerializeAsString());
  if (!raw.ok()) return raw.status();
  pb::Response response;
  if (!response.ParseFromString(*raw)) {
    return Failure("reply of ", raw->size(),
                   " bytes is not a marl.env.v3.Response");
  }
  const char* operation = OperationName(request.payload_case());
  if (response.request_id() != id) {
    return Failure(operation, " reply carries request_id ",
                   response.request_id(), ", expected ", id);
  }
  const int code = response.status().code();
  if (code == pb::OK) {
    const pb::Response::PayloadCase expected =
        ExpectedPayload(request.payload_case());
    if (expected != pb::Response::PAYLOAD_NOT_SET &&
        response.payload_case() != expected) {
      return Failure(operation,
                     " answered OK without its payload (payload field ",
                     static_cast<int>(response.payload_case()), ")");
    }
  } else {
    if (response.payload_case() != pb::Response::PAYLOAD_NOT_SET) {
      return Failure(operation, " answered ", CodeName(code),
                     " but carries a payload (only OK may)");
    }
    if (response.status().message().empty()) {
      return Failure(operation, " answered ", CodeName(code),
                     " with an empty status message");
    }
  }
  return response;
}

std::string CheckResult::Line() const {
  std::string line =
      absl::StrCat(passed ? "PASS " : "FAIL ", scope, "/", check);
  if (!message.empty()) absl::StrAppend(&line, ": ", message);
  return line;
}

std::string SummaryLine(const std::vector<CheckResult>& results) {
  const int passed = static_cast<int>(
      std::count_if(results.begin(), results.end(),
                    [](const CheckResult& r) { return r.passed; }));
  return absl::StrCat(passed, " passed, ", results.size() - passed, " failed");
}

namespace {

// ------------------------------------------------------------- requests --

// Sends `request` and insists on OK.
absl::StatusOr<pb::Response> CallOk(Connection& connection,
                                    const pb::Request& request,
                                    const std::string& what) {
  absl::StatusOr<pb::Response> response = connection.Call(request);
  if (!response.ok()) return Prefixed(what, response.status());
  if (response->status().code() != pb::OK) {
    return Failure(what, " failed: ", CodeName(response->status().code()), ": ",
                   response->status().message());
  }
  return response;
}

// The server still answers a valid request: a handshake of our version.
absl::Status ExpectHealthy(Connection& connection, const std::string& after) {
  pb::Request request;
  request.mutable_handshake()->set_protocol_version(kProtocolVersion);
  request.mutable_handshake()->set_client_name("protocol_conformance");
  absl::StatusOr<pb::Response> response = connection.Call(request);
  if (!response.ok()) {
    return Failure("after ", after,
                   ", the server did not answer a valid handshake: ",
                   response.status().message());
  }
  if (response->status().code() != pb::OK) {
    return Failure("after ", after, ", a valid handshake got ",
                   CodeName(response->status().code()), ": ",
                   response->status().message());
  }
  return absl::OkStatus();
}

// `request` must get `want`, and the server must serve on afterwards.
absl::Status ExpectError(Connection& connection, const pb::Request& request,
                         pb::StatusCode want, const std::string& what) {
  absl::StatusOr<pb::Response> response = connection.Call(request);
  if (!response.ok()) return Prefixed(what, response.status());
  const int code = response->status().code();
  if (code != want) {
    return Failure(what, ": expected ", CodeName(want), ", got ",
                   CodeName(code),
                   response->status().message().empty()
                       ? std::string()
                       : absl::StrCat(" (", response->status().message(), ")"));
  }
  return ExpectHealthy(connection, what);
}

// Sends bytes that are not a well-formed request of this version: the reply
// must parse, carry `want` and `request_id` (0 when nothing could be
// parsed) and no payload, and the server must stay healthy.
absl::Status ExpectRawError(Connection& connection, const std::string& bytes,
                            pb::StatusCode want, uint64_t request_id,
                            const std::string& what) {
  absl::StatusOr<std::string> raw = connection.CallRaw(bytes);
  if (!raw.ok()) return Prefixed(what, raw.status());
  pb::Response response;
  if (!response.ParseFromString(*raw)) {
    return Failure(what, ": the reply is not a marl.env.v3.Response");
  }
  if (response.status().code() != want) {
    return Failure(what, ": expected ", CodeName(want), ", got ",
                   CodeName(response.status().code()));
  }
  if (response.request_id() != request_id) {
    return Failure(what, ": the reply carries request_id ",
                   response.request_id(), ", expected ", request_id);
  }
  if (response.payload_case() != pb::Response::PAYLOAD_NOT_SET) {
    return Failure(what, ": the error carries a payload");
  }
  return ExpectHealthy(connection, what);
}

// --------------------------------------------------------------- arrays --
// The arrays of TimeSteps and actions are little-endian bytes
// (protocol/protocol_arrays.h). A reply's arrays are read only after
// CheckTimeStepShape checked each one's byte length against the values the
// spec implies, so no read leaves them.

// `field` holds exactly `want` values of T: a whole number of them, and
// that many.
template <typename T>
absl::Status CheckArraySize(const std::string& bytes, const std::string& field,
                            int64_t want) {
  absl::StatusOr<int64_t> count = ArrayLength<T>(bytes, field);
  if (!count.ok()) return Failure(count.status().message());
  if (*count != want) {
    return Failure(field, " has ", *count, " values, expected ", want);
  }
  return absl::OkStatus();
}

// Every byte of a bool array is 0 or 1.
absl::Status CheckBools(const std::string& bytes, const std::string& field) {
  const std::vector<uint8_t> values = ArrayToVector<uint8_t>(bytes);
  for (size_t k = 0; k < values.size(); ++k) {
    if (values[k] > 1) {
      return Failure(field, " value ", k, " is byte ",
                     static_cast<int>(values[k]), ", not 0 or 1");
    }
  }
  return absl::OkStatus();
}

// One value of an array whose length was checked.
int32_t Int32At(const std::string& bytes, int64_t k) {
  return ArrayAt<int32_t>(bytes, k);
}
bool BoolAt(const std::string& bytes, int64_t k) {
  return ArrayAt<uint8_t>(bytes, k) != 0;
}
float FloatAt(const std::string& bytes, int64_t k) {
  return ArrayAt<float>(bytes, k);
}

// The rows of a TimeStep (whole int32 values of `copies`).
int NumRows(const pb::TimeStep& ts) {
  return static_cast<int>(ts.copies().size() / sizeof(int32_t));
}

// Row `row` (of `size` values of T) of an array, `times` times over; empty
// for an empty array or a row it does not hold.
template <typename T>
std::string RepeatRow(const std::string& bytes, int64_t row, int64_t size,
                      int times = 1) {
  const std::vector<T> values = ArrayToVector<T>(bytes);
  if (row < 0 || size < 0 ||
      (row + 1) * size > static_cast<int64_t>(values.size())) {
    return std::string();
  }
  std::vector<T> out;
  for (int k = 0; k < times; ++k) {
    out.insert(out.end(), values.begin() + row * size,
               values.begin() + (row + 1) * size);
  }
  std::string result;
  SetArray<T>(out, &result);
  return result;
}

// Rewrites an array of ours (a request being built or broken) as values.
template <typename T, typename Edit>
void EditArray(std::string* bytes, const Edit& edit) {
  std::vector<T> values = ArrayToVector<T>(*bytes);
  edit(values);
  SetArray<T>(values, bytes);
}

// --------------------------------------------------------------- spaces --

int64_t FlatSize(const pb::Space& space) {
  switch (space.kind_case()) {
    case pb::Space::kDiscrete:
      return 1;
    case pb::Space::kMultiDiscrete:
      return space.multi_discrete().nvec_size();
    case pb::Space::kBox: {
      int64_t size = 1;
      for (int64_t dim : space.box().shape()) size *= dim;
      return size;
    }
    default:
      return 0;
  }
}

absl::Status CheckSpaceWellFormed(const pb::Space& space) {
  switch (space.kind_case()) {
    case pb::Space::kDiscrete:
      if (space.discrete().n() < 1) {
        return Failure("Discrete n = ", space.discrete().n(), " (needs >= 1)");
      }
      return absl::OkStatus();
    case pb::Space::kMultiDiscrete:
      if (space.multi_discrete().nvec_size() == 0) {
        return Failure("MultiDiscrete with empty nvec");
      }
      for (int64_t n : space.multi_discrete().nvec()) {
        if (n < 1) return Failure("MultiDiscrete nvec element ", n, " < 1");
      }
      return absl::OkStatus();
    case pb::Space::kBox: {
      const pb::Box& box = space.box();
      int64_t size = 1;
      for (int64_t dim : box.shape()) {
        if (dim < 1 || dim > (int64_t{1} << 24)) {
          return Failure("Box shape dimension ", dim, " outside [1, 2^24]");
        }
        size *= dim;
        if (size > (int64_t{1} << 24))
          return Failure("Box of over 2^24 values");
      }
      if (box.low_size() != size || box.high_size() != size) {
        return Failure("Box of shape [", absl::StrJoin(box.shape(), ","),
                       "] has ", box.low_size(), " low and ", box.high_size(),
                       " high bounds; needs ", size, " each (one per element)");
      }
      for (int64_t k = 0; k < size; ++k) {
        const float low = box.low(k), high = box.high(k);
        if (std::isnan(low) || std::isnan(high) || low > high) {
          return Failure("Box element ", k, " has bounds [", low, ", ", high,
                         "]");
        }
      }
      return absl::OkStatus();
    }
    default:
      return Failure("space has no kind (Discrete, Box or MultiDiscrete)");
  }
}

// Whether a packed observation (floats) lies in `space`.
absl::Status CheckObservationInSpace(const pb::Space& space,
                                     const float* values) {
  switch (space.kind_case()) {
    case pb::Space::kDiscrete: {
      const float v = values[0];
      if (!(v >= 0 && v < space.discrete().n()) || v != std::floor(v)) {
        return Failure("value ", v, " is not an index of Discrete(",
                       space.discrete().n(), ")");
      }
      return absl::OkStatus();
    }
    case pb::Space::kMultiDiscrete:
      for (int k = 0; k < space.multi_discrete().nvec_size(); ++k) {
        const float v = values[k];
        const int64_t n = space.multi_discrete().nvec(k);
        if (!(v >= 0 && v < n) || v != std::floor(v)) {
          return Failure("element ", k, " = ", v, " is not an index below ", n);
        }
      }
      return absl::OkStatus();
    case pb::Space::kBox: {
      const pb::Box& box = space.box();
      for (int k = 0; k < box.low_size(); ++k) {
        if (!(values[k] >= box.low(k) && values[k] <= box.high(k))) {
          return Failure("element ", k, " = ", values[k], " outside [",
                         box.low(k), ", ", box.high(k), "]");
        }
      }
      return absl::OkStatus();
    }
    default:
      return Failure("space has no kind");
  }
}

// Whether agent `agent` gets action masks (Discrete actions in a masked spec).
bool HasMask(const pb::EnvSpec& spec, int agent) {
  return spec.has_action_masks() &&
         spec.agents(agent).action_space().has_discrete();
}

int64_t MaskSize(const pb::EnvSpec& spec, int agent) {
  return HasMask(spec, agent) ? spec.agents(agent).action_space().discrete().n()
                              : 0;
}

// The spec as made: well formed, and consistent with the make request.
absl::Status CheckSpec(const pb::EnvSpec& spec) {
  if (spec.agents_size() < 1) return Failure("spec has no agents");
  std::set<std::string> ids;
  for (const pb::AgentSpec& agent : spec.agents()) {
    if (agent.id().empty()) return Failure("an agent has an empty id");
    if (!ids.insert(agent.id()).second) {
      return Failure("agent id '", agent.id(), "' appears twice");
    }
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(absl::StrCat("observation space of '", agent.id(), "'"),
                 CheckSpaceWellFormed(agent.observation_space())));
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(absl::StrCat("action space of '", agent.id(), "'"),
                 CheckSpaceWellFormed(agent.action_space())));
  }
  if (spec.has_public_observation()) {
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed("public observation space",
                 CheckSpaceWellFormed(spec.public_observation_space())));
  }
  if (spec.has_state()) {
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed("state space", CheckSpaceWellFormed(spec.state_space())));
  }
  if (spec.turn_order() != pb::SIMULTANEOUS &&
      spec.turn_order() != pb::SEQUENTIAL) {
    return Failure("unknown turn_order ", spec.turn_order());
  }
  if (spec.episode_limit() < 0) {
    return Failure("negative episode_limit ", spec.episode_limit());
  }
  std::set<std::string> keys;
  for (const std::string& key : spec.info_keys()) {
    if (key.empty()) return Failure("an info key is empty");
    if (!keys.insert(key).second) {
      return Failure("info key '", key, "' appears twice");
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- makes --

struct Made {
  uint64_t handle = 0;
  pb::EnvSpec spec;
};

pb::Request MakeRequestFor(const EnvUnderTest& env, int copies, uint64_t seed,
                           pb::AutoReset auto_reset) {
  pb::Request request;
  pb::MakeRequest* make = request.mutable_make();
  make->set_name(env.info.name());
  for (const pb::Setting& setting : env.settings) {
    *make->add_settings() = setting;
  }
  make->set_num_copies(copies);
  make->set_seed(seed);
  make->set_auto_reset(auto_reset);
  return request;
}

// Makes a handle and checks its spec (others' checks rely on its sizes).
absl::StatusOr<Made> MakeEnv(Connection& connection, const EnvUnderTest& env,
                             int copies, uint64_t seed,
                             pb::AutoReset auto_reset = pb::SAME_STEP) {
  absl::StatusOr<pb::Response> response =
      CallOk(connection, MakeRequestFor(env, copies, seed, auto_reset),
             absl::StrCat("make '", env.info.name(), "'"));
  if (!response.ok()) return response.status();
  Made made;
  made.handle = response->make().handle();
  made.spec = response->make().spec();
  const pb::EnvSpec& spec = made.spec;
  CONFORMANCE_RETURN_IF_ERROR(Prefixed("spec from make", CheckSpec(spec)));
  if (spec.num_copies() != copies) {
    return Failure("make asked for ", copies,
                   " copies; spec.num_copies = ", spec.num_copies());
  }
  if (spec.auto_reset() != auto_reset) {
    return Failure("make asked for auto_reset ", pb::AutoReset_Name(auto_reset),
                   "; spec says ", pb::AutoReset_Name(spec.auto_reset()));
  }
  return made;
}

// Closes a handle when the check ends (best effort: skipped once the
// server stopped answering, so a dead server costs one timeout per check).
class ScopedHandle {
 public:
  ScopedHandle(Connection& connection, uint64_t handle)
      : connection_(connection), handle_(handle) {}
  ~ScopedHandle() {
    if (!connection_.responsive()) return;
    pb::Request request;
    request.mutable_close()->set_handle(handle_);
    connection_.Call(request).IgnoreError();
  }

 private:
  Connection& connection_;
  uint64_t handle_;
};

// ------------------------------------------------------------ timesteps --

// Every copy's situation, from the responses so far: what the next step
// must report and which actions are legal.
struct CopyTracker {
  explicit CopyTracker(const pb::EnvSpec& spec)
      : spec(spec),
        episode_step(spec.num_copies(), 0),
        started(spec.num_copies(), 0),
        finished(spec.num_copies(), 0),
        current_agent(spec.num_copies(), 0),
        legal(spec.agents_size()) {
    for (int agent = 0; agent < spec.agents_size(); ++agent) {
      legal[agent].assign(spec.num_copies() * MaskSize(spec, agent), 1);
    }
  }
  bool Acting(int copy, int agent) const {
    return spec.turn_order() != pb::SEQUENTIAL || current_agent[copy] == agent;
  }

  const pb::EnvSpec& spec;
  std::vector<int> episode_step;
  std::vector<char> started, finished;
  std::vector<int> current_agent;
  std::vector<std::vector<char>> legal;  // [agent][copy * n + a]
};

std::vector<int> AllCopies(const pb::EnvSpec& spec) {
  std::vector<int> copies(spec.num_copies());
  for (int c = 0; c < spec.num_copies(); ++c) copies[c] = c;
  return copies;
}

// A reset's or step's TimeStep as the checks read it, with its `copies`:
// protocol version 3 leaves them out when the request named none (every
// copy, in order), and a reply that lists them then is a failure.
absl::StatusOr<pb::TimeStep> WithCopies(const pb::TimeStep& wire,
                                        const std::vector<int>& rows,
                                        bool named) {
  if (!named && !wire.copies().empty()) {
    return Failure("TimeStep.copies has ", wire.copies().size(),
                   " bytes for a request that named no copies (version 3 "
                   "leaves them out: every copy, in order)");
  }
  pb::TimeStep ts = wire;
  if (!named) {
    SetArray<int32_t>(std::vector<int32_t>(rows.begin(), rows.end()),
                      ts.mutable_copies());
  }
  return ts;
}

// Sizes, spaces and finite numbers of a reset's or step's TimeStep whose
// rows should be `copies`.
absl::Status CheckTimeStepShape(const pb::EnvSpec& spec,
                                const std::vector<int>& copies,
                                const pb::TimeStep& ts, bool is_reset,
                                bool auto_reset) {
  const int rows = static_cast<int>(copies.size());
  absl::StatusOr<int64_t> listed =
      ArrayLength<int32_t>(ts.copies(), "TimeStep.copies");
  if (!listed.ok()) return Failure(listed.status().message());
  const std::vector<int32_t> ts_copies = ArrayToVector<int32_t>(ts.copies());
  if (std::vector<int>(ts_copies.begin(), ts_copies.end()) != copies) {
    return Failure("TimeStep.copies = [", absl::StrJoin(ts_copies, ","),
                   "], expected [", absl::StrJoin(copies, ","), "]");
  }
  if (ts.agents_size() != spec.agents_size()) {
    return Failure("TimeStep has ", ts.agents_size(), " agents, spec has ",
                   spec.agents_size());
  }
  CONFORMANCE_RETURN_IF_ERROR(
      CheckArraySize<uint8_t>(ts.terminated(), "terminated", rows));
  CONFORMANCE_RETURN_IF_ERROR(
      CheckArraySize<uint8_t>(ts.truncated(), "truncated", rows));
  CONFORMANCE_RETURN_IF_ERROR(
      CheckArraySize<int32_t>(ts.episode_step(), "episode_step", rows));
  const int64_t public_size = spec.has_public_observation()
                                  ? FlatSize(spec.public_observation_space())
                                  : 0;
  const int64_t state_size =
      spec.has_state() ? FlatSize(spec.state_space()) : 0;
  CONFORMANCE_RETURN_IF_ERROR(CheckArraySize<float>(
      ts.public_observation(), "public_observation", rows * public_size));
  CONFORMANCE_RETURN_IF_ERROR(
      CheckArraySize<float>(ts.state(), "state", rows * state_size));
  const bool sequential = spec.turn_order() == pb::SEQUENTIAL;
  CONFORMANCE_RETURN_IF_ERROR(CheckArraySize<int32_t>(
      ts.current_agent(), "current_agent", sequential ? rows : 0));
  CONFORMANCE_RETURN_IF_ERROR(CheckArraySize<float>(
      ts.info(), "info", int64_t{rows} * spec.info_keys_size()));
  CONFORMANCE_RETURN_IF_ERROR(CheckBools(ts.terminated(), "terminated"));
  CONFORMANCE_RETURN_IF_ERROR(CheckBools(ts.truncated(), "truncated"));
  for (float value : ArrayToVector<float>(ts.info())) {
    if (!std::isfinite(value)) return Failure("an info value is ", value);
  }
  const std::vector<float> public_observation =
      ArrayToVector<float>(ts.public_observation());
  const std::vector<float> state = ArrayToVector<float>(ts.state());
  for (int r = 0; r < rows; ++r) {
    const std::string row = absl::StrCat("row ", r, " (copy ", copies[r], ")");
    if (sequential && (Int32At(ts.current_agent(), r) < 0 ||
                       Int32At(ts.current_agent(), r) >= spec.agents_size())) {
      return Failure(row, ": current_agent ", Int32At(ts.current_agent(), r),
                     " is not an agent index");
    }
    if (BoolAt(ts.terminated(), r) && BoolAt(ts.truncated(), r)) {
      return Failure(row, ": both terminated and truncated");
    }
    if (spec.has_public_observation()) {
      CONFORMANCE_RETURN_IF_ERROR(
          Prefixed(absl::StrCat(row, ", public observation"),
                   CheckObservationInSpace(
                       spec.public_observation_space(),
                       public_observation.data() + r * public_size)));
    }
    if (spec.has_state()) {
      CONFORMANCE_RETURN_IF_ERROR(
          Prefixed(absl::StrCat(row, ", state"),
                   CheckObservationInSpace(spec.state_space(),
                                           state.data() + r * state_size)));
    }
  }
  for (int agent = 0; agent < spec.agents_size(); ++agent) {
    const pb::AgentSpec& agent_spec = spec.agents(agent);
    const pb::AgentTimeStep& step = ts.agents(agent);
    const std::string who = absl::StrCat("agent '", agent_spec.id(), "'");
    const int64_t obs_size = FlatSize(agent_spec.observation_space());
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(who, CheckArraySize<float>(step.observation(), "observation",
                                            rows * obs_size)));
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(who, CheckArraySize<float>(step.reward(), "reward", rows)));
    const int64_t n = MaskSize(spec, agent);
    CONFORMANCE_RETURN_IF_ERROR(Prefixed(
        who,
        CheckArraySize<uint8_t>(step.action_mask(), "action_mask", rows * n)));
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(who, CheckBools(step.action_mask(), "action_mask")));
    const std::vector<float> observation =
        ArrayToVector<float>(step.observation());
    const std::vector<uint8_t> mask =
        ArrayToVector<uint8_t>(step.action_mask());
    for (int r = 0; r < rows; ++r) {
      const std::string row =
          absl::StrCat(who, ", row ", r, " (copy ", copies[r], ")");
      CONFORMANCE_RETURN_IF_ERROR(
          Prefixed(absl::StrCat(row, ", observation"),
                   CheckObservationInSpace(agent_spec.observation_space(),
                                           observation.data() + r * obs_size)));
      const float reward = FloatAt(step.reward(), r);
      if (!std::isfinite(reward)) {
        return Failure(row, ": reward ", reward, " is not finite");
      }
      const bool acting =
          !sequential || Int32At(ts.current_agent(), r) == agent;
      if (n > 0 && acting &&
          std::none_of(mask.begin() + r * n, mask.begin() + (r + 1) * n,
                       [](uint8_t legal) { return legal != 0; })) {
        return Failure(row, ": acting agent has no legal action");
      }
    }
  }
  // Final observations: only steps with same-step auto-reset have them,
  // one per ended row, in row order (a reset has no ended rows: checked by
  // AbsorbReset).
  std::vector<int32_t> final_rows;
  FinalRows(ts.terminated(), ts.truncated(), auto_reset && !is_reset,
            &final_rows);
  const int64_t finals = static_cast<int64_t>(final_rows.size());
  CONFORMANCE_RETURN_IF_ERROR(
      CheckArraySize<float>(ts.final_public_observation(),
                            "final_public_observation", finals * public_size));
  CONFORMANCE_RETURN_IF_ERROR(CheckArraySize<float>(
      ts.final_state(), "final_state", finals * state_size));
  for (int agent = 0; agent < spec.agents_size(); ++agent) {
    const pb::AgentSpec& agent_spec = spec.agents(agent);
    const int64_t obs_size = FlatSize(agent_spec.observation_space());
    const pb::AgentTimeStep& step = ts.agents(agent);
    CONFORMANCE_RETURN_IF_ERROR(Prefixed(
        absl::StrCat("agent '", agent_spec.id(), "'"),
        CheckArraySize<float>(step.final_observation(), "final_observation",
                              finals * obs_size)));
    const std::vector<float> final_observation =
        ArrayToVector<float>(step.final_observation());
    for (int64_t k = 0; k < finals; ++k) {
      CONFORMANCE_RETURN_IF_ERROR(Prefixed(
          absl::StrCat("agent '", agent_spec.id(),
                       "', final observation of "
                       "row ",
                       final_rows[k]),
          CheckObservationInSpace(agent_spec.observation_space(),
                                  final_observation.data() + k * obs_size)));
    }
  }
  const std::vector<float> final_public_observation =
      ArrayToVector<float>(ts.final_public_observation());
  const std::vector<float> final_state = ArrayToVector<float>(ts.final_state());
  for (int64_t k = 0; k < finals; ++k) {
    if (spec.has_public_observation()) {
      CONFORMANCE_RETURN_IF_ERROR(
          Prefixed("final public observation",
                   CheckObservationInSpace(
                       spec.public_observation_space(),
                       final_public_observation.data() + k * public_size)));
    }
    if (spec.has_state()) {
      CONFORMANCE_RETURN_IF_ERROR(Prefixed(
          "final state",
          CheckObservationInSpace(spec.state_space(),
                                  final_state.data() + k * state_size)));
    }
  }
  return absl::OkStatus();
}

// Records what the rows say about their copies (masks, current agent).
void AbsorbRows(CopyTracker& tracker, const pb::TimeStep& ts) {
  const pb::EnvSpec& spec = tracker.spec;
  for (int r = 0, rows = NumRows(ts); r < rows; ++r) {
    const int c = Int32At(ts.copies(), r);
    if (!ts.current_agent().empty()) {
      tracker.current_agent[c] = Int32At(ts.current_agent(), r);
    }
    for (int agent = 0; agent < spec.agents_size(); ++agent) {
      const int64_t n = MaskSize(spec, agent);
      for (int64_t a = 0; a < n; ++a) {
        tracker.legal[agent][c * n + a] =
            BoolAt(ts.agents(agent).action_mask(), r * n + a);
      }
    }
  }
}

// A reset's semantics: fresh episodes.
absl::Status AbsorbReset(CopyTracker& tracker, const pb::TimeStep& ts) {
  for (int r = 0, rows = NumRows(ts); r < rows; ++r) {
    const int c = Int32At(ts.copies(), r);
    if (Int32At(ts.episode_step(), r) != 0) {
      return Failure("reset row ", r, " (copy ", c, ") has episode_step ",
                     Int32At(ts.episode_step(), r), ", expected 0");
    }
    if (BoolAt(ts.terminated(), r) || BoolAt(ts.truncated(), r)) {
      return Failure("reset row ", r, " (copy ", c,
                     ") is already terminated or truncated");
    }
    tracker.episode_step[c] = 0;
    tracker.started[c] = 1;
    tracker.finished[c] = 0;
  }
  AbsorbRows(tracker, ts);
  return absl::OkStatus();
}

struct StepVerdict {
  absl::Status episode_ends;
  absl::Status auto_reset;
  int ended = 0;
};

// A step's episode semantics against what the tracker expected:
// episode_step counts, truncation exactly at the limit, and the
// auto-reset rule (an ended copy continues under SAME_STEP and waits under
// NONE; its final observations are sized by CheckTimeStepShape).
StepVerdict AbsorbStep(CopyTracker& tracker, const pb::TimeStep& ts) {
  const pb::EnvSpec& spec = tracker.spec;
  const bool same_step = spec.auto_reset() == pb::SAME_STEP;
  StepVerdict verdict;
  const int limit = spec.episode_limit();
  for (int r = 0, rows = NumRows(ts); r < rows; ++r) {
    const int c = Int32At(ts.copies(), r);
    const std::string row = absl::StrCat("row ", r, " (copy ", c, ")");
    const int expected = tracker.episode_step[c] + 1;
    const bool terminated = BoolAt(ts.terminated(), r),
               truncated = BoolAt(ts.truncated(), r);
    const int episode_step = Int32At(ts.episode_step(), r);
    if (verdict.episode_ends.ok()) {
      if (episode_step != expected) {
        verdict.episode_ends =
            Failure(row, ": episode_step ", episode_step, ", expected ",
                    expected, " (steps since its reset)");
      } else if (limit > 0 && !terminated && expected >= limit && !truncated) {
        verdict.episode_ends =
            Failure(row, ": step ", expected, " reached episode_limit ", limit,
                    " but the row is not truncated");
      } else if (truncated && (limit == 0 || expected < limit)) {
        verdict.episode_ends =
            Failure(row, ": truncated at step ", expected,
                    " with episode_limit ", limit,
                    " (truncation is the limit's; a game that ends is "
                    "terminated)");
      }
    }
    const bool ended = terminated || truncated;
    verdict.ended += ended;
    if (ended) {
      tracker.episode_step[c] = 0;
      if (!same_step) tracker.finished[c] = 1;
    } else {
      tracker.episode_step[c] = expected;
    }
  }
  AbsorbRows(tracker, ts);
  return verdict;
}

// ------------------------------------------------------------- actions --

float SampleBoxElement(float low, float high, std::mt19937_64& rng) {
  if (std::isfinite(low) && std::isfinite(high) && std::isfinite(high - low)) {
    const float x = std::uniform_real_distribution<float>(low, high)(rng);
    return std::clamp(x, low, high);
  }
  const float mid = std::isfinite(low)    ? low
                    : std::isfinite(high) ? high
                                          : 0.0f;
  const float x = mid + std::normal_distribution<float>()(rng);
  return std::clamp(x, low, high);
}

// Uniformly random legal actions for `copies` (empty = all), from the
// tracker's masks and current agents.
pb::Request RandomStep(const CopyTracker& tracker, uint64_t handle,
                       const std::vector<int>& copies, std::mt19937_64& rng) {
  const pb::EnvSpec& spec = tracker.spec;
  pb::Request request;
  pb::StepRequest* step = request.mutable_step();
  step->set_handle(handle);
  step->mutable_copies()->Add(copies.begin(), copies.end());
  const std::vector<int> rows = copies.empty() ? AllCopies(spec) : copies;
  for (int agent = 0; agent < spec.agents_size(); ++agent) {
    std::vector<int64_t> discrete;
    std::vector<float> continuous;
    const pb::Space& space = spec.agents(agent).action_space();
    const int64_t n = MaskSize(spec, agent);
    for (int c : rows) {
      switch (space.kind_case()) {
        case pb::Space::kDiscrete: {
          std::vector<int64_t> choices;
          for (int64_t a = 0; a < space.discrete().n(); ++a) {
            if (n == 0 || !tracker.Acting(c, agent) ||
                tracker.legal[agent][c * n + a]) {
              choices.push_back(a);
            }
          }
          if (choices.empty()) choices.push_back(0);
          discrete.push_back(choices[std::uniform_int_distribution<size_t>(
              0, choices.size() - 1)(rng)]);
          break;
        }
        case pb::Space::kMultiDiscrete:
          for (int64_t m : space.multi_discrete().nvec()) {
            discrete.push_back(
                std::uniform_int_distribution<int64_t>(0, m - 1)(rng));
          }
          break;
        case pb::Space::kBox:
          for (int k = 0; k < space.box().low_size(); ++k) {
            continuous.push_back(
                SampleBoxElement(space.box().low(k), space.box().high(k), rng));
          }
          break;
        default:
          break;
      }
    }
    pb::AgentActions* actions = step->add_actions();
    SetArray<int64_t>(discrete, actions->mutable_discrete());
    SetArray<float>(continuous, actions->mutable_continuous());
  }
  return request;
}

pb::Request ResetRequest(uint64_t handle, const std::vector<int>& copies = {},
                         const std::vector<uint64_t>& seeds = {}) {
  pb::Request request;
  request.mutable_reset()->set_handle(handle);
  request.mutable_reset()->mutable_copies()->Add(copies.begin(), copies.end());
  request.mutable_reset()->mutable_seeds()->Add(seeds.begin(), seeds.end());
  return request;
}

// Resets `copies` (empty = all) and checks the reply.
absl::StatusOr<pb::TimeStep> DoReset(Connection& connection,
                                     CopyTracker& tracker, uint64_t handle,
                                     const std::vector<int>& copies = {},
                                     const std::vector<uint64_t>& seeds = {}) {
  absl::StatusOr<pb::Response> response =
      CallOk(connection, ResetRequest(handle, copies, seeds), "reset");
  if (!response.ok()) return response.status();
  const std::vector<int> rows =
      copies.empty() ? AllCopies(tracker.spec) : copies;
  absl::StatusOr<pb::TimeStep> received =
      WithCopies(response->reset().timestep(), rows, !copies.empty());
  if (!received.ok()) return Prefixed("reset", received.status());
  const pb::TimeStep& ts = *received;
  CONFORMANCE_RETURN_IF_ERROR(Prefixed(
      "reset", CheckTimeStepShape(tracker.spec, rows, ts, /*is_reset=*/true,
                                  tracker.spec.auto_reset() == pb::SAME_STEP)));
  CONFORMANCE_RETURN_IF_ERROR(AbsorbReset(tracker, ts));
  return ts;
}

// Sends a step and checks shape and semantics; any failure is returned.
absl::StatusOr<pb::TimeStep> DoStep(Connection& connection,
                                    CopyTracker& tracker,
                                    const pb::Request& request,
                                    const std::string& what = "step") {
  absl::StatusOr<pb::Response> response = CallOk(connection, request, what);
  if (!response.ok()) return response.status();
  const bool named = !request.step().copies().empty();
  const std::vector<int> rows =
      named ? std::vector<int>(request.step().copies().begin(),
                               request.step().copies().end())
            : AllCopies(tracker.spec);
  absl::StatusOr<pb::TimeStep> received =
      WithCopies(response->step().timestep(), rows, named);
  if (!received.ok()) return Prefixed(what, received.status());
  const pb::TimeStep& ts = *received;
  CONFORMANCE_RETURN_IF_ERROR(Prefixed(
      what, CheckTimeStepShape(tracker.spec, rows, ts, false,
                               tracker.spec.auto_reset() == pb::SAME_STEP)));
  StepVerdict verdict = AbsorbStep(tracker, ts);
  CONFORMANCE_RETURN_IF_ERROR(Prefixed(what, verdict.episode_ends));
  CONFORMANCE_RETURN_IF_ERROR(Prefixed(what, verdict.auto_reset));
  return ts;
}

// Steps budget for random play: enough for two episodes when the spec has
// a limit, else the user's bound.
int PlayBudget(const pb::EnvSpec& spec, const EnvUnderTest& env) {
  return spec.episode_limit() > 0 ? std::min(2 * spec.episode_limit(), 20000)
                                  : env.max_episode_steps;
}

// Resets every copy, sends the bad step `mutate` makes out of a valid one,
// expects `want`, and then checks that a valid step still works and is
// every copy's first: the rejected step changed nothing. `mutate` returns
// false when it has nothing to try (the case is skipped).
absl::Status ExpectStepRejected(
    Connection& connection, const Made& made, std::mt19937_64& rng,
    pb::StatusCode want, const std::string& what,
    const std::function<bool(const CopyTracker&, pb::StepRequest*)>& mutate) {
  CopyTracker tracker(made.spec);
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made.handle);
  if (!reset.ok()) return reset.status();
  const pb::Request valid = RandomStep(tracker, made.handle, {}, rng);
  pb::Request bad = valid;
  if (!mutate(tracker, bad.mutable_step())) return absl::OkStatus();
  CONFORMANCE_RETURN_IF_ERROR(ExpectError(connection, bad, want, what));
  absl::StatusOr<pb::TimeStep> step =
      DoStep(connection, tracker, valid,
             absl::StrCat("the valid step after ", what,
                          " (a rejected step must change nothing)"));
  return step.status();
}

// ---------------------------------------------------------- trajectories --

struct Trajectory {
  std::vector<pb::Request> actions;     // one step request per step
  std::vector<pb::TimeStep> timesteps;  // the reset's, then each step's
};

// Resets (with `seeds` if given) and plays `steps` steps: the actions come
// from `replay` when given (its handle replaced), else at random from rng.
absl::StatusOr<Trajectory> Play(Connection& connection, const Made& made,
                                int steps, const std::vector<uint64_t>& seeds,
                                const Trajectory* replay,
                                std::mt19937_64& rng) {
  CopyTracker tracker(made.spec);
  Trajectory trajectory;
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made.handle,
              seeds.empty() ? std::vector<int>() : AllCopies(made.spec), seeds);
  if (!reset.ok()) return reset.status();
  trajectory.timesteps.push_back(*std::move(reset));
  for (int t = 0; t < steps; ++t) {
    pb::Request request;
    if (replay != nullptr) {
      if (t >= static_cast<int>(replay->actions.size())) break;
      request = replay->actions[t];
      request.mutable_step()->set_handle(made.handle);
    } else {
      request = RandomStep(tracker, made.handle, {}, rng);
    }
    absl::StatusOr<pb::TimeStep> ts =
        DoStep(connection, tracker, request, absl::StrCat("step ", t + 1));
    if (!ts.ok()) return ts.status();
    trajectory.actions.push_back(request);
    trajectory.timesteps.push_back(*std::move(ts));
  }
  return trajectory;
}

// A value of an array, as a difference report shows it.
std::string ShowValue(float value) { return absl::StrCat(value); }
std::string ShowValue(int32_t value) { return absl::StrCat(value); }
std::string ShowValue(uint8_t value) {
  return value == 0   ? "false"
         : value == 1 ? "true"
                      : absl::StrCat(static_cast<int>(value));
}

// The elements in which two arrays of T differ, one line each, in
// MessageDifferencer's style ("modified: path[k]: a -> b").
template <typename T>
void DiffArray(const std::string& path, const std::string& a,
               const std::string& b, std::string* report) {
  if (a == b) return;
  const std::vector<T> va = ArrayToVector<T>(a), vb = ArrayToVector<T>(b);
  bool reported = false;
  for (size_t k = 0; k < std::max(va.size(), vb.size()); ++k) {
    const std::string at = absl::StrCat(path, "[", k, "]: ");
    if (k >= va.size()) {
      absl::StrAppend(report, "added: ", at, ShowValue(vb[k]), "\n");
    } else if (k >= vb.size()) {
      absl::StrAppend(report, "deleted: ", at, ShowValue(va[k]), "\n");
    } else if (std::memcmp(&va[k], &vb[k], sizeof(T)) != 0) {  // bitwise
      absl::StrAppend(report, "modified: ", at, ShowValue(va[k]), " -> ",
                      ShowValue(vb[k]), "\n");
    } else {
      continue;
    }
    reported = true;
  }
  if (!reported) {
    // Only a partial trailing value differs.
    absl::StrAppend(report, "modified: ", path, ": ", a.size(), " bytes -> ",
                    b.size(), " bytes\n");
  }
}

// "" when equal, else where they first differ.
std::string Difference(const pb::TimeStep& a, const pb::TimeStep& b) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(a, b)) return "";
  // The arrays element by element (the differencer shows them as bytes).
  std::string arrays;
  DiffArray<int32_t>("copies", a.copies(), b.copies(), &arrays);
  for (int agent = 0; agent < std::min(a.agents_size(), b.agents_size());
       ++agent) {
    const pb::AgentTimeStep &x = a.agents(agent), &y = b.agents(agent);
    const std::string path = absl::StrCat("agents[", agent, "].");
    DiffArray<float>(path + "observation", x.observation(), y.observation(),
                     &arrays);
    DiffArray<float>(path + "reward", x.reward(), y.reward(), &arrays);
    DiffArray<uint8_t>(path + "action_mask", x.action_mask(), y.action_mask(),
                       &arrays);
    DiffArray<float>(path + "final_observation", x.final_observation(),
                     y.final_observation(), &arrays);
  }
  if (a.agents_size() != b.agents_size()) {
    absl::StrAppend(&arrays, "modified: agents: ", a.agents_size(),
                    " agents -> ", b.agents_size(), " agents\n");
  }
  DiffArray<uint8_t>("terminated", a.terminated(), b.terminated(), &arrays);
  DiffArray<uint8_t>("truncated", a.truncated(), b.truncated(), &arrays);
  DiffArray<int32_t>("episode_step", a.episode_step(), b.episode_step(),
                     &arrays);
  DiffArray<float>("public_observation", a.public_observation(),
                   b.public_observation(), &arrays);
  DiffArray<float>("state", a.state(), b.state(), &arrays);
  DiffArray<int32_t>("current_agent", a.current_agent(), b.current_agent(),
                     &arrays);
  DiffArray<float>("info", a.info(), b.info(), &arrays);
  DiffArray<float>("final_public_observation", a.final_public_observation(),
                   b.final_public_observation(), &arrays);
  DiffArray<float>("final_state", a.final_state(), b.final_state(), &arrays);
  if (!arrays.empty()) report = arrays;
  if (report.size() > 300) report = report.substr(0, 300) + "...";
  for (char& ch : report) {
    if (ch == '\n') ch = ';';
  }
  return report;
}

absl::Status CompareTrajectories(const Trajectory& a, const Trajectory& b,
                                 const std::string& what) {
  if (a.timesteps.size() != b.timesteps.size()) {
    return Failure(what, ": ", a.timesteps.size(), " vs ", b.timesteps.size(),
                   " timesteps");
  }
  for (size_t t = 0; t < a.timesteps.size(); ++t) {
    const std::string diff = Difference(a.timesteps[t], b.timesteps[t]);
    if (!diff.empty()) {
      return Failure(
          what, ": ",
          t == 0 ? std::string("the reset") : absl::StrCat("step ", t),
          " differs: ", diff);
    }
  }
  return absl::OkStatus();
}

// Row `r` of a TimeStep as a one-row TimeStep (final data included when
// the row ended), for comparing one copy across batches.
pb::TimeStep ExtractRow(const pb::EnvSpec& spec, const pb::TimeStep& ts,
                        int r) {
  pb::TimeStep out;
  SetArray<int32_t>({0}, out.mutable_copies());
  int final_index = -1;
  std::vector<int32_t> final_rows;
  FinalRows(ts.terminated(), ts.truncated(), spec.auto_reset() == pb::SAME_STEP,
            &final_rows);
  for (size_t k = 0; k < final_rows.size(); ++k) {
    if (final_rows[k] == r) final_index = static_cast<int>(k);
  }
  for (int agent = 0; agent < spec.agents_size(); ++agent) {
    const pb::AgentTimeStep& from = ts.agents(agent);
    pb::AgentTimeStep* to = out.add_agents();
    const int64_t obs = FlatSize(spec.agents(agent).observation_space());
    *to->mutable_observation() = RepeatRow<float>(from.observation(), r, obs);
    *to->mutable_reward() = RepeatRow<float>(from.reward(), r, 1);
    const int64_t n = MaskSize(spec, agent);
    *to->mutable_action_mask() = RepeatRow<uint8_t>(from.action_mask(), r, n);
    if (final_index >= 0) {
      *to->mutable_final_observation() =
          RepeatRow<float>(from.final_observation(), final_index, obs);
    }
  }
  *out.mutable_terminated() = RepeatRow<uint8_t>(ts.terminated(), r, 1);
  *out.mutable_truncated() = RepeatRow<uint8_t>(ts.truncated(), r, 1);
  *out.mutable_episode_step() = RepeatRow<int32_t>(ts.episode_step(), r, 1);
  const int64_t public_size = spec.has_public_observation()
                                  ? FlatSize(spec.public_observation_space())
                                  : 0;
  const int64_t state_size =
      spec.has_state() ? FlatSize(spec.state_space()) : 0;
  *out.mutable_public_observation() =
      RepeatRow<float>(ts.public_observation(), r, public_size);
  *out.mutable_state() = RepeatRow<float>(ts.state(), r, state_size);
  *out.mutable_current_agent() = RepeatRow<int32_t>(ts.current_agent(), r, 1);
  *out.mutable_info() = RepeatRow<float>(ts.info(), r, spec.info_keys_size());
  if (final_index >= 0) {
    *out.mutable_final_public_observation() = RepeatRow<float>(
        ts.final_public_observation(), final_index, public_size);
    *out.mutable_final_state() =
        RepeatRow<float>(ts.final_state(), final_index, state_size);
  }
  return out;
}

// `times` copies of row `r` of an agent's actions (`size` values a row).
pb::AgentActions RepeatActionsRow(const pb::AgentActions& from, int64_t r,
                                  int64_t size, int times = 1) {
  pb::AgentActions to;
  *to.mutable_discrete() = RepeatRow<int64_t>(from.discrete(), r, size, times);
  *to.mutable_continuous() =
      RepeatRow<float>(from.continuous(), r, size, times);
  return to;
}

// Row `r` of every agent's actions in a step request, as a one-copy step.
pb::Request ExtractActionsRow(const pb::EnvSpec& spec,
                              const pb::Request& request, int r) {
  pb::Request out;
  out.mutable_step()->set_handle(request.step().handle());
  for (int agent = 0; agent < spec.agents_size(); ++agent) {
    *out.mutable_step()->add_actions() =
        RepeatActionsRow(request.step().actions(agent), r,
                         FlatSize(spec.agents(agent).action_space()));
  }
  return out;
}

int DeterminismSteps(const pb::EnvSpec& spec, const EnvUnderTest& env) {
  return std::min(std::max(20, 2 * spec.episode_limit()),
                  std::min(200, PlayBudget(spec, env)));
}

// A Value of a kind other than `like`'s (never int for a double: servers
// may widen ints to doubles).
pb::Value WrongKind(const pb::Value& like) {
  pb::Value value;
  if (like.kind_case() == pb::Value::kStringValue) {
    value.set_bool_value(true);
  } else {
    value.set_string_value("conformance-wrong-type");
  }
  return value;
}

absl::Status CheckDefaultValue(const pb::Value& value) {
  if (value.kind_case() == pb::Value::KIND_NOT_SET) {
    return Failure("default has no type (no value kind set)");
  }
  if (value.kind_case() == pb::Value::kArrayValue) {
    const pb::DoubleArray& array = value.array_value();
    int64_t size = array.shape().empty() ? 0 : 1;
    for (int64_t dim : array.shape()) {
      if (dim < 0) return Failure("array default has negative dimension");
      size *= dim;
    }
    if (size != array.values_size()) {
      return Failure("array default of shape [",
                     absl::StrJoin(array.shape(), ","), "] holds ",
                     array.values_size(), " values");
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ======================================================= server checks ==

absl::Status CheckHandshake(Connection& connection) {
  pb::Request request;
  request.mutable_handshake()->set_protocol_version(kProtocolVersion);
  request.mutable_handshake()->set_client_name("protocol_conformance");
  absl::StatusOr<pb::Response> response =
      CallOk(connection, request, "handshake");
  if (!response.ok()) return response.status();
  const pb::HandshakeResponse& handshake = response->handshake();
  if (handshake.protocol_version() != kProtocolVersion) {
    return Failure("server answered protocol_version ",
                   handshake.protocol_version(), " to a version ",
                   kProtocolVersion, " handshake");
  }
  if (handshake.server_name().empty()) return Failure("empty server_name");
  if (handshake.max_copies_per_handle() < 1) {
    return Failure("max_copies_per_handle ", handshake.max_copies_per_handle(),
                   " (must be >= 1)");
  }
  if (handshake.idle_handle_timeout_seconds() < 0) {
    return Failure("negative idle_handle_timeout_seconds");
  }
  return absl::OkStatus();
}

absl::Status CheckWrongProtocolVersion(Connection& connection) {
  for (uint32_t version : {0u, kProtocolVersion + 1, 99u}) {
    pb::Request request;
    request.mutable_handshake()->set_protocol_version(version);
    absl::StatusOr<pb::Response> response = connection.Call(request);
    const std::string what = absl::StrCat("handshake with version ", version);
    if (!response.ok()) return Prefixed(what, response.status());
    if (response->status().code() != pb::FAILED_PRECONDITION) {
      return Failure(what, ": expected FAILED_PRECONDITION, got ",
                     CodeName(response->status().code()));
    }
    if (response->status().message().find(std::to_string(kProtocolVersion)) ==
        std::string::npos) {
      return Failure(what, ": the message does not name the server's version ",
                     kProtocolVersion, ": \"", response->status().message(),
                     "\"");
    }
    CONFORMANCE_RETURN_IF_ERROR(ExpectHealthy(connection, what));
  }
  return absl::OkStatus();
}

absl::Status CheckListEnvironments(Connection& connection) {
  pb::Request request;
  request.mutable_list_environments();
  absl::StatusOr<pb::Response> response =
      CallOk(connection, request, "list_environments");
  if (!response.ok()) return response.status();
  const auto& envs = response->list_environments().environments();
  if (envs.empty()) {
    return Failure(
        "the server lists no environments: there is nothing to "
        "check (a server must serve at least one)");
  }
  std::set<std::string> names;
  for (const pb::EnvironmentInfo& env : envs) {
    if (env.name().empty()) return Failure("an environment has no name");
    if (!names.insert(env.name()).second) {
      return Failure("environment '", env.name(), "' is listed twice");
    }
    if (env.description().empty()) {
      return Failure("environment '", env.name(), "' has no description");
    }
    if (env.description().find('\n') != std::string::npos) {
      return Failure("environment '", env.name(),
                     "' description is not one line");
    }
    std::set<std::string> settings;
    for (const pb::SettingSpec& setting : env.settings()) {
      const std::string where = absl::StrCat(
          "environment '", env.name(), "', setting '", setting.name(), "'");
      if (setting.name().empty()) {
        return Failure("environment '", env.name(), "' has a nameless setting");
      }
      if (!settings.insert(setting.name()).second) {
        return Failure(where, " is declared twice");
      }
      if (setting.description().empty()) {
        return Failure(where, " has no description");
      }
      CONFORMANCE_RETURN_IF_ERROR(
          Prefixed(where, CheckDefaultValue(setting.default_value())));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckGarbageBytes(Connection& connection) {
  pb::Request valid;
  valid.set_request_id(7);
  valid.mutable_make()->set_name("conformance-truncated-request");
  const std::string whole = valid.SerializeAsString();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bytes 0xff...", std::string("\xff\xff\xff\xff garbage", 13)},
      {"1000 bytes of 0x07", std::string(1000, '\x07')},
      {"a request cut short", whole.substr(0, whole.size() - 3)},
  };
  for (const auto& [what, bytes] : cases) {
    pb::Request parsed;
    if (parsed.ParseFromString(bytes)) continue;  // not garbage after all
    CONFORMANCE_RETURN_IF_ERROR(ExpectRawError(
        connection, bytes, pb::INVALID_ARGUMENT, /*request_id=*/0, what));
  }
  return absl::OkStatus();
}

absl::Status CheckUnknownOperation(Connection& connection) {
  // No operation at all.
  pb::Request empty;
  CONFORMANCE_RETURN_IF_ERROR(ExpectError(connection, empty, pb::UNIMPLEMENTED,
                                          "a request with no operation"));
  // An operation from a future version: field 15 of Request, unknown here,
  // is kept as an unknown field and leaves the payload unset.
  pb::Request future;
  future.set_request_id(4242);
  std::string bytes = future.SerializeAsString();
  bytes += std::string("\x78\x01", 2);  // field 15, varint 1
  return ExpectRawError(connection, bytes, pb::UNIMPLEMENTED, 4242,
                        "a request with an unknown operation field");
}

absl::Status CheckUnknownEnvironment(Connection& connection) {
  pb::Request request;
  request.mutable_make()->set_name("conformance-no-such-environment");
  request.mutable_make()->set_num_copies(1);
  return ExpectError(connection, request, pb::NOT_FOUND,
                     "make of an unlisted environment");
}

absl::Status CheckUnknownHandle(Connection& connection) {
  // A handle the server never gave out (handles are server-chosen; one this
  // large is not plausibly in use).
  const uint64_t handle = 0x7ffffffffffff001ULL;
  pb::Request reset = ResetRequest(handle);
  CONFORMANCE_RETURN_IF_ERROR(ExpectError(connection, reset, pb::NOT_FOUND,
                                          "reset of an unknown handle"));
  pb::Request step;
  step.mutable_step()->set_handle(handle);
  SetArray<int64_t>({0},
                    step.mutable_step()->add_actions()->mutable_discrete());
  CONFORMANCE_RETURN_IF_ERROR(ExpectError(connection, step, pb::NOT_FOUND,
                                          "step of an unknown handle"));
  pb::Request close;
  close.mutable_close()->set_handle(handle);
  return ExpectError(connection, close, pb::NOT_FOUND,
                     "close of an unknown handle");
}

absl::Status CheckVanishingClient(Connection& connection) {
  // Clients that send and go away before the answer (and one that leaves a
  // multi-frame message half sent) must not stop the server.
  for (int i = 0; i < 10; ++i) {
    zmq::socket_t socket(*connection.context(), zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, i % 2 == 0 ? 0 : 100);
    socket.set(zmq::sockopt::sndtimeo, connection.timeout_ms());
    socket.connect(connection.endpoint());
    pb::Request request;
    request.set_request_id(1000 + i);
    if (i % 2 == 0) {
      request.mutable_list_environments();
    } else {
      request.mutable_handshake()->set_protocol_version(kProtocolVersion);
    }
    const std::string bytes = request.SerializeAsString();
    try {
      socket.send(zmq::buffer(bytes), zmq::send_flags::none);
      if (i % 3 == 0) {
        socket.send(zmq::str_buffer("partial"), zmq::send_flags::sndmore);
      }
    } catch (const zmq::error_t&) {
      // Nothing to check here; the health check below decides.
    }
    socket.close();
  }
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectHealthy(connection, "10 clients that vanished mid-request"));
  pb::Request list;
  list.mutable_list_environments();
  return CallOk(connection, list, "list_environments after clients vanished")
      .status();
}

// ================================================== environment checks ==

absl::Status CheckMakeSpec(Connection& connection, const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  const pb::EnvSpec& spec = made->spec;
  if (spec.name() != env.info.name()) {
    return Failure("spec.name is '", spec.name(), "', made '", env.info.name(),
                   "'");
  }
  // Every declared setting once, with its declared type, holding the value
  // given or else the default.
  std::map<std::string, const pb::Value*> given;
  for (const pb::Setting& setting : env.settings) {
    given[setting.name()] = &setting.value();
  }
  std::map<std::string, const pb::Value*> declared;
  for (const pb::SettingSpec& setting : env.info.settings()) {
    declared[setting.name()] = &setting.default_value();
  }
  std::set<std::string> seen;
  for (const pb::Setting& setting : spec.settings()) {
    auto it = declared.find(setting.name());
    if (it == declared.end()) {
      return Failure("spec lists setting '", setting.name(),
                     "' that list_environments does not declare");
    }
    if (!seen.insert(setting.name()).second) {
      return Failure("spec lists setting '", setting.name(), "' twice");
    }
    if (setting.value().kind_case() != it->second->kind_case()) {
      return Failure("spec setting '", setting.name(),
                     "' has another type than its declared default");
    }
    auto given_it = given.find(setting.name());
    const pb::Value& want =
        given_it != given.end() ? *given_it->second : *it->second;
    if (!google::protobuf::util::MessageDifferencer::Equals(setting.value(),
                                                            want)) {
      return Failure("spec setting '", setting.name(), "' is ",
                     setting.value().ShortDebugString(), ", expected ",
                     want.ShortDebugString(),
                     given_it != given.end() ? " (given)" : " (the default)");
    }
  }
  for (const auto& [name, value] : declared) {
    if (seen.count(name) == 0) {
      return Failure("spec does not list setting '", name, "'");
    }
  }
  // num_copies 0 means 1.
  pb::Request zero = MakeRequestFor(env, 0, env.seed, pb::SAME_STEP);
  absl::StatusOr<pb::Response> one =
      CallOk(connection, zero, "make with num_copies 0");
  if (!one.ok()) return one.status();
  ScopedHandle closer_one(connection, one->make().handle());
  if (one->make().spec().num_copies() != 1) {
    return Failure("make with num_copies 0 gave spec.num_copies ",
                   one->make().spec().num_copies(), " (0 means 1)");
  }
  if (one->make().handle() == made->handle) {
    return Failure("two open handles share the id ", made->handle);
  }
  return absl::OkStatus();
}

absl::Status CheckUnknownSetting(Connection& connection,
                                 const EnvUnderTest& env) {
  pb::Request request = MakeRequestFor(env, 1, env.seed, pb::SAME_STEP);
  pb::Setting* setting = request.mutable_make()->add_settings();
  setting->set_name("conformance_no_such_setting");
  setting->mutable_value()->set_int_value(1);
  return ExpectError(connection, request, pb::INVALID_ARGUMENT,
                     "make with an undeclared setting");
}

absl::Status CheckMistypedSetting(Connection& connection,
                                  const EnvUnderTest& env, std::string* note) {
  if (env.info.settings().empty()) {
    *note = "no settings declared";
    return absl::OkStatus();
  }
  for (const pb::SettingSpec& declared : env.info.settings()) {
    pb::Request request = MakeRequestFor(env, 1, env.seed, pb::SAME_STEP);
    pb::MakeRequest* make = request.mutable_make();
    // Replace any given value of this setting by the mistyped one.
    for (int i = 0; i < make->settings_size(); ++i) {
      if (make->settings(i).name() == declared.name()) {
        make->mutable_settings()->DeleteSubrange(i, 1);
        break;
      }
    }
    pb::Setting* setting = make->add_settings();
    setting->set_name(declared.name());
    *setting->mutable_value() = WrongKind(declared.default_value());
    CONFORMANCE_RETURN_IF_ERROR(ExpectError(
        connection, request, pb::INVALID_ARGUMENT,
        absl::StrCat("make with setting '", declared.name(), "' as ",
                     setting->value().ShortDebugString())));
  }
  return absl::OkStatus();
}

absl::Status CheckBadNumCopies(Connection& connection,
                               const EnvUnderTest& env) {
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, MakeRequestFor(env, -1, env.seed, pb::SAME_STEP),
                  pb::INVALID_ARGUMENT, "make with num_copies -1"));
  pb::Request handshake;
  handshake.mutable_handshake()->set_protocol_version(kProtocolVersion);
  absl::StatusOr<pb::Response> hello =
      CallOk(connection, handshake, "handshake");
  if (!hello.ok()) return hello.status();
  const int max = hello->handshake().max_copies_per_handle();
  if (max > 0 && max < std::numeric_limits<int32_t>::max()) {
    CONFORMANCE_RETURN_IF_ERROR(ExpectError(
        connection, MakeRequestFor(env, max + 1, env.seed, pb::SAME_STEP),
        pb::INVALID_ARGUMENT,
        absl::StrCat("make with num_copies ", max + 1,
                     " (over max_copies_per_handle)")));
  }
  return absl::OkStatus();
}

absl::Status CheckResetAll(Connection& connection, const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  CopyTracker tracker(made->spec);
  // Twice: a second reset (without seeds) is as valid as the first.
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<pb::TimeStep> ts =
        DoReset(connection, tracker, made->handle);
    if (!ts.ok()) return ts.status();
  }
  return absl::OkStatus();
}

absl::Status CheckResetChosenCopies(Connection& connection,
                                    const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  CopyTracker tracker(made->spec);
  absl::StatusOr<pb::TimeStep> all = DoReset(connection, tracker, made->handle);
  if (!all.ok()) return all.status();
  // The last copy and copy 0, in that order, with seeds: rows follow the
  // request's order.
  const int last = made->spec.num_copies() - 1;
  std::vector<int> chosen = {last};
  std::vector<uint64_t> seeds = {env.seed + 101};
  if (last > 0) {
    chosen.push_back(0);
    seeds.push_back(env.seed + 202);
  }
  absl::StatusOr<pb::TimeStep> first =
      DoReset(connection, tracker, made->handle, chosen, seeds);
  if (!first.ok()) return first.status();
  // The same seeds restart the same streams: an identical reset.
  absl::StatusOr<pb::TimeStep> again =
      DoReset(connection, tracker, made->handle, chosen, seeds);
  if (!again.ok()) return again.status();
  const std::string diff = Difference(*first, *again);
  if (!diff.empty()) {
    return Failure(
        "resetting copies [", absl::StrJoin(chosen, ","),
        "] twice with the same seeds gave different results: ", diff);
  }
  // Seeds are one per reset copy.
  pb::Request mismatch = ResetRequest(made->handle, chosen, seeds);
  mismatch.mutable_reset()->add_seeds(env.seed + 303);
  return ExpectError(connection, mismatch, pb::INVALID_ARGUMENT,
                     absl::StrCat("reset of ", chosen.size(), " copies with ",
                                  seeds.size() + 1, " seeds"));
}

absl::Status CheckBadCopies(Connection& connection, const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  const int n = made->spec.num_copies();
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, ResetRequest(made->handle, {n}), pb::OUT_OF_RANGE,
                  absl::StrCat("reset of copy ", n, " of ", n)));
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, ResetRequest(made->handle, {-1}),
                  pb::OUT_OF_RANGE, "reset of copy -1"));
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, ResetRequest(made->handle, {0, 0}),
                  pb::INVALID_ARGUMENT, "reset of copies [0, 0]"));
  std::mt19937_64 rng(env.seed);
  auto one_row = [](int copy) {
    return [copy](const CopyTracker& tracker, pb::StepRequest* step) {
      // Actions for one row (the first copy's), addressed to `copy`.
      const pb::EnvSpec& spec = tracker.spec;
      pb::StepRequest row;
      row.set_handle(step->handle());
      row.add_copies(copy);
      for (int agent = 0; agent < spec.agents_size(); ++agent) {
        *row.add_actions() =
            RepeatActionsRow(step->actions(agent), 0,
                             FlatSize(spec.agents(agent).action_space()));
      }
      *step = row;
      return true;
    };
  };
  CONFORMANCE_RETURN_IF_ERROR(ExpectStepRejected(
      connection, *made, rng, pb::OUT_OF_RANGE,
      absl::StrCat("step of copy ", n, " of ", n), one_row(n)));
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectStepRejected(connection, *made, rng, pb::OUT_OF_RANGE,
                         "step of copy -1", one_row(-1)));
  // A copy listed twice, with actions for the two rows.
  return ExpectStepRejected(
      connection, *made, rng, pb::INVALID_ARGUMENT, "step of copies [0, 0]",
      [](const CopyTracker& tracker, pb::StepRequest* step) {
        const pb::EnvSpec& spec = tracker.spec;
        pb::StepRequest twice;
        twice.set_handle(step->handle());
        twice.add_copies(0);
        twice.add_copies(0);
        for (int agent = 0; agent < spec.agents_size(); ++agent) {
          *twice.add_actions() = RepeatActionsRow(
              step->actions(agent), 0,
              FlatSize(spec.agents(agent).action_space()), /*times=*/2);
        }
        *step = twice;
        return true;
      });
}

absl::Status CheckStepChosenCopies(Connection& connection,
                                   const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  CopyTracker tracker(made->spec);
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made->handle);
  if (!reset.ok()) return reset.status();
  std::mt19937_64 rng(env.seed);
  const int last = made->spec.num_copies() - 1;
  // The tracker expects each copy's own episode_step: stepping some copies
  // must leave the others where they were.
  std::vector<std::vector<int>> plans = {{last}, {}, {last}};
  if (last > 0) plans = {{last}, {0}, {last, 0}, {}, {0, last}, {}};
  for (const std::vector<int>& copies : plans) {
    absl::StatusOr<pb::TimeStep> ts = DoStep(
        connection, tracker, RandomStep(tracker, made->handle, copies, rng),
        absl::StrCat("step of copies [",
                     copies.empty() ? "all" : absl::StrJoin(copies, ","), "]"));
    if (!ts.ok()) return ts.status();
  }
  return absl::OkStatus();
}

PlayVerdicts CheckRandomPlay(Connection& connection, const EnvUnderTest& env) {
  PlayVerdicts verdicts;
  auto fail_all = [&](const absl::Status& status) {
    verdicts.shapes = verdicts.episode_ends = verdicts.auto_reset = status;
    return verdicts;
  };
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return fail_all(made.status());
  ScopedHandle closer(connection, made->handle);
  const pb::EnvSpec& spec = made->spec;
  CopyTracker tracker(spec);
  absl::StatusOr<pb::Response> reset =
      CallOk(connection, ResetRequest(made->handle), "reset");
  if (!reset.ok()) return fail_all(reset.status());
  const std::vector<int> all = AllCopies(spec);
  absl::StatusOr<pb::TimeStep> first =
      WithCopies(reset->reset().timestep(), all, /*named=*/false);
  verdicts.shapes = Prefixed(
      "reset", first.ok() ? CheckTimeStepShape(spec, all, *first, true, true)
                          : first.status());
  if (!verdicts.shapes.ok()) return fail_all(verdicts.shapes);
  verdicts.episode_ends = AbsorbReset(tracker, *first);
  std::mt19937_64 rng(env.seed);
  const int budget = PlayBudget(spec, env);
  std::vector<int> episodes(spec.num_copies(), 0);
  int ended = 0;
  for (int t = 1; t <= budget; ++t) {
    absl::StatusOr<pb::Response> response =
        CallOk(connection, RandomStep(tracker, made->handle, {}, rng),
               absl::StrCat("step ", t));
    if (!response.ok()) return fail_all(response.status());
    absl::StatusOr<pb::TimeStep> received =
        WithCopies(response->step().timestep(), all, /*named=*/false);
    const absl::Status shape =
        received.ok() ? CheckTimeStepShape(spec, all, *received, false, true)
                      : received.status();
    if (!shape.ok()) {
      // Later steps cannot be judged on a malformed one.
      verdicts.shapes = Prefixed(absl::StrCat("step ", t), shape);
      if (verdicts.episode_ends.ok()) {
        verdicts.episode_ends = Failure("not judged: ", shape.message());
      }
      if (verdicts.auto_reset.ok()) {
        verdicts.auto_reset = Failure("not judged: ", shape.message());
      }
      return verdicts;
    }
    const pb::TimeStep& ts = *received;
    for (int r = 0, rows = NumRows(ts); r < rows; ++r) {
      episodes[Int32At(ts.copies(), r)] +=
          BoolAt(ts.terminated(), r) || BoolAt(ts.truncated(), r);
    }
    StepVerdict verdict = AbsorbStep(tracker, ts);
    ended += verdict.ended;
    if (verdicts.episode_ends.ok()) {
      verdicts.episode_ends =
          Prefixed(absl::StrCat("step ", t), verdict.episode_ends);
    }
    if (verdicts.auto_reset.ok()) {
      verdicts.auto_reset =
          Prefixed(absl::StrCat("step ", t), verdict.auto_reset);
    }
    if (*std::min_element(episodes.begin(), episodes.end()) >= 2) break;
  }
  if (ended == 0) {
    const std::string why =
        absl::StrCat("no episode ended in ", budget, " steps of random play",
                     spec.episode_limit() > 0
                         ? std::string()
                         : " and the spec declares no episode_limit (raise "
                           "--max_episode_steps if episodes are longer)");
    if (verdicts.episode_ends.ok()) verdicts.episode_ends = Failure(why);
    if (verdicts.auto_reset.ok()) {
      verdicts.auto_reset = Failure("could not be checked: ", why);
    }
  }
  return verdicts;
}

absl::Status CheckAutoResetNone(Connection& connection, const EnvUnderTest& env,
                                std::string* note) {
  absl::StatusOr<pb::Response> response =
      connection.Call(MakeRequestFor(env, env.num_copies, env.seed, pb::NONE));
  if (!response.ok())
    return Prefixed("make with auto_reset NONE", response.status());
  const int code = response->status().code();
  if (code == pb::UNIMPLEMENTED || code == pb::INVALID_ARGUMENT) {
    *note = absl::StrCat("not offered (", CodeName(code), ": ",
                         response->status().message(), ")");
    return ExpectHealthy(connection, "make with auto_reset NONE");
  }
  if (code != pb::OK) {
    return Failure("make with auto_reset NONE got ", CodeName(code), ": ",
                   response->status().message(),
                   " (OK, or UNIMPLEMENTED / INVALID_ARGUMENT if not offered)");
  }
  Made made;
  made.handle = response->make().handle();
  made.spec = response->make().spec();
  ScopedHandle closer(connection, made.handle);
  CONFORMANCE_RETURN_IF_ERROR(Prefixed("spec from make", CheckSpec(made.spec)));
  if (made.spec.auto_reset() != pb::NONE) {
    return Failure("made with auto_reset NONE, the spec says ",
                   pb::AutoReset_Name(made.spec.auto_reset()));
  }
  if (made.spec.num_copies() != env.num_copies) {
    return Failure("spec.num_copies ", made.spec.num_copies(), ", made ",
                   env.num_copies);
  }
  CopyTracker tracker(made.spec);
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made.handle);
  if (!reset.ok()) return reset.status();
  std::mt19937_64 rng(env.seed);
  const int budget = PlayBudget(made.spec, env);
  auto unfinished = [&] {
    std::vector<int> copies;
    for (int c = 0; c < made.spec.num_copies(); ++c) {
      if (!tracker.finished[c]) copies.push_back(c);
    }
    return copies;
  };
  // Play the running copies until one ends; it must then wait.
  int t = 0;
  for (; t < budget &&
         unfinished().size() == static_cast<size_t>(made.spec.num_copies());
       ++t) {
    absl::StatusOr<pb::TimeStep> ts =
        DoStep(connection, tracker, RandomStep(tracker, made.handle, {}, rng),
               absl::StrCat("step ", t + 1));
    if (!ts.ok()) return ts.status();
  }
  std::vector<int> running = unfinished();
  if (running.size() == static_cast<size_t>(made.spec.num_copies())) {
    return Failure("no episode ended in ", budget, " steps of random play");
  }
  std::vector<int> finished;
  for (int c = 0; c < made.spec.num_copies(); ++c) {
    if (tracker.finished[c]) finished.push_back(c);
  }
  // Stepping every copy, ended ones included, is refused as a whole.
  CONFORMANCE_RETURN_IF_ERROR(ExpectError(
      connection, RandomStep(tracker, made.handle, {}, rng),
      pb::FAILED_PRECONDITION,
      absl::StrCat("step including ended copies [",
                   absl::StrJoin(finished, ","), "] without auto-reset")));
  // The running copies carry on from where they were (the refused step
  // stepped none of them).
  if (!running.empty()) {
    absl::StatusOr<pb::TimeStep> ts = DoStep(
        connection, tracker, RandomStep(tracker, made.handle, running, rng),
        "step of the running copies after the refused step");
    if (!ts.ok()) return ts.status();
  }
  // A reset of the ended copies lets them play again.
  absl::StatusOr<pb::TimeStep> again =
      DoReset(connection, tracker, made.handle, finished);
  if (!again.ok()) return again.status();
  absl::StatusOr<pb::TimeStep> ts = DoStep(
      connection, tracker, RandomStep(tracker, made.handle, finished, rng),
      "step of the copies reset after they ended");
  return ts.status();
}

absl::Status CheckSameSeedSameTrajectory(Connection& connection,
                                         const EnvUnderTest& env) {
  absl::StatusOr<Made> a = MakeEnv(connection, env, env.num_copies, env.seed);
  if (!a.ok()) return a.status();
  ScopedHandle close_a(connection, a->handle);
  absl::StatusOr<Made> b = MakeEnv(connection, env, env.num_copies, env.seed);
  if (!b.ok()) return b.status();
  ScopedHandle close_b(connection, b->handle);
  const int steps = DeterminismSteps(a->spec, env);
  std::mt19937_64 rng(env.seed);
  // Phase 1: streams from the make seed. Phase 2: explicit reset seeds.
  const std::vector<std::vector<uint64_t>> phases = {
      {}, std::vector<uint64_t>(a->spec.num_copies(), env.seed + 7)};
  for (size_t phase = 0; phase < phases.size(); ++phase) {
    std::vector<uint64_t> seeds = phases[phase];
    for (size_t c = 0; c < seeds.size(); ++c) seeds[c] += 1000 * c;
    absl::StatusOr<Trajectory> first =
        Play(connection, *a, steps, seeds, nullptr, rng);
    if (!first.ok()) return Prefixed("first handle", first.status());
    absl::StatusOr<Trajectory> second =
        Play(connection, *b, steps, seeds, &*first, rng);
    if (!second.ok()) return Prefixed("second handle", second.status());
    CONFORMANCE_RETURN_IF_ERROR(CompareTrajectories(
        *first, *second,
        absl::StrCat("two handles made with seed ", env.seed,
                     " under the same actions",
                     phase == 0 ? "" : ", after resets with the same seeds")));
  }
  return absl::OkStatus();
}

absl::Status CheckDifferentSeed(Connection& connection, const EnvUnderTest& env,
                                std::string* note) {
  absl::StatusOr<Made> a = MakeEnv(connection, env, env.num_copies, env.seed);
  if (!a.ok()) return a.status();
  ScopedHandle close_a(connection, a->handle);
  absl::StatusOr<Made> b =
      MakeEnv(connection, env, env.num_copies, env.seed + 1);
  if (!b.ok()) return b.status();
  ScopedHandle close_b(connection, b->handle);
  const int steps = DeterminismSteps(a->spec, env);
  // The same action stream, drawn against each handle's own masks: a
  // different seed may legitimately change what is legal.
  std::mt19937_64 rng_a(env.seed), rng_b(env.seed);
  absl::StatusOr<Trajectory> first =
      Play(connection, *a, steps, {}, nullptr, rng_a);
  if (!first.ok())
    return Prefixed(absl::StrCat("seed ", env.seed), first.status());
  absl::StatusOr<Trajectory> second =
      Play(connection, *b, steps, {}, nullptr, rng_b);
  if (!second.ok())
    return Prefixed(absl::StrCat("seed ", env.seed + 1), second.status());
  *note = CompareTrajectories(*first, *second, "").ok()
              ? absl::StrCat("seeds ", env.seed, " and ", env.seed + 1,
                             " gave identical trajectories (allowed: the "
                             "dynamics may not use randomness)")
              : absl::StrCat("seeds ", env.seed, " and ", env.seed + 1,
                             " gave different trajectories");
  return absl::OkStatus();
}

absl::Status CheckCopyStreamsIndependent(Connection& connection,
                                         const EnvUnderTest& env) {
  if (env.num_copies < 2) return absl::OkStatus();
  absl::StatusOr<Made> many =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!many.ok()) return many.status();
  ScopedHandle close_many(connection, many->handle);
  absl::StatusOr<Made> one = MakeEnv(connection, env, 1, env.seed);
  if (!one.ok()) return one.status();
  ScopedHandle close_one(connection, one->handle);
  const int steps = DeterminismSteps(many->spec, env);
  std::mt19937_64 rng(env.seed);
  absl::StatusOr<Trajectory> batch =
      Play(connection, *many, steps, {}, nullptr, rng);
  if (!batch.ok()) return Prefixed("the batch", batch.status());
  // Copy 0 of the batch, replayed alone.
  Trajectory alone_actions;
  for (const pb::Request& request : batch->actions) {
    alone_actions.actions.push_back(ExtractActionsRow(many->spec, request, 0));
  }
  absl::StatusOr<Trajectory> alone =
      Play(connection, *one, steps, {}, &alone_actions, rng);
  if (!alone.ok()) return Prefixed("the single copy", alone.status());
  for (size_t t = 0; t < batch->timesteps.size(); ++t) {
    const std::string diff =
        Difference(ExtractRow(many->spec, batch->timesteps[t], 0),
                   ExtractRow(one->spec, alone->timesteps[t], 0));
    if (!diff.empty()) {
      return Failure(
          "copy 0 of a ", env.num_copies,
          "-copy handle and a 1-copy handle, "
          "both seed ",
          env.seed, ", differ at ",
          t == 0 ? std::string("the reset") : absl::StrCat("step ", t), ": ",
          diff, " (copy c's stream must come from (seed, c) alone)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStepBeforeReset(Connection& connection,
                                  const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  CopyTracker tracker(made->spec);
  std::mt19937_64 rng(env.seed);
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, RandomStep(tracker, made->handle, {}, rng),
                  pb::FAILED_PRECONDITION, "step before any reset"));
  // Only the reset copy may step.
  if (made->spec.num_copies() > 1) {
    absl::StatusOr<pb::TimeStep> reset =
        DoReset(connection, tracker, made->handle, {0});
    if (!reset.ok()) return reset.status();
    CONFORMANCE_RETURN_IF_ERROR(
        ExpectError(connection, RandomStep(tracker, made->handle, {}, rng),
                    pb::FAILED_PRECONDITION,
                    "step of all copies when only copy 0 was reset"));
    absl::StatusOr<pb::TimeStep> ts =
        DoStep(connection, tracker, RandomStep(tracker, made->handle, {0}, rng),
               "step of the reset copy 0");
    if (!ts.ok()) return ts.status();
  }
  return absl::OkStatus();
}

namespace {

// Runs ExpectStepRejected on a fresh handle for each (what, mutation).
absl::Status RejectEach(
    Connection& connection, const EnvUnderTest& env, pb::StatusCode want,
    const std::vector<
        std::pair<std::string,
                  std::function<bool(const CopyTracker&, pb::StepRequest*)>>>&
        cases) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle closer(connection, made->handle);
  std::mt19937_64 rng(env.seed);
  for (const auto& [what, mutate] : cases) {
    CONFORMANCE_RETURN_IF_ERROR(
        ExpectStepRejected(connection, *made, rng, want, what, mutate));
  }
  return absl::OkStatus();
}

// The values of agent `agent`'s actions, whichever field holds them.
int ActionValueCount(const pb::AgentActions& actions) {
  return static_cast<int>(ArrayToVector<int64_t>(actions.discrete()).size() +
                          ArrayToVector<float>(actions.continuous()).size());
}

// Writes the values of whichever field holds them into the other field too,
// as the other kind (int64 as float32, float32 as int64).
void AddAsOtherKind(pb::AgentActions* actions) {
  if (!actions->discrete().empty()) {
    std::vector<float> values;
    for (int64_t v : ArrayToVector<int64_t>(actions->discrete())) {
      values.push_back(static_cast<float>(v));
    }
    SetArray<float>(values, actions->mutable_continuous());
  } else {
    std::vector<int64_t> values;
    for (float v : ArrayToVector<float>(actions->continuous())) {
      values.push_back(static_cast<int64_t>(v));
    }
    SetArray<int64_t>(values, actions->mutable_discrete());
  }
}

// The agent whose out-of-range action is tested in row 0: in turn-based
// games the acting one (only its action counts), else `agent`.
int ActingAgentOrThis(const CopyTracker& tracker, int agent) {
  return tracker.spec.turn_order() == pb::SEQUENTIAL ? tracker.current_agent[0]
                                                     : agent;
}

}  // namespace

absl::Status CheckWrongAgentCount(Connection& connection,
                                  const EnvUnderTest& env) {
  return RejectEach(connection, env, pb::INVALID_ARGUMENT,
                    {{"step with one agent's actions missing",
                      [](const CopyTracker&, pb::StepRequest* step) {
                        step->mutable_actions()->RemoveLast();
                        return true;
                      }},
                     {"step with actions for one agent too many",
                      [](const CopyTracker&, pb::StepRequest* step) {
                        *step->add_actions() = step->actions(0);
                        return true;
                      }},
                     {"step with no actions at all",
                      [](const CopyTracker&, pb::StepRequest* step) {
                        step->clear_actions();
                        return true;
                      }}});
}

absl::Status CheckWrongActionCount(Connection& connection,
                                   const EnvUnderTest& env) {
  auto fewer = [](int which) {
    return [which](const CopyTracker& tracker, pb::StepRequest* step) {
      const int agent = which < 0 ? tracker.spec.agents_size() - 1 : which;
      pb::AgentActions* actions = step->mutable_actions(agent);
      auto drop_last = [](auto& values) { values.pop_back(); };
      if (!actions->discrete().empty()) {
        EditArray<int64_t>(actions->mutable_discrete(), drop_last);
      } else {
        EditArray<float>(actions->mutable_continuous(), drop_last);
      }
      return true;
    };
  };
  auto more = [](int which) {
    return [which](const CopyTracker& tracker, pb::StepRequest* step) {
      const int agent = which < 0 ? tracker.spec.agents_size() - 1 : which;
      pb::AgentActions* actions = step->mutable_actions(agent);
      auto repeat_first = [](auto& values) { values.push_back(values[0]); };
      if (!actions->discrete().empty()) {
        EditArray<int64_t>(actions->mutable_discrete(), repeat_first);
      } else {
        EditArray<float>(actions->mutable_continuous(), repeat_first);
      }
      return ActionValueCount(*actions) > 0;
    };
  };
  return RejectEach(
      connection, env, pb::INVALID_ARGUMENT,
      {{"step with one action value too few (first agent)", fewer(0)},
       {"step with one action value too many (first agent)", more(0)},
       {"step with one action value too few (last agent)", fewer(-1)},
       {"step with one action value too many (last agent)", more(-1)}});
}

absl::Status CheckPartialActionValues(Connection& connection,
                                      const EnvUnderTest& env) {
  // One byte more or less than whole values in the array holding an agent's
  // actions (int64 or float32): not a whole number of values.
  auto cut = [](int which, int bytes) {
    return [which, bytes](const CopyTracker& tracker, pb::StepRequest* step) {
      const int agent = which < 0 ? tracker.spec.agents_size() - 1 : which;
      pb::AgentActions* actions = step->mutable_actions(agent);
      std::string* array = actions->discrete().empty()
                               ? actions->mutable_continuous()
                               : actions->mutable_discrete();
      if (array->empty()) return false;
      if (bytes < 0) {
        array->pop_back();
      } else {
        array->push_back('\0');
      }
      return true;
    };
  };
  return RejectEach(
      connection, env, pb::INVALID_ARGUMENT,
      {{"step with the first agent's action array one byte short of whole "
        "values",
        cut(0, -1)},
       {"step with the first agent's action array one byte past whole values",
        cut(0, 1)},
       {"step with the last agent's action array one byte short of whole "
        "values",
        cut(-1, -1)},
       {"step with the last agent's action array one byte past whole values",
        cut(-1, 1)}});
}

absl::Status CheckWrongActionKind(Connection& connection,
                                  const EnvUnderTest& env) {
  return RejectEach(
      connection, env, pb::INVALID_ARGUMENT,
      {{"step with the first agent's actions in the wrong field "
        "(discrete for Box, continuous for Discrete/MultiDiscrete)",
        [](const CopyTracker&, pb::StepRequest* step) {
          pb::AgentActions* actions = step->mutable_actions(0);
          const bool was_discrete = !actions->discrete().empty();
          AddAsOtherKind(actions);
          if (was_discrete) {
            actions->clear_discrete();
          } else {
            actions->clear_continuous();
          }
          return true;
        }},
       {"step with the first agent's actions in both fields",
        [](const CopyTracker&, pb::StepRequest* step) {
          AddAsOtherKind(step->mutable_actions(0));
          return true;
        }}});
}

absl::Status CheckOutOfRangeActions(Connection& connection,
                                    const EnvUnderTest& env) {
  // Agents to try: the first and the last (in turn-based games, row 0's
  // acting agent, whose action counts).
  std::vector<std::pair<
      std::string, std::function<bool(const CopyTracker&, pb::StepRequest*)>>>
      cases;
  for (int which : {0, -1}) {
    // Values past each side of the space, element 0 of row 0.
    for (int variant = 0; variant < 5; ++variant) {
      const std::string side[] = {"above the space", "below the space", "NaN",
                                  "+infinity", "-infinity"};
      cases.push_back(
          {absl::StrCat("step with an action ", side[variant], " (",
                        which == 0 ? "first" : "last", " agent)"),
           [which, variant](const CopyTracker& tracker, pb::StepRequest* step) {
             const int agent = ActingAgentOrThis(
                 tracker, which < 0 ? tracker.spec.agents_size() - 1 : which);
             const pb::Space& space = tracker.spec.agents(agent).action_space();
             pb::AgentActions* actions = step->mutable_actions(agent);
             if (space.has_box()) {
               const float low = space.box().low(0), high = space.box().high(0);
               const float inf = std::numeric_limits<float>::infinity();
               float value;
               switch (variant) {
                 case 0:
                   if (!std::isfinite(high)) return false;
                   value = high + std::max(1.0f, std::abs(high));
                   break;
                 case 1:
                   if (!std::isfinite(low)) return false;
                   value = low - std::max(1.0f, std::abs(low));
                   break;
                 case 2:
                   value = std::numeric_limits<float>::quiet_NaN();
                   break;
                 case 3:
                   if (!std::isfinite(high)) return false;
                   value = inf;
                   break;
                 default:
                   if (!std::isfinite(low)) return false;
                   value = -inf;
                   break;
               }
               EditArray<float>(
                   actions->mutable_continuous(),
                   [value](std::vector<float>& values) { values[0] = value; });
               return true;
             }
             if (variant > 1) return false;  // integers have no NaN
             const int64_t n = space.has_discrete()
                                   ? space.discrete().n()
                                   : space.multi_discrete().nvec(0);
             const int64_t value = variant == 0 ? n : -1;
             EditArray<int64_t>(
                 actions->mutable_discrete(),
                 [value](std::vector<int64_t>& values) { values[0] = value; });
             return true;
           }});
    }
  }
  return RejectEach(connection, env, pb::OUT_OF_RANGE, cases);
}

absl::Status CheckMaskedAction(Connection& connection, const EnvUnderTest& env,
                               std::string* note) {
  bool tried = false, masked = false;
  absl::Status status = RejectEach(
      connection, env, pb::INVALID_ARGUMENT,
      {{"step with a masked-out (illegal) action",
        [&tried, &masked](const CopyTracker& tracker, pb::StepRequest* step) {
          const pb::EnvSpec& spec = tracker.spec;
          masked = spec.has_action_masks();
          for (int c = 0; c < spec.num_copies(); ++c) {
            for (int agent = 0; agent < spec.agents_size(); ++agent) {
              const int64_t n = MaskSize(spec, agent);
              if (n == 0 || !tracker.Acting(c, agent)) continue;
              for (int64_t a = 0; a < n; ++a) {
                if (!tracker.legal[agent][c * n + a]) {
                  EditArray<int64_t>(
                      step->mutable_actions(agent)->mutable_discrete(),
                      [c, a](std::vector<int64_t>& values) { values[c] = a; });
                  tried = true;
                  return true;
                }
              }
            }
          }
          return false;
        }}});
  if (status.ok() && !tried) {
    *note = masked ? "nothing to try: no action is masked out after a reset"
                   : "the spec declares no action masks";
  }
  return status;
}

absl::Status CheckClose(Connection& connection, const EnvUnderTest& env) {
  absl::StatusOr<Made> made =
      MakeEnv(connection, env, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  CopyTracker tracker(made->spec);
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made->handle);
  if (!reset.ok()) return reset.status();
  std::mt19937_64 rng(env.seed);
  const pb::Request step = RandomStep(tracker, made->handle, {}, rng);
  pb::Request close;
  close.mutable_close()->set_handle(made->handle);
  absl::StatusOr<pb::Response> closed = CallOk(connection, close, "close");
  if (!closed.ok()) return closed.status();
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, step, pb::NOT_FOUND, "step of a closed handle"));
  CONFORMANCE_RETURN_IF_ERROR(
      ExpectError(connection, ResetRequest(made->handle), pb::NOT_FOUND,
                  "reset of a closed handle"));
  return ExpectError(connection, close, pb::NOT_FOUND,
                     "close of a closed handle");
}

// --------------------------------------------------------- message channel --

namespace {

constexpr char kMessageSizeSetting[] = "message_size";
// The channel's size the suite makes, and the protocol's bounds.
constexpr int64_t kSuiteMessageSize = 2;
constexpr int64_t kMaxMessageSize = 1024;
constexpr int64_t kMaxMessageChannelFloats = int64_t{1} << 20;

// `env` with the int setting `name` = `value`, or without it (nullopt).
EnvUnderTest WithIntSetting(const EnvUnderTest& env, const std::string& name,
                            std::optional<int64_t> value) {
  EnvUnderTest out = env;
  out.settings.clear();
  for (const pb::Setting& setting : env.settings) {
    if (setting.name() != name) out.settings.push_back(setting);
  }
  if (value.has_value()) {
    pb::Setting setting;
    setting.set_name(name);
    setting.mutable_value()->set_int_value(*value);
    out.settings.push_back(std::move(setting));
  }
  return out;
}

// Floats an observation of `space` takes in a channel's observation:
// Box values as they are, one-hots of Discrete and MultiDiscrete indices.
int64_t ChannelOwnFloats(const pb::Space& space) {
  switch (space.kind_case()) {
    case pb::Space::kDiscrete:
      return space.discrete().n();
    case pb::Space::kMultiDiscrete: {
      int64_t total = 0;
      for (int64_t n : space.multi_discrete().nvec()) total += n;
      return total;
    }
    default:
      return FlatSize(space);
  }
}

// One packed observation of `space` (in the space) as the channel writes
// it.
std::vector<float> FlatOwn(const pb::Space& space, const float* packed) {
  std::vector<float> out;
  switch (space.kind_case()) {
    case pb::Space::kDiscrete:
      out.assign(space.discrete().n(), 0.0f);
      out[static_cast<int64_t>(packed[0])] = 1.0f;
      return out;
    case pb::Space::kMultiDiscrete:
      for (int k = 0; k < space.multi_discrete().nvec_size(); ++k) {
        const size_t start = out.size();
        out.resize(start + space.multi_discrete().nvec(k), 0.0f);
        out[start + static_cast<int64_t>(packed[k])] = 1.0f;
      }
      return out;
    default:
      return std::vector<float>(packed, packed + FlatSize(space));
  }
}

// Why a spec (made without the setting) cannot host a channel; "" when it
// can.
std::string ChannelMisfit(const pb::EnvSpec& spec) {
  if (spec.agents_size() < 2) {
    return absl::StrCat("it has ", spec.agents_size(), " agent");
  }
  if (spec.has_action_masks()) return "it sends action masks";
  for (const pb::AgentSpec& agent : spec.agents()) {
    if (agent.action_space().has_box()) {
      return absl::StrCat("agent '", agent.id(), "' has Box actions");
    }
  }
  return "";
}

// Where, in agent `agent`'s observation of `size` floats, partner
// `partner`'s one-hot starts.
int64_t PartnerOffset(int64_t size, int agents, int64_t k, int agent,
                      int partner) {
  const int slot = partner < agent ? partner : partner - 1;
  return size - (agents - 1) * k + slot * k;
}

// `request` must be refused with `want` and a message naming the
// environment; the server must serve on.
absl::Status ExpectRefusalNaming(Connection& connection,
                                 const pb::Request& request,
                                 pb::StatusCode want, const std::string& name,
                                 const std::string& what) {
  absl::StatusOr<pb::Response> response = connection.Call(request);
  if (!response.ok()) return Prefixed(what, response.status());
  const pb::Status& status = response->status();
  if (status.code() != want) {
    return Failure(
        what, ": expected ", CodeName(want), ", got ", CodeName(status.code()),
        status.message().empty() ? std::string()
                                 : absl::StrCat(" (", status.message(), ")"));
  }
  if (status.message().find(name) == std::string::npos) {
    return Failure(what, ": the ", CodeName(want),
                   " message does not name the environment '", name, "': \"",
                   status.message(), "\"");
  }
  return ExpectHealthy(connection, what);
}

// The channel's spec (K = `k`) of an environment whose spec is `base`.
absl::Status CheckChannelSpec(const pb::EnvSpec& base, const pb::EnvSpec& spec,
                              int64_t k) {
  if (spec.message_size() != k) {
    return Failure("spec.message_size is ", spec.message_size(), ", made with ",
                   kMessageSizeSetting, " ", k);
  }
  if (spec.agents_size() != base.agents_size()) {
    return Failure("the channel's spec has ", spec.agents_size(),
                   " agents, the environment ", base.agents_size());
  }
  const int n = base.agents_size();
  for (int a = 0; a < n; ++a) {
    const pb::AgentSpec& mine = base.agents(a);
    const pb::AgentSpec& theirs = spec.agents(a);
    const std::string who = absl::StrCat("agent '", mine.id(), "'");
    if (theirs.id() != mine.id()) {
      return Failure("agent ", a, " is '", theirs.id(), "' with the channel, '",
                     mine.id(), "' without");
    }
    std::vector<int64_t> nvec;
    if (mine.action_space().has_discrete()) {
      nvec.push_back(mine.action_space().discrete().n());
    } else {
      nvec.assign(mine.action_space().multi_discrete().nvec().begin(),
                  mine.action_space().multi_discrete().nvec().end());
    }
    nvec.push_back(k);
    const pb::Space& action = theirs.action_space();
    if (!action.has_multi_discrete() ||
        std::vector<int64_t>(action.multi_discrete().nvec().begin(),
                             action.multi_discrete().nvec().end()) != nvec) {
      return Failure(who, " acts in ", action.ShortDebugString(),
                     " with the channel; expected MultiDiscrete [",
                     absl::StrJoin(nvec, ","), "] (its actions, then the ",
                     "message)");
    }
    const int64_t own = ChannelOwnFloats(mine.observation_space());
    const int64_t size = own + (n - 1) * k;
    const pb::Space& observation = theirs.observation_space();
    if (!observation.has_box() || observation.box().shape_size() != 1 ||
        observation.box().shape(0) != size) {
      return Failure(who, " observes ", observation.ShortDebugString(),
                     " with the channel; expected a flat Box of ", size,
                     " floats (", own, " of its own, then ", n - 1, " x ", k,
                     " for its partners' messages)");
    }
    for (int64_t e = 0; e < size; ++e) {
      float low = 0.0f, high = 1.0f;
      if (e < own && mine.observation_space().has_box()) {
        low = mine.observation_space().box().low(e);
        high = mine.observation_space().box().high(e);
      }
      if (observation.box().low(e) != low ||
          observation.box().high(e) != high) {
        return Failure(who, "'s observation element ", e, " has bounds [",
                       observation.box().low(e), ", ",
                       observation.box().high(e), "]; expected [", low, ", ",
                       high, "]");
      }
    }
  }
  using google::protobuf::util::MessageDifferencer;
  if (spec.has_public_observation() != base.has_public_observation() ||
      !MessageDifferencer::Equals(spec.public_observation_space(),
                                  base.public_observation_space()) ||
      spec.has_state() != base.has_state() ||
      !MessageDifferencer::Equals(spec.state_space(), base.state_space()) ||
      spec.has_action_masks() || spec.turn_order() != base.turn_order() ||
      spec.episode_limit() != base.episode_limit() ||
      !std::equal(spec.info_keys().begin(), spec.info_keys().end(),
                  base.info_keys().begin(), base.info_keys().end())) {
    return Failure(
        "the public observation, state, action masks, turn order, episode "
        "limit or info keys differ with the channel (they are the "
        "environment's own)");
  }
  return absl::OkStatus();
}

// A step with the channel (`request`) without the messages (each agent's
// last action component), for the handle `handle` without it.
pb::Request WithoutMessages(const pb::EnvSpec& base, const pb::Request& request,
                            uint64_t handle) {
  pb::Request out;
  out.mutable_step()->set_handle(handle);
  *out.mutable_step()->mutable_copies() = request.step().copies();
  for (int a = 0; a < base.agents_size(); ++a) {
    const int64_t size = FlatSize(base.agents(a).action_space());
    const std::vector<int64_t> values =
        ArrayToVector<int64_t>(request.step().actions(a).discrete());
    std::vector<int64_t> kept;
    for (size_t v = 0; v < values.size(); ++v) {
      if (static_cast<int64_t>(v % (size + 1)) < size) {
        kept.push_back(values[v]);
      }
    }
    SetArray<int64_t>(kept,
                      out.mutable_step()->add_actions()->mutable_discrete());
  }
  return out;
}

// One row of a channel's observations: its own part is `own` (the
// environment's observation as the channel writes it) and partner j's
// one-hot holds messages[j] (-1: none, all zeros).
absl::Status CheckChannelRow(const float* row, int64_t size,
                             const std::vector<float>& own, int agents,
                             int agent, int64_t k,
                             const std::vector<int64_t>& messages,
                             const std::string& what) {
  for (size_t e = 0; e < own.size(); ++e) {
    if (std::memcmp(&row[e], &own[e], sizeof(float)) != 0) {
      return Failure(what, ": element ", e, " is ", row[e],
                     ", the environment's own observation (without the "
                     "channel) makes it ",
                     own[e]);
    }
  }
  for (int partner = 0; partner < agents; ++partner) {
    if (partner == agent) continue;
    const int64_t start = PartnerOffset(size, agents, k, agent, partner);
    for (int64_t m = 0; m < k; ++m) {
      const float want = m == messages[partner] ? 1.0f : 0.0f;
      if (row[start + m] != want) {
        return Failure(
            what, ": element ", start + m, " (message ", m, " of agent ",
            partner, "'s one-hot, at offset ", start, ") is ", row[start + m],
            messages[partner] < 0
                ? std::string("; no message was sent in this episode yet")
                : absl::StrCat("; agent ", partner, " sent ",
                               messages[partner]));
      }
    }
  }
  return absl::OkStatus();
}

// A channel's TimeStep against the one of the handle without it, for the
// same actions: everything but the observations is the environment's own,
// observations carry its own part then the messages sent in this step
// (messages[agent][row]; empty at a reset), zeros at an episode's first.
absl::Status CheckChannelTimeStep(const pb::EnvSpec& base,
                                  const pb::EnvSpec& spec,
                                  const pb::TimeStep& ts,
                                  const pb::TimeStep& plain,
                                  const std::vector<std::vector<int64_t>>& sent,
                                  int* heard, int* ended) {
  const std::pair<const char*,
                  std::pair<const std::string*, const std::string*>>
      fields[] = {
          {"copies", {&ts.copies(), &plain.copies()}},
          {"terminated", {&ts.terminated(), &plain.terminated()}},
          {"truncated", {&ts.truncated(), &plain.truncated()}},
          {"episode_step", {&ts.episode_step(), &plain.episode_step()}},
          {"public_observation",
           {&ts.public_observation(), &plain.public_observation()}},
          {"state", {&ts.state(), &plain.state()}},
          {"current_agent", {&ts.current_agent(), &plain.current_agent()}},
          {"info", {&ts.info(), &plain.info()}},
          {"final_public_observation",
           {&ts.final_public_observation(), &plain.final_public_observation()}},
          {"final_state", {&ts.final_state(), &plain.final_state()}},
      };
  for (const auto& [field, arrays] : fields) {
    if (*arrays.first != *arrays.second) {
      return Failure(field,
                     " differs from the environment's own (the "
                     "handle without the channel, same seed and actions)");
    }
  }
  const int n = spec.agents_size();
  const int64_t k = spec.message_size();
  const int rows = NumRows(ts);
  std::vector<int32_t> final_rows;
  FinalRows(ts.terminated(), ts.truncated(), spec.auto_reset() == pb::SAME_STEP,
            &final_rows);
  std::vector<int> final_index(rows, -1);
  for (size_t f = 0; f < final_rows.size(); ++f) {
    final_index[final_rows[f]] = static_cast<int>(f);
  }
  for (int a = 0; a < n; ++a) {
    const std::string who = absl::StrCat("agent '", spec.agents(a).id(), "'");
    if (ts.agents(a).reward() != plain.agents(a).reward()) {
      return Failure(who, "'s rewards differ from the environment's own");
    }
    const pb::Space& own_space = base.agents(a).observation_space();
    const int64_t own_size = FlatSize(own_space);
    const int64_t size = FlatSize(spec.agents(a).observation_space());
    const std::vector<float> observation =
        ArrayToVector<float>(ts.agents(a).observation());
    const std::vector<float> plain_observation =
        ArrayToVector<float>(plain.agents(a).observation());
    const std::vector<float> final_observation =
        ArrayToVector<float>(ts.agents(a).final_observation());
    const std::vector<float> plain_final =
        ArrayToVector<float>(plain.agents(a).final_observation());
    for (int r = 0; r < rows; ++r) {
      std::vector<int64_t> messages(n, -1);
      if (!sent.empty()) {
        for (int p = 0; p < n; ++p) messages[p] = sent[p][r];
      }
      const bool row_ended = final_index[r] >= 0;
      // A row that ended starts its next episode: no message yet.
      CONFORMANCE_RETURN_IF_ERROR(CheckChannelRow(
          observation.data() + r * size, size,
          FlatOwn(own_space, plain_observation.data() + r * own_size), n, a, k,
          row_ended ? std::vector<int64_t>(n, -1) : messages,
          absl::StrCat(
              who, ", row ", r,
              row_ended ? " (a new episode's first observation)" : "")));
      if (row_ended) {
        const int f = final_index[r];
        CONFORMANCE_RETURN_IF_ERROR(CheckChannelRow(
            final_observation.data() + f * size, size,
            FlatOwn(own_space, plain_final.data() + f * own_size), n, a, k,
            messages,
            absl::StrCat(who, ", final observation of row ", r,
                         " (its episode's last step)")));
        *ended += a == 0;
      } else {
        *heard += a == 0 && !sent.empty();
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMessageChannel(Connection& connection,
                                 const EnvUnderTest& env, std::string* note) {
  const std::string& name = env.info.name();
  const auto& declared = env.info.settings();
  if (declared.empty() || declared.rbegin()->name() != kMessageSizeSetting) {
    return Failure("list_environments does not declare the setting ",
                   kMessageSizeSetting,
                   " after the environment's own (every environment has it)");
  }
  const pb::Value& default_value = declared.rbegin()->default_value();
  if (default_value.kind_case() != pb::Value::kIntValue ||
      default_value.int_value() != 0) {
    return Failure("setting ", kMessageSizeSetting, " defaults to ",
                   default_value.ShortDebugString(), "; expected the int 0");
  }
  // The environment as it is (settings under test, without a channel).
  absl::StatusOr<Made> plain = MakeEnv(
      connection, WithIntSetting(env, kMessageSizeSetting, std::nullopt),
      env.num_copies, env.seed);
  if (!plain.ok()) return Prefixed("without a channel", plain.status());
  ScopedHandle close_plain(connection, plain->handle);
  const pb::EnvSpec& base = plain->spec;
  if (base.message_size() != 0) {
    return Failure("made without ", kMessageSizeSetting,
                   ", spec.message_size is ", base.message_size(),
                   " (0: no channel)");
  }
  for (int64_t k : {int64_t{-1}, kMaxMessageSize + 1}) {
    CONFORMANCE_RETURN_IF_ERROR(ExpectRefusalNaming(
        connection,
        MakeRequestFor(WithIntSetting(env, kMessageSizeSetting, k), 1, env.seed,
                       pb::SAME_STEP),
        pb::INVALID_ARGUMENT, name,
        absl::StrCat("make with ", kMessageSizeSetting, " ", k,
                     " (outside [0, ", kMaxMessageSize, "])")));
  }
  const EnvUnderTest with_channel =
      WithIntSetting(env, kMessageSizeSetting, kSuiteMessageSize);
  const std::string misfit = ChannelMisfit(base);
  if (!misfit.empty()) {
    *note = absl::StrCat("refused, as it must be: ", misfit);
    return ExpectRefusalNaming(
        connection,
        MakeRequestFor(with_channel, env.num_copies, env.seed, pb::SAME_STEP),
        pb::INVALID_ARGUMENT, name,
        absl::StrCat("make with ", kMessageSizeSetting, " ", kSuiteMessageSize,
                     " (", misfit, ")"));
  }
  const int n = base.agents_size();
  const int64_t k = kSuiteMessageSize;
  int64_t added = int64_t{n} * (n - 1) * k;
  for (const pb::AgentSpec& agent : base.agents()) {
    if (!agent.observation_space().has_box()) {
      added += ChannelOwnFloats(agent.observation_space());
    }
  }
  if (added > kMaxMessageChannelFloats) {
    *note = absl::StrCat("refused, as it must be: ", added,
                         " observation floats added");
    return ExpectRefusalNaming(
        connection,
        MakeRequestFor(with_channel, env.num_copies, env.seed, pb::SAME_STEP),
        pb::RESOURCE_EXHAUSTED, name,
        absl::StrCat("make with ", kMessageSizeSetting, " ", k, " adding ",
                     added, " observation floats per copy"));
  }
  absl::StatusOr<Made> made =
      MakeEnv(connection, with_channel, env.num_copies, env.seed);
  if (!made.ok()) return made.status();
  ScopedHandle close_made(connection, made->handle);
  const pb::EnvSpec& spec = made->spec;
  CONFORMANCE_RETURN_IF_ERROR(
      Prefixed("the channel's spec", CheckChannelSpec(base, spec, k)));
  bool echoed = false;
  for (const pb::Setting& setting : spec.settings()) {
    echoed |= setting.name() == kMessageSizeSetting &&
              setting.value().kind_case() == pb::Value::kIntValue &&
              setting.value().int_value() == k;
  }
  if (!echoed) {
    return Failure("the spec's settings do not echo ", kMessageSizeSetting,
                   " = ", k);
  }
  // Both handles play the same actions (the channel's with messages).
  CopyTracker tracker(spec), plain_tracker(base);
  absl::StatusOr<pb::TimeStep> reset =
      DoReset(connection, tracker, made->handle);
  if (!reset.ok()) return Prefixed("with the channel", reset.status());
  absl::StatusOr<pb::TimeStep> plain_reset =
      DoReset(connection, plain_tracker, plain->handle);
  if (!plain_reset.ok()) {
    return Prefixed("without the channel", plain_reset.status());
  }
  int heard = 0, ended = 0;
  CONFORMANCE_RETURN_IF_ERROR(
      Prefixed("reset", CheckChannelTimeStep(base, spec, *reset, *plain_reset,
                                             {}, &heard, &ended)));
  std::mt19937_64 rng(env.seed);
  const int steps = std::min(8, PlayBudget(spec, env));
  for (int t = 1; t <= steps; ++t) {
    pb::Request request = RandomStep(tracker, made->handle, {}, rng);
    // Messages that differ between copies, agents and steps.
    std::vector<std::vector<int64_t>> sent(n);
    for (int a = 0; a < n; ++a) {
      const int64_t size = FlatSize(spec.agents(a).action_space());
      EditArray<int64_t>(
          request.mutable_step()->mutable_actions(a)->mutable_discrete(),
          [&](std::vector<int64_t>& values) {
            for (size_t r = 0; r * size < values.size(); ++r) {
              values[(r + 1) * size - 1] = (r + a + t) % k;
              sent[a].push_back(values[(r + 1) * size - 1]);
            }
          });
    }
    const std::string what = absl::StrCat("step ", t);
    absl::StatusOr<pb::TimeStep> ts =
        DoStep(connection, tracker, request, what + " with the channel");
    if (!ts.ok()) return ts.status();
    absl::StatusOr<pb::TimeStep> plain_ts =
        DoStep(connection, plain_tracker,
               WithoutMessages(base, request, plain->handle),
               what + " without the channel");
    if (!plain_ts.ok()) return plain_ts.status();
    CONFORMANCE_RETURN_IF_ERROR(
        Prefixed(what, CheckChannelTimeStep(base, spec, *ts, *plain_ts, sent,
                                            &heard, &ended)));
  }
  *note = absl::StrCat(kMessageSizeSetting, " ", k, ": ", steps, " steps, ",
                       heard, " rows heard their partners' messages, ", ended,
                       " ended rows' final observations carried them");
  return absl::OkStatus();
}

// ================================================================ suite ==

namespace {

// Typed settings for `info` from the agents' text form.
absl::StatusOr<std::vector<pb::Setting>> TypedSettings(
    const pb::EnvironmentInfo& info, const std::string& text) {
  absl::StatusOr<std::map<std::string, std::string>> parsed =
      ParseSettingsFlag(text);
  if (!parsed.ok()) return parsed.status();
  std::vector<pb::Setting> settings;
  for (const auto& [name, value_text] : *parsed) {
    const pb::SettingSpec* declared = nullptr;
    for (const pb::SettingSpec& spec : info.settings()) {
      if (spec.name() == name) declared = &spec;
    }
    if (declared == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment '", info.name(), "' declares no setting '", name, "'"));
    }
    absl::StatusOr<SettingValue> like = FromProto(declared->default_value());
    if (!like.ok()) return like.status();
    absl::StatusOr<SettingValue> value = ParseSettingValue(value_text, *like);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("setting '", name, "': ", value.status().message()));
    }
    pb::Setting setting;
    setting.set_name(name);
    ToProto(*value, setting.mutable_value());
    settings.push_back(std::move(setting));
  }
  return settings;
}

}  // namespace

absl::StatusOr<std::vector<CheckResult>> RunSuite(
    const SuiteOptions& options,
    const std::function<void(const CheckResult&)>& report) {
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError(
        "--endpoint is required (e.g. tcp://127.0.0.1:5555)");
  }
  if (!options.env_settings.empty() && options.env.empty()) {
    return absl::InvalidArgumentError(
        "--env_settings needs --env: settings belong to one environment");
  }
  if (options.timeout_ms < 1) {
    return absl::InvalidArgumentError("--timeout_ms must be at least 1");
  }
  if (options.max_episode_steps < 1) {
    return absl::InvalidArgumentError("--max_episode_steps must be at least 1");
  }
  if (!options.env_settings.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> parsed =
        ParseSettingsFlag(options.env_settings);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--env_settings: ", parsed.status().message()));
    }
  }
  zmq::context_t context(1);
  Connection connection(&context, options.endpoint, options.timeout_ms);
  std::vector<CheckResult> results;
  auto record = [&](const std::string& scope, const std::string& check,
                    const absl::Status& status, const std::string& note = "") {
    CheckResult result;
    result.scope = scope;
    result.check = check;
    result.passed = status.ok();
    result.message = status.ok() ? note : std::string(status.message());
    results.push_back(result);
    if (report) report(result);
  };

  // ---- server checks.
  record("server", "handshake", CheckHandshake(connection));
  record("server", "wrong_protocol_version",
         CheckWrongProtocolVersion(connection));
  record("server", "list_environments", CheckListEnvironments(connection));
  record("server", "garbage_bytes", CheckGarbageBytes(connection));
  record("server", "unknown_operation", CheckUnknownOperation(connection));
  record("server", "unknown_environment", CheckUnknownEnvironment(connection));
  record("server", "unknown_handle", CheckUnknownHandle(connection));
  record("server", "vanishing_client", CheckVanishingClient(connection));

  // ---- discover the environments (and the copy limit).
  pb::Request list_request;
  list_request.mutable_list_environments();
  absl::StatusOr<pb::Response> list =
      CallOk(connection, list_request, "list_environments");
  if (!list.ok()) {
    record("server", "environments",
           Prefixed("cannot discover the environments", list.status()));
    return results;
  }
  int max_copies = 3;
  pb::Request hello;
  hello.mutable_handshake()->set_protocol_version(kProtocolVersion);
  if (absl::StatusOr<pb::Response> handshake =
          CallOk(connection, hello, "handshake");
      handshake.ok() && handshake->handshake().max_copies_per_handle() > 0) {
    max_copies =
        std::min(max_copies, handshake->handshake().max_copies_per_handle());
  }
  std::vector<const pb::EnvironmentInfo*> envs;
  for (const pb::EnvironmentInfo& info :
       list->list_environments().environments()) {
    if (options.env.empty() || info.name() == options.env)
      envs.push_back(&info);
  }
  if (envs.empty()) {
    record(options.env.empty() ? "server" : options.env, "listed",
           Failure(options.env.empty()
                       ? std::string("the server lists no environments")
                       : absl::StrCat("the server does not list environment '",
                                      options.env, "'")));
    return results;
  }

  for (const pb::EnvironmentInfo* info : envs) {
    const std::string& name = info->name();
    EnvUnderTest env;
    env.info = *info;
    env.seed = options.seed;
    env.num_copies = max_copies;
    env.max_episode_steps = options.max_episode_steps;
    if (!options.env_settings.empty()) {
      absl::StatusOr<std::vector<pb::Setting>> settings =
          TypedSettings(*info, options.env_settings);
      if (!settings.ok()) {
        record(name, "settings", Prefixed("--env_settings", settings.status()));
        continue;
      }
      env.settings = *std::move(settings);
    }
    std::string note;
    auto with_note = [&](const char* check,
                         const std::function<absl::Status(std::string*)>& run) {
      note.clear();
      const absl::Status status = run(&note);
      record(name, check, status, note);
    };
    record(name, "make_spec", CheckMakeSpec(connection, env));
    record(name, "unknown_setting", CheckUnknownSetting(connection, env));
    with_note("mistyped_setting", [&](std::string* n) {
      return CheckMistypedSetting(connection, env, n);
    });
    record(name, "bad_num_copies", CheckBadNumCopies(connection, env));
    record(name, "reset_all", CheckResetAll(connection, env));
    record(name, "reset_chosen_copies_with_seeds",
           CheckResetChosenCopies(connection, env));
    record(name, "step_chosen_copies", CheckStepChosenCopies(connection, env));
    const PlayVerdicts play = CheckRandomPlay(connection, env);
    record(name, "step_shapes_and_values", play.shapes);
    record(name, "terminated_vs_truncated", play.episode_ends);
    record(name, "auto_reset_same_step", play.auto_reset);
    with_note("auto_reset_none", [&](std::string* n) {
      return CheckAutoResetNone(connection, env, n);
    });
    record(name, "same_seed_same_trajectory",
           CheckSameSeedSameTrajectory(connection, env));
    with_note("different_seed", [&](std::string* n) {
      return CheckDifferentSeed(connection, env, n);
    });
    record(name, "copy_streams_independent",
           CheckCopyStreamsIndependent(connection, env));
    record(name, "step_before_reset", CheckStepBeforeReset(connection, env));
    record(name, "wrong_agent_count", CheckWrongAgentCount(connection, env));
    record(name, "wrong_action_count", CheckWrongActionCount(connection, env));
    record(name, "partial_action_values",
           CheckPartialActionValues(connection, env));
    record(name, "wrong_action_kind", CheckWrongActionKind(connection, env));
    record(name, "out_of_range_actions",
           CheckOutOfRangeActions(connection, env));
    with_note("masked_action", [&](std::string* n) {
      return CheckMaskedAction(connection, env, n);
    });
    record(name, "bad_copies", CheckBadCopies(connection, env));
    with_note("message_channel", [&](std::string* n) {
      return CheckMessageChannel(connection, env, n);
    });
    record(name, "close", CheckClose(connection, env));
  }
  return results;
}

}  // namespace conformance
}  // namespace marl
