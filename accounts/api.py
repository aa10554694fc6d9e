"""Accounts API (shared/API.md, "Accounts and companies"). Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Company, CompanyDocument, User
from core.districts import District
from core.drf import error_responses, query_params
from core.errors import invalid, not_found
from core.parsers import JSONParser


class CompanyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    # Blank is let through: the service answers `invalid_credit_code` for any code it refuses.
    credit_code = serializers.CharField(max_length=40, allow_blank=True)
    role = serializers.ChoiceField(choices=Company.Role.choices)
    district = serializers.ChoiceField(choices=District.choices)
    address = serializers.CharField(max_length=200)
    contact_phone = serializers.CharField(max_length=24)


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    email = serializers.EmailField()
    company = CompanyInputSerializer()


class CompanyBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "role", "status"]


class DocumentSerializer(serializers.ModelSerializer):
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    url = serializers.SerializerMethodField()
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = CompanyDocument
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size",
            "licence_no",
            "expires_on",
            "is_expired",
            "categories",
            "uploaded_at",
            "url",
        ]

    def get_url(self, document: CompanyDocument) -> str:
        # The route's slash is optional, so reverse() leaves it off; API.md paths end in one.
        return reverse("api:document-file", args=[document.pk]).rstrip("/") + "/"


class CompanySerializer(serializers.ModelSerializer):
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "credit_code",
            "role",
            "status",
            "status_reason",
            "district",
            "address",
            "contact_phone",
            "created_at",
            "reviewed_at",
            "documents",
        ]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.EmailField()
    company = CompanyBriefSerializer(allow_null=True)
    is_cooperative_admin = serializers.BooleanField()


# Component names say whose decision it is: other apps have decisions and reasons of their own.
@extend_schema_serializer(component_name="CompanyDecision")
class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


@extend_schema_serializer(component_name="CompanyReason")
class ReasonSerializer(serializers.Serializer):
    # Optional here so that a missing reason is the service's `reason_required`, as for a rejection.
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: MeSerializer, **error_responses(400, 409, 429)},
        summary="Register a user and its company (starts pending)",
    )
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = data.validated_data["company"]
        user = services.user_register(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            email=data.validated_data["email"],
            company_name=company["name"],
            credit_code=company["credit_code"],
            role=company["role"],
            district=company["district"],
            address=company["address"],
            contact_phone=company["contact_phone"],
        )
        return Response(_me(user), status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            **error_responses(400, 429),
        },
        summary="Exchange username and password for an API token",
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise invalid(
                "validation_error", _("Send username and password."), username=_("Required."), password=_("Required.")
            )
        if "\x00" in username or "\x00" in password:
            # No account has one, and PostgreSQL would refuse to even look it up.
            raise invalid("invalid_credentials", _("Wrong username or password."))
        user = authenticate(request, username=User.normalize_username(username), password=password)  # as the page
        if user is None:
            raise invalid("invalid_credentials", _("Wrong username or password."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


def _me(user) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "company": CompanyBriefSerializer(user.company).data if user.company_id else None,
        "is_cooperative_admin": user.is_cooperative_admin,
    }


class MeApi(APIView):
    @extend_schema(responses={200: MeSerializer, **error_responses(401)}, summary="Who am I")
    def get(self, request):
        return Response(_me(request.user))


class CompanyListApi(ListAPIView):
    """Cooperative admins only: companies, filtered by status (the review queue is ?status=pending)."""

    serializer_class = CompanySerializer

    @extend_schema(
        responses={200: CompanySerializer(many=True), **error_responses(400, 401, 403)},
        parameters=[
            OpenApiParameter("status", enum=Company.Status.values),
            OpenApiParameter("role", enum=Company.Role.values),
            OpenApiParameter("q", str, description="name contains, or exact credit code"),
        ],
    )
    def get(self, request, *args, **kwargs):
        services.require_cooperative_admin(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = query_params(self.request, "status", "role", "q")
        if params["status"] and params["status"] not in Company.Status.values:
            raise invalid("validation_error", _("Unknown status."), status=_("Unknown status."))
        if params["role"] and params["role"] not in Company.Role.values:
            raise invalid("validation_error", _("Unknown role."), role=_("Unknown role."))
        return selectors.company_list(status=params["status"], role=params["role"], q=params["q"]).prefetch_related(
            "documents__categories"
        )


def _visible_company(user, company_id: int) -> Company:
    company = Company.objects.prefetch_related("documents__categories").filter(pk=company_id).first()
    if company is None or not (user.is_cooperative_admin or user.company_id == company.pk):
        raise not_found(_("No such company."))
    return company


class CompanyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    credit_code = serializers.CharField(max_length=40, required=False)
    district = serializers.ChoiceField(choices=District.choices, required=False)
    address = serializers.CharField(max_length=200, required=False)
    contact_phone = serializers.CharField(max_length=24, required=False)


class CompanyDetailApi(APIView):
    @extend_schema(
        responses={200: CompanySerializer, **error_responses(401, 404)},
        summary="A company (its members and cooperative admins)",
    )
    def get(self, request, company_id: int):
        return Response(CompanySerializer(_visible_company(request.user, company_id)).data)

    @extend_schema(
        request=CompanyUpdateSerializer,
        responses={200: CompanySerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Edit your own company",
    )
    def patch(self, request, company_id: int):
        data = CompanyUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.company_update(actor=request.user, company_id=company_id, **data.validated_data)
        return Response(CompanySerializer(_visible_company(request.user, company_id)).data)


class CompanyReviewApi(APIView):
    @extend_schema(
        request=DecisionSerializer,
        responses={200: CompanySerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Approve or reject a pending company",
    )
    def post(self, request, company_id: int):
        data = DecisionSerializer(data=request.data)
        services.require_cooperative_admin(request.user)
        data.is_valid(raise_exception=True)
        company = services.company_review(actor=request.user, company_id=company_id, **data.validated_data)
        return Response(CompanySerializer(_visible_company(request.user, company.pk)).data)


class CompanySuspendApi(APIView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: CompanySerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Suspend a company",
    )
    def post(self, request, company_id: int):
        services.require_cooperative_admin(request.user)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = services.company_suspend(actor=request.user, company_id=company_id, **data.validated_data)
        return Response(CompanySerializer(_visible_company(request.user, company.pk)).data)


class CompanyReinstateApi(APIView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: CompanySerializer, **error_responses(400, 401, 403, 404, 409)},
        summary="Lift a suspension",
    )
    def post(self, request, company_id: int):
        services.require_cooperative_admin(request.user)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = services.company_reinstate(actor=request.user, company_id=company_id, **data.validated_data)
        return Response(CompanySerializer(_visible_company(request.user, company.pk)).data)


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CompanyDocument.Kind.choices)
    file = serializers.FileField()
    licence_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    # Categories by their catalogue `code` (as GET /api/v1/categories/ lists them, without ids).
    categories = serializers.ListField(child=serializers.SlugField(max_length=40), required=False, default=list)

    def validate_categories(self, codes: list[str]) -> list[int]:
        from recycling.models import Category

        ids = dict(Category.objects.filter(code__in=codes, active=True).values_list("code", "pk"))
        unknown = sorted({code for code in codes if code not in ids})
        if unknown:
            raise serializers.ValidationError(_("Unknown category: %(codes)s.") % {"codes": ", ".join(unknown)})
        return list(dict.fromkeys(ids[code] for code in codes))


class CompanyDocumentsApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        responses={200: DocumentSerializer(many=True), **error_responses(401, 404)},
        summary="A company's licence documents",
    )
    def get(self, request, company_id: int):
        company = _visible_company(request.user, company_id)
        return Response(DocumentSerializer(selectors.company_documents(company=company), many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404)},
        summary="Upload a licence document (PDF/JPEG/PNG, ≤ 10 MB)",
    )
    def post(self, request, company_id: int):
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        document = services.document_upload(
            actor=request.user,
            company_id=company_id,
            kind=values["kind"],
            upload=values["file"],
            licence_no=values["licence_no"],
            expires_on=values["expires_on"],
            category_ids=values["categories"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentFileApi(APIView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            **error_responses(401, 404),
        },
        summary="Download a licence document",
    )
    def get(self, request, document_id: int):
        document = selectors.document_visible_to(user=request.user, document_id=document_id)
        if document is None:
            raise not_found(_("No such document."))
        try:
            return document_response(document)
        except FileNotFoundError:
            raise not_found(_("No such document.")) from None


def document_response(document: CompanyDocument) -> FileResponse:
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}{_suffix(document)}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _suffix(document: CompanyDocument) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(document.content_type, "")
