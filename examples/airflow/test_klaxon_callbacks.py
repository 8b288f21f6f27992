"""Tests of klaxon_callbacks without Kafka or Airflow (standard library only).

    python3 -m unittest discover -s examples/airflow -p 'test_*.py'

Regenerate the fixture the TypeScript side validates (test/unit/airflow-example.test.ts):

    python3 examples/airflow/test_klaxon_callbacks.py --write-fixture
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import unittest
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import klaxon_callbacks as kc  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "events.jsonl")
NOW = dt.datetime(2026, 11, 28, 2, 4, 10, 123456, tzinfo=dt.timezone.utc)
RUN = "scheduled__2026-11-28T02:00:00+00:00"
MANUAL = "manual__2026-11-28T02:12:00+00:00"
PUBLISH_LOG = "https://airflow.example.com/dags/etl_daily/grid?task_id=publish"


class FakeTI:
    """Duck-typed Airflow >= 2.10 / 3 TaskInstance: try_number is the attempt that ran."""

    def __init__(self, try_number: int = 1, max_tries: int = 2, state: Any = "up_for_retry", **kw: Any) -> None:
        self.dag_id = kw.get("dag_id", "etl_daily")
        self.task_id = kw.get("task_id", "load_orders")
        self.run_id = kw.get("run_id", RUN)
        self.try_number = try_number
        self.max_tries = max_tries
        self.state = state
        self.log_url = kw.get("log_url", "https://airflow.example.com/dags/etl_daily/grid?task_id=load_orders")


class FakeTILegacy(FakeTI):
    """Duck-typed Airflow < 2.10 TaskInstance in a callback: try_number reads one ahead of _try_number."""

    def __init__(self, attempt: int, **kw: Any) -> None:
        super().__init__(try_number=attempt + 1, **kw)
        self._try_number = attempt


class FakeTINoLogUrl(FakeTI):
    @property
    def log_url(self) -> str:  # Airflow reads [webserver] base_url; may raise outside a deployment
        raise RuntimeError("no configuration")

    @log_url.setter
    def log_url(self, _v: str) -> None:
        pass


class FakeState(str):
    """A str Enum like TaskInstanceState: .value is the state name."""

    @property
    def value(self) -> str:
        return str.__str__(self)


def raised(exc: BaseException) -> BaseException:
    """``exc`` with a traceback, as Airflow hands it to a callback."""
    try:
        raise exc
    except BaseException as e:  # noqa: B902
        return e


class ClientError(Exception):
    pass


ClientError.__module__ = "botocore.exceptions"


def ctx(ti: Any, exception: Any = None) -> Dict[str, Any]:
    c: Dict[str, Any] = {"ti": ti, "task_instance": ti, "run_id": getattr(ti, "run_id", None)}
    if exception is not None:
        c["exception"] = exception
    return c


def fixture_events() -> List[Dict[str, Any]]:
    """The events of the fixture: a retry, the final failure, a plain-string failure, a success."""
    tags = {"team": "data", "tier": 1}
    timeout = raised(TimeoutError("load_orders: statement timeout after 300 s"))
    return [
        kc.build_event("retry", ctx(FakeTI(try_number=2, max_tries=2, state="up_for_retry"), timeout), tags, NOW),
        kc.build_event(
            "failure",
            ctx(FakeTILegacy(3, max_tries=2, state="failed"), raised(ClientError("An error occurred (AccessDenied) when calling the PutObject operation"))),
            tags,
            NOW + dt.timedelta(minutes=5),
        ),
        kc.build_event("failure", ctx(FakeTI(1, 0, "failed", task_id="publish", log_url=PUBLISH_LOG), "Task received SIGTERM signal"), None, NOW + dt.timedelta(minutes=6)),
        kc.build_event("success", ctx(FakeTI(2, 0, "success", task_id="publish", run_id=MANUAL)), tags, NOW + dt.timedelta(minutes=9)),
    ]


class BuildEventTest(unittest.TestCase):
    def test_retry_event_shape(self) -> None:
        e = kc.build_event("retry", ctx(FakeTI(try_number=2, max_tries=2), raised(TimeoutError("slow"))), {"team": "data", "tier": 1}, NOW)
        stack = e["error"].pop("stack")
        self.assertEqual(
            e,
            {
                "kind": "error",
                "source": "airflow",
                "service": "etl_daily",
                "task": "load_orders",
                "run": RUN,
                "try": 2,
                "maxTries": 3,
                "final": False,
                "error": {"type": "TimeoutError", "message": "slow"},
                "logUrl": "https://airflow.example.com/dags/etl_daily/grid?task_id=load_orders",
                "tags": {"team": "data", "tier": "1"},
                "timestamp": "2026-11-28T02:04:10.123Z",
            },
        )
        self.assertTrue(stack.startswith("Traceback (most recent call last):"))
        self.assertTrue(stack.rstrip().endswith("TimeoutError: slow"))
        # JSON: compact UTF-8, round trip
        self.assertEqual(json.loads(kc.encode_event(e).decode("utf-8")), e)
        self.assertEqual(kc.event_key(e), "etl_daily/load_orders")

    def test_success_event_shape(self) -> None:
        e = kc.build_event("success", ctx(FakeTI(state="success")), None, NOW)
        self.assertEqual(
            e,
            {"kind": "success", "source": "airflow", "service": "etl_daily", "task": "load_orders", "run": RUN, "timestamp": "2026-11-28T02:04:10.123Z"},
        )

    def test_failure_is_final_retry_is_not(self) -> None:
        exc = raised(ValueError("x"))
        self.assertIs(kc.build_event("failure", ctx(FakeTI(3, 2, "failed"), exc), None, NOW)["final"], True)
        self.assertIs(kc.build_event("retry", ctx(FakeTI(1, 2, "up_for_retry"), exc), None, NOW)["final"], False)
        # on_failure_callback for a zombie going up for retry (apache/airflow#33855): not final.
        self.assertIs(kc.build_event("failure", ctx(FakeTI(1, 2, "up_for_retry"), exc), None, NOW)["final"], False)
        self.assertIs(kc.build_event("failure", ctx(FakeTI(1, 2, FakeState("up_for_retry")), exc), None, NOW)["final"], False)
        self.assertIs(kc.build_event("failure", ctx(FakeTI(1, 2, None), exc), None, NOW)["final"], True)

    def test_max_tries_counts_all_attempts(self) -> None:
        exc = raised(ValueError("x"))
        # retries=0: max_tries 0, one attempt in all
        self.assertEqual(kc.build_event("failure", ctx(FakeTI(1, 0, "failed"), exc), None, NOW)["maxTries"], 1)
        # retries=2: attempts 1, 2, 3; the third is the last (Airflow: not (retries and 3 <= 2))
        e = kc.build_event("failure", ctx(FakeTI(3, 2, "failed"), exc), None, NOW)
        self.assertEqual((e["try"], e["maxTries"], e["final"]), (3, 3, True))
        # Consistency with Airflow's rule, in Klaxon's terms: final <=> try >= maxTries
        for retries in range(0, 4):
            for attempt in range(1, retries + 2):
                airflow_retries = bool(retries and attempt <= retries)  # TaskInstance.is_eligible_to_retry
                kind = "retry" if airflow_retries else "failure"
                ev = kc.build_event(kind, ctx(FakeTI(attempt, retries, "up_for_retry" if airflow_retries else "failed"), exc), None, NOW)
                self.assertEqual(ev["final"], not (ev["try"] < ev["maxTries"]), (retries, attempt))
        # cleared after 3 attempts (retries=2): Airflow raises max_tries to 3 + 2 = 5; attempt 6 is the last
        e = kc.build_event("retry", ctx(FakeTI(4, 5, "up_for_retry"), exc), None, NOW)
        self.assertEqual((e["try"], e["maxTries"]), (4, 6))

    def test_try_number_of_airflow_before_2_10(self) -> None:
        e = kc.build_event("failure", ctx(FakeTILegacy(3, max_tries=2, state="failed"), raised(ValueError("x"))), None, NOW)
        self.assertEqual((e["try"], e["maxTries"]), (3, 3))

    def test_missing_optional_attributes(self) -> None:
        class Bare:
            dag_id = "d"
            task_id = "t"

        e = kc.build_event("failure", {"ti": Bare()}, None, NOW)
        self.assertEqual(
            e,
            {"kind": "error", "source": "airflow", "service": "d", "task": "t", "final": True, "error": {"type": "Error", "message": "task failed"}, "timestamp": "2026-11-28T02:04:10.123Z"},
        )
        e = kc.build_event("retry", ctx(FakeTINoLogUrl(), raised(ValueError("x"))), None, NOW)
        self.assertNotIn("logUrl", e)

    def test_exception_type_is_qualified(self) -> None:
        e = kc.build_event("failure", ctx(FakeTI(state="failed"), raised(ClientError("denied"))), None, NOW)
        self.assertEqual(e["error"]["type"], "botocore.exceptions.ClientError")
        self.assertIn("botocore.exceptions.ClientError: denied", e["error"]["stack"])

        class Inner(Exception):
            pass

        self.assertEqual(kc.exception_type_name(Inner()), __name__ + ".BuildEventTest.test_exception_type_is_qualified.<locals>.Inner")
        self.assertEqual(kc.exception_type_name(KeyError("k")), "KeyError")

    def test_string_exception(self) -> None:
        e = kc.build_event("failure", ctx(FakeTI(state="failed"), "Task received SIGTERM signal"), None, NOW)
        self.assertEqual(e["error"], {"type": "Error", "message": "Task received SIGTERM signal"})

    def test_message_and_stack_cut(self) -> None:
        # 3-byte and 4-byte characters straddling the bound
        message = "é" + "€" * 12000 + "😀" * 100  # 36 KB: both bounds cut
        e = kc.build_event("failure", ctx(FakeTI(state="failed"), raised(RuntimeError(message))), None, NOW)
        m = e["error"]["message"]
        self.assertLessEqual(len(m.encode("utf-8")), kc.MESSAGE_MAX_BYTES)
        self.assertGreater(len(m.encode("utf-8")), kc.MESSAGE_MAX_BYTES - 4)
        self.assertTrue(m.startswith("é€€"))
        self.assertTrue(m.endswith("\u2026"))
        self.assertTrue(message.startswith(m[:-1]))
        s = e["error"]["stack"]
        self.assertLessEqual(len(s.encode("utf-8")), kc.STACK_MAX_BYTES)
        self.assertTrue(s.startswith("\u2026"))
        self.assertTrue(s.rstrip().endswith("😀"))  # the tail (the exception line) is kept
        # the whole event encodes as strict UTF-8 JSON
        json.loads(kc.encode_event(e).decode("utf-8", "strict"))

    def test_cut_on_code_points(self) -> None:
        for bound in range(0, 20):
            for s in ["a" * 30, "€" * 10, "😀" * 10, "a€😀" * 5]:
                for keep in ("head", "tail"):
                    c = kc.cut_utf8(s, bound, keep)
                    encoded = c.encode("utf-8")  # raises on a broken surrogate
                    self.assertLessEqual(len(encoded), max(bound, 3) if len(s.encode("utf-8")) > bound else bound, (s, bound, keep))
                    body = c.strip("\u2026")
                    self.assertTrue(s.startswith(body) if keep == "head" else s.endswith(body))
        self.assertEqual(kc.cut_utf8("short", 8), "short")

    def test_lone_surrogates_are_replaced(self) -> None:
        s = "ok \udcff and a pair \ud83d\ude00"
        c = kc.cut_utf8(s, 100)
        self.assertEqual(c, "ok \ufffd and a pair 😀")
        e = kc.build_event("failure", ctx(FakeTI(state="failed"), raised(ValueError(s))), None, NOW)
        kc.encode_event(e).decode("utf-8", "strict")

    def test_timestamp_is_utc_rfc3339(self) -> None:
        paris = dt.timezone(dt.timedelta(hours=1))
        e = kc.build_event("success", ctx(FakeTI()), None, dt.datetime(2026, 11, 28, 3, 4, 10, tzinfo=paris))
        self.assertEqual(e["timestamp"], "2026-11-28T02:04:10.000Z")
        self.assertRegex(kc.build_event("success", ctx(FakeTI()))["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_rejects_bad_input(self) -> None:
        with self.assertRaises(ValueError):
            kc.build_event("oops", ctx(FakeTI()), None, NOW)
        with self.assertRaises(ValueError):
            kc.build_event("success", {}, None, NOW)


class CallbackTest(unittest.TestCase):
    def setUp(self) -> None:
        self._send = kc.send_event

    def tearDown(self) -> None:
        kc.send_event = self._send

    def test_callbacks_send_bound_tags(self) -> None:
        sent: List[Dict[str, Any]] = []
        kc.send_event = sent.append
        args = kc.klaxon_default_args(tags={"team": "data"})
        self.assertEqual(set(args), {"on_failure_callback", "on_retry_callback", "on_success_callback"})
        args["on_retry_callback"](ctx(FakeTI(1, 2), raised(ValueError("x"))))
        args["on_failure_callback"](ctx(FakeTI(3, 2, "failed"), raised(ValueError("x"))))
        args["on_success_callback"](ctx(FakeTI(state="success")))
        self.assertEqual([(e["kind"], e.get("final")) for e in sent], [("error", False), ("error", True), ("success", None)])
        self.assertTrue(all(e["tags"] == {"team": "data"} for e in sent))

    def test_callback_swallows_a_producer_error(self) -> None:
        def broken(_event: Any) -> None:
            raise RuntimeError("broker unreachable")

        kc.send_event = broken
        with self.assertLogs("klaxon_callbacks", logging.WARNING) as logs:
            kc.on_failure_callback(ctx(FakeTI(state="failed"), raised(ValueError("x"))))
        self.assertIn("broker unreachable", "\n".join(logs.output))

    def test_callback_swallows_a_bad_context(self) -> None:
        kc.send_event = lambda _e: self.fail("nothing to send")
        with self.assertLogs("klaxon_callbacks", logging.ERROR):
            kc.on_success_callback({})

    def test_callback_swallows_missing_configuration(self) -> None:
        # The real send_event: no KLAXON_* variables and no Airflow: logged, not raised.
        kc.send_event = self._send
        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("KLAXON_")}
        try:
            with self.assertLogs("klaxon_callbacks", logging.WARNING) as logs:
                kc.on_retry_callback(ctx(FakeTI(), raised(ValueError("x"))))
            self.assertIn("KLAXON_BOOTSTRAP_SERVERS", "\n".join(logs.output))
        finally:
            os.environ.update(saved)


class ConfigTest(unittest.TestCase):
    def test_environment(self) -> None:
        c = kc.load_config({"KLAXON_BOOTSTRAP_SERVERS": "b-1:9098,b-2:9098", "KLAXON_TOPIC": "metrics", "AWS_REGION": "eu-west-1"})
        self.assertEqual((c["bootstrap_servers"], c["topic"], c["region"], c["auth"], c["send_timeout_seconds"]), ("b-1:9098,b-2:9098", "metrics", "eu-west-1", "iam", 5.0))
        c = kc.load_config({"KLAXON_BOOTSTRAP_SERVERS": "localhost:9092", "KLAXON_TOPIC": "m", "KLAXON_KAFKA_AUTH": "none", "KLAXON_SEND_TIMEOUT_SECONDS": "2"})
        self.assertEqual((c["auth"], c["send_timeout_seconds"]), ("none", 2.0))

    def test_missing(self) -> None:
        with self.assertRaises(RuntimeError):
            kc.load_config({})
        with self.assertRaises(RuntimeError):
            kc.load_config({"KLAXON_BOOTSTRAP_SERVERS": "b:9098", "KLAXON_TOPIC": "m"})  # iam without a region


class ConfluentSenderTest(unittest.TestCase):
    """_ConfluentSender against fake confluent_kafka and aws_msk_iam_sasl_signer modules."""

    def setUp(self) -> None:
        import types

        self.produced: List[Any] = []
        self.unacknowledged = 0
        self.delivery_error: Any = None
        test = self

        class Producer:
            def __init__(self, conf: Dict[str, Any]) -> None:
                test.conf = conf

            def produce(self, topic: str, key: bytes, value: bytes, on_delivery: Any) -> None:
                test.produced.append((topic, key, value))
                self._cb = on_delivery

            def flush(self, timeout: float) -> int:
                test.flush_timeout = timeout
                self._cb(test.delivery_error, None)
                return test.unacknowledged

        class MSKAuthTokenProvider:
            @staticmethod
            def generate_auth_token(region: str) -> Any:
                return "token-for-" + region, 1_800_000_000_000

        ck = types.ModuleType("confluent_kafka")
        ck.Producer = Producer  # type: ignore[attr-defined]
        signer = types.ModuleType("aws_msk_iam_sasl_signer")
        signer.MSKAuthTokenProvider = MSKAuthTokenProvider  # type: ignore[attr-defined]
        self._saved = {k: sys.modules.get(k) for k in ("confluent_kafka", "aws_msk_iam_sasl_signer")}
        sys.modules.update({"confluent_kafka": ck, "aws_msk_iam_sasl_signer": signer})

    def tearDown(self) -> None:
        for k, v in self._saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v

    def test_iam_producer(self) -> None:
        config = kc.load_config({"KLAXON_BOOTSTRAP_SERVERS": "b-1:9098", "KLAXON_TOPIC": "metrics", "AWS_REGION": "eu-west-1"})
        sender = kc._ConfluentSender(config)
        self.assertEqual(
            {k: v for k, v in self.conf.items() if k != "oauth_cb"},
            {"bootstrap.servers": "b-1:9098", "client.id": "klaxon-airflow", "acks": "all", "linger.ms": 0, "message.timeout.ms": 5000, "security.protocol": "SASL_SSL", "sasl.mechanisms": "OAUTHBEARER"},
        )
        self.assertEqual(self.conf["oauth_cb"](None), ("token-for-eu-west-1", 1_800_000_000))  # expiry in seconds
        e = fixture_events()[0]
        sender.send("metrics", kc.event_key(e), kc.encode_event(e), 5.0)
        self.assertEqual(self.produced, [("metrics", b"etl_daily/load_orders", kc.encode_event(e))])
        self.assertEqual(self.flush_timeout, 5.0)
        self.unacknowledged = 1
        with self.assertRaisesRegex(RuntimeError, "not acknowledged"):
            sender.send("metrics", "k", b"{}", 5.0)
        self.unacknowledged, self.delivery_error = 0, "Broker: Topic authorization failed"
        with self.assertRaisesRegex(RuntimeError, "authorization"):
            sender.send("metrics", "k", b"{}", 5.0)

    def test_plaintext_producer(self) -> None:
        kc._ConfluentSender(kc.load_config({"KLAXON_BOOTSTRAP_SERVERS": "localhost:9092", "KLAXON_TOPIC": "m", "KLAXON_KAFKA_AUTH": "none"}))
        self.assertNotIn("security.protocol", self.conf)
        self.assertNotIn("oauth_cb", self.conf)


class FixtureTest(unittest.TestCase):
    def test_fixture_is_what_the_module_produces(self) -> None:
        with open(FIXTURE, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        expected = fixture_events()
        self.assertEqual(len(lines), len(expected))
        for got, want in zip(lines, expected):
            # The stacks name this file's path and line numbers: compare their last line only.
            for e in (got, want):
                if "stack" in e.get("error", {}):
                    e["error"]["stack"] = e["error"]["stack"].rstrip().splitlines()[-1]
            self.assertEqual(got, want)


def write_fixture() -> None:
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w", encoding="utf-8") as f:
        for e in fixture_events():
            if "stack" in e.get("error", {}):
                # Portable: no absolute path of the machine that wrote it.
                e["error"]["stack"] = e["error"]["stack"].replace(os.path.dirname(os.path.abspath(__file__)) + os.sep, "")
            f.write(kc.encode_event(e).decode("utf-8") + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-fixture"]:
        write_fixture()
    else:
        unittest.main()
