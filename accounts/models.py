"""Users, their companies, and the companies' licence documents."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_credit_code, validate_phone
from core.districts import District

COOPERATIVE_ADMIN_PERMISSION = "accounts.act_as_cooperative_admin"


class Company(models.Model):
    class Role(models.TextChoices):
        COLLECTOR = "collector", _("collector")
        PROCESSOR = "processor", _("processor")
        CARRIER = "carrier", _("carrier")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending review")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")
        SUSPENDED = "suspended", _("suspended")

    name = models.CharField(_("company name"), max_length=120)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason of the last decision"), blank=True)
    district = models.CharField(_("district"), max_length=16, choices=District.choices)
    address = models.CharField(_("address"), max_length=200)
    contact_phone = models.CharField(_("contact phone"), max_length=24, validators=[validate_phone])
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["-created_at", "-id"]
        permissions = [("act_as_cooperative_admin", _("Act as a cooperative admin (review, moderate, suspend)"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "verified", "rejected", "suspended"]),
                name="company_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["collector", "processor", "carrier"]), name="company_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class User(AbstractUser):
    """A person. Belongs to at most one company; cooperative admins belong to none and hold
    the `act_as_cooperative_admin` permission instead."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    phone = models.CharField(_("phone"), max_length=24, blank=True, validators=[validate_phone])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # "Racer" and "racer" are one login name, also when they register at the same instant.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    @cached_property
    def is_cooperative_admin(self) -> bool:
        return self.is_active and self.has_perm(COOPERATIVE_ADMIN_PERMISSION)


def _document_path(instance: CompanyDocument, filename: str) -> str:
    # Never the uploader's file name on disk: it may carry anything.
    suffix = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(instance.content_type, "")
    return str(PurePath("private", "documents", str(instance.company_id), f"{uuid.uuid4().hex}{suffix}"))


class CompanyDocument(models.Model):
    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("business licence")
        PROCESSING_LICENCE = "processing_licence", _("processing licence")
        HAZARDOUS_PERMIT = "hazardous_permit", _("hazardous-goods transport permit")
        OTHER = "other", _("other")

    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=_document_path)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    licence_no = models.CharField(_("licence number"), max_length=64, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    categories = models.ManyToManyField(
        "recycling.Category", verbose_name=_("covered categories"), blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("licence document")
        verbose_name_plural = _("licence documents")
        ordering = ["company", "kind", "-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.company} · {self.get_kind_display()}"

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()
