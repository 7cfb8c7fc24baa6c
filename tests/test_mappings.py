"""The shipped mapping files load and pick the right playbook; broken files say file:line:key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sync.mappings import MappingError, Mappings, load_mappings
from sync.mappings.messages import REMINDER_MESSAGES
from sync.onboarding.templates import placeholders, render

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "mappings"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "mappings"


@pytest.fixture(scope="module")
def mappings() -> Mappings:
    return load_mappings(SHIPPED)


def company(employees: str | None) -> dict[str, dict[str, str | None]]:
    """A deal's records with only the company size set."""
    return {"deal": {}, "company": {"numberofemployees": employees}, "contact": {}}


def copy_with(tmp_path: Path, *overlays: str) -> Path:
    """The shipped mappings in tmp_path/mappings with broken files from fixtures laid over them."""
    target = tmp_path / "mappings"
    shutil.copytree(SHIPPED, target)
    for overlay in overlays:
        shutil.copytree(BROKEN / overlay, target, dirs_exist_ok=True)
    return target


def errors_for(tmp_path: Path, *overlays: str) -> list[str]:
    """The problems the loader reports for the shipped files with these overlays."""
    with pytest.raises(MappingError) as caught:
        load_mappings(copy_with(tmp_path, *overlays))
    assert str(caught.value).count("\n") == len(caught.value.errors)
    return caught.value.errors


def line_of(overlay: str, relative: str, text: str, after: str = "") -> int:
    """The 1-based line of text in a broken fixture file, searching from the line with `after`."""
    lines = (BROKEN / overlay / relative).read_text(encoding="utf-8").splitlines()
    start = next(number for number, line in enumerate(lines, 1) if after in line)
    return next(number for number, line in enumerate(lines, 1) if number >= start and text in line)


# The shipped files


def test_shipped_files_load(mappings):
    assert set(mappings.playbooks) == {"smb", "mid_market", "enterprise"}
    assert len(mappings.fingerprint) == 12


@pytest.mark.parametrize(
    ("employees", "segment"),
    [
        ("150", "enterprise"),
        ("101", "enterprise"),
        ("100", "mid_market"),
        ("50", "mid_market"),
        ("20", "mid_market"),
        ("19", "smb"),
        ("10", "smb"),
        ("1,500", "enterprise"),
        (None, "smb"),
        ("", "smb"),
        ("lots", "smb"),
    ],
)
def test_company_size_picks_the_segment(mappings, employees, segment):
    assert mappings.segment_for(company(employees)).key == segment


def test_missing_company_record_gets_the_catch_all(mappings):
    assert mappings.segment_for({"deal": {}, "contact": {}}).playbook == "smb"


def test_segment_names_an_existing_playbook(mappings):
    segment = mappings.segment_for(company("150"))
    assert mappings.playbook(segment.playbook).key == "enterprise"


def test_mid_market_playbook_has_fifteen_to_twenty_five_tasks(mappings):
    assert 15 <= len(mappings.playbook("mid_market").tasks) <= 25


def test_enterprise_playbook_has_twenty_to_twenty_five_tasks(mappings):
    assert 20 <= len(mappings.playbook("enterprise").tasks) <= 25


def test_smb_plan_is_the_short_plan_in_business_days(mappings):
    offsets = [task.due_in.business_days for task in mappings.playbook("smb").tasks]
    assert offsets[:5] == [1, 2, 3, 5, 10]


@pytest.mark.parametrize("flag", ["setup_form", "kickoff", "first_value", "go_live"])
def test_every_playbook_has_its_milestone_tasks(mappings, flag):
    for playbook in mappings.playbooks.values():
        assert flag in playbook.task_with_flag(flag).flags


def test_closed_won_in_the_default_pipeline_starts_an_onboarding(mappings):
    assert mappings.triggers.starts("default", "closedwon")
    assert not mappings.triggers.starts("default", "closedlost")
    assert not mappings.triggers.starts("other", "closedwon")


def test_closed_lost_cancels_an_onboarding(mappings):
    assert mappings.triggers.cancels("default", "closedlost")
    assert not mappings.triggers.cancels("default", "closedwon")


def test_roles_read_owners_from_hubspot_or_give_an_address(mappings):
    records = {"deal": {"hubspot_owner_id": "77"}, "company": {"hubspot_owner_id": ""}}
    assert mappings.roles["ae"].owner_id(records) == "77"
    assert mappings.roles["csm"].owner_id(records) is None
    assert mappings.roles["csm"].fallback_email == "csm@example.com"
    assert mappings.roles["solutions_engineer"].email == "solutions@example.com"
    assert mappings.roles["customer"].customer


def test_hubspot_properties_default_to_onboarding_names(mappings):
    assert mappings.fields.hubspot.deal.progress == "onboarding_progress"
    assert mappings.fields.hubspot.company.channel_url == "onboarding_channel_url"


def test_messages_fall_back_to_english_for_unknown_languages(mappings):
    context = {"company": {"name": "Acme"}}
    assert "Acme" in mappings.messages.render("milestone_completed", "de", context)
    assert mappings.messages.render("milestone_completed", None, context).startswith("Onboarding")


def test_messages_pick_the_language_from_a_regional_locale(mappings):
    context = {"company": {"name": "Acme"}}
    assert mappings.messages.render("milestone_completed", "ru-RU", context).startswith("Онбординг")
    assert "Onboardingul" in mappings.messages.render("milestone_completed", "ro", context)


def test_csm_summary_names_company_plan_segment_link_and_kickoff(mappings):
    onboarding = {
        "plan": "SMB quick start",
        "segment_label": "SMB",
        "project_url": "https://notion.so/p1",
        "kickoff_date": "2025-03-05",
        "channel_id": "C123",
    }
    text = mappings.messages.render(
        "csm_summary", "en", {"company": {"name": "Acme"}, "onboarding": onboarding}
    )
    for part in ("Acme", "SMB quick start", "SMB", "https://notion.so/p1", "2025-03-05", "<#C123>"):
        assert part in text


def test_fingerprint_changes_when_a_file_changes(tmp_path, mappings):
    directory = copy_with(tmp_path)
    assert load_mappings(directory).fingerprint == mappings.fingerprint
    smb = directory / "playbooks" / "smb.yaml"
    smb.write_text(smb.read_text().replace("Run training", "Run the training"))
    assert load_mappings(directory).fingerprint != mappings.fingerprint


# Templates


def test_template_fills_nested_placeholders():
    context = {"company": {"name": "Acme"}, "roles": {"csm": {"name": "Ana"}}}
    assert render("{company.name} / {roles.csm.name}", context) == "Acme / Ana"


def test_template_uses_the_fallback_for_missing_or_empty_values():
    assert render("{contact.hs_language|en}", {"contact": {"hs_language": ""}}) == "en"
    assert render("{contact.hs_language|en}", {}) == "en"
    assert render("[{deal.amount}]", {"deal": {}}) == "[]"


def test_template_lists_its_placeholders():
    assert placeholders("{a.b} and {c.d|x} and {e}") == ["a.b", "c.d", "e"]


# Broken files


def test_bad_op_names_file_line_and_key(tmp_path):
    errors = errors_for(tmp_path, "bad_op")
    line = line_of("bad_op", "segments.yaml", "op: greater")
    expected = (
        f"mappings/segments.yaml:{line}: segments[0].when[0].op: 'greater' is not one of "
        "gt, gte, lt, lte, eq, ne, in, exists, contains"
    )
    assert expected in errors


def test_all_errors_in_a_file_are_collected(tmp_path):
    errors = errors_for(tmp_path, "bad_op")
    line = line_of("bad_op", "segments.yaml", "op: between")
    assert any(
        e.startswith(f"mappings/segments.yaml:{line}: segments[1].when[0].op:") for e in errors
    )
    assert len(errors) == 2


def test_errors_across_files_are_collected(tmp_path):
    errors = errors_for(tmp_path, "bad_op", "unknown_key", "unknown_role")
    files = {error.split(":")[0] for error in errors}
    assert files == {"mappings/segments.yaml", "mappings/roles.yaml", "mappings/playbooks/smb.yaml"}


def test_unknown_playbook_names_the_segment_line(tmp_path):
    (error,) = errors_for(tmp_path, "unknown_playbook")
    line = line_of("unknown_playbook", "segments.yaml", "playbook: enterprize")
    assert error.startswith(f"mappings/segments.yaml:{line}: segments[0].playbook: ")
    assert "'enterprize'" in error


def test_unknown_role_names_the_task_owner_line(tmp_path):
    (error,) = errors_for(tmp_path, "unknown_role")
    line = line_of("unknown_role", "playbooks/smb.yaml", "owner: trainer")
    assert error.startswith(
        f"mappings/playbooks/smb.yaml:{line}: tasks[3].owner: no role 'trainer'"
    )


def test_typo_in_a_key_is_caught_with_a_suggestion(tmp_path):
    errors = errors_for(tmp_path, "unknown_key")
    line = line_of("unknown_key", "roles.yaml", "lable:")
    assert (
        f"mappings/roles.yaml:{line}: roles.csm.lable: unknown key 'lable' (did you mean 'label'?)"
        in errors
    )
    csm = line_of("unknown_key", "roles.yaml", "csm:")
    assert f"mappings/roles.yaml:{csm}: roles.csm.label: required key is missing" in errors


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    (error,) = errors_for(tmp_path, "syntax_error")
    opened = line_of("syntax_error", "triggers.yaml", "stages: [closedwon")
    assert error.startswith(f"mappings/triggers.yaml:{opened + 1}: (syntax): ")
    assert f"flow sequence started on line {opened}" in error


def test_missing_catch_all_is_reported_on_the_last_segment(tmp_path):
    (error,) = errors_for(tmp_path, "missing_catch_all")
    line = line_of("missing_catch_all", "segments.yaml", "when:", after="key: smb")
    assert error.startswith(f"mappings/segments.yaml:{line}: segments[1].when: ")
    assert "catch-all" in error


def test_template_with_an_unknown_root_is_reported(tmp_path):
    (error,) = errors_for(tmp_path, "unknown_root")
    line = line_of("unknown_root", "fields.yaml", 'first_name: "{customer')
    assert error.startswith(f"mappings/fields.yaml:{line}: customerio.identify.first_name: ")
    assert "unknown placeholder root 'customer'" in error


def test_property_not_read_is_reported_where_it_is_used(tmp_path):
    directory = copy_with(tmp_path)
    smb = directory / "playbooks" / "smb.yaml"
    smb.write_text(
        smb.read_text().replace("Schedule the kickoff with {company.name}", "Call {company.phone}")
    )
    with pytest.raises(MappingError) as caught:
        load_mappings(directory)
    (error,) = caught.value.errors
    assert error.startswith("mappings/playbooks/smb.yaml:")
    assert "tasks[2].title: {company.phone}: 'phone' is not in fields.yaml read.company" in error


def broken_message(tmp_path: Path, text: str, broken: str) -> tuple[list[str], int]:
    """The loader's problems once messages.yaml has `broken` for `text`, and the broken line."""
    directory = copy_with(tmp_path)
    messages = directory / "messages.yaml"
    messages.write_text(messages.read_text(encoding="utf-8").replace(text, broken, 1))
    with pytest.raises(MappingError) as caught:
        load_mappings(directory)
    lines = messages.read_text(encoding="utf-8").splitlines()
    return caught.value.errors, next(n for n, line in enumerate(lines, 1) if broken in line)


def test_typo_in_a_reminder_placeholder_names_file_line_and_key(tmp_path):
    errors, line = broken_message(
        tmp_path, "{reminder.days_late} business days late", "{reminder.days_lte} business days"
    )
    (error,) = errors
    assert error.startswith(
        f"mappings/messages.yaml:{line}: messages.reminder_late.en: {{reminder.days_lte}}: "
        "use reminder.<company|date|days_late|"
    )


def test_reminder_messages_cannot_use_a_deals_records(tmp_path):
    errors, line = broken_message(tmp_path, "· {reminder.company} · scadență", "· {company.name} ·")
    assert errors == [
        f"mappings/messages.yaml:{line}: messages.reminder_task.ro: {{company.name}}: "
        "unknown placeholder root 'company' (use reminder)"
    ]


def test_reminder_messages_speak_romanian_and_russian(mappings):
    for name in REMINDER_MESSAGES:
        assert {"en", "ro", "ru"} <= set(mappings.messages.messages[name]), name
    late = {"reminder": {"days_late": 3}}
    assert mappings.messages.render("reminder_late", "ro", late) == "întârziere: 3 zile lucrătoare"


def test_repeated_yaml_key_is_reported(tmp_path):
    directory = copy_with(tmp_path)
    triggers = directory / "triggers.yaml"
    triggers.write_text("start: []\n" + triggers.read_text())
    with pytest.raises(MappingError) as caught:
        load_mappings(directory)
    assert any(
        "triggers.yaml:" in e and "start: duplicate key (first at line 1)" in e
        for e in caught.value.errors
    )
