// jose (panva/jose) as the signing side of tests/interop: reads one JSON
// request on standard input, writes one JSON answer on standard output
// (with --serve: one request per line, answered line by line).
//   {"op":"keygen","algs":[...]}  -> {ALG: {private_jwk, public_jwk, spki_pem} | {secret_b64u}}
//   {"op":"sign","jobs":[{"alg","key": private JWK | {"secret_b64u"}, "header", "payload"}]}
//       -> ["compact JWS", ...]   (payload: an object, or {"raw": "string"})
// Test-only; jose does the key generation and the signing, nothing here
// hand-builds a signature.
import * as jose from 'jose';

async function keygen(alg) {
  if (alg.startsWith('HS')) {
    const bytes = { HS256: 32, HS384: 48, HS512: 64 }[alg];
    const secret = crypto.getRandomValues(new Uint8Array(bytes));
    return { secret_b64u: jose.base64url.encode(secret) };
  }
  const opts = { extractable: true };
  if (alg === 'EdDSA') opts.crv = 'Ed25519';
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, opts);
  return {
    private_jwk: await jose.exportJWK(privateKey),
    public_jwk: await jose.exportJWK(publicKey),
    spki_pem: await jose.exportSPKI(publicKey),
  };
}

async function keyFor(alg, k) {
  if (k.secret_b64u) return jose.base64url.decode(k.secret_b64u);
  return jose.importJWK(k, alg);
}

async function sign(job) {
  const key = await keyFor(job.alg, job.key);
  const body = job.payload && typeof job.payload.raw === 'string'
    ? new TextEncoder().encode(job.payload.raw)
    : new TextEncoder().encode(JSON.stringify(job.payload));
  return new jose.CompactSign(body)
    .setProtectedHeader({ alg: job.alg, ...(job.header || {}) })
    .sign(key);
}

async function handle(req) {
  if (req.op === 'keygen') {
    const out = {};
    for (const alg of req.algs) out[alg] = await keygen(alg);
    return out;
  }
  if (req.op === 'sign') {
    const out = [];
    for (const job of req.jobs) out.push(await sign(job));
    return out;
  }
  throw new Error(`unknown op ${req.op}`);
}

if (process.argv[2] === '--serve') {
  // One request per line, one answer per line: a worker the tests keep
  // (starting Node per signature would cost ~0.3 s each).
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let answer;
    try {
      answer = { ok: await handle(JSON.parse(line)) };
    } catch (e) {
      answer = { error: String(e && e.stack || e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
} else {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  process.stdout.write(JSON.stringify(await handle(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
}
