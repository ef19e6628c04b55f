import json
import os
import tempfile
import unittest

import plot_option_map


def write_run(directory, env, rows, steps):
    """steps: (episode, t, agent, cell, flag, option) tuples."""
    os.makedirs(directory)
    config = {"env_spec": {"name": env, "settings": [
        {"name": "map", "value": {"stringValue": "/".join(rows)}}]}}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)
    cells = len(rows) * len(rows[0])
    with open(os.path.join(directory, "eval_trace.jsonl"), "w") as f:
        for episode, t, agent, cell, flag, option in steps:
            observation = [0.0] * (cells + 1)
            observation[cell] = 1.0
            observation[cells] = flag
            latent = [0.0, 0.0, 0.0]
            latent[option] = 1.0
            f.write(json.dumps({"episode": episode, "t": t, "agent": agent,
                                "observation": observation, "action": [0],
                                "reward": -0.1, "latent": latent}) + "\n")


class PlotOptionMapTest(unittest.TestCase):
    def test_counts_durations_and_plot(self):
        rows = ["A..B"]
        steps = [(0, 0, "taxi", 1, 0, 2), (0, 1, "taxi", 0, 0, 2),
                 (0, 2, "taxi", 1, 1, 0), (0, 3, "taxi", 2, 1, 0),
                 (0, 4, "taxi", 3, 1, 1), (1, 0, "taxi", 1, 0, 2)]
        with tempfile.TemporaryDirectory() as root:
            run = os.path.join(root, "run")
            write_run(run, "taxi", rows, steps)
            env, loaded_rows, records = plot_option_map.load_run(run)
            self.assertEqual((env, loaded_rows), ("taxi", rows))
            counts = plot_option_map.option_counts(env, rows, records)
            self.assertEqual(sorted(counts), ["passenger in the taxi",
                                              "passenger waiting"])
            self.assertEqual(counts["passenger waiting"][1][2], 2)
            self.assertEqual(counts["passenger in the taxi"][3][1], 1)
            # Episode 0: options 2, 2 | 0, 0 | 1; episode 1: 2.
            self.assertEqual(sorted(plot_option_map.option_durations(
                records)), [1, 1, 2, 2])
            self.assertAlmostEqual(
                plot_option_map.option_shares(records)[2], 0.5)
            out = os.path.join(root, "map.png")
            self.assertEqual(plot_option_map.main([run, "--out", out]), 0)
            self.assertGreater(os.path.getsize(out), 1000)

    def test_a_run_without_options_is_an_error(self):
        with tempfile.TemporaryDirectory() as root:
            run = os.path.join(root, "run")
            os.makedirs(run)
            with open(os.path.join(run, "config.json"), "w") as f:
                json.dump({"env_spec": {"name": "matrix_game"}}, f)
            self.assertEqual(plot_option_map.main(
                [run, "--out", os.path.join(root, "x.png")]), 1)


if __name__ == "__main__":
    unittest.main()
