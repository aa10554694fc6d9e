"""core.files.validate_document: uploads are judged by their content."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import DomainError
from core.files import JPEG, PDF, PNG, validate_document
from tests.accounts.uploads import image_bytes, pdf_bytes, png_declaring


def _upload(content: bytes, name: str = "f") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("content", "kind"), [(pdf_bytes(), PDF), (image_bytes("PNG"), PNG), (image_bytes("JPEG"), JPEG)]
)
def test_accepted_kinds(content, kind):
    upload = _upload(content)

    assert validate_document(upload) == kind
    assert upload.tell() == 0


def test_a_decompression_bomb_is_refused_not_a_crash():
    with pytest.raises(DomainError) as caught:
        validate_document(_upload(png_declaring(30000, 30000)))

    assert (caught.value.status, caught.value.code) == (400, "file_too_large")
    assert list(caught.value.fields) == ["file"]


def test_a_damaged_image_does_not_leak_internals():
    with pytest.raises(DomainError) as caught:
        validate_document(_upload(image_bytes("PNG")[:40]), field="photo")

    assert caught.value.code == "unsupported_file_type"
    assert list(caught.value.fields) == ["photo"]
    assert "BytesIO" not in caught.value.fields["photo"][0]


def test_allowed_kinds_can_be_narrowed():
    with pytest.raises(DomainError) as caught:
        validate_document(_upload(pdf_bytes()), allowed=(JPEG, PNG))

    assert caught.value.code == "unsupported_file_type"
