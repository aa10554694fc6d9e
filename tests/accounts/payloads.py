"""Request bodies shared by the accounts API tests."""

from __future__ import annotations

import copy
from typing import Any

from tests.factories import PASSWORD

REGISTER_URL = "/api/v1/accounts/register/"
VALID_CODE = "91350100M000100Y43"


def register_payload(**overrides: Any) -> dict[str, Any]:
    """A valid registration; `company__<field>` overrides a company field, `<field>` a user field."""
    body: dict[str, Any] = {
        "username": "hrb_steel",
        "password": PASSWORD,
        "email": "office@hrb-steel.example",
        "company": {
            "name": "哈尔滨钢铁回收有限公司",
            "credit_code": VALID_CODE,
            "role": "collector",
            "district": "daoli",
            "address": "道里区安静街12号",
            "contact_phone": "13800138000",
        },
    }
    body = copy.deepcopy(body)
    for key, value in overrides.items():
        if key.startswith("company__"):
            body["company"][key.removeprefix("company__")] = value
        else:
            body[key] = value
    return body
