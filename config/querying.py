"""Query shapes that keep a page's cost flat at national size (issue 14 § 2).

- `InArray("site_id", queryset)`: `site_id IN (subquery)` written so that PostgreSQL can use an
  index on each branch of an OR. `site_id IN (SELECT …) OR assignee_id = 5` plans as a hashed
  sub-plan *filter* (every row read); `site_id = ANY(ARRAY(SELECT …))` evaluates the subquery
  once (an InitPlan) and leaves an indexable condition, so an OR of them becomes a BitmapOr of
  index scans. Same rows, same NULL semantics; plain `IN (…)` elsewhere (SQLite).
- `capped_counts(cap, name=queryset, …)`: several counts in one query, each reading at most
  `cap + 1` rows; a count past the cap says "more than N" (`CappedCount`).
- `CappedPaginator`: a paginator whose COUNT reads at most `cap + 1` rows.
- `BranchedRows(queryset, branches, ordering)`: a page of a queryset filtered by an OR (a
  scope: my sites' days OR my own days OR the catalogue's open days) read as the union of each
  branch's first rows in the page's order. An OR cannot be read in index order: PostgreSQL
  sorted every row of every branch to keep 50 (112,000 open days at national size, on disk);
  each branch alone is an ordered index scan that stops after the page.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import BooleanField, Expression, F, QuerySet, Subquery
from django.utils.functional import cached_property

from config.pagination import SteadyPaginator

# Beyond this many rows a list says "more than 1,000" instead of counting them all.
COUNT_CAP = 1000


class InArray(Expression):
    """`field IN (queryset)` as `field = ANY(ARRAY(queryset))` on PostgreSQL (see above)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, field: str, queryset: QuerySet):
        super().__init__(output_field=BooleanField())
        self.lhs = F(field)
        self.rhs = Subquery(queryset.order_by())  # a set: no sort

    def __repr__(self) -> str:
        return f"InArray({self.lhs!r}, {self.rhs!r})"

    def get_source_expressions(self):
        return [self.lhs, self.rhs]

    def set_source_expressions(self, exprs):
        self.lhs, self.rhs = exprs

    def _compiled(self, compiler, connection):
        lhs_sql, lhs_params = compiler.compile(self.lhs)
        rhs_sql, rhs_params = compiler.compile(self.rhs)  # "(SELECT …)"
        return lhs_sql, rhs_sql, (*lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        lhs_sql, rhs_sql, params = self._compiled(compiler, connection)
        return f"{lhs_sql} IN {rhs_sql}", params

    def as_postgresql(self, compiler, connection):
        lhs_sql, rhs_sql, params = self._compiled(compiler, connection)
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", params


class CappedCount(int):
    """A count that stopped at its cap: `capped` says the true number is higher (templates
    say "more than {{ count }}" then, see templates/includes/count.html)."""

    capped: bool = False

    def __new__(cls, value: int, cap: int):
        count = super().__new__(cls, min(value, cap))
        count.capped = value > cap
        return count


def capped_counts(cap: int = COUNT_CAP, **querysets: QuerySet) -> dict[str, CappedCount]:
    """Each queryset's row count, at most `cap` (then `capped`), in a single query."""
    found = _counts({name: qs.order_by().values("pk")[: cap + 1] for name, qs in querysets.items()})
    return {name: CappedCount(value, cap) for name, value in found.items()}


def counts(**querysets: QuerySet) -> dict[str, int]:
    """Each queryset's exact row count, in a single query (a page's tiles in one round trip)."""
    return _counts({name: qs.order_by().values("pk") for name, qs in querysets.items()})


def _counts(querysets: dict[str, QuerySet]) -> dict[str, int]:
    if not querysets:
        return {}
    names = list(querysets)
    db = next(iter(querysets.values())).db
    parts, params = [], []
    for n, name in enumerate(names):
        sql, sql_params = querysets[name].query.get_compiler(using=db).as_sql()
        # Django compiled `sql` with placeholders: no value is spliced into it.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{n})")  # noqa: S608
        params.extend(sql_params)
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


class CappedPaginator(SteadyPaginator):
    """Counts at most `cap + 1` rows: the last pages past the cap are not offered."""

    def __init__(self, *args, cap: int = COUNT_CAP, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> CappedCount:
        return capped_counts(self.cap, n=self.object_list)["n"]


class BranchedRows:
    """`queryset` (filtered by the OR of `branches`, and by anything else) as a paginator's
    object list: `count()` is the queryset's; a slice `[start:stop]` reads at most `stop` rows
    of each branch — `base` (the same filters without the OR) filtered by the branch, in
    `ordering`, through its index — keeps the union's rows `start` to `stop` (ids only), then
    reads those rows whole from `queryset` (so never a row outside it): two queries a page.

    `ordering` names model fields (no `-`, no expressions), `id` among them. Where the
    database cannot order and limit inside a UNION (SQLite), a plain slice.
    """

    def __init__(
        self, queryset: QuerySet, branches: list, ordering: tuple[str, ...], *, base: QuerySet
    ):
        self.queryset = queryset.order_by(*ordering)
        self.base = base  # `queryset` without the OR: each branch filters it
        self.branches = branches
        self.ordering = ordering

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list:
        if not isinstance(key, slice):
            raise TypeError("BranchedRows reads slices (a page)")
        start, stop = key.start or 0, key.stop
        if (
            stop is None
            or not connections[self.queryset.db].features.supports_slicing_ordering_in_compound
        ):
            return list(self.queryset[key])
        parts = [
            self.base.filter(branch).order_by(*self.ordering).values_list(*self.ordering)[:stop]
            for branch in self.branches
        ]
        page = parts[0].union(*parts[1:]).order_by(*self.ordering)[start:stop]
        at = self.ordering.index("id")
        # An empty page still reads (no id is negative): a page costs the same queries always.
        ids = [row[at] for row in page] or [-1]
        return list(self.queryset.filter(pk__in=ids))
