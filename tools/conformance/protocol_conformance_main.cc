// protocol_conformance: checks an environment server, in any language,
// against the marl.env.v3 protocol (docs/PROTOCOL.md, "Conformance suite").
// Prints one line per check, then "N passed, N failed"; exits 1 if any check
// failed, 2 on a usage error.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/conformance/conformance_checks.h"

ABSL_FLAG(std::string, endpoint, "",
          "Required. The server to check: tcp://HOST:PORT, ipc://PATH.");
ABSL_FLAG(std::string, env, "",
          "Check only this environment (default: every environment the "
          "server lists, each with its default settings).");
ABSL_FLAG(std::string, env_settings, "",
          "Settings for --env in the agents' form, e.g. "
          "\"game=climbing,payoffs_row=[[0,3],[1,2]]\" (typed by the "
          "defaults the server declares). Needs --env.");
ABSL_FLAG(int, timeout_ms, 3000,
          "How long each request may wait for its reply; no reply in time "
          "fails that check.");
ABSL_FLAG(uint64_t, seed, 1,
          "Seed for the handles made and for the random actions played.");
ABSL_FLAG(int, max_episode_steps, 1000,
          "Steps of random play within which some episode must end, for "
          "environments whose spec declares no episode_limit.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Checks an environment server against the marl.env.v3 protocol.\n"
      "  protocol_conformance --endpoint=tcp://127.0.0.1:5555 [--env=NAME]\n"
      "Prints PASS/FAIL per check and a final \"N passed, N failed\" line; "
      "exit status 0 only if every check passed.");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::fprintf(stderr,
                 "protocol_conformance: unexpected argument '%s' (flags "
                 "only; see --help)\n",
                 positional[1]);
    return 2;
  }
  marl::conformance::SuiteOptions options;
  options.endpoint = absl::GetFlag(FLAGS_endpoint);
  options.env = absl::GetFlag(FLAGS_env);
  options.env_settings = absl::GetFlag(FLAGS_env_settings);
  options.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.max_episode_steps = absl::GetFlag(FLAGS_max_episode_steps);
  auto results = marl::conformance::RunSuite(
      options, [](const marl::conformance::CheckResult& result) {
        std::printf("%s\n", result.Line().c_str());
        std::fflush(stdout);
      });
  if (!results.ok()) {
    std::fprintf(stderr, "protocol_conformance: %s\n",
                 std::string(results.status().message()).c_str());
    return 2;
  }
  std::printf("%s\n", marl::conformance::SummaryLine(*results).c_str());
  for (const auto& result : *results) {
    if (!result.passed) return 1;
  }
  return 0;
}
