"""The audit log: append-only in the database itself, and readable by cooperative admins."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction

from accounts.models import Company
from core.models import AuditEntry
from core.services import audit_record
from tests import factories

pytestmark = pytest.mark.django_db

HARBIN = ZoneInfo("Asia/Shanghai")
AUDIT_URL = "/api/v1/audit/"


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=HARBIN)


@pytest.fixture
def entry(coop_admin):
    return audit_record(
        actor=coop_admin,
        action="company.approve",
        target_type="company",
        target_id=7,
        target_label="哈尔滨某公司",
        before={"status": "pending"},
        after={"status": "verified"},
        reason="证照齐全",
    )


def _unchanged(entry: AuditEntry) -> None:
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.action, row.reason, row.after, row.actor_name) == (
        "company.approve",
        "证照齐全",
        {"status": "verified"},
        "coop_admin",
    )


# --- append-only -----------------------------------------------------------------------------------


def test_record_fills_every_column(entry, coop_admin):
    row = AuditEntry.objects.get(pk=entry.pk)

    assert (row.actor, row.actor_name, row.action) == (coop_admin, "coop_admin", "company.approve")
    assert (row.target_type, row.target_id, row.target_label) == ("company", "7", "哈尔滨某公司")
    assert (row.before, row.after, row.reason) == ({"status": "pending"}, {"status": "verified"}, "证照齐全")


def test_a_record_without_an_actor_is_the_system(db):
    row = audit_record(actor=None, action="lot.close", target_type="lot", target_id=1)

    assert (row.actor, row.actor_name) == (None, "system")


def test_queryset_update_is_refused(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="改过了")

    _unchanged(entry)


def test_save_of_an_existing_row_is_refused(entry):
    entry.reason = "改过了"
    entry.after = {"status": "rejected"}

    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()

    _unchanged(entry)


def test_bulk_update_is_refused(entry):
    entry.reason = "改过了"

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["reason"])

    _unchanged(entry)


def test_an_update_of_no_row_is_harmless(entry):
    assert AuditEntry.objects.filter(pk=entry.pk + 1000).update(reason="x") == 0


@pytest.mark.postgres
def test_delete_is_refused_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()

    _unchanged(entry)


@pytest.mark.postgres
def test_instance_delete_is_refused_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.get(pk=entry.pk).delete()

    _unchanged(entry)


def test_the_actor_cannot_be_deleted_from_under_the_log(entry, coop_admin):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError), transaction.atomic():
        coop_admin.delete()

    _unchanged(entry)


# --- GET /api/v1/audit/ ----------------------------------------------------------------------------


@pytest.fixture
def log(coop_admin):
    """Five entries over three days, by two admins and the system."""
    other_admin = factories.make_admin(username="admin_two")
    rows = [
        (_at(1, 9), coop_admin, "company.approve", "company", "1"),
        (_at(1, 23, 30), other_admin, "company.reject", "company", "2"),
        (_at(2, 0, 30), coop_admin, "document.upload", "company", "1"),
        (_at(2, 12), None, "lot.close", "lot", "1"),
        (_at(3, 8), other_admin, "company.suspend", "company", "1"),
    ]
    return [
        AuditEntry.objects.create(
            at=at,
            actor=actor,
            actor_name=actor.username if actor else "system",
            action=action,
            target_type=target_type,
            target_id=target_id,
        )
        for at, actor, action, target_type, target_id in rows
    ]


def _actions(client, query: str = "") -> list[str]:
    response = client.get(AUDIT_URL + query)
    assert response.status_code == 200, response.json()
    return [row["action"] for row in response.json()["results"]]


def test_newest_first(client_for, coop_admin, log):
    response = client_for(coop_admin).get(AUDIT_URL)

    body = response.json()
    assert body["count"] == 5
    assert [row["id"] for row in body["results"]] == [entry.pk for entry in reversed(log)]
    assert body["results"][0] == {
        "id": log[4].pk,
        "at": "2026-03-03T08:00:00+08:00",
        "actor": "admin_two",
        "action": "company.suspend",
        "target_type": "company",
        "target_id": "1",
        "target_label": "",
        "before": {},
        "after": {},
        "reason": "",
    }
    assert body["results"][1]["actor"] == "system"


def test_same_instant_higher_id_first(client_for, coop_admin):
    at = _at(5, 10)
    first = AuditEntry.objects.create(at=at, actor_name="system", action="a.one", target_type="x", target_id="1")
    second = AuditEntry.objects.create(at=at, actor_name="system", action="a.two", target_type="x", target_id="1")

    response = client_for(coop_admin).get(AUDIT_URL)

    assert [row["id"] for row in response.json()["results"]] == [second.pk, first.pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?action=company.", ["company.suspend", "company.reject", "company.approve"]),
        ("?action=company", ["company.suspend", "company.reject", "company.approve"]),
        ("?action=company.approve", ["company.approve"]),
        ("?action=lot.", ["lot.close"]),
        ("?action=nothing", []),
        ("?actor=admin_two", ["company.suspend", "company.reject"]),
        ("?actor=system", ["lot.close"]),
        ("?actor=nobody", []),
        ("?target_type=lot", ["lot.close"]),
        ("?target_type=company&target_id=1", ["company.suspend", "document.upload", "company.approve"]),
        ("?target_id=2", ["company.reject"]),
        ("?action=company.&actor=coop_admin", ["company.approve"]),
    ],
)
def test_filters(client_for, coop_admin, log, query, expected):
    assert _actions(client_for(coop_admin), query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Days are Harbin days: 23:30 on the 1st is the 1st, 00:30 on the 2nd is the 2nd.
        ("?since=2026-03-02", ["company.suspend", "lot.close", "document.upload"]),
        ("?until=2026-03-01", ["company.reject", "company.approve"]),
        ("?since=2026-03-02&until=2026-03-02", ["lot.close", "document.upload"]),
        ("?since=2026-03-04", []),
        ("?since=2026-03-03&until=2026-03-01", []),
        ("?since=&until=", ["company.suspend", "lot.close", "document.upload", "company.reject", "company.approve"]),
    ],
)
def test_date_filters(client_for, coop_admin, log, query, expected):
    assert _actions(client_for(coop_admin), query) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("?since=yesterday", "since"), ("?until=2026-13-01", "until"), ("?since=01/03/2026", "since")],
)
def test_a_bad_date_is_400(client_for, coop_admin, log, query, field):
    response = client_for(coop_admin).get(AUDIT_URL + query)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == [field]


def test_the_log_records_a_real_decision(client_for, coop_admin):
    company = factories.make_company(status=Company.Status.PENDING)
    client = client_for(coop_admin)
    client.post(f"/api/v1/companies/{company.pk}/review/", {"decision": "approve"}, format="json")

    response = client.get(f"{AUDIT_URL}?target_type=company&target_id={company.pk}")

    [row] = response.json()["results"]
    assert (row["actor"], row["action"], row["target_label"]) == ("coop_admin", "company.approve", company.name)
    assert (row["before"]["status"], row["after"]["status"]) == ("pending", "verified")


def test_the_log_is_paginated(client_for, coop_admin):
    AuditEntry.objects.bulk_create(
        [AuditEntry(actor_name="system", action="x.y", target_type="x", target_id=str(n)) for n in range(30)]
    )

    body = client_for(coop_admin).get(AUDIT_URL + "?page_size=10").json()

    assert (body["count"], len(body["results"]), body["previous"]) == (30, 10, None)
    assert "page=2" in body["next"]
