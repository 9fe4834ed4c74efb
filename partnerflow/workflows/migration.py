"""MigrationWorkflow: brings an imported partner base over in phases, biggest partners first.

Phase 1 (top partners) gets a personal "we're moving" email and a Slack task each; after a
pause, phase 2 (middle); after another, phase 3 (long tail). Before each later phase the
earlier phases are checked back on: whoever has not accepted the new terms is reminded, so a
later phase never makes an earlier one forgotten. Partners are started in chunks by one
activity call each, and the workflow continues-as-new before its history grows large.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.migration import BatchResult, MigrationActivities, NudgeBatch, PhaseBatch
    from partnerflow.domain.migration import PHASES, MigrationInput, MigrationProgress, MigrationState
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT

# A chunk sends up to 2 messages per partner through the providers: allow for slow ones.
CHUNK_TIMEOUT = timedelta(minutes=30)
CHUNK_HEARTBEAT = timedelta(minutes=2)
CHUNK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["RunNotFound"],
)


@workflow.defn
class MigrationWorkflow:
    """Runs for the whole migration: phases, pauses, back-checks; progress by query."""

    @workflow.init
    def __init__(self, input: MigrationInput) -> None:
        self.input = input
        self.state: MigrationState = input.state or MigrationState()
        self.status = "starting"
        self.next_step_at: datetime | None = None

    @workflow.run
    async def run(self, input: MigrationInput) -> MigrationProgress:
        if not self.state.phases:
            await self._refresh_progress()
        while self.state.phase <= len(PHASES):
            phase = self.state.phase
            if self._total(phase):  # an empty phase needs neither a pause nor a start
                if not self.state.phase_opened and self._earlier_started(phase):
                    await self._pause()
                    await self._check_back(list(range(1, phase)), f"migration-reminder:phase-{phase}")
                self.state.phase_opened = True
                await self._start_phase(phase)
            self.state.phase, self.state.cursor, self.state.phase_opened = phase + 1, 0, False
            await self._refresh_progress()
            self._continue_as_new_if_long()
        if input.final_check and any(p.total for p in self.state.phases):
            await self._pause()
            await self._check_back(list(PHASES), "migration-reminder:final")
        await workflow.execute_activity_method(
            MigrationActivities.migration_finish,
            input.run_id,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        self.status, self.next_step_at = "completed", None
        return self.progress()

    @workflow.query
    def progress(self) -> MigrationProgress:
        return MigrationProgress(
            run_id=self.input.run_id,
            status=self.status,
            phase=min(self.state.phase, len(PHASES)),
            next_step_at=self.next_step_at,
            phases=list(self.state.phases),
        )

    async def _start_phase(self, phase: int) -> None:
        self.status = "migrating"
        while True:
            result: BatchResult = await workflow.execute_activity_method(
                MigrationActivities.migration_start_batch,
                PhaseBatch(self.input.run_id, phase, self.state.cursor, self.input.batch_size),
                start_to_close_timeout=CHUNK_TIMEOUT,
                heartbeat_timeout=CHUNK_HEARTBEAT,
                retry_policy=CHUNK_RETRY,
            )
            self.state.cursor = result.last_id
            self.state.phases[phase - 1].started += result.processed
            if result.done:
                return
            self._continue_as_new_if_long()
            await workflow.sleep(self.input.batch_interval)

    async def _check_back(self, phases: list[int], purpose: str) -> None:
        """Remind started partners of ``phases`` who have not accepted the terms (chunked)."""
        self.status, after = "checking", 0
        while True:
            result: BatchResult = await workflow.execute_activity_method(
                MigrationActivities.migration_nudge_batch,
                NudgeBatch(self.input.run_id, phases, purpose, after, self.input.batch_size),
                start_to_close_timeout=CHUNK_TIMEOUT,
                heartbeat_timeout=CHUNK_HEARTBEAT,
                retry_policy=CHUNK_RETRY,
            )
            after = result.last_id
            if result.done:
                break
        workflow.logger.info("migration %s: back-check %s done", self.input.run_id, purpose)
        await self._refresh_progress()

    async def _pause(self) -> None:
        self.status = "pausing"
        self.next_step_at = workflow.now() + self.input.pause
        await workflow.sleep(self.input.pause)
        self.next_step_at = None

    async def _refresh_progress(self) -> None:
        self.state.phases = await workflow.execute_activity_method(
            MigrationActivities.migration_progress,
            self.input.run_id,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

    def _total(self, phase: int) -> int:
        return self.state.phases[phase - 1].total

    def _earlier_started(self, phase: int) -> bool:
        """Nothing to pause after (or check back on) when every earlier phase was empty."""
        return any(self._total(earlier) for earlier in range(1, phase))

    def _continue_as_new_if_long(self) -> None:
        info = workflow.info()
        if info.get_current_history_length() < self.input.max_history_events and not (
            info.is_continue_as_new_suggested()
        ):
            return
        self.state.runs += 1
        workflow.logger.info("migration %s continues as new (run %s)", self.input.run_id, self.state.runs)
        workflow.continue_as_new(
            MigrationInput(
                run_id=self.input.run_id,
                program=self.input.program,
                pause=self.input.pause,
                batch_size=self.input.batch_size,
                batch_interval=self.input.batch_interval,
                final_check=self.input.final_check,
                max_history_events=self.input.max_history_events,
                state=self.state,
            )
        )
