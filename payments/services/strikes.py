"""Strikes and bidding bans.

Rule: a buyer that defaults gets a strike. Whenever a company has STRIKES_FOR_BAN (2) active
strikes within STRIKE_WINDOW (365 days), it may not bid or register for BAN_LENGTH (90 days)
from the strike that reached the count. A cooperative admin may reverse a strike, with a
reason (audit log); the ban is then recomputed from the strikes that remain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_cooperative_admin
from core.errors import conflict, forbidden, invalid, not_found
from core.services import audit_record
from core.sql import fetch_instances
from payments.models import CompanyStanding, Strike
from payments.services.common import BAN_LENGTH, STRIKE_WINDOW, STRIKES_FOR_BAN, notify_company
from recycling.models import Lot

# The stored ban of the company whose id is the one parameter, as a scalar subquery: the bid
# engine reads it with the lot, in the statement every bid starts with.
STORED_BAN_SQL = f"(SELECT s.banned_until FROM {CompanyStanding._meta.db_table} s WHERE s.company_id = %s)"  # noqa: S608
STORED_BAN_FIELD = CompanyStanding._meta.get_field("banned_until")


def ban_in_force(stored: dt.datetime | None) -> dt.datetime | None:
    """The stored ban's end while it lasts, else None."""
    return stored if stored is not None and stored > timezone.now() else None


def banned_until(company: Company | int) -> dt.datetime | None:
    company_id = company if isinstance(company, int) else company.pk
    # Hand-written SQL, without the ORM's compile (core/sql.py).
    rows = fetch_instances(
        CompanyStanding,
        f"SELECT id, banned_until FROM {CompanyStanding._meta.db_table} WHERE company_id = %s",  # noqa: S608
        [company_id],
    )
    return ban_in_force(rows[0].banned_until if rows else None)


_UNREAD: Any = object()


def bidding_ban_check(company: Company, *, stored: dt.datetime | None = _UNREAD) -> None:
    """403 `bidding_banned` while the company's strike ban lasts. `stored` is the ban as
    already read with STORED_BAN_SQL (without it, it is read here)."""
    until = banned_until(company) if stored is _UNREAD else ban_in_force(stored)
    if until is not None:
        raise forbidden(
            "bidding_banned",
            _("Your company may not bid until %(until)s after repeated payment defaults.")
            % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
        )


def _ban_from_strikes(company_id: int) -> dt.datetime | None:
    """The latest ban the active strikes earn: at each strike, count the active ones in the
    window before it; reaching the threshold bans for BAN_LENGTH from that strike."""
    times = list(
        Strike.objects.filter(company_id=company_id, reversed_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
    )
    until = None
    for index, at in enumerate(times):
        in_window = [t for t in times[: index + 1] if t > at - STRIKE_WINDOW]
        if len(in_window) >= STRIKES_FOR_BAN:
            until = at + BAN_LENGTH
    return until


def standing_recompute(*, company_id: int) -> dt.datetime | None:
    """Store the ban the active strikes earn (called inside the strike's transaction)."""
    until = _ban_from_strikes(company_id)
    standing, _created = CompanyStanding.objects.select_for_update().get_or_create(company_id=company_id)
    if standing.banned_until != until:
        standing.banned_until = until
        standing.save(update_fields=["banned_until", "updated_at"])
    return until


@transaction.atomic
def strike_add(*, company_id: int, lot: Lot | None, reason: str, actor: Any = None) -> Strike:
    """Give a strike (with the default that earns it) and escalate to a ban when earned."""
    before = banned_until(company_id)
    strike = Strike.objects.create(company_id=company_id, lot=lot, reason=reason)
    until = standing_recompute(company_id=company_id)
    company = Company.objects.get(pk=company_id)
    audit_record(
        actor=actor,
        action="payments.strike",
        target_type="company",
        target_id=company_id,
        target_label=company.name,
        after={
            "strike": strike.pk,
            "lot": lot.pk if lot else None,
            "banned_until": until.isoformat() if until else None,
        },
        reason=reason,
    )
    if until is not None and until > timezone.now() and before != until:
        notify_company(
            company_id,
            kind="bidding_banned",
            title=_("Your company may not bid until %(until)s")
            % {"until": timezone.localtime(until).strftime("%Y-%m-%d")},
            body=_("After %(n)d payment defaults within a year, bidding is suspended for 90 days.")
            % {"n": STRIKES_FOR_BAN},
        )
    return strike


@transaction.atomic
def strike_reverse(*, actor: Any, strike_id: int, reason: str) -> Strike:
    """A cooperative admin takes a strike back (with a reason); the ban is recomputed."""
    require_cooperative_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Give a reason for reversing the strike."), reason=_("Required."))
    strike = Strike.objects.select_for_update().select_related("company").filter(pk=strike_id).first()
    if strike is None:
        raise not_found(_("No such strike."))
    if strike.reversed_at is not None:
        raise conflict("already_reversed", _("This strike was already reversed."))
    before = banned_until(strike.company_id)
    strike.reversed_at, strike.reversed_by, strike.reversal_reason = timezone.now(), actor, reason
    strike.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    until = standing_recompute(company_id=strike.company_id)
    audit_record(
        actor=actor,
        action="payments.strike_reverse",
        target_type="company",
        target_id=strike.company_id,
        target_label=strike.company.name,
        before={"strike": strike.pk, "banned_until": before.isoformat() if before else None},
        after={"strike": strike.pk, "banned_until": until.isoformat() if until else None},
        reason=reason,
    )
    return strike
