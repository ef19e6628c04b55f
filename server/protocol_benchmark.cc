// Environment steps per second of the one-shot matrix game, with and without
// the protocol, and what the transport alone costs:
//
//   local     LocalBatch::StepAll: the batch runner, no protocol.
//   handle    EnvService::Handle(const Request&): the request handler on an
//             already parsed request (no bytes), for attributing time.
//   bytes     EnvService::Handle on serialized bytes: serialize the request,
//             handle, parse the response; no transport.
//   client    EnvClient::Step against a real EnvServer over inproc://, ipc://
//             or tcp:// (round trips, one request in flight).
//   bare      A bare ZeroMQ DEALER/ROUTER ping-pong over the same transport,
//             carrying exactly as many request and reply bytes as `client`
//             (measured from a real step at that batch size); the echo side
//             answers with a preallocated buffer.
//
// `client` and `bare` of one transport and batch size are measured
// interleaved (repeat by repeat, alternating which goes first), so a load
// change on the machine hits both; their ratio is the median of the
// repeat-by-repeat ratios. Every cell reports the median of --repeats
// repeats and their spread; the tables are markdown. --cpu pins everything
// to one CPU; --echo_work_us and --echo_poll_loop are diagnostics of the
// bare ping-pong. docs/BENCHMARKS.md has results and how to read them.
//
//   bazel run -c opt //server:protocol_benchmark -- --min_seconds=1
#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>
#include <zmq.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/env_client.h"
#include "envs/core/env_batch.h"
#include "protocol/proto/env_protocol.pb.h"
#include "protocol/protocol_arrays.h"
#include "server/embedded_server.h"
#include "server/env_server.h"
#include "server/test_server.h"

ABSL_FLAG(double, min_seconds, 1.0,
          "Minimum measured time per table cell, in seconds, split evenly "
          "over --repeats repeats (each repeat runs at least "
          "min_seconds / repeats). Warm-up time is extra.");
ABSL_FLAG(double, warmup_seconds, 0.1,
          "Unmeasured warm-up per cell before its repeats, in seconds.");
ABSL_FLAG(int, repeats, 5,
          "Repeats per cell; the table shows the median (and the spread, "
          "(max - min) / median).");
ABSL_FLAG(std::vector<std::string>, batches,
          std::vector<std::string>({"1", "16", "256"}),
          "Comma-separated batch sizes (num_copies) to measure. The cost "
          "ratio column compares the largest with the smallest.");
ABSL_FLAG(std::vector<std::string>, transports,
          std::vector<std::string>({"inproc", "ipc", "tcp"}),
          "Comma-separated transports for the client and bare ping-pong "
          "rows: any of inproc, ipc, tcp.");
ABSL_FLAG(int, worker_threads, 0,
          "Worker threads of the server under test (ServerOptions::"
          "worker_threads; the default server has 0).");
ABSL_FLAG(double, echo_work_us, 0,
          "Diagnostic: the bare ping-pong's echo side busy-waits this many "
          "microseconds before each reply, standing in for server-side work.");
ABSL_FLAG(bool, echo_poll_loop, false,
          "Diagnostic: the bare ping-pong's echo side receives the way "
          "EnvServer::Run used to (zmq::poll with a 100 ms timeout, then "
          "non-blocking receives until one fails) instead of with blocking "
          "receives.");
ABSL_FLAG(int, cpu, -1,
          "Pin the whole benchmark (client, server, echo and ZeroMQ I/O "
          "threads) to this CPU; -1 = no pinning. On one CPU a wake-up is a "
          "context switch instead of a cross-CPU interrupt, which on a VM "
          "makes round trips far shorter and steadier.");
ABSL_FLAG(std::string, only, "",
          "Measure only this mode (local, handle, bytes, client, bare; "
          "empty = all), e.g. to run one under a profiler.");

namespace marl {
namespace {

namespace pb = ::marl::env::v3;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "protocol_benchmark: %s\n", message.c_str());
  std::exit(1);
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) Die(absl::StrCat(what, ": ", status.ToString()));
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Calls `op` until at least `seconds` have passed; returns seconds per call.
// The clock is read once per chunk of calls, a chunk sized to ~1% of the
// target time so that reading it costs nothing measurable.
double TimeCalls(const std::function<void()>& op, double seconds) {
  int64_t calls = 0;
  int64_t chunk = 1;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  while (true) {
    for (int64_t i = 0; i < chunk; ++i) op();
    calls += chunk;
    elapsed = Seconds(Clock::now() - start);
    if (elapsed >= seconds) break;
    const double per_call = elapsed / calls;
    chunk =
        std::max<int64_t>(1, static_cast<int64_t>(0.01 * seconds / per_call));
  }
  return elapsed / calls;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct Measured {
  double seconds_per_call = 0;  // median
  double spread = 0;            // (max - min) / median
  std::vector<double> samples;  // seconds per call, one per repeat
};

// Measures the ops interleaved: warm-up each, then per repeat run each op in
// a rotated order. Returns one result per op.
std::vector<Measured> MeasureInterleaved(
    const std::vector<std::function<void()>>& ops) {
  const int repeats = std::max(1, absl::GetFlag(FLAGS_repeats));
  const double per_repeat = absl::GetFlag(FLAGS_min_seconds) / repeats;
  for (const auto& op : ops) TimeCalls(op, absl::GetFlag(FLAGS_warmup_seconds));
  std::vector<std::vector<double>> samples(ops.size());
  for (int r = 0; r < repeats; ++r) {
    for (size_t k = 0; k < ops.size(); ++k) {
      const size_t i = (k + r) % ops.size();
      samples[i].push_back(TimeCalls(ops[i], per_repeat));
    }
  }
  std::vector<Measured> results;
  for (const auto& s : samples) {
    Measured m;
    m.samples = s;
    m.seconds_per_call = Median(s);
    m.spread = (*std::max_element(s.begin(), s.end()) -
                *std::min_element(s.begin(), s.end())) /
               m.seconds_per_call;
    results.push_back(m);
  }
  return results;
}

// ----------------------------------------------------------------- setup --

constexpr char kEnv[] = "matrix_game";
constexpr uint64_t kSeed = 7;
constexpr int kAgents = 2;

// Actions of a batch: agent a, copy c plays (c + a) % 2 (both actions of the
// default Discrete(2) preset, all four payoff cells across copies).
std::vector<std::vector<int64_t>> Actions(int batch) {
  std::vector<std::vector<int64_t>> actions(kAgents);
  for (int agent = 0; agent < kAgents; ++agent) {
    for (int c = 0; c < batch; ++c)
      actions[agent].push_back((c + agent + c / 2) % 2);
  }
  return actions;
}

pb::StepRequest StepRequestFor(uint64_t handle, int batch) {
  pb::StepRequest step;
  step.set_handle(handle);
  for (const auto& agent_actions : Actions(batch)) {
    SetArray<int64_t>(agent_actions, step.add_actions()->mutable_discrete());
  }
  return step;
}

pb::MakeRequest MakeRequestFor(int batch) {
  pb::MakeRequest make;
  make.set_name(kEnv);
  make.set_num_copies(batch);
  make.set_seed(kSeed);
  make.set_auto_reset(pb::SAME_STEP);
  return make;
}

ServerOptions BenchServerOptions() {
  ServerOptions options;
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.server_name = "protocol-benchmark";
  return options;
}

// A bare ROUTER that answers every request with `reply_size` bytes from a
// preallocated buffer, on its own thread and (unless given one) its own
// context, as a TestServer has. A request of 0 bytes stops it.
class EchoServer {
 public:
  EchoServer(zmq::context_t* shared_context, const std::string& endpoint,
             size_t reply_size)
      : reply_(reply_size, '\x2a') {
    zmq::context_t* context = shared_context;
    if (context == nullptr) {
      own_context_ = std::make_unique<zmq::context_t>(1);
      context = own_context_.get();
    }
    socket_ =
        std::make_unique<zmq::socket_t>(*context, zmq::socket_type::router);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind(endpoint);
    endpoint_ = socket_->get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Serve(); });
  }
  ~EchoServer() {
    thread_.join();
    socket_.reset();
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  void Serve() {
    const double work_seconds = absl::GetFlag(FLAGS_echo_work_us) * 1e-6;
    const bool poll_loop = absl::GetFlag(FLAGS_echo_poll_loop);
    zmq::pollitem_t items[] = {{socket_->handle(), 0, ZMQ_POLLIN, 0}};
    zmq::message_t identity, body;
    while (true) {
      if (poll_loop) {
        // EnvServer::Run's former pattern: non-blocking receives until one
        // fails, then poll.
        if (!socket_->recv(identity, zmq::recv_flags::dontwait)) {
          zmq::poll(items, 1, std::chrono::milliseconds(100));
          continue;
        }
        if (!socket_->recv(body, zmq::recv_flags::dontwait)) continue;
      } else {
        if (!socket_->recv(identity, zmq::recv_flags::none)) continue;
        if (!socket_->recv(body, zmq::recv_flags::none)) continue;
      }
      const bool stop = body.size() == 0;
      if (work_seconds > 0) {
        const Clock::time_point start = Clock::now();
        while (Seconds(Clock::now() - start) < work_seconds) {
        }
      }
      socket_->send(identity, zmq::send_flags::sndmore);
      socket_->send(zmq::buffer(reply_), zmq::send_flags::none);
      if (stop) return;
    }
  }

  std::unique_ptr<zmq::context_t> own_context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::string reply_;
  std::string endpoint_;
  std::thread thread_;
};

// The DEALER side of the bare ping-pong.
class EchoClient {
 public:
  EchoClient(zmq::context_t* shared_context, const std::string& endpoint,
             size_t request_size)
      : request_(request_size, '\x15') {
    zmq::context_t* context = shared_context;
    if (context == nullptr) {
      own_context_ = std::make_unique<zmq::context_t>(1);
      context = own_context_.get();
    }
    socket_ =
        std::make_unique<zmq::socket_t>(*context, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::rcvtimeo, 30000);
    socket_->connect(endpoint);
  }
  ~EchoClient() {
    socket_->send(zmq::const_buffer(nullptr, 0), zmq::send_flags::none);
    zmq::message_t reply;
    (void)socket_->recv(reply, zmq::recv_flags::none);
    socket_.reset();
  }
  size_t RoundTrip() {
    socket_->send(zmq::buffer(request_), zmq::send_flags::none);
    if (!socket_->recv(reply_, zmq::recv_flags::none)) Die("echo timed out");
    return reply_.size();
  }

 private:
  std::unique_ptr<zmq::context_t> own_context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::string request_;
  zmq::message_t reply_;
};

// ----------------------------------------------------------------- table --

struct Row {
  std::string mode;       // local, handle, bytes, client, bare
  std::string transport;  // "-" for in-process rows
  int batch = 0;
  size_t request_bytes = 0, response_bytes = 0;
  Measured measured;
  double ratio_to_bare = 0;  // client rows only
};

struct Sizes {
  size_t request = 0, response = 0;
};

// Steps with the in-process rows; returns the serialized sizes of a step at
// this batch size (request ids near the ones the transports will send).
Sizes InProcessRows(int batch, std::vector<Row>* rows) {
  const std::string only = absl::GetFlag(FLAGS_only);
  const auto actions = Actions(batch);
  const std::vector<std::vector<float>> no_continuous;

  absl::StatusOr<std::unique_ptr<EnvBatch>> env_batch =
      EnvBatch::Create(kEnv, {}, batch, kSeed, /*auto_reset=*/true);
  Check(env_batch.status(), "EnvBatch::Create");
  LocalBatch local(*std::move(env_batch));
  Check(local.ResetAll(), "LocalBatch::ResetAll");

  EnvService service(BenchServerOptions());
  pb::Request request;
  *request.mutable_make() = MakeRequestFor(batch);
  const pb::Response& made = service.Handle(request);
  if (made.status().code() != pb::OK) Die(made.status().message());
  const uint64_t handle = made.make().handle();
  request.Clear();
  request.mutable_reset()->set_handle(handle);
  if (service.Handle(request).status().code() != pb::OK) Die("reset failed");

  pb::Request step;
  *step.mutable_step() = StepRequestFor(handle, batch);
  uint64_t request_id = 1;
  std::string request_bytes, response_bytes;
  pb::Response response;

  std::vector<std::function<void()>> ops;
  std::vector<std::string> modes;
  if (only.empty() || only == "local") {
    modes.push_back("local");
    ops.push_back([&] {
      if (!local.StepAll(actions, no_continuous).ok()) Die("StepAll failed");
    });
  }
  if (only.empty() || only == "handle") {
    modes.push_back("handle");
    ops.push_back([&] {
      step.set_request_id(request_id++);
      if (service.Handle(step).status().code() != pb::OK) Die("step failed");
    });
  }
  auto bytes_op = [&] {
    step.set_request_id(request_id++);
    step.SerializeToString(&request_bytes);
    service.Handle(request_bytes.data(), request_bytes.size(), &response_bytes);
    if (!response.ParseFromString(response_bytes) ||
        response.status().code() != pb::OK ||
        response.request_id() != step.request_id()) {
      Die("step over bytes failed");
    }
  };
  if (only.empty() || only == "bytes") {
    modes.push_back("bytes");
    ops.push_back(bytes_op);
  }
  std::vector<Measured> measured = MeasureInterleaved(ops);
  // The sizes of a real step, with a request id of 3 varint bytes like the
  // ids a client reaches in a run (16384 .. 2^21 - 1).
  request_id = 1 << 14;
  bytes_op();
  Sizes sizes{request_bytes.size(), response_bytes.size()};
  for (size_t i = 0; i < ops.size(); ++i) {
    Row row;
    row.mode = modes[i];
    row.transport = "-";
    row.batch = batch;
    if (modes[i] != "local") {
      row.request_bytes = sizes.request;
      row.response_bytes = sizes.response;
    }
    row.measured = measured[i];
    rows->push_back(row);
  }
  return sizes;
}

std::string ipc_directory;  // created on first use, removed at exit

std::string IpcDirectory() {
  if (ipc_directory.empty()) {
    // ipc:// paths are limited to about 100 characters.
    std::string base = "/tmp";
    if (const char* tmp = std::getenv("TMPDIR");
        tmp != nullptr && std::strlen(tmp) > 0 && std::strlen(tmp) < 60) {
      base = tmp;
    }
    std::string pattern = base + "/marl-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed");
    ipc_directory = pattern;
  }
  return ipc_directory;
}

// The client and bare rows of one transport and batch size.
void TransportRows(const std::string& transport, int batch, Sizes sizes,
                   std::vector<Row>* rows) {
  const std::string only = absl::GetFlag(FLAGS_only);
  const bool want_client = only.empty() || only == "client";
  const bool want_bare = only.empty() || only == "bare";
  if (!want_client && !want_bare) return;

  // The server under test. inproc:// only reaches sockets of the same
  // context, and an EnvClient owns its context: over inproc:// the client
  // starts its embedded server (a real EnvServer on a thread, same code as
  // TestServer) by being given no endpoint.
  std::unique_ptr<TestServer> server;
  ClientOptions client_options;
  client_options.client_name = "protocol-benchmark";
  client_options.embedded_server =
      EmbeddedServerFactory(absl::GetFlag(FLAGS_worker_threads));
  std::string bare_endpoint;
  if (transport == "tcp") {
    server =
        std::make_unique<TestServer>(BenchServerOptions(), "tcp://127.0.0.1:0");
    client_options.endpoint = server->endpoint();
    bare_endpoint = "tcp://127.0.0.1:0";
  } else if (transport == "ipc") {
    const std::string dir = IpcDirectory();
    const std::string path = absl::StrCat(dir, "/server-", batch, ".sock");
    server = std::make_unique<TestServer>(BenchServerOptions(),
                                          absl::StrCat("ipc://", path));
    client_options.endpoint = server->endpoint();
    bare_endpoint = absl::StrCat("ipc://", dir, "/bare-", batch, ".sock");
  } else if (transport == "inproc") {
    bare_endpoint = absl::StrCat("inproc://protocol-benchmark-bare-", batch);
  } else {
    Die(absl::StrCat("unknown transport '", transport, "'"));
  }

  absl::StatusOr<std::unique_ptr<EnvClient>> connected =
      EnvClient::Connect(client_options);
  Check(connected.status(), "EnvClient::Connect");
  EnvClient& client = **connected;
  absl::StatusOr<pb::MakeResponse> made = client.Make(MakeRequestFor(batch));
  Check(made.status(), "Make");
  pb::ResetRequest reset;
  reset.set_handle(made->handle());
  Check(client.Reset(reset).status(), "Reset");
  const pb::StepRequest step = StepRequestFor(made->handle(), batch);
  {
    // Check that the bare ping-pong carries what this client really sends
    // and receives (the request id's varint may differ by a byte; handles
    // are random ids in [2^52, 2^53), so this handle's varint has the
    // length of the in-process one's).
    pb::Request request;
    *request.mutable_step() = step;
    absl::StatusOr<const pb::Response*> response = client.Call(request);
    Check(response.status(), "Call(step)");
    request.set_request_id(1 << 14);
    pb::Response sized = **response;
    sized.set_request_id(1 << 14);
    if (request.ByteSizeLong() != sizes.request ||
        sized.ByteSizeLong() != sizes.response) {
      Die(absl::StrCat("a ", transport, " step is ", request.ByteSizeLong(),
                       " + ", sized.ByteSizeLong(), " bytes, not ",
                       sizes.request, " + ", sizes.response));
    }
  }
  auto client_op = [&] {
    absl::StatusOr<const pb::TimeStep*> timestep = client.Step(step);
    if (!timestep.ok()) Die(timestep.status().ToString());
  };

  // The bare pair: over inproc:// one context (like the embedded server and
  // its client), otherwise one context per side (like TestServer and
  // EnvClient).
  std::unique_ptr<zmq::context_t> shared_context;
  if (transport == "inproc")
    shared_context = std::make_unique<zmq::context_t>(1);
  auto echo_server = std::make_unique<EchoServer>(
      shared_context.get(), bare_endpoint, sizes.response);
  auto echo_client = std::make_unique<EchoClient>(
      shared_context.get(), echo_server->endpoint(), sizes.request);
  auto bare_op = [&] {
    if (echo_client->RoundTrip() != sizes.response) Die("echo size mismatch");
  };

  std::vector<std::function<void()>> ops;
  std::vector<std::string> modes;
  if (want_client) {
    ops.push_back(client_op);
    modes.push_back("client");
  }
  if (want_bare) {
    ops.push_back(bare_op);
    modes.push_back("bare");
  }
  std::vector<Measured> measured = MeasureInterleaved(ops);
  echo_client.reset();
  echo_server.reset();
  Check(client.Close(made->handle()), "Close");

  for (size_t i = 0; i < ops.size(); ++i) {
    Row row;
    row.mode = modes[i];
    row.transport = transport;
    row.batch = batch;
    row.request_bytes = sizes.request;
    row.response_bytes = sizes.response;
    row.measured = measured[i];
    if (modes[i] == "client" && want_bare) {
      // The median of the repeat-by-repeat ratios: each pair ran back to
      // back, so a slow spell of the machine cancels out.
      std::vector<double> ratios;
      for (size_t r = 0; r < measured[0].samples.size(); ++r) {
        ratios.push_back(measured[0].samples[r] / measured[1].samples[r]);
      }
      row.ratio_to_bare = Median(ratios);
    }
    rows->push_back(row);
  }
}

std::string Describe(const std::string& mode) {
  static const std::map<std::string, std::string> names = {
      {"local", "in-process: LocalBatch::StepAll"},
      {"handle", "EnvService::Handle(Request&), parsed"},
      {"bytes", "protocol in-process: serialize, Handle, parse"},
      {"client", "EnvClient::Step to EnvServer"},
      {"bare", "bare DEALER/ROUTER ping-pong, same bytes"},
  };
  return names.at(mode);
}

void PrintTables(const std::vector<Row>& rows,
                 const std::vector<int>& batches) {
  const int smallest = batches.front(), largest = batches.back();
  // Cost per environment step at the smallest batch over the largest, per
  // (mode, transport).
  std::map<std::pair<std::string, std::string>, std::map<int, double>> per_step;
  for (const Row& row : rows) {
    per_step[{row.mode, row.transport}][row.batch] =
        row.measured.seconds_per_call / row.batch;
  }
  auto cost_ratio = [&](const Row& row) -> std::string {
    const auto& m = per_step[{row.mode, row.transport}];
    if (row.batch != largest || smallest == largest || !m.count(smallest))
      return "";
    return absl::StrFormat("%.1fx", m.at(smallest) / m.at(largest));
  };

  std::printf(
      "| mode | transport | batch | request B | reply B | steps/s | "
      "us / round trip | ns / env step | spread | client / bare | "
      "per-step cost b%d / b%d |\n",
      smallest, largest);
  std::printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
  for (const Row& row : rows) {
    const double s = row.measured.seconds_per_call;
    std::printf(
        "| %s | %s | %d | %s | %s | %s | %.2f | %.1f | %.0f%% | %s | %s |\n",
        Describe(row.mode).c_str(), row.transport.c_str(), row.batch,
        row.request_bytes ? absl::StrCat(row.request_bytes).c_str() : "",
        row.response_bytes ? absl::StrCat(row.response_bytes).c_str() : "",
        absl::StrFormat("%.0f", row.batch / s).c_str(), s * 1e6,
        s * 1e9 / row.batch, 100 * row.measured.spread,
        row.ratio_to_bare > 0
            ? absl::StrFormat("%.2fx", row.ratio_to_bare).c_str()
            : "",
        cost_ratio(row).c_str());
  }

  // The targets, per transport.
  std::vector<std::string> transports;
  for (const Row& row : rows) {
    if (row.mode == "client" && std::find(transports.begin(), transports.end(),
                                          row.transport) == transports.end()) {
      transports.push_back(row.transport);
    }
  }
  if (transports.empty()) return;
  auto ratio = [&](const std::string& transport, int batch) -> double {
    for (const Row& row : rows) {
      if (row.mode == "client" && row.transport == transport &&
          row.batch == batch) {
        return row.ratio_to_bare;
      }
    }
    return 0;
  };
  // Seconds per call of a mode at a batch size, 0 if not measured.
  auto time_of = [&](const std::string& mode, const std::string& transport,
                     int batch) -> double {
    for (const Row& row : rows) {
      if (row.mode == mode && row.transport == transport &&
          row.batch == batch) {
        return row.measured.seconds_per_call;
      }
    }
    return 0;
  };
  auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
  std::printf(
      "\n| transport | client / bare at b%d (target <= 1.5x) | client / bare "
      "at b%d (target <= 2x) | per-step cost b%d / b%d (target >= 50x) | "
      "(client - local) / bare at b%d (info) |\n",
      smallest, largest, smallest, largest, largest);
  std::printf("|---|--:|--:|--:|--:|\n");
  for (const std::string& transport : transports) {
    // With one batch size only the first column applies.
    const bool two = smallest != largest;
    const double r1 = ratio(transport, smallest);
    const double r2 = two ? ratio(transport, largest) : 0;
    const auto& m = per_step[{"client", transport}];
    const double cost = two && m.count(smallest) && m.count(largest)
                            ? m.at(smallest) / m.at(largest)
                            : 0;
    // The round trip without the batch runner's own work (LocalBatch at
    // the same size) against the bare ping-pong: the protocol's and the
    // server loop's overhead alone.
    const double client = time_of("client", transport, largest);
    const double bare = time_of("bare", transport, largest);
    const double local = time_of("local", "-", largest);
    const double net = two && client > 0 && bare > 0 && local > 0
                           ? (client - local) / bare
                           : 0;
    std::printf(
        "| %s | %s | %s | %s | %s |\n", transport.c_str(),
        r1 > 0 ? absl::StrFormat("%.2fx %s", r1, verdict(r1 <= 1.5)).c_str()
               : "",
        r2 > 0 ? absl::StrFormat("%.2fx %s", r2, verdict(r2 <= 2.0)).c_str()
               : "",
        cost > 0
            ? absl::StrFormat("%.1fx %s", cost, verdict(cost >= 50)).c_str()
            : "",
        net > 0 ? absl::StrFormat("%.2fx", net).c_str() : "");
  }
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Environment steps per second of the matrix game at several batch "
      "sizes: in-process, through EnvService on bytes, and through "
      "EnvClient/EnvServer over inproc://, ipc:// and tcp://, each against a "
      "bare ZeroMQ ping-pong of the same sizes. Prints markdown tables.\n"
      "  bazel run -c opt //server:protocol_benchmark -- [--min_seconds=1]");
  absl::ParseCommandLine(argc, argv);

  std::vector<int> batches;
  for (const std::string& text : absl::GetFlag(FLAGS_batches)) {
    int batch = 0;
    if (!absl::SimpleAtoi(text, &batch) || batch < 1) {
      Die(absl::StrCat("bad --batches entry '", text, "'"));
    }
    batches.push_back(batch);
  }
  if (batches.empty()) Die("--batches is empty");
  std::sort(batches.begin(), batches.end());
  const std::vector<std::string> transports = absl::GetFlag(FLAGS_transports);
  std::string pinning = "not pinned";
  if (const int cpu = absl::GetFlag(FLAGS_cpu); cpu >= 0) {
    // Before any thread starts, so that every thread inherits the mask.
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
      Die(absl::StrCat("cannot pin to CPU ", cpu, ": ", std::strerror(errno)));
    }
    pinning = absl::StrCat("pinned to CPU ", cpu);
  }

#if defined(__OPTIMIZE__)
  const char* build = "optimized";
#else
  const char* build = "NOT optimized (fastbuild: use bazel run -c opt)";
#endif
  std::printf(
      "protocol_benchmark: %s, batches %s, transports %s, %d repeats "
      "of >= %.3g s per cell (median shown), %d hardware threads, "
      "%s, build %s\n\n",
      kEnv, absl::StrJoin(batches, ",").c_str(),
      absl::StrJoin(transports, ",").c_str(), absl::GetFlag(FLAGS_repeats),
      absl::GetFlag(FLAGS_min_seconds) /
          std::max(1, absl::GetFlag(FLAGS_repeats)),
      static_cast<int>(std::thread::hardware_concurrency()), pinning.c_str(),
      build);
  std::fflush(stdout);

  const Clock::time_point start = Clock::now();
  std::vector<Row> rows;
  for (int batch : batches) {
    const Sizes sizes = InProcessRows(batch, &rows);
    for (const std::string& transport : transports) {
      TransportRows(transport, batch, sizes, &rows);
    }
  }
  // Group rows by mode and transport, then batch.
  const std::vector<std::string> order = {"local", "handle", "bytes", "client",
                                          "bare"};
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    // In-process rows first, by mode then batch; then per transport, by
    // batch, client next to its bare ping-pong.
    auto key = [&](const Row& r) {
      const int mode =
          std::find(order.begin(), order.end(), r.mode) - order.begin();
      const bool transported = r.mode == "client" || r.mode == "bare";
      const int t =
          std::find(transports.begin(), transports.end(), r.transport) -
          transports.begin();
      return transported ? std::make_tuple(100 + t, r.batch, mode)
                         : std::make_tuple(mode, r.batch, 0);
    };
    return key(a) < key(b);
  });
  PrintTables(rows, batches);
  std::printf("\ntotal time %.1f s\n", Seconds(Clock::now() - start));
  if (!ipc_directory.empty()) {
    // Remove the ipc:// socket files (ZeroMQ leaves them) and the directory.
    if (DIR* dir = opendir(ipc_directory.c_str()); dir != nullptr) {
      while (const dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") {
          unlink((ipc_directory + "/" + name).c_str());
        }
      }
      closedir(dir);
    }
    rmdir(ipc_directory.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) { return marl::Main(argc, argv); }
