"""Forms of the logistics pages. Shape only: the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.districts import District
from core.forms import PageForm
from logistics.models import Deduction, Vehicle
from recycling.forms import DateInput, LocalDateTimeField


def _number(places: int, *, required: bool = True, label: Any = "", **kwargs: Any) -> forms.DecimalField:
    field = forms.DecimalField(max_digits=12, decimal_places=places, required=required, label=label, **kwargs)
    field.widget.attrs.update({"inputmode": "decimal", "step": "any"})
    return field


class VehicleForm(PageForm):
    type = forms.ChoiceField(label=_("Type"), choices=Vehicle.Type.choices)
    capacity_t = _number(2, label=_("Capacity (t)"))
    plate = forms.CharField(label=_("Plate number"), max_length=16, help_text=_("For example 黑A12345."))
    hazardous_permit_until = forms.DateField(
        label=_("Hazardous-goods permit valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: this vehicle carries no hazardous goods."),
    )
    districts = forms.MultipleChoiceField(
        label=_("Service districts"), choices=District.choices, widget=forms.CheckboxSelectMultiple
    )
    rate_per_km = _number(2, label=_("Rate per km (¥)"))
    min_charge = _number(2, label=_("Minimum charge per trip (¥)"), required=False)


class QuoteForm(PageForm):
    slot_start = LocalDateTimeField(label=_("Slot starts"))
    slot_end = LocalDateTimeField(label=_("Slot ends"))
    deliver_address = forms.CharField(label=_("Deliver to (yard address)"), max_length=200)
    deliver_lat = _number(6, label=_("Yard latitude"))
    deliver_lng = _number(6, label=_("Yard longitude"))
    vehicle_type = forms.ChoiceField(
        label=_("Vehicle type"), choices=[("", _("Any type")), *Vehicle.Type.choices], required=False
    )


class BookForm(QuoteForm):
    quote_id = forms.UUIDField(widget=forms.HiddenInput)


class ReasonForm(PageForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(PageForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AdvanceForm(PageForm):
    status = forms.CharField(widget=forms.HiddenInput, max_length=16)
    latitude = forms.DecimalField(max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(max_digits=9, decimal_places=6, required=False, widget=forms.HiddenInput)
    photo = forms.FileField(label=_("Photo (optional)"), required=False)


class WeighingForm(PageForm):
    ticket_no = forms.CharField(label=_("Ticket number"), max_length=40)
    gross = _number(3, label=_("Gross"))
    tare = _number(3, label=_("Tare"))
    net = _number(3, label=_("Net"))
    photo = forms.FileField(label=_("Photo of the ticket"), required=False)
    impurities_percent = _number(2, label=_("Impurities deduction (扣杂, %)"), required=False)
    impurities_photo = forms.FileField(label=_("Photo of the impurities"), required=False)
    moisture_percent = _number(2, label=_("Moisture deduction (扣水, %)"), required=False)
    moisture_photo = forms.FileField(label=_("Photo of the moisture check"), required=False)

    def deductions(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        out = []
        for kind in (Deduction.Kind.IMPURITIES, Deduction.Kind.MOISTURE):
            if data.get(f"{kind}_percent") is not None:
                out.append({"kind": kind, "percent": data[f"{kind}_percent"], "photo": data.get(f"{kind}_photo")})
        return out


class DeductionForm(PageForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Deduction.Kind.choices)
    percent = _number(2, label=_("Percent of net"), required=False)
    quantity = _number(3, label=_("Or a quantity"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    photo = forms.FileField(label=_("Photo"), required=False)


class DecisionForm(PageForm):
    net_payable = _number(3, label=_("Net payable"), required=False, help_text=_("Empty: net less deductions."))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
