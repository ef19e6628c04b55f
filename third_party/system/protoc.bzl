"""C++ code for a .proto file from Debian's protoc (no rules_proto download)."""

def protoc_cc_library(name, src, include_prefix, visibility = None):
    """A cc_library `name` of the messages in `src` (one file, no imports).

    Its header is included as "<include_prefix>/<src minus .proto>.pb.h".
    """
    base = src[:-len(".proto")]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = [base + ".pb.cc", base + ".pb.h"],
        cmd = "/usr/bin/protoc --proto_path=$$(dirname $(location " + src +
              ")) --cpp_out=$(RULEDIR) $(location " + src + ")",
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc"],
        hdrs = [base + ".pb.h"],
        # Generated code trips -Wextra in places we do not own.
        copts = ["-w"],
        include_prefix = include_prefix,
        strip_include_prefix = "",
        visibility = visibility,
        deps = ["@system//:protobuf"],
    )

def protoc_py_library(name, src, visibility = None):
    """A py_library `name` of the messages in `src` (one file, no imports).

    Python imports it as "<src minus .proto>_pb2" (the library puts its own
    directory on the path).
    """
    base = src[:-len(".proto")]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = [base + "_pb2.py"],
        cmd = "/usr/bin/protoc --proto_path=$$(dirname $(location " + src +
              ")) --python_out=$(RULEDIR) $(location " + src + ")",
    )
    native.py_library(
        name = name,
        srcs = [base + "_pb2.py"],
        imports = ["."],
        visibility = visibility,
    )
