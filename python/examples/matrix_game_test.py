"""Rules of py_matrix_game, played directly and through the batch runner."""

import unittest

import numpy as np

from examples.matrix_game import COORDINATION, MatrixGame
from examples.matrix_game_batched import MatrixGameBatched
from marl_env import Discrete, make_env
from marl_env.batch import EnvBatch


class MatrixGameTest(unittest.TestCase):

    def test_default_spec(self):
        env = make_env("py_matrix_game")
        self.assertEqual(env.spec.agent_ids, ("player_0", "player_1"))
        self.assertEqual(env.spec.action_spaces, (Discrete(3), Discrete(3)))
        self.assertEqual(env.spec.observation_spaces,
                         (Discrete(1), Discrete(1)))
        self.assertEqual(env.spec.episode_limit, 0)
        self.assertEqual(env.spec.info_keys, ("welfare",))

    def test_every_cell_pays_its_entries(self):
        row = [[1, 2, 3], [4, 5, 6]]
        column = [[-1, -2, -3], [-4, -5, -6]]
        env = MatrixGame.from_settings(payoffs_row=row, payoffs_column=column,
                                       reward_scale=2)
        self.assertEqual(env.spec.action_spaces, (Discrete(2), Discrete(3)))
        for a0 in range(2):
            for a1 in range(3):
                self.assertEqual(env.reset(), {"player_0": 0, "player_1": 0})
                observations, rewards, terminated, info = env.step(
                    {"player_0": a0, "player_1": a1})
                self.assertTrue(terminated)
                self.assertEqual(rewards["player_0"], 2 * row[a0][a1])
                self.assertEqual(rewards["player_1"], 2 * column[a0][a1])
                self.assertEqual(info["welfare"], 0)
                self.assertEqual(observations["player_1"], 0)

    def test_bad_payoffs_are_refused(self):
        for row, column in (([1, 2], [1, 2]),
                            ([[1, 2]], [[1, 2], [3, 4]]),
                            ([[np.inf]], [[0]])):
            with self.subTest(row=row, column=column):
                with self.assertRaises(ValueError):
                    MatrixGame.from_settings(payoffs_row=row,
                                             payoffs_column=column)
        with self.assertRaises(ValueError):  # a string for an array
            MatrixGame.from_settings(payoffs_row="[[1]]")

    def test_reward_scale_keeps_rewards_finite(self):
        for scale in (float("nan"), float("inf"), 1e308, -1e30):
            with self.subTest(scale=scale):
                with self.assertRaisesRegex(ValueError, "reward_scale"):
                    MatrixGame.from_settings(reward_scale=scale)  # x 5
        env = MatrixGame.from_settings(reward_scale=-2e29)
        env.reset()
        _, rewards, _, _ = env.step({"player_0": 0, "player_1": 0})
        self.assertAlmostEqual(rewards["player_0"] / -1e30, 1.0)

    def test_estimate_counts_the_payoffs(self):
        small = MatrixGame.estimate_copy_bytes(
            {"payoffs_row": np.zeros((2, 2)),
             "payoffs_column": np.zeros((2, 2))})
        big = MatrixGame.estimate_copy_bytes(
            {"payoffs_row": np.zeros((1000, 1000)),
             "payoffs_column": np.zeros((1000, 1000))})
        self.assertEqual(big - small, 16 * 2 * (1000 * 1000 - 4))

    def test_random_play_earns_the_mean_payoff(self):
        # The figure the training test compares against: uniformly random
        # joint actions earn the mean of the matrix, 1 with the defaults.
        batch = EnvBatch.create("py_matrix_game", {}, 1000, seed=3,
                                auto_reset=True)
        copies = batch.resolve_copies([])
        batch.reset(copies)
        rng = np.random.default_rng(0)
        actions = rng.integers(3, size=(2, 1000))
        packed = batch.check_step(copies, [actions[0], actions[1]], [[], []])
        rows = batch.step(copies, packed)
        self.assertTrue(rows.terminated.all())
        self.assertEqual(rows.final_rows.tolist(), list(range(1000)))
        self.assertAlmostEqual(float(rows.reward[0].mean()),
                               np.mean(COORDINATION), delta=0.3)

    def test_batched_form_pays_the_same(self):
        row = [[1, 2, 3], [4, 5, 6]]
        column = [[-1, -2, -3], [-4, -5, -6]]
        one = MatrixGame.from_settings(payoffs_row=row, payoffs_column=column,
                                       reward_scale=2)
        batched = MatrixGameBatched.from_settings(
            6, payoffs_row=row, payoffs_column=column, reward_scale=2)
        self.assertEqual(batched.spec.action_spaces, one.spec.action_spaces)
        self.assertEqual(batched.spec.info_keys, one.spec.info_keys)
        copies = np.arange(6)
        a0, a1 = copies // 3, copies % 3
        batched.reset_batch(copies)
        observations, rewards, terminated, info = batched.step_batch(
            copies, {"player_0": a0, "player_1": a1})
        self.assertTrue(terminated)
        np.testing.assert_array_equal(observations["player_1"], np.zeros(6))
        for c in copies:
            one.reset()
            _, expected, _, expected_info = one.step(
                {"player_0": int(a0[c]), "player_1": int(a1[c])})
            self.assertEqual(rewards["player_0"][c], expected["player_0"])
            self.assertEqual(rewards["player_1"][c], expected["player_1"])
            self.assertEqual(info["welfare"][c], expected_info["welfare"])
        with self.assertRaises(ValueError):  # the same settings checks
            MatrixGameBatched.from_settings(2, payoffs_row=[1, 2])


if __name__ == "__main__":
    unittest.main()
