"""env_server_py: serves the Python environments (the examples in
python/examples and any --module) over the marl.env.v3 protocol until
SIGINT or SIGTERM. `--help` lists the flags."""

import sys

from marl_env import server

EXAMPLES = ("examples.matrix_game", "examples.matrix_game_batched",
            "examples.rendezvous", "examples.rendezvous_batched")

if __name__ == "__main__":
    sys.exit(server.main(default_modules=EXAMPLES))
