// Not a gtest: the function under test replaces the process. Stages:
//  1. A value the user set is kept and nothing restarts.
//  2. Unset: the call must not return; the program restarts with
//     OPENBLAS_NUM_THREADS=1 and the same arguments, where stage 3 checks.
#include "runtime/blas_threads.h"

#include <cstdlib>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "restarted") == 0) {
    const char* value = std::getenv("OPENBLAS_NUM_THREADS");
    if (value == nullptr || std::strcmp(value, "1") != 0) {
      std::cerr << "FAIL: restarted without OPENBLAS_NUM_THREADS=1\n";
      return 1;
    }
    std::cout << "PASS: restarted with OPENBLAS_NUM_THREADS=1\n";
    return 0;
  }
  setenv("OPENBLAS_NUM_THREADS", "3", 1);
  marl::RestartWithOneBlasThreadUnlessSet(argv);
  if (std::strcmp(std::getenv("OPENBLAS_NUM_THREADS"), "3") != 0) {
    std::cerr << "FAIL: a user's OPENBLAS_NUM_THREADS was overwritten\n";
    return 1;
  }
  std::cout << "PASS: a set value is kept" << std::endl;  // before exec
  unsetenv("OPENBLAS_NUM_THREADS");
  char restarted[] = "restarted";
  char* args[] = {argv[0], restarted, nullptr};
  marl::RestartWithOneBlasThreadUnlessSet(args);
  std::cerr << "FAIL: no restart with OPENBLAS_NUM_THREADS unset\n";
  return 1;
}
