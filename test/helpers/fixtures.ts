import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Severity } from '../../shared/domain';

/** A Trivy JSON report (SchemaVersion 2) for `image`, with one finding per given severity. */
export function trivyReport(image: string, severities: Severity[] = []): Record<string, unknown> {
  const [repository, digest] = image.replace(/:[^:/@]+@/, '@').split('@');
  return {
    SchemaVersion: 2,
    ArtifactName: image,
    ArtifactType: 'container_image',
    Metadata: { RepoDigests: [`${repository}@${digest}`] },
    Results: [
      {
        Target: `${repository} (debian 12.5)`,
        Class: 'os-pkgs',
        Type: 'debian',
        Vulnerabilities: severities.map((severity, i) => ({
          VulnerabilityID: `CVE-2024-${1000 + i}`,
          PkgName: `pkg-${i}`,
          InstalledVersion: '1.0.0',
          FixedVersion: '1.0.1',
          Severity: severity,
          Title: `${severity.toLowerCase()} issue ${i}`,
        })),
      },
    ],
  };
}

/** Reads the GitOps repository the way a person (or Argo CD) would. */
export class GitOpsRepo {
  constructor(readonly dir: string) {}

  private git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8' });
  }

  exists(): boolean {
    return existsSync(join(this.dir, '.git'));
  }

  /** Commit subjects with their trailers, newest first. */
  commits(): { sha: string; subject: string; body: string }[] {
    if (!this.exists()) return [];
    return this.git('log', '--format=%H%x1f%s%x1f%B%x1e')
      .split('\x1e')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const [sha = '', subject = '', body = ''] = entry.split('\x1f');
        return { sha, subject, body };
      });
  }

  commitsWithTrailer(trailer: string, value: string): { sha: string; subject: string }[] {
    return this.commits().filter((c) => c.body.split('\n').some((line) => line.trim() === `${trailer}: ${value}`));
  }

  /** Files at HEAD under `path`. */
  files(path: string): string[] {
    if (!this.exists()) return [];
    return this.git('ls-tree', '-r', '--name-only', 'HEAD', '--', path).split('\n').filter(Boolean);
  }

  show(path: string): string {
    return this.git('show', `HEAD:${path}`);
  }
}

export function serviceDir(namespace: string, service: string, component: 'app' | 'mesh', cluster = 'local'): string {
  return `clusters/${cluster}/${namespace}/${service}/${component}`;
}
