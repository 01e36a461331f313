"""The Redis helpers of the end-to-end suites (fixtures in conftest.py): a
private redis-server (plain or TLS), a certificate authority made at test
time, and the "redis" config object for either."""
import datetime
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import revokd_fixtures as ic  # noqa: E402


class CertAuthority:
    """A certificate authority made at test time (python3-cryptography):
    issue() writes a key and a certificate signed by it into workdir."""

    def __init__(self, workdir, name="revokd test CA"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        self._x509, self._hashes, self._ser, self._ec = x509, hashes, serialization, ec
        self._oid = NameOID
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                                  False, False), True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = os.path.join(workdir, "ca.pem")
        with open(self.ca_file, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, stem, dns=("localhost",), ips=("127.0.0.1",), expired=False,
              client=False):
        """Writes stem.pem and stem.key; returns (cert_file, key_file)."""
        import ipaddress
        x509, ser = self._x509, self._ser
        key = self._ec.generate_private_key(self._ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        if expired:
            nb, na = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        else:
            nb, na = now - datetime.timedelta(days=1), now + datetime.timedelta(days=10)
        sans = [x509.DNSName(d) for d in dns] + \
            [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        eku = x509.oid.ExtendedKeyUsageOID
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(self._oid.COMMON_NAME, stem)]))
             .issuer_name(self.cert.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.ExtendedKeyUsage(
                 [eku.CLIENT_AUTH] if client else [eku.SERVER_AUTH, eku.CLIENT_AUTH]), False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), False)
        cert = b.sign(self.key, self._hashes.SHA256())
        cf = os.path.join(self.workdir, stem + ".pem")
        kf = os.path.join(self.workdir, stem + ".key")
        with open(cf, "wb") as f:
            f.write(cert.public_bytes(ser.Encoding.PEM))
        with open(kf, "wb") as f:
            f.write(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                      ser.NoEncryption()))
        os.chmod(kf, 0o600)
        return cf, kf


class Redis:
    """A private redis-server on a loopback port, no persistence; stop()
    and start() keep the port (an outage, then the same server back).
    With tls (a CertAuthority), it also listens with TLS on tls_port (its
    certificate from that CA, or the given cert/key); self.url is then the
    rediss:// URL and the plaintext port stays for the test's redis-cli."""

    def __init__(self, workdir, tls=None, cert=None, auth_clients=False, args=()):
        self.port = ic.free_port()
        self.workdir = workdir
        self.tls = tls
        self.args = list(args)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        if tls:
            self.tls_port = ic.free_port()
            self.cert = cert or tls.issue("redis-server")
            self.auth_clients = auth_clients
            self.url = f"rediss://127.0.0.1:{self.tls_port}/0"
        self.proc = None
        self.start()

    def start(self):
        log = open(os.path.join(self.workdir, "redis.log"), "ab")
        args = ["redis-server", "--save", "", "--appendonly", "no",
                "--port", str(self.port), "--bind", "127.0.0.1", *self.args]
        if self.tls:
            args += ["--tls-port", str(self.tls_port),
                     "--tls-cert-file", self.cert[0], "--tls-key-file", self.cert[1],
                     "--tls-ca-cert-file", self.tls.ca_file,
                     "--tls-auth-clients", "yes" if self.auth_clients else "no"]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.workdir)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout


def tls_config(redis, **over):
    """The redis config object for a Redis fixture (TLS: its CA)."""
    cfg = {"url": redis.url}
    if redis.tls:
        cfg["tls"] = {"ca_file": redis.tls.ca_file}
    cfg.update(over)
    return cfg
