"""The providers config file: keys and limits from it, and one clear line when it is wrong."""

from __future__ import annotations

import subprocess
import sys

from routeyard.config import known_secrets
from routeyard.providers.settings import load


def test_config_file_gives_keys_limits_and_joins_redaction(provider_env):
    provider_env.write_text(
        "bfl: {BFL_API_KEY: bfl-from-file-1234567, concurrency: 3, base_url: http://x.test}\n"
    )
    s = load("bfl", "https://api.bfl.ai")
    assert s.credential("BFL_API_KEY") == "bfl-from-file-1234567"
    assert (s.concurrency, s.base_url) == (3, "http://x.test")
    assert "config file" in s.source
    assert "bfl-from-file-1234567" in known_secrets()  # masked like an environment key


def test_bad_config_file_is_one_clear_line(provider_env):
    for text, expected in (
        ("fal: [unclosed\n", "not valid YAML"),
        ("fal: {FAL_KEY: k, concurency: 3}\n", "unknown field 'concurency'"),
    ):
        provider_env.write_text(text)
        out = subprocess.run(
            [sys.executable, "-m", "routeyard.cli", "providers", "check"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode != 0
        assert expected in out.stderr and str(provider_env) in out.stderr
        assert "Traceback" not in out.stderr


def test_adapters_handed_one_registry_share_the_accounts_slots(provider_env):
    from routeyard.providers import hosted_providers
    from routeyard.providers.limits import LimitsRegistry

    shared = LimitsRegistry()
    first, second = hosted_providers(shared), hosted_providers(shared)
    alone = hosted_providers()
    for name in first:
        assert first[name].http.limits is second[name].http.limits  # one account, one set
        assert alone[name].http.limits is not first[name].http.limits  # no process global
    assert first["bfl"].http.limits.concurrency == 24  # the adapter's documented default
