from __future__ import annotations

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=4096)
    otp = serializers.CharField(required=False, allow_blank=True, max_length=64)


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

    Failures count against the same rate limit as the sign-in page (allauth's `login_failed`).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
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
        elif settings.RELEVE_ENFORCE_MFA and user.requires_mfa():
            return Response(
                {
                    "code": "mfa_required",
                    "detail": _(
                        "Your role requires two-factor authentication: set it up in your "
                        "account (web) first."
                    ),
                },
                status=403,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
