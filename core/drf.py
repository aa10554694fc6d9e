"""API plumbing shared by every app: the error format, pagination, optional-slash router."""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from core.errors import DomainError

# Error codes DRF and Django produce for field validation. Any other code on a field error
# is one of ours (e.g. `invalid_credit_code`) and becomes the top-level `code`.
GENERIC_FIELD_CODES = frozenset(
    {
        "invalid",
        "required",
        "null",
        "blank",
        "max_length",
        "min_length",
        "max_value",
        "min_value",
        "invalid_choice",
        "not_a_list",
        "not_a_dict",
        "empty",
        "does_not_exist",
        "incorrect_type",
        "max_digits",
        "max_decimal_places",
        "max_whole_digits",
        "max_string_length",
        "date",
        "datetime",
        "make_aware",
        "overflow",
        "unique",
        "no_name",
        "invalid_image",
        "not_a_number",
        "password_too_short",
        "password_too_common",
        "password_entirely_numeric",
        "password_too_similar",
        "null_characters_not_allowed",
        "surrogate_characters_not_allowed",
        "no_match",
        "incorrect_match",
        "step_size",
    }
)

STATUS_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{'company': {'credit_code': ['bad']}} -> {'company.credit_code': ['bad']}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if prefix and key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix  # {"company": {"non_field_errors": [...]}} is about "company" itself
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _first_specific_code(codes: Any) -> str | None:
    if isinstance(codes, dict):
        for value in codes.values():
            found = _first_specific_code(value)
            if found:
                return found
    elif isinstance(codes, list):
        for value in codes:
            found = _first_specific_code(value)
            if found:
                return found
    elif isinstance(codes, str) and codes not in GENERIC_FIELD_CODES:
        return codes
    return None


def error_body(code: str, detail: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every API error as {"code", "detail", "fields"?} (shared/API.md, Conventions)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's handler500 answers (JSON for /api/).

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        code = _first_specific_code(exc.get_codes()) or "validation_error"
        first = next(iter(fields.values()))[0] if fields else _("Invalid input.")
        detail = first if code != "validation_error" else _("Invalid input: %(first)s") % {"first": first}
        body = error_body(code, detail, fields)
    else:
        code = STATUS_CODES.get(type(exc))
        if code is None:
            for klass, name in STATUS_CODES.items():
                if isinstance(exc, klass):
                    code = name
                    break
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        codes = exc.get_codes()
        if isinstance(codes, str) and codes not in GENERIC_FIELD_CODES and code is None:
            code = codes
        body = error_body(code or "error", str(detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def query_params(request, *names: str) -> dict[str, str | None]:
    """The named query parameters ("" counts as absent), or a 400 naming any that holds a NUL
    character: PostgreSQL refuses NUL in text, so it would otherwise surface as a 500."""
    values = {name: request.query_params.get(name) or None for name in names}
    bad = {name: [_("Null characters are not allowed.")] for name, value in values.items() if value and "\x00" in value}
    if bad:
        raise exceptions.ValidationError(bad)
    return values


class ErrorSerializer(serializers.Serializer):
    """The one error shape of shared/API.md (documented in the schema; never used to render)."""

    code = serializers.CharField(help_text="snake_case, stable: the codes of API.md")
    detail = serializers.CharField(help_text="a human message in the request's language")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='validation errors only: {"company.credit_code": ["…"]}',
    )


ERROR_MEANINGS = {
    400: "invalid input",
    401: "not logged in",
    403: "not allowed",
    404: "not found or not visible to you",
    409: "conflicts with the current state",
    429: "too many requests",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the error statuses an operation answers: `{200: X, **error_responses(400, 404)}`."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[code]) for code in statuses}


@functools.cache  # one component per serializer, however many operations list it
def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of one page of `serializer_class`, for an APIView that paginates by hand
    (a ListAPIView gets it from drf-spectacular by itself)."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        f"Paginated{name}List",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return raw


class Router(SimpleRouter):
    """Routes that answer with or without the trailing slash (no APPEND_SLASH redirect of a POST)."""

    def __init__(self) -> None:
        super().__init__(trailing_slash="/?")


def ok(data: Any = None, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(data, status=status_code)
