import datetime as dt
import io
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from core.roles import ROLE_PERMISSIONS
from crm.models import Customer, Order
from crm.services.demo_setup import demo_history_move_forward, demo_logins_ensure
from tests.factories import CustomerFactory, OrderFactory

UCI_QUIRKS = Path(__file__).resolve().parents[1] / "data" / "uci_quirks.csv"


def test_demo_makes_one_login_per_role_and_keeps_them(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    CustomerFactory()

    credentials = demo_logins_ensure()

    assert set(credentials["role_logins"]) == set(ROLE_PERMISSIONS)
    for role, login in credentials["role_logins"].items():
        user = get_user_model().objects.get(username=login["username"])
        assert user.check_password(login["password"]) and user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
    # a second run keeps the same logins (the file under var/ is the memory)
    again = demo_logins_ensure()
    assert again["role_logins"] == credentials["role_logins"]
    assert (
        json.loads((tmp_path / "demo-credentials.json").read_text())["role_logins"]
        == credentials["role_logins"]
    )


def test_the_demo_history_moves_forward_by_whole_weeks_to_end_in_the_week_before_today(db):
    first = OrderFactory(placed_at=dt.datetime(2011, 3, 4, 9, 30, tzinfo=dt.UTC))
    last = OrderFactory(placed_at=dt.datetime(2011, 12, 9, 12, 50, tzinfo=dt.UTC))
    today = dt.date(2026, 12, 6)

    weeks = demo_history_move_forward(today=today)

    first.refresh_from_db()
    last.refresh_from_db()
    assert weeks == (today - dt.date(2011, 12, 9)).days // 7
    assert today - dt.timedelta(days=7) < last.placed_at.date() <= today
    assert last.placed_at.weekday() == 4 and last.placed_at.time() == dt.time(12, 50)
    assert last.placed_at - first.placed_at == dt.datetime(2011, 12, 9, 12, 50) - dt.datetime(
        2011, 3, 4, 9, 30
    )
    # a history that ends within the week already stays where it is
    assert demo_history_move_forward(today=today) == 0


def test_setup_demo_continues_its_history_up_to_this_week_unless_asked_to_keep_the_dates(
    db, settings, tmp_path
):
    """The demo's history ended in 2011: the first order placed in the shop today became the end of
    the history, and the nightly training failed for want of orders in the month before it."""
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("setup_demo", "--data", str(UCI_QUIRKS), "--no-train", stdout=out)

    latest = Order.objects.latest("placed_at").placed_at
    assert (
        timezone.localdate() - dt.timedelta(days=7)
        < timezone.localtime(latest).date()
        <= timezone.localdate()
    )
    assert "Moved the history forward by" in out.getvalue()
    customer = Customer.objects.get(external_id="17850")
    assert customer.signed_up_at == customer.orders.earliest("placed_at").placed_at

    Order.objects.all().delete()
    call_command("setup_demo", "--data", str(UCI_QUIRKS), "--no-train", "--keep-dates", stdout=io.StringIO())
    assert Order.objects.latest("placed_at").placed_at == dt.datetime(2011, 8, 12, 14, 50, tzinfo=dt.UTC)
