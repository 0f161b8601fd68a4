from oauthflow.checks import check_settings


def ids(settings):
    return [m.id for m in check_settings()]


def test_shared_token_cache_passes(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "tokens"}
    assert "oauthflow.W003" not in ids(settings)


def test_per_process_token_cache_is_a_warning(settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "TOKEN_CACHE": "default"}  # LocMemCache
    assert "oauthflow.W003" in ids(settings)
