"""The one place that turns settings into a Mailer."""

from __future__ import annotations

from digest.config import Settings
from digest.deliver.maildir import MaildirMailer
from digest.deliver.mailer import Mailer
from digest.deliver.memory import MemoryMailer
from digest.deliver.smtp import SmtpMailer


def make_mailer(settings: Settings) -> Mailer:
    """The transport `settings.mail_transport` names: maildir (default), smtp or memory."""
    if settings.mail_transport == "smtp":
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            timeout=settings.smtp_timeout,
            connections=settings.smtp_connections,
            rate=settings.send_rate,
        )
    if settings.mail_transport == "memory":
        return MemoryMailer()
    return MaildirMailer(settings.maildir_path)
