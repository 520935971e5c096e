"""The web console for compliance staff under ``/console``: pages, staff login, roles, public pages.

``install(app, ctx)`` adds the console's routes and error pages to the gateway app. Staff accounts
are separate from API users: they log in with a password (argon2) and get a server-side session.
"""

from hegui.console.app import install

__all__ = ["install"]
