"""Fast bulk writes: PostgreSQL COPY where available, large ``bulk_create`` batches elsewhere."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models

# Rows per INSERT on backends without COPY: large enough to amortise round trips, small enough
# to stay under SQLite's limit of 32,766 bound parameters for the widest table we write (~12 columns).
BULK_CREATE_BATCH_SIZE = 2000


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
        table = connection.ops.quote_name(model._meta.db_table)
        column_sql = ", ".join(connection.ops.quote_name(column) for column in columns)
        written = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        return written

    written = 0
    batch: list[models.Model] = []
    for row in rows:
        batch.append(model(**dict(zip(fields, row, strict=True))))
        if len(batch) >= BULK_CREATE_BATCH_SIZE:
            model.objects.using(using).bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        model.objects.using(using).bulk_create(batch)
        written += len(batch)
    return written


def _field_name(model: type[models.Model], attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    raise ValueError(f"{model.__name__} has no column {attname!r}")
