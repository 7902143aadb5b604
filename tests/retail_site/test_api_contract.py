"""The API keeps to the OpenAPI schema it serves, as a client generated from that schema sees it.

Schemathesis (``st run``) runs every check it has (``--checks all``: status codes, content types,
headers and bodies against the schema, schema-valid requests accepted and schema-violating ones
refused, auth not ignored, undeclared methods refused) over every operation, then a stateful run that
follows the schema's links (a list's first row to the operations on that row), against a live server
over HTTP, once with a staff token and once with a shopper's. A fixed seed and a few examples per
operation keep it reproducible and short; an operation added later is covered without a change here.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.retail_site.api_contract_shop import contract_shop_build

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ST = str(Path(sys.executable).with_name("st"))
SEED = "20261203"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Logging out with the run's own token would leave the rest of the run without one; it is tested alone
# in tests/crm/api/test_auth.py.
EXCLUDED_OPERATIONS = ["auth_token_destroy"]


@pytest.fixture
def contract_tokens() -> dict[str, str]:
    return contract_shop_build()


@pytest.fixture
def schema_file(tmp_path) -> Path:
    path = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    return path


def schemathesis_run(
    schema_file: Path, base_url: str, token: str, *, max_examples: int, phases: str = "all"
) -> None:
    excluded = [argument for name in EXCLUDED_OPERATIONS for argument in ("--exclude-operation-id", name)]
    command = [
        ST, "--config-file", str(CONFIG), "run", str(schema_file), "--url", base_url,
        "-H", f"Authorization: Token {token}",
        "--checks", "all",
        "--max-examples", str(max_examples),
        "--seed", SEED,
        "--workers", "1",
        "--generation-database", "none",
        "--no-color",
        *(["--phases", phases] if phases != "all" else []),
        *excluded,
    ]  # fmt: skip
    # run in the schema's folder: schemathesis keeps its cache beside where it runs
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=schema_file.parent)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]


def test_the_api_keeps_to_its_schema_for_staff(live_server, contract_tokens, schema_file):
    schemathesis_run(schema_file, live_server.url, contract_tokens["staff"], max_examples=5)


def test_the_api_keeps_to_its_schema_for_a_shopper(live_server, contract_tokens, schema_file):
    # Every boundary value of every parameter (the coverage phase) is the staff run's; a shopper's run
    # adds what differs for a shopper: which operations answer 403 or 404, and the links it can follow.
    schemathesis_run(
        schema_file, live_server.url, contract_tokens["shopper"], max_examples=5, phases="fuzzing,stateful"
    )
