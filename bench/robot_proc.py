"""Simulated robots: one process holds a share of them, each a socket of its own.

Run by the telemetry scenario (``bench/scenarios/telemetry.py``), never by hand.
It reads a JSON spec file (``--spec``): the socket URL, the robots (id and token),
the rate and the seconds. Each robot opens ``/ws/events/`` with its own token
(subscribed to its commands only, as a robot's control program is) and, from the
shared start time on, sends ``{"action": "state", "robot_id", "ref", "state": {...}}``
at the rate, open loop (frame ``k`` is due at ``start + offset + k / rate`` whatever
the answers do), with ``timestamp`` the robot's clock (Unix seconds) at sending. It
counts every ``state_ack`` (by ``ref``, keeping the stored ``id``) and every
``error``; after the last frame it waits for the answers still due.

JSON lines on stdout: ``{"ready": n, "errors": [...]}`` once the sockets are open;
then, after ``{"go": <monotonic start>}`` on stdin, ``{"result": {...}}``.
"""

import argparse
import asyncio
import json
import sys
import time

import websockets
from websockets.asyncio.client import connect

MOTORS = ",".join(
    f'{{"motor_id":{i},"angle":0.1,"velocity":0.0,"torque":1.5,"temperature":35.0}}'
    for i in range(12)
)
# The frame with its variable parts left open: pre-encoded, so a frame costs one
# string format and one send.
FRAME = (
    '{{"action":"state","robot_id":"{robot}","ref":{ref},"state":{{'
    '"battery_voltage":24.{v},"battery_percentage":{pct},'
    '"motor_states":[' + MOTORS.replace("{", "{{").replace("}", "}}") + "],"
    '"imu_data":{{"roll":0.01,"pitch":0.02,"yaw":{yaw}}},'
    '"timestamp":{ts:.6f}}}}}'
)


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Robot:
    __slots__ = ("robot_id", "token", "ws", "sent", "acks", "errors", "ack_ms")

    def __init__(self, robot_id: str, token: str) -> None:
        self.robot_id, self.token = robot_id, token
        self.ws = None
        self.sent: dict[int, float] = {}
        self.acks: dict[int, int] = {}
        self.errors: list[str] = []
        self.ack_ms: list[float] = []

    async def open(self, url: str) -> None:
        self.ws = await connect(
            f"{url}?subject=robot_{self.robot_id}&types=hardware.command_sent",
            additional_headers={"Authorization": f"Token {self.token}"},
            compression=None,
            max_size=None,
            open_timeout=30,
            close_timeout=2,
        )
        first = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if first.get("control") != "subscribed":
            raise RuntimeError(f"first frame: {first}")

    async def send(self, start: float, offset: float, rate: float, frames: int):
        for k in range(frames):
            delay = start + offset + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.sent[k] = time.monotonic()
            await self.ws.send(
                FRAME.format(
                    robot=self.robot_id,
                    ref=k,
                    v=k % 10,
                    pct=50 + k % 50,
                    yaw=k % 360,
                    ts=time.time(),
                )
            )

    async def read(self, frames: int, until: float) -> None:
        try:
            # One timer for the whole read: a timeout per frame would cost a task.
            loop_until = asyncio.get_running_loop().time() + until - time.monotonic()
            async with asyncio.timeout_at(loop_until):
                while len(self.acks) + len(self.errors) < frames:
                    text = await self.ws.recv()
                    if not text.startswith('{"control"'):
                        continue
                    frame = json.loads(text)
                    control = frame["control"]
                    if control == "state_ack":
                        ref = frame["ref"]
                        self.acks[ref] = frame["id"]
                        self.ack_ms.append((time.monotonic() - self.sent[ref]) * 1000)
                    elif control == "error":
                        ref = frame.get("ref")
                        self.errors.append(f"{ref}: {frame.get('detail')}")
        except TimeoutError:
            pass
        except websockets.ConnectionClosed as exc:
            self.errors.append(f"closed: {exc!r}"[:200])


async def main(spec: dict) -> None:
    robots = [Robot(r["robot_id"], r["token"]) for r in spec["robots"]]
    errors: list[str] = []
    sem = asyncio.Semaphore(16)

    async def open_one(robot: Robot) -> None:
        async with sem:
            try:
                await robot.open(spec["url"])
            except Exception as exc:
                errors.append(f"{robot.robot_id}: {exc!r}"[:200])

    await asyncio.gather(*(open_one(r) for r in robots))
    emit({"ready": sum(r.ws is not None for r in robots), "errors": errors[:5]})
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line:
        return
    start = float(json.loads(line)["go"])
    rate, seconds = float(spec["rate"]), float(spec["seconds"])
    frames = int(rate * seconds)
    settle = float(spec.get("settle_seconds", 10))
    until = start + seconds + settle
    live = [r for r in robots if r.ws is not None]
    cpu0 = time.process_time()
    readers = [asyncio.ensure_future(r.read(frames, until)) for r in live]
    # Robots are spread over the send interval, as independent robots would be.
    await asyncio.gather(
        *(
            r.send(start, (n / max(len(live), 1)) / rate, rate, frames)
            for n, r in enumerate(live)
        )
    )
    sent_done = time.monotonic()
    await asyncio.gather(*readers)
    cpu = time.process_time() - cpu0
    await asyncio.gather(*(r.ws.close() for r in live), return_exceptions=True)
    late = [
        (r.sent[k] - (start + (n / max(len(live), 1)) / rate + k / rate)) * 1000
        for n, r in enumerate(live)
        for k in r.sent
    ]
    emit(
        {
            "result": {
                "robots": len(live),
                "frames_per_robot": frames,
                "sent": sum(len(r.sent) for r in live),
                "acked": sum(len(r.acks) for r in live),
                "ack_ids": [i for r in live for i in r.acks.values()],
                "errors": sum(len(r.errors) for r in live),
                "error_samples": [e for r in live for e in r.errors][:5],
                "ack_ms": [round(x, 2) for r in live for x in r.ack_ms],
                "send_late_ms_max": round(max(late), 2) if late else None,
                "send_seconds": round(sent_done - start, 3),
                "cpu_seconds": round(cpu, 3),
            }
        }
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    with open(parser.parse_args().spec) as handle:
        spec = json.load(handle)
    try:
        import uvloop

        uvloop.run(main(spec))
    except ImportError:
        asyncio.run(main(spec))
