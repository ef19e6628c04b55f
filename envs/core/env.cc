#include "envs/core/env.h"

namespace marl {

BatchLayout::BatchLayout(const EnvSpec& spec) {
  for (int agent = 0; agent < spec.num_agents(); ++agent) {
    observation_size.push_back(spec.observation_spaces[agent].FlatSize());
    action_size.push_back(spec.action_spaces[agent].FlatSize());
    const Space& action_space = spec.action_spaces[agent];
    mask_size.push_back(spec.has_action_masks && action_space.is_discrete()
                            ? action_space.n
                            : 0);
  }
  if (spec.has_public_observation) {
    public_observation_size = spec.public_observation_space.FlatSize();
  }
  if (spec.has_state) state_size = spec.state_space.FlatSize();
  info_size = static_cast<int64_t>(spec.info_keys.size());
}

void Env::StepRows(const BatchRows& rows) {
  for (const int64_t row : rows.rows) {
    rows.env(row).Step(Actions(rows.actions, rows.layout, row),
                       Output(rows.out, rows.layout, row));
  }
}

void Env::ResetRows(const BatchRows& rows) {
  for (const int64_t row : rows.rows) {
    rows.env(row).Reset(Output(rows.out, rows.layout, row));
  }
}

}  // namespace marl
