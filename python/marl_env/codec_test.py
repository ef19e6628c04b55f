"""marl_env._codec on its own: the bytes it writes parse as the request
they should be, and every kind of reply is told apart (another request's,
an error status, a TimeStep that does or does not match the layout)."""

import unittest

import numpy as np

import env_protocol_pb2 as pb

from marl_env import _codec
from marl_env import convert
from marl_env.status import Code

# Two agents: Discrete observations with masks of 3, and Box [2] ones.
AGENTS = [("a", (), True, 3, True), ("b", (2,), False, 0, False)]


def make_codec(rows=4, handle=77):
    return _codec.StepCodec(AGENTS, None, ((1,), False), False, 1, handle,
                            rows)


def reply(request_id, rows=4, ended=(), status=pb.OK, message=""):
    """A step Response for AGENTS with `rows` rows (every copy: no
    `copies`, as version 3 sends them), `ended` of them terminated."""
    response = pb.Response(request_id=request_id)
    response.status.code = status
    response.status.message = message
    if status != pb.OK:
        return response
    ts = response.step.timestep
    a, b = ts.agents.add(), ts.agents.add()
    a.observation = np.arange(rows, dtype="<f4").tobytes()
    a.reward = np.full(rows, 0.5, "<f4").tobytes()
    a.action_mask = np.ones(3 * rows, "u1").tobytes()
    b.observation = np.arange(2 * rows, dtype="<f4").tobytes()
    b.reward = np.zeros(rows, "<f4").tobytes()
    terminated = np.zeros(rows, "u1")
    terminated[list(ended)] = 1
    ts.terminated = terminated.tobytes()
    ts.truncated = np.zeros(rows, "u1").tobytes()
    ts.episode_step = np.ones(rows, "<i4").tobytes()
    ts.state = np.zeros(rows, "<f4").tobytes()
    ts.info = np.full(rows, 2.0, "<f4").tobytes()
    a.final_observation = np.full(len(ended), 9, "<f4").tobytes()
    b.final_observation = np.full(2 * len(ended), -1, "<f4").tobytes()
    ts.final_state = np.full(len(ended), 5, "<f4").tobytes()
    return response


class EncodeTest(unittest.TestCase):

    def test_step_request_carries_the_actions_in_their_types(self):
        data = make_codec().encode_step(
            12, [np.array([0, 1, 2, 1]), [[0.5, 1], [2, 3], [4, 5], [6, 7]]])
        request = pb.Request.FromString(data)
        self.assertEqual((request.request_id, request.step.handle), (12, 77))
        discrete, continuous = convert.step_actions(request.step)
        np.testing.assert_array_equal(discrete[0], [0, 1, 2, 1])
        self.assertEqual(discrete[0].dtype, np.int64)
        self.assertEqual(continuous[0].size, 0)
        np.testing.assert_array_equal(continuous[1],
                                      [0.5, 1, 2, 3, 4, 5, 6, 7])
        self.assertEqual(continuous[1].dtype, np.float32)
        self.assertEqual(discrete[1].size, 0)

    def test_wrong_number_of_agents_is_refused(self):
        with self.assertRaises(ValueError):
            make_codec().encode_step(1, [np.zeros(4)])

    def test_layouts_out_of_range_are_refused(self):
        for agents, rows, pattern in (
                ([("a", (), True, 2 ** 40, True)], 4, "agent 'a': an action "
                 "mask of more than 2"),
                ([("a", (2 ** 20, 2 ** 20), False, 0, False)], 4,
                 "agent 'a': the observation space: a shape"),
                ([("a", (-1,), False, 0, False)], 4, "negative dimension"),
                (AGENTS, 0, r"copies must be in \[1, 2\^30\]")):
            with self.subTest(agents=agents, rows=rows):
                with self.assertRaisesRegex(ValueError, pattern):
                    _codec.StepCodec(agents, None, None, False, 0, 1, rows)


class DecodeTest(unittest.TestCase):

    def test_another_requests_reply_and_error_status(self):
        codec = make_codec()
        self.assertIsNone(codec.decode(
            reply(5).SerializeToString(), 6))
        self.assertEqual(codec.decode(reply(
            6, status=pb.NOT_FOUND, message="gone").SerializeToString(), 6),
            (Code.NOT_FOUND, "gone"))

    def test_arrays_and_final_rows(self):
        step = make_codec().decode(
            reply(3, ended=(1, 3)).SerializeToString(), 3)
        np.testing.assert_array_equal(step["observations"]["a"],
                                      [0, 1, 2, 3])
        self.assertEqual(step["observations"]["a"].dtype, np.int64)
        self.assertEqual(step["observations"]["b"].shape, (4, 2))
        np.testing.assert_array_equal(step["ended"],
                                      [False, True, False, True])
        # Every row: the ended rows' last observations, the others' own.
        np.testing.assert_array_equal(step["final_observations"]["a"],
                                      [0, 9, 2, 9])
        np.testing.assert_array_equal(
            step["final_observations"]["b"],
            [[0, 1], [-1, -1], [4, 5], [-1, -1]])
        np.testing.assert_array_equal(step["final_state"], [[0], [5], [0],
                                                            [5]])
        self.assertEqual(step["masks"]["a"].shape, (4, 3))
        self.assertNotIn("b", step["masks"])
        self.assertEqual(step["info"].shape, (4, 1))
        self.assertIsNone(step["current_agent"])
        self.assertIsNone(step["public_observation"])
        for array in (step["rewards"]["a"], step["terminated"],
                      step["final_observations"]["b"]):
            self.assertTrue(array.flags.writeable)

    def test_without_auto_reset_ended_rows_have_no_final_observations(self):
        codec = _codec.StepCodec(AGENTS, None, ((1,), False), False, 1, 77,
                                 4, auto_reset=False)
        response = reply(3)
        response.step.timestep.terminated = b"\x00\x01\x00\x01"
        step = codec.decode(response.SerializeToString(), 3)
        np.testing.assert_array_equal(step["terminated"],
                                      [False, True, False, True])
        np.testing.assert_array_equal(step["ended"], [False] * 4)
        np.testing.assert_array_equal(step["final_observations"]["b"],
                                      step["observations"]["b"])
        # Final observations sent anyway do not fit.
        with self.assertRaisesRegex(_codec.MalformedReply,
                                    r"TimeStep.final_state has 2 values, "
                                    r"the spec says 0"):
            codec.decode(reply(4, ended=(1, 3)).SerializeToString(), 4)

    def test_one_codec_reads_a_sequence_of_replies_as_fresh_ones(self):
        # The codec merges each reply into the previous step's arrays (kept
        # for their memory): nothing of an earlier reply may show through.
        codec = make_codec()
        with_extra = reply(3, ended=(1, 3))
        with_extra.step.timestep.agents[0].reward = np.full(
            4, 7.0, "<f4").tobytes()
        sequence = [
            (with_extra, 3, "dict"),
            (pb.Response(request_id=4), 4, "the reply holds no TimeStep"),
            (reply(5), 5, "dict"),
            (reply(6, status=pb.NOT_FOUND, message="gone"), 6,
             (Code.NOT_FOUND, "gone")),
            (reply(7, ended=(0,)), 7, "dict"),
        ]
        reset = pb.Response(request_id=8)
        reset.status.code = pb.OK
        reset.reset.timestep.CopyFrom(reply(8).step.timestep)
        sequence += [(reset, 8, "dict"), (reply(9, ended=(2,)), 9, "dict")]
        for response, request_id, expected in sequence:
            data = response.SerializeToString()
            with self.subTest(request_id=request_id):
                if isinstance(expected, str) and expected != "dict":
                    with self.assertRaisesRegex(_codec.MalformedReply,
                                                expected):
                        codec.decode(data, request_id)
                    continue
                got = codec.decode(data, request_id)
                if expected != "dict":
                    self.assertEqual(got, expected)
                    continue
                fresh = make_codec().decode(data, request_id)
                for key, value in fresh.items():
                    if isinstance(value, dict):
                        self.assertEqual(value.keys(), got[key].keys())
                        for agent, array in value.items():
                            np.testing.assert_array_equal(got[key][agent],
                                                          array)
                    elif value is None:
                        self.assertIsNone(got[key])
                    else:
                        np.testing.assert_array_equal(got[key], value)
        # A payload field of the wrong wire type is an unknown field, not a
        # TimeStep: after a step, bytes of field 7 as a varint.
        codec.decode(reply(10).SerializeToString(), 10)
        with self.assertRaisesRegex(_codec.MalformedReply,
                                    "the reply holds no TimeStep"):
            codec.decode(pb.Response(request_id=11).SerializeToString() +
                         b"\x38\x01", 11)

    def test_integer_observations_round_to_nearest_even(self):
        # Values within int32 go four at a time, others one by one: both
        # round as numpy's rint and refuse what is not an int64.
        values = np.float32([2.5, -2.5, 3.5, -0.5, 1e10, -3e9, 7, 2 ** 62,
                             0.49999997, -7.5, 1.5, 2 ** 31, -2 ** 31,
                             5, 6, 8.5])
        rows = len(values)
        codec = _codec.StepCodec([("a", (), True, 0, True)], None, None,
                                 False, 0, 1, rows)
        response = pb.Response(request_id=1)
        ts = response.step.timestep
        agent = ts.agents.add()
        agent.observation = values.astype("<f4").tobytes()
        agent.reward = np.zeros(rows, "<f4").tobytes()
        ts.terminated = bytes(rows)
        ts.truncated = bytes(rows - 1) + b"\x01"  # row 15 ended
        ts.episode_step = np.zeros(rows, "<i4").tobytes()
        agent.final_observation = np.float32([-4.5]).tobytes()
        step = codec.decode(response.SerializeToString(), 1)
        expected = np.rint(values.astype(np.float64)).astype(np.int64)
        np.testing.assert_array_equal(step["observations"]["a"], expected)
        expected[15] = -4
        np.testing.assert_array_equal(step["final_observations"]["a"],
                                      expected)
        for bad in (np.nan, 2.0 ** 63, -np.inf):
            values[5] = bad
            agent.observation = values.astype("<f4").tobytes()
            with self.subTest(value=bad):
                with self.assertRaisesRegex(
                        _codec.MalformedReply,
                        r"agents\[0\]\.observation holds .*: not an "
                        r"integer"):
                    codec.decode(response.SerializeToString(), 1)

    def test_malformed_replies_name_the_field(self):
        def corrupt(change):
            response = reply(2)
            change(response.step.timestep)
            return response.SerializeToString()

        cases = [
            (b"\xff\xff", "reply of 2 bytes is not a marl.env.v3.Response"),
            (corrupt(lambda t: setattr(t, "copies", np.arange(
                4, dtype="<i4").tobytes())),
             r"TimeStep.copies has 16 bytes for a request that named no "
             r"copies"),
            (corrupt(lambda t: setattr(t, "terminated", b"\x00\x01\x00")),
             r"TimeStep.terminated has 3 values, the spec says 4"),
            # A row that ended without its final observations.
            (corrupt(lambda t: setattr(t, "truncated", b"\x00\x01\x00\x00")),
             r"TimeStep.final_state has 0 values, the spec says 1"),
            (corrupt(lambda t: setattr(t.agents[0], "observation",
                                       np.float32([0, 1, np.inf, 3])
                                       .tobytes())),
             r"agents\[0\]\.observation holds inf"),
            (corrupt(lambda t: setattr(t.agents[1], "reward", b"\x00" * 5)),
             r"agents\[1\]\.reward has 5 bytes: not a whole number of "
             r"float32 values \(4 bytes each\)"),
            (corrupt(lambda t: setattr(t.agents[1], "action_mask", b"\x01")),
             r"agents\[1\]\.action_mask has 1 values, the spec says 0"),
            (corrupt(lambda t: t.ClearField("state")),
             r"TimeStep.state has 0 values, the spec says 4"),
            (pb.Response(request_id=2).SerializeToString(),
             "the reply holds no TimeStep"),
        ]
        for data, pattern in cases:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(_codec.MalformedReply, pattern):
                    make_codec().decode(data, 2)
        self.assertTrue(issubclass(_codec.MalformedReply, ValueError))

    def test_mutated_replies_never_crash(self):
        # A hostile server's bytes: every answer is a dict, None, an error
        # status or MalformedReply (a crash would end this process).
        rng = np.random.default_rng(3)
        good = reply(9, ended=(0, 2)).SerializeToString()
        codec = make_codec()
        outcomes = set()
        for _ in range(3000):
            data = bytearray(good)
            for _ in range(rng.integers(1, 8)):
                kind = rng.integers(3)
                at = int(rng.integers(len(data)))
                if kind == 0:
                    data[at] = int(rng.integers(256))
                elif kind == 1:
                    del data[at:at + int(rng.integers(1, 16))]
                else:
                    data[at:at] = rng.bytes(int(rng.integers(1, 16)))
            try:
                result = codec.decode(bytes(data), 9)
            except _codec.MalformedReply:
                result = "malformed"
            outcomes.add(type(result).__name__ if result != "malformed"
                         else result)
        self.assertLessEqual(outcomes, {"dict", "NoneType", "tuple",
                                        "malformed"})
        self.assertIn("malformed", outcomes)


class ReadStepRequestTest(unittest.TestCase):
    """The server's reader: a whole step request becomes numpy arrays;
    anything else is None, left to the Python parser."""

    def request(self):
        request = pb.Request(request_id=9)
        request.step.handle = 1 << 52
        request.step.copies.extend([2, 0])
        a, b = request.step.actions.add(), request.step.actions.add()
        a.discrete = np.array([4, -1], "<i8").tobytes()
        b.continuous = np.array([0.5, 1.5, 2, 3], "<f4").tobytes()
        return request

    def test_a_step_becomes_arrays(self):
        request_id, handle, copies, discrete, continuous = \
            _codec.read_step_request(self.request().SerializeToString())
        self.assertEqual((request_id, handle), (9, 1 << 52))
        np.testing.assert_array_equal(copies, [2, 0])
        self.assertEqual(copies.dtype, np.int32)
        self.assertEqual([d.dtype for d in discrete], [np.int64] * 2)
        self.assertEqual([c.dtype for c in continuous], [np.float32] * 2)
        np.testing.assert_array_equal(discrete[0], [4, -1])
        self.assertEqual(discrete[1].size, 0)
        self.assertEqual(continuous[0].size, 0)
        np.testing.assert_array_equal(continuous[1], [0.5, 1.5, 2, 3])

    def test_anything_else_is_left_to_python(self):
        data = self.request().SerializeToString()
        torn = self.request()
        torn.step.actions[0].discrete = b"\x01" * 12  # 1.5 int64
        other = pb.Request(request_id=9)
        other.handshake.protocol_version = 3
        for bytes_ in (b"", b"\xff\xff", data[:-3], data + b"\x0c",
                       b"\x0c" + data, torn.SerializeToString(),
                       other.SerializeToString()):
            with self.subTest(data=bytes_):
                self.assertIsNone(_codec.read_step_request(bytes_))


if __name__ == "__main__":
    unittest.main()
