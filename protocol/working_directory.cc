#include "protocol/working_directory.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace marl {

absl::Status EnterBazelRunDirectory() {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir == nullptr || *dir == '\0' || ::chdir(dir) == 0) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot change to the directory bazel run was started in (",
                   dir, "): ", std::strerror(errno)));
}

}  // namespace marl
