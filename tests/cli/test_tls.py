"""TLS: verification failures are not transient (one attempt, a hint naming --ca-bundle and
--insecure), and a CA bundle that is missing or not one is a usage error before any request.

The server is a small real HTTPS server on 127.0.0.1 with a certificate from a throwaway CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from testing.cli import assert_one_line_error, run_cli
from testing.fake_server import Answer

KEY = "API-TLSTLSTLS0000000000000000000"
PROMOTE = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(ca, fake_server):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return fake_server({"/api/Spaces-1/projects": Answer.json({"Items": []})}, ssl_context=context)


@pytest.fixture
def ca_bundle(ca, tmp_path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def test_an_unverifiable_certificate_fails_at_once_with_a_hint(capsys, https_server):
    run = run_cli(capsys, *PROMOTE, "--server", https_server.url, "--api-key", KEY)
    assert_one_line_error(run, 6, f"The TLS certificate of {https_server.url} could not be verified")
    hint = run.err.splitlines()[-1]
    assert "--ca-bundle" in hint and "--insecure" in hint
    assert https_server.connections == 1  # not retried


def test_the_ca_bundle_makes_it_verifiable(capsys, https_server, ca_bundle):
    run = run_cli(capsys, *PROMOTE, "--server", https_server.url, "--api-key", KEY, "--ca-bundle", str(ca_bundle))
    assert_one_line_error(run, 3, "Project 'Web' not found")  # past TLS, to the (fake) server's answers


def test_octopus_ca_bundle_is_read_too(capsys, https_server, ca_bundle, monkeypatch):
    monkeypatch.setenv("OCTOPUS_CA_BUNDLE", str(ca_bundle))
    run = run_cli(capsys, *PROMOTE, "--server", https_server.url, "--api-key", KEY)
    assert run.code == 3


def test_insecure_skips_verification_and_warns(capsys, https_server):
    run = run_cli(capsys, *PROMOTE, "--server", https_server.url, "--api-key", KEY, "--insecure")
    assert run.code == 3
    assert "Warning: TLS certificate verification is off (--insecure)." in run.err


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "does not exist"), (b"", "holds no usable CA certificate"),
     (b"not a certificate\n", "holds no usable CA certificate"),
     (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "holds no usable CA certificate")],
    ids=["missing", "empty", "text", "bad-pem"],
)
def test_a_missing_or_wrong_ca_bundle_is_a_usage_error_before_any_request(capsys, https_server, tmp_path,
                                                                          content, words):
    path = tmp_path / "bundle.pem"
    if content is not None:
        path.write_bytes(content)
    run = run_cli(capsys, *PROMOTE, "--server", https_server.url, "--api-key", KEY, "--ca-bundle", str(path))
    assert_one_line_error(run, 2, f"The CA bundle {path}", words)
    assert https_server.connections == 0


def test_https_to_a_plain_http_port_is_not_retried(capsys, fake_server):
    server = fake_server({})
    run = run_cli(capsys, *PROMOTE, "--server", server.url.replace("http://", "https://"), "--api-key", KEY)
    assert_one_line_error(run, 6, "The TLS handshake with https://127.0.0.1")
    assert server.connections == 1
