"""tools/include_check.py on small trees: it names every include that no
direct dependency provides, and only those."""

import os
import tempfile
import textwrap
import unittest

from tools import include_check

BUILD = """
cc_library(name = "a", srcs = ["a.cc"], hdrs = ["a.h"])
cc_library(name = "b", srcs = ["b.cc"], deps = [":a", "@system//:absl"])
cc_library(name = "c", srcs = ["c.cc"], hdrs = ["c.h"])
cc_library(name = "group", deps = [":a"])
cc_library(
    name = "gateway",
    testonly = 1,
    hdrs = ["gateway.h"],
    deps = [":c"],
)
cc_test(
    name = "t",
    srcs = ["t.cc"],
    deps = [":group", ":gateway", "@system//:gtest_main"],
)
protoc_cc_library(name = "p", src = "m.proto", include_prefix = "lib")
cc_library(name = "e", srcs = ["e.cc"], deps = [":p"])
"""

FILES = {
    "a.h": '#include <vector>\n',
    "a.cc": '#include "lib/a.h"\n#include "unknown/elsewhere.h"\n',
    "b.cc": '#include "lib/a.h"\n#include "absl/strings/str_cat.h"\n',
    # Misses: a's header and Abseil, neither a dep.
    "c.cc": '#include "lib/c.h"\n#include "lib/a.h"\n'
            '  #  include <absl/status/status.h>\n',
    "c.h": "",
    "gateway.h": "",
    # Through the group and the testonly gateway; gtest via gtest_main.
    "t.cc": '#include "lib/a.h"\n#include "lib/c.h"\n'
            '#include "gtest/gtest.h"\n',
    # The proto library's header, but protobuf's own needs the dep.
    "e.cc": '#include "lib/m.pb.h"\n#include "google/protobuf/arena.h"\n',
}


class IncludeCheckTest(unittest.TestCase):

    def tree(self, build=BUILD, files=None):
        root = tempfile.mkdtemp()
        os.makedirs(os.path.join(root, "lib"))
        with open(os.path.join(root, "lib", "BUILD"), "w") as f:
            f.write(textwrap.dedent(build))
        for name, text in (files or FILES).items():
            with open(os.path.join(root, "lib", name), "w") as f:
                f.write(text)
        return root

    def test_names_each_include_without_a_direct_dependency(self):
        self.assertEqual(include_check.check(self.tree()), [
            ("//lib:c", "lib/c.cc", "lib/a.h", "//lib:a"),
            ("//lib:c", "lib/c.cc", "absl/status/status.h",
             "@system//:absl"),
            ("//lib:e", "lib/e.cc", "google/protobuf/arena.h",
             "@system//:protobuf"),
        ])

    def test_exit_codes(self):
        self.assertEqual(include_check.main([self.tree()]), 1)
        fixed = BUILD.replace(
            'cc_library(name = "c", srcs = ["c.cc"], hdrs = ["c.h"])',
            'cc_library(name = "c", srcs = ["c.cc"], hdrs = ["c.h"], '
            'deps = [":a", "@system//:absl"])').replace(
            'deps = [":p"]', 'deps = [":p", "@system//:protobuf"]')
        self.assertEqual(include_check.main([self.tree(fixed)]), 0)
        # Lists that are not literal cannot be checked: an error.
        computed = 'cc_library(name = "x", srcs = glob(["*.cc"]))\n'
        self.assertEqual(include_check.main([self.tree(computed, {})]), 2)


if __name__ == "__main__":
    unittest.main()
