from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Company, CompanyDocument
from core.models import AuditEntry
from recycling.models import Category
from tests import factories
from tests.web.helpers import messages_of, png_upload

URL = reverse("accounts:company")
UPLOAD_URL = reverse("accounts:document_upload")


@pytest.mark.django_db
def test_company_page_shows_the_details_and_the_status_badge(web_as, pending_user):
    company = pending_user.company

    response = web_as(pending_user).get(URL)

    assert response.status_code == 200
    assert response.context["company"] == company
    assert b'data-status="pending"' in response.content
    assert b">Pending review</span>" in response.content
    assert company.name.encode() in response.content
    assert company.credit_code.encode() in response.content
    assert b'data-notice="pending"' in response.content


@pytest.mark.django_db
def test_company_page_shows_the_rejection_reason(web_as, pending_user, coop_admin):
    services.company_review(
        actor=coop_admin, company_id=pending_user.company_id, decision="reject", reason="营业执照照片不清晰"
    )

    response = web_as(pending_user).get(URL)

    assert b'data-status="rejected"' in response.content
    assert b'data-notice="rejected"' in response.content
    assert "Reason: 营业执照照片不清晰".encode() in response.content


@pytest.mark.django_db
def test_company_page_shows_the_suspension_reason_and_no_edit_form(web_as, processor, coop_admin):
    services.company_suspend(actor=coop_admin, company_id=processor.company_id, reason="串通压价")

    response = web_as(processor).get(URL)

    assert b'data-status="suspended"' in response.content
    assert "Reason: 串通压价".encode() in response.content
    assert b'id="company-form"' not in response.content
    assert b'id="document-form"' in response.content


@pytest.mark.django_db
def test_company_page_needs_a_login(web):
    response = web.get(URL)

    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=" + URL


@pytest.mark.django_db
def test_company_page_of_an_admin_is_the_queue(web_as, coop_admin):
    response = web_as(coop_admin).get(URL)

    assert response.status_code == 302
    assert response.url == reverse("coop:companies")


@pytest.mark.django_db
def test_edit_contact_details_of_a_verified_company(web_as, collector):
    company = collector.company

    response = web_as(collector).post(
        URL,
        {"district": "songbei", "address": "松北区世茂大道 1 号", "contact_phone": "+86 139 0451 0000"},
        follow=True,
    )

    company.refresh_from_db()
    assert response.redirect_chain == [(URL, 302)]
    assert messages_of(response) == ["Your company details were saved."]
    assert (company.district, company.address, company.contact_phone) == (
        "songbei",
        "松北区世茂大道 1 号",
        "13904510000",
    )
    assert company.status == Company.Status.VERIFIED
    entry = AuditEntry.objects.get(action="company.update")
    assert entry.after == {"district": "songbei", "address": "松北区世茂大道 1 号", "contact_phone": "13904510000"}


@pytest.mark.django_db
def test_the_identity_of_a_verified_company_is_locked(web_as, collector):
    company = collector.company
    name, code = company.name, company.credit_code

    response = web_as(collector).post(
        URL,
        {
            "name": "另一家公司",
            "credit_code": factories.credit_code(5),
            "district": company.district,
            "address": company.address,
            "contact_phone": company.contact_phone,
        },
    )

    company.refresh_from_db()
    assert response.status_code == 302
    assert (company.name, company.credit_code) == (name, code)
    assert AuditEntry.objects.filter(action="company.update").count() == 0


@pytest.mark.django_db
def test_a_rejected_company_that_edits_goes_back_to_pending(web_as, pending_user, coop_admin):
    services.company_review(actor=coop_admin, company_id=pending_user.company_id, decision="reject", reason="名称不符")
    company = pending_user.company

    response = web_as(pending_user).post(
        URL,
        {
            "name": "哈尔滨正名再生资源有限公司",
            "credit_code": company.credit_code,
            "district": company.district,
            "address": company.address,
            "contact_phone": company.contact_phone,
        },
        follow=True,
    )

    company.refresh_from_db()
    assert company.status == Company.Status.PENDING
    assert company.name == "哈尔滨正名再生资源有限公司"
    assert messages_of(response) == ["Your changes were saved and the company is submitted for review again."]


@pytest.mark.django_db
def test_edit_shows_a_service_error_on_its_field(web_as, pending_user):
    other = factories.make_company()
    company = pending_user.company
    code = company.credit_code

    response = web_as(pending_user).post(
        URL,
        {
            "name": company.name,
            "credit_code": other.credit_code,
            "district": company.district,
            "address": company.address,
            "contact_phone": company.contact_phone,
        },
    )

    company.refresh_from_db()
    assert response.status_code == 200
    assert response.context["company_form"].errors == {
        "credit_code": ["A company with this credit code is already registered."]
    }
    assert company.credit_code == code


@pytest.mark.django_db
def test_upload_a_png_business_licence(web_as, pending_user):
    response = web_as(pending_user).post(
        UPLOAD_URL,
        {"kind": "business_licence", "file": png_upload(), "licence_no": "BL-001", "expires_on": ""},
        follow=True,
    )

    document = CompanyDocument.objects.get()
    assert response.redirect_chain == [(URL + "#documents", 302)]
    assert messages_of(response) == ["The document was uploaded."]
    assert document.company == pending_user.company
    assert document.kind == CompanyDocument.Kind.BUSINESS_LICENCE
    assert document.content_type == "image/png"
    assert document.licence_no == "BL-001"
    assert document.original_name == "licence.png"
    assert f'href="{reverse("accounts:document", args=[document.pk])}"'.encode() in response.content
    assert AuditEntry.objects.filter(action="document.upload").count() == 1


@pytest.mark.django_db
def test_upload_a_processing_licence_with_its_categories(web_as, processor):
    batteries = Category.objects.get(code="battery-lead-acid")
    steel = Category.objects.get(code="steel")
    expires = timezone.localdate() + dt.timedelta(days=365)

    response = web_as(processor).post(
        UPLOAD_URL,
        {
            "kind": "processing_licence",
            "file": png_upload("permit.png"),
            "licence_no": "HW-2301-07",
            "expires_on": expires.isoformat(),
            "categories": [batteries.pk, steel.pk],
        },
        follow=True,
    )

    document = CompanyDocument.objects.get()
    assert response.status_code == 200
    assert document.expires_on == expires
    assert set(document.categories.all()) == {batteries, steel}
    assert b"Waste batteries \xc2\xb7 Lead-acid batteries" in response.content


@pytest.mark.django_db
def test_a_processing_licence_without_expiry_is_refused_on_the_field(web_as, processor):
    steel = Category.objects.get(code="steel")

    response = web_as(processor).post(
        UPLOAD_URL, {"kind": "processing_licence", "file": png_upload(), "categories": [steel.pk]}
    )

    assert response.status_code == 200
    assert response.context["document_form"].errors == {"expires_on": ["A processing licence needs its expiry date."]}
    assert CompanyDocument.objects.count() == 0


@pytest.mark.django_db
def test_a_text_file_named_jpg_is_refused_with_a_message(web_as, pending_user):
    fake = SimpleUploadedFile("licence.jpg", b"this is not a picture at all", content_type="image/jpeg")

    response = web_as(pending_user).post(UPLOAD_URL, {"kind": "business_licence", "file": fake})

    detail = "Only PDF, JPEG or PNG files are accepted; this file's content is not one of them."
    assert response.status_code == 200
    assert response.context["document_form"].errors == {"file": [detail]}
    assert messages_of(response) == ["The document was not uploaded; see the form below."]
    assert detail.replace("'", "&#x27;").encode() in response.content
    assert CompanyDocument.objects.count() == 0
    assert AuditEntry.objects.filter(action="document.upload").count() == 0


@pytest.mark.django_db
def test_collectors_are_not_offered_a_processing_licence(web_as, collector):
    response = web_as(collector).get(URL)

    form = response.context["document_form"]
    assert [value for value, _label in form.fields["kind"].choices] == ["business_licence", "hazardous_permit", "other"]
    assert "categories" not in form.fields


@pytest.mark.django_db
def test_profile_saves_email_and_phone(web_as, collector):
    response = web_as(collector).post(
        reverse("accounts:profile"), {"email": "new@example.com", "phone": "138 0451 2222"}, follow=True
    )

    collector.refresh_from_db()
    assert messages_of(response) == ["Your profile was saved."]
    assert (collector.email, collector.phone) == ("new@example.com", "13804512222")


@pytest.mark.django_db
def test_profile_refuses_a_bad_phone(web_as, collector):
    response = web_as(collector).post(reverse("accounts:profile"), {"email": "new@example.com", "phone": "5555"})

    collector.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "phone": ["Enter a mainland mobile number (11 digits starting with 1) or a landline with area code (0451-…)."]
    }
    assert collector.email != "new@example.com"


@pytest.mark.django_db
def test_a_verified_processor_finds_its_saved_cards_from_the_company_page(web_as, processor, collector, pending_user):
    cards = reverse("payments:cards")
    assert f'href="{cards}" data-testid="cards-link"'.encode() in web_as(processor).get(URL).content
    # Sellers pay nothing by card; a company under review cannot save one yet.
    assert b'data-testid="cards-link"' not in web_as(collector).get(URL).content
    assert b'data-testid="cards-link"' not in web_as(pending_user).get(URL).content
