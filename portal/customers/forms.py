"""Forms of the customers area: the list's filters, a CRM note, a consent change and erasure."""

from django import forms

from crm.models import ConsentChannel, ConsentEvent, CustomerNote, CustomerSegment
from crm.selectors.customers import CustomerFilters
from portal.fields import MultilineTextField

YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]


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
        """The filters asked for (none when the form is not bound). A bound form must be valid: the
        views answer one that is not with a 400, never with the list unfiltered."""
        if not self.is_bound:
            return CustomerFilters()
        if not self.is_valid():
            raise ValueError("the customer filters are not valid")
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
    body = MultilineTextField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write something in the note."},
    )


class CustomerConsentForm(forms.Form):
    """Consent a customer gave or withdrew through staff (on the phone, by letter), for one channel."""

    GIVEN, WITHDRAWN = "given", "withdrawn"

    channel = forms.ChoiceField(choices=ConsentChannel.choices)
    change = forms.ChoiceField(
        label="The customer has", choices=[(GIVEN, "Given consent"), (WITHDRAWN, "Withdrawn consent")]
    )
    lawful_basis = forms.ChoiceField(
        label="Lawful basis",
        choices=ConsentEvent.LawfulBasis.choices,
        initial=ConsentEvent.LawfulBasis.CONSENT,
    )


class CustomerEraseForm(forms.Form):
    """Erasure cannot be undone: the customer's id, typed in, confirms that this is the one meant."""

    confirm_id = forms.CharField(
        label="Type the customer's id to confirm",
        max_length=64,
        error_messages={"required": "Type the customer's id to confirm the erasure."},
    )

    def __init__(self, *args, expected_id: str | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected_id = expected_id

    def clean_confirm_id(self) -> str:
        typed = self.cleaned_data["confirm_id"]
        if self.expected_id is not None and typed != self.expected_id:
            raise forms.ValidationError("That is not this customer's id; type it exactly as shown.")
        return typed
