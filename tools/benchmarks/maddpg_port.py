"""MADDPG on the max of two quadratics in plain Python + PyTorch: a port of
the C++ agent //agents/maddpg (its defaults) as a researcher would write
it, for tools/benchmarks/train_benchmark.py.

Same algorithm and settings as the C++ agent (agents/maddpg/
maddpg_learner.cc, learners/deep_joint_base.cc, runtime/training_loop.cc):

  - per agent i: an actor mu_i(o_i), MLP obs -> hidden -> action with a
    tanh output (actions in the normalised [-1, 1] space, scaled to the
    Box); a centralised critic Q_i(o_1, o_2, a_i, a_-i), MLP -> 1; target
    copies of both, Polyak-averaged; ReLU hidden layers; Adam for each
    network (actor --actor_lr, critic --critic_lr);
  - one replay of joint transitions (actions stored normalised); the first
    --warmup transitions act uniformly at random; afterwards the actor's
    action plus Gaussian noise of std noise_min + noise_initial *
    exp(-noise_rate * max(t - noise_delay, 0)) (t = transitions), clamped;
  - from the --warmup-th transition on, each batched step of --num_copies
    transitions earns floor(update_ratio * transitions since) updates
    (learners/update_schedule.cc), run right after the step; an update
    trains agent after agent: the critic towards r_i + gamma (1 - done)
    Q'_i(o', mu'(o')), then the actor on -Q_i(o, mu_i(o_i), a_-i replayed),
    then every target moves.

The environment is numpy in this process (no protocol); the summary is
written like the C++ agent's summary.json (docs/RUN_FORMAT.md).

    python3 -m tools.benchmarks.maddpg_port --steps=6000 --seed=0   # from
                                                           # the repository
"""

import copy
import math
import sys

# First: it gives numpy and torch one BLAS thread before they load.
from tools.benchmarks import port_common
from tools.benchmarks.port_common import mlp
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def parse_args(argv):
    parser = port_common.argument_parser(__doc__, {
        "hidden": "100,100", "critic_lr": 1e-2, "batch_size": 512,
        "warmup": 512, "update_ratio": 0.125})
    add = parser.add_argument
    add("--actor_lr", type=float, default=1e-2, help="actors' Adam rate")
    add("--noise_initial", type=float, default=0.5,
        help="decaying part of the exploration noise std")
    add("--noise_min", type=float, default=0.05,
        help="exploration noise floor")
    add("--noise_rate", type=float, default=1e-3,
        help="exploration noise decay per transition")
    add("--noise_delay", type=float, default=1000,
        help="transitions before the noise starts decaying")
    args = parser.parse_args(argv)
    port_common.check_args(parser, args, (args.actor_lr, args.critic_lr))
    noise = (args.noise_initial, args.noise_min, args.noise_rate,
             args.noise_delay)
    if not all(math.isfinite(x) and 0 <= x <= 1e9 for x in noise):
        parser.error("noise settings: in [0, 1e9]")
    return args


class Maddpg:
    """Both agents' MADDPG: the port's joint learner."""

    def __init__(self, env, args):
        torch.manual_seed(args.seed)  # initial weights from the run seed
        self.args = args
        self.n = n = env.num_agents
        self.low, self.high = env.low, env.high
        obs_dim, act_dim = env.obs_dim, len(env.low)
        self.act_dim = act_dim
        self.actors = [mlp([obs_dim] + args.hidden + [act_dim], nn.Tanh())
                       for _ in range(n)]
        self.critics = [mlp([n * obs_dim + n * act_dim] + args.hidden + [1])
                        for _ in range(n)]
        self.target_actors = [copy.deepcopy(a) for a in self.actors]
        self.target_critics = [copy.deepcopy(c) for c in self.critics]
        for net in self.target_actors + self.target_critics:
            for p in net.parameters():
                p.requires_grad_(False)
        self.actor_opts = [torch.optim.Adam(a.parameters(), lr=args.actor_lr)
                           for a in self.actors]
        self.critic_opts = [torch.optim.Adam(c.parameters(),
                                             lr=args.critic_lr)
                            for c in self.critics]
        self.buffer = port_common.ReplayBuffer(n * obs_dim, n * act_dim,
                                               args.buffer_size,
                                               reward_dim=n)
        self.rng = np.random.default_rng(args.seed)  # replay sampling
        self.generator = torch.Generator().manual_seed(args.seed)  # noise
        self.transitions = 0
        self.credited = 0
        self.granted = 0
        self.pending = 0
        self.update_count = 0

    def noise_std(self):
        a = self.args
        return a.noise_min + a.noise_initial * math.exp(
            -a.noise_rate * max(self.transitions - a.noise_delay, 0))

    def act(self, obs, deterministic=False):
        copies = len(obs[0])
        if not deterministic and self.transitions < self.args.warmup:
            ys = [torch.rand((copies, self.act_dim), generator=self.generator)
                  * 2 - 1 for _ in range(self.n)]
        else:
            with torch.no_grad():
                ys = []
                for actor, o in zip(self.actors, obs):
                    y = actor(torch.as_tensor(o))
                    if not deterministic:
                        y = y + self.noise_std() * torch.randn(
                            y.shape, generator=self.generator)
                    ys.append(y.clamp(-1, 1))
        return [self.low + (y.numpy() + 1) * 0.5 * (self.high - self.low)
                for y in ys]

    def observe(self, obs, actions, rewards, next_obs, done):
        units = [np.clip(2 * (a - self.low) / (self.high - self.low) - 1,
                         -1, 1) for a in actions]
        self.buffer.add(np.concatenate(obs, -1), np.concatenate(units, -1),
                        np.stack(rewards, -1), np.concatenate(next_obs, -1),
                        done)
        copies = len(done)
        self.transitions += copies
        if self.transitions >= self.args.warmup:
            self.credited += copies
            due = math.floor(self.args.update_ratio * self.credited) - \
                self.granted
            self.granted += due
            self.pending += due

    def train_pending(self):
        for _ in range(self.pending):
            self.update()
        self.pending = 0

    def update(self):
        args, n, d = self.args, self.n, self.act_dim
        obs, act, rew, next_obs, done = self.buffer.sample(args.batch_size,
                                                           self.rng)
        done = done[:, 0]
        obs_i = obs.chunk(n, -1)
        next_obs_i = next_obs.chunk(n, -1)
        with torch.no_grad():
            next_act = torch.cat([t(o) for t, o in
                                  zip(self.target_actors, next_obs_i)], -1)
        for i in range(n):
            with torch.no_grad():
                next_q = self.target_critics[i](
                    torch.cat([next_obs, self._own_first(next_act, i)],
                              -1)).squeeze(-1)
                y = rew[:, i] + args.gamma * (1 - done) * next_q
            q = self.critics[i](torch.cat([obs, self._own_first(act, i)],
                                          -1)).squeeze(-1)
            critic_loss = (q - y).pow(2).mean()
            self.critic_opts[i].zero_grad()
            critic_loss.backward()
            self.critic_opts[i].step()

            own = self.actors[i](obs_i[i])
            joint = torch.cat([own, act[:, :i * d], act[:, (i + 1) * d:]], -1)
            actor_loss = -self.critics[i](torch.cat([obs, joint], -1)).mean()
            self.actor_opts[i].zero_grad()
            actor_loss.backward()
            self.actor_opts[i].step()
        for i in range(n):
            port_common.polyak(self.target_actors[i], self.actors[i], args.tau)
            port_common.polyak(self.target_critics[i], self.critics[i],
                               args.tau)
        self.update_count += 1

    def _own_first(self, joint_action, i):
        """Agent i's critic input order: its own action, then the others'."""
        d = self.act_dim
        return torch.cat([joint_action[:, i * d:(i + 1) * d],
                          joint_action[:, :i * d],
                          joint_action[:, (i + 1) * d:]], -1)

    def updates(self, agent):
        return self.update_count


def main(argv=None):
    return port_common.main("maddpg_port", parse_args, Maddpg, argv)


if __name__ == "__main__":
    sys.exit(main())
