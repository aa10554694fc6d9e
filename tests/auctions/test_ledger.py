"""The tamper-evident lot ledger: verify_ledger catches edits, deletions, reordering."""

import pytest
from django.core.management import CommandError, call_command

from auctions import services
from auctions.models import LotEvent
from auctions.selectors import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot_with_bids(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    for user, amount in ((a, "2300.00"), (b, "2350.00"), (a, "2400.00")):
        services.bid_place(actor=user, lot_id=lot.pk, amount=amount)
    return lot


def test_intact_ledger_verifies(lot_with_bids, api, capsys):
    assert ledger_verify() == []
    call_command("verify_ledger")
    assert "every ledger holds" in capsys.readouterr().out
    rows = api.get(f"/api/v1/lots/{lot_with_bids.pk}/ledger/").json()
    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))
    assert rows[2]["payload"] == {
        "amount": "2300.00",
        "bidder_no": 1,
        "proxy": False,
        "current_price": "2300.00",
        "bid_count": 1,
        "ends_at": rows[2]["payload"]["ends_at"],
    }


def test_edited_amount_is_caught(lot_with_bids):
    event = LotEvent.objects.get(lot=lot_with_bids, seq=4)
    LotEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "amount": "2450.00"})
    problems = ledger_verify(lot_id=lot_with_bids.pk)
    assert [(p.seq, "edited" in p.problem) for p in problems] == [(4, True)]
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--lot", str(lot_with_bids.pk))


def test_deleted_bid_event_is_caught(lot_with_bids):
    LotEvent.objects.filter(lot=lot_with_bids, seq=4).delete()
    (problem,) = ledger_verify(lot_id=lot_with_bids.pk)
    assert problem.seq == 5 and "missing" in problem.problem


def test_deleted_last_event_is_caught(lot_with_bids):
    LotEvent.objects.filter(lot=lot_with_bids, seq=5).delete()
    (problem,) = ledger_verify(lot_id=lot_with_bids.pk)
    assert "ends at 4" in problem.problem


def test_reordered_events_are_caught(lot_with_bids):
    three = LotEvent.objects.get(lot=lot_with_bids, seq=3)
    four = LotEvent.objects.get(lot=lot_with_bids, seq=4)
    LotEvent.objects.filter(pk=three.pk).update(seq=99)
    LotEvent.objects.filter(pk=four.pk).update(seq=3)
    LotEvent.objects.filter(pk=three.pk).update(seq=4)
    (problem,) = ledger_verify(lot_id=lot_with_bids.pk)
    assert problem.seq == 3


def test_inserted_event_is_caught(lot_with_bids):
    last = LotEvent.objects.get(lot=lot_with_bids, seq=5)
    LotEvent.objects.filter(lot=lot_with_bids, seq=5).update(seq=6)
    forged = LotEvent(
        lot=lot_with_bids,
        seq=5,
        type="bid",
        at=last.at,
        payload={"amount": "9999.00"},
        prev_hash=LotEvent.objects.get(lot=lot_with_bids, seq=4).hash,
    )
    forged.hash = forged.compute_hash()
    forged.save()
    (problem,) = ledger_verify(lot_id=lot_with_bids.pk)
    assert problem.seq == 6
