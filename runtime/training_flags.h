#ifndef MARL_RUNTIME_TRAINING_FLAGS_H_
#define MARL_RUNTIME_TRAINING_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/training_loop.h"

namespace marl {

// The shared training loop's command-line flags (--endpoint, --env,
// --env_settings, --num_copies, --seed, --mode, --steps, --eval_every,
// --eval_episodes, --log_every, --return_window, --progress_seconds,
// --runs_root, --run_name, --checkpoint_every, --restore, --timeout_ms,
// --curve_server_key_file, --curve_client_key_file, and --config, which
// starts from a run's config.json), defined once here so each agent's
// main.cc adds only its algorithm's.

// TrainingOptions from those flags (progress to stdout); INVALID_ARGUMENT
// for an unparsable --env_settings.
absl::StatusOr<TrainingOptions> TrainingOptionsFromFlags();

// Sets the usage message, makes --help list the flags of `agent_folder`
// (e.g. "agents/pr2/") and of this file, and parses the command line: the
// flags recorded in --config's file first, then the command line's.
// Returns false (after a message on stderr naming `program`) if there are
// positional arguments.
bool ParseAgentCommandLine(int argc, char** argv, absl::string_view program,
                           absl::string_view usage,
                           absl::string_view agent_folder);

// What an agent binary contributes: its algorithm name (the run format's
// "algorithm") and the factory of its learners, built from its own flags
// (an error for bad flag values).
struct AgentAlgorithm {
  std::string name;
  LearnerFactory factory;
};

// The whole main() of an agent binary: parses the command line (see
// ParseAgentCommandLine), builds the loop's options and the algorithm,
// trains or evaluates, and prints the result. Returns the exit code: 0 on
// success, 2 for bad flags, 1 for a failed run (the message on stderr,
// prefixed by `program`). Never lets an exception escape.
int RunAgentMain(
    int argc, char** argv, absl::string_view program, absl::string_view usage,
    absl::string_view agent_folder,
    const std::function<absl::StatusOr<AgentAlgorithm>()>& make_algorithm);

}  // namespace marl

#endif  // MARL_RUNTIME_TRAINING_FLAGS_H_
