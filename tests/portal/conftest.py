from tests.inventory.conftest import small_shop  # noqa: F401  (the small shop of the inventory tests)
