"""Licence documents: upload (judged by content), the processing-licence rules, private download."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Company, CompanyDocument
from core.models import AuditEntry
from recycling.models import Category
from tests import factories
from tests.accounts.uploads import image_bytes, pdf_bytes, png_declaring, upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _url(company: Company) -> str:
    return f"/api/v1/companies/{company.pk}/documents/"


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _state() -> tuple:
    return CompanyDocument.objects.count(), AuditEntry.objects.count(), _stored_files()


def _future(days: int = 365) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def _processing_licence(**overrides):
    body = {
        "kind": "processing_licence",
        "file": upload("许可证.pdf", pdf_bytes()),
        "licence_no": " HLJ-2026-0042 ",
        "expires_on": _future(),
        "categories": ["battery-lead-acid", "steel"],
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# --- upload ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "suffix"),
    [
        ("营业执照.pdf", pdf_bytes(), "application/pdf", ".pdf"),
        ("licence.png", image_bytes("PNG"), "image/png", ".png"),
        ("licence.jpg", image_bytes("JPEG"), "image/jpeg", ".jpg"),
        # The declared type and the name do not matter; the content does.
        ("scan.bin", image_bytes("JPEG"), "image/jpeg", ".jpg"),
        ("scan.png", pdf_bytes(), "application/pdf", ".pdf"),
    ],
)
def test_upload_a_document(client_for, collector, name, content, content_type, suffix):
    response = client_for(collector).post(
        _url(collector.company), {"kind": "business_licence", "file": upload(name, content)}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    document = CompanyDocument.objects.get()
    assert response.json() == {
        "id": document.pk,
        "kind": "business_licence",
        "original_name": name,
        "content_type": content_type,
        "size": len(content),
        "licence_no": "",
        "expires_on": None,
        "is_expired": False,
        "categories": [],
        "uploaded_at": response.json()["uploaded_at"],
        "url": f"/api/v1/documents/{document.pk}/file/",
    }
    assert (document.company, document.uploaded_by) == (collector.company, collector)
    stored = Path(document.file.path)
    assert stored.read_bytes() == content
    assert stored.suffix == suffix
    assert stored.parent == Path(settings.MEDIA_ROOT) / "private" / "documents" / str(collector.company_id)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id) == (collector, "document.upload", str(collector.company_id))
    assert entry.after == {"document": document.pk, "kind": "business_licence", "licence_no": ""}


@pytest.mark.parametrize("name", ["营业执照.pdf", "../../../etc/passwd.pdf", "a b;rm -rf.pdf", "x" * 150 + ".pdf"])
def test_the_stored_name_never_contains_the_uploaded_name(client_for, collector, name):
    response = client_for(collector).post(
        _url(collector.company), {"kind": "business_licence", "file": upload(name, pdf_bytes())}, format="multipart"
    )

    assert response.status_code == 201
    document = CompanyDocument.objects.get()
    stem = Path(name).stem
    assert stem not in document.file.name
    assert Path(document.file.name).name.removesuffix(".pdf").isalnum()
    assert Path(document.file.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())


def test_a_pending_company_may_upload(client_for, pending_user):
    response = client_for(pending_user).post(
        _url(pending_user.company),
        {"kind": "business_licence", "file": upload("l.pdf", pdf_bytes())},
        format="multipart",
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("licence.jpg", b"This is just a text file, renamed.\n" * 20),
        ("licence.pdf", b"This is just a text file, renamed.\n" * 20),
        ("licence.png", b"<html><script>alert(1)</script></html>"),
        ("licence.pdf", b"GIF89a" + b"\x00" * 100),
        ("licence.pdf", pdf_bytes().replace(b"%%EOF", b"")),  # truncated PDF
        ("licence.png", image_bytes("PNG")[:40]),  # damaged image
        ("licence.jpg", b"\xff\xd8\xff" + b"garbage" * 50),
    ],
)
def test_content_that_is_not_pdf_jpeg_or_png_is_refused(client_for, collector, name, content):
    before = _state()

    response = client_for(collector).post(
        _url(collector.company), {"kind": "business_licence", "file": upload(name, content)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_file_type"
    assert list(response.json()["fields"]) == ["file"]
    assert _state() == before


def test_a_file_over_10_mb_is_refused(client_for, collector):
    content = pdf_bytes()
    content = content[:-6] + b"%" * (10 * MB + 1 - len(content)) + content[-6:]
    before = _state()

    response = client_for(collector).post(
        _url(collector.company),
        {"kind": "business_licence", "file": upload("big.pdf", content)},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "file_too_large"
    assert list(response.json()["fields"]) == ["file"]
    assert _state() == before


def test_a_file_of_exactly_10_mb_is_accepted(client_for, collector):
    content = pdf_bytes()
    content = content[:-6] + b"%" * (10 * MB - len(content)) + content[-6:]
    assert len(content) == 10 * MB

    response = client_for(collector).post(
        _url(collector.company),
        {"kind": "business_licence", "file": upload("big.pdf", content)},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json()["size"] == 10 * MB


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "business_licence"}, "file"),
        ({"file": "x"}, "kind"),
        ({"kind": "passport", "file": "x"}, "kind"),
        ({"kind": "business_licence", "file": "x", "expires_on": "31/12/2030"}, "expires_on"),
    ],
)
def test_upload_field_errors(client_for, collector, body, field):
    if body.get("file") == "x":
        body["file"] = upload("l.pdf", pdf_bytes())
    before = _state()

    response = client_for(collector).post(_url(collector.company), body, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == [field]
    assert _state() == before


def test_an_empty_file_is_refused(client_for, collector):
    before = _state()

    response = client_for(collector).post(
        _url(collector.company), {"kind": "business_licence", "file": upload("l.pdf", b"")}, format="multipart"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["file"]
    assert _state() == before


# --- processing licences -----------------------------------------------------------------------------


def test_a_processor_uploads_a_processing_licence(client_for, processor):
    response = client_for(processor).post(_url(processor.company), _processing_licence(), format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["licence_no"], body["expires_on"]) == ("processing_licence", "HLJ-2026-0042", _future())
    assert sorted(body["categories"]) == ["battery-lead-acid", "steel"]
    document = CompanyDocument.objects.get()
    assert sorted(document.categories.values_list("code", flat=True)) == ["battery-lead-acid", "steel"]


def test_categories_are_the_codes_of_the_catalogue(client_for, processor, api):
    codes = [row["code"] for row in api.get("/api/v1/categories/").json()]
    assert {"battery-lead-acid", "steel"} <= set(codes)

    response = client_for(processor).post(
        _url(processor.company), _processing_licence(categories=codes[:3]), format="multipart"
    )

    assert response.status_code == 201
    assert sorted(response.json()["categories"]) == sorted(codes[:3])


@pytest.mark.parametrize(
    ("override", "code", "field"),
    [
        ({"expires_on": None}, "validation_error", "expires_on"),
        ({"categories": None}, "validation_error", "categories"),
        ({"categories": ["steel", "unobtainium"]}, "validation_error", "categories"),
        ({"expires_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, "licence_expired", "expires_on"),
    ],
)
def test_processing_licence_rules(client_for, processor, override, code, field):
    before = _state()

    response = client_for(processor).post(_url(processor.company), _processing_licence(**override), format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert list(response.json()["fields"]) == [field]
    assert _state() == before


def test_a_licence_expiring_today_is_still_valid(client_for, processor):
    response = client_for(processor).post(
        _url(processor.company), _processing_licence(expires_on=timezone.localdate().isoformat()), format="multipart"
    )

    assert response.status_code == 201
    assert response.json()["is_expired"] is False


@pytest.mark.parametrize("role", [Company.Role.COLLECTOR, Company.Role.CARRIER])
def test_only_processors_upload_processing_licences(client_for, role):
    user = factories.make_member(role)
    before = _state()

    response = client_for(user).post(_url(user.company), _processing_licence(), format="multipart")

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_role"
    assert _state() == before


def test_an_expired_business_licence_is_refused(client_for, collector):
    before = _state()

    response = client_for(collector).post(
        _url(collector.company),
        {"kind": "business_licence", "file": upload("l.pdf", pdf_bytes()), "expires_on": "2020-01-01"},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "licence_expired"
    assert _state() == before


# --- listing and download ----------------------------------------------------------------------------


@pytest.fixture
def stored_pdf(client_for, processor):
    response = client_for(processor).post(
        _url(processor.company),
        {"kind": "business_licence", "file": upload("执照.pdf", pdf_bytes("processor"))},
        format="multipart",
    )
    assert response.status_code == 201
    return CompanyDocument.objects.get(pk=response.json()["id"])


def test_the_owner_downloads_its_document(client_for, processor, stored_pdf):
    response = client_for(processor).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == f'inline; filename="document-{stored_pdf.pk}.pdf"'
    assert b"".join(response.streaming_content) == pdf_bytes("processor")


def test_the_owner_downloads_an_image(client_for, collector):
    content = image_bytes("PNG")
    created = client_for(collector).post(
        _url(collector.company), {"kind": "other", "file": upload("p.png", content)}, format="multipart"
    )

    response = client_for(collector).get(created.json()["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == content


def test_a_colleague_downloads_the_document(client_for, processor, stored_pdf):
    colleague = factories.make_user(company=processor.company)

    response = client_for(colleague).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 200


def test_a_cooperative_admin_downloads_any_document(client_for, coop_admin, stored_pdf):
    response = client_for(coop_admin).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes("processor")


def test_another_company_gets_404(client_for, collector, stored_pdf):
    response = client_for(collector).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_user_without_a_company_gets_404(client_for, stored_pdf):
    loner = factories.make_user()

    response = client_for(loner).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 404


def test_anonymous_gets_401(stored_pdf):
    response = APIClient().get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_unknown_document_is_404(client_for, coop_admin):
    response = client_for(coop_admin).get("/api/v1/documents/999999/file/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_document_whose_file_is_gone_is_404(client_for, processor, stored_pdf):
    Path(stored_pdf.file.path).unlink()

    response = client_for(processor).get(f"/api/v1/documents/{stored_pdf.pk}/file/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_documents(client_for, processor, stored_pdf, coop_admin):
    licence = client_for(processor).post(_url(processor.company), _processing_licence(), format="multipart")

    for user in (processor, coop_admin):
        response = client_for(user).get(_url(processor.company))

        assert response.status_code == 200
        assert [(row["id"], row["kind"]) for row in response.json()] == [
            (stored_pdf.pk, "business_licence"),
            (licence.json()["id"], "processing_licence"),
        ]


def test_catalogue_rows_exist():
    assert Category.objects.filter(code__in=["battery-lead-acid", "steel"]).count() == 2


def test_an_image_declaring_gigapixels_is_refused(client_for, collector):
    before = _state()

    response = client_for(collector).post(
        _url(collector.company),
        {"kind": "business_licence", "file": upload("bomb.png", png_declaring(30000, 30000))},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "file_too_large"
    assert _state() == before
