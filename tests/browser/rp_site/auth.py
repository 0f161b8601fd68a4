"""The relying party's users: found by email (mozilla-django-oidc's default), made with the
provider's username."""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class ProviderBackend(OIDCAuthenticationBackend):
    def create_user(self, claims):
        return self.UserModel.objects.create_user(
            claims.get("preferred_username") or claims["email"], email=claims["email"]
        )
