#ifndef MARL_PROTOCOL_WORKING_DIRECTORY_H_
#define MARL_PROTOCOL_WORKING_DIRECTORY_H_

#include "absl/status/status.h"

namespace marl {

// `bazel run` starts a binary in its runfiles tree and names the directory
// it was run from in BUILD_WORKING_DIRECTORY: relative paths on the command
// line (runs, configs, checkpoints, key files) mean that directory. Enters
// it when set; FAILED_PRECONDITION naming it when it cannot be entered.
// Every binary calls this before it reads a path.
absl::Status EnterBazelRunDirectory();

}  // namespace marl

#endif  // MARL_PROTOCOL_WORKING_DIRECTORY_H_
