"""The Django admin for the CRM: every changelist joins what it shows, so a page costs a fixed number
of queries whatever its length."""

from django.contrib import admin

from crm.models import (
    Basket,
    BasketLine,
    BehaviourEvent,
    Category,
    Customer,
    CustomerNote,
    CustomerSegment,
    Order,
    OrderLine,
    Product,
    Promotion,
    PromotionTarget,
    SegmentRun,
)
from crm.models.customers import CONSENT_FIELDS


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "email", "country", "email_opt_in", "created_at"]
    list_filter = ["email_opt_in", "country"]
    search_fields = ["external_id", "name", "email"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    # Every consent change is a ConsentEvent with its source and lawful basis (crm.services.privacy
    # .consent_set, from the shop, the API or an import): here it could only be read.
    readonly_fields = [*CONSENT_FIELDS.values(), "consent_changed_at"]


@admin.register(CustomerNote)
class CustomerNoteAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "author", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["customer", "author"]
    search_fields = ["customer__external_id", "customer__name", "body"]
    raw_id_fields = ["customer", "author"]
    date_hierarchy = "created_at"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "name", "parent"]
    list_select_related = ["parent"]
    search_fields = ["path", "name"]
    raw_id_fields = ["parent"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "category", "price", "active", "stock", "updated_at"]
    list_filter = ["active"]
    list_select_related = ["category"]
    search_fields = ["external_id", "name"]
    autocomplete_fields = ["category"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]
    fields = ["line_number", "product", "item_code", "item_name", "quantity", "unit_price", "discount"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "placed_at", "status", "channel", "country"]
    list_filter = ["status", "channel"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "customer__external_id"]
    raw_id_fields = ["customer"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "line_number", "item_code", "product", "item_name", "quantity", "unit_price"]
    list_select_related = ["order", "product"]
    search_fields = ["item_code", "item_name", "order__external_id"]
    raw_id_fields = ["order", "product"]


class BasketLineInline(admin.TabularInline):
    model = BasketLine
    extra = 0
    fields = ["product", "quantity", "added_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Basket)
class BasketAdmin(admin.ModelAdmin):
    """Read only: a basket changes through the shop and the API, whose services keep its rules (stock,
    one open basket per customer)."""

    list_display = ["id", "customer", "status", "order", "created_at", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "order"]
    search_fields = ["customer__external_id", "order__external_id"]
    date_hierarchy = "updated_at"
    inlines = [BasketLineInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "customer", "product", "session_key", "model_version_id"]
    list_filter = ["kind"]
    list_select_related = ["customer", "product"]
    search_fields = ["customer__external_id", "product__external_id", "query"]
    raw_id_fields = ["customer", "product"]
    date_hierarchy = "at"


@admin.register(SegmentRun)
class SegmentRunAdmin(admin.ModelAdmin):
    list_display = ["as_of", "customer_count", "job", "created_at"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
    date_hierarchy = "as_of"


@admin.register(CustomerSegment)
class CustomerSegmentAdmin(admin.ModelAdmin):
    list_display = ["customer", "run", "rfm_group", "high_value", "predicted_clv_12m", "churn_risk"]
    list_filter = ["rfm_group", "high_value"]
    list_select_related = ["customer", "run"]
    search_fields = ["customer__external_id", "customer__name"]
    raw_id_fields = ["customer", "run"]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "channel", "category", "starts_on", "ends_on", "audience_size"]
    list_filter = ["status", "channel"]
    list_select_related = ["category"]
    search_fields = ["name", "description"]
    raw_id_fields = ["products", "category", "created_by"]
    date_hierarchy = "starts_on"


@admin.register(PromotionTarget)
class PromotionTargetAdmin(admin.ModelAdmin):
    list_display = ["promotion", "customer", "rank", "group", "score", "expected_value"]
    list_filter = ["group"]
    list_select_related = ["promotion", "customer"]
    search_fields = ["customer__external_id", "promotion__name"]
    raw_id_fields = ["promotion", "customer"]
