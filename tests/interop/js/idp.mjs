// An oidc-provider instance on a loopback port, for tests/interop/test_oidc_provider.py.
// Argument: JSON {port, keys: [private JWKs, the first signs], alg,
// backchannel_logout_uri}. Prints "ready" when it listens. Test-only.
import Provider from 'oidc-provider';

const cfg = JSON.parse(process.argv[2]);
const iss = `http://127.0.0.1:${cfg.port}`;

const provider = new Provider(iss, {
  jwks: { keys: cfg.keys },
  clients: [{
    client_id: 'app',
    client_secret: 'app-secret-0123456789',
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/cb'],
    grant_types: ['authorization_code', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: cfg.alg,
    backchannel_logout_uri: cfg.backchannel_logout_uri,
    backchannel_logout_session_required: true,
  }],
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://orders.test/',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: 'orders-api',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: cfg.alg } },
      }),
    },
  },
  // The documented hook for claims of JWT access tokens: the session's sid,
  // so that a back-channel logout of the session denies them.
  extraTokenClaims: (ctx, token) => (token.sid ? { sid: token.sid } : undefined),
  scopes: ['openid', 'read'],
  ttl: { IdToken: 600, AccessToken: 600, Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60 },
});
provider.on('backchannel.error', (ctx, err) => console.error('backchannel.error', err.message));
provider.on('backchannel.success', () => console.error('backchannel.success'));
provider.listen(cfg.port, '127.0.0.1', () => console.log('ready'));
