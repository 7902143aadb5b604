"""Synthetic retail data with the structure of a real shop, at any size, from one seed.

Shoppers have a taste for a few departments and a handful of staple products they buy again and
again; product popularity is Zipf-like; orders follow the seasons (a November/December peak, busy
weekends) and each shopper's own active period, which ends early for those who churn. Everything is
drawn as whole numpy arrays and written through the bulk paths (COPY on PostgreSQL), orders in
chunks so that memory stays flat however many lines are asked for.

Sizes: ``orders`` counts every order, return orders included, and the total number of order lines
is about ``orders * lines_per_order`` (100,000 orders at the default 10 give about 1,000,000 lines).
"""

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from core.bulk import bulk_delete, bulk_insert_rows
from crm.models import BehaviourEvent, Category, Customer, Order, OrderLine, Product

CUSTOMER_PREFIX = "SYN-C"
PRODUCT_PREFIX = "SYN-P"
ORDER_PREFIX = "SYN-O"

# Orders generated and written at a time: ~200k lines, a few tens of MB of arrays and row tuples.
ORDER_CHUNK_SIZE = 20_000
EVENT_CHUNK_SIZE = 200_000  # events per write, roughly

# Where a line's product comes from: the shopper's staples, their favourite departments, or
# whatever is popular. Staples make repeat buying dominate, as it does in real grocery-like retail.
STAPLE_SHARE = 0.40
TASTE_SHARE_OF_REST = 0.75  # of lines that are not staples; the others follow overall popularity
ZIPF_EXPONENT = 0.8

RETURN_ORDER_SHARE = 0.08  # of all orders; each returns ~2.5 lines, so ~2% of lines are returns
RETURN_EXTRA_LINES_MEAN = 1.5
RETURN_WITHIN_DAYS = 30
GUEST_ORDER_SHARE = 0.02
CANCELLED_SHARE = 0.015
OPT_IN_SHARE = 0.60
CHURN_SHARE = 0.30
SIGNED_UP_BEFORE_WINDOW_SHARE = 0.55
INACTIVE_PRODUCT_SHARE = 0.03
OUT_OF_STOCK_SHARE = 0.03
UNTRACKED_STOCK_SHARE = 0.50
SALE_LINE_SHARE = 0.12

# Month of year (January first) and weekday (Monday first) multipliers on the order rate.
MONTH_FACTORS = np.array([0.85, 0.8, 0.85, 0.9, 0.95, 0.95, 0.9, 0.9, 1.0, 1.1, 1.5, 1.7])
WEEKDAY_FACTORS = np.array([1.0, 0.95, 0.95, 1.0, 0.95, 1.15, 1.25])
HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3.5, 4.5, 5, 5.5, 6, 5.5, 5, 5, 5, 5.5, 6, 6.5, 6.5, 5, 3.5, 2]
)
CHANNELS = [
    (Order.Channel.WEB, 0.60),
    (Order.Channel.STORE, 0.28),
    (Order.Channel.MARKETPLACE, 0.09),
    (Order.Channel.PHONE, 0.03),
]
EVENT_KINDS = [
    (BehaviourEvent.Kind.VIEW, 0.86),
    (BehaviourEvent.Kind.ADD_TO_CART, 0.11),
    (BehaviourEvent.Kind.WISHLIST, 0.03),
]

# Department -> (median price, {subcategory: nouns}). Subcategories in TIERED_SUBCATEGORIES get a
# third level, "Everyday" and "Premium", the premium tier at PREMIUM_PRICE_FACTOR times the price.
DEPARTMENTS: dict[str, tuple[float, dict[str, tuple[str, ...]]]] = {
    "Kitchen": (
        16.0,
        {
            "Cookware": ("Saucepan", "Frying pan", "Wok", "Casserole dish", "Stockpot"),
            "Baking": ("Cake tin", "Mixing bowl", "Rolling pin", "Muffin tray", "Cooling rack"),
            "Tableware": ("Dinner plate", "Mug", "Tumbler", "Serving bowl", "Teapot"),
        },
    ),
    "Home": (
        22.0,
        {
            "Lighting": ("Table lamp", "Lantern", "String lights", "Candle holder"),
            "Textiles": ("Cushion", "Throw", "Tea towel", "Doormat", "Curtain"),
            "Decor": ("Photo frame", "Vase", "Wall clock", "Mirror", "Ornament"),
        },
    ),
    "Garden": (
        14.0,
        {
            "Planters": ("Plant pot", "Window box", "Hanging basket", "Trough"),
            "Tools": ("Trowel", "Pruner", "Watering can", "Gloves", "Rake"),
            "Outdoor living": ("Bird feeder", "Solar light", "Bunting", "Picnic blanket"),
        },
    ),
    "Fashion": (
        28.0,
        {
            "Bags": ("Tote bag", "Shopper", "Purse", "Backpack", "Wash bag"),
            "Accessories": ("Scarf", "Umbrella", "Hair clip", "Keyring", "Sunglasses"),
            "Jewellery": ("Necklace", "Bracelet", "Earrings", "Ring"),
        },
    ),
    "Beauty": (
        11.0,
        {
            "Bath": ("Soap", "Bath bomb", "Shower gel", "Sponge"),
            "Skincare": ("Hand cream", "Lip balm", "Face mask", "Body lotion"),
            "Fragrance": ("Candle", "Diffuser", "Room spray", "Perfume"),
        },
    ),
    "Toys": (
        12.0,
        {
            "Games": ("Jigsaw", "Card game", "Board game", "Dominoes"),
            "Crafts": ("Paint set", "Colouring book", "Sticker set", "Bead kit"),
            "Soft toys": ("Teddy bear", "Bunny", "Puppet", "Doll"),
        },
    ),
    "Electronics": (
        45.0,
        {
            "Audio": ("Speaker", "Headphones", "Radio", "Earbuds"),
            "Accessories": ("Charger", "Cable", "Phone case", "Power bank"),
        },
    ),
    "Stationery": (
        5.0,
        {
            "Cards": ("Greeting card", "Gift tag", "Postcard", "Birthday card"),
            "Paper": ("Notebook", "Gift wrap", "Envelope set", "Sketchbook"),
            "Desk": ("Pen set", "Pencil case", "Desk tidy", "Planner"),
        },
    ),
}
TIERED_SUBCATEGORIES = {"Cookware", "Lighting", "Bags", "Skincare", "Audio"}
PREMIUM_PRICE_FACTOR = 2.2
# fmt: off
ADJECTIVES = (
    "Classic", "Vintage", "Retro", "Nordic", "Rustic", "Floral", "Spotty", "Striped", "Enamel", "Ceramic",
    "Wooden", "Glass", "Linen", "Velvet", "Copper", "Pastel", "Botanical", "Heart", "Star", "Woodland",
)
COLOURS = (
    "Red", "Blue", "Green", "Pink", "Ivory", "Black", "Grey", "Yellow", "Teal", "Natural",
)
COUNTRIES = (
    "United Kingdom", "Germany", "France", "Ireland", "Spain", "Netherlands", "Belgium", "Switzerland",
    "Portugal", "Italy", "Australia", "Norway", "Sweden", "Denmark", "Finland", "Austria", "Poland",
    "United States", "Canada", "Japan", "Cyprus", "Greece", "Iceland", "Israel", "Singapore", "Brazil",
    "Czech Republic", "Lithuania", "Malta", "United Arab Emirates",
)
# fmt: on
HOME_COUNTRY_SHARE = 0.72
# fmt: off
FIRST_NAMES = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Grace", "Freya", "Sophia", "Emily", "Poppy",
    "Ella", "Rosie", "Evie", "Chloe", "Hannah", "Sarah", "Laura", "Anna", "Claire", "Lucy", "Noah",
    "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Jack", "Charlie", "Henry", "Thomas", "James",
    "William", "Daniel", "Samuel", "Joseph", "David", "Peter", "Mark", "Paul", "Lukas", "Elena", "Marie",
    "Pierre", "Sofia", "Mateo", "Lars", "Ingrid", "Aoife", "Sean",
)
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Patel", "Khan", "Lewis", "Harris", "Martin", "Cooper", "King", "Baker", "Hughes", "Murphy", "Kelly",
    "Muller", "Schmidt", "Dubois", "Garcia", "Rossi", "Jansen", "Nilsen",
)
# fmt: on
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


class DemoDataError(ValueError):
    """The arguments cannot make a data set, or synthetic rows are already there."""


Progress = Callable[[float, str], None]


def generate_demo_data(
    *,
    customers: int,
    products: int,
    orders: int,
    seed: int,
    start: dt.date,
    months: int,
    lines_per_order: float = 10.0,
    events_per_customer: float = 0.0,
    replace: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write a synthetic catalogue, customers, orders (with returns) and events in one transaction.

    Returns the number of rows written per kind. Without ``replace``, earlier synthetic rows are an
    error; with it they are deleted first (in the same transaction).
    """
    _validate(
        customers=customers,
        products=products,
        orders=orders,
        seed=seed,
        start=start,
        months=months,
        lines_per_order=lines_per_order,
        events_per_customer=events_per_customer,
    )
    report = progress or _no_progress
    window = _Window.from_start(start, months)
    catalogue_rng, customer_rng, order_rng, event_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(4)
    )
    now = timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        existing = _synthetic_row_counts()
        if any(existing.values()):
            if not replace:
                found = ", ".join(f"{count} {kind}" for kind, count in existing.items() if count)
                raise DemoDataError(
                    f"Synthetic data is already present ({found}); pass replace=True (--replace) "
                    "to delete it first."
                )
            report(0.0, "Deleting earlier synthetic data")
            synthetic_data_delete()

        report(0.02, "Catalogue")
        catalogue = _Catalogue.generate(catalogue_rng, products)
        counts["categories"] = catalogue.write(now)
        counts["products"] = products

        report(0.05, "Customers")
        shoppers = _Shoppers.generate(customer_rng, customers, catalogue, window)
        shoppers.write(now, window)
        counts["customers"] = customers

        plan = _OrderPlan.generate(order_rng, orders, lines_per_order, shoppers, products, window)
        counts.update(orders=orders, return_orders=int(plan.is_return.sum()), guest_orders=plan.guest_count)
        counts.update(_write_orders(order_rng, plan, catalogue, shoppers, window, now, report))

        report(0.95, "Behaviour events")
        counts["events"] = _write_events(event_rng, events_per_customer, catalogue, shoppers, window)
    report(1.0, "Done")
    return counts


def synthetic_data_delete() -> dict[str, int]:
    """Delete every synthetic row (by their id prefixes) and the categories only they used.

    A category of the synthetic tree is kept while any product or promotion uses it or one of the
    categories below it, so an imported catalogue that shares a department name is left alone.
    """
    deleted: dict[str, int] = {}
    with transaction.atomic():
        deleted["events"] = BehaviourEvent.objects.filter(
            Q(customer__external_id__startswith=CUSTOMER_PREFIX)
            | Q(product__external_id__startswith=PRODUCT_PREFIX)
        ).delete()[0]
        deleted["order_lines"] = OrderLine.objects.filter(
            order__external_id__startswith=ORDER_PREFIX
        ).delete()[0]
        deleted["orders"] = bulk_delete(Order.objects.filter(external_id__startswith=ORDER_PREFIX))
        for kind, model, prefix in (
            ("customers", Customer, CUSTOMER_PREFIX),
            ("products", Product, PRODUCT_PREFIX),
        ):
            try:
                deleted[kind] = bulk_delete(model.objects.filter(external_id__startswith=prefix))
            except ProtectedError as exc:
                raise DemoDataError(
                    f"Cannot delete synthetic {kind}: {len(exc.protected_objects)} rows that are not "
                    f"synthetic (such as orders or order lines) refer to them."
                ) from exc

        used_paths = Category.objects.filter(
            Q(products__isnull=False) | Q(promotions__isnull=False)
        ).values_list("path", flat=True)
        kept = set()
        for path in used_paths:
            parts = path.split("/")
            kept.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
        synthetic_paths = {node.path for node in _category_nodes(len(DEPARTMENTS))}
        deleted["categories"] = Category.objects.filter(path__in=synthetic_paths - kept).delete()[0]
    return deleted


def synthetic_data_frames() -> dict[str, pd.DataFrame]:
    """The synthetic rows as frames keyed by external ids (no database ids or write times), sorted."""
    customers = pd.DataFrame.from_records(
        Customer.objects.filter(external_id__startswith=CUSTOMER_PREFIX)
        .order_by("external_id")
        .values(
            "external_id", "name", "email", "country", "signed_up_at", "email_opt_in", "consent_changed_at"
        )
    )
    products = pd.DataFrame.from_records(
        Product.objects.filter(external_id__startswith=PRODUCT_PREFIX)
        .order_by("external_id")
        .values("external_id", "name", "category__path", "price", "active", "stock")
    )
    orders = pd.DataFrame.from_records(
        Order.objects.filter(external_id__startswith=ORDER_PREFIX)
        .order_by("external_id")
        .values("external_id", "customer__external_id", "placed_at", "channel", "status", "country")
    )
    order_lines = pd.DataFrame.from_records(
        OrderLine.objects.filter(order__external_id__startswith=ORDER_PREFIX)
        .order_by("order__external_id", "line_number")
        .values(
            "order__external_id",
            "line_number",
            "product__external_id",
            "item_code",
            "item_name",
            "quantity",
            "unit_price",
            "discount",
        )
    )
    events = pd.DataFrame.from_records(
        BehaviourEvent.objects.filter(customer__external_id__startswith=CUSTOMER_PREFIX)
        .order_by("customer__external_id", "at", "product__external_id", "kind")
        .values("customer__external_id", "product__external_id", "kind", "at")
    )
    return {
        "customers": customers,
        "products": products,
        "orders": orders,
        "order_lines": order_lines,
        "events": events,
    }


def _no_progress(fraction: float, message: str = "") -> None:
    return None


def _validate(
    *,
    customers: int,
    products: int,
    orders: int,
    seed: int,
    start: dt.date,
    months: int,
    lines_per_order: float,
    events_per_customer: float,
) -> None:
    problems = []
    for name, value, minimum, maximum in (
        ("customers", customers, 1, 99_999_999),
        ("products", products, 10, 9_999_999),
        ("orders", orders, 1, 999_999_999),
        ("months", months, 1, 240),
        ("seed", seed, 0, 2**63 - 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            problems.append(f"{name} must be a whole number, got {value!r}")
        elif not minimum <= value <= maximum:
            problems.append(f"{name} must be between {minimum:,} and {maximum:,}, got {value:,}")
    for name, value, minimum, maximum in (
        ("lines_per_order", lines_per_order, 1.0, 100.0),
        ("events_per_customer", events_per_customer, 0.0, 1000.0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            problems.append(f"{name} must be a number, got {value!r}")
        elif not minimum <= value <= maximum:
            problems.append(f"{name} must be between {minimum:g} and {maximum:g}, got {value:g}")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        problems.append(f"start must be a date, got {start!r}")
    if problems:
        raise DemoDataError("Invalid demo data arguments: " + "; ".join(problems))


def _synthetic_row_counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.filter(external_id__startswith=CUSTOMER_PREFIX).count(),
        "products": Product.objects.filter(external_id__startswith=PRODUCT_PREFIX).count(),
        "orders": Order.objects.filter(external_id__startswith=ORDER_PREFIX).count(),
    }


@dataclass(frozen=True)
class _Window:
    """The order window as UTC seconds from its first midnight."""

    start: dt.datetime
    days: int

    @classmethod
    def from_start(cls, start: dt.date, months: int) -> "_Window":
        month_index = start.month - 1 + months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        end = dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
        return cls(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC), (end - start).days)

    @property
    def seconds(self) -> int:
        return self.days * 86_400

    def datetimes(self, seconds: np.ndarray) -> list[dt.datetime]:
        base = np.datetime64(self.start.replace(tzinfo=None), "s")
        values = (base + seconds.astype("timedelta64[s]")).astype(object)
        return [value.replace(tzinfo=dt.UTC) for value in values]

    def day_rate(self) -> np.ndarray:
        """Relative order rate of each day of the window (seasons and weekdays), max 1."""
        days = np.datetime64(self.start.date(), "D") + np.arange(self.days)
        months = days.astype("datetime64[M]").astype(int) % 12
        weekdays = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
        rate = MONTH_FACTORS[months] * WEEKDAY_FACTORS[weekdays]
        # The Christmas rush ends on the 24th; the last week of December is quiet.
        rate = np.where((months == 11) & (day_of_month > 24), rate * 0.45, rate)
        return rate / rate.max()


@dataclass(frozen=True)
class _CategoryNode:
    path: str
    name: str
    parent_path: str | None
    department: int
    is_leaf: bool
    price_factor: float


def _category_nodes(department_count: int) -> list[_CategoryNode]:
    nodes = []
    for department, (name, (_, subcategories)) in enumerate(list(DEPARTMENTS.items())[:department_count]):
        nodes.append(_CategoryNode(name, name, None, department, False, 1.0))
        for subcategory in subcategories:
            path = f"{name}/{subcategory}"
            tiered = subcategory in TIERED_SUBCATEGORIES
            nodes.append(_CategoryNode(path, subcategory, name, department, not tiered, 1.0))
            if tiered:
                for tier, factor in (("Everyday", 1.0), ("Premium", PREMIUM_PRICE_FACTOR)):
                    nodes.append(_CategoryNode(f"{path}/{tier}", tier, path, department, True, factor))
    return nodes


@dataclass
class _Catalogue:
    """Products sorted by department, so each department is a contiguous range of indices."""

    nodes: list[_CategoryNode]
    leaf: np.ndarray  # index into leaves, per product
    leaves: list[_CategoryNode]
    department: np.ndarray
    department_start: np.ndarray
    department_end: np.ndarray
    price: np.ndarray
    active: np.ndarray
    stock: np.ndarray  # -1 where stock is not tracked
    names: np.ndarray
    descriptions: np.ndarray
    external_ids: np.ndarray
    popularity_cumsum: np.ndarray
    ids: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.price)

    @property
    def department_count(self) -> int:
        return len(self.department_start)

    @classmethod
    def generate(cls, rng: np.random.Generator, count: int) -> "_Catalogue":
        department_count = int(np.clip(count // 10, 3, len(DEPARTMENTS)))
        nodes = _category_nodes(department_count)
        leaves = [node for node in nodes if node.is_leaf]
        leaf_department = np.array([node.department for node in leaves])

        # Every department gets at least one product; the rest follow uneven department sizes.
        shares = rng.dirichlet(np.full(department_count, 4.0))
        department = np.sort(
            np.concatenate(
                [
                    np.arange(department_count),
                    rng.choice(department_count, count - department_count, p=shares),
                ]
            )
        )
        department_start = np.searchsorted(department, np.arange(department_count), side="left")
        department_end = np.searchsorted(department, np.arange(department_count), side="right")

        leaf = np.empty(count, dtype=np.int64)
        for index in range(department_count):
            department_leaves = np.flatnonzero(leaf_department == index)
            size = department_end[index] - department_start[index]
            leaf[department_start[index] : department_end[index]] = rng.choice(department_leaves, size)

        medians = np.array([median for median, _ in DEPARTMENTS.values()])[:department_count]
        tier_factor = np.array([node.price_factor for node in leaves])[leaf]
        raw_price = medians[department] * tier_factor * rng.lognormal(0.0, 0.55, count)
        price = np.maximum(np.round(raw_price * 2) / 2 - 0.01, 0.49).round(2)

        ranks = rng.permutation(count) + 1
        popularity = ranks**-ZIPF_EXPONENT * rng.lognormal(0.0, 0.3, count)

        active = rng.random(count) >= INACTIVE_PRODUCT_SHARE
        stock_draw = rng.random(count)
        stock = np.where(
            stock_draw < OUT_OF_STOCK_SHARE,
            0,
            np.where(stock_draw < OUT_OF_STOCK_SHARE + UNTRACKED_STOCK_SHARE, -1, 1 + rng.poisson(40, count)),
        )

        adjectives = np.array(ADJECTIVES, dtype=object)[rng.integers(0, len(ADJECTIVES), count)]
        colours = np.array(COLOURS, dtype=object)[rng.integers(0, len(COLOURS), count)]
        noun_draw = rng.random(count)
        department_names = list(DEPARTMENTS)
        names = np.empty(count, dtype=object)
        descriptions = np.empty(count, dtype=object)
        for product, (leaf_index, adjective, colour, draw) in enumerate(
            zip(leaf.tolist(), adjectives, colours, noun_draw.tolist(), strict=True)
        ):
            node = leaves[leaf_index]
            subcategory = node.path.split("/")[1]
            nouns = DEPARTMENTS[department_names[node.department]][1][subcategory]
            names[product] = f"{adjective} {nouns[int(draw * len(nouns))].lower()}, {colour.lower()}"
            descriptions[product] = f"{names[product]}, from our {subcategory.lower()} range."
        width = max(5, len(str(count)))
        external_ids = np.array(
            [f"{PRODUCT_PREFIX}{number:0{width}d}" for number in range(1, count + 1)], dtype=object
        )
        return cls(
            nodes=nodes,
            leaf=leaf,
            leaves=leaves,
            department=department,
            department_start=department_start,
            department_end=department_end,
            price=price,
            active=active,
            stock=stock,
            names=names,
            descriptions=descriptions,
            external_ids=external_ids,
            popularity_cumsum=np.cumsum(popularity),
        )

    def write(self, now: dt.datetime) -> int:
        """Create the category tree (reusing nodes already there) and the products; returns new nodes."""
        category_ids: dict[str, int] = {}
        created_count = 0
        for node in self.nodes:
            category, created = Category.objects.get_or_create(
                path=node.path,
                defaults={"name": node.name, "parent_id": category_ids.get(node.parent_path)},
            )
            category_ids[node.path] = category.pk
            created_count += created
        leaf_category_ids = np.array([category_ids[node.path] for node in self.leaves])[self.leaf]
        stock = [None if value < 0 else value for value in self.stock.tolist()]
        rows = zip(
            self.external_ids,
            self.names,
            self.descriptions,
            leaf_category_ids.tolist(),
            self.price.tolist(),
            self.active.tolist(),
            stock,
            [now] * self.size,
            [now] * self.size,
            strict=True,
        )
        fields = [
            "external_id",
            "name",
            "description",
            "category_id",
            "price",
            "active",
            "stock",
            "created_at",
            "updated_at",
        ]
        bulk_insert_rows(Product, fields, rows)
        self.ids = _ids_by_number(
            Product.objects.filter(external_id__startswith=PRODUCT_PREFIX), PRODUCT_PREFIX, 1, self.size
        )
        return created_count

    def draw_popular(self, rng: np.random.Generator, count: int) -> np.ndarray:
        total = self.popularity_cumsum[-1]
        picks = np.searchsorted(self.popularity_cumsum, rng.random(count) * total, side="right")
        return np.minimum(picks, self.size - 1)

    def draw_in_department(self, rng: np.random.Generator, department: np.ndarray) -> np.ndarray:
        start, end = self.department_start[department], self.department_end[department]
        low = np.where(start > 0, self.popularity_cumsum[np.maximum(start - 1, 0)], 0.0)
        high = self.popularity_cumsum[end - 1]
        picks = np.searchsorted(
            self.popularity_cumsum, low + rng.random(len(department)) * (high - low), side="right"
        )
        return np.clip(picks, start, end - 1)


@dataclass
class _Shoppers:
    country: np.ndarray
    signed_up: np.ndarray  # seconds from the window start; negative before it
    active_from: np.ndarray
    active_until: np.ndarray
    activity: np.ndarray
    taste_cumsum: np.ndarray  # (customers, departments)
    staples: np.ndarray  # (customers, MAX_STAPLES) product indices
    staple_count: np.ndarray
    names: list[str]
    emails: list[str]
    opt_in: np.ndarray
    consent_changed: np.ndarray  # seconds, or a negative sentinel for never
    external_ids: list[str]
    ids: np.ndarray | None = None

    MAX_STAPLES = 12
    NEVER = np.iinfo(np.int64).min

    @property
    def size(self) -> int:
        return len(self.country)

    @classmethod
    def generate(
        cls, rng: np.random.Generator, count: int, catalogue: _Catalogue, window: _Window
    ) -> "_Shoppers":
        country = _draw_countries(rng, count)

        before = rng.random(count) < SIGNED_UP_BEFORE_WINDOW_SHARE
        latest_signup = max(window.seconds - 14 * 86_400, window.seconds // 2)
        signed_up = np.where(
            before,
            -rng.integers(1, 730 * 86_400, count),
            rng.integers(0, latest_signup, count),
        )
        active_from = np.maximum(signed_up, 0)
        churns = rng.random(count) < CHURN_SHARE
        churned_at = active_from + (rng.random(count) * (window.seconds - active_from)).astype(np.int64)
        active_until = np.where(churns, np.maximum(churned_at, active_from + 86_400), window.seconds)
        activity = rng.lognormal(0.0, 1.0, count)

        department_count = catalogue.department_count
        liked_count = rng.choice([1, 2, 3], count, p=[0.35, 0.40, 0.25])
        order_of_liking = np.argsort(rng.random((count, department_count)), axis=1)
        liked = np.zeros((count, department_count), dtype=bool)
        np.put_along_axis(
            liked, order_of_liking, np.arange(department_count)[None, :] < liked_count[:, None], axis=1
        )
        taste = rng.gamma(1.0, 1.0, (count, department_count)) * liked
        taste_cumsum = np.cumsum(taste / taste.sum(axis=1, keepdims=True), axis=1)

        staple_count = np.minimum(1 + rng.poisson(4.0, count), cls.MAX_STAPLES)
        staple_departments = _draw_departments(rng, np.repeat(taste_cumsum, cls.MAX_STAPLES, axis=0))
        staples = catalogue.draw_in_department(rng, staple_departments).reshape(count, cls.MAX_STAPLES)

        first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), count)]
        last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), count)]
        domains = np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), count)]
        names = [f"{first_name} {last_name}" for first_name, last_name in zip(first, last, strict=True)]
        emails = [
            f"{first_name.lower()}.{last_name.lower()}{number}@{domain}"
            for number, (first_name, last_name, domain) in enumerate(
                zip(first, last, domains, strict=True), 1
            )
        ]

        opt_in = rng.random(count) < OPT_IN_SHARE
        withdrew = ~opt_in & (rng.random(count) < 0.25)
        consent_at = signed_up + (rng.random(count) * (window.seconds - signed_up)).astype(np.int64)
        consent_changed = np.where(opt_in | withdrew, consent_at, cls.NEVER)

        width = max(6, len(str(count)))
        external_ids = [f"{CUSTOMER_PREFIX}{number:0{width}d}" for number in range(1, count + 1)]
        return cls(
            country=country,
            signed_up=signed_up,
            active_from=active_from,
            active_until=active_until,
            activity=activity,
            taste_cumsum=taste_cumsum,
            staples=staples,
            staple_count=staple_count,
            names=names,
            emails=emails,
            opt_in=opt_in,
            consent_changed=consent_changed,
            external_ids=external_ids,
        )

    def write(self, now: dt.datetime, window: _Window) -> None:
        never = self.consent_changed == self.NEVER
        consent_values = window.datetimes(np.where(never, 0, self.consent_changed))
        consent_changed = [
            None if is_never else value
            for is_never, value in zip(never.tolist(), consent_values, strict=True)
        ]
        rows = zip(
            self.external_ids,
            self.names,
            self.emails,
            self.country,
            window.datetimes(self.signed_up),
            self.opt_in.tolist(),
            consent_changed,
            [now] * self.size,
            [now] * self.size,
            strict=True,
        )
        fields = [
            "external_id",
            "name",
            "email",
            "country",
            "signed_up_at",
            "email_opt_in",
            "consent_changed_at",
            "created_at",
            "updated_at",
        ]
        bulk_insert_rows(Customer, fields, rows)
        self.ids = _ids_by_number(
            Customer.objects.filter(external_id__startswith=CUSTOMER_PREFIX), CUSTOMER_PREFIX, 1, self.size
        )


@dataclass
class _OrderPlan:
    """Every order's shopper, time, kind and size, in time order (the order numbers follow it)."""

    customer: np.ndarray  # -1 for a guest
    placed: np.ndarray  # seconds from the window start
    is_return: np.ndarray
    origin: np.ndarray  # for a return order, the order it returns lines of; -1 otherwise
    line_count: np.ndarray  # lines to draw; for a return order, the most lines it returns
    channel: np.ndarray
    status: np.ndarray
    country: np.ndarray
    guest_count: int

    @classmethod
    def generate(
        cls,
        rng: np.random.Generator,
        count: int,
        lines_per_order: float,
        shoppers: _Shoppers,
        catalogue_size: int,
        window: _Window,
    ) -> "_OrderPlan":
        return_count = round(count * RETURN_ORDER_SHARE)
        sales_count = count - return_count
        guest_count = round(sales_count * GUEST_ORDER_SHARE)
        member_count = sales_count - guest_count

        exposure = shoppers.activity * (shoppers.active_until - shoppers.active_from)
        member_customer = rng.choice(shoppers.size, member_count, p=exposure / exposure.sum())
        member_placed = _draw_times(
            rng, shoppers.active_from[member_customer], shoppers.active_until[member_customer], window
        )
        guest_placed = _draw_times(
            rng, np.zeros(guest_count, np.int64), np.full(guest_count, window.seconds, np.int64), window
        )
        sales_customer = np.concatenate([member_customer, np.full(guest_count, -1)])
        sales_placed = np.concatenate([member_placed, guest_placed])

        returned_order = rng.choice(member_count, return_count, replace=False)
        delay = rng.integers(86_400, RETURN_WITHIN_DAYS * 86_400, return_count)
        return_placed = np.maximum(
            np.minimum(sales_placed[returned_order] + delay, window.seconds - 1), sales_placed[returned_order]
        )

        customer = np.concatenate([sales_customer, sales_customer[returned_order]])
        placed = np.concatenate([sales_placed, return_placed])
        is_return = np.concatenate([np.zeros(sales_count, bool), np.ones(return_count, bool)])
        origin = np.concatenate([np.full(sales_count, -1), returned_order])

        # Return orders count towards ``orders`` and carry ~2.5 lines, so sales orders are made a
        # little bigger for the total to come out at ``orders * lines_per_order``.
        return_lines = 1 + rng.poisson(RETURN_EXTRA_LINES_MEAN, return_count)
        sales_mean = max(1.0, (lines_per_order * count - return_lines.sum()) / sales_count)
        dispersion = 2.0
        sales_lines = 1 + rng.negative_binomial(
            dispersion, dispersion / (dispersion + sales_mean - 1), sales_count
        )
        line_count = np.concatenate([np.minimum(sales_lines, max(1, catalogue_size // 2)), return_lines])

        channel_names = np.array([channel for channel, _ in CHANNELS], dtype=object)
        channel = channel_names[rng.choice(len(CHANNELS), count, p=[share for _, share in CHANNELS])]
        channel[sales_count:] = channel[returned_order]
        is_origin = np.zeros(count, bool)
        is_origin[returned_order] = True
        status = np.full(count, Order.Status.COMPLETED.value, dtype=object)
        status[(rng.random(count) < CANCELLED_SHARE) & ~is_origin] = Order.Status.CANCELLED.value
        status[placed >= window.seconds - 3 * 86_400] = Order.Status.PLACED.value
        status[sales_count:] = Order.Status.RETURNED.value
        country = np.where(
            customer >= 0, shoppers.country[np.maximum(customer, 0)], _draw_countries(rng, count)
        )

        by_time = np.lexsort((is_return, placed))
        position = np.empty(count, np.int64)
        position[by_time] = np.arange(count)
        origin = origin[by_time]
        return cls(
            customer=customer[by_time],
            placed=placed[by_time],
            is_return=is_return[by_time],
            origin=np.where(origin >= 0, position[np.maximum(origin, 0)], -1),
            line_count=line_count[by_time],
            channel=channel[by_time],
            status=status[by_time],
            country=country[by_time],
            guest_count=guest_count,
        )


def _draw_times(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, window: _Window) -> np.ndarray:
    """Seconds in ``[low, high)`` per order, days weighted by the seasonal rate (by rejection)."""
    rate = window.day_rate()
    first_day = low // 86_400
    last_day = np.maximum((high - 1) // 86_400, first_day)
    day = np.empty(len(low), np.int64)
    pending = np.arange(len(low))
    while pending.size:
        span = last_day[pending] - first_day[pending] + 1
        candidate = first_day[pending] + (rng.random(pending.size) * span).astype(np.int64)
        accepted = rng.random(pending.size) < rate[candidate]
        day[pending[accepted]] = candidate[accepted]
        pending = pending[~accepted]
    hour = rng.choice(24, len(low), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, len(low))
    return np.clip(seconds, low, high - 1)


def _draw_products(
    rng: np.random.Generator,
    customer: np.ndarray,
    catalogue: _Catalogue,
    shoppers: _Shoppers,
    staple_share: float,
) -> np.ndarray:
    """One product per entry of ``customer`` (-1 = guest): a staple, from a liked department, or popular."""
    product = np.empty(len(customer), np.int64)
    source = rng.random(len(customer))
    member = customer >= 0
    staple = member & (source < staple_share)
    taste = member & ~staple & (source < staple_share + (1 - staple_share) * TASTE_SHARE_OF_REST)
    popular = ~(staple | taste)

    staple_customer = customer[staple]
    pick = (rng.random(staple_customer.size) * shoppers.staple_count[staple_customer]).astype(np.int64)
    product[staple] = shoppers.staples[staple_customer, pick]
    departments = _draw_departments(rng, shoppers.taste_cumsum[customer[taste]])
    product[taste] = catalogue.draw_in_department(rng, departments)
    product[popular] = catalogue.draw_popular(rng, int(popular.sum()))
    return product


def _sales_lines(
    rng: np.random.Generator,
    orders: np.ndarray,
    customers: np.ndarray,
    sizes: np.ndarray,
    catalogue: _Catalogue,
    shoppers: _Shoppers,
) -> tuple[np.ndarray, np.ndarray]:
    """(order, product) per line, one line per product in an order, lines in random order."""
    line_order, line_customer = np.repeat(orders, sizes), np.repeat(customers, sizes)
    line_product = np.empty(line_order.size, np.int64)

    # An order holds some of the shopper's staples, each at most once: the k-th staple line takes
    # staple k of the shopper's list, rotated by a random amount per order.
    first_line = np.repeat(np.cumsum(sizes) - sizes, sizes)
    wants_staple = (rng.random(line_order.size) < STAPLE_SHARE) & (line_customer >= 0)
    staples_so_far = np.cumsum(wants_staple)
    staple_rank = staples_so_far - np.concatenate([[0], staples_so_far])[first_line] - 1
    staple_count = shoppers.staple_count[np.maximum(line_customer, 0)]
    is_staple = wants_staple & (staple_rank < staple_count)
    rotation = np.repeat(rng.integers(0, shoppers.MAX_STAPLES, orders.size), sizes)
    staple_customer = line_customer[is_staple]
    staple_slot = (staple_rank[is_staple] + rotation[is_staple]) % staple_count[is_staple]
    line_product[is_staple] = shoppers.staples[staple_customer, staple_slot]

    kept_order, kept_customer, kept_product = line_order[is_staple], staple_customer, line_product[is_staple]
    todo_order, todo_customer = line_order[~is_staple], line_customer[~is_staple]
    # A product drawn twice for one order becomes one line and its place is drawn again, so that
    # line counts stay close to what was asked for. Big orders in a small catalogue keep hitting the
    # same popular products, so the last rounds fill what is left from the whole catalogue evenly.
    for attempt in range(6):
        if attempt < 3:
            todo_product = _draw_products(rng, todo_customer, catalogue, shoppers, staple_share=0.0)
        else:
            todo_product = rng.integers(0, catalogue.size, todo_customer.size)
        line_order = np.concatenate([kept_order, todo_order])
        line_customer = np.concatenate([kept_customer, todo_customer])
        line_product = np.concatenate([kept_product, todo_product])
        _, first = np.unique(line_order * catalogue.size + line_product, return_index=True)
        kept = np.zeros(line_order.size, bool)
        kept[first] = True
        kept_order, kept_customer, kept_product = line_order[kept], line_customer[kept], line_product[kept]
        todo_order, todo_customer = line_order[~kept], line_customer[~kept]
        if not todo_order.size:
            break
    shuffled = np.lexsort((rng.random(kept_order.size), kept_order))
    return kept_order[shuffled], kept_product[shuffled]


def _quantities_and_prices(
    rng: np.random.Generator, product: np.ndarray, catalogue: _Catalogue
) -> tuple[np.ndarray, np.ndarray]:
    price = catalogue.price[product]
    # Cheap things are bought by the handful, dear ones one at a time.
    quantity = 1 + rng.poisson(np.clip(4.0 / price, 0.05, 6.0))
    factor = np.where(
        rng.random(product.size) < SALE_LINE_SHARE,
        rng.uniform(0.7, 0.9, product.size),
        1.0 + rng.normal(0.0, 0.02, product.size),
    )
    return quantity, np.maximum(np.round(price * factor, 2), 0.01)


def _line_numbers(line_order: np.ndarray) -> np.ndarray:
    """1, 2, ... within each run of equal orders (``line_order`` is grouped by order)."""
    if not line_order.size:
        return line_order
    starts = np.flatnonzero(np.concatenate([[True], line_order[1:] != line_order[:-1]]))
    lengths = np.diff(np.concatenate([starts, [line_order.size]]))
    return np.arange(line_order.size) - np.repeat(starts, lengths) + 1


@dataclass
class _ReturnableLines:
    """Lines of orders that a later return order takes lines back from, kept until it does."""

    order: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray

    @classmethod
    def empty(cls) -> "_ReturnableLines":
        return cls(*(np.empty(0, dtype) for dtype in (np.int64, np.int64, np.int64, np.float64)))

    def add(
        self, order: np.ndarray, product: np.ndarray, quantity: np.ndarray, unit_price: np.ndarray
    ) -> None:
        self.order = np.concatenate([self.order, order])
        self.product = np.concatenate([self.product, product])
        self.quantity = np.concatenate([self.quantity, quantity])
        self.unit_price = np.concatenate([self.unit_price, unit_price])

    def take(
        self, rng: np.random.Generator, return_orders: np.ndarray, origins: np.ndarray, most_lines: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Lines for ``return_orders``: up to ``most_lines`` of each origin's lines, negative quantity."""
        taken = np.isin(self.order, origins)
        origin_order = self.order[taken]
        by_origin = np.argsort(origins)
        return_order = return_orders[by_origin][np.searchsorted(origins[by_origin], origin_order)]
        shuffled = np.lexsort((rng.random(origin_order.size), return_order))
        return_order = return_order[shuffled]
        # ``return_orders`` is a sorted run of order numbers, so searchsorted finds each one's limit.
        chosen = _line_numbers(return_order) <= most_lines[np.searchsorted(return_orders, return_order)]
        picked = np.flatnonzero(taken)[shuffled[chosen]]
        quantity = self.quantity[picked]
        result = (
            return_order[chosen],
            self.product[picked],
            -(1 + (rng.random(quantity.size) * quantity).astype(np.int64)),
            self.unit_price[picked],
        )
        self.order, self.product = self.order[~taken], self.product[~taken]
        self.quantity, self.unit_price = self.quantity[~taken], self.unit_price[~taken]
        return result


def _write_orders(
    rng: np.random.Generator,
    plan: _OrderPlan,
    catalogue: _Catalogue,
    shoppers: _Shoppers,
    window: _Window,
    now: dt.datetime,
    report: Progress,
) -> dict[str, int]:
    count = len(plan.placed)
    width = max(7, len(str(count)))
    is_origin = np.zeros(count, bool)
    is_origin[plan.origin[plan.is_return]] = True
    returnable = _ReturnableLines.empty()
    line_total = returned_total = 0
    order_fields = ["external_id", "customer_id", "placed_at", "channel", "status", "country", "created_at"]
    line_fields = [
        "order_id",
        "line_number",
        "product_id",
        "item_code",
        "item_name",
        "quantity",
        "unit_price",
        "discount",
    ]
    for chunk_start in range(0, count, ORDER_CHUNK_SIZE):
        chunk = np.arange(chunk_start, min(chunk_start + ORDER_CHUNK_SIZE, count))
        external_ids = [f"{ORDER_PREFIX}{number:0{width}d}" for number in (chunk + 1).tolist()]
        customer = plan.customer[chunk]
        customer_ids = np.where(customer >= 0, shoppers.ids[np.maximum(customer, 0)], -1).tolist()
        rows = zip(
            external_ids,
            [None if customer_id < 0 else customer_id for customer_id in customer_ids],
            window.datetimes(plan.placed[chunk]),
            plan.channel[chunk],
            plan.status[chunk],
            plan.country[chunk],
            [now] * chunk.size,
            strict=True,
        )
        bulk_insert_rows(Order, order_fields, rows)
        order_ids = _ids_by_number(
            Order.objects.filter(
                external_id__startswith=ORDER_PREFIX,
                external_id__gte=external_ids[0],
                external_id__lte=external_ids[-1],
            ),
            ORDER_PREFIX,
            chunk_start + 1,
            chunk.size,
        )

        sales = chunk[~plan.is_return[chunk]]
        line_order, line_product = _sales_lines(
            rng, sales, plan.customer[sales], plan.line_count[sales], catalogue, shoppers
        )
        quantity, unit_price = _quantities_and_prices(rng, line_product, catalogue)
        origin_lines = is_origin[line_order]
        returnable.add(
            line_order[origin_lines],
            line_product[origin_lines],
            quantity[origin_lines],
            unit_price[origin_lines],
        )
        returns = chunk[plan.is_return[chunk]]
        if returns.size:
            return_order, return_product, return_quantity, return_price = returnable.take(
                rng, returns, plan.origin[returns], plan.line_count[returns]
            )
            returned_total += return_order.size
            line_order = np.concatenate([line_order, return_order])
            line_product = np.concatenate([line_product, return_product])
            quantity = np.concatenate([quantity, return_quantity])
            unit_price = np.concatenate([unit_price, return_price])
            grouped = np.argsort(line_order, kind="stable")
            line_order, line_product = line_order[grouped], line_product[grouped]
            quantity, unit_price = quantity[grouped], unit_price[grouped]

        rows = zip(
            order_ids[line_order - chunk_start].tolist(),
            _line_numbers(line_order).tolist(),
            catalogue.ids[line_product].tolist(),
            catalogue.external_ids[line_product],
            catalogue.names[line_product],
            quantity.tolist(),
            unit_price.tolist(),
            [0] * line_order.size,
            strict=True,
        )
        line_total += bulk_insert_rows(OrderLine, line_fields, rows)
        done = chunk[-1] + 1
        report(0.1 + 0.85 * done / count, f"Orders {done:,} of {count:,}")
    return {"order_lines": line_total, "returned_lines": returned_total}


def _write_events(
    rng: np.random.Generator,
    per_customer: float,
    catalogue: _Catalogue,
    shoppers: _Shoppers,
    window: _Window,
) -> int:
    if per_customer <= 0:
        return 0
    # Busy shoppers browse more too.
    counts = rng.poisson(per_customer * shoppers.activity / shoppers.activity.mean())
    kind_names = np.array([kind for kind, _ in EVENT_KINDS], dtype=object)
    kind_shares = [share for _, share in EVENT_KINDS]
    fields = ["customer_id", "session_key", "product_id", "kind", "query", "model_version_id", "at"]
    customers_per_chunk = max(1, int(EVENT_CHUNK_SIZE / per_customer))
    written = 0
    for chunk_start in range(0, shoppers.size, customers_per_chunk):
        chunk = np.arange(chunk_start, min(chunk_start + customers_per_chunk, shoppers.size))
        customer = np.repeat(chunk, counts[chunk])
        product = _draw_products(rng, customer, catalogue, shoppers, STAPLE_SHARE / 2)
        kind = kind_names[rng.choice(len(EVENT_KINDS), customer.size, p=kind_shares)]
        span = shoppers.active_until[customer] - shoppers.active_from[customer]
        at = shoppers.active_from[customer] + (rng.random(customer.size) * span).astype(np.int64)
        rows = zip(
            shoppers.ids[customer].tolist(),
            [""] * customer.size,
            catalogue.ids[product].tolist(),
            kind,
            [""] * customer.size,
            [None] * customer.size,
            window.datetimes(at),
            strict=True,
        )
        written += bulk_insert_rows(BehaviourEvent, fields, rows)
    return written


def _draw_countries(rng: np.random.Generator, count: int) -> np.ndarray:
    tail = np.arange(1, len(COUNTRIES)) ** -1.1
    weights = np.concatenate([[HOME_COUNTRY_SHARE], (1 - HOME_COUNTRY_SHARE) * tail / tail.sum()])
    return np.array(COUNTRIES, dtype=object)[rng.choice(len(COUNTRIES), count, p=weights)]


def _draw_departments(rng: np.random.Generator, taste_cumsum: np.ndarray) -> np.ndarray:
    picks = (taste_cumsum < rng.random(len(taste_cumsum))[:, None]).sum(axis=1)
    return np.minimum(picks, taste_cumsum.shape[1] - 1)


def _ids_by_number(queryset, prefix: str, first_number: int, count: int) -> np.ndarray:
    """Database ids of rows numbered ``first_number ..`` in their external ids, by position."""
    ids = np.full(count, -1, dtype=np.int64)
    for external_id, pk in queryset.values_list("external_id", "pk"):
        ids[int(external_id[len(prefix) :]) - first_number] = pk
    return ids
