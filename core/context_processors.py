from __future__ import annotations

from django.http import HttpRequest

from core.selectors import unread_count


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": "anonymous", "unread_notifications": 0}
    if user.is_cooperative_admin:
        role = "cooperative_admin"
    elif user.company_id:
        role = user.company.role
    else:
        role = "user"
    return {"nav_role": role, "unread_notifications": unread_count(user=user)}
