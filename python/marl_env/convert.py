"""Conversions between the protocol's messages (env_protocol_pb2, generated
by the build from common/proto/env_protocol.proto) and marl_env's Python
types: spaces, setting values, specs, timesteps."""

import numpy as np

import env_protocol_pb2 as pb

from marl_env import spaces


def space_to_proto(space, out):
    out.Clear()
    if isinstance(space, spaces.Discrete):
        out.discrete.n = space.n
    elif isinstance(space, spaces.MultiDiscrete):
        out.multi_discrete.nvec.extend(space.nvec.tolist())
    else:
        out.box.shape.extend(space.shape)
        out.box.low.extend(space.low.reshape(-1).tolist())
        out.box.high.extend(space.high.reshape(-1).tolist())


def space_from_proto(message):
    kind = message.WhichOneof("kind")
    if kind == "discrete":
        return spaces.Discrete(message.discrete.n)
    if kind == "multi_discrete":
        return spaces.MultiDiscrete(list(message.multi_discrete.nvec))
    if kind == "box":
        shape = tuple(message.box.shape)
        size = int(np.prod(shape, dtype=np.int64))
        if len(message.box.low) != size or len(message.box.high) != size:
            raise ValueError("box bounds do not match its shape")
        return spaces.Box(np.array(message.box.low, np.float32).reshape(shape),
                          np.array(message.box.high, np.float32).reshape(shape),
                          shape)
    raise ValueError("space has no kind")


def value_to_proto(value, out):
    """A setting value (bool, int, float, str, array-like) into a Value."""
    if isinstance(value, (bool, np.bool_)):
        out.bool_value = bool(value)
    elif isinstance(value, (int, np.integer)):
        out.int_value = int(value)
    elif isinstance(value, (float, np.floating)):
        out.double_value = float(value)
    elif isinstance(value, str):
        out.string_value = value
    else:
        array = np.asarray(value, dtype=np.float64)
        out.array_value.shape.extend(array.shape)
        out.array_value.values.extend(array.reshape(-1).tolist())


def value_from_proto(message):
    """A Value as a Python value; ValueError when malformed."""
    kind = message.WhichOneof("kind")
    if kind is None:
        raise ValueError("setting value has no kind")
    if kind != "array_value":
        return getattr(message, kind)
    shape = list(message.array_value.shape)
    if any(d < 0 for d in shape):
        raise ValueError("negative array dim")
    size = int(np.prod(shape, dtype=np.int64)) if shape else 0
    values = message.array_value.values
    if size != len(values):
        raise ValueError("array of shape with %d elements holds %d values" %
                         (size, len(values)))
    if not shape:
        return np.zeros(0)  # the empty array (C++ DoubleArray{})
    return np.array(values, dtype=np.float64).reshape(shape)


def settings_from_proto(settings):
    """MakeRequest.settings as {name: value}; ValueError on bad input."""
    result = {}
    for setting in settings:
        try:
            value = value_from_proto(setting.value)
        except ValueError as error:
            raise ValueError("setting '%s': %s" % (setting.name, error)) \
                from None
        if setting.name in result:
            raise ValueError("setting '%s' given twice" % setting.name)
        result[setting.name] = value
    return result


def spec_to_proto(spec, out):
    """An env.EnvSpec into the protocol's EnvSpec (agent part only)."""
    del out.agents[:]
    for agent_id, obs, act in zip(spec.agent_ids, spec.observation_spaces,
                                  spec.action_spaces):
        agent = out.agents.add()
        agent.id = agent_id
        space_to_proto(obs, agent.observation_space)
        space_to_proto(act, agent.action_space)
    out.has_public_observation = spec.has_public_observation
    if spec.has_public_observation:
        space_to_proto(spec.public_observation_space,
                       out.public_observation_space)
    out.has_state = spec.has_state
    if spec.has_state:
        space_to_proto(spec.state_space, out.state_space)
    out.has_action_masks = spec.has_action_masks
    out.turn_order = pb.SEQUENTIAL if spec.sequential else pb.SIMULTANEOUS
    out.episode_limit = spec.episode_limit
    del out.info_keys[:]
    out.info_keys.extend(spec.info_keys)


def rows_to_proto(rows, out):
    """A batch.Rows into a TimeStep."""
    out.copies.extend(rows.copies.tolist())
    for agent, observation in enumerate(rows.observation):
        agent_step = out.agents.add()
        agent_step.observation.extend(observation.reshape(-1).tolist())
        agent_step.reward.extend(rows.reward[agent].tolist())
        if rows.action_mask[agent] is not None:
            agent_step.action_mask.extend(
                rows.action_mask[agent].reshape(-1).tolist())
        if rows.final_observation[agent]:
            agent_step.final_observation.extend(
                np.concatenate(rows.final_observation[agent]).tolist())
    out.terminated.extend(rows.terminated.tolist())
    out.truncated.extend(rows.truncated.tolist())
    out.episode_step.extend(rows.episode_step.tolist())
    if rows.public_observation is not None:
        out.public_observation.extend(
            rows.public_observation.reshape(-1).tolist())
    if rows.state is not None:
        out.state.extend(rows.state.reshape(-1).tolist())
    if rows.current_agent is not None:
        out.current_agent.extend(rows.current_agent.tolist())
    if rows.info is not None:
        out.info.extend(rows.info.reshape(-1).tolist())
    out.final_rows.extend(rows.final_rows)
    if rows.final_public_observation:
        out.final_public_observation.extend(
            np.concatenate(rows.final_public_observation).tolist())
    if rows.final_state:
        out.final_state.extend(np.concatenate(rows.final_state).tolist())
