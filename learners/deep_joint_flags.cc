// The flags of the deep joint-action learners' shared hyperparameters
// (learners/deep_joint_params.h), defined once for every binary that links
// this file: --hidden, --critic_lr, --gamma, --tau, --batch_size,
// --buffer_size, --warmup, --update_ratio.
#include "learners/deep_joint_params.h"

MARL_PARAM_FLAGS(DeepJointParams, MARL_DEEP_JOINT_PARAMS)
