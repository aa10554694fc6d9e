from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Company
from core.selectors import unread_count
from recycling.models import Lot


def navigation(request: HttpRequest) -> dict:
    """What the header needs: who is looking (`nav_role`), their unread notifications, and for
    cooperative admins the length of the two review queues."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": "anonymous", "unread_notifications": 0, "pending_companies": 0, "pending_lots": 0}
    pending = pending_lots = 0
    if user.is_cooperative_admin:
        role = "cooperative_admin"
        pending = Company.objects.filter(status=Company.Status.PENDING).count()
        pending_lots = Lot.objects.filter(status=Lot.Status.PENDING_REVIEW).count()
    elif user.company_id:
        role = user.company.role
    else:
        role = "user"
    return {
        "nav_role": role,
        "unread_notifications": unread_count(user=user),
        "pending_companies": pending,
        "pending_lots": pending_lots,
    }
