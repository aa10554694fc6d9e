"""API authentication (kept apart from core.drf, which DRF's own settings import would cycle)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from core.sql import fetch_instances


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, loading the user's company with the token (every API call
    that acts for a company reads it), in hand-written SQL (core/sql.py): it runs on every API
    call, and the ORM's compile of the same join cost more than the two round trips."""

    def authenticate_credentials(self, key):
        from accounts.models import Company, User

        users = fetch_instances(
            User,
            f"SELECT u.* FROM {User._meta.db_table} u JOIN {Token._meta.db_table} t ON t.user_id = u.id "  # noqa: S608
            "WHERE t.key = %s",
            [key],
        )
        if not users:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = users[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        company = None
        if user.company_id is not None:
            sql = f"SELECT * FROM {Company._meta.db_table} WHERE id = %s"  # noqa: S608
            companies = fetch_instances(Company, sql, [user.company_id])
            company = companies[0] if companies else None
        User.company.field.set_cached_value(user, company)
        token = Token(key=key, user_id=user.pk)
        token._state.adding = False
        Token.user.field.set_cached_value(token, user)
        return (user, token)
