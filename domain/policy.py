"""The running policy of this process (one store, reloadable without a restart)."""
from pathlib import Path

from domain.settings import get_settings
from policies.loader import PolicySet, PolicyStore

_store: PolicyStore | None = None


def get_policy_store() -> PolicyStore:
    global _store
    if _store is None:
        _store = PolicyStore(get_settings().policy_dir)
    return _store


def use_policy_folder(folder: Path | str | None) -> None:
    """Run this process on another policy folder (tests; None goes back to the configured one)."""
    global _store
    _store = PolicyStore(folder) if folder is not None else None


def current_policy() -> PolicySet:
    return get_policy_store().current
