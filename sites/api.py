from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from sites.models import HostSite, Membership, Region, Territory


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """The 18 regions of France (public reference data)."""

    serializer_class = RegionSerializer
    permission_classes = [AllowAny]
    queryset = Region.objects.all()
    lookup_field = "code"


class TerritoryFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="department__region", label="region code")
    department = django_filters.CharFilter(field_name="department", label="department code")
    priority = django_filters.BooleanFilter(field_name="is_priority")

    class Meta:
        model = Territory
        fields = ["region", "department", "priority"]


class TerritorySerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="department.region_id", read_only=True)

    class Meta:
        model = Territory
        fields = [
            "id",
            "name",
            "epci_siren",
            "department",
            "region",
            "is_priority",
            "managing_structure",
        ]


class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter

    def get_queryset(self):
        return Territory.objects.visible_to(self.request.user).select_related("department")


class HostSiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = HostSite
        fields = ["id", "name", "territory", "status"]


class HostSiteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Host sites within the caller's scope (the sites issue adds writes and the catalogue)."""

    serializer_class = HostSiteSerializer
    filterset_fields = ["territory", "status"]

    def get_queryset(self):
        return HostSite.objects.visible_to(self.request.user)


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["role", "region", "territory", "site"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    roles = RoleSerializer(many=True, source="memberships.all")
    volunteer = serializers.SerializerMethodField()

    def get_volunteer(self, user) -> int | None:
        # The volunteers app (a higher one) adds the profile; read it by its reverse name.
        profile = getattr(user, "volunteer_profile", None)
        return profile.pk if profile is not None else None


class MeView(APIView):
    """Who am I: identity, roles and the scope of each."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
