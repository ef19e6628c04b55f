"""The Python server's message channel (marl_env.message_channel), held to
docs/PROTOCOL.md ("Message channel") and to the C++ channel's semantics
(envs/core/message_channel_test.cc): the spec's spaces, one-hots at the
documented offsets one step late, zeros at every episode's start (reset
and auto-reset), final observations carrying the last messages, the
wrapped environment playing exactly as without the channel, the setting
in list_environments and make, and every refusal."""

import unittest

import numpy as np

import env_protocol_pb2 as pb

import examples.matrix_game  # noqa: F401  (registers py_matrix_game)
import examples.matrix_game_batched  # noqa: F401  (py_matrix_game_batched)
import examples.rendezvous  # noqa: F401  (registers py_rendezvous)
from marl_env import (Box, Discrete, Env, EnvSpec, MultiDiscrete, Setting,
                      register)
from marl_env import convert
from marl_env import env as env_lib
from marl_env import testing  # noqa: F401  (registers test_turns)
from marl_env.batch import EnvBatch
from marl_env.env import BatchedEnv
from marl_env.client import Spec
from marl_env.message_channel import (MAX_MESSAGE_CHANNEL_FLOATS,
                                      channel_spec, message_offset)
from marl_env.service import EnvService
from marl_env.status import Code, StatusError

# The Box observation of agents 2, 5, ...: shape (2, 2), bounds per element.
BOX_LOW = [[-1.0, 0.0], [0.0, -2.0]]
BOX_HIGH = [[1.0, 1.0], [2.0, 0.0]]


@register("channel_test_walk", "random walks of 1 to many agents with "
          "Discrete, MultiDiscrete and Box observations (tests only)")
class Walk(Env):
    """Agent i (ids a0, a1, ...) observes its position on a ring of
    `positions`: agents 0, 3, ... as Discrete(positions), acting in
    Discrete(3); agents 1, 4, ... as MultiDiscrete([positions, 2]) (and the
    turn's parity), acting in MultiDiscrete([2, 3]); agents 2, 5, ... as a
    (2, 2) Box, acting in Discrete(2). Every draw comes from self.rng:
    starts, moves, rewards and the end (probability `end` per step)."""

    settings = [
        Setting("num_agents", 2, "agents (>= 1)"),
        Setting("positions", 5, "positions on the ring (>= 1)"),
        Setting("length", 8, "episode limit"),
        Setting("end", 0.2, "probability that a step ends the game"),
        Setting("sequential", False, "one agent acts per step"),
    ]

    def __init__(self, settings):
        super().__init__(settings)
        self.n = settings["num_agents"]
        self.positions = settings["positions"]
        if self.n < 1 or self.positions < 1:
            raise ValueError("num_agents and positions must be >= 1")
        ids = ["a%d" % i for i in range(self.n)]
        observations, actions = [], []
        for i in range(self.n):
            if i % 3 == 0:
                observations.append(Discrete(self.positions))
                actions.append(Discrete(3))
            elif i % 3 == 1:
                observations.append(MultiDiscrete([self.positions, 2]))
                actions.append(MultiDiscrete([2, 3]))
            else:
                observations.append(Box(np.array(BOX_LOW),
                                        np.array(BOX_HIGH), (2, 2)))
                actions.append(Discrete(2))
        self.spec = EnvSpec(
            ids, observations, actions, episode_limit=settings["length"],
            info_keys=["moved"],
            public_observation_space=Box(0, 1 << 20, (1,)),
            state_space=Box(0, 1 << 20, (self.n,)),
            sequential=settings["sequential"])
        self.at = np.zeros(self.n, np.int64)
        self.turn = 0

    def reset(self, seed=None):
        super().reset(seed)
        self.at = self.rng.integers(self.positions, size=self.n)
        self.turn = 0
        return self._observations()

    def step(self, actions):
        moves = np.array([int(np.sum(actions[a]))
                          for a in self.spec.agent_ids])
        if self.spec.sequential:
            moves[np.arange(self.n) != self.turn % self.n] = 0
        moves += self.rng.integers(2, size=self.n)
        self.at = (self.at + moves) % self.positions
        self.turn += 1
        rewards = {a: float(self.at[i]) + float(self.rng.random())
                   for i, a in enumerate(self.spec.agent_ids)}
        ended = bool(self.rng.random() < self.config["end"])
        return (self._observations(), rewards, ended,
                {"moved": float(moves.sum())})

    def _observations(self):
        observations = {}
        for i, agent in enumerate(self.spec.agent_ids):
            if i % 3 == 0:
                observations[agent] = int(self.at[i])
            elif i % 3 == 1:
                observations[agent] = [int(self.at[i]), self.turn % 2]
            else:
                x = 2.0 * self.at[i] / self.positions - 1.0
                observations[agent] = [[x, 0.5], [1.5, -1.0]]
        return observations

    def public_observation(self):
        return [self.turn]

    def state(self):
        return self.at

    def current_agent(self):
        return self.turn % self.n


@register("channel_test_odd", "observes odd indices, batched (tests only)")
class OddIndices(BatchedEnv):
    """Row r of a step observes case r of ODD_A and ODD_B: indices out of
    their spaces (an environment's bug), which the channel writes as all
    zeros, as the C++ one does. Resets leave both agents out (zeros)."""

    def __init__(self, settings, num_copies):
        super().__init__(settings, num_copies)
        self.spec = EnvSpec(["a", "b"],
                            [Discrete(3), MultiDiscrete([2, 3])],
                            Discrete(2))

    def reset_batch(self, copies, seeds=None):
        return {}

    def step_batch(self, copies, actions):
        return ({"a": ODD_A[copies], "b": ODD_B[copies]}, 0.0, False, None)


# Per row: the index, and the one-hot the channel writes for it.
ODD_A = np.array([3, -1, np.nan, 2.5, np.inf])
ONE_HOT_A = [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 0]]
ODD_B = np.array([[2, 0], [1, 3], [np.nan, np.inf], [-0.0, 2], [1, -0.5]])
ONE_HOT_B = [[0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0],
             [1, 0, 0, 0, 1], [0, 1, 0, 0, 0]]


def one_hot_flat(space, packed):
    """A packed observation (floats) flat as the channel writes it, by
    hand: Box values, one-hots of Discrete and MultiDiscrete indices."""
    packed = np.asarray(packed, np.float32).reshape(-1)
    if isinstance(space, Discrete):
        out = np.zeros(space.n, np.float32)
        out[int(packed[0])] = 1
        return out
    if isinstance(space, MultiDiscrete):
        parts = []
        for value, n in zip(packed, space.nvec):
            part = np.zeros(n, np.float32)
            part[int(value)] = 1
            parts.append(part)
        return np.concatenate(parts)
    return packed


def make(name, num_copies=1, seed=0, **settings):
    return EnvBatch.create(name, settings, num_copies, seed, True)


def step(batch, per_agent, copies=None):
    """Steps `copies` (None = all) with per-agent [rows, components]
    actions."""
    copies = batch.every_copy if copies is None else \
        batch.resolve_copies(copies)
    discrete = [np.asarray(a, np.int64).reshape(-1) for a in per_agent]
    empty = [np.zeros(0, np.float32)] * len(per_agent)
    return batch.step(copies, batch.check_step(copies, discrete, empty))


def random_actions(rng, spec, rows):
    """Random actions of `spec` for `rows` copies, [rows, components] per
    agent."""
    actions = []
    for space in spec.action_spaces:
        nvec = [space.n] if isinstance(space, Discrete) else \
            space.nvec.tolist()
        actions.append(np.stack([rng.integers(n, size=rows) for n in nvec],
                                axis=1))
    return actions


class SpecTest(unittest.TestCase):

    def test_every_environment_accepts_the_setting_last(self):
        for name, env_class in env_lib.registered().items():
            accepted = env_lib.accepted_settings(env_class)
            self.assertEqual(accepted[-1].name, "message_size", name)
            self.assertEqual(accepted[-1].default, 0)
            self.assertEqual(len(accepted), len(env_class.settings) + 1)

    def test_an_environment_may_not_declare_it(self):
        class Declares(Env):
            settings = [Setting("message_size", 3, "mine")]

        with self.assertRaisesRegex(ValueError, "reserved setting "
                                    "'message_size'"):
            register("channel_test_declares")(Declares)
        self.assertNotIn("channel_test_declares", env_lib.registered())

    def test_spaces_become_the_channels(self):
        batch = make("channel_test_walk", num_agents=3, message_size=4,
                     sequential=True)
        spec = batch.spec
        self.assertEqual(spec.message_size, 4)
        self.assertEqual(spec.action_spaces, (
            MultiDiscrete([3, 4]), MultiDiscrete([2, 3, 4]),
            MultiDiscrete([2, 4])))
        # Own floats, then 2 partners x 4.
        sizes = [s.flat_size for s in spec.observation_spaces]
        self.assertEqual(sizes, [5 + 8, 5 + 2 + 8, 4 + 8])
        for space in spec.observation_spaces:
            self.assertIsInstance(space, Box)
            self.assertEqual(len(space.shape), 1)
        box = spec.observation_spaces[2]
        np.testing.assert_array_equal(
            box.low, np.concatenate([np.reshape(BOX_LOW, -1), np.zeros(8)]))
        np.testing.assert_array_equal(
            box.high, np.concatenate([np.reshape(BOX_HIGH, -1), np.ones(8)]))
        np.testing.assert_array_equal(spec.observation_spaces[0].low, 0)
        np.testing.assert_array_equal(spec.observation_spaces[0].high, 1)
        # What the environment declared besides passes through.
        self.assertTrue(spec.sequential)
        self.assertEqual(spec.episode_limit, 8)
        self.assertEqual(spec.info_keys, ("moved",))
        self.assertEqual(spec.state_space.shape, (3,))
        self.assertEqual(spec.public_observation_space.shape, (1,))
        self.assertFalse(spec.has_action_masks)
        # size_i - (n - 1) K + slot K.
        self.assertEqual(message_offset(spec, 0, 1), 5)
        self.assertEqual(message_offset(spec, 0, 2), 9)
        self.assertEqual(message_offset(spec, 1, 0), 7)
        self.assertEqual(message_offset(spec, 1, 2), 11)
        self.assertEqual(message_offset(spec, 2, 0), 4)
        self.assertEqual(message_offset(spec, 2, 1), 8)
        # No channel: the environment's own spec.
        plain = make("channel_test_walk", num_agents=3).spec
        self.assertEqual(plain.message_size, 0)
        self.assertEqual(plain.observation_spaces[0], Discrete(5))

    def test_spec_proto_carries_message_size(self):
        spec = make("py_matrix_game", message_size=3).spec
        message = pb.EnvSpec()
        convert.spec_to_proto(spec, message)
        self.assertEqual(message.message_size, 3)
        self.assertEqual(list(message.agents[0].action_space.
                              multi_discrete.nvec), [3, 3])
        self.assertEqual(list(message.agents[1].observation_space.box.shape),
                         [4])
        self.assertEqual(Spec(message).message_size, 3)
        convert.spec_to_proto(make("py_matrix_game").spec, message)
        self.assertEqual(message.message_size, 0)


class MessagesTest(unittest.TestCase):

    def test_one_step_late_as_one_hots(self):
        # As the C++ MessagesArriveOneStepLaterAsOneHots, for both forms.
        for name in ("py_matrix_game", "py_matrix_game_batched"):
            with self.subTest(name=name):
                plain = make(name, num_copies=2, seed=7)
                channel = make(name, num_copies=2, seed=7, message_size=4)
                self.assertEqual(
                    channel.spec.observation_spaces[0].flat_size, 5)
                plain.reset(plain.every_copy)
                reset = channel.reset(channel.every_copy)
                for agent in range(2):
                    np.testing.assert_array_equal(
                        reset.observation[agent], [[1, 0, 0, 0, 0]] * 2,
                        "no message before the first step")
                # Copy 0: actions (2, 1) saying (3, 0); copy 1: (0, 0)
                # saying (1, 2).
                want = step(plain, [[2, 0], [1, 0]])
                got = step(channel, [[[2, 3], [0, 1]], [[1, 0], [0, 2]]])
                for agent in range(2):
                    np.testing.assert_array_equal(got.reward[agent],
                                                  want.reward[agent])
                np.testing.assert_array_equal(got.info, want.info)
                # Every episode ended: the messages are in the final
                # observations, the next episode's first has none.
                np.testing.assert_array_equal(got.final_rows, [0, 1])
                np.testing.assert_array_equal(
                    got.final_observation[0],
                    [[1, 1, 0, 0, 0], [1, 0, 0, 1, 0]])
                np.testing.assert_array_equal(
                    got.final_observation[1],
                    [[1, 0, 0, 0, 1], [1, 0, 1, 0, 0]])
                for agent in range(2):
                    np.testing.assert_array_equal(
                        got.observation[agent], [[1, 0, 0, 0, 0]] * 2)

    def test_partners_in_agent_order(self):
        batch = make("channel_test_walk", num_copies=2, num_agents=4,
                     message_size=3, end=0.0, length=0)
        spec = batch.spec
        batch.reset(batch.every_copy)
        # Copy 0 says (0, 1, 2, 1); copy 1 says (2, 2, 0, 0).
        said = np.array([[0, 1, 2, 1], [2, 2, 0, 0]])
        actions = random_actions(np.random.default_rng(3), spec, 2)
        for agent in range(4):
            actions[agent][:, -1] = said[:, agent]
        rows = step(batch, actions)
        self.assertEqual(rows.final_rows.size, 0)
        for agent in range(4):
            observation = rows.observation[agent]
            size = spec.observation_spaces[agent].flat_size
            tail = observation[:, size - 9:]
            self.assertEqual(tail.sum(), 2 * 3)  # one 1 per partner
            for copy in range(2):
                for partner in range(4):
                    if partner == agent:
                        continue
                    start = message_offset(spec, agent, partner)
                    np.testing.assert_array_equal(
                        observation[copy, start:start + 3],
                        np.eye(3)[said[copy, partner]],
                        "agent %d, partner %d" % (agent, partner))

    def test_zero_messages_at_every_episode_start(self):
        batch = make("channel_test_walk", num_copies=5, seed=2,
                     message_size=3, end=0.3, length=4)
        spec = batch.spec
        rng = np.random.default_rng(9)
        rows = batch.reset(batch.every_copy)
        for agent in range(2):
            np.testing.assert_array_equal(rows.observation[agent][:, -3:], 0)
        ended_somewhere = partly = 0
        for _ in range(40):
            actions = random_actions(rng, spec, 5)
            rows = step(batch, actions)
            ended = rows.terminated | rows.truncated
            ended_somewhere += ended.any()
            partly += ended.any() and not ended.all()
            np.testing.assert_array_equal(rows.final_rows,
                                          np.flatnonzero(ended))
            for agent in range(2):
                heard = np.eye(3)[actions[1 - agent][:, -1]]
                observation = rows.observation[agent][:, -3:]
                # Rows that go on hear this step's message; rows that
                # ended start a new episode with none ...
                np.testing.assert_array_equal(observation[~ended],
                                              heard[~ended])
                np.testing.assert_array_equal(observation[ended], 0)
                # ... and their ended episode's last observation has it.
                np.testing.assert_array_equal(
                    rows.final_observation[agent][:, -3:], heard[ended])
        self.assertGreater(ended_somewhere, 5)
        self.assertGreater(partly, 2)
        # A reset of chosen copies clears their messages; the next step
        # of one of them carries that step's.
        step(batch, [np.ones((5, n), np.int64) for n in (2, 3)])
        rows = batch.reset(batch.resolve_copies([3, 1]))
        np.testing.assert_array_equal(rows.copies, [3, 1])
        for agent in range(2):
            np.testing.assert_array_equal(rows.observation[agent][:, -3:], 0)
        rows = step(batch, [[[2, 2]], [[1, 2, 1]]], copies=[1])
        heard = (rows.final_observation if rows.final_rows.size
                 else rows.observation)
        np.testing.assert_array_equal(heard[0][:, -3:], [[0, 1, 0]])
        np.testing.assert_array_equal(heard[1][:, -3:], [[0, 0, 1]])

    def test_without_auto_reset_the_last_messages_stay(self):
        batch = EnvBatch.create("channel_test_walk",
                                {"message_size": 2, "end": 1.0}, 2, 0, False)
        batch.reset(batch.every_copy)
        rows = step(batch, [[[0, 1], [0, 0]], [[0, 0, 0], [0, 0, 1]]])
        self.assertTrue(rows.terminated.all())
        self.assertEqual(rows.final_rows.size, 0)
        np.testing.assert_array_equal(rows.observation[0][:, -2:],
                                      [[1, 0], [0, 1]])
        np.testing.assert_array_equal(rows.observation[1][:, -2:],
                                      [[0, 1], [1, 0]])

    def test_wrapped_environment_plays_as_itself(self):
        # Rewards, ends, infos, public observation, state and turns are
        # the environment's own, and its observation (made flat) is the
        # prefix of the channel's, for the same seed and actions: the
        # copies' streams reach the wrapped environment, through make's
        # seed, reset seeds and subsets of copies alike.
        for settings in ({"num_agents": 3}, {"num_agents": 2,
                                             "sequential": True}):
            with self.subTest(settings=settings):
                self.check_same_play(settings)

    def check_same_play(self, settings):
        copies = 4
        plain = make("channel_test_walk", copies, 11, **settings)
        channel = make("channel_test_walk", copies, 11, message_size=2,
                       **settings)
        spec, plain_spec = channel.spec, plain.spec
        n = spec.num_agents
        rng = np.random.default_rng(5)

        def same(want, got):
            for field in ("copies", "terminated", "truncated",
                          "episode_step", "public_observation", "state",
                          "current_agent", "info", "final_rows",
                          "final_public_observation", "final_state"):
                a, b = getattr(want, field), getattr(got, field)
                if a is None:
                    self.assertIsNone(b, field)
                else:
                    np.testing.assert_array_equal(a, b, field)
            for agent in range(n):
                space = plain_spec.observation_spaces[agent]
                np.testing.assert_array_equal(want.reward[agent],
                                              got.reward[agent])
                for name in ("observation", "final_observation"):
                    mine = getattr(want, name)[agent]
                    theirs = getattr(got, name)[agent]
                    self.assertEqual(len(mine), len(theirs))
                    for row in range(len(mine)):
                        own = one_hot_flat(space, mine[row])
                        np.testing.assert_array_equal(
                            theirs[row, :own.size], own, name)
                        self.assertEqual(
                            theirs.shape[1], own.size + (n - 1) * 2)

        same(plain.reset(plain.every_copy),
             channel.reset(channel.every_copy))
        for t in range(60):
            actions = random_actions(rng, spec, copies)
            subset = None if t % 5 else [3, 0]
            rows = len(subset) if subset else copies
            actions = [a[:rows] for a in actions]
            without = [a[:, 0] if isinstance(s, Discrete) else a[:, :-1]
                       for a, s in zip(actions, plain_spec.action_spaces)]
            same(step(plain, without, subset),
                 step(channel, actions, subset))
            if t % 17 == 16:
                seeds = [t, t + 1]
                same(plain.reset(plain.resolve_copies([1, 2]), seeds),
                     channel.reset(channel.resolve_copies([1, 2]), seeds))

    def test_indices_outside_the_space_are_all_zeros(self):
        batch = make("channel_test_odd", num_copies=5, message_size=2)
        rows = batch.reset(batch.every_copy)
        # Left out: zeros, index 0 of each component.
        np.testing.assert_array_equal(rows.observation[0],
                                      [[1, 0, 0, 0, 0]] * 5)
        np.testing.assert_array_equal(rows.observation[1],
                                      [[1, 0, 1, 0, 0, 0, 0]] * 5)
        rows = step(batch, [[[0, 1]] * 5, [[1, 0]] * 5])
        np.testing.assert_array_equal(
            rows.observation[0], np.hstack([ONE_HOT_A, [[1, 0]] * 5]))
        np.testing.assert_array_equal(
            rows.observation[1], np.hstack([ONE_HOT_B, [[0, 1]] * 5]))

    def test_environment_sees_its_own_actions(self):
        seen = []
        batch = make("py_matrix_game_batched", num_copies=2,
                     message_size=5)
        inner = batch.env.inner
        original = inner.step_batch

        def recording(copies, actions):
            seen.append({a: v.copy() for a, v in actions.items()})
            return original(copies, actions)

        inner.step_batch = recording
        batch.reset(batch.every_copy)
        step(batch, [[[2, 4], [1, 0]], [[0, 3], [1, 1]]])
        np.testing.assert_array_equal(seen[0]["player_0"], [2, 1])
        np.testing.assert_array_equal(seen[0]["player_1"], [0, 1])
        self.assertEqual(seen[0]["player_0"].shape, (2,))


class RefusalTest(unittest.TestCase):

    def refused(self, name, code, fragment, **settings):
        with self.assertRaises(StatusError) as caught:
            make(name, **settings)
        self.assertEqual(caught.exception.code, code,
                         caught.exception.message)
        self.assertIn(fragment, caught.exception.message)
        return caught.exception.message

    def test_what_cannot_carry_messages(self):
        cases = [
            ("channel_test_walk", dict(num_agents=1, message_size=4),
             Code.INVALID_ARGUMENT,
             "needs at least two agents; this environment has 1"),
            ("py_rendezvous", dict(message_size=4), Code.INVALID_ARGUMENT,
             "needs Discrete or MultiDiscrete actions; agent 'a' acts in "
             "Box(shape=[1])"),
            ("test_turns", dict(message_size=2), Code.INVALID_ARGUMENT,
             "cannot carry action masks"),
            ("py_matrix_game", dict(message_size=-1), Code.INVALID_ARGUMENT,
             "message_size must be in [0, 1024], got -1"),
            ("py_matrix_game", dict(message_size=1025),
             Code.INVALID_ARGUMENT, "message_size must be in [0, 1024], "
             "got 1025"),
            # 33 x 32 x 1024 messages.
            ("channel_test_walk", dict(num_agents=33, message_size=1024),
             Code.RESOURCE_EXHAUSTED,
             "the message channel (message_size=1024) would add more than "
             "1048576 observation floats per copy for 33 agents"),
            # 2 messages and the one-hots of a Discrete(2^20) observation.
            ("channel_test_walk", dict(positions=1 << 20, message_size=1),
             Code.RESOURCE_EXHAUSTED, "observation floats"),
        ]
        for name, settings, code, fragment in cases:
            with self.subTest(name=name, settings=settings):
                message = self.refused(name, code, fragment, **settings)
                self.assertTrue(message.startswith(
                    "environment '%s': " % name), message)

    def test_the_limit_counts_messages_and_one_hots(self):
        # 32 x 31 x 1024 messages and 11 Discrete(5) + 11
        # MultiDiscrete([5, 2]) one-hots fit; a Box observation adds none.
        spec = make("channel_test_walk", num_agents=32,
                    message_size=1024).spec
        self.assertEqual(spec.message_size, 1024)
        added = 32 * 31 * 1024 + 11 * 5 + 11 * 7
        self.assertLessEqual(added, MAX_MESSAGE_CHANNEL_FLOATS)
        # Exactly at the limit, and one past it.
        walk = env_lib.find("channel_test_walk")
        base = walk(env_lib.resolve_settings(walk.settings, {})).spec
        at_limit = MAX_MESSAGE_CHANNEL_FLOATS - 2 - 7
        base.observation_spaces = (Discrete(at_limit),
                                   base.observation_spaces[1])
        self.assertEqual(channel_spec(base, 1).message_size, 1)
        base.observation_spaces = (Discrete(at_limit + 1),
                                   base.observation_spaces[1])
        with self.assertRaises(StatusError) as caught:
            channel_spec(base, 1)
        self.assertEqual(caught.exception.code, Code.RESOURCE_EXHAUSTED)

    def test_mistyped_setting(self):
        self.refused("py_matrix_game", Code.INVALID_ARGUMENT,
                     "setting 'message_size' takes int, got bool",
                     message_size=True)
        self.refused("py_matrix_game", Code.INVALID_ARGUMENT,
                     "takes int, got string", message_size="2")

    def test_the_environments_own_errors_come_first(self):
        # As in C++: the environment is built (and refuses its settings)
        # before the channel looks at it.
        self.refused("channel_test_walk", Code.INVALID_ARGUMENT,
                     "num_agents and positions must be >= 1",
                     num_agents=0, message_size=2000)

    def test_messages_outside_the_range_are_out_of_range(self):
        batch = make("py_matrix_game", num_copies=2, message_size=2)
        batch.reset(batch.every_copy)
        with self.assertRaises(StatusError) as caught:
            step(batch, [[[0, 0], [0, 2]], [[0, 1], [0, 0]]])
        self.assertEqual(caught.exception.code, Code.OUT_OF_RANGE)
        self.assertIn("multi-discrete element 1 = 2 outside [0, 2)",
                      caught.exception.message)
        self.assertIn("copy 1", caught.exception.message)

    def test_an_environment_may_not_set_the_specs_message_size(self):
        @register("channel_test_claims", "sets spec.message_size itself "
                  "(tests only)")
        class Claims(Env):
            def __init__(self, settings):
                super().__init__(settings)
                self.spec = EnvSpec(["a", "b"], Discrete(1), Discrete(2),
                                    message_size=2)

        self.refused("channel_test_claims", Code.INTERNAL,
                     "message_size is 2; it belongs to the server's")


class ServiceTest(unittest.TestCase):
    """The setting over the protocol: listed, echoed, and refused with the
    server serving on."""

    def setUp(self):
        self.service = EnvService()

    def call(self, request):
        response = pb.Response()
        response.ParseFromString(
            self.service.handle_bytes(request.SerializeToString()))
        return response

    def make(self, name, **settings):
        request = pb.Request()
        request.make.name = name
        request.make.num_copies = 2
        for key, value in settings.items():
            setting = request.make.settings.add()
            setting.name = key
            convert.value_to_proto(value, setting.value)
        return self.call(request)

    def test_listed_after_the_environments_own(self):
        request = pb.Request()
        request.list_environments.SetInParent()
        listed = self.call(request).list_environments.environments
        self.assertTrue(listed)
        for info in listed:
            own = env_lib.find(info.name).settings
            names = [s.name for s in info.settings]
            self.assertEqual(names, [s.name for s in own] + ["message_size"])
            self.assertEqual(info.settings[-1].default_value.int_value, 0)
            self.assertIn("message channel", info.settings[-1].description)

    def test_make_echoes_it(self):
        response = self.make("py_matrix_game", message_size=3)
        self.assertEqual(response.status.code, pb.OK, response.status)
        spec = response.make.spec
        self.assertEqual(spec.message_size, 3)
        settings = {s.name: s.value for s in spec.settings}
        self.assertEqual(settings["message_size"].int_value, 3)
        self.assertEqual(list(spec.agents[0].action_space.multi_discrete.nvec),
                         [3, 3])
        parsed = Spec(spec)
        self.assertEqual(parsed.message_size, 3)
        self.assertEqual(parsed.message_offset("player_0", "player_1"), 1)
        # Without it, the default is listed, and the spec has no channel.
        response = self.make("py_matrix_game")
        settings = {s.name: s.value for s in response.make.spec.settings}
        self.assertEqual(settings["message_size"].int_value, 0)
        self.assertEqual(response.make.spec.message_size, 0)

    def test_refusals_keep_nothing(self):
        for name, settings, code in (
                ("py_rendezvous", {"message_size": 2}, pb.INVALID_ARGUMENT),
                ("test_turns", {"message_size": 2}, pb.INVALID_ARGUMENT),
                ("channel_test_walk", {"num_agents": 40,
                                       "message_size": 1024},
                 pb.RESOURCE_EXHAUSTED)):
            response = self.make(name, **settings)
            self.assertEqual(response.status.code, code, response.status)
            self.assertIn("environment '%s'" % name, response.status.message)
        self.assertEqual(self.service.num_handles, 0)
        self.assertEqual(self.service.server_bytes, 0)

    def test_plays_over_the_protocol(self):
        response = self.make("channel_test_walk", num_agents=3,
                             message_size=2)
        handle = response.make.handle
        request = pb.Request()
        request.reset.handle = handle
        reset = convert.timestep_arrays(self.call(request).reset.timestep)
        for agent in range(3):
            np.testing.assert_array_equal(
                reset.observation[agent].reshape(2, -1)[:, -4:], 0)
        request = pb.Request()
        request.step.handle = handle
        actions = [(np.array([[1, 0], [2, 1]])),
                   np.array([[0, 2, 1], [1, 1, 0]]),
                   np.array([[1, 1], [0, 0]])]
        convert.actions_to_proto([(a.reshape(-1), ()) for a in actions],
                                 request.step)
        response = self.call(request)
        self.assertEqual(response.status.code, pb.OK, response.status)
        ts = convert.timestep_arrays(response.step.timestep)
        # The rows with final observations: the ended ones (auto-reset).
        ended = np.flatnonzero(ts.terminated | ts.truncated).tolist()
        final = dict(zip(ended, range(len(ended))))
        said = np.array([[0, 1, 1], [1, 0, 0]])  # [copy, agent]
        for agent in range(3):
            rows = ts.observation[agent].reshape(2, -1)
            finals = ts.final_observation[agent].reshape(len(final),
                                                         rows.shape[1])
            for copy in range(2):
                row = finals[final[copy]] if copy in final else rows[copy]
                heard = [np.eye(2)[said[copy, p]] for p in range(3)
                         if p != agent]
                np.testing.assert_array_equal(row[-4:],
                                              np.concatenate(heard))


class ClientSpecTest(unittest.TestCase):
    """The client's Spec checks a channel's shapes, as the C++ FromProto."""

    def spec(self, message_size=2):
        batch = make("py_matrix_game", message_size=message_size)
        message = pb.EnvSpec()
        convert.spec_to_proto(batch.spec, message)
        return message

    def test_good_and_broken_specs(self):
        self.assertEqual(Spec(self.spec()).message_size, 2)
        broken = self.spec()
        broken.message_size = 3  # the actions end with 2 messages
        with self.assertRaisesRegex(ValueError, "last component must be "
                                    "the message"):
            Spec(broken)
        broken = self.spec()
        broken.message_size = -3
        with self.assertRaisesRegex(ValueError, "outside"):
            Spec(broken)
        broken = self.spec(4)  # Box[5] observations
        broken.agents[1].action_space.multi_discrete.nvec[-1] = 6
        broken.message_size = 6
        broken.agents[0].action_space.multi_discrete.nvec[-1] = 6
        with self.assertRaisesRegex(ValueError, "flat Box ending with"):
            Spec(broken)
        plain = self.spec()
        plain.message_size = 0
        self.assertEqual(Spec(plain).message_size, 0)
        with self.assertRaises(ValueError):
            Spec(plain).message_offset("player_0", "player_1")


if __name__ == "__main__":
    unittest.main()
