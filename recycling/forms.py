"""Forms of the board pages. They check the shape of the input only; the rules (prices,
schedule, permissions, status moves) stay in recycling.services, whose DomainError is put back
on the field it names by `add_domain_error`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.districts import District
from core.forms import PageForm
from recycling import services
from recycling.models import Category, Lot, Unit
from recycling.templatetags.board import SHANGHAI, category_label

MAX_PHOTOS = services.MAX_PHOTOS


def category_choices(*, class_suffix: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active categories as option groups: each class first (labelled with `class_suffix`),
    then its grades. One query."""
    categories = list(Category.objects.filter(active=True).select_related("parent").order_by("sort", "code"))
    grades: dict[int, list[Category]] = {}
    for category in categories:
        if category.parent_id:
            grades.setdefault(category.parent_id, []).append(category)
    groups = []
    for category in categories:
        if category.parent_id:
            continue
        label = category_label(category)
        options = [(category.code, f"{label} — {class_suffix}")]
        options += [(grade.code, category_label(grade)) for grade in grades.get(category.pk, [])]
        groups.append((label, options))
    return groups


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read and shown in Asia/Shanghai (the browser sends no zone)."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        with timezone.override(SHANGHAI):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(SHANGHAI).replace(tzinfo=None)
        return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


def _decimal(places: int, **kwargs: Any) -> forms.DecimalField:
    kwargs.setdefault("required", False)
    field = forms.DecimalField(max_digits=12, decimal_places=places, **kwargs)
    field.widget.attrs.update({"inputmode": "decimal", "step": "any"})
    return field


# --- Lots -----------------------------------------------------------------------------


class LotForm(PageForm):
    """The terms of a lot, for services.lot_create / lot_update."""

    title = forms.CharField(label=_("Title"), max_length=120)
    category = forms.ChoiceField(label=_("Category"))
    quantity = _decimal(3, label=_("Quantity"), required=True)
    unit = forms.ChoiceField(
        label=_("Unit"),
        required=False,
        choices=[("", _("The category's unit"))] + list(Unit.choices),
        help_text=_("Prices are per this unit."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Grade, condition, packing. No phone numbers or WeChat IDs: contacts are shared after the award."),
    )
    district = forms.ChoiceField(label=_("District"), choices=District.choices)
    address = forms.CharField(
        label=_("Pickup address"),
        max_length=200,
        help_text=_("Shown only to the cooperative and to the winner after the award."),
    )
    latitude = _decimal(6, label=_("Latitude"), help_text=_("Optional, WGS-84, e.g. 45.756967."))
    longitude = _decimal(6, label=_("Longitude"), help_text=_("Optional, e.g. 126.642464."))
    format = forms.ChoiceField(label=_("Auction format"), choices=Lot.Format.choices, initial=Lot.Format.ENGLISH)
    start_price = _decimal(2, label=_("Start price per unit (CNY)"), required=True)
    reserve_price = _decimal(
        2, label=_("Reserve price per unit (CNY)"), help_text=_("Optional; hidden from bidders. Not below the start.")
    )
    bid_increment = _decimal(2, label=_("Bid increment (CNY)"), help_text=_("Empty: the default ladder by price."))
    deposit = _decimal(
        2,
        label=_("Deposit (CNY)"),
        help_text=_("Empty: 10% of start price × quantity. 0 means no deposit is needed to bid."),
    )
    starts_at = LocalDateTimeField(label=_("Bidding starts"), help_text=_("Beijing time."))
    ends_at = LocalDateTimeField(label=_("Bidding ends"), help_text=_("Beijing time."))
    soft_close_seconds = forms.IntegerField(
        label=_("Soft close (seconds)"),
        min_value=0,
        max_value=86_400,
        initial=300,
        help_text=_("A bid this close to the end extends the auction by as much."),
    )
    max_extension_seconds = forms.IntegerField(
        label=_("Maximum extension (seconds)"),
        min_value=0,
        max_value=7 * 86_400,
        initial=3600,
        help_text=_("The end never moves further than this past the scheduled end."),
    )
    min_bidders = forms.IntegerField(
        label=_("Minimum distinct bidders"),
        min_value=1,
        max_value=100,
        initial=1,
    )
    pickup_from = LocalDateTimeField(
        label=_("Pickup from"),
        required=False,
        help_text=_("After bidding ends. Empty: when bidding is scheduled to end."),
    )
    pickup_until = LocalDateTimeField(label=_("Pickup until"), required=False)
    seller_delivers = forms.BooleanField(label=_("I deliver to the buyer"), required=False)

    OPTIONAL_EMPTY_IS_NONE = (
        "reserve_price",
        "bid_increment",
        "deposit",
        "latitude",
        "longitude",
        "pickup_from",
        "pickup_until",
    )

    def __init__(self, *args: Any, lot: Lot | None = None, company: Any = None, **kwargs: Any) -> None:
        self.lot = lot
        if lot is not None:
            kwargs.setdefault("initial", self.initial_for(lot))
        elif company is not None:
            kwargs.setdefault("initial", {"district": company.district, "address": company.address})
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category"))] + category_choices(
            class_suffix=_("mixed grades")
        )
        for name in ("quantity", "start_price"):
            self.fields[name].widget.attrs["min"] = "0"
        self.fields["pickup_until"].help_text = gettext(
            "Empty: %(days)d days after the latest possible end (the scheduled end plus the maximum extension)."
        ) % {"days": settings.PAYMENT_DAYS + services.PICKUP_DAYS_AFTER_PAYMENT}

    @staticmethod
    def initial_for(lot: Lot) -> dict[str, Any]:
        initial = {name: getattr(lot, name) for name in services.TERM_FIELDS}
        initial["category"] = lot.category.code
        initial["quantity"] = lot.quantity_display  # 20, not 20.000
        if lot.deposit == services.default_deposit(start_price=lot.start_price, quantity=lot.quantity):
            # Left empty, the deposit keeps following price × quantity when they change.
            initial["deposit"] = None
        window = services.default_pickup_window(ends_at=lot.ends_at, max_extension_seconds=lot.max_extension_seconds)
        for name, default in zip(("pickup_from", "pickup_until"), window, strict=True):
            if getattr(lot, name) == default:
                initial[name] = None  # left empty, it keeps following the schedule
        return initial

    def terms(self) -> dict[str, Any]:
        """The cleaned terms as keyword arguments of the services."""
        data = dict(self.cleaned_data)
        if not data.get("unit"):
            data.pop("unit", None)
        for name in self.OPTIONAL_EMPTY_IS_NONE:
            data.setdefault(name, None)
        data["description"] = data.get("description") or ""
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class PhotoUploadForm(PageForm):
    photos = MultipleFileField(label=_("Photos"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = gettext(
            "JPEG or PNG, up to 10 MB each, at most %(n)d per lot. Location data is removed."
        ) % {"n": MAX_PHOTOS}

    def clean_photos(self) -> list[Any]:
        files = self.cleaned_data["photos"]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("Choose at most %(n)d photos at a time."), code="too_many", params={"n": MAX_PHOTOS}
            )
        return files


class ReviewForm(PageForm):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(PageForm):
    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# Without a status the search page shows what can still be bid on; "" asks for every
# published lot (selectors.lot_search's own default).
OPEN_STATUSES = f"{Lot.Status.LIVE},{Lot.Status.SCHEDULED}"
STATUS_FILTERS = [
    (OPEN_STATUSES, _("Live and upcoming")),
    ("", _("Any status")),
    (Lot.Status.SCHEDULED, _("Upcoming")),
    (Lot.Status.LIVE, _("Live")),
    (Lot.Status.AWARDED, _("Awarded")),
    (Lot.Status.UNSOLD, _("Unsold")),
]
ORDERING_CHOICES = [
    ("ends_at", _("Ending soonest")),
    ("-created_at", _("Newest")),
    ("current_price", _("Price: low to high")),
    ("-current_price", _("Price: high to low")),
]


class LotFilterForm(PageForm):
    """The search page's filters. Only rendered: selectors.lot_search reads request.GET itself."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Words in the title or description")}),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTERS)
    min_quantity = _decimal(3, label=_("Quantity from"))
    max_quantity = _decimal(3, label=_("Quantity up to"))
    ends_before = forms.DateField(label=_("Ends by"), required=False, widget=DateInput())
    ordering = forms.ChoiceField(label=_("Order"), required=False, choices=ORDERING_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + category_choices(class_suffix=_("all grades"))
        self.fields["district"].choices = [("", _("All districts"))] + list(District.choices)


# --- Wanted requests ------------------------------------------------------------------


class WantedForm(PageForm):
    category = forms.ChoiceField(label=_("Category"))
    unit = forms.ChoiceField(
        label=_("Unit"), required=False, choices=[("", _("The category's unit"))] + list(Unit.choices)
    )
    quantity_min = _decimal(3, label=_("Quantity from"))
    quantity_max = _decimal(3, label=_("Quantity up to"))
    max_unit_price = _decimal(2, label=_("Highest price per unit (CNY)"))
    districts = forms.MultipleChoiceField(
        label=_("Districts"),
        required=False,
        choices=District.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: anywhere in Harbin."),
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category"))] + category_choices(
            class_suffix=_("all grades")
        )
        if not self.is_bound and "valid_until" not in self.initial:
            self.initial["valid_until"] = timezone.localdate() + dt.timedelta(days=30)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["unit"] = data.get("unit") or None
        data["note"] = data.get("note") or ""
        return data


class WantedFilterForm(PageForm):
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + category_choices(class_suffix=_("all grades"))
