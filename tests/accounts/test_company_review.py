"""The cooperative's decisions on companies (review, suspend, reinstate) and the company's own edits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import Company, User
from core.models import AuditEntry, Notification, OutboundEmail
from tests import factories
from tests.mail import sent_mail

pytestmark = pytest.mark.django_db


def _url(company: Company, action: str = "") -> str:
    return f"/api/v1/companies/{company.pk}/{action + '/' if action else ''}"


def _company_with_members(status: str, role: str = Company.Role.PROCESSOR) -> tuple[Company, list[User]]:
    company = factories.make_company(role=role, status=status)
    members = [
        factories.make_user(company=company, email="boss@example.com"),
        factories.make_user(company=company, email="clerk@example.com"),
    ]
    return company, members


def _state(company: Company) -> tuple:
    company.refresh_from_db()
    return (
        company.status,
        company.status_reason,
        company.reviewed_at,
        AuditEntry.objects.count(),
        Notification.objects.count(),
        OutboundEmail.objects.count(),
    )


# --- review ----------------------------------------------------------------------------------------


def test_approve_a_pending_company(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, members = _company_with_members(Company.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(coop_admin).post(_url(company, "review"), {"decision": "approve"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert response.json()["status_reason"] == ""
    company.refresh_from_db()
    assert company.status == Company.Status.VERIFIED
    assert company.reviewed_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_name, entry.action) == (coop_admin, "coop_admin", "company.approve")
    assert (entry.target_type, entry.target_id, entry.target_label) == ("company", str(company.pk), company.name)
    assert entry.before == {"status": "pending", "status_reason": ""}
    assert entry.after == {"status": "verified", "status_reason": ""}
    assert entry.reason == ""
    notifications = Notification.objects.order_by("user_id")
    assert [(n.user, n.kind) for n in notifications] == [(m, "company_verified") for m in members]
    assert sorted(message.to for message in sent_mail()) == [["boss@example.com"], ["clerk@example.com"]]
    assert {message.subject for message in mail.outbox} == {notifications[0].title}


def test_approve_keeps_the_approval_reason(client_for, coop_admin):
    company, _members = _company_with_members(Company.Status.PENDING)

    response = client_for(coop_admin).post(
        _url(company, "review"), {"decision": "approve", "reason": " 证照齐全 "}, format="json"
    )

    assert response.status_code == 200
    company.refresh_from_db()
    assert company.status_reason == "证照齐全"
    assert AuditEntry.objects.get().reason == "证照齐全"


def test_emails_leave_with_the_commit_and_never_from_the_request(client_for, coop_admin, monkeypatch):
    company, _members = _company_with_members(Company.Status.PENDING)

    client_for(coop_admin).post(_url(company, "review"), {"decision": "approve"}, format="json")
    assert mail.outbox == [] and OutboundEmail.objects.filter(sent_at__isnull=True).count() == 2

    # A change that rolls back after its notices were written queues nothing.
    real_notify = accounts_services.notify

    def notify_then_fail(**kwargs):
        real_notify(**kwargs)
        assert OutboundEmail.objects.count() == 4  # queued inside the transaction…
        raise RuntimeError("a later step of the change failed")

    monkeypatch.setattr(accounts_services, "notify", notify_then_fail)
    with pytest.raises(RuntimeError):
        client_for(coop_admin).post(_url(company, "suspend"), {"reason": "资质存疑"}, format="json")
    assert OutboundEmail.objects.count() == 2  # …and gone with it
    assert len(sent_mail()) == 2


def test_inactive_members_get_nothing(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, (boss, clerk) = _company_with_members(Company.Status.PENDING)
    clerk.is_active = False
    clerk.save()

    with django_capture_on_commit_callbacks(execute=True):
        client_for(coop_admin).post(_url(company, "review"), {"decision": "approve"}, format="json")

    assert list(Notification.objects.values_list("user", flat=True)) == [boss.pk]
    assert [message.to for message in sent_mail()] == [["boss@example.com"]]


def test_reject_needs_a_reason(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, _members = _company_with_members(Company.Status.PENDING)
    before = _state(company)

    for body in ({"decision": "reject"}, {"decision": "reject", "reason": "   "}):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(coop_admin).post(_url(company, "review"), body, format="json")

        assert response.status_code == 400
        assert response.json()["code"] == "reason_required"
        assert list(response.json()["fields"]) == ["reason"]
        assert _state(company) == before


def test_reject_with_a_reason_shows_it_to_the_company(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, members = _company_with_members(Company.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(coop_admin).post(
            _url(company, "review"), {"decision": "reject", "reason": "营业执照已过期"}, format="json"
        )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    seen = client_for(members[0]).get(_url(company))
    assert seen.status_code == 200
    assert (seen.json()["status"], seen.json()["status_reason"]) == ("rejected", "营业执照已过期")
    entry = AuditEntry.objects.get()
    assert entry.action == "company.reject"
    assert entry.actor == coop_admin
    assert entry.before == {"status": "pending", "status_reason": ""}
    assert entry.after == {"status": "rejected", "status_reason": "营业执照已过期"}
    assert entry.reason == "营业执照已过期"
    assert Notification.objects.filter(kind="company_rejected").count() == 2
    assert all("营业执照已过期" in n.body for n in Notification.objects.all())
    assert len(sent_mail()) == 2
    assert all("营业执照已过期" in message.body for message in mail.outbox)


@pytest.mark.parametrize("status", [Company.Status.VERIFIED, Company.Status.REJECTED, Company.Status.SUSPENDED])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_only_pending_companies_are_reviewed(client_for, coop_admin, status, decision):
    company, _members = _company_with_members(status)
    before = _state(company)

    response = client_for(coop_admin).post(
        _url(company, "review"), {"decision": decision, "reason": "再审"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "bad_transition"
    assert _state(company) == before


@pytest.mark.parametrize("body", [{}, {"decision": "maybe"}, {"decision": ""}])
def test_review_needs_a_known_decision(client_for, coop_admin, body):
    company, _members = _company_with_members(Company.Status.PENDING)
    before = _state(company)

    response = client_for(coop_admin).post(_url(company, "review"), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["decision"]
    assert _state(company) == before


@pytest.mark.parametrize("action", ["review", "suspend", "reinstate"])
def test_decisions_on_an_unknown_company_are_404(client_for, coop_admin, action):
    response = client_for(coop_admin).post(
        f"/api/v1/companies/999999/{action}/", {"decision": "approve", "reason": "x"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert AuditEntry.objects.count() == 0


# --- suspend and reinstate --------------------------------------------------------------------------


def test_suspend_a_verified_company(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, members = _company_with_members(Company.Status.VERIFIED)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(coop_admin).post(_url(company, "suspend"), {"reason": "串通报价"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("suspended", "串通报价")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.reason) == (coop_admin, "company.suspend", "串通报价")
    assert entry.before == {"status": "verified", "status_reason": ""}
    assert entry.after == {"status": "suspended", "status_reason": "串通报价"}
    assert sorted(n.user_id for n in Notification.objects.filter(kind="company_suspended")) == sorted(
        m.pk for m in members
    )
    assert len(sent_mail()) == 2


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}])
@pytest.mark.parametrize("action", ["suspend", "reinstate"])
def test_suspend_and_reinstate_need_a_reason(client_for, coop_admin, body, action):
    status = Company.Status.VERIFIED if action == "suspend" else Company.Status.SUSPENDED
    company, _members = _company_with_members(status)
    before = _state(company)

    response = client_for(coop_admin).post(_url(company, action), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert list(response.json()["fields"]) == ["reason"]
    assert _state(company) == before


@pytest.mark.parametrize("status", [Company.Status.REJECTED, Company.Status.SUSPENDED])
def test_suspend_refuses_a_rejected_or_suspended_company(client_for, coop_admin, status):
    company, _members = _company_with_members(status)
    before = _state(company)

    response = client_for(coop_admin).post(_url(company, "suspend"), {"reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "bad_transition"
    assert _state(company) == before


def test_reinstate_a_suspended_company(client_for, coop_admin, django_capture_on_commit_callbacks):
    company, members = _company_with_members(Company.Status.VERIFIED)
    client = client_for(coop_admin)
    client.post(_url(company, "suspend"), {"reason": "串通报价"}, format="json")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(company, "reinstate"), {"reason": "整改完成"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("verified", "整改完成")
    entry = AuditEntry.objects.get(action="company.reinstate")
    assert (entry.actor, entry.reason) == (coop_admin, "整改完成")
    assert entry.before == {"status": "suspended", "status_reason": "串通报价"}
    assert entry.after == {"status": "verified", "status_reason": "整改完成"}
    assert AuditEntry.objects.count() == 2
    assert Notification.objects.filter(kind="company_reinstated").count() == 2
    assert len(sent_mail()) == 4  # the suspension's two, the reinstatement's two


def test_a_suspended_pending_company_is_reinstated_to_pending(client_for, coop_admin):
    """Suspension must not be a way around the review."""
    company, _members = _company_with_members(Company.Status.PENDING)
    client = client_for(coop_admin)
    client.post(_url(company, "suspend"), {"reason": "疑似冒名注册"}, format="json")

    response = client.post(_url(company, "reinstate"), {"reason": "已核实身份"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    entry = AuditEntry.objects.get(action="company.reinstate")
    assert entry.after == {"status": "pending", "status_reason": "已核实身份"}


@pytest.mark.parametrize("status", [Company.Status.PENDING, Company.Status.VERIFIED, Company.Status.REJECTED])
def test_reinstate_refuses_a_company_that_is_not_suspended(client_for, coop_admin, status):
    company, _members = _company_with_members(status)
    before = _state(company)

    response = client_for(coop_admin).post(_url(company, "reinstate"), {"reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "bad_transition"
    assert _state(company) == before


# --- the company's own edits ------------------------------------------------------------------------


def test_a_rejected_company_that_edits_goes_back_to_pending(client_for, coop_admin):
    company, (boss, _clerk) = _company_with_members(Company.Status.PENDING)
    client_for(coop_admin).post(_url(company, "review"), {"decision": "reject", "reason": "地址不符"}, format="json")

    response = client_for(boss).patch(_url(company), {"address": "香坊区新址8号"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["address"]) == ("pending", "香坊区新址8号")
    entry = AuditEntry.objects.get(action="company.update")
    assert entry.actor == boss
    assert entry.before == {"address": company.address, "status": "rejected"}
    assert entry.after == {"address": "香坊区新址8号", "status": "pending"}
    queue = client_for(coop_admin).get("/api/v1/companies/?status=pending")
    assert [row["id"] for row in queue.json()["results"]] == [company.pk]


def test_a_rejected_company_may_fix_its_name_and_code(client_for):
    company, (boss, _clerk) = _company_with_members(Company.Status.REJECTED)

    response = client_for(boss).patch(
        _url(company), {"name": "哈尔滨再生资源有限公司", "credit_code": "91330100716105852f"}, format="json"
    )

    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.name, company.credit_code, company.status) == (
        "哈尔滨再生资源有限公司",
        "91330100716105852F",
        "pending",
    )


@pytest.mark.parametrize(
    "change", [{"name": "新名称有限公司"}, {"credit_code": "91330100716105852F"}, {"name": "新名称", "address": "x"}]
)
def test_a_verified_company_cannot_change_its_identity(client_for, change):
    company, (boss, _clerk) = _company_with_members(Company.Status.VERIFIED)
    before = _state(company), company.name, company.credit_code, company.address

    response = client_for(boss).patch(_url(company), change, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    company.refresh_from_db()
    assert (_state(company), company.name, company.credit_code, company.address) == before


def test_a_verified_company_may_resend_its_unchanged_identity(client_for):
    company, (boss, _clerk) = _company_with_members(Company.Status.VERIFIED)

    response = client_for(boss).patch(
        _url(company),
        {"name": company.name, "credit_code": company.credit_code.lower(), "contact_phone": "0451-86661234"},
        format="json",
    )

    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.status, company.contact_phone) == ("verified", "0451-86661234")
    entry = AuditEntry.objects.get()
    assert entry.before == {"contact_phone": "13900000000"}
    assert entry.after == {"contact_phone": "0451-86661234"}


def test_a_verified_company_may_change_its_contact_details(client_for):
    company, (boss, _clerk) = _company_with_members(Company.Status.VERIFIED)

    response = client_for(boss).patch(
        _url(company), {"address": "松北区世茂大道1号", "district": "songbei"}, format="json"
    )

    assert response.status_code == 200
    company.refresh_from_db()
    assert (company.status, company.address, company.district) == ("verified", "松北区世茂大道1号", "songbei")


def test_an_edit_to_a_registered_code_is_a_conflict(client_for):
    factories.make_company(credit_code="91330100716105852F")
    company, (boss, _clerk) = _company_with_members(Company.Status.PENDING)
    before = _state(company), company.credit_code

    response = client_for(boss).patch(_url(company), {"credit_code": "91330100716105852F"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"
    company.refresh_from_db()
    assert (_state(company), company.credit_code) == before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"credit_code": "91330100716105852E"}, "invalid_credit_code", "credit_code"),
        ({"contact_phone": "12345"}, "invalid_phone", "contact_phone"),
        ({"district": "chaoyang"}, "validation_error", "district"),
        ({"address": ""}, "validation_error", "address"),
    ],
)
def test_an_invalid_edit_changes_nothing(client_for, change, code, field):
    company, (boss, _clerk) = _company_with_members(Company.Status.PENDING)
    before = _state(company), company.credit_code, company.contact_phone, company.address

    response = client_for(boss).patch(_url(company), change, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert list(response.json()["fields"]) == [field]
    company.refresh_from_db()
    assert (_state(company), company.credit_code, company.contact_phone, company.address) == before


def test_a_suspended_company_cannot_edit(client_for):
    company, (boss, _clerk) = _company_with_members(Company.Status.SUSPENDED)
    before = _state(company), company.address

    response = client_for(boss).patch(_url(company), {"address": "新地址"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "company_suspended"
    company.refresh_from_db()
    assert (_state(company), company.address) == before


# --- the review queue ---------------------------------------------------------------------------------


def test_the_queue_is_pending_companies_oldest_first(client_for, coop_admin):
    now = timezone.now()
    newer = factories.make_company(status=Company.Status.PENDING, created_at=now)
    older = factories.make_company(status=Company.Status.PENDING, created_at=now - dt.timedelta(days=2))
    factories.make_company(status=Company.Status.VERIFIED)

    response = client_for(coop_admin).get("/api/v1/companies/?status=pending")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [older.pk, newer.pk]
    assert response.json()["count"] == 2


def test_other_lists_are_newest_first_and_page_without_repeats(client_for, coop_admin):
    now = timezone.now()
    made = [
        factories.make_company(status=Company.Status.VERIFIED, created_at=now - dt.timedelta(days=n % 3))
        for n in range(7)
    ]
    newest_first = [c.pk for c in sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)]
    client = client_for(coop_admin)

    seen, url = [], "/api/v1/companies/?status=verified&page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert [pk for pk in seen if pk in newest_first] == newest_first


@pytest.mark.parametrize(
    ("query", "expected"),
    [("?role=carrier", ["carrier"]), ("?q=91330100716105852f", ["collector"]), ("?q=钢铁", ["processor"])],
)
def test_company_list_filters(client_for, coop_admin, query, expected):
    factories.make_company(role=Company.Role.COLLECTOR, credit_code="91330100716105852F")
    factories.make_company(role=Company.Role.PROCESSOR, name="哈尔滨钢铁回收公司")
    factories.make_company(role=Company.Role.CARRIER)

    response = client_for(coop_admin).get("/api/v1/companies/" + query)

    assert [row["role"] for row in response.json()["results"]] == expected


def test_an_unknown_status_filter_is_400(client_for, coop_admin):
    response = client_for(coop_admin).get("/api/v1/companies/?status=approved")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["status"]


def test_an_edit_racing_a_registration_of_the_same_code_is_a_conflict(client_for, monkeypatch):
    """A competing registration of the code lands between the duplicate check and the write."""
    from accounts import services

    company, (boss, _clerk) = _company_with_members(Company.Status.PENDING)
    before = _state(company), company.credit_code
    real = services._company_snapshot
    raced = []

    def snapshot_then_compete(target):
        if not raced:
            raced.append(factories.make_company(credit_code="91330100716105852F"))
        return real(target)

    monkeypatch.setattr(services, "_company_snapshot", snapshot_then_compete)

    response = client_for(boss).patch(_url(company), {"credit_code": "91330100716105852F"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"
    company.refresh_from_db()
    assert (_state(company), company.credit_code) == before
