"""API request parsers (kept apart from core.drf, which imports DRF's views: DRF's settings import
this module while DRF's views are being defined)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's, with JSON nested past Python's recursion limit ("[[[[…" × 1,000, 2 KB) a 400 like
    any malformed body, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON parse error: nested too deeply.")) from None
