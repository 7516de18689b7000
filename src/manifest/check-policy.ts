import { checkDump } from './check-dump-settings.ts';
import { checkCron, checkDuration } from './check-values.ts';
import type { BackupPolicy } from './generated/manifest-types.ts';
import type { SemanticContext } from './semantic-context.ts';

/** A policy's server and nodes exist, it selects at least one node, and its template would make valid definitions. */
export function checkPolicy(ctx: SemanticContext, m: BackupPolicy): void {
  const { nodeSelector, template = {}, databases } = m.spec;
  ctx.ref('/spec/server', 'BackupServer', m.spec.server);
  for (const [i, node] of (nodeSelector.names ?? []).entries())
    ctx.ref(`/spec/nodeSelector/names/${i}`, 'PgSQLNode', node);
  const wanted = Object.entries(nodeSelector.matchLabels ?? {});
  if (wanted.length > 0) {
    const matches = ctx
      .all('PgSQLNode')
      .filter((n) => wanted.every(([k, v]) => n.manifest.metadata.labels?.[k] === v));
    if (matches.length === 0) {
      const labels = wanted.map(([k, v]) => `${k}=${v}`).join(', ');
      ctx.report(
        '/spec/nodeSelector/matchLabels',
        `no PgSQLNode has the labels ${labels}, so this selector covers no node`,
        'warning',
      );
    }
  }
  if (template.code === 'CLUSTER') {
    ctx.report(
      '/spec/template/code',
      'a policy makes one definition per database; CLUSTER dumps a whole node: write a BackupDefinition instead',
    );
  } else {
    const scoped = (pointer: string, message: string | undefined, severity?: 'error' | 'warning') =>
      ctx.report(pointer.replace(/^\/spec/, '/spec/template'), message, severity);
    // Checked as a definition of some database on the policy's server; node defaults vary and are checked per node.
    checkDump(scoped, template, 'database', undefined, ctx.get('BackupServer', m.spec.server));
  }
  if (template.schedule !== undefined) ctx.report('/spec/template/schedule', checkCron(template.schedule));
  if (m.spec.deletedDatabaseRetention !== undefined) {
    ctx.report('/spec/deletedDatabaseRetention', checkDuration(m.spec.deletedDatabaseRetention));
  }
  for (const list of ['include', 'exclude'] as const) {
    for (const [i, pattern] of (databases?.[list] ?? []).entries()) {
      if (/[/\\`$;|&<>\u0000-\u001f]/.test(pattern)) {
        ctx.report(
          `/spec/databases/${list}/${i}`,
          `pattern "${pattern}" contains a character a database name cannot have here`,
        );
      }
    }
  }
}
