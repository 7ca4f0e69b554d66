"""The JSON the dashboard's charts and tables read: per-minute counts, the ledger."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from brain.events.filters import EventFilter
from brain.events.models import EventLog
from credits import services as credits
from credits.models import LedgerEntry
from dashboard import selectors
from tests.conftest import number_pending

pytestmark = pytest.mark.django_db

PER_MINUTE = "/events/per-minute/"
TRANSACTIONS = "/credits/transactions/"
NOW = datetime(2031, 5, 4, 12, 30, 40, tzinfo=UTC)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def logged(
    when: datetime,
    type_: str = "mission.created",
    count: int = 1,
    *,
    numbered: bool = True,
) -> None:
    """``count`` events in the log, numbered as a commit would (unless not yet)."""
    EventLog.objects.bulk_create(
        EventLog(
            event_id=uuid.uuid4(),
            type=type_,
            source="test",
            occurred_at=when,
            payload={},
        )
        for _ in range(count)
    )
    if numbered:
        number_pending()


def test_events_per_minute_buckets_30_minutes_in_one_query(
    django_assert_num_queries,
):
    logged(NOW.replace(second=0), count=3)  # the current minute, first second
    logged(NOW - timedelta(seconds=1), "hardware.command_sent")
    logged(NOW - timedelta(minutes=29), count=2)  # 12:01:40: the first minute
    logged(NOW.replace(minute=1, second=0) - timedelta(microseconds=1))  # too old
    logged(NOW + timedelta(minutes=1))  # a clock ahead: not in any minute shown
    # Committed but not yet numbered: no reader sees it yet, nor does the chart.
    logged(NOW, numbered=False)

    with django_assert_num_queries(1):
        start, counts = selectors.events_per_minute(
            now=NOW, minutes=30, event_filter=EventFilter.parse("", None)
        )
    assert start == datetime(2031, 5, 4, 12, 1, tzinfo=UTC)
    assert len(counts) == 30
    assert counts[0] == 2
    assert counts[-1] == 4
    assert sum(counts) == 6

    _, mission_only = selectors.events_per_minute(
        now=NOW, minutes=30, event_filter=EventFilter.parse("mission.*", None)
    )
    assert mission_only[-1] == 3


def test_events_per_minute_through_a_seq_leaves_later_events_out():
    logged(NOW, count=2)
    through = EventLog.objects.order_by("-seq").first().seq
    logged(NOW, count=5)
    _, counts = selectors.events_per_minute(
        now=NOW,
        minutes=30,
        event_filter=EventFilter.parse("", None),
        through_seq=through,
    )
    assert counts[-1] == 2


def test_the_per_minute_view_answers_signed_in_users_with_json(make_user):
    assert Client().get(PER_MINUTE).status_code == 302
    viewer = client_for(make_user("viewer"))
    make_user("operator")
    credits.account_create(agent_id="scout-1", initial_credits="1.00")
    number_pending()
    head = EventLog.objects.order_by("-seq").first().seq

    response = viewer.get(PER_MINUTE, {"types": "credits.*", "through": head})
    assert response.status_code == 200
    body = response.json()
    assert body["through"] == head
    assert len(body["counts"]) == 30
    assert body["counts"][-1] >= 1
    assert body["start"] % 60 == 0

    assert viewer.get(PER_MINUTE, {"through": "-1"}).status_code == 400
    assert viewer.get(PER_MINUTE, {"through": "x"}).status_code == 400
    bad = viewer.get(PER_MINUTE, {"types": "Not A Type"})
    assert bad.status_code == 400
    assert "types" in bad.json()
    assert viewer.post(PER_MINUTE).status_code == 405


def test_the_latest_transactions_are_every_agents_newest_first(make_user):
    credits.account_create(agent_id="scout-1", initial_credits="10.00")
    credits.account_create(agent_id="hauler-2", initial_credits="5.00")
    credits.credits_consume(agent_id="scout-1", amount="2.50", reason="compute")
    viewer = client_for(make_user("viewer"))

    response = viewer.get(TRANSACTIONS)
    assert response.status_code == 200
    rows = response.json()["transactions"]
    assert [(r["agent_id"], r["kind"], r["amount"]) for r in rows] == [
        ("scout-1", "consumption", "2.50"),
        ("hauler-2", "allocation", "5.00"),
        ("scout-1", "allocation", "10.00"),
    ]
    assert rows[0]["balance_after"] == "7.50"
    assert [
        r["id"] for r in viewer.get(TRANSACTIONS, {"limit": 2}).json()["transactions"]
    ] == [rows[0]["id"], rows[1]["id"]]
    for limit in ("0", "201", "many"):
        assert viewer.get(TRANSACTIONS, {"limit": limit}).status_code == 400
    assert Client().get(TRANSACTIONS).status_code == 302


def test_the_latest_transactions_cost_one_query_however_many(
    django_assert_num_queries,
):
    for n in range(30):
        credits.account_create(agent_id=f"agent-{n}", initial_credits="1.00")
    with django_assert_num_queries(1):
        entries = selectors.ledger_latest(limit=50)
        assert [e.agent_id for e in entries][:2] == ["agent-29", "agent-28"]
    assert len(entries) == 30 == LedgerEntry.objects.count()
