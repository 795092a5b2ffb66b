/**
 * CI identity by OIDC: GitHub Actions and GitLab CI ID tokens as bearer tokens on /v1, verified
 * against a local JWKS server with keys made here, and mapped to projects by claim rules. Every
 * answer also goes through the OpenAPI check of `platform.http()`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import { createOidcVerifier, globToRegExp, grantOf, looksLikeJwt, subjectOf } from '../../api/oidc';
import { freePort } from '../../scripts/lib/processes';
import { parseCiIdentities, type CiIdentityRule } from '../../shared/config/oidc';
import { listen } from '../../shared/listen';
import { createLogger } from '../../shared/logger';
import { deploymentBody, startTestPlatform, type TestPlatform } from '../helpers/platform';

type Jose = typeof JoseModule;
type SigningKey = JoseModule.CryptoKey | Uint8Array;

const AUDIENCE = 'https://deploy.test.example';
const GITHUB_CLAIMS = {
  sub: 'repo:acme/payments:ref:refs/heads/main',
  repository: 'acme/payments',
  repository_owner: 'acme',
  repository_id: '4711',
  ref: 'refs/heads/main',
  ref_type: 'branch',
  workflow: 'deploy',
  run_id: '123456',
};
const GITLAB_CLAIMS = {
  sub: 'project_path:acme/platform/ledger:ref_type:branch:ref:main',
  project_path: 'acme/platform/ledger',
  namespace_path: 'acme/platform',
  ref: 'main',
  ref_type: 'branch',
  ref_protected: 'true',
  pipeline_id: '98765',
};

let jose: Jose;
let platform: TestPlatform;
let jwksServer: Server;
let base: string;
let dir: string;
let keys: { github: JoseModule.CryptoKey; gitlab: JoseModule.CryptoKey; stranger: JoseModule.CryptoKey };
const served = { githubKeys: 0, gitlabDiscovery: 0, gitlabKeys: 0 };

interface TokenOptions {
  issuer?: string;
  audience?: string;
  alg?: 'RS256' | 'ES256' | 'HS256';
  kid?: string;
  key?: SigningKey;
  /** Seconds from now. */
  expiresIn?: number;
  notBefore?: number;
}

const now = (): number => Math.floor(Date.now() / 1000);

async function githubToken(claims: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
  return sign({ ...GITHUB_CLAIMS, ...claims }, { issuer: `${base}/github`, alg: 'RS256', kid: 'gh-1', key: keys.github, ...options });
}

async function gitlabToken(claims: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
  return sign({ ...GITLAB_CLAIMS, ...claims }, { issuer: `${base}/gitlab`, alg: 'ES256', kid: 'gl-1', key: keys.gitlab, ...options });
}

async function sign(claims: Record<string, unknown>, options: TokenOptions): Promise<string> {
  const jwt = new jose.SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuer(options.issuer ?? `${base}/github`)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setJti(`jti-${Math.random()}`)
    .setExpirationTime(now() + (options.expiresIn ?? 300));
  if (options.notBefore !== undefined) jwt.setNotBefore(now() + options.notBefore);
  return jwt.sign(options.key ?? keys.github);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

before(async () => {
  jose = await import('jose');
  const github = await jose.generateKeyPair('RS256');
  const gitlab = await jose.generateKeyPair('ES256');
  const stranger = await jose.generateKeyPair('RS256');
  keys = { github: github.privateKey, gitlab: gitlab.privateKey, stranger: stranger.privateKey };
  const githubJwks = { keys: [{ ...(await jose.exportJWK(github.publicKey)), kid: 'gh-1', alg: 'RS256', use: 'sig' }] };
  const gitlabJwks = { keys: [{ ...(await jose.exportJWK(gitlab.publicKey)), kid: 'gl-1', alg: 'ES256', use: 'sig' }] };

  jwksServer = createServer((req, res) => {
    const send = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/github/.well-known/jwks') {
      served.githubKeys++;
      send(githubJwks);
    } else if (req.url === '/gitlab/.well-known/openid-configuration') {
      served.gitlabDiscovery++;
      send({ issuer: `${base}/gitlab`, jwks_uri: `${base}/gitlab/oauth/discovery/keys` });
    } else if (req.url === '/gitlab/oauth/discovery/keys') {
      served.gitlabKeys++;
      send(gitlabJwks);
    } else {
      res.writeHead(404).end();
    }
  });
  // The handler reads `base` per request; the port is known once bound.
  base = `http://127.0.0.1:${(await listen(jwksServer, 0, '127.0.0.1')).port}`;

  // Nothing listens on this port: the key set (and discovery) of `down` and `lost` cannot be fetched.
  const closed = `http://127.0.0.1:${await freePort()}`;
  dir = mkdtempSync(join(tmpdir(), 'platform-oidc-'));
  const file = join(dir, 'ci-identities.yaml');
  writeFileSync(
    file,
    `
clockTolerance: 30s
timeout: 2s
issuers:
  - name: github
    issuer: ${base}/github
    audience: ${AUDIENCE}
    jwksUri: ${base}/github/.well-known/jwks
  - name: gitlab
    issuer: ${base}/gitlab
    audience: [${AUDIENCE}, https://other.example]
  - name: down
    issuer: ${closed}/down
    audience: ${AUDIENCE}
    jwksUri: ${closed}/down/jwks
  - name: lost
    issuer: ${closed}/lost
    audience: ${AUDIENCE}
rules:
  - issuer: github
    claims: { repository: acme/payments, ref: refs/heads/main }
    projects: [payments]
  - issuer: gitlab
    claims: { project_path: acme/platform/*, ref: [main, release/*], ref_protected: "true" }
    projects: [payments]
  - issuer: down
    claims: { repository: acme/* }
    projects: [payments]
  - issuer: lost
    claims: { repository: acme/* }
    projects: [payments]
`,
  );
  platform = await startTestPlatform({ env: { PLATFORM_CI_IDENTITIES_FILE: file } });
});

after(async () => {
  await platform?.stop();
  await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('CI identity by OIDC: accepted tokens', () => {
  it('when a GitHub Actions token of a repository a rule names deploys its project, then 202 and the run names the repository as requester', async () => {
    const token = await githubToken();
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'oidc-gh', route: { host: 'oidc-gh.payments.example.com', path: '/' } }), { token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const done = await platform.waitForStatus(res.body.deploymentId, ['succeeded', 'failed'], 180_000);
    assert.equal(done.requestedBy, 'github:acme/payments@refs/heads/main');
    const read = await platform.http('GET', `/v1/deployments/${res.body.deploymentId}`, undefined, { token });
    assert.equal(read.status, 200);
  });

  it('when the GitHub token deploys a project no rule gives it, then 403 naming the identity', async () => {
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ project: 'orders', service: 'oidc-gh' }), { token: await githubToken() });
    assert.equal(res.status, 403);
    assert.match(res.body.detail, /github:acme\/payments@refs\/heads\/main may not deploy project "orders"/);
  });

  it('when a GitLab CI token (ES256, keys found by discovery) deploys its project, then 202; another project 403', async () => {
    const token = await gitlabToken();
    const res = await platform.http('POST', '/v1/deployments', deploymentBody({ service: 'oidc-gl', route: { host: 'oidc-gl.payments.example.com', path: '/' } }), { token });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const done = await platform.waitForStatus(res.body.deploymentId, ['succeeded', 'failed'], 180_000);
    assert.equal(done.requestedBy, 'gitlab:acme/platform/ledger@main');
    const other = await platform.http('GET', '/v1/deployments?project=orders', undefined, { token });
    assert.equal(other.status, 403);
    assert.match(other.body.detail, /gitlab:acme\/platform\/ledger@main/);
    assert.equal(served.gitlabDiscovery, 1, 'the discovery document is read once');
  });

  it('when a rule lists alternatives and globs, then a release branch matches too', async () => {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: await gitlabToken({ ref: 'release/2.3' }) });
    assert.equal(res.status, 200);
  });

  it('when a token expired a few seconds ago, within the clock tolerance, then it is still accepted', async () => {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: await githubToken({}, { expiresIn: -5 }) });
    assert.equal(res.status, 200);
  });

  it('when many requests come with tokens of one issuer, then its keys are fetched once and reused', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: await githubToken() });
      assert.equal(res.status, 200);
    }
    assert.equal(served.githubKeys, 1);
  });
});

describe('CI identity by OIDC: refused tokens', () => {
  async function refused(token: string, status: number, detail: RegExp): Promise<void> {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token });
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.body.detail, detail);
    assert.ok(!JSON.stringify(res.body).includes(token), 'the answer never repeats the token');
    if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  }

  it('when the audience is another one, then 401 naming the audience to request', async () => {
    await refused(await githubToken({}, { audience: 'https://somebody-else.example' }), 401, /another audience: request it with audience "https:\/\/deploy\.test\.example"/);
  });

  it('when the issuer is not trusted, then 401', async () => {
    await refused(await githubToken({}, { issuer: 'https://token.actions.githubusercontent.com.evil.example' }), 401, /issuer "https:\/\/token\.actions\.githubusercontent\.com\.evil\.example" is not trusted/);
  });

  it('when the token has expired beyond the clock tolerance, then 401', async () => {
    await refused(await githubToken({}, { expiresIn: -120 }), 401, /has expired/);
  });

  it('when the token is not valid yet, then 401', async () => {
    await refused(await githubToken({}, { notBefore: 120 }), 401, /not valid yet/);
  });

  it('when the signature is made with another key under a known kid, then 401', async () => {
    await refused(await githubToken({}, { key: keys.stranger }), 401, /signature .* does not verify with github's keys/);
  });

  it('when a token of one issuer is signed with another issuer\'s key, then 401', async () => {
    await refused(await githubToken({}, { key: keys.gitlab, alg: 'ES256', kid: 'gh-1' }), 401, /does not verify|no signing key/);
  });

  it('when the kid is unknown, then 401 naming it', async () => {
    await refused(await githubToken({}, { key: keys.stranger, kid: 'gh-rotated-away' }), 401, /github has no signing key with kid "gh-rotated-away"/);
  });

  it('when the token is unsigned (alg none), then 401', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...GITHUB_CLAIMS, iss: `${base}/github`, aud: AUDIENCE, exp: now() + 300 })}.`;
    await refused(token, 401, /must be signed with RS256 or ES256; this one says alg "none"/);
  });

  it('when the token is signed with HS256 (a shared secret), then 401', async () => {
    const token = await githubToken({}, { alg: 'HS256', key: new TextEncoder().encode('a-secret-anyone-could-guess-000000') });
    await refused(token, 401, /alg "HS256"/);
  });

  it('when a token has no exp, then 401', async () => {
    const claims = { ...GITHUB_CLAIMS, iss: `${base}/github`, aud: AUDIENCE, iat: now() };
    const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'gh-1' }).sign(keys.github);
    await refused(token, 401, /"exp" claim/);
  });

  it('when a valid token\'s claims match no rule, then 403 naming the identity', async () => {
    await refused(await githubToken({ repository: 'acme/other', sub: 'repo:acme/other:ref:refs/heads/main' }), 403, /no CI identity rule grants github:acme\/other@refs\/heads\/main anything/);
    await refused(await githubToken({ ref: 'refs/heads/feature' }), 403, /github:acme\/payments@refs\/heads\/feature/);
    await refused(await gitlabToken({ ref_protected: 'false' }), 403, /gitlab:acme\/platform\/ledger@main/);
  });

  it('when the issuer\'s key set cannot be fetched, then 503 with Retry-After (and again for discovery)', async () => {
    for (const name of ['down', 'lost']) {
      const closedIssuer = platform.config.ciIdentities?.issuers.find((i) => i.name === name)?.issuer;
      assert.ok(closedIssuer);
      const token = await githubToken({}, { issuer: closedIssuer });
      const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token });
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.headers.get('retry-after'), '5');
      assert.match(res.body.detail, new RegExp(`signing keys of ${name} .* cannot be fetched`));
      // Configuration endpoints (not reaching Temporal) answer it too.
      const config = await platform.http('GET', '/v1/config/retail/payments', undefined, { token });
      assert.equal(config.status, 503);
    }
  });
});

describe('CI identity by OIDC: static tokens', () => {
  it('when a configured static token is used, then it works as before', async () => {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: platform.tokens.payments });
    assert.equal(res.status, 200);
    const other = await platform.http('GET', '/v1/deployments?project=orders', undefined, { token: platform.tokens.payments });
    assert.equal(other.status, 403);
    assert.match(other.body.detail, /ci-payments/);
  });

  it('when an unknown static token is used, then 401 as before', async () => {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: 'not-a-real-token-at-all' });
    assert.equal(res.status, 401);
    assert.equal(res.body.detail, 'the bearer token is not valid');
  });

  it('when a bearer only looks like a JWT, then 401 saying it cannot be decoded', async () => {
    const res = await platform.http('GET', '/v1/deployments?project=payments', undefined, { token: 'abc.def.ghi' });
    assert.equal(res.status, 401);
    assert.match(res.body.detail, /looks like a JWT but cannot be decoded/);
  });
});

describe('the OIDC verifier on its own', () => {
  it('when the key set is unreachable, then the log names the issuer and never the token', async () => {
    const lines: string[] = [];
    const problems: string[] = [];
    const closed = `http://127.0.0.1:${await freePort()}`;
    const trust = parseCiIdentities(
      `issuers: [{ name: offline, issuer: "${closed}", audience: a, jwksUri: "${closed}/jwks" }]\nrules: [{ issuer: offline, claims: { repository: acme/x }, projects: [x] }]`,
      'inline.yaml',
      { production: false },
      problems,
    );
    assert.deepEqual(problems, []);
    assert.ok(trust);
    const verifier = createOidcVerifier(trust, { logger: createLogger('test', 'debug', (line) => lines.push(line)) });
    const token = await sign({ repository: 'acme/x' }, { issuer: closed, audience: 'a', kid: 'k', key: keys.github });
    const outcome = await verifier.verify(token);
    assert.ok('refused' in outcome && outcome.refused === 'unavailable');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /OIDC keys unavailable issuer=offline/);
    for (const part of token.split('.')) assert.ok(!lines[0]?.includes(part));
  });

  it('matches claims exactly or by * globs, and adds up the grants of every matching rule', () => {
    assert.equal(globToRegExp('acme/*').test('acme/payments'), true);
    assert.equal(globToRegExp('acme/*').test('acme-evil/payments'), false);
    assert.equal(globToRegExp('refs/tags/v*').test('refs/tags/v1.2.3'), true);
    assert.equal(globToRegExp('a.b').test('axb'), false);
    const rules: CiIdentityRule[] = [
      { issuer: 'github', claims: { repository: ['acme/payments'] }, projects: ['payments'], roles: [] },
      { issuer: 'github', claims: { repository: ['acme/*'], environment: ['prod'] }, projects: ['payments', 'orders'], roles: ['project-owner:orders'] },
      { issuer: 'gitlab', claims: { project_path: ['acme/payments'] }, projects: ['everything'], roles: [] },
    ];
    assert.deepEqual(grantOf(rules, 'github', { repository: 'acme/payments', environment: 'prod', ref: 'refs/heads/main' }), {
      subject: 'github:acme/payments@refs/heads/main',
      projects: ['payments', 'orders'],
      roles: ['project-owner:orders'],
    });
    assert.deepEqual(grantOf(rules, 'github', { repository: 'acme/payments' })?.projects, ['payments']);
    assert.equal(grantOf(rules, 'github', { repository: 'acme/ledger' }), undefined);
    assert.equal(grantOf(rules, 'github', { repository: ['acme/payments'] }), undefined, 'a claim that is not text never matches');
    assert.equal(subjectOf('ci', { sub: 'system:serviceaccount:x' }), 'ci:system:serviceaccount:x');
    assert.equal(looksLikeJwt('abc.def.'), true);
    assert.equal(looksLikeJwt('payments-0123456789abcdef'), false);
  });
});
