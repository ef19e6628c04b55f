#ifndef MARL_SERVER_SILENCEABLE_SERVER_H_
#define MARL_SERVER_SILENCEABLE_SERVER_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "server/env_server.h"

namespace marl {

// A real EnvService behind a ROUTER that answers until told to go silent;
// then it keeps reading and records which operations arrived (a hung
// server).
class SilenceableServer {
 public:
  SilenceableServer() : service_(ServerOptions()) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 20);
    socket_.bind("tcp://127.0.0.1:0");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Serve(); });
  }
  ~SilenceableServer() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  // Silent after this many more answers (0: now).
  void SilenceAfter(int answers) { answers_left_ = answers; }
  // Operations received and not answered, e.g. {"step", "close"}.
  std::vector<std::string> unanswered() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unanswered_;
  }
  int closes_answered() const { return closes_answered_; }

 private:
  void Serve() {
    std::string reply;
    while (!stop_) {
      zmq::message_t identity, body;
      if (!socket_.recv(identity, zmq::recv_flags::none)) continue;
      if (!socket_.recv(body, zmq::recv_flags::none)) continue;
      env::v3::Request request;
      request.ParseFromArray(body.data(), static_cast<int>(body.size()));
      if (answers_left_ == 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto* field =
            request.GetDescriptor()->FindFieldByNumber(request.payload_case());
        unanswered_.push_back(field == nullptr ? "none" : field->name());
        continue;
      }
      if (answers_left_ > 0) --answers_left_;
      if (request.has_close()) ++closes_answered_;
      service_.Handle(body.data(), body.size(), &reply);
      socket_.send(identity, zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }

  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::router};
  EnvService service_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answers_left_{-1};  // -1: answer forever
  std::atomic<int> closes_answered_{0};
  std::mutex mutex_;
  std::vector<std::string> unanswered_;
  std::thread thread_;
};

}  // namespace marl

#endif  // MARL_SERVER_SILENCEABLE_SERVER_H_
