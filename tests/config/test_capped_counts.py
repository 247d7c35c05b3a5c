"""Counts that grow with the country stop at a cap (issue 14): "more than 1,000" past it."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from config.querying import CappedPaginator, capped_counts
from sites.models import HostSite
from tests.factories import HostSiteFactory

pytestmark = pytest.mark.django_db


def test_counts_past_the_cap_say_more_than_the_cap_in_one_query(django_assert_num_queries):
    HostSiteFactory.create_batch(3)
    with django_assert_num_queries(1):
        counts = capped_counts(2, all=HostSite.objects.all(), none=HostSite.objects.filter(pk=0))
    assert (int(counts["all"]), counts["all"].capped) == (2, True)
    assert (int(counts["none"]), counts["none"].capped) == (0, False)
    shown = render_to_string("includes/count.html", {"count": counts["all"]}).strip()
    assert shown.endswith("2")
    assert shown != "2"  # "more than 2" (translated)


def test_a_capped_paginator_offers_the_pages_up_to_the_cap():
    HostSiteFactory.create_batch(5)
    paginator = CappedPaginator(HostSite.objects.order_by("pk"), 2, cap=3)
    assert (int(paginator.count), paginator.count.capped, paginator.num_pages) == (3, True, 2)
