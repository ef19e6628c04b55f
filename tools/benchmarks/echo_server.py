"""The bare ZeroMQ side of client_benchmark, in Python: a ROUTER that answers
every request with the same prepared bytes (a serialized step response), so
a DEALER exchanging a serialized step request with it costs what ZeroMQ and
the loopback transport cost, and nothing else. echo_server.cc is the same in
C++.

    echo_server.py --endpoint=tcp://127.0.0.1:0

A request of two frames ["set-reply", BYTES] sets the reply (answered with
"ok"); any other request gets the reply. Prints "env_server: listening on
ENDPOINT" (the project's servers' line, which marl_env.testing.start_server
looks for); stops on SIGTERM.
"""

import argparse
import signal
import sys

import zmq

SET_REPLY = b"set-reply"


def serve(endpoint):
    socket = zmq.Context.instance().socket(zmq.ROUTER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, 100)  # to notice SIGTERM
    socket.bind(endpoint)
    print("env_server: listening on %s" %
          socket.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    reply = b""
    while not stopping:
        try:
            frames = socket.recv_multipart()
        except zmq.Again:
            continue
        except zmq.ZMQError as error:
            if error.errno == zmq.EINTR:
                continue
            raise
        if len(frames) == 3 and frames[1] == SET_REPLY:
            reply = frames[2]
            socket.send_multipart([frames[0], b"ok"])
        else:
            socket.send_multipart([frames[0], reply])
    socket.close()
    print("env_server: stopped", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:0",
                        help="ZeroMQ endpoint to bind (ROUTER socket)")
    serve(parser.parse_args().endpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
