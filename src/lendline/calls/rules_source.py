"""Where the routing rules come from: the built-in default or ``settings.rules_file``.

``RulesSource.reload()`` re-reads the file (on SIGHUP or ``POST /api/v1/rules/reload``):
an invalid file raises ``RuleError`` with the line and the reason, and the rules in force
stay in force.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from lendline.errors import RuleError
from lendline.routing.config import RoutingConfig, parse_config

BUILTIN = "<built-in default_rules.yaml>"


def builtin_text() -> str:
    return (resources.files("lendline.routing") / "default_rules.yaml").read_text("utf-8")


def load_builtin() -> RoutingConfig:
    return parse_config(builtin_text(), source=BUILTIN)


def load_file(path: Path) -> RoutingConfig:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleError(f"{path} is not UTF-8 text") from None
    return parse_config(text, source=str(path))


class RulesSource:
    def __init__(self, path: Path | None, apply: Callable[[RoutingConfig], None]) -> None:
        self.path = path
        self._apply = apply
        self._lock = threading.Lock()
        self.current = load_file(path) if path else load_builtin()
        self.version = 1

    def reload(self, text: str | None = None) -> RoutingConfig:
        """Validate then apply the file (or ``text``); on error nothing changes."""
        with self._lock:
            if text is not None:
                config = parse_config(text, source="<api>")
            elif self.path is not None:
                config = load_file(self.path)
            else:
                config = load_builtin()
            self._apply(config)
            self.current = config
            self.version += 1
            return config
