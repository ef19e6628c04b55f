"""The protocol's arrays (version 2: little-endian bytes fields):
rows_to_proto writes what timestep_arrays reads back, actions_to_proto what
step_actions reads back, every array is little-endian on the wire, and bytes
that are not whole values are refused."""

import unittest

import numpy as np

import env_protocol_pb2 as pb

import examples.rendezvous_batched  # noqa: F401  (py_rendezvous_batched)
from marl_env import convert
from marl_env import testing  # noqa: F401  (registers test_turns)
from marl_env.batch import EnvBatch


_PLAYED = []


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
    subset = copies[::-7]  # a subset, in falling order
    for _ in range(3):
        actions = rng.uniform(-0.2, 0.2, (2, subset.size)).astype(np.float32)
        result.append(meet.step(subset, meet.check_step(
            subset, [[], []], list(actions))))
    return result


def flat(array, dtype):
    return np.asarray(array).reshape(-1).astype(dtype)


class RowsToProtoTest(unittest.TestCase):

    def test_timestep_arrays_read_what_rows_to_proto_wrote(self):
        saw_finals = saw_masks = False
        for rows in played_rows():
            message = pb.TimeStep()
            convert.rows_to_proto(rows, message, named_copies=True)
            # Through the wire and back, as a client gets it.
            read = convert.timestep_arrays(
                pb.TimeStep.FromString(message.SerializeToString()))
            # What version 3 leaves the reader to work out: the final rows
            # are the ended ones, in order (these batches auto-reset).
            np.testing.assert_array_equal(
                np.flatnonzero(read.terminated | read.truncated),
                rows.final_rows)
            for field in ("copies", "terminated", "truncated",
                          "episode_step", "public_observation",
                          "state", "current_agent", "info",
                          "final_public_observation", "final_state"):
                value = getattr(rows, field)
                got = getattr(read, field)
                if value is None:
                    self.assertEqual(got.size, 0, field)
                    continue
                self.assertEqual(got.dtype, value.dtype
                                 if value.dtype == bool else
                                 np.dtype(value.dtype).newbyteorder("<"),
                                 field)
                np.testing.assert_array_equal(got, value.reshape(-1),
                                              err_msg=field)
            self.assertEqual(len(read.observation), len(rows.observation))
            for agent, observation in enumerate(rows.observation):
                np.testing.assert_array_equal(read.observation[agent],
                                              observation.reshape(-1))
                np.testing.assert_array_equal(read.reward[agent],
                                              rows.reward[agent])
                np.testing.assert_array_equal(
                    read.final_observation[agent],
                    rows.final_observation[agent].reshape(-1))
                mask = rows.action_mask[agent]
                if mask is None:
                    self.assertEqual(read.action_mask[agent].size, 0)
                else:
                    saw_masks = True
                    self.assertEqual(read.action_mask[agent].dtype, bool)
                    np.testing.assert_array_equal(read.action_mask[agent],
                                                  mask.reshape(-1))
            saw_finals |= rows.final_rows.size > 0
        self.assertTrue(saw_finals and saw_masks)

    def test_arrays_are_little_endian_bytes(self):
        rows = played_rows()[1]  # test_turns: every optional part
        message = pb.TimeStep()
        convert.rows_to_proto(rows, message, named_copies=True)
        self.assertEqual(message.copies,
                         flat(rows.copies, "<i4").tobytes())
        self.assertEqual(message.copies[4:8], b"\x01\x00\x00\x00")
        self.assertEqual(message.agents[0].reward,
                         flat(rows.reward[0], "<f4").tobytes())
        self.assertEqual(message.terminated,
                         flat(rows.terminated, "u1").tobytes())
        self.assertTrue(set(message.agents[0].action_mask) <= {0, 1})
        self.assertEqual(message.state, flat(rows.state, "<f4").tobytes())
        self.assertEqual(message.current_agent,
                         flat(rows.current_agent, "<i4").tobytes())
        self.assertEqual(len(message.episode_step), 4 * 300)
        one = pb.TimeStep()
        one.agents.add().reward = convert.array_bytes([1.0], convert.FLOAT32)
        self.assertEqual(one.agents[0].reward, b"\x00\x00\x80\x3f")

    def test_absent_parts_stay_empty(self):
        rows = EnvBatch.create("py_rendezvous_batched", {}, 3, 1, True)
        copies = rows.resolve_copies([])
        message = pb.TimeStep()
        convert.rows_to_proto(rows.reset(copies), message,
                              named_copies=False)
        # Every copy, in order, goes without saying (version 3).
        for field in ("copies", "public_observation", "state",
                      "current_agent", "final_public_observation",
                      "final_state"):
            self.assertEqual(getattr(message, field), b"", field)
        self.assertEqual(message.agents[0].action_mask, b"")
        self.assertEqual(message.agents[0].final_observation, b"")


class ActionsTest(unittest.TestCase):

    def test_step_actions_read_what_actions_to_proto_wrote(self):
        extremes = np.array([0, 1, -1, 2**40, -(1 << 63), (1 << 63) - 1],
                            np.int64)
        floats = np.array([0.5, -1.0, np.inf, np.nan], np.float32)
        request = pb.Request()
        convert.actions_to_proto(
            [(extremes, ()), ((), floats), ([3, 4], []), ((), [])],
            request.step)
        parsed = pb.Request.FromString(request.SerializeToString())
        discrete, continuous = convert.step_actions(parsed.step)
        self.assertEqual(len(discrete), 4)
        np.testing.assert_array_equal(discrete[0], extremes)
        np.testing.assert_array_equal(continuous[1], floats)
        self.assertEqual(discrete[2].tolist(), [3, 4])
        self.assertEqual((discrete[1].size, continuous[0].size,
                          discrete[3].size, continuous[3].size),
                         (0, 0, 0, 0))
        self.assertEqual(discrete[0].dtype, np.int64)
        self.assertEqual(continuous[1].dtype, np.float32)
        self.assertEqual(parsed.step.actions[2].discrete,
                         b"\x03" + b"\x00" * 7 + b"\x04" + b"\x00" * 7)
        # Writing again replaces, never appends.
        convert.actions_to_proto([([1], ())], request.step)
        self.assertEqual(len(request.step.actions), 1)

    def test_bytes_that_are_not_whole_values_are_refused(self):
        step = pb.StepRequest()
        step.actions.add().discrete = b"\x00" * 16
        step.actions.add().continuous = b"\x00" * 6
        with self.assertRaisesRegex(
                ValueError, r"actions\[1\]\.continuous has 6 bytes: not a "
                r"whole number of float32 values \(4 bytes each\)"):
            convert.step_actions(step)
        step.actions[1].continuous = b""
        step.actions[1].discrete = b"\x00" * 9
        with self.assertRaisesRegex(ValueError, r"actions\[1\]\.discrete "
                                    "has 9 bytes"):
            convert.step_actions(step)


class TimeStepArraysTest(unittest.TestCase):

    def test_malformed_arrays_are_named(self):
        cases = [
            (lambda t: setattr(t, "copies", b"\x00" * 5),
             r"TimeStep\.copies has 5 bytes: not a whole number of int32"),
            (lambda t: setattr(t.agents.add(), "reward", b"\x00" * 3),
             r"TimeStep\.agents\[0\]\.reward has 3 bytes"),
            (lambda t: setattr(t, "terminated", b"\x00\x02"),
             r"TimeStep\.terminated holds a bool byte other than 0 or 1"),
            (lambda t: setattr(t.agents.add(), "action_mask", b"\x01\xff"),
             r"TimeStep\.agents\[0\]\.action_mask holds a bool byte"),
        ]
        for corrupt, pattern in cases:
            with self.subTest(pattern=pattern):
                timestep = pb.TimeStep()
                corrupt(timestep)
                with self.assertRaisesRegex(ValueError, pattern):
                    convert.timestep_arrays(timestep)

    def test_absent_fields_are_empty_arrays_of_their_type(self):
        read = convert.timestep_arrays(pb.TimeStep())
        self.assertEqual(read.copies.dtype, np.int32)
        self.assertEqual(read.terminated.dtype, bool)
        self.assertEqual(read.info.dtype, np.float32)
        self.assertEqual((read.copies.size, read.info.size,
                          len(read.observation)), (0, 0, 0))


if __name__ == "__main__":
    unittest.main()
