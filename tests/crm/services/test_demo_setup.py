import json

from django.contrib.auth import get_user_model

from core.roles import ROLE_PERMISSIONS
from crm.services.demo_setup import demo_logins_ensure
from tests.factories import CustomerFactory


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
