// marl_env._codec: the step path of the Python client and of the Python
// server, in C++. The client: one call encodes a step request; one call
// sends a request and waits for its reply on the client's ZeroMQ socket
// (every call of the client goes through it); one call reads a reply,
// checks every array against the spec and returns numpy arrays the caller
// owns. The server: one call reads a step request into
// numpy arrays; one call writes a batch's rows as the reply. Why: with
// protobuf's Python API each field access makes a Python object, and
// reading and checking a TimeStep's ~15 arrays in Python took 25-40 us per
// reply, more than the C++ server's own work and the loopback exchange's
// margin; the Python server spent ~20 us per step on the same
// (docs/BENCHMARKS.md). The client's checks and their messages are those
// it had in Python (convert.timestep_arrays), so a malformed reply names
// the field; the server's reader leaves every request it does not take
// whole to the Python parser, which names what is wrong.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "protocol/proto/env_protocol.pb.h"
#include "protocol/protocol_arrays.h"

namespace marl {
namespace {

namespace py = pybind11;
namespace proto = ::marl::env::v3;

// A reply that does not hold what the spec says (Python: MalformedReply, a
// ValueError).
class MalformedReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How one kind of array is laid out per row, from the spec.
struct RowLayout {
  std::vector<py::ssize_t> shape;  // one row's shape; empty for one value
  int64_t size = 0;                // values per row; 0 = the array is absent
  bool integer = false;            // an integer space: int64 for Python
};

struct AgentLayout {
  std::string id;
  RowLayout observation;
  int64_t mask_size = 0;  // 0 = no action masks
  bool integer_actions = false;
};

// What a TimeStep array holds (docs/PROTOCOL.md, "Arrays").
enum class Element { kBool, kInt32, kFloat32 };

int ItemSize(Element type) { return type == Element::kBool ? 1 : 4; }

const char* TypeName(Element type) {
  switch (type) {
    case Element::kBool:
      return "bool";
    case Element::kInt32:
      return "int32";
    case Element::kFloat32:
      break;
  }
  return "float32";
}

// One array of a TimeStep while it is checked.
struct Field {
  const char* name;
  const std::string* data;
  Element type;
  int64_t per_row;  // values per row; 0 = must be empty
  bool final;       // rows are final rows
};

std::string FieldName(const char* field, int agent) {
  return agent < 0 ? std::string("TimeStep.") + field
                   : "TimeStep.agents[" + std::to_string(agent) + "]." + field;
}

[[noreturn]] void CountError(const Field& f, int agent, int64_t count) {
  const std::string what = FieldName(f.name, agent);
  const size_t bytes = f.data->size();
  const int itemsize = ItemSize(f.type);
  if (bytes % itemsize != 0) {
    throw MalformedReply(what + " has " + std::to_string(bytes) +
                         " bytes: not a whole number of " + TypeName(f.type) +
                         " values (" + std::to_string(itemsize) +
                         " bytes each)");
  }
  throw MalformedReply(what + " has " + std::to_string(bytes / itemsize) +
                       " values, the spec says " + std::to_string(count));
}

// The int32 values of `data` as "[a, b]" for messages: the first 16, then
// "..." (a hostile reply's message stays short).
std::string Int32List(const std::string& data) {
  std::string out = "[";
  for (size_t i = 0; i + 4 <= data.size(); i += 4) {
    if (i > 0) out += ", ";
    if (i == 16 * 4) {
      out += "...";
      break;
    }
    int32_t value;
    std::memcpy(&value, data.data() + i, 4);
    out += std::to_string(value);
  }
  return out + "]";
}

// Checks every array of `fields` (those that must be empty first, as the
// Python reader did, so messages come in the same order).
void CheckFields(std::initializer_list<Field> fields, int agent, int64_t rows,
                 int64_t ended) {
  for (const Field& f : fields) {
    if (f.per_row == 0 && !f.data->empty()) CountError(f, agent, 0);
  }
  for (const Field& f : fields) {
    if (f.per_row == 0) continue;
    const int64_t count = (f.final ? ended : rows) * f.per_row;
    // count <= 2^30 rows x 2^31 values: no overflow, and none here.
    const size_t itemsize = ItemSize(f.type);
    if (f.data->size() % itemsize != 0 ||
        static_cast<int64_t>(f.data->size() / itemsize) != count) {
      CountError(f, agent, count);
    }
    if (f.type == Element::kBool) {
      // One pass without an early exit, which the compiler vectorizes.
      unsigned char high_bits = 0;
      for (unsigned char byte : *f.data) high_bits |= byte & 0xfe;
      if (high_bits != 0) {
        throw MalformedReply(FieldName(f.name, agent) +
                             " holds a bool byte other than 0 or 1");
      }
    }
  }
}

// Most dimensions of one row (numpy allows 32 with the row axis).
constexpr size_t kMaxRowDims = 31;

// A new C-ordered numpy array of T with `ndim` dimensions `dims`, made with
// numpy's own constructor: pybind11's array_t builds shape and stride
// vectors on the heap first, which cost as much as the rest of a reply's
// small arrays (docs/BENCHMARKS.md).
template <typename T>
py::array NewArray(int ndim, const py::ssize_t* dims) {
  const auto& api = py::detail::npy_api::get();
  // DescrFromType returns a new reference, which NewFromDescr steals.
  PyObject* descr =
      api.PyArray_DescrFromType_(py::detail::npy_format_descriptor<T>::value);
  if (descr == nullptr) throw py::error_already_set();
  PyObject* array = api.PyArray_NewFromDescr_(
      api.PyArray_Type_, descr, ndim, dims, nullptr, nullptr, 0, nullptr);
  if (array == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::array>(array);
}

// `rows` rows of `layout` as a new array of T.
template <typename T>
py::array NewRows(int64_t rows, const RowLayout& layout) {
  py::ssize_t dims[kMaxRowDims + 1];
  dims[0] = static_cast<py::ssize_t>(rows);
  std::copy(layout.shape.begin(), layout.shape.end(), dims + 1);
  return NewArray<T>(static_cast<int>(layout.shape.size()) + 1, dims);
}

template <typename T>
T* DataOf(py::array& array) {
  return static_cast<T*>(array.mutable_data());
}

// Converts `n` float32 values at `src` into `out`: copied as float, or as
// int64 for an integer space (rounded to nearest; a value that is not a
// finite int64 is an error naming `field`).
inline void Convert(const char* src, int64_t n, float* out, const char*, int) {
  std::memcpy(out, src, n * sizeof(float));
}

// Out of line, so that Convert stays small enough to inline per row.
[[noreturn]] __attribute__((noinline, cold)) void NotAnInteger(
    float value, const char* field, int agent) {
  throw MalformedReply(FieldName(field, agent) + " holds " +
                       std::to_string(value) +
                       ": not an integer of the spec's space");
}

inline void Convert(const char* src, int64_t n, int64_t* out, const char* field,
                    int agent) {
  int64_t i = 0;
#ifdef __SSE2__
  // Four at a time where all four are within int32: cvtps2dq rounds as
  // llrint does (the current mode, nearest-even by default), and the
  // results are sign-extended to int64. ~4x the scalar loop.
  const __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  const __m128 int32_bound = _mm_set1_ps(2147483648.0f);
  for (; i + 4 <= n; i += 4) {
    const __m128 values =
        _mm_loadu_ps(reinterpret_cast<const float*>(src + i * sizeof(float)));
    // NaN compares false: such a group takes the checked path below.
    const __m128 inside =
        _mm_cmplt_ps(_mm_and_ps(values, magnitude), int32_bound);
    if (_mm_movemask_ps(inside) != 0xf) break;
    const __m128i low = _mm_cvtps_epi32(values);
    const __m128i sign = _mm_srai_epi32(low, 31);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_unpacklo_epi32(low, sign));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 2),
                     _mm_unpackhi_epi32(low, sign));
  }
#endif
  for (; i < n; ++i) {
    float value;
    std::memcpy(&value, src + i * sizeof(float), sizeof(float));
    // 2^63 is exactly representable; anything at or past it (or NaN) is
    // not an int64.
    if (!(std::fabs(value) < 9223372036854775808.0f)) {
      NotAnInteger(value, field, agent);
    }
    // Rounds to nearest, ties to even (numpy's rint); with -fno-math-errno
    // one instruction instead of a libm call per value.
    out[i] = std::llrint(value);
  }
}

// `rows` rows of `data` as the caller's own array (int64 for an integer
// space, else float32).
template <typename T>
py::array UnpackAs(const std::string& data, int64_t rows,
                   const RowLayout& layout, const char* field, int agent) {
  py::array out = NewRows<T>(rows, layout);
  if (rows * layout.size > 0) {
    Convert(data.data(), rows * layout.size, DataOf<T>(out), field, agent);
  }
  return out;
}

py::array Unpack(const std::string& data, int64_t rows, const RowLayout& layout,
                 const char* field, int agent) {
  return layout.integer ? UnpackAs<int64_t>(data, rows, layout, field, agent)
                        : UnpackAs<float>(data, rows, layout, field, agent);
}

// A copy of `current` (an Unpack of `rows` rows of `layout`) whose row
// ended_rows[i] is row i of `final` (named `final_field` in errors): every
// row's observation to bootstrap from.
template <typename T>
py::array WithFinalRowsAs(const py::array& current, int64_t rows,
                          const RowLayout& layout, const std::string& final,
                          const std::vector<int32_t>& ended_rows,
                          const char* final_field, int agent) {
  py::array out = NewRows<T>(rows, layout);
  const int64_t size = layout.size;
  if (rows * size == 0) return out;
  T* values = DataOf<T>(out);
  std::memcpy(values, current.data(), rows * size * sizeof(T));
  // The final rows converted in one pass (vectorised), then put in place.
  thread_local std::vector<T> converted;
  const int64_t ended = static_cast<int64_t>(ended_rows.size());
  converted.resize(ended * size);
  if (ended == 0) return out;
  Convert(final.data(), ended * size, converted.data(), final_field, agent);
  if (size == 1) {  // a call to memcpy per value would cost more
    for (int64_t i = 0; i < ended; ++i) values[ended_rows[i]] = converted[i];
    return out;
  }
  for (int64_t i = 0; i < ended; ++i) {
    std::memcpy(values + ended_rows[i] * size, converted.data() + i * size,
                size * sizeof(T));
  }
  return out;
}

py::array WithFinalRows(const py::array& current, int64_t rows,
                        const RowLayout& layout, const std::string& final,
                        const std::vector<int32_t>& ended_rows,
                        const char* final_field, int agent) {
  return layout.integer
             ? WithFinalRowsAs<int64_t>(current, rows, layout, final,
                                        ended_rows, final_field, agent)
             : WithFinalRowsAs<float>(current, rows, layout, final, ended_rows,
                                      final_field, agent);
}

// `data`'s values as a new array of T with `rows` rows of `columns` values
// (one dimension without `columns`).
template <typename T>
py::array Copy(const std::string& data, int64_t rows, int64_t columns = -1) {
  const py::ssize_t dims[] = {static_cast<py::ssize_t>(rows),
                              static_cast<py::ssize_t>(columns)};
  py::array out = NewArray<T>(columns < 0 ? 1 : 2, dims);
  if (!data.empty()) std::memcpy(DataOf<T>(out), data.data(), data.size());
  return out;
}

// Most values one row of an array may have (a spec beyond it is refused):
// with at most 2^30 rows, every count fits an int64 with room to spare.
constexpr int64_t kMaxRowValues = int64_t{1} << 31;

// `description`: (shape tuple, integer) or None; `what` names it in errors.
RowLayout ReadLayout(const py::handle& description, const std::string& what) {
  RowLayout layout;
  if (description.is_none()) return layout;
  auto pair = description.cast<py::tuple>();
  layout.shape = pair[0].cast<std::vector<py::ssize_t>>();
  layout.integer = pair[1].cast<bool>();
  if (layout.shape.size() > kMaxRowDims) {
    throw std::invalid_argument(what + ": more than " +
                                std::to_string(kMaxRowDims) + " dimensions");
  }
  layout.size = 1;
  for (py::ssize_t dim : layout.shape) {
    if (dim < 0 || (dim > 0 && layout.size > kMaxRowValues / dim)) {
      throw std::invalid_argument(
          what +
          ": a shape with a negative dimension or more than 2^31 "
          "values per copy");
    }
    layout.size *= dim;
  }
  return layout;
}

// A name made once and interned: dict keys and attribute names.
py::object Interned(const char* name) {
  return py::reinterpret_steal<py::object>(PyUnicode_InternFromString(name));
}

// `value` (an array-like) as T values into `out` (numpy's casting rules, as
// astype: float64 rounds to float32, bool to one byte).
template <typename T>
void AssignArray(const py::handle& value, std::string* out) {
  auto array =
      py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(value);
  if (!array) throw py::error_already_set();
  out->assign(reinterpret_cast<const char*>(array.data()),
              static_cast<size_t>(array.size()) * sizeof(T));
}

// `message` serialized straight into the bytes object Python gets.
py::bytes Serialized(const google::protobuf::Message& message,
                     const char* what) {
  const size_t size = message.ByteSizeLong();
  if (size > INT32_MAX) {
    throw std::length_error(std::string(what) + " over 2 GiB");
  }
  auto out = py::reinterpret_steal<py::bytes>(
      PyBytes_FromStringAndSize(nullptr, static_cast<py::ssize_t>(size)));
  if (!out) throw py::error_already_set();
  message.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(out.ptr())));
  return out;
}

// Parses `data` into `message`; false for bytes that are not one whole
// message (or over protobuf's 2 GiB). `size` gets the byte count.
bool Parsed(const py::bytes& data, google::protobuf::Message* message,
            py::ssize_t* size) {
  char* bytes;
  if (PYBIND11_BYTES_AS_STRING_AND_SIZE(data.ptr(), &bytes, size) != 0) {
    throw py::error_already_set();
  }
  return *size <= INT32_MAX && message->ParseFromArray(bytes, *size);
}

// The field number of the payload a whole, parsed Response's bytes carry
// (the last payload field, as the parser keeps), or 0 for none; read with
// protobuf's tag reader. A payload number with another wire type is an
// unknown field to the parser, and so here.
int PayloadField(const char* data, int size) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(data), size);
  int payload = 0;
  while (const uint32_t tag = input.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (number >= proto::Response::kHandshakeFieldNumber &&
        number <= proto::Response::kCloseFieldNumber &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      payload = number;
    }
    if (!WireFormatLite::SkipField(&input, tag)) break;
  }
  return payload;
}

// Encodes a handle's step requests and decodes its replies (step or reset),
// for `rows` copies (every copy, in order).
class StepCodec {
 public:
  // agents: per agent in spec order, (id, observation shape, integer
  // observations, action-mask size or 0, integer actions);
  // public_observation, state: (shape, integer) or None.
  StepCodec(const py::list& agents, const py::object& public_observation,
            const py::object& state, bool sequential, int64_t info_size,
            int64_t handle, int64_t rows, bool auto_reset)
      : public_(ReadLayout(public_observation, "the public observation space")),
        state_(ReadLayout(state, "the state space")),
        sequential_(sequential),
        auto_reset_(auto_reset),
        info_size_(info_size),
        rows_(rows) {
    if (rows < 1 || rows > (int64_t{1} << 30) || info_size < 0 ||
        info_size > kMaxRowValues) {
      throw std::invalid_argument(
          "copies must be in [1, 2^30] and info keys at most 2^31");
    }
    for (const py::handle& item : agents) {
      auto t = item.cast<py::tuple>();
      AgentLayout agent;
      agent.id = t[0].cast<std::string>();
      agent.observation =
          ReadLayout(py::make_tuple(t[1], t[2]),
                     "agent '" + agent.id + "': the observation space");
      agent.mask_size = t[3].cast<int64_t>();
      if (agent.mask_size < 0 || agent.mask_size > kMaxRowValues) {
        throw std::invalid_argument("agent '" + agent.id +
                                    "': an action mask of more than 2^31 "
                                    "values per copy");
      }
      agent.integer_actions = t[4].cast<bool>();
      agents_.push_back(std::move(agent));
    }
    proto::StepRequest* step = request_.mutable_step();
    step->set_handle(static_cast<uint64_t>(handle));
    for (size_t a = 0; a < agents_.size(); ++a) step->add_actions();
    for (const AgentLayout& agent : agents_) {
      ids_.push_back(py::str(agent.id));
    }
  }

  // A serialized step Request: actions per agent in spec order, each an
  // array of any shape (its values in row-major order), cast to int64 for
  // an integer action space, else float32.
  py::bytes EncodeStep(uint64_t request_id, const py::list& actions) {
    if (static_cast<size_t>(py::len(actions)) != agents_.size()) {
      throw std::invalid_argument("one action array per agent expected");
    }
    request_.set_request_id(request_id);
    proto::StepRequest* step = request_.mutable_step();
    for (size_t a = 0; a < agents_.size(); ++a) {
      proto::AgentActions* out = step->mutable_actions(static_cast<int>(a));
      if (agents_[a].integer_actions) {
        AssignArray<int64_t>(actions[a], out->mutable_discrete());
        out->clear_continuous();
      } else {
        AssignArray<float>(actions[a], out->mutable_continuous());
        out->clear_discrete();
      }
    }
    return Serialized(request_, "step request");
  }

  // None when `reply` answers another request; (code, message) for an
  // error status; else the TimeStep's arrays (see client._Handle). Raises
  // MalformedReply for bytes that are not a Response or arrays that do not
  // match the spec.
  py::object Decode(const py::bytes& reply, uint64_t request_id) {
    char* bytes;
    py::ssize_t size;
    if (PYBIND11_BYTES_AS_STRING_AND_SIZE(reply.ptr(), &bytes, &size) != 0) {
      throw py::error_already_set();
    }
    return DecodeBuffer(bytes, static_cast<size_t>(size), request_id);
  }

  // Decode on a reply's bytes wherever they are (exchange reads them from
  // the ZeroMQ message: no bytes object).
  py::object DecodeBuffer(const char* bytes, size_t size, uint64_t request_id) {
    const int payload =
        size <= INT32_MAX ? Parse(bytes, static_cast<int>(size)) : -1;
    if (payload < 0) {
      throw MalformedReply("reply of " + std::to_string(size) +
                           " bytes is not a marl.env.v3.Response");
    }
    if (response_.request_id() != request_id) return py::none();
    if (response_.status().code() != proto::OK) {
      return py::make_tuple(static_cast<int>(response_.status().code()),
                            response_.status().message());
    }
    const proto::TimeStep* ts = payload == proto::Response::kStepFieldNumber
                                    ? &response_.step().timestep()
                                : payload == proto::Response::kResetFieldNumber
                                    ? &response_.reset().timestep()
                                    : nullptr;
    if (ts == nullptr) throw MalformedReply("the reply holds no TimeStep");
    return Read(*ts);
  }

 private:
  // Parses a Response into response_; returns the field number of the
  // payload it carries (0 for none), or -1 for bytes that are not one.
  // Why not ParseFromArray: it clears first, which deletes the oneof
  // payload, so every step reply allocated its TimeStep's ~20 arrays
  // again. Here the previous step's TimeStep is cleared in place (the
  // arrays keep their capacity) and the reply merged into it, which parses
  // to the same message; the payload is then read from the reply's own
  // tags, as the cleared step stays behind in a reply without one.
  int Parse(const char* data, int size) {
    if (response_.has_step()) {
      response_.clear_request_id();
      response_.mutable_status()->Clear();
      const google::protobuf::Reflection* reflection =
          response_.GetReflection();
      reflection->MutableUnknownFields(&response_)->Clear();
      proto::StepResponse* step = response_.mutable_step();
      reflection = step->GetReflection();
      reflection->MutableUnknownFields(step)->Clear();
      step->mutable_timestep()->Clear();
    } else {
      response_.Clear();
    }
    google::protobuf::io::CodedInputStream input(
        reinterpret_cast<const uint8_t*>(data), size);
    if (!response_.MergeFromCodedStream(&input) ||
        !input.ConsumedEntireMessage()) {
      return -1;
    }
    return PayloadField(data, size);
  }

  py::dict Read(const proto::TimeStep& ts) {
    const int64_t rows = rows_;
    // The copies (every one, in order: version 3 leaves them out), then
    // which rows ended: the final arrays' counts depend on them.
    if (!ts.copies().empty()) {
      throw MalformedReply(
          "TimeStep.copies has " + std::to_string(ts.copies().size()) +
          " bytes for a request that named no copies (version 3 leaves "
          "them out)");
    }
    CheckFields({{"terminated", &ts.terminated(), Element::kBool, 1, false},
                 {"truncated", &ts.truncated(), Element::kBool, 1, false}},
                -1, rows, 0);
    // Under auto-reset the ended rows, in order, have final observations.
    std::vector<int32_t>& ended_rows = ended_rows_;
    FinalRows(ts.terminated(), ts.truncated(), auto_reset_, &ended_rows);
    const int64_t ended = static_cast<int64_t>(ended_rows.size());
    const int num_agents = static_cast<int>(agents_.size());
    if (ts.agents_size() != num_agents) {
      throw MalformedReply("TimeStep has " + std::to_string(ts.agents_size()) +
                           " agents, the spec " + std::to_string(num_agents));
    }
    CheckFields(
        {{"episode_step", &ts.episode_step(), Element::kInt32, 1, false},
         {"public_observation", &ts.public_observation(), Element::kFloat32,
          public_.size, false},
         {"state", &ts.state(), Element::kFloat32, state_.size, false},
         {"current_agent", &ts.current_agent(), Element::kInt32,
          sequential_ ? 1 : 0, false},
         {"info", &ts.info(), Element::kFloat32, info_size_, false},
         {"final_public_observation", &ts.final_public_observation(),
          Element::kFloat32, public_.size, true},
         {"final_state", &ts.final_state(), Element::kFloat32, state_.size,
          true}},
        -1, rows, ended);
    for (int a = 0; a < num_agents; ++a) {
      const proto::AgentTimeStep& agent = ts.agents(a);
      const AgentLayout& layout = agents_[a];
      CheckFields({{"observation", &agent.observation(), Element::kFloat32,
                    layout.observation.size, false},
                   {"reward", &agent.reward(), Element::kFloat32, 1, false},
                   {"action_mask", &agent.action_mask(), Element::kBool,
                    layout.mask_size, false},
                   {"final_observation", &agent.final_observation(),
                    Element::kFloat32, layout.observation.size, true}},
                  a, rows, ended);
    }
    py::object current = py::none();
    if (sequential_) {
      const std::string& data = ts.current_agent();
      for (int64_t r = 0; r < rows; ++r) {
        int32_t value;
        std::memcpy(&value, data.data() + 4 * r, 4);
        if (value < 0 || value >= num_agents) {
          throw MalformedReply("TimeStep.current_agent " + Int32List(data) +
                               " are not agent indices");
        }
      }
      current = Copy<int32_t>(data, rows);
    }

    py::dict observations, rewards, masks, finals;
    for (int a = 0; a < num_agents; ++a) {
      const proto::AgentTimeStep& agent = ts.agents(a);
      const AgentLayout& layout = agents_[a];
      py::array observation = Unpack(agent.observation(), rows,
                                     layout.observation, "observation", a);
      rewards[ids_[a]] = Copy<float>(agent.reward(), rows);
      if (layout.mask_size > 0) {
        masks[ids_[a]] =
            Copy<bool>(agent.action_mask(), rows, layout.mask_size);
      }
      finals[ids_[a]] = WithFinalRows(observation, rows, layout.observation,
                                      agent.final_observation(), ended_rows,
                                      "final_observation", a);
      observations[ids_[a]] = std::move(observation);
    }
    const auto n = static_cast<py::ssize_t>(rows);
    py::array ended_out = NewArray<bool>(1, &n);
    bool* flags = DataOf<bool>(ended_out);
    std::fill(flags, flags + rows, false);
    for (int32_t row : ended_rows) flags[row] = true;
    py::dict out;
    out[keys_.ended] = ended_out;
    out[keys_.observations] = observations;
    out[keys_.rewards] = rewards;
    out[keys_.masks] = masks;
    out[keys_.final_observations] = finals;
    out[keys_.terminated] = Copy<bool>(ts.terminated(), rows);
    out[keys_.truncated] = Copy<bool>(ts.truncated(), rows);
    out[keys_.episode_step] = Copy<int32_t>(ts.episode_step(), rows);
    out[keys_.info] = Copy<float>(ts.info(), rows, info_size_);
    out[keys_.current_agent] = current;
    Optional(ts.public_observation(), ts.final_public_observation(), public_,
             "public_observation", keys_.public_observation,
             keys_.final_public_observation, out);
    Optional(ts.state(), ts.final_state(), state_, "state", keys_.state,
             keys_.final_state, out);
    return out;
  }

  void Optional(const std::string& data, const std::string& final,
                const RowLayout& layout, const char* field,
                const py::object& key, const py::object& final_key,
                py::dict& out) {
    if (layout.size == 0) {
      out[key] = py::none();
      out[final_key] = py::none();
      return;
    }
    py::array current = Unpack(data, rows_, layout, field, -1);
    const std::string final_field = std::string("final_") + field;
    out[final_key] = WithFinalRows(current, rows_, layout, final, ended_rows_,
                                   final_field.c_str(), -1);
    out[key] = std::move(current);
  }

  // The reply dict's keys, made once (interned).
  struct Keys {
    py::object ended, observations, rewards, masks, final_observations,
        terminated, truncated, episode_step, info, current_agent,
        public_observation, final_public_observation, state, final_state;
  };

  std::vector<AgentLayout> agents_;
  std::vector<py::str> ids_;
  RowLayout public_, state_;
  bool sequential_;
  bool auto_reset_;  // SAME_STEP: ended rows have final observations
  int64_t info_size_;
  int64_t rows_;
  // Reused from call to call: no allocation per step once warm.
  proto::Request request_;
  proto::Response response_;
  std::vector<int32_t> ended_rows_;
  const Keys keys_{Interned("ended"),
                   Interned("observations"),
                   Interned("rewards"),
                   Interned("masks"),
                   Interned("final_observations"),
                   Interned("terminated"),
                   Interned("truncated"),
                   Interned("episode_step"),
                   Interned("info"),
                   Interned("current_agent"),
                   Interned("public_observation"),
                   Interned("final_public_observation"),
                   Interned("state"),
                   Interned("final_state")};
};

// ------------------------------------------------------ the exchange --

// No reply within the timeout (Python: ReplyTimeout, a TimeoutError).
class ReplyTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A ZeroMQ message, closed on every path.
class ZmqMessage {
 public:
  ZmqMessage() { zmq_msg_init(&message_); }
  ~ZmqMessage() { zmq_msg_close(&message_); }
  ZmqMessage(const ZmqMessage&) = delete;
  ZmqMessage& operator=(const ZmqMessage&) = delete;
  zmq_msg_t* get() { return &message_; }
  const char* data() {
    return static_cast<const char*>(zmq_msg_data(&message_));
  }
  size_t size() { return zmq_msg_size(&message_); }

 private:
  zmq_msg_t message_;
};

// Runs `call` (a ZeroMQ call returning -1 on failure) without the GIL, so
// other Python threads run while it waits; returns 0 on success, else the
// error number. Interrupted by a signal, it lets Python's handlers run (as
// pyzmq does: Ctrl-C raises KeyboardInterrupt here) and calls again.
template <typename Call>
int WithoutGil(Call call) {
  while (true) {
    int error = 0;
    {
      py::gil_scoped_release release;
      if (call() < 0) error = zmq_errno();
    }
    if (error != EINTR) return error;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

[[noreturn]] void ZmqFailure(const char* what, int error) {
  throw std::runtime_error(std::string("ZeroMQ ") + what + ": " +
                           zmq_strerror(error));
}

// The client's exchange (client.Client.exchange): sends `data` as one frame
// on the ZeroMQ socket at `socket_address` (a pyzmq Socket's `underlying`),
// then reads one-frame replies until `decode` answers one with anything but
// None, within `timeout_ms` in all; raises ReplyTimeout after that. decode:
// None (the first reply's bytes are returned), a StepCodec (reads the reply
// where ZeroMQ received it), or a callable (reply bytes, request_id). Done
// here, not with pyzmq, because each pyzmq call and the bytes object it
// makes cost the step path microseconds (docs/BENCHMARKS.md).
py::object Exchange(uintptr_t socket_address, const py::bytes& data,
                    const py::object& request_id, const py::object& decode,
                    int64_t timeout_ms) {
  void* socket = reinterpret_cast<void*>(socket_address);
  if (socket == nullptr) throw std::invalid_argument("no socket");
  char* bytes;
  py::ssize_t size;
  if (PYBIND11_BYTES_AS_STRING_AND_SIZE(data.ptr(), &bytes, &size) != 0) {
    throw py::error_already_set();
  }
  StepCodec* codec =
      py::isinstance<StepCodec>(decode) ? decode.cast<StepCodec*>() : nullptr;
  const uint64_t id = codec != nullptr ? request_id.cast<uint64_t>() : 0;
  timeout_ms = std::clamp<int64_t>(timeout_ms, 0, INT32_MAX);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // `data` stays alive and unchanged (bytes are immutable) while the GIL
  // is released.
  if (const int error = WithoutGil([&] {
        return zmq_send(socket, bytes, static_cast<size_t>(size), 0);
      })) {
    ZmqFailure("send", error);
  }
  ZmqMessage reply;
  int wait_ms = static_cast<int>(timeout_ms);
  while (true) {
    if (zmq_setsockopt(socket, ZMQ_RCVTIMEO, &wait_ms, sizeof(wait_ms)) != 0) {
      ZmqFailure("setsockopt", zmq_errno());
    }
    if (const int error =
            WithoutGil([&] { return zmq_msg_recv(reply.get(), socket, 0); })) {
      if (error == EAGAIN) throw ReplyTimeout("no reply in time");
      ZmqFailure("receive", error);
    }
    py::object result;
    if (decode.is_none()) {
      return py::bytes(reply.data(), reply.size());
    } else if (codec != nullptr) {
      result = codec->DecodeBuffer(reply.data(), reply.size(), id);
    } else {
      result = decode(py::bytes(reply.data(), reply.size()), request_id);
    }
    if (!result.is_none()) return result;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
  }
}

// ------------------------------------------------------ the server's side --

// A numpy array of `data`'s values (the caller's own).
template <typename T>
py::array ArrayOf(const std::string& data) {
  return Copy<T>(data, static_cast<int64_t>(data.size() / sizeof(T)));
}

// The step request in `data`, read by protobuf's C++ parser, as (request_id,
// handle, copies int32, [discrete int64 per agent], [continuous float32 per
// agent]) in request order; None for anything else: bytes that do not
// parse whole, another operation, or action bytes that are not whole
// values (the Python parser then answers, naming the problem).
py::object ReadStepRequest(const py::bytes& data) {
  // One per thread: the server's workers read requests too, and a message
  // kept from call to call allocates nothing once warm.
  thread_local proto::Request request;
  py::ssize_t size;
  if (!Parsed(data, &request, &size) || !request.has_step()) {
    return py::none();
  }
  const proto::StepRequest& step = request.step();
  for (const proto::AgentActions& actions : step.actions()) {
    if (actions.discrete().size() % sizeof(int64_t) != 0 ||
        actions.continuous().size() % sizeof(float) != 0) {
      return py::none();
    }
  }
  py::array_t<int32_t> copies(step.copies_size());
  if (step.copies_size() > 0) {
    std::memcpy(copies.mutable_data(), step.copies().data(),
                step.copies_size() * sizeof(int32_t));
  }
  py::list discrete(step.actions_size()), continuous(step.actions_size());
  for (int a = 0; a < step.actions_size(); ++a) {
    discrete[a] = ArrayOf<int64_t>(step.actions(a).discrete());
    continuous[a] = ArrayOf<float>(step.actions(a).continuous());
  }
  return py::make_tuple(request.request_id(), step.handle(), std::move(copies),
                        std::move(discrete), std::move(continuous));
}

// Like AssignArray, for a field that stays empty when `value` is None or
// has no values.
template <typename T>
void AssignOptional(const py::handle& value, std::string* out) {
  if (value.is_none()) return;
  AssignArray<T>(value, out);
}

// The attribute names of batch.Rows, made once (interned).
struct RowsFields {
  py::object copies = Interned("copies"), observation = Interned("observation"),
             reward = Interned("reward"), action_mask = Interned("action_mask"),
             final_observation = Interned("final_observation"),
             terminated = Interned("terminated"),
             truncated = Interned("truncated"),
             episode_step = Interned("episode_step"), info = Interned("info"),
             public_observation = Interned("public_observation"),
             state = Interned("state"),
             current_agent = Interned("current_agent"),
             final_public_observation = Interned("final_public_observation"),
             final_state = Interned("final_state");
};

// The serialized OK Response to step request `request_id` whose result is
// `rows` (a batch.Rows): convert.rows_to_proto's TimeStep, written in C++.
py::bytes StepReply(uint64_t request_id, const py::handle& rows,
                    bool named_copies) {
  static const RowsFields* const fields = new RowsFields();
  thread_local proto::Response response;
  response.Clear();
  response.set_request_id(request_id);
  response.mutable_status()->set_code(proto::OK);
  proto::TimeStep* ts = response.mutable_step()->mutable_timestep();
  if (named_copies) {
    AssignArray<int32_t>(rows.attr(fields->copies), ts->mutable_copies());
  }
  const py::list observation = rows.attr(fields->observation);
  const py::list reward = rows.attr(fields->reward);
  const py::list action_mask = rows.attr(fields->action_mask);
  const py::list final_observation = rows.attr(fields->final_observation);
  const size_t agents = observation.size();
  if (reward.size() != agents || action_mask.size() != agents ||
      final_observation.size() != agents) {
    throw std::invalid_argument("Rows' per-agent lists differ in length");
  }
  for (size_t a = 0; a < agents; ++a) {
    proto::AgentTimeStep* agent = ts->add_agents();
    AssignArray<float>(observation[a], agent->mutable_observation());
    AssignArray<float>(reward[a], agent->mutable_reward());
    AssignOptional<bool>(action_mask[a], agent->mutable_action_mask());
    AssignArray<float>(final_observation[a],
                       agent->mutable_final_observation());
  }
  AssignArray<bool>(rows.attr(fields->terminated), ts->mutable_terminated());
  AssignArray<bool>(rows.attr(fields->truncated), ts->mutable_truncated());
  AssignArray<int32_t>(rows.attr(fields->episode_step),
                       ts->mutable_episode_step());
  AssignOptional<float>(rows.attr(fields->info), ts->mutable_info());
  AssignOptional<float>(rows.attr(fields->public_observation),
                        ts->mutable_public_observation());
  AssignOptional<float>(rows.attr(fields->state), ts->mutable_state());
  AssignOptional<int32_t>(rows.attr(fields->current_agent),
                          ts->mutable_current_agent());
  AssignOptional<float>(rows.attr(fields->final_public_observation),
                        ts->mutable_final_public_observation());
  AssignOptional<float>(rows.attr(fields->final_state),
                        ts->mutable_final_state());
  return Serialized(response, "step reply");
}

}  // namespace
}  // namespace marl

PYBIND11_MODULE(_codec, m) {
  m.doc() =
      "The step path of the Python client and server: requests and replies "
      "in C++.";
  pybind11::register_exception<marl::MalformedReply>(m, "MalformedReply",
                                                     PyExc_ValueError);
  pybind11::register_exception<marl::ReplyTimeout>(m, "ReplyTimeout",
                                                   PyExc_TimeoutError);
  pybind11::class_<marl::StepCodec>(m, "StepCodec")
      .def(pybind11::init<const pybind11::list&, const pybind11::object&,
                          const pybind11::object&, bool, int64_t, int64_t,
                          int64_t, bool>(),
           pybind11::arg("agents"), pybind11::arg("public_observation"),
           pybind11::arg("state"), pybind11::arg("sequential"),
           pybind11::arg("info_size"), pybind11::arg("handle"),
           pybind11::arg("rows"), pybind11::arg("auto_reset") = true)
      .def("encode_step", &marl::StepCodec::EncodeStep,
           pybind11::arg("request_id"), pybind11::arg("actions"))
      .def("decode", &marl::StepCodec::Decode, pybind11::arg("reply"),
           pybind11::arg("request_id"))
      .def("__call__", &marl::StepCodec::Decode, pybind11::arg("reply"),
           pybind11::arg("request_id"));
  m.def("exchange", &marl::Exchange, pybind11::arg("socket_address"),
        pybind11::arg("data"), pybind11::arg("request_id"),
        pybind11::arg("decode"), pybind11::arg("timeout_ms"));
  m.def("read_step_request", &marl::ReadStepRequest, pybind11::arg("data"));
  m.def("step_reply", &marl::StepReply, pybind11::arg("request_id"),
        pybind11::arg("rows"), pybind11::arg("named_copies"));
}
