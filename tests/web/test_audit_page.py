from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Company
from core.models import AuditEntry
from tests import factories

URL = reverse("coop:audit")


@pytest.fixture
def history(coop_admin):
    """Three decisions by two admins, and one old entry from last year."""
    other_admin = factories.make_admin(username="coop_other")
    approved = factories.make_company(status=Company.Status.PENDING, name="甲公司")
    rejected = factories.make_company(status=Company.Status.PENDING, name="乙公司")
    services.company_review(actor=coop_admin, company_id=approved.pk, decision="approve")
    services.company_review(actor=other_admin, company_id=rejected.pk, decision="reject", reason="材料不全")
    services.company_suspend(actor=coop_admin, company_id=approved.pk, reason="违规")
    AuditEntry.objects.create(
        at=timezone.now() - dt.timedelta(days=400),
        actor_name="system",
        action="lot.close",
        target_type="lot",
        target_id="17",
        target_label="HRB-2025-000017",
    )
    return {"approved": approved, "rejected": rejected}


def _actions(response) -> list[str]:
    return [entry.action for entry in response.context["page_obj"]]


@pytest.mark.django_db
def test_the_audit_log_lists_everything_newest_first(web_as, coop_admin, history):
    response = web_as(coop_admin).get(URL)

    assert response.status_code == 200
    assert _actions(response) == ["company.suspend", "company.reject", "company.approve", "lot.close"]
    assert "材料不全".encode() in response.content
    assert response.context["action_choices"] == [
        "company.",
        "company.approve",
        "company.reject",
        "company.suspend",
        "lot.",
        "lot.close",
    ]


@pytest.mark.django_db
def test_the_audit_log_shows_before_and_after(web_as, coop_admin, history):
    response = web_as(coop_admin).get(URL, {"action": "company.suspend"})

    entry = response.context["page_obj"][0]
    assert entry.changes == [("status", "verified", "suspended"), ("status_reason", "", "违规")]
    assert b"<td>verified</td><td>suspended</td>" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "company."}, ["company.suspend", "company.reject", "company.approve"]),
        ({"action": "company.re"}, ["company.reject"]),
        ({"actor": "coop_other"}, ["company.reject"]),
        ({"actor": "coop_admin", "action": "company.approve"}, ["company.approve"]),
        ({"target_type": "lot"}, ["lot.close"]),
        ({"target_type": "lot", "target_id": "18"}, []),
    ],
)
def test_the_audit_log_filters(web_as, coop_admin, history, params, expected):
    response = web_as(coop_admin).get(URL, params)

    assert _actions(response) == expected


@pytest.mark.django_db
def test_the_audit_log_filters_by_target_id(web_as, coop_admin, history):
    target = history["approved"]

    response = web_as(coop_admin).get(URL, {"target_type": "company", "target_id": target.pk})

    assert _actions(response) == ["company.suspend", "company.approve"]


@pytest.mark.django_db
def test_the_audit_log_filters_by_date_range(web_as, coop_admin, history):
    today = timezone.localdate()
    long_ago = today - dt.timedelta(days=400)
    client = web_as(coop_admin)

    recent = client.get(URL, {"since": today.isoformat()})
    old = client.get(URL, {"since": (long_ago - dt.timedelta(days=1)).isoformat(), "until": long_ago.isoformat()})

    assert _actions(recent) == ["company.suspend", "company.reject", "company.approve"]
    assert _actions(old) == ["lot.close"]


@pytest.mark.django_db
def test_a_bad_date_is_reported_and_left_out(web_as, coop_admin, history):
    response = web_as(coop_admin).get(URL, {"since": "yesterday", "actor": "coop_other"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"since": ["Enter a valid date."]}
    assert _actions(response) == ["company.reject"]


@pytest.mark.django_db
def test_the_audit_log_is_paginated(web_as, coop_admin):
    for n in range(55):
        AuditEntry.objects.create(actor_name="system", action="test.tick", target_type="test", target_id=str(n))
    client = web_as(coop_admin)

    first = client.get(URL)
    second = client.get(URL, {"page": 2})

    assert len(first.context["page_obj"]) == 50
    assert [e.target_id for e in second.context["page_obj"]] == ["4", "3", "2", "1", "0"]
