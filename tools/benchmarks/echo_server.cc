// The bare ZeroMQ side of client_benchmark, in C++ (echo_server.py is the
// same in Python): a ROUTER that answers every request with the same
// prepared bytes (a serialized step response), so a DEALER exchanging a
// serialized step request with it costs what ZeroMQ and the loopback
// transport cost, and nothing else. Receives with blocking calls, as
// EnvServer::Run does.
//
//   echo_server --endpoint=tcp://127.0.0.1:0
//
// A request of two frames ["set-reply", BYTES] sets the reply (answered with
// "ok"); any other request gets the reply. Prints "env_server: listening on
// ENDPOINT" (the project's servers' line, which scripts and
// marl_env.testing.start_server look for); stops on SIGINT or SIGTERM.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"

ABSL_FLAG(std::string, endpoint, "tcp://127.0.0.1:0",
          "ZeroMQ endpoint to bind (ROUTER socket); port 0 picks a free one.");

namespace {

volatile std::sig_atomic_t g_stop = 0;
void HandleSignal(int) { g_stop = 1; }

constexpr char kSetReply[] = "set-reply";

int Serve(const std::string& endpoint) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, 100);  // to notice a signal
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& error) {
    std::fprintf(stderr, "echo_server: cannot bind %s: %s\n", endpoint.c_str(),
                 error.what());
    return 1;
  }
  std::printf("env_server: listening on %s\n",
              socket.get(zmq::sockopt::last_endpoint).c_str());
  std::fflush(stdout);
  std::string reply;
  zmq::message_t identity, body, extra;
  while (!g_stop) {
    try {
      if (!socket.recv(identity, zmq::recv_flags::none)) continue;
      if (!identity.more() || !socket.recv(body, zmq::recv_flags::none)) {
        continue;
      }
      bool set_reply = false;
      if (body.more()) {
        // Read the whole message; only ["set-reply", BYTES] means anything.
        bool ok = static_cast<bool>(socket.recv(extra, zmq::recv_flags::none));
        set_reply = ok && !extra.more() &&
                    body.to_string_view() == std::string_view(kSetReply);
        zmq::message_t rest;
        while (ok && extra.more()) {
          ok = static_cast<bool>(socket.recv(rest, zmq::recv_flags::none));
          extra.swap(rest);
          set_reply = false;
        }
      }
      socket.send(identity, zmq::send_flags::sndmore);
      if (set_reply) {
        reply.assign(static_cast<const char*>(extra.data()), extra.size());
        socket.send(zmq::str_buffer("ok"), zmq::send_flags::none);
      } else {
        socket.send(zmq::buffer(reply), zmq::send_flags::none);
      }
    } catch (const zmq::error_t& error) {
      if (error.num() == EINTR) continue;
      std::fprintf(stderr, "echo_server: %s\n", error.what());
      return 1;
    }
  }
  std::printf("env_server: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Bare ZeroMQ echo for client_benchmark: answers every request with "
      "prepared bytes.\n  echo_server --endpoint=tcp://127.0.0.1:0");
  absl::ParseCommandLine(argc, argv);
  std::signal(SIGINT, HandleSignal);
  std::signal(SIGTERM, HandleSignal);
  return Serve(absl::GetFlag(FLAGS_endpoint));
}
