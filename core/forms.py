"""What every page form shares: CSS hooks, and a service's refusal shown on the form."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from core.errors import DomainError


class PageForm(forms.Form):
    required_css_class = "required"
    error_css_class = "has-error"


def add_domain_error(form: forms.BaseForm, error: DomainError, field_map: Mapping[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on the field it names (through `error.fields`,
    with or without a nested prefix such as "company.", or its `code` in `field_map`), else at
    the top of the form. Always with its `detail`."""
    field_map = field_map or {}
    field = field_map.get(error.code)
    if field is None:
        for key in error.fields or {}:
            for name in (key, key.rsplit(".", 1)[-1]):
                candidate = field_map.get(name, name)
                if candidate in form.fields:
                    field = candidate
                    break
            if field is not None:
                break
    if field is not None and field not in form.fields:
        field = None
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    form.add_error(field, error.detail)
