"""Conversions between the protocol's messages (env_protocol_pb2, generated
by the build from common/proto/env_protocol.proto) and marl_env's Python
types: spaces, setting values, specs, timesteps."""

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

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
    """A batch.Rows into a TimeStep (an empty one)."""
    out.MergeFromString(timestep_bytes(rows))


def timestep_bytes(rows):
    """A batch.Rows as a serialized TimeStep.

    Every array goes straight from numpy to protobuf's wire format:
    .extend(array.tolist()) costs about 17 us per 256 floats with
    python3-protobuf's C++ implementation, this about 1 us (every array
    write of a TimeStep is here, so a change of encoding touches this
    function only). Servers can splice the result into their reply with
    reply_bytes and skip protobuf's serializing of the int32 arrays, which
    goes element by element through reflection (about 50 ns each).
    """
    parts = [_packed_varints(_TS["copies"], rows.copies)]
    for agent, observation in enumerate(rows.observation):
        mask = rows.action_mask[agent]
        agent_step = b"".join((
            _packed_floats(_AGENT["observation"], observation),
            _packed_floats(_AGENT["reward"], rows.reward[agent]),
            b"" if mask is None else _packed_bools(_AGENT["action_mask"],
                                                    mask),
            _packed_floats(_AGENT["final_observation"],
                           rows.final_observation[agent])))
        parts.append(_length_delimited(_TS["agents"], agent_step))
    parts += [
        _packed_bools(_TS["terminated"], rows.terminated),
        _packed_bools(_TS["truncated"], rows.truncated),
        _packed_varints(_TS["episode_step"], rows.episode_step)]
    # In field-number order, as protobuf writes them (the same bytes).
    for field, floats in _TIMESTEP_TAIL:
        value = getattr(rows, field)
        if value is not None:
            parts.append(_packed_floats(_TS[field], value) if floats else
                         _packed_varints(_TS[field], value))
    return b"".join(parts)


# The fields after episode_step: (name, floats or varints).
_TIMESTEP_TAIL = sorted(
    [(name, True) for name in ("public_observation", "state", "info",
                               "final_public_observation", "final_state")] +
    [(name, False) for name in ("current_agent", "final_rows")],
    key=lambda field: pb.TimeStep.DESCRIPTOR.fields_by_name[field[0]].number)


def reply_bytes(request_id, operation, timestep):
    """A serialized OK Response to a "reset" or "step" request carrying a
    serialized TimeStep (from timestep_bytes): the bytes protobuf would
    write for that Response, without re-serializing the arrays."""
    inner = _length_delimited(_REPLY_TIMESTEP[operation], timestep)
    return b"".join((
        _varint(_RESPONSE["request_id"] << 3) + _varint(request_id)
        if request_id else b"",
        _length_delimited(_RESPONSE["status"], b""),  # code OK, no message
        _length_delimited(_RESPONSE[operation], inner)))


def step_actions(request, data=None):
    """A step Request's actions as numpy arrays: (discrete, continuous),
    per agent in request order, int64 and float32.

    With `data`, the serialized bytes `request` was parsed from, they are
    read from the bytes (about 10x faster than from the parsed repeated
    fields); if the two disagree in any count (a request that sets its
    step field twice around another operation, say), the parsed message
    wins.
    """
    parsed = request.step.actions
    if data is not None:
        steps = b"".join(v for n, t, v in _wire_fields(data)
                         if n == _REQUEST_STEP and t == 2)
        agents = [v for n, t, v in _wire_fields(steps)
                  if n == _STEP_ACTIONS and t == 2]
        if len(agents) == len(parsed):
            discrete, continuous = [], []
            for agent, message in zip(agents, parsed):
                fields = {}
                for number, wire_type, value in _wire_fields(agent):
                    if number == _ACTIONS["discrete"]:
                        _collect(fields, number, _L, wire_type, value)
                    elif number == _ACTIONS["continuous"]:
                        _collect(fields, number, _F, wire_type, value)
                fields = _joined(fields)
                discrete.append(fields.get(_ACTIONS["discrete"],
                                           _NO_INTEGERS))
                continuous.append(fields.get(_ACTIONS["continuous"],
                                             _EMPTY["info"]))
                if (len(discrete[-1]) != len(message.discrete) or
                        len(continuous[-1]) != len(message.continuous)):
                    break
            else:
                return discrete, continuous
    return ([np.fromiter(a.discrete, np.int64, len(a.discrete))
             for a in parsed],
            [np.fromiter(a.continuous, np.float32, len(a.continuous))
             for a in parsed])


def step_request_bytes(request_id, handle, actions, copies=()):
    """A serialized step Request: actions per agent in spec order as
    (discrete, continuous) array-likes (one of them empty). The bytes
    protobuf would write, without its per-element serializing."""
    body = [_varint(_STEP["handle"] << 3) + _varint(handle) if handle
            else b"",
            _packed_varints(_STEP["copies"], np.asarray(copies, np.int64))]
    for discrete, continuous in actions:
        body.append(_length_delimited(_STEP["actions"], b"".join((
            _packed_varints(_ACTIONS["discrete"],
                            np.asarray(discrete, np.int64)),
            _packed_floats(_ACTIONS["continuous"],
                           np.asarray(continuous, np.float32))))))
    return b"".join((
        _varint(_REQUEST["request_id"] << 3) + _varint(request_id)
        if request_id else b"",
        _length_delimited(_REQUEST["step"], b"".join(body))))


# Protobuf wire format (encoding.md), for packed repeated scalars: a key
# (field number << 3 | 2), the payload's length as a varint, the payload.
# Field numbers come from the generated descriptors.


def _field_type(message, name):
    return message.DESCRIPTOR.fields_by_name[name].type


def _field_numbers(message, kinds):
    numbers = {}
    for field in message.DESCRIPTOR.fields:
        # An unexpected change of a field's type must fail loudly here,
        # not garble replies.
        if field.name in kinds and field.type != kinds[field.name]:
            raise ImportError("TimeStep.%s changed type; update rows_to_proto"
                              % field.name)
        numbers[field.name] = field.number
    return numbers


_F = FieldDescriptor.TYPE_FLOAT
_B = FieldDescriptor.TYPE_BOOL
_I = FieldDescriptor.TYPE_INT32
_TS = _field_numbers(pb.TimeStep, {
    "copies": _I, "terminated": _B, "truncated": _B, "episode_step": _I,
    "public_observation": _F, "state": _F, "current_agent": _I, "info": _F,
    "final_rows": _I, "final_public_observation": _F, "final_state": _F})
_AGENT = _field_numbers(pb.AgentTimeStep, {
    "observation": _F, "reward": _F, "action_mask": _B,
    "final_observation": _F})
_L = FieldDescriptor.TYPE_INT64
_M = FieldDescriptor.TYPE_MESSAGE
_RESPONSE = _field_numbers(pb.Response, {"status": _M, "reset": _M,
                                         "step": _M})
_REPLY_TIMESTEP = {
    "reset": _field_numbers(pb.ResetResponse, {"timestep": _M})["timestep"],
    "step": _field_numbers(pb.StepResponse, {"timestep": _M})["timestep"]}
_REQUEST = _field_numbers(pb.Request, {"step": _M})
_REQUEST_STEP = _REQUEST["step"]
_STEP = _field_numbers(pb.StepRequest, {"copies": _I, "actions": _M})
_STEP_ACTIONS = _STEP["actions"]
_ACTIONS = _field_numbers(pb.AgentActions, {"discrete": _L,
                                            "continuous": _F})
_NO_INTEGERS = np.zeros(0, np.int64)


def _varint(value):
    """One non-negative int as a varint."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(number, payload):
    key = _KEYS.get(number)
    if key is None:
        key = _KEYS[number] = _varint(number << 3 | 2)
    size = len(payload)
    return key + (bytes((size,)) if size < 0x80 else _varint(size)) + payload


_KEYS = {}
_FLOAT32 = np.dtype("<f4")


def _packed_floats(number, array):
    if array.size == 0:
        return b""  # proto3 leaves empty repeated fields out
    return _length_delimited(
        number, np.ascontiguousarray(array, dtype=_FLOAT32).tobytes())


def _packed_bools(number, array):
    if array.size == 0:
        return b""
    return _length_delimited(
        number, np.ascontiguousarray(array, dtype=bool).view(np.uint8)
        .tobytes())


def _packed_varints(number, array):
    """int32/int64 values as varints: 7 bits a byte, low first, the top
    bit set on all but the last; a negative value as its 64-bit two's
    complement (10 bytes)."""
    if array.size == 0:
        return b""
    signed = np.asarray(array).astype(np.int64).reshape(-1)
    values = signed.view(np.uint64)
    top = int(values.max())
    if top < 0x80:  # one byte each: flags, turns, small counts
        return _length_delimited(number, values.astype(np.uint8).tobytes())
    if top < _TWO_BYTES:  # copy indices, episode steps: a table look-up
        # (take: several times faster than [] indexing on small arrays)
        groups = _TWO_BYTE_GROUPS.take(signed, axis=0)
        keep = _TWO_BYTE_KEEP.take(signed, axis=0)
        return _length_delimited(number, groups[keep].tobytes())
    width = (top.bit_length() + 6) // 7  # bytes of the longest
    groups = np.zeros((values.size, width), np.uint8)
    keep = np.zeros((values.size, width), bool)
    keep[:, 0] = True
    rest = values
    for k in range(width):
        more = rest >= np.uint64(0x80)
        groups[:, k] = (rest & np.uint64(0x7F)).astype(np.uint8) | (
            more.astype(np.uint8) << 7)
        rest = rest >> np.uint64(7)
        if k + 1 < width:
            keep[:, k + 1] = more
    # Row i holds value i's bytes; the mask keeps its own, in row order.
    return _length_delimited(number, groups[keep].tobytes())


_TWO_BYTES = 1 << 14
_SMALL = np.arange(_TWO_BYTES)
_TWO_BYTE_GROUPS = np.stack(
    [(_SMALL & 0x7F) | np.where(_SMALL >= 0x80, 0x80, 0), _SMALL >> 7],
    axis=1).astype(np.uint8)
_TWO_BYTE_KEEP = np.stack([np.ones(_TWO_BYTES, bool), _SMALL >= 0x80],
                          axis=1)
del _SMALL


# ------------------------------------------------------ reading TimeSteps --


class TimeStepArrays:
    """A TimeStep's arrays as flat numpy arrays (the inverse of
    rows_to_proto): copies, terminated, truncated, episode_step,
    public_observation, state, current_agent, info, final_rows,
    final_public_observation, final_state, and per agent (a list in spec
    order) observation, reward, action_mask, final_observation. Absent
    fields are empty arrays. Reshaping is the reader's, by the spec."""

    def __init__(self, fields, agents):
        for name, number in _TS.items():
            if name != "agents":
                setattr(self, name, fields.get(number, _EMPTY[name]))
        self.observation = [a.get(_AGENT["observation"], _EMPTY["info"])
                            for a in agents]
        self.reward = [a.get(_AGENT["reward"], _EMPTY["info"])
                       for a in agents]
        self.action_mask = [a.get(_AGENT["action_mask"], _EMPTY["terminated"])
                            for a in agents]
        self.final_observation = [
            a.get(_AGENT["final_observation"], _EMPTY["info"])
            for a in agents]


def timestep_arrays(data):
    """The arrays of a serialized TimeStep (bytes that protobuf already
    parsed, so well-formed; any valid encoding is read: packed or not,
    fields in any order or repeated). About 20x faster than
    np.array(timestep.field) on each repeated field."""
    fields, agents = {}, []
    for number, wire_type, value in _wire_fields(data):
        if number == _TS["agents"] and wire_type == 2:
            agent = {}
            for sub_number, sub_type, sub_value in _wire_fields(value):
                kind = _AGENT_KINDS.get(sub_number)
                if kind is not None:
                    _collect(agent, sub_number, kind, sub_type, sub_value)
            agents.append(_joined(agent))
            continue
        kind = _TS_KINDS.get(number)
        if kind is not None:
            _collect(fields, number, kind, wire_type, value)
    return TimeStepArrays(_joined(fields), agents)


def response_timestep_bytes(data):
    """The serialized TimeStep inside a serialized Response to a reset or
    a step (b"" if it carries none)."""
    parts = []
    for number, wire_type, value in _wire_fields(data):
        if number in _RESPONSE_TIMESTEPS and wire_type == 2:
            # A message field given twice merges: its parts concatenate.
            parts += [v for n, t, v in _wire_fields(value)
                      if n == _RESPONSE_TIMESTEPS[number] and t == 2]
    return b"".join(parts)


_RESPONSE_TIMESTEPS = {
    pb.Response.DESCRIPTOR.fields_by_name["reset"].number:
        pb.ResetResponse.DESCRIPTOR.fields_by_name["timestep"].number,
    pb.Response.DESCRIPTOR.fields_by_name["step"].number:
        pb.StepResponse.DESCRIPTOR.fields_by_name["timestep"].number,
}
_DTYPES = {_F: _FLOAT32, _B: np.dtype(bool), _I: np.dtype(np.int32)}
_TS_KINDS = {number: _field_type(pb.TimeStep, name)
             for name, number in _TS.items() if name != "agents"}
_AGENT_KINDS = {number: _field_type(pb.AgentTimeStep, name)
                for name, number in _AGENT.items()}
_EMPTY = {name: np.zeros(0, _DTYPES[_field_type(pb.TimeStep, name)])
          for name in _TS if name != "agents"}


def _wire_fields(data):
    """(field number, wire type, value) for each field of a message:
    value is an int (varint), bytes (length-delimited, fixed32, fixed64)."""
    data = memoryview(data)
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
        elif wire_type == 2:
            length, pos = _read_varint(data, pos)
            if pos + length > end:
                raise ValueError("field %d overruns its message" % number)
            value, pos = data[pos:pos + length], pos + length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            if pos + size > end:
                raise ValueError("field %d overruns its message" % number)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        yield number, wire_type, value


def _read_varint(data, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("malformed varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _collect(fields, number, kind, wire_type, value):
    """One occurrence of a repeated scalar field: packed (length-delimited)
    or a single element."""
    if kind == _F:
        if wire_type in (2, 5):
            chunk = np.frombuffer(value, _FLOAT32)
        else:
            raise ValueError("float field %d with wire type %d" %
                             (number, wire_type))
    elif wire_type == 2:
        raw = np.frombuffer(value, np.uint8)
        if kind == _B and (raw.size == 0 or raw.max() <= 1):
            fields.setdefault(number, []).append(raw.view(bool))
            return  # the usual bools: one byte each, 0 or 1
        chunk = _decode_varints(raw)
    elif wire_type == 0:
        chunk = np.array([value], np.uint64).view(np.int64)
    else:
        raise ValueError("field %d with wire type %d" % (number, wire_type))
    if kind == _B:
        chunk = chunk != 0
    elif kind == _I:
        chunk = chunk.astype(np.int32)  # an int32 keeps the low 32 bits
    fields.setdefault(number, []).append(chunk)


def _joined(fields):
    return {number: chunks[0] if len(chunks) == 1 else
            np.concatenate(chunks) for number, chunks in fields.items()}


def _decode_varints(data):
    """Packed varints (a uint8 array) as int64 (two's complement of the
    64-bit value)."""
    if data.size == 0 or data.max() < 0x80:
        return data.astype(np.int64)
    more = data >= 0x80
    if more[-1]:
        raise ValueError("packed varints end mid-value")
    if not (more[:-1] & more[1:]).any():  # none longer than 2 bytes
        first = np.flatnonzero(np.concatenate(([True], ~more[:-1])))
        low = (data.take(first) & 0x7F).astype(np.int64)
        high = data.take(first + 1, mode="clip").astype(np.int64) << 7
        return np.where(more.take(first), low | high, low)
    ends = np.flatnonzero(~more)
    if ends.size == 0 or ends[-1] != data.size - 1:
        raise ValueError("packed varints end mid-value")
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if lengths.max() > 10:
        raise ValueError("varint longer than 10 bytes")
    position = np.arange(data.size) - np.repeat(starts, lengths)
    shifted = (data & 0x7F).astype(np.uint64) << (
        7 * position).astype(np.uint64)
    return np.bitwise_or.reduceat(shifted, starts).view(np.int64)
