"""Tests for sweep.py: grids expanded and refused, and a real agent swept."""

import contextlib
import io
import json
import os
import tempfile
import unittest

try:
    from tools import sweep  # under Bazel (workspace-relative)
except ImportError:
    import sweep  # python3 tools/sweep_test.py

GRID = {
    "agent": "jal",
    "flags": {"steps": 400, "progress_seconds": 1000},
    "env_settings": {"game": "climbing"},
    "axes": [
        {"variant": {"short": {}, "long": {"flags": {"steps": 800}}}},
        {"game": {"climbing": {},
                  "pd": {"env_settings": {"game": "prisoners_dilemma"}}}},
    ],
    "seeds": [1, 2],
}


def bazel_bin():
    """Where the test's data (the jal agent) is: the runfiles tree."""
    return os.path.join(os.environ["TEST_SRCDIR"],
                        os.environ.get("TEST_WORKSPACE", "marl"))


def finals(out):
    """Each run's final evaluation return of player_0, by run name."""
    values = {}
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name, "summary.json")
        if os.path.exists(path):
            with open(path) as f:
                values[name] = json.load(f)["final_eval_return_player_0"]
    return values


class ExpandTest(unittest.TestCase):
    def test_every_combination_per_seed(self):
        runs = sweep.expand(GRID)
        self.assertEqual([r[0] for r in runs], [
            "short_climbing_seed1", "short_climbing_seed2",
            "short_pd_seed1", "short_pd_seed2",
            "long_climbing_seed1", "long_climbing_seed2",
            "long_pd_seed1", "long_pd_seed2"])
        name, agent, flags, settings, seed = runs[6]
        self.assertEqual((agent, seed), ("jal", 1))
        self.assertEqual(flags["steps"], "800")  # the axis overrides
        self.assertEqual(settings, {"game": "prisoners_dilemma"})
        self.assertEqual(
            sweep.command(("x_seed3", "pr2/pr2_ac", {}, {}, 3), "/b", "/o"),
            ["/b/agents/pr2/pr2_ac", "--seed=3", "--runs_root=/o",
             "--run_name=x_seed3"])
        self.assertEqual(sweep.command(runs[6], "/b", "/out"), [
            "/b/agents/jal/jal", "--steps=800", "--progress_seconds=1000",
            "--env_settings=game=prisoners_dilemma", "--seed=1",
            "--runs_root=/out", "--run_name=long_pd_seed1"])

    def test_bad_grids_are_refused_with_what_is_wrong(self):
        def refused(change, fragment):
            grid = json.loads(json.dumps(GRID))
            change(grid)
            with self.assertRaises(sweep.GridError) as e:
                sweep.expand(grid)
            self.assertIn(fragment, str(e.exception))

        refused(lambda g: g.update(steps=5), "unknown key(s) steps")
        refused(lambda g: g["flags"].update(seed=3), "set by the sweep")
        refused(lambda g: g["flags"].update(lr=float("nan")),
                "not a finite number")
        refused(lambda g: g["flags"].update(lr=[1]), "is not a number")
        refused(lambda g: g.update(seeds=[1, 1]), "distinct")
        refused(lambda g: g.update(seeds=[]), "non-empty")
        refused(lambda g: g.pop("agent"), "no agent for the run")
        refused(lambda g: g.update(agent="../bin/sh"), "an agent's binary")
        refused(lambda g: g["axes"][0]["variant"].update({"a b": {}}),
                "value name 'a b'")
        refused(lambda g: g["axes"].append(
            {"n": {str(i): {} for i in range(400)}}) or g["axes"].append(
            {"m": {str(i): {} for i in range(400)}}), "at most 100000")

    def test_overrides_apply_to_every_run_after_the_axes(self):
        runs = sweep.expand(dict(GRID, overrides={"steps": "100",
                                                  "lr": "0.5"}))
        self.assertTrue(all(r[2]["steps"] == "100" and r[2]["lr"] == "0.5"
                            for r in runs))
        with self.assertRaises(sweep.GridError) as e:
            sweep.expand(dict(GRID, overrides={"seed": "3"}))
        self.assertIn("set by the sweep", str(e.exception))

    def test_runs_that_would_share_a_name_are_refused(self):
        grid = {"agent": "jal", "seeds": [1], "axes": [
            {"a": {"x_y": {}, "x": {}}}, {"b": {"z": {}, "y_z": {}}}]}
        with self.assertRaises(sweep.GridError) as e:
            sweep.expand(grid)
        self.assertIn("share the name x_y_z_seed1", str(e.exception))


class RunTest(unittest.TestCase):
    def sweep(self, grid, out, *flags):
        path = os.path.join(out + ".json")
        with open(path, "w") as f:
            json.dump(grid, f)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), \
                contextlib.redirect_stderr(io.StringIO()):
            code = sweep.main([path, "--out", out, "--bazel_bin",
                               bazel_bin()] + list(flags))
        return code, printed.getvalue()

    def test_sweeps_a_real_agent_and_skips_what_is_done(self):
        with tempfile.TemporaryDirectory() as tmp:
            two = os.path.join(tmp, "two")
            code, printed = self.sweep(GRID, two, "--jobs", "2")
            self.assertEqual(code, 0, printed)
            first = finals(two)
            self.assertEqual(len(first), 8)
            with open(os.path.join(two, "long_pd_seed2",
                                   "config.json")) as f:
                config = json.load(f)
            self.assertEqual(config["seed"], 2)
            with open(os.path.join(two, "sweep_summary.md")) as f:
                summary = f.read()
            self.assertIn("| long_pd | 2 |", summary)
            # One at a time gives the same runs, seed for seed.
            one = os.path.join(tmp, "one")
            code, _ = self.sweep(GRID, one, "--jobs", "1")
            self.assertEqual(code, 0)
            self.assertEqual(finals(one), first)
            # Done runs are not run again.
            code, printed = self.sweep(GRID, two)
            self.assertEqual(code, 0)
            self.assertIn("8 done before, 0 to run", printed)
            # The grid as run, --seeds and --flags included, is kept and
            # runs again as it ran.
            code, _ = self.sweep(GRID, os.path.join(tmp, "one_seed"),
                                 "--seeds", "2", "--flags", "steps=200")
            self.assertEqual(code, 0)
            with open(os.path.join(tmp, "one_seed", "grid.json")) as f:
                kept = json.load(f)
            self.assertEqual(kept["seeds"], [2])
            self.assertEqual(kept["overrides"], {"steps": "200"})
            runs = sweep.expand(kept)
            self.assertEqual(len(runs), 4)
            self.assertTrue(all(r[2]["steps"] == "200" for r in runs))

    def test_a_failed_run_fails_the_sweep_and_keeps_its_log(self):
        grid = dict(GRID, flags={"steps": -5})
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "bad")
            code, printed = self.sweep(grid, out)
            self.assertEqual(code, 1)
            self.assertIn("FAILED", printed)
            with open(os.path.join(out, "logs",
                                   "short_pd_seed1.log")) as f:
                self.assertIn("steps", f.read())


if __name__ == "__main__":
    unittest.main()
