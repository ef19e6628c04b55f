"""What the plain Python + PyTorch ports of the training benchmark share
(sac_port.py, maddpg_port.py; tools/benchmarks/train_benchmark.py): the
max of two quadratics and the beauty contest in numpy, MLPs as PyTorch
builds them, a replay ring, the command line, the training loop, the final
evaluation and the summary (the keys of the C++ agents' summary.json,
docs/RUN_FORMAT.md).

A port is a joint learner with
  act(obs, deterministic) -> actions   per agent: [copies, obs] -> [copies, 1]
  observe(obs, actions, rewards, next_obs, done)   one batched step
  train_pending()                       the updates the step earned
  updates(agent)                        gradient updates so far
"""

import argparse
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

MAX_COPIES = 65536
MAX_STEPS = 10**9


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


class BeautyContest:
    """envs/beauty_contest/beauty_contest.cc (reward "absolute") for
    `num_copies` copies: `num_agents` players guess in [0, 100]; each gets
    -|guess - p * mean guess|. Every step ends the episode; the
    observation is a constant 0."""

    obs_dim = 1
    low = np.array([0.0], np.float32)
    high = np.array([100.0], np.float32)

    def __init__(self, num_copies, num_agents=10, p=0.7):
        self.num_copies = num_copies
        self.num_agents = num_agents
        self.p = p

    def reset(self):
        return [np.zeros((self.num_copies, 1), np.float32)
                for _ in range(self.num_agents)]

    def step(self, actions):
        """actions: per agent [copies, 1]. Returns per agent the final
        observations and rewards, and whether each copy terminated."""
        x = np.stack([a[:, 0] for a in actions]).astype(np.float64)
        target = self.p * x.mean(axis=0)
        rewards = [(-np.abs(xi - target)).astype(np.float32) for xi in x]
        return (self.reset(), rewards, np.ones(self.num_copies, dtype=bool))


def make_env(args, copies):
    """The environment --env names, with `copies` copies."""
    if args.env == "beauty_contest":
        return BeautyContest(copies, args.num_agents, args.p)
    return MaxOfTwoQuadratics(copies, args.variant)


def mlp(sizes, output=None):
    """Linear layers of `sizes` with ReLU between them (nn::MakeMlp), and
    `output` (a module, e.g. nn.Tanh()) after the last."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if output is not None:
        layers.append(output)
    return nn.Sequential(*layers)


class ReplayBuffer:
    """A ring of transitions: obs, act, rew (reward_dim per row), next_obs,
    done, sampled uniformly with replacement."""

    def __init__(self, obs_dim, act_dim, capacity, reward_dim=1):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.rew = np.zeros((capacity, reward_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros((capacity, 1), np.float32)
        self.capacity, self.ptr, self.size = capacity, 0, 0

    def add(self, obs, act, rew, next_obs, done):
        idx = (self.ptr + np.arange(len(obs))) % self.capacity
        self.obs[idx] = obs
        self.act[idx] = act
        self.rew[idx] = np.asarray(rew, np.float32).reshape(len(obs), -1)
        self.next_obs[idx] = next_obs
        self.done[idx, 0] = done
        self.ptr = (self.ptr + len(obs)) % self.capacity
        self.size = min(self.size + len(obs), self.capacity)

    def sample(self, batch_size, rng):
        idx = rng.integers(0, self.size, size=batch_size)
        return [torch.as_tensor(x[idx]) for x in
                (self.obs, self.act, self.rew, self.next_obs, self.done)]


def argument_parser(doc, defaults):
    """The flags every port takes, with the port's `defaults` (hidden,
    critic_lr, batch_size, warmup, update_ratio)."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n", maxsplit=1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--steps", type=int, default=6000,
        help="training transitions over all copies (rounded up to whole "
        "batched steps)")
    add("--num_copies", type=int, default=8,
        help="environment copies stepped together")
    add("--seed", type=int, default=0, help="run seed")
    add("--env", choices=("max_of_two_quadratics", "beauty_contest"),
        default="max_of_two_quadratics", help="the game")
    add("--variant", choices=("paper", "code"), default="paper",
        help="max_of_two_quadratics variant (f1 divides by 9 or by 3)")
    add("--num_agents", type=int, default=10,
        help="beauty_contest: players")
    add("--p", type=float, default=0.7,
        help="beauty_contest: target = p * mean guess")
    add("--hidden", default=defaults["hidden"],
        help="hidden layer sizes of every network, comma-separated")
    add("--critic_lr", type=float, default=defaults["critic_lr"],
        help="critics' Adam rate")
    add("--gamma", type=float, default=0.95, help="discount factor")
    add("--tau", type=float, default=0.01,
        help="Polyak rate of the target networks")
    add("--batch_size", type=int, default=defaults["batch_size"],
        help="minibatch size")
    add("--buffer_size", type=int, default=100000,
        help="replay capacity in transitions")
    add("--warmup", type=int, default=defaults["warmup"],
        help="transitions acted uniformly at random")
    add("--update_ratio", type=float, default=defaults["update_ratio"],
        help="gradient updates per transition observed")
    add("--eval_episodes", type=int, default=100,
        help="episodes of the final deterministic evaluation")
    add("--summary", default="",
        help="write the results here as JSON (summary.json keys)")
    return parser


def check_args(parser, args, rates):
    """Checks the common flags and `rates` (learning rates); parses
    --hidden."""
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
    if not all(math.isfinite(r) and 0 < r <= 10 for r in rates):
        parser.error("learning rates: in (0, 10]")
    if not 0 <= args.gamma <= 1 or not 0 < args.tau <= 1:
        parser.error("--gamma in [0, 1], --tau in (0, 1]")
    if not 0 <= args.update_ratio <= 1000:
        parser.error("--update_ratio: in [0, 1000]")
    if not 2 <= args.num_agents <= 1000 or \
            not (math.isfinite(args.p) and 0 <= args.p <= 1e6):
        parser.error("--num_agents from 2 to 1000, --p in [0, 1e6]")
    return args


def polyak(target, source, tau):
    """target <- (1 - tau) target + tau source, parameter by parameter."""
    with torch.no_grad():
        for p, p_target in zip(source.parameters(), target.parameters()):
            p_target.mul_(1 - tau).add_(p, alpha=tau)


def evaluate(learner, args):
    """Mean return per agent of the deterministic policies over
    eval_episodes episodes, on up to 64 copies per round (as the C++ loop
    does)."""
    copies = min(args.eval_episodes, 64)
    env = make_env(args, copies)
    totals = np.zeros(env.num_agents)
    collected = 0
    while collected < args.eval_episodes:
        actions = learner.act(env.reset(), deterministic=True)
        _, rewards, _ = env.step(actions)  # every episode is one step
        take = min(copies, args.eval_episodes - collected)
        totals += [r[:take].astype(np.float64).sum() for r in rewards]
        collected += take
    return totals / collected


def play(learner, env, batches):
    """`batches` batched training steps of `learner` on `env` from a reset;
    the episodes that ended."""
    obs = env.reset()
    episodes = 0
    for _ in range(batches):
        actions = learner.act(obs)
        next_obs, rewards, done = env.step(actions)
        learner.observe(obs, actions, rewards, next_obs, done)
        learner.train_pending()
        episodes += int(done.sum())
        obs = next_obs  # every copy ended and was reset to observation 0
    return episodes


def run(make_learner, args):
    """Trains make_learner(env, args) for args.steps transitions; the
    summary (training time: the loop alone, as the C++ loop measures it)."""
    torch.set_num_threads(1)  # small networks: one thread, as in C++
    env = make_env(args, args.num_copies)
    learner = make_learner(env, args)
    n = args.num_copies
    batches = -(-args.steps // n)
    start = time.perf_counter()
    episodes = play(learner, env, batches)
    train_seconds = time.perf_counter() - start
    steps = batches * n
    summary = {"total_steps": steps, "total_episodes": episodes,
               "train_seconds": train_seconds,
               "steps_per_second": steps / train_seconds
               if train_seconds > 0 else 0.0}
    returns = evaluate(learner, args)
    first_obs = [np.zeros((1, env.obs_dim), np.float32)
                 for _ in range(env.num_agents)]
    greedy = learner.act(first_obs, deterministic=True)
    for a in range(env.num_agents):
        name = "player_%d" % a
        summary["final_eval_return_" + name] = float(returns[a])
        summary["greedy_action_" + name] = float(greedy[a][0, 0])
        summary["updates_" + name] = learner.updates(a)
    summary["torch_version"] = torch.__version__
    summary["torch_threads"] = torch.get_num_threads()
    return summary


def main(name, parse_args, make_learner, argv=None):
    """A port's command line: trains, writes --summary, prints a line."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    summary = run(make_learner, args)
    players = sum(k.startswith("final_eval_return_") for k in summary)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    print("%s: trained %d steps in %.2fs (%.0f steps/s); final eval "
          "return %s" % (name, summary["total_steps"],
                         summary["train_seconds"],
                         summary["steps_per_second"],
                         "  ".join("player_%d %.4f" % (
                             a, summary["final_eval_return_player_%d" % a])
                             for a in range(min(players, 4)))))
    return 0
