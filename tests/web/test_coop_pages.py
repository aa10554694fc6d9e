from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Company
from core.models import AuditEntry, Notification
from tests import factories
from tests.web.helpers import messages_of, png_upload

QUEUE = reverse("coop:companies")


def _detail(company) -> str:
    return reverse("coop:company_detail", args=[company.pk])


def _coop_urls(company) -> list[str]:
    return [QUEUE, _detail(company), reverse("coop:audit")]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["collector", "processor", "carrier", "pending_user"])
def test_coop_pages_are_403_for_non_admins(web_as, request, who, pending_user):
    client = web_as(request.getfixturevalue(who))

    statuses = [client.get(url).status_code for url in _coop_urls(pending_user.company)]
    post = client.post(reverse("coop:company_approve", args=[pending_user.company_id]))

    assert statuses == [403, 403, 403]
    assert post.status_code == 403
    pending_user.company.refresh_from_db()
    assert pending_user.company.status == Company.Status.PENDING
    assert AuditEntry.objects.filter(action="company.approve").count() == 0


@pytest.mark.django_db
def test_coop_pages_send_anonymous_to_log_in(web, pending_user):
    for url in _coop_urls(pending_user.company):
        response = web.get(url)
        assert response.status_code == 302
        assert response.url == reverse("accounts:login") + "?next=" + url


@pytest.mark.django_db
def test_the_queue_shows_pending_companies_oldest_first(web_as, coop_admin):
    now = timezone.now()
    newer = factories.make_company(status=Company.Status.PENDING, name="新公司", created_at=now)
    older = factories.make_company(status=Company.Status.PENDING, name="老公司", created_at=now - dt.timedelta(days=2))
    factories.make_company(status=Company.Status.VERIFIED, name="已认证公司")

    response = web_as(coop_admin).get(QUEUE)

    assert response.status_code == 200
    assert list(response.context["page_obj"]) == [older, newer]
    assert response.context["form"]["status"].value() == "pending"
    assert "已认证公司".encode() not in response.content
    assert b'data-testid="pending-count">2<' in response.content


@pytest.mark.django_db
def test_the_queue_filters_by_status_role_and_search(web_as, coop_admin):
    steel = factories.make_company(role=Company.Role.COLLECTOR, status=Company.Status.VERIFIED, name="钢铁回收站")
    factories.make_company(role=Company.Role.PROCESSOR, status=Company.Status.VERIFIED, name="钢铁加工厂")
    factories.make_company(role=Company.Role.COLLECTOR, status=Company.Status.PENDING, name="钢铁回收二站")
    client = web_as(coop_admin)

    by_all = client.get(QUEUE, {"status": "", "role": "collector", "q": "回收"})
    by_code = client.get(QUEUE, {"status": "verified", "q": steel.credit_code.lower()})

    assert {c.name for c in by_all.context["page_obj"]} == {"钢铁回收站", "钢铁回收二站"}
    assert list(by_code.context["page_obj"]) == [steel]


@pytest.mark.django_db
def test_the_queue_is_paginated(web_as, coop_admin):
    for _ in range(23):
        factories.make_company(status=Company.Status.PENDING)
    client = web_as(coop_admin)

    first = client.get(QUEUE)
    second = client.get(QUEUE, {"status": "pending", "page": 2})
    beyond = client.get(QUEUE, {"page": "x"})

    assert len(first.context["page_obj"]) == 20
    assert len(second.context["page_obj"]) == 3
    assert b'href="?page=2" rel="next"' in first.content
    assert b'href="?status=pending&amp;page=1" rel="prev"' in second.content
    assert beyond.context["page_obj"].number == 1


@pytest.mark.django_db
def test_the_detail_page_shows_documents_and_history(web_as, coop_admin, pending_user):
    document = services.document_upload(
        actor=pending_user,
        company_id=pending_user.company_id,
        kind="business_licence",
        upload=png_upload(),
        licence_no="BL-778",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )

    response = web_as(coop_admin).get(_detail(pending_user.company))

    assert response.status_code == 200
    assert f'href="{reverse("accounts:document", args=[document.pk])}"'.encode() in response.content
    assert b"BL-778" in response.content
    assert document.expires_on.isoformat().encode() in response.content
    assert [e.action for e in response.context["history"]] == ["document.upload"]
    assert [action for action, _form in response.context["review_forms"]] == ["approve", "reject", "suspend"]


@pytest.mark.django_db
def test_approve_through_the_form(web_as, coop_admin, pending_user):
    company = pending_user.company

    response = web_as(coop_admin).post(reverse("coop:company_approve", args=[company.pk]), {"reason": ""}, follow=True)

    company.refresh_from_db()
    assert response.redirect_chain == [(_detail(company), 302)]
    assert messages_of(response) == [f"{company.name} is verified."]
    assert company.status == Company.Status.VERIFIED
    entry = AuditEntry.objects.get(action="company.approve")
    assert (entry.actor, entry.target_id, entry.before["status"], entry.after["status"]) == (
        coop_admin,
        str(company.pk),
        "pending",
        "verified",
    )
    assert Notification.objects.filter(user=pending_user, kind="company_verified").count() == 1
    assert b'data-status="verified"' in response.content


@pytest.mark.django_db
def test_reject_needs_a_reason(web_as, coop_admin, pending_user):
    company = pending_user.company

    response = web_as(coop_admin).post(reverse("coop:company_reject", args=[company.pk]), {"reason": "  "})

    company.refresh_from_db()
    assert response.status_code == 200
    forms = dict(response.context["review_forms"])
    assert forms["reject"].errors == {"reason": ["This field is required."]}
    assert company.status == Company.Status.PENDING
    assert AuditEntry.objects.filter(action="company.reject").count() == 0


@pytest.mark.django_db
def test_reject_through_the_form_with_a_reason(web_as, coop_admin, pending_user):
    company = pending_user.company

    response = web_as(coop_admin).post(
        reverse("coop:company_reject", args=[company.pk]), {"reason": "信用代码与执照不符"}, follow=True
    )

    company.refresh_from_db()
    assert messages_of(response) == [f"{company.name} was rejected; the company has been told why."]
    assert (company.status, company.status_reason) == (Company.Status.REJECTED, "信用代码与执照不符")
    entry = AuditEntry.objects.get(action="company.reject")
    assert (entry.reason, entry.after) == (
        "信用代码与执照不符",
        {"status": "rejected", "status_reason": "信用代码与执照不符"},
    )


@pytest.mark.django_db
def test_suspend_and_reinstate_through_the_forms(web_as, coop_admin, processor):
    company = processor.company
    client = web_as(coop_admin)

    refused = client.post(reverse("coop:company_suspend", args=[company.pk]), {"reason": ""})
    company.refresh_from_db()
    status_after_refusal = company.status
    suspended = client.post(reverse("coop:company_suspend", args=[company.pk]), {"reason": "恶意抬价"}, follow=True)
    company.refresh_from_db()
    status_after_suspend = company.status
    reinstated = client.post(reverse("coop:company_reinstate", args=[company.pk]), {"reason": "已整改"}, follow=True)
    company.refresh_from_db()

    assert dict(refused.context["review_forms"])["suspend"].errors == {"reason": ["This field is required."]}
    assert status_after_refusal == Company.Status.VERIFIED
    assert status_after_suspend == Company.Status.SUSPENDED
    assert messages_of(suspended) == [f"{company.name} is suspended."]
    assert messages_of(reinstated) == [f"{company.name} is reinstated."]
    assert company.status == Company.Status.VERIFIED
    assert list(
        AuditEntry.objects.filter(target_id=str(company.pk)).order_by("id").values_list("action", "reason")
    ) == [("company.suspend", "恶意抬价"), ("company.reinstate", "已整改")]


@pytest.mark.django_db
def test_a_decision_the_status_no_longer_allows_shows_the_service_error(web_as, coop_admin, processor):
    company = processor.company

    response = web_as(coop_admin).post(reverse("coop:company_approve", args=[company.pk]), follow=True)

    company.refresh_from_db()
    assert response.redirect_chain == [(_detail(company), 302)]
    assert messages_of(response) == ["Only pending companies can be reviewed; this one is verified."]
    assert company.status == Company.Status.VERIFIED
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_decisions_are_post_only_and_unknown_companies_404(web_as, coop_admin, pending_user):
    client = web_as(coop_admin)

    get = client.get(reverse("coop:company_approve", args=[pending_user.company_id]))
    missing = client.post(reverse("coop:company_approve", args=[999_999]))
    missing_detail = client.get(reverse("coop:company_detail", args=[999_999]))

    assert (get.status_code, missing.status_code, missing_detail.status_code) == (405, 404, 404)
