"""Test data builders. Plain functions: a test states what it needs and gets real rows."""

from __future__ import annotations

import itertools
import random

from accounts.models import Company, User
from accounts.services import user_set_admin
from accounts.validators import CREDIT_CODE_ALPHABET, credit_code_check_char

PASSWORD = "Correct-Horse-42"
_counter = itertools.count(1)


def credit_code(seed: int | None = None) -> str:
    """A valid unified social credit code (GB 32100-2015), different for each seed."""
    rng = random.Random(seed if seed is not None else next(_counter) * 7919)
    body = "9123" + "0100" + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_char(body)


def make_company(
    *, role: str = Company.Role.PROCESSOR, status: str = Company.Status.VERIFIED, name: str | None = None, **fields
) -> Company:
    n = next(_counter)
    return Company.objects.create(
        name=name or f"测试{role}公司{n}",
        credit_code=fields.pop("credit_code", None) or credit_code(n * 104729),
        role=role,
        status=status,
        district=fields.pop("district", "nangang"),
        address=fields.pop("address", f"南岗区测试路{n}号"),
        contact_phone=fields.pop("contact_phone", "13900000000"),
        **fields,
    )


def make_user(
    *, company: Company | None = None, username: str | None = None, password: str = PASSWORD, **fields
) -> User:
    n = next(_counter)
    user = User(
        username=username or f"user{n}", email=fields.pop("email", f"user{n}@example.com"), company=company, **fields
    )
    user.set_password(password)
    user.save()
    return user


def make_member(role: str = Company.Role.PROCESSOR, status: str = Company.Status.VERIFIED, **fields) -> User:
    """A user with its own company of `role` in `status`."""
    return make_user(company=make_company(role=role, status=status), **fields)


def make_admin(*, username: str | None = None, password: str = PASSWORD) -> User:
    """A cooperative admin: a user with the permission, no company."""
    return user_set_admin(user=make_user(username=username or f"coop{next(_counter)}", password=password))


def lot_terms(**overrides):
    """Complete, valid terms for recycling.services.lot_create: starts in an hour, runs a day."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from recycling.models import Category

    now = timezone.now().replace(microsecond=0)
    starts = overrides.pop("starts_at", now + dt.timedelta(hours=1))
    ends = overrides.pop("ends_at", starts + dt.timedelta(days=1))
    terms = {
        "title": "重废钢 30 吨",
        "category": Category.objects.get(code="steel-heavy"),
        "quantity": Decimal("30.000"),
        "description": "厂区拆除重废，厚度 6mm 以上。",
        "district": "daoli",
        "address": "道里区新发镇工业园 8 号",
        "start_price": Decimal("2300.00"),
        "starts_at": starts,
        "ends_at": ends,
        "pickup_from": ends + dt.timedelta(days=1),
        "pickup_until": ends + dt.timedelta(days=8),
    }
    terms.update(overrides)
    return terms


def make_lot(*, seller, status: str = "draft", reviewer=None, **overrides):
    """A lot of `seller` (a collector user) brought to `status` through the services where a
    service exists; statuses the auction engine owns (live → awarded/unsold) are set directly."""
    from django.utils import timezone

    from recycling import services
    from recycling.models import Lot

    lot = services.lot_create(actor=seller, **lot_terms(**overrides))
    if status == "draft":
        return lot
    services.lot_submit(actor=seller, lot_id=lot.pk)
    if status == "pending_review":
        return Lot.objects.get(pk=lot.pk)
    reviewer = reviewer or make_admin()
    if status == "rejected":
        services.lot_review(actor=reviewer, lot_id=lot.pk, decision="reject", reason="照片不清楚")
        return Lot.objects.get(pk=lot.pk)
    services.lot_review(actor=reviewer, lot_id=lot.pk, decision="approve")
    if status == "withdrawn":
        services.lot_withdraw(actor=reviewer, lot_id=lot.pk, reason="测试撤回")
    elif status in ("live", "awarded", "unsold"):
        Lot.objects.filter(pk=lot.pk).update(status=status, closed_at=timezone.now() if status != "live" else None)
    return Lot.objects.get(pk=lot.pk)


def make_live_lot(*, seller, **overrides):
    """A live English lot of `seller` (start 2300.00/t, increment 50.00, ending in an hour),
    approved by a cooperative admin so its ledger is complete."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from recycling import services
    from recycling.models import Lot

    now = timezone.now()
    terms = {
        "starts_at": now - dt.timedelta(minutes=10),
        "ends_at": now + dt.timedelta(hours=1),
        "bid_increment": Decimal("50.00"),
    }
    terms.update(overrides)
    lot = make_lot(seller=seller, status="pending_review", **terms)
    services.lot_review(actor=make_admin(), lot_id=lot.pk, decision="approve")
    lot = Lot.objects.get(pk=lot.pk)
    assert lot.status == "live"
    return lot
