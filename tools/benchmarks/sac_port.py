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

    python3 tools/benchmarks/sac_port.py --steps=6000 --seed=0
"""

import argparse
import copy
import itertools
import json
import math
import os
import sys
import time

# One BLAS thread, like the C++ agents (read when the library loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
MAX_COPIES = 65536
MAX_STEPS = 10**9


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", maxsplit=1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--steps", type=int, default=6000,
        help="training transitions over all copies (rounded up to whole "
        "batched steps)")
    add("--num_copies", type=int, default=8,
        help="environment copies stepped together")
    add("--seed", type=int, default=0, help="run seed")
    add("--variant", choices=("paper", "code"), default="paper",
        help="max_of_two_quadratics variant (f1 divides by 9 or by 3)")
    add("--hidden", default="64,64",
        help="hidden layer sizes of actor and critics, comma-separated")
    add("--actor_lr", type=float, default=1e-3, help="actor Adam rate")
    add("--critic_lr", type=float, default=3e-3, help="critics Adam rate")
    add("--alpha", type=float, default=0.2, help="entropy temperature")
    add("--gamma", type=float, default=0.95, help="discount factor")
    add("--tau", type=float, default=0.01,
        help="Polyak rate of the target critics")
    add("--batch_size", type=int, default=64, help="minibatch size")
    add("--buffer_size", type=int, default=100000,
        help="replay capacity in transitions (per agent)")
    add("--warmup", type=int, default=256,
        help="transitions acted uniformly at random (per agent)")
    add("--update_ratio", type=float, default=0.25,
        help="gradient updates per transition observed")
    add("--eval_episodes", type=int, default=100,
        help="episodes of the final deterministic evaluation")
    add("--summary", default="",
        help="write the results here as JSON (summary.json keys)")
    args = parser.parse_args(argv)
    try:
        args.hidden = [int(h) for h in args.hidden.split(",") if h]
    except ValueError:
        parser.error("--hidden: comma-separated integers, got %r" %
                     args.hidden)
    if not args.hidden or any(not 1 <= h <= 65536 for h in args.hidden):
        parser.error("--hidden: sizes from 1 to 65536")
    if not 0 <= args.steps <= MAX_STEPS:
        parser.error("--steps: from 0 to %d" % MAX_STEPS)
    if not 1 <= args.num_copies <= MAX_COPIES:
        parser.error("--num_copies: from 1 to %d" % MAX_COPIES)
    if not 1 <= args.batch_size <= 2**20 or \
            not 1 <= args.buffer_size <= 10**8:
        parser.error("--batch_size from 1 to 2^20, --buffer_size from 1 to "
                     "10^8")
    if not 0 <= args.warmup <= MAX_STEPS or not 1 <= args.eval_episodes <= \
            10**6:
        parser.error("--warmup from 0 to %d, --eval_episodes from 1 to 10^6"
                     % MAX_STEPS)
    rates = (args.actor_lr, args.critic_lr)
    if not all(math.isfinite(r) and 0 < r <= 10 for r in rates):
        parser.error("--actor_lr and --critic_lr: in (0, 10]")
    if not (math.isfinite(args.alpha) and 0 <= args.alpha <= 1e6):
        parser.error("--alpha: in [0, 1e6]")
    if not 0 <= args.gamma <= 1 or not 0 < args.tau <= 1:
        parser.error("--gamma in [0, 1], --tau in (0, 1]")
    if not 0 <= args.update_ratio <= 1000:
        parser.error("--update_ratio: in [0, 1000]")
    return args


class MaxOfTwoQuadratics:
    """envs/quadratics/max_of_two_quadratics.cc for `num_copies` copies:
    two players each pick a number in [-10, 10]; both get max(f1, f2). Every
    step ends the episode; the observation is a constant 0."""

    num_agents = 2
    obs_dim = 1
    low = np.array([-10.0], np.float32)
    high = np.array([10.0], np.float32)

    def __init__(self, num_copies, variant="paper"):
        self.num_copies = num_copies
        self.divisor = 9.0 if variant == "paper" else 3.0

    def reward(self, a1, a2):
        f1 = 0.8 * (-(a1 + 5) ** 2 / self.divisor -
                    (a2 + 5) ** 2 / self.divisor)
        f2 = -(a1 - 5) ** 2 - (a2 - 5) ** 2 + 10
        return np.maximum(f1, f2)

    def reset(self):
        return [np.zeros((self.num_copies, 1), np.float32)
                for _ in range(self.num_agents)]

    def step(self, actions):
        """actions: per agent [copies, 1]. Returns per agent the final
        observations and rewards, and whether each copy terminated."""
        r = self.reward(actions[0][:, 0].astype(np.float64),
                        actions[1][:, 0].astype(np.float64))
        r = r.astype(np.float32)
        return (self.reset(), [r, r.copy()],
                np.ones(self.num_copies, dtype=bool))


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


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


class ReplayBuffer:
    def __init__(self, obs_dim, act_dim, capacity):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.rew = np.zeros((capacity, 1), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros((capacity, 1), np.float32)
        self.capacity, self.ptr, self.size = capacity, 0, 0

    def add(self, obs, act, rew, next_obs, done):
        idx = (self.ptr + np.arange(len(obs))) % self.capacity
        self.obs[idx] = obs
        self.act[idx] = act
        self.rew[idx, 0] = rew
        self.next_obs[idx] = next_obs
        self.done[idx, 0] = done
        self.ptr = (self.ptr + len(obs)) % self.capacity
        self.size = min(self.size + len(obs), self.capacity)

    def sample(self, batch_size, rng):
        idx = rng.integers(0, self.size, size=batch_size)
        return [torch.as_tensor(x[idx]) for x in
                (self.obs, self.act, self.rew, self.next_obs, self.done)]


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
        self.buffer = ReplayBuffer(obs_dim, act_dim, args.buffer_size)
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

        with torch.no_grad():
            for q, q_target in ((self.q1, self.q1_target),
                                (self.q2, self.q2_target)):
                for p, p_target in zip(q.parameters(),
                                       q_target.parameters()):
                    p_target.mul_(1 - args.tau).add_(p, alpha=args.tau)
        self.updates += 1
        return {"loss_q": loss_q.item(), "q_mean": q1.mean().item(),
                "loss_actor": loss_actor.item(),
                "entropy": -logp.mean().item()}


def evaluate(agents, args):
    """Mean return of the deterministic policies over eval_episodes
    episodes, on up to 64 copies per round (as the C++ loop does)."""
    copies = min(args.eval_episodes, 64)
    env = MaxOfTwoQuadratics(copies, args.variant)
    totals = np.zeros(len(agents))
    collected = 0
    while collected < args.eval_episodes:
        obs = env.reset()
        actions = [agent.act(o, deterministic=True)
                   for agent, o in zip(agents, obs)]
        _, rewards, _ = env.step(actions)  # every episode is one step
        take = min(copies, args.eval_episodes - collected)
        totals += [r[:take].astype(np.float64).sum() for r in rewards]
        collected += take
    return totals / collected


def run(args):
    torch.set_num_threads(1)  # small networks: one thread, as in C++
    env = MaxOfTwoQuadratics(args.num_copies, args.variant)
    seeds = np.random.SeedSequence(args.seed).generate_state(env.num_agents)
    agents = [SacAgent(env.obs_dim, env.low, env.high, args, int(s))
              for s in seeds]
    n = args.num_copies
    batches = -(-args.steps // n)
    obs = env.reset()
    episodes = 0
    start = time.perf_counter()
    for _ in range(batches):
        actions = [agent.act(o) for agent, o in zip(agents, obs)]
        next_obs, rewards, done = env.step(actions)
        for a, agent in enumerate(agents):
            agent.observe(obs[a], actions[a], rewards[a], next_obs[a], done)
        for agent in agents:
            agent.train_pending()
        episodes += int(done.sum())
        obs = next_obs  # every copy ended and was reset to observation 0
    train_seconds = time.perf_counter() - start
    steps = batches * n
    summary = {"total_steps": steps, "total_episodes": episodes,
               "train_seconds": train_seconds,
               "steps_per_second": steps / train_seconds
               if train_seconds > 0 else 0.0}
    returns = evaluate(agents, args)
    first_obs = np.zeros((1, env.obs_dim), np.float32)
    for a, agent in enumerate(agents):
        name = "player_%d" % a
        summary["final_eval_return_" + name] = float(returns[a])
        summary["greedy_action_" + name] = float(
            agent.act(first_obs, deterministic=True)[0, 0])
        summary["updates_" + name] = agent.updates
    summary["torch_version"] = torch.__version__
    summary["torch_threads"] = torch.get_num_threads()
    return summary


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    summary = run(args)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    print("sac_port: trained %d steps in %.2fs (%.0f steps/s); final eval "
          "return %s" % (summary["total_steps"], summary["train_seconds"],
                         summary["steps_per_second"],
                         "  ".join("player_%d %.4f" % (
                             a, summary["final_eval_return_player_%d" % a])
                             for a in range(2))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
