"""CSV responses of the portal, streamed row by row."""

from collections.abc import Iterable

from django.http import StreamingHttpResponse

from crm.csv_safety import csv_safe_writer


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming CSV rows."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list], *, filename: str) -> StreamingHttpResponse:
    writer = csv_safe_writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
