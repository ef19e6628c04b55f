"""sweep.py through a real Slurm: a one-node cluster started on this
machine (tools/testing/slurm_cluster.sh; root, slurm-wlm and munge), the
same grid as sweep_test.py run as a job array and locally, with the same
results run for run."""

import contextlib
import io
import json
import os
import subprocess
import tempfile
import unittest

try:
    from tools import sweep, sweep_test  # under Bazel
except ImportError:
    import sweep  # python3 tools/sweep_slurm_test.py
    import sweep_test


def runfile(path):
    return os.path.join(os.environ["TEST_SRCDIR"],
                        os.environ.get("TEST_WORKSPACE", "marl"), path)


class SlurmTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.cluster = os.path.join(self.tmp, "cluster")
        script = runfile("tools/testing/slurm_cluster.sh")
        started = subprocess.run(["bash", script, "start", self.cluster],
                                 capture_output=True, text=True)
        self.assertEqual(started.returncode, 0,
                         "the cluster did not start: " + started.stderr)
        self.addCleanup(subprocess.run,
                        ["bash", script, "stop", self.cluster],
                        capture_output=True)
        os.environ["SLURM_CONF"] = os.path.join(self.cluster, "slurm.conf")

    def sweep(self, out, *flags):
        grid = os.path.join(self.tmp, "grid.json")
        with open(grid, "w") as f:
            json.dump(sweep_test.GRID, f)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), \
                contextlib.redirect_stderr(printed):
            code = sweep.main([grid, "--out", out, "--bazel_bin",
                               sweep_test.bazel_bin()] + list(flags))
        return code, printed.getvalue()

    def test_a_job_array_runs_what_the_local_pool_runs(self):
        slurm = os.path.join(self.tmp, "slurm")
        code, printed = self.sweep(slurm, "--scheduler=slurm", "--jobs=2")
        self.assertEqual(code, 0, printed)
        self.assertIn("Slurm job", printed)
        local = os.path.join(self.tmp, "local")
        code, printed = self.sweep(local, "--jobs=2")
        self.assertEqual(code, 0, printed)
        finals = sweep_test.finals(local)
        self.assertEqual(len(finals), 8)
        self.assertEqual(sweep_test.finals(slurm), finals)
        # The array's tasks wrote the runs' logs and Slurm's own.
        logs = os.listdir(os.path.join(slurm, "logs"))
        self.assertIn("long_pd_seed2.log", logs)
        self.assertEqual(sum(n.startswith("slurm_") for n in logs), 8)

    def test_a_failed_task_fails_the_sweep(self):
        grid = dict(sweep_test.GRID, flags={"steps": -5}, seeds=[1])
        path = os.path.join(self.tmp, "bad.json")
        with open(path, "w") as f:
            json.dump(grid, f)
        out = os.path.join(self.tmp, "bad")
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            code = sweep.main([path, "--out", out, "--bazel_bin",
                               sweep_test.bazel_bin(), "--scheduler=slurm"])
        self.assertEqual(code, 1)


if __name__ == "__main__":
    unittest.main()
