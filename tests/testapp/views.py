"""Views the resource-protection tests call: DRF views with each permission class, and
plain Django views with the decorator and the mixin."""

from django.http import JsonResponse
from django.views import View
from rest_framework import viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauthflow.decorators import ProtectedResourceMixin, require_oauth
from oauthflow.formats.base import GrantedToken
from oauthflow.rest_framework import (
    IsAuthenticatedOrTokenHasScope,
    OAuth2Authentication,
    TokenHasActionScope,
    TokenHasReadWriteScope,
    TokenHasScope,
)


def describe(request, token):
    user = request.user
    return {
        "user": user.get_username() if user and user.is_authenticated else None,
        "client_id": token.client.client_id if token is not None else None,
        "scopes": sorted(token.scopes) if token is not None else None,
        "client_credentials": token.is_client_credentials if token is not None else None,
        "method": request.method,
    }


class Described(APIView):
    authentication_classes = [OAuth2Authentication]

    def get(self, request, *args, **kwargs):
        token = request.auth if isinstance(request.auth, GrantedToken) else None
        return Response(describe(request, token))

    post = put = patch = delete = get


class ReadView(Described):
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]


class ReadProfileView(Described):
    permission_classes = [TokenHasScope]
    required_scopes = "read profile"


class AnyTokenView(Described):
    permission_classes = [TokenHasScope]
    required_scopes = []


class MisconfiguredView(Described):
    permission_classes = [TokenHasScope]


class ReadWriteView(Described):
    permission_classes = [TokenHasReadWriteScope]


class ReadWriteProfileView(Described):
    permission_classes = [TokenHasReadWriteScope]
    required_scopes = ["profile"]


class SessionOrTokenView(Described):
    authentication_classes = [OAuth2Authentication, SessionAuthentication]
    permission_classes = [IsAuthenticatedOrTokenHasScope]
    required_scopes = ["read"]


class SessionFirstView(Described):
    authentication_classes = [SessionAuthentication, OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]


class WriteOrAdminView(Described):
    permission_classes = [TokenHasScope | IsAdminUser]
    required_scopes = ["write"]


class ReadAndUserView(Described):
    permission_classes = [TokenHasScope & IsAuthenticated]
    required_scopes = ["read"]


class UserThenReadView(Described):
    # A permission before ours refuses for its own reason: no scope challenge.
    permission_classes = [IsAuthenticated, TokenHasScope]
    required_scopes = ["write"]


class FormView(Described):
    parser_classes = [FormParser, JSONParser]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def post(self, request, *args, **kwargs):
        data = {k: v for k, v in request.data.items() if k != "access_token"}
        return Response({**describe(request, request.auth), "data": data})


class NoteViewSet(viewsets.ViewSet):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasActionScope]
    required_action_scopes = {
        "list": ["read"],
        "retrieve": ["read", "profile"],
        "create": ["write"],
    }

    def list(self, request):
        return Response({"action": "list"})

    def retrieve(self, request, pk=None):
        return Response({"action": "retrieve", "pk": pk})

    def create(self, request):
        return Response({"action": "create"}, status=201)

    def destroy(self, request, pk=None):  # no scopes declared: misconfigured
        return Response(status=204)


class UnmappedViewSet(viewsets.ViewSet):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasActionScope]

    def list(self, request):
        return Response({})


# Plain Django -------------------------------------------------------------------------------


def _plain(request):
    return JsonResponse(describe(request, request.oauth_token))


@require_oauth(scopes=["read"])
def plain_read(request):
    return _plain(request)


@require_oauth(scopes="read profile")
def plain_read_profile(request):
    return _plain(request)


@require_oauth(scopes=[])
def plain_any(request):
    return _plain(request)


@require_oauth(scopes=["read"])
async def plain_async(request):
    return _plain(request)


class PlainWriteView(ProtectedResourceMixin, View):
    required_scopes = ["write"]

    def get(self, request):
        return _plain(request)

    post = get


class PlainAsyncView(ProtectedResourceMixin, View):
    required_scopes = ["read"]

    async def get(self, request):
        return _plain(request)


class PlainMisconfiguredView(ProtectedResourceMixin, View):
    def get(self, request):
        return _plain(request)
