"""API authentication (kept apart from core.drf, which DRF's own settings import would cycle)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from core.sql import fetch_instances, select_columns


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, loading the user's company with the token (every API call
    that acts for a company reads it), in one statement of hand-written SQL (core/sql.py): it
    runs on every API call, and the ORM's compile of the same join cost more than a round trip."""

    def authenticate_credentials(self, key):
        from accounts.models import Company, User

        sql = (
            f"SELECT u.*, {select_columns(Company, 'c', 'company')} FROM {User._meta.db_table} u "  # noqa: S608
            f"JOIN {Token._meta.db_table} t ON t.user_id = u.id "
            f"LEFT JOIN {Company._meta.db_table} c ON c.id = u.company_id WHERE t.key = %s"
        )
        users = fetch_instances(User, sql, [key], related={"company": Company})
        if not users:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = users[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token(key=key, user_id=user.pk)
        token._state.adding = False
        Token.user.field.set_cached_value(token, user)
        return (user, token)
