/**
 * The OpenAPI document: valid OpenAPI 3.1, one operation for every route the app registers and
 * no operation without a route, and served with its reference page. (That every response the
 * suite receives matches it is checked in `TestPlatform.http()`, test/helpers/openapi-responses.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import { createApp } from '../../api/app';
import { openApiDocument, operationsOf } from '../../api/openapi/document';
import { createLogger } from '../../shared/logger';
import { DocumentedResponses } from '../helpers/openapi-responses';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

let platform: TestPlatform;

before(async () => {
  platform = await startTestPlatform({ startWorker: false });
});
after(async () => {
  await platform.stop();
});

/**
 * What the router package (Express 5) keeps per layer. Not in its public types: `app.router` is
 * typed as express's `Router`, whose `stack` has no `rawPath`; hence the narrow interface and cast.
 */
interface RouterLayer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle: { stack?: RouterLayer[] };
}

/** `prefix` has no trailing slash ('' at the top); a router mounted at `/` adds nothing to it. */
const join = (prefix: string, path: string): string => (path === '/' ? prefix : `${prefix}${path}`);

/** `METHOD /path/{param}` for every route in the app, mounted routers included. */
function registeredRoutes(app: Express): string[] {
  const walk = (stack: RouterLayer[], prefix: string): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        assert.equal(typeof layer.route.path, 'string', `a route with a non-string path under ${prefix || '/'}`);
        const path = (join(prefix, layer.route.path as string) || '/').replace(/:(\w+)/g, '{$1}');
        return Object.keys(layer.route.methods)
          .filter((method) => layer.route?.methods[method])
          // The codec's `router.all` handler answers CORS preflights itself and passes everything else on.
          .map((method) => `${method === '_all' ? 'OPTIONS' : method.toUpperCase()} ${path}`);
      }
      if (Array.isArray(layer.handle.stack)) {
        assert.equal(typeof layer.rawPath, 'string', `a router mounted on a non-string path under ${prefix || '/'}`);
        return walk(layer.handle.stack, join(prefix, layer.rawPath as string));
      }
      return []; // plain middleware
    });
  const app5 = app as unknown as { router: { stack: RouterLayer[] } };
  return [...new Set(walk(app5.router.stack, ''))].sort();
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    // ESM-only package; this file is compiled as CommonJS, so a dynamic import.
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const document = openApiDocument(platform.config);
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, '3.1');
  });

  it('documents every route the app registers, and nothing else', () => {
    const app = createApp({ config: platform.config, client: platform.client, store: platform.store, logger: createLogger('test', 'error') });
    const registered = registeredRoutes(app);
    const documented = operationsOf(openApiDocument(platform.config))
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    assert.ok(registered.length > 20, `only ${registered.length} routes found: ${registered.join(', ')}`);
    assert.deepEqual(
      { missing: registered.filter((r) => !documented.includes(r)), stale: documented.filter((d) => !registered.includes(d)) },
      { missing: [], stale: [] },
    );
  });

  it('declares each path parameter and names each operation once', () => {
    const operations = operationsOf(openApiDocument(platform.config));
    for (const { method, path, operation } of operations) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      assert.deepEqual(declared, inPath, `${method.toUpperCase()} ${path}`);
      assert.ok(operation.summary && operation.tags.length > 0, `${method.toUpperCase()} ${path} has a summary and a tag`);
    }
    const ids = operations.map((o) => o.operation.operationId);
    assert.equal(new Set(ids).size, ids.length, `operationIds repeat: ${ids.join(', ')}`);
  });
});

describe('GET /openapi.json and /docs', () => {
  it('when /openapi.json is requested without a token, then the document comes back as JSON', async () => {
    const res = await platform.http('GET', '/openapi.json', undefined, { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.body, JSON.parse(JSON.stringify(openApiDocument(platform.config))));
    assert.equal(res.body.servers[0].url, platform.config.api.publicBaseUrl);
  });

  it('when /docs is requested, then an HTML page loads Swagger UI from the API itself and points it at /openapi.json', async () => {
    const res = await platform.http('GET', '/docs', undefined, { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const page = res.body as string;
    assert.match(page, /<div id="swagger-ui">/);
    const scripts = [...page.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.deepEqual(scripts, ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/platform-init.js']);
    assert.doesNotMatch(page, /<script>|https?:\/\//, 'no inline script, nothing from another origin');

    const bundle = await fetch(`${platform.apiUrl}/docs/assets/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.match(await bundle.text(), /SwaggerUIBundle/);
    const css = await fetch(`${platform.apiUrl}/docs/assets/swagger-ui.css`);
    assert.equal(css.status, 200);
    await css.arrayBuffer();
    const init = await fetch(`${platform.apiUrl}/docs/assets/platform-init.js`);
    assert.equal(init.status, 200);
    assert.match(await init.text(), /url: '\/openapi\.json'/);
  });

  it('when the package\'s petstore page is asked for, then 404', async () => {
    for (const asset of ['index.html', 'swagger-initializer.js']) {
      const res = await fetch(`${platform.apiUrl}/docs/assets/${asset}`);
      assert.equal(res.status, 404, asset);
      await res.arrayBuffer();
    }
  });
});

describe('the response check every test goes through', () => {
  const problem = { type: 'about:blank', title: 'Not found', status: 404, detail: 'no deployment', instance: '/v1/deployments/x' };
  const check = (...args: Parameters<DocumentedResponses['check']>) => () => new DocumentedResponses(openApiDocument(platform.config)).check(...args);

  it('when a response is documented and matches, then it passes', () => {
    check('GET', '/healthz', 200, 'application/json; charset=utf-8', { status: 'ok' })();
    check('GET', '/v1/deployments/deploy.payments.ledger.dev.0123456789abcdef?x=1', 404, 'application/problem+json; charset=utf-8', problem)();
    check('DELETE', '/v1/config/global/entries/LOG_LEVEL', 204, null, undefined)();
    check('GET', '/v1/no-such-thing', 404, 'application/problem+json', problem)();
  });

  it('when the status, the content type or the body is not what is documented, then it throws naming the request', () => {
    assert.throws(check('GET', '/healthz', 201, 'application/json', { status: 'ok' }), /GET \/healthz answered 201.*not documented/);
    assert.throws(check('GET', '/healthz', 200, 'text/plain', 'ok'), /content type "text\/plain" is not documented/);
    assert.throws(check('GET', '/healthz', 200, 'application/json', { status: 'ok', extra: 1 }), /must NOT have additional properties/);
    assert.throws(check('GET', '/v1/deployments/some-id', 404, 'application/problem+json', { title: 'x' }), /documented as GET \/v1\/deployments\/\{id\}.*must have required property/);
    assert.throws(check('DELETE', '/v1/config/global/entries/LOG_LEVEL', 204, null, 'surprise'), /a body where none is documented/);
    assert.throws(check('GET', '/v1/deployments', 500, 'application/problem+json', { ...problem, status: 500 }), /status 500 is not documented/);
    assert.throws(check('GET', '/somewhere', 200, 'application/json', {}), /no documented operation/);
  });
});
