#include "agents/independent/sac_learner.h"
#include <cstdio>
#include <cmath>
using namespace marl;
int main() {
  for (int warm : {64, 256}) for (int aut : {0, 1}) for (double alpha : {0.05, 0.2}) for (double alr : {3e-3, 1e-3}) for (double clr : {3e-3, 1e-2}) {
    printf("warm %d auto %d alpha %g alr %g clr %g:\n", warm, aut, alpha, alr, clr);
    for (int seed : {3, 4, 5}) {
    SacOptions o; o.hidden = {32, 32}; o.actor_lr = alr; o.critic_lr = clr; o.alpha = alpha; o.auto_entropy = aut;
    o.batch_size = 64; o.warmup = warm; o.update_ratio = 1.0;
    auto l = *SacLearner::Create(1, {-5.f}, {5.f}, o, seed);
    float obs = 1;
    printf("   ");
    for (int i = 0; i < 800; ++i) {
      float a; l->Act(&obs, 1, false, &a);
      l->Observe(&obs, &a, -(a-3)*(a-3), &obs, true);
      l->TrainPending(nullptr);
      if (i % 100 == 99) { float d; l->Act(&obs, 1, true, &d); printf(" %.2f", d); }
    }
    printf("\n");
  }}
}
