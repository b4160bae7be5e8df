"""Reproducible claims: the verdict rules on fabricated records, the catalogue (discovery, prose without
measured numbers) against the registries and the runner (no training), and the `reproduce` command
(errors, --list, --dry-run, one smoke run)."""

from __future__ import annotations

import ast
import io
import json
import pkgutil
import re
import tokenize
from pathlib import Path
from typing import Any

import pytest

from bench.claims import catalogue
from bench.claims.catalogue import CLAIMS, get_claims
from bench.claims.model import (
    Arm,
    Budget,
    Claim,
    FollowUp,
    describe_budget,
    judge,
    plan_claim,
)
from bench.claims.render import Outcome, arm_table, render_doc, verdict_table
from bench.claims.rules import (
    FIRST_BEYOND,
    IN_DISTRIBUTION,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    OOD_MEAN,
    REPRODUCED,
    AtLeast,
    Exceeds,
    FewerSamples,
    Solves,
    at_length,
    combine,
)
from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.run.profiles import get_profile


def run(in_distribution: float | None = None, length: int = 10, **extra: Any) -> dict[str, Any]:
    """A fabricated successful run record: its metrics and the training length (`task_config`)."""
    return {"status": "ok", "task_config": {"length": length}, "metrics": {"in_distribution": in_distribution, **extra}}


def arm(*values: float) -> list[dict[str, Any]]:
    return [run(v) for v in values]


def solve(*samples: int | None, budget: int = 1000) -> list[dict[str, Any]]:
    """Fabricated runs: samples to solve per seed, None for a seed that never solved within `budget`."""
    return [run(solved=s is not None, samples_to_solve=s, samples_seen=budget if s is None else s) for s in samples]


# --- Exceeds -------------------------------------------------------------------------------------------


def test_exceeds_reproduced_when_interval_above_zero() -> None:
    out = Exceeds("a", "b", IN_DISTRIBUTION).judge({"a": arm(0.90, 0.92, 0.91), "b": arm(0.10, 0.12, 0.11)})
    assert out.verdict == REPRODUCED
    assert "a 0.910" in out.figure and "n=3" in out.figure and "differ" in out.figure


def test_exceeds_not_reproduced_when_order_reversed() -> None:
    out = Exceeds("a", "b", IN_DISTRIBUTION).judge({"a": arm(0.10, 0.12, 0.11), "b": arm(0.90, 0.92, 0.91)})
    assert out.verdict == NOT_REPRODUCED


def test_exceeds_not_reproduced_when_identical() -> None:
    """Both arms at the same value on every seed: the claimed arm is clearly not above (zero-width interval at 0)."""
    out = Exceeds("a", "b", IN_DISTRIBUTION).judge({"a": arm(0.5, 0.5), "b": arm(0.5, 0.5)})
    assert out.verdict == NOT_REPRODUCED


def test_exceeds_margin_turns_a_negligible_gap_into_not_reproduced() -> None:
    data = {"a": arm(0.51, 0.53, 0.52), "b": arm(0.50, 0.52, 0.51)}  # interval of the difference within (-0.03, 0.04)
    assert Exceeds("a", "b", IN_DISTRIBUTION).judge(data).verdict == INCONCLUSIVE
    assert Exceeds("a", "b", IN_DISTRIBUTION, margin=0.1).judge(data).verdict == NOT_REPRODUCED


def test_exceeds_inconclusive_when_intervals_overlap() -> None:
    out = Exceeds("a", "b", IN_DISTRIBUTION).judge({"a": arm(0.2, 0.9, 0.5), "b": arm(0.1, 0.8, 0.4)})
    assert out.verdict == INCONCLUSIVE and "contains 0" in out.reason


def test_exceeds_inconclusive_with_too_few_seeds() -> None:
    out = Exceeds("a", "b", IN_DISTRIBUTION).judge({"a": arm(0.99), "b": arm(0.01, 0.02)})
    assert out.verdict == INCONCLUSIVE and "too few seeds" in out.reason


def test_exceeds_at_length_drops_lengths_a_model_cannot_take() -> None:
    a = [run(by_length={"64": 0.9}), run(by_length={"64": 0.8})]
    b = [run(by_length={"64": None}), run(by_length={"64": None})]  # cannot take length 64
    out = Exceeds("a", "b", at_length(64)).judge({"a": a, "b": b})
    assert out.verdict == INCONCLUSIVE and "no value (n=0)" in out.figure


def test_first_beyond_reads_the_shortest_length_beyond_the_training_length() -> None:
    """Keys are strings, so "100" must sort after "50" numerically; the training length comes from the
    record's task_config (not assumed to be the shortest scored); nothing beyond it, or n/a: no value."""
    assert FIRST_BEYOND.value(run(length=50, by_length={"100": 0.2, "50": 0.9, "200": 0.1})) == 0.2
    assert FIRST_BEYOND.value(run(length=20, by_length={"10": 0.95, "20": 0.9, "40": 0.3})) == 0.3
    assert FIRST_BEYOND.value(run(length=10, by_length={"10": 0.9})) is None
    assert FIRST_BEYOND.value(run(length=10, by_length={"10": 0.9, "20": None})) is None
    a = [run(length=10, by_length={"10": 0.9, "20": v, "40": 0.0}) for v in (0.2, 0.25, 0.19)]
    b = [run(length=10, by_length={"10": 0.5, "20": 0.0, "40": 0.0}) for _ in range(3)]
    assert Exceeds("a", "b", FIRST_BEYOND).judge({"a": a, "b": b}).verdict == REPRODUCED


def test_ood_mean_is_computed_from_by_length_and_the_training_length() -> None:
    """Records store no `ood_mean`: the quantity is the measures' beyond-training mean at read time, and
    an n/a length beyond training leaves no value (never a mean over the easier lengths only)."""
    assert OOD_MEAN.value(run(length=10, by_length={"10": 0.9, "20": 0.5, "40": 0.3}, ood_mean=0.99)) == pytest.approx(
        0.4
    )
    assert OOD_MEAN.value(run(length=20, by_length={"10": 0.1, "20": 0.9, "40": 0.5})) == pytest.approx(0.5)
    assert OOD_MEAN.value(run(length=10, by_length={"10": 0.9, "20": 0.5, "40": None})) is None
    assert OOD_MEAN.value(run(length=10, by_length={"10": 0.9})) is None


# --- AtLeast -------------------------------------------------------------------------------------------


def test_at_least_verdicts() -> None:
    rule = AtLeast(("a", "b"), 0.95, IN_DISTRIBUTION)
    assert rule.judge({"a": arm(1.0, 1.0), "b": arm(0.99, 0.98, 0.99)}).verdict == REPRODUCED
    assert rule.judge({"a": arm(1.0, 1.0), "b": arm(0.5, 0.51, 0.49)}).verdict == NOT_REPRODUCED
    overlapping = rule.judge({"a": arm(1.0, 1.0), "b": arm(0.5, 1.0, 0.99)})
    assert overlapping.verdict == INCONCLUSIVE and "contains the threshold" in overlapping.reason
    few = rule.judge({"a": arm(1.0), "b": arm(1.0, 1.0)})
    assert few.verdict == INCONCLUSIVE and "too few seeds: a" in few.reason


def test_at_least_reports_samples_to_solve_unsolved_seeds_as_infinite() -> None:
    """The median over seeds counts the unsolved seed as infinitely many samples (`measures`), not skipped:
    3200, 6400 and an unsolved seed give 6,400, not the 4,800 of the solved seeds alone."""
    runs = [
        run(1.0, solved=True, samples_to_solve=3200),
        run(1.0, solved=True, samples_to_solve=6400),
        run(0.97, solved=False, samples_to_solve=None, samples_seen=9600),
    ]
    out = AtLeast(("a",), 0.95, IN_DISTRIBUTION).judge({"a": runs})
    assert "solved 2/3" in out.figure and "median samples to solve 6,400" in out.figure
    runs[1] = run(0.9, solved=False, samples_to_solve=None, samples_seen=9600)
    assert "median samples to solve > 9,600" in AtLeast(("a",), 0.95, IN_DISTRIBUTION).judge({"a": runs}).figure


# --- FewerSamples --------------------------------------------------------------------------------------


def test_fewer_samples_reproduced_with_censored_other_arm() -> None:
    out = FewerSamples("a", "b").judge({"a": solve(100, 120, 110), "b": solve(None, None, 900)})
    assert out.verdict == REPRODUCED and "ratio b/a >= " in out.figure


def test_fewer_samples_not_reproduced_when_other_arm_is_faster() -> None:
    assert (
        FewerSamples("a", "b").judge({"a": solve(None, None, None), "b": solve(100, 120, 110)}).verdict
        == NOT_REPRODUCED
    )


def test_fewer_samples_inconclusive_when_neither_solves_or_too_few_seeds() -> None:
    out = FewerSamples("a", "b").judge({"a": solve(None, None), "b": solve(None, None)})
    assert out.verdict == INCONCLUSIVE and "neither" in out.reason
    assert FewerSamples("a", "b").judge({"a": solve(100), "b": solve(None, None)}).verdict == INCONCLUSIVE


def test_fewer_samples_reads_the_solved_flag() -> None:
    """A run is solved when the harness says so (`measures.solved`), whatever else its record holds."""
    a = [run(solved=False, samples_to_solve=100, samples_seen=1000) for _ in range(3)]
    out = FewerSamples("a", "b").judge({"a": a, "b": solve(None, None, None)})
    assert out.verdict == INCONCLUSIVE and "neither" in out.reason


def solved_runs(*flags: bool) -> list[dict[str, Any]]:
    # a solved run stops at the validation that reached solved_at: its test metric sits near the threshold
    return [
        run(0.9 if f else 0.5, solved=f, samples_to_solve=3200 if f else None, samples_seen=3200 if f else 8000)
        for f in flags
    ]


def test_solves_reads_the_solved_flag_not_the_test_metric_at_the_threshold() -> None:
    out = Solves(("a",)).judge({"a": solved_runs(True, True, True)})
    assert out.verdict == REPRODUCED and "a solved 3/3, median samples to solve 3,200" in out.figure
    assert (
        "a solved 1/3, median samples to solve > 8,000"
        in Solves(("a",)).judge({"a": solved_runs(True, False, False)}).figure
    )


def test_solves_not_reproduced_when_an_arm_never_solves_inconclusive_when_some_seeds_do() -> None:
    out = Solves(("a", "b")).judge({"a": solved_runs(True, True), "b": solved_runs(False, False)})
    assert out.verdict == NOT_REPRODUCED and out.reason == "b solved in no seed"
    assert Solves(("a",)).judge({"a": solved_runs(True, False, True)}).verdict == INCONCLUSIVE
    assert Solves(("a",)).judge({"a": solved_runs(True)}).verdict == INCONCLUSIVE  # one seed decides nothing


# --- claims --------------------------------------------------------------------------------------------


def test_combine_and_judge_skip_failed_runs() -> None:
    assert combine([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert combine([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, NOT_REPRODUCED]) == NOT_REPRODUCED
    claim = Claim(
        "c",
        "p",
        "claim",
        "figure",
        "qsa",
        (Arm("a", "transformer"), Arm("b", "lstm")),
        (Exceeds("a", "b", IN_DISTRIBUTION),),
    )
    ok = arm(0.9, 0.91)
    failed = {"status": "failed", "metrics": None}
    verdict = judge(claim, {"a": ok + [failed], "b": arm(0.1, 0.12)})
    assert verdict.verdict == REPRODUCED and "n=2" in verdict.figure
    assert verdict_table([verdict]).splitlines()[2].startswith("| c ") and "## c" in render_doc(
        [Outcome(verdict, {})], "claims", "archbench reproduce c"
    )
    noted = Claim(
        "c", "p", "claim", "figure", "qsa", claim.arms, claim.rules, note="both arms sit at a shortcut's accuracy."
    )
    assert "**Note**: both arms sit at a shortcut's accuracy." in render_doc(
        [Outcome(judge(noted, {}), {})], "claims", "cmd"
    )


def test_follow_up_plans_its_arms_with_its_budget_and_judges_only_their_rules() -> None:
    follow = FollowUp("tiny models stayed below 0.9.", Budget(train={"steps": 40}, preset="small"), arms=("a",))
    claim = Claim(
        "c",
        "p",
        "claim",
        "figure",
        "qsa",
        (Arm("a", "transformer"), Arm("b", "lstm")),
        (Exceeds("a", "b", IN_DISTRIBUTION), AtLeast(("a",), 0.9, IN_DISTRIBUTION)),
        follow_ups={"smoke": follow},
    )
    runs = plan_claim(claim, get_profile("smoke"), follow)
    assert list(runs) == ["a"] and runs["a"][0].train.steps == 40 and runs["a"][0].preset == "small"
    ok = arm(0.95, 0.96, 0.97)
    verdict = judge(claim, {"a": ok})
    assert verdict.verdict == REPRODUCED and len(verdict.outcomes) == 1  # only AtLeast: Exceeds needs arm b
    first = judge(claim, {"a": ok, "b": arm(0.1, 0.12)})
    page = render_doc([Outcome(first, {}, follow, verdict)], "smoke", "archbench reproduce c --follow-ups")
    assert "**What was tried**: tiny models stayed below 0.9. Follow-up (a; preset small, steps 40)" in page
    assert "reproduced with preset small, steps 40" in page and "--follow-ups" in page
    assert describe_budget(Budget()) == "the profile's settings"
    with pytest.raises(ValueError, match="follow-up names unknown arm"):
        Claim(
            "d",
            "p",
            "claim",
            "figure",
            "qsa",
            (Arm("a", "transformer"),),
            (),
            follow_ups={"claims": FollowUp("w", Budget(), ("z",))},
        )


def test_budget_arch_params_apply_to_the_arm_they_name_on_top_of_its_own() -> None:
    follow = FollowUp("positions.", Budget(train={"lr": 3e-4}, arch_params={"a": {"pos": "rope"}}))
    arms = (Arm("a", "transformer", arch_params={"layers": 2, "pos": "learned"}), Arm("b", "lstm"))
    claim = Claim(
        "c", "p", "claim", "figure", "qsa", arms, (Exceeds("a", "b", IN_DISTRIBUTION),), follow_ups={"smoke": follow}
    )
    runs = plan_claim(claim, get_profile("smoke"), follow)
    assert runs["a"][0].arch_config["pos"] == "rope" and runs["a"][0].arch_config["layers"] == 2
    assert "pos" not in runs["b"][0].arch_config and runs["a"][0].train.lr == runs["b"][0].train.lr == 3e-4
    assert (
        plan_claim(claim, get_profile("smoke"))["a"][0].arch_config["pos"] == "learned"
    )  # the base budget: the arm's own
    assert describe_budget(follow.budget) == "lr 0.0003, a pos rope"
    with pytest.raises(ValueError, match=r"architecture settings for unknown arm\(s\) \['z'\]"):
        Claim(
            "d",
            "p",
            "claim",
            "figure",
            "qsa",
            arms,
            (),
            follow_ups={"claims": FollowUp("w", Budget(arch_params={"z": {"pos": "rope"}}))},
        )


def test_claim_rejects_rules_naming_unknown_arms() -> None:
    with pytest.raises(ValueError, match="unknown arm"):
        Claim("c", "p", "claim", "figure", "qsa", (Arm("a", "transformer"),), (Exceeds("a", "b", IN_DISTRIBUTION),))


def test_catalogue_has_the_issue_claims() -> None:
    tasks = {claim.task for claim in CLAIMS.values()}
    assert {
        "sparse_token_selection",
        "qsa",
        "sparse_parity",
        "mqar",
        "state_parity",
        "state_s5",
        "copy",
        "induction_heads",
        "selective_copy",
        "icl_regression",
    } <= tasks
    assert len(CLAIMS) >= 8


def test_every_claim_module_is_discovered_sorted_by_name() -> None:
    """One module per claim: every public module in bench/claims/catalogue/ gives the claim of its name
    (a new file is a new claim, nothing to register), and CLAIMS is sorted by name."""
    folder = Path(catalogue.__file__).parent
    modules = {info.name for info in pkgutil.iter_modules([str(folder)]) if not info.name.startswith("_")}
    assert modules == {path.stem for path in folder.glob("*.py") if not path.stem.startswith("_")}
    assert {catalogue.module_name(name) for name in CLAIMS} == modules
    assert list(CLAIMS) == sorted(CLAIMS)
    assert all(claim.name == name for name, claim in CLAIMS.items())


def test_claims_code_is_left_out_of_the_runs_code_version() -> None:
    """Editing a claim (a note, a rule, a new claim module) must not mark every stored run stale: the claims
    choose settings that are part of the run key and judge records, they never change a measurement."""
    from bench.results.code_version import harness_files

    covered = {relative for relative, _ in harness_files()}
    assert covered, "the harness boundary covers no file"
    assert not [relative for relative in covered if relative.startswith("bench/claims/")]


# A claim's prose carries no measured number: measured figures are computed from the stored records on the
# generated page, so they can neither go stale nor be typed in by hand. The prose checked: the statement
# (`claim`), the expectation (`paper_figure`), `paper`, `note`, every follow-up's `why`, and the comments
# and docstring of the claim's module. The rule, by regular expression (a number spelled out in words
# escapes it; write qualitatively anyway):
#   - no decimal fraction ("0.903", "r2 0.9"): a decimal setting is written in scientific notation
#     ("lr 3e-4") or lives in the Budget fields, never in prose;
#   - no ratio or seed count ("3/3 seeds", "5/30");
#   - no range of numbers ("500-1500", "3,200-6,400");
#   - no approximate figure ("~2000");
#   - no step or sample count tied to an event ("at step 750", "steps 7700, 11500", "6,400 samples"): a
#     step budget is written "N steps";
#   - no percentage but the intervals' 95%.
# Integers otherwise stay allowed: settings and sizes ("lr 1e-3, 16000 steps", "length 10", "120 x 120")
# and the paper's own statements ("trained at length 256", "about 1M tokens").
MEASURED = {
    "decimal fraction": re.compile(r"\d*\.\d+"),
    "ratio or seed count": re.compile(r"\d\s*/\s*\d"),
    "range of numbers": re.compile(r"\d\s*[-–]\s*\d"),
    "approximate figure": re.compile(r"~\s*\d"),
    "step or sample count": re.compile(r"\bsteps?\s+~?\d|\d[\d,]*\s+samples\b"),
    "percentage": re.compile(r"(?<!\d)(?!95\s*%)\d+\s*%"),
}


def measured_numbers(text: str) -> list[str]:
    """`kind: match` for every measured-looking number in `text` (see the rule above)."""
    return [f"{kind}: {match.group()!r}" for kind, pattern in MEASURED.items() for match in pattern.finditer(text)]


def test_measured_number_rule_catches_figures_and_lets_settings_through() -> None:
    for quoted in (
        "keeps 0.98 at twice",
        "solves in 3/3 seeds",
        "steps 7700, 11500, 9900",
        "from 3,200-6,400 samples",
        "left at step ~2000",
        "reached 80% of it",
        "LSTM 3900-4100",
    ):
        assert measured_numbers(quoted), quoted
    for setting in (
        "the small preset, lr 3e-4, 20000 steps",
        "length 10, tested at 20 and 40",
        "eigenvalues in [-1, 1]",
        "a 120 x 120 table",
        "probability 1/P",
        "the 95% interval",
        "a 12-layer model for 500k steps",
    ):
        assert not measured_numbers(setting), setting


def _module_prose(name: str) -> str:
    """The comments and docstring of a claim's module."""
    source = (Path(catalogue.__file__).parent / f"{catalogue.module_name(name)}.py").read_text()
    comments = [
        tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT
    ]
    return "\n".join([ast.get_docstring(ast.parse(source)) or "", *comments])


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_claim_prose_quotes_no_measured_number(name: str) -> None:
    claim = CLAIMS[name]
    texts = {
        "claim": claim.claim,
        "paper_figure": claim.paper_figure,
        "paper": claim.paper,
        "note": claim.note,
        **{f"follow-up {profile}": f.why for profile, f in claim.follow_ups.items()},
        "module": _module_prose(name),
    }
    found = {field: measured_numbers(text) for field, text in texts.items() if measured_numbers(text)}
    assert not found, f"{name}: measured numbers belong on the generated page, not in the claim's text: {found}"


def test_page_shows_the_figures_from_the_records() -> None:
    """The per-arm table (seeds, solved, median samples to solve, the metric at every length) comes from the
    records, and the page says how unsolved seeds count."""
    claim = Claim(
        "c", "p", "claim", "figure", "qsa", (Arm("a", "transformer"), Arm("b", "lstm")), (Exceeds("a", "b", OOD_MEAN),)
    )
    records = {
        "a": [
            run(0.9, solved=True, samples_to_solve=3200, samples_seen=3200, by_length={"10": 0.9, "20": 0.8})
            for _ in range(2)
        ],
        "b": [
            run(0.5, solved=False, samples_to_solve=None, samples_seen=6400, by_length={"10": 0.5, "20": None}),
            {"status": "failed", "metrics": None},
        ],
    }
    table = arm_table(records)
    assert "length 10 (trained)" in table and "length 20" in table and "length 20 (trained)" not in table
    assert "| a     | 2       | 2/2      | 3,200" in table and "0.900 ± 0.000" in table
    assert "| b     | 1       | 0/1      | > 6,400" in table and "n/a" in table
    page = render_doc([Outcome(judge(claim, records), records)], "claims", "cmd")
    assert table in page and "unsolved seeds count as infinite" in page


@pytest.mark.parametrize("profile", ["claims", "paper"])
def test_every_claim_plans_under_profile(profile: str) -> None:
    """Every task, architecture and parameter exists, plan() accepts them, every arm has the profile's
    seeds (>= 2, so a verdict is possible), and every at_length quantity is a length the task scores."""
    prof = get_profile(profile)
    for claim in CLAIMS.values():
        runs = plan_claim(claim, prof)
        assert list(runs) == [a.name for a in claim.arms]
        for arm_runs in runs.values():
            assert len(arm_runs) >= 2
            for rule in claim.rules:
                quantity = getattr(rule, "quantity", None)
                if quantity is not None and quantity.kind == "at_length":
                    assert quantity.length in arm_runs[0].task.all_lengths, (claim.name, profile)
        if profile == "claims":
            # the ~10-minute sizing: tiny or small models, at most 5000 steps (the longest, selective-copy's two-layer
            # Mambas at 5000 steps, take about 12 minutes on two cores)
            assert all(run.train.steps <= 5000 for arm_runs in runs.values() for run in arm_runs), claim.name


def test_get_claims_unknown_names_valid_ones() -> None:
    with pytest.raises(ArchbenchError, match=r"unknown claim\(s\) 'nope'; valid: copy-length, .*sts-length"):
        get_claims(["sts-length", "nope"])


# --- CLI -----------------------------------------------------------------------------------------------


def test_cli_unknown_claim_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["reproduce", "nope", "--results", str(tmp_path)]) == 2
    assert "unknown claim(s) 'nope'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_cli_list(capsys) -> None:
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in CLAIMS)


def test_cli_dry_run_plans_without_training(tmp_path: Path, capsys) -> None:
    assert main(["reproduce", "sts-length", "qsa-recurrent", "--dry-run", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stochastic codes x3, fixed codes x3" in out and "transformer x3, lstm x3, gru x3" in out
    assert "15 runs planned, 0 already stored" in out
    assert not any(tmp_path.iterdir())


def test_cli_seeds_replace_every_claims_seeds(tmp_path: Path, capsys) -> None:
    """`--seeds 3,4,5` rechecks a verdict on fresh seeds: every arm is planned on exactly those seeds."""
    from bench.claims.model import plan_claim
    from bench.run.profiles import get_profile

    plans = plan_claim(CLAIMS["parity-eigenvalues-deltanet"], get_profile("claims"), seeds=[3, 4, 5])
    assert {arm: [run.seed for run in runs] for arm, runs in plans.items()} == {
        "deltanet [-1,1]": [3, 4, 5],
        "deltanet [0,1]": [3, 4, 5],
    }
    args = ["reproduce", "sts-length", "--dry-run", "--seeds", "3,4", "--results", str(tmp_path)]
    assert main(args) == 0
    assert "stochastic codes x2, fixed codes x2" in capsys.readouterr().out
    assert main(["reproduce", "sts-length", "--dry-run", "--seeds", "three", "--results", str(tmp_path)]) == 2
    assert "three" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_cli_reproduce_smoke_end_to_end(tmp_path: Path, capsys) -> None:
    results, doc = tmp_path / "runs", tmp_path / "docs" / "REPRODUCTIONS.md"
    args = ["reproduce", "sts-length", "--profile", "smoke", "--results", str(results)]
    assert main(args + ["--write-doc", str(doc)]) == 0
    out = capsys.readouterr().out
    assert "sts-length" in out and "inconclusive (too few seeds" in out  # smoke has one seed
    records = [json.loads(line) for line in (results / "sparse_token_selection.jsonl").read_text().splitlines()]
    assert [r["label"] for r in records] == [
        "transformer",
        "transformer [codes=fixed]",
    ]  # stochastic: the task's default
    assert all(r["status"] == "ok" for r in records)
    page = doc.read_text()
    assert "## sts-length" in page and "archbench reproduce sts-length --profile smoke" in page
    assert (
        "![sts-length](reproductions/sts-length.png)" in page
        and (doc.parent / "reproductions" / "sts-length.png").stat().st_size > 0
    )
    assert main(args) == 0  # stored runs are skipped, not rerun
    assert len((results / "sparse_token_selection.jsonl").read_text().splitlines()) == 2


def test_cli_runs_the_follow_up_of_a_claim_that_did_not_reproduce(tmp_path: Path, capsys, monkeypatch) -> None:
    """smoke has one seed, so every verdict is inconclusive: the follow-up (here two seeds of one arm at
    30 steps) runs, is judged on the rules its arm decides, and the page says what was tried."""
    follow = FollowUp(
        "one seed decides nothing.", Budget(train={"steps": 30}, seeds=(0, 1)), arms=("stochastic codes",)
    )
    claim = Claim(
        "sts-test",
        "p",
        "claim",
        "figure",
        "sparse_token_selection",
        (
            Arm("stochastic codes", "transformer", task_params={"codes": "stochastic"}),
            Arm("fixed codes", "transformer", task_params={"codes": "fixed"}),
        ),
        (
            Exceeds("stochastic codes", "fixed codes", IN_DISTRIBUTION),
            AtLeast(("stochastic codes",), 2.0, IN_DISTRIBUTION),
        ),
        follow_ups={"smoke": follow},
    )
    monkeypatch.setitem(catalogue.CLAIMS, claim.name, claim)
    results, doc = tmp_path / "runs", tmp_path / "REPRODUCTIONS.md"
    assert (
        main(
            [
                "reproduce",
                "sts-test",
                "--profile",
                "smoke",
                "--results",
                str(results),
                "--follow-ups",
                "--write-doc",
                str(doc),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "follow-ups (larger budgets" in out and "not reproduced (stochastic codes stay below 2)" in out
    records = [json.loads(line) for line in (results / "sparse_token_selection.jsonl").read_text().splitlines()]
    assert [(r["label"], r["seed"]) for r in records][2:] == [
        ("transformer", 0),
        ("transformer", 1),
    ]  # codes=stochastic: the default
    assert "**What was tried**: one seed decides nothing." in doc.read_text()
