"""Every C++ target includes only what it declares: a header of the project
must come from the target itself or one of its direct deps, and a system
library's header (Abseil, LibTorch, ZeroMQ, protobuf, ...) from the
@system target that stands for that library, also a direct dep.

Why a check of our own: the system targets carry link options only (the
headers sit in /usr/include, which the compiler searches anyway), and
Bazel's sandbox lets a target include any header of its transitive deps,
so neither would catch a missing dependency. Bazel's own layering_check
needs clang's module maps; the build uses GCC.

BUILD files are read with Python's parser (they are Starlark, a subset of
Python): every cc_library, cc_binary, cc_test and protoc_cc_library call,
with literal lists. A library with no files of its own, or a testonly
one, provides its deps' headers too (see provided). Standard-library
headers (<vector>, <unistd.h>) and headers no rule here knows are not
checked.

    python3 tools/include_check.py [ROOT]     # exit 1 and a list on a miss
"""

import ast
import os
import re
import sys

# Include prefixes of the system libraries and the @system target of each
# (third_party/system/BUILD.system).
SYSTEM_HEADERS = (
    ("absl/", "@system//:absl"),
    ("gtest/", "@system//:gtest"),
    ("gmock/", "@system//:gtest"),
    ("google/protobuf/", "@system//:protobuf"),
    ("torch/", "@system//:torch"),
    ("ATen/", "@system//:torch"),
    ("c10/", "@system//:torch"),
    ("zmq.h", "@system//:zmq"),
    ("zmq.hpp", "@system//:zmq"),
    ("zmq_addon.hpp", "@system//:zmq"),
    ("pybind11/", "@system//:python_headers"),
    ("Python.h", "@system//:python_headers"),
    ("zlib.h", "@system//:zlib"),
    ("benchmark/", "@system//:benchmark"),
    ("nlohmann/", "@system//:nlohmann_json"),
)
# A dep that provides another's headers too.
IMPLIES = {
    "@system//:gtest_main": "@system//:gtest",
    "@system//:benchmark_main": "@system//:benchmark",
}
RULES = ("cc_library", "cc_binary", "cc_test", "protoc_cc_library")
SKIPPED_DIRS = ("third_party",)
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def _label(package, name):
    return "//%s:%s" % (package, name)


def _normalize(dep, package):
    if dep.startswith("@"):
        return dep
    if dep.startswith(":"):
        return _label(package, dep[1:])
    if ":" not in dep:  # //a/b means //a/b:b
        return dep + ":" + dep.rsplit("/", 1)[-1]
    return dep


def read_build(path, package, umbrellas):
    """The C++ targets of one BUILD file: {label: (srcs + hdrs, deps)},
    and {header path: label} for the headers they declare; adds its
    testonly libraries to `umbrellas`. Raises ValueError for a call whose
    lists are not literal."""
    targets, owners = {}, {}
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and
                isinstance(node.func, ast.Name) and node.func.id in RULES):
            continue
        args = {k.arg: k.value for k in node.keywords}
        try:
            name = ast.literal_eval(args["name"])
            if node.func.id == "protoc_cc_library":
                src = ast.literal_eval(args["src"])
                prefix = ast.literal_eval(args["include_prefix"])
                label = _label(package, name)
                owners["%s/%s.pb.h" % (prefix, src[:-len(".proto")])] = label
                # Generated files: none to read, but not a group either.
                targets[label] = ([package + "/" + src[:-len(".proto")] +
                                   ".pb.cc"], ["@system//:protobuf"])
                continue
            files, deps = [], []
            for key, out in (("srcs", files), ("hdrs", files),
                             ("deps", deps)):
                if key in args:
                    out.extend(ast.literal_eval(args[key]))
        except (KeyError, ValueError) as error:
            raise ValueError("%s:%d: %s(...) without literal name, srcs, "
                             "hdrs and deps (%s)" % (
                                 path, node.lineno, node.func.id,
                                 error)) from error
        label = _label(package, name)
        testonly = "testonly" in args and ast.literal_eval(args["testonly"])
        targets[label] = ([os.path.join(package, f) for f in files],
                          [_normalize(d, package) for d in deps])
        if testonly and node.func.id == "cc_library":
            umbrellas.add(label)
        if "hdrs" in args:
            for header in ast.literal_eval(args["hdrs"]):
                owners[os.path.join(package, header)] = label
    return targets, owners


def read_tree(root):
    """Every C++ target under `root`, the owner of every declared header,
    and the umbrella libraries (see provided)."""
    targets, owners, umbrellas = {}, {}, set()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories
            if not d.startswith((".", "bazel-")) and d not in SKIPPED_DIRS)
        if "BUILD" not in files:
            continue
        package = os.path.relpath(directory, root)
        package = "" if package == "." else package
        t, o = read_build(os.path.join(directory, "BUILD"), package,
                          umbrellas)
        targets.update(t)
        owners.update(o)
    return targets, owners, umbrellas


def owner_of(include, owners):
    """The target a header belongs to, or None (standard library, or not
    known here)."""
    for prefix, target in SYSTEM_HEADERS:
        if include.startswith(prefix):
            return target
    return owners.get(include)


def provided(deps, targets, umbrellas):
    """The targets whose headers `deps` provide: each dep, and through an
    umbrella its deps in turn. Umbrellas are libraries with no files of
    their own (groups of deps) and testonly libraries: //client:testing and
    //server:testing give the tests of one end of the protocol the other
    end, which non-test code of that end cannot depend on."""
    out, todo = set(), list(deps)
    while todo:
        dep = todo.pop()
        if dep in out:
            continue
        out.add(dep)
        if dep in IMPLIES:
            todo.append(IMPLIES[dep])
        files, group_deps = targets.get(dep, ([None], []))
        if not files or dep in umbrellas:
            todo.extend(group_deps)
    return out


def check(root):
    """Every miss: (target, file, included header, the target it needs)."""
    targets, owners, umbrellas = read_tree(root)
    misses = []
    for label, (files, deps) in sorted(targets.items()):
        allowed = provided(deps, targets, umbrellas) | {label}
        for path in files:
            if not path.endswith((".cc", ".h")):
                continue
            full = os.path.join(root, path)
            if not os.path.isfile(full):  # generated
                continue
            with open(full, encoding="utf-8") as f:
                text = f.read()
            for include in INCLUDE.findall(text):
                needed = owner_of(include, owners)
                if needed is not None and needed not in allowed:
                    misses.append((label, path, include, needed))
    return misses


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.path.join(os.path.dirname(__file__), "..")
    try:
        misses = check(root)
    except (OSError, ValueError, SyntaxError) as error:
        print("include_check: error: %s" % error, file=sys.stderr)
        return 2
    for label, path, include, needed in misses:
        print("%s: %s includes \"%s\": add %s to its deps" % (
            label, path, include, needed))
    if misses:
        print("include_check: %d includes without a direct dependency" %
              len(misses))
        return 1
    print("include_check: every include comes from a direct dependency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
