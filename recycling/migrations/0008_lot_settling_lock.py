"""While a bid holds a lot, a bid's first read of it waits for the outcome (PostgreSQL only).

`recycling_lock_lot_at` (0007) now also takes a transaction-level advisory lock on the lot once
it holds the row at the expected `seq`, and `recycling_await_lot(lot_id)` waits for that
advisory lock (taken shared and given back at once, a session lock, so it holds nothing after
it returns, inside a caller's transaction or not). A bid first reads its lot without a lock
(auctions.services._lot_for_bid, through `auctions_lot_for_bid`, which calls this); without the
wait, on a hot lot that read is usually of the state another bid is about to change, so the
bid passes it, queues for the row's lock and is refused there, four round trips later. With
it, such a bid is refused on the state that bid committed, in its first round trip, and waits
meanwhile without spending CPU (bench/bids.py).

The advisory lock is a courtesy, not a guard: correctness comes from the row lock, taken first
(so no transaction waits for the advisory lock while another waits for its row), and whoever
locks the lot otherwise (lock_lot, the clock) does not take it. Key: the two-int form,
class 7_405_940 ("lot") and the lot id's low 31 bits (two lots sharing a key only wait for
each other's bids), never mixed with one-bigint advisory keys.
"""

from importlib import import_module

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION recycling_lock_lot_at(lot_id bigint, at_seq bigint, OUT locked boolean, OUT lot recycling_lot)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        SELECT * INTO lot FROM recycling_lot l WHERE l.id = lot_id FOR UPDATE;
        IF lot.seq = at_seq THEN
            PERFORM pg_advisory_xact_lock(7405940, (lot_id & 2147483647)::integer);
            locked := true;
            RETURN;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'RL001';  -- moved (or gone): give the lock back
    EXCEPTION WHEN SQLSTATE 'RL001' THEN
        NULL;
    END;
    locked := false;
END;
$$;

CREATE OR REPLACE FUNCTION recycling_await_lot(lot_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_lock_shared(7405940, (lot_id & 2147483647)::integer);
    PERFORM pg_advisory_unlock_shared(7405940, (lot_id & 2147483647)::integer);
END;
$$;
"""

# Back: 0007's function as it was, and no waiting function.
BACKWARD = "DROP FUNCTION IF EXISTS recycling_await_lot(bigint);" + import_module(
    "recycling.migrations.0007_lock_lot_at"
).FORWARD


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("recycling", "0007_lock_lot_at")]
    operations = [migrations.RunPython(forward, backward)]
