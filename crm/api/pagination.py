from rest_framework.exceptions import ValidationError
from rest_framework.fields import IntegerField
from rest_framework.pagination import PageNumberPagination

from crm.api.query import query_value


class StandardPagination(PageNumberPagination):
    """Pages of ``page_size`` (1 to ``max_page_size``) rows. A page number or size that is not a number in
    range is a 400 naming the parameter; a page past the last one is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    # Large enough for a nightly export in a few hundred requests, small enough that one page
    # never holds a worker for long.
    max_page_size = 500
    # "?page=last" is not offered: the schema promises a page number.
    last_page_strings = ()

    def _query_integer(self, request, name: str, **bounds: int) -> int | None:
        value = query_value(request.query_params, name)
        if value is None:
            return None
        try:
            return IntegerField(**bounds).run_validation(value)
        except ValidationError as error:
            raise ValidationError({name: error.detail}) from error

    def get_page_size(self, request) -> int:
        size = self._query_integer(
            request, self.page_size_query_param, min_value=1, max_value=self.max_page_size
        )
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator) -> int:
        number = self._query_integer(request, self.page_query_param, min_value=1)
        return 1 if number is None else number

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters
