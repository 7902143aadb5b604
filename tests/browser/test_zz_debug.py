import pytest

from tests.browser.conftest import log_in
from tests.browser.test_promotion_and_pages import trained_shop  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_debug(page, trained_shop):  # noqa: F811
    log_in(page, username="staffer")
    print(page.evaluate("""() => [...document.querySelectorAll('#model-quality tr, #model-quality table, #model-quality')].map(n => n.tagName + ' ' + n.className + ' ' + Math.round(n.getBoundingClientRect().height) + 'x' + Math.round(n.getBoundingClientRect().width))"""))
    print(page.inner_html("#model-quality")[:3000])
    print(page.evaluate("() => [...document.styleSheets].map(s => s.href)"))
