"""The comparison for client_benchmark: what a user would write instead of
the project's servers. A plain pyzmq + pickle + numpy server of the 3x3
climbing matrix game (the C++ `matrix_game` with game=climbing): numpy arrays
of actions in, numpy observations / rewards / terminated / truncated out, all
copies stepped at once, auto-reset in the same step. Plus the matching small
client (PickleClient).

    pickle_server.py --endpoint=tcp://127.0.0.1:0

Unpickling what arrives runs arbitrary code, as with any pickle server, so it
binds loopback TCP or ipc:// only. Prints "env_server: listening on
ENDPOINT" (the line the project's servers print, so
marl_env.testing.start_server finds the port); stops on SIGTERM.
"""

import argparse
import pickle
import signal
import sys

import numpy as np
import zmq

AGENTS = ("player_0", "player_1")
# envs/matrix/payoffs.cc, preset "climbing": both players get this.
CLIMBING = np.array([[11, -30, 0], [-30, 7, 6], [0, 0, 5]], np.float32)


class ClimbingGame:
    """num_copies one-shot games stepped together."""

    def __init__(self, num_copies, episode_limit=0):
        self.num_copies = num_copies
        self.episode_limit = episode_limit
        self.episode_step = np.zeros(num_copies, np.int32)

    def reset(self):
        self.episode_step[:] = 0
        return {agent: np.zeros(self.num_copies, np.int64) for agent in AGENTS}

    def step(self, actions):
        a0, a1 = actions["player_0"], actions["player_1"]
        reward = CLIMBING[a0, a1]
        rewards = {"player_0": reward, "player_1": reward.copy()}
        self.episode_step += 1
        terminated = np.ones(self.num_copies, bool)  # one-shot game
        truncated = np.zeros(self.num_copies, bool)
        if self.episode_limit:
            truncated = ~terminated & (self.episode_step >= self.episode_limit)
        # Auto-reset: ended copies start their next episode at once, and the
        # observation returned is the next episode's first one.
        ended = terminated | truncated
        self.episode_step[ended] = 0
        observations = {agent: np.zeros(self.num_copies, np.int64)
                        for agent in AGENTS}
        return observations, rewards, terminated, truncated


def serve(endpoint):
    context = zmq.Context.instance()
    socket = context.socket(zmq.REP)
    socket.setsockopt(zmq.LINGER, 0)
    socket.bind(endpoint)
    print("env_server: listening on %s" %
          socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    socket.setsockopt(zmq.RCVTIMEO, 100)  # to notice SIGTERM
    games = {}
    while not stopping:
        try:
            command, payload = pickle.loads(socket.recv())
        except zmq.Again:
            continue
        except zmq.ZMQError as error:
            if error.errno == zmq.EINTR:
                continue
            raise
        if command == "reset":
            games[payload] = ClimbingGame(payload)
            reply = games[payload].reset()
        else:
            reply = games[len(payload["player_0"])].step(payload)
        socket.send(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
    socket.close()
    print("env_server: stopped", flush=True)


class PickleClient:
    """The client a user would write for the server above."""

    def __init__(self, endpoint, num_copies, timeout=30.0):
        self._socket = zmq.Context.instance().socket(zmq.REQ)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        self._socket.connect(endpoint)
        self.num_copies = num_copies

    def _call(self, command, payload):
        self._socket.send(pickle.dumps((command, payload),
                                       pickle.HIGHEST_PROTOCOL))
        return pickle.loads(self._socket.recv())

    def reset(self):
        return self._call("reset", self.num_copies)

    def step(self, actions):
        """(observations, rewards, terminated, truncated)."""
        return self._call("step", actions)

    def close(self):
        self._socket.close(linger=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:0",
                        help="ZeroMQ endpoint to bind (REP socket)")
    args = parser.parse_args()
    if not args.endpoint.startswith(("tcp://127.0.0.1:", "ipc://")):
        parser.error("--endpoint must be tcp://127.0.0.1:PORT or ipc://PATH "
                     "(pickle runs whatever a peer sends)")
    serve(args.endpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
