"""The one domain exception type.

Services raise `DomainError` with a stable `code` (the codes of shared/API.md); the DRF
exception handler and the WebSocket consumers turn it into the wire format.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 409

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.code = code
        self.detail = str(detail)
        if status is not None:
            self.status = status
        self.fields = fields
        # Machine-readable facts beside the human detail (bid_too_low's min_next_bid).
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail, **self.extra}
        if self.fields:
            body["fields"] = self.fields
        return body

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.detail!r}, status={self.status})"


def invalid(code: str, detail: str, **fields: Any) -> DomainError:
    """A 400 for input a service refuses after the serializer accepted its shape."""
    return DomainError(code, detail, status=400, fields={k: [str(v)] for k, v in fields.items()} or None)


def forbidden(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status=403)


def conflict(code: str, detail: str, **extra: Any) -> DomainError:
    return DomainError(code, detail, status=409, extra=extra)


def not_found(detail: str = "Not found.") -> DomainError:
    return DomainError("not_found", detail, status=404)
