"""recycling_lock_lot_at(lot_id, at_seq): lock a lot only if it is still at the `seq` the caller
checked (recycling.services.lock_lot_at), PostgreSQL only.

A `SELECT … FOR UPDATE` that waited for another transaction locks the row version it waited for
before anything can look at it, and keeps that lock to the end of its transaction, even when a
condition on the row then fails. Taken in a subtransaction (the block with an EXCEPTION clause),
the lock is released with it when the lot has moved: the row comes back as committed now, and
the caller's transaction holds nothing. SQLite (the whole database locked for the transaction)
compares in Python.

Cost: a row locked by a subtransaction and then updated by its parent gets a MultiXact ID for
the two, so about one per accepted bid (measured: 602 for ~400 bids and the bench's other
locks); autovacuum freezes them as it freezes transaction IDs (`autovacuum_multixact_freeze_
max_age`, 400 million by default, is weeks of bidding at a hundred bids a second).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION recycling_lock_lot_at(lot_id bigint, at_seq bigint, OUT locked boolean, OUT lot recycling_lot)
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        SELECT * INTO lot FROM recycling_lot l WHERE l.id = lot_id FOR UPDATE;
        IF lot.seq = at_seq THEN
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
"""
BACKWARD = "DROP FUNCTION IF EXISTS recycling_lock_lot_at(bigint, bigint);"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("recycling", "0006_board_indexes")]
    operations = [migrations.RunPython(forward, backward)]
