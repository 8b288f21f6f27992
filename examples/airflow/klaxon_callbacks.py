"""Airflow task callbacks that send error and success events to Klaxon.

Klaxon reads job events from the same MSK topic as metric samples, told apart by ``kind``
(shared/core/events/types.ts). This module builds those events from Airflow's callback
``context`` and produces them, keyed ``dag_id/task_id`` so that one task's events stay on one
partition, in order::

    from klaxon_callbacks import klaxon_default_args

    with DAG(..., default_args={"retries": 2, **klaxon_default_args(tags={"team": "data"})}):
        ...

Dependencies: the standard library, plus at send time either ``confluent-kafka`` (preferred) or
``kafka-python``, and ``aws-msk-iam-sasl-signer-python`` for MSK IAM authentication. All of them
are imported lazily, so ``build_event`` works (and is tested) without Kafka or Airflow installed.

Configuration, read at the first send (environment variables first, then the Airflow Variable
``klaxon`` holding a JSON object with the lower-case keys in brackets):

- ``KLAXON_BOOTSTRAP_SERVERS`` (``bootstrap_servers``): the MSK IAM brokers, ``host:9098,...``.
- ``KLAXON_TOPIC`` (``topic``): the topic Klaxon reads.
- ``KLAXON_AWS_REGION`` (``region``), else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``: the
  region of the cluster, for the IAM token.
- ``KLAXON_KAFKA_AUTH`` (``auth``): ``iam`` (default: SASL_SSL with OAUTHBEARER tokens from
  ``aws-msk-iam-sasl-signer-python``) or ``none`` (PLAINTEXT, for a local broker).
- ``KLAXON_SEND_TIMEOUT_SECONDS`` (``send_timeout_seconds``): how long a callback waits for the
  broker's acknowledgement (default 5).

A callback never raises into Airflow: a failure to build or send is logged and swallowed, and a
send never waits longer than the timeout.

Python >= 3.8.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import os
import threading
import traceback
from typing import Any, Callable, Dict, Mapping, Optional

log = logging.getLogger(__name__)

SOURCE = "airflow"
#: Bounds of the strings sent, in UTF-8 bytes (cut on code points, never mid-character).
MESSAGE_MAX_BYTES = 8 * 1024
STACK_MAX_BYTES = 32 * 1024
DEFAULT_SEND_TIMEOUT_SECONDS = 5.0
_ELLIPSIS = "\u2026"

# ---------------------------------------------------------------------------------------------
# Building events (pure: no Kafka, no Airflow)
# ---------------------------------------------------------------------------------------------


def _clean(s: str) -> str:
    """``s`` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD.

    A Python str is a sequence of code points and may hold lone surrogates (bytes decoded with
    ``surrogateescape``, text from JSON with ``\\ud83d`` escapes); those cannot be encoded as UTF-8.
    """
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def cut_utf8(s: str, max_bytes: int, keep: str = "head") -> str:
    """``s`` cut so that its UTF-8 encoding is at most ``max_bytes`` bytes.

    The cut is on code points (a multi-byte character is kept whole or dropped), and marked with
    an ellipsis (U+2026, counted in the bound). ``keep="head"`` keeps the beginning (a message);
    ``keep="tail"`` keeps the end (a Python traceback, whose last lines name the error).
    """
    s = _clean(s)
    data = s.encode("utf-8")
    if len(data) <= max_bytes:
        return s
    budget = max(0, max_bytes - len(_ELLIPSIS.encode("utf-8")))
    if keep == "tail":
        # Dropping a partial leading sequence: 'ignore' drops only the continuation bytes cut off.
        return _ELLIPSIS + data[len(data) - budget :].decode("utf-8", "ignore")
    return data[:budget].decode("utf-8", "ignore") + _ELLIPSIS


def rfc3339(t: _dt.datetime) -> str:
    """UTC RFC 3339 with milliseconds: ``2026-11-28T02:04:10.000Z`` (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    t = t.astimezone(_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (t.microsecond // 1000)


def exception_type_name(exc: BaseException) -> str:
    """The qualified class name (``botocore.exceptions.ClientError``); builtins bare (``TimeoutError``)."""
    cls = type(exc)
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in (None, "builtins", "__builtin__") else "%s.%s" % (module, name)


def _error_of(exception: Any) -> Dict[str, str]:
    if isinstance(exception, BaseException):
        error = {"type": exception_type_name(exception), "message": cut_utf8(str(exception), MESSAGE_MAX_BYTES)}
        stack = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
        if stack:
            error["stack"] = cut_utf8(stack, STACK_MAX_BYTES, keep="tail")
        return error
    # Airflow passes a string when the failure is not an exception of the task (a zombie or
    # externally killed task detected by the scheduler), or nothing at all.
    message = "" if exception is None else str(exception)
    return {"type": "Error", "message": cut_utf8(message or "task failed", MESSAGE_MAX_BYTES)}


def _attempt(ti: Any) -> Optional[int]:
    """The 1-based attempt that just ran.

    Airflow < 2.10 stores it in the ``_try_number`` column and its ``try_number`` property reads
    one ahead whenever the task is not RUNNING, which it no longer is in a callback (the state is
    already SUCCESS, UP_FOR_RETRY or FAILED). Airflow >= 2.10 (the scheduler increments
    ``try_number`` when it schedules a try) and Airflow 3 have no ``_try_number`` and
    ``try_number`` is the attempt itself.
    """
    raw = getattr(ti, "_try_number", None)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    n = getattr(ti, "try_number", None)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None


def _str_attr(obj: Any, name: str) -> Optional[str]:
    try:
        v = getattr(obj, name, None)
    except Exception:  # a property needing configuration (log_url reads the webserver's base_url)
        return None
    return v if isinstance(v, str) and v else None


def build_event(
    kind: str,
    context: Mapping[str, Any],
    tags: Optional[Mapping[str, Any]] = None,
    now: Optional[_dt.datetime] = None,
) -> Dict[str, Any]:
    """The Klaxon event (a JSON-ready dict) for an Airflow callback ``context``.

    ``kind`` is ``"retry"`` (an error, ``final: false``), ``"failure"`` (an error, ``final: true``)
    or ``"success"``. ``context["ti"]`` (or ``context["task_instance"]``) is only read through
    attributes: ``dag_id``, ``task_id``, ``run_id``, ``try_number``, ``max_tries``, ``log_url``,
    ``state``. ``now`` defaults to the current UTC time.
    """
    if kind not in ("retry", "failure", "success"):
        raise ValueError("kind must be retry, failure or success, not %r" % (kind,))
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        raise ValueError("context has no task instance (ti)")
    dag_id = _str_attr(ti, "dag_id") or _str_attr(context.get("dag"), "dag_id")
    task_id = _str_attr(ti, "task_id")
    if not dag_id or not task_id:
        raise ValueError("task instance has no dag_id or task_id")
    run_id = _str_attr(ti, "run_id") or (context.get("run_id") if isinstance(context.get("run_id"), str) else None)

    event: Dict[str, Any] = {
        "kind": "success" if kind == "success" else "error",
        "source": SOURCE,
        "service": dag_id,
        "task": task_id,
    }
    if run_id:
        event["run"] = run_id
    if kind != "success":
        attempt = _attempt(ti)
        if attempt is not None:
            event["try"] = attempt
        max_tries = getattr(ti, "max_tries", None)
        if isinstance(max_tries, int) and not isinstance(max_tries, bool) and max_tries >= 0:
            # Airflow's max_tries counts the retries (task.retries, raised by a clear so that the
            # cleared task gets its retries again): the last attempt allowed is max_tries + 1.
            event["maxTries"] = max_tries + 1
        # on_retry_callback runs when the task goes UP_FOR_RETRY, on_failure_callback when it goes
        # FAILED (no retry left, or failed for good). Some Airflow 2 versions were reported to run
        # on_failure_callback for a zombie task going up for retry (apache/airflow#33855): the
        # state says so.
        state = getattr(ti, "state", None)
        state = getattr(state, "value", state)  # TaskInstanceState is a str Enum
        event["final"] = kind == "failure" and str(state or "").lower() != "up_for_retry"
        event["error"] = _error_of(context.get("exception"))
        log_url = _str_attr(ti, "log_url")
        if log_url:
            event["logUrl"] = log_url
    if tags:
        event["tags"] = {str(k): str(v) for k, v in tags.items()}
    event["timestamp"] = rfc3339(now or _dt.datetime.now(_dt.timezone.utc))
    return event


def event_key(event: Mapping[str, Any]) -> str:
    """The Kafka key: ``service/task``, so that one task's events stay on one partition, in order."""
    return "%s/%s" % (event["service"], event["task"])


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The record value: compact JSON, UTF-8 (no ASCII escaping)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Configuration and sending
# ---------------------------------------------------------------------------------------------


def load_config(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The producer configuration: environment variables, else the Airflow Variable ``klaxon``."""
    env = os.environ if environ is None else environ
    config: Dict[str, Any] = {
        "bootstrap_servers": env.get("KLAXON_BOOTSTRAP_SERVERS"),
        "topic": env.get("KLAXON_TOPIC"),
        "region": env.get("KLAXON_AWS_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        "auth": env.get("KLAXON_KAFKA_AUTH"),
        "send_timeout_seconds": env.get("KLAXON_SEND_TIMEOUT_SECONDS"),
    }
    if not config["bootstrap_servers"] or not config["topic"]:
        try:
            from airflow.models import Variable  # lazily: only inside Airflow

            stored = Variable.get("klaxon", default_var=None, deserialize_json=True) or {}
        except Exception as e:  # no Airflow, no metadata database, bad JSON
            log.debug("klaxon: Airflow Variable 'klaxon' not read: %s", e)
            stored = {}
        for k, v in stored.items():
            if config.get(k) in (None, ""):
                config[k] = v
    config["auth"] = (config.get("auth") or "iam").lower()
    try:
        config["send_timeout_seconds"] = float(config.get("send_timeout_seconds") or DEFAULT_SEND_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        config["send_timeout_seconds"] = DEFAULT_SEND_TIMEOUT_SECONDS
    if not config.get("bootstrap_servers") or not config.get("topic"):
        raise RuntimeError("klaxon: set KLAXON_BOOTSTRAP_SERVERS and KLAXON_TOPIC (or the Airflow Variable 'klaxon')")
    if config["auth"] == "iam" and not config.get("region"):
        raise RuntimeError("klaxon: set KLAXON_AWS_REGION (or AWS_REGION) for MSK IAM authentication")
    if config["auth"] not in ("iam", "none"):
        raise RuntimeError("klaxon: KLAXON_KAFKA_AUTH must be iam or none, not %r" % (config["auth"],))
    return config


class _ConfluentSender:
    def __init__(self, config: Mapping[str, Any]) -> None:
        from confluent_kafka import Producer

        conf: Dict[str, Any] = {
            "bootstrap.servers": config["bootstrap_servers"],
            "client.id": "klaxon-airflow",
            "acks": "all",
            "linger.ms": 0,
            # A record not delivered by then fails instead of waiting in the queue.
            "message.timeout.ms": int(config["send_timeout_seconds"] * 1000),
        }
        if config["auth"] == "iam":
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

            region = config["region"]

            def oauth_cb(_oauth_config: Any) -> Any:
                token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
                return token, expiry_ms / 1000  # confluent-kafka wants the expiry in seconds

            conf.update({"security.protocol": "SASL_SSL", "sasl.mechanisms": "OAUTHBEARER", "oauth_cb": oauth_cb})
        self._producer = Producer(conf)

    def send(self, topic: str, key: str, value: bytes, timeout: float) -> None:
        errors = []

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(err)

        self._producer.produce(topic, key=key.encode("utf-8"), value=value, on_delivery=on_delivery)
        remaining = self._producer.flush(timeout)
        if remaining:
            raise RuntimeError("not acknowledged within %.1f s" % timeout)
        if errors:
            raise RuntimeError("delivery failed: %s" % errors[0])


class _KafkaPythonSender:
    def __init__(self, config: Mapping[str, Any]) -> None:
        from kafka import KafkaProducer

        timeout_ms = int(config["send_timeout_seconds"] * 1000)
        kwargs: Dict[str, Any] = {
            "bootstrap_servers": config["bootstrap_servers"].split(","),
            "client_id": "klaxon-airflow",
            "acks": "all",
            "max_block_ms": timeout_ms,  # bounds the metadata fetch of send()
            "request_timeout_ms": max(timeout_ms, 1000),
        }
        if config["auth"] == "iam":
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

            try:
                from kafka.sasl.oauth import AbstractTokenProvider  # kafka-python >= 2.1
            except ImportError:
                try:
                    from kafka.oauth.abstract import AbstractTokenProvider  # kafka-python 2.0
                except ImportError:
                    AbstractTokenProvider = object  # duck-typed: token() is all it calls

            region = config["region"]

            class _TokenProvider(AbstractTokenProvider):
                def token(self) -> str:
                    token, _expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
                    return token

            kwargs.update(
                {"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_provider": _TokenProvider()}
            )
        self._producer = KafkaProducer(**kwargs)

    def send(self, topic: str, key: str, value: bytes, timeout: float) -> None:
        self._producer.send(topic, key=key.encode("utf-8"), value=value).get(timeout=timeout)


_sender_lock = threading.Lock()
_sender: Any = None
_sender_config: Optional[Dict[str, Any]] = None


def _get_sender() -> Any:
    """One producer per process, created at the first send (confluent-kafka, else kafka-python)."""
    global _sender, _sender_config
    with _sender_lock:
        if _sender is None:
            config = load_config()
            try:
                import confluent_kafka  # noqa: F401
            except ImportError:
                _sender = _KafkaPythonSender(config)
            else:
                _sender = _ConfluentSender(config)
            _sender_config = config
        return _sender


def send_event(event: Mapping[str, Any]) -> None:
    """Produce ``event``, waiting at most the send timeout for the acknowledgement. Raises on failure."""
    sender = _get_sender()
    assert _sender_config is not None
    sender.send(_sender_config["topic"], event_key(event), encode_event(event), _sender_config["send_timeout_seconds"])


# ---------------------------------------------------------------------------------------------
# Airflow callbacks
# ---------------------------------------------------------------------------------------------


def _notify(kind: str, context: Mapping[str, Any], tags: Optional[Mapping[str, Any]], send: Callable[[Mapping[str, Any]], None]) -> None:
    """Build and send; never raises (a callback's exception must not reach Airflow)."""
    try:
        event = build_event(kind, context, tags)
    except Exception:
        log.exception("klaxon: %s event not built", kind)
        return
    try:
        send(event)
    except Exception as e:
        log.warning("klaxon: %s event for %s not sent: %s", event["kind"], event_key(event), e)


def on_failure_callback(context: Mapping[str, Any], tags: Optional[Mapping[str, Any]] = None) -> None:
    """Airflow's on_failure_callback: the task failed and will not be retried (``final: true``)."""
    _notify("failure", context, tags, send_event)


def on_retry_callback(context: Mapping[str, Any], tags: Optional[Mapping[str, Any]] = None) -> None:
    """Airflow's on_retry_callback: the task failed and goes up for retry (``final: false``)."""
    _notify("retry", context, tags, send_event)


def on_success_callback(context: Mapping[str, Any], tags: Optional[Mapping[str, Any]] = None) -> None:
    """Airflow's on_success_callback: the task succeeded (resolves its error alerts)."""
    _notify("success", context, tags, send_event)


def klaxon_default_args(tags: Optional[Mapping[str, Any]] = None) -> Dict[str, Callable[[Mapping[str, Any]], None]]:
    """The three callbacks, bound to ``tags``, to merge into a DAG's ``default_args``."""
    bound = {str(k): str(v) for k, v in (tags or {}).items()}
    return {
        "on_failure_callback": functools.partial(on_failure_callback, tags=bound),
        "on_retry_callback": functools.partial(on_retry_callback, tags=bound),
        "on_success_callback": functools.partial(on_success_callback, tags=bound),
    }
