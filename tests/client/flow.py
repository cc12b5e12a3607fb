"""Suggestions -> decision (accept) -> outcome through a client generated from the running
service's /openapi.json by openapi-python-client (tests/e2e/client.rs generates it and runs
this script). Every answer is parsed into the generated models, so a field the document gets
wrong (name, type, required, enum value) fails here.

Usage: flow.py BASE_URL SYSTEM_TOKEN CASEWORKER_TOKEN  (prints one line per step, exit 1 on
the first failed check).
"""

import datetime
import sys
import time

from matcher_client import AuthenticatedClient
from matcher_client.api.default import (
    batch_get,
    batch_proposals,
    batch_start,
    candidate_get,
    candidates_upsert,
    decision_create,
    decision_get,
    offer_get,
    offers_upsert,
    outcome_create,
    suggestions,
)
from matcher_client.models import (
    AgeBandLabel,
    BatchRun,
    BatchStarted,
    BatchStatus,
    CandidateRecord,
    Decision,
    DecisionAction,
    DecisionRecorded,
    DecisionRequest,
    DecisionStatus,
    Factor,
    OfferKind,
    OfferRecord,
    RecordedAction,
    OfferView,
    Outcome,
    OutcomeKind,
    OutcomeRequest,
    Proposals,
    Role,
    SuggestionRequest,
    Suggestions,
    UpsertResult,
)


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def answer(response, status, model, step):
    check(response.status_code == status, f"{step}: status {response.status_code}, body {response.content[:500]!r}")
    check(isinstance(response.parsed, model), f"{step}: parsed as {type(response.parsed).__name__}, not {model.__name__}")
    print(f"{step}: {status}")
    return response.parsed


def main():
    base, system_token, caseworker_token = sys.argv[1:4]
    system = AuthenticatedClient(base_url=base, token=system_token, raise_on_unexpected_status=True)
    caseworker = AuthenticatedClient(base_url=base, token=caseworker_token, raise_on_unexpected_status=True)

    offers = [
        OfferRecord(id="course-near", kind=OfferKind.PROVIDER, name="Return-to-work course (invented)",
                    provider_id="lev-0001", municipality="0851", capacity=4, duration_weeks=12,
                    lat=57.01, lon=9.94, price_dkk=12000, target_groups=["sickness"], languages=["da"]),
        OfferRecord(id="job-far", kind=OfferKind.JOB, name="Warehouse job (invented)", provider_id="lev-0002",
                    municipality="0851", capacity=2, duration_weeks=26, lat=57.2, lon=10.2),
    ]
    upserted = answer(offers_upsert.sync_detailed(client=system, body=offers), 200, UpsertResult, "offers upsert")
    check(upserted.upserted == 2, f"upserted {upserted.upserted} offers")

    candidate = CandidateRecord(id="cand-client-1", municipality="0851", age_band=AgeBandLabel("30-39"),
                                target_groups=["sickness"], benefit_kind="sickness_benefit",
                                benefit_start=datetime.date(2026, 7, 1), max_travel_km=40, lat=57.05, lon=10.0,
                                languages=["da"])
    upserted = answer(candidates_upsert.sync_detailed(client=system, body=[candidate]), 200, UpsertResult,
                      "candidates upsert")
    check(upserted.upserted == 1, f"upserted {upserted.upserted} candidates")
    stored = answer(candidate_get.sync_detailed(id="cand-client-1", client=system), 200, CandidateRecord,
                    "candidate read")
    check(stored.max_travel_km == 40 and isinstance(stored.max_travel_km, (int, float)),
          f"max_travel_km read back as {stored.max_travel_km!r}")
    check(stored.municipality == "0851", f"municipality read back as {stored.municipality!r}")
    check(isinstance(stored.benefit_start, datetime.date) and isinstance(stored.age_band, AgeBandLabel),
          f"benefit_start {stored.benefit_start!r}, age_band {stored.age_band!r}")

    ranked = answer(suggestions.sync_detailed(client=caseworker, body=SuggestionRequest(candidate_id="cand-client-1", k=2)),
                    200, Suggestions, "suggestions")
    check(ranked.candidate_id == "cand-client-1", f"suggestions for {ranked.candidate_id}")
    check(len(ranked.suggestions) >= 1, "at least one suggestion")
    best = ranked.suggestions[0]
    check(best.rank == 1, f"first rank {best.rank}")
    check(isinstance(best.kind, OfferKind), f"kind {best.kind!r} is an OfferKind")
    check(all(isinstance(f.factor, Factor) for f in best.factors), "every factor is a Factor")
    check(best.score == sum(f.points for f in best.factors), f"score {best.score} is the sum of the factors' points")
    places_before = best.remaining_places

    decision = DecisionRequest(candidate_id="cand-client-1", offer_id=best.offer_id, action=DecisionAction.ACCEPT,
                               reason="Near home and fits the sickness group",
                               suggested_offer_ids=[s.offer_id for s in ranked.suggestions])
    recorded = answer(decision_create.sync_detailed(client=caseworker, body=decision), 201, DecisionRecorded,
                      "decision")
    # StrEnum members equal their text: check the types too, so a document that types an enum
    # as a plain string (or anything else) fails here.
    check(isinstance(recorded.action, RecordedAction) and recorded.action == RecordedAction.ACCEPT,
          f"action {recorded.action!r}")
    # Starting today (the default), the course is under way and holds its place until it ends.
    check(isinstance(recorded.status, DecisionStatus) and recorded.status == DecisionStatus.RUNNING,
          f"status {recorded.status!r}")
    check(isinstance(recorded.starts_on, datetime.date) and isinstance(recorded.ends_on, datetime.date),
          f"course {recorded.starts_on!r} to {recorded.ends_on!r}")
    check(recorded.corrects is None and recorded.corrected_by is None and recorded.released_why is None,
          "a new accept corrects nothing and holds its place")
    check(isinstance(recorded.role, Role) and recorded.role == Role.CASEWORKER, f"role {recorded.role!r}")
    check(isinstance(recorded.decided_at, datetime.datetime), f"decided_at {recorded.decided_at!r}")
    check(recorded.offer_id == best.offer_id, f"decided offer {recorded.offer_id}")
    check(recorded.remaining_places == places_before - 1,
          f"remaining places {recorded.remaining_places} after an accept, {places_before} before")
    again = answer(decision_get.sync_detailed(id=recorded.id, client=caseworker), 200, Decision, "decision read")
    check(again.id == recorded.id and again.decided_at == recorded.decided_at, "the decision reads back")
    ranked = answer(suggestions.sync_detailed(client=caseworker, body=SuggestionRequest(candidate_id="cand-client-1", k=2)),
                    200, Suggestions, "suggestions with a running course")
    check(ranked.running is not None and ranked.running.decision_id == recorded.id
          and ranked.running.offer_id == best.offer_id and isinstance(ranked.running.ends_on, datetime.date),
          f"running course {ranked.running!r}")

    outcome = answer(outcome_create.sync_detailed(client=caseworker,
                                                  body=OutcomeRequest(decision_id=recorded.id, result=OutcomeKind.IN_WORK)),
                     201, Outcome, "outcome")
    check(outcome.decision_id == recorded.id, f"outcome of decision {outcome.decision_id}")
    check(isinstance(outcome.result, OutcomeKind) and outcome.result == OutcomeKind.IN_WORK and outcome.success is True, f"outcome {outcome.result!r} {outcome.success!r}")
    check(outcome.offer_id == best.offer_id, f"outcome offer {outcome.offer_id}")
    check(outcome.place_released is True, f"place released {outcome.place_released!r}")

    # The outcome gave the place back: the offer is free again, in the ledger too.
    view = answer(offer_get.sync_detailed(id=best.offer_id, client=caseworker), 200, OfferView, "offer read")
    check(view.reserved == 0 and view.remaining_places == view.capacity,
          f"offer reserved {view.reserved}, remaining {view.remaining_places} of {view.capacity}")
    places = view.places
    check(places.reserved == 0 and places.running == 0 and places.free == places.capacity == view.capacity,
          f"places {places!r}")
    ended = answer(decision_get.sync_detailed(id=recorded.id, client=caseworker), 200, Decision, "decision read")
    check(ended.status == DecisionStatus.ENDED and ended.released_why is not None and ended.released_why.value == "outcome",
          f"after the outcome: {ended.status!r}, {ended.released_why!r}")

    # The night's re-matching, read back as the core's proposal records.
    started = answer(batch_start.sync_detailed(client=system), 202, BatchStarted, "batch start")
    check(isinstance(started.status, BatchStatus) and started.status == BatchStatus.RUNNING, f"batch status {started.status!r}")
    deadline = time.monotonic() + 120
    while True:
        run = batch_get.sync_detailed(id=started.id, client=system).parsed
        check(isinstance(run, BatchRun), f"batch run parsed as {type(run).__name__}")
        if run.status != BatchStatus.RUNNING or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(run.status == BatchStatus.FINISHED, f"batch run {run.status!r}: {run.error!r}")
    print("batch run: finished")
    proposals = answer(batch_proposals.sync_detailed(id=started.id, client=system), 200, Proposals, "proposals")
    mine = [p for p in proposals.proposals if p.candidate_id == "cand-client-1"]
    check(len(mine) == 1, f"{len(mine)} proposals for the candidate")
    check(mine[0].municipality == "0851", f"proposal municipality {mine[0].municipality!r}")
    print("ok")


if __name__ == "__main__":
    main()
