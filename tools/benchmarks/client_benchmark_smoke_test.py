"""A very short client_benchmark run completes and prints every row, every
target and the profile."""

import io
import re
import unittest

from tools.benchmarks import client_benchmark


class SmokeTest(unittest.TestCase):

    def test_short_run_prints_every_row(self):
        out = io.StringIO()
        client_benchmark.main(
            ["--min_seconds=0.02", "--warmup_seconds=0.005", "--repeats=2",
             "--batches=1,256", "--profile"], out)
        text = out.getvalue()
        print(text)
        for mode in client_benchmark.MODES:
            for batch in (1, 256):
                self.assertRegex(
                    text, r"\| %s \| %d \| [^\n]*%% \|" % (
                        re.escape(client_benchmark.LABELS[mode]), batch))
        for target in ("1.5x pickle server", "within 1.2x of bare ZeroMQ "
                       "(C++ echo)", "within 1.2x of bare ZeroMQ (Python "
                       "echo)", "0.7x pickle server"):
            self.assertIn(target, text)
        self.assertEqual(text.count(" met") + text.count(" MISSED"), 5)
        self.assertRegex(text, r"\n\| 256 \| [0-9.]+ \|")  # profile row
        self.assertIn("total time", text)

    def test_frame_sizes_table(self):
        out = io.StringIO()
        client_benchmark.main(
            ["--min_seconds=0.02", "--warmup_seconds=0.005", "--repeats=2",
             "--batches=1", "--modes=cpp", "--frame_sizes=100,9000"], out)
        text = out.getvalue()
        print(text)
        for size in (100, 9000):
            self.assertRegex(text, r"\n\| %d \| [0-9.]+ \| [0-9.]+ \|\n" %
                             size)


if __name__ == "__main__":
    unittest.main()
