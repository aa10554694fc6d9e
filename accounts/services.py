"""Every write to users, companies and their documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from accounts.models import Company, CompanyDocument, User
from accounts.validators import credit_code_error, normalize_credit_code, normalize_phone, validate_phone
from core.districts import District
from core.errors import conflict, forbidden, invalid, not_found
from core.files import validate_document
from core.models import AuditEntry, Notification
from core.services import audit_record, notify

RESERVED_USERNAMES = frozenset({"system"})


def require_cooperative_admin(user: Any) -> None:
    if not (user and user.is_authenticated and user.is_cooperative_admin):
        raise forbidden("not_cooperative_admin", _("Only cooperative admins may do this."))


def require_verified_company(user: Any, *, role: str | None = None) -> Company:
    """The acting user's company, verified and (optionally) of `role`; else 403 per API.md."""
    company = getattr(user, "company", None) if user and user.is_authenticated else None
    if company is None or company.status != Company.Status.VERIFIED:
        raise forbidden("company_not_verified", _("Your company must be verified by the cooperative first."))
    if role is not None and company.role != role:
        raise forbidden(
            "wrong_role",
            _("Only %(role)s companies may do this.") % {"role": Company.Role(role).label},
        )
    return company


def lock_company(company_id: int) -> Company:
    """Lock a company row for a status change (always through here, so locks come in one order)."""
    try:
        return Company.objects.select_for_update().get(pk=company_id)
    except Company.DoesNotExist:
        raise not_found(_("No such company.")) from None


def _require_member(actor: Any, company: Company) -> None:
    """Only a company's own members act for it. Cooperative admins see every company, so to them
    this is a refusal (403); to anyone else another company does not exist (404)."""
    if getattr(actor, "company_id", None) == company.pk:
        return
    if actor is not None and actor.is_authenticated and actor.is_cooperative_admin:
        raise forbidden("permission_denied", _("Only the company's own members may do this."))
    raise not_found(_("No such company."))


def _company_snapshot(company: Company) -> dict[str, Any]:
    return {"status": company.status, "status_reason": company.status_reason}


def _clean_company_fields(
    *, name: str, credit_code: str, role: str, district: str, address: str, contact_phone: str, prefix: str
) -> dict[str, str]:
    """Normalised company fields, or a 400 naming the field as the request did (`prefix`:
    "company." in a registration, where the company is nested; "" in a company's own edit)."""
    fields: dict[str, str] = {}
    code = normalize_credit_code(credit_code)
    error = credit_code_error(code)
    if error:
        raise invalid("invalid_credit_code", error, **{f"{prefix}credit_code": error})
    if role not in Company.Role.values:
        raise invalid("validation_error", _("Unknown role."), **{f"{prefix}role": _("Unknown role.")})
    if district not in District.values:
        raise invalid("validation_error", _("Unknown district."), **{f"{prefix}district": _("Unknown district.")})
    phone = normalize_phone(contact_phone)
    try:
        validate_phone(phone)
    except DjangoValidationError as exc:
        raise invalid("invalid_phone", exc.messages[0], **{f"{prefix}contact_phone": exc.messages[0]}) from None
    for key, value in (("name", name), ("address", address)):
        if not (value or "").strip():
            raise invalid("validation_error", _("This field is required."), **{f"{prefix}{key}": _("Required.")})
    fields.update(
        name=name.strip(), credit_code=code, role=role, district=district, address=address.strip(), contact_phone=phone
    )
    return fields


@transaction.atomic
def user_register(
    *,
    username: str,
    password: str,
    email: str,
    company_name: str,
    credit_code: str,
    role: str,
    district: str,
    address: str,
    contact_phone: str,
) -> User:
    """A new user and its company, which starts `pending` until the cooperative reviews it."""
    company_fields = _clean_company_fields(
        name=company_name,
        credit_code=credit_code,
        role=role,
        district=district,
        address=address,
        contact_phone=contact_phone,
        prefix="company.",
    )
    # As Django's log-in form reads it (NFKC): "ｆｏｏ" is "foo", so nobody registers a name
    # that logs in as another, or that the log-in page cannot find.
    username = User.normalize_username(username)
    # "system" is how the audit log names the platform itself; no person may appear as it.
    if username.lower() in RESERVED_USERNAMES or User.objects.filter(username__iexact=username).exists():
        raise conflict("duplicate_username", _("This username is taken."))
    if Company.objects.filter(credit_code=company_fields["credit_code"]).exists():
        raise conflict("duplicate_company", _("A company with this credit code is already registered."))
    user = User(username=username, email=email)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise invalid("invalid_password", " ".join(exc.messages), password=" ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            company = Company.objects.create(**company_fields)
            user.company = company
            user.set_password(password)
            user.save()
    except IntegrityError:
        # Two registrations at the same instant: the unique indexes decide which one lost.
        if User.objects.filter(username__iexact=username).exists():
            raise conflict("duplicate_username", _("This username is taken.")) from None
        raise conflict("duplicate_company", _("A company with this credit code is already registered.")) from None
    audit_record(
        actor=user,
        action="company.register",
        target_type="company",
        target_id=company.pk,
        target_label=company.name,
        after={"status": company.status, "role": company.role, "credit_code": company.credit_code},
    )
    return user


def _platform_text(message: Any, **params: Any) -> str:
    """A notification text in the platform's language (zh-Hans), whatever the admin's UI language."""
    with override(settings.LANGUAGE_CODE):
        return str(message) % params


def _notify_company(company: Company, *, kind: str, title: Any, body: Any) -> None:
    notify(users=company.members.all(), kind=kind, title=title, body=body, url=reverse("accounts:company"))


@transaction.atomic
def company_review(*, actor: Any, company_id: int, decision: str, reason: str = "") -> Company:
    """pending → verified (approve) | rejected (reject, with the reason shown to the company)."""
    require_cooperative_admin(actor)
    if decision not in ("approve", "reject"):
        raise invalid("validation_error", _("Decision must be approve or reject."), decision=_("Unknown decision."))
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise invalid("reason_required", _("Give the company a reason for the rejection."), reason=_("Required."))
    company = lock_company(company_id)
    if company.status != Company.Status.PENDING:
        raise conflict(
            "bad_transition",
            _("Only pending companies can be reviewed; this one is %(status)s.")
            % {"status": company.get_status_display()},
        )
    before = _company_snapshot(company)
    company.status = Company.Status.VERIFIED if decision == "approve" else Company.Status.REJECTED
    company.status_reason = reason
    company.reviewed_at = timezone.now()
    company.save(update_fields=["status", "status_reason", "reviewed_at"])
    audit_record(
        actor=actor,
        action=f"company.{decision}",
        target_type="company",
        target_id=company.pk,
        target_label=company.name,
        before=before,
        after=_company_snapshot(company),
        reason=reason,
    )
    if decision == "approve":
        _notify_company(
            company,
            kind="company_verified",
            title=gettext_lazy("Your company has been verified"),
            body=gettext_lazy("The cooperative verified your company. You can now use the platform in full."),
        )
    else:
        _notify_company(
            company,
            kind="company_rejected",
            title=gettext_lazy("Your company registration was rejected"),
            body=_platform_text(
                gettext_lazy("Reason: %(reason)s. Correct your details or documents and submit again."), reason=reason
            ),
        )
    return company


@transaction.atomic
def company_suspend(*, actor: Any, company_id: int, reason: str) -> Company:
    """Suspend a cheater: it can no longer bid or list; what it did stays on record."""
    require_cooperative_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Give a reason for the suspension."), reason=_("Required."))
    company = lock_company(company_id)
    if company.status not in (Company.Status.VERIFIED, Company.Status.PENDING):
        raise conflict(
            "bad_transition",
            _("A %(status)s company cannot be suspended.") % {"status": company.get_status_display()},
        )
    before = _company_snapshot(company)
    company.status = Company.Status.SUSPENDED
    company.status_reason = reason
    company.reviewed_at = timezone.now()
    company.save(update_fields=["status", "status_reason", "reviewed_at"])
    audit_record(
        actor=actor,
        action="company.suspend",
        target_type="company",
        target_id=company.pk,
        target_label=company.name,
        before=before,
        after=_company_snapshot(company),
        reason=reason,
    )
    _notify_company(
        company,
        kind="company_suspended",
        title=gettext_lazy("Your company has been suspended"),
        body=_platform_text(gettext_lazy("Reason: %(reason)s. Contact the cooperative to resolve it."), reason=reason),
    )
    return company


def _status_before_suspension(company: Company) -> str:
    """The audit log is the record of every decision: its last suspension says where we were."""
    last = (
        AuditEntry.objects.filter(target_type="company", target_id=str(company.pk), action="company.suspend")
        .order_by("-at", "-id")
        .first()
    )
    status = (last.before or {}).get("status") if last is not None else None
    return status if status == Company.Status.PENDING else Company.Status.VERIFIED


@transaction.atomic
def company_reinstate(*, actor: Any, company_id: int, reason: str) -> Company:
    """Lift a suspension: back to the status the company had when it was suspended (verified,
    or pending: a suspension must not be a way around the review)."""
    require_cooperative_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Give a reason for lifting the suspension."), reason=_("Required."))
    company = lock_company(company_id)
    if company.status != Company.Status.SUSPENDED:
        raise conflict("bad_transition", _("Only a suspended company can be reinstated."))
    before = _company_snapshot(company)
    company.status = _status_before_suspension(company)
    company.status_reason = reason
    company.reviewed_at = timezone.now()
    company.save(update_fields=["status", "status_reason", "reviewed_at"])
    audit_record(
        actor=actor,
        action="company.reinstate",
        target_type="company",
        target_id=company.pk,
        target_label=company.name,
        before=before,
        after=_company_snapshot(company),
        reason=reason,
    )
    _notify_company(
        company,
        kind="company_reinstated",
        title=gettext_lazy("Your company's suspension has been lifted"),
        body=_platform_text(gettext_lazy("Reason: %(reason)s."), reason=reason),
    )
    return company


@transaction.atomic
def company_update(*, actor: Any, company_id: int, **changes: str) -> Company:
    """The company's own edit. Contact details may change at any time; name and credit code
    only while the company is pending or rejected (a verified identity is what was reviewed).
    A rejected company that edits goes back to `pending` for another review."""
    company = lock_company(company_id)
    _require_member(actor, company)
    if company.status == Company.Status.SUSPENDED:
        raise conflict("company_suspended", _("A suspended company cannot change its details."))
    # Resending the unchanged name or code (a full form) is not a change of identity.
    identity = {
        key
        for key, value in changes.items()
        if value is not None
        and (
            (key == "name" and value.strip() != company.name)
            or (key == "credit_code" and normalize_credit_code(value) != company.credit_code)
        )
    }
    if identity and company.status not in (Company.Status.PENDING, Company.Status.REJECTED):
        raise conflict("not_editable", _("The name and credit code of a verified company cannot change."))
    fields = _clean_company_fields(
        name=changes.get("name") or company.name,
        credit_code=changes.get("credit_code") or company.credit_code,
        role=company.role,
        district=changes.get("district") or company.district,
        address=changes.get("address") or company.address,
        contact_phone=changes.get("contact_phone") or company.contact_phone,
        prefix="",
    )
    if (
        fields["credit_code"] != company.credit_code
        and Company.objects.filter(credit_code=fields["credit_code"]).exclude(pk=company.pk).exists()
    ):
        raise conflict("duplicate_company", _("A company with this credit code is already registered."))
    before = {key: getattr(company, key) for key in fields} | _company_snapshot(company)
    for key, value in fields.items():
        setattr(company, key, value)
    if company.status == Company.Status.REJECTED:
        company.status = Company.Status.PENDING
    try:
        company.save()
    except IntegrityError:
        # Another company registered the same code since the check above: the unique index decides.
        raise conflict("duplicate_company", _("A company with this credit code is already registered.")) from None
    after = {key: getattr(company, key) for key in fields} | _company_snapshot(company)
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    if changed_before:
        audit_record(
            actor=actor,
            action="company.update",
            target_type="company",
            target_id=company.pk,
            target_label=company.name,
            before=changed_before,
            after={k: after[k] for k in changed_before},
        )
    return company


@transaction.atomic
def document_upload(
    *,
    actor: Any,
    company_id: int,
    kind: str,
    upload: Any,
    licence_no: str = "",
    expires_on: dt.date | None = None,
    category_ids: Iterable[int] = (),
) -> CompanyDocument:
    """A licence document, checked by content (PDF/JPEG/PNG, ≤ 10 MB)."""
    company = lock_company(company_id)
    _require_member(actor, company)
    if kind not in CompanyDocument.Kind.values:
        raise invalid("validation_error", _("Unknown document kind."), kind=_("Unknown document kind."))
    category_ids = list(category_ids or ())
    if kind == CompanyDocument.Kind.PROCESSING_LICENCE:
        if company.role != Company.Role.PROCESSOR:
            raise forbidden("wrong_role", _("Only processors upload processing licences."))
        if expires_on is None:
            raise invalid(
                "validation_error", _("A processing licence needs its expiry date."), expires_on=_("Required.")
            )
        if not category_ids:
            raise invalid("validation_error", _("Name the categories the licence covers."), categories=_("Required."))
    if expires_on is not None and expires_on < timezone.localdate():
        raise invalid("licence_expired", _("This licence has already expired."), expires_on=_("In the past."))
    content_type = validate_document(upload)
    from recycling.models import Category

    categories = list(Category.objects.filter(pk__in=category_ids))
    if len(categories) != len(set(category_ids)):
        raise invalid("validation_error", _("Unknown category."), categories=_("Unknown category."))
    document = CompanyDocument(
        company=company,
        kind=kind,
        original_name=str(getattr(upload, "name", ""))[:200],
        content_type=content_type,
        size=upload.size,
        licence_no=licence_no.strip(),
        expires_on=expires_on,
        uploaded_by=actor,
    )
    document.file = upload
    document.save()
    if categories:
        document.categories.set(categories)
    audit_record(
        actor=actor,
        action="document.upload",
        target_type="company",
        target_id=company.pk,
        target_label=company.name,
        after={"document": document.pk, "kind": kind, "licence_no": document.licence_no},
    )
    return document


def user_set_admin(*, user: User, grant: bool = True) -> User:
    """Make `user` a cooperative admin (a permission, not a company)."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name="cooperative_admins")
    permission = Permission.objects.get(codename="act_as_cooperative_admin", content_type__app_label="accounts")
    group.permissions.add(permission)
    if grant:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    user.__dict__.pop("is_cooperative_admin", None)
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


# Hand-written SQL (core/sql.py): this runs with every bid that outbids someone.
_NOTICE, _USER = Notification._meta.db_table, User._meta.db_table
_USERS_WITHOUT_UNREAD_SQL = f"""
    SELECT u.* FROM {_USER} u
    WHERE u.company_id = %s AND u.is_active AND NOT EXISTS (
        SELECT 1 FROM {_NOTICE} n
        WHERE n.user_id = u.id AND n.kind = %s AND n.url = %s AND n.read_at IS NULL)
"""  # noqa: S608 - table names from the models, no input
_REFRESH_UNREAD_SQL = f"""
    UPDATE {_NOTICE} SET title = %s, body = %s, created_at = %s
    WHERE kind = %s AND url = %s AND read_at IS NULL
      AND user_id IN (SELECT id FROM {_USER} WHERE company_id = %s)
"""  # noqa: S608
# PostgreSQL: both in one statement. The users whose unread notice was brought up to date are
# the ones the update returns; the others get a new notice.
_REFRESH_UNREAD_RETURNING_FRESH_SQL = f"""
    WITH refreshed AS ({_REFRESH_UNREAD_SQL} RETURNING user_id)
    SELECT u.* FROM {_USER} u
    WHERE u.company_id = %s AND u.is_active AND u.id NOT IN (SELECT user_id FROM refreshed)
"""  # noqa: S608


class CompanyNotice:
    """A notice to a company's users of news that supersedes itself, such as being outbid on a
    lot: a user whose last notice of this kind and link is still unread gets it brought up to
    date (new text, new time) instead of one more notice and one more e-mail; the others get
    a new notice and an e-mail (`notify`).

    In a busy auction a bidder is outbid many times a minute. One notice per lot until it is
    read (as eBay does with its e-mails) keeps the inbox useful, and keeps the bid that
    outbids someone at one more statement (two on SQLite) and no e-mail unless the notice is
    news. The bid engine sends `statements()` in the round trip of its own writes
    (core.sql.execute_together) and calls `finish()` with their results, in its transaction.
    """

    def __init__(self, company_id: int, *, kind: str, title: Any, body: Any = "", url: str = "") -> None:
        with override(settings.LANGUAGE_CODE):
            self.title, self.body = str(title), str(body)
        self.company_id, self.kind, self.url = company_id, kind, url

    def statements(self) -> list[tuple]:
        from django.db import connection

        refresh = [self.title, self.body, timezone.now(), self.kind, self.url, self.company_id]
        if connection.vendor == "postgresql":
            return [(_REFRESH_UNREAD_RETURNING_FRESH_SQL, [*refresh, self.company_id], User)]
        return [
            (_USERS_WITHOUT_UNREAD_SQL, [self.company_id, self.kind, self.url], User),
            (_REFRESH_UNREAD_SQL, refresh),
        ]

    def finish(self, results: list[list]) -> None:
        """New notices (their e-mails queued with them) for the users who had no unread one."""
        fresh = results[0]
        if fresh:
            notify(users=fresh, kind=self.kind, title=self.title, body=self.body, url=self.url)
