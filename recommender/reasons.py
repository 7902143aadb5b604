"""Readable reasons. The ``ml`` package refers to products by id (``{product:123}``); the text
stored with a recommendation names the product, so pages never look names up."""

import re
from collections.abc import Iterable, Mapping

PRODUCT_PLACEHOLDER = re.compile(r"\{product:(\d+)\}")


def reason_product_ids(reasons: Iterable[str]) -> set[int]:
    ids: set[int] = set()
    for reason in reasons:
        ids.update(int(match) for match in PRODUCT_PLACEHOLDER.findall(reason or ""))
    return ids


def render_reason(reason: str, product_names: Mapping[int, str]) -> str:
    """Replace ``{product:<id>}`` with the product's name (or a neutral word if it is unknown)."""

    def name(match: re.Match) -> str:
        return product_names.get(int(match.group(1)), "an item you bought")

    return PRODUCT_PLACEHOLDER.sub(name, reason or "")
