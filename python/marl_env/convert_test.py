"""rows_to_proto writes exactly what protobuf's own setters would, and
timestep_arrays reads every valid encoding of a TimeStep back."""

import struct
import unittest

import numpy as np

import env_protocol_pb2 as pb

import examples.rendezvous_batched  # noqa: F401  (py_rendezvous_batched)
from marl_env import convert
from marl_env import testing  # noqa: F401  (registers test_turns)
from marl_env.batch import EnvBatch


_PLAYED = []


def reference_timestep(rows):
    """The TimeStep built with protobuf's setters, field by field."""
    out = pb.TimeStep()
    out.copies.extend(rows.copies.tolist())
    for agent, observation in enumerate(rows.observation):
        step = out.agents.add()
        step.observation.extend(observation.reshape(-1).tolist())
        step.reward.extend(rows.reward[agent].tolist())
        if rows.action_mask[agent] is not None:
            step.action_mask.extend(
                rows.action_mask[agent].reshape(-1).tolist())
        step.final_observation.extend(
            rows.final_observation[agent].reshape(-1).tolist())
    for field in ("terminated", "truncated", "episode_step", "final_rows",
                  "public_observation", "state", "current_agent", "info",
                  "final_public_observation", "final_state"):
        value = getattr(rows, field)
        if value is not None:
            getattr(out, field).extend(value.reshape(-1).tolist())
    return out


def played_rows():
    """Rows from real batches: auto-resets, masks, turns, state, infos."""
    if _PLAYED:
        return _PLAYED
    result = _PLAYED
    turns = EnvBatch.create("test_turns", {"target": 3}, 300, 1, True)
    copies = turns.resolve_copies([])
    result.append(turns.reset(copies))
    rng = np.random.default_rng(0)
    for _ in range(6):
        actions = rng.integers(2, size=(2, 300))
        result.append(turns.step(copies, turns.check_step(
            copies, list(actions), [[], []])))
    meet = EnvBatch.create("py_rendezvous_batched", {"episode_length": 200},
                           20000, 2, True)
    copies = meet.resolve_copies([])
    meet.reset(copies)
    subset = copies[::-7]  # copy indices past 2^14, in falling order
    for _ in range(3):
        actions = rng.uniform(-0.2, 0.2, (2, subset.size)).astype(np.float32)
        result.append(meet.step(subset, meet.check_step(
            subset, [[], []], list(actions))))
    return result


class RowsToProtoTest(unittest.TestCase):

    def test_same_message_and_bytes_as_the_setters(self):
        for rows in played_rows():
            expected = reference_timestep(rows)
            got = pb.TimeStep()
            convert.rows_to_proto(rows, got)
            self.assertEqual(got, expected)
            self.assertEqual(got.SerializeToString(),
                             expected.SerializeToString())

    def test_varints_of_every_width(self):
        values = np.array([0, 1, 127, 128, 16383, 16384, 2**21, 2**31 - 1,
                           -1, -2**31], np.int32)
        expected = pb.TimeStep()
        expected.copies.extend(values.tolist())
        got = pb.TimeStep()
        got.MergeFromString(convert._packed_varints(1, values))
        self.assertEqual(got, expected)


class SplicedMessagesTest(unittest.TestCase):
    """The byte-level fast paths write what protobuf would write."""

    def test_reply_bytes_are_the_serialized_response(self):
        rows = played_rows()[3]
        for request_id in (0, 1, 2**40):
            for operation in ("reset", "step"):
                response = pb.Response()
                response.request_id = request_id
                response.status.code = pb.OK
                convert.rows_to_proto(
                    rows, getattr(response, operation).timestep)
                self.assertEqual(
                    convert.reply_bytes(request_id, operation,
                                        convert.timestep_bytes(rows)),
                    response.SerializeToString())

    def test_step_request_bytes_and_step_actions(self):
        rng = np.random.default_rng(3)
        cases = [
            (7, 3, [], [([0, 1, 2], []), ([], [0.5, -1.0])]),
            (1, 2**33, [5, 20000], [(rng.integers(-2**40, 2**40, 6), [])]),
            (0, 0, [], [([], []), ([], [])]),
        ]
        for request_id, handle, copies, actions in cases:
            expected = pb.Request()
            expected.request_id = request_id
            expected.step.handle = handle
            expected.step.copies.extend(copies)
            for discrete, continuous in actions:
                agent = expected.step.actions.add()
                agent.discrete.extend(np.asarray(discrete).tolist())
                agent.continuous.extend(continuous)
            data = convert.step_request_bytes(request_id, handle, actions,
                                              copies)
            self.assertEqual(data, expected.SerializeToString())
            parsed = pb.Request()
            parsed.ParseFromString(data)
            discrete, continuous = convert.step_actions(parsed, data)
            self.assertEqual([d.tolist() for d in discrete],
                             [list(a.discrete) for a in parsed.step.actions])
            self.assertEqual(
                [c.tolist() for c in continuous],
                [list(a.continuous) for a in parsed.step.actions])
            self.assertEqual(discrete[0].dtype, np.int64)
            self.assertEqual(continuous[0].dtype, np.float32)

    def test_step_actions_follow_the_parsed_message(self):
        # step, then reset, then step again: the oneof keeps only the last
        # step, while the bytes hold both; the parsed message wins.
        first = pb.Request()
        first.step.actions.add().discrete.extend([1, 1])
        between = pb.Request()
        between.reset.handle = 1
        last = pb.Request()
        last.step.actions.add().discrete.extend([2])
        last.step.actions.add().discrete.extend([0])
        data = (first.SerializeToString() + between.SerializeToString() +
                last.SerializeToString())
        parsed = pb.Request()
        parsed.ParseFromString(data)
        self.assertEqual(parsed.WhichOneof("payload"), "step")
        discrete, _ = convert.step_actions(parsed, data)
        self.assertEqual([d.tolist() for d in discrete], [[2], [0]])
        discrete, _ = convert.step_actions(parsed)  # no bytes: the message
        self.assertEqual([d.tolist() for d in discrete], [[2], [0]])


class TimeStepArraysTest(unittest.TestCase):

    def test_reads_what_rows_to_proto_wrote(self):
        for rows in played_rows():
            message = pb.TimeStep()
            convert.rows_to_proto(rows, message)
            arrays = convert.timestep_arrays(message.SerializeToString())
            np.testing.assert_array_equal(arrays.copies, rows.copies)
            np.testing.assert_array_equal(arrays.final_rows, rows.final_rows)
            np.testing.assert_array_equal(arrays.episode_step,
                                          rows.episode_step)
            np.testing.assert_array_equal(arrays.terminated, rows.terminated)
            for agent, observation in enumerate(rows.observation):
                np.testing.assert_array_equal(arrays.observation[agent],
                                              observation.reshape(-1))
                np.testing.assert_array_equal(arrays.reward[agent],
                                              rows.reward[agent])
                np.testing.assert_array_equal(
                    arrays.final_observation[agent],
                    rows.final_observation[agent].reshape(-1))
            if rows.state is not None:
                np.testing.assert_array_equal(arrays.state,
                                              rows.state.reshape(-1))
                np.testing.assert_array_equal(arrays.current_agent,
                                              rows.current_agent)
                np.testing.assert_array_equal(
                    arrays.action_mask[1], rows.action_mask[1].reshape(-1))

    def test_reads_unpacked_and_split_fields(self):
        # Parsers must accept a repeated scalar packed or not, and a field
        # given several times (the values concatenate).
        def key(number, wire_type):
            return convert._varint(number << 3 | wire_type)
        data = (key(1, 0) + convert._varint(300) +  # copies, unpacked
                key(1, 2) + b"\x02\x05\x06" +  # copies, packed: 5, 6
                key(3, 0) + b"\x01" +  # terminated, unpacked
                key(9, 5) + struct.pack("<f", 1.5) +  # info, unpacked
                key(99, 2) + b"\x01\x00" +  # an unknown field
                key(9, 2) + b"\x04" + struct.pack("<f", -2.0))
        agent = key(2, 5) + struct.pack("<f", 0.25)  # reward, unpacked
        data += key(2, 2) + bytes([len(agent)]) + agent
        parsed = pb.TimeStep()
        parsed.ParseFromString(data)  # valid protobuf, as the reader needs
        arrays = convert.timestep_arrays(data)
        self.assertEqual(arrays.copies.tolist(), list(parsed.copies))
        self.assertEqual(arrays.copies.tolist(), [300, 5, 6])
        self.assertEqual(arrays.terminated.tolist(), [True])
        self.assertEqual(arrays.info.tolist(), [1.5, -2.0])
        self.assertEqual(arrays.reward[0].tolist(), [0.25])
        self.assertEqual(arrays.truncated.size, 0)
        self.assertEqual(arrays.observation[0].dtype, np.float32)

    def test_response_timestep_bytes(self):
        response = pb.Response()
        response.request_id = 3
        response.step.timestep.copies.extend([4, 2])
        response.step.timestep.agents.add().reward.extend([1.0, 2.0])
        data = response.SerializeToString()
        arrays = convert.timestep_arrays(
            convert.response_timestep_bytes(data))
        self.assertEqual(arrays.copies.tolist(), [4, 2])
        self.assertEqual(arrays.reward[0].tolist(), [1.0, 2.0])
        response.ClearField("step")
        response.status.code = pb.NOT_FOUND
        self.assertEqual(
            convert.response_timestep_bytes(response.SerializeToString()),
            b"")

    def test_truncated_bytes_are_an_error(self):
        message = pb.TimeStep()
        message.copies.extend(range(200))
        data = message.SerializeToString()
        for cut in (1, 5, len(data) - 1):
            with self.assertRaises(ValueError):
                convert.timestep_arrays(data[:cut])


if __name__ == "__main__":
    unittest.main()
