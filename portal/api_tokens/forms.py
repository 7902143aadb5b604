"""Forms of the API tokens area: which token or login to revoke, and the filter of every login's tokens."""

from django import forms
from knox.settings import CONSTANTS


class ApiTokenFilterForm(forms.Form):
    username = forms.CharField(required=False, max_length=150, label="Login", help_text="Part of a username.")


class ApiTokenForm(ApiTokenFilterForm):
    """A token to revoke, by its digest (the row's key); ``username``: the filter of the list the form
    was posted from, to go back to it."""

    token = forms.CharField(max_length=CONSTANTS.DIGEST_LENGTH)


class ApiTokenLoginForm(ApiTokenFilterForm):
    """A login whose tokens are all revoked, by its id."""

    user = forms.IntegerField(min_value=1)
