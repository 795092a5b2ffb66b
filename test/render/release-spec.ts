import type { ReleaseSpec } from '../../activities/ports/chart-renderer';
import type { DeployRequest } from '../../shared/domain';

export const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** A valid spec for payments/ledger in dev; override any request field. */
export function releaseSpec(request: Partial<DeployRequest> = {}, rest: Partial<Omit<ReleaseSpec, 'request'>> = {}): ReleaseSpec {
  return {
    namespace: 'payments-dev',
    deploymentId: 'deploy.payments.ledger.dev.0123456789abcdef',
    ...rest,
    request: {
      project: 'payments',
      service: 'ledger',
      environment: 'dev',
      image: { reference: `registry.example.com/payments/ledger:1.4.2@${DIGEST}`, repository: 'registry.example.com/payments/ledger', tag: '1.4.2', digest: DIGEST },
      port: 8080,
      replicas: 2,
      route: { host: 'ledger.payments.example.com', path: '/api' },
      requestedBy: 'ci-pipeline',
      ...request,
    },
  };
}
