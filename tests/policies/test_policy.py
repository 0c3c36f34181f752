"""Policy files: the default loads; a bad file is refused with its line and reason, and the
running policy stays."""
import shutil
from pathlib import Path

import pytest

from policies.loader import PolicyError, PolicyStore, load_policy_dir
from tests.conftest import DEFAULT_POLICY, auth


def copy_default(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, folder)
    return folder


def replace_in(folder: Path, old: str, new: str, file: str = "escalation.yaml") -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(folder: Path, needle: str, file: str = "escalation.yaml") -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_default_policy_loads_and_states_its_boundaries():
    policy = load_policy_dir(DEFAULT_POLICY)
    assert policy.escalation.boundary_rule == "min_inclusive_below_exclusive"
    assert [t.leader_tier for t in policy.escalation.tiers] == ["chief", "deputy", "cid_head"]
    assert all("seed 000" in t.basis for t in policy.escalation.tiers)
    assert len(policy.version) == 64


def test_version_changes_with_content(tmp_path):
    folder = copy_default(tmp_path)
    before = load_policy_dir(folder).version
    replace_in(folder, 'remind_after: "12h"', 'remind_after: "6h"')
    assert load_policy_dir(folder).version != before


@pytest.mark.parametrize("old, new, needle, reason", [
    ('min_cny: "500000.00"', 'min_cny: "abc"', 'min_cny: "abc"', "not an amount"),
    ('min_cny: "500000.00"', 'min_cny: 500000.5', "min_cny: 500000.5", "quoted string"),
    ('below_cny: "1000000.00"', 'below_cny: "1100000.00"', "tiers:", "overlap"),
    ('below_cny: "500000.00"', 'below_cny: "400000.00"', "tiers:", "gap"),
    ("supervise: false", "supervise: false\n    colour: red", "colour: red", "unknown key"),
    ("leader_tier: deputy", "leader_tier: mayor", "leader_tier: mayor", "leader_tier"),
    ('decide_within: "24h"', 'decide_within: "soon"', 'decide_within: "soon"', "duration"),
    ('boundary_rule: min_inclusive_below_exclusive', 'boundary_rule: min_inclusive_below_exclusive\nboundary_rule: x',
     "boundary_rule: x", "appears twice"),
])
def test_a_malformed_policy_file_is_refused_with_line_and_reason(tmp_path, old, new, needle, reason):
    folder = copy_default(tmp_path)
    replace_in(folder, old, new)
    with pytest.raises(PolicyError) as refused:
        load_policy_dir(folder)
    assert reason in refused.value.reason
    assert refused.value.file.endswith("escalation.yaml")
    assert refused.value.line == line_of(folder, needle)


def test_broken_yaml_is_refused_near_its_line(tmp_path):
    folder = copy_default(tmp_path)
    replace_in(folder, "tiers:", "tiers: [")
    with pytest.raises(PolicyError) as refused:
        load_policy_dir(folder)
    assert "not valid YAML" in refused.value.reason
    # The parser names the line where it noticed the problem: the broken one or the next.
    assert refused.value.line in (line_of(folder, "tiers: ["), line_of(folder, "tiers: [") + 1)


def test_missing_file_is_named(tmp_path):
    folder = copy_default(tmp_path)
    (folder / "intake.yaml").unlink()
    with pytest.raises(PolicyError, match="intake.yaml: policy file is missing"):
        load_policy_dir(folder)


def test_a_refused_reload_keeps_the_running_policy(tmp_path):
    folder = copy_default(tmp_path)
    store = PolicyStore(folder)
    running = store.current
    replace_in(folder, 'min_cny: "200000.00"', 'min_cny: "-1"')
    with pytest.raises(PolicyError):
        store.reload()
    assert store.current is running


def test_reload_through_the_api_reports_the_line_and_changes_nothing(client, tmp_path):
    from domain.policy import current_policy, use_policy_folder

    folder = copy_default(tmp_path)
    use_policy_folder(folder)
    try:
        running = current_policy().version
        replace_in(folder, "escalation_chain: [cid_head, deputy, chief]", "escalation_chain: [cid_head, chief]")
        response = client.post("/api/v1/policy/reload", headers=auth("admin"))
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert "escalation_chain lacks" in detail["msg"] and "escalation.yaml" in detail["loc"][-1]
        assert current_policy().version == running
        assert client.post("/api/v1/policy/reload", headers=auth("office")).status_code == 403
    finally:
        use_policy_folder(None)


def test_a_city_can_move_a_boundary_and_cases_follow(client, tmp_path):
    """The tiers are data: a city that sends exactly 50万 to the CID head says so in its file."""
    from domain.policy import use_policy_folder

    folder = copy_default(tmp_path)
    replace_in(folder, 'min_cny: "500000.00"', 'min_cny: "500000.01"')
    replace_in(folder, 'below_cny: "500000.00"', 'below_cny: "500000.01"')
    use_policy_folder(folder)
    try:
        from tests.conftest import case_body

        body = client.post("/api/v1/cases", json=case_body(number="P-50", amount="500000.00"),
                           headers=auth("office")).json()
        assert body["approval"]["leader_tier"] == "cid_head"
    finally:
        use_policy_folder(None)
