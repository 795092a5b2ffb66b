/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document; `GET /docs`: the reference page, Swagger UI
 * rendering that document. Both without authentication (they describe the API, they hold no data).
 * Swagger UI is served from the swagger-ui-dist package under `/docs/assets`, never from a CDN, and
 * the page has no inline script, so it also works under a `script-src 'self'` policy.
 */
import { dirname } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import type { PlatformConfig } from '../../shared/config';
import { openApiDocument } from '../openapi/document';

const ASSETS = '/docs/assets';
/** The package's own directory (`getAbsoluteFSPath()` without its untyped entry point). */
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
/** The package's demo page and initializer load the petstore; ours replace them. */
const HIDDEN_ASSETS = new Set(['/index.html', '/swagger-initializer.js']);

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Deployment platform API</title>
    <link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${ASSETS}/swagger-ui-bundle.js" charset="utf-8"></script>
    <script src="${ASSETS}/platform-init.js" charset="utf-8"></script>
  </body>
</html>
`;

/** No external calls: `validatorUrl: null` turns off the online validator badge. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
  });
});
`;

export function docsRoutes(config: PlatformConfig): Router {
  const router = Router();
  const document = JSON.stringify(openApiDocument(config));

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });

  const assets: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/platform-init.js') {
      res.type('application/javascript').send(INIT_SCRIPT);
      return;
    }
    if (HIDDEN_ASSETS.has(req.path)) return next('router');
    next();
  };
  router.use(ASSETS, assets, express.static(SWAGGER_UI_DIR, { index: false, fallthrough: true }));
  return router;
}
