#ifndef MARL_COMMON_TRAINING_FLAGS_H_
#define MARL_COMMON_TRAINING_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/training_loop.h"

namespace marl {

// The shared training loop's command-line flags (--endpoint, --env,
// --env_settings, --num_copies, --seed, --mode, --steps, --eval_every,
// --eval_episodes, --log_every, --return_window, --progress_seconds,
// --runs_root, --run_name, --checkpoint_every, --restore, --timeout_ms),
// defined once here so each agent's main.cc adds only its algorithm's.

// TrainingOptions from those flags (progress to stdout); INVALID_ARGUMENT
// for an unparsable --env_settings.
absl::StatusOr<TrainingOptions> TrainingOptionsFromFlags();

// Sets the usage message, makes --help list the flags of `agent_folder`
// (e.g. "agents/pr2/") and of this file, and parses the command line.
// Returns false (after a message on stderr naming `program`) if there are
// positional arguments.
bool ParseAgentCommandLine(int argc, char** argv, absl::string_view program,
                           absl::string_view usage,
                           absl::string_view agent_folder);

}  // namespace marl

#endif  // MARL_COMMON_TRAINING_FLAGS_H_
