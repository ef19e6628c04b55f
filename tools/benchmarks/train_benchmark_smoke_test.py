"""A very short train_benchmark run of both algorithms' trainers completes,
agrees on transitions and update counts, and prints the tables."""

import contextlib
import importlib.util
import io
import re
import unittest

from tools.benchmarks import train_benchmark


@unittest.skipUnless(importlib.util.find_spec("torch") is not None,
                     "python3-torch is not installed (apt-get install "
                     "python3-torch, tools/setup.sh): the Python port "
                     "cannot run")
class SmokeTest(unittest.TestCase):

    def test_short_run_prints_the_tables(self):
        out = io.StringIO()
        self.assertEqual(train_benchmark.main(
            ["--steps=600", "--repeats=2", "--seed=3", "--eval_episodes=5"],
            out), 0)
        text = out.getvalue()
        print(text)
        # 600 transitions: SAC (600 - 63) * 0.25 = 134 updates per agent;
        # MADDPG 0.125 per transition from the batched step that reaches
        # the 512th (the 64th of 75 steps of 8): 12 * 8 * 0.125 = 12.
        for algorithm, updates in (("sac", "134/134"), ("maddpg", "12/12"),
                                   ("maddpg_beauty", None)):
            self.assertIn("## " + train_benchmark.ALGORITHMS[algorithm][0],
                          text)
            for repeat, seed in ((1, 3), (2, 4)):
                for impl in ("cpp", "python"):
                    # The beauty contest's 600 transitions are all
                    # warm-up (1,000): no updates; ten agents' means.
                    self.assertRegex(
                        text, r"\| %d \| %d \| %s \| [0-9]+ \| [0-9.]+ \| "
                        r"%s \| %s \|" % (
                            repeat, seed,
                            re.escape(train_benchmark.label(algorithm, impl)),
                            re.escape(updates) if updates else
                            r"0 \(each of 10\)",
                            r"-?[0-9.]+, -?[0-9.]+" if updates else
                            r"-?[0-9.]+ \(mean of 10\)"))
            for impl in ("cpp", "python"):
                self.assertRegex(text, r"\n\| %s \| [0-9]+ \| [0-9]+%% \|" %
                                 re.escape(train_benchmark.label(algorithm,
                                                                 impl)))
        self.assertEqual(len(re.findall(
            r"C\+\+ / Python transitions/s[^|]*\| \*\*[0-9.]+x\*\*", text)), 3)
        self.assertIn("C++ agent build: ", text)
        self.assertIn("total time", text)

    def test_bad_flags_are_refused(self):
        for flags in (["--steps=0"], ["--repeats=0"], ["--cpu=100000"],
                      ["--timeout=-1"], ["--algorithms=ppo"],
                      ["--algorithms="]):
            with self.assertRaises(SystemExit, msg=flags):
                train_benchmark.parse_args(flags)

    def test_a_missing_agent_binary_is_an_error(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = train_benchmark.main(
                ["--steps=8", "--repeats=1", "--maddpg_agent=/nonexistent/x"],
                io.StringIO())
        self.assertEqual(code, 1)
        self.assertIn("no C++ agent binary", err.getvalue())


if __name__ == "__main__":
    unittest.main()
