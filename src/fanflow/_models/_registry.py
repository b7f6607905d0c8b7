"""Which model a `--model` string names: the built-ins, then installed plugins.

`PROVIDER:MODEL` picks a provider by name. Built in: `anthropic`, `openai` and
`test`; a bare `claude-…` name means anthropic. Any other provider name is looked
up in the `fanflow.models` entry-point group, whose factory is called as
`factory(MODEL, options)` with the `[models.PROVIDER]` table of the config files.
A built-in name wins a clash. The built-in `anthropic` and `openai` read their
`[models.PROVIDER]` table too, and a `[models."PROVIDER:MODEL"]` table over it
for one model (`timeout_s`, `context_tokens`, ...; docs/providers.md). Plugins
are imported only when named (or listed by `fanflow models`), so a broken one
never breaks a run that does not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .._errors import ConfigError
from ._base import Model
from ._pressure import AdaptiveLimit
from ._pricing import Price
from ._resilience import SharedBackoff

ENTRY_POINT_GROUP = "fanflow.models"
BUILTIN_PROVIDERS = ("anthropic", "openai", "test")
HOW_TO_CHOOSE = (
    "no model chosen; pass --model (e.g. --model anthropic:claude-opus-4-8, "
    "--model openai:gpt-5, or --model test to check the plumbing offline), "
    'set FANFLOW_MODEL, or put model = "..." in .fanflow/config.toml'
)


@dataclass(frozen=True)
class ModelSource:
    """One provider `--model` can name: where it comes from, and why it cannot load."""

    name: str
    origin: str
    """`built-in`, or the distribution that registers it (`pkg 1.2`)."""
    error: str | None = None


def split_spec(spec: str) -> tuple[str, str]:
    """(provider, model) of a `--model` string."""
    spec = spec.strip()
    if spec.startswith("claude-"):
        return "anthropic", spec
    provider, _, name = spec.partition(":")
    return provider.strip(), name.strip()


def model_sources() -> list[ModelSource]:
    """Every provider available here, built-ins first; plugins are loaded to check them."""
    sources = [ModelSource(name, "built-in") for name in BUILTIN_PROVIDERS]
    entries = _entry_points()
    names = [e.name for e in entries]
    for entry in entries:
        origin = _origin(entry)
        if entry.name in BUILTIN_PROVIDERS:
            sources.append(ModelSource(entry.name, origin, "shadowed by the built-in provider"))
            continue
        if names.count(entry.name) > 1:
            sources.append(ModelSource(entry.name, origin, "registered by more than one package"))
            continue
        try:
            _load(entry)
        except ConfigError as exc:
            sources.append(ModelSource(entry.name, origin, str(exc)))
        else:
            sources.append(ModelSource(entry.name, origin))
    return sources


def resolve_model(
    spec: str,
    *,
    options: Mapping[str, Mapping[str, str]] | None = None,
    prices: dict[str, Price] | None = None,
    backoffs: dict[str, SharedBackoff] | None = None,
    limiters: dict[str, AdaptiveLimit] | None = None,
    new_limiter: Callable[[str], AdaptiveLimit | None] | None = None,
) -> Model:
    """Build the model `spec` names.

    `backoffs` and `limiters` hold one shared back-off and adaptive limit per
    provider, so every model of a provider in one run waits and backs off
    together; `new_limiter` makes a provider's limit the first time it is needed.
    `options` are the config files' `[models.NAME]` tables, for plugins.
    """
    provider, name = split_spec(spec)
    if not provider:
        raise ConfigError(HOW_TO_CHOOSE)
    if provider == "test":
        from ._test import TestModel

        return TestModel(name=spec.strip())
    backoff = (backoffs if backoffs is not None else {}).setdefault(provider, SharedBackoff())
    limiter = _limiter(provider, backoff, limiters, new_limiter)
    if provider in ("anthropic", "openai"):
        if not name:
            raise ConfigError(f"--model {spec!r} names no model; use {provider}:MODEL")
        return _sdk_model(
            provider,
            name,
            prices=prices,
            backoff=backoff,
            limiter=limiter,
            options=builtin_options(provider, name, options or {}),
        )
    factory = _plugin_factory(provider)
    try:
        model = factory(name, dict((options or {}).get(provider, {})))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"model plugin {provider!r} could not build {name or 'its model'!r}: "
            f"{type(exc).__name__}: {exc}; check its [models.{provider}] options"
        ) from None
    if not isinstance(model, Model):
        raise ConfigError(
            f"model plugin {provider!r} returned {type(model).__name__}, not a fanflow.Model; "
            "its factory must return a subclass of fanflow.Model"
        )
    from ._plugged import PluggedModel

    try:
        return PluggedModel(model, backoff, limiter)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"model plugin {provider!r} gave a model with bad attributes ({exc}); "
            "context_tokens must be an int and supports_mid_system a bool"
        ) from None


def builtin_options(
    provider: str, name: str, options: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """`[models.PROVIDER]` with `[models."PROVIDER:NAME"]` over it; an unknown key is a
    one-line ConfigError naming the ones there are (a typo must not be ignored)."""
    from ._openai import OPTIONS as OPENAI_OPTIONS
    from ._provider import OPTIONS

    known = OPENAI_OPTIONS if provider == "openai" else OPTIONS
    merged: dict[str, str] = {}
    for table in (provider, f"{provider}:{name}"):
        for key, value in (options.get(table) or {}).items():
            if key not in known:
                raise ConfigError(
                    f"[models.{table}] has no option {key!r}; known: {', '.join(known)}"
                )
            merged[key] = value
    return merged


def _sdk_model(provider: str, name: str, **kwargs: Any) -> Model:
    if provider == "anthropic":
        from ._anthropic import AnthropicModel

        return AnthropicModel(name, **kwargs)
    from ._openai import OpenAIModel

    return OpenAIModel(name, **kwargs)


def _limiter(
    provider: str,
    backoff: SharedBackoff,
    limiters: dict[str, AdaptiveLimit] | None,
    new_limiter: Callable[[str], AdaptiveLimit | None] | None,
) -> AdaptiveLimit | None:
    limiters = limiters if limiters is not None else {}
    if provider not in limiters and new_limiter is not None:
        made = new_limiter(provider)
        if made is not None:
            limiters[provider] = made
    limiter = limiters.get(provider)
    if limiter is not None and backoff.pacer.on_pacing is None:
        backoff.pacer.on_pacing = limiter.paced
    if limiter is not None and backoff.on_capped is None:  # the run journals it
        backoff.on_capped = limiter.capped
    return limiter


def _plugin_factory(provider: str) -> Callable[[str, dict[str, str]], Any]:
    entries = _entry_points()
    named = [e for e in entries if e.name == provider]
    if len(named) > 1:  # never pick one silently by discovery order
        origins = " and ".join(_origin(e) for e in named)
        raise ConfigError(
            f"model provider {provider!r} is registered by {origins}; uninstall one of them"
        )
    if named:
        return _load(named[0])
    known = ", ".join(dict.fromkeys([*BUILTIN_PROVIDERS, *(e.name for e in entries)]))
    raise ConfigError(
        f"unknown model provider {provider!r}; available: {known} "
        "(`fanflow models` lists them; a plugin package registers more)"
    )


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def _load(entry: metadata.EntryPoint) -> Callable[[str, dict[str, str]], Any]:
    try:
        factory = entry.load()
    except Exception as exc:
        raise ConfigError(
            f"model plugin {entry.name!r} ({entry.value}) failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not callable(factory):
        raise ConfigError(f"model plugin {entry.name!r} ({entry.value}) is not callable")
    return factory


def _origin(entry: metadata.EntryPoint) -> str:
    dist = entry.dist
    return f"{dist.name} {dist.version}" if dist is not None else entry.value
