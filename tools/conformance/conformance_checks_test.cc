// The conformance suite against the real C++ server (every check passes) and
// against servers broken on purpose: a ROUTER in front of a real EnvService
// whose answers a test changes or withholds. Each breakage must fail the
// checks that guard against it, and never hang the suite.
#include "tools/conformance/conformance_checks.h"

#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/env_server.h"
#include "server/test_server.h"

namespace marl {
namespace conformance {
namespace {

// Rewrites an array of a reply as values.
template <typename T, typename Edit>
void EditArray(std::string* bytes, const Edit& edit) {
  std::vector<T> values = ArrayToVector<T>(*bytes);
  edit(values);
  SetArray<T>(values, bytes);
}

// Returns false to send no answer at all. `request` is null for bytes that
// do not parse.
using Tamper =
    std::function<bool(const pb::Request* request, pb::Response* response)>;

// A ROUTER socket on an ephemeral loopback port, answering with a real
// EnvService (every registered environment) after `tamper` had its say.
class TamperingServer {
 public:
  explicit TamperingServer(Tamper tamper)
      : tamper_(std::move(tamper)),
        socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 50);
    socket_.bind("tcp://127.0.0.1:0");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TamperingServer() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  void Serve() {
    EnvService service{ServerOptions()};
    std::string reply;
    while (!stop_.load()) {
      std::vector<zmq::message_t> frames;
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::none)) continue;
      frames.push_back(std::move(frame));
      while (frames.back().more()) {
        zmq::message_t next;
        if (!socket_.recv(next, zmq::recv_flags::none)) break;
        frames.push_back(std::move(next));
      }
      if (frames.size() < 2) continue;
      const zmq::message_t& body = frames.back();
      service.Handle(body.data(), body.size(), &reply);
      pb::Response response;
      response.ParseFromString(reply);
      pb::Request request;
      const bool parsed = request.ParseFromArray(body.data(), body.size());
      if (!tamper_(parsed ? &request : nullptr, &response)) continue;
      response.SerializeToString(&reply);
      for (size_t i = 0; i + 1 < frames.size(); ++i) {
        socket_.send(frames[i], zmq::send_flags::sndmore);
      }
      socket_.send(zmq::buffer(reply), zmq::send_flags::dontwait);
    }
  }

  Tamper tamper_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::vector<CheckResult> RunAgainst(const std::string& endpoint,
                                    const std::string& env = "",
                                    int timeout_ms = 2000) {
  SuiteOptions options;
  options.endpoint = endpoint;
  options.env = env;
  options.timeout_ms = timeout_ms;
  auto results = RunSuite(options);
  EXPECT_TRUE(results.ok()) << results.status();
  return results.ok() ? *results : std::vector<CheckResult>();
}

// "scope/check" -> result.
std::map<std::string, CheckResult> ByName(
    const std::vector<CheckResult>& results) {
  std::map<std::string, CheckResult> by_name;
  for (const CheckResult& r : results) by_name[r.scope + "/" + r.check] = r;
  return by_name;
}

std::string Failures(const std::vector<CheckResult>& results) {
  std::string out;
  for (const CheckResult& r : results) {
    if (!r.passed) out += r.Line() + "\n";
  }
  return out;
}

// The named check ran and failed.
void ExpectFailed(const std::map<std::string, CheckResult>& results,
                  const std::string& name) {
  auto it = results.find(name);
  ASSERT_NE(it, results.end()) << name << " did not run";
  EXPECT_FALSE(it->second.passed) << name << " passed against a broken server";
  std::printf("as expected: %s\n", it->second.Line().c_str());
}

void ExpectPassed(const std::map<std::string, CheckResult>& results,
                  const std::string& name) {
  auto it = results.find(name);
  ASSERT_NE(it, results.end()) << name << " did not run";
  EXPECT_TRUE(it->second.passed) << it->second.Line();
}

TEST(ConformanceTest, TheCppServerPassesEveryCheck) {
  TestServer server;
  const std::vector<CheckResult> results = RunAgainst(server.endpoint());
  EXPECT_EQ(Failures(results), "");
  const auto by_name = ByName(results);
  // Every environment the server registers was discovered and checked,
  // Discrete and Box actions, one-shot and multi-step episodes alike.
  for (const char* check :
       {"matrix_game/auto_reset_same_step",
        "iterated_matrix_game/terminated_vs_truncated",
        "max_of_two_quadratics/out_of_range_actions",
        "beauty_contest/same_seed_same_trajectory", "server/garbage_bytes",
        // The message channel, hosted (one-shot and multi-step) and
        // refused (Box actions, one agent).
        "matrix_game/message_channel", "soccer/message_channel",
        "max_of_two_quadratics/message_channel", "taxi/message_channel"}) {
    ExpectPassed(by_name, check);
  }
  EXPECT_EQ(SummaryLine(results),
            std::to_string(results.size()) + " passed, 0 failed");
}

TEST(ConformanceTest, OneEnvironmentWithSettings) {
  TestServer server;
  SuiteOptions options;
  options.endpoint = server.endpoint();
  options.env = "iterated_matrix_game";
  options.env_settings = "episode_length=3,game=wolf";
  auto results = RunSuite(options);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(Failures(*results), "");
  for (const CheckResult& r : *results) {
    EXPECT_TRUE(r.scope == "server" || r.scope == "iterated_matrix_game")
        << r.Line();
  }
  // An unknown environment is a failure, not a silent empty run.
  options.env = "no_such_env";
  options.env_settings = "";
  results = RunSuite(options);
  ASSERT_TRUE(results.ok());
  ExpectFailed(ByName(*results), "no_such_env/listed");
}

TEST(ConformanceTest, UsageErrors) {
  SuiteOptions options;
  EXPECT_EQ(RunSuite(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // no endpoint
  options.endpoint = "tcp://127.0.0.1:1";
  options.env_settings = "game=wolf";
  EXPECT_EQ(RunSuite(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // settings without env
  options.env = "matrix_game";
  options.env_settings = "game";
  EXPECT_EQ(RunSuite(options).status().code(),
            absl::StatusCode::kInvalidArgument);  // not name=value
}

TEST(ConformanceTest, ASilentServerFailsEveryCheckWithoutHanging) {
  TamperingServer server([](const pb::Request*, pb::Response*) {
    return false;  // never answers
  });
  // Each check gives up after its timeout (a hang would hit the test's own
  // timeout instead) and says so.
  const std::vector<CheckResult> results =
      RunAgainst(server.endpoint(), "", /*timeout_ms=*/200);
  ASSERT_FALSE(results.empty());
  for (const CheckResult& r : results) EXPECT_FALSE(r.passed) << r.Line();
  const auto by_name = ByName(results);
  ExpectFailed(by_name, "server/handshake");
  EXPECT_NE(by_name.at("server/handshake").message.find("no reply within"),
            std::string::npos)
      << by_name.at("server/handshake").message;
}

TEST(ConformanceTest, AServerListingNothingFails) {
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && request->has_list_environments()) {
          response->mutable_list_environments()->clear_environments();
        }
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint()));
  ExpectFailed(by_name, "server/list_environments");
  EXPECT_NE(by_name.at("server/list_environments")
                .message.find("lists no environments"),
            std::string::npos);
  ExpectPassed(by_name, "server/handshake");
}

TEST(ConformanceTest, AcceptingGarbageFails) {
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request == nullptr) response->mutable_status()->set_code(pb::OK);
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "server/garbage_bytes");
  ExpectPassed(by_name, "server/handshake");
  ExpectPassed(by_name, "matrix_game/step_shapes_and_values");
}

TEST(ConformanceTest, DyingAfterABadRequestFails) {
  // Answers the garbage, then nothing ever again.
  auto dead = std::make_shared<std::atomic<bool>>(false);
  TamperingServer server([dead](const pb::Request* request, pb::Response*) {
    if (dead->load()) return false;
    if (request == nullptr) dead->store(true);
    return true;
  });
  const auto by_name =
      ByName(RunAgainst(server.endpoint(), "matrix_game", /*timeout_ms=*/200));
  ExpectPassed(by_name, "server/handshake");
  ExpectFailed(by_name, "server/garbage_bytes");
  EXPECT_NE(by_name.at("server/garbage_bytes").message.find("did not answer"),
            std::string::npos)
      << by_name.at("server/garbage_bytes").message;
}

TEST(ConformanceTest, WrongRequestIdFails) {
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && request->has_handshake()) {
          response->set_request_id(response->request_id() + 1);
        }
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "server/handshake");
  EXPECT_NE(by_name.at("server/handshake").message.find("request_id"),
            std::string::npos);
}

TEST(ConformanceTest, MissingFinalObservationsFailTheAutoResetCheck) {
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_step()) {
          pb::TimeStep* ts = response->mutable_step()->mutable_timestep();
          ts->clear_final_public_observation();
          ts->clear_final_state();
          for (pb::AgentTimeStep& agent : *ts->mutable_agents()) {
            agent.clear_final_observation();
          }
        }
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint()));
  ExpectFailed(by_name, "matrix_game/auto_reset_same_step");
  ExpectFailed(by_name, "iterated_matrix_game/auto_reset_same_step");
  // Since version 3 an ended row's final observation is part of the shape.
  ExpectFailed(by_name, "matrix_game/step_shapes_and_values");
  ExpectPassed(by_name, "matrix_game/auto_reset_none");  // no final rows
}

TEST(ConformanceTest, TruncationOffTheLimitFails) {
  // Episodes run past the limit without being marked truncated.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_step()) {
          pb::TimeStep* ts = response->mutable_step()->mutable_timestep();
          EditArray<uint8_t>(ts->mutable_truncated(),
                             [](std::vector<uint8_t>& truncated) {
                               for (uint8_t& t : truncated) t = 0;
                             });
          // Consistently: rows that did not end have no final observations
          // (this game's episodes end only at the limit).
          ts->clear_final_public_observation();
          ts->clear_final_state();
          for (pb::AgentTimeStep& agent : *ts->mutable_agents()) {
            agent.clear_final_observation();
          }
        }
        return true;
      });
  const auto by_name =
      ByName(RunAgainst(server.endpoint(), "iterated_matrix_game"));
  ExpectFailed(by_name, "iterated_matrix_game/terminated_vs_truncated");
  ExpectPassed(by_name, "iterated_matrix_game/step_shapes_and_values");
}

TEST(ConformanceTest, NondeterminismFailsTheSameSeedCheck) {
  auto rng = std::make_shared<std::mt19937>(5);
  TamperingServer server(
      [rng](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_step()) {
          pb::AgentTimeStep* agent =
              response->mutable_step()->mutable_timestep()->mutable_agents(0);
          EditArray<float>(agent->mutable_reward(),
                           [&rng](std::vector<float>& rewards) {
                             for (float& reward : rewards) {
                               reward += (*rng)() % 100 * 1e-3f;
                             }
                           });
        }
        return true;
      });
  const auto by_name =
      ByName(RunAgainst(server.endpoint(), "max_of_two_quadratics"));
  ExpectFailed(by_name, "max_of_two_quadratics/same_seed_same_trajectory");
  ExpectPassed(by_name, "max_of_two_quadratics/step_shapes_and_values");
  ExpectPassed(by_name, "max_of_two_quadratics/different_seed");
}

TEST(ConformanceTest, WrongErrorCodesFail) {
  // OUT_OF_RANGE reported as INVALID_ARGUMENT.
  TamperingServer server([](const pb::Request*, pb::Response* response) {
    if (response->status().code() == pb::OUT_OF_RANGE) {
      response->mutable_status()->set_code(pb::INVALID_ARGUMENT);
    }
    return true;
  });
  const auto by_name =
      ByName(RunAgainst(server.endpoint(), "max_of_two_quadratics"));
  ExpectFailed(by_name, "max_of_two_quadratics/out_of_range_actions");
  ExpectFailed(by_name, "max_of_two_quadratics/bad_copies");
  ExpectPassed(by_name, "max_of_two_quadratics/wrong_action_kind");
}

TEST(ConformanceTest, AcceptingAMaskedActionFails) {
  // The spec claims masks (the last action illegal for everyone), but the
  // server behind it never enforces them.
  auto actions = std::make_shared<std::atomic<int>>(0);
  TamperingServer server([actions](const pb::Request* request,
                                   pb::Response* response) {
    if (request == nullptr) return true;
    if (response->has_make()) {
      pb::EnvSpec* spec = response->mutable_make()->mutable_spec();
      spec->set_has_action_masks(true);
      actions->store(spec->agents(0).action_space().discrete().n());
    }
    pb::TimeStep* ts =
        response->has_step()    ? response->mutable_step()->mutable_timestep()
        : response->has_reset() ? response->mutable_reset()->mutable_timestep()
                                : nullptr;
    if (ts != nullptr) {
      const int n = actions->load();
      const size_t rows = ts->terminated().size();  // one byte per row
      for (pb::AgentTimeStep& agent : *ts->mutable_agents()) {
        std::vector<uint8_t> mask;
        for (size_t r = 0; r < rows; ++r) {
          for (int a = 0; a < n; ++a) mask.push_back(a + 1 < n);
        }
        SetArray<uint8_t>(mask, agent.mutable_action_mask());
      }
    }
    return true;
  });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "matrix_game/masked_action");
  // The masks are well formed, and random play respects them.
  ExpectPassed(by_name, "matrix_game/step_shapes_and_values");
  ExpectPassed(by_name, "matrix_game/same_seed_same_trajectory");
}

TEST(ConformanceTest, ShapeErrorsFail) {
  // One observation value short for the last agent on every step.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_step()) {
          pb::TimeStep* ts = response->mutable_step()->mutable_timestep();
          EditArray<float>(
              ts->mutable_agents(ts->agents_size() - 1)->mutable_observation(),
              [](std::vector<float>& observation) { observation.pop_back(); });
        }
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "beauty_contest"));
  ExpectFailed(by_name, "beauty_contest/step_shapes_and_values");
  ExpectPassed(by_name, "beauty_contest/reset_all");
}

TEST(ConformanceTest, PartialValuesInARepliedArrayFail) {
  // One byte past the first agent's rewards (float32) on every step: the
  // suite must say so, not read past the array.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_step()) {
          response->mutable_step()
              ->mutable_timestep()
              ->mutable_agents(0)
              ->mutable_reward()
              ->push_back('\x01');
        }
        return true;
      });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "matrix_game/step_shapes_and_values");
  const std::string& message =
      by_name.at("matrix_game/step_shapes_and_values").message;
  EXPECT_NE(message.find("reward"), std::string::npos) << message;
  EXPECT_NE(message.find("not a whole number"), std::string::npos) << message;
  ExpectPassed(by_name, "matrix_game/reset_all");
}

TEST(ConformanceTest, CopiesListedWhereNoneWereNamedFail) {
  // Version 3 leaves TimeStep.copies out when the request named none; here
  // every reset of all copies lists them anyway (as version 2 did).
  TamperingServer server([](const pb::Request* request,
                            pb::Response* response) {
    if (request != nullptr && response->has_reset() &&
        request->reset().copies().empty()) {
      const int copies =
          static_cast<int>(response->reset().timestep().terminated().size());
      std::vector<int32_t> all(copies);
      for (int c = 0; c < copies; ++c) all[c] = c;
      SetArray<int32_t>(
          all, response->mutable_reset()->mutable_timestep()->mutable_copies());
    }
    return true;
  });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "matrix_game/reset_all");
  const std::string& message = by_name.at("matrix_game/reset_all").message;
  EXPECT_NE(message.find("TimeStep.copies"), std::string::npos) << message;
  EXPECT_NE(message.find("named no copies"), std::string::npos) << message;
}

TEST(ConformanceTest, ShortRepliedCopiesFail) {
  // TimeStep.copies (int32) three bytes short on every reset naming copies.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && response->has_reset() &&
            !request->reset().copies().empty()) {
          std::string* copies =
              response->mutable_reset()->mutable_timestep()->mutable_copies();
          copies->resize(copies->size() - 3);
        }
        return true;
      });
  const auto results = RunAgainst(server.endpoint(), "matrix_game");
  bool found = false;
  for (const auto& result : results) {
    if (result.message.find("TimeStep.copies") == std::string::npos) continue;
    found = true;
    EXPECT_NE(result.message.find("not a whole number"), std::string::npos)
        << result.message;
  }
  EXPECT_TRUE(found) << "no check read a reset that named copies";
}

TEST(ConformanceTest, BoolsOtherThanZeroOrOneFail) {
  // terminated as byte 2 instead of 1 (the one-shot game ends every step).
  TamperingServer server([](const pb::Request* request,
                            pb::Response* response) {
    if (request != nullptr && response->has_step()) {
      EditArray<uint8_t>(
          response->mutable_step()->mutable_timestep()->mutable_terminated(),
          [](std::vector<uint8_t>& terminated) {
            for (uint8_t& t : terminated) t *= 2;
          });
    }
    return true;
  });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "matrix_game/step_shapes_and_values");
  const std::string& message =
      by_name.at("matrix_game/step_shapes_and_values").message;
  EXPECT_NE(message.find("terminated"), std::string::npos) << message;
  EXPECT_NE(message.find("not 0 or 1"), std::string::npos) << message;
}

TEST(ConformanceTest, AcceptingPartialActionValuesFails) {
  // Steps whose action arrays are not whole values are answered OK (with
  // an empty TimeStep) instead of INVALID_ARGUMENT; the real service
  // behind did refuse them, so nothing stepped.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request == nullptr || !request->has_step()) return true;
        for (const pb::AgentActions& actions : request->step().actions()) {
          if (!ArrayLength<int64_t>(actions.discrete(), "discrete").ok() ||
              !ArrayLength<float>(actions.continuous(), "continuous").ok()) {
            response->Clear();
            response->set_request_id(request->request_id());
            response->mutable_status()->set_code(pb::OK);
            response->mutable_step()->mutable_timestep();
            break;
          }
        }
        return true;
      });
  for (const char* env : {"matrix_game", "max_of_two_quadratics"}) {
    const auto by_name = ByName(RunAgainst(server.endpoint(), env));
    ExpectFailed(by_name, std::string(env) + "/partial_action_values");
    ExpectPassed(by_name, std::string(env) + "/wrong_action_count");
    ExpectPassed(by_name, std::string(env) + "/step_shapes_and_values");
  }
}

// The int value of setting message_size in a make request; 0 without.
int64_t MessageSizeOf(const pb::Request& request) {
  for (const pb::Setting& setting : request.make().settings()) {
    if (setting.name() == "message_size" && setting.value().has_int_value()) {
      return setting.value().int_value();
    }
  }
  return 0;
}

TEST(ConformanceTest, WrongMessagesFailTheChannelCheck) {
  // Every step of a handle with a channel swaps the last two floats of
  // each observation (with K = 2 and two agents, the partner's one-hot).
  auto sizes = std::make_shared<std::map<uint64_t, std::vector<int64_t>>>();
  TamperingServer server([sizes](const pb::Request* request,
                                 pb::Response* response) {
    if (request == nullptr) return true;
    if (response->has_make() && response->make().spec().message_size() > 0) {
      std::vector<int64_t>& agents = (*sizes)[response->make().handle()];
      for (const pb::AgentSpec& agent : response->make().spec().agents()) {
        agents.push_back(agent.observation_space().box().shape(0));
      }
    }
    if (!response->has_step()) return true;
    auto it = sizes->find(request->step().handle());
    if (it == sizes->end()) return true;
    pb::TimeStep* ts = response->mutable_step()->mutable_timestep();
    for (int a = 0; a < ts->agents_size(); ++a) {
      const int64_t size = it->second[a];
      auto swap = [size](std::vector<float>& values) {
        for (size_t end = size; end <= values.size(); end += size) {
          std::swap(values[end - 1], values[end - 2]);
        }
      };
      EditArray<float>(ts->mutable_agents(a)->mutable_observation(), swap);
      EditArray<float>(ts->mutable_agents(a)->mutable_final_observation(),
                       swap);
    }
    return true;
  });
  for (const char* env : {"matrix_game", "iterated_matrix_game"}) {
    const auto by_name = ByName(RunAgainst(server.endpoint(), env));
    ExpectFailed(by_name, std::string(env) + "/message_channel");
    ExpectPassed(by_name, std::string(env) + "/step_shapes_and_values");
  }
}

TEST(ConformanceTest, AChannelSpecWithoutItsSizeFails) {
  // The spec of a handle made with message_size does not say so.
  TamperingServer server([](const pb::Request*, pb::Response* response) {
    if (response->has_make()) {
      response->mutable_make()->mutable_spec()->clear_message_size();
    }
    return true;
  });
  const auto by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectFailed(by_name, "matrix_game/message_channel");
  EXPECT_NE(by_name.at("matrix_game/message_channel")
                .message.find("spec.message_size is 0"),
            std::string::npos)
      << by_name.at("matrix_game/message_channel").message;
  ExpectPassed(by_name, "matrix_game/make_spec");
}

TEST(ConformanceTest, RefusingAChannelWithTheWrongCodeFails) {
  // A make with a message_size in [1, 1024] that the environment cannot
  // host answers INTERNAL instead of INVALID_ARGUMENT.
  TamperingServer server(
      [](const pb::Request* request, pb::Response* response) {
        if (request != nullptr && request->has_make()) {
          const int64_t k = MessageSizeOf(*request);
          if (k >= 1 && k <= 1024 &&
              response->status().code() == pb::INVALID_ARGUMENT) {
            response->mutable_status()->set_code(pb::INTERNAL);
          }
        }
        return true;
      });
  auto by_name = ByName(RunAgainst(server.endpoint(), "max_of_two_quadratics"));
  ExpectFailed(by_name, "max_of_two_quadratics/message_channel");
  const std::string& message =
      by_name.at("max_of_two_quadratics/message_channel").message;
  EXPECT_NE(message.find("has Box actions"), std::string::npos) << message;
  EXPECT_NE(message.find("expected INVALID_ARGUMENT, got INTERNAL"),
            std::string::npos)
      << message;
  // An environment that hosts the channel is not refused at all.
  by_name = ByName(RunAgainst(server.endpoint(), "matrix_game"));
  ExpectPassed(by_name, "matrix_game/message_channel");
}

TEST(ConformanceTest, TheCppServerRefusesPartialActionValues) {
  TestServer server;
  for (const char* env : {"matrix_game", "max_of_two_quadratics"}) {
    SuiteOptions options;
    options.endpoint = server.endpoint();
    options.env = env;
    auto results = RunSuite(options);
    ASSERT_TRUE(results.ok()) << results.status();
    ExpectPassed(ByName(*results), std::string(env) + "/partial_action_values");
  }
}

}  // namespace
}  // namespace conformance
}  // namespace marl
