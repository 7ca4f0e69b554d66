"""Hand-made HTTP/1.1 and WebSocket connections, for what a well-behaved client
(httpx, websockets) will not do: stall mid-body, come from another loopback
address, never read."""

import base64
import os
import socket
import struct

TCP_ESTABLISHED = 1
TCP_CLOSE = 7


def connect(server, *, source: str = "127.0.0.1", rcvbuf: int | None = None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    return sock


def head(method: str, path: str, server, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_status(sock, timeout: float) -> int | str:
    """The status code of the answer, or ``"reset"``/``"closed"``."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed" if not data else data.decode(errors="replace")
            data += chunk
    except ConnectionResetError:
        return "reset"
    return int(data.split(b" ", 2)[1])


def tcp_state(sock) -> int:
    """The kernel's state of this end of the connection (``TCP_INFO``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return struct.unpack("B", info[:1])[0]


def websocket_handshake(server, path: str, token: str, *, rcvbuf: int):
    """An upgraded socket that has read the 101 and nothing else."""
    sock = connect(server, rcvbuf=rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        head(
            "GET",
            path,
            server,
            {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": key,
                "Sec-WebSocket-Version": "13",
                "Authorization": f"Token {token}",
            },
        )
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock
