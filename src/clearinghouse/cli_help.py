# ruff: noqa: E501  (each example is one copyable command line)
"""What ``--help`` says beyond each command's own text: who uses it (the panel it is
listed under) and an example of it, for every command of ``clearinghouse``.

Kept in one table so the light entry point (:mod:`clearinghouse.cli_entry`) can list
the commands without importing them; ``tests/test_cli_help.py`` checks that every
command has an example and every top-level command a panel.
"""

from __future__ import annotations

from typing import Any

START = "Getting started"
OPERATE = "Operators: accounts, ledger, jobs"
SUBMIT = "Finders and partners"
ANALYSE = "Analysts and coordinators"
FRONTIER = "Frontier model review"
ENFORCE = "Enforcement and defensive programs"

# Top-level command → (panel, one-line help). The help is the command's own first line.
TOP_LEVEL: dict[str, tuple[str, str]] = {
    "init": (START, "Create the data folder, the database schema, the ledger key and the admin account."),
    "serve": (START, "Start the HTTP API (and, by default, the in-process job worker)."),
    "version": (START, "Print the version."),
    "worker": (OPERATE, "Run background jobs."),
    "org": (OPERATE, "Manage participant organizations."),
    "user": (OPERATE, "Manage users."),
    "token": (OPERATE, "Issue, list and revoke API tokens."),
    "audit": (OPERATE, "Read and verify the audit ledger."),
    "jobs": (OPERATE, "See background jobs and their attempts."),
    "console": (OPERATE, "The web console: passwords for signing in."),
    "submit": (SUBMIT, "Submit findings from files to a Clearinghouse, with progress; rerun to resume."),
    "inventory": (SUBMIT, "Register assets with their SBOMs."),
    "import": (
        ANALYSE,
        "Load public advisories (and KEV) as known vulnerabilities, so findings can be checked against them.",
    ),
    "enrich": (ANALYSE, "Refresh KEV membership and EPSS scores from files, offline."),
    "repro": (ANALYSE, "The reproduction lab: run findings' proofs of concept in the sandbox."),
    "coordinate": (ANALYSE, "Coordinate validated cases with vendors and publish advisories."),
    "export": (ANALYSE, "Export an advisory as CSAF 2.0 or 2.1, OSV 1.7, CVE 5.1, STIX 2.1 or OpenVEX."),
    "taxii": (ANALYSE, "The TAXII 2.1 server's collections."),
    "directives": (ANALYSE, "What EO 14409 and BOD 26-04 require of whom, and by when."),
    "notifications": (ANALYSE, "Webhook subscriptions and e-mail delivery settings."),
    "models": (FRONTIER, "Frontier model review: models under development, access grants, inquiries."),
    "determine": (FRONTIER, "Record whether a model is a covered frontier model (determination authority)."),
    "suites": (FRONTIER, "Benchmark suites on Inspect (frontier evaluation)."),
    "campaign": (FRONTIER, "Run benchmark suites against a granted model endpoint."),
    "incident": (ENFORCE, "Report and follow AI-facilitated crime incidents."),
    "evidence": (ENFORCE, "Evidence under chain of custody: add, export, verify."),
    "programs": (ENFORCE, "Defensive-tool access programs."),
}

# Command path → an example of it.
EXAMPLES: dict[str, str] = {
    "init": "clearinghouse init --office 'Department of the Treasury' --section 'EO 14409 §2(d)' --publisher-name 'Example CERT' --publisher-namespace https://cert.example.org",
    "serve": "clearinghouse serve --init --port 8000",
    "version": "clearinghouse version",
    "worker": "clearinghouse worker --concurrency 4",
    "org add": "clearinghouse org add 'Acme Software' --kind software_vendor",
    "org list": "clearinghouse org list --format json",
    "user add": "clearinghouse user add alice --org 'Acme Software' --role vendor_contact",
    "user list": "clearinghouse user list --format csv",
    "token create": "clearinghouse token create --user alice --scope read --scope write",
    "token revoke": "clearinghouse token revoke chk_3f2a",
    "token list": "clearinghouse token list --user alice --format json",
    "audit verify": "clearinghouse audit verify",
    "audit checkpoint": "clearinghouse audit checkpoint",
    "audit log": "clearinghouse audit log --limit 20",
    "jobs list": "clearinghouse jobs list --status failed --format json",
    "jobs show": "clearinghouse jobs show 0b5c3e9e-5a4e-4d43-9b1f-2f6f0c1d2e3f",
    "console password": "clearinghouse console password admin",
    "submit": "clearinghouse submit results.sarif --url http://127.0.0.1:8000 --package pkg:pypi/app@1.0.0",
    "inventory add": "clearinghouse inventory add sbom.cdx.json --org 'Acme Software'",
    "inventory matches": "clearinghouse inventory matches ASSET-ID --as cio --format json",
    "repro run": "clearinghouse repro run FINDING-ID --as analyst",
    "repro status": "clearinghouse repro status FINDING-ID --format json",
    "repro recheck": "clearinghouse repro recheck --queue-only",
    "import": "clearinghouse import advisories/ known_exploited_vulnerabilities.json",
    "enrich": "clearinghouse enrich --kev known_exploited_vulnerabilities.json --epss epss_scores.csv",
    "coordinate notify": "clearinghouse coordinate notify CASE-ID --vendor 'Acme Software'",
    "coordinate from-matching": "clearinghouse coordinate from-matching CASE-ID",
    "coordinate status": "clearinghouse coordinate status THREAD-ID --product pkg:npm/widget@4.2.0 --status fixed",
    "coordinate vex": "clearinghouse coordinate vex THREAD-ID statements.openvex.json",
    "coordinate alias": "clearinghouse coordinate alias CASE-ID CVE-2026-12345",
    "coordinate disclosure": "clearinghouse coordinate disclosure CASE-ID",
    "coordinate publish": "clearinghouse coordinate publish CASE-ID --summary 'Widget: remote code execution'",
    "coordinate deadlines": "clearinghouse coordinate deadlines --tz America/New_York --format csv",
    "export": "clearinghouse export CVE-2026-12345 --format csaf --spec-version 2.1 -o advisory.json",
    "taxii publish": "clearinghouse taxii publish bundle.json --collection advisories",
    "taxii collection add": "clearinghouse taxii collection add 'Advisories' --org Clearinghouse",
    "taxii collection list": "clearinghouse taxii collection list --format json",
    "directives list": "clearinghouse directives list --format json",
    "notifications smtp": "clearinghouse notifications smtp --host smtp.example.org --port 587",
    "notifications webhook add": "clearinghouse notifications webhook add --user alice --url https://hooks.example.org/ch",
    "notifications webhook list": "clearinghouse notifications webhook list --format json",
    "models register": "clearinghouse models register --user dev --name Atlas --version 2 --partner-release 2026-09-01",
    "models list": "clearinghouse models list --user reviewer --format json",
    "models grant": (
        "clearinghouse models grant MODEL-ID --user dev --starts 2026-08-01 --ends 2026-08-31 "
        "--terms terms.json --endpoint https://models.example.org/v1 --endpoint-model atlas-2"
    ),
    "models accept": "clearinghouse models accept GRANT-ID --user reviewer --terms-sha256 9f86d08...",
    "models withdraw": "clearinghouse models withdraw GRANT-ID --user dev",
    "models inquire": "clearinghouse models inquire MODEL-ID --user reviewer",
    "models releasability": "clearinghouse models releasability DETERMINATION-ID --user authority --released",
    "models clocks": "clearinghouse models clocks --user reviewer --within-days 7 --format csv",
    "determine": "clearinghouse determine MODEL-ID --user authority --outcome covered --rationale 'Exceeds threshold'",
    "suites list": "clearinghouse suites list --user reviewer --format json",
    "suites show": "clearinghouse suites show SUITE-ID --user reviewer",
    "suites register": "clearinghouse suites register",
    "suites prepare-exploits": "clearinghouse suites prepare-exploits --cache /srv/repro-cache --format json",
    "campaign run": "clearinghouse campaign run --user reviewer --grant GRANT-ID --suite SUITE-ID",
    "campaign status": "clearinghouse campaign status CAMPAIGN-ID --user reviewer",
    "campaign results": "clearinghouse campaign results CAMPAIGN-ID --user reviewer --format json",
    "incident report": "clearinghouse incident report --user agent --title 'Model-written phishing kit'",
    "incident list": "clearinghouse incident list --user agent --format json",
    "incident move": "clearinghouse incident move --user agent INCIDENT-ID under_review",
    "evidence add": "clearinghouse evidence add --user agent INCIDENT-ID capture.pcap",
    "evidence export": "clearinghouse evidence export --user agent INCIDENT-ID --reason 'Referral to DOJ'",
    "evidence verify": "clearinghouse evidence verify bundle.zip",
    "programs list": "clearinghouse programs list --format csv",
    "programs create": (
        "clearinghouse programs create 'Fuzzer access' --terms terms.md --capacity 20 --operating-org Clearinghouse"
    ),
    "programs apply": "clearinghouse programs apply --user alice PROGRAM-ID --sector energy --size small",
    "programs decide": "clearinghouse programs decide APPLICATION-ID --approve --reason 'Eligible operator'",
    "programs revoke": "clearinghouse programs revoke GRANT-ID --reason 'Terms breached'",
}


def _epilog(path: str) -> str | None:
    example = EXAMPLES.get(path)
    return f"Example: {example}" if example else None


def apply(app: Any, prefix: str = "") -> None:
    """Give every command of a Typer ``app`` its example (epilog) and, at the top, its panel."""
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        path = f"{prefix}{name}"
        if info.epilog is None:
            info.epilog = _epilog(path)
        if not prefix and name in TOP_LEVEL and info.rich_help_panel is None:
            info.rich_help_panel = TOP_LEVEL[name][0]
    for group in app.registered_groups:
        name = group.name or ""
        if not prefix and name in TOP_LEVEL and group.rich_help_panel is None:
            group.rich_help_panel = TOP_LEVEL[name][0]
        if group.typer_instance is not None:
            apply(group.typer_instance, f"{prefix}{name} ")
