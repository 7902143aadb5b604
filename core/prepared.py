"""Hot-path reads compiled once per process.

Building a queryset and compiling it to SQL costs more than running it for a small indexed read. A
``PreparedValues`` lets the ORM build the SQL and its result converters on first use (per thread, since
database connections are per thread, and per shape, e.g. a LIMIT); later calls run the same SQL with
their own value. The SQL stays the ORM's, so model-level rules written as querysets keep one definition.
"""

import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

# Stand in for the caller's value, by its type, while the query is compiled, so that the field accepts
# it and its position among the parameters can be found.
_PLACEHOLDERS = {str: "\x1fprepared-value\x1f", int: -7_391_204_663_118_402}


class PreparedValues:
    """``build(value, **shape)`` returns a ``values()`` queryset that uses ``value`` as a query parameter
    (once, or once in each part of a union); ``rows(value, **shape)`` returns what
    ``list(build(value, **shape))`` would. ``value`` is a str, an int, or a tuple of ints for an
    ``__in`` lookup (compiled once per length)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        self._local = threading.local()

    def _compiled(self, placeholders: tuple, shape: dict):
        compiled = self._local.__dict__.setdefault("compiled", {})
        key = (tuple(type(placeholder) for placeholder in placeholders), *sorted(shape.items()))
        if key not in compiled:
            value = placeholders[0] if len(placeholders) == 1 and not shape.get("_many") else placeholders
            queryset = self._build(value, **{name: given for name, given in shape.items() if name != "_many"})
            query = queryset.query
            compiler = query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            positions = {
                index: which
                for index, param in enumerate(params)
                for which, placeholder in enumerate(placeholders)
                if type(param) is type(placeholder) and param == placeholder
            }
            if set(positions.values()) != set(range(len(placeholders))):
                raise ValueError("The prepared query must use its value at least once.")
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
            compiled[key] = (compiler, sql, tuple(params), positions, names)
        return compiled[key]

    def rows(self, value: str | int | tuple[int, ...], **shape) -> list[dict]:
        if isinstance(value, tuple):
            if not value or not all(type(item) is int for item in value):
                raise TypeError("A prepared tuple holds one int or more.")
            values = value
            placeholders = tuple(_PLACEHOLDERS[int] - index for index in range(len(value)))
            shape = {**shape, "_many": True}
        elif type(value) in _PLACEHOLDERS:
            values, placeholders = (value,), (_PLACEHOLDERS[type(value)],)
        else:
            raise TypeError(
                f"A prepared value is a str, an int or a tuple of ints, not {type(value).__name__}."
            )
        compiler, sql, params, positions, names = self._compiled(placeholders, shape)
        params = tuple(
            values[positions[index]] if index in positions else param for index, param in enumerate(params)
        )
        with connections[compiler.using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[fetched])]
