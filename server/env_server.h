#ifndef MARL_SERVER_ENV_SERVER_H_
#define MARL_SERVER_ENV_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/proto/env_protocol.pb.h"
#include "envs/core/env_batch.h"
#include "server/worker_pool.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace marl {

class ZapAuthenticator;

struct ServerOptions {
  std::string server_name = "marl-env-server";
  // Threads stepping the copies of large batches, beside the serving thread.
  int worker_threads = 0;
  // Batches with fewer rows than this step on the serving thread alone
  // (handing tiny batches to workers costs more than it saves).
  int64_t parallel_min_rows = 64;
  // A handle unused this long is closed; 0 = never.
  int idle_handle_timeout_seconds = 600;
  int max_copies_per_handle = 1 << 16;
  int max_handles = 1 << 12;
  // CURVE (common/curve.h): the server's secret certificate turns it on;
  // with a directory of client public certificates, only those clients are
  // served. Not for inproc:// (no handshake there).
  std::string curve_secret_key_file;
  std::string curve_authorized_keys;
};

// The request handler: protocol bytes in, protocol bytes out, no transport.
// Every request gets a response; a bad one gets an error status and leaves
// the server as it was. Not thread-safe: one caller at a time.
class EnvService {
 public:
  explicit EnvService(const ServerOptions& options);
  ~EnvService();

  // Parses `request` and serialises the response into `response`.
  void Handle(const void* request, size_t size, std::string* response);
  // Handles an already parsed request (the in-process benchmark path).
  const env::v1::Response& Handle(const env::v1::Request& request);

  // Closes handles idle longer than the timeout; returns how many.
  int ExpireIdleHandles(std::chrono::steady_clock::time_point now);
  int num_handles() const { return static_cast<int>(handles_.size()); }

 private:
  struct HandleState;
  absl::Status Dispatch(const env::v1::Request& request,
                        env::v1::Response* response);
  absl::Status DoHandshake(const env::v1::HandshakeRequest& request,
                           env::v1::HandshakeResponse* response);
  absl::Status DoList(env::v1::ListEnvironmentsResponse* response);
  absl::Status DoMake(const env::v1::MakeRequest& request,
                      env::v1::MakeResponse* response);
  absl::Status DoReset(const env::v1::ResetRequest& request,
                       env::v1::TimeStep* timestep);
  absl::Status DoStep(const env::v1::StepRequest& request,
                      env::v1::TimeStep* timestep);
  absl::Status DoClose(const env::v1::CloseRequest& request);
  absl::StatusOr<HandleState*> FindHandle(uint64_t id);
  // Sizes `timestep` for `rows` rows and points `buffers` into it.
  void PrepareTimeStep(const HandleState& handle,
                       absl::Span<const int32_t> copies,
                       env::v1::TimeStep* timestep, BatchBuffers* buffers);

  ServerOptions options_;
  WorkerPool pool_;
  ParallelFor parallel_;
  std::map<uint64_t, std::unique_ptr<HandleState>> handles_;
  uint64_t next_handle_ = 1;
  // Reused across requests so steady-state steps allocate nothing.
  env::v1::Request request_;
  env::v1::Response response_;
};

// The environment server: an EnvService behind a ZeroMQ ROUTER socket.
// Requests are served one at a time on the thread that calls Run() (each
// takes microseconds; large batches fan out to the worker pool), so many
// clients share the server fairly and each handle sees its requests in
// order. Replies to clients that went away are dropped by ZeroMQ.
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
  // Applies options.curve_* to socket_.
  absl::Status SetUpCurve(zmq::context_t* context,
                          const ServerOptions& options);

  // Declared before socket_ so the socket closes first: libzmq admits
  // CURVE clients when no ZAP handler is bound.
  std::unique_ptr<ZapAuthenticator> zap_;
  absl::Status curve_status_;
  std::unique_ptr<zmq::socket_t> socket_;
  EnvService service_;
  std::atomic<bool> stop_{false};
  std::string last_endpoint_;
};

}  // namespace marl

#endif  // MARL_SERVER_ENV_SERVER_H_
