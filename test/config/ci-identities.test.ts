/**
 * PLATFORM_CI_IDENTITIES_FILE: the OIDC issuers and claim rules (shared/config/oidc.ts). A wrong
 * file stops the API at start with messages naming the file, the entry and what to do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../shared/config';
import { parseCiIdentities, type CiIdentityTrust } from '../../shared/config/oidc';
import { projectRoot } from '../../scripts/lib/tools';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platform-ci-identities-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function parse(text: string, production = false): { trust: CiIdentityTrust | undefined; problems: string[] } {
  const problems: string[] = [];
  const trust = parseCiIdentities(text, 'ci.yaml', { production }, problems);
  return { trust, problems };
}

function problemsOf(text: string, production = false): string {
  const { trust, problems } = parse(text, production);
  assert.equal(trust, undefined, 'a file with problems gives no trust');
  assert.ok(problems.length > 0);
  return problems.join('\n');
}

const GOOD = `
issuers:
  - name: github
    audience: https://deploy.example.com
  - issuer: https://gitlab.com
    audience: [https://deploy.example.com]
  - name: gitlab-acme
    issuer: https://gitlab.acme.example
    audience: platform
    jwksUri: https://gitlab.acme.example/oauth/discovery/keys
rules:
  - issuer: github
    claims: { repository: acme/payments, ref: refs/heads/main }
    projects: [payments]
  - issuer: gitlab
    claims: { project_path: "acme/*", ref: [main, "release/*"] }
    projects: [payments, orders]
    roles: ["project-owner:orders"]
  - issuer: gitlab-acme
    claims: { namespace_path: acme }
    roles: [platform-admin]
`;

describe('CI identities file', () => {
  it('when the file is right, then well-known issuers are filled in and the defaults apply', () => {
    const { trust, problems } = parse(GOOD, true);
    assert.deepEqual(problems, []);
    assert.ok(trust);
    assert.deepEqual(
      trust.issuers.map((i) => [i.name, i.issuer, i.audiences, i.jwksUri]),
      [
        ['github', 'https://token.actions.githubusercontent.com', ['https://deploy.example.com'], undefined],
        ['gitlab', 'https://gitlab.com', ['https://deploy.example.com'], undefined],
        ['gitlab-acme', 'https://gitlab.acme.example', ['platform'], 'https://gitlab.acme.example/oauth/discovery/keys'],
      ],
    );
    assert.deepEqual(trust.rules[1]?.claims, { project_path: ['acme/*'], ref: ['main', 'release/*'] });
    assert.deepEqual(trust.rules[0]?.roles, []);
    assert.equal(trust.clockToleranceSec, 30);
    assert.equal(trust.timeoutMs, 5_000);
    assert.equal(trust.httpsOnly, true);
  });

  it('when an issuer has no audience, then the message says which value to use', () => {
    assert.match(problemsOf('issuers: [{ name: github }]\nrules: [{ issuer: github, claims: { repository: a/b }, projects: [p] }]'), /issuers\[0\] \(github\): audience is required.*id_tokens/);
  });

  it('when an issuer is neither well known nor named, then it says what is missing', () => {
    assert.match(problemsOf('issuers: [{ name: jenkins, audience: a }]\nrules: []'), /issuers\[0\]: issuer is required .* unless name is github or gitlab/);
    assert.match(problemsOf('issuers: [{ issuer: "https://ci.example", audience: a }]\nrules: []'), /issuers\[0\]: name is required for https:\/\/ci\.example/);
  });

  it('when a rule pins no owner, then it is refused: it would match anyone on github.com', () => {
    const rule = (claims: string) => `issuers: [{ name: github, audience: a }]\nrules: [{ issuer: github, claims: ${claims}, projects: [p] }]`;
    for (const claims of ['{ ref: refs/heads/main }', '{ repository: "*" }', '{ repository: "*/payments" }', '{ repository: "acme*" }', '{ repository_owner: "acme*" }', '{ repository_id: "12*" }', '{ repository: [acme/payments, "*"] }', '{}']) {
      assert.match(problemsOf(rule(claims)), /rules\[0\]: claims must pin whose pipeline it is/, claims);
    }
    for (const claims of ['{ repository: "acme/*" }', '{ repository_owner: acme, ref: "*" }', '{ repository_id: "4711" }', '{ sub: "repo:acme/payments:*" }', '{ namespace_path: "acme/*" }']) {
      assert.deepEqual(parse(rule(claims)).problems, [], claims);
    }
  });

  it('when a rule names an unknown issuer, grants nothing or matches reserved claims, then each is named', () => {
    const text = `
issuers: [{ name: github, audience: a }]
rules:
  - { issuer: gihub, claims: { repository: acme/x }, projects: [x] }
  - { issuer: github, claims: { repository: acme/x } }
  - { issuer: github, claims: { repository: acme/x, aud: a }, projects: [x] }
`;
    const problems = problemsOf(text);
    assert.match(problems, /rules\[0\]: issuer "gihub" is not one of the issuers \(github\)/);
    assert.match(problems, /rules\[1\]: a rule needs at least one project or role/);
    assert.match(problems, /rules\[2\]: claims\.aud: the platform checks "aud" itself/);
  });

  it('when fields are wrong, then zod names each by its path', () => {
    const text = `
clockTolerance: 10m
issuers: [{ name: GitHub, audience: a, jwks: x }]
rules: [{ issuer: github, claims: { repository: acme/x }, projects: [x], roles: [root] }]
`;
    const problems = problemsOf(text);
    assert.match(problems, /ci\.yaml: clockTolerance: must be at most 5m/);
    assert.match(problems, /issuers\[0\]\.name: must be a short lowercase name/);
    assert.match(problems, /issuers\[0\]: Unrecognized key: "jwks"/i);
    assert.match(problems, /rules\[0\]\.roles\[0\]: roles are platform-admin/);
  });

  it('when issuers are listed twice or there is no rule, then it says so', () => {
    const problems = problemsOf('issuers: [{ name: github, audience: a }, { name: github, issuer: "https://ghe.example/_services/token", audience: b }, { name: gh2, issuer: "https://token.actions.githubusercontent.com", audience: c }]');
    assert.match(problems, /issuers\[1\]: the name github is used by two issuers/);
    assert.match(problems, /issuers\[2\]: the issuer https:\/\/token\.actions\.githubusercontent\.com is listed twice/);
    assert.match(problems, /rules: no rule/);
    assert.match(problemsOf('issuers: []'), /issuers: list at least one issuer/);
  });

  it('when in production an issuer or key set is not https, then it is refused; outside production http is allowed', () => {
    const text = 'issuers: [{ name: local, issuer: "http://127.0.0.1:9000", audience: a, jwksUri: "http://127.0.0.1:9000/jwks" }]\nrules: [{ issuer: local, claims: { repository: acme/x }, projects: [x] }]';
    const problems = problemsOf(text, true);
    assert.match(problems, /issuers\[0\] \(local\): issuer must be an https URL when NODE_ENV=production/);
    assert.match(problems, /issuers\[0\] \(local\): jwksUri must be an https URL/);
    assert.deepEqual(parse(text).problems, []);
  });

  it('when the YAML is broken, then it says so without a stack', () => {
    assert.match(problemsOf('issuers: [ {'), /PLATFORM_CI_IDENTITIES_FILE ci\.yaml is not valid YAML/);
  });
});

describe('loadConfig with PLATFORM_CI_IDENTITIES_FILE', () => {
  const base = (dataDir: string) => ({ PLATFORM_DATA_DIR: dataDir, PLATFORM_ENVIRONMENTS_FILE: join(projectRoot, 'config/environments.yaml') });

  it('when the file is right, then the API has the trust and static tokens stay', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ci.yaml'), GOOD);
    const config = loadConfig({ ...base(dir), PLATFORM_CI_IDENTITIES_FILE: join(dir, 'ci.yaml') }, 'api');
    assert.equal(config.ciIdentities?.issuers.length, 3);
    assert.ok(config.devCiToken, 'the development token is still there');
    assert.equal(loadConfig({ ...base(dir), PLATFORM_CI_IDENTITIES_FILE: join(dir, 'ci.yaml') }, 'worker').ciIdentities, undefined, 'only the API reads it');
    assert.equal(loadConfig(base(dir), 'api').ciIdentities, undefined, 'off unless configured');
  });

  it('when the file is missing or wrong, then the API refuses to start naming the variable and each problem', () => {
    const dir = tempDir();
    assert.throws(
      () => loadConfig({ ...base(dir), PLATFORM_CI_IDENTITIES_FILE: join(dir, 'absent.yaml') }, 'api'),
      (error: unknown) => error instanceof ConfigError && /PLATFORM_CI_IDENTITIES_FILE .*absent\.yaml cannot be read: ENOENT/.test(error.message),
    );
    writeFileSync(join(dir, 'bad.yaml'), 'issuers: [{ name: github }]\nrules: [{ issuer: github, claims: { ref: main }, projects: [p] }]');
    assert.throws(
      () => loadConfig({ ...base(dir), PLATFORM_CI_IDENTITIES_FILE: join(dir, 'bad.yaml') }, 'api'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2);
        assert.match(error.problems[0] ?? '', /bad\.yaml: issuers\[0\] \(github\): audience is required/);
        assert.match(error.problems[1] ?? '', /bad\.yaml: rules\[0\]: claims must pin/);
        return true;
      },
    );
  });

  it('when NODE_ENV=production and CI identities are configured, then static CI tokens are not required', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ci.yaml'), GOOD);
    const env = {
      ...base(dir),
      NODE_ENV: 'production',
      PLATFORM_CI_IDENTITIES_FILE: join(dir, 'ci.yaml'),
      SERVICENOW_WEBHOOK_SECRET: 'a-webhook-secret-of-enough-length',
      PLATFORM_PAYLOAD_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const config = loadConfig(env, 'api');
    assert.equal(config.ciTokens.size, 0);
    assert.equal(config.ciIdentities?.httpsOnly, true);
  });
});
