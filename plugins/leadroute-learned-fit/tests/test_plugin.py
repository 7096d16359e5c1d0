"""The learned fit as routing sees it: a `learned` contribution per rep, and `fit train`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog
import typer
from typer.testing import CliRunner

from leadroute import Lead, Rep, make_host
from leadroute.cli.logs import configure_logging
from leadroute.models import (
    AccountIndex,
    Decision,
    DecisionStatus,
    Outcome,
    OutcomeKind,
    RouteStep,
    decision_id_for,
)
from leadroute.pipeline import Decided, Pipeline
from leadroute.policy import load_policy
from leadroute.store import Store
from leadroute.strategies import Ledger
from leadroute_learned_fit import plugin
from leadroute_learned_fit.model import Example, train

AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
POLICY = """
version: t
regions: {NA: [US]}
segments: [{name: smb, max_employees: 199}, {name: enterprise, min_employees: 200}]
pools: [{name: na, strategy: round_robin}]
routing: [{name: na, when: {region: NA}, pool: na}]
fallback: {owner: ops}
"""


def model_file(tmp_path, *, learned: str = "weight: 10, min_evidence: 20"):
    examples = [
        Example(
            lead_id=f"L{i}",
            rep_id=rep,
            features={"segment": "enterprise"},
            converted=(i % 10) < (5 if rep == "star" else 1),
        )
        for rep in ("star", "plain", "other")
        for i in range(100)
    ]
    examples += [
        Example(lead_id="N1", rep_id="new", features={"segment": "enterprise"}, converted=True)
    ]
    model = train(
        examples,
        target="opportunity",
        as_of=AT,
        half_life=timedelta(days=90),
        mature_after=timedelta(days=14),
    )
    (tmp_path / "model.json").write_text(model.to_json(), encoding="utf-8")
    text = POLICY + f"fit: {{learned: {{model: model.json, {learned}}}}}\n"
    (tmp_path / "leadroute.yaml").write_text(text, encoding="utf-8")
    return load_policy(tmp_path / "leadroute.yaml")


def decide(policy, reps):
    host = make_host(load_entrypoints=False, plugins=[plugin])
    pipeline = Pipeline.build(
        host, policy, reps, AccountIndex.build([]), assigned={}, ledger=Ledger({}, 0)
    )
    outcome = pipeline.decide(Lead(id="E1", email="a@big.com", country="US", employees=900), AT)
    assert isinstance(outcome, Decided)
    return outcome.decision


def test_each_rep_gets_a_learned_contribution_with_its_evidence(tmp_path):
    """With fit.learned, the best converter wins on fit and the detail reads
    'learned x vs team y, n=N'; a rep below min_evidence shows the team rate and why."""
    policy = model_file(tmp_path)
    reps = [Rep(id=r, pools=("na",)) for r in ("plain", "star", "new")] + [Rep(id="ops")]
    decision = decide(policy, reps)
    by_rep = {
        c.rep_id: {f.name: f for f in c.contributions}["learned"] for c in decision.candidates
    }
    assert [c.rep_id for c in decision.candidates] == ["star", "new", "plain"]
    assert by_rep["star"].detail == "learned 0.49 vs team 0.24, n=100"
    assert by_rep["plain"].detail == "learned 0.11 vs team 0.24, n=100"
    assert by_rep["new"].detail == "team 0.24: too little evidence (n=1 < 20)"
    star = next(c for c in decision.candidates if c.rep_id == "star")
    plain = next(c for c in decision.candidates if c.rep_id == "plain")
    assert star.fit - plain.fit > 1.0  # weight 10 times a 0.2+ better chance


def test_without_fit_learned_the_plugin_adds_nothing(tmp_path):
    """A policy without fit.learned routes exactly as without the plugin."""
    (tmp_path / "leadroute.yaml").write_text(POLICY, encoding="utf-8")
    policy = load_policy(tmp_path / "leadroute.yaml")
    decision = decide(policy, [Rep(id="a", pools=("na",)), Rep(id="ops")])
    assert {f.name for f in decision.candidates[0].contributions} == {
        "language",
        "product",
        "headroom",
    }


def test_a_broken_model_file_is_a_plugin_error_naming_the_plugin(tmp_path):
    """A model file that is not a model stops the run with one line naming the plugin."""
    import pytest

    from leadroute.errors import PluginError

    policy = model_file(tmp_path)
    (tmp_path / "model.json").write_text("{}", encoding="utf-8")
    broken = load_policy(tmp_path / "leadroute.yaml")
    with pytest.raises(
        PluginError, match=r"^plugin 'learned_fit': cannot use the model: .*model.json"
    ):
        decide(broken, [Rep(id="a", pools=("na",)), Rep(id="ops")])
    assert policy.fit.learned.digest != broken.fit.learned.digest


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """leadroute (logs go to stderr, as the real root command configures them)."""
        configure_logging(0)

    plugin.leadroute_register_commands(cli)
    return cli


@pytest.fixture(autouse=True)
def _reset_structlog():
    yield
    structlog.reset_defaults()


def _stored(tmp_path) -> str:
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        for i in range(40):
            rep = "r1" if i % 2 else "r2"
            d = Decision(
                id=decision_id_for(f"L{i}", 1),
                lead_id=f"L{i}",
                status=DecisionStatus.ROUTED,
                owner_id=rep,
                step=RouteStep.POOL,
                policy_version="t",
                decided_at=AT - timedelta(days=30),
                features={"segment": "smb"},
            )
            store.record(d, [])
            if i % 4 == 1:
                from leadroute.store.outcomes import record_outcome

                record_outcome(
                    store,
                    Outcome(
                        kind=OutcomeKind.CONVERTED,
                        lead_id=f"L{i}",
                        rep_id=rep,
                        at=AT - timedelta(days=20),
                    ),
                )
    return str(path)


def test_fit_train_writes_a_model_from_the_store(tmp_path):
    """leadroute fit train reads decisions and outcomes and writes a model the policy can use."""
    store = _stored(tmp_path)
    out = tmp_path / "m" / "model.json"
    result = CliRunner().invoke(
        _cli(),
        ["fit", "train", "--store", store, "--out", str(out), "--at", AT.isoformat(), "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["examples"], summary["positives"], summary["reps"]) == (40, 10, 2)
    assert json.loads(out.read_text())["format"] == "leadroute-learned-fit/1"


def test_fit_train_mistakes_are_one_line_exit_2(tmp_path):
    """An unknown target or a missing store is one line naming the option, exit 2."""
    store = _stored(tmp_path)
    bad = CliRunner().invoke(
        _cli(), ["fit", "train", "--store", store, "--out", "m.json", "--target", "sql"]
    )
    assert bad.exit_code == 2
    assert bad.stderr == "error: --target: 'sql' is not one of: meeting_booked, opportunity, won\n"
    missing = CliRunner().invoke(
        _cli(), ["fit", "train", "--store", str(tmp_path / "no.db"), "--out", "m.json"]
    )
    assert missing.exit_code == 2 and missing.stderr.startswith("error: --store: ")
    empty = CliRunner().invoke(
        _cli(),
        [
            "fit",
            "train",
            "--store",
            store,
            "--out",
            "m.json",
            "--at",
            (AT - timedelta(days=40)).isoformat(),
        ],
    )
    assert empty.exit_code == 2 and "no examples" in empty.stderr
