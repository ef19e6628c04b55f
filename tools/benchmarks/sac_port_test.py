"""The Python SAC port matches the C++ agent where it can be checked
piece by piece: the environment's rewards, the replay ring, the tanh-Gaussian
log density, the warm-up and the update schedule."""

import argparse
import importlib.util
import unittest

import numpy as np

HAVE_TORCH = importlib.util.find_spec("torch") is not None
if HAVE_TORCH:
    import torch
    from tools.benchmarks import sac_port

SKIP = "python3-torch is not installed (apt-get install python3-torch, " \
       "tools/setup.sh)"


@unittest.skipUnless(HAVE_TORCH, SKIP)
class SacPortTest(unittest.TestCase):

    def test_rewards_of_both_variants(self):
        paper = sac_port.MaxOfTwoQuadratics(1, "paper")
        code = sac_port.MaxOfTwoQuadratics(1, "code")
        self.assertAlmostEqual(paper.reward(5.0, 5.0), 10.0)
        self.assertAlmostEqual(paper.reward(-5.0, -5.0), 0.0)
        self.assertAlmostEqual(paper.reward(-5.0, 0.0), 0.8 * -25 / 9)
        self.assertAlmostEqual(code.reward(-5.0, 0.0), 0.8 * -25 / 3)
        _, rewards, done = sac_port.MaxOfTwoQuadratics(2).step(
            [np.array([[5.0], [-5.0]], np.float32),
             np.array([[5.0], [-5.0]], np.float32)])
        np.testing.assert_allclose(rewards[0], [10.0, 0.0], atol=1e-6)
        np.testing.assert_array_equal(rewards[0], rewards[1])
        self.assertTrue(done.all())

    def test_replay_ring_overwrites_the_oldest(self):
        buffer = sac_port.ReplayBuffer(1, 1, capacity=5)
        for start in (0, 3):
            rows = np.arange(start, start + (3 if start == 0 else 4),
                             dtype=np.float32)[:, None]
            buffer.add(rows, rows, rows[:, 0], rows, np.zeros(len(rows)))
        self.assertEqual(buffer.size, 5)
        self.assertEqual(buffer.ptr, 2)
        np.testing.assert_array_equal(buffer.obs[:, 0], [5, 6, 2, 3, 4])
        obs, _, rew, _, done = buffer.sample(100, np.random.default_rng(1))
        self.assertEqual(tuple(obs.shape), (100, 1))
        self.assertEqual(tuple(rew.shape), (100, 1))
        self.assertTrue(set(obs[:, 0].tolist()) <= {2, 3, 4, 5, 6})
        self.assertEqual(float(done.sum()), 0.0)

    def test_log_prob_is_the_tanh_gaussian_density(self):
        # Seeded: with unseeded weights a saturated tanh (|u| > ~9 in
        # float32) made the clamped-atanh reference disagree now and then.
        torch.manual_seed(7)
        actor = sac_port.Actor(1, 2, [8])
        obs = torch.rand(16, 1, generator=torch.Generator().manual_seed(2))
        action, log_prob = actor.sample(obs, torch.Generator().manual_seed(3))
        # The reference takes the pre-tanh sample from the same noise and
        # computes the change of variables in float64, the plain way.
        mean, log_std = (t.double() for t in actor(obs))
        noise = torch.randn(mean.shape,
                            generator=torch.Generator().manual_seed(3))
        u = mean + log_std.exp() * noise.double()
        gaussian = torch.distributions.Normal(mean, log_std.exp())
        expected = (gaussian.log_prob(u) -
                    torch.log1p(-torch.tanh(u).pow(2) + 1e-300)).sum(-1)
        unsaturated = (torch.tanh(u).abs() < 0.999).all(-1)
        self.assertGreater(int(unsaturated.sum()), 8)
        torch.testing.assert_close(log_prob.double()[unsaturated],
                                   expected[unsaturated], atol=1e-3,
                                   rtol=1e-4)
        torch.testing.assert_close(action.double(), torch.tanh(u),
                                   atol=1e-6, rtol=0)
        self.assertTrue(torch.isfinite(log_prob).all())
        self.assertTrue(((action >= -1) & (action <= 1)).all())

    def test_warmup_then_policy_and_update_schedule(self):
        args = sac_port.parse_args(["--batch_size=4", "--warmup=16",
                                    "--hidden=8"])
        low, high = np.array([-10.0], np.float32), np.array([10.0],
                                                            np.float32)
        agent = sac_port.SacAgent(1, low, high, args, seed=5)
        obs = np.zeros((8, 1), np.float32)
        warm = agent.act(obs)
        self.assertTrue(((warm >= -10) & (warm <= 10)).all())
        self.assertGreater(float(np.abs(warm).max()), 1.0)  # uniform in Box
        for _ in range(10):
            actions = agent.act(obs)
            self.assertTrue(((actions >= -10) & (actions <= 10)).all())
            agent.observe(obs, actions, np.ones(8, np.float32), obs,
                          np.ones(8, bool))
            agent.train_pending()
        # Transitions 4..80 bank 0.25 each: 19.25 -> 19 updates so far.
        self.assertEqual(agent.transitions, 80)
        self.assertEqual(agent.updates, 19)
        self.assertAlmostEqual(agent.pending, 0.25)
        greedy = agent.act(obs[:1], deterministic=True)
        np.testing.assert_array_equal(greedy, agent.act(obs[:1], True))

    def test_bad_flags_are_refused(self):
        for flags in (["--steps=-1"], ["--num_copies=0"], ["--hidden=8,x"],
                      ["--actor_lr=nan"], ["--tau=0"], ["--gamma=2"]):
            with self.assertRaises(SystemExit, msg=flags):
                sac_port.parse_args(flags)
        self.assertIsInstance(sac_port.parse_args([]), argparse.Namespace)


if __name__ == "__main__":
    unittest.main()
