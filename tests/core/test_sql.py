"""core/sql.py: instances from hand-written SQL equal the ORM's, on SQLite and PostgreSQL alike
(the database's value converters applied), related rows, extra columns, statements together."""

import pytest
from django.db import connection, transaction

from accounts.models import Company, User
from core.models import Notification
from core.sql import execute_together, fetch_instances, insert_statement, pk_in_range, select_columns
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_instances_equal_the_orms(collector):
    lot = factories.make_lot(seller=collector)  # decimals, times, booleans, nulls, choices

    (raw,) = fetch_instances(Lot, f"SELECT *, 41 + 1 AS answer FROM {Lot._meta.db_table} WHERE id = %s", [lot.pk])

    assert _fields(raw) == _fields(Lot.objects.get(pk=lot.pk))
    assert raw.answer == 42  # an extra column becomes an attribute
    assert not raw._state.adding
    raw.save(update_fields=["title"])  # a real, saved instance


def test_some_columns_make_an_instance_with_the_rest_deferred(collector, django_assert_num_queries):
    lot = factories.make_lot(seller=collector)
    sql = f"SELECT id, seller_id, current_price, ends_at FROM {Lot._meta.db_table} WHERE id = %s"

    (raw,) = fetch_instances(Lot, sql, [lot.pk])

    orm = Lot.objects.only("id", "seller", "current_price", "ends_at").get(pk=lot.pk)
    assert raw.get_deferred_fields() == orm.get_deferred_fields()
    assert (raw.pk, raw.seller_id, raw.current_price, raw.ends_at) == (orm.pk, orm.seller_id, None, orm.ends_at)
    assert (raw._state.adding, raw._state.db) == (False, "default")
    with django_assert_num_queries(1):
        assert raw.title == lot.title  # a deferred field loads on first use, as the ORM's
    with django_assert_num_queries(1):
        assert raw.seller == collector.company


def test_a_model_whose_creation_is_listened_for_is_built_through_its_init(collector):
    from django.db.models.signals import post_init

    lot = factories.make_lot(seller=collector)
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.__dict__.get("id"))

    post_init.connect(listener, sender=Lot)
    try:
        (raw,) = fetch_instances(Lot, f"SELECT id, title FROM {Lot._meta.db_table} WHERE id = %s", [lot.pk])
    finally:
        post_init.disconnect(listener, sender=Lot)
    assert seen == [lot.pk] and raw.title == lot.title


def test_related_rows_and_left_join_nulls(collector, coop_admin, django_assert_num_queries):
    sql = (
        f"SELECT u.*, {select_columns(Company, 'c', 'company')} FROM {User._meta.db_table} u "
        f"LEFT JOIN {Company._meta.db_table} c ON c.id = u.company_id WHERE u.id IN (%s, %s) ORDER BY u.id"
    )
    with django_assert_num_queries(1):
        users = fetch_instances(User, sql, [collector.pk, coop_admin.pk], related={"company": Company})
    with django_assert_num_queries(0):
        by_id = {user.pk: user.company for user in users}
    assert _fields(by_id[collector.pk]) == _fields(Company.objects.get(pk=collector.company_id))
    assert by_id[coop_admin.pk] is None


def test_pk_in_range():
    assert pk_in_range(1) and pk_in_range("9223372036854775807")
    assert not pk_in_range(9223372036854775808)


def test_statements_together_return_each_ones_rows(collector):
    notices = [Notification(user=collector, kind="k", title=f"t{n}") for n in range(2)]
    insert = insert_statement(Notification, notices)
    update = (f"UPDATE {Notification._meta.db_table} SET body = %s WHERE user_id = %s", ["b", collector.pk])
    count = (f"SELECT count(*) FROM {Notification._meta.db_table} WHERE body = %s", ["b"])

    inserted, updated, counted = execute_together([insert, update, count])

    assert len(inserted) == 2 and updated == [] and counted == [(2,)]
    assert sorted(Notification.objects.values_list("title", flat=True)) == ["t0", "t1"]
    assert connection.vendor in ("sqlite", "postgresql")


def test_typed_extra_columns_are_converted_as_their_fields(collector):
    lot = factories.make_lot(seller=collector)
    sql = (
        f"SELECT l.id, l.title, (SELECT x.created_at FROM {Lot._meta.db_table} x WHERE x.id = l.id) AS stamp, "
        f"(l.id = l.id) AS flag, l.id + 1 AS plain FROM {Lot._meta.db_table} l WHERE l.id = %s"
    )
    typed = {"stamp": Lot._meta.get_field("created_at"), "flag": Lot._meta.get_field("seller_delivers")}

    (raw,) = fetch_instances(Lot, sql, [lot.pk], typed=typed)

    assert raw.stamp == Lot.objects.get(pk=lot.pk).created_at and raw.stamp.tzinfo is not None
    assert raw.flag is True  # SQLite answers 1
    assert raw.plain == lot.pk + 1
    assert raw.get_deferred_fields() >= {"description", "ends_at"}  # only what was selected is loaded


def test_statements_together_build_model_instances(collector):
    lot = factories.make_lot(seller=collector)
    notice = (f"UPDATE {Notification._meta.db_table} SET body = %s WHERE user_id = %s", ["b", collector.pk])
    read = (f"SELECT * FROM {Lot._meta.db_table} WHERE id = %s", [lot.pk], Lot)

    with transaction.atomic():
        updated, (built,) = execute_together([notice, read])

    assert updated == [] and isinstance(built, Lot) and _fields(built) == _fields(Lot.objects.get(pk=lot.pk))
