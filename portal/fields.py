"""Form fields the portal's forms share."""

from django import forms


class MultilineTextField(forms.CharField):
    """Text typed in a textarea, with its line breaks as one character each.

    Browsers send a textarea's line breaks as CR LF but count each as one character against its
    ``maxlength``: a note the box took would be refused as too long. Line breaks are read as LF before
    the length is checked, and so stored."""

    widget = forms.Textarea

    def to_python(self, value):
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text
