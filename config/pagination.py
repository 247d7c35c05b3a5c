"""Pagination whose query count does not depend on the data (issue 14)."""

from __future__ import annotations

from django.core.paginator import Paginator


class SteadyPaginator(Paginator):
    """A paginator whose page costs its query even when there is nothing to show: Django's
    skips the query of an empty page, so the page would cost one query less with no rows
    than with some (query counts must not depend on the data, issue 14). The last page reads
    `per_page + orphans` rows from its start: the same rows, one query always."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top += self.orphans  # the last page: up to its end, never sliced to [0:0]
        return self._get_page(self.object_list[bottom:top], number, self)
