"""ProgramDigestWorkflow: started weekly by a Temporal Schedule; one Slack digest per program."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.digest import DigestActivities, DigestRequest
    from partnerflow.workflows.messaging import notify_managers
    from partnerflow.workflows.policies import STORE_RETRY

DIGEST_SCHEDULE_PREFIX = "partnerflow-digest"


@workflow.defn
class ProgramDigestWorkflow:
    @workflow.run
    async def run(self) -> int:
        now = workflow.now()
        digests = await workflow.execute_activity_method(
            DigestActivities.program_digests,
            DigestRequest(now=now),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=STORE_RETRY,
        )
        for digest in digests:
            await notify_managers(
                None, f"digest:{digest.program}:{now.date().isoformat()}", "program_digest", digest.context
            )
        return len(digests)
