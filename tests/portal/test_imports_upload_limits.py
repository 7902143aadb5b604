"""The import upload's limits in the portal: an upload over IMPORT_UPLOAD_MAX_BYTES is dropped while it
streams in (or not read at all when its declared length is over), and a packed file over the unpacked
limits is refused before a job is queued; each with a message naming the limit."""

import io
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from core.models import Job
from core.roles import DATA_ADMIN
from portal.imports.handlers import MULTIPART_ALLOWANCE_BYTES, UploadLimitHandler, upload_rejection
from tests.crm.services.test_uploads import ROWS, zip_bomb_xlsx
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

CSV_HEADER = b"order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
CSV_ROW = b"O1,C1,P1,1,2.50,2011-12-01T10:00:00\n"


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    return tmp_path


@pytest.fixture
def admin() -> Client:
    client = Client()
    client.force_login(StaffUserFactory(username="importer", roles=[DATA_ADMIN]))
    return client


def _post(client: Client, name: str, content: bytes):
    return client.post(
        reverse("staff:data_import"), {"file": SimpleUploadedFile(name, content), "layout": "auto"}
    )


def _text(response) -> str:
    return response.content.decode().replace("\xa0", " ")


def _nothing_kept(media_root: Path) -> bool:
    return (
        not Job.objects.exists()
        and not (media_root / "media" / "imports").exists()
        and not any((media_root / "uploads").iterdir())
    )


def test_an_upload_that_passes_the_limit_while_streaming_is_dropped(admin, media_root, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    # past Django's in-memory size, so the part read so far went to a temporary file
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100

    response = _post(admin, "orders.csv", CSV_HEADER + CSV_ROW * 100)

    assert response.status_code == 413
    assert (
        "The file is more than 1000 bytes; the largest accepted is 1000 bytes (IMPORT_UPLOAD_MAX_BYTES)"
        in _text(response)
    )
    assert _nothing_kept(media_root)


def test_an_upload_declared_over_the_limit_is_not_read(admin, media_root, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000

    response = _post(admin, "orders.csv", CSV_HEADER + CSV_ROW * 5000)

    assert response.status_code == 413
    assert (
        "The file is about 176.0 KB; the largest accepted is 1000 bytes (IMPORT_UPLOAD_MAX_BYTES)"
        in _text(response)
    )
    assert _nothing_kept(media_root)


def test_an_upload_within_the_limit_is_queued(
    admin, media_root, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000

    with django_capture_on_commit_callbacks():
        response = _post(admin, "orders.csv", CSV_HEADER + CSV_ROW * 10)

    assert response.status_code == 302
    assert Job.objects.filter(kind=Job.Kind.IMPORT).count() == 1


def test_a_refused_upload_needs_no_csrf_token_and_a_good_one_still_does(media_root, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    client = Client(enforce_csrf_checks=True)
    client.force_login(StaffUserFactory(username="importer-2", roles=[DATA_ADMIN]))

    refused = _post(client, "orders.csv", CSV_HEADER + CSV_ROW * 100)
    unchecked = _post(client, "orders.csv", CSV_HEADER + CSV_ROW * 10)

    assert refused.status_code == 413
    assert unchecked.status_code == 403
    assert not Job.objects.exists()


def test_a_login_that_may_not_import_gets_403(media_root, settings):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    client = Client()
    client.force_login(StaffUserFactory(username="no-import", roles=[]))

    assert _post(client, "orders.csv", CSV_HEADER + CSV_ROW * 100).status_code == 403


def test_a_zip_bomb_spreadsheet_is_refused_before_a_job_is_queued(admin, media_root, settings, tmp_path):
    settings.IMPORT_MAX_UNPACKED_BYTES = 1_000_000
    path = tmp_path / "orders.xlsx"
    zip_bomb_xlsx(path, unpacked_bytes=5_000_000)

    response = _post(admin, "orders.xlsx", path.read_bytes())

    assert response.status_code == 400
    assert "The spreadsheet unpacks to 4.8 MB; the largest accepted is 976.6 KB unpacked" in _text(response)
    assert _nothing_kept(media_root)


def test_a_parquet_file_with_too_many_rows_is_refused_before_a_job_is_queued(admin, media_root, settings):
    settings.IMPORT_MAX_ROWS = 10
    parquet = io.BytesIO()
    ROWS.to_parquet(parquet, index=False)

    response = _post(admin, "orders.parquet", parquet.getvalue())

    assert response.status_code == 400
    assert "The Parquet file holds 50 rows; the most accepted is 10 (IMPORT_MAX_ROWS)." in _text(response)
    assert _nothing_kept(media_root)


def test_a_parquet_file_within_the_limits_is_queued(
    admin, media_root, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_ROWS = 50
    parquet = io.BytesIO()
    pd.DataFrame(ROWS).to_parquet(parquet, index=False)

    with django_capture_on_commit_callbacks():
        response = _post(admin, "orders.parquet", parquet.getvalue())

    assert response.status_code == 302
    assert Job.objects.filter(kind=Job.Kind.IMPORT).count() == 1


# --- The handler on its own: what is read, what is stored --------------------------------------


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


class StoredBytes(FileUploadHandler):
    """Stands in for Django's storing handlers: counts what reaches them."""

    stored = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.stored += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _parse(
    file_bytes: int, *, max_bytes: int
) -> tuple[HttpRequest, CountingStream, StoredBytes, object, object]:
    body = encode_multipart(
        BOUNDARY, {"layout": "auto", "file": SimpleUploadedFile("orders.csv", b"x" * file_bytes)}
    )
    request = HttpRequest()
    stream = CountingStream(body)
    stored = StoredBytes(request)
    temporary = TemporaryFileUploadHandler(request)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    handlers = [UploadLimitHandler(request, max_bytes=max_bytes), stored, temporary]
    post, files = MultiPartParser(meta, stream, handlers).parse()
    return request, stream, stored, post, files


def test_storing_stops_at_the_limit_while_the_file_streams_in(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    request, _, stored, post, files = _parse(MULTIPART_ALLOWANCE_BYTES // 2, max_bytes=10_000)

    assert "file" not in files and post["layout"] == "auto"
    # what went to storage ended within a chunk of the limit, and its temporary file is gone
    assert stored.stored <= 10_000 + settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    assert stored.stored < MULTIPART_ALLOWANCE_BYTES // 2
    assert not list(tmp_path.iterdir())
    assert "the largest accepted is 9.8" in upload_rejection(request).replace("\xa0", " ")


def test_a_body_declared_over_the_limit_is_not_read_at_all():
    request, stream, stored, post, files = _parse(200_000, max_bytes=10_000)

    assert stream.bytes_read == 0 and stored.stored == 0 and not files and not post
    assert upload_rejection(request).startswith("The file is about 195.")
