"""Files uploaded for import, kept under ``MEDIA_ROOT/imports/`` until a worker has read them, and the
limits an order file must keep before it is read."""

import uuid
import zipfile
from pathlib import Path
from typing import IO

import pyarrow
import pyarrow.parquet
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename


class OrderFileTooLarge(ValueError):
    """An order file over one of the import's limits; the message names the limit and its setting."""


def upload_store(*, uploaded: UploadedFile) -> Path:
    """Write an upload to its own file (a random prefix keeps two uploads of one name apart)."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex[:12]}-{get_valid_filename(Path(uploaded.name).name)}"
    with path.open("wb") as target:
        for chunk in uploaded.chunks():
            target.write(chunk)
    return path


def order_file_limits_check(*, source: Path | IO[bytes], file_type: str) -> None:
    """Refuse, before it is read, an XLSX file whose members unpack to more than
    ``IMPORT_MAX_UNPACKED_BYTES``, or a Parquet file with more than ``IMPORT_MAX_ROWS`` rows or more
    than ``IMPORT_MAX_UNPACKED_BYTES`` of uncompressed column data. Only the zip's directory and the
    Parquet footer are read. A CSV file has nothing packed: the upload limit is its limit.

    A small file that unpacks to gigabytes (a "zip bomb") would otherwise exhaust the worker's memory.
    The sizes a zip declares bind what Python's zipfile (and so openpyxl) unpacks: a member that holds
    more than it declares is cut off there and fails its checksum.

    Raises ``OrderFileTooLarge``; a file that is not a zip or a Parquet file at all is left to the
    reader, which reports it as unreadable.
    """
    if file_type == "xlsx":
        _xlsx_check(source)
    elif file_type == "parquet":
        _parquet_check(source)


def _rewound(source: Path | IO[bytes]) -> Path | IO[bytes]:
    if not isinstance(source, Path):
        source.seek(0)
    return source


def _xlsx_check(source: Path | IO[bytes]) -> None:
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    try:
        with zipfile.ZipFile(_rewound(source)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return
    finally:
        _rewound(source)
    if unpacked > limit:
        raise OrderFileTooLarge(
            f"The spreadsheet unpacks to {filesizeformat(unpacked)}; the largest accepted is "
            f"{filesizeformat(limit)} unpacked (IMPORT_MAX_UNPACKED_BYTES)."
        )


def _parquet_check(source: Path | IO[bytes]) -> None:
    try:
        metadata = pyarrow.parquet.ParquetFile(_rewound(source)).metadata
    except (pyarrow.ArrowException, OSError):
        return
    finally:
        _rewound(source)
    row_limit = settings.IMPORT_MAX_ROWS
    if metadata.num_rows > row_limit:
        raise OrderFileTooLarge(
            f"The Parquet file holds {metadata.num_rows:,} rows; the most accepted is {row_limit:,} "
            "(IMPORT_MAX_ROWS)."
        )
    unpacked = sum(metadata.row_group(index).total_byte_size for index in range(metadata.num_row_groups))
    byte_limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if unpacked > byte_limit:
        raise OrderFileTooLarge(
            f"The Parquet file's columns unpack to {filesizeformat(unpacked)}; the largest accepted is "
            f"{filesizeformat(byte_limit)} unpacked (IMPORT_MAX_UNPACKED_BYTES)."
        )
