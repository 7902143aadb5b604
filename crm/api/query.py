"""Reading query parameters the way the schema describes them: each scalar parameter at most once, and
a value that cannot be read is a 400 naming the parameter (never treated as absent)."""

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

ONCE = "Give this parameter once."


def query_value(query: QueryDict, name: str) -> str | None:
    """The one value of ``name``, or None if it is absent."""
    values = query.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [ONCE]})
    return values[0] if values else None


def query_validated(query: QueryDict, serializer_class: type[serializers.Serializer]) -> dict:
    """The query parameters ``serializer_class`` declares, validated by it (an empty value included:
    ``?limit=`` is not a number)."""
    data = {}
    for name in serializer_class().fields:
        value = query_value(query, name)
        if value is not None:
            data[name] = value
    reading = serializer_class(data=data)
    reading.is_valid(raise_exception=True)
    return reading.validated_data
