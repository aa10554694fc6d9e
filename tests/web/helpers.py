"""Small builders shared by the page tests."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_upload(name: str = "licence.png") -> SimpleUploadedFile:
    """A real, tiny PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (31, 122, 77)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
