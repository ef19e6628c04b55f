"""Reads the TensorBoard event files of runs (docs/RUN_FORMAT.md) without
TensorFlow or TensorBoard, which Debian does not package: TFRecords checked
with their masked CRC-32C (python3-crc32c), Events decoded with the messages
of runtime/tensorboard_event.proto (TensorFlow's field numbers).

    bazel run //tools:tensorboard_events -- runs/<run> [runs/<run2> ...]
    PYTHONPATH=bazel-bin/runtime python3 tools/tensorboard_events.py runs/<run>

prints a markdown table: per agent directory and tag, the points TensorBoard
would show (after the purge a resumed run's session START asks for), the
first and last step and the last value. Run directly, the Event module comes
from a build of //runtime:tensorboard_event_py.
"""

import argparse
import math
import os
import struct
import sys

import crc32c

import tensorboard_event_pb2 as pb


class CorruptRecordError(Exception):
    """A record whose CRC does not match its bytes."""


def masked_crc32c(data):
    """TFRecord's masked CRC-32C of `data` (bytes)."""
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


def read_records(path):
    """The records of the TFRecord file `path` and whether it ends torn.

    Each record is: uint64 length, masked CRC-32C of those 8 bytes, data,
    masked CRC-32C of data (little-endian). A partial last record, as a
    crash mid-append leaves, ends the file (TensorBoard stops there too):
    returns (list of data bytes, torn). Raises CorruptRecordError on a CRC
    that does not match.
    """
    with open(path, "rb") as f:
        contents = f.read()
    records = []
    pos = 0
    while pos < len(contents):
        if len(contents) - pos < 12:
            return records, True
        header = contents[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", contents[pos + 8:pos + 12])
        if length_crc != masked_crc32c(header):
            raise CorruptRecordError(
                "%s: bad length CRC at byte %d" % (path, pos))
        end = pos + 12 + length
        if end + 4 > len(contents):
            return records, True
        data = contents[pos + 12:end]
        (data_crc,) = struct.unpack("<I", contents[end:end + 4])
        if data_crc != masked_crc32c(data):
            raise CorruptRecordError(
                "%s: bad data CRC at byte %d" % (path, pos))
        records.append(data)
        pos = end + 4
    return records, False


def read_events(path):
    """The Events of one event file, in order (a torn end is dropped)."""
    events = []
    for data in read_records(path)[0]:
        event = pb.Event()
        event.ParseFromString(data)
        events.append(event)
    return events


def event_files(directory):
    """The event files of one TensorBoard run directory, in the order
    TensorBoard reads them (by name); hidden files are skipped."""
    return [os.path.join(directory, name)
            for name in sorted(os.listdir(directory))
            if "tfevents" in name and not name.startswith(".")]


def scalars(directory):
    """{tag: [(step, wall_time, value)]} as TensorBoard shows one run
    directory: every file's scalars in name order, where a session START at
    step s first drops the points read before with step >= s (TensorBoard's
    purge_orphaned_data)."""
    points = {}
    for path in event_files(directory):
        for event in read_events(path):
            what = event.WhichOneof("what")
            if (what == "session_log" and
                    event.session_log.status == pb.SessionLog.START):
                for tag in points:
                    points[tag] = [p for p in points[tag]
                                   if p[0] < event.step]
            elif what == "summary":
                for value in event.summary.value:
                    if value.WhichOneof("value") == "simple_value":
                        points.setdefault(value.tag, []).append(
                            (event.step, event.wall_time,
                             value.simple_value))
    return {tag: p for tag, p in points.items() if p}


def agent_dirs(run):
    """{agent directory name: path} under <run>/tensorboard/."""
    root = os.path.join(run, "tensorboard")
    if not os.path.isdir(root):
        return {}
    return {name: os.path.join(root, name) for name in sorted(os.listdir(root))
            if os.path.isdir(os.path.join(root, name))}


def _number(value):
    return "nan" if math.isnan(value) else "%.6g" % value


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="The scalars of runs' TensorBoard event files, as a "
        "markdown table (read without TensorBoard).")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    args = parser.parse_args(argv)
    # `bazel run` starts in the runfiles tree; relative paths on the
    # command line mean the caller's directory.
    if os.environ.get("BUILD_WORKING_DIRECTORY"):
        os.chdir(os.environ["BUILD_WORKING_DIRECTORY"])
    found = False
    print("| run | agent | tag | points | first step | last step | last |")
    print("|---|---|---|---|---|---|---|")
    for run in args.runs:
        dirs = agent_dirs(run)
        if not dirs:
            print("%s: no tensorboard/ directory" % run, file=sys.stderr)
        for agent, path in dirs.items():
            for tag, points in sorted(scalars(path).items()):
                found = True
                print("| %s | %s | %s | %d | %d | %d | %s |" % (
                    os.path.basename(os.path.normpath(run)), agent, tag,
                    len(points), points[0][0], points[-1][0],
                    _number(points[-1][2])))
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
