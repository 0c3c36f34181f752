"""Policy folders for tests: the default policy with some parts replaced (e.g. short deadlines)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "policies" / "default"


def write_policy(folder: Path, *, escalation: dict | None = None) -> Path:
    """A copy of the default policy with parts of escalation.yaml replaced (e.g. short deadlines)."""
    shutil.copytree(DEFAULT_POLICY, folder)
    if escalation:
        data = yaml.safe_load((folder / "escalation.yaml").read_text(encoding="utf-8"))
        for key, value in escalation.items():
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
        (folder / "escalation.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def short_deadlines(tmp_path):
    """Remind after 1 s, escalate after 2 s: the approval timeout tests."""
    from domain.policy import use_policy_folder

    folder = write_policy(tmp_path / "policy", escalation={"approval": {"remind_after": "1s", "decide_within": "2s"}})
    use_policy_folder(folder)
    yield folder
    use_policy_folder(None)


@pytest.fixture
def short_order_deadlines(tmp_path):
    """Orders due in seconds: stop-payments acknowledge within 1 s, reminded every 1 s, escalated
    after 2 reminders."""
    from domain.policy import use_policy_folder

    folder = write_policy(tmp_path / "policy-orders")
    path = folder / "orders.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["escalate_after_reminders"] = 2
    data["kinds"]["stop_payment"].update(acknowledge_within="1s", complete_within="3s", remind_every="1s")
    data["kinds"]["supervision"].update(acknowledge_within="1s", complete_within="2s", remind_every="1s")
    data["evidence"]["max_bytes"] = 2048
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    use_policy_folder(folder)
    yield folder
    use_policy_folder(None)
