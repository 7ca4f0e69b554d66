"""uvicorn's WebSocket protocol, with a deadline for a client that does not read.

uvicorn waits without limit for a socket's send buffer to drain before it sends
the next frame, the close frame included, and its keepalive ping sits behind the
same buffer: a client that stops reading holds its connection, its buffers and its
place among the subscribers for as long as it likes. Here a frame that cannot be
handed to the transport within ``EVENTS_SOCKET_SEND_TIMEOUT`` seconds, a keepalive
ping left unanswered and a close handshake that cannot finish abort the
connection: the buffered bytes are dropped, the client gets a TCP reset, and the
application gets ``websocket.disconnect``, so the socket leaves the hub at once.

Started with ``uvicorn --ws brain.wsprotocol:WebSocketProtocol`` (bin/run).
"""

import asyncio
import socket
import struct

from django.conf import settings
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)

from brain.security import security_event


class WebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message) -> None:
        if not self.writable.is_set() and not self.disconnected:
            timeout = settings.EVENTS_SOCKET_SEND_TIMEOUT
            try:
                await asyncio.wait_for(self.writable.wait(), timeout)
            except TimeoutError:
                self._abort("send_timeout", timeout=timeout)
                raise ClientDisconnected() from None
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # uvicorn's close timer closes gracefully, which waits for the buffer.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self._abort)

    def keepalive_timeout(self) -> None:
        stuck = self.transport.get_write_buffer_size() > 0
        super().keepalive_timeout()
        if stuck:
            self._abort("ping_timeout")

    def _abort(self, reason: str | None = None, **details) -> None:
        if self.transport.is_closing() and not self.transport.get_write_buffer_size():
            return
        if reason is not None:
            security_event(
                "socket_aborted",
                client=f"{self.client[0]}:{self.client[1]}" if self.client else None,
                path=getattr(self, "scope", {}).get("path"),
                reason=reason,
                buffered_bytes=self.transport.get_write_buffer_size(),
                **details,
            )
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: the kernel drops what is queued and resets the connection.
            # A plain close would queue a FIN behind megabytes the client never
            # reads, and the kernel would keep them for minutes.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self.transport.abort()
