"""The basket's forms: what comes in is checked here, so a bad product id or quantity is a clear 400."""

from django import forms

from crm.models.catalogue import LARGEST_ID
from crm.services.baskets import BASKET_LINE_MAX_QUANTITY

QUANTITY_ERRORS = {
    "required": "Enter a quantity.",
    "invalid": f"The quantity must be a whole number from 1 to {BASKET_LINE_MAX_QUANTITY}.",
    "min_value": f"The quantity must be a whole number from 1 to {BASKET_LINE_MAX_QUANTITY}.",
    "max_value": f"The quantity must be a whole number from 1 to {BASKET_LINE_MAX_QUANTITY}.",
}


class BasketAddForm(forms.Form):
    product_id = forms.IntegerField(
        min_value=1,
        max_value=LARGEST_ID,
        error_messages=dict.fromkeys(("required", "invalid", "min_value", "max_value"), "Choose a product."),
    )
    quantity = forms.IntegerField(
        min_value=1, max_value=BASKET_LINE_MAX_QUANTITY, initial=1, error_messages=QUANTITY_ERRORS
    )


class BasketQuantityForm(forms.Form):
    """A line's new quantity; 0 takes the product out of the basket."""

    quantity = forms.IntegerField(
        min_value=0,
        max_value=BASKET_LINE_MAX_QUANTITY,
        error_messages={
            **QUANTITY_ERRORS,
            "invalid": f"The quantity must be a whole number from 0 to {BASKET_LINE_MAX_QUANTITY}.",
            "min_value": f"The quantity must be a whole number from 0 to {BASKET_LINE_MAX_QUANTITY}.",
            "max_value": f"The quantity must be a whole number from 0 to {BASKET_LINE_MAX_QUANTITY}.",
        },
    )


class BasketOrderForm(forms.Form):
    """Which basket the shopper is placing: sending the form twice finds the order of the first."""

    basket_id = forms.IntegerField(min_value=1, max_value=LARGEST_ID, required=False)
