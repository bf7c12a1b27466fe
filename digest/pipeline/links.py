"""The service's secret and every URL a mail or feed carries (tokens made here, once)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from digest.config import Settings
from digest.models import SubscriberInfo
from digest.tokens import Purpose, TokenSubject, make_token

SECRET_FILE = "secret.key"


def service_secret(settings: Settings) -> str:
    """The signing key: the setting, or one generated once into data_dir/secret.key."""
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = Path(settings.data_dir) / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@dataclass(frozen=True, slots=True)
class Links:
    """URL builder for one service (base URL and secret)."""

    base_url: str
    secret: str
    mail_from: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        """Links for the configured service."""
        return cls(
            base_url=settings.base_url,
            secret=service_secret(settings),
            mail_from=settings.mail_from,
        )

    def token(
        self, purpose: Purpose, subscriber: SubscriberInfo, *, now: datetime | None = None
    ) -> str:
        """A token of `purpose` for a subscriber."""
        subject = TokenSubject(subscriber_id=subscriber.id, nonce=subscriber.token_nonce)
        return make_token(self.secret, purpose, subject, now=now)

    def unsubscribe_url(self, subscriber: SubscriberInfo) -> str:
        """The one-click unsubscribe URL (GET shows a button; POST unsubscribes)."""
        return f"{self.base_url}/unsubscribe/{self.token(Purpose.UNSUBSCRIBE, subscriber)}"

    def unsubscribe_mailto(self) -> str:
        """The mailto alternative for List-Unsubscribe."""
        address = self.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
        return f"mailto:{address}?subject=unsubscribe"

    def manage_url(self, subscriber: SubscriberInfo) -> str:
        """The subscriber's page to change alerts and preferences."""
        return f"{self.base_url}/manage/{self.token(Purpose.MANAGE, subscriber)}"

    def feed_url(self, subscriber: SubscriberInfo, *, kind: str = "atom") -> str:
        """The subscriber's private feed."""
        return f"{self.base_url}/feeds/private/{self.token(Purpose.FEED, subscriber)}.{kind}"

    def confirm_url(self, subscriber: SubscriberInfo, *, now: datetime) -> str:
        """The double opt-in link (expires)."""
        return f"{self.base_url}/confirm/{self.token(Purpose.CONFIRM, subscriber, now=now)}"

    def digest_url(self, subscriber: SubscriberInfo, *, day: str) -> str:
        """The web page with a whole digest (where a long mail's list continues)."""
        return f"{self.base_url}/manage/{self.token(Purpose.MANAGE, subscriber)}/digest/{day}"

    def paper_url(self, key: str) -> str:
        """A paper's page on the service, by its stable identity key."""
        return f"{self.base_url}/papers/{quote(key, safe=':')}"
