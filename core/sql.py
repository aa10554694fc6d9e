"""Model instances from hand-written SQL, for the few reads on the bidding hot path.

The ORM compiles every query anew: on this project's 2-core machine a `Lot.objects.get(pk=…)`
costs ~1.3 ms of Python against ~0.4 ms for the same statement through a cursor, and
`Model.objects.raw()` still works out its column mapping and converters per call (~0.9 ms).
`fetch_instances` runs the SQL on a cursor and builds the instances with `Model.from_db`,
the mapping and the database's value converters worked out once per (model, columns,
database vendor). Extra columns become attributes, as with `raw()`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.db.models.sql import Query

M = TypeVar("M", bound=Model)

_plans: dict[tuple, tuple] = {}


def _part(model: type[Model], columns: tuple[str, ...], prefix: str, using: str) -> tuple:
    """How to build `model` from the columns named `prefix + column`: the attribute names in
    the model's field order (Model.from_db takes them so), their positions in the row, and the
    database's value converters by position."""
    connection = connections[using]
    present = [field for field in model._meta.concrete_fields if prefix + field.column in columns]
    if model._meta.pk not in present:
        raise ValueError(f"the SQL must select {prefix}{model._meta.pk.column}")
    positions = [columns.index(prefix + field.column) for field in present]
    compiler = connection.ops.compiler("SQLCompiler")(Query(model), connection, using)
    found = compiler.get_converters([field.get_col(model._meta.db_table) for field in present])
    converters = [(positions[index], functions, expression) for index, (functions, expression) in found.items()]
    return model, [field.attname for field in present], positions, converters


def _plan(
    model: type[Model],
    columns: tuple[str, ...],
    related: tuple[tuple[str, type[Model]], ...],
    typed: tuple[tuple[str, Field], ...],
    using: str,
):
    parts = [_part(model, columns, "", using)]
    parts += [_part(other, columns, f"{name}__", using) for name, other in related]
    taken = {position for part in parts for position in part[2]}
    fields = dict(typed)
    connection = connections[using]
    extras = []
    for index, column in enumerate(columns):
        if index in taken:
            continue
        functions: list = []
        expression = None
        if column in fields:
            field = fields[column]
            compiler = connection.ops.compiler("SQLCompiler")(Query(field.model), connection, using)
            expression = field.get_col(field.model._meta.db_table)
            found = compiler.get_converters([expression])
            functions = found[0][0] if found else []
        extras.append((column, index, functions, expression))
    return parts, extras


def select_columns(model: type[Model], alias: str, name: str) -> str:
    """`alias.col AS name__col, …` for every column of `model`: the select list of a related
    row for `fetch_instances(..., related={name: model})`."""
    return ", ".join(f"{alias}.{field.column} AS {name}__{field.column}" for field in model._meta.concrete_fields)


def pk_in_range(value: Any, *, using: str = "default") -> bool:
    """Whether `value` fits a BigAutoField (the ORM finds nothing for an id out of range; the
    database driver would raise)."""
    low, high = connections[using].ops.integer_field_range("BigAutoField")
    return low <= int(value) <= high


def fetch_instances(
    model: type[M],
    sql: str,
    params: list[Any],
    *,
    related: dict[str, type[Model]] | None = None,
    typed: dict[str, Field] | None = None,
    using: str = "default",
) -> list[M]:
    """Instances of `model` from `sql`. `related={"company": Company}` also builds the row's
    `company` from the columns named `company__<column>` (see select_columns) and caches it on
    the instance's foreign key (None when its primary key is NULL, as with a LEFT JOIN).
    Other columns become attributes as the driver returns them, or, named in `typed`
    ({column: model field}), converted as that field's values are (a subquery's timestamp,
    a boolean on SQLite)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        columns, rows = _columns(cursor), cursor.fetchall()
    return build_instances(model, columns, rows, related=related, typed=typed, using=using)


def _columns(cursor: Any) -> tuple[str, ...]:
    """The current result's column names (none for a statement that returns no rows).
    psycopg's `description` builds a Column object per column on every access; its result
    object names them without that."""
    result = getattr(cursor.cursor, "pgresult", None)
    if result is not None:
        return tuple(result.fname(index).decode() for index in range(result.nfields))
    return tuple(description[0] for description in cursor.description or ())


def build_instances(
    model: type[M],
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    related: dict[str, type[Model]] | None = None,
    typed: dict[str, Field] | None = None,
    using: str = "default",
) -> list[M]:
    """fetch_instances for rows already fetched (see execute_together)."""
    connection = connections[using]
    related_items = tuple((related or {}).items())
    typed_items = tuple((typed or {}).items())
    key = (model, columns, related_items, typed_items, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _plan(model, columns, related_items, typed_items, using)
    parts, extras = plan
    make = _from_db if all(_plain(part[0]) for part in parts) else _model_from_db
    instances = []
    for row in rows:
        values = list(row)
        built = []
        for part_model, names, positions, converters in parts:
            if values[positions[names.index(part_model._meta.pk.attname)]] is None:
                built.append(None)
                continue
            for index, functions, expression in converters:
                value = values[index]
                for function in functions:
                    value = function(value, expression, connection)
                values[index] = value
            built.append(make(part_model, using, names, [values[index] for index in positions]))
        instance = built[0]
        for (name, _), other in zip(related_items, built[1:], strict=True):
            getattr(model, name).field.set_cached_value(instance, other)
        for column, index, functions, expression in extras:
            value = values[index]
            for function in functions:
                value = function(value, expression, connection)
            setattr(instance, column, value)
        instances.append(instance)
    return instances


def _plain(model: type[Model]) -> bool:
    """Whether Model.from_db is all that building `model` from a row involves: not overridden,
    and nothing listening for its instances' creation."""
    return (
        model.from_db.__func__ is Model.from_db.__func__
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )


def _model_from_db(model: type[M], using: str, names: list[str], values: list[Any]) -> M:
    return model.from_db(using, names, values)


def _from_db(model: type[M], using: str, names: list[str], values: list[Any]) -> M:
    """What Model.from_db builds for these attribute names (a subset of the model's, in its
    field order), without Model.__init__'s walk over every field with a DEFERRED marker for
    each one not selected (~13 µs for a lot against ~1 µs): the values go straight into the
    instance's __dict__, where __init__ would put them on a new instance, and the fields left
    out are deferred as with from_db (loaded on first access)."""
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding, state.db = False, using
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def insert_statement(model: type[Model], objs: list[Model], *, using: str = "default") -> tuple[str, list[Any]]:
    """One `INSERT … VALUES (…), (…) RETURNING pk` for unsaved `objs` with an auto primary key,
    values prepared by each field as `save()` would (defaults, JSON, decimals, times)."""
    connection = connections[using]
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs for field in fields]
    table, pk = connection.ops.quote_name(opts.db_table), connection.ops.quote_name(opts.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(objs))} RETURNING {pk}"  # noqa: S608
    return sql, params


def mark_saved(objs: list[Model], pks: list[Any], *, using: str = "default") -> None:
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using


def execute_together(statements: list[tuple], *, using: str = "default") -> list[list]:
    """Run the statements in order, in one round trip where the driver allows it (PostgreSQL
    with client-side binding, Django's default for psycopg 3: several statements in one query
    string), else one by one. A statement is `(sql, params)` or `(sql, params, Model)`.
    Returns, per statement, its rows ([] for one that returns none), or with a model the
    instances built from them (as fetch_instances builds them).

    On PostgreSQL each statement of the string runs after the one before it has finished, with
    a snapshot of its own (READ COMMITTED): a read after a `SELECT … FOR UPDATE` sees every
    row committed before the lock was granted."""
    connection = connections[using]
    together = connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    raw: list[tuple[tuple[str, ...], list[tuple]]] = []
    with connection.cursor() as cursor:

        def collect() -> None:
            columns = _columns(cursor)
            raw.append((columns, cursor.fetchall()) if columns else ((), []))

        if together:
            cursor.execute("; ".join(s[0] for s in statements), [p for s in statements for p in s[1]])
            for index in range(len(statements)):
                collect()
                if index < len(statements) - 1:
                    cursor.nextset()
        else:
            for sql, params, *_ in statements:
                cursor.execute(sql, params)
                collect()
    return [
        build_instances(s[2], columns, rows, using=using) if len(s) > 2 else rows
        for s, (columns, rows) in zip(statements, raw, strict=True)
    ]
