"""Tests for plot_runs.py on synthetic run directories."""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

try:
    from tools import plot_runs  # under Bazel (workspace-relative)
except ImportError:
    import plot_runs  # python3 tools/plot_runs_test.py

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_run(root, name, algorithm, env, seed, records, extra_lines=(),
              config=True):
    """Writes a run directory like runtime/run_writer.cc does."""
    path = os.path.join(root, name)
    os.makedirs(os.path.join(path, "checkpoints"))
    if config:
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump({"format_version": 1, "run_name": name,
                       "algorithm": algorithm, "env_name": env,
                       "seed": seed, "commit": "unknown", "flags": {}}, f,
                      indent=2)
    with open(os.path.join(path, "metrics.jsonl"), "w") as f:
        for i, record in enumerate(records):
            full = {"time": 0.01 * i, "step": 0, "episode": i, "agent": "",
                    "phase": "train"}
            full.update(record)
            f.write(json.dumps(full) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def table_rows(text):
    """Rows of the first markdown table in `text` as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[1:]  # without the header


class PlotRunsTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = os.path.join(self._tmp.name, "runs")
        os.makedirs(self.root)
        # dqn, two seeds: 20 train records, returns 0..19 (+10 for seed 1).
        for seed in (0, 1):
            records = [{"step": 100 * i, "episode_return": i + 10.0 * seed,
                        "agent": "agent_0"} for i in range(20)]
            records.append({"step": 2000, "phase": "eval",
                            "eval_return": 99.0, "agent": "agent_0"})
            write_run(self.root, f"dqn_seed{seed}", "dqn", "matrix", seed,
                      records,
                      extra_lines=['{"step": 5, "episode_ret', "not json",
                                   "[1, 2]"])
        # ppo, two agents, a NaN written as null, out-of-order steps.
        records = []
        for i in (2, 0, 1, 3, 4, 5, 6, 7, 8, 9):
            records.append({"step": 10 * i, "agent": "a", "episode_return":
                            float(i)})
            records.append({"step": 10 * i, "agent": "b", "episode_return":
                            -float(i)})
        records.append({"step": 95, "agent": "a", "episode_return": None})
        write_run(self.root, "ppo_seed0", "ppo", "matrix", 0, records)
        self.out = os.path.join(self._tmp.name, "out", "curves.png")
        self.summary = os.path.join(self._tmp.name, "summary.md")

    def tearDown(self):
        self._tmp.cleanup()

    def run_main(self, argv):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            code = plot_runs.main(argv)
        return code, stdout.getvalue(), stderr.getvalue()

    def assert_png(self, path):
        self.assertTrue(os.path.isfile(path))
        self.assertGreater(os.path.getsize(path), 1000)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC)

    def test_plot_and_summary_numbers(self):
        code, stdout, stderr = self.run_main(
            [self.root, "--out", self.out, "--summary", self.summary])
        self.assertEqual(code, 0, stderr)
        self.assert_png(self.out)
        with open(self.summary) as f:
            self.assertEqual(f.read(), stdout)
        rows = {(r[0], r[1]): r for r in table_rows(stdout)}
        self.assertEqual(set(rows), {("dqn_seed0", "agent_0"),
                                     ("dqn_seed1", "agent_0"),
                                     ("ppo_seed0", "a"), ("ppo_seed0", "b")})
        # run | agent | algorithm | env | seed | steps | records | final |
        # best. final = mean of the last 10% (2 of 20 records: 18, 19).
        self.assertEqual(rows[("dqn_seed0", "agent_0")],
                         ["dqn_seed0", "agent_0", "dqn", "matrix", "0",
                          "1900", "20", "18.5", "19"])
        self.assertEqual(rows[("dqn_seed1", "agent_0")][5:],
                         ["1900", "20", "28.5", "29"])
        # ppo: 10 records per agent (the null is skipped), sorted by step,
        # so the last 10% is the single record at step 90.
        self.assertEqual(rows[("ppo_seed0", "a")][5:],
                         ["90", "10", "9", "9"])
        self.assertEqual(rows[("ppo_seed0", "b")][5:],
                         ["90", "10", "-9", "0"])
        # The bad lines were reported, not fatal.
        self.assertIn("skipped 3 unparseable line(s)", stderr)

    def test_eval_phase_and_min_best(self):
        code, stdout, _ = self.run_main(
            [self.root, "--metric", "eval_return", "--phase", "eval",
             "--out", self.out, "--best", "min"])
        self.assertEqual(code, 0)
        rows = table_rows(stdout)
        by_run = {r[0]: r for r in rows}
        self.assertEqual(by_run["dqn_seed0"][5:], ["2000", "1", "99", "99"])
        # ppo has no eval records: listed with n/a rather than dropped.
        self.assertEqual(by_run["ppo_seed0"][5:], ["n/a", "0", "n/a", "n/a"])
        self.assert_png(self.out)

    def test_agent_filter(self):
        code, stdout, stderr = self.run_main(
            [self.root, "--agent", "a", "--out", self.out])
        self.assertEqual(code, 0, stderr)
        agents = {(r[0], r[1]) for r in table_rows(stdout)}
        self.assertIn(("ppo_seed0", "a"), agents)
        self.assertNotIn(("ppo_seed0", "b"), agents)
        self.assertNotIn(("dqn_seed0", "agent_0"), agents)
        self.assert_png(self.out)

    def test_group_by_algorithm(self):
        code, stdout, _ = self.run_main(
            [self.root, "--out", self.out, "--group-by", "algorithm",
             "--smooth", "3"])
        self.assertEqual(code, 0)
        self.assert_png(self.out)
        tables = stdout.split("\n\n")
        group_rows = table_rows(tables[-1])
        dqn = [r for r in group_rows if r[0] == "dqn"]
        # Finals 18.5 and 28.5 over the two seeds.
        self.assertEqual(dqn, [["dqn", "matrix", "agent_0", "2", "23.5",
                                "5"]])

    def test_group_by_variant(self):
        # The run name without _seed<N>: dqn_seed0 and dqn_seed1 are one.
        code, stdout, _ = self.run_main(
            [self.root, "--out", self.out, "--group-by", "variant"])
        self.assertEqual(code, 0)
        group_rows = table_rows(stdout.split("\n\n")[-1])
        self.assertEqual(sorted((r[0], r[2], r[3]) for r in group_rows),
                         [("dqn", "agent_0", "2"), ("ppo", "a", "1"),
                          ("ppo", "b", "1")])

    def test_aggregate_mean_and_std(self):
        grid, mean, std, count = plot_runs.aggregate([
            (np.array([0.0, 10.0, 20.0]), np.array([0.0, 1.0, 2.0])),
            (np.array([0.0, 10.0]), np.array([2.0, 3.0])),
        ])
        np.testing.assert_array_equal(grid, [0.0, 10.0, 20.0])
        np.testing.assert_allclose(mean, [1.0, 2.0, 2.0])
        np.testing.assert_allclose(std, [1.0, 1.0, 0.0])
        np.testing.assert_array_equal(count, [2, 2, 1])
        # Interpolated where steps differ.
        grid, mean, _, _ = plot_runs.aggregate([
            (np.array([0.0, 10.0]), np.array([0.0, 10.0])),
            (np.array([5.0]), np.array([1.0])),
        ])
        np.testing.assert_array_equal(grid, [0.0, 5.0, 10.0])
        np.testing.assert_allclose(mean, [0.0, 3.0, 10.0])

    def test_smooth_and_final_value(self):
        np.testing.assert_allclose(
            plot_runs.smooth(np.array([1.0, 3.0, 5.0, 7.0]), 2),
            [1.0, 2.0, 4.0, 6.0])
        self.assertEqual(plot_runs.final_value(np.arange(20.0)), 18.5)
        self.assertEqual(plot_runs.final_value(np.arange(15.0)), 13.5)
        self.assertEqual(plot_runs.final_value(np.array([4.0])), 4.0)

    def test_single_run_dir_and_missing_files(self):
        lonely = os.path.join(self._tmp.name, "lonely")
        os.makedirs(lonely)
        with open(os.path.join(lonely, "metrics.jsonl"), "w") as f:
            f.write(json.dumps({"step": 1, "agent": "", "phase": "train",
                                "episode_return": 2.5}) + "\n")
        empty = os.path.join(self._tmp.name, "empty")
        os.makedirs(empty)
        no_metrics = os.path.join(self._tmp.name, "no_metrics")
        os.makedirs(no_metrics)
        with open(os.path.join(no_metrics, "config.json"), "w") as f:
            json.dump({"algorithm": "x", "env_name": "y", "seed": 1}, f)
        code, stdout, stderr = self.run_main(
            [lonely, empty, no_metrics, os.path.join(self.root, "ppo_seed0"),
             os.path.join(self._tmp.name, "missing"), "--out", self.out])
        self.assertEqual(code, 0)
        self.assertIn("no config.json", stderr)
        self.assertIn("no metrics.jsonl", stderr)
        self.assertIn("no such directory", stderr)
        self.assertIn("neither a run directory", stderr)
        by_run = {r[0]: r for r in table_rows(stdout)}
        self.assertEqual(by_run["lonely"],
                         ["lonely", "-", "?", "?", "?", "1", "1", "2.5",
                          "2.5"])
        self.assertEqual(by_run["no_metrics"][2:5], ["x", "y", "1"])
        self.assertIn("ppo_seed0", by_run)

    def test_no_data_and_no_runs(self):
        code, _, stderr = self.run_main(
            [self.root, "--metric", "nope", "--out", self.out])
        self.assertEqual(code, 1)
        self.assertIn("no 'nope' records", stderr)
        self.assert_png(self.out)
        code, _, _ = self.run_main(
            [os.path.join(self._tmp.name, "missing"), "--out", self.out])
        self.assertEqual(code, 2)

    def test_runs_as_a_program(self):
        script = os.path.join(os.path.dirname(plot_runs.__file__),
                              "plot_runs.py")
        env = dict(os.environ, MPLCONFIGDIR=self._tmp.name)
        env.pop("DISPLAY", None)
        result = subprocess.run(
            [sys.executable, script, self.root, "--out", self.out],
            capture_output=True, text=True, env=env, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("| dqn_seed0 | agent_0 | dqn |", result.stdout)
        self.assert_png(self.out)


if __name__ == "__main__":
    unittest.main()
