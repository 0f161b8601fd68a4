from oauthflow import tokens
from tests import factories


def test_access_token_factory_keeps_value_off_the_row(db):
    token = factories.AccessTokenFactory()
    assert token.value.startswith("ofat_")
    assert token.digest == tokens.digest(token.value)
    assert token.value not in token.hint
