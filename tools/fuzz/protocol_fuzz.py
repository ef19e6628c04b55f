"""protocol_fuzz: a bounded, repeatable fuzzer for any marl.env.v3 server.

    bazel run //tools/fuzz:protocol_fuzz -- \
        --endpoint=tcp://127.0.0.1:5555 --seed=1 --requests=5000

It sends random bytes, schema-driven requests (every operation, settings
drawn from the declared types with their extremes, boundary copies, seeds,
handles and actions) and byte-level mutations of valid requests (bit flips,
truncation, duplication, stray group tags, varint overflows, length prefixes
past the end), and checks every reply: it parses as a Response with a known
status code, echoes the envelope and the request_id (0 and INVALID_ARGUMENT
when the request does not parse), carries the operation's payload exactly
when OK and a message otherwise. Every --check_every requests the server
must still answer a handshake and replay a reference make/reset/step
bit for bit. On a failure it prints the seed, the request (hex), the requests
before it on the same connection, a --replay command, and exits 1.

Soak mode (manual): --seconds=300 --clients=16 runs fuzzing clients, clients
that step valid handles mixed with garbage, and clients that send and vanish.

Everything schema-related comes from the generated descriptors
(env_protocol_pb2), so new fields and operations are fuzzed as they appear.
"""

import argparse
import collections
import math
import os
import random
import struct
import sys
import threading
import time
import traceback
import warnings

import zmq

import env_protocol_pb2 as pb

from google.protobuf import descriptor as descriptor_lib

_U64 = (1 << 64) - 1
# The protocol version this fuzzer speaks (a handshake with another one is
# refused with FAILED_PRECONDITION).
PROTOCOL_VERSION = 3
# The design's bound on every reachable reward (marl::kMaxAbsReward), and
# the same bound as a float32 (what a reward at the bound reads as on the
# wire: 1.0000000150474662e30).
MAX_ABS_REWARD = 1e30
MAX_ABS_REWARD_F32 = struct.unpack("<f",
                                   struct.pack("<f", MAX_ABS_REWARD))[0]
# Default generator bounds: what keeps one request cheap for any server.
CHEAP_COPIES = 8
CHEAP_INT = 4096
CHEAP_VALUES = 4096
CHEAP_LIST = 1000
CHEAP_STRING = 10000
CHEAP_MESSAGE_BYTES = 1 << 20
# When the handshake reports no maximum message size.
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20

KNOWN_CODES = {value.number: value.name
               for value in pb.StatusCode.DESCRIPTOR.values}
_PAYLOAD = pb.Request.DESCRIPTOR.oneofs_by_name["payload"]
OPERATIONS = [field.name for field in _PAYLOAD.fields]
_RESPONSE_PAYLOADS = {field.name for field in
                      pb.Response.DESCRIPTOR.oneofs_by_name["payload"].fields}

# ------------------------------------------------------------ wire format --


def encode_varint(value):
    """Unsigned base-128 varint of value mod 2^64 (negatives as protobuf
    encodes int64: ten bytes)."""
    value &= _U64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, pos):
    """(value, next position); ValueError past the end or over 10 bytes."""
    result = 0
    shift = 0
    while True:
        if pos >= len(data) or shift >= 70:
            raise ValueError("bad varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


Field = collections.namedtuple(
    "Field", "start tag_end value_start end number wire_type")


def wire_fields(data):
    """The fields of one message level, up to the first one that does not
    decode (groups end the walk)."""
    fields = []
    pos = 0
    try:
        while pos < len(data):
            start = pos
            key, pos = read_varint(data, pos)
            tag_end = pos
            number, wire_type = key >> 3, key & 7
            value_start = pos
            if wire_type == 0:
                _, pos = read_varint(data, pos)
            elif wire_type == 1:
                pos += 8
            elif wire_type == 2:
                length, value_start = read_varint(data, pos)
                pos = value_start + length
            elif wire_type == 5:
                pos += 4
            else:
                break
            if pos > len(data):
                break
            fields.append(Field(start, tag_end, value_start, pos, number,
                                wire_type))
    except ValueError:
        pass
    return fields


def ends_early(data):
    """True when the top level holds a tag that ends parsing before the end
    of `data` (a stray end-group, field number 0, a tag over 5 bytes):
    Python's parser then reports success, yet the bytes are not one message
    (protobuf's C++ ParseFromString refuses them)."""
    depth = 0
    pos = 0
    try:
        while pos < len(data):
            start = pos
            key, pos = read_varint(data, pos)
            # Tags are read as 32 bits (a fifth byte's high bits are lost).
            key &= 0xFFFFFFFF
            if pos - start > 5 or key >> 3 == 0:
                return True
            wire_type = key & 7
            if wire_type == 0:
                _, pos = read_varint(data, pos)
            elif wire_type == 1:
                pos += 8
            elif wire_type == 2:
                length, pos = read_varint(data, pos)
                pos += length
            elif wire_type == 3:
                depth += 1
            elif wire_type == 4:
                if depth == 0:
                    return True
                depth -= 1
            elif wire_type == 5:
                pos += 4
            else:
                return False  # the parser refuses it anyway
    except ValueError:
        return False
    return False


# Protobuf's runtime logs every string field with invalid UTF-8 to stderr
# (file descriptor 2) while refusing it: thousands of lines in a run.
_STDERR_LOCK = threading.Lock()
_DEVNULL = os.open(os.devnull, os.O_WRONLY)


def strict_parse(message_class, data, lenient=False):
    """The message, or None when `data` is not exactly one message (an
    error, or a parse that stops early at a stray end-group tag). lenient:
    what Python's parser makes of it, stopping early or not."""
    message = message_class()
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(_DEVNULL, 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                consumed = message.ParseFromString(data)
        except Exception:  # pylint: disable=broad-except
            return None
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    # Older runtimes return None for `consumed`; the walk still tells.
    if lenient:
        return message
    if (consumed is not None and consumed != len(data)) or ends_early(data):
        return None
    return message


def _tag(number, wire_type):
    return encode_varint((number << 3) | wire_type)


def mutate(rng, data, other=b"", depth=0):
    """A byte-level mutation of a serialized message."""
    fields = wire_fields(data)
    kinds = ["bit_flip", "truncate", "duplicate", "duplicate_field",
             "drop_field", "group_tag", "varint_overflow", "length_past_end",
             "random_bytes", "splice", "nested", "nested"]
    kind = rng.choice(kinds)
    length_fields = [f for f in fields if f.wire_type == 2]
    varint_fields = [f for f in fields if f.wire_type == 0]
    if kind == "bit_flip" and data:
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "truncate" and data:
        return data[:rng.randrange(len(data))]
    if kind == "duplicate":
        return data + data
    if kind in ("duplicate_field", "drop_field") and fields:
        f = rng.choice(fields)
        piece = data[f.start:f.end]
        if kind == "drop_field":
            return data[:f.start] + data[f.end:]
        return data[:f.end] + piece + data[f.end:]
    if kind == "group_tag":
        number = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 15, 16, (1 << 29) - 1])
        boundaries = [0, len(data)] + [f.start for f in fields]
        at = rng.choice(boundaries)
        if rng.random() < 0.3:
            # A balanced unknown group: valid, skipped by a parser.
            inserted = _tag(number, 3) + _tag(number, 4)
        else:
            inserted = _tag(number, rng.choice([3, 4]))
        return data[:at] + inserted + data[at:]
    if kind == "varint_overflow":
        overlong = rng.choice([b"\xff" * 10 + b"\x01",   # 11 bytes: invalid
                               b"\xff" * 9 + b"\x7f",    # 70 bits: overflow
                               b"\xff" * 9 + b"\x01",    # 2^64 - 1
                               b"\x80" * 9 + b"\x00"])   # overlong zero
        if varint_fields and rng.random() < 0.5:
            f = rng.choice(varint_fields)
            return data[:f.value_start] + overlong + data[f.end:]
        if length_fields and rng.random() < 0.5:
            f = rng.choice(length_fields)
            return data[:f.tag_end] + overlong + data[f.value_start:]
        at = rng.choice([0, len(data)])
        return data[:at] + overlong + data[at:]  # as a tag
    if kind == "length_past_end" and length_fields:
        f = rng.choice(length_fields)
        left = len(data) - f.value_start
        length = rng.choice([left + 1, left + rng.randint(2, 100), 1 << 31,
                             (1 << 31) - 1, 1 << 32, 1 << 62, _U64])
        return data[:f.tag_end] + encode_varint(length) + data[f.value_start:]
    if kind == "random_bytes":
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(out))
            action = rng.randrange(3)
            if action == 0 or not out:
                out[pos:pos] = bytes(rng.randrange(256)
                                     for _ in range(rng.randint(1, 8)))
            elif action == 1 and pos < len(out):
                out[pos] = rng.randrange(256)
            else:
                del out[pos:pos + rng.randint(1, 8)]
        return bytes(out)
    if kind == "splice" and other:
        return data[:rng.randint(0, len(data))] + other[rng.randint(
            0, len(other)):]
    if kind == "nested" and length_fields and depth < 4:
        # Mutate inside a submessage and fix its length, so the damage
        # reaches the inner parsers.
        f = rng.choice(length_fields)
        inner = mutate(rng, data[f.value_start:f.end], other, depth + 1)
        return (data[:f.tag_end] + encode_varint(len(inner)) + inner +
                data[f.end:])
    # The chosen mutation did not apply to this message: flip a bit.
    if not data:
        return bytes([rng.randrange(256)])
    out = bytearray(data)
    out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


# ------------------------------------------------------------ generation --

INT64_EXTREMES = [-(1 << 63), (1 << 63) - 1, -(1 << 31), -(1 << 31) - 1,
                  1 << 31, 1 << 32, (1 << 32) + 1, 1 << 62, -1, 0]
INT_COSTLY = [5000, 65536, 10 ** 6, 10 ** 7, (1 << 31) - 1, (1 << 31) - 2]
DOUBLE_EXTREMES = [0.0, -0.0, float("nan"), float("inf"), float("-inf"),
                   1e308, -1e308, 1.7976931348623157e308, 5e-324, 1e30,
                   -1e30, 1e31, 1e-30, 3.5e38]
FLOAT_EXTREMES = [0.0, -0.0, float("nan"), float("inf"), float("-inf"),
                  3.4028234663852886e38, -3.4028234663852886e38, 1e-45]
# Payoff-array shapes whose element count wraps 64-bit arithmetic to the
# number of values given: today's C++ server makes a Discrete(2^32) space
# from the first and steps into heap memory or crashes (issue 9); behind
# --known_crashers.
WRAPPING_SHAPES = [([1 << 32, 1 << 32], 0), ([(1 << 62) + 1, 4], 4),
                   ([1 << 62, 4], 0), ([(1 << 61) + 1, 8], 8),
                   ([1 << 32, 1 << 31, 2], 0)]


# Shapes (and how many values come with them) that a server must refuse or
# handle: empty, zero, negative, mismatched, huge without wrapping.
EDGE_SHAPES = [([], 0), ([], 2), ([0], 0), ([0, 3], 0), ([3, 0], 0),
               ([-1, -4], 4), ([-2, 2], 4), ([-1], 0), ([2, 2, 2], 8),
               ([2, 2], 3), ([2, 2], 5), ([1, 1], 1), ([1 << 31, 2], 0),
               ([(1 << 63) - 1], 0), ([1 << 31, 1 << 31], 0),
               ([(1 << 31) - 1, 1], 1), ([(1 << 32) + 1, (1 << 32) - 1], 1)]


def _random_text(rng, length):
    alphabet = "abcdefghijklmnopqrstuvwxyz_0123456789 ,[]\"é☃\U0001F600\x00"
    return "".join(rng.choice(alphabet) for _ in range(length))


def wrapped_size(shape):
    """The element count of `shape` as 64-bit arithmetic that wraps
    computes it (signed), and whether it wrapped."""
    product = 1
    for dim in shape:
        product *= dim
    wrapped = (product + (1 << 63)) % (1 << 64) - (1 << 63)
    return wrapped, wrapped != product


def known_crasher_shape(shape, count):
    """A shape of non-negative dims whose element count wraps to exactly
    the number of values given: it passes today's C++ size check and then
    crashes the server (issue 9)."""
    if not shape or any(d < 0 for d in shape):
        return False
    wrapped, did_wrap = wrapped_size(shape)
    return did_wrap and wrapped == count


class Options:
    """What the generator may send (from the command line)."""

    def __init__(self, known_crashers=False, extremes=False,
                 max_live_handles=8, check_reward_range=False,
                 lenient_parse=False):
        self.known_crashers = known_crashers
        self.lenient_parse = lenient_parse
        self.extremes = extremes
        self.max_live_handles = max_live_handles
        self.check_reward_range = check_reward_range


class Generator:
    """Requests for one session, from its random engine and what the
    server has told it (limits, environments, live handles)."""

    def __init__(self, rng, options, session):
        self.rng = rng
        self.options = options
        self.session = session

    # ------------------------------------------------------- values --

    def int_value(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return rng.randint(-3, 12)
        if roll < 0.8:
            return rng.choice(INT64_EXTREMES)
        if roll < 0.9 and self.options.known_crashers:
            # Valid but costly sizes (beauty_contest num_agents = 10^6
            # takes ~28 s and 1.8 GB on today's C++ server).
            return rng.choice(INT_COSTLY)
        return rng.randint(13, CHEAP_INT)

    def double_value(self):
        rng = self.rng
        if rng.random() < 0.5:
            return rng.uniform(-10, 10)
        return rng.choice(DOUBLE_EXTREMES)

    def float_value(self, low=-10.0, high=10.0):
        if self.rng.random() < 0.7:
            return self.rng.uniform(low, high)
        return self.rng.choice(FLOAT_EXTREMES)

    def string_value(self, setting_spec=None):
        rng = self.rng
        roll = rng.random()
        if setting_spec is not None and roll < 0.5:
            words = [w.strip("\"'.,:;()") for w in
                     setting_spec.description.split()]
            words = [w for w in words if w]
            default = setting_spec.default_value.string_value
            return rng.choice(words + [default, default])
        if roll < 0.7:
            return rng.choice(["", " ", "\x00", "a" * 300, "é☃",
                               "absolute\x00x"])
        if roll < 0.75:
            length = (1 << 20) if self.options.extremes else CHEAP_STRING
            return "x" * length
        return _random_text(rng, rng.randint(1, 24))

    def array_value(self, out):
        """A DoubleArray: valid small matrices mostly, and every kind of
        inconsistent shape."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            rows, cols = rng.randint(1, 4), rng.randint(1, 4)
            shape = rng.choice([[rows, cols], [rows * cols]])
            count = rows * cols
        elif roll < 0.85:
            shape, count = rng.choice(EDGE_SHAPES)
        elif roll < 0.95 and self.options.known_crashers:
            shape, count = rng.choice(WRAPPING_SHAPES)
        elif roll < 0.97 and self.options.extremes:
            shape, count = [1000, 1000], 1000000
        else:
            side = rng.randint(5, 60)
            shape, count = [side, side], side * side
        out.shape.extend(shape)
        for _ in range(count):
            out.values.append(self.double_value() if rng.random() < 0.1
                              else float(rng.randint(-5, 10)))

    def edge_values(self, kind, setting_spec):
        """Every extreme of a setting type, as Values (the sweep)."""
        values = []
        if kind == "int_value":
            ints = INT64_EXTREMES + [2, CHEAP_INT]
            if self.options.known_crashers:
                ints += INT_COSTLY
            for number in ints:
                values.append(pb.Value(int_value=number))
        elif kind == "double_value":
            for number in DOUBLE_EXTREMES:
                values.append(pb.Value(double_value=number))
        elif kind == "bool_value":
            values += [pb.Value(bool_value=True), pb.Value(bool_value=False)]
        elif kind == "string_value":
            words = set(w.strip("\"'.,:;()") for w in
                        setting_spec.description.split())
            for text in sorted(words) + ["", "\x00", "x" * CHEAP_STRING]:
                if text or not values:
                    values.append(pb.Value(string_value=text))
        elif kind == "array_value":
            shapes = EDGE_SHAPES + [([2, 3], 6), ([1, 4], 4)]
            if self.options.known_crashers:
                shapes = shapes + WRAPPING_SHAPES
            for shape, count in shapes:
                value = pb.Value()
                value.array_value.shape.extend(shape)
                value.array_value.values.extend(
                    [1.0, float("nan"), 1e308, -2.0][i % 4]
                    if count < 8 else float(i) for i in range(count))
                values.append(value)
        return values

    def setting_value(self, kind, out, setting_spec=None):
        if kind == "int_value":
            out.int_value = self.int_value()
        elif kind == "double_value":
            out.double_value = self.double_value()
        elif kind == "bool_value":
            out.bool_value = self.rng.random() < 0.5
        elif kind == "string_value":
            out.string_value = self.string_value(setting_spec)
        elif kind == "array_value":
            self.array_value(out.array_value)
        else:
            fill_random(self, out)

    # ------------------------------------------------------ requests --

    def request(self):
        """A serialized request: random bytes, a mutation of a valid one,
        or a schema-driven one."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return bytes(rng.randrange(256)
                         for _ in range(rng.choice([0, 1, 2, 5, 17, 64])))
        if roll < 0.38:
            base = self.operation_request().SerializeToString()
            other = self.operation_request().SerializeToString()
            data = mutate(rng, base, other)
            if rng.random() < 0.3:
                data = mutate(rng, data, other)
            return data
        if roll < 0.43:
            request = pb.Request()
            fill_random(self, request)
            request.request_id = self.session.next_request_id()
            return request.SerializeToString()
        return self.operation_request().SerializeToString()

    def operation_request(self):
        rng = self.rng
        session = self.session
        request = pb.Request()
        request.request_id = session.next_request_id()
        if len(session.handles) > self.options.max_live_handles:
            request.close.handle = next(iter(session.handles))
            return request
        weights = {"handshake": 4, "list_environments": 2, "make": 20,
                   "reset": 14, "step": 40, "close": 6, "": 1}
        if not session.handles:
            weights["make"] += 30
        names = [n for n in weights if n in OPERATIONS or n == ""]
        # Operations added to the schema later get fuzzed generically.
        extra = [n for n in OPERATIONS if n not in weights]
        choice = rng.choices(names + extra,
                             [weights[n] for n in names] + [5] * len(extra))[0]
        if choice == "handshake":
            request.handshake.protocol_version = rng.choice(
                [PROTOCOL_VERSION] * 3 + [0, 1, 3, 0xFFFFFFFF])
            request.handshake.client_name = self.string_value()[:200]
        elif choice == "list_environments":
            request.list_environments.SetInParent()
        elif choice == "make":
            self.make(request.make)
        elif choice == "reset":
            self.reset(request.reset)
        elif choice == "step":
            self.step(request.step)
        elif choice == "close":
            request.close.handle = self.handle()
        elif choice:
            fill_random(self, getattr(request, choice))
        return request

    def handle(self):
        rng = self.rng
        session = self.session
        if session.handles and rng.random() < 0.7:
            return rng.choice(list(session.handles))
        if session.closed_handles and rng.random() < 0.5:
            return rng.choice(list(session.closed_handles))
        return rng.choice([0, 1, 2, _U64, 1 << 63, rng.getrandbits(64)])

    def num_copies(self):
        rng = self.rng
        maximum = self.session.max_copies
        roll = rng.random()
        if roll < 0.8:
            return rng.randint(0, min(CHEAP_COPIES, maximum))
        if roll < 0.95:
            return rng.choice([-1, -(1 << 31), maximum + 1, (1 << 31) - 1])
        return maximum if self.options.extremes else 1

    def make(self, make):
        rng = self.rng
        environments = self.session.environments
        if environments and rng.random() < 0.95:
            info = rng.choice(environments)
            make.name = info.name
        else:
            info = None
            make.name = rng.choice(["", "no_such_env", "x" * 1000,
                                    "matrix_game\x00", "MATRIX_GAME"])
        make.num_copies = self.num_copies()
        make.seed = rng.getrandbits(64)
        make.auto_reset = rng.choice([0, 0, 1, 2, 99])
        if info is None:
            return
        shared_array = None
        for spec in info.settings:
            if rng.random() > 0.4:
                continue
            setting = make.settings.add()
            setting.name = spec.name
            kind = spec.default_value.WhichOneof("kind")
            if rng.random() < 0.08:
                # A mistyped value.
                kind = rng.choice(["int_value", "double_value", "bool_value",
                                   "string_value", "array_value"])
            if kind == "array_value" and shared_array is not None and \
                    rng.random() < 0.7:
                # Same shape for every array (payoffs_row/_column), so
                # shape attacks get past "shapes differ".
                setting.value.array_value.CopyFrom(shared_array)
                continue
            self.setting_value(kind, setting.value, spec)
            if kind == "array_value":
                shared_array = setting.value.array_value
        roll = rng.random()
        if roll < 0.05:
            setting = make.settings.add()
            setting.name = rng.choice(["no_such_setting", "", "x" * 500])
            setting.value.int_value = 1
        elif roll < 0.1 and make.settings:
            make.settings.add().CopyFrom(rng.choice(make.settings))
        elif roll < 0.13:
            make.settings.add().name = info.settings[0].name \
                if info.settings else "x"  # a value with no kind

    def copies(self, out, num_copies):
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return  # all copies
        if roll < 0.8:
            chosen = list(range(num_copies))
            rng.shuffle(chosen)
            out.extend(chosen[:rng.randint(1, num_copies)])
            return
        bad = [-1, num_copies, num_copies + 1, (1 << 31) - 1, -(1 << 31)]
        if roll < 0.9:
            out.extend([0, 0] if rng.random() < 0.5 else
                       [rng.choice(bad)])
        else:
            length = rng.choice([2, 50, CHEAP_LIST] +
                                ([100000] if self.options.extremes else []))
            out.extend(rng.choice(bad + [0]) for _ in range(length))

    def reset(self, reset):
        rng = self.rng
        reset.handle = self.handle()
        spec = self.session.handles.get(reset.handle)
        num_copies = spec.num_copies if spec is not None else 2
        self.copies(reset.copies, num_copies)
        rows = len(reset.copies) or num_copies
        roll = rng.random()
        if roll < 0.5:
            return
        count = rows if roll < 0.85 else rng.choice([1, rows + 1, 0, 50])
        for _ in range(count):
            reset.seeds.append(rng.choice([0, _U64, rng.getrandbits(64)]))

    def step(self, step):
        rng = self.rng
        session = self.session
        step.handle = self.handle()
        spec = session.handles.get(step.handle)
        if spec is None:
            spec_agents = []
            num_copies = 2
        else:
            spec_agents = list(spec.agents)
            num_copies = spec.num_copies
        self.copies(step.copies, num_copies)
        rows = list(step.copies) or list(range(num_copies))
        if len(rows) > num_copies:
            # Repeats: refused whatever the actions; keep generating cheap.
            rows = rows[:num_copies]
        corrupt = rng.random() < 0.35
        agents = spec_agents
        if spec is None or (corrupt and rng.random() < 0.15):
            # No spec to follow, or a wrong agent count.
            count = rng.choice([0, 1, 2, 3, len(spec_agents) + 1])
            for _ in range(count):
                fill_random(self, step.actions.add())
            return
        for index, agent in enumerate(agents):
            actions = step.actions.add()
            valid_actions(rng, agent.action_space, rows,
                          session.masks.get((step.handle, index), {}),
                          actions)
        if corrupt:
            self.corrupt_actions(step)

    def corrupt_actions(self, step):
        rng = self.rng
        agent = rng.choice(step.actions)
        discrete = unpack_array(INT64, agent.discrete)
        continuous = unpack_array(FLOAT32, agent.continuous)
        kind = rng.randrange(5)
        if kind == 0:  # the other kind of number
            discrete, continuous = (
                [max(min(int(v), (1 << 63) - 1), -(1 << 63))
                 if math.isfinite(v) else 0 for v in continuous],
                [float(v) for v in discrete])
            if not discrete and not continuous:
                discrete = [0]
        elif kind == 1:  # a wrong count
            values = discrete if discrete else continuous
            if values and rng.random() < 0.5:
                del values[-1]
            else:
                values.extend([0] * rng.choice([1, 7, 500]))
        elif kind == 2:  # values outside the space
            if discrete:
                discrete[rng.randrange(len(discrete))] = rng.choice(
                    [-1, (1 << 63) - 1, -(1 << 63), 1 << 32, 1 << 31,
                     10 ** 9])
            elif continuous:
                continuous[rng.randrange(len(continuous))] = rng.choice(
                    FLOAT_EXTREMES + [1e6, -1e6])
        elif kind == 3:  # both kinds set
            discrete.append(0)
            continuous.append(0.0)
        agent.discrete = pack_array(INT64, discrete)
        agent.continuous = pack_array(FLOAT32, continuous)
        if kind == 4:  # bytes that are not whole values
            field = rng.choice(["discrete", "continuous"])
            data = getattr(agent, field)
            if data and rng.random() < 0.5:
                data = data[:-rng.randint(1, min(len(data), 3))]
            else:
                data += bytes(rng.randrange(256)
                              for _ in range(rng.randint(1, 3)))
            setattr(agent, field, data)


def valid_actions(rng, space, rows, masks, out):
    """In-range actions for `rows` copies (legal under the copy's last known
    mask, when there is one)."""
    kind = space.WhichOneof("kind")
    discrete, continuous = [], []
    for copy in rows:
        if kind == "discrete":
            mask = masks.get(copy)
            n = max(space.discrete.n, 1)
            if mask is not None and any(mask):
                discrete.append(rng.choice(
                    [i for i, legal in enumerate(mask) if legal]))
            else:
                discrete.append(rng.randrange(min(n, 1 << 62)))
        elif kind == "multi_discrete":
            discrete.extend(rng.randrange(max(min(n, 1 << 62), 1))
                            for n in space.multi_discrete.nvec)
        elif kind == "box":
            for low, high in zip(space.box.low, space.box.high):
                low = low if math.isfinite(low) else -1.0
                high = high if math.isfinite(high) else 1.0
                value = rng.uniform(low, high) if high >= low else low
                # Rounding to float32 must not leave the box.
                packed = struct.unpack("f", struct.pack("f", value))[0]
                continuous.append(min(max(packed, low), high))
    out.discrete = pack_array(INT64, discrete)
    out.continuous = pack_array(FLOAT32, continuous)


# Protocol version 2 arrays: bytes fields of little-endian values (struct
# format letters), one byte 0/1 per bool.
INT32, INT64, FLOAT32, BOOL8 = "i", "q", "f", "B"


def pack_array(kind, values):
    """values as the protocol's bytes; a float beyond float32 becomes an
    infinity, as protobuf's float fields did."""
    if kind == FLOAT32:
        values = [_float32(v) for v in values]
    return struct.pack("<%d%s" % (len(values), kind), *values)


def _float32(value):
    try:
        struct.pack("<f", value)
        return value
    except OverflowError:
        return math.copysign(math.inf, value)


def unpack_array(kind, data):
    """The protocol's bytes as a list of values; ValueError when they are
    not whole values."""
    size = struct.calcsize("<" + kind)
    if len(data) % size:
        raise ValueError("%d bytes are not whole %d-byte values" %
                         (len(data), size))
    return list(struct.unpack("<%d%s" % (len(data) // size, kind), data))


def fill_random(generator, message, depth=0):
    """Fills any message with random fields from its descriptor (operations
    and fields the semantic generators do not know yet)."""
    rng = generator.rng
    descriptor = message.DESCRIPTOR
    chosen_oneofs = {}
    for oneof in descriptor.oneofs:
        if oneof.fields:
            chosen_oneofs[oneof.name] = rng.choice(oneof.fields).name
    for field in descriptor.fields:
        if field.containing_oneof is not None:
            if chosen_oneofs.get(field.containing_oneof.name) != field.name:
                continue
        elif rng.random() < 0.4:
            continue
        repeated = field.label == descriptor_lib.FieldDescriptor.LABEL_REPEATED
        count = rng.choice([0, 1, 2, 3, 8]) if repeated else 1
        for _ in range(count):
            if field.type == descriptor_lib.FieldDescriptor.TYPE_MESSAGE:
                if depth >= 3:
                    break
                target = (getattr(message, field.name).add() if repeated
                          else getattr(message, field.name))
                if depth >= 2 or rng.random() < 0.3:
                    target.SetInParent()
                else:
                    fill_random(generator, target, depth + 1)
                continue
            value = _random_scalar(generator, field)
            if repeated:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)


def _random_scalar(generator, field):
    rng = generator.rng
    types = descriptor_lib.FieldDescriptor
    kind = field.type
    if kind in (types.TYPE_INT64, types.TYPE_SINT64, types.TYPE_SFIXED64):
        return generator.int_value()
    if kind in (types.TYPE_INT32, types.TYPE_SINT32, types.TYPE_SFIXED32):
        return rng.choice([0, 1, 2, -1, (1 << 31) - 1, -(1 << 31),
                           rng.randint(-3, 9)])
    if kind in (types.TYPE_UINT64, types.TYPE_FIXED64):
        return rng.choice([0, 1, 2, _U64, 1 << 63, rng.getrandbits(64)])
    if kind in (types.TYPE_UINT32, types.TYPE_FIXED32):
        return rng.choice([0, 1, 2, 0xFFFFFFFF, rng.getrandbits(32)])
    if kind == types.TYPE_DOUBLE:
        return generator.double_value()
    if kind == types.TYPE_FLOAT:
        return generator.float_value()
    if kind == types.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == types.TYPE_STRING:
        return generator.string_value()[:1000]
    if kind == types.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 16)))
    if kind == types.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return rng.choice(numbers + [len(numbers), 99, -1])
    return 0


# ----------------------------------------------------- costs and crashers --


def request_excluded(data, options, max_copies):
    """Why the generator must not send these bytes under `options` (a
    known crasher, or costly without --extremes), else None. Applied to
    every generated request, mutated ones included, whatever produced it."""
    if len(data) > CHEAP_MESSAGE_BYTES and not options.extremes:
        return "message over %d bytes" % CHEAP_MESSAGE_BYTES
    request = strict_parse(pb.Request, data)
    if request is None:
        return None
    which = request.WhichOneof("payload")
    if which == "make":
        make = request.make
        if CHEAP_COPIES < make.num_copies <= max_copies and \
                not options.extremes:
            return "num_copies %d" % make.num_copies
        for setting in make.settings:
            kind = setting.value.WhichOneof("kind")
            if kind == "int_value":
                value = setting.value.int_value
                if CHEAP_INT < value < (1 << 31) and \
                        not options.known_crashers:
                    return "setting %s = %d" % (setting.name, value)
            elif kind == "array_value":
                array = setting.value.array_value
                shape = list(array.shape)
                if known_crasher_shape(shape, len(array.values)) and \
                        not options.known_crashers:
                    return "array shape %s (a known crasher)" % shape
                if len(array.values) > CHEAP_VALUES and not options.extremes:
                    return "array of %d values" % len(array.values)
            elif kind == "string_value":
                if len(setting.value.string_value) > CHEAP_STRING and \
                        not options.extremes:
                    return "long string"
    elif which in ("reset", "step") and not options.extremes:
        operation = getattr(request, which)
        if len(operation.copies) > CHEAP_LIST:
            return "%d copies" % len(operation.copies)
    return None


# ----------------------------------------------------------------- checks --


def check_reply(sent, reply, options, handles=None):
    """(What is wrong with `reply` (frames) to `sent` (frames) or None, the
    Request the server answered or None). handles: the session's
    {handle: spec}, for timestep row checks."""
    if len(reply) != len(sent) or list(reply[:-1]) != list(sent[:-1]):
        return "reply envelope %r does not echo the request's %r" % (
            [f.hex() for f in reply[:-1]], [f.hex() for f in sent[:-1]]), None
    response = strict_parse(pb.Response, reply[-1])
    if response is None:
        return "reply of %d bytes (%s) is not a Response" % (
            len(reply[-1]), reply[-1][:64].hex()), None
    if response.status.code not in KNOWN_CODES:
        return "unknown status code %d" % response.status.code, None
    request = strict_parse(pb.Request, sent[-1])
    if request is None:
        loose = (strict_parse(pb.Request, sent[-1], lenient=True)
                 if options.lenient_parse else None)
        if response.request_id == 0 and \
                response.status.code == pb.INVALID_ARGUMENT:
            return None, None
        if loose is None or response.request_id != loose.request_id:
            return ("bytes that do not parse as a Request were answered %s "
                    "with request_id %d (expected INVALID_ARGUMENT, 0)" %
                    (KNOWN_CODES[response.status.code],
                     response.request_id)), None
        request = loose  # answered as what a lenient parser reads
    elif response.request_id != request.request_id:
        return "reply carries request_id %d, the request has %d" % (
            response.request_id, request.request_id), request
    return _check_answer(request, response, options, handles), request


def _check_answer(request, response, options, handles):
    """What is wrong with `response` as the answer to a parsed `request`."""
    code = response.status.code
    name = KNOWN_CODES[code]
    payload = response.WhichOneof("payload")
    operation = request.WhichOneof("payload")
    if operation is None and code != pb.UNIMPLEMENTED:
        return "a request without operation was answered %s (expected " \
               "UNIMPLEMENTED)" % name
    if code == pb.OK:
        if operation not in _RESPONSE_PAYLOADS:
            return "answered OK to a request without a known operation"
        if payload != operation:
            return "%s answered OK with payload %s" % (operation, payload)
    else:
        if payload is not None:
            return "%s reply carries a %s payload (only OK may)" % (name,
                                                                    payload)
        if not response.status.message:
            return "%s reply without a status message" % name
        return None
    if operation in ("reset", "step"):
        spec = (handles or {}).get(getattr(request, operation).handle)
        timestep = getattr(response, operation).timestep
        problem = check_timestep(timestep, spec, options,
                                 list(getattr(request, operation).copies))
        if problem:
            return "%s answered OK with a bad TimeStep: %s" % (operation,
                                                               problem)
    if operation == "make":
        expected = max(request.make.num_copies, 1)
        if response.make.spec.num_copies != expected:
            return "make answered OK with num_copies %d for %d" % (
                response.make.spec.num_copies, request.make.num_copies)
    return None


def check_timestep(timestep, spec, options, named):
    """What is wrong with the TimeStep answering a request that named the
    copies `named` (empty: every copy), or None."""
    try:
        return _check_timestep(timestep, spec, options, named)
    except ValueError as error:
        return str(error)


def row_copies(timestep, num_copies):
    """The copies of a TimeStep's rows: those it lists, or every copy in
    order when it lists none (version 3: the request named none)."""
    copies = unpack_array(INT32, timestep.copies)
    return copies if copies else list(range(num_copies))


def _check_timestep(timestep, spec, options, named):
    copies = unpack_array(INT32, timestep.copies)
    if not named and copies:
        return "%d copies listed for a request that named none (version " \
            "3 leaves them out)" % len(copies)
    if named:
        rows = len(copies)
    elif spec is not None:
        rows = spec.num_copies
    else:  # a handle this session did not make: its rows as they come
        rows = len(timestep.terminated)
    for field, kind in (("terminated", BOOL8), ("truncated", BOOL8),
                        ("episode_step", INT32)):
        values = unpack_array(kind, getattr(timestep, field))
        if len(values) != rows:
            return "%d %s for %d rows" % (len(values), field, rows)
        if kind == BOOL8 and any(v > 1 for v in values):
            return "%s holds a bool byte other than 0 or 1" % field
    if spec is not None:
        if len(timestep.agents) != len(spec.agents):
            return "%d agents, the spec has %d" % (len(timestep.agents),
                                                   len(spec.agents))
        if any(not 0 <= c < spec.num_copies for c in copies):
            return "copies %s outside 0..%d" % (copies, spec.num_copies - 1)
    for field in ("public_observation", "state", "info",
                  "final_public_observation", "final_state"):
        unpack_array(FLOAT32, getattr(timestep, field))
    unpack_array(INT32, timestep.current_agent)
    for index, agent in enumerate(timestep.agents):
        unpack_array(FLOAT32, agent.observation)
        unpack_array(FLOAT32, agent.final_observation)
        if any(v > 1 for v in agent.action_mask):
            return "agent %d action_mask holds a byte other than 0 or 1" % (
                index)
        rewards = unpack_array(FLOAT32, agent.reward)
        if len(rewards) != rows:
            return "agent %d has %d rewards for %d rows" % (
                index, len(rewards), rows)
        if options.check_reward_range:
            for reward in rewards:
                if not (math.isfinite(reward) and
                        abs(reward) <= MAX_ABS_REWARD_F32):
                    return "agent %d reward %r (every reward must be " \
                           "finite, |r| <= 1e30)" % (index, reward)
    return None


# ---------------------------------------------------------------- session --


class Failure(Exception):
    """A check failed: what, and the frames that caused it."""

    def __init__(self, what, frames=None):
        super().__init__(what)
        self.what = what
        self.frames = frames


class Stats:
    """Counts across every client (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.codes = collections.Counter()
        self.unanswered = 0
        self.failures = []

    def count_request(self):
        with self.lock:
            self.requests += 1
            return self.requests

    def count_reply(self, code):
        with self.lock:
            self.codes[KNOWN_CODES.get(code, str(code))] += 1

    def summary(self, seed):
        with self.lock:
            codes = " ".join("%s=%d" % item for item in
                             sorted(self.codes.items()))
            return ("protocol_fuzz: seed=%d requests=%d replies: %s "
                    "unanswered(vanished clients)=%d failures=%d" %
                    (seed, self.requests, codes or "none", self.unanswered,
                     len(self.failures)))


class Session:
    """One DEALER connection, its live handles and what the server said."""

    def __init__(self, context, endpoint, timeout_ms, options, stats, rng,
                 name):
        self.context = context
        self.endpoint = endpoint
        self.timeout_ms = timeout_ms
        self.options = options
        self.stats = stats
        self.rng = rng
        self.name = name
        self.socket = None
        self.request_id = 0
        self.handles = collections.OrderedDict()  # handle -> EnvSpec
        self.closed_handles = collections.deque(maxlen=16)
        self.masks = {}  # (handle, agent) -> {copy: mask}
        self.fresh = set()  # handles not reset yet
        self.history = collections.deque(maxlen=8)  # frames sent, hex
        self.environments = []
        self.max_copies = 1
        self.max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES
        self.generator = Generator(rng, options, self)
        self.connect()

    def connect(self):
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(self.endpoint)

    def close(self):
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None

    def next_request_id(self):
        self.request_id = (self.request_id + 1) & _U64
        return self.request_id

    def exchange(self, frames):
        """Sends frames; returns the reply's frames, or None on timeout
        (the socket is replaced so a late reply is never misread)."""
        self.history.append(frames)
        self.stats.count_request()
        self.socket.send_multipart(frames)
        if not self.socket.poll(self.timeout_ms, zmq.POLLIN):
            self.connect()
            return None
        return self.socket.recv_multipart()

    def send_checked(self, data, envelope=()):
        """Sends one request (after `envelope` frames); checks the reply
        and learns from it. Returns the Response; raises Failure."""
        frames = list(envelope) + [data]
        reply = self.exchange(frames)
        if reply is None:
            raise Failure("no reply within %d ms" % self.timeout_ms, frames)
        problem, request = check_reply(frames, reply, self.options,
                                       self.handles)
        if problem:
            raise Failure(problem, frames)
        response = pb.Response()
        response.ParseFromString(reply[-1])
        self.stats.count_reply(response.status.code)
        self.learn(request, response)
        return response

    def call(self, request, expect_ok=True, allow=()):
        """Sends a well-formed request; unless expect_ok is False, anything
        but OK (or a code in `allow`) is a failure."""
        request.request_id = self.next_request_id()
        response = self.send_checked(request.SerializeToString())
        if expect_ok and response.status.code != pb.OK and \
                response.status.code not in allow:
            raise Failure("valid %s refused: %s: %s" % (
                request.WhichOneof("payload"),
                KNOWN_CODES[response.status.code], response.status.message),
                [request.SerializeToString()])
        return response

    def learn(self, request, response):
        """Tracks handles made and closed, and the last masks."""
        if request is None or response.status.code != pb.OK:
            return
        which = request.WhichOneof("payload")
        if which == "make":
            handle = response.make.handle
            self.handles[handle] = response.make.spec
            self.fresh.add(handle)
        elif which == "close":
            handle = request.close.handle
            if handle in self.handles:
                del self.handles[handle]
                self.closed_handles.append(handle)
            self.fresh.discard(handle)
            for key in [k for k in self.masks if k[0] == handle]:
                del self.masks[key]
        elif which in ("reset", "step"):
            handle = getattr(request, which).handle
            self.fresh.discard(handle)
            spec = self.handles.get(handle)
            if spec is not None and spec.has_action_masks:
                self.remember_masks(handle, spec,
                                    getattr(response, which).timestep)

    def remember_masks(self, handle, spec, timestep):
        for index, agent in enumerate(timestep.agents):
            space = spec.agents[index].action_space \
                if index < len(spec.agents) else None
            if space is None or space.WhichOneof("kind") != "discrete":
                continue
            n = space.discrete.n
            try:
                copies = row_copies(timestep, spec.num_copies)
            except ValueError:
                return
            if n <= 0 or len(agent.action_mask) != len(copies) * n:
                continue
            masks = self.masks.setdefault((handle, index), {})
            for row, copy in enumerate(copies):
                masks[copy] = list(agent.action_mask[row * n:(row + 1) * n])

    def discover(self):
        request = pb.Request()
        request.handshake.protocol_version = PROTOCOL_VERSION
        request.handshake.client_name = "protocol_fuzz"
        info = self.call(request).handshake
        self.max_copies = max(info.max_copies_per_handle, 1)
        if info.max_message_bytes > 0:
            self.max_message_bytes = info.max_message_bytes
        if info.max_handles_per_client > 0:
            self.options.max_live_handles = min(
                self.options.max_live_handles,
                max(info.max_handles_per_client // 2, 1))
        request = pb.Request()
        request.list_environments.SetInParent()
        self.environments = list(
            self.call(request).list_environments.environments)
        if not self.environments:
            raise Failure("the server lists no environments")
        return info

    def close_all(self):
        for handle in list(self.handles):
            request = pb.Request()
            request.close.handle = handle
            # Another client's garbage may have closed it (handles are not
            # private to a connection).
            if self.call(request, allow=(pb.NOT_FOUND,)).status.code != pb.OK:
                del self.handles[handle]

    # ----------------------------------------------------------- sweep --

    def sweep(self, should_stop):
        """Every extreme of every setting of every environment, one setting
        at a time (array settings together, so a shape reaches the code
        that pairs them); a make that succeeds is reset, stepped once with
        valid actions and closed. Returns the number of makes sent."""
        sent = 0
        for info in self.environments:
            array_names = [
                spec.name for spec in info.settings
                if spec.default_value.WhichOneof("kind") == "array_value"]
            for spec in info.settings:
                kind = spec.default_value.WhichOneof("kind")
                for value in self.generator.edge_values(kind, spec):
                    if should_stop():
                        return sent
                    request = pb.Request()
                    request.request_id = self.next_request_id()
                    request.make.name = info.name
                    request.make.num_copies = 2
                    request.make.seed = sent
                    for name in (array_names if kind == "array_value"
                                 else [spec.name]):
                        setting = request.make.settings.add()
                        setting.name = name
                        setting.value.CopyFrom(value)
                    data = request.SerializeToString()
                    if request_excluded(data, self.options, self.max_copies):
                        continue
                    sent += 1
                    response = self.send_checked(data)
                    if response.status.code == pb.OK:
                        self.exercise(response.make.handle, response.make.spec)
        return sent

    def exercise(self, handle, spec):
        """Reset, one valid step, close: each reply checked, any status."""
        request = pb.Request()
        request.reset.handle = handle
        self.call(request, expect_ok=False)
        request = pb.Request()
        request.step.handle = handle
        for index, agent in enumerate(spec.agents):
            valid_actions(self.rng, agent.action_space,
                          range(spec.num_copies),
                          self.masks.get((handle, index), {}),
                          request.step.actions.add())
        self.call(request, expect_ok=False)
        request = pb.Request()
        request.close.handle = handle
        self.call(request)

    # ------------------------------------------------------------ fuzz --

    def fuzz_one(self):
        """One generated request, sent and checked."""
        rng = self.rng
        for _ in range(20):
            data = self.generator.request()
            if request_excluded(data, self.options, self.max_copies) is None:
                break
        else:
            data = b""
        envelope = ()
        if rng.random() < 0.03:
            # REQ-style delimiter, or extra envelope frames: all echoed.
            envelope = rng.choice([(b"",), (b"x",), (b"", b"\x00\xff"),
                                   (b"a" * 300,)])
        self.send_checked(data, envelope)

    def oversize(self):
        """A frame over the server's maximum message size: dropped by
        ZeroMQ (no reply); the connection is then replaced."""
        frames = [b"\x08\x01\x12\x02\x08\x01" + b"\x00" *
                  self.max_message_bytes]
        self.history.append([frames[0][:64]])
        self.stats.count_request()
        self.socket.send_multipart(frames)
        if self.socket.poll(self.timeout_ms, zmq.POLLIN):
            reply = self.socket.recv_multipart()
            problem, _ = check_reply(frames, reply, self.options,
                                     self.handles)
            if problem:
                raise Failure(problem, [frames[0][:64]])
        self.connect()


# -------------------------------------------------------------- reference --


class Reference:
    """A known-good make/reset/step/close on one environment, whose results
    must stay the same bit for bit while the server is fuzzed. With several
    clients, another client's garbage can reach the reference's handle (a
    bit flip of its own handle number): then a check is tried again, and
    fails only if no attempt matches."""

    STEPS = 3

    def __init__(self, name, attempts=1):
        self.name = name
        self.attempts = attempts
        self.expected = None

    def run(self, session):
        """The serialized TimeSteps, or None if the handle was lost (only
        tolerated with several attempts)."""
        allow = (pb.NOT_FOUND,) if self.attempts > 1 else ()
        request = pb.Request()
        request.make.name = self.name
        request.make.num_copies = 2
        request.make.seed = 20240901
        made = session.call(request).make
        handle, spec = made.handle, made.spec
        results = []
        try:
            request = pb.Request()
            request.reset.handle = handle
            response = session.call(request, allow=allow)
            if response.status.code != pb.OK:
                return None
            timestep = response.reset.timestep
            results.append(timestep.SerializeToString(deterministic=True))
            rng = random.Random(5)
            for _ in range(self.STEPS):
                masks = {}
                if spec.has_action_masks:
                    masks = _masks_of(spec, timestep)
                request = pb.Request()
                request.step.handle = handle
                for index, agent in enumerate(spec.agents):
                    valid_actions(rng, agent.action_space, [0, 1],
                                  masks.get(index, {}),
                                  request.step.actions.add())
                response = session.call(request, allow=allow)
                if response.status.code != pb.OK:
                    return None
                timestep = response.step.timestep
                results.append(timestep.SerializeToString(deterministic=True))
        finally:
            request = pb.Request()
            request.close.handle = handle
            session.call(request, allow=allow)
            session.handles.pop(handle, None)
        return results

    def check(self, session):
        mismatch = "lost its handle to other clients"
        for _ in range(self.attempts):
            results = self.run(session)
            if results is None:
                continue
            if self.expected is None:
                self.expected = results
            if results == self.expected:
                return
            which = next(i for i, (a, b) in enumerate(
                zip(results, self.expected)) if a != b)
            mismatch = "%s differs from the start of the run (%s vs %s)" % (
                "reset" if which == 0 else "step %d" % which,
                results[which].hex()[:200], self.expected[which].hex()[:200])
        raise Failure("reference %s: %s%s" % (
            self.name, mismatch, " (%d attempts)" % self.attempts
            if self.attempts > 1 else ""))


def _masks_of(spec, timestep):
    masks = {}
    for index, agent in enumerate(timestep.agents):
        space = spec.agents[index].action_space
        if space.WhichOneof("kind") != "discrete":
            continue
        n = space.discrete.n
        copies = row_copies(timestep, spec.num_copies)
        if len(agent.action_mask) != len(copies) * n:
            continue
        masks[index] = {copy: list(agent.action_mask[r * n:(r + 1) * n])
                        for r, copy in enumerate(copies)}
    return masks


def alive(session, reference):
    """The server answers a handshake and replays the reference."""
    request = pb.Request()
    request.handshake.protocol_version = PROTOCOL_VERSION
    request.handshake.client_name = "protocol_fuzz-liveness"
    try:
        response = session.call(request)
    except Failure as failure:
        raise Failure("liveness: handshake: " + failure.what,
                      failure.frames) from None
    if response.handshake.protocol_version != PROTOCOL_VERSION:
        raise Failure("liveness: handshake answered version %d" %
                      response.handshake.protocol_version)
    reference.check(session)


# ---------------------------------------------------------------- clients --


class Run:
    """The shared state of one fuzzing run."""

    def __init__(self, args, options):
        self.args = args
        self.options = options
        self.stats = Stats()
        self.context = zmq.Context()
        self.stop = threading.Event()
        self.deadline = (time.monotonic() + args.seconds
                         if args.seconds else None)
        self.reference_name = None
        self.reference = None

    def should_stop(self):
        if self.stop.is_set():
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self.args.requests and \
            self.stats.requests >= self.args.requests

    def session(self, index, role):
        rng = random.Random("%d:%d" % (self.args.seed, index))
        return Session(self.context, self.args.endpoint, self.args.timeout_ms,
                       self.options, self.stats, rng, "%s-%d" % (role, index))

    def record(self, session, failure):
        with self.stats.lock:
            self.stats.failures.append((session.name, failure,
                                        list(session.history)))
        self.stop.set()

    def guarded(self, role, index):
        """Runs a client; an error of the fuzzer itself fails the run
        rather than ending one thread quietly."""
        try:
            role(index)
        except Exception:  # pylint: disable=broad-except
            with self.stats.lock:
                self.stats.failures.append((
                    "%s-%d" % (role.__name__, index),
                    Failure("error in the fuzzer itself:\n" +
                            traceback.format_exc()), []))
            self.stop.set()

    def fuzz_client(self, index):
        session = self.session(index, "fuzz")
        try:
            session.discover()
            reference = self.reference
            alive(session, reference)
            if index == 0 and not self.args.no_sweep:
                session.sweep(self.should_stop)
                alive(session, reference)
            sent = 0
            while not self.should_stop():
                session.fuzz_one()
                sent += 1
                if self.options.extremes and session.rng.random() < 0.002:
                    session.oversize()
                if sent % self.args.check_every == 0:
                    alive(session, reference)
            alive(session, reference)
            session.close_all()
        except Failure as failure:
            self.record(session, failure)
        finally:
            session.close()

    def stepping_client(self, index):
        """Valid stepping of one handle (must stay OK), mixed with garbage
        on the same connection (which may close the handle: then a new one
        is made)."""
        session = self.session(index, "stepper")
        rng = session.rng
        handle = spec = None
        try:
            session.discover()
            while not self.should_stop():
                if handle not in session.handles:
                    request = pb.Request()
                    request.make.name = self.reference_name
                    request.make.num_copies = rng.randint(
                        1, min(session.max_copies,
                               64 if self.options.extremes else CHEAP_COPIES))
                    request.make.seed = rng.getrandbits(64)
                    made = session.call(request).make
                    handle, spec = made.handle, made.spec
                    request = pb.Request()
                    request.reset.handle = handle
                    session.call(request)
                if rng.random() < 0.2:
                    session.fuzz_one()
                    continue
                request = pb.Request()
                request.step.handle = handle
                for i, agent in enumerate(spec.agents):
                    valid_actions(rng, agent.action_space,
                                  range(spec.num_copies),
                                  session.masks.get((handle, i), {}),
                                  request.step.actions.add())
                if session.call(request, allow=(pb.NOT_FOUND,)).status.code:
                    # Closed by another client's garbage: make a new one.
                    session.handles.pop(handle, None)
            session.close_all()
        except Failure as failure:
            self.record(session, failure)
        finally:
            session.close()

    def vanishing_client(self, index):
        """Connects, sends a few requests, leaves without reading."""
        rng = random.Random("%d:%d" % (self.args.seed, index))
        makes_left = 64  # their handles stay until the idle timeout
        helper = self.session(index, "vanish")
        try:
            helper.discover()
            helper.close_all()
        except Failure as failure:
            self.record(helper, failure)
            helper.close()
            return
        while not self.should_stop():
            socket = self.context.socket(zmq.DEALER)
            socket.setsockopt(zmq.LINGER, 0)
            socket.connect(self.args.endpoint)
            for _ in range(rng.randint(1, 5)):
                data = helper.generator.request()
                request = strict_parse(pb.Request, data)
                if request_excluded(data, self.options, helper.max_copies):
                    continue
                if request is not None and \
                        request.WhichOneof("payload") == "make":
                    if makes_left == 0:
                        continue
                    makes_left -= 1
                socket.send(data)
                with self.stats.lock:
                    self.stats.requests += 1
                    self.stats.unanswered += 1
            if rng.random() < 0.5:
                time.sleep(rng.random() * 0.01)
            socket.close(linger=0)
        helper.close()

    def run(self):
        """Runs every client; returns the exit status."""
        session = self.session(-1, "setup")
        try:
            session.discover()
            names = [e.name for e in session.environments]
            if self.args.reference_env:
                if self.args.reference_env not in names:
                    print("protocol_fuzz: --reference_env=%s is not among "
                          "the server's environments: %s" % (
                              self.args.reference_env, ", ".join(names)))
                    return 2
                self.reference_name = self.args.reference_env
            else:
                self.reference_name = names[0]
            # The expected results, before other clients can interfere.
            self.reference = Reference(self.reference_name,
                                       3 if self.args.clients > 1 else 1)
            self.reference.check(session)
        except Failure as failure:
            self.record(session, failure)
        finally:
            session.close()
        if not self.stats.failures:
            roles = []
            for index in range(self.args.clients):
                if index == 0:
                    roles.append(self.fuzz_client)
                else:
                    roles.append([self.stepping_client, self.vanishing_client,
                                  self.fuzz_client][(index - 1) % 3])
            threads = [threading.Thread(target=self.guarded,
                                        args=(role, index))
                       for index, role in enumerate(roles)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.report()
        self.context.term()
        return 1 if self.stats.failures else 0

    def report(self):
        for name, failure, history in self.stats.failures:
            print("FAIL seed=%d client=%s: %s" % (self.args.seed, name,
                                                  failure.what))
            if failure.frames is not None:
                print("  request (hex frames): %s" %
                      ",".join(f.hex() for f in failure.frames))
            if history:
                print("  requests on this connection, oldest first (hex):")
                for frames in history:
                    print("    %s" % ",".join(f.hex() for f in frames))
                last = [frames[-1].hex() for frames in history]
                print("  reproduce: protocol_fuzz --endpoint=%s --replay=%s" %
                      (self.args.endpoint, ",".join(last)))
        print(self.stats.summary(self.args.seed))


def replay(args, options):
    """Sends the given requests in order on one connection, checking each
    reply, then checks the server still answers a handshake."""
    stats = Stats()
    context = zmq.Context()
    session = Session(context, args.endpoint, args.timeout_ms, options, stats,
                      random.Random(args.seed), "replay")
    failure = None
    try:
        for text in args.replay.split(","):
            session.send_checked(bytes.fromhex(text.strip()))
        request = pb.Request()
        request.handshake.protocol_version = PROTOCOL_VERSION
        session.call(request)
    except (Failure, ValueError) as error:
        failure = error
    session.close()
    context.term()
    if failure is not None:
        print("FAIL replay: %s" % (failure.what if isinstance(failure, Failure)
                                   else "--replay: %s" % failure))
    print(stats.summary(args.seed))
    return 1 if failure is not None else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="protocol_fuzz",
        description="Bounded, repeatable fuzzer for any marl.env.v3 "
        "environment server: sends random, schema-driven and mutated "
        "requests, checks every reply is a well-formed status and that the "
        "server stays alive and deterministic. Exit status: 0 no failure, "
        "1 a failure (printed with seed and request bytes), 2 usage.")
    parser.add_argument("--endpoint", required=True,
                        help="server to fuzz, e.g. tcp://127.0.0.1:5555")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of every random choice (same seed, same "
                        "server: same requests)")
    parser.add_argument("--requests", type=int, default=None,
                        help="stop after this many requests, all clients "
                        "together (default 1000 unless --seconds is given)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds")
    parser.add_argument("--timeout_ms", type=int, default=5000,
                        help="a request unanswered for this long is a "
                        "failure")
    parser.add_argument("--check_every", type=int, default=100,
                        help="every this many requests of a fuzzing client, "
                        "check the server answers a handshake and replays "
                        "the reference make/reset/step unchanged")
    parser.add_argument("--clients", type=int, default=1,
                        help="concurrent clients (soak): the first fuzzes; "
                        "the others cycle through stepping a handle mixed "
                        "with garbage, sending and vanishing, and fuzzing")
    parser.add_argument("--reference_env", default="",
                        help="environment of the reference make/reset/step "
                        "(default: the first one the server lists)")
    parser.add_argument("--max_live_handles", type=int, default=8,
                        help="handles a client keeps open at once (older "
                        "ones are closed; at most half the server's "
                        "per-client quota)")
    parser.add_argument("--no_sweep", action="store_true",
                        help="skip the opening sweep (every extreme value "
                        "of every setting of every environment, one make "
                        "each) and fuzz at random from the start")
    parser.add_argument("--known_crashers", action="store_true",
                        help="also send the inputs that crash or stall "
                        "today's servers (issue 9): payoff shapes whose "
                        "size wraps 64 bits, e.g. [2^32, 2^32], and costly "
                        "valid sizes such as num_agents = 10^6")
    parser.add_argument("--extremes", action="store_true",
                        help="also send costly requests: num_copies up to "
                        "the server's maximum, 1000x1000 arrays, 1 MiB "
                        "strings, long copy lists, frames over the maximum "
                        "message size")
    parser.add_argument("--check_reward_range", action="store_true",
                        help="fail on any OK reset/step reward that is not "
                        "finite or exceeds 1e30 in magnitude (servers that "
                        "validate settings to keep rewards bounded)")
    parser.add_argument("--lenient_parse", action="store_true",
                        help="accept replies to bytes protobuf's C++ parser "
                        "refuses (a stray end-group tag, field 0) as answers "
                        "to what Python's parser reads before it stops, "
                        "as today's Python server gives them, instead of "
                        "only INVALID_ARGUMENT with request_id 0")
    parser.add_argument("--replay", default="",
                        help="comma-separated hex requests to send in order "
                        "on one connection and check (a failure's "
                        "reproducer), instead of fuzzing")
    args = parser.parse_args(argv)
    if args.requests is None and args.seconds is None:
        args.requests = 1000
    for name in ("timeout_ms", "check_every", "clients", "max_live_handles"):
        if getattr(args, name) < 1:
            parser.error("--%s must be >= 1" % name)
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be >= 1")
    if args.seconds is not None and not 0 < args.seconds < 1e7:
        parser.error("--seconds must be positive")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    options = Options(known_crashers=args.known_crashers,
                      extremes=args.extremes,
                      max_live_handles=args.max_live_handles,
                      check_reward_range=args.check_reward_range,
                      lenient_parse=args.lenient_parse)
    if args.replay:
        return replay(args, options)
    return Run(args, options).run()


if __name__ == "__main__":
    sys.exit(main())
