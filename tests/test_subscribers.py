"""Subscribers and alerts through the pipeline, on SQLite and PostgreSQL: validation and storage."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.errors import InputError, NotFoundError, QueryError
from digest.pipeline import Preferences
from digest.pipeline.subscribers import check_alert, check_preferences, normalize_email
from digest.store import subscribers as store
from digest.store.db import reading, transaction
from digest.store.tables import Alert
from tests.conftest import all_rows


def _add(engine: Engine, settings: Settings, now: datetime, email: str, *alerts: str) -> int:
    info = pipeline.add_subscriber(engine, email, alerts=list(alerts), settings=settings, now=now)
    return info.id


def _alert_rows(engine: Engine, subscriber_id: int | None = None) -> int:
    query = select(func.count()).select_from(Alert)
    if subscriber_id is not None:
        query = query.where(Alert.subscriber_id == subscriber_id)  # type: ignore[arg-type]
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


# --- adding ---------------------------------------------------------------------------------


def test_a_subscriber_is_stored_normalised_with_defaults(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    info = pipeline.add_subscriber(
        any_engine,
        "  Ada.Lovelace@Example.COM ",
        alerts=["skin lesion", "  title:SAM  "],
        settings=settings,
        now=now,
    )

    assert info.email == "ada.lovelace@example.com"
    assert (info.status, info.created_at, info.confirmed_at) == ("active", now, now)
    assert (info.timezone, info.send_hour, info.frequency) == ("UTC", 7, "daily")
    assert (info.max_papers, info.include_trending) == (20, True)
    assert [alert.query for alert in info.alerts] == ["skin lesion", "title:SAM"]
    assert info.token_nonce  # every subscriber gets one, so their links can be revoked
    # Read back in a new session, found whatever case and spaces the address is given in.
    assert pipeline.find_subscriber(any_engine, "ADA.LOVELACE@example.com ") == info


def test_preferences_and_pending_status_are_stored(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    prefs = Preferences(
        timezone="Europe/Paris",
        send_hour=0,
        frequency="weekly",
        max_papers=200,
        include_trending=False,
    )
    pipeline.add_subscriber(
        any_engine,
        "b@example.org",
        alerts=[],
        settings=settings,
        now=now,
        status="pending",
        prefs=prefs,
    )

    info = pipeline.find_subscriber(any_engine, "b@example.org")
    assert (info.status, info.confirmed_at, info.alerts) == ("pending", None, ())
    assert (info.timezone, info.send_hour, info.frequency) == ("Europe/Paris", 0, "weekly")
    assert (info.max_papers, info.include_trending) == (200, False)


def test_a_known_address_is_refused_whatever_its_case(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    _add(any_engine, settings, now, "ada@example.com", "graphs")
    before = all_rows(any_engine)

    with pytest.raises(InputError) as error:
        _add(any_engine, settings, now, " ADA@Example.com", "other")

    assert str(error.value) == "email: ada@example.com is already subscribed"
    assert all_rows(any_engine) == before


def test_two_adds_of_one_address_at_once_give_one_subscriber(
    any_engine: Engine, settings: Settings, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(any_engine, settings, now, "ada@example.com")
    # The other request checked before this one inserted: only the unique index notices.
    monkeypatch.setattr(store, "find_id", lambda *_: None)

    with pytest.raises(InputError, match="already subscribed"):
        _add(any_engine, settings, now, "ada@example.com", "graphs")

    monkeypatch.undo()
    assert len(pipeline.list_subscribers(any_engine)) == 1
    assert _alert_rows(any_engine) == 0


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "no-at-sign",
        "a@b.c\r\nBcc: x@y.z",
        "a@b.c\nBcc: x@y.z",
        "a@b.c\rBcc: x@y.z",
        "a@b.c\x00",
        "a@b.com\u2028Bcc: x@y.z",
        "a@b.com\x0bBcc: x@y.z",
        "a@b.com, c@d.com",
        "Ada <a@b.com>",
        "a@localhost",
        "a@@b.com",
        "@b.com",
    ],
)
def test_invalid_addresses_are_refused(address: str) -> None:
    with pytest.raises(InputError) as error:
        normalize_email(address)
    assert error.value.source == "email"


def test_a_header_injection_attempt_stores_nothing(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    before = all_rows(any_engine)
    with pytest.raises(InputError) as error:
        _add(any_engine, settings, now, "a@b.c\r\nBcc: x@y.z", "graphs")
    assert str(error.value) == "email: line breaks are not allowed in an address"
    assert all_rows(any_engine) == before


def test_a_bad_alert_refuses_the_whole_subscriber(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    before = all_rows(any_engine)
    with pytest.raises(QueryError) as error:
        _add(any_engine, settings, now, "ada@example.com", "graphs", 'skin "lesion')
    assert str(error.value) == "unbalanced quote: a phrase is not closed at character 6"
    assert error.value.position == 5
    assert all_rows(any_engine) == before


@pytest.mark.parametrize(
    ("prefs", "field", "reason"),
    [
        (Preferences(timezone="Mars/Olympus"), "timezone", "unknown time zone 'Mars/Olympus'"),
        (Preferences(timezone="America"), "timezone", "unknown time zone 'America'"),
        (Preferences(timezone="../../etc/passwd"), "timezone", "unknown time zone"),
        (Preferences(timezone=""), "timezone", "unknown time zone ''"),
        (Preferences(send_hour=24), "send_hour", "must be an hour from 0 to 23"),
        (Preferences(send_hour=-1), "send_hour", "must be an hour from 0 to 23"),
        (Preferences(frequency="hourly"), "frequency", "must be daily or weekly"),
        (Preferences(frequency="Daily"), "frequency", "must be daily or weekly"),
        (Preferences(max_papers=0), "max_papers", "must be from 1 to 200"),
        (Preferences(max_papers=201), "max_papers", "must be from 1 to 200"),
    ],
)
def test_bad_preferences_are_refused_with_the_field_named(
    prefs: Preferences, field: str, reason: str
) -> None:
    with pytest.raises(InputError) as error:
        check_preferences(prefs)
    assert error.value.source == field
    assert error.value.reason.startswith(reason)


def test_a_bad_preference_stores_nothing(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    before = all_rows(any_engine)
    with pytest.raises(InputError, match=r"^send_hour: "):
        pipeline.add_subscriber(
            any_engine,
            "ada@example.com",
            alerts=["graphs"],
            settings=settings,
            now=now,
            prefs=Preferences(send_hour=31),
        )
    assert all_rows(any_engine) == before


# --- alerts ---------------------------------------------------------------------------------


def test_alerts_are_stored_with_their_spacing_tidied() -> None:
    assert check_alert("  skin   lesion\t") == "skin lesion"
    assert check_alert('title:"x ray"  OR  ct') == 'title:"x ray" OR ct'


def test_alert_cap_counts_distinct_alerts(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    capped = settings.model_copy(update={"max_alerts_per_subscriber": 2})
    before = all_rows(any_engine)
    with pytest.raises(InputError) as error:
        _add(any_engine, capped, now, "ada@example.com", "a1", "a2", "a3")
    assert str(error.value) == "alerts: at most 2 alerts"
    assert all_rows(any_engine) == before

    # Repeats are one alert, so these are two and fit.
    info = pipeline.add_subscriber(
        any_engine,
        "ada@example.com",
        alerts=["graphs", " graphs ", "graphs", "skin  lesion", "skin lesion"],
        settings=capped,
        now=now,
    )
    assert [alert.query for alert in info.alerts] == ["graphs", "skin lesion"]

    with pytest.raises(InputError, match="at most 2 alerts"):
        pipeline.add_alert(any_engine, "ada@example.com", "x-ray", settings=capped, now=now)
    # At the cap, adding an alert the subscriber already has is still a harmless repeat.
    again = pipeline.add_alert(any_engine, "ada@example.com", "graphs", settings=capped, now=now)
    assert again == info


def test_adding_an_alert_twice_keeps_one(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    subscriber_id = _add(any_engine, settings, now, "ada@example.com")
    first = pipeline.add_alert(any_engine, "ada@example.com", "x-ray", settings=settings, now=now)
    second = pipeline.add_alert(
        any_engine, "ADA@example.com", " x-ray ", settings=settings, now=now
    )

    assert [alert.query for alert in first.alerts] == ["x-ray"]
    assert second == first
    assert _alert_rows(any_engine, subscriber_id) == 1


def test_a_bad_alert_is_refused_and_nothing_changes(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    _add(any_engine, settings, now, "ada@example.com", "graphs")
    before = all_rows(any_engine)
    with pytest.raises(QueryError) as error:
        pipeline.add_alert(any_engine, "ada@example.com", "skin OR", settings=settings, now=now)
    assert str(error.value) == "OR needs a term on its right at character 6"
    assert all_rows(any_engine) == before


def test_an_alert_for_an_unknown_subscriber_is_not_found(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    with pytest.raises(NotFoundError, match=r"^no subscriber nobody@example.com$"):
        pipeline.add_alert(any_engine, "nobody@example.com", "graphs", settings=settings, now=now)
    assert _alert_rows(any_engine) == 0


def test_removing_alerts(any_engine: Engine, settings: Settings, now: datetime) -> None:
    _add(any_engine, settings, now, "ada@example.com", "graphs", "skin lesion")

    info = pipeline.remove_alert(any_engine, "ada@example.com", "  skin   lesion ")
    assert [alert.query for alert in info.alerts] == ["graphs"]

    with pytest.raises(NotFoundError) as error:
        pipeline.remove_alert(any_engine, "ada@example.com", "skin lesion")
    assert str(error.value) == "ada@example.com has no alert 'skin lesion'"
    with pytest.raises(NotFoundError, match=r"^no subscriber nobody@example.com$"):
        pipeline.remove_alert(any_engine, "nobody@example.com", "graphs")
    assert [a.query for a in pipeline.find_subscriber(any_engine, "ada@example.com").alerts] == [
        "graphs"
    ]


# --- removing, listing, changing ------------------------------------------------------------


def test_removing_a_subscriber_removes_their_alerts_only(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    ada = _add(any_engine, settings, now, "ada@example.com", "graphs", "x-ray")
    bob = _add(any_engine, settings, now, "bob@example.com", "graphs")

    pipeline.remove_subscriber(any_engine, " Ada@Example.com")

    assert _alert_rows(any_engine, ada) == 0
    assert _alert_rows(any_engine, bob) == 1
    assert [info.email for info in pipeline.list_subscribers(any_engine)] == ["bob@example.com"]
    with pytest.raises(NotFoundError, match=r"^no subscriber ada@example.com$"):
        pipeline.remove_subscriber(any_engine, "ada@example.com")
    with pytest.raises(NotFoundError):
        pipeline.find_subscriber(any_engine, "ada@example.com")


def test_listing_by_status(any_engine: Engine, settings: Settings, now: datetime) -> None:
    _add(any_engine, settings, now, "ada@example.com", "graphs")
    pipeline.add_subscriber(
        any_engine, "bob@example.com", alerts=[], settings=settings, now=now, status="pending"
    )

    assert [i.email for i in pipeline.list_subscribers(any_engine)] == [
        "ada@example.com",
        "bob@example.com",
    ]
    assert [i.email for i in pipeline.list_subscribers(any_engine, status="pending")] == [
        "bob@example.com"
    ]
    assert pipeline.list_subscribers(any_engine, status="bounced") == []
    with pytest.raises(InputError, match=r"^status: must be one of pending, active"):
        pipeline.list_subscribers(any_engine, status="weird")


def test_changing_preferences_keeps_what_is_not_given(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    original = pipeline.add_subscriber(
        any_engine,
        "ada@example.com",
        alerts=["graphs"],
        settings=settings,
        now=now,
        prefs=Preferences(timezone="Asia/Tokyo", send_hour=9),
    )

    changed = pipeline.update_preferences(
        any_engine,
        "ADA@example.com",
        Preferences(frequency="weekly", include_trending=False, max_papers=5),
    )

    assert (changed.frequency, changed.include_trending, changed.max_papers) == ("weekly", False, 5)
    assert (changed.timezone, changed.send_hour, changed.alerts) == (
        "Asia/Tokyo",
        9,
        original.alerts,
    )
    assert pipeline.find_subscriber(any_engine, "ada@example.com") == changed
    assert pipeline.update_preferences(any_engine, "ada@example.com", Preferences()) == changed


def test_a_bad_preference_change_changes_nothing(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    _add(any_engine, settings, now, "ada@example.com", "graphs")
    before = all_rows(any_engine)

    with pytest.raises(InputError, match=r"^timezone: unknown time zone 'Mars/Olympus'$"):
        pipeline.update_preferences(
            any_engine, "ada@example.com", Preferences(frequency="weekly", timezone="Mars/Olympus")
        )
    with pytest.raises(NotFoundError, match=r"^no subscriber bob@example.com$"):
        pipeline.update_preferences(any_engine, "bob@example.com", Preferences(send_hour=3))
    assert all_rows(any_engine) == before


def test_the_store_says_when_there_is_no_such_subscriber(any_engine: Engine) -> None:
    with transaction(any_engine) as session:
        assert store.update_preferences(session, 404, send_hour=3) is False
        assert store.update_preferences(session, 404) is False
        assert store.delete_subscriber(session, 404) is False
        assert store.remove_alert(session, 404, "graphs") is False
    with reading(any_engine) as session:
        assert store.get_subscriber(session, 404) is None
        assert store.count_subscribers(session) == 0
