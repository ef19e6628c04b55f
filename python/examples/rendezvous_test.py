"""Rules of py_rendezvous, and the return of random play that the training
test must beat."""

import unittest

import numpy as np

from examples.rendezvous import Rendezvous
from marl_env import Box, make_env
from marl_env.batch import EnvBatch


def mean_random_return(episodes=400, seed=0, **settings):
    """Mean episode return of uniformly random velocities."""
    batch = EnvBatch.create("py_rendezvous", settings, 100, seed=seed,
                            auto_reset=True)
    copies = batch.resolve_copies([])
    batch.reset(copies)
    space = batch.spec.action_spaces[0]
    rng = np.random.default_rng(seed)
    returns, running = [], np.zeros(100)
    while len(returns) < episodes:
        actions = [rng.uniform(space.low, space.high, (100, space.flat_size))
                   .astype(np.float32).reshape(-1) for _ in range(2)]
        rows = batch.step(copies, batch.check_step(copies, [[], []], actions))
        running += rows.reward[0]
        ended = rows.terminated | rows.truncated
        returns.extend(running[ended])
        running[ended] = 0
    return float(np.mean(returns))


class RendezvousTest(unittest.TestCase):

    def test_spec_follows_settings(self):
        env = make_env("py_rendezvous", dims=2, max_speed=0.5,
                       episode_length=7)
        self.assertEqual(env.spec.agent_ids, ("a", "b"))
        self.assertEqual(env.spec.observation_spaces[0], Box(-1, 1, (4,)))
        self.assertEqual(env.spec.action_spaces[1], Box(-0.5, 0.5, (2,)))
        self.assertEqual(env.spec.episode_limit, 7)
        self.assertEqual(env.spec.info_keys, ("distance",))

    def test_moves_clips_and_rewards_minus_distance(self):
        env = Rendezvous.from_settings(max_speed=0.5, meet_radius=0.05)
        env.reset(seed=1)
        env.positions = np.array([[-0.9], [0.9]])
        observations, reward, terminated, info = env.step(
            {"a": np.array([-0.5]), "b": np.array([-0.5])})
        # a is clipped at -1; b moves to 0.4.
        np.testing.assert_allclose(observations["a"], [-1.0, 0.4])
        np.testing.assert_allclose(observations["b"], [0.4, -1.0])
        self.assertAlmostEqual(reward, -1.4)
        self.assertAlmostEqual(info["distance"], 1.4)
        self.assertFalse(terminated)
        observations, reward, terminated, _ = env.step(
            {"a": np.array([0.5]), "b": np.array([-0.5])})
        self.assertAlmostEqual(reward, -0.4)
        observations, reward, terminated, _ = env.step(
            {"a": np.array([0.2]), "b": np.array([-0.2])})
        self.assertAlmostEqual(reward, 0.0)
        self.assertTrue(terminated)

    def test_distance_is_euclidean_in_the_plane(self):
        env = Rendezvous.from_settings(dims=2)
        env.reset()
        env.positions = np.array([[0.0, 0.0], [0.3, 0.4]])
        self.assertAlmostEqual(env.distance(), 0.5)

    def test_seeded_starts(self):
        env = make_env("py_rendezvous", dims=3)
        first = env.reset(seed=4)["a"]
        self.assertTrue(np.all(np.abs(first) <= 1))
        np.testing.assert_array_equal(env.reset(seed=4)["a"], first)
        self.assertFalse(np.array_equal(env.reset(seed=5)["a"], first))

    def test_bad_settings_are_refused(self):
        for settings in ({"episode_length": 0}, {"dims": 0},
                         {"max_speed": 0.0}, {"meet_radius": -1.0}):
            with self.subTest(settings=settings):
                with self.assertRaises(ValueError):
                    Rendezvous.from_settings(**settings)

    def test_random_and_direct_play(self):
        # Random play: documented as about -11 per episode.
        random_return = mean_random_return()
        self.assertLess(random_return, -8)
        self.assertGreater(random_return, -14)
        # Walking straight at each other at full speed.
        batch = EnvBatch.create("py_rendezvous", {}, 200, seed=1,
                                auto_reset=False)
        copies = batch.resolve_copies([])
        observation = batch.reset(copies).observation[0]  # a's: (a, b)
        total = np.zeros(200)
        running = np.ones(200, bool)
        while running.any():
            live = copies[running]
            a, b = observation[running, 0], observation[running, 1]
            toward = np.clip((b - a) / 2, -0.2, 0.2).astype(np.float32)
            rows = batch.step(live, batch.check_step(live, [[], []],
                                                     [toward, -toward]))
            total[running] += rows.reward[0]
            observation[running] = rows.observation[0]
            running[live[rows.terminated | rows.truncated]] = False
        self.assertGreater(total.mean(), -1.0)
        print("random play %.2f, walking straight %.2f per episode" %
              (random_return, total.mean()))


if __name__ == "__main__":
    unittest.main()
