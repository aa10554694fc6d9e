"""API authentication (kept apart from core.drf, which DRF's own settings import would cycle)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, loading the user's company with the token (every API call
    that acts for a company reads it)."""

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__company").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
