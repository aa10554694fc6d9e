"""Forms of the account and cooperative pages. They check the shape of the input; the rules
(credit code, duplicates, passwords, status moves) stay in accounts.services, whose
DomainError is put back on the right field by `add_domain_error`."""

from __future__ import annotations

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, CompanyDocument, User
from accounts.validators import normalize_phone, validate_phone
from core.districts import District
from core.forms import PageForm
from recycling.models import Category


def category_label(category: Category) -> str:
    """The catalogue's own Chinese names, or the English ones on English pages."""
    english = (get_language() or "").startswith("en")

    def name(item: Category) -> str:
        return (item.name_en or item.name) if english else item.name

    return f"{name(category.parent)} · {name(category)}" if category.parent_id else name(category)


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return category_label(obj)


def _clean_phone(value: str, *, required: bool) -> str:
    phone = normalize_phone(value)
    if not phone and not required:
        return ""
    validate_phone(phone)
    return phone


# --- Registration and profile ---------------------------------------------------------


class RegisterForm(PageForm):
    # Service error codes that belong to one field of this form.
    FIELD_FOR_CODE = {
        "invalid_credit_code": "credit_code",
        "duplicate_company": "credit_code",
        "duplicate_username": "username",
        "invalid_password": "password1",
        "invalid_phone": "contact_phone",
        "password": "password1",
        "name": "company_name",
    }

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    company_name = forms.CharField(label=_("Company name"), max_length=120)
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("The 18 characters printed on the business licence."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label=_("Your company is a"), choices=Company.Role.choices, widget=forms.RadioSelect)
    district = forms.ChoiceField(label=_("District"), choices=[("", "---------"), *District.choices])
    address = forms.CharField(label=_("Address"), max_length=200)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class ProfileForm(forms.ModelForm):
    required_css_class = "required"
    error_css_class = "has-error"

    class Meta:
        model = User
        fields = ["email", "phone"]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone", ""), required=False)


# --- The company page -----------------------------------------------------------------


class CompanyForm(PageForm):
    """The company's own edit. Name and credit code are shown locked once the company is
    verified: the service refuses to change the identity that was reviewed."""

    FIELD_FOR_CODE = {
        "invalid_credit_code": "credit_code",
        "duplicate_company": "credit_code",
        "invalid_phone": "contact_phone",
        "not_editable": "name",
    }
    IDENTITY = ("name", "credit_code")

    name = forms.CharField(label=_("Company name"), max_length=120)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=40)
    district = forms.ChoiceField(label=_("District"), choices=District.choices)
    address = forms.CharField(label=_("Address"), max_length=200)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args, company: Company, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": company.name,
                "credit_code": company.credit_code,
                "district": company.district,
                "address": company.address,
                "contact_phone": company.contact_phone,
            },
        )
        super().__init__(*args, **kwargs)
        self.identity_locked = company.status not in (Company.Status.PENDING, Company.Status.REJECTED)
        if self.identity_locked:
            for name in self.IDENTITY:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once the cooperative has verified the company.")

    def changes(self) -> dict[str, str]:
        """What to hand to services.company_update (never the locked identity)."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if not (self.identity_locked and key in self.IDENTITY)
        }


class DocumentForm(PageForm):
    FIELD_FOR_CODE = {
        "file_too_large": "file",
        "unsupported_file_type": "file",
        "licence_expired": "expires_on",
        "wrong_role": "kind",
    }

    kind = forms.ChoiceField(label=_("Kind of document"), choices=CompanyDocument.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF, JPEG or PNG, at most 10 MB. A clear photo of the paper licence is fine."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
    licence_no = forms.CharField(label=_("Licence number"), max_length=64, required=False)
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Required for a processing licence."),
    )
    categories = CategoryChoiceField(
        label=_("Covered categories"),
        queryset=Category.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a processing licence: every category the licence allows you to process."),
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        if company.role == Company.Role.PROCESSOR:
            self.fields["categories"].queryset = (
                Category.objects.filter(active=True).select_related("parent").order_by("sort", "code")
            )
        else:
            self.fields["kind"].choices = [
                choice
                for choice in CompanyDocument.Kind.choices
                if choice[0] != CompanyDocument.Kind.PROCESSING_LICENCE
            ]
            del self.fields["categories"]

    def category_ids(self) -> list[int]:
        return [category.pk for category in self.cleaned_data.get("categories") or ()]


# --- Cooperative pages ----------------------------------------------------------------


class CompanyFilterForm(PageForm):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("all statuses")), *Company.Status.choices], required=False
    )
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("all roles")), *Company.Role.choices], required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("name or credit code")}),
    )


class ReviewForm(PageForm):
    """One decision on a company. The reason is required where the service requires it; the
    service checks again."""

    FIELD_FOR_CODE = {"reason_required": "reason"}

    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if not reason_required:
            self.fields["reason"].label = _("Note (optional)")


class AuditFilterForm(PageForm):
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("A prefix such as “company.” matches every company action."),
        widget=forms.TextInput(
            attrs={"list": "audit-actions", "autocapitalize": "none", "placeholder": _("e.g. company.")}
        ),
    )
    actor = forms.CharField(
        label=_("Actor (username)"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    target_type = forms.CharField(
        label=_("Target type"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"list": "audit-target-types", "autocapitalize": "none"}),
    )
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=64)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError(_("The start date is after the end date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters (an invalid one is reported on the form and left out)."""
        data = getattr(self, "cleaned_data", {})
        return {key: value for key, value in data.items() if value not in (None, "")}
