"""factory-boy factories. Token factories keep the clear value on ``obj.value``
(never stored) so a test can present it."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from oauthflow import models, tokens


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ClientFactory(factory.django.DjangoModelFactory):
    """A confidential client; ``client.secret`` holds the clear secret for the test."""

    class Meta:
        model = models.Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Client {n}")
    client_type = models.Client.CONFIDENTIAL
    redirect_uris = "https://client.example.com/callback"
    grant_types = "authorization_code refresh_token"

    @factory.post_generation
    def secret(obj, create, extracted, **kwargs):
        obj.secret = obj.set_secret() if obj.uses_secret else None
        if create:
            obj.save()


class PublicClientFactory(ClientFactory):
    client_type = models.Client.PUBLIC
    redirect_uris = "http://127.0.0.1/callback"


def _credential(prefix: str):
    return factory.LazyFunction(lambda: tokens.generate(prefix))


class _CredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        exclude = ("value",)

    client = factory.SubFactory(ClientFactory)
    user = factory.SubFactory(UserFactory)
    scope = "read"
    family = factory.LazyFunction(models.new_family_id)
    digest = factory.LazyAttribute(lambda o: tokens.digest(o.value))
    hint = factory.LazyAttribute(lambda o: tokens.hint(o.value))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        value = kwargs.pop("_value")
        obj = super()._create(model_class, *args, **kwargs)
        obj.value = value
        return obj

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        value = kwargs.pop("_value")
        obj = super()._build(model_class, *args, **kwargs)
        obj.value = value
        return obj

    _value = factory.SelfAttribute("value")


class AccessTokenFactory(_CredentialFactory):
    class Meta:
        model = models.AccessToken

    value = _credential(tokens.ACCESS_TOKEN_PREFIX)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class RefreshTokenFactory(_CredentialFactory):
    class Meta:
        model = models.RefreshToken

    value = _credential(tokens.REFRESH_TOKEN_PREFIX)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    family_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))


class AuthorizationCodeFactory(_CredentialFactory):
    class Meta:
        model = models.AuthorizationCode

    value = _credential(tokens.AUTHORIZATION_CODE_PREFIX)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(seconds=60))
    redirect_uri = "https://client.example.com/callback"
    code_challenge_method = "S256"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Consent

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    scope = "read"
