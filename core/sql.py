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
from django.db.models import Model
from django.db.models.sql import Query

M = TypeVar("M", bound=Model)

_plans: dict[tuple, tuple] = {}


def _plan(model: type[Model], columns: tuple[str, ...], using: str) -> tuple:
    connection = connections[using]
    by_column = {field.column: field for field in model._meta.concrete_fields}
    fields = [by_column.get(column) for column in columns]
    if model._meta.pk.column not in columns:
        raise ValueError(f"the SQL must select {model._meta.db_table}.{model._meta.pk.column}")
    # Model.from_db takes the values in the model's field order, not the table's.
    present = [field for field in model._meta.concrete_fields if field.column in columns]
    names = [field.attname for field in present]
    positions = [columns.index(field.column) for field in present]
    extras = [(column, index) for index, column in enumerate(columns) if fields[index] is None]
    compiler = connection.ops.compiler("SQLCompiler")(Query(model), connection, using)
    cols = [field.get_col(model._meta.db_table) if field is not None else None for field in fields]
    converters = list(compiler.get_converters(cols).items())
    return names, positions, extras, converters


def pk_in_range(value: Any, *, using: str = "default") -> bool:
    """Whether `value` fits a BigAutoField (the ORM finds nothing for an id out of range; the
    database driver would raise)."""
    low, high = connections[using].ops.integer_field_range("BigAutoField")
    return low <= int(value) <= high


def fetch_instances(model: type[M], sql: str, params: list[Any], *, using: str = "default") -> list[M]:
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = tuple(description[0] for description in cursor.description)
        rows = cursor.fetchall()
    key = (model, columns, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _plan(model, columns, using)
    names, positions, extras, converters = plan
    instances = []
    for row in rows:
        values = list(row)
        for index, (functions, expression) in converters:
            value = values[index]
            for function in functions:
                value = function(value, expression, connection)
            values[index] = value
        instance = model.from_db(using, names, [values[index] for index in positions])
        for column, index in extras:
            setattr(instance, column, values[index])
        instances.append(instance)
    return instances


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


def execute_together(statements: list[tuple[str, list[Any]]], *, using: str = "default") -> list[list[tuple]]:
    """Run the statements in order, in one round trip where the driver allows it (PostgreSQL
    with client-side binding, Django's default for psycopg 3: several statements in one query
    string), else one by one. Returns each statement's rows ([] for one that returns none)."""
    connection = connections[using]
    together = connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    results: list[list[tuple]] = []
    with connection.cursor() as cursor:
        if together:
            cursor.execute("; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params])
            for index in range(len(statements)):
                results.append(cursor.fetchall() if cursor.description is not None else [])
                if index < len(statements) - 1:
                    cursor.nextset()
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description is not None else [])
    return results
