"""API keys for answer servers, kept in the operating system's keyring (macOS Keychain, Windows
Credential Locker, the Secret Service on Linux), never in settings.json or the logs.
DESK_API_KEY, when set, wins: for the command line and machines without a keyring."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from desk.config.settings import server_host
from desk.core.errors import DeskError

KEYRING_SERVICE = "Desk answer server"
KEY_VARIABLE = "DESK_API_KEY"


def _account(url: str) -> str:
    """One key per server origin (scheme://host:port, the host in lower case and the port
    spelled out): the path, the model and how the address was typed do not matter."""
    return f"{urlsplit(url).scheme}://{server_host(url).lower()}"


def api_key(url: str) -> str | None:
    """The key for this server, or None when there is none (or no keyring to hold one)."""
    if os.environ.get(KEY_VARIABLE):
        return os.environ[KEY_VARIABLE]
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, _account(url))
    except Exception:  # no backend (a headless Linux), a locked or broken keyring: no key
        return None


def save_api_key(url: str, key: str) -> None:
    """Store (or, with an empty key, forget) the key for this server in the keyring."""
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        if key:
            keyring.set_password(KEYRING_SERVICE, _account(url), key)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, _account(url))
            except PasswordDeleteError:
                pass  # there was none
    except Exception as exc:
        raise DeskError(f"The API key could not be kept in the system keyring ({exc}). Set the "
                        f"{KEY_VARIABLE} environment variable instead.") from exc
