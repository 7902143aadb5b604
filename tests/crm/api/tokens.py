from crm.services.api_tokens import api_token_create


def api_token_for(user) -> str:
    """A new API token of ``user``, as a client would send it."""
    _, key = api_token_create(user=user)
    return key
