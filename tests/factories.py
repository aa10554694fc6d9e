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


def make_user(*, company: Company | None = None, username: str | None = None, password: str = PASSWORD, **fields) -> User:
    n = next(_counter)
    user = User(username=username or f"user{n}", email=fields.pop("email", f"user{n}@example.com"), company=company, **fields)
    user.set_password(password)
    user.save()
    return user


def make_member(role: str = Company.Role.PROCESSOR, status: str = Company.Status.VERIFIED, **fields) -> User:
    """A user with its own company of `role` in `status`."""
    return make_user(company=make_company(role=role, status=status), **fields)


def make_admin(*, username: str | None = None, password: str = PASSWORD) -> User:
    """A cooperative admin: a user with the permission, no company."""
    return user_set_admin(user=make_user(username=username or f"coop{next(_counter)}", password=password))
