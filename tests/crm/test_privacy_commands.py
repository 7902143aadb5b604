"""Erasure from the command line: it asks first and names an unknown customer."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import AuditEvent, Customer
from tests.factories import (
    BehaviourEventFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_with_history():
    customer = CustomerFactory(external_id="C-ERASE", name="Ada Byron", email="ada@example.test")
    order = OrderFactory(customer=customer, external_id="O-ERASE")
    OrderLineFactory(order=order, quantity=3)
    BehaviourEventFactory(customer=customer)
    return customer


def test_the_command_asks_before_erasing(customer_with_history):
    # answering anything but yes erases nothing
    with pytest.raises(CommandError, match="Not erased"):
        call_command("erase_customer", "C-ERASE", stdin=io.StringIO("no\n"), stdout=io.StringIO())
    assert Customer.objects.filter(external_id="C-ERASE").exists()

    out = io.StringIO()
    call_command("erase_customer", "C-ERASE", stdin=io.StringIO("yes\n"), stdout=out)
    assert "Type 'yes' to erase" in out.getvalue() and "erased" in out.getvalue()
    assert "(1 order, kept anonymously)" in out.getvalue() and "1 order kept anonymously" in out.getvalue()
    assert "1 orders" not in out.getvalue() and "1 events" not in out.getvalue()
    assert not Customer.objects.filter(external_id="C-ERASE").exists()
    audit = AuditEvent.objects.get(action="customer_erased")
    assert audit.via == "command" and "command line" in audit.actor_name


def test_the_command_names_an_unknown_customer():
    with pytest.raises(CommandError, match="There is no customer 'NOBODY'"):
        call_command("erase_customer", "NOBODY", "--yes", stdout=io.StringIO())


def test_an_export_file_that_cannot_be_written_is_a_command_error_naming_it_and_a_missing_folder_is_made(
    tmp_path,
):
    from core.command_output import command_output

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with (
        pytest.raises(CommandError, match=r"^Cannot write .*a-file/x\.csv: "),
        command_output(str(blocked / "x.csv"), stdout=io.StringIO()),
    ):
        pass
    made = tmp_path / "new" / "folder" / "x.csv"
    with command_output(str(made), stdout=io.StringIO()) as out:
        out.write("ok")
    assert made.read_text() == "ok"


@pytest.mark.django_db
def test_export_segments_to_a_folder_that_cannot_be_made_says_so(tmp_path):
    """It ended in FileNotFoundError's traceback (export_promotion_targets, export_forecast and
    export_replenishment write through the same ``command_output``)."""
    SegmentRunFactory()
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(CommandError, match=r"^Cannot write .*a-file/segments\.csv: "):
        call_command("export_segments", "--out", str(blocked / "segments.csv"), stderr=io.StringIO())
