"""Settings read from the environment: a blank secret is no secret at all."""

from typing import get_args

import pytest
from pydantic import SecretStr

from settings import Settings

SECRET_SETTINGS = [
    name for name, field in Settings.model_fields.items() if SecretStr in get_args(field.annotation)
]


def test_the_secret_settings_are_all_found():
    assert {"hubspot_client_secret", "notion_webhook_token", "activity_api_key"} <= set(
        SECRET_SETTINGS
    )
    assert len(SECRET_SETTINGS) >= 10


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_a_blank_secret_in_the_environment_is_unset(monkeypatch, name, blank):
    monkeypatch.setenv(name.upper(), blank)
    assert getattr(Settings(_env_file=None), name) is None


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_a_blank_secret_passed_in_is_unset(name):
    assert getattr(Settings(_env_file=None, **{name: ""}), name) is None
    assert getattr(Settings(_env_file=None, **{name: SecretStr(" ")}), name) is None


def test_a_real_secret_is_kept_as_given():
    settings = Settings(_env_file=None, hubspot_client_secret=" s3cret ")
    assert settings.hubspot_client_secret.get_secret_value() == " s3cret "
