"""Operations commands: load_demo and create_cooperative_admin."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.management.commands.load_demo import ADMIN_USERNAME, DEMO_PASSWORD, MEMBERS
from accounts.models import Company, User
from accounts.validators import credit_code_error
from core.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

STRONG = "Lilac-Harbour-7319"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # load_demo hashes nine passwords per run; the production hasher would make this file slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "companies": Company.objects.count(),
        "collector": Company.objects.filter(role=Company.Role.COLLECTOR).count(),
        "processor": Company.objects.filter(role=Company.Role.PROCESSOR).count(),
        "carrier": Company.objects.filter(role=Company.Role.CARRIER).count(),
        "admins": sum(1 for user in User.objects.all() if user.is_cooperative_admin),
    }


def test_load_demo_creates_three_collectors_four_processors_a_carrier_and_an_admin():
    out = run("load_demo")

    assert _counts() == {
        "users": 9,
        "companies": 8,
        "collector": 3,
        "processor": 4,
        "carrier": 1,
        "admins": 1,
    }
    assert set(Company.objects.values_list("status", flat=True)) == {Company.Status.VERIFIED}
    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.is_cooperative_admin is True
    assert admin.company is None
    for company in Company.objects.all():
        assert credit_code_error(company.credit_code) is None
        assert company.members.count() == 1
        company.full_clean()
    for member in MEMBERS:
        assert member.username in out
        assert member.company in out
    assert DEMO_PASSWORD in out
    # Accounts are seed data (no decision recorded); demo lots go through the services.
    assert not AuditEntry.objects.filter(target_type="company").exists()


def test_load_demo_lists_lots_in_every_status_a_live_one_for_the_next_hour_and_wanted_requests():
    from auctions.selectors import ledger_verify
    from recycling.models import Lot, WantedRequest
    from recycling.selectors import market_prices

    run("load_demo")

    statuses = set(Lot.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in Lot.Status}
    soon = timezone.now() + dt.timedelta(minutes=50)
    live = Lot.objects.filter(status="live", ends_at__gte=soon, deposit=0, format="english")
    assert live.filter(bid_count__gt=0).exists()
    assert WantedRequest.objects.filter(status="open").count() == 4
    assert {item.category.code for item in market_prices()} >= {"steel", "paper", "plastics"}
    assert ledger_verify() == []
    count = Lot.objects.count()
    run("load_demo")
    assert Lot.objects.count() == count


def test_load_demo_twice_duplicates_nothing_and_resets_passwords_and_statuses():
    run("load_demo")
    before = _counts()
    ids = sorted(User.objects.values_list("pk", "username", "company_id"))
    collector = User.objects.get(username="collector1")
    collector.set_password("changed-in-the-demo-42")
    collector.save()
    Company.objects.filter(pk=collector.company_id).update(status=Company.Status.SUSPENDED, status_reason="test")

    run("load_demo")

    assert _counts() == before
    assert sorted(User.objects.values_list("pk", "username", "company_id")) == ids
    assert Company.objects.get(pk=collector.company_id).status == Company.Status.VERIFIED
    assert Company.objects.get(pk=collector.company_id).status_reason == ""
    assert authenticate(username="collector1", password=DEMO_PASSWORD) is not None


def test_load_demo_leaves_other_users_and_companies_alone():
    outsider = factories.make_member(Company.Role.PROCESSOR, Company.Status.PENDING, username="outsider")

    run("load_demo")

    outsider.refresh_from_db()
    assert outsider.company.status == Company.Status.PENDING
    assert outsider.check_password(factories.PASSWORD)
    assert User.objects.count() == 10


def test_every_demo_login_authenticates_and_carries_its_role():
    run("load_demo")

    admin = authenticate(username=ADMIN_USERNAME, password=DEMO_PASSWORD)
    assert admin is not None and admin.is_cooperative_admin
    for member in MEMBERS:
        user = authenticate(username=member.username, password=DEMO_PASSWORD)
        assert user is not None, member.username
        assert user.company.role == member.role
        assert user.company.is_verified
        assert user.is_cooperative_admin is False
    assert authenticate(username="collector1", password="wrong-password") is None


def test_demo_login_gets_an_api_token(client):
    run("load_demo")

    response = client.post(
        "/api/v1/auth/token/",
        {"username": "processor1", "password": DEMO_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["token"]


def test_create_cooperative_admin_creates_an_admin_without_company():
    out = run("create_cooperative_admin", "zhou", password=STRONG, email="zhou@coop.example")

    user = User.objects.get(username="zhou")
    assert user.is_cooperative_admin is True
    assert user.company is None
    assert user.email == "zhou@coop.example"
    assert authenticate(username="zhou", password=STRONG) == user
    assert "Created" in out
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type, entry.target_id, entry.actor_name) == (
        "user.grant_cooperative_admin",
        "user",
        str(user.pk),
        "system",
    )


def test_create_cooperative_admin_again_updates_the_password():
    run("create_cooperative_admin", "zhou", password=STRONG, email="zhou@coop.example")

    out = run("create_cooperative_admin", "zhou", password="Second-Lantern-5820")

    assert User.objects.filter(username="zhou").count() == 1
    user = User.objects.get(username="zhou")
    assert user.email == "zhou@coop.example"
    assert user.is_cooperative_admin is True
    assert authenticate(username="zhou", password=STRONG) is None
    assert authenticate(username="zhou", password="Second-Lantern-5820") == user
    assert "password reset" in out
    assert AuditEntry.objects.count() == 1


def test_create_cooperative_admin_promotes_an_existing_plain_user():
    factories.make_user(username="plain", email="old@example.com")

    out = run("create_cooperative_admin", "plain", password=STRONG, email="new@example.com")

    user = User.objects.get(username="plain")
    assert user.is_cooperative_admin is True
    assert user.email == "new@example.com"
    assert "permission granted" in out
    assert AuditEntry.objects.filter(action="user.grant_cooperative_admin").count() == 1


def test_create_cooperative_admin_refuses_a_company_member():
    member = factories.make_member(Company.Role.COLLECTOR, username="member")

    with pytest.raises(CommandError, match="belongs to the company"):
        run("create_cooperative_admin", "member", password=STRONG)

    member = User.objects.get(pk=member.pk)
    assert member.is_cooperative_admin is False
    assert member.check_password(factories.PASSWORD)
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("username", "options", "message"),
    [
        ("weak", {"password": "123"}, "Password refused"),
        ("bad name!", {"password": STRONG}, "Invalid username"),
        ("mail", {"password": STRONG, "email": "not-an-address"}, "Invalid e-mail"),
    ],
)
def test_create_cooperative_admin_errors_change_nothing(username, options, message):
    with pytest.raises(CommandError, match=message):
        run("create_cooperative_admin", username, **options)

    assert User.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_create_cooperative_admin_without_password_and_without_terminal_fails(monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO())

    with pytest.raises(CommandError, match="--password"):
        run("create_cooperative_admin", "zhou")

    assert User.objects.count() == 0
