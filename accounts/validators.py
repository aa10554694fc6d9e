"""Identifiers of Chinese companies and phones.

Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol
alphabet (digits and capitals without I, O, Z, S, V). The 18th is a check character:
c18 = 31 - (Σ code(ci) × wi mod 31), with 31 written as 0, weights wi = 3^(i-1) mod 31.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: index for index, char in enumerate(CREDIT_CODE_ALPHABET)}


def normalize_credit_code(value: str) -> str:
    """People type codes in lower case and with spaces; the code itself is upper case."""
    return re.sub(r"[\s-]", "", value or "").upper()


def credit_code_check_char(first17: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_error(value: str) -> str | None:
    """Why `value` (already normalised) is not a valid code, or None."""
    if len(value) != 18:
        return str(_("A unified social credit code has 18 characters; this one has %(n)d.") % {"n": len(value)})
    bad = sorted({char for char in value if char not in _VALUES})
    if bad:
        return str(
            _("The code contains characters that are never used (%(chars)s); I, O, Z, S and V do not occur.")
            % {"chars": "".join(bad)}
        )
    if credit_code_check_char(value[:17]) != value[17]:
        return str(_("The check character does not match: please check the code for a typing error."))
    return None


def validate_credit_code(value: str) -> None:
    error = credit_code_error(normalize_credit_code(value))
    if error:
        raise ValidationError(error, code="invalid_credit_code")


# Mainland mobile (1[3-9] + 9 digits) or a landline with its area code (0451-8xxxxxxx).
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s()]", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value.lstrip("-")


def validate_phone(value: str) -> None:
    phone = normalize_phone(value)
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise ValidationError(
            _("Enter a mainland mobile number (11 digits starting with 1) or a landline with area code (0451-…)."),
            code="invalid_phone",
        )
