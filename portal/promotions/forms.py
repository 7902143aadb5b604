"""The promotion form. It parses input (SKUs to products); the promotion's rules are checked once, by
``crm.services.promotions.promotion_create``, whose errors the view puts under the form's fields."""

import re

from django import forms

from crm.models import Category, Product, Promotion
from portal.fields import MultilineTextField

SKU_SEPARATORS = re.compile(r"[\s,;]+")


class PromotionForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = MultilineTextField(
        required=False,
        max_length=Promotion._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    skus = forms.CharField(
        label="Products (SKUs)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "85123A, 22423"}),
        help_text="SKUs separated by commas, spaces or new lines. Or choose a category.",
    )
    category = forms.ModelChoiceField(queryset=Category.objects.order_by("path"), required=False)
    discount_percent = forms.DecimalField(
        label="Discount (%)", min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=10
    )
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(choices=Promotion.Channel.choices, initial=Promotion.Channel.EMAIL)
    audience_size = forms.IntegerField(min_value=1, max_value=10_000_000, initial=1000)
    control_share = forms.FloatField(
        min_value=0.0, max_value=0.5, initial=0.1, help_text="Share of the audience held out (0 to 0.5)."
    )
    exclude_bought_within_days = forms.IntegerField(
        label="Exclude buyers of the last (days)", min_value=0, max_value=3650, initial=30
    )
    exclude_contacted_within_days = forms.IntegerField(
        label="Exclude contacted in the last (days)", min_value=0, max_value=3650, initial=14
    )

    def clean_skus(self) -> list[str]:
        skus = [sku.upper() for sku in SKU_SEPARATORS.split(self.cleaned_data["skus"]) if sku]
        skus = list(dict.fromkeys(skus))
        if not skus:
            return []
        found = {
            sku.upper(): pk
            for pk, sku in Product.objects.filter(external_id__in=skus).values_list("pk", "external_id")
        }
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            raise forms.ValidationError(f"Unknown SKU(s): {', '.join(unknown[:20])}")
        return skus

    def products(self) -> list[Product]:
        return list(Product.objects.filter(external_id__in=self.cleaned_data.get("skus") or []))
