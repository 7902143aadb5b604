"""Fast bulk writes: PostgreSQL COPY where available, large ``bulk_create`` batches elsewhere; deletes of
more rows than one statement may name."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models

# Rows per executemany on backends without COPY: large enough to amortise the calls, small enough
# to keep the prepared batch in memory cheaply.
BULK_CREATE_BATCH_SIZE = 5000
# Rows per delete of ``bulk_delete``: Django names a deleted batch's ids in the statements that reach
# their related rows (a SET_NULL update, the cascades), and PostgreSQL takes at most 65,535 parameters
# in one statement.
BULK_DELETE_BATCH_SIZE = 10_000


def bulk_insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = "default",
) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``, given as attnames such as ``order_id``).

    No model ``save()`` or signals run: callers pass complete, validated values, including any
    ``auto_now`` timestamps. Returns the number of rows written.
    """
    connection = connections[using]
    columns = [model._meta.get_field(_field_name(model, name)).column for name in fields]
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        table = connection.ops.quote_name(model._meta.db_table)
        column_sql = ", ".join(connection.ops.quote_name(column) for column in columns)
        # COPY adapts values by their Python type: a JSON field's dict or list is sent as jsonb
        json_positions = [
            position
            for position, name in enumerate(fields)
            if isinstance(model._meta.get_field(_field_name(model, name)), models.JSONField)
        ]
        written = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy,
        ):
            for row in rows:
                if json_positions:
                    row = list(row)
                    for position in json_positions:
                        if row[position] is not None:
                            row[position] = Jsonb(row[position])
                copy.write_row(row)
                written += 1
        return written

    # Elsewhere: executemany of plain INSERTs with values prepared by each field, without building a
    # model instance per row (several times faster than bulk_create for large imports).
    model_fields = [model._meta.get_field(_field_name(model, name)) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(column) for column in columns)
    sql = f"INSERT INTO {table} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
    written = 0
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(
                tuple(
                    None if value is None else field.get_db_prep_save(value, connection)
                    for field, value in zip(model_fields, row, strict=True)
                )
            )
            if len(batch) >= BULK_CREATE_BATCH_SIZE:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def bulk_delete(queryset: models.QuerySet, *, batch_size: int = BULK_DELETE_BATCH_SIZE) -> int:
    """Delete the rows of ``queryset`` as ``queryset.delete()`` would (related rows by their
    ``on_delete``), ``batch_size`` rows at a time, so that a delete of any size stays under the
    database's parameter limit. Returns the rows deleted, related ones included. Run it in a
    transaction to make it all or nothing.
    """
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    manager = queryset.model._base_manager.using(queryset.db)
    return sum(
        manager.filter(pk__in=ids[start : start + batch_size]).only("pk").delete()[0]
        for start in range(0, len(ids), batch_size)
    )


def _field_name(model: type[models.Model], attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    raise ValueError(f"{model.__name__} has no column {attname!r}")
