# The API's clients (token auth) and people, as in tests/crm/api/.
from tests.crm.api.conftest import (  # noqa: F401
    anonymous_client,
    shopper,
    shopper_client,
    staff_client,
    staff_user,
)
