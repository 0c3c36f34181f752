"""Free TCP ports for servers a test starts."""
import socket


def free_port() -> int:
    # The kernel hands out the port (bind to 0), so xdist workers and other people's sessions on
    # this machine do not pick the same one; no fixed ranges to collide on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
