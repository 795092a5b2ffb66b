import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createBuiltinChartRenderer } from '../../activities/adapters/helm';
import { DIGEST, releaseSpec } from './release-spec';

describe('built-in chart files', () => {
  const render = () => createBuiltinChartRenderer().render(releaseSpec());

  it('when a release is rendered, then the chart holds exactly Chart.yaml, values.yaml, the helpers and five templates', async () => {
    const { chart } = await render();
    assert.deepEqual(Object.keys(chart.files).sort(), [
      'Chart.yaml',
      'templates/_helpers.tpl',
      'templates/deployment.yaml',
      'templates/destinationrule.yaml',
      'templates/service.yaml',
      'templates/serviceaccount.yaml',
      'templates/virtualservice.yaml',
      'values.yaml',
    ]);
  });

  it('when Chart.yaml is parsed, then it is a v2 application chart named after the service with a SemVer version', async () => {
    const { chart } = await render();
    assert.deepEqual(parse(chart.files['Chart.yaml'] ?? ''), {
      apiVersion: 'v2',
      name: 'ledger',
      description: 'ledger of project payments, packaged by the deployment platform',
      type: 'application',
      version: '0.1.0+0123456789ab',
      appVersion: '1.4.2',
    });
    assert.deepEqual([chart.name, chart.version, chart.appVersion], ['ledger', '0.1.0+0123456789ab', '1.4.2']);
    assert.match(chart.version, /^\d+\.\d+\.\d+(\+[0-9A-Za-z.-]+)?$/);
  });

  it('when values.yaml is parsed, then it holds everything the templates read', async () => {
    const { chart } = await render();
    assert.deepEqual(parse(chart.files['values.yaml'] ?? ''), {
      namespace: 'payments-dev',
      deploymentId: 'deploy.payments.ledger.dev.0123456789abcdef',
      image: { repository: 'registry.example.com/payments/ledger', digest: DIGEST },
      replicas: 2,
      port: 8080,
      healthPath: '/healthz',
      route: { host: 'ledger.payments.example.com', path: '/api', gateway: 'istio-ingress/platform-gateway' },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      labels: { 'platform.example.com/project': 'payments', 'platform.example.com/environment': 'dev' },
    });
  });

  it('when the templates are read, then they take every varying value from .Values, .Chart or .Release', async () => {
    const { chart } = await render();
    const templates = Object.entries(chart.files).filter(([path]) => path.startsWith('templates/'));
    for (const [path, text] of templates) {
      assert.doesNotMatch(text, /ledger|payments|8080|sha256:/, `${path} must not hard-code release values`);
    }
    assert.match(chart.files['templates/deployment.yaml'] ?? '', /printf "%s@%s" \.Values\.image\.repository \.Values\.image\.digest/);
    assert.match(chart.files['templates/_helpers.tpl'] ?? '', /define "platform\.labels"/);
  });
});
