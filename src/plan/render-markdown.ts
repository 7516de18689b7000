import type { Plan, PlanWarning } from './change.ts';
import { renderText } from './render-text.ts';

/** A pull-request comment: the summary first, a warning when anything is destroyed, the details folded. */
export function renderMarkdown(plan: Plan, warnings: readonly PlanWarning[] = [], baseline?: string): string {
  const { add, change, destroy } = plan.summary;
  const lines: string[] = ['### pgbackman plan', ''];
  if (plan.errors.length > 0) {
    lines.push(`> [!CAUTION]`, `> **This plan cannot be applied.**`);
    for (const e of plan.errors) lines.push(`> - **${e.summary}**: ${e.detail}`);
    lines.push('');
  }
  if (warnings.length > 0) {
    lines.push('> [!WARNING]', '> The policies could not be expanded as they ask:');
    for (const w of warnings) lines.push(`> - ${w.summary}`);
    lines.push('');
  }
  lines.push(
    plan.changes.length === 0
      ? `**No changes.** ${baseline === undefined ? 'The catalogue matches the manifests.' : `The manifests are the same as at ${baseline}.`}`
      : `**Plan: ${add} to add, ${change} to change, ${destroy} to destroy.**`,
    '',
  );
  if (destroy > 0) {
    const gone = plan.changes.filter((c) => c.action === 'delete').map((c) => `\`${c.address}\``);
    lines.push(
      '> [!WARNING]',
      `> This plan **destroys** ${gone.join(', ')}. Their dumps are kept and age out under their own retention.`,
      '',
    );
  }
  if (plan.changes.length > 0) {
    // In a diff block, +/-/~ must start the line to be coloured.
    const text = renderText(plan)
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(/^\s+([+~-] )/, '$1'));
    lines.push('<details><summary>Details</summary>', '', '```diff', ...text, '```', '', '</details>', '');
  }
  return `${lines.join('\n')}`;
}
