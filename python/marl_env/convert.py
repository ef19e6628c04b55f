"""Conversions between the protocol's messages (env_protocol_pb2, generated
by the build from protocol/proto/env_protocol.proto) and marl_env's Python
types: spaces, setting values, specs, timesteps."""

import numpy as np

import env_protocol_pb2 as pb

from marl_env import spaces
from marl_env.env import MAX_MESSAGE_SIZE


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
        low = np.array(message.box.low, np.float32).reshape(shape)
        high = np.array(message.box.high, np.float32).reshape(shape)
        return spaces.Box(low, high, shape)
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
    out.message_size = spec.message_size


def check_message_channel(agent_ids, observation_spaces, action_spaces,
                          message_size):
    """ValueError unless the spaces are those of a message channel of
    `message_size` (docs/PROTOCOL.md, "Message channel"; the C++ FromProto's
    CheckMessageChannel): K in [0, 1024], every action MultiDiscrete ending
    with a K-valued component (the message), every observation a flat Box
    with room for the partners' one-hots. Nothing to check for K = 0."""
    if message_size == 0:
        return
    if not 0 <= message_size <= MAX_MESSAGE_SIZE:
        raise ValueError("message_size %d outside [0, %d]" %
                         (message_size, MAX_MESSAGE_SIZE))
    if len(agent_ids) < 2:
        raise ValueError("message_size %d for %d agent(s): a channel needs "
                         "two" % (message_size, len(agent_ids)))
    partners = len(agent_ids) - 1
    for agent_id, observation, action in zip(agent_ids, observation_spaces,
                                             action_spaces):
        if not isinstance(action, spaces.MultiDiscrete) or \
                int(action.nvec[-1]) != message_size:
            raise ValueError(
                "message_size %d but agent '%s' acts in %r (its last "
                "component must be the message)" %
                (message_size, agent_id, action))
        if not isinstance(observation, spaces.Box) or \
                len(observation.shape) != 1 or \
                observation.shape[0] < partners * message_size:
            raise ValueError(
                "message_size %d but agent '%s' observes %r (a flat Box "
                "ending with its partners' messages)" %
                (message_size, agent_id, observation))


# ----------------------------------------------------------------- arrays --
#
# The protocol (since version 2) carries every per-copy array as a `bytes`
# field of little-endian values: protobuf frames the field, numpy reads and
# writes the values in one call (no wire code of our own, no Python object
# per value). Since version 3 a TimeStep has no final_rows (the ended rows,
# under SAME_STEP) and no copies when the request named none.

FLOAT32 = np.dtype("<f4")
INT32 = np.dtype("<i4")
INT64 = np.dtype("<i8")
BOOL8 = np.dtype("u1")  # one byte per bool, 0 or 1
_TYPE_NAMES = {FLOAT32: "float32", INT32: "int32", INT64: "int64",
               BOOL8: "bool"}

# A TimeStep's arrays and their element types: those Rows always has, those
# it may have (None or empty), and those of each AgentTimeStep.
_OPTIONAL_TIMESTEP_ARRAYS = (
    ("public_observation", FLOAT32), ("state", FLOAT32),
    ("current_agent", INT32), ("info", FLOAT32),
    ("final_public_observation", FLOAT32), ("final_state", FLOAT32))
_TIMESTEP_ARRAYS = (
    ("copies", INT32), ("terminated", BOOL8), ("truncated", BOOL8),
    ("episode_step", INT32)) + _OPTIONAL_TIMESTEP_ARRAYS
_AGENT_ARRAYS = (("observation", FLOAT32), ("reward", FLOAT32),
                 ("action_mask", BOOL8), ("final_observation", FLOAT32))


def array_bytes(values, dtype):
    """An array-like as the protocol's bytes: `dtype` (FLOAT32, INT32,
    INT64) little-endian, or BOOL8 (one byte 0/1 per truth value). Values
    outside an integer dtype wrap, as numpy's astype does: callers check
    ranges first."""
    array = np.asarray(values)
    if dtype == BOOL8:
        array = array.astype(bool, copy=False)
    else:
        array = array.astype(dtype, copy=False)
    return array.tobytes()


def bytes_array(data, dtype, what):
    """The protocol's bytes as a flat, read-only numpy view of `dtype`;
    ValueError naming `what` when the length is not a whole number of
    values or a bool byte is not 0 or 1."""
    if len(data) % dtype.itemsize:
        raise ValueError(
            "%s has %d bytes: not a whole number of %s values (%d bytes "
            "each)" % (what, len(data), _TYPE_NAMES[dtype], dtype.itemsize))
    if dtype == BOOL8:
        # bytes.translate runs in C: far cheaper than a numpy reduction on
        # the small arrays of a step.
        if data.translate(None, b"\x00\x01"):
            raise ValueError("%s holds a bool byte other than 0 or 1" % what)
        return np.frombuffer(data, bool)
    return np.frombuffer(data, dtype)


def rows_to_proto(rows, out, named_copies):
    """A batch.Rows into a TimeStep (an empty one): the one place that
    writes a TimeStep's arrays; its copies only when the request
    `named_copies`. (Rows' arrays already have these types on a
    little-endian machine, where astype(copy=False) returns them.)"""
    if named_copies:
        out.copies = rows.copies.astype(INT32, copy=False).tobytes()
    add = out.agents.add
    for observation, reward, mask, final in zip(
            rows.observation, rows.reward, rows.action_mask,
            rows.final_observation):
        agent = add()
        agent.observation = observation.astype(FLOAT32, copy=False).tobytes()
        agent.reward = reward.astype(FLOAT32, copy=False).tobytes()
        if mask is not None:
            agent.action_mask = mask.tobytes()  # bool: one byte, 0 or 1
        if final.size:
            agent.final_observation = final.astype(
                FLOAT32, copy=False).tobytes()
    out.terminated = rows.terminated.tobytes()
    out.truncated = rows.truncated.tobytes()
    out.episode_step = rows.episode_step.astype(INT32, copy=False).tobytes()
    if rows.info is not None:
        out.info = rows.info.astype(FLOAT32, copy=False).tobytes()
    if rows.public_observation is None and rows.state is None and \
            rows.current_agent is None:
        return  # (their final_* are None too)
    for field, dtype in _EXTRA_TIMESTEP_ARRAYS:
        value = getattr(rows, field)
        if value is not None and value.size:
            setattr(out, field, value.astype(dtype, copy=False).tobytes())


# The arrays of the optional parts of a spec (None in Rows without them).
_EXTRA_TIMESTEP_ARRAYS = tuple(
    (field, dtype) for field, dtype in _OPTIONAL_TIMESTEP_ARRAYS
    if field != "info")


class TimeStepArrays:
    """A TimeStep's arrays as flat, read-only numpy views: copies,
    terminated, truncated, episode_step, public_observation, state,
    current_agent, info, final_public_observation, final_state,
    and per agent (lists in message order) observation, reward,
    action_mask, final_observation. Absent fields are empty arrays."""

    def __init__(self):
        self.observation = self.reward = self.action_mask = \
            self.final_observation = ()


# Class defaults: absent arrays are empty.
for _name, _dtype in _TIMESTEP_ARRAYS:
    setattr(TimeStepArrays, _name, np.frombuffer(
        b"", bool if _dtype == BOOL8 else _dtype))
#: The names of a TimeStep's arrays, and of each agent's.
TIMESTEP_ARRAYS = tuple(_name for _name, _ in _TIMESTEP_ARRAYS)
AGENT_ARRAYS = tuple(_name for _name, _ in _AGENT_ARRAYS)


def timestep_arrays(timestep):
    """A TimeStep message's arrays (the inverse of rows_to_proto), as
    read-only views, not checked against a spec (the client's codec,
    marl_env/codec.cc, does that); ValueError naming the field for bytes
    that are not whole values."""
    out = TimeStepArrays()
    for field, dtype in _TIMESTEP_ARRAYS:
        setattr(out, field, bytes_array(getattr(timestep, field), dtype,
                                        "TimeStep." + field))
    per_agent = {field: [] for field, _ in _AGENT_ARRAYS}
    for index, agent in enumerate(timestep.agents):
        for field, dtype in _AGENT_ARRAYS:
            per_agent[field].append(bytes_array(
                getattr(agent, field), dtype,
                "TimeStep.agents[%d].%s" % (index, field)))
    for field, arrays in per_agent.items():
        setattr(out, field, arrays)
    return out


def step_actions(step):
    """A StepRequest's actions as numpy arrays, (discrete, continuous): per
    agent in request order, int64 and float32, read-only. The one place
    that reads them; ValueError for bytes that are not whole values."""
    discrete, continuous = [], []
    for index, agent in enumerate(step.actions):
        values = agent.discrete
        if len(values) % 8:
            bytes_array(values, INT64, "actions[%d].discrete" % index)
        discrete.append(np.frombuffer(values, INT64) if values
                        else _NO_INT64)
        values = agent.continuous
        if len(values) % 4:
            bytes_array(values, FLOAT32, "actions[%d].continuous" % index)
        continuous.append(np.frombuffer(values, FLOAT32) if values
                          else _NO_FLOAT32)
    return discrete, continuous


# What step_actions gives for an absent (empty) field: read-only, like
# every array it gives.
_NO_INT64 = np.frombuffer(b"", INT64)
_NO_FLOAT32 = np.frombuffer(b"", FLOAT32)


def actions_to_proto(actions, step):
    """Per-agent actions in spec order, each (discrete, continuous)
    array-likes (one of them empty), into a StepRequest's actions: the one
    place that writes them. A step whose actions came from here before is
    rewritten in place (a client reuses its request)."""
    if len(step.actions) != len(actions):
        del step.actions[:]
        for _ in actions:
            step.actions.add()
    for agent, (discrete, continuous) in zip(step.actions, actions):
        agent.discrete = array_bytes(discrete, INT64) if len(discrete) \
            else b""
        agent.continuous = array_bytes(continuous, FLOAT32) \
            if len(continuous) else b""
