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


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
#: Most dimensions an array setting may have (numpy's own limit).
MAX_ARRAY_DIMS = 32


def value_to_proto(value, out):
    """A setting value (bool, int, float, str, array-like) into a Value;
    ValueError for an int outside int64 or an array that is not numbers."""
    if isinstance(value, (bool, np.bool_)):
        out.bool_value = bool(value)
    elif isinstance(value, (int, np.integer)):
        value = int(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError("int setting value %d is outside int64" % value)
        out.int_value = value
    elif isinstance(value, (float, np.floating)):
        out.double_value = float(value)
    elif isinstance(value, str):
        out.string_value = value
    else:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as error:
            raise ValueError("array setting value is not an array of "
                             "numbers: %s" % error) from None
        out.array_value.shape.extend(array.shape)
        out.array_value.values.extend(array.reshape(-1).tolist())


def array_element_count(shape, what="array"):
    """The number of elements of `shape` (0 for an empty shape), exactly:
    Python ints, so a product past 2^63 is seen, never wrapped (numpy's
    int64 prod wraps). ValueError for a negative or too many dims."""
    if len(shape) > MAX_ARRAY_DIMS:
        raise ValueError("%s has %d dimensions; at most %d" %
                         (what, len(shape), MAX_ARRAY_DIMS))
    if not shape:
        return 0
    count = 1
    for dim in shape:
        dim = int(dim)
        if dim < 0:
            raise ValueError("%s: negative dimension %d" % (what, dim))
        count *= dim  # at most 32 x 64 bits: cheap
    return count


def value_from_proto(message):
    """A Value as a Python value; ValueError when malformed (an array whose
    shape does not multiply out to exactly its number of values)."""
    kind = message.WhichOneof("kind")
    if kind is None:
        raise ValueError("setting value has no kind")
    if kind != "array_value":
        return getattr(message, kind)
    shape = list(message.array_value.shape)
    values = message.array_value.values
    size = array_element_count(shape, "array")
    if size != len(values):
        raise ValueError("array of shape %s has %d elements%s but holds %d "
                         "values" % (shape, size,
                                     " (more than 2^63 - 1)"
                                     if size > _INT64_MAX else "",
                                     len(values)))
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
