from __future__ import annotations

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import MFARequired
from accounts.mfa import mfa_enrolment_missing
from accounts.models import ApiToken


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=4096)
    otp = serializers.CharField(required=False, allow_blank=True, max_length=64)
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=ApiToken._meta.get_field("name").max_length
    )


class TooManyAttempts(exceptions.Throttled):
    default_detail = gettext_lazy("Too many failed sign-in attempts. Try again in a few minutes.")


def _verify_second_factor(user, code: str) -> bool:
    for authenticator in Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    ):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


class ObtainTokenView(APIView):
    """Exchange an email and password (plus a TOTP code once MFA is on) for an API token.

    Failures count against the same rate limits as the sign-in page (per account and per
    address, `accounts.adapter`). Each call creates a new token, named `name` (default "API"),
    valid `RELEVE_TOKEN_TTL`.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "Token",
                {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
            )
        },
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].lower()
        password = serializer.validated_data["password"]
        django_request = request._request
        try:
            user = get_adapter(django_request).authenticate(
                django_request, email=email, password=password
            )
        except DjangoValidationError as exc:  # allauth: too_many_login_attempts
            raise TooManyAttempts() from exc
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("The email address or the password is wrong.")]}
            )
        if (
            account_settings.EMAIL_VERIFICATION
            == account_settings.EmailVerificationMethod.MANDATORY
            and not EmailAddress.objects.filter(user=user, verified=True).exists()
        ):
            raise exceptions.ValidationError(
                {"email": [_("Confirm your email address first (see the message we sent you).")]}
            )
        if is_mfa_enabled(user):
            code = serializer.validated_data.get("otp", "").strip()
            if not code:
                raise exceptions.ValidationError(
                    {"otp": [_("Enter the code from your authenticator app.")]}
                )
            if not _verify_second_factor(user, code):
                if not ratelimit.consume(
                    django_request, action="login_failed", key=f"otp:{user.pk}"
                ):
                    raise TooManyAttempts()
                raise exceptions.ValidationError({"otp": [_("This code is wrong or expired.")]})
        elif mfa_enrolment_missing(user):
            raise MFARequired(
                _(
                    "Your role requires two-factor authentication: set it up in your "
                    "account (web) first."
                )
            )
        name = serializer.validated_data.get("name", "") or "API"
        token, key = services.api_token_create(user=user, name=name)
        return Response(
            {
                "token": key,
                "expires_at": serializers.DateTimeField().to_representation(token.expires_at),
            }
        )


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at"]
        read_only_fields = ["id", "created_at", "expires_at", "last_used_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    """The answer to a creation: the key, shown this once."""

    token = serializers.CharField(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """One's own API tokens: list them (never their key), create a named one (its key is in the
    201, once), revoke one (204; its key answers 401 then). Another user's token is a 404.

    Whoever calls this is authenticated (session or token) and so has passed the MFA rule.
    """

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # the schema's model; requests use get_queryset
    lookup_value_regex = "[0-9]{1,18}"  # a bigger number would overflow the column: 404

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return ApiToken.objects.filter(user=self.request.user).live()

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            user=request.user, name=serializer.validated_data["name"]
        )
        token.token = key
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        try:
            services.api_token_revoke(user=request.user, pk=int(kwargs["pk"]))
        except ApiToken.DoesNotExist:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)
