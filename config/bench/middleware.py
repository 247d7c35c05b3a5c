"""The SQL queries a response cost, counted on the server (the bench's settings only)."""

from __future__ import annotations

from django.db import connection

HEADER = "X-Bench-Queries"


class QueryCountMiddleware:
    """Outermost: every query of the request counts (session, user, the view, the audit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
            # A streamed body's queries run while it is read: none of the pages measured stream.
        response[HEADER] = str(count)
        return response
