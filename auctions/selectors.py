"""Reads of the auction: the ledger and its verification, bid history, watcher snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from auctions.events import bidder_alias, public_event
from auctions.models import GENESIS_HASH, Bid, LotEvent
from core.times import iso
from recycling.models import Lot


@dataclass
class LedgerProblem:
    lot_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"lot {self.lot_id} event {self.seq}: {self.problem}"


def ledger_verify(*, lot_id: int | None = None) -> list[LedgerProblem]:
    """Walk each lot's chain: seq 1..N without gaps, every prev_hash the previous hash, every
    hash recomputed from the stored content, and the lot's head the last hash. An edited,
    inserted, deleted or reordered row breaks one of these."""
    lots = Lot.objects.all() if lot_id is None else Lot.objects.filter(pk=lot_id)
    problems: list[LedgerProblem] = []
    for lot in lots.only("pk", "seq", "ledger_head").order_by("pk").iterator():
        expected_prev = GENESIS_HASH
        expected_seq = 1
        for event in LotEvent.objects.filter(lot_id=lot.pk).order_by("seq", "id").iterator():
            if event.seq != expected_seq:
                problems.append(LedgerProblem(lot.pk, event.seq, f"expected event {expected_seq} (a row is missing)"))
                break
            if event.prev_hash != expected_prev:
                problems.append(
                    LedgerProblem(lot.pk, event.seq, "previous hash does not match (reordered or inserted)")
                )
                break
            if event.compute_hash() != event.hash:
                problems.append(LedgerProblem(lot.pk, event.seq, "content does not match its hash (edited)"))
                break
            expected_prev, expected_seq = event.hash, expected_seq + 1
        else:
            if expected_seq - 1 != lot.seq:
                problems.append(
                    LedgerProblem(
                        lot.pk, expected_seq, f"the lot counts {lot.seq} events, the log ends at {expected_seq - 1}"
                    )
                )
            elif lot.seq and lot.ledger_head != expected_prev:
                problems.append(LedgerProblem(lot.pk, lot.seq, "the lot's ledger head is not the last hash"))
    return problems


def events_after(*, lot: Lot, after_seq: int, limit: int = 500) -> list[dict[str, Any]]:
    """Public frames of the events after `after_seq`, in order (the resync replay)."""
    closed = lot.status in (Lot.Status.AWARDED, Lot.Status.UNSOLD)
    sealed = lot.format == Lot.Format.SEALED
    rows = LotEvent.objects.filter(lot_id=lot.pk, seq__gt=after_seq).order_by("seq")[:limit]
    return [public_event(event, sealed=sealed, closed=closed) for event in rows]


def close_reason(lot: Lot) -> str:
    """Why a closed lot did not sell, from its `closed` event: no_bids, reserve_not_met,
    min_bidders_not_met; "" for a sold or open lot (or a log from before reasons were kept,
    where a lot without bids still says no_bids)."""
    if lot.status != Lot.Status.UNSOLD:
        return ""
    event = LotEvent.objects.filter(lot_id=lot.pk, type=LotEvent.Type.CLOSED).order_by("-seq").first()
    reason = (event.payload.get("reason") if event else "") or ""
    if not reason and not lot.bid_count:
        reason = "no_bids"
    return reason


def bid_history(*, lot: Lot, viewer: Any = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Bids newest first with the bidder's alias; a sealed lot shows no amounts until it closes;
    cooperative admins also see the company."""
    hide = lot.format == Lot.Format.SEALED and lot.status not in (Lot.Status.AWARDED, Lot.Status.UNSOLD)
    admin = bool(viewer and viewer.is_authenticated and viewer.is_cooperative_admin)
    qs: QuerySet[Bid] = Bid.objects.filter(lot=lot).order_by("-seq")
    if admin:
        qs = qs.select_related("bidder")
    if limit:
        qs = qs[:limit]
    out = []
    for bid in qs:
        row = {
            "seq": bid.seq,
            "amount": None if hide else f"{bid.amount:.2f}",
            "bidder": bidder_alias(bid.bidder_no),
            "proxy": bid.is_proxy,
            "created_at": bid.created_at,
        }
        if admin:
            row["company"] = {"id": bid.bidder_id, "name": bid.bidder.name}
        out.append(row)
    return out


def ledger(*, lot: Lot, viewer: Any = None) -> list[dict[str, Any]]:
    """The chain as stored (payloads name bidders by alias number only, so anyone can verify
    it). For a sealed lot that is still open, bid payloads are withheld from everyone but
    cooperative admins (their hashes stay, so the chain still links)."""
    admin = bool(viewer and viewer.is_authenticated and viewer.is_cooperative_admin)
    hide = lot.format == Lot.Format.SEALED and lot.status not in (Lot.Status.AWARDED, Lot.Status.UNSOLD) and not admin
    rows = []
    for event in LotEvent.objects.filter(lot_id=lot.pk).order_by("seq"):
        payload = dict(event.payload)
        if hide and event.type == LotEvent.Type.BID:
            payload = {"withheld": True}
        rows.append(
            {
                "seq": event.seq,
                "type": event.type,
                "at": iso(event.at),
                "payload": payload,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        )
    return rows


def snapshot(*, lot_id: int, viewer: Any = None, bids: int = 50) -> dict[str, Any] | None:
    """The first frame a watcher gets: lot state at `seq` and the latest bids up to it. The lot
    is read first and bids are cut at its seq, so the two agree under concurrent bids."""
    from auctions.services import minimum_next_bid
    from recycling.selectors import lot_for

    lot = lot_for(viewer, lot_id)
    if lot is None:
        return None
    sealed_open = lot.format == Lot.Format.SEALED and lot.status not in (Lot.Status.AWARDED, Lot.Status.UNSOLD)
    history = [
        {**row, "created_at": iso(row["created_at"])}
        for row in bid_history(lot=lot, viewer=viewer, limit=bids)
        if row["seq"] <= lot.seq
    ]
    return {
        "type": "snapshot",
        "seq": lot.seq,
        "status": lot.status,
        "format": lot.format,
        "current_price": None if lot.current_price is None or sealed_open else f"{lot.current_price:.2f}",
        "bid_count": lot.bid_count,
        "ends_at": iso(lot.ends_at),
        "starts_at": iso(lot.starts_at),
        "reserve_met": lot.reserve_met if not sealed_open else None,
        "min_next_bid": f"{minimum_next_bid(lot):.2f}",
        "final_price": None if lot.final_price is None else f"{lot.final_price:.2f}",
        "reason": close_reason(lot),
        "server_time": iso(timezone.now()),
        "bids": history,
    }
