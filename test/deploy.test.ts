import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, runCli } from './support/run-cli.ts';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** No Docker engine or cluster runs here: what can be checked of the deployment files is checked. */
describe('deployment files', () => {
  const dockerfile = read('Dockerfile');

  test('the Dockerfile copies only paths that exist, in stages that produce them', () => {
    for (const [, from, src] of dockerfile.matchAll(/^COPY (--from=\w+ )?(\S+)/gm)) {
      if (from !== undefined) {
        // From the build stage: /src/<path> is the repository's <path> (dist/ and node_modules/ are built there).
        const path = String(src).replace(/^\/src\//, '');
        if (path === 'dist' || path === 'node_modules') continue;
        assert.ok(existsSync(join(REPO_ROOT, path)), `COPY --from=build ${src}: ${path} does not exist`);
      } else {
        assert.ok(existsSync(join(REPO_ROOT, String(src))), `COPY ${src} does not exist`);
      }
    }
    assert.match(dockerfile, /^USER pgbackman$/m, 'a non-root user');
    assert.match(dockerfile, /^VOLUME .*\/var\/lib\/pgbackman/m);
    assert.match(dockerfile, /^FROM node:22-\S+-slim AS build$/m);
  });

  test("the image's entry point runs outside a container", async () => {
    const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    assert.deepEqual(entry.slice(0, 2), ['pgbackman', 'agent']);
    const r = await runCli([...entry.slice(1), '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--server <name>/);
    // And its flags are the agent's own: without a source it says so, it does not fail on an unknown option.
    const bare = await runCli([
      ...entry.slice(1),
      '--server',
      'x',
      '--state-dir',
      '/tmp/pgbackman-deploy-test',
    ]);
    assert.equal(bare.code, 64);
    assert.match(bare.stderr, /exactly one source/);
  });

  test('the health check asks the URL the agent serves', () => {
    const check = /^HEALTHCHECK[\s\S]*?CMD (.+)$/m.exec(dockerfile)?.[1] ?? '';
    assert.match(check, /http:\/\/127\.0\.0\.1:9187\/healthz/);
    assert.match(dockerfile, /ENTRYPOINT .*"--listen", "0\.0\.0\.0:9187"/);
  });

  test('the systemd unit runs the agent as its own user, restarts on failure, waits longer than the grace', () => {
    const unit = read('examples/deploy/systemd/pgbackman-agent.service');
    assert.match(unit, /^ExecStart=\S*pgbackman agent --server /m);
    assert.match(unit, /^User=pgbackman$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^ProtectSystem=strict$/m);
    assert.match(unit, /^NoNewPrivileges=yes$/m);
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    assert.ok(stop > 600, 'TimeoutStopSec is longer than the default --grace of 10m');
  });

  test('the Kubernetes manifests: one agent per server, a volume, and probes on /healthz and /readyz', () => {
    const docs = parseAllDocuments(read('examples/deploy/kubernetes/agent.yaml.txt')).map((d) => d.toJS());
    const set = docs.find((d) => d.kind === 'StatefulSet');
    assert.equal(set.spec.replicas, 1);
    const container = set.spec.template.spec.containers[0];
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.ok(set.spec.template.spec.terminationGracePeriodSeconds > 600);
    assert.deepEqual(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).slice(0, 2), [
      '/var/lib/pgbackman',
      '/srv/pgbackman',
    ]);
    assert.ok(
      set.spec.volumeClaimTemplates.some((v: { metadata: { name: string } }) => v.metadata.name === 'state'),
    );
    assert.ok(container.args.some((a: string) => a.startsWith('--server=')));
  });
});
