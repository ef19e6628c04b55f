"""Independent SAC on the max of two quadratics in plain Python + PyTorch: a
port of the C++ agent //agents/independent (--learner=sac, its defaults) as
a researcher would write it, for tools/benchmarks/train_benchmark.py.

Same algorithm and settings as the C++ agent (agents/independent/
sac_learner.cc, independent_learner.cc, runtime/training_loop.cc):

  - one learner per agent, each treating the other as part of the
    environment; --num_copies environment copies stepped together (the
    C++ agent trains agents of one shape together, their networks stacked,
    and draws one minibatch of joint rows for all of them per update; here
    each agent is updated on its own, as a plain port would be);
  - actor: MLP obs -> hidden -> 2 * action_dim (mean, log_std clamped to
    [-5, 2]), a reparameterised tanh-squashed Gaussian whose (-1, 1) sample
    is scaled to the Box; log-probs in the (-1, 1) space;
  - twin critics MLP (obs, action in (-1, 1)) -> 1 under one Adam, Polyak
    targets; fixed temperature alpha; ReLU everywhere;
  - uniform replay; the first --warmup transitions act uniformly in the Box;
    from the --batch_size-th transition on, each transition banks
    --update_ratio updates, run after each batched step (0.25 with 8
    copies: 2 updates per agent per step, also during warm-up).

The environment is numpy in this process (no protocol). The training time
is the wall time of the training loop (reset excluded, final evaluation
excluded), as the C++ loop measures it; the result is written as a
summary.json like the C++ agent's (docs/RUN_FORMAT.md).

    python3 -m tools.benchmarks.sac_port --steps=6000 --seed=0   # from the
                                                          # repository
"""

import copy
import itertools
import math
import sys

# First: it gives numpy and torch one BLAS thread before they load.
from tools.benchmarks import port_common
from tools.benchmarks.port_common import MaxOfTwoQuadratics  # noqa: F401
from tools.benchmarks.port_common import ReplayBuffer  # noqa: F401
from tools.benchmarks.port_common import mlp
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def parse_args(argv):
    parser = port_common.argument_parser(__doc__, {
        "hidden": "64,64", "critic_lr": 3e-3, "batch_size": 64,
        "warmup": 256, "update_ratio": 0.25})
    parser.add_argument("--actor_lr", type=float, default=1e-3,
                        help="actor Adam rate")
    parser.add_argument("--alpha", type=float, default=0.2,
                        help="entropy temperature")
    args = parser.parse_args(argv)
    port_common.check_args(parser, args, (args.actor_lr, args.critic_lr))
    if not (math.isfinite(args.alpha) and 0 <= args.alpha <= 1e6):
        parser.error("--alpha: in [0, 1e6]")
    return args


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp([obs_dim] + hidden + [2 * act_dim])

    def forward(self, obs):
        mean, log_std = self.net(obs).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, obs, generator):
        """A reparameterised action in (-1, 1) and its log density."""
        mean, log_std = self(obs)
        noise = torch.randn(mean.shape, generator=generator)
        u = mean + log_std.exp() * noise
        gaussian = -0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
        # log(1 - tanh(u)^2), in the form that stays finite for large |u|.
        log_det = 2 * (math.log(2) - u - F.softplus(-2 * u))
        return torch.tanh(u), (gaussian - log_det).sum(-1)


class Critic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp([obs_dim + act_dim] + hidden + [1])

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], dim=-1))


class SacAgent:
    """One agent's soft actor-critic (agents/independent/sac_learner.cc)."""

    def __init__(self, obs_dim, low, high, args, seed):
        torch.manual_seed(seed)  # initial weights from this agent's seed
        act_dim = len(low)
        self.low, self.high = low, high
        self.args = args
        self.actor = Actor(obs_dim, act_dim, args.hidden)
        self.q1 = Critic(obs_dim, act_dim, args.hidden)
        self.q2 = Critic(obs_dim, act_dim, args.hidden)
        self.q1_target = copy.deepcopy(self.q1)
        self.q2_target = copy.deepcopy(self.q2)
        for p in itertools.chain(self.q1_target.parameters(),
                                 self.q2_target.parameters()):
            p.requires_grad_(False)
        self.critic_params = list(itertools.chain(self.q1.parameters(),
                                                  self.q2.parameters()))
        self.actor_opt = torch.optim.Adam(self.actor.parameters(),
                                          lr=args.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic_params,
                                           lr=args.critic_lr)
        self.buffer = port_common.ReplayBuffer(obs_dim, act_dim,
                                               args.buffer_size)
        self.rng = np.random.default_rng(seed)  # replay, warm-up actions
        self.generator = torch.Generator().manual_seed(seed)  # policy noise
        self.transitions = 0
        self.updates = 0
        self.pending = 0.0

    def act(self, obs, deterministic=False):
        if not deterministic and self.transitions < self.args.warmup:
            return self.rng.uniform(self.low, self.high,
                                    size=(len(obs), len(self.low))
                                    ).astype(np.float32)
        with torch.no_grad():
            obs = torch.as_tensor(obs)
            if deterministic:
                y = torch.tanh(self.actor(obs)[0])
            else:
                y, _ = self.actor.sample(obs, self.generator)
        return self.low + 0.5 * (y.numpy() + 1) * (self.high - self.low)

    def observe(self, obs, act, rew, next_obs, done):
        # The critics see actions in (-1, 1), like the policy.
        unit = 2 * (act - self.low) / (self.high - self.low) - 1
        self.buffer.add(obs, np.clip(unit, -1, 1), rew, next_obs, done)
        for _ in range(len(obs)):
            self.transitions += 1
            if self.transitions >= self.args.batch_size:
                self.pending += self.args.update_ratio

    def train_pending(self):
        if self.buffer.size < min(self.args.batch_size, self.args.buffer_size):
            self.pending = 0.0
            return
        n = int(self.pending)
        self.pending -= n
        for _ in range(n):
            self.update()

    def update(self):
        args = self.args
        obs, act, rew, next_obs, done = self.buffer.sample(args.batch_size,
                                                           self.rng)
        with torch.no_grad():
            next_act, next_logp = self.actor.sample(next_obs, self.generator)
            next_q = torch.min(self.q1_target(next_obs, next_act),
                               self.q2_target(next_obs, next_act))
            next_q = next_q - args.alpha * next_logp.unsqueeze(-1)
            target = rew + args.gamma * (1 - done) * next_q
        q1 = self.q1(obs, act)
        q2 = self.q2(obs, act)
        loss_q = F.mse_loss(q1, target) + F.mse_loss(q2, target)
        self.critic_opt.zero_grad()
        loss_q.backward()
        self.critic_opt.step()

        # Freeze the critics for the actor's backward pass.
        for p in self.critic_params:
            p.requires_grad_(False)
        new_act, logp = self.actor.sample(obs, self.generator)
        q_pi = torch.min(self.q1(obs, new_act), self.q2(obs, new_act))
        loss_actor = (args.alpha * logp - q_pi.squeeze(-1)).mean()
        self.actor_opt.zero_grad()
        loss_actor.backward()
        self.actor_opt.step()
        for p in self.critic_params:
            p.requires_grad_(True)

        port_common.polyak(self.q1_target, self.q1, args.tau)
        port_common.polyak(self.q2_target, self.q2, args.tau)
        self.updates += 1
        return {"loss_q": loss_q.item(), "q_mean": q1.mean().item(),
                "loss_actor": loss_actor.item(),
                "entropy": -logp.mean().item()}


class IndependentSac:
    """Both agents' SAC, one after another: the port's joint learner."""

    def __init__(self, env, args):
        seeds = np.random.SeedSequence(args.seed).generate_state(
            env.num_agents)
        self.agents = [SacAgent(env.obs_dim, env.low, env.high, args, int(s))
                       for s in seeds]

    def act(self, obs, deterministic=False):
        return [agent.act(o, deterministic)
                for agent, o in zip(self.agents, obs)]

    def observe(self, obs, actions, rewards, next_obs, done):
        for a, agent in enumerate(self.agents):
            agent.observe(obs[a], actions[a], rewards[a], next_obs[a], done)

    def train_pending(self):
        for agent in self.agents:
            agent.train_pending()

    def updates(self, agent):
        return self.agents[agent].updates


def main(argv=None):
    return port_common.main("sac_port", parse_args, IndependentSac, argv)


if __name__ == "__main__":
    sys.exit(main())
