"""``manage.py simulate``: demo agents and robots that move, through the real services.

Agents register, beat, claim missions, write log lines, spend credits and finish or
fail; robots report their state, drain and recharge their batteries and acknowledge
the commands sent to them (the dashboard's Stop button included). Every change goes
through the domain services, so the same events come out as from the API, with
``meta.actor`` "simulator".

The pace is a person's, by default: each agent writes a line and each robot reports
every ``--interval`` (15 s), their turns spread over it, about 60 events a minute;
``--rate N`` plays N times as fast, for load. The demo's data is bounded: after
``--max-missions`` demo missions (counted in the database, across runs) it stops,
and says so. A mission's ``progress`` only grows, from 0 to 100 at its end.

The agents obey their operators: each reads its own control events
(``supervisor.agent_controlled``, subject ``agent_<id>``) from the event log every
tick, as a real agent reads them on its socket. A paused agent keeps beating but
stops working (no claim, no log line, no spending) until resumed; a killed one stops
beating altogether until it is restarted.
"""

import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from brain.errors import Conflict, DomainError, NotFound
from brain.events import selectors as event_selectors
from brain.events.context import event_context
from brain.events.filters import EventFilter
from credits import services as credits
from hardware import selectors as hardware_selectors
from hardware import services as hardware
from hardware.models import CommandStatus
from missions import selectors as mission_selectors
from missions import services as missions
from missions.models import MissionPriority, MissionStatus
from supervisor import selectors as supervisor_selectors
from supervisor import services as supervisor
from supervisor.events import AGENT_CONTROLLED
from supervisor.models import AgentHold

ACTOR = "simulator"
ROBOT_MODELS = ("unitree_go1", "unitree_go2", "unitree_b2")
PLACES = ("north ridge", "depot", "sector 7", "the old quarry", "pipeline 3", "dock B")
JOBS = ("Survey", "Map", "Inspect", "Patrol", "Deliver parts to", "Sample soil at")
CHATTER = {
    "debug": ("waypoint queue refreshed", "sensor frame received", "planner tick"),
    "info": ("reached waypoint", "scan complete", "uploading results", "route clear"),
    "warning": ("wind gusts above limit", "signal weak, retrying", "obstacle ahead"),
    "error": ("lidar dropout", "motor temperature high"),
}
LEVEL_WEIGHTS = {"debug": 3, "info": 10, "warning": 2, "error": 1}
INITIAL_CREDITS = Decimal("500.00")
TOP_UP = Decimal("250.00")


DEFAULT_INTERVAL = 15.0
DEFAULT_MAX_MISSIONS = 500
# A new mission beyond those the agents wait for, per tick.
EXTRA_MISSION_CHANCE = 0.05


@dataclass
class SimAgent:
    agent_id: str
    mission_id: str | None = None
    steps_left: int = 0
    steps_total: int = 0
    progress_from: int = 0  # what the mission had reached before this run
    paused_for: int = 0
    # What its operators decided, read from its control events.
    held: bool = False
    killed: bool = False
    inbox: EventFilter | None = None
    cursor: int = 0


@dataclass
class SimRobot:
    robot_id: str
    battery: float
    charging: bool = False
    waiting: dict[str, str] = field(default_factory=dict)  # command id -> status


class Command(BaseCommand):
    max_missions = 0  # no budget unless handle() is given one
    help = (
        "Play demo agents and robots through the real services, so the dashboard moves."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="", help="where the dashboard runs (shown, not used)"
        )
        parser.add_argument(
            "--seconds", type=float, default=0, help="stop after this long (0: never)"
        )
        parser.add_argument("--seed", type=int, default=None, help="repeatable runs")
        parser.add_argument("--agents", type=int, default=4)
        parser.add_argument("--robots", type=int, default=3)
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            help="seconds between two turns of the same agent or robot "
            f"(default {DEFAULT_INTERVAL:g})",
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=1.0,
            help="times the pace: 10 plays ten times as fast (for load)",
        )
        parser.add_argument(
            "--max-missions",
            type=int,
            default=DEFAULT_MAX_MISSIONS,
            help="stop once this many demo missions exist, so the demo's data "
            f"stays bounded (default {DEFAULT_MAX_MISSIONS}; 0: no limit)",
        )

    def handle(self, *args, **options):
        if options["agents"] < 0 or options["robots"] < 0:
            raise CommandError("--agents and --robots must not be negative")
        if options["interval"] <= 0 or options["rate"] <= 0:
            raise CommandError("--interval and --rate must be positive")
        if options["max_missions"] < 0:
            raise CommandError("--max-missions must not be negative")
        interval = options["interval"] / options["rate"]
        self.max_missions = options["max_missions"]
        self.random = random.Random(options["seed"])
        where = f" at {options['url']}" if options["url"] else ""
        self.stdout.write(
            f"simulate: demo agents and robots moving{where}, a turn each every "
            f"{interval:g} s; Ctrl-C stops"
        )
        deadline = (
            time.monotonic() + options["seconds"] if options["seconds"] > 0 else None
        )
        with event_context(actor=ACTOR):
            agents = [self.start_agent(i) for i in range(1, options["agents"] + 1)]
            robots = [self.start_robot(i) for i in range(1, options["robots"] + 1)]
            ticks = 0
            try:
                while deadline is None or time.monotonic() < deadline:
                    if self.budget_spent():
                        self.stdout.write(
                            f"simulate: {self.max_missions} demo missions exist "
                            "(--max-missions), so the demo stops here to keep its "
                            "data bounded; raise it, or 0 for no limit"
                        )
                        break
                    self.tick(agents, robots, ticks, interval, deadline)
                    ticks += 1
            except KeyboardInterrupt:
                pass
        self.stdout.write(f"simulate: stopped after {ticks} ticks")

    def budget_spent(self) -> bool:
        if not self.max_missions:
            return False
        made = mission_selectors.mission_list().filter(data__simulated=True).count()
        return made >= self.max_missions

    # Setting up --------------------------------------------------------------------

    def start_agent(self, number: int) -> SimAgent:
        agent_id = f"sim-agent-{number}"
        supervisor.agent_register(
            agent_id=agent_id,
            name=f"Sim agent {number}",
            role=self.random.choice(("surveyor", "courier", "inspector")),
            capabilities=self.random.sample(["survey", "map", "carry", "inspect"], 2),
            meta={"simulated": "true"},
        )
        try:
            credits.account_create(agent_id=agent_id, initial_credits=INITIAL_CREDITS)
        except Conflict:
            pass  # an earlier run made it
        agent = SimAgent(
            agent_id,
            inbox=EventFilter.parse(AGENT_CONTROLLED.name, f"agent_{agent_id}"),
            cursor=event_selectors.log_head(),
        )
        hold = supervisor_selectors.agent_get(agent_id).hold
        agent.held = hold == AgentHold.PAUSED
        agent.killed = hold == AgentHold.KILLED
        if agent.killed:
            return agent  # silent until an operator restarts it
        supervisor.agent_heartbeat(agent_id=agent_id, state="healthy")
        # A mission an earlier run left RUNNING is finished, not left behind.
        leftover = (
            mission_selectors.mission_list()
            .filter(assigned_agent=agent_id, status=MissionStatus.RUNNING)
            .first()
        )
        if leftover is not None:
            agent.mission_id = str(leftover.id)
            agent.steps_left = agent.steps_total = self.random.randint(1, 4)
            last = mission_selectors.mission_log(leftover.id).order_by("-id").first()
            reached = (last.data or {}).get("progress") if last else None
            agent.progress_from = reached if isinstance(reached, int) else 0
        return agent

    def start_robot(self, number: int) -> SimRobot:
        robot_id = f"sim-robot-{number}"
        try:
            hardware.robot_register(
                robot_id=robot_id,
                name=f"Sim robot {number}",
                model=ROBOT_MODELS[(number - 1) % len(ROBOT_MODELS)],
            )
        except Conflict:
            pass
        return SimRobot(robot_id, battery=self.random.uniform(40, 100))

    # One tick ---------------------------------------------------------------------

    def tick(
        self,
        agents: list[SimAgent],
        robots: list[SimRobot],
        ticks: int,
        interval: float = 0.0,
        deadline: float | None = None,
    ) -> None:
        """Every agent and robot takes one turn, the turns spread over ``interval``
        so the dashboard moves steadily rather than in bursts."""
        started = time.monotonic()
        self.keep_missions_waiting(len(agents))
        turns = [(self.step_agent, agent) for agent in agents]
        turns += [(self.step_robot, robot, ticks) for robot in robots]
        for number, (step, *args) in enumerate(turns):
            self.safely(step, *args)
            self.wait_until(started + interval * (number + 1) / len(turns), deadline)
        if not turns:
            self.wait_until(started + interval, deadline)
        if robots and ticks % 15 == 7:
            robot = self.random.choice(robots)
            self.safely(
                hardware.robot_command_send,
                robot_id=robot.robot_id,
                linear_x=round(self.random.uniform(-1, 1), 2),
                linear_y=round(self.random.uniform(-0.5, 0.5), 2),
                angular_z=round(self.random.uniform(-1, 1), 2),
            )

    @staticmethod
    def wait_until(moment: float, deadline: float | None) -> None:
        if deadline is not None:
            moment = min(moment, deadline)
        pause = moment - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def safely(self, action, *args, **kwargs):
        """A refusal (someone else changed the data first) skips one step, no more."""
        try:
            return action(*args, **kwargs)
        except DomainError as exc:
            self.stderr.write(f"simulate: {getattr(action, '__name__', action)}: {exc}")
            return None

    def keep_missions_waiting(self, wanted: int) -> None:
        waiting = mission_selectors.mission_stats()["by_status"][MissionStatus.PENDING]
        extra = self.random.random() < EXTRA_MISSION_CHANCE
        count = max(0, wanted - waiting) + extra
        if self.max_missions:
            made = mission_selectors.mission_list().filter(data__simulated=True).count()
            count = min(count, self.max_missions - made)
        for _ in range(count):
            job, place = self.random.choice(JOBS), self.random.choice(PLACES)
            missions.mission_create(
                name=f"{job} {place}",
                description=f"Simulated: {job.lower()} {place}.",
                priority=self.random.choices(
                    list(MissionPriority.values), weights=[2, 6, 3, 1]
                )[0],
                data={"simulated": True},
            )

    def read_controls(self, agent: SimAgent) -> None:
        """Obey the control events sent to this agent since the last tick."""
        rows = event_selectors.events_after(agent.cursor, event_filter=agent.inbox)
        for row in rows:
            agent.cursor = row.seq
            action = row.payload["action"]
            if action == "pause":
                agent.held = True
            elif action == "resume":
                agent.held = False
            elif action == "kill":
                agent.killed, agent.mission_id = True, None  # its mission was failed
            elif action == "restart":
                agent.held = agent.killed = False

    def step_agent(self, agent: SimAgent) -> None:
        self.read_controls(agent)
        if agent.killed:
            return  # a killed agent is silent
        if agent.held:
            supervisor.agent_heartbeat(agent_id=agent.agent_id)
            return  # paused: alive, but no work
        if agent.paused_for:
            agent.paused_for -= 1
            state = "degraded" if agent.paused_for else "healthy"
            supervisor.agent_heartbeat(agent_id=agent.agent_id, state=state)
            return
        supervisor.agent_heartbeat(agent_id=agent.agent_id)
        if agent.mission_id is None:
            if self.random.random() < 0.05:
                agent.paused_for = self.random.randint(3, 8)
                supervisor.agent_heartbeat(agent_id=agent.agent_id, state="degraded")
                return
            mission = supervisor.agent_claim_mission(agent_id=agent.agent_id)
            if mission is not None:
                agent.mission_id = str(mission.id)
                agent.steps_left = agent.steps_total = self.random.randint(4, 14)
                agent.progress_from = 0
            return
        self.work(agent)

    def work(self, agent: SimAgent) -> None:
        try:
            # Progress only grows: the share of the mission's steps done, after this.
            done = agent.steps_total - agent.steps_left + 1
            start = min(100, max(0, agent.progress_from))
            progress = start + round((100 - start) * done / max(1, agent.steps_total))
            lines = [self.chatter(progress) for _ in range(self.random.randint(1, 2))]
            missions.mission_log_append(mission_id=agent.mission_id, lines=lines)
            self.spend(agent)
        except NotFound:
            agent.mission_id = None
            return
        agent.steps_left -= 1
        if agent.steps_left > 0:
            return
        failed = self.random.random() < 0.15
        try:
            missions.mission_set_status(
                mission_id=agent.mission_id,
                status=MissionStatus.FAILED if failed else MissionStatus.COMPLETED,
                reason="simulated failure" if failed else None,
            )
        except Conflict:
            pass  # an operator ended it first
        agent.mission_id = None

    def chatter(self, progress: int) -> missions.LogLine:
        level = self.random.choices(
            list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values())
        )[0]
        message = self.random.choice(CHATTER[level])
        return missions.LogLine(message, level=level, data={"progress": progress})

    def spend(self, agent: SimAgent) -> None:
        amount = Decimal(self.random.randint(50, 400)) / 100
        try:
            credits.credits_consume(
                agent_id=agent.agent_id,
                amount=amount,
                reason="compute",
                mission_id=agent.mission_id,
            )
        except Conflict:
            credits.credits_allocate(
                agent_id=agent.agent_id, amount=TOP_UP, reason="budget top-up"
            )

    def step_robot(self, robot: SimRobot, ticks: int) -> None:
        if robot.charging:
            robot.battery = min(100.0, robot.battery + self.random.uniform(3, 6))
            robot.charging = robot.battery < 95
        else:
            robot.battery = max(0.0, robot.battery - self.random.uniform(0.2, 1.2))
            robot.charging = robot.battery < 15
        hardware.robot_report_state(
            robot_id=robot.robot_id,
            battery_voltage=round(20 + 5.2 * robot.battery / 100, 2),
            battery_percentage=round(robot.battery, 1),
            motor_states=[
                {
                    "motor_id": motor,
                    "angle": round(self.random.uniform(-1.5, 1.5), 3),
                    "velocity": round(self.random.uniform(-2, 2), 3),
                    "torque": round(self.random.uniform(0, 5), 3),
                    "temperature": round(self.random.uniform(30, 60), 1),
                }
                for motor in range(4)
            ],
            imu_data={"roll": 0.0, "pitch": 0.0, "yaw": round(ticks * 0.1 % 6.28, 3)},
        )
        self.answer_commands(robot)

    def answer_commands(self, robot: SimRobot) -> None:
        """Acknowledge each new command, and report it executed on the next tick."""
        for command_id, status in list(robot.waiting.items()):
            if status == CommandStatus.ACKNOWLEDGED:
                hardware.command_acknowledge(
                    command_id=command_id, status=CommandStatus.EXECUTED
                )
            robot.waiting.pop(command_id)
        recent = hardware_selectors.robot_commands(robot.robot_id).filter(
            status=CommandStatus.SENT
        )[:10]
        for command in recent:
            hardware.command_acknowledge(
                command_id=command.id, status=CommandStatus.ACKNOWLEDGED
            )
            robot.waiting[str(command.id)] = CommandStatus.ACKNOWLEDGED
