from .baskets import Basket, BasketLine
from .behaviour import BehaviourEvent
from .catalogue import Category, Product
from .customers import Customer, CustomerNote
from .marketing import CustomerSegment, Promotion, PromotionTarget, SegmentRun
from .orders import Order, OrderLine
from .privacy import AuditEvent, ConsentChannel, ConsentEvent, ErasureRecord

__all__ = [
    "AuditEvent",
    "ConsentChannel",
    "ConsentEvent",
    "ErasureRecord",
    "Basket",
    "BasketLine",
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
