#ifndef MARL_RUNTIME_BLAS_THREADS_H_
#define MARL_RUNTIME_BLAS_THREADS_H_

namespace marl {

// Agent binaries run small networks on one thread. OpenBLAS (the BLAS behind
// Debian's LibTorch) otherwise starts a pool whose idle workers spin on
// sched_yield: a PR2-AC run on a 2-core machine took 11 s wall and 21
// CPU-seconds with the pool, 5.5 s and 5.5 with one thread. OpenBLAS reads
// OPENBLAS_NUM_THREADS only while the program loads, so when it is unset
// this sets it to 1 and re-executes the program (argv unchanged); a value
// the user set is kept. Returns only if no restart happened.
void RestartWithOneBlasThreadUnlessSet(char** argv);

}  // namespace marl

#endif  // MARL_RUNTIME_BLAS_THREADS_H_
