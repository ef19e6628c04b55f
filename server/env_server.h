#ifndef MARL_SERVER_ENV_SERVER_H_
#define MARL_SERVER_ENV_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "envs/core/env_batch.h"
#include "protocol/proto/env_protocol.pb.h"
#include "server/worker_pool.h"

namespace marl {

class ZapAuthenticator;

struct ServerOptions {
  std::string server_name = "marl-env-server";
  // Threads stepping the copies of expensive batches, beside the thread
  // that runs the request.
  int worker_threads = 0;
  // A reset or step is split over the workers only when predicted (the
  // handle's measured cost per row times its rows) to take at least this
  // long on one thread (not before it is measured); 0 = always. Waking a
  // worker costs tens of microseconds on a loaded or virtual machine, so
  // splitting a cheap batch makes it slower.
  int64_t parallel_min_us = 200;
  // A handle unused this long is closed; 0 = never.
  int idle_handle_timeout_seconds = 600;
  int max_copies_per_handle = 1 << 16;
  // Limits (docs/PROTOCOL.md, "Limits"); reported by handshake.
  int max_handles = 1 << 12;
  int max_handles_per_client = 1 << 10;
  int64_t max_message_bytes = int64_t{64} << 20;
  int64_t max_handle_bytes = int64_t{1} << 30;
  int64_t max_client_bytes = int64_t{2} << 30;
  int64_t max_server_bytes = int64_t{4} << 30;
  // Threads that run requests which may be slow (every make, and resets and
  // steps predicted to take longer than inline_budget_us), so that they
  // never hold up other clients' requests.
  int request_threads = 2;
  int64_t inline_budget_us = 250;
  // Requests waiting for request threads, per client and in all.
  int max_deferred_per_client = 64;
  int max_deferred = 1024;
  // CURVE (protocol/curve.h): the server's secret certificate turns it on;
  // with a directory of client public certificates, only those clients are
  // served. Not for inproc:// (no handshake there).
  std::string curve_secret_key_file;
  std::string curve_authorized_keys;
};

// The request handler: protocol bytes in, protocol bytes out, no transport.
// Every request gets a response; a bad one gets an error status and leaves
// the server as it was.
//
// Thread-safe. With a Completion, Submit answers cheap requests at once on
// the caller's thread and runs the others (every make; resets and steps
// whose measured cost per row predicts more than inline_budget_us) on its
// request threads, in arrival order per handle, handing each answer to the
// Completion. Without one, everything runs on the caller's thread.
class EnvService {
 public:
  // Called on a request thread with a deferred request's tag and answer.
  using Completion = std::function<void(uint64_t tag, std::string reply)>;

  explicit EnvService(const ServerOptions& options,
                      Completion completion = nullptr);
  ~EnvService();

  // Where Submit writes an answer: called once with its size in bytes,
  // returns room for that many (the transport's message, so the answer is
  // serialized straight into it).
  using ReplyBuffer = absl::FunctionRef<void*(size_t size)>;

  // Handles the serialized request of `client` (an opaque identity for the
  // per-client limits). Returns true with the answer written to `reply`
  // when answered at once; false when deferred to completion(tag, ...).
  bool Submit(const void* request, size_t size, const std::string& client,
              uint64_t tag, ReplyBuffer reply);
  // Handles one request on this thread and serialises the response into
  // `response` (client ""; tests, benchmarks).
  void Handle(const void* request, size_t size, std::string* response);
  // Handles an already parsed request on this thread (the in-process
  // benchmark path). The reference is valid until the next call; not to be
  // mixed with concurrent calls.
  const env::v3::Response& Handle(const env::v3::Request& request);

  // Closes handles idle longer than the timeout (never one with requests
  // running or queued); returns how many.
  int ExpireIdleHandles(std::chrono::steady_clock::time_point now);
  int num_handles() const;

 private:
  struct HandleState;
  struct ClientUsage {
    int handles = 0;
    int64_t bytes = 0;
  };

  // Runs one parsed request of `client` into `response` (reused: a step
  // after a step refills the previous arrays in place).
  void Execute(const env::v3::Request& request, const std::string& client,
               env::v3::Response* response);
  // The handle named by a reset, step or close request, or null.
  std::shared_ptr<HandleState> Route(const env::v3::Request& request);
  // FindHandle for an operation: NOT_FOUND for unknown and closed handles.
  absl::StatusOr<std::shared_ptr<HandleState>> FindHandle(uint64_t id);
  void ReleaseUsage(const std::string& client, int64_t bytes);
  // Counts a request of `client` about to be deferred (under mutex_); an
  // error status when over the limits.
  absl::Status ReserveDeferred(const std::string& client);
  void ReleaseDeferred(const std::string& client);
  absl::Status Dispatch(const env::v3::Request& request,
                        const std::string& client, env::v3::Response* response);
  absl::Status DoHandshake(const env::v3::HandshakeRequest& request,
                           env::v3::HandshakeResponse* response);
  absl::Status DoList(env::v3::ListEnvironmentsResponse* response);
  absl::Status DoMake(const env::v3::MakeRequest& request,
                      const std::string& client,
                      env::v3::MakeResponse* response);
  absl::Status DoReset(const env::v3::ResetRequest& request,
                       env::v3::TimeStep* timestep);
  absl::Status DoStep(const env::v3::StepRequest& request,
                      env::v3::TimeStep* timestep);
  absl::Status DoClose(uint64_t id);
  // Folds the cost of a successful reset or step of `rows` rows into the
  // handle's measured cost per row: the time since `start`, plus
  // `pooled_ns`, what the worker pool did beside this thread (so the
  // estimate is what the request would take on one thread).
  static void RecordCost(HandleState& handle, bool step, int64_t rows,
                         std::chrono::steady_clock::time_point start,
                         double pooled_ns);
  // The ParallelFor for a reset or step of `rows` rows: one that splits
  // the rows over the worker pool, adding to *pooled_ns, when predicted to
  // take at least parallel_min_us; else null (run inline).
  ParallelFor Parallel(const HandleState& handle, bool step, int64_t rows,
                       double* pooled_ns);
  // Runs the requests queued on a handle, in order, until none is left.
  void Drain(const std::shared_ptr<HandleState>& handle);
  // Sizes `timestep` for `rows` rows and points `buffers` into it; writes
  // `copies` into it only when the request `named_copies`.
  void PrepareTimeStep(const HandleState& handle,
                       absl::Span<const int32_t> copies, bool named_copies,
                       env::v3::TimeStep* timestep, BatchBuffers* buffers);
  // Runs body over [0, n) on the pool (or inline while another batch has
  // it); returns the pool threads' time beyond this thread's, in ns.
  double RunParallel(int64_t n, const std::function<void(int64_t)>& body);

  ServerOptions options_;
  Completion completion_;
  WorkerPool pool_;
  std::mutex pool_mutex_;  // one ParallelFor at a time; others run inline

  // Guards the handle table, the usage counters and every handle's queue.
  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<HandleState>> handles_;
  std::map<std::string, ClientUsage> clients_;
  int64_t server_bytes_ = 0;  // estimates of open handles and makes running
  int handles_reserved_ = 0;  // open handles and makes running
  // Handle ids are drawn at random, so one client cannot guess and close or
  // step another's handles.
  std::mt19937_64 handle_ids_{std::random_device{}()};
  // Requests waiting for or running on a request thread, per client and in
  // all: bounded, so a client that pipelines without end gets
  // RESOURCE_EXHAUSTED instead of the server's memory.
  std::map<std::string, int> deferred_by_client_;
  int deferred_ = 0;

  // Reused by the synchronous paths so steady-state steps allocate nothing.
  env::v3::Request request_;
  env::v3::Response response_;
  // Last: its threads stop (finishing queued requests) before the rest goes.
  TaskQueue requests_;
};

// The environment server: an EnvService behind a ZeroMQ ROUTER socket.
// One thread (the one that calls Run()) owns the socket: it answers cheap
// requests itself (each takes microseconds; expensive batches fan out to
// the worker pool) and hands possibly slow ones to the service's request
// threads, whose answers come back to it over an inproc socket. So a slow
// make or a huge step never holds up another client, and each handle sees
// its requests in order. Replies to clients that went away are dropped by
// ZeroMQ.
class EnvServer {
 public:
  // `context` must outlive the server; inproc:// endpoints are reachable
  // only by sockets of the same context.
  EnvServer(zmq::context_t* context, const ServerOptions& options);
  ~EnvServer();

  // Binds tcp://, ipc:// or inproc:// endpoints; call before Run().
  // "tcp://127.0.0.1:0" binds an ephemeral port: see last_endpoint().
  // Fails for unusable CURVE options (the key files are read on
  // construction).
  absl::Status Bind(const std::string& endpoint);
  std::string last_endpoint() const;

  // Serves until Stop() is called (from any thread or a signal handler).
  void Run();
  void Stop() { stop_.store(true); }

  // CURVE handshakes the ZAP handler refused (0 without one).
  int64_t curve_denials() const;

 private:
  // Takes one request off the socket and answers or defers it.
  void ServeOne(bool wait);
  // Sends the answers of deferred requests that have come back.
  void SendCompleted();
  void Reply(std::vector<zmq::message_t>& envelope, zmq::message_t& body);

  // Applies options.curve_* to socket_.
  absl::Status SetUpCurve(zmq::context_t* context,
                          const ServerOptions& options);

  // Declared before socket_ so the socket closes first: libzmq admits
  // CURVE clients when no ZAP handler is bound.
  std::unique_ptr<ZapAuthenticator> zap_;
  absl::Status curve_status_;
  std::unique_ptr<zmq::socket_t> socket_;
  // Deferred answers: request threads push (under the mutex), Run() pulls.
  std::unique_ptr<zmq::socket_t> completed_pull_;
  std::mutex completed_push_mutex_;
  std::unique_ptr<zmq::socket_t> completed_push_;
  // Envelopes of deferred requests, by tag (Run()'s thread only).
  std::unordered_map<uint64_t, std::vector<zmq::message_t>> waiting_;
  uint64_t next_tag_ = 1;
  // ServeOne's scratch, reused: the frames of a request, its client.
  std::vector<zmq::message_t> frames_;
  std::string client_;
  // After the sockets: its request threads finish before they close.
  EnvService service_;
  std::atomic<bool> stop_{false};
  std::string last_endpoint_;
};

}  // namespace marl

#endif  // MARL_SERVER_ENV_SERVER_H_
