"""checkov over synthesised stacks: AWS resources as a Terraform plan, Kubernetes objects as manifests.

checkov lives in its own virtual environment (it pins ``packaging<24``; pulumi needs a newer one), so
it runs as a subprocess. Its start-up (about 3 s of imports on these machines) is most of its cost, so
one warm process imports it, ideally while the program under test runs (``prewarm``), and then forks
one scan per framework: ``terraform_plan`` starts as soon as the plan is written and ``kubernetes`` next
to it, each on its own core. The warm process stays up for the next scans of the same Python process
(the tests scan many times), so checkov is imported once per process. ``run_many`` scans several stacks
at once: each stack gets its own directory (its plan file and one YAML file per Kubernetes object), and
checkov resolves references within one plan file only, so the stacks do not see each other.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import subprocess
import tempfile
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from silhouette_infra.synth import libyaml
from silhouette_infra.synth.checks import cache
from silhouette_infra.synth.checks.base import (
    CheckReport,
    Finding,
    Skip,
    apply_skips,
    load_skips,
    resolve_conditions,
    venv_executable,
)
from silhouette_infra.synth.checks.cache import ValidatorCache
from silhouette_infra.synth.checks.terraform_plan import to_plan, unmapped
from silhouette_infra.synth.engine.manifests import is_kubernetes_object, manifest_of, object_name
from silhouette_infra.synth.engine.mocks import CapturedResource, unwrap_secrets
from silhouette_infra.synth.engine.run import PROJECT_ROOT, SynthResult

AWS = "checkov_aws"
KUBERNETES = "checkov_kubernetes"
CHECKOV_ENV_VAR = "SILHOUETTE_CHECKOV"
UNMAPPED_CHECK = "SILHOUETTE_TF_MAPPING"
PARSE_CHECK = "SILHOUETTE_CHECKOV_PARSE"
MIN_REASON_LENGTH = 20  # the bar load_skips sets for a reason in skips.yaml

FRAMEWORKS = {AWS: "terraform_plan", KUBERNETES: "kubernetes"}
_PLAN_FILE = "plan.json"
_MANIFEST_DIR = "kubernetes"
_NO_COMMENT = "No comment provided"  # what checkov records for an annotation without ``=reason``


class CheckovNotInstalledError(RuntimeError):
    """checkov's virtual environment is missing."""


class CheckovRunError(RuntimeError):
    """checkov ran but did not produce a report."""


def checkov_executable() -> Path:
    """``$SILHOUETTE_CHECKOV`` if set, else ``<repo>/.venv-checkov/bin/checkov``."""
    return venv_executable(
        PROJECT_ROOT,
        env_var=CHECKOV_ENV_VAR,
        venv=".venv-checkov",
        command="checkov",
        tool="checkov",
        missing=CheckovNotInstalledError,
    )


# The warm process imports checkov once, then serves requests sent on stdin, one JSON line each: a scan
# (a name, checkov's command line, the file its report goes to and the file its log goes to) is forked
# into a child at once, so that scans share those imports and run side by side; ``wait`` (a list of
# names) waits for those children and prints their exit codes on one line. At the end of its input it
# leaves without tearing down its interpreter. Each scan is a short-lived child, so it turns off two things
# that cost seconds here and serve nothing: the cyclic garbage collector's passes over checkov's long-lived
# objects (about 1 s of a terraform_plan scan), and the DEBUG log checkov keeps in memory for uploading to
# its platform, which a run without a platform API key never does (warnings and errors still reach each
# scan's log). What checkov checks and reports is unchanged.
_WARM_SCRIPT = """
import gc, json, logging, os, sys, traceback, warnings
gc.disable()
warnings.simplefilter("ignore", category=SyntaxWarning)
from checkov.main import Checkov
logging.getLogger().setLevel(logging.WARNING)
children = {}
while line := sys.stdin.readline():
    request = json.loads(line)
    if "wait" in request:
        codes = {name: os.waitstatus_to_exitcode(os.waitpid(children.pop(name), 0)[1]) for name in request["wait"]}
        print(json.dumps(codes))
        sys.stdout.flush()
        continue
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.dup2(os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
            os.dup2(os.open(request["report"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            code = Checkov(argv=request["argv"]).run() or 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    children[request["name"]] = pid
os._exit(0)  # tearing down checkov's interpreter takes a second and serves nothing
"""


class _WarmCheckov:
    """The warm process: ``scan`` starts a scan in it at once, ``wait`` waits for some of them."""

    def __init__(self) -> None:
        executable = checkov_executable()
        first_line = executable.read_text(errors="replace").splitlines()[0] if executable.stat().st_size else ""
        python = first_line[2:].strip() if first_line.startswith("#!") else str(executable.with_name("python"))
        # Its stderr is read once it has died; each scan writes its own log (warnings, errors) to a file.
        self.process = subprocess.Popen(
            [python, "-c", _WARM_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        atexit.register(self.stop)
        self.scans = itertools.count(1)

    def alive(self) -> bool:
        return self.process.poll() is None

    def scan(self, argv: list[str], report: Path, log: Path) -> str:
        """Start a scan; its name, for ``wait``."""
        name = f"scan-{next(self.scans)}"
        self._send({"name": name, "argv": argv, "report": str(report), "log": str(log)})
        return name

    def wait(self, names: list[str]) -> dict[str, int | str]:
        """The exit code of each named scan, once it has finished (a reason instead if the process died)."""
        self._send({"wait": names})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            _, stderr = self.process.communicate()
            reason = f"no exit code (process exited with {self.process.returncode}: {stderr.strip()[-2000:]})"
            return dict.fromkeys(names, reason)
        codes: dict[str, int | str] = json.loads(line)
        return codes

    def stop(self) -> None:
        """End the process: at the end of its input it leaves at once (a scan still running is abandoned)."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the process is gone: wait() reports it


_warm: _WarmCheckov | None = None


def prewarm() -> None:
    """Start the warm process now, if checkov is installed, so that the next scan does not wait for its
    imports. Without checkov this does nothing: the scan itself says how to install it. Nor when the validator
    cache holds earlier checkov reports: the next scan is then likely answered from it, and checkov's imports
    (seconds of CPU) would serve nothing; a scan that needs checkov starts it."""
    if ValidatorCache.for_project(PROJECT_ROOT).holds("checkov"):
        return
    with contextlib.suppress(CheckovNotInstalledError):
        _warm_process()


def shutdown() -> None:
    """End this process's warm checkov, if any: the next scan starts a new one."""
    global _warm
    if _warm is not None:
        _warm.stop()
        _warm = None


def _warm_process() -> _WarmCheckov:
    """This process's warm checkov, started if there is none (or it died)."""
    global _warm
    if _warm is None or not _warm.alive():
        _warm = _WarmCheckov()
    return _warm


def run(result: SynthResult) -> dict[str, CheckReport]:
    """The ``checkov_aws`` and ``checkov_kubernetes`` reports of one synthesised stack."""
    return run_many({result.stack: result.resources})[result.stack]


def run_many(stacks: Mapping[str, list[CapturedResource]]) -> dict[str, dict[str, CheckReport]]:
    """Reports per stack (or any named set of captured resources), from one checkov process."""
    return start_many(stacks).reports()


def start_many(stacks: Mapping[str, list[CapturedResource]]) -> CheckovScan:
    """Write what checkov scans and start scanning; ``reports()`` of the result waits for the reports.

    The ``terraform_plan`` scan, the longer one, starts as soon as the plans are written; the
    ``kubernetes`` scan once the manifests are, on the other core.
    """
    return CheckovScan(stacks)


class CheckovScan:
    """checkov at work on several named sets of resources (see ``start_many``)."""

    def __init__(self, stacks: Mapping[str, list[CapturedResource]]) -> None:
        self.started = time.perf_counter()
        self.jobs = {f"{number:02d}": _Job(name, resources) for number, (name, resources) in enumerate(stacks.items())}
        self.directory = tempfile.TemporaryDirectory(prefix="silhouette-checkov-")
        # checkov scans ``root``; its reports go next to it, where neither scan looks.
        self.root = Path(self.directory.name) / "scan"
        self.root.mkdir()
        self.frameworks: list[str] = []
        self.checkov: _WarmCheckov | None = None
        self.scans: dict[str, str] = {}  # framework -> the warm process's name of its scan
        self.cache = ValidatorCache.for_project(PROJECT_ROOT)
        self.cache_keys: dict[str, str] = {}  # framework -> its run's key, stored once it has run
        self.cached: dict[str, str] = {}  # framework -> checkov's output of an earlier run on the same input
        try:
            for key, job in self.jobs.items():
                job.write_plan(self.root / key)
            self._start(AWS)
            for key, job in self.jobs.items():
                job.write_manifests(self.root / key)
            self._start(KUBERNETES)
            for job in self.jobs.values():  # read while checkov scans
                job.skips = {
                    validator: resolve_conditions(load_skips(validator, job.name), job.attributes(validator))
                    for validator in FRAMEWORKS
                }
        except BaseException:
            if self.checkov is not None and self.scans:
                self.checkov.wait(list(self.scans.values()))
            self.directory.cleanup()
            raise

    def _start(self, validator: str) -> None:
        if not any(job.scans(validator) for job in self.jobs.values()):
            return
        framework = FRAMEWORKS[validator]
        self.frameworks.append(framework)
        version = cache.fingerprint(checkov_executable(), "checkov")
        if version is not None:
            files = [path for path in self.root.rglob("*") if path.is_file()]
            arguments = [_WARM_SCRIPT, *_command(self.root, framework)]
            entry = cache.key(f"checkov-{framework}", version, arguments, self.root, files)
            stored = self.cache.get(entry, self.root)
            if stored is not None:
                self.cached[framework] = stored["output"]
                return
            self.cache_keys[framework] = entry
        if self.checkov is None:
            self.checkov = _warm_process()
        output = Path(self.directory.name) / framework
        self.scans[framework] = self.checkov.scan(
            _command(self.root, framework), output.with_suffix(".json"), output.with_suffix(".log")
        )

    def reports(self) -> dict[str, dict[str, CheckReport]]:
        """Reports per name, once checkov has finished."""
        try:
            outputs = self._outputs()
            documents = {
                check_type: document
                for framework, output in outputs.items()
                for check_type, document in _documents(framework, output).items()
            }
            for framework, document in documents.items():
                validator = next(name for name, known in FRAMEWORKS.items() if known == framework)
                _dispatch(document, validator, self.jobs, self.root)
        finally:
            self.directory.cleanup()
        elapsed = time.perf_counter() - self.started
        version = next((str(doc.get("summary", {}).get("checkov_version")) for doc in documents.values()), "?")
        jobs = len(self.jobs)
        return {
            job.name: job.finish(elapsed, version, self.frameworks, jobs, self.cached) for job in self.jobs.values()
        }

    def _outputs(self) -> dict[str, str]:
        """checkov's output (its stdout) of every scan, by framework: from the cache, or from the scan (which is
        then stored)."""
        outputs = dict(self.cached)
        if self.checkov is None:
            return outputs
        codes = self.checkov.wait(list(self.scans.values()))
        directory = Path(self.directory.name)
        failed = {framework: codes.get(name, "no exit code") for framework, name in self.scans.items()}
        failed = {framework: code for framework, code in failed.items() if code != 0}
        if failed:
            logs = [directory / f"{framework}.log" for framework in failed]
            logs_text = "\n".join(log.read_text(errors="replace").strip()[-2000:] for log in logs if log.is_file())
            raise CheckovRunError(f"checkov exited with {failed}: {logs_text}")
        for framework in self.scans:
            outputs[framework] = (directory / f"{framework}.json").read_text()
            if framework in self.cache_keys:
                self.cache.put(self.cache_keys[framework], self.root, {"output": outputs[framework]})
        return outputs


# ---------------------------------------------------------------------------------------- internals
@dataclass
class _Job:
    """One named set of resources: what it gave checkov and what came back for it."""

    name: str
    resources: list[CapturedResource]
    has_plan: bool = False
    planned: dict[str, dict[str, Any]] = field(default_factory=dict)  # Terraform address -> planned values
    object_of_file: dict[str, str] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=lambda: {AWS: [], KUBERNETES: []})
    skips: dict[str, list[Skip]] = field(default_factory=dict)
    reports: dict[str, CheckReport] = field(
        default_factory=lambda: {AWS: CheckReport(AWS), KUBERNETES: CheckReport(KUBERNETES)}
    )

    def write_plan(self, directory: Path) -> None:
        directory.mkdir()
        plan = to_plan(self.resources)
        self.planned = {item["address"]: item["values"] for item in plan["planned_values"]["root_module"]["resources"]}
        self.has_plan = bool(self.planned)
        if self.has_plan:
            (directory / _PLAN_FILE).write_text(json.dumps(plan))
        for resource in unmapped(self.resources):
            self.findings[AWS].append(
                Finding(
                    UNMAPPED_CHECK,
                    f"{resource.type}::{resource.name}",
                    f"no Terraform mapping for {resource.type}; add it to terraform_plan.py",
                )
            )

    def write_manifests(self, directory: Path) -> None:
        objects = [resource for resource in self.resources if is_kubernetes_object(resource)]
        if objects:
            (directory / _MANIFEST_DIR).mkdir()
        for number, resource in enumerate(objects, start=1):
            manifest = unwrap_secrets(manifest_of(resource))
            file_name = f"{number:04d}-{str(manifest['kind']).lower()}.yaml"
            (directory / _MANIFEST_DIR / file_name).write_text(libyaml.safe_dump(manifest, sort_keys=False))
            self.object_of_file[file_name] = object_name(manifest)

    def attributes(self, validator: str) -> dict[str, dict[str, Any]]:
        """What a skip's condition reads, by resource name: the planned values of each AWS resource
        (Kubernetes objects carry their skips as annotations instead)."""
        return self.planned if validator == AWS else {}

    def scans(self, validator: str) -> bool:
        return self.has_plan if validator == AWS else bool(self.object_of_file)

    def resource_of(self, validator: str, check: dict[str, Any], file_name: str) -> str:
        """A plan's resources by Terraform address; a Kubernetes object as ``Kind/namespace/name``."""
        if validator == KUBERNETES and file_name in self.object_of_file:
            return self.object_of_file[file_name]
        return str(check.get("resource"))

    def finish(
        self, seconds: float, version: str, frameworks: list[str], jobs: int, cached: Collection[str] = ()
    ) -> dict[str, CheckReport]:
        for validator, report in self.reports.items():
            report.checked += len(self.findings[validator])
            apply_skips(report, self.findings[validator], self.skips[validator])
            report.seconds = seconds if self.scans(validator) else 0.0
        if not self.has_plan:
            self.reports[AWS].notes.append("no AWS resource with a Terraform mapping: terraform_plan did not run")
        if not self.object_of_file:
            self.reports[KUBERNETES].notes.append(
                "no Kubernetes objects declared: the kubernetes framework did not run"
            )
        scanned = [framework for framework in frameworks if framework not in cached]
        if scanned:
            shared = " and ".join(scanned) + (" in parallel" if len(scanned) > 1 else "")
            shared += f", {jobs} stacks" if jobs > 1 else ""
        for validator, report in self.reports.items():
            if not self.scans(validator):
                continue
            if FRAMEWORKS[validator] in cached:
                report.notes.append(
                    f"checkov {version}: its report on the same input from an earlier scan ({cache.DIRECTORY_NAME})"
                )
            else:
                report.notes.append(f"checkov {version}, {seconds:.1f} s ({shared})")
        return self.reports


def _command(root: Path, framework: str) -> list[str]:
    """checkov's arguments for scanning ``root`` with one framework."""
    return [
        "--directory",
        str(root),
        "--framework",
        framework,
        "--skip-download",
        "--output",
        "json",
        "--compact",
        "--soft-fail",
    ]


def _documents(framework: str, output: str) -> dict[str, dict[str, Any]]:
    """check type -> its JSON report, from checkov's output of one scan."""
    try:
        document = json.loads(output)
    except json.JSONDecodeError as error:
        raise CheckovRunError(f"checkov's {framework} output is not JSON ({error}): {output[:500]}") from error
    documents = document if isinstance(document, list) else [document]
    # A framework that found nothing to scan reports a bare summary without ``check_type``.
    return {str(item["check_type"]): item for item in documents if isinstance(item, dict) and "check_type" in item}


def _dispatch(document: dict[str, Any], validator: str, jobs: dict[str, _Job], root: Path) -> None:
    """Hand each result of one framework's report to the job whose directory holds its file."""
    results = document.get("results") or {}

    prefixes = (str(root.resolve()), str(root))  # checkov reports paths relative to the root, or resolved

    def locate(file_path: Any) -> tuple[_Job | None, str]:
        path = str(file_path)
        path = next((path[len(prefix) :] for prefix in prefixes if path.startswith(prefix + "/")), path)
        parts = PurePosixPath(path.lstrip("/")).parts
        return (jobs.get(parts[0]) if parts else None), (parts[-1] if parts else "")

    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in results.get(outcome) or []:
            job, file_name = locate(check.get("file_path", ""))
            if job is None:
                raise CheckovRunError(f"checkov reported a file it was not given: {check.get('file_path')}")
            report, findings = job.reports[validator], job.findings[validator]
            check_id, resource = str(check["check_id"]), job.resource_of(validator, check, file_name)
            name = str(check.get("check_name", ""))
            if outcome == "passed_checks":
                report.checked += 1
                report.passed += 1
            elif outcome == "failed_checks":
                findings.append(Finding(check_id, resource, name))
            else:
                _annotation_skip(report, findings, check, check_id, resource, name)
    for file_path in results.get("parsing_errors") or []:
        job, file_name = locate(file_path)
        if job is None:
            raise CheckovRunError(f"checkov could not parse a file it was not given: {file_path}")
        resource = job.object_of_file.get(file_name, file_name)
        job.findings[validator].append(Finding(PARSE_CHECK, resource, f"checkov could not parse {file_name}"))


def _annotation_skip(
    report: CheckReport, findings: list[Finding], check: dict[str, Any], check_id: str, resource: str, name: str
) -> None:
    """checkov's own skips (``checkov.io/skip1: CKV_K8S_xx=reason``) are reported with their reason.

    An annotation without a reason is held to the same rule as ``skips.yaml``: it is a failure.
    """
    reason = str((check.get("check_result") or {}).get("suppress_comment") or "").strip()
    if reason == _NO_COMMENT or len(reason) < MIN_REASON_LENGTH:
        findings.append(
            Finding(
                check_id,
                resource,
                f"{name} (skipped by a checkov.io annotation that needs a written reason of at least "
                f"{MIN_REASON_LENGTH} characters)",
            )
        )
        return
    skip = Skip(report.validator, check_id, (resource,), f"checkov.io annotation on the object: {reason}")
    report.skipped.append((skip, resource))
    report.checked += 1
