"""`make capacity`: measure each operation's AWS work under moto, run the model for 10 thousand to 10
million monthly active users, print the headline and write docs/capacity.md."""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path

from tests.capacity import shapes
from tests.capacity.model import Load, Scenario, Usage, scenario
from tests.capacity.quotas import PRICES, QUOTAS, READ_ON

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "docs" / "capacity.md"
USER_COUNTS = (10_000, 100_000, 1_000_000, 10_000_000)

ACTIONS = {
    "apigw": "ask for a higher account throttle (Service Quotas, API Gateway L-8A5B8E43), or serve "
    "from several Regions; an authorizer cache does not reduce gateway requests",
    "lambda": "ask for more concurrent executions (Service Quotas); most of it is the protected "
    "functions behind the authorizer; reserve concurrency for the authorizer so they cannot starve it",
    "burst": "provisioned concurrency on the authorizer (`provisioned_concurrency`) or SnapStart for the "
    "first minute of a surge; an authorizer cache TTL cuts invocations",
    "read": "ask for a higher table read quota; or an authorizer cache TTL (`authorizer_cache_ttl`) "
    "divides these reads by the hit rate, delaying revocation by up to the TTL",
    "new-read": "pre-warm the table (warm throughput) before launch, or grow traffic over 30-minute steps",
    "write": "ask for a higher table write quota",
    "new-write": "pre-warm the table (warm throughput) before launch",
    "partition-read": "more emergency-switch shards (shared.store.denylist.GLOBAL_SHARDS)",
    "partition-write": "more emergency-switch shards (shared.store.denylist.GLOBAL_SHARDS)",
    "kms": "ask for a higher KMS quota (adjustable), keep RSA (its quota is higher than ECC's), "
    "lengthen the access token, or the local signing mode described below",
    "secrets": "nothing: one read per new refresh environment",
}


def _action(key: str) -> str:
    return ACTIONS.get(key, ACTIONS.get(key.split(":")[0], ""))


def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _users(value: int) -> str:
    for size, suffix in ((1_000_000, " million"), (1_000, " thousand")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value:,}"


def _mau(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} million"
    return f"{value / 1000:,.0f} thousand"


def build(work: dict[str, shapes.Work], usage: Usage, shards: int) -> list[Scenario]:
    return [scenario(mau, work, usage, shards) for mau in USER_COUNTS]


def headline(scenarios: list[Scenario]) -> list[str]:
    lines = [
        "| monthly active users | peak protected requests/s | logins + refreshes/s (KMS Sign) | binds first "
        "| its load / quota | binds at | what to do | first limit of a launch or surge "
        "| month at list price |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for found in scenarios:
        first = found.binding
        signs = found.rates["login"] + found.rates["refresh"]
        verdict = "binds" if first.share >= 1 else "nearest"
        users, requests, binds_at = (
            _users(found.mau),
            _n(found.rates["authorizer"]),
            _mau(found.mau_at_which(first)),
        )
        lines.append(
            f"| {users} | {requests} | {_n(signs)} | {first.label} ({verdict}) "
            f"| {_n(first.load)} / {_n(first.quota)} ({first.share:.0%}) | {binds_at} MAU "
            f"| {_action(first.key)} | {_surge(found)} | ${sum(found.monthly_cost.values()):,.0f} |"
        )
    return lines


def _surge(found: Scenario) -> str:
    load = found.surge_binding
    return f"{load.label}: {load.share:.0%} of {_n(load.quota)} ({_action(load.key)})"


def detail(found: Scenario) -> list[str]:
    rates = found.rates
    lines = [
        f"### {_users(found.mau)} monthly active users",
        "",
        f"Peak: {_n(rates['concurrent users'])} users active at once, {_n(rates['authorizer'])} "
        f"protected requests/s, {_n(rates['refresh'])} refreshes/s, {_n(rates['login'])} logins/s "
        f"(+{_n(rates['login failure'])} failed), {_n(rates['logout'])} logouts/s.",
        "",
        "| limit | load at the peak | quota | share | binds at |",
        "| --- | --- | --- | --- | --- |",
    ]
    for load in sorted(found.loads, key=lambda item: (item.surge, -item.share)):
        label = load.label + (" (growth)" if load.surge else "")
        lines.append(
            f"| {label} | {_n(load.load)} | {_n(load.quota)} {load.unit} | {load.share:.1%} "
            f"| {_mau(found.mau_at_which(load))} MAU |"
        )
    cost = found.monthly_cost
    lines += [
        "",
        "Month at list price: "
        + ", ".join(f"{name} ${value:,.0f}" for name, value in cost.items())
        + f"; total ${sum(cost.values()):,.0f} (protected calls' own API Gateway and Lambda costs excluded).",
        "",
    ]
    return lines


def work_table(work: dict[str, shapes.Work]) -> list[str]:
    lines = [
        "| operation | AWS calls (= tests/expected_calls.py) | read units by table | write units by table "
        "| KMS Sign |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, measured in work.items():
        reads = ", ".join(f"{table} {units:g}" for table, units in measured.read_units.items()) or "none"
        writes = ", ".join(f"{table} {units:g}" for table, units in measured.write_units.items()) or "none"
        lines.append(
            f"| {name} | {', '.join(measured.calls) or 'none'} | {reads} | {writes} | {measured.kms_sign} |"
        )
    return lines


def _kms(found: Scenario) -> Load:
    return next(load for load in found.loads if load.key == "kms")


def kms_paragraph(rsa: list[Scenario], ecc: list[Scenario], short: list[Scenario]) -> str:
    rsa_at, ecc_at = _mau(rsa[0].mau_at_which(_kms(rsa[0]))), _mau(ecc[0].mau_at_which(_kms(ecc[0])))
    shorter = "; ".join(f"{_users(found.mau)} MAU: {_n(_kms(found).load)} Sign/s" for found in short)
    return (
        "Every login and every refresh signs once. With RSA_2048 keys (the default) KMS Sign reaches its "
        f"quota ({_n(_kms(rsa[0]).quota)}/s, shared by the account's RSA keys in the Region) at about "
        f"{rsa_at} monthly active users with these inputs; with ECC keys (ES256, {_n(_kms(ecc[0]).quota)}/s) "
        f"at about {ecc_at}, and ECC requests cost five times as much. Both quotas are adjustable. Shorter "
        f"access tokens sign more: with 5-minute tokens, {shorter}."
    )


def signing_mode_paragraph(million: Scenario) -> str:
    share = _kms(million).share
    return (
        f"At 1 million MAU KMS Sign is at {share:.1%} of its quota and {million.binding.label} binds "
        "first, so the model does not call for a signing mode without KMS (none is built: "
        "shared/credentials/signing.py "
        "is another change's). Should usage differ (many more refreshes per user), the mode would be: a "
        "signing key pair generated once, its private half stored encrypted under a KMS key (a data key "
        "pair, GenerateDataKeyPair), decrypted once per container with one kms:Decrypt and kept in memory, "
        "so each token is signed locally (no KMS call; RSA-2048 signing costs about 1 ms of CPU) and only "
        "cold starts call KMS (the symmetric quota, 10,000/s or more). The trade-off, plainly: the private "
        "key then lives in the memory of every login and refresh environment, so code execution in one of "
        "them can copy it and mint tokens until the key is rotated, where today it can only ask KMS to "
        "sign while it runs, and every signature is in CloudTrail; rotating and revoking that key becomes "
        "the team's job. It would be off by default."
    )


def document(work: dict[str, shapes.Work], usage: Usage, shards: int) -> str:
    rsa = build(work, usage, shards)
    ecc = build(work, Usage(**{**usage.__dict__, "signing": "ES256"}), shards)
    short = build(work, Usage(**{**usage.__dict__, "access_token_ttl": 300}), shards)
    lines = [
        "# Capacity",
        "",
        "Written by `make capacity` (`python -m tests.capacity`); do not edit by hand. How many users this",
        "service carries before an AWS quota binds, which one binds first, and what to do about it. The",
        "model runs each operation once against moto with the real handlers, records the DynamoDB requests",
        "it makes (the call sequences must equal `tests/expected_calls.py`, the ones",
        "`tests/integration/test_aws_calls_per_operation.py` asserts) and sizes every key and item by",
        "DynamoDB's rules; the quotas and prices are the only typed-in figures, each with its source below.",
        "Everything else is an input of the scenario, listed here: change `tests/capacity/model.py`'s",
        "`Usage` and run `make capacity` again.",
        "",
        f"Generated: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M')} UTC.",
        "",
        "## Headline",
        "",
        *headline(rsa),
        "",
        'Every load is proportional to the user count, so "binds at" is where that load meets its quota',
        "with the same usage. A limit that binds is not an outage of the whole service if you act first:",
        "every quota in the table but the per-partition one and the Lambda scaling rate can be raised.",
        "",
        "## Inputs (the scenario)",
        "",
        "| input | value |",
        "| --- | --- |",
        *[f"| `{name}` | {value} |" for name, value in usage.__dict__.items()],
        "",
        "Rates at the peak: users active at once = MAU x `daily_share` x `active_minutes_per_day` / 1440",
        "x `peak_factor`; protected requests/s = active users x `requests_per_active_minute` / 60;",
        "refreshes/s = active users / (`access_token_ttl` x `refresh_at`); logins/s = daily users x",
        "`logins_per_daily_user` / 86400 x `peak_factor`. Every login and every refresh signs once.",
        "Durations are docs/cost-and-performance.md's model, not measured on Lambda.",
        "",
        "## What each operation costs (measured)",
        "",
        *work_table(work),
        "",
        "A strongly consistent read is one unit per 4 KB (an absent item still one); a transactional write",
        "two units per KB; a condition check inside a transaction is counted as a transactional write (an",
        "upper bound). The authorizer's four keys are the token (`JTI#`), its session (`SID#`), its user's",
        "not-before (`NBF#<user>`) and one of "
        f"{shards} emergency-switch shards (`NBF#*#<n>`, chosen by the session id): no key is shared",
        "by every request (tests/integration/test_no_hot_key.py).",
        "",
        "## Per scale",
        "",
    ]
    for found in rsa:
        lines += detail(found)
    lines += [
        "## KMS: RSA or ECC, and when signing binds",
        "",
        kms_paragraph(rsa, ecc, short),
        "",
        signing_mode_paragraph(rsa[2]),
        "",
        "## Quotas and prices used",
        "",
        f"Read on {READ_ON} through stored copies of the pages; AWS changes them: check Service Quotas in",
        "your account.",
        "",
        "| quota | default | adjustable | source | note |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {quota.name} | {_n(quota.value)} {quota.unit} | {'yes' if quota.adjustable else 'no'} "
            f"| {quota.source} | {quota.note} |"
            for quota in QUOTAS.values()
        ],
        "",
        "| price | value | source |",
        "| --- | --- | --- |",
        *[
            f"| {price.name} | {price.value:g} {price.unit} | [{price.source}]({price.source}) |"
            for price in PRICES.values()
        ],
        "",
        Path(__file__).with_name("regions.md").read_text(encoding="utf-8").rstrip(),
        "",
        "## What the model leaves out",
        "",
        "- Durations on Lambda are modelled, not measured; a slower protected function raises Lambda",
        "  concurrency, nothing else.",
        "- Traffic shapes other than one daily peak: a launch, a retry storm, a credential-stuffing attack",
        "  (login failures write two counters each and are throttled per account and source IP).",
        "- One source IP behind a large NAT shares one failure counter item (`IPFAIL#`): at most 1,000",
        "  writes a second to it, far above what its lockout allows.",
        "- The API Gateway quota is per account and Region: other APIs of the account share it.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    from shared.store.denylist import GLOBAL_SHARDS

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        work = shapes.measure()
    usage = Usage()
    text = document(work, usage, GLOBAL_SHARDS)
    DOCUMENT.write_text(text, encoding="utf-8")
    print("\n".join(headline(build(work, usage, GLOBAL_SHARDS))))
    print(f"\nwritten to {DOCUMENT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
