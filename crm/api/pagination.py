from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    # Large enough for a nightly export in a few hundred requests, small enough that one page
    # never holds a worker for long.
    max_page_size = 500
