"""Bids and each lot's append-only, hash-chained event log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class Bidder(models.Model):
    """A company taking part in one lot: its stable alias number ("Bidder 3") and, for
    English lots, its private proxy ceiling."""

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="bidders")
    company = models.ForeignKey(
        "accounts.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("alias number"))
    max_amount = models.DecimalField(_("proxy maximum"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_set_at = models.DateTimeField(_("proxy maximum set at"), null=True, blank=True)
    created_at = models.DateTimeField(_("joined at"), default=timezone.now)

    class Meta:
        verbose_name = _("bidder")
        verbose_name_plural = _("bidders")
        constraints = [
            models.UniqueConstraint(fields=["lot", "company"], name="bidder_once_per_lot"),
            models.UniqueConstraint(fields=["lot", "number"], name="bidder_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id} · {self.number}"


class Bid(models.Model):
    """A visible bid. A proxy bid's ceiling (`max_amount`) is private to its bidder."""

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey(
        "accounts.Company", verbose_name=_("bidder"), on_delete=models.PROTECT, related_name="bids"
    )
    bidder_no = models.PositiveIntegerField(_("bidder alias number"))
    placed_by = models.ForeignKey(
        "accounts.User", verbose_name=_("placed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(_("amount per unit"), max_digits=12, decimal_places=2)
    max_amount = models.DecimalField(_("proxy maximum"), max_digits=12, decimal_places=2, null=True, blank=True)
    is_proxy = models.BooleanField(_("placed by the proxy"), default=False)
    seq = models.PositiveIntegerField(_("event number"))
    # When the bidder committed to this amount: now for a typed bid, when the ceiling was set
    # for a proxy bid. Of equal amounts the earlier commitment stands.
    ranked_at = models.DateTimeField(_("ranked at"), default=timezone.now)
    created_at = models.DateTimeField(_("placed at"), default=timezone.now)

    class Meta:
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        ordering = ["lot", "-seq"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="bid_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(max_amount__isnull=True) | models.Q(max_amount__gte=models.F("amount")),
                name="bid_max_at_least_amount",
            ),
            models.UniqueConstraint(fields=["lot", "seq"], name="bid_unique_seq_per_lot"),
        ]
        indexes = [
            models.Index(fields=["bidder", "lot"], name="bid_bidder_lot"),
            # The standing bid, read under the lot's lock on every bid: no sort of all bids.
            models.Index(fields=["lot", "-amount", "ranked_at", "seq"], name="bid_standing"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id}#{self.seq} {self.amount}"


class LotEvent(models.Model):
    """One event of a lot (opened, bid, extended, closed, status…), numbered by `seq` 1..N
    without gaps, each hashing the previous hash and its own canonical content."""

    class Type(models.TextChoices):
        LISTED = "listed", _("listed")
        APPROVED = "approved", _("approved")
        OPENED = "opened", _("opened")
        BID = "bid", _("bid")
        EXTENDED = "extended", _("extended")
        CLOSED = "closed", _("closed")
        STATUS = "status", _("status changed")

    lot = models.ForeignKey("recycling.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("event number"))
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    at = models.DateTimeField(_("at"))
    payload = models.JSONField(_("payload"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("lot event")
        verbose_name_plural = _("lot events")
        ordering = ["lot", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "seq"], name="lot_event_unique_seq"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="lot_event_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id}#{self.seq} {self.type}"

    def canonical(self) -> str:
        return canonical_event(lot_id=self.lot_id, seq=self.seq, type=self.type, at=self.at, payload=self.payload)

    def compute_hash(self) -> str:
        return chain_hash(self.prev_hash, self.canonical())


def _default(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"not canonical: {type(value)!r}")


def canonical_event(*, lot_id: int, seq: int, type: str, at, payload: dict) -> str:
    """Sorted keys, no spaces, UTC microseconds: the same bytes on every machine."""
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        {"lot": lot_id, "seq": seq, "type": type, "at": stamp, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_default,
    )


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
