"""Admin: accounts open and credits move only through the services, same events."""

from decimal import Decimal

import pytest

from credits.models import Account, LedgerEntry
from tests.conftest import EventLogView, settle
from tests.credits.factories import balance_of, make_account
from tests.delivery import assert_delivered_as_stored

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

CHANGELIST = "/admin/credits/account/"
LEDGER = "/admin/credits/ledgerentry/"


@pytest.fixture
def admin_client_for(client, make_user):
    def login(role: str = "superuser", name: str = "root"):
        user = make_user(role, name)
        if role != "superuser":
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        client.force_login(user)
        return client

    return login


def allocate_via_admin(client, agent_ids, **form):
    return client.post(
        CHANGELIST,
        {
            "action": "allocate_credits",
            "_selected_action": agent_ids,
            "apply": "Allocate",
            **form,
        },
    )


def test_changelist_shows_balances_and_searches_by_agent(admin_client_for):
    client = admin_client_for()
    make_account("rover-1", "12.5")
    make_account("drone-2", "3")
    response = client.get(CHANGELIST, {"q": "rover"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "rover-1" in content and "12.50" in content
    assert "drone-2" not in content


def test_admin_allocation_emits_the_same_event_as_rest(
    admin_client_for, api, delivered, django_capture_on_commit_callbacks
):
    make_account("rover-1", "1.00")
    make_account("rover-2", "1.00")
    settle()
    rest_events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            "/api/credits/allocate",
            {"agent_id": "rover-2", "amount": "5", "reason": "top-up"},
        )
    (via_rest,) = rest_events.all()
    assert_delivered_as_stored(delivered, rest_events.rows())

    client = admin_client_for()
    settle()
    delivered.clear()
    admin_events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = allocate_via_admin(client, ["rover-1"], amount="5", reason="top-up")
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert_delivered_as_stored(delivered, admin_events.rows())
    assert delivered[0][0].subjects == frozenset({"agent_rover-1"})
    (via_admin,) = admin_events.all()
    entry = LedgerEntry.objects.get(agent_id="rover-1", kind="allocation", amount=5)
    assert via_admin["type"] == via_rest["type"] == "credits.allocated"
    assert via_admin["source"] == via_rest["source"] == "credits_service"
    assert via_admin["target"] == "agent_rover-1"
    assert via_admin["payload"] == {
        "agent_id": "rover-1",
        "amount": "5.00",
        "balance": "6.00",
        "reason": "top-up",
        "transaction_id": entry.pk,
        "allocated_at": entry.created_at.timestamp(),
    }
    assert {**via_rest["payload"], "agent_id": "rover-1"} | {
        "transaction_id": entry.pk,
        "allocated_at": entry.created_at.timestamp(),
    } == via_admin["payload"]
    assert via_admin["meta"]["actor"] == "root"
    assert entry.actor == "root"
    assert balance_of("rover-1") == Decimal("6.00")


def test_admin_allocation_asks_for_amount_and_reason_first(admin_client_for):
    client = admin_client_for()
    make_account("rover-1", "1.00")
    response = client.post(
        CHANGELIST, {"action": "allocate_credits", "_selected_action": ["rover-1"]}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="amount"' in content and 'name="reason"' in content
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-3", "1.001", "abc", "1000000.01"])
def test_admin_allocation_refuses_bad_amounts(admin_client_for, amount):
    client = admin_client_for()
    make_account("rover-1", "1.00")
    events = EventLogView()
    response = allocate_via_admin(client, ["rover-1"], amount=amount, reason="r")
    assert response.status_code == 200
    assert "Amount must" in response.content.decode()
    assert balance_of("rover-1") == Decimal("1.00")
    assert events.all() == []


def test_admin_allocation_to_several_accounts(admin_client_for):
    client = admin_client_for()
    make_account("rover-1", "1.00")
    make_account("rover-2", "2.00")
    events = EventLogView()
    response = allocate_via_admin(
        client, ["rover-1", "rover-2"], amount="0.50", reason="bonus"
    )
    assert response.status_code == 302
    assert balance_of("rover-1") == Decimal("1.50")
    assert balance_of("rover-2") == Decimal("2.50")
    assert events.types() == ["credits.allocated", "credits.allocated"]


def test_staff_viewer_cannot_allocate(admin_client_for, make_user):
    client = admin_client_for("viewer", "watcher")
    make_account("rover-1", "1.00")
    response = allocate_via_admin(client, ["rover-1"], amount="5", reason="r")
    # The action is not offered, so admin refuses it without moving anything.
    assert balance_of("rover-1") == Decimal("1.00")
    assert response.status_code in (200, 302)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "allocate_credits" not in page.content.decode()


def test_staff_operator_can_allocate(admin_client_for):
    client = admin_client_for("operator", "opal")
    make_account("rover-1", "1.00")
    response = allocate_via_admin(client, ["rover-1"], amount="5", reason="r")
    assert response.status_code == 302
    assert balance_of("rover-1") == Decimal("6.00")
    assert LedgerEntry.objects.get(amount=5).actor == "opal"


def test_admin_add_account_goes_through_the_service(
    admin_client_for, django_capture_on_commit_callbacks
):
    client = admin_client_for()
    events = EventLogView()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/credits/account/add/",
            {"agent_id": "rover-9", "initial_credits": "8.5"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert balance_of("rover-9") == Decimal("8.50")
    (event,) = events.all()
    assert event["type"] == "credits.allocated"
    assert event["payload"]["reason"] == "initial credits"
    assert event["meta"]["actor"] == "root"


def test_admin_add_refuses_bad_initial_credits_and_duplicates(admin_client_for):
    client = admin_client_for()
    make_account("rover-1")
    response = client.post(
        "/admin/credits/account/add/", {"agent_id": "rover-2", "initial_credits": "-1"}
    )
    assert response.status_code == 200
    assert not Account.objects.filter(pk="rover-2").exists()
    response = client.post(
        "/admin/credits/account/add/", {"agent_id": "rover-1", "initial_credits": "5"}
    )
    assert response.status_code == 200
    assert balance_of("rover-1") == Decimal("0.00")


def test_an_account_the_service_refuses_after_the_form_is_an_error(
    admin_client_for, monkeypatch
):
    """Another client opened the account after the form checked the agent id."""
    from django.contrib.messages import constants

    from brain.errors import Conflict
    from credits import admin as admin_module

    def opened_meanwhile(**kwargs):
        raise Conflict("agent rover-9 already has a credit account")

    monkeypatch.setattr(admin_module.services, "account_create", opened_meanwhile)
    client = admin_client_for()
    events = EventLogView()
    response = client.post(
        "/admin/credits/account/add/",
        {"agent_id": "rover-9", "initial_credits": "8.5"},
        follow=True,
    )
    assert response.redirect_chain == [("/admin/credits/account/add/", 302)]
    assert [(m.level, str(m)) for m in response.context["messages"]] == [
        (constants.ERROR, "agent rover-9 already has a credit account")
    ]
    assert not Account.objects.filter(pk="rover-9").exists()
    assert events.all() == []


def test_account_is_not_edited_or_deleted_in_admin(admin_client_for):
    client = admin_client_for()
    make_account("rover-1", "4.00")
    page = client.get("/admin/credits/account/rover-1/change/")
    assert page.status_code == 200
    client.post(
        "/admin/credits/account/rover-1/change/",
        {"agent_id": "rover-1", "balance": "999"},
    )
    assert balance_of("rover-1") == Decimal("4.00")
    assert client.get("/admin/credits/account/rover-1/delete/").status_code == 403


def test_ledger_is_read_only_and_filterable(admin_client_for):
    from credits import services
    from tests.missions.factories import make_mission

    client = admin_client_for()
    make_account("rover-1", "10")
    make_account("rover-2", "10")
    mission_id = make_mission().id
    services.credits_consume(
        agent_id="rover-1", amount="3", reason="survey", mission_id=mission_id
    )
    entry = LedgerEntry.objects.get(kind="consumption")

    listing = client.get(LEDGER, {"kind": "consumption"})
    assert listing.status_code == 200
    content = listing.content.decode()
    assert str(mission_id) in content
    assert f"/admin/missions/mission/{mission_id}/change/" in content
    rows = listing.context["cl"].result_list
    assert [row.pk for row in rows] == [entry.pk]

    by_agent = client.get(LEDGER, {"agent__agent_id__exact": "rover-2"})
    assert by_agent.status_code == 200
    rows = by_agent.context["cl"].result_list
    assert {row.agent_id for row in rows} == {"rover-2"}

    assert client.get(f"{LEDGER}add/").status_code == 403
    assert client.get(f"{LEDGER}{entry.pk}/delete/").status_code == 403
    detail = client.get(f"{LEDGER}{entry.pk}/change/")
    assert detail.status_code == 200
    client.post(f"{LEDGER}{entry.pk}/change/", {"amount": "1", "reason": "edited"})
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (Decimal("3.00"), "survey")
    assert LedgerEntry.objects.count() == 3
