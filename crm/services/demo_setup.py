"""Everything `make run` needs on top of an import of the UCI demo file: categories, consent,
logins. Only for the demo: imports of a retailer's own data carry their own categories and consent."""

import datetime as dt
import hashlib
import json
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count, F, Max, Min

from core.roles import ROLE_PERMISSIONS
from crm.models import Category, Customer, Order, Product

# (department, category, words in the product name). The first rule that matches wins, so the
# specific ones come first. Words are matched as whole words in the upper-cased name.
DEMO_CATEGORY_RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Seasonal", "Christmas", ("CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE", "BAUBLE")),
    ("Seasonal", "Easter", ("EASTER", "EGG", "BUNNY", "CHICK")),
    ("Home", "Candles & lights", ("CANDLE", "T-LIGHT", "TEALIGHT", "LANTERN", "LIGHT", "LIGHTS", "LAMP")),
    ("Home", "Clocks", ("CLOCK",)),
    ("Home", "Frames & signs", ("FRAME", "SIGN", "PLAQUE", "MIRROR")),
    (
        "Home",
        "Storage",
        ("BOX", "BOXES", "TIN", "TINS", "BASKET", "DRAWER", "CABINET", "CRATE", "HOOK", "HANGER"),
    ),
    ("Kitchen & dining", "Baking", ("CAKE", "CAKESTAND", "BAKING", "CUPCAKE", "MOULD", "CASES")),
    (
        "Kitchen & dining",
        "Tableware",
        (
            "MUG",
            "CUP",
            "CUPS",
            "PLATE",
            "PLATES",
            "BOWL",
            "BOWLS",
            "SAUCER",
            "TEAPOT",
            "GLASS",
            "JUG",
            "TRAY",
            "NAPKINS",
            "COASTER",
            "COASTERS",
        ),
    ),
    (
        "Kitchen & dining",
        "Kitchen",
        ("JAR", "JARS", "BOTTLE", "LUNCH", "APRON", "TOWEL", "SPOON", "KITCHEN", "TEA"),
    ),
    ("Bags & accessories", "Bags", ("BAG", "BAGS", "SHOPPER", "TOTE", "PURSE", "WALLET")),
    (
        "Bags & accessories",
        "Jewellery",
        ("NECKLACE", "BRACELET", "EARRINGS", "RING", "JEWEL", "BROOCH", "CHARM"),
    ),
    ("Bags & accessories", "Hair & umbrellas", ("UMBRELLA", "HAIR", "SLIDE", "CLIP", "SCARF", "GLOVES")),
    ("Stationery & gift wrap", "Cards & wrap", ("CARD", "CARDS", "WRAP", "TAG", "TAGS", "RIBBON", "RIBBONS")),
    (
        "Stationery & gift wrap",
        "Paper & stationery",
        (
            "NOTEBOOK",
            "PAPER",
            "PEN",
            "PENCIL",
            "PENCILS",
            "STICKER",
            "STICKERS",
            "ENVELOPE",
            "CALENDAR",
            "DIARY",
            "ERASER",
        ),
    ),
    (
        "Kids",
        "Toys & games",
        (
            "TOY",
            "GAME",
            "GAMES",
            "DOLL",
            "PUZZLE",
            "SPACEBOY",
            "DOLLY",
            "SKIPPING",
            "PLAYHOUSE",
            "CHILDRENS",
            "CHILDREN'S",
            "KIDS",
            "BABY",
        ),
    ),
    ("Garden", "Garden", ("GARDEN", "BIRD", "PLANT", "PLANTER", "POT", "WATERING", "FLOWER")),
    ("Party", "Party", ("PARTY", "BUNTING", "BALLOON", "BALLOONS", "GARLAND", "CONFETTI", "STRAWS")),
    (
        "Home",
        "Decorations",
        (
            "DECORATION",
            "HEART",
            "HANGING",
            "ORNAMENT",
            "WREATH",
            "DOORSTOP",
            "CUSHION",
            "THROW",
            "DOORMAT",
            "BUNNIES",
        ),
    ),
]
DEMO_OTHER = ("Gifts", "Other gifts")
DEMO_CONSENT_SHARE = 0.65
CREDENTIALS_FILE = "demo-credentials.json"


def demo_category_for(name: str) -> tuple[str, str]:
    words = set(re.findall(r"[A-Z0-9'\-]+", name.upper()))
    for department, category, keywords in DEMO_CATEGORY_RULES:
        if words.intersection(keywords):
            return department, category
    return DEMO_OTHER


@transaction.atomic
def demo_categories_assign() -> int:
    """Give every product without a category a demo category from words in its name."""
    products = list(Product.objects.filter(category__isnull=True).only("id", "name"))
    if not products:
        return 0
    nodes: dict[str, Category] = {category.path: category for category in Category.objects.all()}

    def node(path: str, name: str, parent: Category | None) -> Category:
        if path not in nodes:
            nodes[path] = Category.objects.create(path=path, name=name, parent=parent)
        return nodes[path]

    for product in products:
        department, category = demo_category_for(product.name)
        parent = node(department, department, None)
        product.category = node(f"{department}/{category}", category, parent)
    Product.objects.bulk_update(products, ["category"], batch_size=2000)
    return len(products)


@transaction.atomic
def demo_history_move_forward(*, today: dt.date) -> int:
    """Move every order forward by whole weeks, so that the history ends in the week before ``today``;
    returns the number of weeks (0 when it ends later than a week ago).

    The demo's file ends in December 2011. Left there, the first order placed in the shop today would
    become the end of the history that the dashboard, the segments, the forecasts and the training
    window are measured from, fifteen years after every other order. Whole weeks keep each order's
    weekday, and so the shop's weekly pattern."""
    latest = Order.objects.aggregate(latest=Max("placed_at"))["latest"]
    if latest is None:
        return 0
    weeks = (today - latest.date()).days // 7
    if weeks <= 0:
        return 0
    Order.objects.update(placed_at=F("placed_at") + dt.timedelta(weeks=weeks))
    return weeks


@transaction.atomic
def demo_customers_complete() -> int:
    """Sign-up date (first order), a placeholder e-mail, and a reproducible 65% opted in."""
    first_orders = dict(
        Order.objects.filter(customer__isnull=False)
        .values("customer_id")
        .annotate(first=Min("placed_at"))
        .values_list("customer_id", "first")
    )
    customers = list(Customer.objects.filter(signed_up_at__isnull=True))
    for customer in customers:
        customer.signed_up_at = first_orders.get(customer.pk)
        if not customer.email:
            customer.email = f"customer{customer.external_id.lower()}@example.com"
        digest = hashlib.sha256(f"consent:{customer.external_id}".encode()).digest()
        customer.email_opt_in = digest[0] / 256 < DEMO_CONSENT_SHARE
        customer.consent_changed_at = customer.signed_up_at
    Customer.objects.bulk_update(
        customers, ["signed_up_at", "email", "email_opt_in", "consent_changed_at"], batch_size=2000
    )
    return len(customers)


def demo_logins_ensure() -> dict:
    """A staff login with every right, one staff login per role (``role_logins``: role -> username and
    password), and a shopper login tied to a customer with a long order history.

    Passwords are made once, kept in var/demo-credentials.json and printed by ``setup_demo``.
    """
    path = Path(settings.VAR_DIR) / CREDENTIALS_FILE
    credentials = json.loads(path.read_text()) if path.exists() else {}
    credentials.setdefault("staff_username", "staff")
    credentials.setdefault("staff_password", secrets.token_urlsafe(10))
    credentials.setdefault("shopper_username", "shopper")
    credentials.setdefault("shopper_password", secrets.token_urlsafe(10))
    User = get_user_model()
    with transaction.atomic():
        staff, _ = User.objects.get_or_create(username=credentials["staff_username"])
        staff.is_staff = True
        staff.is_superuser = True
        staff.email = staff.email or "staff@example.com"
        staff.set_password(credentials["staff_password"])
        staff.save()
        role_logins = credentials.setdefault("role_logins", {})
        for role in ROLE_PERMISSIONS:
            login = role_logins.setdefault(
                role, {"username": role.replace(" ", "-"), "password": secrets.token_urlsafe(10)}
            )
            user, _ = User.objects.get_or_create(username=login["username"])
            user.is_staff = True
            user.email = user.email or f"{login['username']}@example.com"
            user.set_password(login["password"])
            user.save()
            user.groups.set(Group.objects.filter(name=role))
        shopper, _ = User.objects.get_or_create(username=credentials["shopper_username"])
        shopper.set_password(credentials["shopper_password"])
        shopper.save()
        customer = Customer.objects.filter(user=shopper).first()
        if customer is None:
            customer = (
                Customer.objects.filter(user__isnull=True)
                .annotate(order_count=Count("orders"))
                .order_by("-order_count", "external_id")
                .first()
            )
            if customer is not None:
                customer.user = shopper
                customer.save(update_fields=["user"])
        credentials["shopper_customer"] = customer.external_id if customer else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials
