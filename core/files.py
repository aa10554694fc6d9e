"""Uploaded files are judged by their content, never by their name or declared type."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from core.errors import invalid

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def validate_document(upload, *, field: str = "file", allowed: tuple[str, ...] = (PDF, JPEG, PNG)) -> str:
    """Return the content type of a PDF/JPEG/PNG upload ≤ MAX_UPLOAD_BYTES, or raise a 400."""
    if upload.size > settings.MAX_UPLOAD_BYTES:
        raise invalid(
            "file_too_large",
            _("The file is larger than %(mb)d MB.") % {"mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024)},
            **{field: _("File too large.")},
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind not in allowed:
        raise invalid(
            "unsupported_file_type",
            _("Only PDF, JPEG or PNG files are accepted; this file's content is not one of them."),
            **{field: _("Unsupported file type.")},
        )
    if kind in (JPEG, PNG):
        try:
            with Image.open(io.BytesIO(upload.read())) as image:
                image.verify()
        except Image.DecompressionBombError as exc:
            # A few kilobytes can declare gigapixels; anything that decodes it later would choke.
            raise invalid(
                "file_too_large",
                _("The image has too many pixels (at most %(mp)d megapixels).")
                % {"mp": (Image.MAX_IMAGE_PIXELS or 0) * 2 // 1_000_000},
                **{field: _("Image too large.")},
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise invalid("unsupported_file_type", _("The image is damaged."), **{field: _("Damaged image.")}) from exc
        finally:
            upload.seek(0)
    elif b"%%EOF" not in _tail(upload):
        raise invalid("unsupported_file_type", _("The PDF is incomplete."), **{field: _("Incomplete PDF.")})
    return kind


def _tail(upload, size: int = 2048) -> bytes:
    upload.seek(max(upload.size - size, 0))
    tail = upload.read()
    upload.seek(0)
    return tail
