#ifndef MARL_TOOLS_CONFORMANCE_CONFORMANCE_CHECKS_H_
#define MARL_TOOLS_CONFORMANCE_CONFORMANCE_CHECKS_H_

// The protocol conformance suite: checks any environment server, in any
// language, against marl.env.v3 (docs/PROTOCOL.md) over a raw ZeroMQ DEALER
// socket with real protobuf bytes. Everything environment-specific is
// discovered from what the server declares (list_environments, the spec
// make returns); nothing assumes a particular environment exists.
//
// Each check is a function returning OK (pass) or an error whose message
// says why it failed. Every bad-input check also verifies that the server
// answers a valid request afterwards, and every request has a deadline: a
// server that never answers fails its checks instead of hanging the suite.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/proto/env_protocol.pb.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace marl {
namespace conformance {

namespace pb = ::marl::env::v3;

inline constexpr uint32_t kProtocolVersion = 3;

// One request at a time over a DEALER socket. A request without an answer
// within the timeout fails with DEADLINE_EXCEEDED, and the socket is
// replaced so that a late answer cannot be mistaken for the next one's.
class Connection {
 public:
  Connection(zmq::context_t* context, std::string endpoint, int timeout_ms);
  ~Connection();

  // Sends `bytes` as one frame and returns the reply's single frame.
  absl::StatusOr<std::string> CallRaw(const std::string& bytes);

  // Sends `request` with a fresh request_id and returns the response. An
  // error when there is no answer, it does not parse, it answers another
  // request_id, it lacks a status, or its payload breaks the rule "payload
  // present (and of the request's kind) exactly when the code is OK".
  absl::StatusOr<pb::Response> Call(pb::Request request);

  const std::string& endpoint() const { return endpoint_; }
  int timeout_ms() const { return timeout_ms_; }
  zmq::context_t* context() const { return context_; }
  // False after a request went unanswered, until the next answer.
  bool responsive() const { return responsive_; }

 private:
  void Reconnect();

  zmq::context_t* context_;
  std::string endpoint_;
  int timeout_ms_;
  uint64_t next_request_id_ = 1;
  bool responsive_ = true;
  std::unique_ptr<zmq::socket_t> socket_;
};

struct SuiteOptions {
  std::string endpoint;
  // Only this environment; empty = every environment the server lists.
  std::string env;
  // Settings for `env` in the agents' text form ("a=1,b=[[0,1],[1,0]]"),
  // typed by the defaults the server declares. Needs `env`.
  std::string env_settings;
  int timeout_ms = 3000;
  uint64_t seed = 1;
  // Steps of random play in which some episode must end when the spec
  // declares no episode_limit.
  int max_episode_steps = 1000;
};

struct CheckResult {
  std::string scope;  // an environment's name, or "server"
  std::string check;
  bool passed = false;
  // Why it failed; for a pass, an optional note (e.g. "not offered").
  std::string message;

  // "PASS scope/check[: note]" or "FAIL scope/check: message".
  std::string Line() const;
};

// An environment under test: what the server listed, and the settings the
// suite makes it with (typed; empty = defaults).
struct EnvUnderTest {
  pb::EnvironmentInfo info;
  std::vector<pb::Setting> settings;
  uint64_t seed = 1;
  int num_copies = 3;  // at most the server's max_copies_per_handle
  int max_episode_steps = 1000;
};

// ------------------------------------------------------- server checks --
// Each returns OK on a pass. `info` receives a note for the pass line.

absl::Status CheckHandshake(Connection& connection);
absl::Status CheckWrongProtocolVersion(Connection& connection);
absl::Status CheckListEnvironments(Connection& connection);
absl::Status CheckGarbageBytes(Connection& connection);
absl::Status CheckUnknownOperation(Connection& connection);
absl::Status CheckUnknownEnvironment(Connection& connection);
absl::Status CheckUnknownHandle(Connection& connection);
absl::Status CheckVanishingClient(Connection& connection);

// -------------------------------------------------- environment checks --

absl::Status CheckMakeSpec(Connection& connection, const EnvUnderTest& env);
absl::Status CheckUnknownSetting(Connection& connection,
                                 const EnvUnderTest& env);
absl::Status CheckMistypedSetting(Connection& connection,
                                  const EnvUnderTest& env, std::string* note);
absl::Status CheckBadNumCopies(Connection& connection, const EnvUnderTest& env);
absl::Status CheckResetAll(Connection& connection, const EnvUnderTest& env);
absl::Status CheckResetChosenCopies(Connection& connection,
                                    const EnvUnderTest& env);
absl::Status CheckBadCopies(Connection& connection, const EnvUnderTest& env);
absl::Status CheckStepChosenCopies(Connection& connection,
                                   const EnvUnderTest& env);

// Random play with same-step auto-reset, judged three ways.
struct PlayVerdicts {
  absl::Status shapes;        // sizes, spaces, finite numbers
  absl::Status episode_ends;  // episode_step, terminated vs truncated
  absl::Status auto_reset;    // SAME_STEP: final rows and observations
};
PlayVerdicts CheckRandomPlay(Connection& connection, const EnvUnderTest& env);

absl::Status CheckAutoResetNone(Connection& connection, const EnvUnderTest& env,
                                std::string* note);
absl::Status CheckSameSeedSameTrajectory(Connection& connection,
                                         const EnvUnderTest& env);
absl::Status CheckDifferentSeed(Connection& connection, const EnvUnderTest& env,
                                std::string* note);
absl::Status CheckCopyStreamsIndependent(Connection& connection,
                                         const EnvUnderTest& env);
absl::Status CheckStepBeforeReset(Connection& connection,
                                  const EnvUnderTest& env);
absl::Status CheckWrongAgentCount(Connection& connection,
                                  const EnvUnderTest& env);
absl::Status CheckWrongActionCount(Connection& connection,
                                   const EnvUnderTest& env);
// Action arrays whose byte length is not a whole number of values.
absl::Status CheckPartialActionValues(Connection& connection,
                                      const EnvUnderTest& env);
absl::Status CheckWrongActionKind(Connection& connection,
                                  const EnvUnderTest& env);
absl::Status CheckOutOfRangeActions(Connection& connection,
                                    const EnvUnderTest& env);
absl::Status CheckMaskedAction(Connection& connection, const EnvUnderTest& env,
                               std::string* note);
absl::Status CheckClose(Connection& connection, const EnvUnderTest& env);
// The message channel (docs/PROTOCOL.md, "Message channel"): the setting
// message_size is declared last (int, default 0), and K outside [0, 1024]
// is INVALID_ARGUMENT. An environment whose spec (without the setting) has
// >= 2 agents, Discrete or MultiDiscrete actions and no action masks, made
// with message_size 2, has the channel's spec and plays as it does
// without (a handle without the channel, same seed and actions), every
// observation ending with each partner's message one-hot at the documented
// offset (zeros at an episode's first; ended rows' final observations carry
// their last step's); any other environment refuses it (INVALID_ARGUMENT).
absl::Status CheckMessageChannel(Connection& connection,
                                 const EnvUnderTest& env, std::string* note);

// ---------------------------------------------------------------- suite --

// Runs every check against options.endpoint: the server checks, then the
// environment checks for each environment (all listed, or options.env).
// `report` sees each result as soon as it is known. An INVALID_ARGUMENT
// error for unusable options (no endpoint, settings without an
// environment, unparsable settings).
absl::StatusOr<std::vector<CheckResult>> RunSuite(
    const SuiteOptions& options,
    const std::function<void(const CheckResult&)>& report = nullptr);

// "N passed, N failed".
std::string SummaryLine(const std::vector<CheckResult>& results);

}  // namespace conformance
}  // namespace marl

#endif  // MARL_TOOLS_CONFORMANCE_CONFORMANCE_CHECKS_H_
