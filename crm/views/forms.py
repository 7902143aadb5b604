"""Forms of the staff portal. They validate input; saving goes through services."""

import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from crm.models import Category, CustomerNote, CustomerSegment, Product, Promotion
from crm.selectors.customers import CustomerFilters

YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]
SKU_SEPARATORS = re.compile(r"[\s,;]+")
# Extension -> the file format the import reads. Content is checked too (see ``sniff_import_format``).
IMPORT_FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
SNIFF_BYTES = 8192


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    country = forms.ChoiceField(required=False)
    rfm_group = forms.ChoiceField(
        label="RFM group", required=False, choices=[("", "Any")] + CustomerSegment.RfmGroup.choices
    )
    high_value = forms.ChoiceField(label="High value", required=False, choices=YES_NO_ANY)
    consent = forms.ChoiceField(label="E-mail consent", required=False, choices=YES_NO_ANY)

    def __init__(self, *args, countries: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any")] + [(country, country) for country in countries]

    def to_filters(self) -> CustomerFilters:
        if not self.is_valid():
            return CustomerFilters()
        data = self.cleaned_data
        return CustomerFilters(
            search=data["q"],
            country=data["country"],
            rfm_group=data["rfm_group"],
            high_value=_yes_no(data["high_value"]),
            consent=_yes_no(data["consent"]),
        )


class CustomerNoteForm(forms.Form):
    kind = forms.ChoiceField(choices=CustomerNote.Kind.choices, initial=CustomerNote.Kind.NOTE)
    body = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write something in the note."},
    )


class PromotionForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
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

    def clean(self) -> dict:
        data = super().clean()
        skus, category = data.get("skus"), data.get("category")
        if "skus" in data and not skus and not category:
            raise forms.ValidationError("Choose the promoted products: a list of SKUs or a category.")
        if skus and category:
            raise forms.ValidationError("Give either SKUs or a category, not both.")
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The promotion must end on or after its start date.")
        return data

    def products(self) -> list[Product]:
        return list(Product.objects.filter(external_id__in=self.cleaned_data["skus"]))


def sniff_import_format(uploaded: UploadedFile) -> str | None:
    """The format the file's first bytes show: 'parquet', 'xlsx', 'csv', or None when it is none of them."""
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The last character may have been cut by the sniff window; anything earlier is a real error.
        if exc.start < len(head) - 4:
            try:
                text = head.decode("latin-1")
            except UnicodeDecodeError:
                return None
        else:
            text = head[: exc.start].decode("utf-8")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if any(delimiter in first_line for delimiter in (",", ";", "\t")):
        return "csv"
    return None


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Order lines file",
        help_text="CSV, Excel (.xlsx) or Parquet, in the canonical or the UCI Online Retail layout.",
    )
    layout = forms.ChoiceField(
        label="Column layout",
        choices=[("auto", "Detect"), ("canonical", "Canonical order lines"), ("uci", "UCI Online Retail")],
        initial="auto",
    )
    skip_invalid = forms.BooleanField(
        label="Import the valid rows even if some rows are invalid",
        required=False,
        help_text="By default nothing of a file with bad rows is written.",
    )

    def clean_file(self) -> UploadedFile:
        uploaded = self.cleaned_data["file"]
        limit = settings.IMPORT_UPLOAD_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(uploaded.size)}; "
                f"the largest accepted is {filesizeformat(limit)}."
            )
        extension = Path(uploaded.name).suffix.lower()
        expected = IMPORT_FORMATS.get(extension)
        if expected is None:
            raise forms.ValidationError(
                f"Unsupported file type {extension or '(none)'!r}; upload a .csv, .xlsx or .parquet file."
            )
        found = sniff_import_format(uploaded)
        if found != expected:
            raise forms.ValidationError(
                f"The file is named {extension} but its content is "
                f"{'not a recognisable data file' if found is None else found}."
            )
        uploaded.file_type = expected
        return uploaded
