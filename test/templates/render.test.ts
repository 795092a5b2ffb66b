/** Rendering a class's skeleton: the files a new repository gets, strictly from a validated context. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  deployStagesOf,
  dotnetProjectOf,
  javaPackageOf,
  loadProjectTemplate,
  PROJECT_CLASSES,
  renderProjectSkeleton,
  TEMPLATE_VARIABLES,
  TemplateError,
  type SkeletonContextInput,
} from '../../shared/project-templates';
import { appFiles, PIPELINE_FILES, sampleContext, scratchTemplates } from './fixtures';

const leftoverExpression = new RegExp(`\\{\\{[#/>^]?\\s*(${TEMPLATE_VARIABLES.join('|')})\\b`);

describe('rendering project skeletons', () => {
  for (const projectClass of PROJECT_CLASSES) {
    describe(projectClass, () => {
      const { manifest } = loadProjectTemplate(projectClass);
      const { files, defaults } = renderProjectSkeleton(projectClass, sampleContext);
      const { port, probes } = manifest.defaults;

      it('when rendered for a project, then it has a README, Dockerfile, ignore files, the app and every listed pipeline file', () => {
        const expected = ['README.md', 'Dockerfile', '.gitignore', '.dockerignore', 'scripts/deploy-to-platform.sh', ...PIPELINE_FILES, ...manifest.pipelines, ...appFiles[projectClass]];
        for (const path of expected) assert.ok(files[path]?.trim(), `${path} exists and is not empty`);
      });

      it("when rendered, then it returns the class's defaults for the landing zone", () => {
        assert.deepEqual(defaults, manifest.defaults);
      });

      it('when rendered, then no Handlebars expression is left in any path or file', () => {
        for (const [path, content] of Object.entries(files)) {
          assert.doesNotMatch(path, /\{\{/, path);
          assert.doesNotMatch(content, leftoverExpression, path);
        }
      });

      it(`when rendered, then the app answers ${probes.readinessPath} on port ${port}`, () => {
        const app = appFiles[projectClass].map((path) => files[path]).join('\n');
        assert.ok(app.includes(`"${probes.readinessPath}"`) || app.includes(`'${probes.readinessPath}'`), 'the health route is declared');
        assert.match(app, new RegExp(`\\b${port}\\b`), 'the port is set');
      });

      it(`when rendered, then the Dockerfile exposes ${port}, names the health path, runs as a numeric non-root user from pinned images and has a test stage`, () => {
        const dockerfile = files.Dockerfile!;
        assert.match(dockerfile, new RegExp(`^EXPOSE ${port}$`, 'm'));
        assert.ok(dockerfile.includes(probes.readinessPath));
        const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
        assert.match(user ?? '', /^[1-9][0-9]*$/, 'a numeric uid other than 0 (Kubernetes verifies runAsNonRoot against it)');
        assert.match(dockerfile, /^FROM \S+ AS test$/m);
        const stages = new Set<string>();
        for (const [, image, stage] of dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)) {
          if (!stages.has(image!)) assert.match(image!, /^[^:@\s]+:[^:\s]*\d[^:\s]*$/, `${image} is pinned to a versioned tag`);
          if (stage) stages.add(stage);
        }
      });

      it('when rendered, then the README names the project, its owners, its environments and the health endpoint', () => {
        const readme = files['README.md']!;
        for (const text of ['# shop', '**shop**', '`retail`', 'owner@example.com, second@example.com', '`team-shop`', '`dev`, then `staging`, then `prod`', probes.readinessPath, 'https://temporal.example.com']) {
          assert.ok(readme.includes(text), `README mentions ${text}`);
        }
      });
    });
  }

  it('when the tenant and project are not Java identifiers, then the java package and its path are made valid', () => {
    const { files } = renderProjectSkeleton('java', { ...sampleContext, tenant: 'my-org', project: 'class' });
    assert.match(files['src/main/java/com/my_org/class_/Application.java']!, /^package com\.my_org\.class_;$/m);
    assert.ok(files['src/test/java/com/my_org/class_/ApplicationTests.java']);
    assert.match(files['pom.xml']!, /<groupId>com\.my_org\.class_<\/groupId>/);
  });

  it('when values are derived, then they follow the documented rules', () => {
    assert.equal(javaPackageOf('retail', 'shop'), 'com.retail.shop');
    assert.equal(javaPackageOf('north-east', 'int'), 'com.north_east.int_');
    assert.equal(dotnetProjectOf('shop-api'), 'ShopApi');
    assert.deepEqual(deployStagesOf(['dev', 'prod']), [
      { name: 'dev', previous: null, manual: false },
      { name: 'prod', previous: 'dev', manual: true },
    ]);
  });

  it('when the dotnet service name has a hyphen, then the project, its tests and the assembly use PascalCase', () => {
    const { files } = renderProjectSkeleton('dotnet', { ...sampleContext, service: 'shop-api' });
    assert.ok(files['src/ShopApi/ShopApi.csproj']);
    assert.match(files['tests/ShopApi.Tests/ShopApi.Tests.csproj']!, /Include="\.\.\/\.\.\/src\/ShopApi\/ShopApi\.csproj"/);
    assert.match(files.Dockerfile!, /ENTRYPOINT \["dotnet", "ShopApi\.dll"\]/);
  });

  it('when no service is given, then the service is named after the project; when one is given, then it is used', () => {
    assert.match(renderProjectSkeleton('node-web', sampleContext).files['package.json']!, /"name": "shop"/);
    const { files } = renderProjectSkeleton('node-web', { ...sampleContext, service: 'storefront' });
    assert.match(files['package.json']!, /"name": "storefront"/);
    assert.match(files.Jenkinsfile!, /platformctl deploy --url "https:\/\/deploy\.example\.com" --project "shop" --service "storefront"/);
  });

  it('when there is no Temporal UI link, then the README leaves that paragraph out', () => {
    const { temporalUiUrl: _omitted, ...context } = sampleContext;
    const readme = renderProjectSkeleton('python-backend', context).files['README.md']!;
    assert.doesNotMatch(readme, /Temporal UI/);
  });

  describe('when a template uses a variable the context lacks', () => {
    let dir = '';
    let cleanup = (): void => {};
    before(() => {
      ({ dir, cleanup } = scratchTemplates());
      // temporalUiUrl is optional and listed in parameters: outside {{#if}}, only strict mode stops it.
      writeFileSync(join(dir, 'node-web', 'skeleton', 'NOTES.md.hbs'), 'Runs: {{temporalUiUrl}}\n');
    });
    after(() => cleanup());

    it('when rendering without it, then rendering fails naming the file and the variable instead of writing an empty string', () => {
      const { temporalUiUrl: _omitted, ...context } = sampleContext;
      assert.throws(() => renderProjectSkeleton('node-web', context, dir), (error: unknown) => {
        assert.ok(error instanceof TemplateError);
        assert.match(error.message, /node-web\/skeleton\/NOTES\.md\.hbs: "temporalUiUrl" not defined/);
        return true;
      });
    });

    it('when rendering with it, then the file is rendered', () => {
      assert.equal(renderProjectSkeleton('node-web', sampleContext, dir).files['NOTES.md'], 'Runs: https://temporal.example.com\n');
    });
  });

  const invalidContexts: [string, SkeletonContextInput, RegExp][] = [
    ['a project that is not a DNS label', { ...sampleContext, project: 'Shop_1' }, /project: must be a lowercase DNS label/],
    ['an owner email that is not one', { ...sampleContext, owners: { emails: ['not-an-email'], group: 'g' } }, /owners\.emails\.0: /],
    ['no environment', { ...sampleContext, environments: [] }, /environments: at least one environment/],
    ['a repeated environment', { ...sampleContext, environments: ['dev', 'dev'] }, /environments: environments must not repeat/],
    ['an API URL with shell characters', { ...sampleContext, platformApiUrl: 'https://deploy.example.com/$(id)' }, /platformApiUrl: must be a plain http\(s\) URL/],
    ['an API URL that is not http(s)', { ...sampleContext, platformApiUrl: 'ftp://deploy.example.com' }, /platformApiUrl: /],
    ['an image repository with a tag', { ...sampleContext, imageRepository: 'registry.example.com/retail/shop:1.0' }, /imageRepository: must be an image repository/],
    ['a route host with a scheme', { ...sampleContext, routeHost: 'https://shop.example.com' }, /routeHost: must be a lowercase host name/],
    ['an unknown key', { ...sampleContext, colour: 'blue' } as SkeletonContextInput, /"colour"/],
  ];
  for (const [what, context, message] of invalidContexts) {
    it(`when the context has ${what}, then rendering refuses naming the field`, () => {
      assert.throws(() => renderProjectSkeleton('java', context), (error: unknown) => {
        assert.ok(error instanceof TemplateError);
        assert.match(error.message, /^invalid context for the java template: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
