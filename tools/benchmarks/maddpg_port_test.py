"""The Python MADDPG port matches the C++ agent where it can be checked
piece by piece: the update schedule, warm-up, exploration noise, the
critics' input order and what one update moves."""

import argparse
import importlib.util
import unittest

import numpy as np

HAVE_TORCH = importlib.util.find_spec("torch") is not None
if HAVE_TORCH:
    import torch
    from tools.benchmarks import maddpg_port
    from tools.benchmarks import port_common

SKIP = "python3-torch is not installed (apt-get install python3-torch, " \
       "tools/setup.sh)"


def make(flags=()):
    args = maddpg_port.parse_args(["--hidden=8", "--batch_size=4",
                                   "--warmup=16"] + list(flags))
    return maddpg_port.Maddpg(port_common.MaxOfTwoQuadratics(8), args), args


def play(learner, steps):
    port_common.play(learner, port_common.MaxOfTwoQuadratics(8), steps)


@unittest.skipUnless(HAVE_TORCH, SKIP)
class MaddpgPortTest(unittest.TestCase):

    def test_update_schedule_is_the_cpp_one(self):
        # learners/update_schedule.cc: from the batched step that reaches
        # --warmup transitions, floor(ratio * transitions since) updates.
        learner, _ = make(["--update_ratio=0.3"])
        granted = []
        for _ in range(5):
            play(learner, 1)
            granted.append(learner.updates(0))
        # Steps of 8: 8 (warming up), 16 (credited 8: 2), 24 (16: 4),
        # 32 (24: 7), 40 (32: 9).
        self.assertEqual(granted, [0, 2, 4, 7, 9])
        self.assertEqual(learner.updates(1), 9)

    def test_warm_up_is_uniform_in_the_box_then_the_noisy_actor(self):
        learner, args = make()
        env = port_common.MaxOfTwoQuadratics(8)
        actions = learner.act(env.reset())
        for a in actions:
            self.assertEqual(a.shape, (8, 1))
            self.assertTrue(np.all((a >= -10) & (a <= 10)))
        self.assertGreater(np.ptp(actions[0]), 5)  # uniform: spread wide
        self.assertAlmostEqual(learner.noise_std(),
                               args.noise_min + args.noise_initial)
        learner.transitions = 3000  # 2000 past the delay
        self.assertAlmostEqual(learner.noise_std(),
                               0.05 + 0.5 * np.exp(-2.0))

    def test_critics_see_their_own_action_first(self):
        learner, _ = make()
        joint = torch.tensor([[1.0, 2.0]])
        np.testing.assert_array_equal(learner._own_first(joint, 0), [[1, 2]])
        np.testing.assert_array_equal(learner._own_first(joint, 1), [[2, 1]])

    def test_an_update_moves_every_network_and_the_targets_by_tau(self):
        learner, args = make()
        play(learner, 2)  # fills the replay past one batch
        before = [[p.detach().clone() for p in net.parameters()]
                  for net in learner.actors + learner.critics]
        targets = [[p.detach().clone() for p in net.parameters()]
                   for net in learner.target_actors + learner.target_critics]
        learner.update()
        nets = learner.actors + learner.critics
        for net, old in zip(nets, before):
            self.assertFalse(all(torch.equal(p, q) for p, q in
                                 zip(net.parameters(), old)))
        for net, target, old in zip(nets, learner.target_actors +
                                    learner.target_critics, targets):
            for p, t, o in zip(net.parameters(), target.parameters(), old):
                torch.testing.assert_close(
                    t, (1 - args.tau) * o + args.tau * p.detach())

    def test_bad_flags_are_refused(self):
        for flags in (["--hidden=0"], ["--actor_lr=0"], ["--noise_rate=-1"],
                      ["--batch_size=0"], ["--tau=0"]):
            with self.assertRaises(SystemExit, msg=flags):
                maddpg_port.parse_args(flags)
        self.assertIsInstance(maddpg_port.parse_args([]), argparse.Namespace)


if __name__ == "__main__":
    unittest.main()
