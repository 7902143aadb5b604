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
    ``list(build(value, **shape))`` would."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        self._local = threading.local()

    def _compiled(self, kind: type, shape: dict):
        compiled = self._local.__dict__.setdefault("compiled", {})
        key = (kind, *sorted(shape.items()))
        if key not in compiled:
            placeholder = _PLACEHOLDERS[kind]
            queryset = self._build(placeholder, **shape)
            query = queryset.query
            compiler = query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            positions = [
                index for index, param in enumerate(params) if type(param) is kind and param == placeholder
            ]
            if not positions:
                raise ValueError("The prepared query must use its value at least once.")
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
            compiled[key] = (compiler, sql, tuple(params), frozenset(positions), names)
        return compiled[key]

    def rows(self, value: str | int, **shape) -> list[dict]:
        kind = type(value)
        if kind not in _PLACEHOLDERS:
            raise TypeError(f"A prepared value is a str or an int, not {kind.__name__}.")
        compiler, sql, params, positions, names = self._compiled(kind, shape)
        params = tuple(value if index in positions else param for index, param in enumerate(params))
        with connections[compiler.using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter(results=[fetched])]
