"""Settings: sources and precedence, validation, and that every setting is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from digest.config import Settings, load_settings
from digest.errors import ConfigError

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "config" / "digest.example.toml"
README = ROOT / "README.md"


def test_every_setting_is_in_the_example_with_its_default() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    defaults = Settings.model_construct()
    for name, field in Settings.model_fields.items():
        assert name in example, f"{name} missing from {EXAMPLE.name}"
        assert field.description, f"{name} has no help text"
        value = getattr(defaults, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        expected = str(value) if isinstance(value, Path) else value
        assert example[name] == expected, f"{name}: example says {example[name]!r}"
    assert set(example) == set(Settings.model_fields)


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    for name in Settings.model_fields:
        assert re.search(rf"`{name}`", text), f"{name} is not documented in README.md"
        assert f"DIGEST_{name.upper()}" in text or "DIGEST_<NAME>" in text


def test_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('database_url = "sqlite:///from-file.db"\ntimezone = "Europe/Paris"\n')
    assert load_settings(config).database_url == "sqlite:///from-file.db"
    monkeypatch.setenv("DIGEST_DATABASE_URL", "sqlite:///from-env.db")
    settings = load_settings(config)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.timezone == "Europe/Paris"
    assert load_settings(config, database_url="sqlite://").database_url == "sqlite://"


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "other.toml"
    config.write_text("max_dump_bytes = 1234\n")
    monkeypatch.setenv("DIGEST_CONFIG", str(config))
    assert load_settings().max_dump_bytes == 1234


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('database_url = "mysql://x"\n', "database_url"),
        ('timezone = "Mars/Olympus"\n', "timezone"),
        ("max_dump_bytes = -1\n", "max_dump_bytes"),
        ('no_such_setting = "x"\n', "no_such_setting"),
        ("database_url = \n", "digest.toml"),
    ],
)
def test_bad_config_names_the_file_and_field(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=fragment) as info:
        load_settings(config)
    assert str(config) in str(info.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_a_time_zone_folder_is_refused_not_a_crash(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('timezone = "America"\n')
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(config)
