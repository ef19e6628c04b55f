#ifndef MARL_LEARNERS_SOFT_MATH_H_
#define MARL_LEARNERS_SOFT_MATH_H_

#include <cstdint>
#include <random>

namespace marl {

// Maximum-entropy ("soft") operations over one row of a value table, shared
// by the tabular learners (independent soft-Q, PR2-Q, ROMMEO-Q). All are
// numerically stable (the row maximum is subtracted before exponentiating:
// values over a small temperature get large). Torch-free.

// temperature * log sum_k exp(x[k] / temperature): the soft maximum of x.
double SoftMax(const double* x, int64_t n, double temperature);

// temperature * log sum_k prior[k] * exp(x[k] / temperature): the soft
// maximum under a prior (entries with prior 0 are skipped; null prior =
// weight 1 each, i.e. SoftMax). With prior = uniform this is SoftMax minus
// temperature * log n. -inf when every weight is 0.
double SoftMaxWithPrior(const double* x, const double* prior, int64_t n,
                        double temperature);

// p[k] ∝ prior[k] * exp(x[k] / temperature) over the legal entries (mask
// null = all legal; prior null = uniform), written to `out` (n entries,
// illegal ones 0). If nothing is legal (or every weight is 0) the result
// is uniform over the legal entries, or over all if none are legal.
void SoftmaxPolicy(const double* x, const double* prior, const bool* mask,
                   int64_t n, double temperature, double* out);

// Inverse-CDF sample of an index from probabilities `p` (entries <= 0 are
// never drawn). Our own, not std::discrete_distribution, whose algorithm is
// implementation-defined: runs then repeat on every standard library.
int64_t SampleIndex(const double* p, int64_t n, std::mt19937_64* rng);

// argmax over the legal entries, lowest index on ties (0 if none legal).
int64_t ArgMax(const double* x, const bool* mask, int64_t n);

}  // namespace marl

#endif  // MARL_LEARNERS_SOFT_MATH_H_
