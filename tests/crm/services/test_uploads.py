"""The limits an order file keeps before it is read: what an XLSX file unpacks to (a zip bomb is refused
from its directory alone) and a Parquet file's rows and unpacked columns, from its footer."""

import io
import zipfile

import pandas as pd
import pytest
from django.test import override_settings

from crm.services.importing import ImportValidationError, read_order_file
from crm.services.uploads import OrderFileTooLarge, order_file_limits_check

ROWS = pd.DataFrame(
    {
        "order_id": [f"O{index}" for index in range(50)],
        "customer_id": "C1",
        "product_id": "P1",
        "quantity": "1",
        "unit_price": "2.50",
        "ordered_at": "2011-12-01T10:00:00",
    }
)


def zip_bomb_xlsx(path, *, unpacked_bytes: int) -> None:
    """A real spreadsheet with one highly compressible member: a few kilobytes packed."""
    ROWS.head(2).to_excel(path, index=False)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * unpacked_bytes)


@override_settings(IMPORT_MAX_UNPACKED_BYTES=1_000_000)
def test_a_zip_bomb_spreadsheet_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "orders.xlsx"
    zip_bomb_xlsx(path, unpacked_bytes=5_000_000)
    assert path.stat().st_size < 50_000

    with pytest.raises(OrderFileTooLarge) as refused:
        order_file_limits_check(source=path, file_type="xlsx")
    with path.open("rb") as opened, pytest.raises(OrderFileTooLarge):
        order_file_limits_check(source=opened, file_type="xlsx")
    with pytest.raises(ImportValidationError) as import_refused:
        read_order_file(path)

    message = str(refused.value).replace("\xa0", " ")
    assert message == (
        "The spreadsheet unpacks to 4.8 MB; the largest accepted is 976.6 KB unpacked "
        "(IMPORT_MAX_UNPACKED_BYTES)."
    )
    assert str(refused.value) in str(import_refused.value)


@override_settings(IMPORT_MAX_UNPACKED_BYTES=1_000_000)
def test_a_spreadsheet_within_the_limit_is_read(tmp_path):
    path = tmp_path / "orders.xlsx"
    zip_bomb_xlsx(path, unpacked_bytes=10_000)

    order_file_limits_check(source=path, file_type="xlsx")

    assert list(read_order_file(path)["order_id"]) == ["O0", "O1"]


def test_a_parquet_file_with_too_many_rows_is_refused_from_its_footer(tmp_path):
    path = tmp_path / "orders.parquet"
    ROWS.to_parquet(path, index=False)

    with override_settings(IMPORT_MAX_ROWS=49):
        with pytest.raises(OrderFileTooLarge) as refused:
            order_file_limits_check(source=path, file_type="parquet")
        with pytest.raises(ImportValidationError) as import_refused:
            read_order_file(path)
    with override_settings(IMPORT_MAX_ROWS=50):
        assert len(read_order_file(path)) == 50

    assert str(refused.value) == "The Parquet file holds 50 rows; the most accepted is 49 (IMPORT_MAX_ROWS)."
    assert str(refused.value) in str(import_refused.value)


@override_settings(IMPORT_MAX_UNPACKED_BYTES=100_000)
def test_a_parquet_file_whose_columns_unpack_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "orders.parquet"
    # one row whose name compresses to almost nothing
    frame = ROWS.head(1).assign(product_name="x" * 1_000_000)
    frame.to_parquet(path, index=False, compression="zstd")
    assert path.stat().st_size < 100_000

    with pytest.raises(OrderFileTooLarge) as refused:
        order_file_limits_check(source=path, file_type="parquet")

    assert "IMPORT_MAX_UNPACKED_BYTES" in str(refused.value)


def test_csv_and_broken_files_are_left_to_the_reader(tmp_path):
    broken = io.BytesIO(b"PK\x03\x04 not really a zip")

    order_file_limits_check(source=broken, file_type="xlsx")
    order_file_limits_check(source=io.BytesIO(b"PAR1 nor a parquet file"), file_type="parquet")
    order_file_limits_check(source=io.BytesIO(b"a,b\n1,2\n"), file_type="csv")

    assert broken.tell() == 0
