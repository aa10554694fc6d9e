"""Real races on PostgreSQL: threads with their own connections hit one company or one code."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Company, User
from core.models import AuditEntry
from tests import factories
from tests.accounts.payloads import REGISTER_URL, register_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls: Callable[[], object]) -> list:
    """Run the calls at the same instant, each in its own thread (and database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the assertion below names it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _post(user: User | None, url: str, body: dict) -> Callable[[], tuple[int, dict]]:
    def call() -> tuple[int, dict]:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        response = client.post(url, body, format="json")
        return response.status_code, response.json()

    return call


def test_two_admins_decide_at_once_and_one_wins():
    company = factories.make_company(status=Company.Status.PENDING)
    first, second = factories.make_admin(), factories.make_admin()
    url = f"/api/v1/companies/{company.pk}/review/"

    results = _race(
        _post(first, url, {"decision": "approve"}), _post(second, url, {"decision": "reject", "reason": "资料不全"})
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [200, 409], results
    [(_status, loser)] = [result for result in results if result[0] == 409]
    assert loser["code"] == "bad_transition"
    company.refresh_from_db()
    entry = AuditEntry.objects.get()
    assert entry.after["status"] == company.status
    assert entry.before["status"] == "pending"


@pytest.mark.parametrize("attempts", [2, 4])
def test_one_credit_code_registered_at_once(attempts):
    calls = [
        _post(None, REGISTER_URL, register_payload(username=f"racer{n}", email=f"r{n}@example.com"))
        for n in range(attempts)
    ]

    results = _race(*calls)

    statuses = sorted(status for status, _body in results)
    assert statuses == [201] + [409] * (attempts - 1), results
    assert {body["code"] for status, body in results if status == 409} == {"duplicate_company"}
    assert (Company.objects.count(), User.objects.count(), AuditEntry.objects.count()) == (1, 1, 1)


def test_one_username_registered_at_once():
    results = _race(
        _post(None, REGISTER_URL, register_payload(company__credit_code="91350100M000100Y43")),
        _post(None, REGISTER_URL, register_payload(company__credit_code="914403001922038216")),
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [201, 409], results
    assert [body["code"] for status, body in results if status == 409] == ["duplicate_username"]
    assert (Company.objects.count(), User.objects.count(), AuditEntry.objects.count()) == (1, 1, 1)
