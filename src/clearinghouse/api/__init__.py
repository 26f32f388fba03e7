"""The HTTP API adapter: FastAPI under ``/api/v1``, RFC 9457 problems,
Bearer-token authentication, request-size limits, ``/metrics`` and JSON logs.

Feature packages define their routes in their own ``views`` modules; this
package assembles them (``clearinghouse.api.app.create_app``) and owns the
cross-cutting HTTP concerns. Nothing is imported here, so that views may use
the request context of ``clearinghouse.http_deps`` (a module below the features)
without importing the application.
"""
