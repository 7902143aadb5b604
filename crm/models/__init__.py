from .behaviour import BehaviourEvent
from .catalogue import Category, Product
from .customers import Customer, CustomerNote
from .marketing import CustomerSegment, Promotion, PromotionTarget, SegmentRun
from .orders import Order, OrderLine

__all__ = [
    "BehaviourEvent",
    "Category",
    "Customer",
    "CustomerNote",
    "CustomerSegment",
    "Order",
    "OrderLine",
    "Product",
    "Promotion",
    "PromotionTarget",
    "SegmentRun",
]
