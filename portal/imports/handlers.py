"""An upload handler that stops reading an import upload once it passes ``IMPORT_UPLOAD_MAX_BYTES``.

Django's own handlers store the whole upload (in memory, then in a temporary file) before a form can
look at its size. This one goes first: a request whose declared length is already over the limit is not
read at all, and a file that passes the limit while it streams in is dropped there, its temporary file
deleted. The view then answers 413 with the limit in words.
"""

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict

# Room for the multipart boundaries, headers and the form's other fields around the file, so that a
# request carrying a file just under the limit is not refused on its declared length.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024
REJECTION_ATTRIBUTE = "upload_rejected"


class UploadLimitHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes

    def _reject(self, size_text: str) -> None:
        setattr(
            self.request,
            REJECTION_ATTRIBUTE,
            f"The file is {size_text}; the largest accepted is {filesizeformat(self.max_bytes)} "
            "(IMPORT_UPLOAD_MAX_BYTES). Split it, or import it with the import_orders command.",
        )

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes + MULTIPART_ALLOWANCE_BYTES:
            self._reject(f"about {filesizeformat(content_length)}")
            # Nothing of the body is read: no fields, no file.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self._reject(f"more than {filesizeformat(self.max_bytes)}")
            # The file is dropped (its temporary file closed and deleted); the other fields are kept.
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_limit_install(request: HttpRequest, *, max_bytes: int) -> None:
    """Put the limit in front of Django's handlers. Before anything has read the request's body: Django
    refuses to change the handlers after that."""
    request.upload_handlers = [UploadLimitHandler(request, max_bytes=max_bytes), *request.upload_handlers]


def upload_rejection(request: HttpRequest) -> str | None:
    """Read the request's body (through the handlers) and say why its upload was refused; None if it
    was not."""
    request.POST  # noqa: B018  (parses the body, which runs the handlers)
    return getattr(request, REJECTION_ATTRIBUTE, None)
