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
