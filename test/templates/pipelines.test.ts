/**
 * The pipeline files of every class: what they must do (build, push, scan, pin the digest, deploy
 * through the platform with platformctl deploy --wait and the CI secret), that their shell parses, and
 * no literal secret.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PROJECT_CLASSES, renderProjectSkeleton } from '../../shared/project-templates';
import { PIPELINE_FILES, sampleContext } from './fixtures';
import { githubWorkflow, jenkinsShellBlocks } from './pipeline-files';

const TERMINAL_FAILURES = ['rejected', 'expired', 'failed', 'rolled_back', 'cancelled'];

function assertShellParses(script: string, where: string): void {
  const result = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(result.status, 0, `${where} is valid POSIX shell: ${result.stderr}`);
}

/** Every mention of PLATFORM_TOKEN that assigns it takes it from the CI secret store. */
function assertTokenOnlyFromSecrets(text: string, where: string): void {
  for (const match of text.matchAll(/PLATFORM_TOKEN\s*[:=]\s*(\S.*)$/gm)) {
    assert.match(match[1]!, /^(\$\{\{ secrets\.PLATFORM_TOKEN \}\}|credentials\('PLATFORM_TOKEN'\)|\?)/, `${where}: ${match[0]}`);
  }
  assert.doesNotMatch(text, /Bearer (?!\$PLATFORM_TOKEN\b)/, `${where}: a bearer token other than $PLATFORM_TOKEN`);
  assert.doesNotMatch(text, /\b(ghp_|gho_|glpat-|xox[abp]-|AKIA|eyJ)[A-Za-z0-9_-]{8,}/, `${where}: something that looks like a credential`);
  assert.doesNotMatch(text, /[A-Za-z0-9+/_-]{40,}/, `${where}: a long token-like string`);
}

describe('pipeline files', () => {
  for (const projectClass of PROJECT_CLASSES) {
    describe(projectClass, () => {
      const { files, defaults } = renderProjectSkeleton(projectClass, sampleContext);

      for (const path of PIPELINE_FILES) {
        it(`when ${path} is rendered, then it tests, builds, pushes, scans with Trivy and resolves the pushed digest`, () => {
          const text = files[path]!;
          assert.ok(text.includes('docker build --target test .'));
          assert.match(text, /docker push "\$IMAGE:\$(GITHUB_SHA|TAG)"/);
          assert.ok(text.includes('registry.example.com/retail/shop'), 'the image repository');
          assert.ok(text.includes(`docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}'`), 'reads the digest the registry gave the push');
          assert.ok(text.includes('"$IMAGE"@sha256:*)'), 'refuses to go on without a digest');
          assert.ok(text.includes('trivy image --format json --output trivy-report.json "$IMAGE_REF"'));
        });

        it(`when ${path} is rendered, then it deploys project shop by digest with platformctl deploy --wait, the idempotency key and the Trivy report`, () => {
          const text = files[path]!;
          assert.ok(text.includes('registry.example.com/retail/shop@sha256:*) ;;'), 'only an image of the project pinned by digest is sent');
          assert.ok(
            text.includes('exec platformctl deploy --url "https://deploy.example.com" --project "shop" --service "shop" \\\n'),
            'platformctl deploy against the platform, for project and service shop',
          );
          assert.ok(text.includes(`--environment "$ENVIRONMENT" --image "$IMAGE_REF" --port ${defaults.port} --host "shop.retail.apps.example.com" --path / \\\n`));
          assert.ok(text.includes('--scan-report trivy-report.json --idempotency-key "$IDEMPOTENCY_KEY" \\\n'));
          assert.ok(text.includes('--wait --interval "${PLATFORM_POLL_SECONDS:-15}s" --timeout "${PLATFORM_WAIT_TIMEOUT:-72h}"\n'));
          const deploys = path === 'Jenkinsfile' ? 1 : sampleContext.environments.length;
          assert.equal(text.match(/platformctl deploy /g)?.length, deploys, 'one platformctl deploy per deploy job (the Jenkinsfile: in deployTo)');
        });

        it(`when ${path} is rendered, then platformctl is installed from PLATFORMCTL_PACKAGE when missing, and no curl or jq loop of its own remains`, () => {
          const text = files[path]!;
          assert.ok(text.includes('if ! command -v platformctl >/dev/null 2>&1; then'));
          assert.ok(text.includes('(unset PLATFORM_TOKEN; npm install --global --no-audit --no-fund "$PLATFORMCTL_PACKAGE")'), 'npm installs it, without the token');
          assert.match(text, /PLATFORMCTL_PACKAGE is not set\.[\s\S]*npm pack \.\/cli[\s\S]*exit 2\n/, 'without either it stops, saying how');
          for (const leftover of [/\bcurl\b/, /\bjq\b/, /\bwhile\b/, /\bsleep\b/, /\/v1\/deployments/, /STATUS_URL/, ...TERMINAL_FAILURES.map((status) => new RegExp(`\\b${status}\\)`))]) {
            assert.doesNotMatch(text, leftover, 'no polling loop of its own: platformctl does the requests and the waiting');
          }
        });

        it(`when ${path} is rendered, then the token comes only from the CI secret store and no literal secret is present`, () => {
          assertTokenOnlyFromSecrets(files[path]!, path);
        });
      }

      it('when the GitHub workflow is rendered, then it parses as YAML and deploys dev, then staging and prod behind their GitHub environments', () => {
        const workflow = githubWorkflow(files['.github/workflows/deploy.yml']!);
        assert.deepEqual(workflow.on.push?.branches, ['main']);
        assert.deepEqual(workflow.permissions, { contents: 'read' });
        assert.deepEqual(Object.keys(workflow.jobs), ['build', 'deploy-dev', 'deploy-staging', 'deploy-prod']);
        assert.deepEqual(workflow.jobs['deploy-dev']?.needs, ['build']);
        assert.deepEqual(workflow.jobs['deploy-staging']?.needs, ['build', 'deploy-dev']);
        assert.deepEqual(workflow.jobs['deploy-prod']?.needs, ['build', 'deploy-staging']);
        for (const environment of sampleContext.environments) {
          const job = workflow.jobs[`deploy-${environment}`]!;
          assert.equal(job.environment, environment);
          assert.equal(job.env?.ENVIRONMENT, environment);
          assert.equal(job.env?.IMAGE_REF, '${{ needs.build.outputs.image }}');
          assert.equal(job.env?.PLATFORM_TOKEN, undefined, 'the token is not given to every step of the job');
          const deployIndex = job.steps.findIndex((step) => step.run?.includes('platformctl deploy'));
          const deploy = job.steps[deployIndex]!;
          assert.equal(deploy.env?.PLATFORM_TOKEN, '${{ secrets.PLATFORM_TOKEN }}');
          assert.equal(deploy.env?.PLATFORMCTL_PACKAGE, '${{ vars.PLATFORMCTL_PACKAGE }}', 'where to install platformctl from');
          assert.deepEqual(
            job.steps.filter((step) => step.env?.PLATFORM_TOKEN !== undefined),
            [deploy],
            'only the deploy step sees the token',
          );
          assert.ok(deploy.run!.indexOf('set +x') < deploy.run!.indexOf('platformctl deploy'), 'tracing is off before the deploy');
          const setupNode = job.steps.findIndex((step) => step.uses?.startsWith('actions/setup-node@'));
          assert.ok(setupNode >= 0 && setupNode < deployIndex, 'Node is set up before the deploy step (which may install platformctl with npm)');
          assert.ok(Number(job.steps[setupNode]!.with?.['node-version']) >= 22, 'a Node that platformctl runs on (>= 20.3)');
        }
      });

      it("when the GitHub workflow is rendered, then every step's shell parses", () => {
        const workflow = githubWorkflow(files['.github/workflows/deploy.yml']!);
        for (const [name, job] of Object.entries(workflow.jobs)) {
          job.steps.forEach((step, index) => {
            if (step.run) assertShellParses(step.run, `jobs.${name}.steps[${index}].run`);
          });
        }
      });

      it('when the Jenkinsfile is rendered, then it has one stage per environment in order and asks a person before every environment but the first', () => {
        const jenkinsfile = files.Jenkinsfile!;
        const stages = [...jenkinsfile.matchAll(/^ {4}stage\('([^']+)'\)/gm)].map((match) => match[1]);
        assert.deepEqual(stages, ['Test, build, push and scan', 'Deploy to dev', 'Deploy to staging', 'Deploy to prod']);
        const stageBodies = jenkinsfile.split(/^ {4}stage\(/m).slice(2);
        assert.deepEqual(
          stageBodies.map((body) => body.includes('input {')),
          [false, true, true],
        );
        assert.match(jenkinsfile, /message 'Deploy shop to prod\?'/);
        assert.equal(jenkinsfile.match(/PLATFORM_TOKEN = credentials\('PLATFORM_TOKEN'\)/g)?.length, 3, 'only the deploy stages get the token');
        assert.match(jenkinsfile, /stash name: 'release', includes: 'image-ref.txt,trivy-report.json'/);
      });

      it("when the Jenkinsfile is rendered, then Groovy interpolates nothing in its shell, braces balance and every shell block parses", () => {
        const jenkinsfile = files.Jenkinsfile!;
        assert.equal(jenkinsfile.split('{').length, jenkinsfile.split('}').length, 'as many { as }');
        assert.doesNotMatch(jenkinsfile, /^\s*sh "/m, 'no double-quoted (interpolating) sh steps');
        const blocks = jenkinsShellBlocks(jenkinsfile);
        assert.equal(blocks.length, 2);
        for (const block of blocks) {
          assert.doesNotMatch(block.raw, /\\(?!\n)/, 'a backslash only at a line end, where Groovy joins the lines');
          assertShellParses(block.shell, 'a Jenkins sh block');
        }
        const deploy = blocks.find((block) => block.shell.includes('platformctl deploy'))!;
        assert.ok(deploy.shell.indexOf('set +x') < deploy.shell.indexOf('platformctl deploy'), 'tracing (Jenkins runs sh -xe) is off before the deploy');
      });

      it('when the deploy script is rendered, then it parses and runs the same deploy step as the pipelines', () => {
        const script = files['scripts/deploy-to-platform.sh']!;
        assertShellParses(script, 'scripts/deploy-to-platform.sh');
        assert.ok(script.includes('exec platformctl deploy --url "https://deploy.example.com" --project "shop" --service "shop"'));
        assert.doesNotMatch(script, /\bcurl\b|\bjq\b/);
        assertTokenOnlyFromSecrets(script, 'scripts/deploy-to-platform.sh');
      });
    });
  }

  it('when there is only one environment, then nothing waits for a person', () => {
    const { files } = renderProjectSkeleton('node-web', { ...sampleContext, environments: ['dev'] });
    assert.deepEqual(Object.keys(githubWorkflow(files['.github/workflows/deploy.yml']!).jobs), ['build', 'deploy-dev']);
    assert.doesNotMatch(files.Jenkinsfile!, /input \{/);
  });

  it('when the YAML of a workflow is read with the yaml package, then it has no duplicate keys or other errors', () => {
    for (const projectClass of PROJECT_CLASSES) {
      const text = renderProjectSkeleton(projectClass, sampleContext).files['.github/workflows/deploy.yml']!;
      assert.doesNotThrow(() => parse(text, { uniqueKeys: true, strict: true }), projectClass);
    }
  });
});
