#include "runtime/blas_threads.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>

namespace marl {

void RestartWithOneBlasThreadUnlessSet(char** argv) {
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
  if (setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/1) != 0) return;
  // The resolved path, so the process keeps its name (ps, top).
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return;
  path[n] = '\0';
  execv(path, argv);
  // Only reached if the restart failed: carry on with the pool.
}

}  // namespace marl
