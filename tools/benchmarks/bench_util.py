"""Helpers shared by the benchmarks in this folder: where a data
dependency's file is, and which Bazel build it comes from."""

import os


def runfile(path):
    """`path` as given if it exists, else in this binary's runfiles (bazel
    run and bazel test start there; run directly from the source tree, the
    runfiles tree is next to the script)."""
    if os.path.exists(path):
        return path
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", path)


def build_of(path):
    """opt / fastbuild / dbg / ? from the Bazel output directory a runfile
    links to (bazel-out/k8-opt/bin/...)."""
    real = os.path.realpath(path)
    for mode in ("opt", "fastbuild", "dbg"):
        if "-%s/" % mode in real:
            return mode
    return "?"
