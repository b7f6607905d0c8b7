"""How a run's life is journaled: prepared, refused, started (or resumed), ended.

A mixin of `Run`, kept apart so `_run` reads as the order of a run: check,
then execute.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ._models._base import billed_tokens
from ._report import build_report
from ._rights import SETTINGS_KEY, fingerprint

if TYPE_CHECKING:
    from ._scheduler import Scheduler


class RunRecord:
    """The journal side of `Run` (which provides every attribute used here)."""

    journal: Any
    run_id: str
    mode: str
    script: str
    options: Any
    info: Any
    workspace: Any
    budget: Any
    models: Any
    started: Any
    lead_usage: list[tuple[str, Any, float | None]]

    def journal_prepare(self) -> None:
        """Journal the run as pending, with everything another process needs to run it."""
        opts = self.options
        self.journal.create_run(
            self.run_id,
            script=self.script,
            script_hash=hashlib.sha256(self.script.encode()).hexdigest(),
            script_path=opts.script_path,
            workflow_name=opts.workflow_name or self.info.meta.get("name"),
            workspace=str(self.workspace.root),
            args=opts.args,
            # what decides the run's rights, so a resume can tell if it changed (`_rights`)
            settings={**opts.to_record(), SETTINGS_KEY: fingerprint(self.workspace.root)},
            pid=None,  # the process that executes it records itself on start
        )
        self.mode = "prepared"

    def journal_refused(self, reason: str) -> dict[str, Any]:
        """Record that the run was refused before it started; its report.

        A refused resume leaves the run as it was (still resumable) and says so.
        """
        if self.mode == "resume":
            report = build_report(self.journal, self.run_id)
            report["status"] = "refused"
            report["errors"].append({"agent": None, "phase": None, "error": reason})
            return report
        if self.mode == "new":
            self.journal_prepare()
        self.journal.finish_run(self.run_id, "refused", error=reason)
        return build_report(self.journal, self.run_id)

    def _journal_start(self) -> float:
        """Journal the start (or restart) of the run; the time the script's clock is frozen at."""
        if self.mode == "new":
            self.journal_prepare()
        if self.mode == "resume":
            spent = self.journal.usage_totals(self.run_id)
            self.budget.spent_tokens = billed_tokens(spent)
            self.budget.spent_usd = spent["cost_usd"] or 0.0
            self.journal.restart_run(self.run_id)  # `Run.execute` journals the resume itself
        else:
            self.journal.start_run(self.run_id)
        self._disclose_scripted_models()
        if self.lead_usage:
            self.journal.add_phase(self.run_id, -1, "plan")
            for model, usage, cost in self.lead_usage:
                self.journal.add_usage(self.run_id, None, "plan", model, usage, cost)
                self.budget.add(usage, cost)
        self.started.set()
        return self.journal.get_run(self.run_id)["started_at"]

    def _journal_end(
        self, status: str, result: Any, error: str | None, scheduler: Scheduler | None
    ) -> None:
        self.journal.cancel_unfinished_agents(self.run_id)
        if status == "cancelled":
            self.journal.mark_not_run(self.run_id, "cancelled")
        else:
            left = self.journal.mark_not_run(self.run_id)
            if left:
                self._event(
                    "not_run",
                    f"{left} spawned agent(s) were never awaited, so never "
                    "ran; await them or pass them to gather()",
                )
        if result is None and scheduler is not None and scheduler.last_synthesis is not None:
            result = scheduler.last_synthesis
        result = _capped(result)
        self.journal.finish_run(self.run_id, status, result=result, error=error)

    def _disclose_scripted_models(self) -> None:
        """Say in the journal (so in every view and the report) when no LLM plays the agents."""
        for name in dict.fromkeys(n for n in (self.options.model, self.options.agent_model) if n):
            note = getattr(self.models.get(name), "scripted", None)
            if note:
                self._event("scripted", f"model {name} is scripted, not an LLM: {note}")

    def _event(self, kind: str, text: str) -> None:
        self.journal.event(self.run_id, kind, text)


RESULT_LIMIT_CHARS = 5_000_000


def _capped(result: Any) -> Any:
    """A result too big to journal and print whole is kept as a marked preview."""
    text = json.dumps(result, ensure_ascii=False, default=repr)
    if len(text) <= RESULT_LIMIT_CHARS:
        return result
    return {"truncated": True, "chars": len(text), "preview": text[:100_000]}
