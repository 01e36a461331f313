// openid-client and oauth4webapi (both certified OAuth 2.0 / OpenID
// clients) as RFC 7662 introspection and RFC 7009 revocation clients of
// revokd. Standard input: {"jobs": [{"lib": "openid-client"|"oauth4webapi",
// "auth": "basic"|"post", "base", "client_id", "secret",
// "op": "introspect"|"revoke", "token"}]}; standard output: one
// {"ok": result} or {"error": {...}} per job. Test-only.
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { jobs } = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function metadata(base) {
  return {
    issuer: base,
    introspection_endpoint: `${base}/v1/introspect`,
    revocation_endpoint: `${base}/v1/revoke`,
  };
}

async function withOpenidClient(job) {
  const auth = job.auth === 'basic'
    ? client.ClientSecretBasic(job.secret) : client.ClientSecretPost(job.secret);
  const config = new client.Configuration(metadata(job.base), job.client_id, undefined, auth);
  client.allowInsecureRequests(config);   // plain http, loopback only
  if (job.op === 'introspect') return client.tokenIntrospection(config, job.token);
  await client.tokenRevocation(config, job.token);
  return 'revoked';
}

async function withOauth4webapi(job) {
  const as = metadata(job.base);
  const c = { client_id: job.client_id };
  const auth = job.auth === 'basic'
    ? oauth.ClientSecretBasic(job.secret) : oauth.ClientSecretPost(job.secret);
  const opts = { [oauth.allowInsecureRequests]: true };
  if (job.op === 'introspect') {
    const res = await oauth.introspectionRequest(as, c, auth, job.token, opts);
    return oauth.processIntrospectionResponse(as, c, res);
  }
  const res = await oauth.revocationRequest(as, c, auth, job.token, opts);
  await oauth.processRevocationResponse(res);
  return 'revoked';
}

const out = [];
for (const job of jobs) {
  try {
    const r = job.lib === 'openid-client' ? await withOpenidClient(job) : await withOauth4webapi(job);
    out.push({ ok: r });
  } catch (e) {
    out.push({ error: { name: e.name, code: e.code, message: e.message,
                        status: e.status ?? e.cause?.status ?? null,
                        www: e.response?.headers?.get?.('www-authenticate') ?? null } });
  }
}
process.stdout.write(JSON.stringify(out));
