"""Developer sessions: tests, property tests, lint, type check, benchmarks.

nox                # lint, typecheck and tests: what CI runs (.ci/run) and the README's test command
nox -s tests       # the suite
nox -s props       # hypothesis properties with thousands of examples
nox -s lint        # ruff
nox -s typecheck   # mypy
nox -s bench       # pytest-benchmark: kernel vs vectorbt, sampled vs fixed costs, Monte Carlo bar-steps/s, sweep
                   # attempts/s in process vs a 2-worker Dask cluster and the overhead per task,
                   # RL env steps/s (single vs gym-anytrading, batched)
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PACKAGES = ["simlab", "simlab_cli", "strategies", "execution_models", "challenges", "rl", "live", "reports"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    # the live tests drive the fake terminal through the real mt5linux client; its metadata pins old
    # rpyc/plumbum, so it is installed without its dependencies (rpyc comes from the test extra)
    session.install("--no-deps", "mt5linux==0.2.4")
    # python -m pytest: the checkout's root on sys.path, as the tests import each other (tests.test_x);
    # SIMLAB_REQUIRE_MT5LINUX: the live tests' bridge variants fail instead of skipping without the client
    session.run("python", "-m", "pytest", "-q", *session.posargs, env={"SIMLAB_REQUIRE_MT5LINUX": "1"})


@nox.session(python="3.11")
def props(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run(
        "python", "-m", "pytest", "-q", "-k", "propert", *session.posargs, env={"HYPOTHESIS_PROFILE": "props"}
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", *PACKAGES, "tests", "noxfile.py")
    session.run("ruff", "format", "--check", *PACKAGES, "tests", "noxfile.py")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    # the dev environment: every extra a package imports (live: msgspec, rpyc, ...) is there for mypy
    session.install("-e", ".[dev]")
    session.run("mypy", *PACKAGES)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    # the RL benchmark's reference: gym-anytrading's forex env on the same bars (it installs with our gymnasium)
    session.install("gym-anytrading")
    # addopts skips benchmarks in the normal suite; clear it here and run only them
    session.run(
        "python", "-m", "pytest", "-o", "addopts=", "tests/bench", "--benchmark-only", "-s",
        "--benchmark-columns=min,median,max,rounds", *session.posargs,
    )  # fmt: skip
