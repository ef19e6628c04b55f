"""The batch runner with both forms of environment: a BatchedEnv gives the
same arrays as its one-copy form for the same seeds and actions (resets,
auto-resets with final observations, truncation, copy subsets, masks and
turns), and whatever a batched environment gets wrong becomes a clear
status, never a crash."""

import unittest

import numpy as np

import examples.matrix_game  # noqa: F401  (registers py_matrix_game)
import examples.matrix_game_batched
import examples.rendezvous  # noqa: F401  (registers py_rendezvous)
import examples.rendezvous_batched  # noqa: F401
from marl_env import Box, Discrete, EnvSpec, Setting, register
from marl_env import env as env_lib
from marl_env import testing
from marl_env.batch import EnvBatch, seed_for_copy, seeds_for_copies
from marl_env.env import BatchedEnv, CopyRngs
from marl_env.status import Code, StatusError

ROW_FIELDS = ("copies", "terminated", "truncated", "episode_step",
              "public_observation", "state", "current_agent", "info",
              "final_rows", "final_public_observation", "final_state")
AGENT_FIELDS = ("observation", "reward", "action_mask", "final_observation")


@register("batch_test_turns", "testing.TurnGame, batched (tests only)")
class BatchedTurnGame(BatchedEnv):
    """testing.TurnGame with every copy in arrays: masks, turns, a public
    observation, a state, infos, and a random start per copy."""

    settings = testing.TurnGame.settings

    def __init__(self, settings, num_copies):
        super().__init__(settings, num_copies)
        one = testing.TurnGame(settings)
        self.spec = one.spec
        self.target = one.target
        self.turn = np.zeros(num_copies, np.int64)
        self.total = np.zeros(num_copies, np.int64)
        self.last = np.full(num_copies, -1)

    def reset_batch(self, copies, seeds=None):
        self.turn[copies] = 0
        self.total[copies] = self.draw(copies, lambda rng: rng.integers(3))
        self.last[copies] = -1
        return self._observations(copies)

    def step_batch(self, copies, actions):
        first = self.turn[copies] % 2 == 0
        action = np.where(first, actions["first"], actions["second"])
        self.total[copies] += action
        self.last[copies] = action
        self.turn[copies] += 1
        zero = np.zeros(len(copies))
        rewards = {"first": np.where(first, action, zero),
                   "second": np.where(first, zero, action)}
        total = self.total[copies]
        return (self._observations(copies), rewards, total >= self.target,
                {"total": total})

    def _observations(self, copies):
        total = self.total[copies][:, None]
        return {"first": total, "second": total}

    def public_observation_batch(self, copies):
        return self.turn[copies][:, None]

    def state_batch(self, copies):
        return np.stack([self.turn[copies], self.total[copies]], axis=1)

    def action_mask_batch(self, copies, agent_id):
        mask = np.ones((len(copies), 3), bool)
        mask[:, 2] = (self.turn[copies] > 0) & (self.last[copies] != 2)
        return mask

    def current_agent_batch(self, copies):
        return self.turn[copies] % 2


class Faulty(BatchedEnv):
    """One copy-shaped mistake per `fault` setting."""

    settings = [Setting("fault", "", "what to get wrong"),
                Setting("bad_setting", False, "refuse the settings")]

    def __init__(self, settings, num_copies):
        if settings["bad_setting"]:
            raise ValueError("bad_setting must be false")
        super().__init__(settings, num_copies)
        self.fault = settings["fault"]
        self.spec = EnvSpec(["a", "b"], Box(-1, 1, (2,)), Discrete(2),
                            info_keys=["k"])

    def reset_batch(self, copies, seeds=None):
        if self.fault == "reset_raises":
            raise RuntimeError("no reset today")
        return {"a": np.zeros((len(copies), 2)),
                "b": np.zeros((len(copies), 2))}

    def step_batch(self, copies, actions):
        n = len(copies)
        observations = self.reset_batch(copies)
        rewards, terminated, info = np.zeros(n), False, {"k": np.ones(n)}
        fault = self.fault
        if fault == "raises":
            raise KeyError("oops")
        if fault == "out_of_memory":
            raise MemoryError()
        if fault == "not_a_tuple":
            return observations
        if fault == "observation_rows":
            observations["a"] = np.zeros((n + 1, 2))
        elif fault == "observation_size":
            observations["b"] = np.zeros((n, 3))
        elif fault == "observation_text":
            observations["b"] = "nothing"
        elif fault == "observations_list":
            observations = [observations["a"], observations["b"]]
        elif fault == "reward_shape":
            rewards = np.zeros((n, 2))
        elif fault == "reward_nan":
            rewards = np.full(n, np.nan)
        elif fault == "reward_huge":
            rewards = {"a": np.full(n, 1e31), "b": np.zeros(n)}
        elif fault == "reward_at_limit":
            # Up to the limit itself, checked exactly (past the quick
            # check's half limit).
            rewards = {"a": np.resize([1e30, -1e30, 6e29], n), "b": 0.0}
        elif fault == "reward_past_limit":
            rewards = {"a": np.zeros(n),
                       "b": np.full(n, np.nextafter(1e30, np.inf))}
        elif fault == "reward_inf_scalar":
            rewards = -np.inf
        elif fault == "reward_unknown_agent":
            rewards = {"c": np.zeros(n)}
        elif fault == "terminated_rows":
            terminated = np.zeros(n + 2, bool)
        elif fault == "info_key":
            info = {"other": np.zeros(n)}
        return observations, rewards, terminated, info


register("batch_test_faulty")(Faulty)


@register("batch_test_no_super_init")
class NoSuperInit(BatchedEnv):
    def __init__(self, settings, num_copies):  # no super().__init__
        self.spec = EnvSpec(["a"], Discrete(1), Discrete(2))


def make(name, num_copies, seed=0, auto_reset=True, **settings):
    return EnvBatch.create(name, settings, num_copies, seed, auto_reset)


def step(batch, copies, discrete=None, continuous=None):
    """Checks and steps; actions per agent as [rows, ...] arrays."""
    agents = batch.spec.num_agents
    discrete = [np.asarray(d).reshape(-1) for d in discrete] if discrete \
        else [[]] * agents
    continuous = [np.asarray(c, np.float32).reshape(-1) for c in continuous] \
        if continuous else [[]] * agents
    copies = batch.resolve_copies(copies)
    return batch.step(copies, batch.check_step(copies, discrete, continuous))


class TestCase(unittest.TestCase):

    def assertStatus(self, function, code, *fragments):
        with self.assertRaises(StatusError) as caught:
            function()
        self.assertEqual(caught.exception.code, code,
                         caught.exception.message)
        for fragment in fragments:
            self.assertIn(fragment, caught.exception.message)
        return caught.exception


class SameArrays(TestCase):
    """A BatchedEnv against its one-copy form, field by field."""

    def assertSameRows(self, one, batched):
        for field in ROW_FIELDS:
            a, b = getattr(one, field), getattr(batched, field)
            if a is None or b is None:
                self.assertIs(a, b, field)
            else:
                np.testing.assert_array_equal(a, b, err_msg=field)
        for field in AGENT_FIELDS:
            for a, b in zip(getattr(one, field), getattr(batched, field)):
                if a is None or b is None:
                    self.assertIs(a, b, field)
                else:
                    np.testing.assert_array_equal(a, b, err_msg=field)

    def test_rendezvous_same_episodes(self):
        # Random starts, Box actions, termination, truncation, auto-reset
        # with final observations, subsets and reset seeds.
        settings = dict(episode_length=4, dims=2, max_speed=0.5,
                        meet_radius=0.3)
        one = make("py_rendezvous", 6, seed=11, **settings)
        batched = make("py_rendezvous_batched", 6, seed=11, **settings)
        self.assertSameRows(one.reset(one.resolve_copies([])),
                            batched.reset(batched.resolve_copies([])))
        rng = np.random.default_rng(5)
        ended = 0
        for turn in range(30):
            copies = ([] if turn % 3 else
                      rng.permutation(6)[:rng.integers(1, 6)].tolist())
            rows = len(copies) or 6
            actions = [rng.uniform(-0.5, 0.5, (rows, 2)) for _ in range(2)]
            a = step(one, copies, continuous=actions)
            b = step(batched, copies, continuous=actions)
            self.assertSameRows(a, b)
            ended += len(b.final_rows)
            if turn == 10:  # reset seeds restart the same streams
                seeds = [seed_for_copy(3, c) for c in (4, 2)]
                self.assertSameRows(
                    one.reset(one.resolve_copies([4, 2]), seeds),
                    batched.reset(batched.resolve_copies([4, 2]), seeds))
        self.assertGreater(ended, 10)  # auto-resets happened

    def test_matrix_game_same_results(self):
        one = make("py_matrix_game", 9, seed=2, reward_scale=0.5)
        batched = make("py_matrix_game_batched", 9, seed=2, reward_scale=0.5)
        self.assertSameRows(one.reset(one.resolve_copies([])),
                            batched.reset(batched.resolve_copies([])))
        actions = [np.arange(9) % 3, np.arange(9) // 3]
        a, b = step(one, [], actions), step(batched, [], actions)
        self.assertSameRows(a, b)
        np.testing.assert_array_equal(b.reward[0],
                                      [2.5, 0, 0, 0, 1.5, 0, 0, 0, 0.5])
        np.testing.assert_array_equal(b.final_rows, np.arange(9))
        self.assertTrue(b.terminated.all())

    def test_turns_masks_and_state_same(self):
        one = make("test_turns", 5, seed=4, target=5, limit=6)
        batched = make("batch_test_turns", 5, seed=4, target=5, limit=6)
        self.assertSameRows(one.reset(one.resolve_copies([])),
                            batched.reset(batched.resolve_copies([])))
        rng = np.random.default_rng(0)
        legal = one.reset(one.resolve_copies([])).action_mask
        batched.reset(batched.resolve_copies([]))
        for _ in range(25):
            # A legal action for the acting agent, anything for the other.
            actions = [np.array([rng.choice(np.flatnonzero(m)) for m in
                                 legal[agent]]) for agent in range(2)]
            a, b = step(one, [], actions), step(batched, [], actions)
            self.assertSameRows(a, b)
            legal = b.action_mask
        # Masked actions are refused the same way by both forms: right
        # after a reset, 2 is illegal for the first player.
        for batch in (one, batched):
            copies = batch.resolve_copies([])
            batch.reset(copies)
            self.assertStatus(
                lambda: batch.check_step(
                    copies, [np.full(5, 2), np.zeros(5, int)], [[], []]),
                Code.INVALID_ARGUMENT, "agent 'first', copy 0: action 2 is "
                "masked out")


class BatchSemanticsTest(TestCase):

    def test_subsets_keep_request_order(self):
        batch = make("py_rendezvous_batched", 5, seed=1, episode_length=3,
                     meet_radius=0.0)
        start = batch.reset(batch.resolve_copies([])).observation[0]
        rows = batch.reset(batch.resolve_copies([3, 1]),
                           [seed_for_copy(1, 3), seed_for_copy(1, 1)])
        np.testing.assert_array_equal(rows.copies, [3, 1])
        np.testing.assert_array_equal(rows.observation[0], start[[3, 1]])
        still = np.zeros((2, 1), np.float32)
        rows = step(batch, [4, 0], continuous=[still, still])
        np.testing.assert_array_equal(rows.episode_step, [1, 1])
        np.testing.assert_array_equal(rows.observation[0], start[[4, 0]])
        # Untouched copies did not count a step: copy 2 truncates last.
        for _ in range(2):
            rows = step(batch, [], continuous=[np.zeros((5, 1))] * 2)
        np.testing.assert_array_equal(rows.episode_step, [3, 2, 2, 2, 3])
        np.testing.assert_array_equal(rows.truncated,
                                      [True, False, False, False, True])
        np.testing.assert_array_equal(rows.final_rows, [0, 4])
        self.assertEqual(rows.final_observation[0].shape, (2, 2))

    def test_final_observations_when_every_copy_ends(self):
        for name in ("py_rendezvous", "py_rendezvous_batched"):
            batch = make(name, 4, seed=3, episode_length=1, meet_radius=0.0)
            start = batch.reset(batch.resolve_copies([])).observation[0]
            rows = step(batch, [], continuous=[np.zeros((4, 1))] * 2)
            np.testing.assert_array_equal(rows.final_rows, np.arange(4))
            np.testing.assert_array_equal(rows.truncated, [True] * 4)
            # The ended episodes' last observations (standing still: the
            # start); the returned ones are the next episodes' first.
            np.testing.assert_array_equal(rows.final_observation[0], start)
            self.assertFalse(np.isclose(rows.observation[0], start).any())
            np.testing.assert_array_equal(rows.episode_step, [1] * 4)

    def test_actions_checked_together_name_the_agent_and_copy(self):
        # Both players act in Discrete(3), so their actions (as the wire
        # gives them: int64 arrays) are copied and checked as one array;
        # the error still names the player and copy at fault.
        climbing = [[11, -30, 0], [-30, 7, 6], [0, 0, 5]]
        batch = make("py_matrix_game_batched", 4, payoffs_row=climbing,
                     payoffs_column=climbing)
        batch.reset(batch.resolve_copies([]))
        empty = [np.zeros(0, np.float32)] * 2
        for copies, second, fragment in (
                ([], [0, 1, 2, 3], "agent 'player_1', copy 3: discrete "
                 "action 3 outside [0, 3)"),
                ([2, 0], [-1, 0], "agent 'player_1', copy 2: discrete "
                 "action -1 outside [0, 3)")):
            with self.subTest(copies=copies):
                resolved = batch.resolve_copies(copies)
                rows = len(resolved)
                self.assertStatus(lambda: batch.check_step(
                    resolved, [np.zeros(rows, np.int64),
                               np.array(second, np.int64)], empty),
                    Code.OUT_OF_RANGE, fragment)
        copies = batch.resolve_copies([])
        actions = [np.array([0, 1, 2, 0], np.int64)] * 2
        packed = batch.check_step(copies, actions, empty)
        # Arrays of the caller's own, apart from the request's.
        self.assertTrue(all(p.flags.writeable for p in packed))
        packed[0][0] = 2
        self.assertEqual(actions[0][0], 0)
        rows = batch.step(copies, packed)
        np.testing.assert_array_equal(rows.reward[0], [0, 7, 5, 11])

    def test_steps_of_every_copy_check_readiness_each_time(self):
        # Whether every copy is ready is remembered between steps of all
        # copies; every change to a copy's state must be seen.
        batch = make("py_matrix_game_batched", 3, auto_reset=False)
        copies = batch.resolve_copies([])
        batch.reset(copies)
        step(batch, [1], [[0], [0]])
        self.assertStatus(lambda: step(batch, [], [[0] * 3, [0] * 3]),
                          Code.FAILED_PRECONDITION, "copy 1 finished")
        batch.reset(batch.resolve_copies([1]))
        step(batch, [], [[0] * 3, [0] * 3])  # every copy ends
        self.assertStatus(lambda: step(batch, [], [[0] * 3, [0] * 3]),
                          Code.FAILED_PRECONDITION, "copy 0 finished")
        batch.reset(batch.resolve_copies([2, 0]))
        self.assertStatus(lambda: step(batch, [], [[0] * 3, [0] * 3]),
                          Code.FAILED_PRECONDITION, "copy 1 finished")
        batch.reset(copies)
        rows = step(batch, [], [[0] * 3, [0] * 3])
        np.testing.assert_array_equal(rows.terminated, [True] * 3)

    def test_rows_keep_no_array_the_environment_returned(self):
        # An environment may return (and later change) arrays it keeps;
        # the rows of a step are copies.
        batch = make("py_rendezvous_batched", 2, seed=4, meet_radius=0.0)
        copies = batch.resolve_copies([])
        batch.reset(copies)
        env = batch.env
        kept = {}
        step_batch = env.step_batch

        def keeping(step_copies, actions):
            observations, rewards, terminated, info = step_batch(
                step_copies, actions)
            for agent, value in observations.items():
                kept.setdefault(agent, np.zeros(np.shape(value),
                                                np.float32))[:] = value
            return kept, rewards, terminated, info

        env.step_batch = keeping
        rows = step(batch, [], continuous=[np.zeros((2, 1))] * 2)
        self.assertEqual(len(rows.final_rows), 0)  # the rows of the step
        before = [o.copy() for o in rows.observation]
        for value in kept.values():
            value[:] = 7.0
        for observation, expected in zip(rows.observation, before):
            np.testing.assert_array_equal(observation, expected)

    def test_rows_keep_no_flags_the_environment_returned(self):
        batch = make("batch_test_faulty", 3, auto_reset=False)
        batch.reset(batch.resolve_copies([]))
        kept = np.array([True, False, False])
        step_batch = batch.env.step_batch

        def keeping(step_copies, actions):
            observations, rewards, _, info = step_batch(step_copies, actions)
            return observations, rewards, kept, info

        batch.env.step_batch = keeping
        rows = step(batch, [], [[0] * 3, [1] * 3])
        batch.env.step_batch = step_batch
        kept[:] = [False, True, True]
        np.testing.assert_array_equal(rows.terminated, [True, False, False])
        # Copy 0 ended (no auto-reset): the others step on.
        self.assertStatus(lambda: step(batch, [0], [[0], [0]]),
                          Code.FAILED_PRECONDITION, "copy 0 finished")
        rows = step(batch, [2, 1], [[0, 0], [0, 0]])
        np.testing.assert_array_equal(rows.episode_step, [2, 2])
        np.testing.assert_array_equal(rows.terminated, [False, False])
        np.testing.assert_array_equal(rows.truncated, [False, False])

    def test_a_failed_auto_reset_leaves_the_other_copies_ready(self):
        batch = make("batch_test_faulty", 3)
        batch.reset(batch.resolve_copies([]))
        step_batch = batch.env.step_batch

        def ending_copy_1(step_copies, actions):
            observations, rewards, _, info = step_batch(step_copies, actions)
            batch.env.fault = "reset_raises"  # for the auto-reset
            return observations, rewards, np.asarray(step_copies) == 1, info

        batch.env.step_batch = ending_copy_1
        self.assertStatus(lambda: step(batch, [], [[0] * 3, [1] * 3]),
                          Code.INTERNAL, "raised in reset_batch")
        batch.env.step_batch = step_batch
        batch.env.fault = ""
        self.assertStatus(lambda: step(batch, [1], [[0], [0]]),
                          Code.FAILED_PRECONDITION, "copy 1 stepped before")
        rows = step(batch, [0, 2], [[0, 0], [0, 0]])
        np.testing.assert_array_equal(rows.episode_step, [2, 2])

    def test_without_auto_reset_ended_copies_wait(self):
        batch = make("py_matrix_game_batched", 3, auto_reset=False)
        batch.reset(batch.resolve_copies([]))
        rows = step(batch, [0, 2], [[0, 1], [0, 1]])
        self.assertEqual(len(rows.final_rows), 0)
        self.assertStatus(lambda: step(batch, [1, 2], [[0, 0], [0, 0]]),
                          Code.FAILED_PRECONDITION, "copy 2 finished")
        step(batch, [1], [[1], [1]])

    def test_seeds_for_copies_is_seed_for_copy(self):
        for seed in (0, 1, 7, (1 << 64) - 1, 12345678901234567):
            copies = np.arange(50)
            self.assertEqual(seeds_for_copies(seed, copies).tolist(),
                             [seed_for_copy(seed, c) for c in copies])

    def test_copy_rngs_are_lazy_and_reseeded(self):
        rngs = CopyRngs(3)
        rngs.seed([0, 1, 2], [5, 6, 7])
        self.assertEqual(rngs._made, {})  # pylint: disable=protected-access
        first = rngs[1].random()
        self.assertEqual(first, np.random.default_rng(6).random())
        self.assertIs(rngs[1], rngs[np.int64(1)])
        rngs.seed([1], [6])  # restarts the stream
        self.assertEqual(rngs[1].random(), first)
        with self.assertRaises(IndexError):
            rngs[3]  # pylint: disable=pointless-statement


class BatchedEnvErrorsTest(TestCase):

    def faulty(self, fault, num_copies=3):
        batch = make("batch_test_faulty", num_copies, fault=fault)
        if fault != "reset_raises":
            batch.reset(batch.resolve_copies([]))
        return batch

    def test_malformed_results_are_internal(self):
        cases = {
            "raises": "raised in step_batch: KeyError: 'oops'",
            "not_a_tuple": "must return (observations, rewards, terminated,",
            "observation_rows": "observation of 'a' (space Box(-1, 1, (2,)))"
                                " has shape (4, 2); expected 3 rows",
            "observation_size": "has shape (3, 3); expected 3 rows (one per "
                                "copy) of 2 numbers",
            "observation_text": "is not an array of numbers",
            "observations_list": "must return observations as a dict",
            "reward_shape": "reward of 'a' must be one value or 3",
            "reward_nan": "reward nan for agent 'a' is not finite",
            "reward_huge": "copy 0: reward 1e+31 for agent 'a' is not "
                           "finite or exceeds 1e+30",
            "reward_past_limit": "copy 0: reward 1.0000000000000002e+30 for "
                                 "agent 'b' is not finite or exceeds 1e+30",
            "reward_inf_scalar": "copy 0: reward -inf for agent 'a' is not "
                                 "finite",
            "reward_unknown_agent": "rewards for unknown agents ['c']",
            "terminated_rows": "terminated must be one value or 3",
            "info_key": "info key 'other' is not in spec.info_keys ['k']",
        }
        for fault, fragment in cases.items():
            with self.subTest(fault=fault):
                batch = self.faulty(fault)
                self.assertStatus(
                    lambda: step(batch, [], [[0] * 3, [1] * 3]),
                    Code.INTERNAL, "environment 'batch_test_faulty'",
                    fragment)
                # Every copy of the failed request needs a reset.
                self.assertStatus(
                    lambda: step(batch, [2], [[0], [0]]),
                    Code.FAILED_PRECONDITION, "before its first reset")
                batch.env.fault = ""
                batch.reset(batch.resolve_copies([]))
                step(batch, [], [[0] * 3, [1] * 3])  # serving again

    def test_rewards_up_to_the_limit_pass(self):
        batch = self.faulty("reward_at_limit")
        rows = step(batch, [], [[0] * 3, [1] * 3])
        np.testing.assert_array_equal(
            rows.reward[0], np.float32([1e30, -1e30, 6e29]))
        np.testing.assert_array_equal(rows.reward[1], [0, 0, 0])

    def test_reset_raising_is_internal(self):
        batch = self.faulty("reset_raises")
        self.assertStatus(lambda: batch.reset(batch.resolve_copies([])),
                          Code.INTERNAL, "raised in reset_batch: "
                          "RuntimeError: no reset today")

    def test_out_of_memory_is_resource_exhausted(self):
        batch = self.faulty("out_of_memory")
        self.assertStatus(lambda: step(batch, [], [[0] * 3, [1] * 3]),
                          Code.RESOURCE_EXHAUSTED, "ran out of memory in "
                          "step_batch")

    def test_construction_errors(self):
        self.assertStatus(lambda: make("batch_test_faulty", 2,
                                       bad_setting=True),
                          Code.INVALID_ARGUMENT, "bad_setting must be false")
        self.assertStatus(lambda: make("batch_test_no_super_init", 2),
                          Code.INTERNAL, "did not call BatchedEnv.__init__")

    def test_one_copy_errors_name_the_copy(self):
        batch = make("test_turns", 3, target=50, crash_on=0)
        batch.reset(batch.resolve_copies([]))
        self.assertStatus(lambda: step(batch, [2, 1], [[1, 1], [1, 1]]),
                          Code.INTERNAL, "environment 'test_turns' copy 2 "
                          "raised in step: RuntimeError: crash_on reached")


class EstimateTest(unittest.TestCase):

    def test_default_and_overrides(self):
        settings = env_lib.resolve_settings(
            examples.matrix_game.MatrixGame.settings, {})
        default = env_lib.default_copy_bytes_estimate(settings)
        # 16 KiB, plus per setting its name + 64, plus 8 per array value and
        # per dimension.
        expected = 16384 + sum(len(n) + 64 for n in settings) + 2 * (9 * 8 +
                                                                     2 * 8)
        self.assertEqual(default, expected)
        self.assertLess(
            examples.matrix_game_batched.MatrixGameBatched.estimate_copy_bytes(
                settings), default)


if __name__ == "__main__":
    unittest.main()
